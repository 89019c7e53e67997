"""The compiled cores of the text readers (C, in csrc/).  Each is optional:
where no C compiler is found pip installs the project without them and
analysis/native.py gives their pure-Python twins, which are also the
reference the tests hold them to (tests/test_native.py)."""

from setuptools import Extension, setup

# -O3: GCC 12 at -O2 leaves the cores' counting loops scalar (line_breaks
# 2.5x slower) and the walk over the lines 3 % slower.
setup(ext_modules=[
    Extension("analysis._midline", ["csrc/midline.c"], optional=True, extra_compile_args=["-O3"]),
    Extension("analysis._clean", ["csrc/clean.c"], optional=True, extra_compile_args=["-O3"]),
    Extension("analysis._marks", ["csrc/marks.c"], optional=True, extra_compile_args=["-O3"]),
    Extension("analysis._lines", ["csrc/lines.c"], optional=True, extra_compile_args=["-O3"]),
])

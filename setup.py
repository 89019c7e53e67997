"""The compiled cores of the text readers (C, in csrc/).  Each is optional:
where no C compiler is found pip installs the project without them and
analysis/native.py gives their pure-Python twins, which are also the
reference the tests hold them to (tests/test_native.py)."""

from setuptools import Extension, setup

setup(ext_modules=[
    Extension("analysis._midline", ["csrc/midline.c"], optional=True, extra_compile_args=["-O2"]),
    Extension("analysis._clean", ["csrc/clean.c"], optional=True, extra_compile_args=["-O2"]),
    Extension("analysis._marks", ["csrc/marks.c"], optional=True, extra_compile_args=["-O2"]),
    Extension("analysis._lines", ["csrc/lines.c"], optional=True, extra_compile_args=["-O2"]),
])

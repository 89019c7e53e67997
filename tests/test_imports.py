"""Every module of the analysis imports first, on its own: a script or a
test file that imports one module (tests/test_message_paste.py alone,
say) must not depend on another having been imported before it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Each module imported in one interpreter, the analysis' modules forgotten
# before each (an interpreter a module costs 60 times as much).
_EACH_FIRST = r"""
import importlib, sys
from pathlib import Path
failed = []
for path in sorted(Path("analysis").rglob("*.py")):
    parts = path.with_suffix("").parts
    name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
    for loaded in [m for m in sys.modules if m == "analysis" or m.startswith("analysis.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as e:
        failed.append(f"{name}: {e!r}")
print("\n".join(failed))
"""


def test_every_analysis_module_imports_first() -> None:
    r = subprocess.run([sys.executable, "-c", _EACH_FIRST], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ""

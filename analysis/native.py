"""Which of the compiled cores (csrc/, built by setup.py) this process uses.

Every compiled function has a pure-Python twin next to its caller, written
first and kept as the reference: the tests run both on the same inputs
(tests/test_native.py), and ``CRASHDESK_PURE_PYTHON=1`` makes the whole
analysis run on the twins (.ci/run runs the analysis tests that way too).
A machine without a C compiler installs without the cores and gets the
same verdicts, more slowly.  ``CRASHDESK_REQUIRE_NATIVE=1`` (set by
.ci/run) turns a core that did not build into an import error instead."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

PURE = os.environ.get("CRASHDESK_PURE_PYTHON", "") not in ("", "0")
REQUIRED = os.environ.get("CRASHDESK_REQUIRE_NATIVE", "") not in ("", "0")


# The cores loaded so far, by name (what bench/ prints it measured).
LOADED: list[str] = []


def load(name: str) -> ModuleType | None:
    """The compiled module ``analysis._<name>``, or None: the caller uses
    its Python twin."""
    if PURE:
        return None
    try:
        module = importlib.import_module(f"analysis._{name}")
    except ImportError:
        if REQUIRED:
            raise
        return None
    if name not in LOADED:
        LOADED.append(name)
    return module

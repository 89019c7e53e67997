"""The compiled cores (csrc/) give what their pure-Python twins give, on
the shapes their loops branch on and on generated text; and where .ci/run
asks for them (CRASHDESK_REQUIRE_NATIVE=1) they were built."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import native
from analysis.text import events

midline = native.load("midline")
needs_midline = pytest.mark.skipif(midline is None, reason="analysis._midline not built (or CRASHDESK_PURE_PYTHON)")


def test_the_cores_were_built_where_ci_asks_for_them() -> None:
    if not os.environ.get("CRASHDESK_REQUIRE_NATIVE") or native.PURE:
        pytest.skip("only where .ci/run asks for the compiled cores")
    assert midline is not None


@needs_midline
def test_midline_core_holds_the_words_the_scanner_asks_for() -> None:
    assert midline.WORDS == tuple(events._MIDLINE_WORDS)
    assert midline.STOP_CODE_WORDS == set(events._STOP_CODE_WORDS)


# Pieces of lines the mid-line tests branch on: each word, near misses, the
# prose code's marks before "0x", stop-code lines and lines that only say
# "code", line ends, and characters stored one, two and four bytes wide.
_BITS = [
    ", {", ",{", "Owning Process", "Owning Proces", "nable to", "could not be loaded", "t fault", "following module",
    "ode", "ODE", "Ode", "代码", "代", "码", "stop code", "STOP CODE", "StopCode", "停止代码", "终止代码", "Code", "code",
    "CODE", "0x", "0X", "k0x", "e0X", " 0x", ":0x", "：0x", "码0x", "\u212a0x", "x0x", "\n", "\n\n", " ", "a", "中",
    "\U0001f600", "é", "BugCheck 0x1a, {1, 2}", "Unable to load image foo.sys", "Stop code: X_Y (0x1a)",
]


@needs_midline
@settings(max_examples=400, deadline=None)
@given(bits=st.lists(st.sampled_from(_BITS), max_size=60), cut_a=st.integers(0, 40), cut_b=st.integers(0, 40),
       max_line=st.sampled_from([3, 5, 8, 2048]))
def test_midline_core_finds_the_lines_and_pieces_the_word_passes_find(bits, cut_a, cut_b, max_line) -> None:
    text = "".join(bits)
    # Blocks start at a line start; the end may fall anywhere (a block's last line).
    a = text.find("\n", 0, cut_a) + 1 if cut_a else 0
    b = max(a, len(text) - cut_b)
    assert midline.midline_lines(text, a, b, max_line) == events._midline_lines_py(text, a, b, max_line)


@needs_midline
def test_midline_core_on_long_lines_and_real_transcripts() -> None:
    from pathlib import Path

    fixtures = Path(__file__).parent / "fixtures"
    texts = [p.read_text("utf-8", "replace") for p in sorted(fixtures.rglob("*.txt"))]
    texts.append(("x" * 3000 + " stop code 0x1a " + "y" * 5000 + "Owning Process" + "中" * 4000 + "\n") * 3)
    texts.append("ode" * 3000 + "\nSTOP CODE" + " " * 2050 + "ode\n" + "代码" * 1500)
    for text in texts:
        for a, b in ((0, len(text)), (text.find("\n") + 1, len(text) // 2)):
            assert midline.midline_lines(text, a, b, events.MAX_LINE) == events._midline_lines_py(text, a, b)


def test_the_pure_python_twins_give_the_pinned_verdicts() -> None:
    """The whole analysis on the twins alone (as on a machine without a C
    compiler): the golden verdicts and the readers' gate checks, in a
    process of its own with CRASHDESK_PURE_PYTHON=1."""
    import subprocess
    import sys
    from pathlib import Path

    here = Path(__file__).parent
    env = {**os.environ, "CRASHDESK_PURE_PYTHON": "1"}
    env.pop("CRASHDESK_REQUIRE_NATIVE", None)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_golden.py", "tests/test_text_gates.py",
         "tests/test_reader_gates.py", "-k", "not pure_python_twins"],
        cwd=here.parent, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert " passed" in run.stdout

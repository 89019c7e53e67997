"""Agreement with the experts who answered real posts (bench/agreement.py
measures it; this keeps it from sliding).  tests/fixtures/real2 holds whole
transcripts with the experts' conclusions; tests/fixtures/real holds
excerpts, often cut before the module lines, so only its bug checks are
held to the mark."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from agreement import merged  # noqa: E402
from agreement import score as shape_scores  # noqa: E402


def score(folder: Path) -> dict[str, tuple[int, int]]:
    """Every shape of the folder added up (the WinDbg folders hold one)."""
    return {k: (ok, n) for k, (ok, n) in merged([shape_scores(folder)]).items()}


def test_complete_transcripts_meet_the_marks():
    s = score(ROOT / "tests" / "fixtures" / "real2")
    assert s["bugcheck"][0] >= 0.95 * s["bugcheck"][1], s
    assert s["culprit"][0] >= 0.85 * s["culprit"][1], s
    assert s["vendor"][0] >= 0.80 * s["vendor"][1], s


def test_excerpts_bug_checks():
    s = score(ROOT / "tests" / "fixtures" / "real")
    assert s["bugcheck"][0] >= 0.95 * s["bugcheck"][1], s


def _mark(measures: dict, key: str, share: float) -> None:
    ok, n = measures.get(key, (0, 0))
    assert ok >= share * n, (key, measures)


def test_blue_screen_texts_meet_the_marks():
    """Typed and copied stop screens: the issue's marks, except the vendor,
    which a screen never states (it comes from the driver catalog alone)."""
    s = shape_scores(ROOT / "tests" / "fixtures" / "bluescreen")["blue-screen"]
    _mark(s, "bugcheck", 0.90)
    _mark(s, "culprit", 0.80)
    _mark(s, "not_invented", 1.0)
    assert s["bugcheck"][1] >= 10


def test_tool_reports_meet_the_marks():
    for shape, s in shape_scores(ROOT / "tests" / "fixtures" / "toolreport").items():
        _mark(s, "bugcheck", 0.90)
        _mark(s, "culprit", 0.80)
        _mark(s, "vendor", 0.75)
        _mark(s, "not_invented", 1.0)


def test_inventories_say_the_machine():
    s = shape_scores(ROOT / "tests" / "fixtures" / "inventory")["systeminfo"]
    for key in ("os_build", "computer", "hotfix"):
        _mark(s, key, 1.0)

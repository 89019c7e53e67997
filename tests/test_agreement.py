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

from agreement import _same_vendor  # noqa: E402

from analysis.model import module_key  # noqa: E402
from analysis.pipeline import analyze_paths  # noqa: E402


def score(folder: Path) -> dict[str, tuple[int, int]]:
    tally = {"bugcheck": [0, 0], "culprit": [0, 0], "vendor": [0, 0]}
    for entry in json.loads((folder / "manifest.json").read_text(encoding="utf-8")):
        outcome = analyze_paths([str(folder / entry["file"])])
        d = outcome.case.dumps[0] if outcome.case.dumps else None
        c = d.culprit if d else None
        tally["bugcheck"][1] += 1
        tally["bugcheck"][0] += bool(d and d.bugcheck and "0x%X" % d.bugcheck.code == entry["bugcheck"])
        if entry.get("culprit_module"):
            tally["culprit"][1] += 1
            tally["culprit"][0] += bool(c and c.module and module_key(c.module) == module_key(entry["culprit_module"]))
        if entry.get("vendor"):
            tally["vendor"][1] += 1
            tally["vendor"][0] += _same_vendor((c.vendor if c else None) or outcome.case.vendor, entry["vendor"])
    return {k: (ok, n) for k, (ok, n) in tally.items()}


def test_complete_transcripts_meet_the_marks():
    s = score(ROOT / "tests" / "fixtures" / "real2")
    assert s["bugcheck"][0] >= 0.95 * s["bugcheck"][1], s
    assert s["culprit"][0] >= 0.85 * s["culprit"][1], s
    assert s["vendor"][0] >= 0.80 * s["vendor"][1], s


def test_excerpts_bug_checks():
    s = score(ROOT / "tests" / "fixtures" / "real")
    assert s["bugcheck"][0] >= 0.95 * s["bugcheck"][1], s

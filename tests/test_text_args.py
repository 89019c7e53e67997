"""Bug check arguments that cannot be real: a 64-bit argument has at most 16
hex digits, and a retyped or OCR'd e-mail sometimes gives one 17
(the seed thread's "Arg2: fffffee01381e0b00").  Such an argument is flagged
in the report's notes and the verdict, and never used as a value."""

import pytest

from analysis.intake import Blob
from analysis.model import module_key
from analysis.pipeline import analyze_blobs
from analysis.render.as_json import case_json
from analysis.render.doc import to_plain
from analysis.render.verdict import case_doc
from analysis.text import parse_text

ANALYSIS = """MEMORY_MANAGEMENT (1a)
Arguments:
Arg1: 0000000000041792, A corrupt PTE has been detected.
Arg2: {arg2}
Arg3: 006f000000000000
Arg4: 0000000000000000

MODULE_NAME:  VSapiNt
FAILURE_BUCKET_ID:  0x1a_41792_VSapiNt!VSSwapShortTable
"""


def one(text: str):
    reports = parse_text(text, "paste.txt")
    assert len(reports) == 1
    return reports[0][0]


def test_the_seed_threads_mistyped_argument_is_flagged_and_its_verdict_stands(seed_bytes):
    outcome = analyze_blobs([Blob("seed.txt", seed_bytes)])
    first, second = outcome.case.dumps
    assert first.bugcheck.code == 0x1A
    assert first.bugcheck.args == [0x41792, None, 0x6F000000000000, 0]
    assert first.bugcheck.unusable == {2: "fffffee01381e0b00"}
    assert "impossible_arg2" in first.notes
    assert not second.bugcheck.unusable and second.bugcheck.code == 0x139
    # The rest of the verdict is what it was: same culprits, same vendor.
    assert [module_key(d.culprit.module) for d in outcome.case.dumps] == ["vsapint", "vsapint"]
    assert outcome.case.vendor == "AsiaInfo Security" and outcome.case.confidence == "high"
    zh = to_plain(case_doc(outcome.case, "zh"))
    assert "Arg2 fffffee01381e0b00 — 未采用：共 17 位十六进制数" in zh
    en = to_plain(case_doc(outcome.case, "en"))
    assert "Arg2 fffffee01381e0b00 — not used: 17 hex digits" in en
    data = case_json(outcome.case, "en")
    assert data["dumps"][0]["bugcheck"]["args"][1] is None
    assert data["dumps"][0]["bugcheck"]["args_not_used"] == [{"n": 2, "text": "fffffee01381e0b00"}]


@pytest.mark.parametrize("text", [
    ANALYSIS.format(arg2="fffffee01381e0b00"),
    "BugCheck 1A, {41792, fffffee01381e0b00, 6f000000000000, 0}\n",
    "BUGCHECK_CODE:  1a\nBUGCHECK_P1: 41792\nBUGCHECK_P2: fffffee01381e0b00\nBUGCHECK_P3: 6f000000000000\nBUGCHECK_P4: 0\n",
    "Bugcheck code 0000001A\nArguments 00000000`00041792 fffffee01381e0b00 006f0000`00000000 00000000`00000000\n",
    "Bug Check Code    : 0x0000001a\nParameter 1       : 00000000`00041792\nParameter 2       : fffffee01381e0b00\n"
    "Parameter 3       : 006f0000`00000000\nParameter 4       : 00000000`00000000\n",
])
def test_every_shape_of_arguments_flags_a_17_digit_one(text):
    d = one(text)
    assert d.bugcheck.code == 0x1A
    assert d.bugcheck.args[0] == 0x41792 and d.bugcheck.args[1] is None
    assert d.bugcheck.unusable == {2: "fffffee01381e0b00"}
    assert d.notes.count("impossible_arg2") == 1


def test_a_leading_zero_too_many_is_still_the_value():
    d = one(ANALYSIS.format(arg2="0ffffe01381e0b00a"))
    assert d.bugcheck.args[1] == 0xFFFFE01381E0B00A and not d.bugcheck.unusable


def test_a_readable_copy_of_the_same_argument_wins():
    thread = ANALYSIS.format(arg2="fffffee01381e0b00") + "\n> " + ANALYSIS.format(arg2="ffffe01381e0b00a").replace("\n", "\n> ")
    d = one(thread)
    assert d.bugcheck.args[1] == 0xFFFFE01381E0B00A
    assert not d.bugcheck.unusable and "impossible_arg2" not in d.notes

"""What mail clients, forums and markdown did to a transcript is undone on
the whole text before any line is read, so that a look at the next line
(FAULTING_IP's value, a wrapped argument, the arguments of a Fatal System
Error) sees what WinDbg printed."""

import html
from pathlib import Path

from analysis.intake import Blob
from analysis.model import module_key
from analysis.pipeline import analyze_blobs, analyze_paths
from analysis.text.clean import clean

FIX = Path(__file__).parent / "fixtures"
VMLATENCY = FIX / "real2" / "031_blog_vmlatency_icc_privileged_instruction_0x7E.txt"

KD = """*** Fatal System Error: 0x0000001a
                       (0x0000000000041790,0xFFFFFA8001234560,0x000000000000FFFF,0x0000000000000000)

Break instruction exception - code 80000003 (first chance)

kd> !analyze -v
*******************************************************************************
*                        Bugcheck Analysis                                    *
*******************************************************************************

MEMORY_MANAGEMENT (1a)
Arguments:
Arg1: 0000000000041790, A page table page has been corrupted.
Arg2: fffffa8001234560
Arg3: 000000000000ffff
Arg4: 0000000000000000

MODULE_NAME: VSApiNt

IMAGE_NAME:  VSApiNt.sys
"""


def verdicts(text: str):
    case = analyze_blobs([Blob("t.txt", text.encode())]).case
    return [("0x%X" % d.bugcheck.code, d.culprit and d.culprit.module) for d in case.dumps]


def quote(text: str, marker: str = "> ") -> str:
    return "\n".join(marker + line for line in text.split("\n"))


def test_bold_around_the_faulting_module_on_the_next_line():
    """FAULTING_IP:\\n**psav3cld.sys**+1bae0 -- the value is the next line, in bold."""
    outcome = analyze_paths([str(FIX / "real" / "004_sysmon_psav3cld_0xD4.txt")])
    (d,) = outcome.case.dumps
    assert d.bugcheck.code == 0xD4
    assert module_key(d.culprit.module) == "psav3cld"


def test_quoted_and_html_copies_keep_the_culprit():
    text = VMLATENCY.read_text(encoding="utf-8")
    assert verdicts(text) == [("0x7E", "vmlatency")]
    for shaped in (quote(text), quote(text, "> > "), quote(text, ">"),
                   "<p>" + html.escape(text).replace("\n", "<br>\n") + "</p>"):
        assert verdicts(shaped) == [("0x7E", "vmlatency")]


def test_a_quoted_kd_session_is_still_one_dump():
    assert verdicts(KD) == [("0x1A", "VSApiNt")]
    assert verdicts(quote(KD)) == [("0x1A", "VSApiNt")]
    assert verdicts(quote(quote(KD))) == [("0x1A", "VSApiNt")]


def test_clean_strips_markers_not_the_lines_own_indentation():
    assert clean("> > Arg1: 1, a long\n>             meaning\n> kd> k") == "Arg1: 1, a long\n            meaning\nkd> k"
    assert clean("    > Arg1: 1") == "Arg1: 1"
    assert clean("a -> b\nkd> k") == "a -> b\nkd> k"  # no quote marker at a line start
    assert clean("**MODULE_NAME:** VSApiNt\n" + "*" * 79) == "MODULE_NAME: VSApiNt\n" + "*" * 79
    assert clean("***** x\n*** WARNING: y") == "***** x\n*** WARNING: y"
    assert clean("a<br>\nb<br/>c</p>\n<p>d") == "a\nb\nc\nd"


def test_only_markers_at_a_line_start_are_quotes():
    assert clean("kd> !analyze -v\n> Arg1: 1") == "kd> !analyze -v\nArg1: 1"
    assert clean("BugCheck 1A, {41790, x} > y\n") == "BugCheck 1A, {41790, x} > y\n"


def test_the_characters_replaced_in_one_pass_as_one_after_another():
    """clean's replacements (zero-width marks, odd blanks, full-width
    punctuation, tabs) made in one pass: the same text as each replacement
    applied in turn, in ASCII and in non-ASCII texts."""
    import importlib
    import random

    module = importlib.import_module("analysis.text.clean")  # the module: the package's name is the function
    alphabet = [old for old, _ in module._REPLACE] + ["a", " ", "\n", "中", "é", ":"]
    rng = random.Random(7)
    for size in (0, 1, 5, 40, 400):
        for _ in range(60):
            text = "".join(rng.choice(alphabet) for _ in range(size))
            for sample in (text, text.encode("ascii", "ignore").decode()):
                expected = sample
                for old, new in module._REPLACE:
                    expected = expected.replace(old, new)
                assert module._replace_all(sample) == expected


def test_clean_takes_a_pass_exactly_where_its_marks_are():
    """Each pass of clean is gated by one pattern (a scan in C from one
    literal to the next) where a chain of `in` tests scanned the text once
    per mark: the same texts pass, and two stars alone (markdown bold) go
    while the banners' runs stay, as the run-by-run rule had it."""
    import importlib
    import random
    import re

    module = importlib.import_module("analysis.text.clean")
    gates = [
        (module._HTML_MARK, ("<br", "<p", "<div", "<BR", "</")),
        (module._BBCODE_MARK, ("[/", "[code", "[CODE", "[quote", "[QUOTE")),
        (module._MD_MARK, ("\\_", "\\*", "\\#", "\\[", "\\>")),
    ]
    runs = re.compile(r"\*\*++")
    alphabet = list("<>[]/\\_*#\n bBrRpPdivDIVcodeCODEquteQUTE") + ["<br", "[code", "**", "***", "\\_"]
    rng = random.Random(16)
    for _ in range(20000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        for pattern, marks in gates:
            assert bool(pattern.search(text)) == any(mark in text for mark in marks), (pattern.pattern, text)
        assert module._BOLD.sub("", text) == runs.sub(lambda m: "" if len(m[0]) == 2 else m[0], text), text

"""Pasted text built to make the parser's patterns backtrack: each must come
back (a hang guard with a generous limit, not a speed measurement: speed is
measured in bench/, bench/bench_hostile.py for these shapes).  The rule that
keeps them linear is checked on the patterns themselves in
tests/test_regex_linear.py; each input here took minutes or hours before."""

import subprocess
import sys
from pathlib import Path

import pytest

from analysis.intake import Blob
from analysis.pipeline import analyze_blobs

ROOT = Path(__file__).resolve().parent.parent

HOSTILE = {
    "frame prefix": "ffffffff ffffffff : " + "f" * 400 + " z\n",
    "bucket": "FAILURE_BUCKET_ID: " + "a_" * 15000 + "!\n",
    "company": "start end module name\nfffff805`e9ef0000 fffff805`ea19d000 x (deferred)\n    CompanyName: a" + " " * 15000 + "x\n",
    "driver at fault": "*** Driver at fault: " + "a" * 40000 + "\n",
    "long line": "Arg1: " + "0" * 200000 + "\n",
    "wrapped frames": ("fffff880`0331f5c8 fffff800`02ed6be9 : " + "00000000`0000000a " * 3 + "\n") * 3000,
    # Blanks the frame pattern could split between its arguments in
    # cubically many ways (24 s a line).
    "frame blanks": ("ffffffff ffffffff" + " " * 2000 + ":(\n") * 5,
    # Each "<p" / "[code=" opened a try that ran to the end of the text.
    "html attributes": "<p " * 80_000,
    "bbcode values": "[code=" * 40_000,
    # Two runs of blanks side by side ("[ ]*[:：]?[ ]*", "[ ]+[TCM# ]*").
    "stop code blanks": ("Stop code" + " " * 2030 + "!\n") * 2000,
    "lm blanks": ("fffff801`00000000 fffff801`00100000 name" + " " * 2000 + "x(\n") * 2000,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_text_comes_back(tmp_path, name):
    path = tmp_path / "paste.txt"
    path.write_text("BugCheck 1A, {41792, 0, 0, 0}\n" + HOSTILE[name])
    r = subprocess.run([sys.executable, "-m", "bot.cli", "analyze", str(path), "--json"], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "Traceback" not in r.stderr


def test_a_log_whose_first_line_is_page_fault_is_text():
    from analysis.intake import Blob
    from analysis.pipeline import analyze_blobs

    text = b"PAGE_FAULT_IN_NONPAGED_AREA (50)\nArguments:\nArg1: ffffe70b1a2b3c4d, memory referenced.\n"
    outcome = analyze_blobs([Blob("paste.txt", text)])
    assert outcome.case.dumps[0].bugcheck.code == 0x50


def test_a_crm_subject_of_blanks_comes_back():
    """The subject pattern runs on every chat message: "\\s*%?\\s*" split a
    long run of blanks quadratically (100,000 blanks: hours)."""
    code = ("from handlers.parsing import crm_subject\n"
            "print(crm_subject('[案例号: CAS-04716-C3F2K9]' + ' ' * 100_000 + 'x'))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "None"


def test_a_text_of_thousands_of_crashes_gives_the_first_hundred_and_says_so():
    """Each "BugCheck 1A, {n, ...}" line opened a dump of its own: 280,000 of
    them (8 MB) took 300 MB to group and hours to fold back together."""
    from analysis.render.doc import to_plain
    from analysis.render.verdict import case_doc
    from analysis.text import MAX_CRASHES

    text = "".join(f"BugCheck 1A, {{{i:x}, 1, 2, 3}}\n" for i in range(1, 8001)).encode()
    outcome = analyze_blobs([Blob("many.txt", text)])
    assert len(outcome.case.dumps) == MAX_CRASHES
    assert all("crashes_cut" in d.notes for d in outcome.case.dumps)
    assert "7,900 more, from line 101 on, are not in this verdict" in to_plain(case_doc(outcome.case, "en"))
    assert "从第 101 行起另有 7900 个蓝屏记录未纳入本结论" in to_plain(case_doc(outcome.case, "zh"))


def test_drafts_past_the_crashes_a_text_gives_are_let_go_but_a_quote_still_folds():
    """Past MAX_CRASHES crashes kept, a draft that describes none of them is
    let go as it is finished (memory stays bounded, the reports say crashes
    were cut), while one that describes a kept crash still folds into it:
    the first crash quoted again after 50,000 others gains its module."""
    from analysis.text import MAX_CRASHES, parse_text

    lines = "".join(f"BugCheck 1A, {{{i:x}, 1, 2, 3}}\n" for i in range(1, 50_001))
    found = parse_text(lines + "BugCheck 1A, {1, 1, 2, 3}\nMODULE_NAME: VSApiNt\n", "x")
    assert len(found) == MAX_CRASHES and all("crashes_cut" in r.notes for r, _ in found)
    assert found[0][0].module_name == "VSApiNt" and found[0][0].bugcheck.args == [1, 1, 2, 3]
    assert found[1][0].module_name is None


def test_a_case_verdict_holds_at_most_500_crashes():
    from analysis.pipeline import MAX_CASE_DUMPS

    blobs = [Blob(f"paste{n}.txt", "".join(f"BugCheck 1A, {{{n:x}{i:04x}, 1, 2, 3}}\n" for i in range(100)).encode())
             for n in range(1, 7)]
    outcome = analyze_blobs(blobs)
    assert len(outcome.case.dumps) == MAX_CASE_DUMPS
    assert any("more than 500 crashes" in message for _, message in outcome.problems)


def test_a_dump_lists_at_most_256_frames_and_2048_modules():
    from analysis.pipeline import MAX_FRAMES, MAX_MODULES

    frames = "".join(f"ffffd000{i:08x} fffff800{i:08x} : 00000000`00000001 : nt!Frame{i}+0x10\n" for i in range(1000))
    modules = "".join(f"fffff801{i:08x} fffff801{i + 1:08x}   mod{i} (deferred)\n" for i in range(3000))
    outcome = analyze_blobs([Blob("long.txt", ("BugCheck 1A, {41792, 1, 2, 3}\n" + frames + modules).encode())])
    d = outcome.case.dumps[0]
    assert len(d.stack) == MAX_FRAMES and "stack_cut" in d.notes
    assert len(d.modules) == MAX_MODULES and "modules_cut" in d.notes


def test_a_character_reference_of_thousands_of_digits_is_read_as_any_other() -> None:
    """html.unescape's int() refuses a number of more than 4,300 digits: such
    a reference in a paste ended the whole analysis with a ValueError."""
    import html

    from analysis.entities import unescape
    from analysis.eventlog.xml_export import clean_paste
    from analysis.intake import Blob
    from analysis.pipeline import analyze_blobs
    from analysis.text.clean import clean
    from bot.mailparse import html_text

    long_a = "&#" + "0" * 5000 + "65;"
    assert unescape(long_a + " &#" + "9" * 5000 + "; &#x" + "0" * 5000 + "41; &#66") == "A \ufffd A B"
    for short in ("&#65;", "&#0000065", "&#99999999;", "&#1114111;", "&#0;", "&#128;", "&amp;&#x41;"):
        assert unescape(short) == html.unescape(short)
    for digits in ("65", "99999999", "1114111", "0"):
        assert unescape("&#" + "0" * 5000 + digits + ";") == html.unescape(f"&#{digits};")
    assert clean("x " + long_a + " &nbsp;y") == "x A  y"
    outcome = analyze_blobs([Blob("paste.txt", f"BugCheck 1A, {{41792, 0, 0, 0}}\n{long_a}\nMODULE_NAME: x\n".encode())])
    assert outcome.case.dumps[0].bugcheck.code == 0x1A
    assert "&#" not in clean_paste("&lt;Event&gt;" + long_a + "&lt;/Event&gt;")
    assert "A" in html_text(f"<p>{long_a}</p>")

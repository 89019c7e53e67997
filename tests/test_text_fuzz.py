"""The text reader under fuzzing (Hypothesis): texts built from the pieces
WinDbg output is made of -- hex words, blanks, colons, call sites, module
names that begin with digits, arguments too wide, markup that mail clients
and forums add, full-width punctuation, control characters -- and from
random characters.  Whatever comes in, the reader answers with reports or
NoCrashFound, and everything it answers is bounded: crashes, fields,
arguments, the verdict's strings and the replies made of it.

No example has a time limit (deadline=None): speed is measured in
bench/bench_hostile.py, catastrophic patterns are ruled out by
tests/test_regex_linear.py."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.correlate import correlate
from analysis.render.as_json import case_json
from analysis.render.doc import doc_bytes
from analysis.render.limits import MAX_FIELD_CHARS
from analysis.render.verdict import case_doc
from analysis.text import MAX_CRASHES, NoCrashFound, parse_text
from analysis.text.events import MAX_ARG
from analysis.text.stack import parse_site
from bombs import strings_in
from bot import wecom_markdown
from handlers.events import Reply

PIECES = [
    "fffff801`cc98ce55", "00000000`00000000", "ffffffff", "0000000a", "1a2b", "00", "0e", ":", " : ", "  ", " ",
    "\t", "\n", "nt!KiPageFault+0x260", "VSApiNt!VSSwapShortTable+136d", "VSApiNt+0x1234", "360FsFlt+0x5678",
    "360Box64!Something+0x10", "1394ohci!OhciIsr+0x3a", "0x1234", "1234abcd+0x10", "(TrapFrame @ fffff801`00000000)",
    "Arg1:", "Arg2: fffffee01381e0b00", "Arg3: 0ffffe01381e0b00a", "BugCheck 1A, {41792, 1, 2, 3}",
    "BugCheck 1A, {41792, fffffee01381e0b00", "MODULE_NAME:", "FAULTING_IP:", "VSApiNt", "BUGCHECK_P2: 1ffffffffffffffff",
    "Probably caused by : VSApiNt.sys ( VSApiNt!x+0x1 )", "<p ", "<br>", "</div>", "[code=", "[/quote]", "**", ">",
    "> >", "kd>", "0: kd> kb", "Unable to load image \\SystemRoot\\system32\\DRIVERS\\", "x.sys",
    "start             end                 module name", "(deferred)", "Stop code:", "PAGE_FAULT_IN_NONPAGED_AREA (50)",
    "*** Driver at fault:", "Key  : Bugcheck.Code.LegacyAPI", "Value: 0x1a", "Loading Dump File [", "]",
    "Debug session time:", "Windows 10 Kernel Version 17134 MP (4 procs) Free x64", "&gt;", "&#x41;", "\\_",
    "Owning Process ffff8001 Image: a.exe", "FAILURE_BUCKET_ID: AV_VSApiNt!x", "蓝屏代码 0x139", "：", "（", "\u200b",
    "\u3000", "\r\n", "`", "Fatal System Error: 0x0000001a", "(0x1,0x2,0x3,0x4)", "Bug Check Code : 0x1a",
    "Parameter 2 : fffffee01381e0b00",
]

hex_words = st.text(alphabet="0123456789abcdef`", min_size=1, max_size=20)
blanks = st.sampled_from([" ", "  ", " : ", ":", "\n", "\n   "])
sites = st.sampled_from([p for p in PIECES if "!" in p or "+0x" in p] + ["nt", "x"])
# Whole lines in the shapes the scanner is built for, with their numbers,
# blanks and sites shuffled: frames, arguments, bug check lines.
frame_lines = st.builds(lambda words, seps, site: "".join(w + s for w, s in zip(words, seps)) + site + "\n",
                        st.lists(hex_words, min_size=1, max_size=7), st.lists(blanks, min_size=7, max_size=7), sites)
arg_lines = st.builds(lambda n, word, rest: f"Arg{n}: {word}{rest}\n", st.integers(1, 4), hex_words,
                      st.sampled_from(["", ", meaning", ",", "\n      wrapped"]))
bugcheck_lines = st.builds(lambda code, words: f"BugCheck {code}, {{{', '.join(words)}}}\n",
                           st.sampled_from(["1A", "139", "D1", "50", "0x7E"]), st.lists(hex_words, max_size=5))
texts = st.lists(
    st.one_of(
        st.sampled_from(PIECES),
        frame_lines,
        arg_lines,
        bugcheck_lines,
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40),
        st.builds(lambda piece, n: piece * n, st.sampled_from([" ", "f", "<p ", "> ", "a.", "\\a", "**", ":"]),
                  st.integers(1, 3000)),
    ),
    max_size=60,
).map("".join)

FUZZ = settings(max_examples=250, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FUZZ
@given(texts)
def test_whatever_comes_in_the_answer_is_reports_or_no_crash_and_bounded(text):
    try:
        results = parse_text(text, "fuzz.txt")
    except NoCrashFound:
        return
    assert 1 <= len(results) <= MAX_CRASHES
    reports = []
    for report, _clues in results:
        if report.bugcheck:
            assert all(a is None or 0 <= a <= MAX_ARG for a in report.bugcheck.args)
            assert all(len(t) <= 64 for t in report.bugcheck.unusable.values())
        for frame in report.stack:
            if frame.module is not None:
                assert parse_site(frame.module + "+0x1") is not None  # a module the reader itself would take
        reports.append(report)
    case = correlate(reports)
    for lang in ("en", "zh"):
        assert all(len(s) <= MAX_FIELD_CHARS + 40 for s in strings_in(case_json(case, lang)))
        doc = case_doc(case, lang)
        assert all(len(b.text) <= MAX_FIELD_CHARS + 40 for b in doc.blocks)
        parts = wecom_markdown.chunks(Reply(doc, kind="verdict", lang=lang))
        assert len(parts) <= wecom_markdown.MAX_PARTS
        assert doc_bytes(Reply(doc, lang=lang).bounded_doc()) <= 8 * 1024


@FUZZ
@given(texts)
def test_the_same_text_gives_the_same_answer(text):
    def read():
        try:
            return [(r.bugcheck, r.module_name, [f.label() for f in r.stack], r.notes) for r, _ in parse_text(text, "x")]
        except NoCrashFound:
            return None

    assert read() == read()

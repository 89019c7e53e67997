"""The compiled cores (csrc/) give what their pure-Python twins give, on
the shapes their loops branch on and on generated text; and where .ci/run
asks for them (CRASHDESK_REQUIRE_NATIVE=1) they were built."""

from __future__ import annotations

import importlib
import os
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import native
from analysis.text import events

midline = native.load("midline")
needs_midline = pytest.mark.skipif(midline is None, reason="analysis._midline not built (or CRASHDESK_PURE_PYTHON)")
clean_core = native.load("clean")
needs_clean = pytest.mark.skipif(clean_core is None, reason="analysis._clean not built (or CRASHDESK_PURE_PYTHON)")
lines_core = native.load("lines")
needs_lines = pytest.mark.skipif(lines_core is None, reason="analysis._lines not built (or CRASHDESK_PURE_PYTHON)")
marks_core = native.load("marks")
needs_marks = pytest.mark.skipif(marks_core is None, reason="analysis._marks not built (or CRASHDESK_PURE_PYTHON)")
cleaning = importlib.import_module("analysis.text.clean")  # the module: the package's name is the function


def test_the_cores_were_built_where_ci_asks_for_them() -> None:
    from pathlib import Path

    if not os.environ.get("CRASHDESK_REQUIRE_NATIVE") or native.PURE:
        pytest.skip("only where .ci/run asks for the compiled cores")
    sources = sorted(p.stem for p in (Path(__file__).parent.parent / "csrc").glob("*.c"))
    assert sources and all(native.load(name) is not None for name in sources)


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


@needs_midline
def test_midline_core_takes_any_bounds_and_piece_length_without_reading_outside_the_text() -> None:
    """A piece length near the largest size overflowed piece + max_line, and
    the scan then read before the text's start (a segfault)."""
    import sys

    text = "ab, {cd\nxx, {  stop code 0x1a\n中 Owning Process"
    for max_line in (len(text), len(text) + 1, 10**15, 2**62):
        assert midline.midline_lines(text, 0, len(text), max_line) == events._midline_lines_py(text, 0, len(text), max_line)
    assert midline.midline_lines(text, 0, len(text), sys.maxsize) == midline.midline_lines(text, 0, len(text), 10**15)
    for a, b in ((-5, len(text)), (0, len(text) + 99), (len(text) + 3, len(text) + 9), (7, 2), (-9, -1)):
        found, pieces = midline.midline_lines(text, a, b, 3)
        assert all(0 <= line <= len(text) for line in found[1:]) and all(0 <= line < len(text) for line in pieces)
    with pytest.raises(ValueError):
        midline.midline_lines(text, 0, len(text), 0)


def test_midline_twin_looks_back_for_each_line_start_once() -> None:
    """The twin looked for the line of each word found back to the block's
    start: on one long line whose every piece holds a word, the length of
    the line for each piece (pure Python: 3.4 s for 8 million characters).
    Counted here as the characters its rfind calls span."""

    class Counted(str):
        spanned = 0

        def rfind(self, sub: str, start: int | None = None, end: int | None = None) -> int:  # type: ignore[override]
            assert start is not None and end is not None
            Counted.spanned += end - start
            return super().rfind(sub, start, end)

    line = "x" * 13 + ", {" + ("x" * 13 + " 0x1" + ", {" + "stop code") * 2000
    text = Counted("a\n" + line + "\nb, {\n" + line)
    found = events._midline_lines_py(text, 2, len(text), 16)
    assert Counted.spanned < 4 * len(text), Counted.spanned
    if midline is not None:
        assert found == midline.midline_lines(str(text), 2, len(text), 16)
    assert len(found[1][2]) > 1000


@needs_clean
def test_clean_core_holds_the_replacements_clean_makes() -> None:
    assert clean_core.REPLACE == cleaning._REPLACE
    assert cleaning._PASSES == (clean_core.fold, clean_core.replace, clean_core.unquote_unbold)


# Pieces of text clean's passes branch on, and the order of its passes
# shows in: each character replaced (and the full-width ones next to line
# ends), CR and CR LF (and a CR before a character that goes, or after an
# entity that is a CR), tabs and backticks (inside stars, tags, keys and
# addresses), star runs, quote markers, tags, BBCode, entities that stand
# for characters replaced (and html's references at their edges: "#"
# without digits, long names, what ends a name, references that stand for
# nothing or for a wide character), markdown escapes, glued and flattened
# keys (and a line long enough to be reflowed), in texts stored one, two
# and four bytes a character, and in Latin-1 texts that turn ASCII when
# cleaned; and any characters at all between them.
_CLEAN_BITS = [old for old, _ in cleaning._REPLACE] + [
    "\r", "\r\n", "\n", "\n\n", "\r\r\n", "\t", "`", "``` ", "fffff801`cc98ce55", "*", "**", "***", "*`*", "**\t",
    ">", "> ", "\n> ", "\n  > > ", " >", ">>", "\n>\t", "<br>", "<BR />", "</p>", "</div>\n", "<p class=x>", "<b>", "</",
    "<`br>", "<\u200bbr>", "[code]", "[/quote]", "[color=red]", "[", "&nbsp;", "&#13;", "&#x0d;", "&#9;", "&amp;",
    "&lt;br&gt;", "&#xff1a;", "&Tab;", "&", "\\_", "\\*", "\\>", "\\", "nvlddmkm", "MODULE_NAME: a", "IMAGE_NAME:",
    "sysDEBUG_FLR_IMAGE_TIMESTAMP: 1", "x`PROCESS_NAME:", " SYMBOL_NAME:  r+1b ", " Arg1: ffff ", "x" * 250,
    " MEMORY_MANAGEMENT (1a) ", "a", " ", ":", "中", "é", "\xff", "\U0001f600", "代码", "  ", "> >", ">\n", "\n ",
    "****", "\n**", "**\n", ">**", "* *", "&#", "&#x", "&#X4e2d", "&#xg", "&lt", "&notit;", "&#0;", "&#x110000;",
    "&#128;", "&#65", "&amp", ";", "&a\rb;", "&中;", "&\U0001f600;", "&#x1F600;", "&#xd800;", "&" + "a" * 31, "a" * 2,
    "&#12345678901234567890;", "&\f", "&<", "&&", "&#;", "&gt;&gt;",
]


@needs_clean
@settings(max_examples=1500, deadline=None)
@given(bits=st.lists(st.sampled_from(_CLEAN_BITS) | st.text(max_size=4), max_size=40))
def test_clean_with_its_core_gives_the_text_clean_on_the_twins_gives(bits) -> None:
    text = "".join(bits)
    assert cleaning.clean(text) == cleaning.clean_py(text)
    assert clean_core.fold(text) == cleaning._fold_py(text)
    assert clean_core.replace(text) == cleaning._replace_all_py(text)
    assert clean_core.unquote_unbold(text) == cleaning._unquote_unbold_py(text)


@needs_clean
def test_clean_core_on_real_transcripts_and_odd_strings() -> None:
    from pathlib import Path

    fixtures = Path(__file__).parent / "fixtures"
    texts = [p.read_text("utf-8", "replace") for p in sorted(fixtures.rglob("*.txt"))]
    texts += ["", "\r", "\r\r", "\n\r", "\u00a0", "\u00a0\t" * 5000 + "\U0001f600", "\uff1a" * 7000, "\udc80\r\u200b"]
    texts += ["> " + t.replace("\n", "\n > > ") for t in texts[:20]]
    texts += [">", "> ", " >", "\n>", "**", "*" * 5000, "**" + "é" * 3 + "**", "> **\U0001f600**", "\n" * 3000 + ">" * 3000]
    texts += ["&nbsp;" * 3000 + "中", "&lt;br&gt;&#13;\n" * 500, "&#x1F600;" + "a" * 100, "&a" * 2000, "&#xff1a;&Tab;"]
    texts += ["\r\n".join(texts[:5]), "\U0001f600".join(texts[-5:])]
    for text in texts:
        assert cleaning.clean(text) == cleaning.clean_py(text)
        assert clean_core.fold(text) == cleaning._fold_py(text)
        assert clean_core.unquote_unbold(text) == cleaning._unquote_unbold_py(text)

    class Text(str):
        pass

    for core in (clean_core.fold, clean_core.replace, clean_core.unquote_unbold):
        assert type(core(Text("> a\t**b**"))) is str and type(core(Text("ab"))) is str
        for wrong in (b"a\r\n", None, 1):
            with pytest.raises(TypeError):
                core(wrong)


def _not_ready(value: str) -> str:
    """``value`` as a str made the way the C API's deprecated
    PyUnicode_FromUnicode(NULL, n) makes one and then written: before
    Python 3.12 it is not "ready" (its length reads 0, its data NULL) until
    PyUnicode_READY is called on it, which any use from Python does."""
    import ctypes
    import warnings

    api = ctypes.pythonapi
    new, buffer = api.PyUnicode_FromUnicode, api.PyUnicode_AsUnicode
    new.restype, new.argtypes = ctypes.py_object, [ctypes.c_void_p, ctypes.c_ssize_t]
    buffer.restype, buffer.argtypes = ctypes.c_void_p, [ctypes.py_object]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # what the test is about
        text = new(None, len(value))
    ctypes.memmove(buffer(text), ctypes.create_unicode_buffer(value), len(value) * ctypes.sizeof(ctypes.c_wchar))
    return text


@needs_clean
@pytest.mark.skipif(sys.version_info >= (3, 12), reason="from Python 3.12 every str is ready")
def test_clean_core_reads_a_str_not_yet_ready() -> None:
    """The passes took their argument as it was, and gave "" for a str not
    yet ready (made by C code with the deprecated API)."""
    value = "> a\r\n\u00a0b **c**\n> > d\t中"
    for core, twin in ((clean_core.fold, cleaning._fold_py), (clean_core.replace, cleaning._replace_all_py),
                       (clean_core.unquote_unbold, cleaning._unquote_unbold_py)):
        assert core(_not_ready(value)) == twin(value)
    found = midline.midline_lines(_not_ready("x, {\nOwning Process"), 0, 19, 2048) if midline else None
    assert found is None or found == events._midline_lines_py("x, {\nOwning Process", 0, 19)


# Words that share their first pair of bytes, one inside another, one that
# is another's start, of UTF-8 lead bytes, and at a text's very end.
_MARK_WORDS = [b"ab", b"abc", b"abd", b"abcab", b"ba", b"bb", b"\xe4\xb8", b"\xe4\xb8\xad\xe6", b"zz", b"a\n", b"\n\n"]


@needs_marks
@settings(max_examples=500, deadline=None)
@given(data=st.lists(st.sampled_from([b"a", b"b", b"c", b"d", b"ab", b"abc", b"\xe4\xb8\xad", b"\xe6", b"\n", b"z"]),
                     max_size=40).map(b"".join),
       words=st.lists(st.sampled_from(_MARK_WORDS), max_size=len(_MARK_WORDS)))
def test_marks_core_finds_the_first_place_str_find_finds(data, words) -> None:
    from analysis.marks import _first_places_py

    finder = marks_core.Finder(tuple(words))
    assert finder.words == tuple(words)
    assert finder.first(data) == _first_places_py(data, tuple(words))
    assert finder.first(bytearray(data)) == finder.first(memoryview(data)) == finder.first(data)


def _label_begins_both_ways(low: bytes, pattern) -> None:
    """label_begins over the lines the core leaves (analysis._marks.label_lines)
    and over every line break (the pattern's own scan, the twin)."""
    from analysis.reports import common

    core = common._MARKS_CORE
    assert core is not None and pattern in common._LINE_TABLES
    walked = list(common.label_begins(low, pattern))
    common._MARKS_CORE = None
    try:
        assert walked == list(common.label_begins(low, pattern)), low[:200]
    finally:
        common._MARKS_CORE = core


_LABEL_BITS = ["\n", "\n", " ", "  ", "\t", ":", "\uff1a", "\u3000", "\xa0", "\u2000", "=====", "==", "x", "ff", "bu", "1",
               "dump file", "dump  file", "dump\u3000file", "dumpfile", "bug check code", "bugcheck-code", "caused by driver",
               "\u9519\u8bef\u4ee3\u7801", "fehlerpr\u00fcfungscode", "fehlerpr\u00dcfungscode", "size", "s", "\u212a",
               "os name", "os  version", "host name", "system boot time", "processor(s)", "hotfix(s)", "\u5904\u7406\u5668",
               "\ud83d\ude00", "\x85", "\x1c", "\r", "\x0b"]


@needs_marks
@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_LABEL_BITS), max_size=50))
def test_marks_core_label_lines_leave_every_line_the_label_patterns_match(bits) -> None:
    from analysis.marks import fold
    from analysis.reports import bluescreenview, inventory

    text = "".join(bits)
    for low in (fold(text), text.lower().encode("utf-8", "surrogatepass")):
        for pattern in (bluescreenview._LABEL_LINE, inventory._SYSTEMINFO_LINE):
            _label_begins_both_ways(low, pattern)


@needs_marks
def test_marks_core_label_lines_on_real_texts_and_odd_tables() -> None:
    from pathlib import Path

    from analysis.marks import fold
    from analysis.reports import bluescreenview, inventory

    for path in sorted((Path(__file__).parent / "fixtures").rglob("*.txt")):
        low = fold(path.read_bytes().decode("utf-8", "replace"))
        for pattern in (bluescreenview._LABEL_LINE, inventory._SYSTEMINFO_LINE):
            _label_begins_both_ways(low, pattern)
    zero, pairs = bytes(256), bytes(65536)
    assert marks_core.label_lines(b"", zero, pairs, pairs, zero) == []
    every = bytes([1]) * 256
    assert marks_core.label_lines(b"a\n\nb\n", every, pairs, pairs, every) == [0, 2, 3]  # (a line start at the end is none)
    assert marks_core.label_lines(b"\xe4\n \n:\xe4", every, pairs, pairs, zero) == [0, 4]
    # a pair of 2 opens a label; of 1, only with its third byte's pair
    ab, bc = bytearray(pairs), bytearray(pairs)
    ab[ord("a") * 256 + ord("b")] = 1
    bc[ord("b") * 256 + ord("c")] = 1
    assert marks_core.label_lines(b"abc\nabd\nab\n ab c", every, bytes(ab), bytes(bc), zero) == [0]
    ab[ord("a") * 256 + ord("b")] = 2
    assert marks_core.label_lines(b"abc\nabd\nab\n ab c", every, bytes(ab), bytes(bc), zero) == [0, 4, 8, 11]
    for bad in ((b"x", zero[:255], pairs, pairs, zero), (b"x", zero, pairs[:-1], pairs, zero),
                (b"x", zero, pairs, pairs[:-1], zero), ("x", zero, pairs, pairs, zero)):
        with pytest.raises((ValueError, TypeError)):
            marks_core.label_lines(*bad)


@needs_marks
def test_marks_core_on_the_readers_words_and_real_texts() -> None:
    """Every word the readers' gates search for, over the fixtures folded
    (and over none of them: every word absent), as one finder."""
    from pathlib import Path

    import analysis.eventlog.message_paste
    import analysis.pipeline
    import analysis.reports  # noqa: F401  (their Marks register their words)
    from analysis import marks

    words = tuple(marks._WORDS)
    assert len(words) > 50 and all(len(w) >= 2 for w in words)
    finder = marks_core.Finder(words)
    fixtures = Path(__file__).parent / "fixtures"
    texts = [marks.fold(p.read_text("utf-8", "replace")) for p in sorted(fixtures.rglob("*.txt"))]
    texts += [b"".join(texts), b"", b"x", words[0][:1], words[0], b" ".join(words)[1:], b"\x00" * 1000]
    for data in texts:
        assert finder.first(data) == marks._first_places_py(data, words)
    for wrong in ((b"a",), (b"",), ("ab",), (None,)):
        with pytest.raises(ValueError):
            marks_core.Finder(wrong)
    with pytest.raises(TypeError):
        marks_core.Finder([b"ab"])
    with pytest.raises(TypeError):
        finder.first("ab")
    with pytest.raises(TypeError):
        finder.__init__((b"ab",))  # made once: its table is not made again under a scan


@needs_marks
def test_marks_core_made_again_after_a_failed_making_keeps_no_memory() -> None:
    """A Finder whose making failed (a word too short) can be made again
    by calling __init__ once more; each failed try leaked the three arrays
    it had allocated for the words (180 KB for these)."""
    import tracemalloc

    finder = marks_core.Finder.__new__(marks_core.Finder)
    words = (b"ab",) * 10_000 + (b"a",)
    tracemalloc.start()
    try:
        for _ in range(2):
            with pytest.raises(ValueError):
                finder.__init__(words)
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(20):
            with pytest.raises(ValueError):
                finder.__init__(words)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 100_000, kept
    finder.__init__((b"ab", b"cd"))
    assert finder.first(b"xcdab") == (3, 1)


def _walk_agrees_with_the_line_pattern(text: str) -> tuple[int, int]:
    """Each line's reading by the compiled walk (csrc/lines.c) against
    _LINE_START: a line passed over is one the pattern does not match, and
    a line read is a field or a plain frame the pattern reads the same
    (what Scanner._take makes of it).  Returns (lines left to Python that
    the pattern does not match, lines left to Python)."""
    from analysis.text.stack import plain_frame

    idle = left = 0
    n = len(text)
    others = set(events._midline_lines_py(text, 0, n)[0])
    for s in [i + 1 for i, c in enumerate(text) if c == "\n"]:
        decision, made, after = lines_core.classify(text, s, n, s in others)
        m = events._LINE_START.match(text, s - 1, n)
        where = (s, text[s:s + 120])
        if decision == 0:
            assert m is None, where
        elif decision == 2 and (m is None or m.lastgroup not in ("field", "frame", "key", "arg")):
            # A line of the long way read whole in C (a bug check's name and
            # code, "Probably caused by", a frame of another shape, a line
            # of disassembly): what Scanner._read makes of it.
            sc = events.Scanner()
            sc.text = text
            assert (sc._read(s), sc.out) == (after, [] if made is None else [made]), where
        elif decision == 2:
            assert m.end() - s <= events.MAX_LINE and after == (m.end() + 1 if m.lastgroup != "key" else after), where
            if m.lastgroup == "field":
                value = m[3].strip()
                if not value and m[2] in events._VALUE_NEXT:  # "FAULTING_IP:": the next line is the value
                    sc = events.Scanner()
                    sc.text = text
                    value = sc.line_from(m.end() + 1).strip()
                assert made == events.Event(s, "field", (m[2], value[:events.MAX_VALUE])), where
            elif m.lastgroup == "frame":
                frame = plain_frame(m)
                assert (made is None) if frame is None else (made == events.Event(s, "frame", frame)), where
            elif m.lastgroup == "arg":
                assert made == events._arg_event(s, m["a_n"], m["a_digits"], m["a_meaning"] or ""), where
            elif m[5].lower() in events._KEYS_READ:  # a key whose value is a fact: as the long way reads it
                sc = events.Scanner()
                sc.text = text
                assert (sc._read(s), sc.out) == (after, [] if made is None else [made]), where
            else:  # a key whose value is no fact: passed over with its Value line
                assert made is None, where
                value_end = text.find("\n", m.end(4) + 1)
                assert after == (m.end(4) + 1 if m[6] is None else (value_end if value_end >= 0 else n) + 1), where
        elif decision == 3:  # the long way: no shape the pattern reads whole
            assert m is None or m.lastgroup is None, where
            left += 1
            idle += m is None
        else:
            left += 1
            idle += m is None
    return idle, left


# Lines of every branch of the line pattern and their near misses: fields
# and names, prefixes the walk must not pass over (in cases the engine's
# case-insensitive comparison lets stand for ASCII), numbers, stars.
_LINE_BITS = [
    "MODULE_NAME:", "MODULE_NAME: x", "MODULE_NAMEX: x", "FAULTING_IP:", "FAULTING_IP:  ", "FOLLOWUP_IP: nt!x",
    "STACK_TEXT:  ", "OSNAME: W", "BUCKET_ID_FUNC_OFFSET: 1", "BUCKET_ID:", "IMAGE_NAME:\u3000x\u3000", "OS_VERSION:\x0b",
    "A_B", "A_B (3b)", "ABC", "Key  : Analysis.X", "Key", "    Value: 1", "Arg1: fffff, x", "Arg5: 1", "Arg1:",
    "Key  : Failure.Bucket", "Key : bugcheck.code.LEGACYAPI", "Key:x", "Key  :  a.b  ", "Key : \u00e9.x", "Key : a b",
    "Value:", " " * 2042 + "Value: 1", " " * 2043 + "Value: 1", "Arg1: " + "f" * 17, "Arg2: 0000000000000000000001, x",
    "Arg3: ffffg", "Arg4: 1,x", "Arg1: 12 \u3000 a  b", "Arg2: 1\u0663", "Arg3: 1, " + "m " * 400, "Arg4: 0",
    "   continued meaning", "Arg1: fffff801,",
    "THREAD ffffd00012345678  Cid", "start end module name", "start   end", "Mini Kernel Dump", "Mini kernel", "MiniX",
    "Kernel Bitmap Dump", "Full kernel", "Complete Dump", "User Mini", "Automatic dump", "Image path: x", "IMAGE PATH :",
    "imagesize:", "\u212aey", "Timestamp: 1", "t\u0131mestamp:", "ProductVersion:", "legalcopyright :", "Loaded symbol image file: x",
    "checksum", "FileVersion", "originalfilename:", "0: kd> k", "12:", "1\u0663:", "13: kd>", "2:3:x86>", "kd>", "lkd>",
    "Bug check code", "bugcheck code", "Bugcheck Analysis", "BugCheck 1A, {", "Unknown bugcheck code (1)",
    "Probably caused by : x", "Probably caused by: x ", "Probably caused by :", "Probably caused by : ", "Probably caused by  : x",
    "Probably caused by :\u3000x\u3000", "Probably caused by x", "Probably caused byx", "ProbablyX caused by : x",
    "A_B (0x1a)", "AB_C (0x1a)", "AB_C (0x)", "AB_C (0x0x1)", "AB_C (0)", "AB_C (123456789)", "AB_C (12345678)", "AB_C (0x123456789)", "AB_C (0x12345678)", "A_B (1a) *", "A_B (1a)x", "A_BC  (1)",
    "ABCD (1)", "AB_ (1)", "X" * 80 + "_ (1)", "X" * 79 + "_ (1)", "A_B (1\u0663)", "BAD_POOL_HEADER (19)", "DEAD_BEEF (1)",
    "A_B\u212a (1)", "A_B (1) : x", "BugCheck D1, {ffffc30e`e36d9010, 2, 0, fffff8068e5a1b2e}", "BugCheck 1a, {}",
    "BugCheck 1A, {1, 2, 3, 4, 5}", "BugCheck 1A, {1,,, }  ", "BugCheck 1A, {1 2, `, ``1`, 0}",
    # int() strips the blanks a word's backticks leave at its ends: values, one too wide
    "BugCheck 1A, {` 1, 2 `, `` 3 ` , ` " + "f" * 17 + "}", "BugCheck 1A, {1}x",
    "BugCheck 123456789, {1}", "BugCheck 0x1A, {1}", "BugCheck 1A, {0x1}", "BugCheck 1A, {" + "f" * 17 + ", 1}",
    "BugCheck 1A, {" + "0" * 30 + "1, " + "f" * 70 + "}", "BugCheck 1A, {1, 2} BugCheck 2, {3}", "BugCheck 1A,{1}",
    "bugcheck 1A, {1}", "BugCheck 1A, {1\u3000}", "BugCheck 1A, {1, 2, 3, 4} (Owning Process x)",
    # frames of the long way's shapes, disassembly, and their near misses
    "8ba0f878 8231f07e 8ba0f8ec adf5d4c8 872e2eb8 nt!IofCallDriver+0x48 [minkernel\\ntos\\io\\iosubs.c @ 3149]",
    "0e fffffb842813a3b0 fffff8015a336aa2 dxgkrnl!CCompositionToken::Delete+0x28", "002dd968 00000000 00000000 0x77a670d4",
    "ffff86890c47eeb0 ffff86890c47f840 : 0000000000000000 0000000000000000 : 0x1", "00283ab8 ffffffff 0xffffffff",
    "fffff58d50bfebf8 0000000000000000     : 00000000fffffff5 ffffba083b22c7f0 : 0xffffba083b22c7f0", "ab12cd34 0x",
    "ab12cd34 0xg", "ab12cd34 nt+1", "ab12cd34 nt+0x", "ab12cd34 nt!", "ab12cd34 !nt", "ab12cd34 nt [x]", "ab12cd34 nt <x>",
    "ab12cd34 nt!f [x]", "ab12cd34 nt x", "ab12cd34 nt!f x", "ab12cd34 unknown!f", "ab12cd34 UNKNOWN+0x1", "ab12cd34 un\u212anown!f",
    "ab12cd34 \u00e9t\u00e9!f", "ab12cd34 360FsFlt+0x9 [x]", "ab12cd34 0x1a!f", "ab12cd34 1394ohci!f", "ab12cd34 12ab!f",
    "ab12cd34 a+b!f", "ab12cd34 a!b+c!d+0x1", "ab12cd34 nt!f+0x1+0x2", "ab12cd34 nt!f+0X1f", "ab12cd34 nt!f+1f",
    "ab12cd34 nt!f+0x1\u3000", "ab12cd34 nt!f+0x1 \u3000[x]", "ab12cd34 :x", "ab12cd34 (x)", "ab12cd34 \u3000x",
    "ab12cd34 12345678 abc", "ab12cd34 12345678 abc x", "AB12CD34 12345678 x", "ab12cd34 x.y", "ab12cd34 x>y",
    "fffff88000c8d715 8b6e28          mov     ebp,dword ptr [rsi+28h]", "82ae06af 0fb738 movzx edi,word ptr [eax] ds:0023:4a4a=?",
    "fffff805'6da4c4ce 8327cf and dword ptr [rdi],0FFFFFFCFh", "ab12cd34 nt!f+0x1a (x)", "1234 x", "12 ab12cd34 nt!f [x]",
    "ab12cd34 " + "n" * 2100, "0a nt!KiPageFault+0x1", "0a nt+0x1a", "ab12cd34 :nt!f", "ab12cd34 :x.sys", "0a :x",
    "ab12cd34 ab12cd34 :ab.sys", "ab12cd34 VSApiNt VSSwapShortTable+0x136d", "ab12cd34 nt -0x10", "ab12cd34 nt -0x1g",
    "ab12cd34 nt f+0xg", "ab12cd34 nt f+0", "ab12cd34 nt f+0x1 x", "ab12cd34 n~t f+1", "ab12cd34 nt ?f<a>:b~c+1a",
    "ab12cd34 nt  f+1\u0663", "ab12cd34 nt f+0X1", "ab12cd34 nt f+0x1g", "ab12cd34 ??   ???", "ab12cd34 n.t f+1 [x]",
    "ab12cd34 448b4a28        mov     r9d,dword ptr [rdx+28h]", "ab12cd34 12345678 mov x+0x1", "ab12cd34 \u00e9 f+1",
    "ab12cd34 m\u00e9 f\u00e9+1", "ab12cd34 0x1 f+1", "ab12cd34 1a2b f+1", "ab12cd34 1a2g f+1", "ab12cd34 nt f-0x1",
    # prompts and their near misses
    "0: kd> !analyze -v", "kd>", "lkd> lm", "lkd>x", "kd > x", "kkd> x", "lkdx> y", "0:kd> x", "0:  kd> x", "12: 3:4> x",
    "1:2:x86> kb", "1:2:> x", "1:2:x86 > x", "1:> x", ":2> x", "1\u0663: kd> x", "1: 2:3:\u00e9> x", "0: kd>  \u3000x\u3000",
    "3: kd> !analyze -v > out.txt", "0: 1: kd> x", "0: kd x> y", "kd> ugcheck Analysis", "0:000> !analyze", "lkd",
    # call sites alone (kc) and instructions, and their near misses
    "nt!KeBugCheckEx", "nt!KeBugCheckEx+0x107", "Wdf01000!FxVerifierBugCheckWorker+0x1c", "nt!DbgBreakPointWithStatus:",
    "nt+0x1a:", "nt!f:x", "nt!f:", "nt!:", "nt!", "nt+0x", "nt+0x1:", "nt+0xg", "nt!f(", "nt!f((", "nt!(", "startup!f",
    "a>b!f", "unknown!f", "Unknown+0x1", "NDIS!f", "x.sys!f", "n~t!f", "nt!f+0x1 ", "nt!f+0x1 x", "nt!f\x0b", "nt!f+0x1\u3000",
    "k!f", "l!f", "kd!f", "P!f", "Probably!x", "BAD_X!f", "abc!f", "ab!f", "AB!f", "nt!f+0x1+0x2", "m\u00e9!f", "nt!f\u00e9",
    "nt!f:\u3000", "nt +0x1", "nt!f+0X1", "nt!f+1", "Nt+0x1a", "n.t-x$!f", "nt!f  ", "  nt!f", "nt!!f", "nt!f!g", "_nt!f",
    # lines of stars and hashes with more in them
    "*   Bugcheck Analysis   *", "#  UGCHECK ANALYSIS #", "# BAD_POOL (19)", "# A_B", "#a_b", "## 9_A", "# # *X_Y (1)", "## Debug info", "# AB", "# A1", "# A", "#A_", "# AB_C", "# AB_CD (12)", "# A1_B",
    "# Ab_C (1)", "# A\u212a_B", 
    "* Fatal System Error: 0x0000001a", "*** WARNING: Unable to verify", "# code 0x1a", "*  x  *", "#\u00c9_A", "Windows 10 Kernel Version 19041", "DBGHELP: x", "Unloaded modules:", "Parameter 1", "Dump File",
    "ExceptionCode: c0000005", "Subcode: 0x1 x", "Processor: x", "Crash Time", "*", "**", "* *", "*#", "#", "# x", "*x",
    "0a 1b", "dead beef", "de:ad", "ab", "ab cd ef01", "abcdef01", "abcdef0", "12 abcdef01 x", "1234 abcdef01",
    "12345 abcdef01", "nt!x", "nt+0x1", "nt+0y", "a.b-c$d!", "a~b!x", "\u00e9t\u00e9!x", "x" * 10 + "+0x", "_a!b",
    "The prose line", "the prose", "- dash", ".sympath", "$x!y", "-x!y", "[x]", "<x>", "\tTab", "\u4e2d\u6587",
    " ", "  ", "", "MODULE_NAME: " + "v" * 600, "MODULE_NAME: " + "v" * 513, "MODULE_NAME: " + "v" * 512,
    # keys whose value is a fact, with values _hex reads, refuses, or leaves to int()
    "Key  : Bugcheck.Code.LegacyAPI\n    Value: 0x9F", "Key : bugcheck.code.targetmodel\nValue:9f,,",
    "Key  : Bugcheck.Code.KiBugCheckData\n  Value:  `0x`1`a` ", "Key  : Bugcheck.Code.LegacyAPI\n    Value: 0x",
    "Key  : Bugcheck.Code.LegacyAPI\n    Value: +1a", "Key  : Bugcheck.Code.LegacyAPI\n    Value: 1_a",
    "Key  : Bugcheck.Code.LegacyAPI\n    Value: \u0661", "Key  : Bugcheck.Code.LegacyAPI\n    Value: 0x0x1",
    "Key  : Bugcheck.Code.LegacyAPI\n    Value: 1a ,", "Key  : Bugcheck.Code.LegacyAPI\n    Value: zz",
    "Key  : Bugcheck.Code.LegacyAPI\n    Value: 0", "Key  : Bugcheck.Code.LegacyAPI\n    Value: ,`,",
    "Key  : Failure.Hash\n    Value: {a-b}\u3000", "Key  : FAILURE.BUCKET\n  Value:", "Key  : Failure.Bucket\n  Value :x",
    "Key  : Failure.Bucket\nx Value: y", "Key  : Failure.Bucket\n\tValue: y", "Key  : Failure.Bucket\n" + " " * 2043 + "Value: 1",
    # lm details: the words _upper_line reads one after, and their near misses
    "Image name: x", "IMAGE name:  x  ", "Image Name  :  x ", "Image name:x", "ImageSize:", "ImageSize: 0052000",
    "Image\u3000name: x", "CheckSum:\u3000x", "Checksum: 1", "Timestamp:x", "Timestamp: x", "File version : 1",
    "File  version: 1", "Loaded symbol image file:", "Loaded symbol image file: a.sys", "Image nameX: y",
    "Image path: \\??\\C:\\a.sys", "Product version: 1", "ProductVersion:\t1", "CompanyName: \u00e9", "InternalName:",
    "OriginalFilename: x" + "y" * 600, "LegalCopyright: (c)", "FileDescription: \u212a", "Image na\u212ae: x",
    "Timeſtamp: x", "Image   name: x", "Image name", "Image: x",
    # lines of a mid-line word read for the modules they name alone, and their near misses
    "*** WARNING: Unable to verify timestamp for nvlddmkm.sys", "*** ERROR: Module load completed but symbols could not be loaded for w.SYS",
    "Unable to load image \\SystemRoot\\system32\\DRIVERS\\atikmpag.sys, Win32 error 0n2", "unable to get nt!MmPoolEnd",
    "Unable to get NonPagedPoolStart", "UNABLE TO LOAD IMAGE  a\\b\\c.dll", "Unable to load image a.b.sys.exe.x",
    "Unable to load image \\a b\\c.sys", "Unable to load image c.sys\\d.sys", "Unable to load image " + "a" * 260 + ".sys",
    "Unable to load image " + "a" * 250 + ".sys.sys", "Unable to load image x.sy", "Unable to load imagex.sys",
    "Unable to load image\tx.sys", "Unable to load image x.sysUnable to load image y.dll", "Unable to load image \u00e9.sys",
    "Unable to verify checksum for a.exe code", "Unable to verify checksum for a.exe (ug)", "* Unable to load image a.sys",
    "*** Unable to load image a.sys ! x", "Unabled to load image a.sys", "Unable: to load image a.sys", "unable to load image k.sys",
    "Unable to load image Unable to load image x.sys", "Unable to load image ~$-.x.DLL", "# Unable to load image a.sys",
    "*** Fatal System Error: Unable to load image a.sys", "Unable to load image a.sys +0x1", "Unable to load image a.sys t fault",
    "*** Unable to load image a.sys BugCheck 1A, {1}", "Unable to load image a.sys bugcheck 0x1a", "Unable to load image a.sys Stop code: ABCD_EFG",
    "Unable to load image a.sys Owning Process 1 Image: x", "Unable to load image driver at fault: b.sys", "Unable to load image a.sys DEBUG 0x1",
    "Unable to load image a.sys STOP CODE: ABCD_EFGH", "Unable to load image a.sys Stop Code: ABCD_EFGH",
    # facts of one line that _upper_line reads after their first word, and their near misses
    "Debug session time: Mon Apr 27 10:07:40.296 2020 (GMT+2)", "Debug session time:", "Debug session time: ",
    "Debug session time:x\u3000", "Debug  session time: x", "Debugsession time: x", "Debug session time :x",
    "System Uptime: 0 days 4:41:17.788", "System Uptime:", "System Uptime:\t", "System uptime: 1", "SystemUptime: 1",
    "Loading Dump File [C:\\Windows\\Minidump\\1.dmp]", "Loading Dump File []", "Loading Dump File [x", "Loading Dump File [ x ] y",
    "Loading Dump File [\u3000]", "Loading dump File [x]", "Loading  Dump File [x]",
    "Built by: 7601.18798.amd64fre.win7sp1_gdr.150316-1654", "Built by:", "Built by:\tx", "Built by:   x y", "Built by:\u3000x",
    "Edition build lab: 19041.1.amd64fre", "Edition build lab:", "Built  by: x", "Builtby: x",
    "Windows 10 Kernel Version 19041 MP (8 procs) Free x64", "Windows 7 Kernel Version 7601 (Service Pack 1) MP",
    "Windows Kernel Version 2600", "Windows XP Kernel Version 260", "Windows 8 Kernel Version 123456 x",
    "Windows 8 Kernel Version 1234\u0661", "Windows 8 Kernel Version \u0661234", "Windows \u00e9 Kernel Version 1234",
    "Windows 8 Kernel Version 12 Kernel Version 3456", "Windows 8, Kernel Version 1234", "Windows " + "x" * 101 + " Kernel Version 1234",
    "Windows " + "x" * 92 + " Kernel Version 1234", "Windows " + "x" * 99 + " Kernel Version 1234", "Windows " + "x" * 100 + " Kernel Version 1234", "WindowsXP Kernel Version 2600", "Windows\u3000Kernel Version 2600",
    "Windows 10 Kernel Version 19041  ", "Windows 10 Kernel  Version 19041",
    "Mini Kernel Dump File: Only registers", "Mini kernel dump file", "MINI KERNEL DUMP FILE", "Mini Kernel Dump Filex",
    "Mini Kernel Dump File_", "Mini Kernel Dump File\u00e9", "Mini Kernel Dump File.", "Kernel Bitmap Dump File", "Kernel base = 0x1",
    "Kernel Summary Dump File", "Kernel Complete Dump File", "Full Kernel Dump File", "Complete Dump File", "User Mini Dump File",
    "Automatic Dump File", "Automatic dump", "Full \u212aernel Dump File", "Kernel Bitmap  Dump File", "User mini dump file: x",
    # lines of a mid-line word (a code after a blank) no branch of the line pattern matches, and their near misses
    "Kernel base = 0xfffff8018fa16000 PsLoadedModuleList = 0xfffff8018fdc4150", "PsActiveProcessHead   0x8297ce98",
    "- x 0x1", "(x) 0x1", "\"q\" 0x1", "Bad 0x1", "Bed x 0x1", "Add 0x1 Unable to load image a.sys", "add 0x1", "Key 0x1",
    "Key: 0x1", "Key:0x1", "Key\t: 0x1", "kd 0x1", "Mode 0x1 code", "#x 0x1", "# AB 0x1", "# Ab 0x1", "abc: 0x1", "x: 0x1 ug",
    "The bugcheck was: 0x0000001a (0x1, 0x2)", "A 0x1", "Ab 0x1", "AB 0x1", "Ab_c 0x1", "ab_c 0x1", "Ab: 0x1", "Zz 0x1 !x",
    "Zz 0x1 +0x1", "9 0x1", "Mini 0x1", "Kernel 0x1", "Windowsx 0x1", "Debugx 0x1", "start 0x1", "startx 0x1", "kdx> 0x1",
    "image x 0x1", "imagesize 0x1", "Image 0x1", "Parameter 0x1", "Dump 0x1", "Bug 0x1", "Bugcheck 0x1", "THREADS 0x1",
    # lines of hex digits first that _hex_line tries every pattern on: disassembly with a call site, !chkimg, db
    "    fffff80002c690f9 eba0            jmp     nt!ExDeleteResourceLite+0x13b (fffff80002c6909b)",
    "    fffff80316663aca-fffff80316663acb  2 bytes - FLTMGR!DeleteStreamListCtrlCallback+4a (+0x0e)",
    "ffffac883ca17920  00 00 00 00 00 00 00 00-70 83 2e 38 88 ac ff ff  ........p..8....", "ab12cd34 12345678 x.sys",
    "ab12cd34 12345678 a (b)", "ab12cd34 12345678 a (b) c", "ab12cd34 123456789abcdef012 a (b)", "ab12cd34  12345678  x.dll ",
    "ab12cd34 1234567 a.sys", "ab12cd34 12345678` a.sys", "abcdef012345678901 12345678 a (x)", "ab12cd34 nt!f", "ab12cd34 nt!f x",
    "ab12cd34 x nt!f", "ab 12 nt!f", "ab 12 nt!f x", "ab12cd34 x\tnt!f y", "ab12cd34 x nt+0x1", "ab x>y z", "12 x>y z", "ab12 x > y",
    "Ab12cd34 x nt!f", "ab12cd34 ab12cd34 (x)", "ab12cd34 ab12cd34 nt!f (x)", "ab12cd34 ab12cd34 nt!f >", "ab12cd34 x . y",
    # lines of a small letter first, matched for eight hex digits or a call site, that say nothing; near misses
    "    fffff1e056a24906-fffff1e056a24907  2 bytes - win32kfull!xxxRealInternalGetMessage+76 (+0x9b)",
    "fffff1e0-x  2 bytes - a!b+1 (+0x9b)", "ffffffff-x nt!f", "ffffffff-x a nt!f", "ffffffff-x a b nt!f", "abcdefab-q",
    "start-x 1 2 a!b", "bugs-x 1 2 a!b", "kd-x > a b", "lk-x > a b c", "kx-x > a b a!b", "image-x path: a!b c d",
    "filexyz-y 1 2 nt!f", "file version-x: a!b c", "bugcheck code 0000001a", "bug check code: 0x1a (1, 2)", "bugcheck name: x", "fffffffff-x\t a!b c", "abcdefgh-x a b+0x1", "abcdefgh-x a+0x1",
    # arguments whose meaning goes on on the lines after them, and their near misses
    "Arg2: 0000000000000000, X64: bit 0 set if the fault was due to a\n    not-present PTE.\n    On x86 too\nArg3: 1",
    "Arg1: 1, a\n   b\n  c", "Arg1: 1, a\n   \u3000\n   b", "Arg1: 1, a\n    Arg2: 2", "Arg1: 1, a\n   \tArg b", "Arg1: 1,a\n\t   b",
    "Arg1: 1 a\n   " + "m" * 600 + "\n   more", "Arg1: " + "f" * 17 + ", x\n   y", "Arg1: 0x1, x\n   y", "Arg1: 1x\n   y",
    "Arg1: 1\n   y\n   z\n", "Arg4: 1, " + "w " * 300 + "\n   v", "Arg1:1\n   y", "Arg1: 1,\n   y",
    "fffff80112345678 fffff80112345678 un\u212anown+0x1", "fffff80112345678 fffff80112345678 un\u00e9nown+0x1", "fffff80112345678 fffff80112345678 UNKNOWN_IMAGE+0x1", "MODULE_NAME: " + "w" * 2100, "X" * 2100 + "_Y",
]


@needs_lines
def test_lines_core_reads_or_passes_over_a_line_as_the_line_pattern_does() -> None:
    import random
    from pathlib import Path

    from analysis.text.clean import clean
    from analysis.text.decode import NotText, decode
    from tests.test_text_gates import _frame_lines

    rng = random.Random(22)
    texts = []
    for path in sorted((Path(__file__).parent / "fixtures").rglob("*.txt")):
        try:
            texts.append(clean(decode(path.read_bytes())))
        except NotText:
            continue
    frames = _frame_lines(rng)
    texts.append("\n" + "\n".join(frames))
    texts.append("\n" + "\n".join(" " * rng.choice([0, 1, 3]) + b for b in _LINE_BITS * 3))
    for blanks in (0, 1, 2, 3, 2042, 2043):  # a key's Value line and an argument's next line, at each width
        texts.append(f"\nKey  : Analysis.X\n{' ' * blanks}Value: 1\nArg1: 1, x\n{' ' * blanks}y\nArg2: 2\n{' ' * blanks}")
    for _ in range(400):
        texts.append("".join(rng.choice(["\n", "\n", " ", ""]) + rng.choice(_LINE_BITS + frames[:200]) for _ in range(30)))
    idle = left = 0
    for text in texts:
        a, b = _walk_agrees_with_the_line_pattern(text)
        idle, left = idle + a, left + b
    assert left  # (lines were left to Python: the test saw both ways)


@needs_lines
@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_LINE_BITS + ["\n", " ", ":", "!", "+0x", "0", "f", "A", "_", "\u212a", "\u00e9", "\U0001f600",
                                              # characters whose code holds the byte of a line break
                                              "\u4e0a", "\u010a", "\u0a0a", "\U0001000a", "\U000a0a0a"]),
                max_size=40))
def test_lines_core_on_generated_lines(bits) -> None:
    _walk_agrees_with_the_line_pattern("\n" + "".join(bits))


def _walk_and_loop(text: str, cuts: list[int]) -> None:
    """Scanner with the compiled walk (Scanner._walk) and with the Python
    loop (Scanner._run, the twin): the same events on the whole text, the
    same events and kept tail when it is fed as a block that is not the
    last, and when it is fed in blocks cut at ``cuts``.  (Not the same
    cursor: the walk reads the long way some lines the line pattern does
    not match, which say nothing ("FileVersion" without its colon), and
    its cursor is then past them where the loop's is not.  A cursor is
    only ever used for the tail a block keeps, and that is compared.)"""
    import itertools

    def read(walk):
        events._NATIVE_LINES = walk
        sc = events.Scanner()
        sc.text = text
        sc._run(0, len(text))
        whole = [(e.pos, e.kind, repr(e.value)) for e in sc.out]
        sc = events.Scanner()
        held = ([(e.pos, e.kind, repr(e.value)) for e in sc.feed(text, final=False)], sc.tail)
        whole = (whole, held)
        sc, streamed = events.Scanner(), []
        ends = sorted({text.find("\n", c) + 1 for c in cuts if 0 < text.find("\n", c) + 1 < len(text)})
        for a, b in itertools.pairwise([0, *ends, len(text)]):
            streamed.append(([(e.pos, e.kind, repr(e.value)) for e in sc.feed(text[a:b], final=b == len(text))], sc.tail))
        return whole, streamed

    try:
        assert read(lines_core) == read(None), text[:300]
    finally:
        events._NATIVE_LINES = lines_core


@needs_lines
@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_LINE_BITS + ["\n", "\n", "\n", " ", ":", "!", "+0x", "0", "f", "\u212a", "\U0001f600",
                                              "fffff80112345678 ", "fffff80112345678 fffff80112345678 nt!KiPageFault+0x260",
                                              # what a look at the next line finds: a fact there, a wrapped meaning
                                              "\nKey  : Analysis.X\n    Value: BugCheck 1A, {1, 2, 3, 4}\n",
                                              "\nArg1: 1, x\n   wrapped 0x1a bugcheck\n", "\nffffffff ffffffff\nnt!Foo+0x1\n"]),
                max_size=40),
       st.lists(st.integers(0, 4000), max_size=4), st.sampled_from([16 * 1024, 1, 30, 200]))
def test_lines_core_walk_gives_the_loops_events(bits, cuts, segment) -> None:
    """The compiled walk and the Python loop, text by text: segments of a
    line or a few put a segment's end after every line (a key's Value line
    and an argument's next line looked at up to it), blocks a block's end."""
    old = events._SEGMENT
    events._SEGMENT = segment
    try:
        _walk_and_loop("".join(bits), cuts)
        _walk_and_loop("\n" + "".join(bits), cuts)
    finally:
        events._SEGMENT = old


@needs_lines
def test_lines_core_walk_gives_the_loops_events_after_a_line_it_reads_the_long_way_unmatched() -> None:
    """A line the walk sends the long way that the line pattern does not
    match ("FileVersion" without its colon, after another line): the walk's
    cursor is past it, the loop's is not, and the events and kept tails are
    the same (the comparison of cursors failed on texts as plain as these,
    whenever the generated texts held one)."""
    for text in ("a\n\nFileVersion\n", "x\n*\nFileVersion", "x\ny\nFileVersion\nz\n", "x\n\nFileVersion\n    Value: 1\n"):
        for segment in (16 * 1024, 1):
            old = events._SEGMENT
            events._SEGMENT = segment
            try:
                _walk_and_loop(text, [])
                _walk_and_loop(text, [2, 4])
            finally:
                events._SEGMENT = old


def _walk_and_loop_by_segments(text: str, cut: int) -> None:
    """_walk_and_loop in segments of many lines and of one, whole and cut."""
    for segment in (16 * 1024, 1):
        old = events._SEGMENT
        events._SEGMENT = segment
        try:
            _walk_and_loop(text, [])
            _walk_and_loop(text, [cut])
        finally:
            events._SEGMENT = old


@needs_lines
def test_lines_core_walk_reads_the_lines_of_a_mid_line_word_as_the_loop_does() -> None:
    """The lines of a crash's arguments ("BugCheck D1, {...}") are lines of a
    mid-line word, which the walk reads in C when they are of the plain
    shape, as it reads a field, frame, argument or key line that holds such
    a word: the same events as the loop's, for each shape and its near
    misses, alone and between other lines."""
    bits = [b for b in _LINE_BITS if "ugCheck" in b or "ugcheck" in b]
    assert len(bits) > 15
    for bit in bits:
        for text in (f"{bit}\n", f"\n{bit}", f"x\n  {bit}\nMODULE_NAME: y\n{bit}\n{bit}\nArg1: 1, z\n\n"):
            _walk_and_loop_by_segments(text, 3)
    # Lines of the shapes the walk reads that hold a mid-line word (a code
    # after a blank, "Owning Process", "nable to"): read in C at the stop too.
    w = "fffff801" + "12345678"
    for line in ("BUGCHECK_STR:  0x1E_c0000005", "FAILURE_BUCKET_ID:  0x7E_nt!Foo", "MODULE_NAME: Owning Process",
                 "EXCEPTION_CODE: (NTSTATUS) 0xc0000005 - The instruction", "FAULTING_IP: ", "FAULTING_IP:  0x1",
                 "Arg1: ffffffffc0000005, The exception code 0x1 that was not handled", "Arg2: 1, nable to x",
                 f"{w} {w} nt!KiBugCheck+0x1 code 0x1", f"{w} {w} : {w} {w} : nt!Foo+0x1 (Owning Process)",
                 "Key  : Failure.Bucket 0x1", "Key  : Analysis.X code 0x1", "Probably caused by : nable to x ( 0x1 )",
                 "DRIVER_IRQL_NOT_LESS_OR_EQUAL (d1)", "PROCESS_NAME:  Owning Process x", "    Value: 0x1 code",
                 "x" * 2050 + " 0x1", "BUGCHECK_STR:  " + "0x1 " * 600,
                 *[b for b in _LINE_BITS if "nable to" in b or "could not be loaded" in b]):
        for text in (f"{line}\n", f"a\n{line}\n    Value: 0x2\n{line}\nb", f"{line}\n{line}\nArg1: 1, x\n  y\n"):
            _walk_and_loop_by_segments(text, 2)
    sc = events.Scanner()
    made = sc.feed("x\nBugCheck D1, {ffffc30e`e36d9010, 2, 0, " + "f" * 17 + "}\n")
    assert [(e.kind, e.value) for e in made] == [("bugcheck", (0xD1, [0xFFFFC30EE36D9010, 2, 0, None])),
                                                 ("bad_arg", (4, "f" * 17))]


@needs_lines
def test_lines_core_reads_the_common_shapes_itself() -> None:
    """What the walk is for: the shapes of most frame and field lines are
    read in C, not left to the Python reader."""
    w = "fffff801" + "12345678"
    for line in (f"{w} {w} nt!KiPageFault+0x260", f"{w} {w} : {w} {w} {w} {w} : nt!Foo+0x1",
                 f"0e {w} {w} : {w} {w} {w} {w} : nt!Foo+0x1", f"{w} : {w} {w} : x!y", f"  0a {w} {w} drv+0x15  ",
                 f"{w} {w} {w} {w} {w} {w} nt!Foo", f"{w}1 {w} : {w}1 {w} : 360FsFlt+0x9", f"{w} {w} mod~1!f$+0x1",
                 "MODULE_NAME: x", "  STACK_TEXT:  ", "FAILURE_BUCKET_ID:  AV_x!y", "Arg1: ffffffffc0000005, The exception",
                 "Arg4: 0000000000000000", "DRIVER_IRQL_NOT_LESS_OR_EQUAL (d1)", "  BAD_POOL_HEADER (0x19)  ",
                 "Probably caused by : drv.sys ( drv!Routine+0x1a )",
                 "8ba0f878 8231f07e 8ba0f8ec adf5d4c8 872e2eb8 nt!IofCallDriver+0x48 [minkernel\\ntos\\io\\iosubs.c @ 3149]",
                 "0e fffffb842813a3b0 fffff8015a336aa2 dxgkrnl!CCompositionToken::Delete+0x28",
                 "002dd968 00000000 00000000 00000000 00000000 0x77a670d4"):
        for after in ("x", "  x"):  # (two blanks: no wrapped meaning)
            decision, made, _ = lines_core.classify(f"\n{line}\n{after}", 1, len(line) + 2 + len(after))
            assert decision == 2 and made is not None, line
    for line in ("FAULTING_IP: ", "Debug session time: Mon Apr 27 10:07:40.296 2020 (GMT+2)", "System Uptime: 0 days 4:41:17.788",
                 "Loading Dump File [C:\\x.dmp]", "Built by: 7601.18798", "Windows 10 Kernel Version 19041 MP (8 procs) Free x64",
                 "Mini Kernel Dump File: Only registers and stack trace are available", "    Key  : Bugcheck.Code.LegacyAPI", "  Key  : Failure.Bucket", "    Image name: srvnet.sys",
                 "    Timestamp:        Sun Sep 15 21:28:14 2019 (5D7E3C6E)", "Loaded symbol image file: man.sys"):
        text = f"\n{line}\n    Value: 0x9f\n"
        decision, made, _ = lines_core.classify(text, 1, len(text))
        assert decision == 2 and made is not None, line
    # lines of a mid-line word that name a module, or say nothing: read in C at the walk's stop
    for line, named in (("*** WARNING: Unable to verify timestamp for nvlddmkm.sys", ["nvlddmkm.sys"]),
                        ("Unable to load image \\SystemRoot\\system32\\DRIVERS\\atikmpag.sys, Win32 error 0n2", ["atikmpag.sys"]),
                        ("Unable to get NonPagedPoolStart", [])):
        text = f"x\n{line}\ny\n"
        out: list = []
        assert lines_core.scan(text, 1, 2, len(text), 0, out) == (2, len(line) + 3, 2), line
        assert [e.value for e in out] == named
    line = "fffff88000c8d715 8b6e28          mov     ebp,dword ptr [rsi+28h]"  # says nothing
    assert lines_core.classify(f"\n{line}\nx", 1, len(line) + 3)[:2] == (2, None)
    assert lines_core.classify(f"\n{line}\nx", 1, len(line) + 3, True)[0] == 3  # (unless _midline is to read it)


@needs_lines
@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["\n", "a", "中", "\U0001f600", "x" * 5, "\r", " ", "\u4e0a", "\U0001000a"]), max_size=60),
       st.integers(0, 12))
def test_lines_core_finds_the_long_lines_clean_reflows(bits, longer) -> None:
    text = "".join(bits)
    assert lines_core.long_lines(text, longer) == cleaning._long_lines_py(text, longer)
    assert lines_core.long_lines(text, 240) == cleaning._long_lines_py(text)


def test_no_lm_detail_opens_with_two_hex_digits() -> None:
    """What lets the walk say a line of disassembly says nothing (csrc/lines.c,
    addr_line): a line opening with a word of hex digits is no lm detail."""
    import re

    alternatives = re.search(r"\((.*?)\)", events._LM_DETAIL.pattern)[1].split("|")
    assert len(alternatives) > 10
    for word in alternatives:
        assert not all(c in "0123456789abcdefABCDEF" for c in word[:2]), word


def test_the_lines_core_knows_the_keys_whose_value_is_a_fact_and_the_lm_words() -> None:
    """What csrc/lines.c reads of a key whose value is a fact (key_fact
    names them) and of an lm detail (lm_detail_line: a word of
    _LM_DETAIL_WORDS is none _UPPER_WORDS dispatches on)."""
    assert events._KEYS_READ == {"bugcheck.code.legacyapi", "bugcheck.code.targetmodel", "bugcheck.code.kibugcheckdata",
                                 "failure.bucket", "failure.hash"}
    # (csrc/lines.c reads the lines of an lm detail's word or a dump kind's as _upper_line does only with no
    # other table holding that word; "Bug" is one of _UPPER_WORDS and of _BSV_WORDS, and read in Python)
    others = events._UPPER_WORDS.keys() | events._BSV_WORDS
    assert not events._LM_DETAIL_WORDS & others and not events._DUMP_KIND_WORDS & others
    assert not events._LM_DETAIL_WORDS & events._DUMP_KIND_WORDS


def test_no_word_the_upper_line_looks_up_holds_an_underscore() -> None:
    """What lets the walk read a bug check's name line without looking its
    first word up (csrc/lines.c, long_way_line): a name holds a "_"."""
    for table in (events._UPPER_WORDS, events._LM_DETAIL_WORDS, events._BSV_WORDS, events._DUMP_KIND_WORDS):
        assert not [w for w in table if "_" in w]


@needs_lines
def test_lines_core_takes_only_its_own_arguments() -> None:
    with pytest.raises(ValueError):
        lines_core.long_lines("ab", -1)
    assert lines_core.long_lines("", 0) == [] and lines_core.long_lines("\n", 0) == []
    for args in ((b"x", 1, 2, 3, 0, []), ("x", 1, 2, 3, 0, ()), ("x", "1", 2, 3, 0, [])):
        with pytest.raises(TypeError):
            lines_core.scan(*args)
    assert lines_core.scan("ab\nzz", -5, 99, 99, -3, []) == (5, -3, False)  # bounds past the text: the text's end
    assert lines_core.scan("ab\ncd", 0, 99, 99, 0, []) == (3, 0, False)  # a line of hex digits alone: matched in Python
    assert lines_core.scan("ab\nUnknown bugcheck code (1)", 0, 99, 99, 0, []) == (3, 0, True)  # read the long way
    out: list = []
    assert lines_core.scan("ab\nkd> x", 0, 99, 99, 0, out) == (8, 9, 0) and out == [events.Event(3, "prompt", "x")]
    with pytest.raises(ValueError):
        lines_core.classify("ab", 5, 2)


@needs_lines
def test_lines_core_reads_from_any_cursor_before_the_text() -> None:
    """A cursor before the text reads every line, the most negative too
    (``cursor - 1`` wrapped round to the largest number: nothing was read)."""
    import sys

    text = "ab\nMODULE_NAME: x\nfffff80112345678 fffff80112345678 nt!KiPageFault+0x260\n"
    read = []
    assert lines_core.scan(text, 0, 99, 99, 0, read)[0] == len(text) and len(read) == 2
    for cursor in (-1, -(1 << 40), -sys.maxsize, -sys.maxsize - 1):
        out: list = []
        assert lines_core.scan(text, 0, 99, 99, cursor, out) == (len(text), len(text), False) and out == read, cursor
    big = sys.maxsize
    for pos, bound, stop, cursor in ((big, 99, 99, 0), (0, 99, 99, big), (0, 99, -big - 1, 0), (-big - 1, 99, big, 99)):
        out = []
        assert lines_core.scan(text, pos, bound, stop, cursor, out) == (min(stop, len(text)), cursor, False) and out == []
    out = []
    assert lines_core.scan(text, 5, 0, 99, 0, out) == (text.index("fffff"), 0, False) and out == []  # bound before pos


def _decisions(text: str) -> list:
    return [lines_core.classify(text, s, len(text)) for s in [i + 1 for i, c in enumerate(text) if c == "\n"]]


@needs_lines
def test_lines_core_keeps_its_tables_when_a_setup_is_refused() -> None:
    """A setup refused changes none of the tables: one table changed and
    its twin not (the dump kinds' first and second words, the lm labels'
    first letters and rests) had the walk index one by the other's length,
    past its end; and the opening words, taken before the lm labels were
    refused, had the walk pass over every line they open."""
    tables = events._LINES_TABLES
    probe = "\n" + "\n".join(["Windows 10 Kernel Version 19041", "kd> k", "User Mini Dump File", "Automatic dump",
                              "Image path: x", "Legalcopyright: x", "Key  : x", "THREAD ffffd00012345678  Cid",
                              "start end", "Zebra", "MODULE_NAME: x"]) + "\n"
    before = _decisions(probe)
    wrong = []
    for at, value in ((7, tables[7][:2]), (4, ("Q",)), (6, tables[6] + ("zzz",))):
        changed = list(tables)
        changed[at] = value
        wrong.append(changed)
    wrong[1][6] = tables[6][:-1]  # (the opening words pass; the lm labels after them are refused)
    wrong.append([*tables[:-2], 0, tables[-1]])  # every table right, the line length refused
    try:
        for changed in wrong:
            with pytest.raises(ValueError):
                lines_core.setup(*changed)
            assert _decisions(probe) == before
    finally:
        lines_core.setup(*tables)


@needs_lines
def test_lines_core_counts_each_first_characters_opening_words_to_the_last() -> None:
    """As many opening words as setup takes (256), all of one first
    character: each is looked for (the count was kept in a byte: 0)."""
    tables = list(events._LINES_TABLES)
    tables[4] = tuple(f"W{i}" for i in range(256))
    try:
        lines_core.setup(*tables)
        assert [d for d, _, _ in _decisions("\nW7 x\nW255\nW\nX7")] == [3, 3, 0, 0]  # (the long way)
    finally:
        lines_core.setup(*events._LINES_TABLES)
    with pytest.raises(ValueError):
        lines_core.setup(*(tables[:4] + [tuple(f"W{i}" for i in range(257))] + tables[5:]))


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


@needs_lines
@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["\n", "\r", "\r\n", "a", "中", "\u4e0a", "\u0a0d", "\U0001f600", "\U0001000a", "\u010d", " "]),
                max_size=60))
def test_lines_core_counts_the_line_breaks_str_count_counts(bits) -> None:
    from analysis.text import line_breaks_py

    text = "".join(bits)
    assert lines_core.line_breaks(text) == line_breaks_py(text)
    assert lines_core.line_breaks(text * 50) == line_breaks_py(text * 50)

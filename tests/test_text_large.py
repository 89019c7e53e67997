"""Texts over the whole-text limit are read whole as they stream: decoded,
cleaned, scanned, grouped and folded block by block, in memory bounded by
the block size and by what one text may keep, whatever the text's size or
the length of its lines.  They used to be read as 32 windows of 256 KB
around crash marks: a crash past those was never seen, and nothing said so."""

import pytest

import analysis.text as reader
from analysis.text import NoCrashFound, parse_text, read_large_text
from analysis.text.clean import clean
from analysis.text.decode import decode
from bombs import in_child
from tests.golden_inputs import inputs

CRASH = " BugCheck 1A, {41792, 1, 2, 3} "
LAST = "BugCheck 139, {3, 4, 5, 0}\nMODULE_NAME: TmXPFlt\n"
TEXTS = [(label, path) for label, path in inputs() if path.suffix == ".txt"]


def _in_blocks(cleaned: str, size: int) -> list:
    """A cleaned text read as blocks of about ``size`` characters, each cut at
    a line end, the way read_large_text feeds them."""
    reading = reader._Reading(reader.NEVER)
    blocks = list(reader._blocks(cleaned[i:i + size] for i in range(0, len(cleaned), size)))
    for block, final in blocks:
        reading.feed(block, final)
    return reading.reports("x", None)


@pytest.mark.parametrize("label,path", TEXTS, ids=[label for label, _ in TEXTS])
def test_a_text_read_in_blocks_says_what_it_says_read_whole(label, path, monkeypatch):
    """Every text fixture cut into blocks of a few hundred characters: a
    line's next line, a wrapped argument, a draft and its folding all go on
    across the cuts."""
    try:
        text = decode(path.read_bytes())
    except reader.NotText:
        pytest.skip("not text")
    monkeypatch.setattr(reader, "BLOCK", 300)
    try:
        whole = parse_text(text, "x")
    except NoCrashFound:
        with pytest.raises(NoCrashFound):
            _in_blocks(clean(text), 200)
        return
    assert _in_blocks(clean(text), 200) == whole


def test_a_line_longer_than_a_block_is_broken_at_the_block_end(monkeypatch):
    monkeypatch.setattr(reader, "BLOCK", 1000)
    line = ("x" * 97 + CRASH) * 100  # 12,800 characters, no line end
    found = read_large_text([(line + "\n" + LAST).encode()], b"", "x")
    assert [r.bugcheck.code for r, _ in found] == [0x1A, 0x139]
    assert not any(r.partial for r, _ in found)


def test_a_large_text_without_a_crash_says_so_with_its_encoding(monkeypatch):
    monkeypatch.setattr(reader, "BLOCK", 1000)
    with pytest.raises(NoCrashFound) as exc:
        read_large_text([b"ab cd\n" * 2000], b"ab cd\n", "x")
    assert exc.value.code == "no_crash_large" and exc.value.params == {"encoding": "utf-8"}


def _one_line(path, total: int, every: int) -> None:
    """``total`` characters of one line with a crash every ``every``, then a
    second crash on lines of its own."""
    unit = ("x" * (every - len(CRASH)) + CRASH).encode()
    with open(path, "wb") as fh:
        for _ in range(total // len(unit)):
            fh.write(unit)
        fh.write(("\n" + LAST).encode())


def test_a_64_mb_single_line_log_is_read_whole_in_bounded_memory(tmp_path):
    path = tmp_path / "one-line.log"
    _one_line(path, 64 * 1024 * 1024, 100_000)
    out = in_child(
        "from analysis.pipeline import analyze_paths\n"
        "import analysis.text, analysis.attribution, analysis.correlate\n"
        "before = peak()\n"
        "o = analyze_paths([sys.argv[1]])\n"
        "print(json.dumps({'rise': peak() - before, 'codes': [d.bugcheck.code for d in o.case.dumps],"
        " 'partial': [d.partial for d in o.case.dumps], 'notes': [d.notes for d in o.case.dumps]}))\n", str(path))
    # 671 copies of the first crash are one crash; the one after the line is found too
    assert out["codes"] == [0x1A, 0x139] and out["partial"] == [False, False]
    assert out["rise"] < 96 * 1024**2  # the windows of 256 KB took up to 200 MB


def _many(count: int, start: int = 1) -> str:
    """``count`` crashes of one bucket and their own arguments, three lines each."""
    return "".join(f"some words\nBugCheck 1A, {{{i:x}, 1, 2, 3}}\nFAILURE_BUCKET_ID: 0x1A_nt!MiDeletePage\n"
                   for i in range(start, start + count))


def test_the_crashes_past_the_limit_are_counted_and_placed(monkeypatch):
    """The verdict holds the first MAX_CRASHES crashes of a text; how many
    more there were, and the line the first of them starts on, are said --
    the same whether the text is read whole or as it streams, and a crash
    quoted again is counted once."""
    text = _many(300)
    found = parse_text(text, "x")
    assert len(found) == reader.MAX_CRASHES
    notes = found[0][0].notes
    # crash 101 starts on its BugCheck line: 100 crashes of three lines, then "some words"
    assert notes == ["crashes_cut", "crashes_left:200:302"]
    assert parse_text(text + text, "x")[0][0].notes == notes
    monkeypatch.setattr(reader, "BLOCK", 700)
    streamed = read_large_text([text.encode()[i:i + 500] for i in range(0, len(text), 500)], b"", "x")
    assert [r.notes for r, _ in streamed] == [notes] * reader.MAX_CRASHES
    assert _in_blocks(text, 300) == found


def test_the_crashes_left_out_are_said_in_the_answer():
    from analysis.intake import Blob
    from analysis.pipeline import analyze_blobs
    from analysis.render.doc import to_plain
    from analysis.render.verdict import case_doc

    outcome = analyze_blobs([Blob("many.txt", _many(150).encode())])
    zh, en = (to_plain(case_doc(outcome.case, lang)) for lang in ("zh", "en"))
    assert "从第 302 行起另有 50 个蓝屏记录未纳入本结论" in zh and "50 more, from line 302 on" not in zh
    assert "50 more, from line 302 on, are not in this verdict" in en


@pytest.mark.parametrize("ending", ["\r", "\r\n"])
def test_a_text_of_carriage_returns_streams_as_it_reads_whole(ending, monkeypatch):
    """Lines ended by carriage returns alone (or CRLF): a block is cut at a
    line end of either kind, never inside a line (a crash's BugCheck line
    broken in two was lost) nor between the CR and the LF of one line end
    (a blank line after it ends a wrapped argument), and the lines counted
    are the text's lines."""
    monkeypatch.setattr(reader, "BLOCK", 700)
    text = _many(150).replace("\n", ending)
    whole = parse_text(text, "x")
    streamed = read_large_text([text.encode()[i:i + 500] for i in range(0, len(text), 500)], b"", "x")
    assert streamed == whole
    assert "crashes_left:50:302" in whole[0][0].notes


def test_a_line_counted_in_the_cleaned_text_says_so(monkeypatch):
    """An HTML paste (some of its lines ended by <br> tags alone) is
    counted in lines once its tags are taken out: the note says
    its line is of that text, read whole or as it streams; a text clean
    leaves its line ends alone (CRLF, CR) is counted in the sender's lines
    and says nothing of it."""
    from analysis.render.doc import to_plain
    from analysis.render.verdict import dump_doc

    text = _many(150).replace("words\n", "words<br>")  # 201 lines in the file, 302 once cleaned
    whole = parse_text(text, "x")
    assert "crashes_left:50:302:cleaned" in whole[0][0].notes
    monkeypatch.setattr(reader, "BLOCK", 700)
    streamed = read_large_text([text.encode()[i:i + 500] for i in range(0, len(text), 500)], b"", "x")
    assert "crashes_left:50:302:cleaned" in streamed[0][0].notes
    en, zh = (to_plain(dump_doc(whole[0][0], 0, lang)) for lang in ("en", "zh"))
    assert "50 more, from line 302 on, are not in this verdict (lines counted once its HTML" in en
    assert "从第 302 行起另有 50 个蓝屏记录未纳入本结论（行号按去除 HTML 或邮件格式后的文本计算" in zh
    assert "HTML" not in to_plain(dump_doc(parse_text(_many(150).replace("\n", "\r\n"), "x")[0][0], 0, "en"))


def test_a_one_line_html_paste_streams_as_it_reads_whole(monkeypatch):
    """A page whose lines are ended by <br> tags alone, all on one line of
    the file: a block with no line end is cut after its last break tag (a
    cut at the block's end broke a tag and a crash's line in two: crashes
    were lost, and lines counted that are not there)."""
    monkeypatch.setattr(reader, "BLOCK", 700)
    for tag in ("<br>", "<BR />", "</p>"):
        text = _many(150).replace("\n", tag)
        whole = parse_text(text, "x")
        streamed = read_large_text([text.encode()[i:i + 500] for i in range(0, len(text), 500)], b"", "x")
        assert streamed == whole, tag


def test_a_crash_left_out_far_before_the_next_is_placed_on_its_own_line(monkeypatch):
    """The crash past the limit is let go when the next one begins: blocks
    of other text between them (streamed) placed it at the first line of
    the block before that one, after the line it starts on."""
    text = _many(101) + "ab cd\n" * 2000 + _many(1, start=500)
    whole = parse_text(text, "x")
    assert "crashes_left:2:302" in whole[0][0].notes
    monkeypatch.setattr(reader, "BLOCK", 700)
    streamed = read_large_text([text.encode()[i:i + 500] for i in range(0, len(text), 500)], b"", "x")
    assert streamed == whole


def test_a_line_a_block_long_ending_in_crlf_is_one_line(monkeypatch):
    """A line whose CR is a block's last character and its LF the next
    one's first: the block is cut after the LF, not between the two (the
    LF alone made a second, blank line, and every line after it was
    counted one late)."""
    monkeypatch.setattr(reader, "BLOCK", 700)
    text = ("x" * 699 + "\r\n" + _many(150)).replace("\n", "\r\n").replace("\r\r\n", "\r\n")
    whole = parse_text(text, "x")
    assert "crashes_left:50:303" in whole[0][0].notes
    streamed = read_large_text([text.encode()[i:i + 700] for i in range(0, len(text), 700)], b"", "x")
    assert streamed == whole


def _kept_after(calls) -> int:
    """Bytes still allocated after ``calls`` ran (what a cache kept of them)."""
    import gc
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        calls()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def test_a_module_key_cache_keeps_no_hostile_names():
    # A text of 8,192 lm lines, each a distinct 2,000-character name of
    # 4-byte characters, left 125 MB in module_key's cache after its case.
    from analysis.model import module_key

    names = ["\U0001d400" * 2000 + str(i) for i in range(100)]
    assert _kept_after(lambda: [module_key(name) for name in names]) < 100_000
    assert module_key("\U0001d400" * 300 + ".SYS") == "\U0001d400" * 300


def test_the_normal_form_cache_keeps_no_hostile_values():
    # 4,200 "Probably caused by" lines of distinct 2,000-character causes
    # (4-byte characters) left 40 MB more in _norm's cache after the case.
    from analysis.text.assemble import _norm

    values = ["\U0001d400 " * 1000 + str(i) for i in range(100)]
    assert _kept_after(lambda: [_norm(value) for value in values]) < 100_000
    assert _norm(" A  b\tC ") == "a b c"

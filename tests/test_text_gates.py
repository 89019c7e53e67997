"""The cheap paths of the text readers (issue 14) say what the slow ones
said: a scan in C in place of a Python walk, with the same answer."""

from __future__ import annotations

from analysis.eventlog.event import LocalTimes, read_local, strip_marks

_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e"


def test_strip_marks_removes_every_direction_mark_and_nothing_else() -> None:
    text = "".join(f"{c}1{c}3/0{c}7/2018 é 中" for c in _MARKS)
    assert strip_marks(text) == text.translate(dict.fromkeys(map(ord, _MARKS), None))
    assert strip_marks("plain 13/07/2018 10:00") == "plain 13/07/2018 10:00"


def test_dates_with_marks_read_as_without() -> None:
    marked = "\u200e13\u200e/\u200e07\u200e/\u200e2018 10:00:01"
    assert LocalTimes(marked).day_first is True
    assert read_local(marked) == read_local("13/07/2018 10:00:01")


def test_marked_rows_numbers_lines_as_lines_does() -> None:
    from analysis.reports.common import lines, lowered, marked_rows

    text = "a\r\nFoo x foo\n\nbar BAR\r\n" + "y" * 5000 + " foo\nfoo\nİ foo"
    rows = lines(text)
    low = lowered(text)
    assert low == text.lower() and lowered(text) is low
    split = text.lower().split("\n")
    assert marked_rows(low, ("foo",)) == [i for i, r in enumerate(split) if "foo" in r] == [1, 4, 5, 6]
    assert marked_rows(low, ("bar", "foo")) == [1, 3, 4, 5, 6]
    assert [rows[i][:3] for i in marked_rows(low, ("bar",))] == ["bar"]
    assert lines(text) is rows  # the readers of one text share its lines


def test_whocrashed_blocks_split_on_marked_lines_only() -> None:
    from analysis.reports.whocrashed import read_whocrashed

    filler = "\n".join(f"noise line {i}" for i in range(300))
    block = ("On Tue 07/09/2021 10:00:01 your computer crashed or a problem was reported\n"
             "crash dump file: C:\\Windows\\Minidump\\{n}.dmp\n{filler}\n"
             "This was probably caused by the following module: tmxpflt.sys (TmXPFlt+0x1234)\n"
             "  Bugcheck code: 0x3B (0xC0000005, 0xFFFFF8064B6A1B2E,\n0xFFFF, 0x0)\n"
             "  Error: SYSTEM_SERVICE_EXCEPTION\n")
    text = "\n".join(block.format(n=n, filler=filler) for n in range(3)) + (
        "\nConclusion\n" + filler + "\ntmxpflt.sys (Trend Micro)\n")
    reading = read_whocrashed(text, "w.txt")
    assert reading is not None and len(reading.crashes) == 3
    for n, (report, findings) in enumerate(reading.crashes):
        assert report.dump_file == f"C:\\Windows\\Minidump\\{n}.dmp"
        assert report.bugcheck is not None and report.bugcheck.code == 0x3B
        assert report.bugcheck.args == [0xC0000005, 0xFFFFF8064B6A1B2E, 0xFFFF, 0]
        assert [c.name for c in findings.claims] == ["tmxpflt"]

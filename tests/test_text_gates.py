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

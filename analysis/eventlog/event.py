"""One Windows event, whatever shape it arrived in: an .evtx record, an
XML export, a wevtutil or Event Viewer text copy, a CSV row.

Every reader of this package yields these; the interpreter never sees
which shape it came from.  Fields are bounded as they are read: a hostile
export cannot make one event cost more than a few tens of kilobytes."""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import IntEnum
from functools import lru_cache

MAX_VALUE = 4096  # one data field, as stored
MAX_MESSAGE = 16384  # the rendered message
MAX_FIELDS = 64  # named data fields per event


class Level(IntEnum):
    """The event's severity as the System/Level element numbers it."""

    CRITICAL = 1
    ERROR = 2
    WARNING = 3
    INFORMATION = 4
    VERBOSE = 5


# What Event Viewer, wevtutil and PowerShell print for each level, in the
# languages customers' machines speak.
_LEVEL_WORDS = {
    "critical": Level.CRITICAL, "关键": Level.CRITICAL, "严重": Level.CRITICAL, "kritisch": Level.CRITICAL,
    "error": Level.ERROR, "错误": Level.ERROR, "fehler": Level.ERROR,
    "warning": Level.WARNING, "警告": Level.WARNING, "warnung": Level.WARNING,
    "information": Level.INFORMATION, "informational": Level.INFORMATION, "信息": Level.INFORMATION,
    "informationen": Level.INFORMATION, "information(en)": Level.INFORMATION,
    "verbose": Level.VERBOSE, "详细": Level.VERBOSE, "ausführlich": Level.VERBOSE,
}


def level_of(text: str | int | None) -> Level | None:
    if text is None:
        return None
    if isinstance(text, int):
        # 0 is "log always": classic events written without a level.
        return Level(text) if 1 <= text <= 5 else Level.INFORMATION if text == 0 else None
    word = text.strip().lower()
    if word.isdigit():
        return level_of(int(word))
    return _LEVEL_WORDS.get(word)


@dataclass(slots=True)
class Event:
    provider: str
    event_id: int
    record_id: int | None = None
    # ISO 8601 to the second.  A trailing "Z" is UTC (the .evtx and XML
    # SystemTime); without it the time is the machine's own clock, as text
    # and CSV exports print it, with no offset to convert it by.
    time: str | None = None
    computer: str | None = None
    level: Level | None = None
    channel: str | None = None
    # Named <Data> fields; unnamed ones are param1, param2... as their
    # message templates number them (%1, %2).
    data: dict[str, str] = field(default_factory=dict)
    message: str | None = None

    @property
    def key(self) -> str:
        return provider_key(self.provider)


@lru_cache(maxsize=1024)
def provider_key(name: str | None) -> str:
    """Providers as exports spell them compared as one: Event Viewer's
    Source column says "Kernel-Power" and "BugCheck" where the XML says
    Microsoft-Windows-Kernel-Power and Microsoft-Windows-WER-SystemErrorReporting."""
    if not name:
        return ""
    key = name.strip().lower()
    if key.startswith("microsoft-windows-"):
        key = key[len("microsoft-windows-"):]
    return _PROVIDER_ALIASES.get(key, key)


_PROVIDER_ALIASES = {
    "wer-systemerrorreporting": "bugcheck",
    "eventlog": "eventlog",
    "windows error reporting": "wer",
    "windows-error-reporting": "wer",
    "wer": "wer",
}


def bounded(text: object, limit: int = MAX_VALUE) -> str:
    value = "" if text is None else text if isinstance(text, str) else str(text)
    return value if len(value) <= limit else value[:limit]


def set_field(data: dict[str, str], name: str, value: object) -> None:
    if len(data) < MAX_FIELDS or name in data:
        data[bounded(name, 128)] = bounded(value)


# --- times ---------------------------------------------------------------

_SYSTEM_TIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)")


def utc_iso(text: str | None) -> str | None:
    """SystemTime="2019-10-15T01:14:02.498048100Z" -> 2019-10-15T01:14:02Z."""
    if not text:
        return None
    if len(text) >= 20 and text[4] == "-" and text[10] == "T" and text[13] == ":" and text[19] in ".Z":
        return text[:19] + "Z"  # the common case, without a regex
    m = _SYSTEM_TIME.match(text.strip())
    if not m:
        return None
    return "%s-%s-%sT%s:%s:%sZ" % m.groups()


def parse_iso(text: str | None) -> datetime | None:
    """An Event time back to a datetime (UTC-aware or naive local)."""
    if not text:
        return None
    m = _SYSTEM_TIME.match(text)
    if not m:
        return None
    try:
        y, mo, d, h, mi, sec = (int(g) for g in m.groups())
        stamp = datetime(y, mo, d, h, mi, sec)
    except ValueError:
        return None
    return stamp.replace(tzinfo=timezone.utc) if text.endswith("Z") else stamp


# Local times as exports print them: "7/12/2018 10:15:02 AM" (en-US),
# "12/07/2018 10:15:02" (en-GB), "2018/7/12 10:15:02" (zh-CN),
# "12.07.2018 10:15:02" (de-DE), "2018-07-12T10:15:02.123" (wevtutil).
# Left-to-right marks, which Windows puts around date parts, are dropped first.
_LOCAL = re.compile(
    r"(?:(?P<y1>\d{4})[-/.](?P<a1>\d{1,2})[-/.](?P<b1>\d{1,2})"
    r"|(?P<a2>\d{1,2})(?P<sep>[/.-])(?P<b2>\d{1,2})[/.-](?P<y2>\d{4}))"
    r"(?:[T ,]\s{0,3}|\s{1,3}(?:um\s)?)"
    r"(?P<pm1>上午|下午)?\s{0,2}(?P<h>\d{1,2}):(?P<mi>\d\d)(?::(?P<s>\d\d))?(?:[.,]\d{1,9})?"
    r"\s{0,2}(?P<pm>[AaPp]\.?[Mm]\.?)?(?P<z>Z)?"
)


# The direction marks Windows writes around the numbers of a printed date.
_MARK_CHARS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e"


def strip_marks(text: str) -> str:
    """The text without its direction marks: a find and a replace in C
    per mark it holds (an ASCII text holds none, at no cost).  A class
    searched by the regex engine, or a translate table, walks a megabyte of
    head several times slower."""
    if text.isascii():
        return text
    for mark in _MARK_CHARS:
        if mark in text:
            text = text.replace(mark, "")
    return text


@dataclass(slots=True)
class LocalStamp:
    """A printed time read into its parts; the day/month order of a
    "01/03/2026" is settled once the whole export has been seen."""

    year: int
    first: int  # the first of the two short numbers (month in en-US)
    second: int
    hour: int
    minute: int
    second_of_minute: int
    day_first: bool | None  # True: dd.mm (German dots); False: yyyy/m/d; None: slashes, undecided
    utc: bool = False

    def iso(self, day_first: bool) -> str | None:
        order_day_first = self.day_first if self.day_first is not None else day_first
        month, day = (self.second, self.first) if order_day_first else (self.first, self.second)
        try:
            stamp = datetime(self.year, month, day, self.hour, self.minute, self.second_of_minute)
        except ValueError:
            return None
        # isoformat writes what strftime does (a fifth as dear), but for the
        # years before 1000, which strftime writes unpadded.
        text = stamp.isoformat() if self.year >= 1000 else stamp.strftime("%Y-%m-%dT%H:%M:%S")
        return text + ("Z" if self.utc else "")


def read_local(text: str | None) -> LocalStamp | None:
    if not text:
        return None
    text = strip_marks(text)
    m = _LOCAL.search(text[:200])
    if not m:
        return None
    hour = int(m["h"])
    pm = (m["pm"] or "").lower().replace(".", "")
    if pm == "pm" or m["pm1"] == "下午":
        hour = hour % 12 + 12
    elif pm == "am" or m["pm1"] == "上午":
        hour = hour % 12
    sec = int(m["s"] or 0)
    if m["y1"]:
        return LocalStamp(int(m["y1"]), int(m["a1"]), int(m["b1"]), hour, int(m["mi"]), sec, False, bool(m["z"]))
    day_first = True if m["sep"] == "." else None
    return LocalStamp(int(m["y2"]), int(m["a2"]), int(m["b2"]), hour, int(m["mi"]), sec, day_first, bool(m["z"]))


_SETTLED: list[tuple[str, bool]] = []
# What a date that writes the day first holds: a first number over 12, a
# slash or dash, the second and the year ("13/07/2018").  Searched from the
# separator, where the digits' class would be tried at every digit of a
# text of hex words; the text holds none, no date of it is day first.  One
# search per separator, each led by its literal, which the engine skips to
# several times faster than to a class of two (8 ms -> 2 ms a megabyte).
_DAY_FIRST_HINTS = tuple(
    re.compile(sep + r"(?:\d[/.-]\d{4}(?<=(?:1[3-9]|[2-9]\d)[/-]\d[/.-]\d{4})"
                     r"|\d\d[/.-]\d{4}(?<=(?:1[3-9]|[2-9]\d)[/-]\d\d[/.-]\d{4}))")
    for sep in ("/", "-"))


def _day_first(m: re.Match[str]) -> bool:
    return bool(m["a2"]) and m["sep"] != "." and int(m["a2"]) > 12 >= int(m["b2"])


def day_first_in_order(text: str) -> bool:
    """Whether a date of ``text`` writes the day first, every date read in
    the order ``_LOCAL.finditer`` finds them (the reference for ``says_day_first``)."""
    return any(_day_first(m) for m in _LOCAL.finditer(text))


# The separator of a date that may write the day first ("13/07/2018"): two
# digits before it, one or two and a year after.  One pattern per
# separator, each led by its literal, which the engine skips to faster than
# to the class of both (the two streams merged back into the text's order).
_DATE_SEPS = tuple(re.compile(sep + r"(?<=\d\d[/-])(?=\d\d?[/.-]\d{4})") for sep in ("/", "-"))
# A character no date _LOCAL reads can hold: no match spans it, so the
# matches after it are those of a search started just after it.
_NOT_IN_DATE = re.compile("[^\\d\\s\\-/.,:TumAaPpMZ上午下]")
_DATE_LONGEST = 64  # characters of the longest date _LOCAL matches (45), and a margin
_DATE_BACK = 256  # characters looked back for one that no date holds


def says_day_first(text: str) -> bool:
    """``day_first_in_order``, looking only around the separators of the
    dates that may write the day first: a day-first date's match starts two
    digits before such a separator, and whether the in-order walk has a
    match starting there is settled by walking from the last character
    before it that no date holds (a text mostly of dates walks it all)."""
    for sep in heapq.merge(*(pattern.finditer(text) for pattern in _DATE_SEPS), key=re.Match.start):
        at = sep.start()
        if int(text[at - 2 : at]) <= 12:
            continue  # no day first date has its separator here
        start = at - 2
        low = max(0, start - _DATE_BACK)
        back = _NOT_IN_DATE.search(text[low:start][::-1])
        if back is None and low > 0:
            return day_first_in_order(text)
        resume = low if back is None else start - back.start()
        for m in _LOCAL.finditer(text, resume, start + _DATE_LONGEST):
            if m.start() >= start:
                if m.start() == start and _day_first(m):
                    return True
                break
    return False


class LocalTimes:
    """How an export writes its dates, settled from its first megabyte:
    one "13/07/2018" there shows the whole file writes the day first
    (en-GB), where "7/13/2018" or only small numbers mean month first."""

    HEAD = 1 << 20

    __slots__ = ("_head", "_day_first")

    def __init__(self, head: str = "") -> None:
        # Settled on the first date that needs it (one with slashes, whose
        # order the head decides): an export whose dates are all UTC or
        # ISO (the XML, the friendly view, wevtutil's text) never scans
        # its megabyte of head for them.
        self._head = head
        self._day_first: bool | None = None

    @property
    def day_first(self) -> bool:
        if self._day_first is None:
            self._day_first = _settle(self._head)
            self._head = ""  # let go of the megabyte
        return self._day_first

    def iso(self, text: str | None) -> str | None:
        stamp = read_local(text)
        if stamp is None:
            return None
        return stamp.iso(self.day_first if stamp.day_first is None else stamp.day_first)


def _settle(head: str) -> bool:
    """Whether ``head`` writes the day first.  The reader and the
    interpreter of one export settle it from the same head: the last
    head's answer is kept."""
    if _SETTLED and _SETTLED[0][0] is head:
        return _SETTLED[0][1]
    day_first = False
    text = strip_marks(head[: LocalTimes.HEAD])
    if any(hint.search(text) for hint in _DAY_FIRST_HINTS):  # else no date in it can say so
        day_first = says_day_first(text)
    _SETTLED[:] = [(head, day_first)]
    return day_first


def lines_of(pieces: Iterable[str], limit: int, keep_end: bool = False) -> Iterator[str]:
    """Lines of text given in pieces, each cut to ``limit``; a run with no
    line break at all cannot grow past a few times the limit."""
    if not keep_end:
        for block in blocks_of(pieces, limit):
            yield from cut_lines(block, limit)
        return
    rest = ""
    for piece in pieces:
        rest += piece
        lines = rest.split("\n")
        rest = lines.pop()
        for line in lines:
            yield line[:limit] + "\n"
        if len(rest) > limit * 4:
            rest = rest[-limit:]
    if rest:
        yield rest[:limit]


def first_lines(text: str, count: int) -> list[str]:
    """``text.splitlines()[:count]``, splitting only the start that holds
    them: every line break ends a line, so the first ``count`` lines end at
    or before the ``count``-th one (other breaks only end lines sooner).
    That break is found by one match in C (a split at it made ``count``
    strings and a copy of the rest: a 64 KB head copied for its first 3 lines)."""
    nth = _NTH_BREAK.get(count)
    if nth is None:
        nth = _NTH_BREAK[count] = re.compile(f"(?:[^\\n]*+\\n){{{count}}}")
    m = nth.match(text)
    return (text if m is None else text[: m.end()]).splitlines()[:count]


# The start of a text to its count-th "\n", by count (first_lines is asked
# for a few counts only: the head's 3, 64 and 400 lines).
_NTH_BREAK: dict[int, re.Pattern[str]] = {}


def blocks_of(pieces: Iterable[str], limit: int) -> Iterator[str]:
    """The text given in pieces as blocks of whole lines (each block
    without its last line break; the last one what is left after the last
    break): the lines ``lines_of`` gives are those of the blocks, each cut
    by ``cut_lines``."""
    rest = ""
    for piece in pieces:
        rest += piece
        end = rest.rfind("\n")
        if end >= 0:
            yield rest[:end]
            rest = rest[end + 1 :]
        if len(rest) > limit * 4:
            rest = rest[-limit:]
    if rest:
        yield rest


def cut_lines(text: str, limit: int) -> list[str]:
    """``[line[:limit].rstrip("\r") for line in text.split("\n")]``, with
    no Python step per line where nothing needs cutting (a replace of CRLF
    before the split costs more than the strip, in a text of wide characters)."""
    rows = text.split("\n")
    if max(map(len, rows)) > limit:
        return [line[:limit].rstrip("\r") for line in rows]
    if "\r" in text:
        return [line.rstrip("\r") for line in rows]
    return rows


class RowWalk:
    """The lines of one block of text, each cut as ``cut_lines`` cuts it,
    taken one by one or jumped over to the next one a pattern finds.  A
    jump's pattern matches at the line break before a line (the first line
    is tried with one put before it): one scan in C from where the walk
    stands, so the lines between never become Python objects."""

    __slots__ = ("text", "at", "limit")

    def __init__(self, block: str, limit: int) -> None:
        self.text = block
        self.at = 0  # where the next line to take begins; past the end when all are taken
        self.limit = limit

    def take(self) -> str | None:
        text, at = self.text, self.at
        if at > len(text):
            return None
        end = text.find("\n", at)
        if end < 0:
            end = len(text)
        self.at = end + 1
        return text[at : min(end, at + self.limit)].rstrip("\r")

    def jump(self, pattern: re.Pattern[str]) -> None:
        """To the next line (this one included) that ``pattern`` finds, or past the last."""
        text, at = self.text, self.at
        if at > len(text):
            return
        if at == 0:
            first = text.find("\n")
            if _first_found(text, first, pattern):
                return
            if first < 0:
                self.at = len(text) + 1
                return
            at = first + 1
        m = pattern.search(text, at - 1)
        self.at = m.start() + 1 if m is not None else len(text) + 1


def _first_found(block: str, first: int, pattern: re.Pattern[str]) -> bool:
    """Whether ``pattern``, which matches at the line break before a line,
    finds the block's first line (ending at ``first``, -1: the block's end),
    tried with a break put before it."""
    return pattern.match("\n" + (block if first < 0 else block[:first])) is not None


def marked_lines(block: str, pattern: re.Pattern[str], limit: int) -> Iterator[tuple[int, int, str | None]]:
    """The lines of ``block`` that ``pattern`` finds as ``RowWalk.jump``
    finds them, by one finditer in C: for each, (where the lines passed over
    to reach it begin, where it begins, the line cut as ``cut_lines`` cuts
    it); last, (where the lines after the last one found begin,
    ``len(block) + 1``, None).  The lines passed over, where ``begin <
    start``, are those of ``block[begin : start - 1]``.  No match of
    ``pattern`` may hold a line break but its first character."""
    begin = 0
    first = block.find("\n")
    if _first_found(block, first, pattern):
        end = len(block) if first < 0 else first
        yield 0, 0, block[: min(end, limit)].rstrip("\r")
        begin = end + 1
    if first >= 0:
        for m in pattern.finditer(block, first):
            start = m.start() + 1
            end = block.find("\n", start)
            if end < 0:
                end = len(block)
            yield begin, start, block[start : min(end, start + limit)].rstrip("\r")
            begin = end + 1
    yield begin, len(block) + 1, None

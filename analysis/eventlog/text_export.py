"""Events as text: ``wevtutil qe System /f:text`` ("Event[0]:" blocks),
Event Viewer's General pane copied as text ("Log Name: / Source: / ...
Description:", with the "Event Xml:" that "Copy details as text" adds), its
Chinese ("日志名称: / 来源: / 事件 ID: / 级别: / 描述:") and German
("Protokollname: / Quelle: / Ereignis-ID:") forms, ``Get-WinEvent |
Format-List`` ("TimeCreated : ... / ProviderName : ... / Id : ... /
Message : ..."), and the Details tab's friendly view ("[ Name]  ...",
"EventID 41", "BugcheckCode 159").

Read line by line from a stream of text pieces; every line and every
message is bounded."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from analysis.eventlog.event import (
    MAX_FIELDS, MAX_MESSAGE, Event, LocalTimes, RowWalk, blocks_of, bounded, cut_lines, first_lines, level_of, marked_lines,
    set_field, utc_iso,
)
from analysis.eventlog.xml_export import clean_paste, read_xml
from analysis.inputs import Rejected
from analysis.reports.common import BLANKS, label_pattern

MAX_LINE = 8192
MAX_XML_LINES = 2000

# The labels of the General pane and wevtutil's text, by language, and
# Format-List's property names, each to the field it fills.
LABELS: dict[str, str] = {
    "log name": "log", "日志名称": "log", "protokollname": "log",
    "source": "source", "来源": "source", "quelle": "source",
    "date": "date", "日期": "date", "datum": "date",
    "event id": "id", "事件 id": "id", "事件id": "id", "ereignis-id": "id", "ereigniskennung": "id",
    "task category": "task", "task": "task", "任务类别": "task", "aufgabenkategorie": "task",
    "level": "level", "级别": "level", "ebene": "level",
    "opcode": "opcode", "操作代码": "opcode",
    "keywords": "keywords", "keyword": "keywords", "关键字": "keywords", "schlüsselwörter": "keywords",
    "user": "user", "user name": "user_name", "用户": "user", "用户名": "user_name", "benutzer": "user",
    "benutzername": "user_name",
    "computer": "computer", "计算机": "computer",
    "description": "message", "描述": "message", "beschreibung": "message",
    "event xml": "xml", "事件 xml": "xml", "ereignis-xml": "xml",
    # Windows XP/2003 Event Viewer's "Event Properties" copied to the
    # clipboard: "Event Type: / Event Source: / Event Category: / Event ID:
    # / Date: / Time: / User: / Computer: / Description:".
    "event type": "level", "event source": "source", "event category": "task", "time": "time",
    "事件类型": "level", "事件来源": "source", "事件类别": "task", "时间": "time",
}
FORMAT_LIST: dict[str, str] = {
    "timecreated": "date", "providername": "source", "id": "id", "message": "message",
    "leveldisplayname": "level", "machinename": "computer", "recordid": "record", "logname": "log",
    "level": "level_number", "version": "", "qualifiers": "", "task": "", "opcode": "", "keywords": "",
    "providerid": "", "processid": "", "threadid": "", "userid": "", "activityid": "",
    "relatedactivityid": "", "containerlog": "", "matchedqueryids": "", "bookmark": "",
    "opcodedisplayname": "", "taskdisplayname": "", "keywordsdisplaynames": "", "properties": "",
}


def _label(line: str) -> tuple[str, str, int] | None:
    """'  Log Name:      System' -> ('log name', 'System', indent)."""
    head = line[:60]
    colon = head.find(":")
    wide = head.find("：")
    if colon < 0 or 0 <= wide < colon:
        colon = wide
    if colon <= 0:
        return None
    label = head[:colon]
    indent = len(label) - len(label.lstrip())
    label = label.strip().lower()
    if not label or len(label) > 40:
        return None
    return label, line[colon + 1 :].strip(), indent


class _Record:
    __slots__ = ("fields", "message", "size", "xml", "mode")

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.message: list[str] = []
        self.size = 0  # characters in message (counted as it grows: summing them each line was quadratic)
        self.xml: list[str] = []
        self.mode = ""  # "", "message", "xml"


# A line that may be a label's (of either table), or wevtutil's "Event[0]:".
# Outside a description and an event's XML only these are read: every
# other line changes nothing there.
_TEXT_LINE = re.compile(label_pattern(set(LABELS) | set(FORMAT_LIST), also=f"[{BLANKS}]*+event\\[").pattern, re.I)


def read_text(pieces: Iterable[str], head: str) -> Iterator[Event]:
    """Events from any of the labelled text shapes.  ``head`` (the text's
    start) settles how its dates are written."""
    times = LocalTimes(head)
    format_list = _is_format_list(head)
    current: _Record | None = None
    seen: dict[str, tuple[str | None, str]] = {}  # what the label lines read so far say
    for block in blocks_of(pieces, MAX_LINE):
        # One scan in C finds the lines a label's test may take; the lines
        # it passes over change something only inside a description (kept)
        # or an event's XML (kept), and are cut only there.
        for begin, start, line in marked_lines(block, _TEXT_LINE, MAX_LINE):
            if begin < start and current is not None and current.mode:
                if current.mode == "message" and current.size < MAX_MESSAGE:
                    _keep(current, cut_lines(block[begin : start - 1], MAX_LINE), format_list)
                elif current.mode == "xml" and len(current.xml) < MAX_XML_LINES:
                    current.xml.extend(cut_lines(block[begin : start - 1], MAX_LINE)[: MAX_XML_LINES - len(current.xml)])
            if line is None:
                break
            said = seen.get(line)
            if said is None:
                said = _says(line, format_list)
                if len(line) <= _SEEN_LINE and len(seen) < _SEEN:
                    seen[line] = said
            key, value = said
            if key == _NEW_EVENT:
                if current:
                    yield from _finish(current, times)
                current = _Record()
                continue
            if current is not None and current.mode == "message" and key is not None and not format_list:
                # Inside a description only a new event's first label ends it
                # (messages hold "Service Name:" and the like).
                if key not in ("log", "xml") and not (key == "source" and current.fields.get("source")):
                    key = None
            if current is not None and current.mode == "xml" and key != "log":
                if len(current.xml) < MAX_XML_LINES:
                    current.xml.append(line)
                continue
            if key is None:
                if current is not None and current.mode == "message" and current.size < MAX_MESSAGE:
                    _keep(current, [line], format_list)
                continue
            if key == "":
                if current is not None:
                    current.mode = ""
                continue
            if current is None or key == "log" or key in current.fields or (key == "message" and current.message):
                if current:
                    yield from _finish(current, times)
                current = _Record()
            if key == "message":
                current.mode = "message"
                current.fields["message"] = ""
                if value:
                    current.message.append(value)
                    current.size += len(value)
            elif key == "xml":
                current.mode = "xml"
            else:
                current.mode = ""
                current.fields[key] = value
    if current:
        yield from _finish(current, times)


# An export repeats most of its label lines ("Log Name: System", "Level:
# Information", "User: SYSTEM"): what each short one says is read once per
# export, for as many lines as this.
_SEEN = 2048
_SEEN_LINE = 160
_NEW_EVENT = "Event[]"  # wevtutil's "Event[0]:", which begins an event


def _says(line: str, format_list: bool) -> tuple[str | None, str]:
    """What a line the labels' scan found says to read_text: (_NEW_EVENT,
    ""), or (the field its label fills, its value), the field None where
    the line fills none."""
    stripped = line.strip()
    if stripped.startswith("Event[") and stripped.endswith("]:"):
        return _NEW_EVENT, ""
    found = _label(line)
    if not found:
        return None, ""
    label, value, indent = found
    key = (FORMAT_LIST.get(label) if indent == 0 else None) if format_list else LABELS.get(label)
    # A field's value is bounded here, once per line read; a description's
    # first line is kept whole, as its other lines are.
    return key, (value if key == "message" else bounded(value, 512))


def _keep(rec: _Record, rows: list[str], format_list: bool) -> None:
    """A description's lines, each kept stripped (Format-List indents its
    wrapped lines) or without its trailing blanks, until the description
    holds ``MAX_MESSAGE`` characters: the row that reaches it is the last."""
    if rec.size + sum(map(len, rows)) < MAX_MESSAGE:
        # None can reach it (a kept row is no longer than its row): kept at once.
        rows = [row.strip() for row in rows] if format_list else [row.rstrip() for row in rows]
        rec.message.extend(rows)
        rec.size += sum(map(len, rows))
        return
    for row in rows:
        if rec.size >= MAX_MESSAGE:
            break
        kept = row.strip() if format_list else row.rstrip()
        rec.message.append(kept)
        rec.size += len(kept)


def looks_labelled(head: str) -> bool:
    """wevtutil's "Event[0]:", or a source label and an event id label
    among the first lines (the General pane, Format-List)."""
    if "Event[0]:" in head[:4096]:
        return True
    kinds = set()
    for line in _label_lines(first_lines(head[:65536], 400)):
        found = _label(line)
        if found:
            kinds.add(LABELS.get(found[0]) or (FORMAT_LIST.get(found[0]) if found[2] == 0 else None))
            if {"source", "id"} <= kinds:
                return True
    return False


def _is_format_list(head: str) -> bool:
    """Whether the first unindented label line is Format-List's.  That line
    is mostly among the first few: those are split first, the whole 64 KB
    only when they hold none."""
    head = head[:65536]
    first = first_lines(head, 64)
    said = _format_list_line(first)
    if said is None and len(first) == 64:
        said = _format_list_line(head.splitlines())
    return bool(said)


# The lines of _TEXT_LINE that start with no blank: wevtutil's text, where
# every label is indented, has none to read.
_UNINDENTED_LINE = re.compile(f"\\n(?![{BLANKS}])" + _TEXT_LINE.pattern.removeprefix("\n"), re.I)


def _format_list_line(lines: list[str]) -> bool | None:
    """Whether the first unindented label line of ``lines`` is
    Format-List's; None: they hold none."""
    for line in _label_lines(lines, _UNINDENTED_LINE):
        found = _label(line)
        if found and found[2] == 0:
            return found[0] in FORMAT_LIST and " :" in line[:40] and found[0] not in LABELS
    return None


def _label_lines(lines: list[str], pattern: re.Pattern[str] = _TEXT_LINE) -> Iterator[str]:
    """The lines a label's test may take (those ``pattern`` finds), found by
    one scan for the labels as they are asked for (the first that settles a
    test ends it)."""
    text = "\n".join(lines)  # no line of ``lines`` holds a break
    for _, _, line in marked_lines(text, pattern, len(text)):
        if line is None:
            return
        yield line


def _finish(rec: _Record, times: LocalTimes) -> Iterator[Event]:
    f = rec.fields
    xml_events: list[Event] = []
    if rec.xml:
        try:
            xml_events = list(read_xml([clean_paste("\n".join(rec.xml))]))
        except Rejected:
            xml_events = []
    try:
        event_id = int((f.get("id") or "").split()[0]) if f.get("id") else None
    except ValueError:
        event_id = None
    message = "\n".join(rec.message).strip() or None
    if xml_events:
        event = xml_events[0]
        if message and not event.message:
            event.message = bounded(message, MAX_MESSAGE)
        event.level = event.level or level_of(f.get("level"))
        event.channel = event.channel or f.get("log") or None
        event.computer = event.computer or f.get("computer") or None
        yield event
        return
    if event_id is None:
        return
    level = level_of(f.get("level")) or level_of(f.get("level_number"))
    record = f.get("record")
    stamp = f.get("date")
    if stamp and f.get("time") and ":" not in stamp:
        stamp = f"{stamp} {f['time']}"  # XP prints the date and the time on two lines
    yield Event(
        provider=f.get("source") or "",
        event_id=event_id,
        record_id=int(record) if record and record.isdigit() else None,
        time=(utc_iso(stamp) if stamp and stamp.endswith("Z") else times.iso(stamp)),
        computer=f.get("computer") or None,
        level=level,
        channel=f.get("log") or None,
        message=bounded(message, MAX_MESSAGE) if message else None,
    )


# --- the Details tab's friendly view -------------------------------------

def looks_friendly(head: str) -> bool:
    """The Details tab's friendly view, or the "EventData / BugcheckCode 159"
    block Microsoft's own articles quote from it."""
    return ("[ SystemTime]" in head or ("[ Name]" in head and "EventID" in head)
            or ("BugcheckCode " in head and ("Event ID" in head or "EventID" in head)))


# Where a word that must stand alone as a line's first word ends: at a
# space, or at blanks to the line's end, or where its line is cut (at
# MAX_LINE) inside it or the blanks after it.  That last test looks back
# for a line break; a look back as far as MAX_LINE may run through a long
# line before a short one, for each short line after it, so it is made
# in steps eight times as far as the one before, each tried only once
# the last found no break: a step costs at most eight times the line read
# so far, and the cost stays linear in the text.
_CUT = "".join(f"(?<=[^\\n]{{{far}}})" for far in (64, 512, 4096, MAX_LINE))
_WORD_END = f"(?:[ ]|[{BLANKS}]*+(?:(?![^\\n])|{_CUT}))"

# Where a line of the friendly view may say something, after its blanks and
# tree marks: a section's name, "[ Name]", or the System fields it reads
# (a "Computer:" or "Level:" of some other text there is walked over).
# "[" and "Event" (EventID, "Event ID:", EventData) lead a line; the others
# are its whole text or its first word.
_FRIENDLY_ALONE = ("System", "UserData", "Computer", "Channel", "Level")
_FRIENDLY_LINE = re.compile(f"\\n[{BLANKS}\\-+]*+(?:\\[|Event|(?:" + "|".join(_FRIENDLY_ALONE) + f"){_WORD_END})")

# The lines of an event's data that may say something while it has room
# for more fields: a "[ Name]" line, or one whose first word (after its
# blanks and tree marks) may be an identifier (ASCII letters, digits and
# "_", and any other character).  Blank lines, rules, numbers, "Value: 1"
# and the like are walked over.
_NAME_RUN = "[A-Za-z_\\x80-\\U0010ffff][0-9A-Za-z_\\x80-\\U0010ffff]*+"
_FRIENDLY_DATA = re.compile(f"\\n[{BLANKS}\\-+]*+(?:\\[|{_NAME_RUN}{_WORD_END})")


@lru_cache(maxsize=64)
def _friendly_fields(names: tuple[str, ...]) -> re.Pattern[str]:
    """The lines that may say something once an event's data has all the
    fields it may hold: those above, and those whose first word names one
    of them again.  The words are tried longest first, and the first that
    fits is the only one (an atomic group): a shorter one is the start of
    it, followed by a character of a name, where no word can end unless
    the longer one could, at the cut.  Tried in turn, 64 names sharing
    their start each looked back for the cut on every line that starts
    like them (0.16 s a MB)."""
    words = sorted(set(_FRIENDLY_ALONE) | set(names), key=len, reverse=True)
    return re.compile(f"\\n[{BLANKS}\\-+]*+(?:\\[|Event|(?>" + "|".join(map(re.escape, words)) + f"){_WORD_END})")


def read_friendly(pieces: Iterable[str]) -> Iterator[Event]:
    """'- System / - Provider / [ Name]  X / EventID 41 / ... - EventData /
    BugcheckCode 159': one event per "- System" section."""
    event: Event | None = None
    section = ""
    for block in blocks_of(pieces, MAX_LINE):
        walk = RowWalk(block, MAX_LINE)
        while True:
            if event is None or section != "EventData":
                walk.jump(_FRIENDLY_LINE)
            elif len(event.data) >= MAX_FIELDS:
                walk.jump(_friendly_fields(tuple(event.data)))
            else:
                walk.jump(_FRIENDLY_DATA)
            taken = walk.take()
            if taken is None:
                break
            text = taken.strip().lstrip("-+ ").strip()
            if not text:
                continue
            if text == "System" or (text.startswith(("Event ID:", "Event ID ")) and (event is None or event.event_id >= 0)):
                if event and event.event_id >= 0:
                    yield _kernel_power(event)
                event = Event(provider="", event_id=-1)
                section = "System"
                if text == "System":
                    continue
                text = "EventID " + text[9:].strip()
            if event is None:
                continue
            if text in ("EventData", "UserData"):
                section = "EventData"
                continue
            if text.startswith("["):
                name, _, value = text[1:].partition("]")
                name, value = name.strip(), value.strip()
                if name == "Name" and not event.provider:
                    event.provider = bounded(value, 256)
                elif name == "SystemTime":
                    event.time = utc_iso(value)
                continue
            name, _, value = text.partition(" ")
            value = value.strip()
            if section == "EventData":
                if name.isidentifier():
                    set_field(event.data, name, value)
            elif name == "EventID" and value.split()[:1] and value.split()[0].isdigit():
                event.event_id = int(value.split()[0])
            elif name == "EventRecordID" and value.isdigit():
                event.record_id = int(value)
            elif name == "Computer":
                event.computer = bounded(value, 256) or None
            elif name == "Channel":
                event.channel = bounded(value, 256) or None
            elif name == "Level":
                event.level = level_of(value)
    if event and event.event_id >= 0:
        yield _kernel_power(event)


def _kernel_power(event: Event) -> Event:
    # A quoted EventData block without its provider: BugcheckCode and
    # BugcheckParameter1-4 are Kernel-Power 41's own field names.
    if not event.provider and event.event_id == 41 and "BugcheckCode" in event.data:
        event.provider = "Microsoft-Windows-Kernel-Power"
    return event

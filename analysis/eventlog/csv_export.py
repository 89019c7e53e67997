"""CSV exports of event logs: Event Viewer's "Save All Events As... CSV"
(Level, Date and Time, Source, Event ID, Task Category, then the message
in a sixth, unnamed column; its header is localised) and PowerShell's
``Get-WinEvent | Export-Csv`` (an optional "#TYPE ..." line, then the
EventLogRecord's property names: Message, Id, ..., ProviderName, ...,
MachineName, ..., TimeCreated, ...; or whatever Select-Object kept)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

from analysis.eventlog.event import first_lines, lines_of, MAX_MESSAGE, Event, LocalTimes, bounded, level_of, utc_iso
from analysis.inputs import Rejected

# Column titles, by what they hold.  Event Viewer's in English, Chinese
# and German; PowerShell's are the same in every language.
COLUMNS: dict[str, str] = {
    "level": "level", "级别": "level", "ebene": "level", "leveldisplayname": "level",
    "date and time": "date", "日期和时间": "date", "datum und uhrzeit": "date", "timecreated": "date",
    "source": "source", "来源": "source", "quelle": "source", "providername": "source",
    "event id": "id", "事件 id": "id", "事件id": "id", "ereignis-id": "id", "id": "id", "eventid": "id",
    "task category": "task", "任务类别": "task", "aufgabenkategorie": "task", "taskdisplayname": "task",
    "message": "message", "description": "message", "描述": "message", "beschreibung": "message",
    "machinename": "computer", "computer": "computer", "计算机": "computer",
    "recordid": "record", "logname": "log", "log name": "log", "日志名称": "log", "protokollname": "log",
}
MAX_ROW = 64


class WrongColumns(Rejected):
    def __init__(self, columns: list[str]):
        self.columns = [bounded(c, 40) for c in columns[:12]]
        super().__init__(
            "a CSV file, but not an event log export: its columns are "
            + ", ".join(self.columns or ["(none)"])
            + "; expected Event Viewer's (Level, Date and Time, Source, Event ID, Task Category) "
            "or PowerShell's (TimeCreated, ProviderName, Id, Message)",
            "csv_columns", columns=", ".join(self.columns))


def header_columns(line: str) -> list[str] | None:
    try:
        row = next(csv.reader([line]))
    except (csv.Error, StopIteration):
        return None
    return [c.strip().strip("\ufeff").strip() for c in row]


# Titles only an event log export has: a CSV with one of them is taken as
# one (and refused with its columns named when the rest are missing).
_OWN_TITLES = frozenset({"event id", "事件 id", "事件id", "ereignis-id", "eventid", "providername", "timecreated",
                         "leveldisplayname"})


def looks_like_event_csv(head: str) -> bool:
    header = _header_line(head)
    columns = header_columns(header) if header is not None else None
    if not columns or len(columns) < 2:
        return False
    return any(c.lower() in _OWN_TITLES for c in columns)


def _header_line(head: str) -> str | None:
    for line in first_lines(head, 3):
        if line.startswith("#TYPE") or not line.strip():
            continue
        return line
    return None


def read_csv(pieces: Iterable[str], head: str) -> Iterator[Event]:
    times = LocalTimes(head)
    reader = csv.reader(lines_of(pieces, MAX_MESSAGE, keep_end=True))
    header: list[str] | None = None
    index: dict[str, int] = {}
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise Rejected(f"the CSV breaks off ({exc})", "csv_broken") from None
        if header is None:
            if not row or (row[0].startswith("#TYPE") and len(row) == 1):
                continue
            header = [c.strip().strip("\ufeff").strip().lower() for c in row[:MAX_ROW]]
            index = {COLUMNS[c]: i for i, c in reversed(list(enumerate(header))) if c in COLUMNS}
            if "id" not in index or not index.keys() & {"source", "message"}:
                raise WrongColumns([c for c in row[:MAX_ROW]])
            if "message" not in index and "task" in index:
                # Event Viewer writes the message in an unnamed column after
                # Task Category.
                index["message"] = index["task"] + 1
            continue
        yield from _event(row[:MAX_ROW], index, times)


def _event(row: list[str], index: dict[str, int], times: LocalTimes) -> Iterator[Event]:
    def cell(name: str) -> str:
        i = index.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    try:
        event_id = int(cell("id").split()[0])
    except (ValueError, IndexError):
        return
    stamp = cell("date")
    record = cell("record")
    message = cell("message")
    yield Event(
        provider=bounded(cell("source"), 256),
        event_id=event_id,
        record_id=int(record) if record.isdigit() else None,
        time=utc_iso(stamp) if stamp.endswith("Z") else times.iso(stamp),
        computer=bounded(cell("computer"), 256) or None,
        level=level_of(cell("level")),
        channel=bounded(cell("log"), 256) or None,
        message=bounded(message, MAX_MESSAGE) or None,
    )

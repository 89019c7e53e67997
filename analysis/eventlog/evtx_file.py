"""Binary .evtx files, through the ``evtx`` package (Rust): it reads
every chunk present, including the ones a log that was not closed cleanly
holds beyond its header's count, and streams them in bounded memory.

Most records of a System log are of no interest to a crash case (service
state changes, time sync, DCOM).  Each record arrives as a JSON string; its
provider, event id, computer and time are found in that string with plain
``str.find`` and only the records the caller wants are decoded in full.
That keeps the reader near the package's own pace (bench/bench_evtx.py)."""

from __future__ import annotations

import io
import json
import mmap
from collections.abc import Iterator
from dataclasses import dataclass, field

from analysis.eventlog.event import MAX_FIELDS, MAX_VALUE, Event, level_of, provider_key, set_field, utc_iso

MAGIC = b"ElfFile\x00"
CHUNK_MAGIC = b"ElfChnk\x00"
HEADER_SIZE = 4096
CHUNK_SIZE = 65536

# event id -> the provider keys wanted with it (None: any provider)
Wanted = dict[int, "frozenset[str] | None"]


@dataclass
class Span:
    """What every record says, wanted or not: how many, and the earliest
    and latest time (kept as the package prints them, which sort as text)."""

    records: int = 0
    first_raw: str | None = None
    last_raw: str | None = None
    notes: list[str] = field(default_factory=list)  # unreadable_chunk, truncated, ...

    @property
    def first(self) -> str | None:
        return utc_iso(self.first_raw)

    @property
    def last(self) -> str | None:
        return utc_iso(self.last_raw)


class _View(io.RawIOBase):
    """A read-only file over bytes or a mapped file, optionally presenting
    only the header and a run of chunks (to step over a broken chunk)."""

    RELEASE = 8 << 20  # give back the mapped pages read, every 8 MiB

    def __init__(self, data, parts: list[tuple[int, int]] | None = None):
        self._data = data
        self._parts = parts or [(0, len(data))]
        self._size = sum(n for _, n in self._parts)
        self._pos = 0
        self._released = 0
        self._mapped = isinstance(data, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED") and parts is None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._size}[whence]
        self._pos = max(0, min(self._size, base + offset))
        return self._pos

    def readinto(self, buffer) -> int:
        want = len(buffer)
        done = 0
        at = 0
        for start, length in self._parts:
            if done >= want:
                break
            if self._pos < at + length:
                inner = self._pos - at
                take = min(length - inner, want - done)
                buffer[done : done + take] = self._data[start + inner : start + inner + take]
                done += take
                self._pos += take
            at += length
        if self._mapped and self._pos - self._released >= self.RELEASE:
            # A file of hundreds of MB read front to back must not stay
            # resident: the pages behind the reader are dropped.
            end = self._pos - self._pos % mmap.PAGESIZE
            try:
                self._data.madvise(mmap.MADV_DONTNEED, self._released, end - self._released)
            except (OSError, ValueError):
                pass
            self._released = end
        return done


def _event_id(text: str) -> int | None:
    """"EventID":6006, or "EventID":{"#attributes":{"Qualifiers":32768},"#text":6009}"""
    at = text.find('"EventID":')
    if at < 0:
        return None
    at += 10
    if text.startswith("{", at):
        at = text.find('"#text":', at)
        if at < 0:
            return None
        at += 8
        end = text.find("}", at)
    else:
        end = text.find(",", at)
    try:
        return int(text[at:end])
    except ValueError:
        return None


def _provider(text: str) -> str:
    at = text.find('"Provider":{"#attributes":{"Name":"')
    if at < 0:
        return ""
    at += 35
    return text[at : text.find('"', at)]


def read_evtx(data: bytes | mmap.mmap | memoryview, wanted: Wanted | None = None,
              span: Span | None = None) -> Iterator[Event]:
    """The events of an .evtx file; with ``wanted``, only those it accepts
    are decoded (every record still counts in ``span``)."""
    import evtx

    span = span if span is not None else Span()
    body = len(data) - HEADER_SIZE
    if body % CHUNK_SIZE:
        span.notes.append("truncated")  # the file ends inside a chunk; the chunk's records are lost
    done = 0
    try:
        for record in evtx.PyEvtxParser(_View(data)).records_json():
            done += 1
            event = _record(record, wanted, span)
            if event is not None:
                yield event
    except RuntimeError:
        # A broken chunk stops the package's iteration.  Read the file again
        # chunk by chunk, skip what was already given, and step over the
        # chunks that do not parse.
        yield from _by_chunk(data, wanted, span, done)


def _by_chunk(data, wanted: Wanted | None, span: Span, skip: int) -> Iterator[Event]:
    import evtx

    count = (len(data) - HEADER_SIZE) // CHUNK_SIZE
    for i in range(count):
        start = HEADER_SIZE + i * CHUNK_SIZE
        if bytes(data[start : start + 8]) != CHUNK_MAGIC:
            continue  # an unused chunk (zeros) is no loss
        view = _View(data, [(0, HEADER_SIZE), (start, CHUNK_SIZE)])
        records = []
        try:
            for record in evtx.PyEvtxParser(view).records_json():
                records.append(record)
        except RuntimeError:
            span.notes.append("unreadable_chunk")
        for record in records:
            if skip:
                skip -= 1
                continue
            event = _record(record, wanted, span)
            if event is not None:
                yield event


def _record(record, wanted: Wanted | None, span: Span) -> Event | None:
    # The hot path: run for every record of a log of millions.  The id is
    # looked at first; the provider only for the ids that are wanted.
    span.records += 1
    stamp = record["timestamp"]
    if stamp:
        if span.first_raw is None or stamp < span.first_raw:
            span.first_raw = stamp
        if span.last_raw is None or stamp > span.last_raw:
            span.last_raw = stamp
    text = record["data"]
    event_id = _event_id(text)
    if event_id is None or (wanted is not None and event_id not in wanted):
        return None
    provider = _provider(text)
    if wanted is not None:
        providers = wanted[event_id]
        if providers is not None and provider_key(provider) not in providers:
            return None
    return _decode(text, provider, event_id, stamp or "")


def _after(text: str, marker: str, stop: str) -> str | None:
    at = text.find(marker)
    if at < 0:
        return None
    at += len(marker)
    return text[at : text.find(stop, at)]


def _decode(text: str, provider: str, event_id: int, stamp: str) -> Event | None:
    """A wanted record: its System fields found in place (they hold no
    escapes worth decoding), and only its EventData -- the record's last
    member -- parsed as JSON."""
    record = _after(text, '"EventRecordID":', ",")
    level = _after(text, '"Level":', ",")
    computer = _after(text, '"Computer":"', '"')
    channel = _after(text, '"Channel":"', '"')
    event = Event(
        provider=provider,
        event_id=event_id,
        record_id=int(record) if record and record.isdigit() else None,
        time=utc_iso(_after(text, '"SystemTime":"', '"') or stamp),
        computer=computer or None,
        level=level_of(int(level)) if level and level.isdigit() else None,
        channel=channel or None,
    )
    for member in ('"EventData":', '"UserData":'):
        at = text.find(member)
        if at < 0:
            continue
        try:
            section = json.loads(text[at + len(member) : len(text) - 2])
        except ValueError:
            try:
                root = json.loads(text)
            except ValueError:
                return event
            return event_from_json(root, provider, event_id, stamp)
        _fill_data(event.data, section)
        break
    return event


def event_from_json(root: dict, provider: str, event_id: int, stamp: str = "") -> Event:
    node = root.get("Event") or {}
    system = node.get("System") or {}
    created = (system.get("TimeCreated") or {}).get("#attributes") or {}
    event = Event(
        provider=provider,
        event_id=event_id,
        record_id=_int(system.get("EventRecordID")),
        time=utc_iso(created.get("SystemTime") or stamp),
        computer=_text(system.get("Computer")) or None,
        level=level_of(_int(system.get("Level"))),
        channel=_text(system.get("Channel")) or None,
    )
    _fill_data(event.data, node.get("EventData"))
    _fill_data(event.data, node.get("UserData"))
    return event


def _fill_data(data: dict[str, str], section) -> None:
    """EventData as the package writes it: named fields as keys; unnamed
    <Data> as {"Data": {"#text": [...]}} (or one string)."""
    if not isinstance(section, dict):
        return
    for name, value in section.items():
        if len(data) >= MAX_FIELDS:
            return
        if type(value) is str:
            data[name[:128]] = value if len(value) <= MAX_VALUE else value[:MAX_VALUE]
        elif name == "Data" and isinstance(value, dict) and "#text" in value:
            items = value["#text"]
            for i, item in enumerate(items if isinstance(items, list) else [items], 1):
                set_field(data, f"param{i}", _text(item))
        elif name in ("Binary", "#attributes"):
            continue
        elif isinstance(value, dict):
            # UserData wraps its fields in one element named after the event.
            _fill_data(data, value)
        else:
            set_field(data, name, _text(value))


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return _text(value.get("#text"))
    return str(value)


def _int(value) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None

"""Windows event logs as evidence: .evtx files and every export people
make of them, read into one Event type (event.py), interpreted per machine
(interpret.py) into a ``Reading``: the blue screens the log records, and a
``MachineLog`` of what happened around them.

    shape = sniff(blob.head(65536))     # None: not an event log
    reading = read_event_log(blob)      # raises Rejected with a code"""

from __future__ import annotations

import codecs
import itertools
from collections.abc import Iterator
from enum import StrEnum

from analysis.eventlog.event import LocalTimes
from analysis.eventlog.interpret import WANTED, Interpreter, changes_before
from analysis.eventlog.machine import MachineLog
from analysis.findings import Reading
from analysis.inputs import Rejected

__all__ = ["Shape", "sniff", "read_event_log", "MachineLog", "changes_before"]

PIECE = LocalTimes.HEAD  # the first piece is the head the dates are settled from


class Shape(StrEnum):
    EVTX = "evtx"
    XML = "xml"  # Save Selected Events, wevtutil /f:xml, a pasted or escaped <Event>
    TEXT = "text"  # wevtutil /f:text, the General pane copied, Format-List
    FRIENDLY = "friendly"  # the Details tab's friendly view
    CSV = "csv"


_XML_NS = "schemas.microsoft.com/win/2004/08/events/event"


def _encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    sample = head[:4096]
    if len(sample) >= 4 and sample[1::2].count(0) > len(sample) // 4:
        return "utf-16-le"
    if len(sample) >= 4 and sample[0::2].count(0) > len(sample) // 4:
        return "utf-16-be"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3:
            return "utf-8"  # a character cut by the sample's end
    # Exports redirected on a Chinese Windows are in its ANSI code page;
    # a German one writes cp1252, which shows in its own labels.
    latin = sample.decode("cp1252", "replace")
    if any(w in latin for w in ("Protokollname", "Ereignis-ID", "Quelle", "Beschreibung")):
        return "cp1252"
    return "gb18030"


def _head_text(head: bytes) -> str:
    return codecs.getincrementaldecoder(_encoding(head))(errors="replace").decode(head, final=False)


def sniff_text(text: str) -> Shape | None:
    """Which export shape a text is, judged on its start (cheap: a few
    finds and at most a few hundred short lines)."""
    from analysis.eventlog import csv_export, text_export, xml_export

    start = text.lstrip("\ufeff \t\r\n")
    if start.startswith(("<?xml", "<Events", "<Event ", "<Event>")) and ("<Event" in start[:4096]):
        return Shape.XML
    if xml_export.looks_escaped(text) and "EventID" in text:
        return Shape.XML
    if csv_export.looks_like_event_csv(start):
        return Shape.CSV
    if text_export.looks_friendly(text):
        return Shape.FRIENDLY
    if text_export.looks_labelled(start):
        return Shape.TEXT
    if "<Event xmlns" in text and _XML_NS in text:
        return Shape.XML  # an <Event> pasted inside other text
    return None


def sniff(head: bytes) -> Shape | None:
    if head.startswith(b"ElfFile\x00"):
        return Shape.EVTX
    return sniff_text(_head_text(head[:65536]))


def _pieces(blob) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder(_encoding(blob.head(4096)))(errors="replace")
    for chunk in blob.chunks(PIECE):
        yield decoder.decode(chunk)
    yield decoder.decode(b"", final=True)


def read_event_log(blob, shape: Shape | None = None) -> Reading:
    """One event log or export -> its Reading.  ``blob`` is an
    analysis.intake.Blob (name, data, head(), chunks())."""
    from analysis.eventlog import csv_export, evtx_file, text_export, xml_export

    shape = shape or sniff(blob.head(65536))
    if shape is None:
        raise Rejected("not a Windows event log or an export of one", "eventlog_unknown")
    if shape is Shape.EVTX:
        span = evtx_file.Span()
        interpreter = Interpreter(blob.name)
        try:
            interpreter.feed(evtx_file.read_evtx(blob.data, WANTED, span))
        except (RuntimeError, OSError, ValueError) as exc:
            raise Rejected(f"an .evtx file, but unreadable ({str(exc)[:200]})", "evtx_unreadable") from None
        if span.records == 0:
            raise Rejected("an .evtx file with no readable records (empty, or its chunks are damaged)",
                           "evtx_empty")
        return interpreter.reading(span.records, span.first, span.last, span.notes)
    # The first piece is the head (the first megabyte, decoded as
    # _head_text decodes it): decoded once, for both.
    pieces = _pieces(blob)
    head = next(pieces)
    pieces = itertools.chain([head], pieces)
    interpreter = Interpreter(blob.name, LocalTimes(head))
    if shape is Shape.XML:
        if not head.lstrip("\ufeff \t\r\n").startswith("<"):
            # A paste: the <Event> elements are cut out of the text around them.
            text = "".join(pieces)
            pieces = iter([xml_export.clean_paste(text)])
        events = xml_export.read_xml(pieces)
    elif shape is Shape.CSV:
        events = csv_export.read_csv(pieces, head)
    elif shape is Shape.FRIENDLY:
        events = text_export.read_friendly(pieces)
    else:
        events = text_export.read_text(pieces, head)
    try:
        interpreter.feed(events)
    except Rejected as exc:
        if interpreter.seen == 0:
            raise
        interpreter.notes.append("cut_short")
        interpreter.cut_reason = str(exc)
    if interpreter.seen == 0:
        raise Rejected("looks like an event log export, but no event could be read from it", "eventlog_no_events")
    return interpreter.reading()

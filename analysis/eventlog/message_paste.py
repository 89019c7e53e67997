"""An event's message pasted without its event: what most people copy out
of Event Viewer into a ticket.

  - BugCheck 1001's sentence ("The computer has rebooted from a bugcheck.
    The bugcheck was: 0x0000003b (...). A dump was saved in: ..."), its
    Chinese and German forms, and the "Insertion strings: 0x... (...)" that
    older viewers print instead;
  - the same bug check retold in a sentence that says where it came from
    ("the event viewer tells me the stop code was 0x000000d1 (...)");
  - Windows Error Reporting's report of a blue screen: the Application
    log's WER 1001 message, the Windows 7 recovery dialog's details, and
    Reliability Monitor's (en/zh/de/it labels).

Each message becomes the Event it was cut from and goes through the same
Interpreter as an exported log, so a pasted sentence and a saved .evtx say
the same thing.  The text is bounded; every search is a literal find or a
linear pattern over a bounded window."""

from __future__ import annotations

from analysis.eventlog import messages as msg
from analysis.eventlog.event import Event, bounded
from analysis.eventlog.interpret import Interpreter
from analysis.findings import Reading
from analysis.marks import Marks

MAX_TEXT = 1 << 20  # a paste longer than this is not a message copied by hand
MAX_MESSAGES = 200
WINDOW = 1200  # characters of one message read after its first words

# The first words of BugCheck 1001's message, by language, and the
# classic viewers' "Insertion strings:" line.
_BUGCHECK_MARKS = (
    "rebooted from a bugcheck", "rebooted from a bug check", "检测错误后重新启动", "從錯誤檢查重新開機",
    "nach einem schwerwiegenden Fehler neu gestartet", "Insertion strings:", "Insertion Strings:",
)
# Where a retold bug check says it came from.
_LOG_WORDS = ("event viewer", "event log", "eventlog", "Event Viewer", "Event viewer", "Event Log", "事件查看器",
              "事件日志", "系统日志", "Ereignisanzeige", "Ereignisprotokoll")
_WER_NAME = "BlueScreen"
_WER_FIELDS = ("P1:", "P1 :", "BCCode", "Parameter 1", "参数 1", "P1：")
_BUCKET_WORDS = ("bucket", "Bucket", "存储段")
# Searched first in any case (see Marks), in the whole text, the marks then in its head.
_BUGCHECK_GATE = Marks(_BUGCHECK_MARKS, also=("rebooted from a bug",))
_WER_GATE = Marks((_WER_NAME,))
_LOG_GATE = Marks(_LOG_WORDS)


def looks_like_message(text: str) -> bool:
    head = text[:MAX_TEXT]
    if _BUGCHECK_GATE.found(text, head):
        return True
    if _WER_GATE.found(text, head) and any(f in head for f in _WER_FIELDS):
        return True
    return "0x" in head and "(" in head and _LOG_GATE.found(text, head)


def read_message_paste(text: str, source: str) -> Reading | None:
    """The crashes the pasted messages record, with the MachineLog they
    make; None when the text holds no such message."""
    if not looks_like_message(text):
        return None
    text = text[:MAX_TEXT]
    events = _bugcheck_events(text) + _wer_events(text)
    if not events:
        events = _retold_events(text)
    if not events:
        return None
    interpreter = Interpreter(source)
    interpreter.feed(events[:MAX_MESSAGES])
    reading = interpreter.reading()
    return reading if reading.crashes else None


def _bugcheck_events(text: str) -> list[Event]:
    events: list[Event] = []
    tries = 0  # marks without a bug check after them cost a look each: bounded too
    there = set(_BUGCHECK_GATE.present(text))  # (the gate's scans already made: a mark not there costs none)
    for mark in _BUGCHECK_MARKS:
        if mark not in there:
            continue
        at = text.find(mark)
        while at >= 0 and len(events) < MAX_MESSAGES and tries < MAX_MESSAGES * 4:
            tries += 1
            chunk = text[at : at + WINDOW]
            if msg.has_bugcheck(chunk):
                events.append(Event(provider="BugCheck", event_id=1001, message=bounded(chunk, WINDOW)))
            at = text.find(mark, at + len(mark))
    return events


def _retold_events(text: str) -> list[Event]:
    """"The event viewer tells me that the bluescreen stop code were
    `0x000000d1 (0x5f, 0x2, 0x1, 0xfffff809849011a7)`": a bug check with
    its four parameters, written near the words for the log it came from."""
    found = msg.bugcheck_message(text)
    if found is None:
        return []
    at = text[:8192].lower().find("0x%08x" % found.code)
    before = text[max(0, at - 300) : at] if at >= 0 else ""
    if not any(w in before for w in _LOG_WORDS):
        return []
    return [Event(provider="BugCheck", event_id=1001, message=bounded(text[at : at + WINDOW], WINDOW))]


def _wer_events(text: str) -> list[Event]:
    """One WER report per "BlueScreen" event name, from the bucket line
    just above it (a WER message puts it first) to the next report."""
    starts: list[int] = []
    at = text.find(_WER_NAME)
    while at >= 0 and len(starts) < MAX_MESSAGES:
        line_start = text.rfind("\n", 0, at) + 1
        if ":" in text[line_start:at] or "：" in text[line_start:at] or "\t" in text[line_start:at]:
            starts.append(_block_start(text, line_start))
        at = text.find(_WER_NAME, at + len(_WER_NAME))
    events = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        chunk = text[start : min(end, start + 8000)]
        report = msg.wer_message(chunk)
        if report.name and report.name.lower() == "bluescreen" and report.params.get(1):
            events.append(Event(provider="Windows Error Reporting", event_id=1001, message=bounded(chunk, 8000)))
    return events


def _block_start(text: str, line_start: int) -> int:
    """The report begins at its bucket line when that is one of the two
    lines above the event name."""
    start = line_start
    for _ in range(2):
        if start <= 0:
            break
        previous = text.rfind("\n", 0, start - 1) + 1
        if any(w in text[previous:start] for w in _BUCKET_WORDS):
            return previous
        start = previous
    return line_start

"""Event XML as people send it: Event Viewer's "Save Selected Events" as
XML (an <Events> root), ``wevtutil qe System /f:xml`` (one <Event> after
another, no root), the Details tab's XML view pasted into a ticket, and the
same text HTML-escaped by a web form ("&lt;Event xmlns=...&gt;", with the
"- " of Internet Explorer's collapsible tree before each element).

Parsed with expat, streaming, with no DTD at all: a DOCTYPE, an entity
declaration or an external entity stops the parse (no billion laughs, no
XXE: nothing is ever expanded or fetched)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from xml.parsers import expat

from analysis.eventlog.event import MAX_MESSAGE, Event, bounded, level_of, set_field, utc_iso
from analysis.entities import unescape
from analysis.inputs import Rejected

MAX_DEPTH = 64
MAX_ESCAPED = 32 * 1024 * 1024  # an HTML-escaped paste is unescaped whole; more is not a paste


class UnsafeXml(Rejected):
    """A DTD or an entity in an event export: refused, never expanded."""


def _refuse(*_args: object) -> int:
    raise UnsafeXml("the XML declares a DTD or entities, which event exports never do; refused unread",
                    "xml_unsafe")


class _Builder:
    """Expat callbacks that assemble Events as their </Event> arrives."""

    def __init__(self) -> None:
        self.done: list[Event] = []
        self.path: list[str] = []
        self.text: list[str] = []
        self.text_len = 0
        self.current: dict | None = None
        self.data_name: str | None = None
        self.unnamed = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rsplit("}", 1)[-1].rsplit(" ", 1)[-1]
        if len(self.path) >= MAX_DEPTH:
            raise Rejected("the XML nests deeper than any event export", "xml_malformed", line=0)
        self.path.append(local)
        self.text.clear()
        self.text_len = 0
        if local == "Event":
            self.current = {"data": {}, "provider": "", "id": None}
            self.unnamed = 0
            return
        cur = self.current
        if cur is None:
            return
        if local == "Provider" and self.path[-2:-1] == ["System"]:
            cur["provider"] = attrs.get("Name") or attrs.get("EventSourceName") or ""
        elif local == "TimeCreated":
            cur["time"] = attrs.get("SystemTime")
        elif local == "Data":
            self.data_name = attrs.get("Name")

    def chars(self, data: str) -> None:
        if self.current is not None and self.text_len < MAX_MESSAGE:
            self.text.append(data)
            self.text_len += len(data)

    def end(self, name: str) -> None:
        local = self.path.pop() if self.path else ""
        cur = self.current
        if cur is None:
            return
        value = "".join(self.text).strip()
        self.text.clear()
        self.text_len = 0
        parent = self.path[-1] if self.path else ""
        if local == "Event":
            self._finish(cur)
            self.current = None
        elif parent == "System":
            if local == "EventID":
                cur["id"] = value
            elif local in ("EventRecordID", "Computer", "Channel", "Level"):
                cur[local] = value
        elif local == "Data" and "EventData" in self.path:
            name_ = self.data_name
            if not name_:
                self.unnamed += 1
                name_ = f"param{self.unnamed}"
            set_field(cur["data"], name_, value)
            self.data_name = None
        elif local == "Message" and parent == "RenderingInfo":
            cur["message"] = bounded(value, MAX_MESSAGE)
        elif "UserData" in self.path and value and len(self.path) >= 3:
            set_field(cur["data"], local, value)

    def _finish(self, cur: dict) -> None:
        try:
            event_id = int(cur.get("id") or "")
        except ValueError:
            return
        record = cur.get("EventRecordID")
        self.done.append(Event(
            provider=bounded(cur["provider"], 256),
            event_id=event_id,
            record_id=int(record) if record and record.isdigit() else None,
            time=utc_iso(cur.get("time")),
            computer=bounded(cur.get("Computer"), 256) or None,
            level=level_of(cur.get("Level")),
            channel=bounded(cur.get("Channel"), 256) or None,
            data=cur["data"],
            message=cur.get("message"),
        ))


def _parser(builder: _Builder) -> expat.XMLParserType:
    parser = expat.ParserCreate(encoding="utf-8")
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.chars
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True
    return parser


_DECLARATION = re.compile(r"\A\s*+<\?xml[^>]{0,200}\?>")
_TREE_MARKER = re.compile(r"(?m)^[ \t]{0,40}[-+][ \t]{1,8}(?=<)")


def looks_escaped(head: str) -> bool:
    return "&lt;Event" in head and "<Event" not in head.replace("&lt;Event", "")


def read_xml(pieces: Iterable[str]) -> Iterator[Event]:
    """Events from decoded text, given in pieces (a big export is never
    held whole).  The pieces are wrapped in one root, since wevtutil's
    output has none; a leading XML declaration is dropped."""
    builder = _Builder()
    parser = _parser(builder)
    first = True
    try:
        parser.Parse(b"<crashdesk-events>", False)
        for piece in pieces:
            if first:
                piece = _DECLARATION.sub("", piece, count=1)
                first = False
            if "<!DOCTYPE" in piece or "<!ENTITY" in piece:
                _refuse()
            parser.Parse(piece.encode("utf-8", "replace"), False)
            if builder.done:
                yield from builder.done
                builder.done.clear()
        parser.Parse(b"</crashdesk-events>", True)
    except expat.ExpatError as exc:
        yield from builder.done
        raise Rejected(f"the XML breaks off or is malformed ({expat.ErrorString(exc.code)}, line {exc.lineno})",
                       "xml_malformed", line=exc.lineno) from None
    yield from builder.done


def clean_paste(text: str) -> str:
    """A pasted or escaped fragment reduced to its <Event> elements: what
    lies around them (a ticket's prose, Event Viewer's General text) goes,
    tree markers go, and an escaped copy is unescaped once."""
    if looks_escaped(text[:65536]) and len(text) <= MAX_ESCAPED:
        text = unescape(text)
    # Tree markers are cut from the elements only, after they are found:
    # a marker is blanks and a dash before a '<' at a line's start, and no
    # '<Event' or '</Event>' is made or broken by cutting one.
    parts = []
    at = 0
    while True:
        start = text.find("<Event", at)
        if start < 0:
            break
        if text.startswith("<Events", start):
            at = start + 7
            continue
        end = text.find("</Event>", start)
        if end < 0:
            # A single self-contained event pasted without its end tag is
            # not an event; stop at what is whole.
            break
        parts.append(text[start : end + 8])
        at = end + 8
    return _TREE_MARKER.sub("", "\n".join(parts))

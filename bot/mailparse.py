"""Reading one e-mail as a person sent it (bot.mail's input): headers in
any of the encodings Chinese mail carries (RFC 2047, raw GBK/GB18030 bytes,
a GB2312 label on GBK text), the text of an HTML-only body, the quoted
history cut off, the attachments, and whether it is mail a machine sent
(an auto-reply, a bounce, our own) that must never be answered.

Pure: bytes in, an ``Inbound`` out; every scan is a single pass over lines."""

from __future__ import annotations

import email
import email.header
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from email.message import Message

from analysis.entities import unescape

# A mail may say GB2312 and carry GBK (or GB18030): GB18030 reads all three.
_CHARSETS = {"gb2312": "gb18030", "gbk": "gb18030", "gb_2312-80": "gb18030", "x-gbk": "gb18030",
             "euc-cn": "gb18030", "cp936": "gb18030", "ks_c_5601-1987": "cp949", "unknown-8bit": "gb18030"}
# Lines that begin the quoted history in Outlook, Foxmail, QQ/163 mail, Gmail.
_HISTORY_STARTS = ("-----original message-----", "-----原始邮件-----", "------------------ 原始邮件",
                   "-----邮件原件-----", "________________________________")
_HEADER_LINES = ("发件人:", "发件人：", "from:", "寄件者:", "寄件者：")
_HEADER_NEXT = ("发送时间", "sent:", "date:", "日期", "时间:", "时间：", "收件人", "to:")
_WROTE_ENDS = ("wrote:", "写道:", "写道：", "寫道:", "寫道：")
# What a WinDbg session, a blue screen's text or an event log export
# pasted into a mail body says; such a body is evidence, filed as a file.
_EVIDENCE_MARKS = ("Bugcheck Analysis", "BUGCHECK_CODE", "FAILURE_BUCKET_ID", "kd> ", "MODULE_NAME:",
                   "STOP: 0x", "BugCheck ", "The computer has rebooted from a bugcheck", "计算机已经从检测错误后重新启动")
REPLY_PREFIXES = ("re:", "re：", "回复:", "回复：", "答复:", "答复：", "fwd:", "fw:", "转发:", "转发：", "aw:", "sv:")
MAX_HEADER = 4096  # characters of a header kept (subjects longer than this are someone's abuse)


def _charset(name: str | None) -> str:
    name = (name or "utf-8").strip().lower()
    name = _CHARSETS.get(name, name)
    try:
        "".encode(name)
    except LookupError:
        return "gb18030"
    return name


def _text_of(raw: bytes, declared: str | None) -> str:
    if declared is None:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("gb18030", "replace")
    return raw.decode(_charset(declared), "replace")


def header(msg: Message, name: str) -> str:
    """A header as text: RFC 2047 words decoded with the charset they name
    (GB2312 read as GB18030), raw 8-bit bytes as UTF-8 or else GB18030."""
    # The raw value (the parser keeps 8-bit bytes as surrogates; msg.get
    # would turn them into replacement characters).
    lower = name.lower()
    value = next((v for k, v in msg.raw_items() if k.lower() == lower), None)
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    try:
        text = _text_of(value.encode("ascii", "surrogateescape")[: MAX_HEADER * 4], None)
    except UnicodeEncodeError:  # already text (a header the parser decoded)
        text = value[: MAX_HEADER * 4]
    out = []
    try:
        parts = email.header.decode_header(text)
    except (ValueError, IndexError):
        parts = [(text, None)]
    for chunk, charset in parts:
        out.append(_text_of(chunk, charset) if isinstance(chunk, bytes) else chunk)
    return " ".join("".join(out).split())[:MAX_HEADER]


# An address header longer than this is cut (a real To/Cc of a few hundred
# people fits): the parser's work grows with it.
MAX_ADDRESS_HEADER = 64 * 1024


def addresses(msg: Message, *names: str) -> list[tuple[str, str]]:
    """(display name, address) of every address in these headers, address lowercased."""
    values = [header(msg, n)[:MAX_ADDRESS_HEADER] for n in names]
    try:
        pairs = email.utils.getaddresses([v for v in values if v])
    except RecursionError:
        # Comments nested past the recursion limit ("((((…"): the standard
        # parser cannot read such a header, and no real sender writes one.
        return []
    return [(n, a.lower()) for n, a in pairs if "@" in a]


# An address a mail can be sent to: dot-separated atoms either side of the
# one "@" (no blank, quote, bracket, colon or control character).  The
# address parser gives back odd pieces of a hostile header ('":b .@;);[@'),
# and the standard library's mail writer fails on those with IndexError,
# AttributeError or TypeError rather than an SMTP error.
_ATOM = r'[^\x00-\x20\x7f"(),.:;<>@\[\]\\]++'
_SENDABLE = re.compile(rf"{_ATOM}(?:\.{_ATOM})*+@{_ATOM}(?:\.{_ATOM})*+")


def sendable(address: str) -> bool:
    return _SENDABLE.fullmatch(address) is not None


def strip_prefixes(subject: str) -> str:
    """'回复: RE: Fwd: [案例号: ...] ...' -> '[案例号: ...] ...'."""
    s = subject.strip()
    while True:
        low = s.lower()
        cut = next((len(p) for p in REPLY_PREFIXES if low.startswith(p)), 0)
        if not cut:
            return s
        s = s[cut:].lstrip()


# An HTML body's words, read by one linear pass (the standard library's
# HTMLParser rescans an unclosed start tag at every '<': 60 KB of "<a "
# took 31 s).  A tag is '<', a name and anything but '<' or '>' up to '>';
# a '<' that does not begin one is text.
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*+)[^<>]*+>|<!--")
_BREAKS = frozenset({"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "table", "blockquote", "pre"})
# Elements whose content is not words: skipped to their end tag.
_SKIPPED = {name: re.compile(rf"</{name}\s*+>", re.I) for name in ("script", "style", "head")}


def html_text(doc: str) -> str:
    parts: list[str] = []
    pos, n = 0, len(doc)
    while pos < n:
        m = _TAG.search(doc, pos)
        if m is None:
            parts.append(doc[pos:])
            break
        parts.append(doc[pos:m.start()])
        pos = m.end()
        if m.group(0) == "<!--":
            end = doc.find("-->", pos)
            pos = n if end < 0 else end + 3
            continue
        name = m.group(2).lower()
        if not m.group(1) and name in _SKIPPED:
            end_tag = _SKIPPED[name].search(doc, pos)
            pos = n if end_tag is None else end_tag.end()
        elif name in _BREAKS:
            parts.append("\n")
    text = unescape("".join(parts)).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def strip_history(text: str) -> str:
    """The new part of a reply: up to the quoted history (an Outlook
    '发件人: ... 发送时间:' block, '-----Original Message-----', 'On ... wrote:',
    '> ' lines)."""
    lines = text.splitlines()
    kept: list[str] = []
    for i, line in enumerate(lines):
        s = line.strip()
        low = s.lower()
        if low.startswith(_HISTORY_STARTS):
            break
        if low.startswith(_HEADER_LINES):
            ahead = " ".join(x.strip().lower() for x in lines[i + 1:i + 4])
            if any(mark in ahead for mark in _HEADER_NEXT):
                break
        if low.endswith(_WROTE_ENDS) and (low.startswith("on ") or low.startswith("在")):
            break
        if s.startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def looks_like_evidence(text: str) -> bool:
    return any(mark in text for mark in _EVIDENCE_MARKS)


@dataclass
class Part:
    name: str
    data: bytes


@dataclass
class Inbound:
    message_id: str
    subject: str  # as written, prefixes and all
    sender: tuple[str, str]  # (name, address)
    to: list[tuple[str, str]]
    cc: list[tuple[str, str]]
    references: list[str]
    in_reply_to: str | None
    body: str  # the new text, history cut off
    attachments: list[Part] = field(default_factory=list)
    too_large: list[str] = field(default_factory=list)  # attachments over the limit, by name
    machine: str | None = None  # why no one must answer it (auto-reply, bounce, our own)

    @property
    def root(self) -> str:
        """The conversation's first message: the thread a case is tied to."""
        return self.references[0] if self.references else (self.in_reply_to or self.message_id)

    @property
    def lang(self) -> str:
        # The body says it (the CRM's subject is Chinese whatever the customer writes).
        text = self.body[:2000] if self.body.strip() else self.subject
        return "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else "en"


def _ids(value: str) -> list[str]:
    out: list[str] = []
    i = 0
    while True:
        start = value.find("<", i)
        if start < 0:
            return out
        end = value.find(">", start)
        if end < 0:
            return out
        out.append(value[start:end + 1])
        i = end + 1


def machine_reason(msg: Message, sender: str, own: set[str]) -> str | None:
    """Why this is mail that must not be answered; None for a person's mail."""
    if sender in own or msg.get("X-Crashdesk"):
        return "our own mail"
    auto = (msg.get("Auto-Submitted") or "no").strip().lower()
    if auto != "no":
        return f"Auto-Submitted: {auto}"
    for name in ("X-Autoreply", "X-Autorespond"):
        value = (msg.get(name) or "").strip().lower()
        if value:
            return f"{name}: {value}"
    precedence = (msg.get("Precedence") or "").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    local = sender.split("@", 1)[0]
    if local in ("mailer-daemon", "postmaster") or (msg.get("Return-Path") or "").strip() == "<>":
        return "a bounce"
    if msg.get_content_type() == "multipart/report":
        return "a delivery report"
    return None


def _payload(part: Message) -> bytes:
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def parse(raw: bytes, *, own: set[str], limit: int) -> Inbound:
    msg = email.message_from_bytes(raw)
    sender = (addresses(msg, "From") or [("", "")])[0]
    mid = header(msg, "Message-ID").strip()
    mid = _ids(mid)[0] if _ids(mid) else f"<sha256-{hashlib.sha256(raw).hexdigest()}@crashdesk>"
    references = _ids(header(msg, "References"))
    in_reply = _ids(header(msg, "In-Reply-To"))
    plain: list[str] = []
    html: list[str] = []
    parts: list[Part] = []
    too_large: list[str] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        name = part.get_filename()
        if name is not None:
            name = " ".join(_text_of(c, cs) if isinstance(c, bytes) else c
                            for c, cs in email.header.decode_header(name))
        disposition = (part.get("Content-Disposition") or "").split(";", 1)[0].strip().lower()
        ctype = part.get_content_type()
        if name or disposition == "attachment" or not ctype.startswith("text/"):
            data = _payload(part)
            label = (name or f"attachment-{len(parts) + 1}").replace("/", "_").replace("\\", "_")[:200]
            if len(data) > limit:
                too_large.append(label)
            elif data:
                parts.append(Part(label, data))
            continue
        data = _payload(part)
        text = _text_of(data, part.get_content_charset())
        (html if ctype == "text/html" else plain).append(text)
    body = "\n".join(plain) if plain else html_text("\n".join(html))
    return Inbound(message_id=mid, subject=header(msg, "Subject"), sender=sender,
                   to=addresses(msg, "To"), cc=addresses(msg, "Cc"), references=references,
                   in_reply_to=in_reply[0] if in_reply else None, body=strip_history(body.replace("\r\n", "\n")),
                   attachments=parts, too_large=too_large, machine=machine_reason(msg, sender[1], own))

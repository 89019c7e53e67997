"""The seed case's own e-mails (/work/shared/seed, or the copy the tests
ship) as RFC 822 messages, oldest first, each quoting the ones before it
as Outlook does, in the encodings Chinese mail comes in: the CRM's first
mail with a GB2312-labelled RFC 2047 subject and a GBK body, one reply
HTML-only, one with its subject in raw GB18030 bytes, the rest UTF-8."""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
# shared/ beside the checkout (as CI lays it), else the copy kept here
# (outside tests/fixtures, whose every file is a golden analysis input).
SEED = HERE.parent.parent / "shared" / "seed" / "000_e491b5df55a129aa.txt"
LOCAL = HERE / "mail" / "seed_mail.txt"
CST = timezone(timedelta(hours=8))
_DATE = re.compile(r"(\d{4}) 年 (\d{1,2}) 月 (\d{1,2}) 日 (\d{1,2}):(\d{2})")


def seed_text() -> str:
    return (SEED if SEED.exists() else LOCAL).read_text(encoding="utf-8")


def _field(block: list[str], *names: str) -> str:
    for line in block:
        s = line.strip()
        for n in names:
            if s.startswith(n):
                return s[len(n):].lstrip(":： ").strip()
    return ""


def messages() -> list[dict]:
    """[{from, to, cc, subject, date, body, quoted}], oldest first."""
    lines = seed_text().splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip().startswith("发件人")]
    blocks = []
    first_subject = None
    for n, start in enumerate([0] + starts):
        end = starts[n] if n < len(starts) else len(lines)
        if n == 0:
            head, body = [], lines[0:end]
        else:
            subj = next(i for i in range(start, end) if lines[i].strip().startswith("主题"))
            head, body = lines[start:subj + 1], lines[subj + 1:end]
        blocks.append((head, "\n".join(body).strip(), "\n".join(lines[end:]).strip()))
    out = []
    for head, body, quoted in blocks:
        subject = _field(head, "主题")
        first_subject = first_subject or subject
        m = _DATE.search(_field(head, "发送时间"))
        date = datetime(*map(int, m.groups()), tzinfo=CST) if m else None
        out.append({"from": _field(head, "发件人") or "Wei Liang <weiliang@cmgos.com>",
                    "to": _field(head, "收件人"), "cc": _field(head, "抄送"), "subject": subject,
                    "date": date, "body": body, "quoted": quoted})
    out.reverse()
    for i, msg in enumerate(out):
        msg["subject"] = msg["subject"] or "回复: " + strip(out[0]["subject"])
        msg["date"] = msg["date"] or out[i - 1]["date"] + timedelta(hours=1)
        if "<" not in msg["from"]:
            msg["from"] = f"{msg['from']} <weiliang@cmgos.com>"
    return out


def strip(subject: str) -> str:
    return subject.split(": ", 1)[1] if subject.startswith("回复") else subject


def _addresses(text: str) -> str:
    return text.replace("；", ",").replace(";", ",").replace("'", "").strip()


def rfc822(i: int, msg: dict, ids: list[str]) -> bytes:
    """Message ``i`` of the thread; ``ids``: the Message-IDs before it."""
    mid = f"<seed-{i}@cmgos.com>"
    body = msg["body"] + ("\n\n" + msg["quoted"] if msg["quoted"] else "")
    headers = [f"From: {msg['from']}", f"Date: {format_datetime(msg['date'])}", f"Message-ID: {mid}"]
    if msg["to"]:
        headers.append(f"To: {_addresses(msg['to'])}")
    if msg["cc"]:
        headers.append(f"Cc: {_addresses(msg['cc'])}")
    if ids:
        headers += [f"In-Reply-To: {ids[-1]}", "References: " + " ".join(ids)]
    if i == 0:
        # The CRM's mail: a GB2312 label on GBK text, subject in RFC 2047.
        subject = "=?gb2312?B?" + base64.b64encode(msg["subject"].encode("gbk")).decode() + "?="
        head = "\r\n".join(headers + [f"Subject: {subject}", "MIME-Version: 1.0",
                                      "Content-Type: text/plain; charset=gb2312",
                                      "Content-Transfer-Encoding: base64"]).encode()
        return head + b"\r\n\r\n" + base64.encodebytes(body.encode("gbk")).replace(b"\n", b"\r\n")
    if i == 2:
        # Raw GB18030 bytes in the subject (an old client), body in UTF-8.
        head = "\r\n".join(headers + ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
                                      "Content-Transfer-Encoding: base64"]).encode()
        head += b"\r\nSubject: " + msg["subject"].encode("gb18030")
        return head + b"\r\n\r\n" + base64.encodebytes(body.encode("utf-8")).replace(b"\n", b"\r\n")
    em = EmailMessage()
    for h in headers:
        k, _, v = h.partition(": ")
        em[k] = v
    em["Subject"] = msg["subject"]
    if i == 1:
        html = "<html><body>" + "".join(f"<p>{line}</p>" for line in body.splitlines()) + "</body></html>"
        em.set_content(html, subtype="html")
    else:
        em.set_content(body)
    return em.as_bytes()


def thread() -> list[tuple[str, bytes]]:
    """(Message-ID, raw) of every seed message, oldest first."""
    out, ids = [], []
    for i, msg in enumerate(messages()):
        out.append((f"<seed-{i}@cmgos.com>", rfc822(i, msg, ids)))
        ids.append(f"<seed-{i}@cmgos.com>")
    return out

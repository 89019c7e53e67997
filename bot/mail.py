"""The case mailbox: crashdesk reads a mailbox over IMAP and answers over SMTP.

  CRASHDESK_IMAP_URL  imaps://user:password@host:993/INBOX (imap:// in plain
                      text, for a server on loopback)
  CRASHDESK_SMTP_URL  smtps://user:password@host:465, smtp://...:587 (STARTTLS),
                      or plain smtp:// on loopback
  CRASHDESK_MAIL_FROM the desk's own address (its mail is never answered)

A mail whose subject names a case (the CRM's "[案例号: CAS-...] % |P3|...",
behind any Re:/回复:/答复:/Fwd:) goes onto that case: its new text on the
timeline (the quoted history cut off), its attachments, and a body that is
pasted WinDbg output, analysed by the same job as a chat upload.  A CRM
subject for an unknown case opens it.  The verdict is mailed back to the
sender and the thread's recipients (In-Reply-To/References kept), in the
case's language, and posted into the case's chat threads.

Each message is handled once (its Message-ID); auto-replies, bounces and
the desk's own mail are never answered; an attachment over 25 MB is
answered with the case board's upload page.  One instance of a cluster
reads the mailbox (a lease, bot.leader); it waits with IMAP IDLE where the
server offers it and polls otherwise."""

from __future__ import annotations

import asyncio
import email.utils
import imaplib
import logging
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from analysis.render.doc import to_plain
from bot.platform import Platform
from bot.mailparse import Inbound, looks_like_evidence, parse, sendable, strip_prefixes
from handlers.deliver import deliver, doors
from handlers.events import Attachment, ChatEvent, Reply
from handlers.mailout import Sent
from handlers.parsing import CASE_NUMBER
from store import cases, casemail, ops
from store.casemail import MailRoute
from store.errors import CrashdeskError, Refused, Transient

log = logging.getLogger("crashdesk.mail")
ATTACHMENT_LIMIT = 25 * 1024 * 1024
# A message larger than this is not downloaded at all (its headers are read).
MESSAGE_LIMIT = 40 * 1024 * 1024
# An answer goes to at most this many others in Cc, under a subject this long.
MAX_CC = 50
MAX_SUBJECT = 900

TEXTS = {
    "en": {
        "too_large": "{names}: over the 25 MB an e-mail attachment may have. Please upload it on the case "
                     "board instead: {url}",
        "no_case": "This mailbox files mail under a case: please keep the case number "
                   "([案例号: CAS-…]) in the subject.",
        "verdict_intro": "Analysis of the files sent for case {number}:",
        "sign": "— crashdesk, on behalf of the support team",
    },
    "zh": {
        "too_large": "{names}：超过了邮件附件 25 MB 的上限。请改在案例看板上传：{url}",
        "no_case": "本邮箱按案例归档邮件，请在主题中保留案例号（[案例号: CAS-…]）。",
        "verdict_intro": "案例 {number} 所发文件的分析结果如下：",
        "sign": "—— crashdesk（技术支持团队）",
    },
}


@dataclass(frozen=True)
class Endpoint:
    scheme: str
    host: str
    port: int
    user: str | None
    password: str | None
    path: str

    @classmethod
    def of(cls, url: str, defaults: dict[str, int]) -> "Endpoint":
        u = urlsplit(url)
        if u.scheme not in defaults or not u.hostname:
            raise ValueError(f"{url.split('@')[-1]!r}: expected {' or '.join(s + '://' for s in defaults)}host")
        return cls(u.scheme, u.hostname, u.port or defaults[u.scheme], unquote(u.username) if u.username else None,
                   unquote(u.password) if u.password else None, unquote(u.path.lstrip("/")) or "INBOX")

    @property
    def loopback(self) -> bool:
        return self.host in ("127.0.0.1", "::1", "localhost")


IMAP_PORTS = {"imaps": 993, "imap": 143}
SMTP_PORTS = {"smtps": 465, "smtp": 587}


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Imap:
    """A blocking IMAP session (imaplib), driven from a worker thread."""

    def __init__(self, ep: Endpoint, timeout: float = 60.0):
        self.ep = ep
        if ep.scheme == "imaps":
            self.conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(ep.host, ep.port, timeout=timeout,
                                                         ssl_context=ssl.create_default_context())
        else:
            self.conn = imaplib.IMAP4(ep.host, ep.port, timeout=timeout)
            if "STARTTLS" in self.conn.capabilities:
                self.conn.starttls(ssl.create_default_context())
        self.conn.login(ep.user or "", ep.password or "")
        typ, _ = self.conn.select(_quote(ep.path))
        if typ != "OK":
            raise imaplib.IMAP4.error(f"no mailbox {ep.path}")

    @property
    def idle(self) -> bool:
        return "IDLE" in self.conn.capabilities

    def unseen(self) -> list[str]:
        typ, data = self.conn.uid("SEARCH", "UNSEEN")
        first = data[0] if typ == "OK" and data else None
        return first.decode("ascii").split() if isinstance(first, bytes) else []

    def size(self, uid: str) -> int:
        typ, data = self.conn.uid("FETCH", uid, "(RFC822.SIZE)")
        for item in data or []:
            text = item.decode() if isinstance(item, bytes) else ""
            if "RFC822.SIZE" in text:
                return int(text.split("RFC822.SIZE", 1)[1].strip(" )").split()[0])
        return 0

    def fetch(self, uid: str, headers_only: bool = False) -> bytes | None:
        what = "(BODY.PEEK[HEADER])" if headers_only else "(BODY.PEEK[])"
        typ, data = self.conn.uid("FETCH", uid, what)
        for item in data or []:
            if isinstance(item, tuple) and len(item) == 2:
                return item[1]
        return None

    def seen(self, uid: str) -> None:
        self.conn.uid("STORE", uid, "+FLAGS", "(\\Seen)")

    def wait(self, seconds: float) -> None:
        """IDLE until the server says something changed (or ``seconds``)."""
        conn = self.conn
        # New mail the server reported while we searched or flagged: no wait.
        pending = conn.untagged_responses
        if pending.pop("EXISTS", None) or pending.pop("RECENT", None):
            return
        tag = conn._new_tag()  # type: ignore[attr-defined]
        conn.send(tag + b" IDLE\r\n")
        line = conn.readline()
        if not line.startswith(b"+"):
            return
        sock = conn.sock
        sock.settimeout(seconds)
        try:
            while True:
                line = conn.readline()
                if not line or b"EXISTS" in line or b"RECENT" in line:
                    break
        except (socket.timeout, TimeoutError):
            pass
        finally:
            sock.settimeout(None)
        conn.send(b"DONE\r\n")
        while True:  # up to the tagged completion of IDLE
            line = conn.readline()
            if not line or line.startswith(tag):
                break

    def close(self) -> None:
        try:
            self.conn.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def send_mail(ep: Endpoint, msg: EmailMessage, timeout: float = 60.0) -> dict[str, tuple[int, bytes]]:
    """Send ``msg``; the recipients the server refused while taking it for
    the others (smtplib raises only when it refuses all)."""
    if ep.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(ep.host, ep.port, timeout=timeout,
                                                context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(ep.host, ep.port, timeout=timeout)
    try:
        client.ehlo()
        if ep.scheme == "smtp" and client.has_extn("starttls"):
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        elif ep.scheme == "smtp" and not ep.loopback:
            raise smtplib.SMTPException(f"{ep.host} offers no STARTTLS: refusing to send in plain text")
        if ep.user:
            client.login(ep.user, ep.password or "")
        refused = client.send_message(msg)
        # Taken (250 after the data): sent, whatever the server answers to
        # QUIT or however the connection ends -- an error there, told as
        # 'not sent', had the same mail sent again (smtplib's ``with``
        # raises a QUIT answer other than 221).
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            pass
        return refused
    finally:
        client.close()


def _bytes_attachment(name: str, data: bytes) -> Attachment:
    async def fetch() -> bytes:
        return data

    return Attachment(name=name, fetch=fetch, size=len(data))


class MailPlatform(Platform):
    name = "mail"
    # A customer is mailed as the answer to their mail, never because of chat.
    delivers = False
    settings_keys = ("CRASHDESK_IMAP_URL", "CRASHDESK_SMTP_URL", "CRASHDESK_MAIL_FROM")

    @classmethod
    def missing(cls, settings) -> list[str]:
        return [k for k in cls.settings_keys if not settings.get(k)]

    @classmethod
    def invalid(cls, settings) -> list[str]:
        out = []
        for key, ports in (("CRASHDESK_IMAP_URL", IMAP_PORTS), ("CRASHDESK_SMTP_URL", SMTP_PORTS)):
            if settings.get(key):
                try:
                    ep = Endpoint.of(settings.get(key), ports)
                except ValueError as exc:
                    out.append(f"{key}: {exc}")
                    continue
                if ep.scheme in ("imap",) and not ep.loopback:
                    out.append(f"{key}: imap:// sends the password in plain text; use imaps:// for {ep.host}")
        mail_from = settings.get("CRASHDESK_MAIL_FROM") or ""
        if mail_from and "@" not in email.utils.parseaddr(mail_from)[1]:
            out.append(f"CRASHDESK_MAIL_FROM: {mail_from!r} is not an e-mail address")
        return out

    @classmethod
    def from_settings(cls, desk, jobs, settings) -> "MailPlatform":
        return cls(desk, jobs, settings)

    def __init__(self, desk, jobs, settings):
        self.desk, self.jobs, self.settings = desk, jobs, settings
        self.imap = Endpoint.of(settings.get("CRASHDESK_IMAP_URL"), IMAP_PORTS)
        self.out = MailSender(desk, settings)
        self.address = self.out.address
        self.poll = float(settings.get("CRASHDESK_MAIL_POLL") or 60)
        self.leadership = None
        self._task: asyncio.Task | None = None
        self._session: Imap | None = None
        self.processed = 0
        self.last_error: str | None = None
        from handlers import analyse

        run, give_up = analyse.runner(desk, self)
        jobs.register(analyse.kind_for("mail"), run, give_up)
        from handlers import mailout

        # Any instance sends (only reading the mailbox is one instance's).
        mailout.register(desk, self.out)

    def describe(self) -> str:
        return "mailbox"

    def health(self) -> dict:
        return {"ok": self.last_error is None, "reading": self._task is not None and not self._task.done(),
                "processed": self.processed, **({"error": self.last_error} if self.last_error else {})}

    # ------------------------------------------------------------ running
    async def start(self) -> None:
        from bot.leader import hold

        # One reader per mailbox in the cluster.
        self.leadership = await hold(self.desk, self.jobs, f"mail:{self.address}", gain=self._gain, lose=self._lose)

    async def stop(self) -> None:
        if self.leadership is not None:
            await self.leadership.stop()
        await self._lose()

    async def _gain(self) -> None:
        self._task = asyncio.create_task(self._read_loop(), name="crashdesk-mailbox")

    async def _lose(self) -> None:
        task, self._task = self._task, None
        session, self._session = self._session, None
        if session is not None:
            try:
                session.conn.sock.shutdown(socket.SHUT_RDWR)  # wakes an IDLE wait in its thread
            except OSError:
                pass
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _read_loop(self) -> None:
        backoff = 1.0
        while True:
            try:
                self._session = await asyncio.to_thread(Imap, self.imap)
                backoff = 1.0
                while True:
                    await self.check()
                    current = self._session
                    if current is None:
                        return
                    if current.idle:
                        await asyncio.to_thread(current.wait, min(self.poll * 10, 25 * 60))
                    else:
                        await asyncio.sleep(self.poll)
            except asyncio.CancelledError:
                raise
            except (imaplib.IMAP4.error, OSError, EOFError, Transient) as exc:
                self.last_error = f"IMAP {self.imap.host}: {exc}"
                log.warning("mailbox: %s; trying again in %.0f s", self.last_error, backoff)
                session, self._session = self._session, None
                if session is not None:
                    await asyncio.to_thread(session.close)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 300.0)

    async def check(self) -> int:
        """Handle every unread message once; how many were handled."""
        session = self._session
        if session is None:
            return 0
        handled = 0
        for uid in await asyncio.to_thread(session.unseen):
            size = await asyncio.to_thread(session.size, uid)
            raw = await asyncio.to_thread(session.fetch, uid, size > MESSAGE_LIMIT)
            if raw is not None:
                try:
                    await self.process(raw, oversize=size > MESSAGE_LIMIT)
                except CrashdeskError as exc:
                    if exc.retryable:
                        raise  # the database or the store: the message stays unread and is tried again
                    log.warning("mailbox: message %s refused: %s", uid, exc)
                except Exception:
                    # A message nothing here can read must not stop the
                    # mailbox (it would fail again at every start): logged,
                    # marked read, left in the mailbox for a person.
                    log.exception("mailbox: message %s could not be handled; it is left in the mailbox, read", uid)
                handled += 1
            await asyncio.to_thread(session.seen, uid)
        self.last_error = None
        return handled

    # ------------------------------------------------------------ a message
    async def process(self, raw: bytes, *, oversize: bool = False) -> str:
        """One message as read from the mailbox; what became of it (for the log and the tests)."""
        # Off the event loop: a 40 MB message is decoded part by part
        # (base64, GBK...), which would hold every other door meanwhile.
        mail = await asyncio.to_thread(parse, raw, own={self.address}, limit=ATTACHMENT_LIMIT)
        if mail.machine:
            log.info("mailbox: not answering %s from %s (%s)", mail.message_id, mail.sender[1], mail.machine)
            return "machine"
        key = f"mail-seen:{mail.message_id}"
        if await self.desk.store.call(ops.get_setting, key):
            return "duplicate"
        subject = strip_prefixes(mail.subject)
        number_match = CASE_NUMBER.search(subject)
        number = number_match.group(0).upper() if number_match else None
        case = await self.desk.store.call(cases.get, number) if number else None
        lang = (case.lang if case and case.lang in TEXTS else None) or mail.lang
        route = self._route(mail, lang, number)
        if number is None:
            await self._reply(route, TEXTS[lang]["no_case"], key=f"nocase:{mail.message_id}")
            await self.desk.store.call(ops.set_setting, key, "no case")
            return "no case"
        who, name = mail.sender[1], mail.sender[0] or mail.sender[1]

        def event(text: str, files: list[Attachment], event_id: str | None) -> ChatEvent:
            return ChatEvent(platform="mail", channel=self.address, user=who, user_name=name, text=text,
                             ts=mail.message_id, thread=mail.root, files=files, event_id=event_id, lang=lang,
                             threaded=True, route=route)

        async def quiet(reply: Reply) -> None:
            # Cards, acknowledgements: chat-side; only what the sender must act on is mailed.
            if reply.kind == "error":
                await self.send(route, reply, key=None)

        bound = await self.desk.store.call(cases.case_for_thread, "mail", self.address, mail.root)
        if bound is None:
            # Opens the case from its CRM subject (or finds it) and ties the mail thread to it.
            await self.desk.handle(event(subject, [], None), quiet)
        files = [_bytes_attachment(p.name, p.data) for p in mail.attachments]
        if looks_like_evidence(mail.body):
            files.append(_bytes_attachment(f"mail-{len(files) + 1}.txt", mail.body.encode("utf-8")))
        text = f"{mail.sender[0] or who} <{who}>: {mail.body}" if mail.body else subject
        await self.desk.handle(event(text, files, mail.message_id), quiet)
        if mail.too_large or oversize:
            url = self._upload_url(number)
            names = "、".join(mail.too_large) if lang == "zh" else ", ".join(mail.too_large)
            await self._reply(route, TEXTS[lang]["too_large"].format(names=names or mail.subject, url=url),
                              key=f"large:{mail.message_id}")
        case = await self.desk.store.call(cases.get, number)
        latest = self._mail_route(mail, lang)
        if case is not None and latest.to:
            # The thread's latest message is whom the archive e-mail answers
            # (one that names no address a mail can go to leaves the route as it was).
            await self.desk.store.call(casemail.remember_route, case.id, latest)
        await self.desk.store.call(ops.set_setting, key, "done")
        self.processed += 1
        return "filed"

    def _upload_url(self, number: str) -> str:
        board = self.desk.config.board
        base = getattr(board, "public_url", None) or f"http://localhost:{self.settings.port}"
        return f"{base}/case/{number}"

    def _mail_route(self, mail: Inbound, lang: str) -> MailRoute:
        """Reply to all: the sender, the others the message went to in Cc,
        threaded after it."""
        sender = mail.sender[1] if sendable(mail.sender[1]) else ""
        others = [a for _, a in mail.to + mail.cc if a != self.address and a != mail.sender[1] and sendable(a)]
        # (A sender no mail can go to: the first of the others is answered.)
        to, others = ((sender,), others) if sender else (tuple(others[:1]), others[1:])
        subject = mail.subject if strip_prefixes(mail.subject) != mail.subject else f"Re: {mail.subject}"
        references = (mail.references or ([mail.in_reply_to] if mail.in_reply_to else [])) + [mail.message_id]
        # Bounded whatever the message says: a Cc of thousands is not
        # answered to thousands, nor a References header kept whole (the
        # root and the latest are what mail clients thread by).
        return MailRoute(self.address, mail.root, to, tuple(dict.fromkeys(others))[:MAX_CC],
                         subject[:MAX_SUBJECT], mail.message_id, tuple(kept_references(references)), lang,
                         self.desk.iso(self.desk.now()))

    def _route(self, mail: Inbound, lang: str, number: str | None) -> dict:
        """The route an answer to this message takes (kept with its analysis job)."""
        return {**_as_route(self._mail_route(mail, lang)), "number": number}

    # -------------------------------------------- the analysis job's outlet
    async def send(self, route: dict, reply: Reply, key: str | None = None) -> None:
        lang = route.get("lang") or "en"
        if reply.kind == "verdict":
            intro = TEXTS[lang]["verdict_intro"].format(number=route.get("number") or reply.case_number or "")
            body = intro + "\n\n" + to_plain(reply.bounded_doc()).rstrip()
            await self._reply(route, body, key=key)
            number = reply.case_number or route.get("number")
            if number:
                # The case's chat threads hear it too.
                await deliver(self.desk, number, reply, only=[n for n in doors(self.desk) if n != self.name])
        elif reply.kind == "error":
            await self._reply(route, to_plain(reply.bounded_doc()).rstrip(), key=key)

    async def posted(self, route: dict, key: str) -> bool | None:
        return bool(await self.desk.store.call(ops.get_setting, f"mail-sent:{key}"))

    async def _reply(self, route: dict, body: str, key: str | None) -> None:
        if key and await self.desk.store.call(ops.get_setting, f"mail-sent:{key}"):
            return
        if not route["to"]:
            log.warning("no address to answer %s at: not answered", route.get("in_reply_to"))
            return
        lang = route.get("lang") or "en"
        msg = self.out.message(route, body + "\n\n" + TEXTS[lang]["sign"] + "\n", auto=True)
        await asyncio.to_thread(send_mail, self.out.smtp, msg)
        if key:
            await self.desk.store.call(ops.set_setting, f"mail-sent:{key}", msg["Message-ID"])

class MailSender:
    """The mailbox's sending half: SMTP into a case's mail thread, as the
    desk's address.  The mailbox platform answers through it, and it is
    the mailer (handlers.mailout) of `crashdesk serve` and of `crashdesk
    chat` alike, wherever CRASHDESK_SMTP_URL and CRASHDESK_MAIL_FROM are set."""

    def __init__(self, desk, settings):
        self.desk = desk
        self.smtp = Endpoint.of(settings.get("CRASHDESK_SMTP_URL"), SMTP_PORTS)
        self.sender = settings.get("CRASHDESK_MAIL_FROM")
        self.address = email.utils.parseaddr(self.sender)[1].lower()

    @classmethod
    def problems(cls, settings) -> list[str]:
        """What keeps these settings from sending ('NAME: why'); [] when they can."""
        missing = [k for k in ("CRASHDESK_SMTP_URL", "CRASHDESK_MAIL_FROM") if not settings.get(k)]
        return missing or [p for p in MailPlatform.invalid(settings) if not p.startswith("CRASHDESK_IMAP_URL")]

    async def mail_case(self, route: MailRoute, body: str) -> Sent:
        """An engineer's e-mail into a case's thread (the archive e-mail):
        signed by the engineer, so not marked automatic; the desk's own
        header keeps it from being answered when it comes back."""
        msg = self.message(_as_route(route), body, auto=False)
        try:
            refused = await asyncio.to_thread(send_mail, self.smtp, msg)
        except (smtplib.SMTPException, OSError) as exc:
            raise smtp_failure(exc, self.smtp.host) from exc
        return Sent(str(msg["Message-ID"]), tuple((address.lower(), code) for address, (code, _) in refused.items()))

    def message(self, route: dict, body: str, *, auto: bool) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = ", ".join(route["to"])
        if route.get("cc"):
            msg["Cc"] = ", ".join(route["cc"])
        msg["Subject"] = route["subject"]
        msg["Message-ID"] = email.utils.make_msgid(domain=self.address.split("@")[-1] or None)
        msg["Date"] = email.utils.format_datetime(self.desk.now())
        msg["In-Reply-To"] = route["in_reply_to"]
        msg["References"] = " ".join(kept_references(route["references"]))
        # Marks our own mail (never answered when it comes back) and asks
        # auto-responders not to answer what the desk wrote itself.
        msg["X-Crashdesk"] = "1"
        if auto:
            msg["Auto-Submitted"] = "auto-replied"
            msg["X-Auto-Response-Suppress"] = "All"
        msg.set_content(body)
        return msg


def kept_references(refs: list[str] | tuple[str, ...]) -> list[str]:
    """A thread's first Message-ID and its 19 latest: what an answer's
    References keeps of a long thread (mail clients thread by the root and
    the parent)."""
    return list(refs[:1]) + list(refs[1:][-19:])


def _as_route(route: MailRoute) -> dict:
    return {"to": list(route.to), "cc": list(route.cc), "subject": route.subject, "in_reply_to": route.in_reply_to,
            "references": list(route.references), "lang": route.lang, "thread": route.thread}


def smtp_failure(exc: BaseException, host: str) -> CrashdeskError:
    """An SMTP exchange that failed, in the desk's error tree: the server
    away, busy or answering 4xx is Transient (nothing was sent, the same
    mail can go later); a 5xx, or a server that cannot be used safely, is
    Refused (the engineer is told why)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = {code for code, _ in exc.recipients.values()}
        if codes and all(400 <= c < 500 for c in codes):
            return Transient(f"SMTP {host}: recipients deferred {sorted(codes)}")
        refused = ", ".join(f"{addr}: {code}" for addr, (code, _) in list(exc.recipients.items())[:5])
        return Refused("mail_refused", why=refused[:300])
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        if 400 <= exc.smtp_code < 500:
            return Transient(f"SMTP {host}: {exc.smtp_code} {text}")
        return Refused("mail_refused", why=f"{exc.smtp_code} {' '.join(text.split())[:200]}")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return Transient(f"SMTP {host}: {exc}")
    # (smtplib's errors are OSErrors too: these first.)  No STARTTLS where
    # it is needed, a certificate that does not verify: settings, not luck.
    if isinstance(exc, (smtplib.SMTPException, ssl.SSLCertVerificationError)):
        return Refused("mail_refused", why=" ".join(str(exc).split())[:200])
    return Transient(f"SMTP {host}: {exc}")

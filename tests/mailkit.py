"""Real mail servers for the mailbox tests, on loopback in tmp_path:
Debian's dovecot (IMAP, with IDLE) from the dovecot-imapd package, and
aiosmtpd (SMTP) collecting what crashdesk sends.  Skipped cleanly where
dovecot is not installed."""

from __future__ import annotations

import asyncio
import email
import grp
import imaplib
import os
import pwd
import shutil
import subprocess
import threading
import time
from email.message import Message
from pathlib import Path

import pytest

from engines import free_port

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
USER, PASSWORD = "desk", "desk-pass"


def need_dovecot() -> str:
    if DOVECOT is None:
        pytest.skip("dovecot is not installed (Debian: apt-get install dovecot-imapd)")
    return DOVECOT


class Dovecot:
    """One dovecot, one user, a Maildir under ``root``."""

    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.binary = need_dovecot()

    def start(self) -> "Dovecot":
        root = self.root
        (root / "run").mkdir(parents=True, exist_ok=True)
        (root / "mail").mkdir(exist_ok=True)
        me = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        uid, gid = os.getuid(), os.getgid()
        if os.getuid() == 0:
            # Dovecot never keeps mail as root: the mail belongs to its own
            # user, who must be able to reach the test's folder.
            login, internal = "dovenull", "dovecot"
            uid, gid = pwd.getpwnam("dovecot").pw_uid, pwd.getpwnam("dovecot").pw_gid
            os.chown(root / "mail", uid, gid)
            for path in (root, *root.parents):
                mode = path.stat().st_mode
                if path.stat().st_uid == 0 and not mode & 0o001:
                    os.chmod(path, (mode & 0o7777) | 0o001)
        else:
            login = internal = me
        (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        config = f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/run/state
instance_name = crashdesk-test-{self.port}
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login}
default_internal_user = {internal}
default_internal_group = {group if os.getuid() else "dovecot"}
mail_location = maildir:{root}/mail
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""
        (root / "run" / "state").mkdir(exist_ok=True)
        (root / "dovecot.conf").write_text(config)
        # In the foreground, a child of the test: stopped with it.
        self.proc = subprocess.Popen([self.binary, "-F", "-c", str(root / "dovecot.conf")],
                                     stdout=subprocess.DEVNULL, stderr=open(root / "dovecot.err", "wb"))
        for _ in range(300):
            if self.proc.poll() is not None:
                break
            try:
                self.client().logout()
                return self
            except (OSError, imaplib.IMAP4.error):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("dovecot did not start: " + (root / "dovecot.err").read_text(errors="replace")[-2000:]
                           + (root / "dovecot.log").read_text(errors="replace")[-2000:])

    @property
    def url(self) -> str:
        return f"imap://{USER}:{PASSWORD}@127.0.0.1:{self.port}/INBOX"

    def client(self) -> imaplib.IMAP4:
        # Dovecot answers "[UNAVAILABLE] Temporary authentication failure"
        # now and then on a loaded machine (its auth process busy with the
        # desk's own session): a delivery agent tries again, so does this.
        for attempt in range(30):
            c = imaplib.IMAP4("127.0.0.1", self.port, timeout=30)
            try:
                c.login(USER, PASSWORD)
                return c
            except imaplib.IMAP4.error as exc:
                c.shutdown()
                if "UNAVAILABLE" not in str(exc) or attempt == 29:
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    def deliver(self, raw: bytes) -> None:
        """The message arrives in INBOX (APPEND, as a delivery agent would)."""
        # Under load dovecot has refused an APPEND with "[SERVERBUG] Internal
        # error" (nothing saved): tried again, as a delivery agent would
        # (the desk handles a Message-ID once, should one land twice).
        for attempt in range(10):
            c = self.client()
            try:
                typ, data = c.append("INBOX", None, None, raw)
            finally:
                c.logout()
            if typ == "OK":
                return
            said = b" ".join(d for d in data if isinstance(d, bytes))
            if attempt == 9 or not (b"SERVERBUG" in said or b"UNAVAILABLE" in said):
                raise AssertionError(f"APPEND refused: {said!r}")
            time.sleep(0.1 * (attempt + 1))

    def unseen(self) -> int:
        """The messages not read yet.  Under load dovecot has refused the
        SELECT for a moment (the desk holding the mailbox): asked again,
        rather than searching outside a selected mailbox ("SEARCH illegal
        in state AUTH")."""
        for attempt in range(10):
            c = self.client()
            try:
                typ, data = c.select("INBOX")
                if typ == "OK":
                    typ, data = c.search(None, "UNSEEN")
                    if typ == "OK":
                        return len(data[0].split()) if data and data[0] else 0
            finally:
                c.logout()
            if attempt == 9:
                raise AssertionError(f"the mailbox could not be searched: {data!r}")
            time.sleep(0.1 * (attempt + 1))
        raise AssertionError("unreachable")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


async def read_by_desk(imap: "Dovecot", jobs) -> None:
    """Until the desk has read every message in the mailbox and its jobs are done."""
    for _ in range(3000):
        if await asyncio.to_thread(imap.unseen) == 0:
            break
        await asyncio.sleep(0.02)
    else:
        pytest.fail("the mailbox was not read")
    await jobs.drain()


class Outbox:
    """aiosmtpd on loopback; ``messages``: what was sent, parsed."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list[Message] = []
        self.port = free_port()
        # What the server answers DATA with instead of taking the message
        # ("451 ..." busy, "550 ..." refused); None: it takes it.
        self.answer: str | None = None
        # What it answers QUIT with, after taking a message ("421 ..."); None: 221.
        self.quit_answer: str | None = None
        # Recipients it refuses (550) while taking the others.
        self.refuse: set[str] = set()
        # Set: DATA waits for it before taking the message (``in_data`` says
        # a message's data is waiting, ``took`` that one was taken).
        self.hold: threading.Event | None = None
        self.in_data, self.took = threading.Event(), threading.Event()
        outbox = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if address.lower() in outbox.refuse:
                    return "550 5.1.1 no such user"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_QUIT(self, server, session, envelope):
                return outbox.quit_answer or "221 Bye"

            async def handle_DATA(self, server, session, envelope):
                if outbox.hold is not None:
                    outbox.in_data.set()
                    await asyncio.get_running_loop().run_in_executor(None, outbox.hold.wait)
                if outbox.answer is not None:
                    return outbox.answer
                msg = email.message_from_bytes(envelope.content)
                msg["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
                outbox.messages.append(msg)
                outbox.took.set()
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> "Outbox":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

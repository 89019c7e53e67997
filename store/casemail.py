"""A case's mail: the mail thread it came in on (whom an answer goes to,
and how it threads), and the archive e-mail's sending, once per archive
decision."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum

from store.db import Database, writing
from store.timeline import add_followup


@dataclass(frozen=True, slots=True)
class MailRoute:
    """How to answer a case's mail thread: to its last message's sender,
    the others it went to in Cc, under its subject, threaded after it."""

    mailbox: str  # the desk's address the thread came to
    thread: str  # the thread's first Message-ID (its case_threads row)
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str  # "Re: [案例号: CAS-...] ..."
    in_reply_to: str  # the last message's Message-ID
    references: tuple[str, ...]  # the thread, oldest first, ending with in_reply_to
    lang: str
    at: str = ""  # when that message was read


def remember_route(db: Database, case_id: int, route: MailRoute) -> None:
    """The case's route is its latest message's (a message read earlier, a
    duplicate, leaves it as it is)."""
    with writing(db):
        db.execute(
            "insert into mail_routes (case_id, mailbox, thread, addr_to, addr_cc, subject, in_reply_to, refs, lang, at) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (case_id) do update set mailbox = excluded.mailbox, "
            "thread = excluded.thread, addr_to = excluded.addr_to, addr_cc = excluded.addr_cc, "
            "subject = excluded.subject, in_reply_to = excluded.in_reply_to, refs = excluded.refs, "
            "lang = excluded.lang, at = excluded.at where mail_routes.at <= excluded.at",
            [case_id, route.mailbox, route.thread, json.dumps(list(route.to)), json.dumps(list(route.cc)),
             route.subject, route.in_reply_to, json.dumps(list(route.references)), route.lang, route.at])


def route_of(db: Database, case_id: int) -> MailRoute | None:
    row = db.one("select * from mail_routes where case_id = ?", [case_id])
    if row is None:
        return None
    return MailRoute(row["mailbox"], row["thread"], tuple(json.loads(row["addr_to"])), tuple(json.loads(row["addr_cc"])),
                     row["subject"], row["in_reply_to"], tuple(json.loads(row["refs"])), row["lang"], row["at"])


class Claim(Enum):
    TAKEN = "taken"  # this caller sends it now
    SENT = "sent"  # it went out before
    SENDING = "sending"  # someone else is sending it right now
    GONE = "gone"  # no such decision


@dataclass(frozen=True, slots=True)
class ArchiveMail:
    """Where an archive decision's e-mail stands."""

    claim: Claim
    by: str | None = None
    at: str | None = None
    message_id: str | None = None
    to: tuple[str, ...] = ()

    def abandoned(self, stale_before: str) -> bool:
        """Claimed before ``stale_before`` and never sent: its sender died
        during the SMTP exchange, and another may take it over."""
        return self.claim is Claim.SENDING and (self.at or "") < stale_before


def _state(row: dict, claim: Claim) -> ArchiveMail:
    return ArchiveMail(claim, row.get("mail_by"), row.get("mail_at"), row.get("mail_id"),
                       tuple(json.loads(row["mail_to"])) if row.get("mail_to") else ())


def claim_archive_mail(db: Database, decision_id: int, *, who: str | None, at: str, stale_before: str) -> ArchiveMail:
    """Take the sending of a decision's archive e-mail: one caller of
    however many (two engineers, the board and chat) wins.  A claim older
    than ``stale_before`` that never became 'sent' (its sender died during
    the SMTP exchange) may be taken over."""
    with writing(db):
        row = db.one(f"select mail_state, mail_by, mail_at, mail_id, mail_to from decisions where id = ?{db.for_update}",
                     [decision_id])
        if row is None:
            return ArchiveMail(Claim.GONE)
        if row["mail_state"] == "sent":
            return _state(row, Claim.SENT)
        if row["mail_state"] == "sending" and not (state := _state(row, Claim.SENDING)).abandoned(stale_before):
            return state
        db.execute("update decisions set mail_state = 'sending', mail_by = ?, mail_at = ? where id = ?",
                   [who, at, decision_id])
        return ArchiveMail(Claim.TAKEN, who, at)


def release_archive_mail(db: Database, decision_id: int) -> None:
    """The send failed: the next attempt may claim it at once."""
    with writing(db):
        db.execute("update decisions set mail_state = null, mail_by = null, mail_at = null "
                   "where id = ? and mail_state = 'sending'", [decision_id])


def archive_mail_sent(db: Database, decision_id: int, case_id: int, *, message_id: str, to: tuple[str, ...],
                      who: str | None, at: str, line: str, platform: str | None) -> None:
    """Sent: the decision says so, and the case's timeline has it as an
    e-mail follow-up (written once, whatever calls again)."""
    with writing(db):
        db.execute("update decisions set mail_state = 'sent', mail_id = ?, mail_to = ?, mail_by = ?, mail_at = ? "
                   "where id = ?", [message_id, json.dumps(list(to)), who, at, decision_id])
        add_followup(db, case_id, kind="email", who=who, at=at, agreed=line, next_action=None, due=None,
                     platform=platform, origin=f"archive-mail:{decision_id}")


def archive_mail(db: Database, decision_id: int) -> ArchiveMail | None:
    """The state of a decision's e-mail; None when it was never sent nor claimed."""
    row = db.one("select mail_state, mail_by, mail_at, mail_id, mail_to from decisions where id = ?", [decision_id])
    if row is None or row["mail_state"] is None:
        return None
    return _state(row, Claim.SENT if row["mail_state"] == "sent" else Claim.SENDING)

"""Reminders: a follow-up's next action fallen due, a case with no contact
for days.  Each is claimed before it is sent, by one statement, so that
instances sharing the database send it once; a claim never marked sent
(its sender died while sending) may be taken over once it is old."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from store.cases import Case, _case, where
from store.db import Database, writing


class Kind(str, Enum):
    DUE = "due"  # the next action's date has come
    STALE = "stale"  # no contact for the configured number of days


@dataclass(slots=True)
class Reminder:
    case: Case
    kind: Kind

    @property
    def since(self) -> str:
        """What it is about: the due date, or the last contact (or opening)."""
        if self.kind is Kind.DUE:
            return self.case.next_action_due or ""
        return self.case.last_contact_at or self.case.opened_at

    @property
    def key(self) -> str:
        """Once per case and due date; once per silence (a new contact starts another)."""
        return f"{self.kind.value}:{self.case.id}:{self.since}"


def _row(row: dict) -> Case:
    case = _case(row)
    assert case is not None
    return case


# A reminder's key (Reminder.key) as SQL, to leave out the ones already sent.
_KEY_SQL = {Kind.DUE: "'due:' || cases.id || ':' || cases.next_action_due",
            Kind.STALE: "'stale:' || cases.id || ':' || coalesce(cases.last_contact_at, cases.opened_at)"}


def owed(db: Database, today: str, stale_before: str, limit: int = 200, *, unsent_at: str | None = None) -> list[Reminder]:
    """What is owed a reminder: next actions due on or before ``today`` and
    cases not contacted since ``stale_before``, of open and observed cases
    (the digest says them every day they stay so); ``unsent_at`` (a time):
    only those not sent yet, not given up and not waiting to be tried again
    then, filtered before the limit (so that the oldest, already reminded,
    do not hold back the rest for ever)."""

    def not_sent(kind: Kind) -> tuple[str, list]:
        if unsent_at is None:
            return "", []
        return (f" and not exists (select 1 from reminders r where r.key = {_KEY_SQL[kind]} "
                "and (r.sent_at is not null or r.given_up_at is not null or r.retry_at > ?))", [unsent_at])

    clause, params = where(("open", "observing"))
    sql, more = not_sent(Kind.DUE)
    due = [Reminder(_row(r), Kind.DUE) for r in db.query(
        f"select * from cases where {clause} and next_action_due is not null and next_action_due <= ?"
        f"{sql} order by next_action_due, id limit ?", [*params, today, *more, limit])]
    clause, params = where(("open", "observing"), stale_before=stale_before)
    sql, more = not_sent(Kind.STALE)
    stale = [Reminder(_row(r), Kind.STALE) for r in db.query(
        f"select * from cases where {clause}{sql} "
        "order by coalesce(last_contact_at, opened_at), id limit ?", [*params, *more, limit])]
    return due + stale


def pending(db: Database, today: str, stale_before: str, now: str, limit: int = 200) -> list[Reminder]:
    """Reminders owed, not yet sent, and to be tried at ``now``."""
    return owed(db, today, stale_before, limit, unsent_at=now)


def claim(db: Database, reminder: Reminder, by: str, at: str, stale_before: str) -> bool:
    """Take a reminder for sending: True for the one caller that wins."""
    case = reminder.case
    with writing(db):
        cur = db.execute(
            "insert into reminders (key, case_id, kind, owner, due, claimed_by, claimed_at) "
            "values (?, ?, ?, ?, ?, ?, ?) on conflict (key) do nothing",
            [reminder.key, case.id, reminder.kind.value, case.owner, reminder.since, by, at])
        if cur.rowcount > 0:
            return True
        cur = db.execute("update reminders set claimed_by = ?, claimed_at = ? where key = ? and sent_at is null "
                         "and given_up_at is null and claimed_at < ? and (retry_at is null or retry_at <= ?)",
                         [by, at, reminder.key, stale_before, at])
        return cur.rowcount > 0


def sent(db: Database, key: str, at: str) -> None:
    with writing(db):
        db.execute("update reminders set sent_at = ? where key = ?", [at, key])


def failed(db: Database, key: str, at: str, retry_at: Callable[[int], str | None]) -> int:
    """Sending failed: its attempts counted up, and it is tried again from
    ``retry_at(attempts)`` on, or (None) given up; the attempts so far.  One
    transaction: the count and the time it sets are never another's."""
    with writing(db):
        row = db.one("select attempts from reminders where key = ? and sent_at is null", [key])
        if row is None:
            return 0
        attempts = int(row["attempts"]) + 1
        retry = retry_at(attempts)
        db.execute("update reminders set attempts = ?, claimed_by = null, claimed_at = '', retry_at = ?, "
                   "given_up_at = ? where key = ? and sent_at is null",
                   [attempts, retry, None if retry is not None else at, key])
    return attempts


def of_case(db: Database, case_id: int) -> list[dict]:
    return list(db.query("select * from reminders where case_id = ? order by id", [case_id]))

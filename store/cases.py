"""Cases and the chat threads that belong to them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from store.db import Database

from store.audit import record
from store.db import writing
from store.memory import record_fingerprints

PRIORITIES = ("P1", "P2", "P3", "P4")


@dataclass(slots=True)
class Case:
    id: int
    number: str
    title: str | None
    customer: str | None
    contact: str | None
    priority: str
    status: str
    product: str | None
    os: str | None
    owner: str | None
    opened_at: str
    opened_by: str | None
    first_response_at: str | None
    last_contact_at: str | None
    next_action: str | None
    next_action_due: str | None
    verdict_line: str | None
    verdict_json: str | None
    updated_at: str | None
    archived_at: str | None
    lang: str | None
    vendor: str | None = None
    verdict_zh: str | None = None
    owner_ref: str | None = None  # platform:user id of the owner, for a direct message

    @property
    def verdict(self) -> dict | None:
        return json.loads(self.verdict_json) if self.verdict_json else None

    def overdue(self, today: date) -> bool:
        """An open case whose next action was due before today."""
        return bool(self.next_action_due and self.status != "archived" and self.next_action_due < today.isoformat())

    def verdict_in(self, lang: str) -> dict | None:
        """The verdict worded in a language (Chinese when stored, else English)."""
        if lang == "zh" and self.verdict_zh:
            return json.loads(self.verdict_zh)
        return self.verdict


_FIELDS = tuple(Case.__dataclass_fields__)


def _case(row: dict | None) -> Case | None:
    return Case(**{k: row.get(k) for k in _FIELDS}) if row else None


def get(db: Database, number: str) -> Case | None:
    rows = list(db.query("select * from cases where number = ?", [number.upper()]))
    return _case(rows[0]) if rows else None


def get_by_id(db: Database, case_id: int) -> Case | None:
    rows = list(db.query("select * from cases where id = ?", [case_id]))
    return _case(rows[0]) if rows else None


class CaseExists(ValueError):
    pass


def open_case(db: Database, number: str, *, title: str | None, customer: str | None, priority: str,
              who: str | None, at: str, contact: str | None = None, lang: str | None = None,
              platform: str | None = None) -> Case:
    number = number.upper()
    with writing(db):
        # One statement decides, so two instances opening the same number
        # at once make one case (the other is told it exists).
        row = db.execute(
            "insert into cases (number, title, customer, contact, priority, status, opened_at, opened_by, "
            "updated_at, lang, owner) values (?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, null) "
            "on conflict (number) do nothing returning id",
            [number, title, customer, contact, priority, at, who, at, lang]).fetchone()
        if row is None:
            raise CaseExists(number)
        case = get_by_id(db, row[0])
        record(db, at=at, who=who, platform=platform, case_id=case.id, action="open",
               detail={"title": title, "customer": customer, "priority": priority})
    return case


def update(db: Database, case: Case, changes: dict, *, who: str | None, at: str, action: str,
           platform: str | None = None) -> Case:
    """Change fields of a case and say who did it in the audit log."""
    with writing(db):
        current = _case(db.one(f"select * from cases where id = ?{db.for_update}", [case.id]))
        before = {k: getattr(current, k) for k in changes}
        db.update("cases", case.id, {**changes, "updated_at": at})
        record(db, at=at, who=who, platform=platform, case_id=case.id, action=action,
               detail={"from": before, "to": changes})
    return get_by_id(db, case.id)


def mark_first_response(db: Database, case_id: int, at: str) -> None:
    """The first answer from the support side is kept once."""
    with writing(db):
        db.execute("update cases set first_response_at = ? where id = ? and first_response_at is null", [at, case_id])


def set_verdict(db: Database, case_id: int, line: str, verdict: dict, at: str, verdict_zh: dict | None = None) -> None:
    with writing(db):
        db.update("cases", case_id, {
            "verdict_line": line, "verdict_json": json.dumps(verdict, ensure_ascii=False),
            "verdict_zh": json.dumps(verdict_zh, ensure_ascii=False) if verdict_zh else None,
            "vendor": (verdict.get("case") or {}).get("vendor"), "updated_at": at})
        record_fingerprints(db, case_id, verdict, at)


def where(statuses=("open", "observing"), *, stale_before: str | None = None, ids: list[int] | None = None,
          **equal) -> tuple[str, list]:
    """The filter every case list shares: statuses, columns equal to a value
    (or one of several: ``priority=("P2", "P3")``), cases not contacted since
    ``stale_before``, a set of ids.  Empty values do not filter."""
    clauses, params = [f"status in ({','.join('?' * len(statuses))})"], list(statuses)
    for column, value in equal.items():
        if not value:
            continue
        values = [value] if isinstance(value, str) else list(value)
        clauses.append(f"{column} in ({','.join('?' * len(values))})")
        params.extend(values)
    if stale_before:
        clauses.append("coalesce(last_contact_at, opened_at) < ?")
        params.append(stale_before)
    if ids is not None:
        clauses.append(f"id in ({','.join('?' * len(ids))})" if ids else "1 = 0")
        params.extend(ids)
    return " and ".join(clauses), params


def listing(db: Database, *, statuses=("open", "observing"), priorities=None, owner: str | None = None,
            stale_before: str | None = None, limit: int = 50, newest_first: bool = False) -> list[Case]:
    clause, params = where(statuses, priority=priorities, owner=owner, stale_before=stale_before)
    order = "opened_at desc" if newest_first else "opened_at asc"
    return [_case(r) for r in db.query(f"select * from cases where {clause} order by {order}, id limit ?",
                                       [*params, limit])]


def count(db: Database, *, statuses=("open", "observing"), priorities=None) -> int:
    clause, params = where(statuses, priority=priorities)
    return next(db.query(f"select count(*) as n from cases where {clause}", params))["n"]


def by_ids(db: Database, ids: list[int]) -> dict[int, Case]:
    if not ids:
        return {}
    rows = db.query(f"select * from cases where id in ({','.join('?' * len(ids))})", ids)
    return {r["id"]: _case(r) for r in rows}


# ----------------------------------------------------------------- threads

def bind_thread(db: Database, case_id: int, platform: str, channel: str, thread: str, at: str) -> None:
    with writing(db):
        db.execute(
            "insert into case_threads (case_id, platform, channel, thread, created_at) values (?, ?, ?, ?, ?) "
            "on conflict (platform, channel, thread) do nothing",
            [case_id, platform, channel, thread, at],
        )


def case_for_thread(db: Database, platform: str, channel: str, thread: str) -> Case | None:
    rows = list(db.query(
        "select cases.* from case_threads join cases on cases.id = case_threads.case_id "
        "where platform = ? and channel = ? and thread = ?", [platform, channel, thread]))
    return _case(rows[0]) if rows else None


def threads_of(db: Database, case_id: int) -> list[dict]:
    return list(db.query("select platform, channel, thread from case_threads where case_id = ? order by id",
                         [case_id]))

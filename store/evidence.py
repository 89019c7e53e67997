"""Uploaded evidence: the files (one copy per sha256, kept by store.files),
which cases they belong to, and the verdicts read from them."""

from __future__ import annotations

import json

from store.db import Database

from store.audit import record
from store.db import writing
from store.files import StoredFile


def add_dump(db: Database, stored: StoredFile, name: str, kind: str | None, at: str) -> int:
    with writing(db):
        db.execute(
            "insert into dumps (sha256, name, size, kind, path, created_at) values (?, ?, ?, ?, ?, ?) "
            "on conflict (sha256) do nothing",
            [stored.sha256, name, stored.size, kind, stored.path, at],
        )
        return next(db.query("select id from dumps where sha256 = ?", [stored.sha256]))["id"]


def dump(db: Database, dump_id: int) -> dict | None:
    rows = list(db.query("select * from dumps where id = ?", [dump_id]))
    return rows[0] if rows else None


def attach(db: Database, case_id: int, dump_id: int, *, who: str | None, at: str, platform: str | None = None) -> bool:
    """Link a dump to a case; False when it was already linked."""
    with writing(db):
        cur = db.execute(
            "insert into case_dumps (case_id, dump_id, added_at, added_by) values (?, ?, ?, ?) "
            "on conflict do nothing", [case_id, dump_id, at, who])
        added = cur.rowcount > 0
        if added:
            record(db, at=at, who=who, platform=platform, case_id=case_id, action="attach", detail={"dump_id": dump_id})
    return added


def case_dumps(db: Database, case_id: int) -> list[dict]:
    return list(db.query(
        "select dumps.*, case_dumps.added_at, case_dumps.added_by from case_dumps "
        "join dumps on dumps.id = case_dumps.dump_id where case_id = ? order by case_dumps.added_at, dumps.id",
        [case_id]))


def save_analysis(db: Database, dump_id: int, engine: str, verdict: dict, summary: str, at: str) -> None:
    with writing(db):
        db.insert("analyses", {"dump_id": dump_id, "engine": engine,
                               "verdict_json": json.dumps(verdict, ensure_ascii=False),
                               "summary": summary, "created_at": at})



def analysed(db: Database, dump_id: int, engine: str) -> bool:
    """A file has an analysis (or a recorded failure) under this engine."""
    return db.one("select 1 as x from analyses where dump_id = ? and engine = ? limit 1", [dump_id, engine]) is not None


def mark_failed(db: Database, dump_id: int, engine: str, reason: str, at: str) -> None:
    """A file whose analysis timed out or killed its worker: later analyses
    of the case leave it out rather than fail again on it."""
    save_analysis(db, dump_id, engine, {"failed": reason}, "", at)


def failed_dumps(db: Database, case_id: int) -> set[int]:
    rows = db.query(
        "select a.dump_id, a.verdict_json from analyses a join case_dumps cd on cd.dump_id = a.dump_id "
        "where cd.case_id = ? and a.id = (select max(id) from analyses where dump_id = a.dump_id)", [case_id])
    return {r["dump_id"] for r in rows if '"failed"' in (r["verdict_json"] or "")[:20]}


# ------------------------------------------------- uploads waiting for a case

def park_upload(db: Database, platform: str, channel: str, thread: str, user: str | None, dump_id: int, at: str) -> None:
    with writing(db):
        db.insert("pending_uploads", {"platform": platform, "channel": channel, "thread": thread,
                                      "user": user, "dump_id": dump_id, "at": at})


def file_parked(db: Database, platform: str, channel: str, thread: str, case_id: int, *, who: str | None,
                at: str) -> list[str]:
    """Uploads made in a conversation before it had a case go under the case
    it now has, once: taken and attached in one transaction.  Their names."""
    return _file_waiting(db, "p.platform = ? and p.channel = ? and p.thread = ?", [platform, channel, thread],
                         case_id, who=who, at=at)


def file_held(db: Database, number: str, case_id: int, *, who: str | None, at: str) -> list[str]:
    """Uploads that named a case before it was opened (``upload x.dmp
    CAS-...``, from any conversation) go under it now, once.  Their names."""
    return _file_waiting(db, "p.thread = ?", [held_for(number)], case_id, who=who, at=at)


def held_for(number: str) -> str:
    """Where an upload naming a case not yet opened waits (pending_uploads.thread)."""
    return f"case:{number.upper()}"


def _file_waiting(db: Database, clause: str, params: list, case_id: int, *, who: str | None, at: str) -> list[str]:
    # Read first: most cards shown have nothing waiting, and need no write lock.
    if db.one("select 1 as x from pending_uploads p where " + clause + " limit 1", params) is None:
        return []
    with writing(db):
        rows = list(db.query(
            "select p.id, p.dump_id, p.platform, d.name from pending_uploads p join dumps d on d.id = p.dump_id "
            "where " + clause + " order by p.id", params))
        if not rows:
            return []
        db.execute(f"delete from pending_uploads where id in ({','.join('?' * len(rows))})", [r["id"] for r in rows])
        for r in rows:
            attach(db, case_id, r["dump_id"], who=who, at=at, platform=r["platform"])
    return [r["name"] for r in rows]


def refuse(db: Database, dump_id: int, *, case_id: int | None, who: str | None, at: str,
           platform: str | None = None) -> str | None:
    """An upload no reader could read: taken off the case (or out of the
    uploads waiting for one), so that it is neither filed nor counted, and
    forgotten when nothing else refers to it.  The stored file's path when
    it may be removed too."""
    with writing(db):
        if case_id is not None:
            cur = db.execute("delete from case_dumps where case_id = ? and dump_id = ?", [case_id, dump_id])
            if cur.rowcount > 0:
                record(db, at=at, who=who, platform=platform, case_id=case_id, action="refuse_upload",
                       detail={"dump_id": dump_id})
        else:
            db.execute("delete from pending_uploads where dump_id = ?", [dump_id])
        still = db.one("select 1 as x from case_dumps where dump_id = ? union all "
                       "select 1 as x from pending_uploads where dump_id = ? limit 1", [dump_id, dump_id])
        if still is not None:
            return None
        row = db.one(f"select path from dumps where id = ?{db.for_update}", [dump_id])
        db.execute("delete from analyses where dump_id = ?", [dump_id])
        db.execute("delete from dumps where id = ?", [dump_id])
    return row["path"] if row else None

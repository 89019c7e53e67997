"""Bookkeeping that keeps the bot honest across retries and restarts:
deliveries already seen, digests already sent, settings, durable jobs."""

from __future__ import annotations

import json

from store.db import Database

from store.db import writing


def first_sighting(db: Database, key: str, at: str) -> bool:
    """True the first time a delivery key (Slack event id, WeCom MsgId...) is
    seen; retries and duplicate deliveries get False."""
    with writing(db):
        cur = db.execute("insert into seen_events (key, at) values (?, ?) on conflict (key) do nothing", [key, at])
        return cur.rowcount > 0


def claim_digest(db: Database, channel: str, day: str, at: str, stale_before: str | None = None) -> bool:
    """Take the day's digest for a channel; only one process, once per day,
    wins, whatever restarts happen.  A claim older than ``stale_before``
    that was never marked sent (the claimer died while sending) may be
    taken over."""
    with writing(db):
        cur = db.execute("insert into digests (channel, day, claimed_at) values (?, ?, ?) "
                         "on conflict (channel, day) do nothing", [channel, day, at])
        if cur.rowcount > 0:
            return True
        if stale_before is None:
            return False
        cur = db.execute("update digests set claimed_at = ? where channel = ? and day = ? and sent_at is null "
                         "and claimed_at < ?", [at, channel, day, stale_before])
        return cur.rowcount > 0


def digest_sent(db: Database, channel: str, day: str, at: str) -> None:
    with writing(db):
        db.execute("update digests set sent_at = ? where channel = ? and day = ?", [at, channel, day])


def release_digest(db: Database, channel: str, day: str) -> None:
    """Sending failed: let the next tick try again."""
    with writing(db):
        db.execute("delete from digests where channel = ? and day = ? and sent_at is null", [channel, day])


def get_setting(db: Database, key: str, default: str | None = None) -> str | None:
    rows = list(db.query("select value from settings where key = ?", [key]))
    return rows[0]["value"] if rows else default


def set_setting(db: Database, key: str, value: str) -> None:
    with writing(db):
        db.execute("insert into settings (key, value) values (?, ?) on conflict (key) do update set value = excluded.value",
                   [key, value])


def setting_once(db: Database, key: str, make) -> str:
    """A setting created on first use and the same for every process after."""
    with writing(db):
        db.execute("insert into settings (key, value) values (?, ?) on conflict (key) do nothing", [key, make()])
        return get_setting(db, key)


# -------------------------------------------------------------------- jobs

def enqueue(db: Database, kind: str, payload: dict, *, dedupe: str, at: str) -> int | None:
    """A durable job; None when one with the same dedupe key exists."""
    with writing(db):
        row = db.execute(
            "insert into jobs (kind, dedupe, payload, status, attempts, not_before, created_at, updated_at) "
            "values (?, ?, ?, 'queued', 0, ?, ?, ?) on conflict (dedupe) do nothing returning id",
            [kind, dedupe, json.dumps(payload, ensure_ascii=False), at, at, at]).fetchone()
        return row[0] if row else None


def claim_job(db: Database, now: str, kinds: tuple[str, ...] | None = None) -> dict | None:
    """The oldest due job, marked running (a crashed run is picked up again
    after a restart by ``requeue_running``)."""
    with writing(db):
        sql = "select * from jobs where status = 'queued' and not_before <= ?"
        params: list = [now]
        if kinds:
            sql += f" and kind in ({','.join('?' * len(kinds))})"
            params.extend(kinds)
        rows = list(db.query(sql + " order by id limit 1", params))
        if not rows:
            return None
        job = rows[0]
        db.execute("update jobs set status = 'running', attempts = attempts + 1, updated_at = ? where id = ?",
                   [now, job["id"]])
    job["payload"] = json.loads(job["payload"])
    job["attempts"] += 1
    return job


def finish_job(db: Database, job_id: int, at: str, error: str | None = None, retry_at: str | None = None) -> None:
    with writing(db):
        if error and retry_at:
            db.execute("update jobs set status = 'queued', not_before = ?, error = ?, updated_at = ? where id = ?",
                       [retry_at, error, at, job_id])
        else:
            db.execute("update jobs set status = ?, error = ?, updated_at = ? where id = ?",
                       ["failed" if error else "done", error, at, job_id])


def defer_job(db: Database, job_id: int, at: str, until: str) -> None:
    """Put a job back to run no sooner than ``until`` (not a failure)."""
    with writing(db):
        db.execute("update jobs set status = 'queued', not_before = ?, attempts = case when attempts > 0 then attempts - 1 else 0 end, "
                   "updated_at = ? where id = ?", [until, at, job_id])


def requeue_running(db: Database, at: str) -> int:
    """After a restart: jobs that were running when the process died."""
    with writing(db):
        return db.execute("update jobs set status = 'queued', updated_at = ? where status = 'running'", [at]).rowcount


def pending_jobs(db: Database) -> int:
    return next(db.query("select count(*) as n from jobs where status in ('queued', 'running')"))["n"]

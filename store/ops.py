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


def seen(db: Database, key: str) -> bool:
    return db.one("select 1 as x from seen_events where key = ?", [key]) is not None


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


def check_writable(db: Database, who: str) -> None:
    """A real write, rolled back: raises StoreError (read-only, full...)
    when the database cannot take one."""
    try:
        with writing(db):
            db.execute("insert into settings (key, value) values ('write_check', ?) "
                       "on conflict (key) do update set value = excluded.value", [who[:200]])
            raise _RollBack
    except _RollBack:
        pass


class _RollBack(Exception):
    pass


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
        value = get_setting(db, key)
    assert value is not None  # inserted or already there, in this transaction
    return value


# -------------------------------------------------------------------- jobs
# A job is queued, then running under one owner until its lease runs out;
# the owner renews the lease while it works.  A lease that ran out means
# its instance died or hung: the job may be claimed again (by any
# instance), until it has used its attempts.

JOB_CHANNEL = "crashdesk_jobs"  # PostgreSQL NOTIFY channel: a job was queued


def enqueue(db: Database, kind: str, payload: dict, *, dedupe: str, at: str, not_before: str | None = None) -> int | None:
    """A durable job; None when one with the same dedupe key exists."""
    with writing(db):
        row = db.execute(
            "insert into jobs (kind, dedupe, payload, status, attempts, not_before, created_at, updated_at) "
            "values (?, ?, ?, 'queued', 0, ?, ?, ?) on conflict (dedupe) do nothing returning id",
            [kind, dedupe, json.dumps(payload, ensure_ascii=False), not_before or at, at, at]).fetchone()
        if row and db.dialect == "postgresql":
            db.execute("select pg_notify(?, ?)", [JOB_CHANNEL, kind])
        return row[0] if row else None


def _job(row: dict | None) -> dict | None:
    if row is None:
        return None
    row = dict(row)
    row["payload"] = json.loads(row["payload"])
    return row


def claim_job(db: Database, now: str, owner: str, lease_until: str, kinds: tuple[str, ...],
              max_attempts: int = 3) -> dict | None:
    """The oldest due job of these kinds (queued and due, or running under a
    lease that ran out), now running under ``owner`` until ``lease_until``.
    Instances claiming at once never get the same job: SQLite's write lock,
    PostgreSQL's row lock with SKIP LOCKED."""
    if not kinds:
        return None
    marks = ",".join("?" * len(kinds))
    with writing(db):
        row = db.one(
            "update jobs set status = 'running', owner = ?, lease_until = ?, attempts = attempts + 1, "
            "updated_at = ? where id = (select id from jobs where kind in (" + marks + ") and attempts < ? and "
            "((status = 'queued' and not_before <= ?) or (status = 'running' and lease_until < ?)) "
            "order by id limit 1" + db.skip_locked + ") returning *",
            [owner, lease_until, now, *kinds, max_attempts, now, now])
    return _job(row)


def expired_jobs(db: Database, now: str, kinds: tuple[str, ...], max_attempts: int) -> list[dict]:
    """Jobs whose every attempt ended with its instance gone (a file that
    kills whoever reads it, say): marked failed, and returned so that the
    person can be told."""
    if not kinds:
        return []
    marks = ",".join("?" * len(kinds))
    with writing(db):
        rows = list(db.query(
            "update jobs set status = 'failed', error = 'lease expired on every attempt', updated_at = ? "
            "where id in (select id from jobs where kind in (" + marks + ") and status = 'running' "
            "and lease_until < ? and attempts >= ?" + db.skip_locked + ") returning *",
            [now, *kinds, now, max_attempts]))
    return [job for job in (_job(r) for r in rows) if job is not None]


def renew_job(db: Database, job_id: int, owner: str, lease_until: str) -> bool:
    """Extend the lease; False when the job is no longer ours."""
    with writing(db):
        cur = db.execute("update jobs set lease_until = ? where id = ? and owner = ? and status = 'running'",
                         [lease_until, job_id, owner])
        return cur.rowcount > 0


def finish_job(db: Database, job_id: int, owner: str, at: str, error: str | None = None,
               retry_at: str | None = None) -> bool:
    """Done, failed, or (with ``retry_at``) queued again; False when another
    instance took the job over meanwhile (its outcome stands)."""
    with writing(db):
        if error and retry_at:
            cur = db.execute("update jobs set status = 'queued', not_before = ?, error = ?, owner = null, "
                             "lease_until = null, updated_at = ? where id = ? and owner = ?",
                             [retry_at, error, at, job_id, owner])
        else:
            cur = db.execute("update jobs set status = ?, error = ?, lease_until = null, updated_at = ? "
                             "where id = ? and owner = ?", ["failed" if error else "done", error, at, job_id, owner])
        return cur.rowcount > 0


def defer_job(db: Database, job_id: int, owner: str, at: str, until: str) -> None:
    """Put a job back to run no sooner than ``until`` (not a failure)."""
    with writing(db):
        db.execute("update jobs set status = 'queued', not_before = ?, owner = null, lease_until = null, "
                   "attempts = case when attempts > 0 then attempts - 1 else 0 end, updated_at = ? "
                   "where id = ? and owner = ?", [until, at, job_id, owner])


def job_state(db: Database, job_id: int) -> dict | None:
    return db.one("select id, kind, status, attempts, error from jobs where id = ?", [job_id])


def pending_jobs(db: Database, kinds: tuple[str, ...] | None = None) -> int:
    sql = "select count(*) as n from jobs where status in ('queued', 'running')"
    params: list = []
    if kinds:
        sql += f" and kind in ({','.join('?' * len(kinds))})"
        params = list(kinds)
    row = db.one(sql, params)
    return row["n"] if row else 0


# ------------------------------------------------------------------ leases

def take_lease(db: Database, name: str, owner: str, now: str, until: str) -> bool:
    """Hold ``name`` until ``until``: True when it was free, ran out, or is
    already ours (renewed).  What only one instance may do at a time (a
    long connection to a platform) runs while its holder keeps renewing."""
    with writing(db):
        cur = db.execute(
            "insert into leases (name, owner, until) values (?, ?, ?) on conflict (name) do update "
            "set owner = excluded.owner, until = excluded.until where leases.owner = excluded.owner "
            "or leases.until < ?", [name, owner, until, now])
        return cur.rowcount > 0


def release_lease(db: Database, name: str, owner: str) -> None:
    with writing(db):
        db.execute("delete from leases where name = ? and owner = ?", [name, owner])


def lease_holder(db: Database, name: str, now: str) -> str | None:
    row = db.one("select owner from leases where name = ? and until >= ?", [name, now])
    return row["owner"] if row else None


# ----------------------------------------------------- a shared send budget

def reserve_sends(db: Database, dest: str, n: int, now: str, window_start: str, rate: int) -> str | None:
    """Take ``n`` of ``rate`` send slots of the window for one destination
    (WeCom: 30 messages a minute per person), for the whole cluster.  None
    when taken; otherwise nothing is taken and the answer is the time of
    the oldest slot that must leave the window first.  More than the rate
    at once waits for an empty window and then goes."""
    with writing(db):
        db.execute("insert into send_budget (dest) values (?) on conflict (dest) do nothing", [dest])
        db.execute(f"select dest from send_budget where dest = ?{db.for_update}", [dest])  # one taker at a time
        db.execute("delete from send_slots where dest = ? and at <= ?", [dest, window_start])
        times = [r["at"] for r in db.query("select at from send_slots where dest = ? order by at, id", [dest])]
        over = len(times) + min(n, rate) - rate
        if over > 0:
            return times[over - 1]
        for _ in range(n):
            db.execute("insert into send_slots (dest, at) values (?, ?)", [dest, now])
    return None

"""Tables of the case record, as migrations written once for both engines.

A database created by any earlier version is brought up to date on open,
and a failed step rolls back whole.  On SQLite the steps run through
sqlite-utils' ``Migrations`` (recorded in ``_sqlite_migrations``, as every
earlier version did); on PostgreSQL the same steps are recorded in
``crashdesk_migrations``, under an advisory lock so that instances starting
together apply each step once."""

from __future__ import annotations

import datetime
from typing import Callable

from sqlite_utils import Migrations

from store.db import Database, Failure, SQLiteDatabase, StoreError, shown

SET = "crashdesk"
STEPS: list[tuple[str, Callable[[Database], None]]] = []
KNOWN: list[str] = []  # every step this version has, in order
_LOCK = 0x0C4A5D35  # pg_advisory_xact_lock key for applying migrations


def _step(name: str):
    def register(fn):
        STEPS.append((name, fn))
        KNOWN.append(name)
        return fn
    return register


def _run(db: Database, statements: str) -> None:
    for statement in statements.split(";"):
        if statement.strip():
            db.execute(db.ddl(statement))


FTS_COLUMNS = {
    "cases": ("number", "title", "customer", "verdict_line"),
    "followups": ("agreed", "next_action"),
    "analyses": ("summary",),
    "decisions": ("reason", "summary"),
    "messages": ("text",),
}


@_step("001_case_record")
def _m001(db: Database) -> None:
    _run(db, """
    create table cases (
        id {id}, number text not null, title text, customer text, contact text,
        priority text not null default 'P3', status text not null default 'open',
        product text, os text, owner text, opened_at text not null, opened_by text,
        first_response_at text, last_contact_at text, next_action text, next_action_due text,
        verdict_line text, verdict_json text, updated_at text, archived_at text, lang text);
    create unique index idx_cases_number on cases (number);
    create index idx_cases_status_priority_opened_at on cases (status, priority, opened_at);

    create table case_threads (
        id {id}, case_id bigint not null references cases (id), platform text not null,
        channel text not null, thread text not null, created_at text);
    create unique index idx_case_threads_platform_channel_thread on case_threads (platform, channel, thread);
    create index idx_case_threads_case_id on case_threads (case_id);

    create table dumps (
        id {id}, sha256 text not null, name text not null, size bigint not null, kind text, path text,
        created_at text);
    create unique index idx_dumps_sha256 on dumps (sha256);

    create table case_dumps (
        case_id bigint references cases (id), dump_id bigint references dumps (id), added_at text,
        added_by text, primary key (case_id, dump_id));

    create table analyses (
        id {id}, dump_id bigint not null references dumps (id), engine text, verdict_json text not null,
        summary text, created_at text);
    create index idx_analyses_dump_id on analyses (dump_id);

    create table followups (
        id {id}, case_id bigint not null references cases (id), kind text not null, who text,
        at text not null, agreed text, next_action text, due text);
    create index idx_followups_case_id_at on followups (case_id, at);

    create table messages (
        id {id}, case_id bigint not null references cases (id), platform text, channel text, thread text,
        ts text, "user" text, text text, is_bot bigint, at text not null);
    create unique index idx_messages_platform_channel_ts on messages (platform, channel, ts);
    create index idx_messages_case_id_at on messages (case_id, at);

    create table decisions (
        id {id}, case_id bigint not null references cases (id), kind text not null, reason text,
        summary text, email text, who text, at text not null, lang text);
    create index idx_decisions_case_id_at on decisions (case_id, at);

    create table audit (
        id {id}, at text not null, who text, platform text, case_id bigint, action text not null,
        detail text);
    create index idx_audit_case_id_at on audit (case_id, at);

    create table pending_uploads (
        id {id}, platform text, channel text, thread text, "user" text,
        dump_id bigint references dumps (id), at text);
    create index idx_pending_uploads_platform_channel_thread on pending_uploads (platform, channel, thread);

    create table digests (channel text, day text, claimed_at text, sent_at text, primary key (channel, day));
    create table seen_events (key text primary key, at text);
    create table settings (key text primary key, value text);

    create table jobs (
        id {id}, kind text not null, dedupe text, payload text, status text not null default 'queued',
        attempts bigint default 0, not_before text, created_at text not null, updated_at text, error text);
    create unique index idx_jobs_dedupe on jobs (dedupe);
    create index idx_jobs_status_not_before on jobs (status, not_before)
    """)
    # Full-text search over what an engineer would look for later.
    for table, columns in FTS_COLUMNS.items():
        db.text_index(table, columns)


@_step("002_vendor_and_chinese_verdict")
def _m002(db: Database) -> None:
    # The vendor behind a case, kept beside the verdict so the board can
    # filter and count by it; and the verdict worded in Chinese as well.
    _run(db, """
    alter table cases add column vendor text;
    alter table cases add column verdict_zh text;
    create index idx_cases_vendor on cases (vendor)
    """)


@_step("003_cluster")
def _m003(db: Database) -> None:
    # Jobs have an owner and a lease: only a lease that ran out (its
    # instance died or hung) lets another instance take the job over.
    # Leases also elect the one instance that holds a long connection;
    # send slots are WeCom's per-person budget, one for the whole cluster.
    # A follow-up remembers the message it came from, so a job run again
    # after a crash does not log it twice.
    _run(db, """
    alter table jobs add column owner text;
    alter table jobs add column lease_until text;
    create index idx_jobs_kind_status on jobs (kind, status);
    create table leases (name text primary key, owner text not null, until text not null);
    create table send_budget (dest text primary key);
    create table send_slots (id {id}, dest text not null, at text not null);
    create index idx_send_slots_dest_at on send_slots (dest, at);
    alter table followups add column origin text;
    create unique index idx_followups_origin on followups (origin)
    """)


@_step("004_memory")
def _m004(db: Database) -> None:
    # Memory across cases: each verdict's crash fingerprints, so a new crash
    # finds the cases where the same bug was seen; and known issues the desk
    # proposed when a case was archived, for a support lead to confirm.
    _run(db, """
    create table fingerprints (
        case_id bigint not null references cases (id), source text not null, bucket text not null,
        exact text, module text, version text, at text not null, primary key (case_id, source));
    create index idx_fingerprints_bucket on fingerprints (bucket);
    create index idx_fingerprints_module on fingerprints (module);
    create table issue_proposals (
        id {id}, case_id bigint not null references cases (id), rule text not null,
        status text not null default 'proposed', proposed_by text, proposed_at text not null,
        decided_by text, decided_at text);
    create index idx_issue_proposals_status on issue_proposals (status)
    """)


@_step("005_reminders")
def _m005(db: Database) -> None:
    # A reminder (a next action fallen due, a case gone quiet) is claimed
    # here before it is sent, once per case and due date (or per silence),
    # by one instance of however many run, and marked sent after: neither a
    # restart nor a second instance sends it twice.  An archived case has
    # no next action (the archive now clears it; so for those before).
    # owner_ref: where the owner can be reached one to one
    # ("slack:U0123", "wecom:zhangsan"), when they took the case themselves.
    _run(db, """
    create table reminders (
        id {id}, key text not null, case_id bigint not null references cases (id), kind text not null,
        owner text, due text, claimed_by text, claimed_at text not null, sent_at text);
    create unique index idx_reminders_key on reminders (key);
    create index idx_reminders_case_id on reminders (case_id);
    alter table cases add column owner_ref text;
    update cases set next_action = null, next_action_due = null where status = 'archived'
    """)


@_step("006_sessions")
def _m006(db: Database) -> None:
    # Board sessions kept server-side: the cookie holds a random token and
    # the table its SHA-256, so that signing out or expiry ends a session
    # for good (an old cookie finds a revoked or expired row, or none).  A
    # session opened from a case link reaches that case only.
    _run(db, """
    create table sessions (
        id {id}, token_hash text not null, "user" text not null, platform text not null, case_number text,
        csrf text not null, created_at text not null, expires_at text not null, revoked_at text,
        last_seen_at text);
    create unique index idx_sessions_token_hash on sessions (token_hash);
    create index idx_sessions_user on sessions ("user", platform);
    create index idx_sessions_expires_at on sessions (expires_at)
    """)


@_step("007_case_mail")
def _m007(db: Database) -> None:
    # The mail thread a case came in on (the latest message of it, whom to
    # answer and how to thread the answer), one row per case; and the
    # archive e-mail's sending, once per archive decision: claimed
    # ('sending') before the SMTP exchange, 'sent' after it with the
    # Message-ID and the recipients.
    _run(db, """
    create table mail_routes (
        case_id bigint primary key references cases (id), mailbox text not null, thread text not null,
        addr_to text not null, addr_cc text not null, subject text not null, in_reply_to text not null,
        refs text not null, lang text not null, at text not null);
    alter table decisions add column mail_state text;
    alter table decisions add column mail_by text;
    alter table decisions add column mail_at text;
    alter table decisions add column mail_id text;
    alter table decisions add column mail_to text
    """)


@_step("008_reminder_retries")
def _m008(db: Database) -> None:
    # A reminder whose delivery failed is tried again later and later, not
    # every round: ``attempts`` so far, ``retry_at`` the earliest next try,
    # ``given_up_at`` when it stopped being tried (the digest still lists
    # the case while it stays due or quiet).  A failed one used to be
    # deleted and claimed afresh every minute, for ever.
    _run(db, """
    alter table reminders add column attempts integer not null default 0;
    alter table reminders add column retry_at text;
    alter table reminders add column given_up_at text
    """)


@_step("009_email_lang")
def _m009(db: Database) -> None:
    # The language the archive decision's customer e-mail is written in:
    # the case's (the customer's) when the case has a mail thread to send
    # it into, whatever language the engineer archived in.  Older
    # decisions wrote it in the decision's language.
    _run(db, """
    alter table decisions add column email_lang text;
    update decisions set email_lang = lang where email is not null
    """)


# ------------------------------------------------------------------ running

def _sqlite_migrations() -> Migrations:
    migrations = Migrations(SET)
    for name, fn in STEPS:
        migrations(name=name)(_on_utils(fn))
    return migrations


def _on_utils(fn: Callable[[Database], None]):
    def run(utils_db):
        fn(SQLiteDatabase("", utils_db))
    run.__name__ = fn.__name__
    return run


_SQLITE = _sqlite_migrations()


def _refuse_newer(db: Database, applied: list[str]) -> None:
    newer = [name for name in applied if name not in KNOWN]
    if newer:
        # Its tables may mean something this version does not know.
        raise StoreError(f"{shown(db.location)} was written by a newer crashdesk (schema step {newer[-1]}); "
                         "upgrade crashdesk to use it — nothing was written to it", Failure.NEWER)


def migrate(db: Database) -> None:
    if isinstance(db, SQLiteDatabase):
        _refuse_newer(db, [m.name for m in _SQLITE.applied(db.utils)])
        if _SQLITE.pending(db.utils):
            # The write lock only when there is something to do: a busy
            # writer does not stall every start-up.
            with db.writing():
                _SQLITE.apply(db.utils)
        return
    if not _pg_pending(db):
        return
    with db.writing():
        db.execute("select pg_advisory_xact_lock(?)", [_LOCK])
        db.execute("create table if not exists crashdesk_migrations (migration_set text not null, "
                   "name text not null, applied_at text not null, primary key (migration_set, name))")
        applied = _pg_applied(db)
        _refuse_newer(db, applied)
        for name, fn in STEPS:
            if name in applied:
                continue
            fn(db)
            db.execute("insert into crashdesk_migrations (migration_set, name, applied_at) values (?, ?, ?)",
                       [SET, name, str(datetime.datetime.now(datetime.timezone.utc))])


def _pg_applied(db: Database) -> list[str]:
    return [r["name"] for r in db.query(
        "select name from crashdesk_migrations where migration_set = ? order by applied_at, name", [SET])]


def _pg_pending(db: Database) -> bool:
    """Read-only: whether anything is left to apply (a newer database is
    refused here too, before any write)."""
    found = db.one("select to_regclass('crashdesk_migrations') as t")
    if found is None or found["t"] is None:
        return True
    applied = _pg_applied(db)
    _refuse_newer(db, applied)
    return any(name not in applied for name in KNOWN)

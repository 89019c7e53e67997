"""Opening the case database: pragmas, migrations, and the errors a user can
act on.  One SQLite file; WAL so the bot, the console and the board can read
while one of them writes; writes in BEGIN IMMEDIATE transactions so that two
processes never interleave a read-modify-write."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from sqlite_utils import Database

from store.schema import KNOWN, migrations

BUSY_TIMEOUT_S = 10.0


class StoreError(Exception):
    """A database problem worded for the person at the keyboard."""


def explain(exc: sqlite3.Error, path: str | Path) -> StoreError:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return StoreError(f"the case database {path} is busy (another crashdesk is writing); nothing was lost, try again")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StoreError(f"{path} is not a crashdesk database or is damaged; nothing was written to it")
    if "readonly" in text or "read-only" in text:
        return StoreError(f"the case database {path} is read-only")
    if "disk" in text and "full" in text:
        return StoreError(f"the disk holding {path} is full; the last change was not saved")
    if "unable to open" in text:
        return StoreError(f"cannot open the case database {path} (does its folder exist and is it writable?)")
    return StoreError(f"database error on {path}: {exc}")


def connect(path: str | Path, busy_timeout: float = BUSY_TIMEOUT_S) -> Database:
    """Open (and create or upgrade) the database.  Call from the thread that
    will use it: a connection belongs to its thread."""
    path = str(path)
    if path != ":memory:":
        Path(path).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, timeout=busy_timeout)
    except sqlite3.Error as exc:
        raise explain(exc, path) from None
    try:
        db = Database(conn)
        db.execute("PRAGMA foreign_keys = ON")
        db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        if path != ":memory:" and db.journal_mode != "wal":
            db.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")
        newer = [m.name for m in migrations.applied(db) if m.name not in KNOWN]
        if newer:
            # Its tables may mean something this version does not know.
            raise StoreError(f"{path} was written by a newer crashdesk (schema step {newer[-1]}); "
                             "upgrade crashdesk to use it — nothing was written to it")
        if migrations.pending(db):
            # The write lock only when there is something to do: a busy
            # writer does not stall every start-up.
            with _immediate(db):
                migrations.apply(db)
    except BaseException as exc:
        conn.close()
        if isinstance(exc, sqlite3.Error):
            raise explain(exc, path) from None
        raise
    return db


@contextlib.contextmanager
def _immediate(db: Database):
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.rollback()
        raise
    else:
        db.conn.execute("COMMIT")


def writing(db: Database):
    """A write transaction that takes the write lock first (BEGIN IMMEDIATE),
    so a concurrent writer makes us wait rather than fail half-way.  Nested
    uses become savepoints."""
    if db.conn.in_transaction:
        return db.atomic()
    return _immediate(db)

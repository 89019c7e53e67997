"""Opening the case database on either engine, and the errors a user can
act on.

  SQLite (the embedded default): one file, through sqlite-utils; WAL so the
  bot, the console and the board can read while one of them writes; writes
  in BEGIN IMMEDIATE transactions so that two processes never interleave a
  read-modify-write.

  PostgreSQL (``CRASHDESK_DB=postgresql://...``, psycopg 3): what several
  instances share; row locks (``for update``) where SQLite relies on its
  single writer.

Every query in store/ is written once, in the SQL both engines speak (``?``
placeholders, ``on conflict``, ``returning``); the few places they differ
are attributes of the connection (``for_update``, ``like``) and the two
methods the schema needs (``ddl``, ``text_index``)."""

from __future__ import annotations

import contextlib
import enum
import functools
import sqlite3
from pathlib import Path
from typing import Any, Iterator

from sqlite_utils import Database as UtilsDatabase

from store.errors import CrashdeskError

BUSY_TIMEOUT_S = 10.0
PG_SCHEMES = ("postgresql://", "postgres://")


class Failure(enum.Enum):
    BUSY = "busy"
    DAMAGED = "damaged"
    READ_ONLY = "read-only"
    FULL = "full"
    UNREACHABLE = "unreachable"
    NEWER = "newer"
    OTHER = "other"


_RETRYABLE = {Failure.BUSY, Failure.FULL, Failure.UNREACHABLE}


class StoreError(CrashdeskError):
    """A database problem worded for the person at the keyboard."""

    def __init__(self, message: str, failure: Failure = Failure.OTHER):
        super().__init__(message)
        self.failure = failure

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        return self.failure in _RETRYABLE


def is_postgres(location: str | Path) -> bool:
    return str(location).startswith(PG_SCHEMES)


def shown(location: str | Path) -> str:
    """A database location fit for a message: a URL without its password."""
    text = str(location)
    if not is_postgres(text):
        return text
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(text)
    host = parts.hostname or ""
    netloc = (f"{parts.username}@" if parts.username else "") + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _sqlite_failure(exc: sqlite3.Error) -> Failure:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return Failure.BUSY
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return Failure.DAMAGED
    if "readonly" in text or "read-only" in text:
        return Failure.READ_ONLY
    if ("disk" in text or "database" in text) and "full" in text:
        return Failure.FULL
    if "unable to open" in text or "disk i/o" in text:
        return Failure.UNREACHABLE
    return Failure.OTHER


# SQLSTATE classes and codes (PostgreSQL's appendix A) -> what they mean here
_PG_STATES = {
    "53100": Failure.FULL,  # disk_full
    "53200": Failure.BUSY,  # out_of_memory
    "53300": Failure.BUSY,  # too_many_connections
    "25006": Failure.READ_ONLY,  # read_only_sql_transaction
    "40001": Failure.BUSY,  # serialization_failure
    "40P01": Failure.BUSY,  # deadlock_detected
    "55P03": Failure.BUSY,  # lock_not_available
    "57P01": Failure.UNREACHABLE,  # admin_shutdown
    "57P02": Failure.UNREACHABLE,  # crash_shutdown
    "57P03": Failure.UNREACHABLE,  # cannot_connect_now
    "42501": Failure.READ_ONLY,  # insufficient_privilege
}


def _pg_failure(exc: BaseException) -> Failure:
    state = getattr(exc, "sqlstate", None) or ""
    if state in _PG_STATES:
        return _PG_STATES[state]
    if state.startswith("08"):  # connection exceptions
        return Failure.UNREACHABLE
    import psycopg

    if isinstance(exc, psycopg.OperationalError):
        return Failure.UNREACHABLE
    return Failure.OTHER


_MESSAGES = {
    Failure.BUSY: "the case database {where} is busy (another crashdesk is writing); nothing was lost, try again",
    Failure.DAMAGED: "{where} is not a crashdesk database or is damaged; nothing was written to it",
    Failure.READ_ONLY: "the case database {where} is read-only",
    Failure.FULL: "the disk holding {where} is full; the last change was not saved",
    Failure.UNREACHABLE: "cannot reach the case database {where} (is it running, does its folder exist and is it writable?)",
}


def explain(exc: BaseException, location: str | Path) -> StoreError:
    """Any driver error of either engine as a StoreError that says what to do."""
    failure = _sqlite_failure(exc) if isinstance(exc, sqlite3.Error) else _pg_failure(exc)
    where = shown(location)
    if failure in _MESSAGES:
        return StoreError(_MESSAGES[failure].format(where=where), failure)
    return StoreError(f"database error on {where}: {exc}", failure)


def driver_errors() -> tuple[type[BaseException], ...]:
    """The exception types of both drivers (psycopg only when installed)."""
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return (sqlite3.Error,)
    return (sqlite3.Error, psycopg.Error)


# ------------------------------------------------------------------ the API

@functools.lru_cache(maxsize=2048)
def _pg_sql(sql: str) -> str:
    """``?`` placeholders to psycopg's ``%s`` (and a literal ``%`` doubled),
    leaving quoted text alone."""
    out, quote = [], ""
    for ch in sql:
        if quote:
            out.append("%%" if ch == "%" else ch)
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


class Database:
    """What every store function is given: one connection to one engine."""

    dialect = ""
    for_update = ""  # appended to a select that is about to change what it read
    skip_locked = ""  # the same, passing over rows another instance holds
    like = "like"  # case-insensitive pattern match

    def __init__(self, location: str):
        self.location = location

    def query(self, sql: str, params=()) -> Iterator[dict]:
        raise NotImplementedError

    def execute(self, sql: str, params=()) -> Any:
        """A cursor: ``rowcount``, ``fetchone()``."""
        raise NotImplementedError

    def writing(self):
        """A write transaction; nested uses become savepoints."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def ddl(self, text: str) -> str:
        return text

    def text_index(self, table: str, columns: tuple[str, ...]) -> None:
        raise NotImplementedError

    # -- shared on both engines --------------------------------------------
    def one(self, sql: str, params=()) -> dict | None:
        return next(iter(self.query(sql, params)), None)

    def insert(self, table: str, row: dict) -> int:
        cols = list(row)
        sql = (f"insert into {table} ({', '.join(_q(c) for c in cols)}) "
               f"values ({', '.join('?' * len(cols))}) returning id")
        return self.execute(sql, [row[c] for c in cols]).fetchone()[0]

    def update(self, table: str, pk: int, changes: dict) -> None:
        if changes:
            sets = ", ".join(f"{_q(c)} = ?" for c in changes)
            self.execute(f"update {table} set {sets} where id = ?", [*changes.values(), pk])


def _q(column: str) -> str:
    # "user" is a reserved word in PostgreSQL; quoting every name costs nothing.
    return f'"{column}"'


class SQLiteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, location: str, utils: UtilsDatabase):
        super().__init__(location)
        self.utils = utils
        self.conn = utils.conn

    def query(self, sql: str, params=()) -> Iterator[dict]:
        return self.utils.query(sql, params)

    def execute(self, sql: str, params=()):
        return self.utils.execute(sql, params)

    def writing(self):
        if self.conn.in_transaction:
            return self.utils.atomic()
        return _immediate(self.utils)

    def close(self) -> None:
        self.utils.close()

    def ddl(self, text: str) -> str:
        return text.replace("{id}", "integer primary key")

    def text_index(self, table: str, columns: tuple[str, ...]) -> None:
        # The trigram tokenizer finds Chinese words inside unsegmented text
        # ("亚信安全" in "客户将升级亚信安全软件"); see store.search for shorter words.
        self.utils.table(table).enable_fts(list(columns), create_triggers=True, tokenize="trigram")

    def __getattr__(self, name: str):
        # journal_mode, enable_wal...: sqlite-utils' own view of the file
        return getattr(self.utils, name)


class PostgresDatabase(Database):
    dialect = "postgresql"
    for_update = " for update"
    skip_locked = " for update skip locked"
    like = "ilike"

    def __init__(self, location: str, conn):
        super().__init__(location)
        self.conn = conn

    def _cursor(self, sql: str, params):
        cur = self.conn.cursor()
        if params:
            cur.execute(_pg_sql(sql), list(params))
        else:
            cur.execute(sql)
        return cur

    def query(self, sql: str, params=()) -> Iterator[dict]:
        cur = self._cursor(sql, params)
        if cur.description is None:
            return iter(())
        names = [c.name for c in cur.description]
        return iter([dict(zip(names, row)) for row in cur.fetchall()])

    def execute(self, sql: str, params=()):
        return self._cursor(sql, params)

    def writing(self):
        return self.conn.transaction()

    def close(self) -> None:
        self.conn.close()

    def ddl(self, text: str) -> str:
        return text.replace("{id}", "bigint generated by default as identity primary key")

    def text_index(self, table: str, columns: tuple[str, ...]) -> None:
        # pg_trgm: an ILIKE '%word%' is answered from the index, Chinese
        # inside a sentence included (a pattern under three characters
        # still matches, by a scan).
        self.execute("create extension if not exists pg_trgm")
        for column in columns:
            self.execute(f"create index if not exists {table}_{column}_trgm on {table} "
                         f"using gin ({_q(column)} gin_trgm_ops)")


@contextlib.contextmanager
def _immediate(db: UtilsDatabase):
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.rollback()
        raise
    else:
        db.conn.execute("COMMIT")


def writing(db: Database):
    """A write transaction that takes the write lock first on SQLite (BEGIN
    IMMEDIATE), so a concurrent writer makes us wait rather than fail
    half-way.  Nested uses become savepoints."""
    return db.writing()


# ----------------------------------------------------------------- opening

def connect(location: str | Path, busy_timeout: float = BUSY_TIMEOUT_S) -> Database:
    """Open (and create or upgrade) the database.  Call from the thread that
    will use it: a connection belongs to its thread."""
    if is_postgres(location):
        return _connect_pg(str(location), busy_timeout)
    return _connect_sqlite(str(location), busy_timeout)


def _create_private(path: str) -> None:
    """A new database file is readable by its owner only: it holds the board
    key and the customers' record.  (SQLite gives its -wal and -shm files the
    database file's mode.)  An existing file keeps the mode it was given."""
    import os

    try:
        os.close(os.open(Path(path).expanduser(), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass
    except OSError:
        pass  # the connect that follows says what is wrong


def _connect_sqlite(path: str, busy_timeout: float) -> Database:
    from store.schema import migrate

    if path != ":memory:":
        try:
            Path(path).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder of {path}: {exc.strerror}", Failure.UNREACHABLE) from None
        _create_private(path)
    try:
        conn = sqlite3.connect(path, timeout=busy_timeout)
    except sqlite3.Error as exc:
        raise explain(exc, path) from None

    def prepare(db: SQLiteDatabase) -> None:
        db.execute("PRAGMA foreign_keys = ON")
        db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        if path != ":memory:" and db.utils.journal_mode != "wal":
            db.utils.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")
        migrate(db)

    return _opened(conn, SQLiteDatabase(path, UtilsDatabase(conn)), prepare)


def _opened(conn, db, prepare) -> Database:
    """``prepare(db)`` (pragmas, migrations) on a new connection; on any
    failure the connection is closed and the driver's error explained."""
    try:
        prepare(db)
    except BaseException as exc:
        conn.close()
        if isinstance(exc, driver_errors()):
            raise explain(exc, db.location) from None
        raise
    return db


def _connect_pg(url: str, busy_timeout: float) -> Database:
    import psycopg

    from store.schema import migrate

    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(busy_timeout)),
                               options=f"-c lock_timeout={int(busy_timeout * 1000)}")
    except psycopg.Error as exc:
        raise explain(exc, url) from None
    return _opened(conn, PostgresDatabase(url, conn), migrate)

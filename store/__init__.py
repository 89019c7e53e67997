"""The case record, in SQLite (sqlite-utils) or PostgreSQL (psycopg 3).  The
only package that speaks SQL.

``Store`` owns one connection on one dedicated thread: every call from the
event loop is queued to it, so handlers running concurrently never share a
connection across threads and writes are serialised.  Other processes on the
same database (a second bot, ``crashdesk chat``, the board, other instances)
are kept consistent by the engine: on SQLite WAL, a busy timeout and BEGIN
IMMEDIATE for every write; on PostgreSQL row locks in the few places that
read before they write."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, TypeVar

from store.db import Database, Failure, StoreError, connect, driver_errors, explain, is_postgres

T = TypeVar("T")

__all__ = ["Store", "StoreError", "Failure"]


class Store:
    def __init__(self, location: str | Path, busy_timeout: float | None = None):
        self.path = str(location)
        self.busy_timeout = busy_timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crashdesk-db")
        self._db: Database | None = None

    @property
    def shared(self) -> bool:
        """Several machines may use this database (PostgreSQL)."""
        return is_postgres(self.path)

    def _ensure(self) -> Database:
        if self._db is None:
            self._db = connect(self.path) if self.busy_timeout is None else connect(self.path, self.busy_timeout)
        return self._db

    def _run(self, fn: Callable[..., T], args, kwargs) -> T:
        db = self._ensure()
        try:
            return fn(db, *args, **kwargs)
        except driver_errors() as exc:
            error = explain(exc, self.path)
            if error.failure is Failure.UNREACHABLE:
                # A dropped server connection: the next call opens a new one.
                self._drop()
            raise error from None

    def _drop(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            except Exception:
                pass
            self._db = None

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(db, *args, **kwargs)`` on the database thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._run, fn, args, kwargs)

    def call_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """The same from plain synchronous code (scripts, benchmarks)."""
        return self._executor.submit(self._run, fn, args, kwargs).result()

    async def open(self) -> "Store":
        await self.call(lambda db: None)
        return self

    def close(self) -> None:
        try:
            self._executor.submit(self._drop).result(timeout=10)
        finally:
            self._executor.shutdown(wait=True)

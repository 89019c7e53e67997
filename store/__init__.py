"""The case record in SQLite (sqlite-utils).  The only package that speaks SQL.

``Store`` owns one connection on one dedicated thread: every call from the
event loop is queued to it, so handlers running concurrently never share a
connection across threads and writes are serialised.  Other processes on the
same file (a second bot, ``crashdesk chat``, the board) are kept consistent
by SQLite itself: WAL, a busy timeout, BEGIN IMMEDIATE for every write."""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, TypeVar

from store.db import StoreError, connect, explain

T = TypeVar("T")

__all__ = ["Store", "StoreError"]


class Store:
    def __init__(self, path: str | Path, busy_timeout: float | None = None):
        self.path = str(path)
        self.busy_timeout = busy_timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crashdesk-db")
        self._db = None

    def _ensure(self):
        if self._db is None:
            self._db = connect(self.path) if self.busy_timeout is None else connect(self.path, self.busy_timeout)
        return self._db

    def _run(self, fn: Callable[..., T], args, kwargs) -> T:
        db = self._ensure()
        try:
            return fn(db, *args, **kwargs)
        except sqlite3.Error as exc:
            raise explain(exc, self.path) from None

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
        def _close():
            if self._db is not None:
                self._db.close()
                self._db = None
        try:
            self._executor.submit(_close).result(timeout=10)
        finally:
            self._executor.shutdown(wait=True)

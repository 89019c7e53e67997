"""Durable work accepted from a chat platform.  The request is acknowledged
once the job is in the database; a restart picks up whatever was queued or
running.  Jobs run as tasks, a few at a time, so a long analysis does not
hold up the replies to other messages."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from typing import Awaitable, Callable

from store import Store, ops

log = logging.getLogger("crashdesk.jobs")

Runner = Callable[[dict], Awaitable[None]]


class Later(Exception):
    """Raised by a runner that may not act yet (a rate limit): the job goes
    back in the queue until ``at`` without counting as a failed attempt."""

    def __init__(self, at: datetime):
        super().__init__(f"not before {at.isoformat()}")
        self.at = at


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds")


class JobQueue:
    def __init__(self, store: Store, *, concurrency: int = 4, max_attempts: int = 3, clock=None):
        self.store = store
        self.runners: dict[str, Runner] = {}
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._running: set[asyncio.Task] = set()
        self._slots = asyncio.Semaphore(concurrency)

    def register(self, kind: str, runner: Runner) -> None:
        self.runners[kind] = runner

    async def submit(self, kind: str, payload: dict, dedupe: str) -> bool:
        """Queue a job; False when the same dedupe key was queued before."""
        job_id = await self.store.call(ops.enqueue, kind, payload, dedupe=dedupe, at=_iso(self.clock()))
        if job_id is not None:
            self._wake.set()
        return job_id is not None

    async def start(self) -> None:
        restarted = await self.store.call(ops.requeue_running, _iso(self.clock()))
        if restarted:
            log.info("picked up %d job(s) interrupted by the last shutdown", restarted)
        self._task = asyncio.create_task(self._loop(), name="crashdesk-jobs")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        for task in list(self._running):
            task.cancel()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait until nothing is queued or running (tests, shutdown)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if not self._running and not await self.store.call(ops.pending_jobs):
                return
            await asyncio.sleep(0.02)
        raise TimeoutError("jobs still pending")

    async def _loop(self) -> None:
        while True:
            await self._slots.acquire()
            job = await self.store.call(ops.claim_job, _iso(self.clock()), tuple(self.runners))
            if job is None:
                self._slots.release()
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=1.0)
                except asyncio.TimeoutError:
                    pass
                continue
            task = asyncio.create_task(self._run(job))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, job: dict) -> None:
        try:
            await self.runners[job["kind"]](job["payload"])
        except asyncio.CancelledError:
            raise
        except Later as later:
            await self.store.call(ops.defer_job, job["id"], _iso(self.clock()), _iso(later.at))
        except Exception as exc:
            log.exception("job %s (%s) failed", job["id"], job["kind"])
            retry = None
            if job["attempts"] < self.max_attempts:
                retry = _iso(self.clock() + timedelta(seconds=5 * 2 ** job["attempts"]))
            await self.store.call(ops.finish_job, job["id"], _iso(self.clock()), f"{type(exc).__name__}: {exc}", retry)
        else:
            await self.store.call(ops.finish_job, job["id"], _iso(self.clock()))
        finally:
            self._slots.release()

"""Durable work, shared by every instance on the database.

A request is acknowledged once its job is in the database.  Any instance
that has a runner for the job's kind may claim it; the claim carries the
instance's name and a lease that the instance renews while the job runs.
If the instance dies (or hangs past its lease), another one takes the job
over once the lease has run out; a job is never taken from an instance
that is still working on it.

Why not a library (procrastinate): it is PostgreSQL-only, and the embedded
default is SQLite; one jobs table with the same semantics on both engines
(a row claim under SQLite's write lock, or PostgreSQL's ``FOR UPDATE SKIP
LOCKED``) keeps one design, and the table was already there.  On PostgreSQL
a queued job wakes every instance at once through LISTEN/NOTIFY; on SQLite
the queue is polled once a second, besides being woken locally.

Failures: a runner that raises is retried with backoff, up to
``max_attempts``, unless the error says retrying cannot help
(store.errors.Refused); then the job is failed and its kind's ``give_up``
hook tells the person.  Nothing is swallowed."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, Coroutine

from bot.redact import redact
from store import Store, ops
from store.errors import Refused

log = logging.getLogger("crashdesk.jobs")
# The job the running task works on (its id), for fence().
_CURRENT: contextvars.ContextVar[int | None] = contextvars.ContextVar("crashdesk_job", default=None)

Runner = Callable[[dict], Coroutine[Any, Any, None]]
GiveUp = Callable[[dict, str], Awaitable[None]]


class Later(Exception):
    """Raised by a runner that may not act yet (a rate limit): the job goes
    back in the queue until ``at`` without counting as a failed attempt."""

    def __init__(self, at: datetime):
        super().__init__(f"not before {at.isoformat()}")
        self.at = at


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="microseconds")


def instance_name() -> str:
    """Who holds a claim: host, process, and a random part (a restarted
    process with the same pid is someone else)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class JobQueue:
    def __init__(self, store: Store, *, concurrency: int = 16, max_attempts: int = 3, clock=None,
                 lease: float = 60.0, backoff: float = 5.0, poll: float = 1.0, owner: str | None = None):
        self.store = store
        self.runners: dict[str, Runner] = {}
        self.give_ups: dict[str, GiveUp] = {}
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.lease = lease
        self.backoff = backoff
        self.poll = poll
        self.owner = owner or instance_name()
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._running: dict[int, asyncio.Task] = {}
        self._slots = asyncio.Semaphore(concurrency)
        self._listener: threading.Thread | None = None
        self._stopping = threading.Event()

    def register(self, kind: str, runner: Runner, give_up: GiveUp | None = None) -> None:
        self.runners[kind] = runner
        if give_up is not None:
            self.give_ups[kind] = give_up

    def serves(self, kind: str) -> bool:
        return kind in self.runners

    def _now(self) -> datetime:
        # Leases are compared across machines: they run on the wall clock,
        # whatever clock the desk is given.
        return datetime.now(timezone.utc)

    async def submit(self, kind: str, payload: dict, dedupe: str) -> bool:
        """Queue a job; False when the same dedupe key was queued before.
        Raises StoreError when the job could not be stored (the caller must
        not acknowledge the request then)."""
        return await self.enqueue(kind, payload, dedupe) is not None

    async def enqueue(self, kind: str, payload: dict, dedupe: str) -> int | None:
        job_id = await self.store.call(ops.enqueue, kind, payload, dedupe=dedupe, at=_iso(self._now()))
        if job_id is not None:
            self._wake.set()
        return job_id

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="crashdesk-jobs")
        if self.store.shared:
            self._listen(asyncio.get_running_loop())

    async def stop(self) -> None:
        self._stopping.set()
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        for task in list(self._running.values()):
            task.cancel()
        if self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait until nothing this queue runs is queued or running (tests, shutdown)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if not self._running and not await self.store.call(ops.pending_jobs, tuple(self.runners)):
                return
            await asyncio.sleep(0.02)
        raise TimeoutError("jobs still pending")

    async def wait(self, job_id: int, timeout: float) -> dict | None:
        """The job's state once it is done or failed (whichever instance ran
        it), or its state when ``timeout`` runs out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        delay = 0.02
        while True:
            state = await self.store.call(ops.job_state, job_id)
            if state is None or state["status"] in ("done", "failed") or loop.time() >= deadline:
                return state
            await asyncio.sleep(min(delay, max(0.0, deadline - loop.time())))
            delay = min(delay * 1.5, 0.5)

    async def fence(self) -> bool:
        """Right before a side effect that cannot be taken back (a post):
        False when the running job is no longer this instance's (its lease
        ran out and another instance took it over), and the effect must not
        happen here.  The lease is renewed on the way.  True outside a job."""
        job_id = _CURRENT.get()
        if job_id is None:
            return True
        return await self.store.call(ops.renew_job, job_id, self.owner,
                                     _iso(self._now() + timedelta(seconds=self.lease)))

    # ------------------------------------------------------------ the loop
    def _listen(self, loop: asyncio.AbstractEventLoop) -> None:
        """PostgreSQL: a connection of its own that LISTENs and wakes the
        loop when any instance queues a job."""

        def listen() -> None:
            import psycopg

            while not self._stopping.is_set():
                try:
                    with psycopg.connect(self.store.path, autocommit=True) as conn:
                        conn.execute(f"listen {ops.JOB_CHANNEL}")
                        while not self._stopping.is_set():
                            for _ in conn.notifies(timeout=1.0, stop_after=1):
                                loop.call_soon_threadsafe(self._wake.set)
                except psycopg.Error as exc:
                    log.warning("job notifications interrupted (%s); polling meanwhile", exc)
                    self._stopping.wait(2.0)
                except RuntimeError:  # the loop closed under us: shutting down
                    return

        self._listener = threading.Thread(target=listen, name="crashdesk-listen", daemon=True)
        self._listener.start()

    async def _loop(self) -> None:
        while True:
            await self._slots.acquire()
            try:
                job = await self._claim()
            except Exception as exc:  # the database is away: keep trying, do not die
                self._slots.release()
                log.warning("could not claim a job: %s", exc)
                await asyncio.sleep(self.poll)
                continue
            if job is None:
                self._slots.release()
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll)
                except asyncio.TimeoutError:
                    pass
                continue
            task = asyncio.create_task(self._run(job), name=f"crashdesk-job-{job['id']}")
            self._running[job["id"]] = task
            task.add_done_callback(self._forget(job["id"]))

    def _forget(self, job_id: int) -> Callable[[asyncio.Task], None]:
        def forget(_task: asyncio.Task) -> None:
            self._running.pop(job_id, None)
        return forget

    async def _claim(self) -> dict | None:
        now = self._now()
        kinds = tuple(self.runners)
        for dead in await self.store.call(ops.expired_jobs, _iso(now), kinds, self.max_attempts):
            log.error("job %s (%s) was interrupted on every attempt; giving up", dead["id"], dead["kind"])
            await self._give_up(dead, "interrupted")
        return await self.store.call(ops.claim_job, _iso(now), self.owner,
                                     _iso(now + timedelta(seconds=self.lease)), kinds, self.max_attempts)

    async def _heartbeat(self, job_id: int, work: asyncio.Task) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                mine = await self.store.call(ops.renew_job, job_id, self.owner,
                                             _iso(self._now() + timedelta(seconds=self.lease)))
            except Exception as exc:  # renewed at the next beat, within the lease
                log.warning("could not renew the lease of job %s: %s", job_id, exc)
                continue
            if not mine:
                # Another instance runs it now: stop here, so that its
                # answers are given once.
                log.warning("job %s was taken over by another instance; stopping it here", job_id)
                work.cancel()
                return

    async def _run(self, job: dict) -> None:
        _CURRENT.set(job["id"])
        work = asyncio.create_task(self.runners[job["kind"]](job["payload"]))
        beat = asyncio.create_task(self._heartbeat(job["id"], work))
        try:
            await work
        except asyncio.CancelledError:
            me = asyncio.current_task()
            if not work.cancelled() or (me is not None and me.cancelling()):
                raise  # shutting down: the lease runs out and the job is taken over
            return  # taken over by another instance: its outcome stands
        except Later as later:
            await self._safely(ops.defer_job, job["id"], self.owner, _iso(self._now()), _iso(later.at))
        except Exception as exc:
            await self._failed(job, exc)
        else:
            await self._safely(ops.finish_job, job["id"], self.owner, _iso(self._now()))
        finally:
            beat.cancel()
            self._slots.release()

    async def _failed(self, job: dict, exc: Exception) -> None:
        error = redact(f"{type(exc).__name__}: {exc}")[:2000]
        retry = None
        if not isinstance(exc, Refused) and getattr(exc, "retryable", True) and job["attempts"] < self.max_attempts:
            retry = _iso(self._now() + timedelta(seconds=self.backoff * 2 ** (job["attempts"] - 1)))
            log.warning("job %s (%s) failed (attempt %d), retrying at %s: %s", job["id"], job["kind"],
                        job["attempts"], retry, error)
        else:
            log.error("job %s (%s) failed for good: %s", job["id"], job["kind"], error, exc_info=exc)
        await self._safely(ops.finish_job, job["id"], self.owner, _iso(self._now()), error, retry)
        if retry is None:
            await self._give_up(job, error)

    async def _give_up(self, job: dict, error: str) -> None:
        hook = self.give_ups.get(job["kind"])
        if hook is None:
            return
        try:
            await hook(job["payload"], error)
        except Exception:
            log.exception("could not report the failure of job %s", job["id"])

    async def _safely(self, fn, *args) -> None:
        """Bookkeeping after the work: if the database is away the lease
        runs out and the job is run again, which every runner allows."""
        try:
            await self.store.call(fn, *args)
        except Exception as exc:
            log.warning("could not record the outcome of a job: %s", exc)

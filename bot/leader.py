"""What one instance of the cluster does at a time (Slack's Socket Mode
connection, any other single long connection): held under a lease row in
the database, renewed while the holder lives, taken over by another
instance once the holder stops renewing (it died, or lost the database)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from typing import Awaitable, Callable

from store import Store, ops

log = logging.getLogger("crashdesk.leader")


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="microseconds")


class Leadership:
    def __init__(self, store: Store, name: str, owner: str, *, gain: Callable[[], Awaitable[None]],
                 lose: Callable[[], Awaitable[None]], lease: float = 30.0):
        self.store, self.name, self.owner = store, name, owner
        self.gain, self.lose = gain, lose
        self.lease = lease
        self.held = False
        self._task: asyncio.Task | None = None
        self._renewed = datetime.min.replace(tzinfo=timezone.utc)

    async def start(self) -> None:
        await self.tick()
        self._task = asyncio.create_task(self._loop(), name=f"crashdesk-lease-{self.name}")

    async def tick(self) -> None:
        now = datetime.now(timezone.utc)
        try:
            mine = await self.store.call(ops.take_lease, self.name, self.owner, _iso(now),
                                         _iso(now + timedelta(seconds=self.lease)))
        except Exception as exc:
            # Without the database we cannot tell whether another instance
            # took over: keep going until our lease would have run out.
            log.warning("could not renew the %s lease: %s", self.name, exc)
            mine = self.held and now - self._renewed < timedelta(seconds=self.lease * 2 / 3)
        else:
            if mine:
                self._renewed = now
        if mine and not self.held:
            log.info("this instance now holds %s", self.name)
            await self.gain()
            self.held = True
        elif not mine and self.held:
            log.warning("another instance holds %s now", self.name)
            self.held = False
            await self.lose()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                await self.tick()
            except Exception:
                log.exception("holding %s failed; trying again", self.name)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.held:
            self.held = False
            await self.lose()
            try:
                await self.store.call(ops.release_lease, self.name, self.owner)
            except Exception:
                pass  # it runs out by itself


async def hold(desk, jobs, name: str, *, gain: Callable[[], Awaitable[None]],
               lose: Callable[[], Awaitable[None]]) -> Leadership:
    """A platform's single long connection for the whole cluster (Slack's
    Socket Mode, WeCom's long connection, the mailbox reader), held under
    the lease ``name`` by this instance's job owner: its lease half the
    jobs', so that a dead holder's connection returns about as fast as its
    jobs do."""
    leadership = Leadership(desk.store, name, jobs.owner, gain=gain, lose=lose, lease=max(3.0, jobs.lease / 2))
    await leadership.start()
    return leadership

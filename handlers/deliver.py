"""One way to reach a case wherever it is discussed.

Every platform that can post into a case's threads registers a *door* with
the desk (``register``); ``deliver(desk, number, reply)`` finds the case's
threads once (``case_threads``) and hands each door the threads that are
its own.  A verdict reached on the board, in a one-to-one chat or in the
mailbox, a reminder, an archive decision: all go out through here."""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass
from typing import Iterable, Protocol

from handlers.events import Reply
from store import cases

log = logging.getLogger("crashdesk.deliver")


@dataclass(frozen=True, slots=True)
class Thread:
    """One place a case is discussed: a Slack thread, a WeCom group, a
    mail conversation (platform, channel, thread root)."""

    platform: str
    channel: str
    thread: str


class Door(Protocol):
    """The part of a platform ``deliver`` needs: post ``reply`` into these
    threads of the case (all of them this platform's); how many it reached."""

    @property
    def name(self) -> str: ...

    async def to_threads(self, reply: Reply, threads: list[Thread]) -> int: ...


_doors: "weakref.WeakKeyDictionary[object, dict[str, Door]]" = weakref.WeakKeyDictionary()


def register(desk, door: Door) -> None:
    _doors.setdefault(desk, {})[door.name] = door


def unregister(desk, name: str) -> None:
    _doors.get(desk, {}).pop(name, None)


def doors(desk) -> dict[str, Door]:
    return dict(_doors.get(desk, {}))


async def case_threads(desk, number: str, platform: str | None = None) -> list[Thread]:
    """The threads a case is tied to, oldest first (of one platform, if named)."""
    case = await desk.store.call(cases.get, number) if number else None
    if case is None:
        return []
    rows = await desk.store.call(cases.threads_of, case.id)
    return [Thread(r["platform"], r["channel"], r["thread"]) for r in rows
            if platform is None or r["platform"] == platform]


async def deliver(desk, case_number: str, reply: Reply, *, only: Iterable[str] | None = None,
                  skip: Iterable[Thread] = ()) -> int:
    """Post ``reply`` into every thread of the case, on every platform that
    is running (or only those named); ``skip``: threads that already have it
    (where it was asked).  Returns how many threads it reached.  A platform
    that fails is logged and does not keep the others from their copy."""
    wanted = set(only) if only is not None else None
    skipped = set(skip)
    by_platform: dict[str, list[Thread]] = {}
    for th in await case_threads(desk, case_number):
        if th in skipped or (wanted is not None and th.platform not in wanted):
            continue
        by_platform.setdefault(th.platform, []).append(th)
    reached = 0
    registered = doors(desk)
    for name, threads in by_platform.items():
        door = registered.get(name)
        if door is None:
            continue
        try:
            reached += await door.to_threads(reply, threads)
        except Exception as exc:  # one platform down must not silence the others
            log.warning("could not deliver %s to %s threads: %s", case_number, name, exc)
    return reached

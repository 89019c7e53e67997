"""What a platform is to crashdesk, said once.

A platform (Slack, the WeCom app, the WeCom AI bot, the case mailbox, the
case board, the terminal) is one class implementing ``Platform``:

- ``configured(settings)`` / ``missing(settings)``: whether its settings are
  there, and the names still missing when they are there in part (serve
  refuses to start on those, naming them);
- ``from_settings(desk, jobs, settings)``: build it; it registers its jobs;
- ``mount(web)``: the HTTP routes it receives events on (none for a
  platform that connects out: Socket Mode, the AI bot's long connection,
  the mailbox);
- ``start()`` / ``stop()``: connections, loops, leases;
- ``send`` / ``posted`` / ``finished``: the outlet the analysis job answers
  through (handlers.analyse.Outlet), posting and updating replies;
- ``to_threads(reply, threads)``: post into the threads of a case that are
  its own (handlers.deliver finds them);
- ``describe()`` for the log line saying what runs, ``health()`` for /healthz.

``bot.server`` starts every platform in ``PLATFORMS`` whose settings are
present.  Adding a platform is one module with one such class, its line in
``PLATFORMS``, and its tests."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Awaitable, Callable, ClassVar

from handlers.events import Reply

if TYPE_CHECKING:
    from aiohttp import web

    from bot.config import Settings
    from bot.jobs import JobQueue
    from handlers.deliver import Thread
    from handlers.desk import Desk

# module:class, in the order they start (the board, always on, comes last).
PLATFORMS: tuple[str, ...] = (
    "bot.slack_app:SlackAdapter",
    "bot.wecom_app:WeComAdapter",
    "bot.wecom_bot:WeComBotPlatform",
    "bot.mail:MailPlatform",
)


class Platform:
    """The interface; the defaults suit a platform that has nothing to do there."""

    name: ClassVar[str] = ""
    # Every setting the platform reads: set in part, serve names what is missing.
    settings_keys: ClassVar[tuple[str, ...]] = ()
    # Posts into a case's threads when handlers.deliver asks (False: its
    # threads are answered only as replies, the mailbox's customers).
    delivers: ClassVar[bool] = True

    @classmethod
    def configured(cls, settings: "Settings") -> bool:
        return any(settings.get(k) for k in cls.settings_keys)

    @classmethod
    def missing(cls, settings: "Settings") -> list[str]:
        return []

    @classmethod
    def invalid(cls, settings: "Settings") -> list[str]:
        """'NAME: why' for settings present but unusable (a key of the wrong length)."""
        return []

    @classmethod
    def from_settings(cls, desk: "Desk", jobs: "JobQueue", settings: "Settings") -> "Platform":
        raise NotImplementedError

    def describe(self) -> str:
        return self.name

    def mount(self, web: "web.Application") -> None:
        return None

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def health(self) -> dict[str, Any]:
        return {"ok": True}

    def digest_target(self, settings: "Settings") -> "tuple[str, Callable[[Reply], Awaitable[None]]] | None":
        """(key, post) when the daily digest goes out on this platform."""
        return None

    # -- the analysis job's outlet (handlers.analyse.Outlet) -------------
    async def send(self, route: dict, reply: Reply, key: str | None = None) -> None:
        return None

    async def posted(self, route: dict, key: str) -> bool | None:
        return None

    async def finished(self, route: dict, ok: bool) -> None:
        return None

    # -- handlers.deliver.Door ------------------------------------------
    async def to_threads(self, reply: Reply, threads: "list[Thread]") -> int:
        return 0


def load(path: str) -> type[Platform]:
    module, _, cls = path.partition(":")
    found = getattr(importlib.import_module(module), cls)
    assert isinstance(found, type) and issubclass(found, Platform), path
    return found


def available(paths: tuple[str, ...] | None = None) -> list[type[Platform]]:
    return [load(p) for p in (PLATFORMS if paths is None else paths)]


def missing_settings(settings: "Settings", paths: tuple[str, ...] | None = None) -> list[str]:
    """Every name a platform set in part still needs, in one list."""
    return [name for cls in available(paths) if cls.configured(settings) for name in cls.missing(settings)]


def invalid_settings(settings: "Settings", paths: tuple[str, ...] | None = None) -> list[str]:
    """Every setting of a configured platform whose value is wrong."""
    return [what for cls in available(paths) if cls.configured(settings) for what in cls.invalid(settings)]


def summary(active: list[Platform]) -> str:
    """The log's line: 'board only', 'Slack over HTTP + board', ..."""
    chat = [p.describe() for p in active if p.name not in ("board", "console")]
    return "board only" if not chat else " + ".join(chat) + " + board"


class BoardPlatform(Platform):
    """The case board (bot.board): always on; its upload form's verdicts
    reach the case's chat threads through handlers.deliver."""

    name = "board"

    def __init__(self, desk: "Desk", settings: "Settings"):
        from bot.board import Board

        self.desk = desk
        self.board = Board(desk, settings, relay=self.relay)

    def mount(self, web: "web.Application") -> None:
        self.board.mount(web)

    async def relay(self, reply: Reply) -> int:
        from handlers.deliver import deliver

        if not reply.case_number:
            return 0
        return await deliver(self.desk, reply.case_number, reply)

    async def send(self, route: dict, reply: Reply, key: str | None = None) -> None:
        # The case page shows the verdict from the record; the chat threads are told.
        if reply.kind == "verdict":
            await self.relay(reply)

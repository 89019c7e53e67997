"""A desk with no platform: events in, replies collected, time under the
test's control."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from aiohttp.test_utils import TestClient, TestServer

from analysis.render.doc import to_plain
from handlers.desk import Desk, DeskConfig
from handlers.events import Attachment, ChatEvent
from engines import db_for
from store import Store


class Clock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw) -> None:
        self.now += timedelta(**kw)


class Chat:
    """One channel of a platform, as the desk sees it."""

    def __init__(self, desk: Desk, platform: str = "slack", channel: str = "C1", user: str = "weiliang",
                 direct: bool = False):
        self.desk, self.platform, self.channel, self.user = desk, platform, channel, user
        self.direct = direct  # one to one (the terminal, a direct message)
        self.replies = []
        self._ids = itertools.count(1)

    async def send(self, reply) -> None:
        self.replies.append(reply)

    async def say(self, text: str, *, thread: str | None = None, files=(), user: str | None = None,
                  event_id: str | None = None, ts: str | None = None):
        before = len(self.replies)
        ts = ts or f"{1630000000 + next(self._ids)}.000100"
        event = ChatEvent(platform=self.platform, channel=self.channel, user=user or self.user, text=text, ts=ts,
                          thread=thread, files=list(files), event_id=event_id, threaded=self.platform == "slack",
                          direct=self.direct)
        await self.desk.handle(event, self.send)
        self.last_ts = ts
        return self.replies[before:]

    def text(self, replies=None) -> str:
        return "\n".join(to_plain(r.doc) for r in (self.replies if replies is None else replies))


def file_attachment(path, name=None, id=None) -> Attachment:
    from pathlib import Path

    p = Path(path)

    async def fetch():
        return p.read_bytes()

    return Attachment(name=name or p.name, fetch=fetch, size=p.stat().st_size, id=id)


def bytes_attachment(name: str, data: bytes) -> Attachment:
    async def fetch():
        return data

    return Attachment(name=name, fetch=fetch, size=len(data))


def make_desk(tmp_path, *, lang="en", start=datetime(2021, 9, 1, 7, 23, tzinfo=timezone.utc), tz="Asia/Shanghai",
              db: str | None = None):
    """A desk on a new database of the test's backend (or on ``db``)."""
    store = Store(db or db_for(tmp_path, "desk.db"))
    clock = Clock(start)
    desk = Desk(store, DeskConfig(data_dir=str(tmp_path / "data"), lang=lang, tz=tz), clock=clock,
                executor=ThreadPoolExecutor(max_workers=2))
    return desk, store, clock


async def serve(web_app) -> tuple[TestServer, str]:
    """An aiohttp app (a fake platform, or crashdesk's own) on a free local
    port; (server, base URL)."""
    server = TestServer(web_app, host="127.0.0.1")
    await server.start_server()
    return server, str(server.make_url("")).rstrip("/")


async def app_client(tmp_path, env: dict[str, str]):
    """`crashdesk serve`'s App on its own SQLite file, analysis in threads,
    no scheduler; (app, started test client)."""
    from bot.config import Settings
    from bot.server import App

    settings = Settings({"CRASHDESK_DB": db_for(tmp_path, "crashdesk.db"), "CRASHDESK_DATA_DIR": str(tmp_path / "data"),
                         "TZ": "Asia/Shanghai", **env})
    app = App(settings, executor=ThreadPoolExecutor(max_workers=2), scheduler=False)
    client = TestClient(TestServer(app.web, host="127.0.0.1"))
    await client.start_server()
    return app, client

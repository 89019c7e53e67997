"""Platforms as plugins (issue 15): the server starts whatever bot.platform
lists and is configured, and handlers.deliver reaches every thread of a
case on every running platform, with one lookup of the case's threads."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskkit import Chat, app_client, bytes_attachment
from handlers.events import Reply

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = (ROOT / "examples" / "seed-shaped-thread.txt").read_bytes()
NUMBER = "CAS-04716-C3F2K9"
SUBJECT = f"[案例号: {NUMBER}] % |P3|ICBC|总行 win10 神州网信政府版电脑蓝屏 % 初次响应 CMIT:0001032"

from bot.platform import Platform  # noqa: E402


class Pager(Platform):
    """A platform no module of crashdesk knows: one class, one line in PLATFORMS."""

    name = "pager"
    settings_keys = ("PAGER_TOKEN", "PAGER_ROOM")
    started = stopped = 0
    posted: list = []

    @classmethod
    def missing(cls, settings):
        return [k for k in cls.settings_keys if not settings.get(k)]

    @classmethod
    def from_settings(cls, desk, jobs, settings):
        return cls()

    def describe(self):
        return "Pager"

    def mount(self, web):
        from aiohttp import web as w

        async def hello(request):
            return w.Response(text="pager here")

        web.router.add_get("/pager", hello)

    async def start(self):
        Pager.started += 1

    async def stop(self):
        Pager.stopped += 1

    async def to_threads(self, reply, threads):
        Pager.posted.append((reply.kind, [(t.channel, t.thread) for t in threads]))
        return len(threads)


@pytest.fixture
def pager(monkeypatch):
    import bot.platform

    monkeypatch.setattr(bot.platform, "PLATFORMS", bot.platform.PLATFORMS + ("test_platforms:Pager",))
    Pager.started = Pager.stopped = 0
    Pager.posted = []
    return Pager


async def test_a_new_platform_is_one_class(tmp_path, pager):
    app, client = await app_client(tmp_path, {"PAGER_TOKEN": "t", "PAGER_ROOM": "r"})
    try:
        assert app.describe() == "Pager + board"
        assert (await (await client.get("/pager")).text()) == "pager here"
        health = await (await client.get("/healthz")).json()
        assert health["platforms"] == ["pager"] and health["health"]["pager"] == {"ok": True}
        assert Pager.started == 1
    finally:
        await client.close()
    assert Pager.stopped == 1


def test_a_platform_set_in_part_is_named(pager):
    from bot.config import Settings
    from bot.server import check_settings

    assert check_settings(Settings({"PAGER_TOKEN": "t"})) == ["PAGER_ROOM"]
    assert check_settings(Settings({})) == []


async def test_deliver_reaches_every_thread_of_the_case_on_every_platform(tmp_path, pager):
    """A verdict reached in the terminal goes to the case's Slack thread,
    its WeCom group and the new platform's room, once each."""
    from handlers.deliver import case_threads, deliver

    app, client = await app_client(tmp_path, {"PAGER_TOKEN": "t", "PAGER_ROOM": "r"})
    try:
        chat = Chat(app.desk, platform="console", channel="console", user="weiliang")
        await chat.say(SUBJECT)
        await app.desk.bind(NUMBER, "pager", "room-1", "t-1")
        await app.desk.bind(NUMBER, "pager", "room-2", "t-2")
        await app.desk.bind(NUMBER, "wecom", "group:wrGROUP", "group")  # WeCom not running here
        replies = await chat.say(NUMBER, files=[bytes_attachment("seed.txt", EXAMPLE)])
        verdict = next(r for r in replies if r.kind == "verdict")
        threads = await case_threads(app.desk, NUMBER)
        assert {t.platform for t in threads} >= {"pager", "wecom"}
        assert await deliver(app.desk, NUMBER, verdict) == 2
        assert Pager.posted == [("verdict", [("room-1", "t-1"), ("room-2", "t-2")])]
        # The board's relay is the same delivery.
        assert await app.relay(verdict) == 2
        # Unknown case, or only other platforms: nobody hears anything.
        assert await deliver(app.desk, "CAS-00000-AAAAAA", verdict) == 0
        assert await deliver(app.desk, NUMBER, verdict, only=["slack"]) == 0
    finally:
        await client.close()


async def test_one_platform_failing_does_not_silence_the_others(tmp_path, pager):
    from handlers import deliver as deliver_mod

    app, client = await app_client(tmp_path, {"PAGER_TOKEN": "t", "PAGER_ROOM": "r"})

    class Broken:
        name = "broken"

        async def to_threads(self, reply, threads):
            raise ConnectionError("down")

    try:
        chat = Chat(app.desk, platform="console", channel="console", user="weiliang")
        await chat.say(SUBJECT)
        await app.desk.bind(NUMBER, "broken", "x", "y")
        await app.desk.bind(NUMBER, "pager", "room-1", "t-1")
        deliver_mod.register(app.desk, Broken())
        assert await deliver_mod.deliver(app.desk, NUMBER, app.desk.info("hello")) == 1
    finally:
        await client.close()


def test_no_platform_is_named_in_the_server():
    """bot/server.py starts platforms from bot.platform.PLATFORMS only."""
    text = (ROOT / "bot" / "server.py").read_text()
    code = text.split('"""', 2)[2]  # past the module docstring
    for word in ("slack_app", "wecom_app", "SlackAdapter", "WeComAdapter", "threads_of"):
        assert word not in code, word


# ---------------------------------------------------------------- the same conversation
# Open the seed case from its CRM subject, upload the seed thread, log a
# call, show the card, archive — through each platform's plugin.

CALL = "case call 客户同意升级亚信安全软件，观察一周"
ARCHIVE = "case archive 用户已升级亚信安全软件，查看后续运行情况"


async def _check_record(store):
    from store import cases, timeline

    case = await store.call(cases.get, NUMBER)
    assert case is not None and case.customer == "ICBC"
    assert case.vendor == "AsiaInfo Security"
    assert case.status == "archived"
    assert any(f["kind"] == "phone" for f in await store.call(timeline.followups, case.id))
    return case


async def test_conversation_through_the_terminal(tmp_path):
    import io

    from bot.console import Console
    from handlers.desk import Desk, DeskConfig
    from store import Store

    store = Store(str(tmp_path / "c.db"))
    await store.open()
    desk = Desk(store, DeskConfig(data_dir=str(tmp_path / "data"), lang="zh", tz="Asia/Shanghai"))
    out = io.StringIO()
    console = Console(desk, "weiliang", out=out)
    seed = tmp_path / "seed-shaped-thread.txt"
    seed.write_bytes(EXAMPLE)
    try:
        for line in (SUBJECT, f"upload {seed} {NUMBER}", CALL, "case show", ARCHIVE):
            await console.line(line)
        await _check_record(store)
        assert "亚信安全" in out.getvalue()
    finally:
        desk.close()
        store.close()


async def test_conversation_through_the_wecom_ai_bot_long_connection(tmp_path):
    """Over the long connection the upload comes from the board (groups
    cannot send a bot files); everything else is said to the bot."""
    import asyncio

    from fakewecom import FakeLongConnection
    from deskkit import serve
    from test_wecom_bot import start_app, until

    fake = FakeLongConnection()
    server, base = await serve(fake.app)
    app, client = await start_app(tmp_path, base.replace("http://", "ws://") + "/")
    try:
        bot = app.platforms.wecom_bot
        await until(lambda: fake.live and bot.authenticated, "subscribed")

        async def say(text, msgid):
            req = await fake.say(text, msgid=msgid, chatid="wrGROUP", user="weiliang")
            await until(lambda: any(f["headers"]["req_id"] == req and f["body"]["stream"]["finish"]
                                    for f in fake.of("aibot_respond_msg")), f"answer to {text}")
            return next(f["body"]["stream"]["content"] for f in reversed(fake.of("aibot_respond_msg"))
                        if f["headers"]["req_id"] == req)

        assert NUMBER in await say(SUBJECT, "c1")
        chat = Chat(app.desk, platform="web", channel="board", user="weiliang")
        await chat.say(NUMBER, files=[bytes_attachment("seed-shaped-thread.txt", EXAMPLE)])
        await app.jobs.drain()
        await say(CALL.replace("case call", f"case call {NUMBER}"), "c2")
        assert "亚信安全" in await say(f"case show {NUMBER}", "c3")
        await say(ARCHIVE.replace("case archive", f"case archive {NUMBER}"), "c4")
        await asyncio.sleep(0)
        await _check_record(app.store)
    finally:
        await client.close()
        await server.close()


async def test_conversation_through_the_mailbox(tmp_path):
    """Customers' mail opens and feeds the case; the engineer's call and
    archive are recorded at the desk (the terminal here) on the same record."""
    import asyncio
    import io
    from email.message import EmailMessage

    from bot.console import Console
    from mailkit import Dovecot, Outbox, need_dovecot

    need_dovecot()
    imap, smtp = Dovecot(tmp_path / "dovecot").start(), Outbox().start()
    app, client = await app_client(tmp_path, {"CRASHDESK_IMAP_URL": imap.url, "CRASHDESK_SMTP_URL": smtp.url,
                                              "CRASHDESK_MAIL_FROM": "desk@crashdesk.example"})
    try:
        m = EmailMessage()
        m["From"], m["To"], m["Subject"], m["Message-ID"] = ("吴毓杰 <win10sup@sdicbc.com.cn>", "desk@crashdesk.example",
                                                           "答复: " + SUBJECT, "<conv-1@sdicbc.com.cn>")
        m.set_content("dump 日志见附件。")
        m.add_attachment(EXAMPLE, maintype="text", subtype="plain", filename="seed-shaped-thread.txt")
        await asyncio.to_thread(imap.deliver, m.as_bytes())
        for _ in range(3000):
            if await asyncio.to_thread(imap.unseen) == 0:
                break
            await asyncio.sleep(0.02)
        await app.jobs.drain()
        console = Console(app.desk, "weiliang", out=io.StringIO())
        for line in (CALL.replace("case call", f"case call {NUMBER}"), f"case show {NUMBER}",
                     ARCHIVE.replace("case archive", f"case archive {NUMBER}")):
            await console.line(line)
        await _check_record(app.store)
        assert any("亚信安全" in x.get_payload(decode=True).decode("utf-8") for x in smtp.messages)
    finally:
        await client.close()
        smtp.stop()
        imap.stop()

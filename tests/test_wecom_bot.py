"""The WeCom AI bot over its long connection (issue 15), against a local
fake speaking the documented frames (tests/fakewecom.FakeLongConnection)."""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor

import pytest
from aiohttp.test_utils import TestClient, TestServer

from deskkit import serve
from engines import db_for
from fakewecom import FakeLongConnection
from store import cases

NUMBER = "CAS-04716-C3F2K9"
SUBJECT = f"[案例号: {NUMBER}] % |P3|ICBC|总行 win10 神州网信政府版电脑蓝屏 % 初次响应 CMIT:0001032"


async def until(check, what: str, tries: int = 2000):
    for _ in range(tries):
        if check():
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"never happened: {what}")


async def start_app(tmp_path, url: str, db: str | None = None, **extra):
    from bot.config import Settings
    from bot.server import App

    settings = Settings({"CRASHDESK_DB": db or db_for(tmp_path, "crashdesk.db"), "CRASHDESK_DATA_DIR": str(tmp_path / "data"),
                         "WECOM_BOT_ID": "aibBOT1", "WECOM_BOT_SECRET": "bot-secret", "WECOM_BOT_WS_URL": url,
                         "WECOM_BOT_HEARTBEAT": "0.05", "WECOM_BOT_BACKOFF": "0.05", "CRASHDESK_JOB_LEASE": "6",
                         **extra})
    app = App(settings, executor=ThreadPoolExecutor(max_workers=2), scheduler=False)
    client = TestClient(TestServer(app.web, host="127.0.0.1"))
    await client.start_server()
    return app, client


@contextlib.asynccontextmanager
async def connected(tmp_path, fake, **extra):
    """An app whose long connection is up and subscribed: (app, client, bot)."""
    app, client = await start_app(tmp_path, fake.url, **extra)
    try:
        bot = app.platforms.wecom_bot
        await until(lambda: fake.live and bot.authenticated, "subscribed")
        yield app, client, bot
    finally:
        await client.close()


@pytest.fixture
async def fake():
    f = FakeLongConnection()
    server, base = await serve(f.app)
    f.base = base
    f.url = base.replace("http://", "ws://") + "/"
    yield f
    await server.close()


async def test_a_message_over_the_long_connection_is_answered_in_one_stream(tmp_path, fake):
    async with connected(tmp_path, fake) as (app, client, bot):
        assert app.describe() == "WeCom AI bot (long connection) + board"
        assert fake.of("aibot_subscribe")[0]["body"] == {"bot_id": "aibBOT1", "secret": "bot-secret"}
        req = await fake.say(SUBJECT, msgid="m1", chatid="wrGROUP")
        await until(lambda: any(f["body"]["stream"]["finish"] for f in fake.of("aibot_respond_msg")), "answer")
        await app.jobs.drain()
        answers = fake.of("aibot_respond_msg")
        assert {f["headers"]["req_id"] for f in answers} == {req}
        assert len({f["body"]["stream"]["id"] for f in answers}) == 1  # one message, updated
        assert [f["body"]["stream"]["finish"] for f in answers][-1] is True
        assert sum(f["body"]["stream"]["finish"] for f in answers) == 1
        assert NUMBER in answers[-1]["body"]["stream"]["content"]
        case = await app.store.call(cases.get, NUMBER)
        assert case is not None
        assert any(t["platform"] == "wecom_bot" and t["channel"] == "group:wrGROUP"
                   for t in await app.store.call(cases.threads_of, case.id))
        # A verdict reached elsewhere reaches the group with a message of the bot's own.
        from handlers.deliver import deliver

        assert await deliver(app.desk, NUMBER, app.desk.info("verdict here")) == 1
        await until(lambda: fake.of("aibot_send_msg"), "pushed")
        assert fake.of("aibot_send_msg")[0]["body"]["chatid"] == "wrGROUP"
        # The heartbeat.
        await until(lambda: fake.of("ping"), "a ping")
        # The same callback delivered again (WeCom retries): answered once.
        before = len(fake.of("aibot_respond_msg"))
        await fake.say(SUBJECT, msgid="m1", chatid="wrGROUP")
        await asyncio.sleep(0)
        await app.jobs.drain()
        assert len(fake.of("aibot_respond_msg")) == before


async def test_a_file_over_the_long_connection_gets_its_verdict_back_over_it(tmp_path, fake):
    """A dump log sent to the bot in the group: downloaded from WeCom's file
    address, decrypted with the message's own aeskey, analysed, and the
    verdict comes back over the same connection (aibot_send_msg to the
    group: the callback's stream has ended by then)."""
    from pathlib import Path

    example = (Path(__file__).resolve().parent.parent / "examples" / "seed-shaped-thread.txt").read_bytes()
    async with connected(tmp_path, fake) as (app, client, bot):
        await fake.say(SUBJECT, msgid="f1", chatid="wrGROUP")
        await until(lambda: any(f["body"]["stream"]["finish"] for f in fake.of("aibot_respond_msg")), "the card")
        req = await fake.send_file("seed-shaped-thread.txt", example, msgid="f2", chatid="wrGROUP")
        await until(lambda: any("亚信安全" in f["body"]["markdown"]["content"] for f in fake.of("aibot_send_msg")),
                    "the verdict over the connection", tries=6000)
        await app.jobs.drain()
        assert fake.downloads == ["f2"]
        verdicts = [f for f in fake.of("aibot_send_msg") if "亚信安全" in f["body"]["markdown"]["content"]]
        assert {f["body"]["chatid"] for f in verdicts} == {"wrGROUP"}
        assert "指向同一厂商：亚信安全" in "\n".join(f["body"]["markdown"]["content"] for f in verdicts)
        # The file message itself was answered in its stream (received, being analysed), once finished.
        answers = [f for f in fake.of("aibot_respond_msg") if f["headers"]["req_id"] == req]
        assert answers and answers[-1]["body"]["stream"]["finish"] is True
        case = await app.store.call(cases.get, NUMBER)
        assert case.vendor == "AsiaInfo Security"
        from store import evidence

        assert [d["name"] for d in await app.store.call(evidence.case_dumps, case.id)] == ["seed-shaped-thread.txt"]


async def test_a_dropped_connection_comes_back(tmp_path, fake):
    async with connected(tmp_path, fake) as (app, client, bot):
        await fake.drop()
        await until(lambda: fake.subscribes >= 2 and fake.live and bot.authenticated, "subscribed again")
        await fake.say("case help", msgid="m2")
        await until(lambda: fake.of("aibot_respond_msg"), "answer after reconnecting")


async def test_a_wrong_secret_is_reported_not_raised(tmp_path, fake):
    app, client = await start_app(tmp_path, fake.url, WECOM_BOT_SECRET="wrong")
    try:
        bot = app.platforms.wecom_bot
        await until(lambda: bot.last_error is not None and "853000" in bot.last_error, "refused")
        health = await (await client.get("/healthz")).json()
        assert health["health"]["wecom_bot"]["ok"] is False and not bot.authenticated
    finally:
        await client.close()


async def test_one_live_connection_for_two_instances(tmp_path, fake):
    db = str(tmp_path / "shared.db")
    first, c1 = await start_app(tmp_path, fake.url, db=db)
    second, c2 = await start_app(tmp_path, fake.url, db=db)
    try:
        await until(lambda: first.platforms.wecom_bot.authenticated or second.platforms.wecom_bot.authenticated,
                    "one connected")
        for _ in range(30):
            await asyncio.sleep(0.02)
        assert len(fake.live) == 1 and fake.subscribes == 1
        assert [first.platforms.wecom_bot.authenticated, second.platforms.wecom_bot.authenticated].count(True) == 1
        holder, other, holder_client = ((first, second, c1) if first.platforms.wecom_bot.authenticated
                                        else (second, first, c2))
        await holder_client.close()  # the holder stops: the other takes over
        await until(lambda: other.platforms.wecom_bot.authenticated, "taken over", tries=3000)
        assert len(fake.live) == 1
    finally:
        await c1.close()
        await c2.close()


async def test_the_long_connection_keeps_the_desk_s_door_rules(tmp_path, fake):
    # Who may use the desk holds over the long connection as over the callback.
    async with connected(tmp_path, fake, CRASHDESK_USERS="lisi") as (app, client, bot):
        await fake.say(SUBJECT, msgid="m-out", user="zhangsan")
        await until(lambda: any(f["body"]["stream"]["finish"] for f in fake.of("aibot_respond_msg")), "refusal")
        await app.jobs.drain()
        said = fake.of("aibot_respond_msg")[-1]["body"]["stream"]["content"]
        assert NUMBER not in said and await app.store.call(cases.get, NUMBER) is None
        await fake.say(SUBJECT, msgid="m-in", user="lisi")
        await until(lambda: sum(f["body"]["stream"]["finish"] for f in fake.of("aibot_respond_msg")) == 2, "answer")
        await app.jobs.drain()
        assert await app.store.call(cases.get, NUMBER) is not None


async def test_a_malformed_message_is_dropped_and_a_typo_answered(tmp_path, fake):
    async with connected(tmp_path, fake) as (app, client, bot):
        # Items that are not message objects: logged and dropped, the connection stays.
        await fake.live[-1].send_json({"cmd": "aibot_msg_callback", "headers": {"req_id": "cb-bad"},
                                       "body": {"msgid": "bad", "msgtype": "mixed", "from": {"userid": "zhangsan"},
                                                "mixed": {"msg_item": [1, "x"]}}})
        # One to one, a mistyped command gets the nearest one.
        await fake.say("cas show", msgid="m-typo")
        await until(lambda: any(f["body"]["stream"]["finish"] for f in fake.of("aibot_respond_msg")), "answer")
        await app.jobs.drain()
        answers = fake.of("aibot_respond_msg")
        assert {f["headers"]["req_id"] for f in answers} == {"cb-m-typo"}
        assert "case show" in answers[-1]["body"]["stream"]["content"]
        assert bot.authenticated and bot.last_error is None

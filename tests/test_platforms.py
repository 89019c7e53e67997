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


async def test_conversation_through_slack(tmp_path):
    """Real slack-bolt on signed HTTP requests, the local fake Web API: every
    step said in the case's Slack thread."""
    import asyncio

    from deskkit import serve
    from fakeslack import SECRET, TOKEN, FakeSlack, event_body, message_event, sign

    fake = FakeSlack()
    fake_server, fake.base = await serve(fake.app)
    app, client = await app_client(tmp_path, {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
                                              "SLACK_API_URL": fake.base + "/api/"})
    ids = iter(range(1, 100))

    async def say(text, ts, thread=None, files=None):
        body = event_body(message_event(text, ts=ts, thread_ts=thread, files=files), f"EvConv{next(ids)}")
        resp = await client.post("/slack/events", data=body.encode(),
                                 headers={"Content-Type": "application/json", **sign(body)})
        assert resp.status == 200
        await app.jobs.drain()
        for _ in range(100):  # listeners run after their ack
            if not [t for t in asyncio.all_tasks() if "run_" in repr(t.get_coro())]:
                break
            await asyncio.sleep(0.02)

    try:
        root = "1630910000.000100"
        await say(SUBJECT, root)
        file = fake.add_file("F0CONV", "seed-shaped-thread.txt", EXAMPLE)
        await say("dump logs", "1630910000.000200", thread=root, files=[file])
        await say(CALL, "1630910000.000300", thread=root)
        await say("case show", "1630910000.000400", thread=root)
        await say(ARCHIVE, "1630910000.000500", thread=root)
        await _check_record(app.store)
        out = "\n".join(p.get("text", "") for p in fake.posts() if p.get("thread_ts") == root)
        assert "AsiaInfo Security" in out and "Definition:" in out
        assert fake.downloads == [("F0CONV", f"Bearer {TOKEN}")]
    finally:
        await client.close()
        await fake_server.close()


async def test_conversation_through_the_wecom_app_callback(tmp_path):
    """The self-built app: encrypted, signed callbacks as WeCom sends them
    (the file by its media id, fetched from the fake WeCom API); the
    answers through message/send."""
    from urllib.parse import urlencode

    from deskkit import serve
    from fakewecom import AES_KEY, AGENT_ID, CORP_ID, SECRET, TOKEN, FakeWeCom, file_message, text_message

    fake = FakeWeCom()
    server, fake.base = await serve(fake.app)
    app, client = await app_client(tmp_path, {
        "WECOM_CORP_ID": CORP_ID, "WECOM_AGENT_ID": AGENT_ID, "WECOM_SECRET": SECRET, "WECOM_TOKEN": TOKEN,
        "WECOM_ENCODING_AES_KEY": AES_KEY, "WECOM_API_URL": fake.base + "/cgi-bin/"})

    async def callback(xml):
        query, body = fake.app_callback(xml)
        resp = await client.post("/wecom/callback?" + urlencode(query), data=body.encode(),
                                 headers={"Content-Type": "text/xml"})
        assert resp.status == 200
        await app.jobs.drain()

    try:
        await callback(text_message("weiliang", SUBJECT, "9001"))
        fake.media["MEDIACONV"] = ("seed-shaped-thread.txt", EXAMPLE)
        await callback(file_message("weiliang", "MEDIACONV", "9002", name="seed-shaped-thread.txt"))
        await callback(text_message("weiliang", CALL, "9003"))
        await callback(text_message("weiliang", "case show", "9004"))
        await callback(text_message("weiliang", ARCHIVE, "9005"))
        await _check_record(app.store)
        out = "\n".join(fake.texts())
        assert "指向同一厂商：亚信安全" in out and "问题定义" in out
    finally:
        await client.close()
        await server.close()


async def test_conversation_through_the_wecom_ai_bot_long_connection(tmp_path):
    """Everything over the long connection, the file too (downloaded and
    decrypted with its message's key; the verdict comes back over the
    connection)."""
    from deskkit import serve
    from fakewecom import FakeLongConnection
    from test_wecom_bot import start_app, until

    fake = FakeLongConnection()
    server, fake.base = await serve(fake.app)
    app, client = await start_app(tmp_path, fake.base.replace("http://", "ws://") + "/")
    try:
        bot = app.platforms.wecom_bot
        await until(lambda: fake.live and bot.authenticated, "subscribed")

        async def answered(req, what):
            await until(lambda: any(f["headers"]["req_id"] == req and f["body"]["stream"]["finish"]
                                    for f in fake.of("aibot_respond_msg")), f"answer to {what}")
            await app.jobs.drain()
            return next(f["body"]["stream"]["content"] for f in reversed(fake.of("aibot_respond_msg"))
                        if f["headers"]["req_id"] == req)

        async def say(text, msgid):
            return await answered(await fake.say(text, msgid=msgid, chatid="wrGROUP", user="weiliang"), text)

        assert NUMBER in await say(SUBJECT, "c1")
        await answered(await fake.send_file("seed-shaped-thread.txt", EXAMPLE, msgid="c2", chatid="wrGROUP",
                                            user="weiliang"), "the file")
        await until(lambda: any("亚信安全" in f["body"]["markdown"]["content"] for f in fake.of("aibot_send_msg")),
                    "the verdict over the connection", tries=6000)
        # No case number needed: the group is the case's (as in the WeCom app).
        await say(CALL, "c3")
        assert "亚信安全" in await say("case show", "c4")
        assert "问题定义" in await say(ARCHIVE, "c5")
        await _check_record(app.store)
    finally:
        await client.close()
        await server.close()


async def test_conversation_through_the_mailbox(tmp_path):
    """The mailbox is the customer's door: the CRM subject opens the case
    and the attachment is uploaded by mail, and the archive e-mail goes out
    through it, threaded.  Logging a call, showing the card and the archive
    decision are the engineer's, at the desk (the terminal here): the
    mailbox takes no commands, since anyone can write to it and a From
    line proves nothing, and a customer's mail is kept on the timeline as
    their word, never run."""
    import asyncio
    import io
    from email.message import EmailMessage

    from bot.console import Console
    from mailkit import Dovecot, Outbox, need_dovecot, read_by_desk

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
        await read_by_desk(imap, app.jobs)
        out = io.StringIO()
        console = Console(app.desk, "weiliang", out=out)
        for line in (CALL.replace("case call", f"case call {NUMBER}"), f"case show {NUMBER}",
                     ARCHIVE.replace("case archive", f"case archive {NUMBER}"), f"case email send {NUMBER}"):
            await console.line(line)
        await _check_record(app.store)
        bodies = [x.get_payload(decode=True).decode("utf-8") for x in smtp.messages]
        assert any("亚信安全" in b and "分析结果" in b for b in bodies)  # the verdict, by mail
        archive = [x for x in smtp.messages if "问题定义" in x.get_payload(decode=True).decode("utf-8")]
        assert len(archive) == 1 and archive[0]["In-Reply-To"] == "<conv-1@sdicbc.com.cn>"
        assert archive[0]["To"] == "win10sup@sdicbc.com.cn"
    finally:
        await client.close()
        smtp.stop()
        imap.stop()

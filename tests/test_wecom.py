"""WeCom end to end against a fake WeCom API: encrypted callbacks in, the
desk's answers out through message/send, the AI bot and the webhook."""

import asyncio
from pathlib import Path
from urllib.parse import urlencode

import pytest

from deskkit import app_client, serve
from fakewecom import (AES_KEY, AGENT_ID, BOT_AES_KEY, BOT_TOKEN, CORP_ID, SECRET, TOKEN, FakeWeCom, file_message,
                       text_message)
from store import cases, evidence, ops, timeline

pytestmark = pytest.mark.usefixtures("store_backend")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = (ROOT / "examples" / "seed-shaped-thread.txt").read_bytes()
NUMBER = "CAS-04716-C3F2K9"
SUBJECT = f"[案例号: {NUMBER}] % |P3|ICBC|总行 win10 神州网信政府版电脑蓝屏 % 初次响应 CMIT:0001032"


@pytest.fixture
async def wecom(tmp_path):
    fake = FakeWeCom()
    server, fake.base = await serve(fake.app)
    app, client = await app_client(tmp_path, {
        "WECOM_CORP_ID": CORP_ID, "WECOM_AGENT_ID": AGENT_ID, "WECOM_SECRET": SECRET, "WECOM_TOKEN": TOKEN,
        "WECOM_ENCODING_AES_KEY": AES_KEY, "WECOM_API_URL": fake.base + "/cgi-bin/",
        "WECOM_BOT_TOKEN": BOT_TOKEN, "WECOM_BOT_ENCODING_AES_KEY": BOT_AES_KEY,
        "WECOM_DIGEST_WEBHOOK": "team-group-key",
    })

    class Kit:
        pass

    kit = Kit()
    kit.fake, kit.app, kit.client = fake, app, client

    async def callback(inner_xml: str, **kw):
        query, body = fake.app_callback(inner_xml, **kw)
        return await client.post("/wecom/callback?" + urlencode(query), data=body.encode(),
                                 headers={"Content-Type": "text/xml"})

    async def bot(message: dict):
        query, body = fake.bot_callback(message)
        return await client.post("/wecom/aibot?" + urlencode(query), data=body.encode(),
                                 headers={"Content-Type": "application/json"})

    async def settle():
        await app.jobs.drain()

    kit.callback, kit.bot, kit.settle = callback, bot, settle
    yield kit
    await client.close()
    await server.close()


async def test_url_verification_with_the_official_vector(wecom):
    query = {"msg_signature": "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb", "timestamp": "1476416373", "nonce": "47744683",
             "echostr": "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA=="}
    resp = await wecom.client.get("/wecom/callback?" + urlencode(query))
    assert resp.status == 200 and await resp.text() == "1288432023552776189"
    query["nonce"] = "47744684"
    assert (await wecom.client.get("/wecom/callback?" + urlencode(query))).status == 403


async def test_text_with_a_case_number_gets_the_card(wecom):
    resp = await wecom.callback(text_message("zhangsan", SUBJECT, "1001"))
    assert resp.status == 200 and await resp.text() == ""
    await wecom.settle()
    resp = await wecom.callback(text_message("zhangsan", f"{NUMBER} 的进展？", "1002"))
    await wecom.settle()
    out = "\n".join(wecom.fake.texts())
    assert "已建立案例 CAS-04716-C3F2K9" in out
    assert "### CAS-04716-C3F2K9 · P3 · 处理中" in out
    assert all(m["touser"] == "zhangsan" and m["agentid"] == 1000002 for m in wecom.fake.sent)


async def test_file_message_gets_the_verdict_and_goes_under_the_case(wecom):
    await wecom.callback(text_message("zhangsan", SUBJECT, "2001"))
    await wecom.settle()
    wecom.fake.media["MEDIA1"] = ("seed.txt", EXAMPLE)
    await wecom.callback(file_message("zhangsan", "MEDIA1", "2002"))
    await wecom.settle()
    out = "\n".join(wecom.fake.texts())
    assert "2 个 dump，2 种 BugCheck，指向同一厂商：亚信安全" in out
    assert all(len(m["markdown"]["content"].encode()) <= 2048 for m in wecom.fake.sent if m["msgtype"] == "markdown")
    case = await wecom.app.store.call(cases.get, NUMBER)
    assert len(await wecom.app.store.call(evidence.case_dumps, case.id)) == 1


async def test_retried_callback_changes_nothing(wecom):
    await wecom.callback(text_message("zhangsan", SUBJECT, "3001"))
    await wecom.settle()
    call = text_message("zhangsan", f"case call {NUMBER} 客户同意升级亚信安全软件，观察一周", "3002")
    for _ in range(3):  # WeCom retries three times when it does not hear back in time
        assert (await wecom.callback(call)).status == 200
    await wecom.settle()
    case = await wecom.app.store.call(cases.get, NUMBER)
    assert len(await wecom.app.store.call(timeline.followups, case.id)) == 1
    assert sum("电话沟通" in t for t in wecom.fake.texts()) == 1


async def test_bad_signature_is_refused_and_leaves_nothing(wecom):
    query, body = wecom.fake.app_callback(text_message("zhangsan", SUBJECT, "4001"))
    query["msg_signature"] = "0" * 40
    resp = await wecom.client.post("/wecom/callback?" + urlencode(query), data=body.encode())
    assert resp.status == 403
    garbage = await wecom.client.post("/wecom/callback?" + urlencode(query), data=b"<xml><oops")
    assert garbage.status in (400, 403)
    await wecom.settle()
    assert not wecom.fake.sent
    assert await wecom.app.store.call(cases.get, NUMBER) is None
    assert await wecom.app.store.call(ops.pending_jobs) == 0


async def test_expired_token_is_fetched_again(wecom):
    await wecom.callback(text_message("zhangsan", SUBJECT, "5001"))
    await wecom.settle()
    issued = wecom.fake.tokens_issued
    wecom.fake.revoke_tokens()
    await wecom.callback(text_message("zhangsan", f"case show {NUMBER}", "5002"))
    await wecom.settle()
    assert wecom.fake.tokens_issued == issued + 1
    assert "### CAS-04716-C3F2K9" in wecom.fake.texts()[-1] or any("CAS-04716-C3F2K9" in t for t in wecom.fake.texts()[-2:])


async def test_expired_media_is_explained(wecom):
    await wecom.callback(file_message("zhangsan", "GONE", "6001", name="MEMORY.DMP"))
    await wecom.settle()
    assert any("无法下载 MEMORY.DMP" in t and "三天" in t for t in wecom.fake.texts())


async def test_ai_bot_group_mention_and_one_to_one_file(wecom):
    # @crashdesk in the team group: the card goes back through response_url.
    resp = await wecom.bot({"msgid": "b1", "aibotid": "AIBOT", "chatid": "wrGROUP", "chattype": "group",
                            "from": {"userid": "zhangsan"}, "response_url": wecom.fake.base + "/aibot/response/1",
                            "msgtype": "text", "text": {"content": f"@crashdesk {SUBJECT}"}})
    assert resp.status == 200
    await wecom.settle()
    assert any("CAS-04716-C3F2K9" in r["markdown"]["content"] for r in wecom.fake.responses)
    # The dump, one to one with the bot: the verdict to the sender, and to the group.
    url = wecom.fake.add_bot_file("f1", EXAMPLE)
    await wecom.bot({"msgid": "b2", "aibotid": "AIBOT", "chattype": "single", "from": {"userid": "zhangsan"},
                     "response_url": wecom.fake.base + "/aibot/response/2",
                     "msgtype": "file", "file": {"url": url, "filename": "seed.txt"}})
    await wecom.settle()
    verdicts = [t for t in wecom.fake.texts() if "指向同一厂商：亚信安全" in t]
    assert verdicts
    assert any("指向同一厂商：亚信安全" in w["markdown"]["content"] for w in wecom.fake.webhook)
    assert wecom.fake.webhook[0]["key"] == "team-group-key"


async def test_unsupported_message_types_are_explained(wecom):
    xml = (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[lisi]]></FromUserName>"
           f"<CreateTime>1476422781</CreateTime><MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://x]]></PicUrl>"
           f"<MediaId><![CDATA[m]]></MediaId><MsgId>7001</MsgId><AgentID>{AGENT_ID}</AgentID></xml>")
    await wecom.callback(xml)
    await wecom.settle()
    assert "只能接收文字消息" in wecom.fake.texts()[-1]


async def test_digest_goes_to_the_webhook(wecom):
    from datetime import time as dtime

    from handlers.digest import send_if_due

    await wecom.callback(text_message("zhangsan", SUBJECT, "8001"))
    await wecom.settle()
    (key, post), = wecom.app.digest_targets()
    assert await send_if_due(wecom.app.desk, key, dtime(0, 0), post)
    assert not await send_if_due(wecom.app.desk, key, dtime(0, 0), post)
    assert len(wecom.fake.webhook) == 1 and NUMBER in wecom.fake.webhook[0]["markdown"]["content"]


def test_markdown_splits_long_verdicts_under_2048_bytes():
    from analysis.render.doc import Doc
    from bot.wecom_markdown import chunks
    from handlers.events import Reply

    doc = Doc()
    doc.heading("案例结论")
    doc.bullets("依据", ["很长的一行证据 " * 20] * 30)
    doc.code("x" * 5000)
    parts = chunks(Reply(doc))
    assert len(parts) > 2
    assert all(len(p.encode()) <= 2048 for p in parts)
    assert parts[0].endswith(f"(1/{len(parts)})</font>")


async def test_pacer_keeps_to_thirty_a_minute_per_person():
    from bot.wecom_api import Pacer

    now = [0.0]
    slept = []

    async def sleep(d):
        slept.append(d)
        now[0] += d

    pacer = Pacer(30, clock=lambda: now[0], sleep=sleep)
    await asyncio.gather(*[pacer.wait("zhangsan") for _ in range(31)], *[pacer.wait("lisi") for _ in range(5)])
    assert len(slept) == 1 and 59 < slept[0] <= 60.1  # the 31st message to one person waits out the minute


async def test_a_flood_to_one_person_waits_without_holding_up_others(wecom):
    from analysis.render.doc import Doc
    from handlers.events import Reply

    adapter = wecom.app.platforms.wecom
    route = {"to": "zhangsan", "group": None, "response_url": None}
    for i in range(35):
        doc = Doc()
        doc.para(f"message {i}")
        await adapter._deliver(Reply(doc), route)
    doc = Doc()
    doc.para("for lisi")
    await adapter._deliver(Reply(doc), {"to": "lisi", "group": None, "response_url": None})

    def waiting(db):
        return list(db.query("select not_before, created_at from jobs where kind = 'wecom.send' and status = 'queued' "
                             "and not_before > created_at"))

    # Until every job has had its turn: 31 sent, 5 put off to the next
    # window (a state, not a count after a guessed sleep).
    settled = False
    for _ in range(3000):
        put_off = await wecom.app.store.call(waiting)
        if len(wecom.fake.sent) >= 31 and len(put_off) >= 5:
            settled = True
            break
        await asyncio.sleep(0.02)
    assert settled, (len(wecom.fake.sent), len(put_off))
    to = [m["touser"] for m in wecom.fake.sent]
    assert to.count("zhangsan") == 30 and to.count("lisi") == 1
    assert len(await wecom.app.store.call(waiting)) == 5
    assert [m["markdown"]["content"] for m in wecom.fake.sent if m["touser"] == "zhangsan"][:3] == \
        ["message 0", "message 1", "message 2"]


async def test_a_job_run_again_after_a_restart_still_answers(wecom):
    adapter = wecom.app.platforms.wecom
    payload = {"source": "app", "msg": {"MsgType": "text", "FromUserName": "zhangsan", "Content": SUBJECT,
                                        "MsgId": "9001", "CreateTime": "1476422779"}}
    await adapter._run(payload)
    await wecom.settle()
    first = len(wecom.fake.sent)
    await adapter._run(payload)  # requeued after a crash mid-run
    await wecom.settle()
    assert first > 0 and len(wecom.fake.sent) > first


async def test_odd_signatures_and_envelopes_are_refused_not_crashed(wecom):
    query, body = wecom.fake.app_callback(text_message("zhangsan", SUBJECT, "4101"))
    for sig in ("é" * 40, "", "0" * 4000):
        query["msg_signature"] = sig
        resp = await wecom.client.post("/wecom/callback?" + urlencode(query), data=body.encode())
        assert resp.status == 403, sig[:3]
        resp = await wecom.client.get("/wecom/callback?" + urlencode({**query, "echostr": "abc"}))
        assert resp.status == 403, sig[:3]
    bot_query, _ = wecom.fake.bot_callback({"msgid": "b9", "msgtype": "text", "text": {"content": "x"}})
    for envelope in (b'{"encrypt": 123}', b'{"encrypt": ["x"]}', b"[1, 2]", b'"text"'):
        resp = await wecom.client.post("/wecom/aibot?" + urlencode(bot_query), data=envelope,
                                       headers={"Content-Type": "application/json"})
        assert resp.status == 400, envelope
    await wecom.settle()
    assert not wecom.fake.sent and await wecom.app.store.call(cases.get, NUMBER) is None


async def test_a_board_verdict_for_a_group_case_without_a_webhook_stays_stored(tmp_path):
    from deskkit import Chat, bytes_attachment

    fake = FakeWeCom()
    server, fake.base = await serve(fake.app)
    app, client = await app_client(tmp_path, {
        "WECOM_CORP_ID": CORP_ID, "WECOM_AGENT_ID": AGENT_ID, "WECOM_SECRET": SECRET, "WECOM_TOKEN": TOKEN,
        "WECOM_ENCODING_AES_KEY": AES_KEY, "WECOM_API_URL": fake.base + "/cgi-bin/"})
    try:
        chat = Chat(app.desk, platform="console", channel="console", user="weiliang")
        await chat.say(SUBJECT)
        await app.desk.bind(NUMBER, "wecom", "group:wrGROUP", "group")
        replies = await chat.say(NUMBER, files=[bytes_attachment("seed.txt", EXAMPLE)])
        verdict = next(r for r in replies if r.kind == "verdict")
        await app.relay(verdict)  # no webhook: nothing to send, nothing raised
        assert not fake.webhook
        assert (await app.store.call(cases.get, NUMBER)).vendor == "AsiaInfo Security"
    finally:
        await client.close()
        await server.close()

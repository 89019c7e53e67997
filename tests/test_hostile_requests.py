"""Signed but hostile platform requests (issue 16): JSON that is not an
object, wrongly typed fields, 100,000-deep nesting, decrypted AI-bot
payloads that are not objects, stale or future WeCom timestamps, AI-bot
messages without a msgid.  Each gets a clear 4xx (or the 200 the platform
needs), a log line, and never a 500."""

import json
import logging
import time
from urllib.parse import urlencode

import pytest

from deskkit import app_client, serve
from fakeslack import SECRET as SLACK_SECRET, TOKEN as SLACK_TOKEN, FakeSlack, event_body, message_event, sign
from fakewecom import BOT_AES_KEY, BOT_TOKEN, text_message
from bot.wecom_crypto import WeComCrypto, signature
from store import ops
from test_wecom import wecom  # noqa: F401  (the fixture)

pytestmark = pytest.mark.usefixtures("store_backend")
DEEP = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 100_000 + "1" + "}" * 100_000


@pytest.fixture
async def slack(tmp_path):
    fake = FakeSlack()
    fake_server, fake.base = await serve(fake.app)
    app, client = await app_client(tmp_path, {
        "SLACK_BOT_TOKEN": SLACK_TOKEN, "SLACK_SIGNING_SECRET": SLACK_SECRET, "SLACK_API_URL": fake.base + "/api/"})

    async def post(body: str, content_type="application/json"):
        return await client.post("/slack/events", data=body.encode(),
                                 headers={"Content-Type": content_type, **sign(body)})

    yield app, fake, post
    await client.close()
    await fake_server.close()


def event(**fields):
    ev = message_event("case help", ts="1.1")
    ev.update(fields)
    return json.dumps({"type": "event_callback", "event": ev, "event_id": "Ev1"})


JSON_BODIES = ["[1,2]", "null", '"text"', "3", "true", DEEP, DEEP_OBJECT, "{", '{"type": ["event_callback"]}',
               '{"type": "event_callback", "event": [1]}', '{"type": "event_callback", "event": "message"}',
               '{"type": "url_verification", "challenge": {"a": 1}}', '{"type": "url_verification"}',
               event(channel=5), event(user=["U1"]), event(ts={"a": 1}), event(text=7), event(thread_ts=1.5),
               event(files="F1"), event(files=[1, "x"]), event(files=[{"name": 3, "size": "big"}]),
               event(subtype=["x"]), event(type=["message"]),
               '{"type": "block_actions", "user": "U1", "actions": [1]}']
FORM_BODIES = ["payload=[1,2]", "payload=null", "payload=" + "%5B" * 50_000, 'payload={"type": "view_submission"}',
               'payload={"type": "block_actions", "user": "x", "actions": "y"}',
               'payload={"type": "view_submission", "view": [1], "user": {"id": "U1"}}',
               'payload={"type": "block_actions", "user": {"id": "U1"}, "actions": [{"action_id": 5}]}',
               "command=/case&text=show", "command=/case&channel_id=C1&user_id=U1&text=5&trigger_id=%5B",
               "command=%FF&text=%FE", "payload=%FF%FE"]


@pytest.mark.parametrize("body", JSON_BODIES, ids=lambda b: b[:40])
async def test_signed_slack_json_of_the_wrong_shape_is_refused_not_crashed(slack, body, caplog):
    app, fake, post = slack
    with caplog.at_level(logging.WARNING):
        resp = await post(body)
    assert resp.status < 500, await resp.text()
    if body.startswith('{"type": "url_verification"') or resp.status >= 400:
        assert resp.status == 400 and any("Slack" in r.getMessage() for r in caplog.records)
    await app.jobs.drain()
    assert not fake.posts()


@pytest.mark.parametrize("body", FORM_BODIES, ids=lambda b: b[:40])
async def test_signed_slack_forms_of_the_wrong_shape_are_refused_not_crashed(slack, body):
    app, fake, post = slack
    resp = await post(body, content_type="application/x-www-form-urlencoded")
    assert resp.status < 500, await resp.text()
    await app.jobs.drain()


async def test_a_well_formed_slack_event_still_gets_its_answer(slack):
    app, fake, post = slack
    resp = await post(event_body(message_event("case help", ts="1.2"), "Ev9"))
    assert resp.status == 200
    await app.jobs.drain()
    assert fake.posts()


# ----------------------------------------------------------------- WeCom
def bot_request(plain: str, ts: int | None = None, nonce: str = "1372623149"):
    crypto = WeComCrypto(BOT_TOKEN, BOT_AES_KEY, "")
    stamp = str(int(time.time()) if ts is None else ts)
    encrypted = crypto.encrypt(plain)
    query = {"msg_signature": signature(BOT_TOKEN, stamp, nonce, encrypted), "timestamp": stamp, "nonce": nonce}
    return "/wecom/aibot?" + urlencode(query), json.dumps({"encrypt": encrypted})


BOT_PLAINS = ["[1,2]", "null", '"text"', "7", DEEP, DEEP_OBJECT, '{"msgtype": ["text"]}',
              '{"msgtype": "text", "from": "zhangsan", "text": {"content": "x"}, "msgid": "m1"}',
              '{"msgtype": "text", "from": {"userid": 5}, "text": {"content": "x"}, "msgid": "m2"}',
              '{"msgtype": "text", "from": {"userid": "u"}, "text": "x", "msgid": "m3"}',
              '{"msgtype": "text", "from": {"userid": "u"}, "text": {"content": ["x"]}, "msgid": "m4"}',
              '{"msgtype": "file", "from": {"userid": "u"}, "file": [1], "msgid": "m5"}',
              '{"msgtype": "mixed", "from": {"userid": "u"}, "mixed": {"msg_item": "x"}, "msgid": "m6"}',
              '{"msgtype": "mixed", "from": {"userid": "u"}, "mixed": {"msg_item": [1, {"msgtype": 2}]}, "msgid": "m7"}',
              '{"msgtype": "text", "from": {"userid": "u"}, "text": {"content": "x"}, "msgid": ["m8"]}',
              '{"msgtype": "text", "from": {"userid": "u"}, "chattype": "group", "chatid": 5, "text": {"content": "x"}, "msgid": "m9"}',
              '{"msgtype": "text", "from": {"userid": "u"}, "response_url": 5, "text": {"content": "x"}, "msgid": "m10"}']


@pytest.mark.parametrize("plain", BOT_PLAINS, ids=lambda b: b[:40])
async def test_decrypted_ai_bot_payloads_of_the_wrong_shape_are_refused(wecom, plain, caplog):
    app, fake, client = wecom.app, wecom.fake, wecom.client
    path, body = bot_request(plain)
    with caplog.at_level(logging.WARNING):
        resp = await client.post(path, data=body.encode(), headers={"Content-Type": "application/json"})
    assert resp.status == 400, await resp.text()
    assert any("AI bot" in r.getMessage() for r in caplog.records)
    assert await app.store.call(ops.pending_jobs) == 0


def test_a_wecom_timestamp_is_fresh_within_five_minutes_either_way():
    from bot.wecom_app import FRESH_SECONDS, WeComAdapter

    now = 1_700_000_000.0
    for skew, fresh in ((0, True), (FRESH_SECONDS, True), (-FRESH_SECONDS, True), (FRESH_SECONDS + 1, False),
                        (-FRESH_SECONDS - 1, False)):
        assert WeComAdapter.fresh(str(int(now) + skew), now=now) is fresh, skew


# Over real requests the skews keep clear of the boundary (tested above with
# the clock given): the test's second is floored and the request takes time,
# so 301 seconds ahead could be 300 when the server looks.
@pytest.mark.parametrize("skew", [-3600, -310, 310, 86400 * 365])
async def test_stale_or_future_wecom_callbacks_are_refused(wecom, skew):
    app, fake, client = wecom.app, wecom.fake, wecom.client
    query, body = fake.app_callback(text_message("zhangsan", "case help", "7001"),
                                    timestamp=str(int(time.time()) + skew))
    resp = await client.post("/wecom/callback?" + urlencode(query), data=body.encode())
    assert resp.status == 403
    path, bot_body = bot_request(json.dumps({"msgid": "s1", "msgtype": "text", "from": {"userid": "u"},
                                             "text": {"content": "case help"}}), ts=int(time.time()) + skew)
    assert (await client.post(path, data=bot_body.encode())).status == 403
    for stamp in ("", "abc", "1e9", "٣"):
        query["timestamp"] = stamp
        assert (await client.post("/wecom/callback?" + urlencode(query), data=body.encode())).status == 403
    assert await app.store.call(ops.pending_jobs) == 0


async def test_a_fresh_wecom_callback_is_taken(wecom):
    app, fake, client = wecom.app, wecom.fake, wecom.client
    query, body = fake.app_callback(text_message("zhangsan", "case help", "7002"),
                                    timestamp=str(int(time.time()) - 60))
    assert (await client.post("/wecom/callback?" + urlencode(query), data=body.encode())).status == 200
    await app.jobs.drain()
    assert fake.sent


async def test_ai_bot_messages_without_a_msgid_do_not_share_one_dedupe_key(wecom):
    """Each message without a msgid is told apart by its sender, chat,
    content and the callback's time; the same callback delivered again is
    still one."""
    app, fake, client = wecom.app, wecom.fake, wecom.client

    def message(text, user="zhangsan"):
        return json.dumps({"msgtype": "text", "from": {"userid": user}, "chattype": "single",
                           "text": {"content": text}})

    now = int(time.time())
    for text, user in (("case help", "zhangsan"), ("case list", "zhangsan"), ("case help", "lisi")):
        path, body = bot_request(message(text, user), ts=now)
        assert (await client.post(path, data=body.encode())).status == 200
    path, body = bot_request(message("case help"), ts=now)  # WeCom's retry of the first
    assert (await client.post(path, data=body.encode())).status == 200
    jobs = await app.store.call(lambda db: [r["dedupe"] for r in db.query(
        "select dedupe from jobs where kind = 'wecom.message'")])
    assert len(jobs) == 3 and len(set(jobs)) == 3


async def test_two_ai_bot_messages_without_a_msgid_are_both_answered(wecom):
    app, fake, client = wecom.app, wecom.fake, wecom.client
    for n in (1, 2):
        msg = {"msgtype": "text", "from": {"userid": "zhangsan"}, "chattype": "group", "chatid": "wrG",
               "response_url": fake.base + f"/aibot/response/{n}", "text": {"content": "case help"}}
        path, body = bot_request(json.dumps(msg), nonce=str(n))
        assert (await client.post(path, data=body.encode())).status == 200
        await app.jobs.drain()
    assert len(fake.responses) >= 2 and fake.responses[0] == fake.responses[-1]


async def test_ai_bot_messages_the_desk_does_not_read_are_still_acknowledged(wecom):
    app, fake, client = wecom.app, wecom.fake, wecom.client
    for plain in ('{"msgtype": "event", "event": {"eventtype": "enter_chat"}}', '{"msgtype": "stream", "stream": {"id": "s"}}'):
        path, body = bot_request(plain)
        assert (await client.post(path, data=body.encode())).status == 200
    assert await app.store.call(ops.pending_jobs) == 0

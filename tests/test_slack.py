"""Slack end to end with no Slack: the real slack-bolt app inside
`crashdesk serve`'s aiohttp server, receiving requests signed as Slack signs
them, talking through the real slack-sdk client to a fake Web API."""

import asyncio
import json
import time
from pathlib import Path

import pytest

from deskkit import app_client, serve
from fakeslack import SECRET, TOKEN, FakeSlack, command_body, event_body, interactive_body, message_event, sign
from store import cases, evidence, ops, timeline

pytestmark = pytest.mark.usefixtures("store_backend")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = (ROOT / "examples" / "seed-shaped-thread.txt").read_bytes()
NUMBER = "CAS-04716-C3F2K9"
SUBJECT = f"[案例号: {NUMBER}] % |P3|ICBC|总行 win10 神州网信政府版电脑蓝屏 % 初次响应"


@pytest.fixture
async def slack(tmp_path):
    fake = FakeSlack()
    fake_server, fake.base = await serve(fake.app)
    app, client = await app_client(tmp_path, {
        "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.base + "/api/",
        "DIGEST_CHANNEL": "C0DIGEST",
    })

    class Kit:
        pass

    kit = Kit()
    kit.fake, kit.app, kit.client = fake, app, client

    async def post(body: str, *, content_type="application/json", headers=None, timestamp=None):
        hdrs = {"Content-Type": content_type, **sign(body, timestamp)}
        hdrs.update(headers or {})
        return await client.post("/slack/events", data=body.encode(), headers=hdrs)

    async def event(ev: dict, event_id: str, **kw):
        resp = await post(event_body(ev, event_id), **kw)
        return resp

    async def command(text: str, **kw):
        return await post(command_body(text, **kw), content_type="application/x-www-form-urlencoded")

    async def interact(payload: dict):
        return await post(interactive_body(payload), content_type="application/x-www-form-urlencoded")

    async def settle():
        await app.jobs.drain()
        await asyncio.sleep(0.05)  # listeners of commands and buttons run after their ack
        for _ in range(100):
            if not [t for t in asyncio.all_tasks() if "run_" in repr(t.get_coro())]:
                break
            await asyncio.sleep(0.05)

    kit.post, kit.event, kit.command, kit.interact, kit.settle = post, event, command, interact, settle
    yield kit
    await client.close()
    await fake_server.close()


def texts(fake, **match):
    out = []
    for p in fake.posts():
        if all(p.get(k) == v for k, v in match.items()):
            out.append(p.get("text", ""))
    return out


async def test_healthz_is_ready(slack):
    resp = await slack.client.get("/healthz")
    assert resp.status == 200 and (await resp.json())["platforms"] == ["slack"]


async def test_upload_gets_the_verdict_in_its_thread(slack, monkeypatch):
    import threading

    from handlers import analyse

    file = slack.fake.add_file("F0SEED", "seed-thread.txt", EXAMPLE)
    # Slack wants its answer within 3 s: the event is answered while the
    # analysis is still held back (the order, not a stopwatch, shows that
    # no analysis runs before the acknowledgement).
    release = threading.Event()
    real = analyse.analyze_case_files

    def held(*args, **kw):
        release.wait(60)
        return real(*args, **kw)

    monkeypatch.setattr(analyse, "analyze_case_files", held)
    resp = await slack.event(message_event(f"{NUMBER} dumps from the bank", ts="1630900000.000100", files=[file]), "Ev01")
    assert resp.status == 200 and not release.is_set()
    release.set()
    await slack.settle()
    # The case did not exist: the message says what it is about, so it is
    # opened with that title, and the file goes under it.
    replies = texts(slack.fake, thread_ts="1630900000.000100")
    verdict = next(t for t in replies if "Case verdict" in t)
    assert "2 dumps, 2 bug checks, one vendor: AsiaInfo Security" in verdict
    assert "VSApiNt" in verdict and "0x1A MEMORY_MANAGEMENT" in verdict
    post = next(p for p in slack.fake.posts() if "Case verdict" in p.get("text", ""))
    assert any(b["type"] == "header" for b in post["blocks"])
    assert any(b["type"] == "actions" for b in post["blocks"])
    assert slack.fake.downloads == [("F0SEED", f"Bearer {TOKEN}")]
    names = [c["name"] for c in slack.fake.called("reactions.add")]
    assert names[0] == "hourglass_flowing_sand" and "white_check_mark" in names
    case = await slack.app.store.call(cases.get, NUMBER)
    assert case.title == "dumps from the bank"


async def test_retried_and_duplicate_deliveries_post_once(slack):
    await slack.command(f"open {NUMBER} P3 customer:ICBC branch PCs blue-screen")
    await slack.settle()
    file = slack.fake.add_file("F0SEED", "seed-thread.txt", EXAMPLE)
    ev = message_event(f"{NUMBER}", ts="1630900000.000200", files=[file])
    await slack.event(ev, "Ev02")
    await slack.event(ev, "Ev02", headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    # Slack also sends app_mention for the same message when the bot is named.
    await slack.event({**ev, "type": "app_mention"}, "Ev03")
    await slack.settle()
    verdicts = [t for t in texts(slack.fake) if "Case verdict" in t]
    assert len(verdicts) == 1
    case = await slack.app.store.call(cases.get, NUMBER)
    assert len(await slack.app.store.call(evidence.case_dumps, case.id)) == 1


async def test_forged_and_replayed_requests_are_refused_and_leave_no_trace(slack):
    body = event_body(message_event(SUBJECT, ts="1630900000.000300"), "Ev04")
    bad = await slack.client.post("/slack/events", data=body, headers={
        "Content-Type": "application/json", "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64})
    missing = await slack.client.post("/slack/events", data=body, headers={"Content-Type": "application/json"})
    stale = await slack.post(body, timestamp=int(time.time()) - 6 * 60)
    assert (bad.status, missing.status, stale.status) == (401, 401, 401)
    await slack.settle()
    assert not slack.fake.posts()
    assert await slack.app.store.call(cases.get, NUMBER) is None
    assert await slack.app.store.call(ops.pending_jobs) == 0


async def test_case_number_in_a_message_gets_the_card_in_thread(slack):
    await slack.event(message_event(SUBJECT, ts="1630900000.000400"), "Ev05")
    await slack.settle()
    card = next(p for p in slack.fake.posts() if p.get("thread_ts") == "1630900000.000400" and NUMBER in p.get("text", "") and "open" in p.get("text", ""))
    assert card["blocks"][0]["type"] == "header"
    # A reply in that thread goes on the case timeline.
    await slack.event(message_event("called the customer, will upgrade", ts="1630900000.000500",
                                    thread_ts="1630900000.000400"), "Ev06")
    await slack.settle()
    case = await slack.app.store.call(cases.get, NUMBER)
    msgs = await slack.app.store.call(timeline.messages, case.id)
    assert msgs[-1]["text"] == "called the customer, will upgrade" and msgs[-1]["user"] == "eng-u0wei"
    assert case.first_response_at


async def test_slash_call_then_show_shows_the_call(slack):
    resp = await slack.command(f"open {NUMBER} P3 customer:ICBC branch PCs blue-screen")
    assert resp.status == 200
    await slack.settle()
    await slack.command(f"call {NUMBER} customer agreed to upgrade OfficeScan, next 2021-09-15")
    await slack.settle()
    await slack.command(f"show {NUMBER}")
    await slack.settle()
    out = "\n".join(texts(slack.fake))
    assert "Phone call logged on CAS-04716-C3F2K9" in out
    assert "Next action: 2021-09-15 (2021-09-15)" in out or "Next action:" in out
    assert "customer agreed to upgrade OfficeScan" in out
    # The card a command posts opens a thread that is now the case's.
    case = await slack.app.store.call(cases.get, NUMBER)
    assert any(t["platform"] == "slack" for t in await slack.app.store.call(cases.threads_of, case.id))


async def test_slash_archive_writes_the_summary_and_updates_the_root(slack):
    await slack.command(f"open {NUMBER} P3 customer:ICBC branch PCs blue-screen")
    await slack.settle()
    assert any(p.get("text", "").startswith(NUMBER) for p in slack.fake.posts())
    # Upload in the case's thread (the card the command posted is its root).
    case = await slack.app.store.call(cases.get, NUMBER)
    thread = (await slack.app.store.call(cases.threads_of, case.id))[0]["thread"]
    file = slack.fake.add_file("F0SEED", "seed-thread.txt", EXAMPLE)
    await slack.event(message_event("dumps", ts="1630900000.000700", thread_ts=thread, files=[file]), "Ev07")
    await slack.settle()
    await slack.event(message_event(f"case show {NUMBER}", ts="1630900000.000800", thread_ts=thread), "Ev08")
    await slack.settle()
    await slack.command(f"archive {NUMBER} customer upgraded; no crash for a week")
    await slack.settle()
    out = "\n".join(texts(slack.fake))
    assert "Definition:" in out and "Summary:" in out and "Analysis:" in out
    assert "AsiaInfo Security's modules VSApiNt and TmXPFlt" in out
    assert "lock" in [c["name"] for c in slack.fake.called("reactions.add")]
    updated = slack.fake.called("chat.update")
    assert updated and "archived" in updated[-1]["text"]


async def test_buttons_open_modals_and_submissions_are_recorded(slack):
    await slack.event(message_event(SUBJECT, ts="1630900000.000900"), "Ev09")
    await slack.settle()
    base = {"user": {"id": "U0WEI"}, "channel": {"id": "C0CASES"}, "team": {"id": "T0FAKE"},
            "api_app_id": "A0FAKE", "token": "legacy",
            "message": {"ts": "1700000000.000001", "thread_ts": "1630900000.000900"},
            "container": {"type": "message", "message_ts": "1700000000.000001", "channel_id": "C0CASES"}}
    resp = await slack.interact({**base, "type": "block_actions", "trigger_id": "111.222",
                                 "actions": [{"action_id": "crashdesk_call", "value": NUMBER, "type": "button",
                                              "block_id": "b1", "action_ts": "1"}]})
    assert resp.status == 200
    await slack.settle()
    view = slack.fake.called("views.open")[-1]["view"]
    assert view["callback_id"] == "crashdesk_call"
    submitted = {**view, "id": "V0001", "state": {"values": {
        "agreed": {"value": {"type": "plain_text_input", "value": "客户同意升级亚信安全软件"}},
        "due": {"value": {"type": "datepicker", "selected_date": "2021-09-15"}},
        "next": {"value": {"type": "plain_text_input", "value": "观察一周"}}}}}
    resp = await slack.interact({"type": "view_submission", "user": {"id": "U0WEI"}, "team": {"id": "T0FAKE"},
                                 "api_app_id": "A0FAKE", "token": "legacy", "view": submitted})
    assert resp.status == 200
    await slack.settle()
    case = await slack.app.store.call(cases.get, NUMBER)
    calls = await slack.app.store.call(timeline.followups, case.id)
    assert calls[-1]["agreed"].startswith("客户同意升级亚信安全软件") and calls[-1]["due"] == "2021-09-15"
    # An empty reason in the archive modal is refused in the modal itself.
    empty = {"type": "modal", "callback_id": "crashdesk_archive", "id": "V0002", "private_metadata": json.dumps({"case": NUMBER}),
             "state": {"values": {"reason": {"value": {"type": "plain_text_input", "value": ""}}}}}
    resp = await slack.interact({"type": "view_submission", "user": {"id": "U0WEI"}, "team": {"id": "T0FAKE"},
                                 "api_app_id": "A0FAKE", "token": "legacy", "view": empty})
    assert (await resp.json())["response_action"] == "errors"
    # Assign to me acts at once.
    await slack.interact({**base, "type": "block_actions", "trigger_id": "111.333",
                          "actions": [{"action_id": "crashdesk_assign_me", "value": NUMBER, "type": "button",
                                       "block_id": "b1", "action_ts": "2"}]})
    await slack.settle()
    assert (await slack.app.store.call(cases.get, NUMBER)).owner == "eng-u0wei"


async def test_rate_limits_are_waited_out_and_missing_membership_fixed(slack):
    slack.fake.fail_next("chat.postMessage", error="ratelimited", status=429, headers={"Retry-After": "1"})
    slack.fake.fail_next("chat.postMessage", error="not_in_channel")
    await slack.event(message_event(SUBJECT, ts="1630900000.001000"), "Ev10")
    await slack.settle()
    assert slack.fake.called("conversations.join")
    assert any(NUMBER in t for t in texts(slack.fake))


async def test_download_refused_by_slack_is_explained_in_the_thread(slack):
    file = slack.fake.add_file("F0GONE", "MEMORY.DMP", b"PAGEDU64")
    file["url_private_download"] = slack.fake.base + "/signin"
    await slack.event(message_event("dump", ts="1630900000.001100", files=[file]), "Ev11")
    await slack.settle()
    out = "\n".join(texts(slack.fake, thread_ts="1630900000.001100"))
    assert "Could not download MEMORY.DMP" in out
    assert "warning" in [c["name"] for c in slack.fake.called("reactions.add")]


async def test_digest_goes_to_the_digest_channel_once(slack):
    from datetime import time as dtime

    from handlers.digest import send_if_due

    await slack.command(f"open {NUMBER} P3 customer:ICBC branch PCs blue-screen")
    await slack.settle()
    (key, post), = slack.app.digest_targets()
    assert await send_if_due(slack.app.desk, key, dtime(0, 0), post)
    assert not await send_if_due(slack.app.desk, key, dtime(0, 0), post)
    digests = [p for p in slack.fake.posts() if p["channel"] == "C0DIGEST"]
    assert len(digests) == 1 and NUMBER in digests[0]["text"]


async def test_socket_mode_without_a_public_url(tmp_path):
    """SLACK_APP_TOKEN set: crashdesk connects out over a WebSocket, acks
    each envelope and answers through the Web API; no /slack/events route."""
    import json as _json

    from fakeslack import APP_TOKEN

    fake = FakeSlack()
    server, fake.base = await serve(fake.app)
    app, client = await app_client(tmp_path, {"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": APP_TOKEN,
                                              "SLACK_API_URL": fake.base + "/api/"})
    try:
        for _ in range(100):
            if fake.sockets:
                break
            await asyncio.sleep(0.05)
        assert fake.sockets, "crashdesk did not open the Socket Mode connection"
        assert (await client.post("/slack/events", data=b"{}")).status in (404, 405)
        body = _json.loads(event_body(message_event(SUBJECT, ts="1630900000.009900"), "EvSock"))
        await fake.push({"envelope_id": "env-1", "type": "events_api", "accepts_response_payload": False,
                         "payload": body})
        for _ in range(100):
            if any(NUMBER in p.get("text", "") for p in fake.posts()):
                break
            await asyncio.sleep(0.05)
        assert any(a.get("envelope_id") == "env-1" for a in fake.acks)
        assert any(p.get("thread_ts") == "1630900000.009900" and NUMBER in p.get("text", "") for p in fake.posts())
    finally:
        await client.close()
        await server.close()


async def test_the_bot_token_goes_only_to_slack(slack):
    file = slack.fake.add_file("F0EVIL", "x.txt", b"data")
    file["url_private_download"] = "http://attacker.invalid/steal"
    await slack.event(message_event("dump", ts="1630900000.001200", files=[file]), "Ev12")
    await slack.settle()
    out = "\n".join(texts(slack.fake, thread_ts="1630900000.001200"))
    assert "refusing to send the bot token to attacker.invalid" in out


async def test_hostile_requests_are_refused_before_their_body_is_parsed(slack):
    # A replayed slash command (same signed body, same trigger id) runs once.
    once = command_body(f"open {NUMBER} P3 customer:ICBC replayed", trigger="999.1")
    for _ in range(2):
        assert (await slack.post(once, content_type="application/x-www-form-urlencoded")).status == 200
        await slack.settle()
    await slack.command(f"call {NUMBER} agreed to upgrade")
    await slack.settle()
    call = command_body(f"call {NUMBER} agreed to upgrade again", trigger="999.2")
    for _ in range(3):
        await slack.post(call, content_type="application/x-www-form-urlencoded")
        await slack.settle()
    case = await slack.app.store.call(cases.get, NUMBER)
    assert len(await slack.app.store.call(timeline.followups, case.id)) == 2
    # Malformed signature headers are bad signatures, not server errors.
    body = event_body(message_event("hello", ts="1630900000.009100"), "Ev91")
    for headers in ({"X-Slack-Signature": "v0=é", "X-Slack-Request-Timestamp": str(int(time.time()))},
                    {"X-Slack-Signature": "v0=" + "0" * 64, "X-Slack-Request-Timestamp": "abc"},
                    {"X-Slack-Signature": "v0=" + "0" * 64, "X-Slack-Request-Timestamp": "9" * 5000}):
        resp = await slack.client.post("/slack/events", data=body.encode(), headers={"Content-Type": "application/json",
                                                                                     **headers})
        assert resp.status == 401
    # An unsigned body too large for any Slack payload is refused unread.
    huge = await slack.client.post("/slack/events", data=b"[" + b"{}," * (2 * 1024**2) + b"{}]",
                                   headers={"Content-Type": "application/json"})
    assert huge.status == 413
    # A signed body that is not JSON is answered, not crashed on.
    assert (await slack.post("not json at all")).status < 500


async def test_one_socket_mode_connection_for_the_cluster_taken_over_when_its_holder_stops(tmp_path):
    """Two instances on one database: one connection to Slack; when the
    instance holding it goes, the other connects."""
    from fakeslack import APP_TOKEN

    from bot.config import Settings
    from bot.server import App
    from aiohttp.test_utils import TestClient, TestServer
    from concurrent.futures import ThreadPoolExecutor
    from engines import db_for

    fake = FakeSlack()
    server, fake.base = await serve(fake.app)
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_API_URL": fake.base + "/api/",
           "CRASHDESK_DB": db_for(tmp_path, "cluster.db"), "CRASHDESK_DATA_DIR": str(tmp_path / "data"),
           "CRASHDESK_JOB_LEASE": "6"}
    clients = []
    try:
        for _ in range(2):
            app = App(Settings(dict(env)), executor=ThreadPoolExecutor(max_workers=1), scheduler=False)
            client = TestClient(TestServer(app.web, host="127.0.0.1"))
            await client.start_server()
            clients.append((app, client))
        holders = [app for app, _ in clients if app.platforms.slack_socket.held]
        assert len(holders) == 1 and len(fake.sockets) == 1
        other = next(app for app, _ in clients if app is not holders[0])
        await next(c for a, c in clients if a is holders[0]).close()  # its lease is released on the way out
        for _ in range(200):
            if other.platforms.slack_socket.held:
                break
            await asyncio.sleep(0.05)
        assert other.platforms.slack_socket.held and len(fake.sockets) == 2
    finally:
        for app, client in clients:
            await client.close()
        await server.close()


async def test_an_archived_cases_card_offers_reopen_and_the_button_reopens_it(slack):
    """An archived case takes no call and no owner: its card's buttons were
    still 'Log a call' and 'Assign to me' (each answered that the case is
    archived); now it offers Reopen, which works at once."""
    await slack.event(message_event(SUBJECT, ts="1630900000.002900"), "Ev29")
    await slack.settle()
    await slack.command(f"archive {NUMBER} customer upgraded; no crash for a week")
    await slack.settle()
    await slack.command(f"show {NUMBER}")
    await slack.settle()
    card = [p for p in slack.fake.posts() if "blocks" in p and NUMBER in p.get("text", "")][-1]
    buttons = [e["action_id"] for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert "crashdesk_reopen" in buttons
    assert not {"crashdesk_call", "crashdesk_assign_me", "crashdesk_archive"} & set(buttons)
    await slack.interact({"user": {"id": "U0WEI"}, "channel": {"id": "C0CASES"}, "team": {"id": "T0FAKE"},
                          "api_app_id": "A0FAKE", "token": "legacy", "type": "block_actions", "trigger_id": "111.444",
                          "message": {"ts": "1700000000.000009", "thread_ts": "1630900000.002900"},
                          "container": {"type": "message", "message_ts": "1700000000.000009", "channel_id": "C0CASES"},
                          "actions": [{"action_id": "crashdesk_reopen", "value": NUMBER, "type": "button",
                                       "block_id": "b1", "action_ts": "3"}]})
    await slack.settle()
    assert (await slack.app.store.call(cases.get, NUMBER)).status != "archived"

"""Who may use the desk (issue 16, bot/access.py): Slack channels and user
groups, WeCom departments (with the ones under them) and tags, a list of
users; anyone else who addresses the bot is told so, gets no board link,
and nothing they sent is stored."""

import asyncio
from urllib.parse import urlencode

import pytest

from bot.access import Gate, LookupFailed, Rules
from bot.config import Settings
from deskkit import app_client, serve
from fakeslack import SECRET as SLACK_SECRET, TOKEN as SLACK_TOKEN, FakeSlack, command_body, event_body, \
    message_event, sign
from fakewecom import AES_KEY, AGENT_ID, CORP_ID, SECRET, TOKEN, FakeWeCom, text_message
from handlers.events import ChatEvent
from store import cases

pytestmark = pytest.mark.usefixtures("store_backend")
NUMBER = "CAS-04716-C3F2K9"
SUBJECT = f"[案例号: {NUMBER}] % |P3|ICBC|总行 win10 神州网信政府版电脑蓝屏 % 初次响应"


# ----------------------------------------------------------------- WeCom
@pytest.fixture
async def wecom(tmp_path):
    fake = FakeWeCom()
    server, fake.base = await serve(fake.app)
    # Support (10) has a sub-department 11; tag T1 carries lisi and department 30.
    fake.members = {"zhangsan": [11], "wangwu": [20], "zhaoliu": [30], "lisi": [20], "outsider": [20]}
    fake.parents = {11: 10, 12: 11}
    fake.tags = {"T1": (["lisi"], [30])}
    app, client = await app_client(tmp_path, {
        "WECOM_CORP_ID": CORP_ID, "WECOM_AGENT_ID": AGENT_ID, "WECOM_SECRET": SECRET, "WECOM_TOKEN": TOKEN,
        "WECOM_ENCODING_AES_KEY": AES_KEY, "WECOM_API_URL": fake.base + "/cgi-bin/",
        "CRASHDESK_WECOM_DEPARTMENTS": "10", "CRASHDESK_WECOM_TAGS": "T1", "CRASHDESK_PUBLIC_URL": "https://desk.example",
    })

    async def say(user: str, text: str, msg_id: str):
        query, body = fake.app_callback(text_message(user, text, msg_id))
        resp = await client.post("/wecom/callback?" + urlencode(query), data=body.encode(),
                                 headers={"Content-Type": "text/xml"})
        assert resp.status == 200
        await app.jobs.drain()
        return [m for m in fake.texts()]

    yield app, fake, say
    await client.close()
    await server.close()


def sent_to(fake, user):
    return [m["markdown"]["content"] if m["msgtype"] == "markdown" else m["text"]["content"]
            for m in fake.sent if m["touser"] == user]


async def test_a_wecom_employee_not_on_the_desk_is_refused_a_board_link(wecom):
    app, fake, say = wecom
    await say("outsider", "case board", "9001")
    out = "\n".join(sent_to(fake, "outsider"))
    assert "您不在本支持组的授权名单中" in out
    assert "/auth?t=" not in out and "desk.example" not in out
    # Nothing they send is handled or stored.
    await say("outsider", SUBJECT, "9002")
    assert await app.store.call(cases.get, NUMBER) is None
    assert (await app.store.call(lambda db: db.one("select count(*) as n from messages")))["n"] == 0


@pytest.mark.parametrize("user", ["zhangsan", "zhaoliu", "lisi"])
async def test_members_of_the_departments_below_and_the_tag_get_their_link(wecom, user):
    """zhangsan: a sub-department of 10; zhaoliu: a department the tag
    carries; lisi: tagged by name."""
    app, fake, say = wecom
    await say(user, "case board", f"9{len(user)}1")
    out = "\n".join(sent_to(fake, user))
    assert "https://desk.example/auth?t=" in out and "授权名单" not in out


async def test_memberships_are_kept_a_while_not_asked_every_message(wecom):
    app, fake, say = wecom
    await say("zhangsan", "case board", "9101")
    asked = fake.lookups
    await say("zhangsan", "case help", "9102")
    assert fake.lookups == asked


async def test_when_wecom_cannot_say_who_someone_is_they_are_refused_for_now(wecom):
    app, fake, say = wecom
    await say("nobody-in-the-book", "case board", "9201")  # user/get answers 60111
    out = "\n".join(sent_to(fake, "nobody-in-the-book"))
    assert "暂时无法确认您的使用权限" in out and "/auth?t=" not in out


# ----------------------------------------------------------------- Slack
@pytest.fixture
async def slack(tmp_path):
    fake = FakeSlack()
    fake_server, fake.base = await serve(fake.app)
    fake.usergroups = {"S0SUPPORT": ["U0LI"]}
    app, client = await app_client(tmp_path, {
        "SLACK_BOT_TOKEN": SLACK_TOKEN, "SLACK_SIGNING_SECRET": SLACK_SECRET, "SLACK_API_URL": fake.base + "/api/",
        "CRASHDESK_SLACK_CHANNELS": "C0CASES", "CRASHDESK_SLACK_USERGROUPS": "S0SUPPORT",
        "CRASHDESK_USERS": "slack:U0BOSS",
    })

    async def post(body: str, content_type="application/json"):
        resp = await client.post("/slack/events", data=body.encode(),
                                 headers={"Content-Type": content_type, **sign(body)})
        assert resp.status == 200
        await app.jobs.drain()
        for _ in range(100):
            if not [t for t in asyncio.all_tasks() if "run_" in repr(t.get_coro())]:
                break
            await asyncio.sleep(0.05)

    yield app, fake, post
    await client.close()
    await fake_server.close()


def ephemerals(fake, user):
    return [c.get("text", "") for c in fake.called("chat.postEphemeral") if c.get("user") == user]


async def test_slack_anyone_in_a_desk_channel_is_served_there_and_only_there(slack):
    app, fake, post = slack
    await post(event_body(message_event(SUBJECT, ts="1.1", channel="C0CASES", user="U0ANY"), "E1"))
    assert await app.store.call(cases.get, NUMBER) is not None
    await post(event_body(message_event(f"case show {NUMBER}", ts="1.2", channel="C0RANDOM", user="U0ANY"), "E2"))
    assert any("not on this support desk" in t for t in ephemerals(fake, "U0ANY"))
    assert not [p for p in fake.posts() if p.get("channel") == "C0RANDOM"]
    # Ordinary talk in another channel is neither answered nor recorded.
    before = len(fake.calls)
    await post(event_body(message_event("lunch at noon?", ts="1.3", channel="C0RANDOM", user="U0ANY"), "E3"))
    assert [m for m, _, _ in fake.calls[before:] if m.startswith("chat.")] == []


async def test_slack_user_group_members_and_listed_users_are_served_anywhere(slack):
    app, fake, post = slack
    await post(command_body("board", channel="C0RANDOM", user="U0LI"), "application/x-www-form-urlencoded")
    await post(command_body("board", channel="D0BOSS", user="U0BOSS"), "application/x-www-form-urlencoded")
    await post(command_body("board", channel="C0RANDOM", user="U0ANY"), "application/x-www-form-urlencoded")
    assert any("/auth?t=" in t for t in ephemerals(fake, "U0LI"))
    assert any("/auth?t=" in t for t in ephemerals(fake, "U0BOSS"))
    refused = ephemerals(fake, "U0ANY")
    assert refused and all("/auth?t=" not in t for t in refused) and "not on this support desk" in refused[0]


# ----------------------------------------------------------------- rules
def test_settings_say_who_is_on_the_desk():
    rules = Settings({"CRASHDESK_USERS": "U1, wecom:zhangsan", "CRASHDESK_WECOM_DEPARTMENTS": "3;4",
                      "CRASHDESK_LEADS": "lead"}).access
    assert rules.users == {"U1", "wecom:zhangsan"} and rules.wecom_departments == {3, 4}
    assert rules.restricted and "lead" in rules.leads
    assert not Settings({}).access.restricted
    with pytest.raises(SystemExit, match="department ids"):
        Settings({"CRASHDESK_WECOM_DEPARTMENTS": "support"}).access


async def test_a_user_listed_for_one_platform_is_not_let_in_on_another():
    gate = Gate(Rules(users=frozenset({"wecom:zhangsan"})))

    def ev(platform):
        return ChatEvent(platform=platform, channel="D1", user="zhangsan", text="case board", ts="1")

    assert await gate.allows(ev("wecom"))
    assert not await gate.allows(ev("slack"))
    assert await gate.allows(ev("console"))  # the terminal is the operator's own


async def test_a_failed_lookup_refuses_rather_than_lets_in():
    gate = Gate(Rules(slack_usergroups=frozenset({"S1"})))

    async def down(group):
        raise ConnectionError("Slack is away")

    gate.slack_members = down
    with pytest.raises(LookupFailed):
        await gate.allows(ChatEvent(platform="slack", channel="C1", user="U1", text="case board", ts="1"))

"""Every message gets an answer (issue 13): one to one, a typo gets the
nearest command and a wrong argument says what was wrong; in a channel only
what is addressed to the bot.  And an archived case reads archived."""

from __future__ import annotations

import io

import pytest

from deskkit import Chat
from store import cases, timeline

pytestmark = pytest.mark.usefixtures("store_backend")

SUBJECT = "[案例号: CAS-04716-C3F2K9] % |P3|ICBC|总行 win10 神州网信政府版电脑蓝屏 % 初次响应 CMIT:0001032"
NUMBER = "CAS-04716-C3F2K9"


async def test_one_to_one_every_message_gets_an_answer(desk):
    d, store, clock = desk
    chat = Chat(d, platform="console", channel="console", direct=True)
    assert "did you mean `case show`?" in chat.text(await chat.say("case shwo")).lower()
    assert "Did you mean `case show`?" in chat.text(await chat.say("cas show"))
    hello = chat.text(await chat.say("hello is anyone there"))
    assert "case help" in hello and "hello is anyone there" in hello
    await chat.say(SUBJECT)
    # With a case in focus, what is said goes on its timeline, and says so;
    # a mistyped command does not.
    assert f"Noted on {NUMBER}" in chat.text(await chat.say("clear"))
    await chat.say("cas list")
    case = await store.call(cases.get, NUMBER)
    assert [m["text"] for m in await store.call(timeline.messages, case.id)] == ["clear"]


async def test_in_a_channel_only_what_is_addressed_to_the_bot_is_answered(desk):
    d, store, clock = desk
    chat = Chat(d, platform="slack", channel="C1")
    assert await chat.say("hello is anyone there") == []
    assert await chat.say("cas show") == []
    assert "Did you mean `case show`?" in chat.text(await chat.say("@crashdesk cas show"))
    assert "case help" in chat.text(await chat.say("@crashdesk hello"))
    # A channel's talk in a case's thread stays on its timeline, typo-like or not.
    await chat.say(SUBJECT)
    root = chat.last_ts
    assert await chat.say("cast list of drivers attached", thread=root) == []
    case = await store.call(cases.get, NUMBER)
    assert [m["text"] for m in await store.call(timeline.messages, case.id)] == ["cast list of drivers attached"]


async def test_wrong_arguments_are_said_not_guessed(desk):
    d, store, clock = desk
    chat = Chat(d, platform="console", channel="console", direct=True)
    await chat.say(SUBJECT)
    out = chat.text(await chat.say("case list foo"))
    assert '"foo"' in out and "open, observing, archived" in out and NUMBER not in out
    out = chat.text(await chat.say("case digest P5"))
    assert '"P5" is not a priority' in out and "P3" not in out.replace("P1 P2 P3 P4", "")
    out = chat.text(await chat.say("case assign"))
    assert "Assign to whom?" in out
    assert (await store.call(cases.get, NUMBER)).owner is None
    assert "upload PATH... [CASE]" in chat.text(await chat.say("case help"))


async def test_chinese_answers_have_no_english_scaffolding(desk):
    d, store, clock = desk
    chat = Chat(d, platform="console", channel="console", direct=True)
    await chat.say("case lang zh")
    assert "您是否要使用 `case show`" in chat.text(await chat.say("cas show"))
    assert "不是有效的优先级" in chat.text(await chat.say("case digest P5"))
    assert "upload 文件... [案例号]" in chat.text(await chat.say("case help"))
    # The list's filter words are said in Chinese, not echoed ("all 案例").
    await chat.say(SUBJECT)
    for words, said in (("all", "全部案例（1 个）"), ("open", "未结案例（1 个）"), ("observing", "观察中的"),
                        ("archived", "已归档")):
        out = chat.text(await chat.say(f"case list {words}"))
        assert said in out and words not in out, out


async def test_open_takes_multi_word_values_and_quotes_and_asks_for_a_missing_title(desk):
    d, store, clock = desk
    chat = Chat(d, platform="console", channel="console", direct=True)
    await chat.say("case open CAS-01234-ABC123 P2 customer:Contoso contact:Li Lei Laptops BSOD after update")
    case = await store.call(cases.get, "CAS-01234-ABC123")
    assert (case.priority, case.customer, case.contact, case.title) == (
        "P2", "Contoso", "Li Lei", "Laptops BSOD after update")
    await chat.say('case open CAS-01235-ABC124 customer:"Big Bank" contact:"Li Lei" Laptops BSOD')
    case = await store.call(cases.get, "CAS-01235-ABC124")
    assert (case.customer, case.contact, case.title) == ("Big Bank", "Li Lei", "Laptops BSOD")
    out = chat.text(await chat.say("case archive CAS-01235-ABC124 solved"))
    assert "Dear Li Lei," in out and "Big Bank: Laptops BSOD" in out
    out = chat.text(await chat.say("case open CAS-01236-ABC125"))
    assert "no title yet" in out and "case title CAS-01236-ABC125" in out
    assert "now called" in chat.text(await chat.say("case title CAS-01236-ABC125 Kiosk BSOD"))
    assert (await store.call(cases.get, "CAS-01236-ABC125")).title == "Kiosk BSOD"


async def test_the_command_line_language_wins_over_the_stored_one(desk):
    from bot.console import run

    d, store, clock = desk
    chat = Chat(d, platform="console", channel="console", direct=True)
    await chat.say("case lang en")
    out = io.StringIO()

    class Lines(io.StringIO):
        def isatty(self):
            return False

    import sys

    saved = sys.stdout
    sys.stdout = out
    try:
        await run(d, "weiliang", Lines("case help\n"), lang="zh")
    finally:
        sys.stdout = saved
    assert "crashdesk 命令" in out.getvalue()


# ------------------------------------------------------------- archived

async def test_an_archived_case_reads_archived(desk):
    d, store, clock = desk
    chat = Chat(d, platform="console", channel="console", direct=True)
    await chat.say(SUBJECT)
    await chat.say(f"case call {NUMBER} 客户说周五前不能重启 in 7 days")
    case = await store.call(cases.get, NUMBER)
    assert (case.next_action, case.next_action_due) == (None, "2021-09-08")
    out = chat.text(await chat.say(f"case archive {NUMBER} 客户已升级"))
    assert "in 7 days" not in out
    card = chat.text(await chat.say(f"case show {NUMBER}"))
    assert "Next action" not in card and "Archived: 2021-09-01 — 客户已升级" in card
    # The board's list reads the case row: no next action on it.
    case = await store.call(cases.get, NUMBER)
    assert (case.next_action, case.next_action_due) == (None, None)
    # A call after the archive is on the record and says the case is archived.
    out = chat.text(await chat.say(f"case call {NUMBER} 客户来电询问，下周再联系"))
    assert "was archived on 2021-09-01" in out and f"case reopen {NUMBER}" in out
    assert (await store.call(cases.get, NUMBER)).next_action_due is None
    await chat.say(f"case reopen {NUMBER} 再次蓝屏")
    card = chat.text(await chat.say(f"case show {NUMBER}"))
    assert "Reopened: 2021-09-01 — 再次蓝屏" in card and "Archived:" not in card


async def test_the_summary_does_not_paste_the_date_phrase(desk):
    d, store, clock = desk
    chat = Chat(d, platform="console", channel="console", direct=True)
    await chat.say(SUBJECT)
    out = chat.text(await chat.say(f"case call {NUMBER} customer did not answer, in 2 days"))
    assert "Next: follow up (due 2021-09-03)" in out
    out = chat.text(await chat.say(f"case archive {NUMBER} no answer"))
    assert "customer did not answer." in out and "in 2 days" not in out

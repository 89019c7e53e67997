"""Reminders (issue 13): a next action fallen due, and a case gone quiet,
reminded once where the case lives and again in the digest while it stays
so; once across restarts, and once however many instances run (SQLite and
PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta, timezone

import pytest

from analysis.render.doc import to_plain
from deskkit import Chat, make_desk
from handlers.reminders import send_due
from store import cases, reminders

pytestmark = pytest.mark.usefixtures("store_backend")

NUMBER = "CAS-01234-ABC123"
NINE = time(9, 0)
START = datetime(2021, 9, 1, 7, 23, tzinfo=timezone.utc)  # 15:23 in Shanghai


@pytest.fixture
async def desk(tmp_path):
    d, store, clock = make_desk(tmp_path, start=START)
    await store.open()
    yield d, store, clock
    d.close()
    store.close()


class Outbox:
    def __init__(self):
        self.replies = []

    async def __call__(self, reply) -> None:
        self.replies.append(reply)

    def texts(self) -> list[str]:
        return [to_plain(r.doc).strip() for r in self.replies]


def at(clock, day: int, hour_utc: int) -> None:
    clock.now = START.replace(day=day, hour=hour_utc, minute=30)


async def test_a_next_action_due_is_reminded_once_from_the_start_of_its_day(desk, tmp_path):
    d, store, clock = desk
    chat = Chat(d)
    await chat.say(f"case open {NUMBER} P2 customer:Contoso Laptops BSOD")
    await chat.say(f"case assign {NUMBER} weiliang")
    await chat.say(f"case call {NUMBER} customer agreed to upgrade, in 3 days call back to check")
    out = Outbox()
    assert await send_due(d, out, NINE) == 0
    at(clock, 4, 0)  # 08:30 in Shanghai on the due day: not yet
    assert await send_due(d, out, NINE) == 0
    at(clock, 4, 1)  # 09:30
    assert await send_due(d, out, NINE) == 1
    assert out.texts() == ["Reminder for @weiliang: CAS-01234-ABC123 · Contoso · Laptops BSOD — the next action "
                           "is due today: call back to check."]
    assert out.replies[0].case_number == NUMBER
    assert await send_due(d, out, NINE) == 0
    # A restart: another process on the same database sends nothing again.
    d2, store2, _ = make_desk(tmp_path, start=clock.now, db=store.path)
    try:
        assert await send_due(d2, out, NINE) == 0
    finally:
        d2.close()
        store2.close()
    # Overdue the next day: no second reminder, but the digest (P3 by
    # default, this case is P2) still says it.
    at(clock, 5, 2)
    assert await send_due(d, out, NINE) == 0
    digest = chat.text(await chat.say("case digest"))
    assert "Due or quiet (1)" in digest and "CAS-01234-ABC123 · weiliang · next: call back to check (due 2021-09-04)" in digest
    # A new due date is a new reminder.
    await chat.say(f"case call {NUMBER} still testing, next 2021-09-07")
    at(clock, 7, 3)
    assert await send_due(d, out, NINE) == 1
    assert "follow up" in out.texts()[-1] and "@weiliang" in out.texts()[-1]


async def test_a_quiet_case_is_reminded_once_per_silence(desk):
    d, store, clock = desk
    d.config.stale_days = 3
    chat = Chat(d, channel="C-zh")
    await chat.say("case lang zh")
    await chat.say(f"case open {NUMBER} 总行 win10 蓝屏")
    out = Outbox()
    at(clock, 4, 3)
    assert await send_due(d, out, NINE) == 0  # opened 15:23 on the 1st: three days have not passed at 11:30
    at(clock, 5, 3)
    assert await send_due(d, out, NINE) == 1
    assert out.texts()[-1] == (f"提醒 （{NUMBER} 尚无负责人：`case assign {NUMBER} me`）：{NUMBER} · 总行 win10 蓝屏 — "
                               "已 4 天未与客户联系（最近联系 2021-09-01）。")
    at(clock, 6, 3)
    assert await send_due(d, out, NINE) == 0
    assert "已 5 天未联系" in chat.text(await chat.say("case digest"))
    await chat.say(f"case call {NUMBER} 客户说还在测试")
    at(clock, 10, 3)
    assert await send_due(d, out, NINE) == 1


async def test_an_archived_case_is_not_reminded(desk):
    d, store, clock = desk
    chat = Chat(d)
    await chat.say(f"case open {NUMBER} Laptops BSOD")
    await chat.say(f"case call {NUMBER} agreed to upgrade, next 2021-09-02")
    await chat.say(f"case archive {NUMBER} upgraded")
    at(clock, 20, 3)
    assert await send_due(d, Outbox(), NINE) == 0


async def test_reminders_already_sent_do_not_hold_back_the_rest(desk):
    # The owed list is cut at a limit; the oldest overdue cases stay owed
    # (the digest says them daily) once reminded, and must not fill it.
    d, store, clock = desk
    chat = Chat(d)
    numbers = [f"CAS-0000{i}-ABC12{i}" for i in range(5)]
    for i, number in enumerate(numbers):
        await chat.say(f"case open {number} Laptops BSOD {i}")
        await chat.say(f"case call {number} agreed to upgrade, next 2021-09-0{2 + i}")
    at(clock, 20, 3)
    today, quiet = "2021-09-20", "2000-01-01"  # nothing counts as quiet here
    seen: list[str] = []
    for _ in range(3):
        batch = await store.call(reminders.pending, today, quiet, d.iso(clock.now), 2)
        for r in batch:
            assert await store.call(reminders.claim, r, "me", d.iso(clock.now), d.iso(clock.now))
            await store.call(reminders.sent, r.key, d.iso(clock.now))
        seen += [r.case.number for r in batch]
    assert seen == numbers


async def test_a_failed_delivery_is_tried_again(desk):
    d, store, clock = desk
    chat = Chat(d)
    await chat.say(f"case open {NUMBER} Laptops BSOD")
    await chat.say(f"case call {NUMBER} agreed to upgrade, next 2021-09-02")
    at(clock, 2, 3)

    async def broken(reply):
        raise RuntimeError("platform away")

    assert await send_due(d, broken, NINE) == 0
    out = Outbox()
    assert await send_due(d, out, NINE) == 0  # not at once: from five minutes later on
    clock.now += timedelta(minutes=5)
    assert await send_due(d, out, NINE) == 1
    case = await store.call(cases.get, NUMBER)
    assert [(r["sent_at"] is not None, r["attempts"]) for r in await store.call(reminders.of_case, case.id)] == [
        (True, 1)]


async def test_an_undeliverable_reminder_is_tried_later_and_later_then_given_up(desk, caplog):
    """A thread deleted or the bot taken out of its channel: the reminder
    used to be claimed, failed and logged again every round (every minute)
    for ever.  Now after 5, 10, 20, 40 and 80 minutes, then no more; the
    digest still lists the case."""
    import logging

    from handlers.digest import digest_reply

    d, store, clock = desk
    chat = Chat(d)
    await chat.say(f"case open {NUMBER} P3 Laptops BSOD")
    await chat.say(f"case call {NUMBER} agreed to upgrade, next 2021-09-02")
    at(clock, 2, 3)
    tries = []

    async def broken(reply):
        tries.append(clock.now)
        raise RuntimeError("channel_not_found")

    start = clock.now
    with caplog.at_level(logging.WARNING, logger="crashdesk.reminders"):
        for _ in range(24 * 60):  # a day of rounds, one a minute
            await send_due(d, broken, NINE)
            clock.now += timedelta(minutes=1)
    assert [round((t - start).total_seconds() / 60) for t in tries] == [0, 5, 15, 35, 75, 155]
    case = await store.call(cases.get, NUMBER)
    (row,) = await store.call(reminders.of_case, case.id)
    assert row["attempts"] == 6 and row["given_up_at"] is not None and row["sent_at"] is None
    assert len([r for r in caplog.records if "could not be delivered" in r.getMessage()]) == 6
    assert "given up" in caplog.records[-1].getMessage()
    reply = await digest_reply(d, "en", ("P3",), clock.now)
    assert NUMBER in to_plain(reply.doc)


async def test_two_instances_send_each_reminder_once(desk, tmp_path):
    d, store, clock = desk
    chat = Chat(d)
    numbers = [f"CAS-0{i:04d}-ABC123" for i in range(1, 13)]
    for number in numbers:
        await chat.say(f"case open {number} kiosk")
        await chat.say(f"case call {number} agreed, next 2021-09-02")
    other, other_store, _ = make_desk(tmp_path, start=START, db=store.path)
    other.clock = d.clock
    try:
        outs = [Outbox(), Outbox()]
        for day in (2, 3):
            at(clock, day, 3)
            await asyncio.gather(*(send_due(desk_, out, NINE, by=name)
                                   for desk_, out, name in ((d, outs[0], "a"), (other, outs[1], "b"),
                                                            (d, outs[0], "a"), (other, outs[1], "b"))))
        sent = [r.case_number for out in outs for r in out.replies]
        assert sorted(sent) == numbers
    finally:
        other.close()
        other_store.close()


async def test_the_reminder_reaches_the_case_thread_or_its_owner_in_slack(tmp_path):
    from datetime import timedelta

    from bot.scheduler import case_outlets
    from deskkit import app_client, serve
    from fakeslack import SECRET, TOKEN, FakeSlack

    fake = FakeSlack()
    fake_server, fake.base = await serve(fake.app)
    app, client = await app_client(tmp_path, {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
                                              "SLACK_API_URL": fake.base + "/api/"})
    try:
        d = app.desk
        chat = Chat(d, platform="slack", channel="C0CASES", user="U0WEI")
        await chat.say(f"case open {NUMBER} Laptops BSOD")
        root = chat.last_ts
        await chat.say("case call agreed to upgrade, next 2021-09-02", thread=root)
        deliver = case_outlets(app.desk, app.platforms)
        # Past the working day's start wherever the desk's clock is: a time
        # of day taken from the wall clock made this fail from 00:00 to
        # 09:00 in the desk's zone (16:00-01:00 UTC for Shanghai).
        later = datetime.combine((datetime.now(d.tz) + timedelta(days=400)).date(), time(10, 0), tzinfo=d.tz)
        assert await send_due(d, deliver, NINE, now=later) == 2  # due, and quiet since
        in_thread = [p for p in fake.posts() if p.get("thread_ts") == root and "Reminder" in p.get("text", "")]
        assert len(in_thread) == 2
        # Who took the case themselves is reminded one to one.
        await chat.say("case assign me", thread=root)
        await chat.say("case call still testing, next 2021-09-03", thread=root)
        assert await send_due(d, deliver, NINE, now=later + timedelta(days=1)) >= 1
        direct = [p for p in fake.posts() if p.get("channel") == "U0WEI" and "Reminder" in p.get("text", "")]
        assert direct and all("thread_ts" not in p for p in direct)
        assert "due on 2021-09-03" in direct[0]["text"]
    finally:
        await client.close()
        await fake_server.close()

"""The daily digest: right time, right cases, never twice a day."""

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from deskkit import Chat, make_desk
from handlers.digest import next_run, parse_time, send_if_due
from analysis.render.doc import to_plain

pytestmark = pytest.mark.usefixtures("store_backend")

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def desk(tmp_path):
    d, store, clock = make_desk(tmp_path, start=datetime(2021, 9, 1, 0, 30, tzinfo=timezone.utc))
    await store.open()
    yield d, store, clock, tmp_path
    d.close()
    store.close()


async def seed_cases(chat, clock):
    await chat.say("[案例号: CAS-04716-C3F2K9] % |P3|ICBC|总行 win10 神州网信政府版电脑蓝屏 % 初次响应")
    clock.advance(days=1)
    await chat.say("case open CAS-00002-BBBBBB P3 customer:BOC second branch")
    await chat.say("case call CAS-00002-BBBBBB agreed to collect a dump, next 2021-09-03")
    await chat.say("case open CAS-00003-CCCCCC P1 customer:CCB urgent outage")
    await chat.say("case open CAS-00004-DDDDDD P3 customer:ABC closed one")
    await chat.say("case archive CAS-00004-DDDDDD fixed")


async def test_digest_lists_open_p3_oldest_first_with_overdue_marks(desk):
    d, store, clock, _ = desk
    chat = Chat(d)
    await seed_cases(chat, clock)
    clock.advance(days=5)
    out = chat.text(await chat.say("case digest"))
    assert out.index("CAS-04716-C3F2K9") < out.index("CAS-00002-BBBBBB")
    assert "CAS-00003-CCCCCC" not in out and "CAS-00004-DDDDDD" not in out
    assert "OVERDUE" in out  # next action was due 2021-09-03
    assert "open 6 d" in out
    p1 = chat.text(await chat.say("case digest P1"))
    listed, _, due = p1.partition("Due or quiet")
    assert "CAS-00003-CCCCCC" in listed and "CAS-00002-BBBBBB" not in listed
    # Its overdue next action is said whatever the digest's priorities.
    assert "CAS-00002-BBBBBB · — · next: follow up (due 2021-09-03)" in due


def test_next_run_in_the_configured_time_zone():
    at = parse_time("09:00")
    now = datetime(2021, 9, 1, 0, 30, tzinfo=timezone.utc)  # 08:30 in Shanghai
    assert next_run(now, at, SH) == datetime(2021, 9, 1, 9, 0, tzinfo=SH)
    now = datetime(2021, 9, 1, 1, 30, tzinfo=timezone.utc)  # 09:30 in Shanghai
    assert next_run(now, at, SH) == datetime(2021, 9, 2, 9, 0, tzinfo=SH)
    with pytest.raises(ValueError):
        parse_time("9am")


async def test_sent_once_a_day_even_across_a_restart(desk):
    d, store, clock, tmp_path = desk
    chat = Chat(d)
    await seed_cases(chat, clock)
    posted = []

    async def post(reply):
        posted.append(to_plain(reply.doc))

    clock.now = datetime(2021, 9, 2, 0, 59, tzinfo=timezone.utc)  # 08:59 Shanghai
    assert not await send_if_due(d, "C-digest", time(9, 0), post)
    clock.now = datetime(2021, 9, 2, 1, 0, tzinfo=timezone.utc)  # 09:00
    assert await send_if_due(d, "C-digest", time(9, 0), post)
    assert not await send_if_due(d, "C-digest", time(9, 0), post)
    # A restarted bot (a new desk and connection on the same file) does not resend.
    d2, store2, _ = make_desk(tmp_path, start=clock.now, db=store.path)
    await store2.open()
    try:
        assert not await send_if_due(d2, "C-digest", time(9, 0), post)
    finally:
        d2.close()
        store2.close()
    assert len(posted) == 1 and "CAS-04716-C3F2K9" in posted[0]
    # Next day it goes again.
    clock.now = datetime(2021, 9, 3, 1, 5, tzinfo=timezone.utc)
    assert await send_if_due(d, "C-digest", time(9, 0), post)
    assert len(posted) == 2


async def test_a_failed_send_is_tried_again(desk):
    d, store, clock, _ = desk
    clock.now = datetime(2021, 9, 2, 2, 0, tzinfo=timezone.utc)

    async def broken(reply):
        raise ConnectionError("webhook down")

    with pytest.raises(ConnectionError):
        await send_if_due(d, "C-digest", time(9, 0), broken)
    sent = []

    async def post(reply):
        sent.append(reply)

    assert await send_if_due(d, "C-digest", time(9, 0), post)
    assert len(sent) == 1


async def test_a_claim_left_by_a_crashed_sender_is_taken_over(desk):
    from store import ops

    d, store, clock, _ = desk
    clock.now = datetime(2021, 9, 2, 2, 0, tzinfo=timezone.utc)
    # Another process claimed today's digest and died before sending it.
    assert await store.call(ops.claim_digest, "C-digest", "2021-09-02", d.iso(clock.now))
    sent = []

    async def post(reply):
        sent.append(reply)

    assert not await send_if_due(d, "C-digest", time(9, 0), post)  # still fresh: leave it alone
    clock.advance(minutes=11)
    assert await send_if_due(d, "C-digest", time(9, 0), post)
    assert len(sent) == 1

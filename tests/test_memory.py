"""Memory across cases (issue 11): a case's card and verdict say where the
same bug was seen before; archiving proposes a known issue a lead confirms,
which then matches future cases."""

from pathlib import Path

import pytest

from deskkit import Chat, file_attachment, make_desk
from store import cases, memory

pytestmark = pytest.mark.usefixtures("store_backend")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "seed-shaped-thread.txt"
FIRST, SECOND, THIRD = "CAS-04716-C3F2K9", "CAS-05001-AB12CD", "CAS-05002-EF34GH"


@pytest.fixture
async def desk(tmp_path):
    d, store, clock = make_desk(tmp_path)
    d.config.leads = ("lead",)
    await store.open()
    yield d, store, clock
    d.close()
    store.close()


async def open_with_upload(chat, number, customer):
    await chat.say(f"case open {number} P3 customer:{customer} BSOD after the agent update")
    root = chat.last_ts
    replies = await chat.say("dumps attached", thread=root, files=[file_attachment(EXAMPLE)])
    return root, replies


async def test_the_same_bug_in_another_case_is_remembered(desk):
    d, store, clock = desk
    chat = Chat(d)
    root1, _ = await open_with_upload(chat, FIRST, "ICBC")
    await chat.say("case archive customer upgraded OfficeScan to 12.0.1.2144", thread=root1)
    clock.advance(days=3)
    root2, replies = await open_with_upload(chat, SECOND, "BOC")
    verdict = chat.text([r for r in replies if r.kind == "verdict"])
    assert f"in 1 other case, on 2021-09-01 ({FIRST}); archived: customer upgraded OfficeScan to 12.0.1.2144" in verdict
    card = chat.text(await chat.say(f"case show {SECOND}"))
    assert "Seen before" in card and FIRST in card
    listing = chat.text(await chat.say("case similar", thread=root2))
    assert FIRST in listing and "bc:0x1A/0x41792/vsapint" in listing
    first = await store.call(cases.get, FIRST)
    assert {b.bucket for b in await store.call(memory.buckets)} >= {"bc:0x1A/0x41792/vsapint", "bc:0x139/0x3/vsapint"}
    assert (await store.call(memory.similar, first.id)).same_bug[0].number == SECOND


async def test_an_archived_vendor_verdict_becomes_a_known_issue_once_a_lead_confirms(desk):
    d, store, clock = desk
    chat = Chat(d)
    root1, _ = await open_with_upload(chat, FIRST, "ICBC")
    archived = chat.text(await chat.say("case archive upgrade OfficeScan to XG SP1", thread=root1))
    assert "proposed as known issue #1" in archived
    assert "upgrade OfficeScan to XG SP1" in chat.text(await chat.say("case issues"))
    refused = chat.text(await chat.say("case issue confirm 1"))
    assert "Only a support lead" in refused
    confirmed = chat.text(await chat.say("case issue confirm 1", user="lead"))
    assert "Known issue #1 confirmed" in confirmed
    assert chat.text(await chat.say("case issue confirm 1", user="lead")).startswith("There is no open proposal #1")
    _, replies = await open_with_upload(chat, THIRD, "CCB")
    verdict = chat.text([r for r in replies if r.kind == "verdict"])
    assert "AsiaInfo Security: upgrade OfficeScan to XG SP1" in verdict
    third = await store.call(cases.get, THIRD)
    assert f"desk-{FIRST}" in [k["id"] for k in third.verdict["case"]["known_issues"]]


async def test_nothing_seen_before_says_nothing(desk):
    d, store, clock = desk
    chat = Chat(d)
    _, replies = await open_with_upload(chat, FIRST, "ICBC")
    assert "Seen before" not in chat.text(replies)
    assert "No other case" in chat.text(await chat.say(f"case similar {FIRST}"))

"""The case desk with no platform at all: the seed case's life, told as
chat events."""

from pathlib import Path

import pytest

from deskkit import Chat, bytes_attachment, file_attachment
from store import cases, evidence, timeline

pytestmark = pytest.mark.usefixtures("store_backend")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "seed-shaped-thread.txt"
SUBJECT = "主题: 回复: [案例号: CAS-04716-C3F2K9] % |P3|ICBC|总行 win10 神州网信政府版电脑蓝屏 % 初次响应 CMIT:0001032"
NUMBER = "CAS-04716-C3F2K9"


async def test_crm_subject_opens_the_case_and_binds_the_thread(desk):
    d, store, clock = desk
    chat = Chat(d)
    replies = await chat.say(SUBJECT)
    case = await store.call(cases.get, NUMBER)
    assert (case.priority, case.customer, case.title) == ("P3", "ICBC", "总行 win10 神州网信政府版电脑蓝屏")
    assert any(r.kind == "card" and r.case_number == NUMBER for r in replies)
    # The message that opened it is now the case's thread.
    root = chat.last_ts
    assert (await store.call(cases.case_for_thread, "slack", "C1", root)).number == NUMBER
    # Pasting the subject again shows the card; no second case.
    again = await chat.say(SUBJECT)
    assert [r.kind for r in again] == ["card"]


async def test_upload_in_the_thread_gives_the_case_verdict(desk):
    d, store, clock = desk
    chat = Chat(d)
    await chat.say(SUBJECT)
    root = chat.last_ts
    replies = await chat.say("new dumps from the customer", thread=root, files=[file_attachment(EXAMPLE)])
    kinds = [r.kind for r in replies]
    assert kinds[0] == "ack" and "verdict" in kinds
    verdict = next(r for r in replies if r.kind == "verdict")
    text = chat.text([verdict])
    assert "2 dumps, 2 bug checks, one vendor: AsiaInfo Security" in text
    assert "trendmicro.com/solution/1119990" in text
    case = await store.call(cases.get, NUMBER)
    assert "AsiaInfo Security" in case.verdict_line
    assert case.verdict["case"]["bugchecks"] == ["0x1A", "0x139"]
    files = await store.call(evidence.case_dumps, case.id)
    assert len(files) == 1 and Path(files[0]["path"]).exists()
    # The same file again is stored once and said so.
    replies = await chat.say("again", thread=root, files=[file_attachment(EXAMPLE)])
    assert "already on CAS-04716-C3F2K9" in chat.text(replies)
    assert len(await store.call(evidence.case_dumps, case.id)) == 1


async def test_a_file_attached_but_never_analysed_is_analysed_when_sent_again(desk, tmp_path):
    """The process died between filing the upload and its verdict: the same
    file again (a job run again, a person re-uploading) is work still to do,
    not "already on the case"."""
    d, store, clock = desk
    chat = Chat(d)
    await chat.say(SUBJECT)
    case = await store.call(cases.get, NUMBER)
    stored = d.files.save("seed.txt", [EXAMPLE.read_bytes()])
    dump_id = await store.call(evidence.add_dump, stored, "seed.txt", None, d.iso(clock.now))
    assert await store.call(evidence.attach, case.id, dump_id, who="w", at=d.iso(clock.now))
    replies = await chat.say(NUMBER, files=[file_attachment(EXAMPLE, name="seed.txt")])
    assert "already on" not in chat.text(replies)
    assert "one vendor: AsiaInfo Security" in chat.text(replies)
    replies = await chat.say(NUMBER, files=[file_attachment(EXAMPLE, name="seed.txt")])
    assert "already on CAS-04716-C3F2K9" in chat.text(replies)


async def test_each_new_dump_reruns_the_case_correlation(desk, tmp_path):
    d, store, clock = desk
    chat = Chat(d)
    await chat.say(SUBJECT)
    root = chat.last_ts
    text = EXAMPLE.read_text(encoding="utf-8")
    cut = text.index("第二次 dump")
    first = await chat.say("dump 1", thread=root, files=[bytes_attachment("dump1.txt", text[:cut].encode())])
    assert "1 dump, 1 bug check, one vendor" in chat.text(first)
    second = await chat.say("dump 2", thread=root, files=[bytes_attachment("dump2.txt", text[cut:].encode("utf-16"))])
    out = chat.text(second)
    assert "2 dumps, 2 bug checks, one vendor: AsiaInfo Security" in out
    # Only the new dump is detailed; the case part covers both.
    assert "Dump 2: dump2.txt" in out and "dump1.txt" not in out


async def test_files_without_a_case_are_answered_and_offered_a_case(desk):
    d, store, clock = desk
    chat = Chat(d)
    replies = await chat.say("", files=[file_attachment(EXAMPLE)])
    verdict = next(r for r in replies if r.kind == "verdict")
    assert "one vendor: AsiaInfo Security" in chat.text([verdict])
    assert any(a.id == "open" for a in verdict.actions)
    root = chat.last_ts
    # Opening the case in that thread files the waiting upload under it.
    replies = await chat.say(f"case open {NUMBER} P3 customer:ICBC 总行 win10 蓝屏", thread=root)
    case = await store.call(cases.get, NUMBER)
    assert len(await store.call(evidence.case_dumps, case.id)) == 1
    assert any(r.kind == "verdict" for r in replies)
    assert case.verdict_line


async def test_call_then_show_then_archive_writes_the_three_part_summary(desk):
    d, store, clock = desk
    chat = Chat(d, channel="C-zh")
    await chat.say("case lang zh")
    await chat.say(SUBJECT)
    root = chat.last_ts
    await chat.say("dumps", thread=root, files=[file_attachment(EXAMPLE)])
    clock.advance(days=7)
    replies = await chat.say(f"case call {NUMBER} 客户已在 V0-H 系统上升级亚信安全软件，观察一周", user="危亮")
    assert "已记录 CAS-04716-C3F2K9 的电话沟通" in chat.text(replies)
    case = await store.call(cases.get, NUMBER)
    assert case.status == "observing"
    assert case.next_action == "观察一周" and case.next_action_due == "2021-09-15"
    shown = chat.text(await chat.say(f"case show {NUMBER}"))
    assert "下一步: 观察一周 (2021-09-15)" in shown
    assert "客户已在 V0-H 系统上升级亚信安全软件" in shown
    clock.advance(days=1)
    replies = await chat.say("case archive 用户已升级亚信安全软件，查看后续运行情况", thread=root, user="危亮")
    out = chat.text(replies)
    assert "问题定义：" in out and "问题总结：" in out and "问题分析：" in out
    assert "从 dump 中分析与亚信安全软件有关" in out
    assert "VSApiNt 和 TmXPFlt" in out
    assert "根据刚才的电话沟通" in out  # the last contact was a phone call
    case = await store.call(cases.get, NUMBER)
    assert case.status == "archived"
    decision = await store.call(timeline.last_decision, case.id, "archive")
    assert decision["summary"].startswith("问题定义") and "问题分析" in decision["email"]
    # Archiving twice, and reopening.
    assert "已于 2021-09-09 归档" in chat.text(await chat.say(f"case archive {NUMBER} again"))
    assert "已重新打开" in chat.text(await chat.say(f"case reopen {NUMBER} 再次蓝屏"))
    assert (await store.call(cases.get, NUMBER)).status == "open"


async def test_english_summary(desk):
    d, store, clock = desk
    chat = Chat(d)
    await chat.say(f"case open {NUMBER} P2 customer:ICBC contact:Mr.Hong Branch PCs blue-screen")
    await chat.say("dumps", thread=chat.last_ts, files=[file_attachment(EXAMPLE)])
    await chat.say(f"case email {NUMBER} customer will upgrade OfficeScan, next 2021-09-15")
    out = chat.text(await chat.say(f"case archive {NUMBER} upgraded, no crash since"))
    assert "Definition:" in out and "Summary:" in out and "Analysis:" in out
    assert "Dear Mr.Hong," in out and "As agreed, we will archive" in out
    assert "AsiaInfo Security's modules VSApiNt and TmXPFlt" in out
    # Counted words, not "dump(s)" scaffolding (issue 13: summaries read as written).
    assert "(s)" not in out
    assert "The 2 uploaded dumps show bug checks 0x1A MEMORY_MANAGEMENT and 0x139" in out


async def test_every_thread_message_is_on_the_timeline_and_first_response_is_kept(desk):
    d, store, clock = desk
    chat = Chat(d)
    await chat.say(SUBJECT)
    root = chat.last_ts
    clock.advance(hours=2)
    await chat.say("looking at it now", thread=root, user="weiliang")
    clock.advance(hours=1)
    await chat.say("customer called back", thread=root, user="other")
    case = await store.call(cases.get, NUMBER)
    assert case.first_response_at == "2021-09-01T09:23:00+00:00"
    texts = [m["text"] for m in await store.call(timeline.messages, case.id)]
    assert texts[-2:] == ["looking at it now", "customer called back"]


async def test_retried_delivery_changes_nothing(desk):
    d, store, clock = desk
    chat = Chat(d)
    await chat.say(SUBJECT)
    first = await chat.say(f"case call {NUMBER} agreed to upgrade", event_id="Ev1")
    again = await chat.say(f"case call {NUMBER} agreed to upgrade", event_id="Ev1")
    assert first and not again
    case = await store.call(cases.get, NUMBER)
    assert len(await store.call(timeline.followups, case.id)) == 1


@pytest.mark.parametrize("text,expected", [
    ("case show CAS-4716-C3F2K9", "does not look like a case number"),
    ("please check CAS-4716-C3F2K9", "does not look like a case number"),
    ("case archive CAS-00001-ABCDEF done", "No case CAS-00001-ABCDEF here yet"),
    ("case call", "Which case?"),
    ("case priority CAS-04716-C3F2K9 P9", "Priority must be"),
    ("case frobnicate", "I don't know \"frobnicate\""),
    ("case lang fr", "Languages: zh, en."),
    ("CAS-00002-ZZZZZZ", "case open CAS-00002-ZZZZZZ"),
])
async def test_bad_input_gets_a_clear_answer(desk, text, expected):
    d, store, clock = desk
    chat = Chat(d)
    await chat.say(SUBJECT)
    assert expected in chat.text(await chat.say(text))


async def test_call_with_no_text_in_thread(desk):
    d, store, clock = desk
    chat = Chat(d)
    await chat.say(SUBJECT)
    assert "What was agreed?" in chat.text(await chat.say("case call", thread=chat.last_ts))


async def test_a_dump_that_fails_to_parse_is_named(desk):
    d, store, clock = desk
    chat = Chat(d)
    await chat.say(SUBJECT)
    root = chat.last_ts
    replies = await chat.say("", thread=root, files=[bytes_attachment("junk.dmp", b"PAGEDU64" + b"\xff" * 64)])
    out = chat.text(replies)
    assert "junk.dmp" in out
    assert (await store.call(cases.get, NUMBER)).status == "open"


async def test_list_assign_priority_search(desk):
    d, store, clock = desk
    chat = Chat(d)
    await chat.say(SUBJECT)
    await chat.say("case open CAS-00010-AAAAAA P1 customer:BOC Server 2019 0x9F")
    await chat.say("case assign CAS-00010-AAAAAA me")
    assert "CAS-00010-AAAAAA" in chat.text(await chat.say("case list mine"))
    assert NUMBER not in chat.text(await chat.say("case list mine"))
    assert "CAS-00010-AAAAAA" not in chat.text(await chat.say("case list P3"))
    await chat.say(f"case priority {NUMBER} P2")
    assert (await store.call(cases.get, NUMBER)).priority == "P2"
    out = chat.text(await chat.say("case search BOC"))
    assert "CAS-00010-AAAAAA" in out and NUMBER not in out
    clock.advance(days=10)
    assert NUMBER in chat.text(await chat.say("case list stale"))


async def test_wecom_style_threadless_focus(desk):
    """No threads: files go to the case last discussed with that user."""
    d, store, clock = desk
    chat = Chat(d, platform="wecom", channel="zhangsan")
    await chat.say(SUBJECT)
    replies = await chat.say("", files=[file_attachment(EXAMPLE)])
    assert any(r.kind == "verdict" and r.case_number == NUMBER for r in replies)
    case = await store.call(cases.get, NUMBER)
    assert len(await store.call(evidence.case_dumps, case.id)) == 1


async def test_crm_subject_followed_by_more_text(desk):
    d, store, clock = desk
    chat = Chat(d)
    await chat.say(f"[案例号: {NUMBER}] % |P3|ICBC|总行 win10 电脑蓝屏\n请看附件，谢谢")
    case = await store.call(cases.get, NUMBER)
    assert case.title == "总行 win10 电脑蓝屏" and case.customer == "ICBC"


async def test_the_same_dump_under_other_names_is_stored_once(desk, tmp_path):
    d, store, clock = desk
    chat = Chat(d)
    await chat.say(SUBJECT)
    root = chat.last_ts
    data = EXAMPLE.read_bytes()
    await chat.say("", thread=root, files=[bytes_attachment("MEMORY.DMP", data)])
    again = await chat.say("", thread=root, files=[bytes_attachment("memory.dmp", data)])
    stored = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert len(stored) == 1
    # The second upload is said to be there already; nothing is analysed or posted again.
    assert "already" in chat.text(again) and not any(r.kind == "verdict" for r in again)
    case = await store.call(cases.get, NUMBER)
    analyses = await store.call(lambda db: db.execute("select count(*) from analyses").fetchone()[0])
    assert analyses == 1 and len(await store.call(evidence.case_dumps, case.id)) == 1


async def test_uploads_before_the_case_go_under_it_on_a_platform_without_threads(desk):
    """Console and WeCom: a file sent before the case exists waits for the
    next case that person opens or names."""
    d, store, clock = desk
    for platform, channel in (("console", "console"), ("wecom", "zhangsan")):
        chat = Chat(d, platform=platform, channel=channel)
        number = "CAS-04716-C3F2K9" if platform == "console" else "CAS-04717-C3F2K9"
        await chat.say("", files=[file_attachment(EXAMPLE)])
        replies = await chat.say(f"case open {number} P3 customer:ICBC 蓝屏")
        case = await store.call(cases.get, number)
        assert len(await store.call(evidence.case_dumps, case.id)) == 1, platform
        assert any(r.kind == "verdict" and r.case_number == number for r in replies), platform
        assert "AsiaInfo Security" in (await store.call(cases.get, number)).verdict_line


async def test_uploads_in_a_thread_go_under_a_case_named_there_later(desk):
    d, store, clock = desk
    chat = Chat(d)
    await chat.say("case open CAS-00010-AAAAAA P3 another case")
    await chat.say("please look at this", files=[file_attachment(EXAMPLE)])
    root = chat.last_ts
    # The thread is tied to an existing case by mentioning it: the file goes there.
    replies = await chat.say("CAS-00010-AAAAAA", thread=root)
    case = await store.call(cases.get, "CAS-00010-AAAAAA")
    assert len(await store.call(evidence.case_dumps, case.id)) == 1
    assert any(r.kind == "verdict" for r in replies)
    assert not await store.call(lambda db: list(db.query("select * from pending_uploads")))


@pytest.mark.parametrize("text", [
    "case open CAS-０４７１６-C3F2K9 P3 full-width digits",
    "case open CAS-٠٤٧١٦-C3F2K9 P3 Arabic-Indic digits",
])
async def test_case_numbers_are_ascii_only(desk, text):
    d, store, clock = desk
    chat = Chat(d)
    await chat.say(SUBJECT)
    out = chat.text(await chat.say(text))
    assert "Which case?" in out or "does not look like a case number" in out
    assert len(await store.call(cases.listing, statuses=("open", "observing", "archived"))) == 1


async def test_mistyped_numbers_never_fall_back_to_the_case_in_focus(desk):
    d, store, clock = desk
    chat = Chat(d, platform="wecom", channel="zhangsan")
    await chat.say(SUBJECT)
    for text in (f"case call {NUMBER}-extra agreed X", "case call CAS 04716-C3F2K9 agreed Y"):
        assert "does not look like a case number" in chat.text(await chat.say(text))
    case = await store.call(cases.get, NUMBER)
    assert await store.call(timeline.followups, case.id) == []


async def test_a_message_about_another_case_is_not_put_on_the_case_in_focus(desk):
    d, store, clock = desk
    chat = Chat(d, platform="wecom", channel="zhangsan")
    await chat.say("case open CAS-00002-BBBBBB P3 other")
    await chat.say(SUBJECT)
    await chat.say("hello, this is about CAS-00002-BBBBBB")
    focus = await store.call(cases.get, NUMBER)
    assert all("CAS-00002-BBBBBB" not in m["text"] for m in await store.call(timeline.messages, focus.id))
    await chat.say("and this is about the bank's case")
    focus = await store.call(cases.get, "CAS-00002-BBBBBB")  # the mention moved the focus
    assert any("bank's case" in m["text"] for m in await store.call(timeline.messages, focus.id))


async def test_a_crm_subject_padded_with_spaces_is_read_at_once(desk):
    d, store, clock = desk
    chat = Chat(d)
    # A lazy pattern backtracked quadratically on this (half a minute on the event loop).
    await chat.say(f"[案例号: {NUMBER}] % |P3|ICBC   |  总行电脑蓝屏" + " " * 20000 + "。")
    case = await store.call(cases.get, NUMBER)
    assert (case.customer, case.title) == ("ICBC", "总行电脑蓝屏 。")


async def test_assign_to_a_bare_at_sign_means_me(desk):
    d, store, clock = desk
    chat = Chat(d, user="weiliang")
    await chat.say(SUBJECT)
    await chat.say(f"case assign {NUMBER} @")
    assert (await store.call(cases.get, NUMBER)).owner == "weiliang"


async def test_two_people_archiving_at_once_make_one_decision(desk):
    import asyncio

    d, store, clock = desk
    one, two = Chat(d, user="weiliang"), Chat(d, user="zhangsan", channel="C2")
    await one.say(SUBJECT)
    await asyncio.gather(one.say(f"case archive {NUMBER} customer upgraded"),
                         two.say(f"case archive {NUMBER} fixed by the upgrade"))
    case = await store.call(cases.get, NUMBER)
    assert [x["kind"] for x in await store.call(timeline.decisions, case.id)] == ["archive"]
    assert "already archived" in one.text() + two.text()
    # Two reopens at once make one; a call saying "observe" never leaves a half-archived case.
    await asyncio.gather(one.say(f"case call {NUMBER} 观察一周"), two.say(f"case reopen {NUMBER}"),
                         two.say(f"case reopen {NUMBER}"))
    case = await store.call(cases.get, NUMBER)
    assert [x["kind"] for x in await store.call(timeline.decisions, case.id)] == ["archive", "reopen"]
    assert case.status in ("open", "observing") and case.archived_at is None

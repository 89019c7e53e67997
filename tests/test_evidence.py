"""Evidence goes where it was sent (issue 13): a file names its case or
waits for it, never another; a file no reader can read is refused in the
reply's language, and is not filed, counted or kept."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from deskkit import Chat, bytes_attachment, file_attachment
from store import cases, evidence

pytestmark = pytest.mark.usefixtures("store_backend")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "seed-shaped-thread.txt"
SUBJECT = "[案例号: CAS-01236-ABC125] % |P3|ICBC|总行 win10 蓝屏 % 初次响应 CMIT:0001032"
TALKED = "CAS-01236-ABC125"
MISSING = "CAS-09999-ZZZZZZ"


def stored_files(tmp_path) -> list[str]:
    return sorted(str(p) for p in (tmp_path / "data").rglob("*") if p.is_file())


async def dumps_of(store, number):
    case = await store.call(cases.get, number)
    return [r["name"] for r in await store.call(evidence.case_dumps, case.id)]


async def test_a_file_for_a_case_not_opened_waits_for_it_not_under_another(desk):
    d, store, clock = desk
    chat = Chat(d, platform="console", channel="console", direct=True)
    await chat.say(SUBJECT)
    replies = await chat.say(MISSING, files=[file_attachment(EXAMPLE)])
    out = chat.text(replies)
    assert f"held for {MISSING}" in out and f"case open {MISSING} <title>" in out
    assert not any(r.kind == "verdict" for r in replies) and TALKED not in out
    assert await dumps_of(store, TALKED) == []
    # Opened later (from anywhere): the file goes under it and is analysed.
    other = Chat(d, platform="slack", channel="C9")
    replies = await other.say(f"case open {MISSING} P2 kiosk BSOD")
    assert await dumps_of(store, MISSING) == ["seed-shaped-thread.txt"]
    verdict = next(r for r in replies if r.kind == "verdict")
    assert verdict.case_number == MISSING and "one vendor: AsiaInfo Security" in other.text([verdict])


async def test_a_file_whose_message_says_what_it_is_about_opens_its_case(desk):
    d, store, clock = desk
    chat = Chat(d)
    await chat.say(SUBJECT)
    root = chat.last_ts
    # In the thread of another case, naming a case that does not exist.
    replies = await chat.say(f"{MISSING} P2 Contoso laptops BSOD", thread=root, files=[file_attachment(EXAMPLE)])
    case = await store.call(cases.get, MISSING)
    assert (case.title, case.priority) == ("Contoso laptops BSOD", "P2")
    assert await dumps_of(store, MISSING) == ["seed-shaped-thread.txt"]
    assert await dumps_of(store, TALKED) == []
    assert f"Filed under {MISSING}" in chat.text(replies)


@pytest.mark.parametrize("name,data", [("garbage.bin", os.urandom(4096)), ("empty.bin", b""),
                                       ("notes.txt", "这是一份会议纪要，与蓝屏无关。\n".encode() * 50)])
async def test_an_unreadable_file_is_refused_in_the_replys_language_and_not_kept(desk, tmp_path, name, data):
    d, store, clock = desk
    chat = Chat(d, channel="C-zh")
    await chat.say("case lang zh")
    await chat.say(SUBJECT)
    root = chat.last_ts
    await chat.say("dumps", thread=root, files=[file_attachment(EXAMPLE)])
    kept = stored_files(tmp_path)
    replies = await chat.say("再传一个", thread=root, files=[bytes_attachment(name, data)])
    out = chat.text(replies)
    # The refusal alone: no verdict reprinted, nothing "filed".
    assert [r.kind for r in replies] == ["ack", "error"], out
    assert f"无法读取 {name}" in out and "未归入案例" in out and "已归入" not in out
    refusal = chat.text(replies[1:])
    assert not re.search(r"[A-Za-z]{3,} [A-Za-z]{3,}", refusal.replace(name, "")), refusal
    assert await dumps_of(store, TALKED) == ["seed-shaped-thread.txt"]
    assert stored_files(tmp_path) == kept
    card = chat.text(await chat.say(f"case show {TALKED}"))
    assert "1 个文件" in card


async def test_an_unreadable_file_beside_a_good_one_is_refused_alone(desk, tmp_path):
    d, store, clock = desk
    chat = Chat(d)
    await chat.say(SUBJECT)
    root = chat.last_ts
    replies = await chat.say("both", thread=root, files=[bytes_attachment("garbage.bin", os.urandom(2048)),
                                                           file_attachment(EXAMPLE)])
    out = chat.text(replies)
    assert "one vendor: AsiaInfo Security" in out
    assert "Could not read garbage.bin" in out and "not filed and not kept" in out
    assert await dumps_of(store, TALKED) == ["seed-shaped-thread.txt"]
    assert len(stored_files(tmp_path)) == 1


async def test_an_unreadable_file_without_a_case_is_not_kept_either(desk, tmp_path):
    d, store, clock = desk
    chat = Chat(d)
    replies = await chat.say("", files=[bytes_attachment("garbage.bin", os.urandom(2048))])
    assert [r.kind for r in replies] == ["ack", "error"]
    assert "Could not read garbage.bin" in chat.text(replies)
    assert stored_files(tmp_path) == []
    # Opening a case in that thread files nothing.
    await chat.say(f"case open {MISSING} kiosk", thread=chat.last_ts)
    assert await dumps_of(store, MISSING) == []


async def test_a_message_with_more_files_than_the_desk_takes_keeps_the_first_and_says_so(desk):
    # A mail may carry thousands of parts: each would be a stored file and a
    # reader's run.  The first MAX_FILES are taken, the rest named back.
    from handlers.uploads import MAX_FILES

    d, store, clock = desk
    chat = Chat(d, channel="C-zh")
    await chat.say("case lang zh")
    await chat.say(SUBJECT)
    root = chat.last_ts
    fetched: list[str] = []

    def counted(name: str, data: bytes):
        att = bytes_attachment(name, data)
        inner = att.fetch

        async def fetch():
            fetched.append(name)
            return await inner()

        att.fetch = fetch
        return att

    many = [counted(f"note-{i:04d}.txt", f"第 {i} 份\n".encode()) for i in range(MAX_FILES + 480)]
    replies = await chat.say("全部日志", thread=root, files=many)
    out = chat.text(replies)
    assert f"一条消息带了 {MAX_FILES + 480} 个文件：只收下前 {MAX_FILES} 个" in out
    assert f"note-{MAX_FILES:04d}.txt" in out and "note-0499.txt" not in out
    assert fetched == [f"note-{i:04d}.txt" for i in range(MAX_FILES)]

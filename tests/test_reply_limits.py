"""Nothing a verdict says is unbounded: every field is cut at 4,000
characters (saying so, in the reply's language), and every reply at one
size for all platforms (analysis.render.doc.MAX_REPLY_BYTES) with the case
board for the rest.  A 256 KB line after FAULTING_IP once became a 256 KB
evidence entry and 139 WeCom messages to one person."""

import json

import pytest

from analysis.correlate import correlate
from analysis.intake import Blob
from analysis.model import BugCheck, DumpReport
from analysis.pipeline import analyze_blobs
from analysis.render.as_json import case_json
from analysis.render.doc import MAX_REPLY_BYTES, Block, Doc, doc_bytes, fit, to_plain
from analysis.render.limits import MAX_FIELD_CHARS
from analysis.render.verdict import case_doc
from bombs import strings_in
from bot import slack_blocks, wecom_markdown
from deskkit import Chat, app_client, bytes_attachment
from handlers.events import Action, Reply

NUMBER = "CAS-04716-C3F2K9"
SUBJECT = f"[案例号: {NUMBER}] % |P3|ICBC|总行 win10 神州网信政府版电脑蓝屏 % 初次响应"
FAULTING_IP_BLOB = b"BugCheck 1A, {41792, 0, 0, 0}\nFAULTING_IP:\nVSApiNt!" + b"A" * 256 * 1024 + b"\n"


def test_a_256_kb_line_after_faulting_ip_is_a_bounded_field_and_a_few_messages():
    outcome = analyze_blobs([Blob("paste.txt", FAULTING_IP_BLOB)])
    evidence = outcome.case.dumps[0].culprit.evidence
    assert evidence and max(len(e.text) for e in evidence) <= MAX_FIELD_CHARS
    for lang in ("en", "zh"):
        parts = wecom_markdown.chunks(Reply(case_doc(outcome.case, lang), kind="verdict", lang=lang))
        assert len(parts) <= wecom_markdown.MAX_PARTS  # was 139


@pytest.mark.parametrize("lang,mark", [("en", " … (cut at 4,000 characters)"), ("zh", "…（已截断）")])
def test_every_field_of_the_verdict_is_cut_at_4000_characters_saying_so(lang, mark):
    long = "x" * 10_000
    report = DumpReport(source="upload.txt", kind="windbg-text", bugcheck=BugCheck(0x1A, [0x41792]),
                        process=long, failure_bucket="0x1a_" + long, crash_time=long)
    case = correlate([report])
    data = case_json(case, lang, [{"source": "upload.txt", "message": long}])
    strings = list(strings_in(data))
    assert max(len(s) for s in strings) <= MAX_FIELD_CHARS + len(mark)
    assert data["dumps"][0]["process"] == "x" * MAX_FIELD_CHARS + mark
    assert data["errors"][0]["message"].endswith(mark)
    text = to_plain(case_doc(case, lang))
    assert long not in text and ("x" * MAX_FIELD_CHARS + mark) in text


def _long_doc(lines: int = 3000) -> Doc:
    doc = Doc()
    doc.heading("Digest")
    doc.bullets("", [f"CAS-{i:05d}-C3F2K9 · 客户 · 总行电脑蓝屏 · 3 天 · 0x1A → 亚信安全" for i in range(lines)])
    return doc


def test_fit_keeps_what_fits_and_says_where_the_rest_is():
    small = Doc()
    small.para("short")
    assert fit(small, "rest") is small
    doc = fit(_long_doc(), "the rest is on the board")
    assert doc_bytes(doc) <= MAX_REPLY_BYTES
    assert doc.blocks[-1].text == "the rest is on the board"
    assert doc.blocks[1].items[0].startswith("CAS-00000")


@pytest.mark.parametrize("lang,rest", [("en", "the case board has all of it"), ("zh", "完整内容请查看案例看板")])
def test_every_platform_bounds_a_long_reply_and_links_the_board(lang, rest):
    board = Action("board", "Case board", "https://desk.example/auth?t=x")
    reply = Reply(_long_doc(), kind="digest", lang=lang, actions=[board])
    parts = wecom_markdown.chunks(reply)
    assert 1 < len(parts) <= wecom_markdown.MAX_PARTS
    assert all(len(p.encode()) <= 2048 for p in parts)
    assert rest in "".join(parts) and board.value in parts[-1]
    message = slack_blocks.message(reply)
    assert len(message["blocks"]) <= slack_blocks.MAX_BLOCKS
    assert len(json.dumps(message["blocks"], ensure_ascii=False).encode()) < 3 * MAX_REPLY_BYTES
    assert rest in json.dumps(message["blocks"], ensure_ascii=False)
    assert any(e.get("url") == board.value for b in message["blocks"] if b["type"] == "actions" for e in b["elements"])


async def test_the_console_prints_a_bounded_reply(capsys):
    from bot.console import Console

    console = Console(desk=None, user="weiliang")
    await console.show(Reply(_long_doc(), lang="zh"))
    out = capsys.readouterr().out
    assert len(out.encode()) <= MAX_REPLY_BYTES + 1024 and "以下已省略" in out


async def test_the_console_says_a_board_link_once(capsys):
    """`case board`'s text holds its link, and its button carries it too:
    the terminal printed it twice.  A link only the button holds is printed."""
    from bot.console import Console

    console = Console(desk=None, user="weiliang")
    url = "http://localhost:8080/auth?t=abc"
    said = Reply(Doc([Block("para", f"案例看板（链接 24 小时内有效）：{url}")]), lang="zh")
    said.actions = [Action("board", "案例看板", url)]
    await console.show(said)
    assert capsys.readouterr().out.count(url) == 1
    only = Reply(Doc([Block("para", "分析结论")]), lang="zh")
    only.actions = [Action("board", "案例看板", url)]
    await console.show(only)
    assert f"案例看板: {url}" in capsys.readouterr().out


async def test_a_verdict_longer_than_a_reply_comes_with_a_board_link(tmp_path):
    app, client = await app_client(tmp_path, {"PORT": "8080"})
    try:
        chat = Chat(app.desk, platform="wecom", channel="user:weiliang", user="weiliang")
        await chat.say(SUBJECT)
        crashes = "".join(f"BugCheck 1A, {{41792, {i:x}, 0, 0}}\nMODULE_NAME: VSApiNt\nIMAGE_NAME: VSApiNt.sys\n\n"
                          for i in range(1, 25))
        replies = await chat.say(NUMBER, files=[bytes_attachment("many.txt", crashes.encode())])
        verdict = next(r for r in replies if r.kind == "verdict")
        assert doc_bytes(verdict.doc) > MAX_REPLY_BYTES
        assert any(a.id == "board" and a.value.startswith("http://localhost:8080/auth") for a in verdict.actions)
        assert len(wecom_markdown.chunks(verdict)) <= wecom_markdown.MAX_PARTS
    finally:
        await client.close()

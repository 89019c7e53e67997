"""The web case board over HTTP (no browser): who may see it, what it shows."""

import re
from pathlib import Path

import pytest
from aiohttp import FormData

from bot.board.auth import Signer
from deskkit import Chat, app_client, file_attachment
from store import cases

pytestmark = pytest.mark.usefixtures("store_backend")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "seed-shaped-thread.txt"
NUMBER = "CAS-04716-C3F2K9"
SUBJECT = f"[案例号: {NUMBER}] % |P3|ICBC|总行 win10 神州网信政府版电脑蓝屏 % 初次响应"


@pytest.fixture
async def board(tmp_path):
    app, client = await app_client(tmp_path, {"PORT": "8080"})
    chat = Chat(app.desk, platform="console", channel="console", user="weiliang")
    yield app, client, chat
    await client.close()


async def signed_in_form_token(app, client, chat) -> str:
    """Sign in and read the upload form's CSRF token off the case page."""
    await sign_in(app, client, chat)
    page = await (await client.get(f"/case/{NUMBER}")).text()
    return re.search(r'name="csrf" value="([^"]+)"', page)[1]


async def sign_in(app, client, chat, case=None):
    replies = await chat.say("case board" + (f" {case}" if case else ""))
    url = next(a.value for r in replies for a in r.actions if a.id == "board")
    path = url.split("localhost:8080", 1)[1]
    resp = await client.get(path, allow_redirects=False)
    assert resp.status == 302
    return resp


async def test_nothing_is_served_without_a_session(board):
    app, client, chat = board
    await chat.say(SUBJECT)
    for path in ("/", f"/case/{NUMBER}", "/vendors", "/static/board.css", "/static/upload.js"):
        resp = await client.get(path)
        text = await resp.text()
        assert resp.status == 401, path
        assert NUMBER not in text and "ICBC" not in text and "case board" in text
    resp = await client.post(f"/case/{NUMBER}/upload", data={"csrf": "x"})
    assert resp.status == 401
    assert (await client.get("/healthz")).status == 200


async def test_expired_and_tampered_links_are_refused(board):
    app, client, chat = board
    signer = await app.platforms.board.signer()
    token = signer.link_token("weiliang", "console")
    body, mac = token.split(".")
    tampered = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + mac
    assert (await client.get(f"/auth?t={tampered}", allow_redirects=False)).status == 403
    expired = Signer(signer.key, clock=lambda: 0).link_token("weiliang", "console", ttl=60)
    assert (await client.get(f"/auth?t={expired}", allow_redirects=False)).status == 403
    other_key = Signer(b"another key").link_token("weiliang", "console")
    assert (await client.get(f"/auth?t={other_key}", allow_redirects=False)).status == 403
    forged = await client.get("/", cookies={"crashdesk_session": token})  # a link is not a session
    assert forged.status == 401


async def test_sign_in_sets_a_strict_httponly_cookie_and_shows_the_cases(board):
    app, client, chat = board
    await chat.say(SUBJECT)
    await chat.say("", files=[file_attachment(EXAMPLE)])
    resp = await sign_in(app, client, chat)
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    page = await (await client.get("/")).text()
    assert NUMBER in page and "ICBC" in page and "AsiaInfo Security" in page
    case_page = await (await client.get(f"/case/{NUMBER}")).text()
    assert "0x1A MEMORY_MANAGEMENT" in case_page and "0x139 KERNEL_SECURITY_CHECK_FAILURE" in case_page
    assert 'class="mono third"' in case_page  # third-party frames marked on the stack
    zh = await (await client.get(f"/case/{NUMBER}?lang=zh")).text()
    assert "亚信安全" in zh and "内存管理错误" in zh
    vendors = await (await client.get("/vendors")).text()
    assert "<svg" in vendors and "AsiaInfo Security" in vendors and "VSApiNt" in vendors


async def test_upload_form_needs_its_csrf_token_and_same_origin(board):
    app, client, chat = board
    await chat.say(SUBJECT)
    csrf = await signed_in_form_token(app, client, chat)

    def form(token):
        data = FormData()
        data.add_field("csrf", token)
        data.add_field("files", EXAMPLE.read_bytes(), filename="seed.txt", content_type="text/plain")
        return data

    assert (await client.post(f"/case/{NUMBER}/upload", data=form("wrong"))).status == 403
    cross = await client.post(f"/case/{NUMBER}/upload", data=form(csrf), headers={"Origin": "https://evil.example"})
    assert cross.status == 403
    case = await app.store.call(cases.get, NUMBER)
    assert case.verdict_json is None
    ok = await client.post(f"/case/{NUMBER}/upload", data=form(csrf), headers={"Accept": "application/json"})
    assert ok.status == 200
    assert "AsiaInfo Security" in (await ok.json())["message"]
    assert (await app.store.call(cases.get, NUMBER)).vendor == "AsiaInfo Security"


async def test_list_filters_and_search(board):
    app, client, chat = board
    await chat.say(SUBJECT)
    await chat.say("", files=[file_attachment(EXAMPLE)])
    await chat.say("case open CAS-00002-BBBBBB P1 customer:BOC other outage")
    await sign_in(app, client, chat)
    assert "CAS-00002-BBBBBB" not in await (await client.get("/?priority=P3")).text()
    assert "CAS-00002-BBBBBB" in await (await client.get("/?customer=BOC")).text()
    by_vendor = await (await client.get("/?vendor=AsiaInfo+Security")).text()
    assert NUMBER in by_vendor and "CAS-00002-BBBBBB" not in by_vendor
    found = await (await client.get("/?q=亚信")).text()
    assert NUMBER in found and "CAS-00002-BBBBBB" not in found


async def test_archive_shows_the_summary_and_email_on_the_page(board):
    app, client, chat = board
    await chat.say(SUBJECT)
    await chat.say("", files=[file_attachment(EXAMPLE)])
    await chat.say("case call 客户同意升级亚信安全软件，观察一周")
    await chat.say("case archive 用户已升级")
    await sign_in(app, client, chat, case=NUMBER)
    page = await (await client.get(f"/case/{NUMBER}")).text()
    assert "Closing summary" in page and "E-mail to the customer" in page
    assert "archived" in page


@pytest.fixture
def spool_dir(tmp_path, monkeypatch):
    """This test's own temp folder for the server's spooled uploads: the
    machine's /tmp is shared with every other process running tests."""
    import tempfile

    folder = tmp_path / "spool"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def spooled(folder) -> set:
    return {p.name for p in folder.iterdir()}


async def test_bad_uploads_are_refused_cleanly_and_leave_no_temp_files(board, spool_dir):
    app, client, chat = board
    await chat.say(SUBJECT)
    await sign_in(app, client, chat)
    before = spooled(spool_dir)
    plain = await client.post(f"/case/{NUMBER}/upload", data=b"not a form",
                              headers={"Content-Type": "text/plain", "Accept": "application/json"})
    assert plain.status == 400
    early = await client.post(f"/case/{NUMBER}/upload", data=b"x" * 100,
                              headers={"X-CSRF-Token": "wrong", "Content-Type": "multipart/form-data; boundary=b"})
    assert early.status == 403
    assert spooled(spool_dir) == before


async def test_files_before_the_token_too_many_files_and_odd_secrets_are_refused(board, spool_dir):
    app, client, chat = board
    await chat.say(SUBJECT)
    csrf = await signed_in_form_token(app, client, chat)
    before = spooled(spool_dir)
    # A file part ahead of any token: refused before it is written anywhere.
    early = FormData()
    early.add_field("files", b"x" * (3 * 1024**2), filename="a.dmp", content_type="application/octet-stream")
    early.add_field("csrf", csrf)
    assert (await client.post(f"/case/{NUMBER}/upload", data=early)).status == 403
    many = FormData()
    many.add_field("csrf", csrf)
    for i in range(21):
        many.add_field("files", b"log", filename=f"{i}.txt", content_type="text/plain")
    resp = await client.post(f"/case/{NUMBER}/upload", data=many, headers={"Accept": "application/json"})
    assert resp.status == 413 and "20" in (await resp.json())["message"]
    assert spooled(spool_dir) == before
    assert (await app.store.call(cases.get, NUMBER)).verdict_json is None
    # Secrets that are not ASCII are refused like any wrong one, never a server error.
    odd = await client.post(f"/case/{NUMBER}/upload", data=b"", headers={
        "X-CSRF-Token": "é", "Content-Type": "multipart/form-data; boundary=b"})
    assert odd.status == 403
    assert (await client.get("/auth?t=%C3%A9.%C3%A9", allow_redirects=False)).status == 403
    assert (await client.get("/", cookies={"crashdesk_session": "é.é"})).status == 401


async def test_paging_offsets_that_are_not_plain_numbers_show_the_first_page(board):
    app, client, chat = board
    await chat.say(SUBJECT)
    await sign_in(app, client, chat)
    for offset in ("²", "9" * 40, "-5", "abc"):
        resp = await client.get("/", params={"offset": offset})
        assert resp.status == 200 and NUMBER in await resp.text(), offset


async def test_buckets_page_and_the_cases_seen_before(board):
    app, client, chat = board
    other = "CAS-05001-AB12CD"
    for number in (NUMBER, other):
        await chat.say(f"case open {number} P3 customer:ICBC 蓝屏")
        await chat.say(number, files=[file_attachment(EXAMPLE)])
    await sign_in(app, client, chat)
    page = await (await client.get("/buckets")).text()
    assert "bc:0x1A/0x41792/vsapint" in page and "Crash buckets" in page
    row = page[page.index("bc:0x1A/0x41792/vsapint"):]
    assert re.search(r'<td class="num">2</td>', row[:400])
    case_page = await (await client.get(f"/case/{other}")).text()
    assert "Seen before" in case_page and f'href="/case/{NUMBER}"' in case_page
    zh = await (await client.get("/buckets?lang=zh")).text()
    assert "蓝屏分类" in zh


async def test_a_link_from_a_chinese_chat_opens_the_board_in_chinese(board):
    """The board spoke the desk's default language whatever the chat's: a
    link handed out in a Chinese channel now sets the board's language."""
    app, client, chat = board
    await chat.say(SUBJECT)
    await chat.say("case lang zh")
    resp = await sign_in(app, client, chat)
    assert any(c.startswith("crashdesk_lang=zh") for c in resp.headers.getall("Set-Cookie"))
    page = await (await client.get(f"/case/{NUMBER}")).text()
    assert '<html lang="zh-CN">' in page and "ICBC" in page
    english = Chat(app.desk, platform="console", channel="console2", user="weiliang")
    resp = await sign_in(app, client, english)
    assert any(c.startswith("crashdesk_lang=en") for c in resp.headers.getall("Set-Cookie"))

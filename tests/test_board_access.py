"""Who reaches what on the board (issue 16): sessions kept server-side, so
signing out and expiry end them; a case link's session reaches that case
only; an audit line for every sign-in, sign-out and upload."""

import asyncio
from datetime import timedelta

import pytest
from aiohttp import FormData

from bot.board.auth import COOKIE, SESSION_TTL
from deskkit import file_attachment
from store import cases
from test_board import EXAMPLE, NUMBER, ROOT, SUBJECT, board, sign_in  # noqa: F401  (board: the fixture)

pytestmark = pytest.mark.usefixtures("store_backend")
OTHER = "CAS-05001-AB12CD"


def session_cookie(client) -> str:
    return next(c.value for c in client.session.cookie_jar if c.key == COOKIE)


async def audit(app) -> list[tuple[str, str | None]]:
    return await app.store.call(lambda db: [(r["action"], r["who"]) for r in db.query(
        "select action, who from audit where action like 'board_%' order by id")])


async def test_signing_out_ends_the_session_for_every_copy_of_the_cookie(board):
    app, client, chat = board
    await chat.say(SUBJECT)
    await sign_in(app, client, chat)
    stolen = session_cookie(client)
    assert (await client.get("/")).status == 200
    out = await client.get("/logout")
    assert out.status == 200 and "signed out" in await out.text()
    # The old cookie, presented again (a copy kept elsewhere), opens nothing.
    client.session.cookie_jar.clear()
    again = await client.get("/", cookies={COOKIE: stolen})
    assert again.status == 401 and NUMBER not in await again.text()
    assert (await client.get(f"/case/{NUMBER}", cookies={COOKIE: stolen})).status == 401
    assert await audit(app) == [("board_sign_in", "weiliang"), ("board_sign_out", "weiliang")]


async def test_a_session_ends_when_it_expires(board):
    app, client, chat = board
    await chat.say(SUBJECT)
    await sign_in(app, client, chat)
    assert (await client.get("/")).status == 200
    now = app.desk.now()
    app.desk.clock = lambda: now + timedelta(seconds=SESSION_TTL + 1)
    assert (await client.get("/")).status == 401


async def test_a_case_link_reaches_that_case_only(board, tmp_path):
    app, client, chat = board
    for number in (NUMBER, OTHER):
        await chat.say(f"case open {number} P3 customer:ICBC{number[-2:]} 蓝屏")
        await chat.say(number, files=[file_attachment(EXAMPLE)])
    await sign_in(app, client, chat, case=NUMBER)
    own = await client.get(f"/case/{NUMBER}")
    page = await own.text()
    assert own.status == 200 and NUMBER in page
    # The other case (which shares its bug) is not even named on the page.
    assert OTHER not in page and 'href="/vendors"' not in page
    for path in (f"/case/{OTHER}", "/", "/vendors", "/buckets", "/?q=ICBC"):
        resp = await client.get(path)
        text = await resp.text()
        assert resp.status == 403, path
        assert OTHER not in text and "9K" not in text and NUMBER in text  # it says which case it opens
    refused = await upload(client, form_token(page), "more.txt", EXAMPLE.read_bytes(), number=OTHER)
    assert refused.status == 403
    other = await app.store.call(lambda db: db.one(
        "select count(*) as n from case_dumps join cases on cases.id = case_dumps.case_id where cases.number = ?",
        [OTHER]))
    assert other["n"] == 1  # only the one from chat


async def test_every_sign_in_sign_out_and_upload_leaves_an_audit_line(board):
    app, client, chat = board
    await chat.say(SUBJECT)
    await sign_in(app, client, chat, case=NUMBER)
    page = await (await client.get(f"/case/{NUMBER}")).text()
    ok = await upload(client, form_token(page), "seed.txt", EXAMPLE.read_bytes())
    assert ok.status == 200
    await client.get("/logout")
    assert await audit(app) == [("board_sign_in", "weiliang"), ("board_upload", "weiliang"),
                                ("board_sign_out", "weiliang")]
    detail = await app.store.call(lambda db: db.one("select detail, case_id from audit where action = 'board_upload'"))
    assert "seed.txt" in detail["detail"] and detail["case_id"] is not None


async def raw_get(client, path: str, cookie: bytes) -> bytes:
    """A request whose Cookie header holds raw bytes (no HTTP client sends them)."""
    reader, writer = await asyncio.open_connection(client.server.host, client.server.port)
    writer.write(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: localhost\r\nCookie: " + cookie +
                 b"\r\nConnection: close\r\n\r\n")
    await writer.drain()
    data = await reader.read()
    writer.close()
    return data


@pytest.mark.parametrize("cookie", [b"crashdesk_session=\xff\xfe.abc", b"crashdesk_session=\xc3\xa9" + b"A" * 40,
                                    b"crashdesk_session=" + b"\x80" * 50, b"crashdesk_session=a.b.c"])
async def test_a_cookie_with_a_non_ascii_byte_before_sign_in_is_simply_not_signed_in(board, cookie):
    app, client, chat = board
    for path in ("/", f"/case/{NUMBER}", "/static/board.css", "/logout"):
        answer = await raw_get(client, path, cookie)
        status = answer.split(b" ", 2)[1]
        assert status in (b"401", b"200"), (path, answer[:200])


# ------------------------------------------- working from the board (issue 13)
def form_token(page: str) -> str:
    return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


async def test_a_case_page_logs_calls_assigns_prioritises_archives_and_reopens_through_the_chat_handlers(board):
    from store import timeline

    app, client, chat = board
    await chat.say(SUBJECT)
    await sign_in(app, client, chat, case=NUMBER)
    csrf = form_token(await (await client.get(f"/case/{NUMBER}")).text())

    async def act(**fields):
        resp = await client.post(f"/case/{NUMBER}/act", data={"csrf": csrf, **fields})
        assert resp.status == 200 and str(resp.url).endswith(f"/case/{NUMBER}")  # back on the case page
        return await resp.text()

    # A number typed in the text does not move the call to another case.
    page = await act(action="call", text="客户同意升级亚信安全软件 CAS-09999-ZZZZZZ", next="确认升级结果", due="2021-09-10")
    assert "Phone call logged on CAS-04716-C3F2K9" in page and 'class="flash"' in page
    case = await app.store.call(cases.get, NUMBER)
    assert case.next_action.startswith("确认升级结果") and case.next_action_due == "2021-09-10"
    followups = await app.store.call(timeline.followups, case.id)
    assert followups[-1]["kind"] == "phone" and followups[-1]["who"] == "weiliang"
    assert await app.store.call(cases.get, "CAS-09999-ZZZZZZ") is None
    # The message is shown once: a reload no longer shows it.
    assert 'class="flash"' not in await (await client.get(f"/case/{NUMBER}")).text()
    await act(action="note", text="customer prefers mornings")
    page = await act(action="assign", text="lilei")
    assert (await app.store.call(cases.get, NUMBER)).owner == "lilei"
    page = await act(action="priority", text="P1")
    assert (await app.store.call(cases.get, NUMBER)).priority == "P1"
    assert "Assigned" in page and "lilei" in page and "Priority" in page  # on the timeline
    page = await act(action="archive", text="customer upgraded OfficeScan")
    assert (await app.store.call(cases.get, NUMBER)).status == "archived"
    assert "Closing summary" in page and 'id="act-reopen"' in page
    page = await act(action="reopen", text="blue screens again")
    assert (await app.store.call(cases.get, NUMBER)).status == "open"
    actions = await app.store.call(lambda db: [r["action"] for r in db.query(
        "select action from audit where case_id = ? order by id", [case.id])])
    assert {"assign", "priority", "archive", "reopen"} <= set(actions)


async def test_board_actions_need_the_forms_token_the_same_origin_and_the_sessions_case(board):
    app, client, chat = board
    await chat.say(SUBJECT)
    await chat.say(f"case open {OTHER} P3 customer:BOC 蓝屏")
    await sign_in(app, client, chat, case=NUMBER)
    csrf = form_token(await (await client.get(f"/case/{NUMBER}")).text())
    assert (await client.post(f"/case/{NUMBER}/act", data={"csrf": "wrong", "action": "assign", "text": "x"})).status == 403
    cross = await client.post(f"/case/{NUMBER}/act", data={"csrf": csrf, "action": "assign", "text": "x"},
                              headers={"Origin": "https://evil.example"})
    assert cross.status == 403
    other = await client.post(f"/case/{OTHER}/act", data={"csrf": csrf, "action": "assign", "text": "x"})
    assert other.status == 403
    assert (await client.post(f"/case/{NUMBER}/act", data={"csrf": csrf, "action": "drop_table"})).status == 400
    assert (await app.store.call(cases.get, NUMBER)).owner != "x"
    assert (await app.store.call(cases.get, OTHER)).owner != "x"


async def test_a_board_action_is_told_in_the_cases_chat_threads(board):
    app, client, chat = board
    relayed = []

    async def relay(reply):
        relayed.append(reply)

    app.platforms.board.relay = relay
    await chat.say(SUBJECT)
    await sign_in(app, client, chat, case=NUMBER)
    csrf = form_token(await (await client.get(f"/case/{NUMBER}")).text())
    await client.post(f"/case/{NUMBER}/act", data={"csrf": csrf, "action": "assign", "text": "lilei"})
    texts = [" ".join(b.text for b in r.doc.blocks) for r in relayed]
    assert relayed and all(r.case_number == NUMBER for r in relayed)
    assert any("From the case board, by weiliang" in t and "lilei" in t for t in texts)


async def test_culprit_bases_read_as_words_on_the_case_page(board):
    app, client, chat = board
    await chat.say(SUBJECT)
    await chat.say("", files=[file_attachment(EXAMPLE)])
    await sign_in(app, client, chat, case=NUMBER)
    page = await (await client.get(f"/case/{NUMBER}")).text()
    zh = await (await client.get(f"/case/{NUMBER}?lang=zh")).text()
    assert "[windbg," not in page and "[stack," not in page and ", high]" not in page
    assert "named by WinDbg" in page or "faulting stack" in page
    assert "低]" not in zh and "高]" not in zh and ("MODULE_NAME 指出" in zh or "callstack 中的第一个" in zh)


async def upload(client, csrf, name, data, json_reply=True, number=NUMBER):
    form = FormData()
    form.add_field("csrf", csrf)
    form.add_field("files", data, filename=name, content_type="application/octet-stream")
    return await client.post(f"/case/{number}/upload", data=form,
                             headers={"Accept": "application/json"} if json_reply else {})


@pytest.mark.parametrize("name,data", [("empty.dmp", b""), ("garbage.bin", bytes(range(256)) * 40)])
async def test_an_unreadable_board_upload_says_so_not_the_earlier_verdict(board, name, data):
    app, client, chat = board
    await chat.say(SUBJECT)
    await chat.say("", files=[file_attachment(EXAMPLE)])
    await sign_in(app, client, chat, case=NUMBER)
    csrf = form_token(await (await client.get(f"/case/{NUMBER}")).text())
    resp = await upload(client, csrf, name, data)
    reply = await resp.json()
    assert resp.status == 422 and not reply["ok"], reply
    assert name in reply["message"] and "Analysed" not in reply["message"]


async def test_without_javascript_an_upload_answers_with_the_case_page_saying_what_happened(board):
    app, client, chat = board
    await chat.say(SUBJECT)
    await sign_in(app, client, chat, case=NUMBER)
    csrf = form_token(await (await client.get(f"/case/{NUMBER}")).text())
    resp = await upload(client, csrf, "seed.txt", EXAMPLE.read_bytes(), json_reply=False)
    page = await resp.text()
    assert resp.status == 200 and resp.content_type == "text/html"
    assert 'class="flash"' in page and "Analysed" in page
    resp = await upload(client, csrf, "empty.dmp", b"", json_reply=False)
    page = await resp.text()
    assert resp.content_type == "text/html" and 'class="flash"' in page and "empty.dmp" in page


async def test_the_board_pages_let_the_browser_send_its_origin_with_their_own_forms(board):
    app, client, chat = board
    await chat.say(SUBJECT)
    await sign_in(app, client, chat, case=NUMBER)
    resp = await client.get(f"/case/{NUMBER}")
    # no-referrer made browsers send "Origin: null" with the page's own forms.
    assert resp.headers["Referrer-Policy"] == "same-origin"


async def test_the_vendor_pages_count_agrees_with_its_table(board):
    import re as regex

    app, client, chat = board
    await chat.say(SUBJECT)
    await chat.say("", files=[file_attachment(EXAMPLE)])
    await chat.say(f"case open {OTHER} P3 customer:BOC 无厂商")  # a case whose file names no vendor
    await chat.say(OTHER, files=[file_attachment(ROOT / "tests" / "fixtures" / "text" / "whea_0x124_genuineintel.txt")])
    await sign_in(app, client, chat)
    page = await (await client.get("/vendors")).text()
    said = int(regex.search(r'<p class="muted">\D*(\d+)\D*</p>', page)[1])
    column = sum(int(n) for n in regex.findall(r'<td class="num">(\d+)</td>\s*<td class="mono">', page))
    assert said == column

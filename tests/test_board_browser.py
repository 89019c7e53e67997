"""The board in a real headless Chromium (Debian's, driven by Playwright):
sign in through the chat link, see the seed case with its two verdicts,
upload a dump with the form and watch the verdict appear, archive from chat
and see the page change.  Screenshots go to the test's temp folder."""

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.config import Settings
from bot.server import App
from engines import db_for
from deskkit import Chat, file_attachment, serve

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"),
              pytest.mark.usefixtures("store_backend")]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "seed-shaped-thread.txt"
CROWDSTRIKE = ROOT / "tests" / "fixtures" / "text" / "win11_0x139_keyvalues_crowdstrike.txt"
NUMBER = "CAS-04716-C3F2K9"
SUBJECT = f"[案例号: {NUMBER}] % |P3|ICBC|总行 win10 神州网信政府版电脑蓝屏 % 初次响应 CMIT:0001032"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
async def site(tmp_path):
    from playwright.async_api import async_playwright

    server = None
    settings = Settings({"CRASHDESK_DB": db_for(tmp_path, "b.db"), "CRASHDESK_DATA_DIR": str(tmp_path / "data"),
                         "TZ": "Asia/Shanghai"})
    app = App(settings, executor=ThreadPoolExecutor(max_workers=2), scheduler=False)
    server, app.platforms.board.public_url = await serve(app.web)
    chat = Chat(app.desk, platform="console", channel="console", user="weiliang")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield app, chat, browser, tmp_path
        await browser.close()
    await server.close()


async def board_link(chat, case=None) -> str:
    replies = await chat.say("case board" + (f" {case}" if case else ""))
    return next(a.value for r in replies for a in r.actions if a.id == "board")


async def test_seed_case_end_to_end_in_a_browser(site):
    app, chat, browser, out = site
    await chat.say(SUBJECT)
    await chat.say("", files=[file_attachment(EXAMPLE)])
    page = await browser.new_page(viewport={"width": 1280, "height": 900})

    # Without the link: a sign-in page and no case data.
    await page.goto(app.platforms.board.public_url + "/")
    assert "case board" in await page.content() and NUMBER not in await page.content()

    await page.goto(await board_link(chat, NUMBER))
    assert page.url.endswith(f"/case/{NUMBER}")
    verdict = page.locator("#verdict")
    await verdict.wait_for()
    text = await verdict.inner_text()
    assert "0x1A MEMORY_MANAGEMENT" in text and "0x139 KERNEL_SECURITY_CHECK_FAILURE" in text
    assert "AsiaInfo Security" in text and "VSApiNt" in text
    await page.screenshot(path=str(out / "1-case.png"), full_page=True)

    # Upload with the form (progress bar, then the page shows the new verdict).
    await page.set_input_files("#files", str(CROWDSTRIKE))
    async with page.expect_navigation():
        await page.click("#upload-form button[type=submit]")
    await verdict.wait_for()
    assert "csagent" in await page.locator("#verdict").inner_text()
    await page.screenshot(path=str(out / "2-after-upload.png"), full_page=True)

    # Archive from chat; the page shows the new state and the summary.
    await chat.say(f"case archive {NUMBER} customer upgraded OfficeScan")
    await page.reload()
    assert await page.locator("#case-status").inner_text() == "archived"
    closing = await page.locator("#closing").inner_text()
    assert "Definition:" in closing and "Dear" not in closing or "Hello," in closing
    await page.screenshot(path=str(out / "3-archived.png"), full_page=True)

    # The case link reached that case only; the list and the vendor view
    # need a link to the whole board.
    await page.goto(app.platforms.board.public_url + "/?status=all")
    assert "opens case CAS-04716-C3F2K9 only" in await page.content()
    await page.goto(await board_link(chat))
    await page.goto(app.platforms.board.public_url + "/?status=all")
    assert NUMBER in await page.locator("table.cases").inner_text()
    await page.goto(app.platforms.board.public_url + "/vendors")
    assert await page.locator("svg.chart").count() == 1
    await page.screenshot(path=str(out / "4-vendors.png"), full_page=True)
    for name in ("1-case.png", "2-after-upload.png", "3-archived.png", "4-vendors.png"):
        assert (out / name).stat().st_size > 10_000


async def test_readable_on_a_phone_in_chinese(site):
    app, chat, browser, out = site
    await chat.say(SUBJECT)
    await chat.say("", files=[file_attachment(EXAMPLE)])
    page = await browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    await page.goto(await board_link(chat))
    await page.goto(app.platforms.board.public_url + "/?lang=zh")
    assert "亚信安全" in await page.content()
    # Nothing wider than the screen but the table's own scroller.
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    await page.screenshot(path=str(out / "phone-list.png"), full_page=True)
    await page.goto(app.platforms.board.public_url + f"/case/{NUMBER}")
    assert "内存管理错误" in await page.content()
    await page.screenshot(path=str(out / "phone-case.png"), full_page=True)


async def test_cross_site_form_post_is_refused(site):
    """A page on another origin posting to the upload form: the strict cookie
    is not sent, and the Origin check would refuse it anyway."""
    app, chat, browser, out = site
    await chat.say(SUBJECT)
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(await board_link(chat))
    evil, evil_base = await serve(_evil_app(app.platforms.board.public_url + f"/case/{NUMBER}/upload"))
    try:
        # 127.0.0.1 vs localhost: same machine, different site.
        evil_url = evil_base.replace("127.0.0.1", "localhost") + "/"
        await page.goto(evil_url)
        async with page.expect_navigation():
            await page.click("button")
        assert "case board" in await page.content()  # refused: sign-in page, nothing stored
    finally:
        await evil.close()
    from store import cases

    assert (await app.store.call(cases.get, NUMBER)).verdict_json is None


def _evil_app(target: str):
    from aiohttp import web

    async def index(request):
        return web.Response(content_type="text/html", text=(
            f'<form method="post" action="{target}" enctype="multipart/form-data">'
            '<input type="hidden" name="csrf" value="guess"><button>win a prize</button></form>'))

    app = web.Application()
    app.router.add_get("/", index)
    return app


OVERFLOWING = """() => [...document.querySelectorAll('section, .card, article.dump, form.act, .drop')]
    .filter(e => e.scrollWidth - e.clientWidth > 1)
    .map(e => (e.id || e.className || e.tagName) + ' ' + e.scrollWidth + '>' + e.clientWidth)"""
LINES = """(sel) => [...document.querySelectorAll(sel)].map(e => e.getClientRects().length)"""


async def test_at_phone_width_nothing_overflows_its_card_and_numbers_and_dates_stay_on_one_line(site):
    app, chat, browser, out = site
    await chat.say(SUBJECT)
    long_name = "MEMORY_DUMP_FROM_BRANCH_OFFICE_PC_0042_AFTER_THE_OFFICESCAN_UPDATE_2021-09-01_0730.txt"
    await chat.say("", files=[file_attachment(EXAMPLE, name=long_name)])
    await chat.say(f"case call {NUMBER} 客户同意升级亚信安全软件，3天后确认")
    page = await browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    await page.goto(await board_link(chat))
    for lang in ("en", "zh"):
        await page.goto(app.platforms.board.public_url + f"/case/{NUMBER}?lang={lang}")
        assert await page.evaluate(OVERFLOWING) == [], lang
        assert await page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
        await page.screenshot(path=str(out / f"phone-case-{lang}.png"), full_page=True)
        await page.goto(app.platforms.board.public_url + f"/?lang={lang}")
        assert await page.evaluate(LINES, "table.cases td:first-child a") == [1]
        assert set(await page.evaluate(LINES, "table.cases td.date, table.cases span.date")) == {1}
        assert await page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1


async def test_without_javascript_the_upload_form_comes_back_to_the_case_page_saying_what_happened(site):
    app, chat, browser, out = site
    await chat.say(SUBJECT)
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    await page.goto(await board_link(chat, NUMBER))
    await page.set_input_files("#files", str(EXAMPLE))
    async with page.expect_navigation():
        await page.click("#upload-form button[type=submit]")
    assert page.url.endswith(f"/case/{NUMBER}")
    flash = await page.locator("#flash").inner_text()
    assert "Analysed" in flash and "AsiaInfo Security" in flash
    assert "This form has expired" not in await page.content()
    await context.close()


async def test_an_engineer_logs_a_call_and_archives_from_the_case_page(site):
    app, chat, browser, out = site
    await chat.say(SUBJECT)
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await page.goto(await board_link(chat, NUMBER))
    await page.fill("#act-followup textarea[name=text]", "客户同意升级亚信安全软件")
    await page.fill("#act-followup input[name=next]", "确认升级结果")
    await page.fill("#act-followup input[name=due]", "2026-12-20")
    async with page.expect_navigation():
        await page.click("#act-followup button[type=submit]")
    assert "CAS-04716-C3F2K9" in await page.locator("#flash").inner_text()
    assert "确认升级结果" in await page.locator(".timeline").inner_text()
    await page.fill("#act-archive textarea[name=text]", "客户已升级")
    async with page.expect_navigation():
        await page.click("#act-archive button[type=submit]")
    assert await page.locator("#case-status").inner_text() == "archived"
    assert await page.locator("#act-reopen").count() == 1
    await page.screenshot(path=str(out / "5-worked.png"), full_page=True)


async def test_the_archive_email_is_sent_from_the_case_page_at_phone_width(tmp_path):
    """A case that came in by mail, archived in chat: on a phone the case
    page's send button (long addresses and all) stays inside the page, a
    tap sends the e-mail through the real SMTP server, and the page then
    says when it went and to whom instead of offering it again."""
    import asyncio
    from email.message import EmailMessage

    from playwright.async_api import async_playwright

    from mailkit import Dovecot, Outbox, need_dovecot, read_by_desk

    need_dovecot()
    imap, smtp = Dovecot(tmp_path / "dovecot").start(), Outbox().start()
    desk_address = "support@crashdesk.example"
    settings = Settings({"CRASHDESK_DB": db_for(tmp_path, "b.db"), "CRASHDESK_DATA_DIR": str(tmp_path / "data"),
                         "TZ": "Asia/Shanghai", "CRASHDESK_IMAP_URL": imap.url, "CRASHDESK_SMTP_URL": smtp.url,
                         "CRASHDESK_MAIL_FROM": desk_address})
    app = App(settings, executor=ThreadPoolExecutor(max_workers=2), scheduler=False)
    server, app.platforms.board.public_url = await serve(app.web)
    chat = Chat(app.desk, platform="console", channel="console", user="weiliang")
    long_cc = "windows-terminal-support-group-of-the-shandong-branch-office@sdicbc.com.cn"
    try:
        m = EmailMessage()
        m["From"], m["To"], m["Cc"] = "吴毓杰 <win10sup@sdicbc.com.cn>", desk_address, long_cc
        m["Subject"], m["Message-ID"] = "答复: " + SUBJECT, "<phone-1@sdicbc.com.cn>"
        m.set_content("您好，电脑又蓝屏了。")
        await asyncio.to_thread(imap.deliver, m.as_bytes())
        await read_by_desk(imap, app.jobs)
        await chat.say(f"case archive {NUMBER} 客户已升级亚信安全软件")
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = await browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
            await page.goto(await board_link(chat, NUMBER))
            await page.goto(app.platforms.board.public_url + f"/case/{NUMBER}?lang=zh")
            button = page.locator("#act-email-send button")
            assert long_cc in await button.inner_text()
            assert await page.evaluate(OVERFLOWING) == []
            assert await page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
            await page.screenshot(path=str(tmp_path / "phone-send.png"), full_page=True)
            async with page.expect_navigation():
                await button.click()
            assert f"案例 {NUMBER} 的归档邮件已发送给" in await page.locator("#flash").inner_text()
            assert await page.locator("#act-email-send").count() == 0
            assert "由 weiliang 发送给 win10sup@sdicbc.com.cn" in await page.locator("#email-sent").inner_text()
            await browser.close()
        (sent,) = smtp.messages
        assert sent["In-Reply-To"] == "<phone-1@sdicbc.com.cn>" and sent["Cc"] == long_cc
    finally:
        await server.close()
        smtp.stop()
        imap.stop()

"""The case mailbox (issue 15) against real servers on loopback: Debian's
dovecot (IMAP, IDLE) and aiosmtpd (SMTP), started here in tmp_path."""

from __future__ import annotations

import asyncio
import email
from email.message import EmailMessage
from pathlib import Path

import pytest

from deskkit import app_client
from mailkit import Dovecot, Outbox, need_dovecot
import seedmail
from store import cases, timeline

ROOT = Path(__file__).resolve().parent.parent
NUMBER = "CAS-04716-C3F2K9"
DESK = "support@crashdesk.example"
EXAMPLE = (ROOT / "examples" / "seed-shaped-thread.txt").read_bytes()


class Kit:
    pass


@pytest.fixture
async def mailbox(tmp_path):
    need_dovecot()
    kit = Kit()
    kit.imap = Dovecot(tmp_path / "dovecot").start()
    kit.smtp = Outbox().start()
    kit.app, kit.client = await app_client(tmp_path, {
        "CRASHDESK_IMAP_URL": kit.imap.url, "CRASHDESK_SMTP_URL": kit.smtp.url, "CRASHDESK_MAIL_FROM": f"Support <{DESK}>",
        "CRASHDESK_PUBLIC_URL": "https://desk.example"})
    kit.platform = kit.app.platforms.mail

    async def settle():
        """Until the mailbox has nothing unread and every job is done."""
        for _ in range(3000):
            if await asyncio.to_thread(kit.imap.unseen) == 0:
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("the mailbox was not read")
        await kit.app.jobs.drain()
        for _ in range(50):  # a verdict mailed by a job just drained
            await asyncio.sleep(0.01)

    kit.settle = settle
    try:
        yield kit
    finally:
        await kit.client.close()
        kit.smtp.stop()
        kit.imap.stop()


def mail(subject: str, body: str = "hello", *, sender="hongbo@icbc.com.cn", mid="<m1@icbc.com.cn>", **headers) -> bytes:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = DESK
    m["Subject"] = subject
    m["Message-ID"] = mid
    for k, v in headers.items():
        m[k.replace("_", "-")] = v
    m.set_content(body)
    return m.as_bytes()


async def test_the_seed_mails_rebuild_the_case_and_a_second_delivery_adds_nothing(mailbox):
    thread = seedmail.thread()
    # The customer's reply to the first mail carries the dumps' WinDbg thread.
    first_id, first = thread[0]
    reply = EmailMessage()
    reply["From"] = "吴毓杰 <win10sup@sdicbc.com.cn>"
    reply["To"] = DESK
    reply["Cc"] = "hongbo@icbc.com.cn"
    reply["Subject"] = "答复: " + seedmail.messages()[0]["subject"]
    reply["Message-ID"] = "<customer-1@sdicbc.com.cn>"
    reply["In-Reply-To"] = first_id
    reply["References"] = first_id
    reply.set_content("危工您好，dump 分析日志见附件。\n\n发件人: Wei Liang\n发送时间: 2021 年 9 月 1 日 15:23\n收件人: 吴毓杰\n旧的内容")
    reply.add_attachment(EXAMPLE, maintype="text", subtype="plain", filename="seed-shaped-thread.txt")
    raws = [raw for _, raw in thread[:1]] + [reply.as_bytes()] + [raw for _, raw in thread[1:]]
    for raw in raws:
        await asyncio.to_thread(mailbox.imap.deliver, raw)
    await mailbox.settle()
    store = mailbox.app.store
    case = await store.call(cases.get, NUMBER)
    assert case is not None and case.customer == "ICBC" and case.priority == "P3"
    assert case.vendor == "AsiaInfo Security"
    messages = await store.call(timeline.messages, case.id)
    assert len(messages) == len(raws)
    texts = "\n".join(m["text"] for m in messages)
    assert "dump 分析日志见附件" in texts and "旧的内容" not in texts  # the quoted history is cut off
    assert "根据刚才的电话沟通, 我将暂时归档此案例" in texts  # the HTML-only and GBK mails read as text
    verdicts = [m for m in mailbox.smtp.messages if "分析结果" in m.get_payload(decode=True).decode("utf-8")]
    assert verdicts, [m["Subject"] for m in mailbox.smtp.messages]
    # The customer's attachment, and the WinDbg output pasted into the engineer's mails, each get theirs.
    assert {v["In-Reply-To"] for v in verdicts} >= {"<customer-1@sdicbc.com.cn>", "<seed-1@cmgos.com>"}
    v = next(v for v in verdicts if v["In-Reply-To"] == "<customer-1@sdicbc.com.cn>")
    assert v["References"].split() == [first_id, "<customer-1@sdicbc.com.cn>"]
    assert str(email.header.make_header(email.header.decode_header(v["Subject"]))).startswith("答复: [案例号: CAS-04716-C3F2K9]")
    assert "win10sup@sdicbc.com.cn" in v["To"] and "hongbo@icbc.com.cn" in v["Cc"] and DESK not in v["Cc"]
    assert v["Auto-Submitted"] == "auto-replied"
    assert "亚信安全" in v.get_payload(decode=True).decode("utf-8")
    sent = len(mailbox.smtp.messages)

    # The same mails delivered again (a forwarding loop, a restored mailbox): nothing new.
    for raw in raws:
        await asyncio.to_thread(mailbox.imap.deliver, raw)
    await mailbox.settle()
    assert len(await store.call(timeline.messages, case.id)) == len(raws)
    assert len(mailbox.smtp.messages) == sent


@pytest.mark.parametrize("headers, sender", [
    ({"Auto_Submitted": "auto-replied"}, "hongbo@icbc.com.cn"),
    ({"X_Autoreply": "yes"}, "hongbo@icbc.com.cn"),
    ({"Precedence": "bulk"}, "hongbo@icbc.com.cn"),
    ({}, "MAILER-DAEMON@icbc.com.cn"),
    ({}, DESK),
])
async def test_machines_and_our_own_mail_are_never_answered(mailbox, headers, sender):
    await asyncio.to_thread(mailbox.imap.deliver, mail(f"Re: [案例号: {NUMBER}] % |P3|ICBC|蓝屏 % 外出自动回复",
                                                       "我正在休假", sender=sender, **headers))
    await mailbox.settle()
    assert mailbox.smtp.messages == []
    assert await mailbox.app.store.call(cases.get, NUMBER) is None


async def test_a_message_nothing_can_read_does_not_stop_the_mailbox(mailbox):
    # Comments nested past the recursion limit in the To header: the
    # standard address parser raises.  The message is left, read; the next
    # one is handled as ever.
    hostile = (b"From: hongbo@icbc.com.cn\r\nTo: " + b"(" * 20_000 + b"\r\nSubject: [\xe6\xa1\x88\xe4\xbe\x8b\xe5\x8f\xb7: "
               + NUMBER.encode() + b"] % |P3|ICBC|x % y\r\nMessage-ID: <bad@icbc.com.cn>\r\n\r\nbody\r\n")
    await asyncio.to_thread(mailbox.imap.deliver, hostile)
    await asyncio.to_thread(mailbox.imap.deliver, mail("电脑又蓝屏了", "请帮忙看看", mid="<m2@icbc.com.cn>"))
    await mailbox.settle()
    task = mailbox.platform._task
    assert task is not None and not task.done()
    assert any(m["In-Reply-To"] == "<m2@icbc.com.cn>" for m in mailbox.smtp.messages)


async def test_no_case_number_is_answered_in_the_senders_language(mailbox):
    await asyncio.to_thread(mailbox.imap.deliver, mail("电脑又蓝屏了", "请帮忙看看"))
    await mailbox.settle()
    (answer,) = mailbox.smtp.messages
    assert "请在主题中保留案例号" in answer.get_payload(decode=True).decode("utf-8")
    assert answer["In-Reply-To"] == "<m1@icbc.com.cn>"


async def test_an_attachment_over_25_mb_is_answered_with_the_boards_upload_page(mailbox):
    m = EmailMessage()
    m["From"] = "Li Lei <lilei@contoso.com>"
    m["To"] = DESK
    m["Subject"] = f"RE: [案例号: {NUMBER}] % |P2|Contoso|Laptops blue-screen % initial response"
    m["Message-ID"] = "<big@contoso.com>"
    m.set_content("The full memory dump is attached.")
    m.add_attachment(b"\0" * (25 * 1024 * 1024 + 1), maintype="application", subtype="octet-stream",
                     filename="MEMORY.DMP")
    await asyncio.to_thread(mailbox.imap.deliver, m.as_bytes())
    await mailbox.settle()
    bodies = [x.get_payload(decode=True).decode("utf-8") for x in mailbox.smtp.messages]
    assert any("MEMORY.DMP: over the 25 MB" in b and f"https://desk.example/case/{NUMBER}" in b for b in bodies), bodies
    case = await mailbox.app.store.call(cases.get, NUMBER)
    assert case is not None and case.title.startswith("Laptops")  # an English case, opened from the CRM subject


def test_headers_in_every_encoding_chinese_mail_uses():
    from bot.mailparse import parse, strip_history, strip_prefixes

    subject = f"[案例号: {NUMBER}] % |P3|ICBC|总行 win10 神州网信政府版电脑蓝屏 % 初次响应"
    raw = (b"From: =?GB2312?B?" + __import__("base64").b64encode("吴毓杰".encode("gbk")) + b"?= <w@x.cn>\r\n"
           b"Subject: " + ("回复: " + subject).encode("gb18030") + b"\r\nMessage-ID: <a@b>\r\n"
           b"Content-Type: text/html; charset=gb2312\r\n\r\n" +
           "<html><head><style>p{}</style></head><body><p>镕 您好</p><div>见附件</div>"
           "<div>-----原始邮件-----</div><p>旧</p></body></html>".encode("gbk"))
    m = parse(raw, own=set(), limit=100)
    assert m.sender == ("吴毓杰", "w@x.cn")
    assert strip_prefixes(m.subject) == subject
    assert m.body == "镕 您好\n见附件"  # 镕 is GBK, not GB2312
    assert strip_prefixes("Fwd: RE: 答复：回复: x") == "x"
    assert strip_history("new\n> old\nOn Mon, 1 Sep 2021, A wrote:\nolder") == "new"


def test_an_html_body_is_read_in_one_pass_whatever_its_tags():
    from bot.mailparse import html_text

    assert html_text("<html><head><title>t</title></head><body><p>Hello&nbsp;<b>world</b></p>"
                     "<script>var a = '<p>';</script><div>第二行 &lt;tag&gt;</div><!-- hidden -->"
                     "3 < 4 and 5 > 2</body></html>") == "Hello world\n第二行 <tag>\n3 < 4 and 5 > 2"
    # Unclosed start tags: the standard library's parser rescanned from
    # every '<' (60 KB took 31 s; this one, hours).  Read as text, once.
    bomb = "<a " * 200_000
    assert html_text(bomb) == " ".join(["<a"] * 200_000)
    assert html_text("<!--" + "x" * 100_000) == "" and html_text("<script>" * 50_000) == ""


async def test_the_verdict_of_a_mail_reaches_the_cases_chat_threads(mailbox):
    from handlers import deliver

    got = []

    class Room:
        name = "pager"

        async def to_threads(self, reply, threads):
            got.append((reply.kind, [t.channel for t in threads]))
            return len(threads)

    deliver.register(mailbox.app.desk, Room())
    assert "mail" not in deliver.doors(mailbox.app.desk)  # chat is never mailed to customers on its own
    subject = f"[案例号: {NUMBER}] % |P3|ICBC|总行电脑蓝屏 % 初次响应"
    await asyncio.to_thread(mailbox.imap.deliver, mail(subject, "您好", mid="<open@icbc.com.cn>"))
    await mailbox.settle()
    await mailbox.app.desk.bind(NUMBER, "pager", "room-1", "t-1")
    m = EmailMessage()
    m["From"] = "hongbo@icbc.com.cn"
    m["To"] = DESK
    m["Subject"] = "回复: " + subject
    m["Message-ID"] = "<dumps@icbc.com.cn>"
    m.set_content("日志见附件")
    m.add_attachment(EXAMPLE, maintype="text", subtype="plain", filename="seed.txt")
    await asyncio.to_thread(mailbox.imap.deliver, m.as_bytes())
    await mailbox.settle()
    assert ("verdict", ["room-1"]) in got
    assert any(x["In-Reply-To"] == "<dumps@icbc.com.cn>" for x in mailbox.smtp.messages)

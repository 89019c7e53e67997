"""The case mailbox against the terminal, in one run.

    .venv/bin/python bench/bench_mail.py [--messages 40]

Debian's dovecot (IMAP, IDLE) and aiosmtpd on 127.0.0.1 (tests/mailkit.py),
`crashdesk serve`'s app reading the mailbox.  Measures:

- messages/s: ``--messages`` follow-up mails (CRM subject, a reply with
  quoted history, no attachment) delivered at once, until the last is on
  its case's timeline; against the same texts typed into the terminal
  (bot.console) on its own database;
- delivery to verdict e-mail: one mail with the seed's WinDbg thread
  attached, from the IMAP APPEND to the verdict arriving at the SMTP
  server; against ``upload seed-shaped-thread.txt`` in the terminal to its
  printed verdict.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from bot.config import Settings  # noqa: E402
from bot.server import App  # noqa: E402
from mailkit import Dovecot, Outbox, need_dovecot  # noqa: E402
from store import cases, timeline  # noqa: E402

EXAMPLE = (ROOT / "examples" / "seed-shaped-thread.txt")
DESK = "support@crashdesk.example"


def follow_up(i: int) -> bytes:
    m = EmailMessage()
    m["From"] = "洪波 <hongbo@icbc.com.cn>"
    m["To"] = DESK
    m["Subject"] = f"回复: [案例号: CAS-{i:05d}-BENCH1] % |P3|ICBC|总行电脑蓝屏 % 初次响应"
    m["Message-ID"] = f"<bench-{i}@icbc.com.cn>"
    m.set_content(f"危工您好，第 {i} 台电脑昨晚又蓝屏了，今天上午再收集 dump。\n\n"
                  "发件人: Wei Liang\n发送时间: 2021 年 9 月 1 日 15:23\n收件人: 吴毓杰\n旧的内容\n" * 3)
    return m.as_bytes()


def with_dumps() -> bytes:
    m = EmailMessage()
    m["From"] = "吴毓杰 <win10sup@sdicbc.com.cn>"
    m["To"] = DESK
    m["Subject"] = "答复: [案例号: CAS-04716-C3F2K9] % |P3|ICBC|总行 win10 神州网信政府版电脑蓝屏 % 初次响应"
    m["Message-ID"] = "<bench-dumps@sdicbc.com.cn>"
    m.set_content("dump 分析日志见附件。")
    m.add_attachment(EXAMPLE.read_bytes(), maintype="text", subtype="plain", filename=EXAMPLE.name)
    return m.as_bytes()


async def mailbox_run(n: int) -> tuple[float, float]:
    tmp = Path(tempfile.mkdtemp(prefix="crashdesk-bench-mail-"))
    imap = Dovecot(tmp / "dovecot").start()
    smtp = Outbox().start()
    app = App(Settings({"CRASHDESK_DB": str(tmp / "bench.db"), "CRASHDESK_DATA_DIR": str(tmp / "data"),
                        "CRASHDESK_IMAP_URL": imap.url, "CRASHDESK_SMTP_URL": smtp.url,
                        "CRASHDESK_MAIL_FROM": DESK}), scheduler=False)
    from aiohttp.test_utils import TestServer

    server = TestServer(app.web, host="127.0.0.1")
    await server.start_server()
    try:
        raws = [follow_up(i) for i in range(n)]
        t0 = time.perf_counter()
        for raw in raws:
            await asyncio.to_thread(imap.deliver, raw)
        while app.platforms.mail.processed < n:
            await asyncio.sleep(0.005)
        rate = n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        await asyncio.to_thread(imap.deliver, with_dumps())
        while not any("CAS-04716-C3F2K9" in (m["Subject"] or "") or m["In-Reply-To"] == "<bench-dumps@sdicbc.com.cn>"
                      for m in smtp.messages):
            await asyncio.sleep(0.005)
        verdict = time.perf_counter() - t0
        case = await app.store.call(cases.get, "CAS-00000-BENCH1")
        assert case is not None and len(await app.store.call(timeline.messages, case.id)) == 1
        return rate, verdict
    finally:
        await server.close()
        smtp.stop()
        imap.stop()


async def terminal_run(n: int) -> tuple[float, float]:
    from bot.console import Console
    from handlers.desk import Desk, DeskConfig
    from store import Store

    tmp = Path(tempfile.mkdtemp(prefix="crashdesk-bench-term-"))
    store = Store(str(tmp / "t.db"))
    await store.open()
    desk = Desk(store, DeskConfig(data_dir=str(tmp / "data"), lang="zh", tz="UTC"))
    console = Console(desk, "hongbo", out=io.StringIO())
    try:
        t0 = time.perf_counter()
        for i in range(n):
            await console.line(f"[案例号: CAS-{i:05d}-BENCH1] % |P3|ICBC|总行电脑蓝屏 % 初次响应")
            await console.line(f"第 {i} 台电脑昨晚又蓝屏了，今天上午再收集 dump。")
        rate = n / (time.perf_counter() - t0)
        await console.line("[案例号: CAS-04716-C3F2K9] % |P3|ICBC|总行 win10 神州网信政府版电脑蓝屏 % 初次响应")
        t0 = time.perf_counter()
        await console.line(f"upload {EXAMPLE} CAS-04716-C3F2K9")
        verdict = time.perf_counter() - t0
        return rate, verdict
    finally:
        desk.close()
        store.close()


async def main(n: int) -> None:
    need = need_dovecot  # noqa: F841 (raises Skipped without dovecot)
    mail_rate, mail_verdict = await mailbox_run(n)
    term_rate, term_verdict = await terminal_run(n)
    print(f"| measure | mailbox | terminal | ratio |\n|---|---|---|---|\n"
          f"| follow-ups handled ({n}) | {mail_rate:.1f} msg/s | {term_rate:.1f} msg/s | {mail_rate / term_rate:.2f}x |\n"
          f"| upload to verdict | {mail_verdict * 1000:.0f} ms (to the e-mail) | {term_verdict * 1000:.0f} ms "
          f"(printed) | {mail_verdict / term_verdict:.2f}x the time |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=40)
    asyncio.run(main(parser.parse_args().messages))

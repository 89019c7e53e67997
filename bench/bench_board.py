"""The board's list page with 10,000 open cases: time to first byte.

    .venv/bin/python bench/bench_board.py

Baseline in the same run: /healthz on the same server (no database, no
template), and the bare SQL that fetches the page's rows."""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

import aiohttp  # noqa: E402

from bench_desk import fill  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.server import App  # noqa: E402
from serving import serve  # noqa: E402


async def main() -> None:
    import random

    tmp = tempfile.mkdtemp()
    db = Path(tmp) / "board.db"
    fill(db, 10_000, 10_000, random.Random(3))
    app = App(Settings({"CRASHDESK_DB": str(db), "CRASHDESK_DATA_DIR": f"{tmp}/data"}), scheduler=False)
    server, base = await serve(app.web)
    cookie, _ = await app.platforms.board.open_session("bench", "console")

    async def ttfb(http, path) -> float:
        t0 = time.perf_counter()
        async with http.get(base + path) as r:
            await r.content.read(1)
            first = time.perf_counter() - t0
            await r.read()
            assert r.status == 200, r.status
        return first

    async with aiohttp.ClientSession(cookies={"crashdesk_session": cookie}) as http:
        await ttfb(http, "/")
        page = [await ttfb(http, "/") for _ in range(30)]
        filtered = [await ttfb(http, "/?priority=P3&customer=BANK7") for _ in range(30)]
        health = [await ttfb(http, "/healthz") for _ in range(30)]
        # A static file behind the session: the server-side session lookup
        # (one indexed row by its token's SHA-256) and nothing else.
        static = [await ttfb(http, "/static/board.css") for _ in range(30)]
    raw = sqlite3.connect(db)
    sql = []
    for _ in range(30):
        t0 = time.perf_counter()
        raw.execute("select count(*) from cases where status in ('open','observing')").fetchone()
        raw.execute("select * from cases where status in ('open','observing') order by opened_at, id limit 200").fetchall()
        sql.append(time.perf_counter() - t0)
    p50 = statistics.median
    print("10,000 open cases; the list page shows 200 at a time with the total count")
    print(f"  GET /                       TTFB p50 {p50(page) * 1000:6.1f} ms  max {max(page) * 1000:6.1f} ms")
    print(f"  GET /?priority&customer     TTFB p50 {p50(filtered) * 1000:6.1f} ms")
    print(f"  GET /healthz (baseline)     TTFB p50 {p50(health) * 1000:6.1f} ms   ratio {p50(page) / p50(health):.1f}x")
    print(f"  GET /static/board.css       TTFB p50 {p50(static) * 1000:6.1f} ms   ratio {p50(static) / p50(health):.1f}x"
          " (the session looked up in the database)")
    print(f"  bare SQL for the same rows       p50 {p50(sql) * 1000:6.1f} ms   ratio {p50(page) / p50(sql):.1f}x")
    await server.close()


if __name__ == "__main__":
    asyncio.run(main())

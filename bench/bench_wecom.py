"""WeCom callback answer latency under 100 concurrent callbacks.

    .venv/bin/python bench/bench_wecom.py [--concurrent 100] [--rounds 10]

`crashdesk serve`'s app on 127.0.0.1 with WeCom's API faked.  Each round
sends 100 encrypted, signed text callbacks at once (each a new MsgId, half
of them case commands) and, at the same moment, 100 /healthz requests; the
time to each answer is recorded.  WeCom's limit is 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

import aiohttp  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.server import App  # noqa: E402
from fakewecom import AES_KEY, AGENT_ID, CORP_ID, SECRET, TOKEN, FakeWeCom, text_message  # noqa: E402
from serving import latency_lines, serve, timed_get  # noqa: E402


async def main(concurrent: int, rounds: int) -> None:
    fake = FakeWeCom()
    fake_server, fake.base = await serve(fake.app)
    tmp = tempfile.mkdtemp()
    app = App(Settings({"WECOM_CORP_ID": CORP_ID, "WECOM_AGENT_ID": AGENT_ID, "WECOM_SECRET": SECRET,
                        "WECOM_TOKEN": TOKEN, "WECOM_ENCODING_AES_KEY": AES_KEY, "WECOM_API_URL": fake.base + "/cgi-bin/",
                        "CRASHDESK_DB": f"{tmp}/bench.db", "CRASHDESK_DATA_DIR": f"{tmp}/data"}), scheduler=False)
    server, url = await serve(app.web)
    callbacks, checks = [], []
    # Connections are reused (at most 100 open) so that the listen backlog,
    # not the server, is never what is measured.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as http:
        async def callback(i: int) -> float:
            text = "CAS-04716-C3F2K9" if i % 2 else f"case note CAS-04716-C3F2K9 ping {i}"
            query, body = fake.app_callback(text_message(f"user{i % 10}", text, f"{time.time_ns()}{i}"))
            t0 = time.perf_counter()
            async with http.post(url + "/wecom/callback?" + urlencode(query), data=body.encode()) as r:
                await r.read()
                assert r.status == 200
            return time.perf_counter() - t0

        query, body = fake.app_callback(text_message("user0", "case open CAS-04716-C3F2K9 P3 customer:X bench", "1"))
        async with http.post(url + "/wecom/callback?" + urlencode(query), data=body.encode()) as r:
            await r.read()
        await app.jobs.drain(60)
        for _ in range(rounds):
            results = await asyncio.gather(*[callback(i) for i in range(concurrent)],
                                           *[timed_get(http, url + "/healthz") for _ in range(concurrent)])
            callbacks.extend(results[:concurrent])
            checks.extend(results[concurrent:])
        pending = await app.store.call(lambda db: next(db.query("select count(*) as n from jobs where status != 'done'"))["n"])
    print(f"{rounds} rounds of {concurrent} concurrent callbacks + {concurrent} /healthz:")
    print("\n".join(latency_lines("/wecom/callback", callbacks, "/healthz", checks)))
    print(f"  answers sent so far through message/send: {len(fake.sent)}; jobs still queued: {pending} "
          f"(WeCom allows 30 messages a minute to one person: the rest wait their turn)")
    await server.close()
    await fake_server.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--concurrent", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=10)
    a = ap.parse_args()
    asyncio.run(main(a.concurrent, a.rounds))

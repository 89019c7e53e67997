"""Slack acknowledgement latency while uploads are being analysed.

    .venv/bin/python bench/bench_slack.py [--uploads 100]

`crashdesk serve`'s app (the real slack-bolt AsyncApp, real analysis worker
processes) listens on 127.0.0.1; Slack's Web API is faked.  100 uploads are
sent, then, while they are analysed, signed message events and /healthz
requests are timed.  Reported: p50/p99 of the /slack/events ack against
/healthz in the same run, and the time from an upload to its verdict for
the seed case on an idle server.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

import aiohttp  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.server import App  # noqa: E402
from fakeslack import SECRET, TOKEN, FakeSlack, event_body, message_event, sign  # noqa: E402
from serving import latency_lines, serve, timed_get  # noqa: E402

EXAMPLE = (ROOT / "examples" / "seed-shaped-thread.txt").read_bytes()


async def main(uploads: int) -> None:
    fake = FakeSlack()
    fake_server, fake.base = await serve(fake.app)
    tmp = tempfile.mkdtemp()
    settings = Settings({"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.base + "/api/",
                         "CRASHDESK_DB": f"{tmp}/bench.db", "CRASHDESK_DATA_DIR": f"{tmp}/data"})
    app = App(settings, scheduler=False)
    server, url = await serve(app.web)
    async with aiohttp.ClientSession() as http:
        async def signed(body: str) -> float:
            t0 = time.perf_counter()
            async with http.post(url + "/slack/events", data=body.encode(),
                                 headers={"Content-Type": "application/json", **sign(body)}) as r:
                await r.read()
                assert r.status == 200, r.status
            return time.perf_counter() - t0

        # Idle: upload-to-verdict for the seed case (worker processes warm first).
        warm = fake.add_file("FWARM", "warm.txt", EXAMPLE + b"\n#warm")
        await signed(event_body(message_event("warm", ts="1.000001", files=[warm]), "EvWarm"))
        await app.jobs.drain(120)
        seed = fake.add_file("FSEED", "seed.txt", EXAMPLE)
        t0 = time.perf_counter()
        await signed(event_body(message_event("seed", ts="2.000001", files=[seed]), "EvSeed"))
        while not any("Case verdict" in p.get("text", "") and p.get("thread_ts") == "2.000001" for p in fake.posts()):
            await asyncio.sleep(0.005)
        to_verdict = time.perf_counter() - t0

        # Loaded: 100 uploads queued, then pings while they are analysed.
        for i in range(uploads):
            f = fake.add_file(f"F{i:04d}", f"log{i}.txt", EXAMPLE + f"\n# copy {i}\n".encode())
            await signed(event_body(message_event("dump", ts=f"3.{i:06d}", files=[f]), f"EvU{i}"))
        acks, checks = [], []
        for i in range(200):
            acks.append(await signed(event_body(message_event("chatter", ts=f"4.{i:06d}"), f"EvP{i}")))
            checks.append(await timed_get(http, url + "/healthz"))
        busy = await app.store.call(lambda db: next(db.query("select count(*) as n from jobs where status != 'done'"))["n"])
        await app.jobs.drain(600)
    print(f"upload -> verdict, seed case, idle server: {to_verdict * 1000:.0f} ms")
    print(f"under load ({uploads} uploads queued; {busy} jobs still pending when the pings ended):")
    print("\n".join(latency_lines("/slack/events ack", acks, "/healthz", checks)))
    await server.close()
    await fake_server.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--uploads", type=int, default=100)
    asyncio.run(main(ap.parse_args().uploads))

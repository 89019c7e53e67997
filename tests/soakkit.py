"""The cluster soak: three ``crashdesk serve`` instances on one PostgreSQL
and one SeaweedFS, a fake Slack sending uploads and chat events to any of
them (again to another one when an instance does not answer, as Slack
retries, and some deliveries twice), one instance killed with SIGKILL in
the middle of the uploads and started again.  What must hold: every upload
gets exactly one verdict in its thread, every follow-up is logged once,
one digest per channel per day.

The size is a parameter: the test suite runs a small one, bench/ the full
one (1,000 uploads and 10,000 events)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from deskkit import serve
from fakeslack import SECRET, TOKEN, FakeSlack, event_body, message_event, sign
from servekit import ROOT, Instance

EXAMPLE = (ROOT / "examples" / "seed-shaped-thread.txt").read_bytes()
DIGEST_CHANNEL = "C0DIGEST"


def number(i: int) -> str:
    return f"CAS-{10000 + i:05d}-SOAK{i % 100:02d}"


@dataclass
class SoakResult:
    uploads: int
    events: int
    verdicts: dict[str, int]  # upload thread -> verdicts posted in it
    followups: dict[str, int]  # case -> follow-ups logged
    expected_followups: dict[str, int]
    digests: int
    seconds: float
    ack_ms: list[float] = field(default_factory=list)
    health_ms: list[float] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def problems(self) -> list[str]:
        out = []
        wrong = {t: n for t, n in self.verdicts.items() if n != 1}
        if wrong:
            out.append(f"{len(wrong)} upload(s) without exactly one verdict: {list(wrong.items())[:5]}")
        off = {c: (self.followups.get(c, 0), n) for c, n in self.expected_followups.items()
               if self.followups.get(c, 0) != n}
        if off:
            out.append(f"{len(off)} case(s) with follow-ups lost or doubled (got, want): {list(off.items())[:5]}")
        if self.digests != 1:
            out.append(f"{self.digests} digests in {DIGEST_CHANNEL}, not one")
        return out


class Cluster:
    def __init__(self, workdir: Path, env: dict[str, str], size: int = 3):
        self.instances = [Instance({**env, "TMPDIR": str(self._dir(workdir, f"tmp{i}"))}, workdir / f"serve{i}.log")
                          for i in range(size)]
        self.down: set[int] = set()
        self._next = 0

    @staticmethod
    def _dir(base: Path, name: str) -> Path:
        path = base / name
        path.mkdir(exist_ok=True)
        return path

    def pick(self, avoid: int | None = None) -> int:
        for _ in range(len(self.instances)):
            self._next = (self._next + 1) % len(self.instances)
            if self._next not in self.down and self._next != avoid:
                return self._next
        return next(i for i in range(len(self.instances)) if i not in self.down)


async def deliver(http: aiohttp.ClientSession, cluster: Cluster, event: dict, event_id: str,
                  acks: list[float], first: int | None = None) -> int:
    """Send as Slack does: to one instance, and again (with a retry header)
    to another when it fails or answers 5xx.  The instance that took it."""
    body = event_body(event, event_id)
    target = first if first is not None else cluster.pick()
    for attempt in range(20):
        headers = {"Content-Type": "application/json", **sign(body)}
        if attempt:
            headers |= {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_error"}
        t0 = time.perf_counter()
        try:
            async with http.post(cluster.instances[target].url + "/slack/events", data=body.encode(),
                                 headers=headers) as r:
                if r.status == 200:
                    acks.append((time.perf_counter() - t0) * 1000)
                    return target
        except aiohttp.ClientError:
            pass
        target = cluster.pick(avoid=target)
        await asyncio.sleep(0.05 * attempt)
    raise RuntimeError(f"event {event_id} was never acknowledged")


async def _probe_health(http, cluster: Cluster, stop: asyncio.Event, out: list[float]) -> None:
    while not stop.is_set():
        i = cluster.pick()
        t0 = time.perf_counter()
        try:
            async with http.get(cluster.instances[i].url + "/healthz") as r:
                if r.status == 200:
                    out.append((time.perf_counter() - t0) * 1000)
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)


def _counts(db_url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(db_url) as conn:
        rows = conn.execute("select cases.number, count(followups.id) from cases left join followups "
                            "on followups.case_id = cases.id group by cases.number").fetchall()
    return {n: c for n, c in rows}


async def run_soak(pg_url: str, weed_env: dict[str, str], workdir: Path, *, uploads: int, events: int,
                   kill: bool = True, deadline: float = 1800.0) -> SoakResult:
    fake = FakeSlack()
    server, fake.base = await serve(fake.app)
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.base + "/api/",
           "CRASHDESK_DB": pg_url, "CRASHDESK_STORAGE": f"s3://crashdesk-soak/{workdir.name}",
           "HOME": str(workdir), "CRASHDESK_JOB_LEASE": "5", "CRASHDESK_JOB_POLL": "0.5",
           "DIGEST_CHANNEL": DIGEST_CHANNEL, "DIGEST_TIME": "00:00", "TZ": "UTC", **weed_env}
    cluster = Cluster(workdir, env)
    acks: list[float] = []
    health: list[float] = []
    stop = asyncio.Event()
    started = time.monotonic()
    expected: dict[str, int] = {}
    threads: list[str] = []
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            for inst in cluster.instances:
                inst.start()
            for inst in cluster.instances:
                await inst.healthy(http)
            prober = asyncio.create_task(_probe_health(http, cluster, stop, health))
            # Phase 1: uploads, each opening its case; instance 0 killed half-way.
            for i in range(uploads):
                ts = f"1600000000.{i:06d}"
                file = fake.add_file(f"F{i:06d}", f"soak-{i}.txt", EXAMPLE + f"\n# upload {i}\n".encode())
                ev = message_event(f"[案例号: {number(i)}] % |P3|ICBC|soak {i} % 初次响应", ts=ts, files=[file])
                await deliver(http, cluster, ev, f"EvU{i}", acks)
                threads.append(ts)
                expected[number(i)] = 0
                if kill and i == uploads // 2:
                    cluster.instances[0].kill()
                    cluster.down.add(0)
            if kill:
                cluster.instances[0].start()
                await cluster.instances[0].healthy(http)
                cluster.down.discard(0)
            # Phase 2: notes on cases that exist; every tenth delivered twice.
            for _ in range(int(deadline * 10)):
                if len(_counts(pg_url)) >= uploads:
                    break
                await asyncio.sleep(0.1)
            for j in range(events):
                case = number(j % uploads)
                ev = message_event(f"case note {case} soak note {j}", ts=f"1600100000.{j:06d}")
                took = await deliver(http, cluster, ev, f"EvN{j}", acks)
                expected[case] += 1
                if j % 10 == 0:
                    await deliver(http, cluster, ev, f"EvN{j}", acks, first=cluster.pick(avoid=took))
            # Until everything is answered (or the deadline), then a moment
            # more: a doubled answer would come now.
            end = time.monotonic() + deadline
            while time.monotonic() < end:
                posted = _verdicts(fake, threads)
                if all(posted[t] >= 1 for t in threads) and _counts(pg_url) == expected:
                    break
                await asyncio.sleep(0.5)
            await asyncio.sleep(3.0)
            stop.set()
            await prober
        return SoakResult(uploads, events, _verdicts(fake, threads), _counts(pg_url), expected,
                          sum(1 for p in fake.posts() if p.get("channel") == DIGEST_CHANNEL),
                          time.monotonic() - started, acks, health, [i.log for i in cluster.instances])
    finally:
        stop.set()
        for inst in cluster.instances:
            inst.stop()
        await server.close()


def _verdicts(fake: FakeSlack, threads: list[str]) -> dict[str, int]:
    counts = dict.fromkeys(threads, 0)
    for p in fake.posts():
        thread = p.get("thread_ts")
        if thread in counts and "Case verdict" in (p.get("text") or ""):
            counts[thread] += 1
    return counts

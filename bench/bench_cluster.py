"""Several instances on one PostgreSQL and one SeaweedFS, against
baselines measured in the same run:

  throughput   N uploads analysed by 1, 2 and 3 `crashdesk serve`
               instances (each with its own worker pool), until the last
               verdict is posted, against the same N analyses submitted
               straight to a process pool of as many workers as cores
  ack latency  p50/p99 of the upload events' acknowledgements during that
               load, against GET /healthz on the same instances meanwhile
  MEMORY.DMP   one synthetic full-RAM bitmap dump analysed from object
               storage (ranged reads) against the same file on local disk:
               bytes read and time, as ratios
  soak         --soak: the cluster soak (tests/soakkit.py) at full size,
               1,000 uploads and 10,000 events, one instance SIGKILLed

    .venv/bin/python bench/bench_cluster.py [--uploads 60] [--soak]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from engines import Postgres, SeaweedFS  # noqa: E402
from serving import pct  # noqa: E402
from soakkit import EXAMPLE as SEED, Cluster, deliver, number, run_soak, _verdicts  # noqa: E402

EXAMPLE = SEED  # replaced in main() by a log of --input-kb


def _analyse_one(path: str) -> str:
    from handlers.worker import analyze_case_files

    verdict, _, _, _ = analyze_case_files([("upload.txt", path)], "en", None)
    return verdict["case"].get("vendor") or ""


def pool_rate(n: int, folder: Path) -> float:
    """Analyses per second straight on a process pool (the ceiling)."""
    paths = []
    for i in range(n):
        p = folder / f"pool-{i}.txt"
        p.write_bytes(EXAMPLE + f"\n# upload {i}\n".encode())
        paths.append(str(p))
    import multiprocessing

    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_analyse_one, paths[:2]))  # workers up, as the servers' are
        t0 = time.perf_counter()
        results = list(pool.map(_analyse_one, paths))
        elapsed = time.perf_counter() - t0
    assert all(results)
    return n / elapsed


async def cluster_rate(pg: Postgres, fs: SeaweedFS, size: int, n: int, workdir: Path):
    import aiohttp

    from deskkit import serve
    from fakeslack import SECRET, TOKEN, FakeSlack, message_event

    fake = FakeSlack()
    server, fake.base = await serve(fake.app)
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.base + "/api/",
           "CRASHDESK_DB": pg.empty_database(), "CRASHDESK_STORAGE": f"s3://crashdesk-bench/{workdir.name}",
           "HOME": str(workdir), **fs.env()}
    cluster = Cluster(workdir, env, size)
    acks: list[float] = []
    health: list[float] = []
    try:
        async with aiohttp.ClientSession() as http:
            for inst in cluster.instances:
                inst.start()
            for inst in cluster.instances:
                await inst.healthy(http)
            # Each instance's workers up first (the pool baseline's are too).
            warm = [f"1500000000.{i:06d}" for i in range(size * 2)]
            for i, ts in enumerate(warm):
                f = fake.add_file(f"W{i}", "warm.txt", EXAMPLE + f"\n# warm {i}\n".encode())
                await deliver(http, cluster, message_event(f"[案例号: {number(900 + i)}] % |P3|W|warm % x", ts=ts,
                                                           files=[f]), f"EvW{i}", [], first=i % size)
            while not all(v >= 1 for v in _verdicts(fake, warm).values()):
                await asyncio.sleep(0.1)
            threads = [f"1600000000.{i:06d}" for i in range(n)]
            stop = asyncio.Event()

            async def probe():
                while not stop.is_set():
                    for inst in cluster.instances:
                        t0 = time.perf_counter()
                        async with http.get(inst.url + "/healthz") as r:
                            await r.read()
                        health.append((time.perf_counter() - t0) * 1000)
                    await asyncio.sleep(0.02)

            prober = asyncio.create_task(probe())
            t0 = time.perf_counter()
            for i, ts in enumerate(threads):
                f = fake.add_file(f"F{i}", f"u{i}.txt", EXAMPLE + f"\n# upload {i}\n".encode())
                ev = message_event(f"[案例号: {number(i)}] % |P3|ICBC|bench {i} % x", ts=ts, files=[f])
                await deliver(http, cluster, ev, f"EvU{i}", acks)
            while not all(v >= 1 for v in _verdicts(fake, threads).values()):
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - t0
            stop.set()
            await prober
        return n / elapsed, acks, health
    finally:
        for inst in cluster.instances:
            inst.stop()
        await server.close()


def memory_dump(fs: SeaweedFS, workdir: Path) -> list[str]:
    for key, value in fs.env().items():
        os.environ[key] = value
    import dumpbuild as db
    from store.files import S3Files
    from test_binary_memory import PARAMS, machine

    from handlers.worker import analyze_case_files, open_stored

    local = workdir / "MEMORY.DMP"
    db.bitmap_dump(machine(), total_pages=256 * 1024, all_present=True, path=local, **PARAMS)  # 1 GiB of RAM

    def chunks():
        with open(local, "rb") as fh:
            while chunk := fh.read(8 << 20):
                yield chunk

    stored = S3Files("s3://crashdesk-bench/dumps").save("MEMORY.DMP", chunks())
    times = {}
    for label, where in (("local", str(local)), ("s3", stored.path)):
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            verdict, _, _, _ = analyze_case_files([("MEMORY.DMP", where)], "en", None)
            runs.append(time.perf_counter() - t0)
            assert verdict["dumps"][0]["culprit"]["module"] == "VSApiNt"
        times[label] = min(runs)
    piece = open_stored(stored.path)
    from analysis.binary.kernel import read_kernel_dump

    read_kernel_dump(piece.data, "MEMORY.DMP")
    size = local.stat().st_size
    return [f"  MEMORY.DMP of {size / 2**20:.0f} MiB: local {times['local'] * 1000:.0f} ms, "
            f"object storage {times['s3'] * 1000:.0f} ms ({times['s3'] / times['local']:.1f}x); "
            f"bytes read from object storage {piece.data.bytes_read / 2**20:.1f} MiB in {piece.data.requests} "
            f"ranged reads ({piece.data.bytes_read / size:.4f} of the object)"]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uploads", type=int, default=60)
    parser.add_argument("--input-kb", type=int, default=256, help="size of each uploaded WinDbg log")
    parser.add_argument("--soak", action="store_true", help="also the full-size soak (long)")
    parser.add_argument("--soak-uploads", type=int, default=1000)
    parser.add_argument("--soak-events", type=int, default=10000)
    args = parser.parse_args()
    global EXAMPLE
    # A log the size of a real session (the seed-shaped thread repeated with
    # its transcript; the same dumps, so the verdict is the seed's).
    EXAMPLE = (SEED * (args.input_kb * 1024 // len(SEED) + 1))[: args.input_kb * 1024]
    pg, fs = Postgres().start(), SeaweedFS().start()
    try:
        with tempfile.TemporaryDirectory(prefix="crashdesk-bench-") as tmp:
            work = Path(tmp)
            base = pool_rate(args.uploads, work)
            print(f"process pool ({os.cpu_count()} workers): {base:.1f} analyses/s")
            for size in (1, 2, 3):
                folder = work / f"c{size}"
                folder.mkdir()
                rate, acks, health = await cluster_rate(pg, fs, size, args.uploads, folder)
                print(f"{size} instance(s): {rate:.1f} analyses/s = {rate / base:.2f}x the pool; "
                      f"upload ack p50 {statistics.median(acks):.1f} ms p99 {pct(acks, 99):.1f} ms, "
                      f"/healthz meanwhile p50 {statistics.median(health):.1f} ms p99 {pct(health, 99):.1f} ms "
                      f"(p99 ratio {pct(acks, 99) / pct(health, 99):.1f}x)")
            for line in memory_dump(fs, work):
                print(line)
            if args.soak:
                folder = work / "soak"
                folder.mkdir()
                result = await run_soak(pg.empty_database(), fs.env(), folder, uploads=args.soak_uploads,
                                        events=args.soak_events, deadline=3600)
                print(f"soak: {args.soak_uploads} uploads, {args.soak_events} events, one instance killed: "
                      f"{result.seconds:.0f} s, problems: {result.problems() or 'none'}; ack p99 "
                      f"{pct(result.ack_ms, 99):.1f} ms vs /healthz p99 {pct(result.health_ms, 99):.1f} ms")
    finally:
        fs.stop()
        pg.stop()


if __name__ == "__main__":
    asyncio.run(main())

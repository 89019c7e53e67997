"""Text analysis speed, as ratios against a baseline measured in the same run.

    .venv/bin/python bench/bench_text.py [--logs 1000]

1. Throughput on a corpus of >= 1,000 logs of mixed sizes (1 KB to 1 MB),
   built from the test fixtures: `crashdesk`'s analysis vs just reading the
   bytes, decoding them and running one regex scan over them.
2. Latency of one 50 KB log (median of many runs).
3. Cold start of `crashdesk analyze` as a new process vs `python -c pass`.
4. A text just under the whole-text limit (8 MB) of memory-dump output
   (`dq`, `dd`, `dps` lines around one crash), against the same baseline scan.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.intake import Blob  # noqa: E402
from analysis.pipeline import analyze_blobs  # noqa: E402

_BASELINE = re.compile(r"^[ ]*([A-Za-z_][\w]*)", re.M)


def sources() -> list[bytes]:
    files = sorted((ROOT / "tests" / "fixtures").rglob("*.txt")) + [ROOT / "examples" / "seed-shaped-thread.txt"]
    return [f.read_bytes() for f in files if f.stat().st_size > 200]


def build_corpus(folder: Path, count: int, rng: random.Random) -> list[Path]:
    texts = sources()
    paths = []
    for i in range(count):
        # Mostly small pastes, some long session logs: 1 KB .. 1 MB, log-uniform.
        size = int(10 ** rng.uniform(3, 6))
        parts, total = [], 0
        while total < size:
            t = rng.choice(texts)
            parts.append(t)
            total += len(t)
        data = b"\n".join(parts)[:size]
        path = folder / f"log{i:04d}.txt"
        path.write_bytes(data)
        paths.append(path)
    return paths


def baseline(paths: list[Path]) -> float:
    t0 = time.perf_counter()
    for p in paths:
        text = p.read_bytes().decode("utf-8", "replace")
        sum(1 for _ in _BASELINE.finditer(text))
    return time.perf_counter() - t0


def ours(paths: list[Path]) -> float:
    t0 = time.perf_counter()
    for p in paths:
        analyze_blobs([Blob(p.name, p.read_bytes())])
    return time.perf_counter() - t0


def fifty_kb() -> tuple[float, float]:
    texts = sources()
    data = b"\n".join(texts)[: 50 * 1024]
    analyze_blobs([Blob("warm", data)])
    runs = []
    for _ in range(60):
        t0 = time.perf_counter()
        analyze_blobs([Blob("x", data)])
        runs.append(time.perf_counter() - t0)
    base = []
    for _ in range(60):
        t0 = time.perf_counter()
        sum(1 for _ in _BASELINE.finditer(data.decode("utf-8", "replace")))
        base.append(time.perf_counter() - t0)
    return statistics.median(runs), statistics.median(base)


def memory_dump_text() -> tuple[float, float, int]:
    """~8 MB of `dq`/`dd` output with a crash in front: parsed whole, every
    line a row of hex words that is not a stack frame."""
    from analysis.text import WHOLE_TEXT_LIMIT

    rng = random.Random(2)
    head = (b"BugCheck 1000007E, {ffffffffc0000005, fffff8048b58334c, ffff850429891ee8, ffff850429891720}\n"
            b"Probably caused by : amdppm.sys ( amdppm!C1Halt+0x2 )\n")
    rows, size, addr = [head], len(head), 0xFFFFF80255D5E000
    while size < WHOLE_TEXT_LIMIT - 200:
        words = [f"{rng.getrandbits(64):016x}" for _ in range(2)] if rng.random() < 0.5 else \
                [f"{rng.getrandbits(32):08x}" for _ in range(4)]
        row = (f"{addr >> 32:08x}`{addr & 0xFFFFFFFF:08x}  " + " ".join(words) + "\n").encode()
        rows.append(row)
        size += len(row)
        addr += 16
    data = b"".join(rows)
    t0 = time.perf_counter()
    outcome = analyze_blobs([Blob("dq.txt", data)])
    ours = time.perf_counter() - t0
    assert outcome.case.dumps, outcome.problems
    t0 = time.perf_counter()
    sum(1 for _ in _BASELINE.finditer(data.decode("utf-8", "replace")))
    return ours, time.perf_counter() - t0, len(data)


def cold_start() -> tuple[float, float]:
    exe = [sys.executable, "-m", "bot.cli", "analyze", str(ROOT / "examples" / "seed-shaped-thread.txt"), "--json"]
    bare = [sys.executable, "-c", "pass"]

    def best(cmd):
        times = []
        for _ in range(7):
            t0 = time.perf_counter()
            subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    return best(exe), best(bare)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--logs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3, help="runs of each measure; min and median of the ratios")
    ap.add_argument("--quick", action="store_true", help="corpus and 50 KB log only")
    args = ap.parse_args()
    ratios, speeds, bases = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        paths = build_corpus(Path(tmp), args.logs, random.Random(args.seed))
        total = sum(p.stat().st_size for p in paths)
        baseline(paths)  # warm the page cache for both
        for _ in range(args.runs):
            # Baseline and ours back to back in each run: on a shared machine
            # the load moves between runs more than within one.
            b = baseline(paths)
            o = ours(paths)
            ratios.append(o / b)
            speeds.append(total / 1e6 / o)
            bases.append(total / 1e6 / b)
    mb = total / 1e6
    print(f"corpus: {len(paths)} logs, {mb:.1f} MB, {args.runs} runs")
    print(f"  baseline (read+decode+regex scan): {statistics.median(bases):7.1f} MB/s (median)")
    print(f"  crashdesk analysis:                {statistics.median(speeds):7.1f} MB/s (median), "
          f"{max(speeds):.1f} best")
    print(f"  ratio to the baseline of the same run: min {min(ratios):.1f}x, median {statistics.median(ratios):.1f}x")
    lat = [fifty_kb() for _ in range(args.runs)]
    r50 = [a / b for a, b in lat]
    print(f"50 KB log: {statistics.median(a for a, _ in lat) * 1000:.2f} ms (baseline scan "
          f"{statistics.median(b for _, b in lat) * 1000:.2f} ms); ratio min {min(r50):.1f}x, "
          f"median {statistics.median(r50):.1f}x")
    if args.quick:
        return 0
    dq, dq_base, dq_size = memory_dump_text()
    print(f"{dq_size / 1e6:.1f} MB of dq/dd output: {dq:.2f} s (baseline scan {dq_base * 1000:.0f} ms, "
          f"ratio {dq / dq_base:.0f}x)")
    cold, bare = cold_start()
    print(f"cold start `crashdesk analyze` (python -m bot.cli): {cold * 1000:.0f} ms; "
          f"`python -c pass` {bare * 1000:.0f} ms; ratio {cold / bare:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

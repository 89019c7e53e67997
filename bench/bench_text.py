"""Text analysis speed, as ratios against a baseline measured in the same run,
in the CPU time of the process that does the work (--wall: wall-clock time;
the cold start is always wall-clock time).

    .venv/bin/python bench/bench_text.py [--logs 1000]

1. Throughput on a corpus of >= 1,000 logs of mixed sizes (1 KB to 1 MB),
   built from the test fixtures: `crashdesk`'s analysis vs just reading the
   bytes, decoding them and running one regex scan over them.
2. Latency of one 50 KB log (median of many runs).
3. Cold start of `crashdesk analyze` as a new process vs `python -c pass`.
4. A text just under the whole-text limit (8 MB) of memory-dump output
   (`dq`, `dd`, `dps` lines around one crash), against the same baseline scan.
5. One 8 MB text of real logs (tests/fixtures/real*, one after the other as
   a long session log), and one 8 MB text of distinct crashes (each its own
   bug check arguments, driver, bucket and stack): the cost of many crashes.
6. 100 MB of real logs with one crash of its own at the very end, read as
   it streams (past the whole-text limit), against a streamed baseline;
   the last crash must be in the verdict.
7. (--gb) the same at 1 GB in a child process: time and its own peak
   resident memory (VmHWM), next to a child that only streams the baseline.
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
from analysis.pipeline import Outcome, analyze_blobs  # noqa: E402

_BASELINE = re.compile(r"^[ ]*([A-Za-z_][\w]*)", re.M)
# The time this process spends computing (what another process on a shared
# machine takes does not count in it); --wall measures the wall clock.
clock = time.process_time


def bare_scan(data: bytes) -> int:
    """The baseline: decode the bytes and run one regex scan over them."""
    return sum(1 for _ in _BASELINE.finditer(data.decode("utf-8", "replace")))


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
    t0 = clock()
    for p in paths:
        bare_scan(p.read_bytes())
    return clock() - t0


def ours(paths: list[Path]) -> float:
    t0 = clock()
    for p in paths:
        analyze_blobs([Blob(p.name, p.read_bytes())])
    return clock() - t0


def fifty_kb() -> tuple[float, float]:
    texts = sources()
    data = b"\n".join(texts)[: 50 * 1024]
    analyze_blobs([Blob("warm", data)])
    runs = []
    for _ in range(60):
        t0 = clock()
        analyze_blobs([Blob("x", data)])
        runs.append(clock() - t0)
    base = []
    for _ in range(60):
        t0 = clock()
        bare_scan(data)
        base.append(clock() - t0)
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
    ours, base, outcome = timed_pair(data, "dq.txt")
    assert outcome.case.dumps, outcome.problems
    return ours, base, len(data)


def real_logs() -> list[bytes]:
    files = sorted((ROOT / "tests" / "fixtures").glob("real*/*.txt"))
    return [f.read_bytes() for f in files]


def repeated(parts: list[bytes], size: int) -> bytes:
    """Whole logs one after another up to ``size`` bytes."""
    out, total = [], 0
    while total < size:
        for part in parts:
            if total + len(part) + 1 > size:
                break
            out.append(part)
            total += len(part) + 1
        else:
            continue
        break
    return b"\n".join(out)


def distinct_crash(i: int) -> bytes:
    """One !analyze block of its own: arguments, driver, bucket, stack."""
    drv = f"drv{i:05d}"
    frames = "".join(
        f"ffff{i:04x}`{0x5b3f6f00 + 8 * k:08x} fffff802`{0x4f000000 + 97 * i + k:08x} "
        f"{drv}!Routine{k}+0x{(i * 7 + k) & 0xfff:x}\n" for k in range(12))
    return (f"BugCheck D1, {{{i:x}, 2, 0, fffff806{i:08x}}}\n"
            f"Probably caused by : {drv}.sys ( {drv}!Routine0+0x{i & 0xfff:x} )\n\n"
            "DRIVER_IRQL_NOT_LESS_OR_EQUAL (d1)\n"
            f"Arg1: {i:016x}, memory referenced\nArg2: 0000000000000002, IRQL\n"
            "Arg3: 0000000000000000, value 0 = read operation, 1 = write operation\n"
            f"Arg4: fffff806{i:08x}, address which referenced memory\n\n"
            f"STACK_TEXT:  \n{frames}\n"
            f"MODULE_NAME: {drv}\nIMAGE_NAME:  {drv}.sys\n"
            f"FAILURE_BUCKET_ID:  AV_{drv}!Routine0\nFAILURE_ID_HASH:  {{{i:08x}-0000-0000-0000-000000000000}}\n\n"
            ).encode()


def distinct_crashes(size: int) -> bytes:
    parts, total, i = [], 0, 1
    while True:
        part = distinct_crash(i)
        if total + len(part) > size:
            return b"".join(parts)
        parts.append(part)
        total += len(part)
        i += 1


def timed_pair(data: bytes, name: str) -> tuple[float, float, Outcome]:
    """The analysis of ``data`` and its baseline scan: (ours, baseline, outcome)."""
    t0 = clock()
    bare_scan(data)
    base = clock() - t0
    t0 = clock()
    outcome = analyze_blobs([Blob(name, data)])
    return clock() - t0, base, outcome


_LAST = (b"\nBugCheck 139, {3, ffffd20f1b4c6f70, ffffd20f1b4c6ec8, 0}\n"
         b"Probably caused by : lastcrash.sys ( lastcrash+0x1234 )\nMODULE_NAME: lastcrash\n")


def write_large(path: Path, size: int) -> None:
    """Real logs one after another up to ``size`` bytes, then a crash found
    nowhere else (its driver lastcrash.sys): written as it is made."""
    block = repeated(real_logs(), 8 * 1000 * 1000) + b"\n"
    with open(path, "wb") as fh:
        written = 0
        while written + len(block) <= size:
            fh.write(block)
            written += len(block)
        fh.write(block[: size - written])
        fh.write(_LAST)


_CHILD = """
import sys, time, codecs, re
sys.path.insert(0, sys.argv[1])
mode, path = sys.argv[2], sys.argv[3]
t0 = time.process_time()
if mode == "base":
    pattern = re.compile(r"^[ ]*([A-Za-z_][\\w]*)", re.M)
    dec = codecs.getincrementaldecoder("utf-8")("replace")
    tail = ""
    with open(path, "rb") as fh:
        while chunk := fh.read(4 * 1024 * 1024):
            text = tail + dec.decode(chunk)
            cut = text.rfind("\\n") + 1
            sum(1 for _ in pattern.finditer(text, 0, cut))
            tail = text[cut:]
    found = ""
else:
    from analysis.deadline import TimeBudget
    from analysis.intake import open_path
    from analysis.pipeline import analyze_blobs
    # Read whole, however long it takes (the default budget of an input
    # would stop a slow read and say how much of the text it covered).
    outcome = analyze_blobs([open_path(path)], TimeBudget(per_input=None))
    # The crash at the end is in the verdict, or the verdict says from
    # which line on crashes were left out (the limit of crashes a text gives).
    dumps = outcome.case.dumps
    found = "in-verdict" if any(r.module_name == "lastcrash" for r in dumps) else next(
        (n for n in dumps[0].notes if n.startswith("crashes_left:")), "") if dumps else ""
took = time.process_time() - t0
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
print(took, int(hwm) // 1024, found)
"""


def streamed(path: Path, mode: str) -> tuple[float, int, str]:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT), mode, str(path)], capture_output=True,
                         text=True, check=True).stdout.split()
    return float(out[0]), int(out[1]), out[2] if len(out) > 2 else ""


def large_shapes(runs: int, gb: bool) -> None:
    real = repeated(real_logs(), 8 * 1000 * 1000)
    distinct = distinct_crashes(8 * 1000 * 1000)
    for label, data in (("8 MB of real logs", real), ("8 MB of distinct crashes", distinct)):
        pairs = [timed_pair(data, "shape.txt") for _ in range(runs)]
        ratios = [a / b for a, b, _ in pairs]
        outcome = pairs[-1][2]
        print(f"{label} ({len(data) / 1e6:.1f} MB, {len(outcome.case.dumps)} crashes in the verdict): "
              f"{statistics.median(a for a, _, _ in pairs):.2f} s, "
              f"{len(data) / 1e6 / statistics.median(a for a, _, _ in pairs):.1f} MB/s; ratio to its scan min "
              f"{min(ratios):.1f}x, median {statistics.median(ratios):.1f}x")
    sizes = [(100 * 1000 * 1000, "100 MB")] + ([(1000 * 1000 * 1000, "1 GB")] if gb else [])
    with tempfile.TemporaryDirectory() as tmp:
        for size, label in sizes:
            path = Path(tmp) / "large.txt"
            write_large(path, size)
            shape_runs = runs if size <= 100 * 1000 * 1000 else 1
            pairs = [(streamed(path, "base"), streamed(path, "ours")) for _ in range(shape_runs)]
            ratios = [o[0] / b[0] for b, o in pairs]
            (b_t, b_mem, _), (o_t, o_mem, found) = pairs[-1]
            print(f"{label} of real logs, streamed, in a child: {o_t:.1f} s, {size / 1e6 / o_t:.1f} MB/s, "
                  f"peak RSS {o_mem} MB (baseline child {b_mem} MB); ratio to the streamed scan min "
                  f"{min(ratios):.1f}x, median {statistics.median(ratios):.1f}x; the crash at the end "
                  f"{'in the verdict' if found == 'in-verdict' else 'left out, said: ' + found if found else 'NOT FOUND'}")
            path.unlink()


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
    ap.add_argument("--gb", action="store_true", help="also a 1 GB text, streamed in a child (minutes)")
    ap.add_argument("--wall", action="store_true", help="wall-clock time instead of the process's CPU time")
    args = ap.parse_args()
    global clock
    if args.wall:
        clock = time.perf_counter
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
    from analysis import native

    print(f"compiled cores: {', '.join(native.LOADED) or 'none (pure Python)'}")
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
    large_shapes(args.runs, args.gb)
    cold, bare = cold_start()
    print(f"cold start `crashdesk analyze` (python -m bot.cli): {cold * 1000:.0f} ms; "
          f"`python -c pass` {bare * 1000:.0f} ms; ratio {cold / bare:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

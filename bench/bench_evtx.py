"""Event log reading speed and memory, against the evtx package measured in
the same run.

    .venv/bin/python bench/bench_evtx.py [--repeat 5] [--mb 100] [--big 500]

1. Records per second on the same files: the package's bare iteration
   (``PyEvtxParser(path).records_json()``, nothing done with a record) vs
   our reader (``read_evtx`` with the interpreter's wanted events: every
   record's id and provider looked at, the wanted ones decoded) vs the whole
   ``read_event_log`` (reader + interpreter + machine record).  Files: the
   real EC2 System log (7,857 records; 3% of them wanted), the real 17134 log
   (1,160; a quarter are Windows Update events, all decoded), and the
   generated large log (below).  Best of ``--repeat`` runs each.
2. A large event log analysed in bounded memory: ``--mb`` MB built from the
   real EC2 log's header and its 48 chunks repeated (each chunk as Windows
   wrote it, checksums intact; record numbers repeat, which the reader does
   not mind), analysed by ``crashdesk``'s pipeline in a child process that
   reports its own peak resident memory (VmHWM), next to a child that only
   imports the same modules.  ``--big`` adds the same at that size.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared" / "evtx"
if not SHARED.is_dir():
    SHARED = Path("/work/shared/evtx")
EC2 = SHARED / "system-ec2-unexpected-shutdown.evtx"
V17134 = SHARED / "system-win10-17134-vss.evtx"


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def build(path: Path, megabytes: int) -> None:
    src = EC2.read_bytes()
    chunks = (len(src) - 4096) // 65536
    body = src[4096 : 4096 + chunks * 65536]
    with path.open("wb") as f:
        f.write(src[:4096])
        while f.tell() < megabytes * 1024 * 1024:
            f.write(body)


def rates(path: Path, repeat: int) -> tuple[int, float, float, float]:
    import evtx

    from analysis.eventlog import read_event_log
    from analysis.eventlog.evtx_file import Span, read_evtx
    from analysis.eventlog.interpret import WANTED
    from analysis.intake import open_path

    count = sum(1 for _ in evtx.PyEvtxParser(str(path)).records_json())

    def bare() -> None:
        for _ in evtx.PyEvtxParser(str(path)).records_json():
            pass

    def reader() -> None:
        blob = open_path(str(path))
        for _ in read_evtx(blob.data, WANTED, Span()):
            pass
        blob.close()

    def whole() -> None:
        blob = open_path(str(path))
        read_event_log(blob)
        blob.close()

    # Alternate the three so that the machine's load falls on each alike.
    b, r, w = [], [], []
    for _ in range(repeat):
        b.append(best(bare, 1))
        r.append(best(reader, 1))
        w.append(best(whole, 1))
    return count, min(b), min(r), min(w)


CHILD = """
import sys, time
sys.path.insert(0, {root!r})
from analysis.pipeline import analyze_paths
from analysis.intake import open_path
from analysis.eventlog import read_event_log
import analysis.render.eventlog, evtx
t0 = time.perf_counter()
n = 0
if {path!r} and {mode!r} == "pipeline":
    n = analyze_paths([{path!r}]).context[0].records
elif {path!r}:
    n = read_event_log(open_path({path!r})).context[0].records
dt = time.perf_counter() - t0
hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]
print(n, dt, hwm)
"""


def child(path: str, mode: str = "reader") -> tuple[int, float, int]:
    out = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT), path=path, mode=mode)], capture_output=True,
                         text=True, check=True).stdout.split()
    return int(out[0]), float(out[1]), int(out[2])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--big", type=int, default=0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-evtx-") as tmp:
        large = Path(tmp) / f"large-{args.mb}.evtx"
        build(large, args.mb)
        print("| file | records | evtx bare iteration | our reader | ratio | read_event_log | ratio |")
        print("|---|---|---|---|---|---|---|")
        for label, path in (("EC2 System log (real)", EC2), ("17134 System log (real)", V17134),
                            (f"{args.mb} MB (EC2 chunks repeated)", large)):
            n, b, r, w = rates(path, args.repeat if path != large else max(2, args.repeat // 2))
            print(f"| {label} | {n:,} | {n / b:,.0f} rec/s | {n / r:,.0f} rec/s | {r / b:.2f}x "
                  f"| {n / w:,.0f} rec/s | {w / b:.2f}x |")
        print()
        print("| analysed in a child process | records | time | peak RSS (VmHWM) |")
        print("|---|---|---|---|")
        _, _, base = child("")
        print(f"| imports only (baseline) | - | - | {base / 1024:.0f} MB |")
        sizes = [(args.mb, large)]
        if args.big:
            big = Path(tmp) / f"big-{args.big}.evtx"
            build(big, args.big)
            sizes.append((args.big, big))
        for mb, path in sizes:
            for mode in ("reader", "pipeline"):
                n, dt, hwm = child(str(path), mode)
                what = "read_event_log" if mode == "reader" else "analyze_paths (with intake's sampled digest)"
                print(f"| {mb} MB .evtx, {what} | {n:,} | {dt:.1f} s | {hwm / 1024:.0f} MB "
                      f"(+{(hwm - base) / 1024:.0f} MB) |")


if __name__ == "__main__":
    main()

"""Two checkouts' text analysis on the same inputs, alternated input by
input: the CPU time each spends on each input, in two worker processes
that take turns (which goes first alternates too), so that a machine whose
speed drifts over seconds (a shared host) slows both alike.

    .venv/bin/python bench/ab.py OLD_TREE NEW_TREE [--logs 300] [--seed 1] [--rounds 3] [--shape corpus|real8|distinct8|fifty]

Printed per round: each tree's total, its ratio to the baseline scan
(bench_text.bare_scan) timed in the same worker on the same inputs, and
new/old; then the min and median over the rounds."""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

# bench_text puts its own checkout first on sys.path and imports the
# analysis from there: the worker forgets that analysis and puts the tree
# it measures first instead.
_WORKER = r"""
import sys, time
sys.path.insert(0, sys.argv[2])
import bench_text
sys.path.insert(0, sys.argv[1])
for name in [m for m in sys.modules if m == "analysis" or m.startswith("analysis.")]:
    del sys.modules[name]
import analysis
assert analysis.__file__.startswith(sys.argv[1]), analysis.__file__
from analysis.intake import Blob
from analysis.pipeline import analyze_blobs
analyze_blobs([Blob("warm", b"BugCheck 1A, {41792, 0, 0, 0}")])  # imports every reader (and its cores)
try:
    from analysis import native
except ImportError:  # a tree from before the cores
    native = None
print("cores:", ",".join(getattr(native, "LOADED", ())) or "none", flush=True)
clock = time.process_time
for line in sys.stdin:
    data = open(line.rstrip("\n"), "rb").read()
    t0 = clock(); bench_text.bare_scan(data); t1 = clock()
    analyze_blobs([Blob("input", data)]); t2 = clock()
    print(f"{t1 - t0} {t2 - t1}", flush=True)
"""


def inputs(shape: str, logs: int, seed: int, folder: Path) -> list[Path]:
    import bench_text

    if shape == "corpus":
        return bench_text.build_corpus(folder, logs, random.Random(seed))
    if shape == "fifty":
        data = b"\n".join(bench_text.sources())[: 50 * 1024]
        paths = []
        for i in range(logs):
            paths.append(folder / f"fifty{i}.txt")
            paths[-1].write_bytes(data)
        return paths
    data = (bench_text.repeated(bench_text.real_logs(), 8 * 1000 * 1000) if shape == "real8"
            else bench_text.distinct_crashes(8 * 1000 * 1000))
    path = folder / f"{shape}.txt"
    path.write_bytes(data)
    return [path] * logs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--logs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--shape", choices=("corpus", "real8", "distinct8", "fifty"), default="corpus")
    args = parser.parse_args()
    logs = args.logs if args.shape in ("corpus", "fifty") else min(args.logs, 5)
    with tempfile.TemporaryDirectory() as tmp:
        paths = inputs(args.shape, logs, args.seed, Path(tmp))
        workers = [subprocess.Popen([sys.executable, "-c", _WORKER, str(tree.resolve()), str(ROOT / "bench")],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                   for tree in (args.old, args.new)]

        for tree, worker in zip((args.old, args.new), workers):
            assert worker.stdout is not None
            print(f"{tree}: {worker.stdout.readline().strip()}", flush=True)

        def run(worker: subprocess.Popen, path: Path) -> tuple[float, float]:
            assert worker.stdin is not None and worker.stdout is not None
            worker.stdin.write(f"{path}\n")
            worker.stdin.flush()
            base, ours = worker.stdout.readline().split()
            return float(base), float(ours)

        for path in paths[:3]:  # warm both (imports, caches)
            run(workers[0], path), run(workers[1], path)
        ratios: list[float] = []
        for r in range(args.rounds):
            totals = [[0.0, 0.0], [0.0, 0.0]]
            for i, path in enumerate(paths):
                order = (0, 1) if (i + r) % 2 == 0 else (1, 0)
                for w in order:
                    base, ours = run(workers[w], path)
                    totals[w][0] += base
                    totals[w][1] += ours
            (ob, oo), (nb, no) = totals
            ratios.append(no / oo)
            print(f"round {r + 1}: old {oo:.3f} s ({oo / ob:.2f}x its baseline), new {no:.3f} s "
                  f"({no / nb:.2f}x its baseline); new/old {no / oo:.3f}", flush=True)
        for w in workers:
            assert w.stdin is not None
            w.stdin.close()
            w.wait()
    print(f"new/old: min {min(ratios):.3f}, median {statistics.median(ratios):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

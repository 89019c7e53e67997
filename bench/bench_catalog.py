"""First load of the reference tables, as a ratio against a baseline
measured in the same run.

    .venv/bin/python bench/bench_catalog.py [--runs 15]

Each run is a new process (the tables are read once per process, on first
use): it imports the catalog, then asks the questions a first verdict asks
(a driver, a path, a bug check, a framework), and prints how long that took.
The baseline, in the same kind of process, reads the same data files and
splits them into lines -- what any loader must at least pay.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_LOAD = r"""
import time
t0 = time.perf_counter()
from analysis import catalog
catalog.driver("VSApiNt"); catalog.is_third_party("nvlddmkm"); catalog.is_third_party("vmswitch")
catalog.vendor_from_text(r"C:\Program Files\Trend Micro\x.sys"); catalog.bugcheck(0x1A)
catalog.vendor_zh("Trend Micro"); catalog.family_key("AsiaInfo Security")
getattr(catalog, "framework", lambda name: None)("fltmgr")
print(time.perf_counter() - t0)
"""

_BASELINE = r"""
import time
t0 = time.perf_counter()
from pathlib import Path
n = 0
for p in sorted(Path("analysis/data").iterdir()):
    if p.suffix in (".csv", ".json", ".txt"):
        n += len(p.read_text(encoding="utf-8").splitlines())
print(time.perf_counter() - t0)
"""


def timed(code: str, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
        best = min(best, float(out.stdout.strip().splitlines()[-1]))
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    load = timed(_LOAD, args.runs)
    base = timed(_BASELINE, args.runs)
    rows = sum(1 for _ in open(ROOT / "analysis" / "data" / "drivers.csv", encoding="utf-8")) - 1
    print(f"drivers.csv rows: {rows}")
    print(f"first load (import + first questions), min of {args.runs}: {load * 1000:.1f} ms")
    print(f"baseline (read the data files, split lines): {base * 1000:.1f} ms")
    print(f"ratio: {load / base:.1f}x")


if __name__ == "__main__":
    main()

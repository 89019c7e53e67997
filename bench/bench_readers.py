"""The report readers and the event-log reader, as ratios against the baseline
of bench_text.py (read + decode + one regex scan) of the same corpus, in the
same run.

    .venv/bin/python bench/bench_readers.py [--logs 300] [--runs 4] [--seed 1]

Each run analyses every corpus log (analysis.pipeline.analyze_blobs) with
the two parts timed where the pipeline calls them (process time: the
machine is shared), then measures the baseline; the first run warms the
caches and is not counted.  Printed: the min and median over the other
runs of whole analysis / baseline, analysis.reports.read_reports /
baseline, analysis.eventlog.read_event_log / baseline, eventlog.sniff /
baseline, and of each report reader alone.  Then the same ratios of the
report readers alone on 1 MB of WinDbg logs without a report in them
(tests/fixtures/real* logs that no report reader reads, one after another):
what the readers cost a text that is not theirs.
"""

from __future__ import annotations

import argparse
import collections
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_text  # noqa: E402

import analysis.eventlog as eventlog  # noqa: E402
import analysis.pipeline as pipeline  # noqa: E402
import analysis.reports as reports  # noqa: E402
from analysis.intake import Blob  # noqa: E402

SPENT: collections.Counter[str] = collections.Counter()


def timed(function, label: str):
    def run(*args, **kwargs):
        start = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            SPENT[label] += time.process_time() - start
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logs", type=int, default=300)
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    # The pipeline imports these functions inside its functions: patching
    # the modules times every call it makes.
    eventlog.read_event_log = timed(eventlog.read_event_log, "event-log reader")  # type: ignore[assignment]
    eventlog.sniff = timed(eventlog.sniff, "event-log sniff")  # type: ignore[assignment]
    reports.read_reports = timed(reports.read_reports, "report readers")  # type: ignore[assignment]
    reports.READERS = tuple(timed(r, r.__name__) for r in reports.READERS)
    reports.read_blue_screen = timed(reports.read_blue_screen, "read_blue_screen")  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as folder:
        paths = bench_text.build_corpus(Path(folder), args.logs, random.Random(args.seed))
        logs = [(p.name, p.read_bytes()) for p in paths]
    size = sum(len(data) for _, data in logs)
    ratios: dict[str, list[float]] = collections.defaultdict(list)
    for run in range(args.runs + 1):
        SPENT.clear()
        start = time.process_time()
        for name, data in logs:
            pipeline.analyze_blobs([Blob(name, data)])
        whole = time.process_time() - start
        start = time.process_time()
        for _, data in logs:
            bench_text.bare_scan(data)
        base = time.process_time() - start
        print(f"run {run}: analysis {whole:.2f} s, baseline {base:.3f} s ({size / 1e6:.0f} MB)", flush=True)
        if run == 0:
            continue
        ratios["whole analysis"].append(whole / base)
        for label, spent in SPENT.items():
            ratios[label].append(spent / base)
    _print(ratios)
    windbg = bench_text.repeated([log for log in bench_text.real_logs() if not _read(log)], 1 << 20)
    text = windbg.decode("utf-8", "replace")
    ratios.clear()
    for run in range(args.runs + 1):
        SPENT.clear()
        start = time.process_time()
        bench_text.bare_scan(windbg)
        base = time.process_time() - start
        reports.read_reports(text, "windbg.txt")
        if run:
            for label, spent in SPENT.items():
                ratios[label].append(spent / base)
    print(f"1 MB of WinDbg logs without a report ({len(windbg) / 1e6:.1f} MB):")
    _print(ratios)
    return 0


def _print(ratios: dict[str, list[float]]) -> None:
    """Each part's min and median ratio, the costliest first."""
    for label, values in sorted(ratios.items(), key=lambda kv: -statistics.median(kv[1])):
        print(f"{label:24s} min {min(values):5.2f}x  median {statistics.median(values):5.2f}x  of the baseline")


def _read(log: bytes) -> bool:
    """Whether a report reader reads anything in the log."""
    return bool(reports.read_reports(log.decode("utf-8", "replace"), "x.txt"))


if __name__ == "__main__":
    sys.exit(main())

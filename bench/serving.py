"""What the server benchmarks share: an aiohttp app on 127.0.0.1 (the
tests' `serve`), timed requests, and percentiles reported against a
baseline of the same run.  The benches put tests/ on sys.path for the fakes."""

from __future__ import annotations

import statistics
import time

from deskkit import serve

__all__ = ["serve", "timed_get", "pct", "latency_lines"]


async def timed_get(http, url: str) -> float:
    t0 = time.perf_counter()
    async with http.get(url) as r:
        await r.read()
    return time.perf_counter() - t0


def pct(values, p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def latency_lines(label: str, samples, baseline_label: str, baseline) -> list[str]:
    """p50/p99 of ``samples`` and of the baseline, and their ratios."""
    width = max(len(label), len(baseline_label))

    def row(name, values):
        return (f"  {name:<{width}}  p50 {statistics.median(values) * 1000:6.1f} ms  "
                f"p99 {pct(values, 99) * 1000:6.1f} ms  max {max(values) * 1000:6.1f} ms")

    return [row(label, samples), row(baseline_label, baseline),
            f"  {'ratio':<{width}}  p50 {statistics.median(samples) / statistics.median(baseline):.1f}x"
            f"  p99 {pct(samples, 99) / pct(baseline, 99):.1f}x"]

"""Python's cycle collector held off while evidence is read.

A reader makes hundreds of thousands of small objects (line events, frames,
their tuples) that live until the crash they describe is assembled.  None of
them is in a cycle, so reference counting frees every one, but the cycle
collector, started every 700 new objects, walks the young ones and, every
so often, everything alive: on 8 MB of distinct crashes that was 40 % of the
analysis, on 8 MB of real logs 30 % (bench/README.md, stop 23).

The collector has only a process-wide switch, so the pause is counted: the
readings of several threads overlap, and the collector is switched back on
(if it was on) when the last of them ends.  When one ends while others go
on, the cycles made meanwhile are collected then (the youngest generation,
and the older ones in their turn, as the collector would), so that readings
that keep overlapping in a busy server do not hold garbage for ever."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused"]

_lock = threading.Lock()
_holders = 0
_was_on = False  # whether the collector was on when the first holder took it


@contextmanager
def paused() -> Iterator[None]:
    """The collector off for the block (and for as long as another thread's
    pause lasts)."""
    global _holders, _was_on
    with _lock:
        if _holders == 0:
            _was_on = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            last = _holders == 0
            if last and _was_on:
                gc.enable()
        if not last:
            _collect_young()


def _collect_young() -> None:
    """A pause's end while others go on: the collection the collector would
    have run by now.  Generation 0 alone each time left for ever what
    outlived one such collection (promoted, then garbage) in a server whose
    pauses always overlap; a manual collection counts towards the next
    generation's as an automatic one does, so the older generations are
    collected in their turn (tests/test_collector.py)."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    # (The oldest generation whose count of collections of the one before
    # is past its threshold, as gc's collect_generations chooses.)
    gc.collect(next((g for g in (2, 1) if counts[g] > thresholds[g]), 0))

"""The cycle collector's pause while evidence is read (analysis/collector.py)."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest

from analysis import collector
from analysis.intake import Blob
from analysis.pipeline import analyze_blobs


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


@pytest.fixture(autouse=True)
def _collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_the_collector_is_off_in_the_pause_and_on_again_after() -> None:
    with collector.paused():
        assert not gc.isenabled()
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still holds it
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with collector.paused():
        pass
    assert not gc.isenabled()


def test_the_collector_comes_back_after_an_error_in_the_pause() -> None:
    with pytest.raises(KeyError):
        with collector.paused():
            raise KeyError("x")
    assert gc.isenabled()


def test_overlapping_pauses_end_with_the_last_and_collect_when_one_ends() -> None:
    """Two threads' readings overlap: the collector stays off until the
    second ends, but the cycles made meanwhile are freed when the first does."""
    second_in, first_out = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def second() -> None:
        with collector.paused():
            second_in.set()
            first_out.wait()
            seen["on while second holds"] = gc.isenabled()

    t = threading.Thread(target=second)
    with collector.paused():
        t.start()
        second_in.wait()
        ref = weakref.ref(_Node())
        assert ref() is not None
    first_out.set()
    assert ref() is None
    t.join()
    assert seen["on while second holds"] is False
    assert gc.isenabled()


def test_the_analysis_leaves_the_collector_as_it_found_it() -> None:
    analyze_blobs([Blob("x.txt", b"BugCheck D1, {0, 2, 0, fffff80612345678}\n")])
    assert gc.isenabled()
    gc.disable()
    analyze_blobs([Blob("x.txt", b"BugCheck D1, {0, 2, 0, fffff80612345678}\n")])
    assert not gc.isenabled()


def test_the_text_is_read_with_the_collector_off(monkeypatch) -> None:
    from analysis import text

    seen = []
    real = text.parse_text

    def parse_text(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(text, "parse_text", parse_text)
    analyze_blobs([Blob("x.txt", b"BugCheck D1, {0, 2, 0, fffff80612345678}\n")])
    assert seen == [False]


def test_reading_texts_leaves_no_cycle_for_the_paused_collector() -> None:
    """What the pause relies on: a text's reading is freed by reference
    counting alone.  A reading was a cycle (its grouper held its bound
    line_at), so in a batch each text, as sent and as cleaned, stayed until
    the batch's end: 40 texts of 4 MB peaked at 488 MB, 192 MB without it."""
    from pathlib import Path

    from analysis import text

    fixtures = sorted((Path(__file__).parent / "fixtures").rglob("*.txt"))[:30]
    blobs = [Blob(p.name, p.read_bytes()) for p in fixtures]
    large = b"BugCheck D1, {0, 2, 0, fffff80612345678}\nMODULE_NAME: x\n" + b"prose\n" * (text.WHOLE_TEXT_LIMIT // 6 + 1)
    blobs.append(Blob("large.txt", large))  # (read as it streams)
    analyze_blobs(blobs[:2])  # (what is made once: caches, imports)
    gc.collect()
    gc.disable()
    try:
        analyze_blobs(blobs)
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_pauses_that_always_overlap_collect_the_older_generations_in_turn() -> None:
    """A server whose readings always overlap (the collector never on): a
    cycle that outlives one pause's end is promoted by its collection, and
    becomes garbage later; it is freed at a later pause's end, as the
    collector would free it (it was kept for ever when each end collected
    the youngest generation alone)."""
    held, done = threading.Event(), threading.Event()

    def holder() -> None:
        with collector.paused():
            held.set()
            done.wait()

    t = threading.Thread(target=holder)
    t.start()
    held.wait()
    try:
        node = _Node()
        ref = weakref.ref(node)
        with collector.paused():
            pass  # (collected while node is alive: promoted)
        del node
        for _ in range(200):
            with collector.paused():
                pass
            if ref() is None:
                break
        assert ref() is None
        assert not gc.isenabled()
    finally:
        done.set()
        t.join()
    assert gc.isenabled()

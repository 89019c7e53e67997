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

"""A time budget per input (and for the whole case), checked by the readers
between pieces and in their long loops; the answer says what was cut.  The
clock is the test's own (each look at it is one second later), so nothing
here depends on how fast the machine is.  `crashdesk analyze` also has a
hard limit for a hang no reader can check."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.deadline import Deadline, TimeBudget
from analysis.intake import Blob
from analysis.pipeline import analyze_blobs
from analysis.render.doc import to_plain
from analysis.render.verdict import case_doc

ROOT = Path(__file__).resolve().parent.parent
FIRST = "BugCheck 1A, {41792, 1, 2, 3}\nMODULE_NAME: VSApiNt\n"
LAST = "BugCheck 139, {3, 4, 5, 0}\nMODULE_NAME: TmXPFlt\n"
LONG = (FIRST + "ab cd\n" * 100_000 + LAST).encode()


class StepClock:
    """Each look at the clock is one second after the last."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1
        return self.now


def test_a_deadline_within_another_ends_no_later():
    clock = StepClock()
    outer = Deadline(3, clock)
    inner = outer.within(100)
    assert not inner.expired()
    assert inner.expired()  # the outer deadline's moment
    assert not Deadline(None, clock).expired()


def test_the_time_running_out_in_a_text_keeps_what_was_read_and_says_so():
    outcome = analyze_blobs([Blob("long.txt", LONG)], TimeBudget(per_input=5, clock=StepClock()))
    assert [d.bugcheck.code for d in outcome.case.dumps] == [0x1A]  # the crash at the end was not reached
    d = outcome.case.dumps[0]
    assert "time_limit" in d.notes and d.partial
    # Where it stopped: the first line of a segment of the text not read.
    (at,) = [n for n in d.notes if n.startswith("time_limit_at:")]
    line, share = at.split(":")[1:]
    text = LONG.decode()
    assert 2 < int(line) < text.count("\n") and share == f"{(int(line) - 1) * 6 / len(text):.0%}"
    assert text.split("\n")[int(line) - 1] == "ab cd"
    en, zh = (to_plain(case_doc(outcome.case, lang)) for lang in ("en", "zh"))
    assert f"The time limit for this input ran out at line {int(line):,} ({share} of it read)" in en
    assert f"只读取到第 {line} 行（约 {share}）：之后的部分未纳入本结论" in zh


def test_the_time_running_out_between_blocks_of_a_large_text_names_the_line(monkeypatch):
    """A text read as it streams, the time out after its first block: the
    first line of the next block is where the reading stopped."""
    import analysis.text as reader

    monkeypatch.setattr(reader, "BLOCK", 4000)
    block = FIRST + "ab cd\n" * 1000
    looks = iter([False, False, False] + [True] * 100)

    class Once(Deadline):
        def expired(self) -> bool:
            return next(looks)

    found = reader.read_large_text([(block * 3).encode()], b"", "x", Once(None), size=len(block) * 3)
    (at,) = [n for n in found[0][0].notes if n.startswith("time_limit_at:")]
    # Three blocks were read but the last line of the third, which waits
    # for the next block: that line (as many as the three blocks' line ends).
    blocks = [b for b, _ in reader._blocks([block * 3])]
    assert len(blocks) > 3
    assert int(at.split(":")[1]) == sum(b.count("\n") for b in blocks[:3])


def test_an_input_the_case_had_no_time_left_for_is_named():
    budget = TimeBudget(per_input=None, total=20, clock=StepClock())
    outcome = analyze_blobs([Blob("long.txt", LONG), Blob("second.txt", LAST.encode())], budget)
    assert [d.source for d in outcome.case.dumps] == ["long.txt"]
    assert ("second.txt", "not read: the time limit for the analysis ran out") in outcome.problems


def test_members_of_an_archive_the_time_ran_out_in_are_counted():
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for i in range(50):
            z.writestr(f"log{i}.txt", f"BugCheck 1A, {{41792, {i + 1:x}, 2, 3}}\n")
    outcome = analyze_blobs([Blob("logs.zip", buf.getvalue())], TimeBudget(per_input=30, clock=StepClock()))
    assert 0 < len(outcome.case.dumps) < 50
    assert any(source == "logs.zip" and "of its files not read: the time limit" in message
               for source, message in outcome.problems)


def test_without_a_budget_nothing_is_cut():
    outcome = analyze_blobs([Blob("long.txt", LONG)], TimeBudget(per_input=None))
    assert [d.bugcheck.code for d in outcome.case.dumps] == [0x1A, 0x139]
    assert not any("time_limit" in d.notes for d in outcome.case.dumps)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a FIFO to hang on")
def test_analyze_has_a_hard_time_limit_for_a_hang(tmp_path):
    """Opening a FIFO nobody writes to blocks forever in a system call: no
    reader can check a budget there, the hard limit still ends it."""
    fifo = tmp_path / "never-written"
    os.mkfifo(fifo)
    r = subprocess.run([sys.executable, "-m", "bot.cli", "analyze", str(fifo), "--time-limit", "1"], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 124
    assert "stopped after 1 s (--time-limit)" in r.stderr and "Traceback" not in r.stderr

"""Adversarial texts of growing size: the analysis must grow linearly with
them.  Ratios from one run, against a baseline measured on the same bytes.

    .venv/bin/python bench/bench_hostile.py [--base-kb 512] [--shape NAME]

Each shape (the patterns that once backtracked, the bombs of issue 16, and
others built to make a reader work per character) is analysed at 1x, 2x, 4x
and 8x its base size through the whole pipeline (analyze_blobs).  Printed
per size: seconds per MB, and that against the baseline (read the bytes,
decode them, one regex scan, as in bench_text.py), best of two.  The last
columns are the growth from 1x to 8x, of the seconds per MB and of the
ratio to the baseline -- about 1 when the cost is linear (cubic
backtracking made it 64).

The large-text shape (a single line over the whole-text limit) is run at
10/20/40/80 MB: it is read in windows, so its cost per MB should fall.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.deadline import TimeBudget  # noqa: E402
from analysis.intake import Blob  # noqa: E402
from analysis.pipeline import analyze_blobs  # noqa: E402

_BASELINE = re.compile(r"^[ ]*([A-Za-z_][\w]*)", re.M)
HEAD = "BugCheck 1A, {41792, fffffa8001234560, 0, 0}\nMODULE_NAME: VSApiNt\n"


_FRIENDLY_HEAD = ("- System\n\n  - Provider\n\n   [ Name]  Microsoft-Windows-Kernel-Power\n\n   EventID 41\n\n"
                  "  - TimeCreated\n\n   [ SystemTime]  2017-01-01T10:34:23.587306400Z\n\n- EventData\n\n"
                  + "".join(f"  {'A' * (65 + k)} 1\n" for k in range(64)))
_COMPUTER = ("Log Name: System\nSource: Microsoft-Windows-Kernel-Power\nDate: 7/13/2018 10:00:00 AM\nEvent ID: 41\n"
             "Level: Critical\nComputer: PC{i}\nDescription:\nThe system has rebooted {i}\n")


def _lines(line: str):
    return lambda size: HEAD + line * (size // len(line) + 1)


def _counted(make):
    return lambda size: HEAD + "".join(make(i) for i in range(size // len(make(0)) + 1))


SHAPES = {
    # Issue 16's reproductions.
    "frame blanks": _lines("ffffffff ffffffff" + " " * 2000 + ":(\n"),
    "html attributes": _lines("<p "),
    "bbcode values": _lines("[code="),
    "faulting_ip line": lambda size: HEAD + "FAULTING_IP:\nVSApiNt!" + "A" * size + "\n",
    "many crashes": _counted(lambda i: f"BugCheck 1A, {{{i + 1:x}, 1, 2, 3}}\n"),
    # Other patterns that tried every split of a run, or every position.
    "stop code blanks": _lines("Stop code" + " " * 2030 + "!\n"),
    "lm blanks": _lines("fffff801`00000000 fffff801`00100000 name" + " " * 2000 + "x(\n"),
    "bugcheck braces": _lines("BugCheck 1, {" * 150 + "\n"),
    "driver at fault": _lines("*** Driver at fault: " + "a." * 140 + "\n"),
    "missing image path": _lines("Unable to load image " + "\\a" * 1000 + "\n"),
    "quote markers": _lines("> " * 1000 + "Arg1: 0000000000041792\n"),
    "glued fields": _lines("MODULE_NAME: nvlddmkmIMAGE_NAME: nvlddmkm.sys" * 40 + "\n"),
    "bold stars": _lines("**" * 1000 + "\n"),
    # Every piece of clean's ends with an open "<": its pieces joined for the tags' pass.
    "open angles on every line": _lines("a <- b </p> x < y \U0001f600\n"),
    "wrapped frames": _lines("fffff880`0331f5c8 fffff800`02ed6be9 : " + "00000000`0000000a " * 3 + "\n"),
    "hex words only": _lines("fffff801`cc98ce55 " * 100 + "\n"),
    "digit-led modules": _lines("ffffd000`2345fcd0 fffff800`1e1f4d2a : 00000000`00000001 : 360FsFlt+0x5678\n"),
    "17-digit arguments": _counted(lambda i: f"Arg{i % 4 + 1}: fffffee0{i:09x}\n"),
    "arg meaning wraps": _lines("Arg1: 0000000000041792, x\n" + "      wrapped meaning text\n" * 200),
    # Lines the walk reads in C since stop 24: one wrapped argument over the
    # whole text, names of missing modules over whole lines, a kernel
    # version's name at its longest, keys whose value is a fact, the label
    # scan's lines that open like a label.
    "one argument wrapped throughout": lambda size: HEAD + "Arg1: 1, x\n" + "   y\n" * (size // 5 + 1),
    "missing module names": _lines("*** WARNING: Unable to verify timestamp for " + "a.sys " * 330 + "\n"),
    "kernel version names": _lines("Windows " + "x " * 50 + " Kernel Version 12 Kernel Version x\n"),
    "key facts": _lines("    Key  : Bugcheck.Code.LegacyAPI\n    Value: 0x" + "`" * 400 + "1a,\n"),
    "label-like openings": _lines("Bug Check Cod x\nDump Filx\nbugcheck_code x\n"),
    # Event-log exports: a friendly view whose data is full and whose lines
    # start like many of its 64 names; a General-pane export of one event
    # per computer (each machine's name was searched for among them all).
    "friendly names sharing a start": lambda size: _FRIENDLY_HEAD + ("  " + "A" * 128 + "-\n") * (size // 131 + 1),
    "many computers": lambda size: "".join(_COMPUTER.format(i=i) for i in range(size // len(_COMPUTER) + 1)),
}
LARGE = "one line past the whole-text limit"


def _large(size: int) -> str:
    unit = "x" * 99_970 + " BugCheck 1A, {41792, 1, 2, 3} "
    return unit * (size // len(unit) + 1)


def timed(data: bytes) -> tuple[float, float]:
    """(analysis seconds, baseline seconds) for the same bytes."""
    t0 = time.perf_counter()
    analyze_blobs([Blob("hostile.txt", data)], TimeBudget(per_input=None))
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    sum(1 for _ in _BASELINE.finditer(data.decode("utf-8", "replace")))
    return ours, time.perf_counter() - t0


def run(name: str, make, sizes: list[int]) -> None:
    per_mb, ratios, cells = [], [], []
    for size in sizes:
        data = make(size).encode()[: size + len(HEAD)]
        ours, base = min((timed(data) for _ in range(2)), key=lambda pair: pair[0])
        mb = len(data) / 1e6
        per_mb.append(ours / mb)
        ratios.append(ours / max(base, 1e-9))
        cells.append(f"{ours / mb:6.3f} s/MB {ratios[-1]:5.0f}x")
    # Growth both raw and against the baseline of the same moment (the
    # second is steadier on a shared machine: both see the same load).
    print(f"{name:36s} " + " | ".join(cells) + f" | {per_mb[-1] / per_mb[0]:4.2f} {ratios[-1] / ratios[0]:4.2f}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-kb", type=int, default=512)
    ap.add_argument("--shape", help="run only this shape")
    args = ap.parse_args()
    base = args.base_kb * 1024
    print(f"{'shape':36s} " + " | ".join(f"{f'{base * k // 1024} KB':>17s}" for k in (1, 2, 4, 8)) + " | 8x / 1x")
    print(f"{'':36s} " + " | ".join(f"{'s/MB  vs baseline':>17s}" for _ in range(4)) + " | s/MB ratio")
    for name, make in SHAPES.items():
        if args.shape in (None, name):
            run(name, make, [base * k for k in (1, 2, 4, 8)])
    if args.shape in (None, LARGE):
        run(LARGE + " (10-80 MB)", _large, [10 * 2**20 * k for k in (1, 2, 4, 8)])
    return 0


if __name__ == "__main__":
    sys.exit(main())

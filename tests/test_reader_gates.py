"""The report and event-log readers read only the lines their literal
marks find (issue 14); each is checked here against the straightforward
read of every line that it replaced (kept below as the reference), on
texts mixed from the fixtures' lines and lines made to sit on the marks'
edges: one delimiter short, a mark in another case, a carriage return,
a line past the length the readers cut at."""

from __future__ import annotations

import csv
import random
from pathlib import Path

from analysis.reports import bluescreenview as bsv
from analysis.reports.common import MAX_CRASHES, MAX_LINE, MAX_VALUE, forget, lines

FIXTURES = Path(__file__).resolve().parent / "fixtures"

_EDGES = [
    "a\tb", "a\tb\tc", "\t\t", " \t \t ", "x,y", "x,y,z", ",,", '"a,b",c', '"a\tb"\tc', "Dump File\tCrash Time\tBug Check Code",
    "Dump File,Crash Time,Bug Check String,Bug Check Code", "Filename\tAddress In Stack\tFrom Address\tTo Address",
    "Mini010121-01.dmp\t1/1/2021\tIRQL_NOT_LESS_OR_EQUAL\t0x0000000a\t1\t2\t3\t4\tntoskrnl.exe\tntoskrnl.exe+1",
    "Mini010121-01.dmp,1/1/2021,IRQL_NOT_LESS_OR_EQUAL,0x0000000a,1,2,3,4,ntoskrnl.exe,ntoskrnl.exe+1",
    "MINI.DMP x", "a.dmp 1/1/2021 IRQL_NOT_LESS_OR_EQUAL 0x0000000a 0x1 0x2 0x3 0x4 x.sys x.sys+12", "\r", "a,b\r,c",
    "Bug Check Code : 0x0000000a", "==========", "", "x" * (MAX_LINE - 1) + "\t\t", "y" * (MAX_LINE + 3) + ",a,b",
    "a\tb\r\tc", "Caused By Driver,ntoskrnl.exe,x", "\x85\t\x85\t",
]


def _fixture_lines() -> list[str]:
    out = []
    for path in sorted(FIXTURES.rglob("*.txt")):
        out.extend(path.read_bytes().decode("utf-8", "replace").split("\n"))
    return out


def texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    pool = _fixture_lines()
    made = []
    for _ in range(count):
        rows = [rng.choice(_EDGES) if rng.random() < 0.3 else rng.choice(pool) for _ in range(rng.randint(1, 200))]
        ends = rng.choice(["\n", "\r\n", "\n", "\r\r\n"])
        made.append(ends.join(rows) + rng.choice(["", "\n", "\r"]))
    return made


# ------------------------------------------------------------- references

def delimited_every_line(text: str) -> list[dict[str, str]]:
    """bluescreenview._delimited_records as it was: csv.reader on every line."""
    rows = [line for line in lines(text) if line.strip()]
    out: list[dict[str, str]] = []
    header: list[str | None] | None = None
    for line in rows:
        delim = "\t" if "\t" in line else ","
        try:
            cells = next(csv.reader([line], delimiter=delim))
        except (csv.Error, StopIteration):
            continue
        keys = [bsv.label_key(c) for c in cells]
        if sum(k is not None for k in keys) >= 3:
            header = keys
            continue
        if header is not None and len(cells) >= 3:
            out.append({k: v.strip()[:MAX_VALUE] for k, v in zip(header, cells) if k and v.strip()})
        elif bsv._looks_like_row(cells):
            out.append({k: v.strip()[:MAX_VALUE] for k, v in zip(bsv._DEFAULT_COLUMNS, cells) if v.strip()})
        if len(out) >= MAX_CRASHES:
            break
    return out


def flattened_every_line(text: str) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for line in lines(text):
        if ".dmp" not in line:
            continue
        start = line.find(bsv._HEADER_RUN)
        words = line[start + len(bsv._HEADER_RUN):].split() if start >= 0 else line.split()
        at = next((i for i, w in enumerate(words) if w.lower().endswith(".dmp")), None)
        if at is None:
            continue
        record = bsv._flattened(words[at:])
        if record:
            out.append(record)
        if len(out) >= MAX_CRASHES:
            break
    return out


def lines_every_line(text: str) -> list[str]:
    rows = text.split("\n")
    if rows and max(map(len, rows)) > MAX_LINE:
        return [line[:MAX_LINE].rstrip("\r") for line in rows]
    return [line.rstrip("\r") for line in rows]


# ------------------------------------------------------------------ tests

def test_lines_by_c_calls_are_the_lines_cut_one_by_one() -> None:
    for text in texts(300, 1) + ["a\r", "\r\r\n", "a\r\r", "\r", "", "x" * MAX_LINE + "\r\nb", "x" * MAX_LINE + "\r"]:
        forget()
        assert lines(text) == lines_every_line(text), text[:200]


def test_bluescreenview_delimited_rows_read_only_where_two_delimiters_are() -> None:
    for text in texts(400, 2):
        forget()
        assert bsv._delimited_records(text) == delimited_every_line(text), text[:200]


def test_bluescreenview_flattened_rows_read_only_where_a_dump_is_named() -> None:
    for text in texts(400, 3):
        forget()
        assert bsv._flattened_records(text) == flattened_every_line(text), text[:200]

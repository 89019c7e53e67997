"""A crash dump's header as tools print it: ``dumpchk`` ("DUMP_HEADER64:",
"MinorVersion 00004a66", "MachineImageType 00008664", "BugCheckCode
0000001a", "BugCheckParameter1 ..."), Volatility 2 ``crashinfo``
("_DMP_HEADER64:", "Minorversion: 0x00004a66 (19046)", "BugCheckCode
0x0000001a") and Volatility 3 ``windows.crashinfo`` (a header row of the
same names and a row of values).

The header says the bug check, its arguments, the build, the processor and
their count; it blames nobody (a dumpchk run that went on to ``!analyze``
is read, for that part, by the WinDbg reader)."""

from __future__ import annotations

import re

from analysis import catalog
from analysis.findings import Reading
from analysis.model import Kind, OsInfo
from analysis.reports.common import (
    Marks, Rows, add_identity, fold_words, folded, hex_int, hex_list, new_crash, search_at, set_bugcheck, walk_marked_begins,
)
from analysis.winbuilds import fill as fill_os

_KEYS = {
    "majorversion": "major", "minorversion": "minor", "machineimagetype": "machine",
    "numberprocessors": "processors", "bugcheckcode": "code", "bugcheckparameter1": "p1",
    "bugcheckparameter2": "p2", "bugcheckparameter3": "p3", "bugcheckparameter4": "p4",
    "kddebuggerdatablock": "kdbg", "bugcheckcodeparameter": "params",
}
# What a line with a header field holds (lowered): the lines without one are
# passed over unread.
_KEY_WORDS = ("majorversion", "minorversion", "machineimagetype", "numberprocessors", "bugcheckcode",
              "bugcheckparameter", "kddebuggerdatablock")
assert all(any(word in key for word in _KEY_WORDS) for key in _KEYS)
_WORD_KEYS = {folded: tuple(key for name, key in _KEYS.items() if word in name)
              for word, folded in zip(_KEY_WORDS, fold_words(_KEY_WORDS))}
_FOLDED_WORDS = tuple(_WORD_KEYS)
_MARKS = ("DUMP_HEADER", "_DMP_HEADER", "MachineImageType", "KdDebuggerDataBlock", "BugCheckParameter1")
_MARK_GATE = Marks(_MARKS)
_MACHINES = {0x8664: "x64", 0x14C: "x86", 0xAA64: "arm64"}
_LOADING = re.compile(r"Loading Dump File \[([^\]\n]{1,400})\]")
_DECIMAL = re.compile(r"\((\d{1,6})\)")
_BUGCHECK = re.compile(r"BugCheck (?:0x)?([0-9a-fA-F]{1,8}), \{([^}\n]{0,300})\}")


def _two_marks(text: str) -> bool:
    found = 0
    for _ in _MARK_GATE.present(text):
        found += 1
        if found == 2:
            return True
    return False


def read_dump_header(text: str, source: str) -> Reading | None:
    if not _two_marks(text):
        return None
    values: dict[str, str] = {}

    def needed(word: bytes) -> bool:
        # A field's first line is the one that counts.  A Volatility 3 row
        # fills only the fields it names, and holds each one's word.
        return any(key not in values for key in _WORD_KEYS[word])

    low = folded(text).low
    rows = Rows(text)
    for at in walk_marked_begins(low, _FOLDED_WORDS, 0, len(low), needed):  # (the rows not counted)
        line = rows.line_from(at)
        words = line.replace(":", " ").split()
        if len(words) >= 2:
            key = _KEYS.get(words[0].lower())
            if key and key not in values:
                values[key] = line.split(None, 1)[1].lstrip(": ").strip()
                continue
        if len(words) > 6 and "BugCheckCode" in words and rows.has_after(at):
            _table(words, rows.line_from(rows.next_begin(at)), values)  # Volatility 3: names in a row, values under them
    bugcheck_line = search_at(_BUGCHECK, text, "BugCheck ")
    code = _number(values.get("code"))
    args: list[int | None] = [hex_int(values.get(f"p{n}")) for n in range(1, 5)]
    if values.get("params") and not any(args):
        args = hex_list(values["params"])
    if bugcheck_line and (code is None or code == int(bugcheck_line[1], 16)):
        code = int(bugcheck_line[1], 16)
        if not any(a is not None for a in args):
            args = hex_list(bugcheck_line[2])
    if not code or _filler(code):
        # 0: a dump taken by a tool, no bug check recorded.  Four letters
        # ("MATT", "PAGE"): a converter's signature in a header it made
        # from a raw memory image, not a bug check.
        return None
    report, findings = new_crash(source, Kind.TOOL_REPORT)
    set_bugcheck(report, code, args)
    m = search_at(_LOADING, text, "Loading Dump File [")
    if m:
        report.dump_file = m[1].strip()
        add_identity(report, "loading", report.dump_file)
    os = OsInfo()
    minor = _number(values.get("minor"), decimal_ok=True)
    if minor and 2000 <= minor < 100000:
        os.build = minor
    machine = _number(values.get("machine"))
    os.arch = _MACHINES.get(machine or 0)
    report.os = fill_os(os)
    report.processors = _number(values.get("processors")) or None
    return Reading(crashes=[(report, findings)])


def _filler(code: int) -> bool:
    """A 'bug check' that is four ASCII letters and no known code."""
    if catalog.bugcheck(code) is not None or code > 0xFFFFFFFF:
        return False
    letters = code.to_bytes(4, "little")
    return all(65 <= b <= 90 or 97 <= b <= 122 for b in letters)


def _number(value: str | None, decimal_ok: bool = False) -> int | None:
    """'0x00004a66 (19046)' -> 19046; '00004a66' -> 0x4a66; '17134' -> 17134
    where decimal_ok and the hex reading would be no Windows build."""
    if not value:
        return None
    m = _DECIMAL.search(value)
    if m:
        return int(m[1])
    word = value.split()[0]
    number = hex_int(word)
    if decimal_ok and word.isdigit() and not word.startswith("0") and number is not None and number > 40000:
        return int(word)
    return number


def _table(names: list[str], row: str, values: dict[str, str]) -> None:
    cells = row.split("\t") if "\t" in row else row.split()
    if len(cells) < len(names) - 2:
        return
    for name, cell in zip(names, cells):
        key = _KEYS.get(name.lower())
        if key and key not in values and cell.strip():
            values[key] = cell.strip()

"""Resplendence WhoCrashed reports: a system information header
("Computer name:", "Windows version: ..., build: 19044 (x64)"), then one
block per crash ("On Tue 07/09/2021 ... your computer crashed or a problem
was reported", "crash dump file:", "This was probably caused by the
following module: x.sys (X+0x1234)", "Bugcheck code: 0x1A (...)",
"Error: NAME", "file path:", "product:", "company:", "description:"), and
the conclusion ("...look for an update for the following driver: x.sys").

Each block is a crash; its module line is a claim of WhoCrashed's."""

from __future__ import annotations

import re

from analysis.findings import Findings, Reading, Site
from analysis.model import DumpReport, Kind, ModuleInfo, OsInfo
from analysis.reports.common import (
    MAX_CRASHES, MAX_VALUE, Marks, Rows, add_identity, add_module, claim, code_from_words, hex_int, hex_list, image_name,
    fold_words, folded, marked_begins, walk_marked_begins,
    module_of, new_crash, set_bugcheck,
)
from analysis.winbuilds import fill as fill_os

TOOL = "WhoCrashed"

_MARKS = ("your computer crashed", "probably caused by the following module", "crash dump file:", "WhoCrashed",
          "Crash Dump Analysis")
_MARK_GATE = Marks(_MARKS)
_CRASH_START = ("your computer crashed", "a problem was reported")
# Words of the lines that may open a crash block or the conclusion, and of
# the lines that may hold a field of a block (each line holding one is still
# judged on its own).
_SPLIT = ("your computer crashed", "a problem was reported", "crash dump file:", "conclusion")
_FIELDS = ("following module", "bugcheck code", "bug check code", "crash dump file:", "error:", "file path:",
           "product:", "company:", "description:", "uptime:", "bugcheck name:")
# The fields a block's labelled lines fill, and each field word's: "error:" fills "error".
_KEYS = ("crash dump file", "error", "file path", "product", "company", "description", "uptime", "bugcheck name")
assert all(word[:-1] in _KEYS for word in _FIELDS if word.endswith(":"))
# As the folded copy holds them.
_SPLIT_WORDS, _FIELD_WORDS = fold_words(_SPLIT), fold_words(_FIELDS)
_MODULE_WORD, _FOLLOWING, _CODE_WORDS = b"probably caused by the following module", b"following module", (b"bugcheck code", b"bug check code")
_FIELD_OF = {word: word[:-1].decode() for word in _FIELD_WORDS}  # b"error:" fills "error"
_ON = re.compile(r"On (.{6,60}?) your computer crashed", re.I)
_MODULE = re.compile(r"probably caused by the following module:[ \t]*+([\w.$~-]{1,120})(?:[ \t]*+\(([^)\n]{0,200})\))?", re.I)
_CODE = re.compile(r"bug ?check code:[ \t]*+(0x[0-9a-fA-F]{1,8}|[0-9a-fA-F]{1,8})\b[ \t]*+(?:\(([^)\n]{0,200})\)?)?", re.I)
_BUILD = re.compile(r"build:?[ \t]*+(\d{4,5})\b", re.I)
_CONCLUSION_DRIVER = re.compile(r"^[ \t]*+([\w.$~-]{1,120}\.(?:sys|dll|exe))[ \t]*+(?:\(([^)\n]{0,200})\))?[ \t]*+$", re.I)


def read_whocrashed(text: str, source: str) -> Reading | None:
    if not _MARK_GATE.found(text):
        return None
    low_text = folded(text).low
    if _MODULE_WORD not in low_text and b"bugcheck code" not in low_text:
        return None
    rows = Rows(text)
    machine = _system(rows.head(200))
    # Blocks and the conclusion as spans of the folded text: only the lines
    # that may start or end one are looked at (found by one scan of it), and
    # the rows are not counted.
    spans: list[list[int]] = []  # each block: where it begins and where it ends
    conclusion: list[str] = []
    cur: int | None = None  # where the open block begins
    cur_dump = False  # the open block has its "crash dump file:" line
    conc: int | None = None  # where the open run of the conclusion begins
    stop = len(low_text) + 1  # where the last block and the conclusion end: past the last line's beginning
    for begin in marked_begins(low_text, _SPLIT_WORDS):
        line = rows.line_from(begin)
        low = line.lower()
        if any(mark in low for mark in _CRASH_START) or (low.startswith("crash dump file:") and (cur is None or cur_dump)):
            if len(spans) >= MAX_CRASHES:
                stop = begin
                break
            if cur is not None:
                spans[-1][1] = begin
            if conc is not None:
                conclusion.extend(rows.run_to(conc, begin, 200))
            cur, conc, cur_dump = begin, None, low.startswith("crash dump file:")
            spans.append([begin, stop])
            continue
        if low.strip() == "conclusion" or low.startswith("conclusion"):
            if cur is not None:
                spans[-1][1] = begin
            if conc is not None:
                conclusion.extend(rows.run_to(conc, begin, 200))
            cur, conc = None, low_text.find(b"\n", begin) + 1 or None  # (none after the last line: no run then)
            continue
        if cur is not None and low.startswith("crash dump file:"):
            cur_dump = True
    if cur is not None:
        spans[-1][1] = stop
    if conc is not None:
        conclusion.extend(rows.run_to(conc, stop, 200))
    reading = Reading()
    for begin, finish in spans:
        # A block's fields are searched within it only (a block ends where
        # a marked line begins, or at the end).
        crash = _crash(rows, low_text, begin, finish, source, machine)
        if crash is not None:
            reading.crashes.append(crash)
    if not reading.crashes:
        return None
    _conclusion(conclusion, reading)
    return reading


def _system(rows: list[str]) -> dict[str, object]:
    """Computer name, Windows build and architecture from the header."""
    out: dict[str, object] = {}
    for line in rows[:200]:
        low = line.lower().strip()
        if low.startswith("computer name:"):
            out["computer"] = line.split(":", 1)[1].strip()[:120] or None
        elif low.startswith("windows version:"):
            m = _BUILD.search(line)
            if m:
                out["build"] = int(m[1])
            out["arch"] = "x64" if "x64" in low else "x86" if "x86" in low else None
        elif "your computer crashed" in low:
            break
    return out


def _value(line: str) -> str:
    return line.split(":", 1)[1].strip()[:MAX_VALUE] if ":" in line else ""


def _crash(rows: Rows, low_text: bytes, begin: int, finish: int, source: str,
           machine: dict[str, object]) -> tuple[DumpReport, Findings] | None:
    """The crash of the block of lines that is low_text[begin:finish]
    (folded).  Only its rows that may hold a field are read (the others hold
    none), and each field's words are searched for until the field is
    filled: its first line is the one that counts."""
    fields: dict[str, str] = {}
    module_line = code_line = None
    first = rows.line_from(begin)  # (taken first: the lines are taken in order)

    def needed(word: bytes) -> bool:
        if word == _FOLLOWING:
            return module_line is None
        if word in _CODE_WORDS:
            return code_line is None
        return _FIELD_OF[word] not in fields

    for at in walk_marked_begins(low_text, _FIELD_WORDS, begin, finish, needed):
        line = rows.line_from(at)
        low = line.lower().strip()
        if "following module" in low and module_line is None:
            module_line = line
        elif low.startswith(("bugcheck code", "bug check code")) and code_line is None:
            code_line = line
            if "(" in line and ")" not in line and rows.has_after(at) and rows.next_begin(at) < finish:
                code_line += " " + rows.line_from(rows.next_begin(at)).strip()  # the argument list wrapped
        else:
            for key in _KEYS:
                if low.startswith(key + ":"):
                    fields.setdefault(key, _value(line))
                    break
    code_text, args_text = None, ""
    if code_line:
        m = _CODE.search(code_line)
        if m:
            code_text, args_text = m[1], m[2] or ""
    code, notes = code_from_words(code_text if code_text and code_text.lower().startswith("0x") else
                                  ("0x" + code_text if code_text else None),
                                  fields.get("error") or fields.get("bugcheck name"))
    if code is None and module_line is None:
        return None
    dump = fields.get("crash dump file")
    name = dump.rsplit("\\", 1)[-1] if dump else None
    report, findings = new_crash(f"{source}:{name}" if name else source, Kind.TOOL_REPORT)
    report.notes.extend(notes)
    set_bugcheck(report, code, hex_list(args_text))
    report.dump_file = dump
    add_identity(report, "loading", dump)
    m = _ON.search(first)
    report.crash_time = m[1].strip() if m else None
    report.uptime = fields.get("uptime") or None
    report.computer = machine.get("computer")  # type: ignore[assignment]
    os = OsInfo(build=machine.get("build"), arch=machine.get("arch"))  # type: ignore[arg-type]
    report.os = fill_os(os)
    if module_line:
        m = _MODULE.search(module_line)
        image = image_name(m[1]) if m else None
        if image and image.lower() != "unknown":
            path = fields.get("file path")
            add_module(report, ModuleInfo(
                name=module_of(image), image=image if "." in image else None,
                path=path if path and path.lower().endswith(image.lower()) else None,
                company=fields.get("company") or None, product_name=fields.get("product") or None,
                description=fields.get("description") or None))
            claim(findings, image, module_line.strip(), TOOL)
            site = (m[2] or "").strip() if m else ""
            if site and "+" in site and hex_int(site.split("+", 1)[1]) is not None:
                findings.sites.append(Site(symbol=site))
            elif site and hex_int(site) is not None:
                findings.sites.append(Site(address=hex_int(site)))
    return report, findings


def _conclusion(rows: list[str], reading: Reading) -> None:
    """Drivers the conclusion names ("look for an update for the following
    driver: x.sys (Vendor)"): with a single crash, its claim gains the vendor's words."""
    named = []
    for line in rows[:200]:
        text = line.split("following driver", 1)[-1].lstrip(":s ").strip() if "following driver" in line else line
        m = _CONCLUSION_DRIVER.match(text)
        if m:
            named.append((m[1], (m[2] or "").strip()))
    if len(reading.crashes) != 1:
        return
    report, findings = reading.crashes[0]
    for image, words in named:
        info = report.module(image)
        if info is not None and words and not info.product_name:
            info.product_name = words[:MAX_VALUE]

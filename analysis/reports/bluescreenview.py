"""NirSoft BlueScreenView reports: the text export ("Dump File : ..."
records between lines of '='), the HTML report (a row per crash, or a
two-column table per crash), the CSV and tab-delimited exports with or
without their header line, a grid row copied with Ctrl+C (tabs, no
header), the German and Chinese translations of its field names, and the
lower pane (the drivers of one crash; those found in its stack carry an
"Address In Stack").

One row is one crash.  "Caused By Driver" is a claim of BlueScreenView's;
the drivers in the "Stack Address" fields (and the lower pane's stack
hits) go into the findings as a stack so the judge sees a third-party
driver even when BlueScreenView blamed ntoskrnl.exe."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from html.parser import HTMLParser

from analysis.findings import Findings, Reading, Site
from analysis.model import DumpReport, Frame, Kind, ModuleInfo, OsInfo, module_key
from analysis.reports.common import (
    MAX_CRASHES, MAX_VALUE, Marks, add_identity, add_module, address_frame, claim, code_from_words, hex_int, hex_list,
    BLANKS_RUN, Rows, folded, image_name, folded_label_pattern, label_begins, line_at, marked_begins, module_of, new_crash, set_bugcheck,
)
from analysis.reports.inventory import Inventory, InstalledDriver
from analysis.winbuilds import fill as fill_os

TOOL = "BlueScreenView"

# Field -> the names it goes by: English, German, Simplified Chinese (and
# the variants translators chose); compared lower-case, blanks collapsed.
_FIELDS: dict[str, tuple[str, ...]] = {
    "dump_file": ("dump file", "dump-datei", "dumpdatei", "转储文件", "转存文件", "dump 文件", "倾印文件"),
    "crash_time": ("crash time", "absturzzeit", "absturz-zeit", "崩溃时间", "故障时间", "蓝屏时间"),
    "bug_check_string": ("bug check string", "fehlerprüfungszeichenfolge", "fehlerprüfungs-zeichenfolge",
                         "bugcheck-string", "错误检查字符串", "蓝屏错误字符串", "错误字符串", "蓝屏字符串"),
    "bug_check_code": ("bug check code", "fehlerprüfungscode", "fehlerprüfungs-code", "bugcheck-code", "fehlercode",
                       "错误检查代码", "蓝屏错误代码", "错误代码", "蓝屏代码"),
    "parameter_1": ("parameter 1", "参数 1", "参数1"),
    "parameter_2": ("parameter 2", "参数 2", "参数2"),
    "parameter_3": ("parameter 3", "参数 3", "参数3"),
    "parameter_4": ("parameter 4", "参数 4", "参数4"),
    "caused_by_driver": ("caused by driver", "verursacht durch treiber", "verursachender treiber",
                         "由驱动程序引起", "引起的驱动程序", "导致的驱动程序", "起因驱动程序", "肇事驱动程序", "由此驱动程序导致"),
    "caused_by_address": ("caused by address", "verursacht durch adresse", "verursachende adresse",
                          "由地址引起", "引起的地址", "导致的地址", "起因地址", "肇事地址", "由此地址导致"),
    "file_description": ("file description", "dateibeschreibung", "文件描述", "文件说明"),
    "product_name": ("product name", "produktname", "产品名称", "产品名"),
    "company": ("company", "firma", "hersteller", "公司", "公司名称"),
    "file_version": ("file version", "dateiversion", "文件版本"),
    "processor": ("processor", "prozessor", "处理器"),
    "crash_address": ("crash address", "absturzadresse", "absturz-adresse", "崩溃地址", "故障地址"),
    "stack_address_1": ("stack address 1", "stapeladresse 1", "stack-adresse 1", "堆栈地址 1", "堆栈地址1", "栈地址 1"),
    "stack_address_2": ("stack address 2", "stapeladresse 2", "stack-adresse 2", "堆栈地址 2", "堆栈地址2", "栈地址 2"),
    "stack_address_3": ("stack address 3", "stapeladresse 3", "stack-adresse 3", "堆栈地址 3", "堆栈地址3", "栈地址 3"),
    "computer_name": ("computer name", "computername", "computer-name", "计算机名", "计算机名称", "电脑名称"),
    "full_path": ("full path", "vollständiger pfad", "kompletter pfad", "完整路径", "全路径"),
    "parameters": ("parameters", "parameter", "参数"),
    "processors_count": ("processors count", "processor count", "anzahl prozessoren", "prozessoranzahl", "处理器数量", "处理器数目", "处理器个数"),
    "major_version": ("major version", "hauptversion", "主版本", "主版本号"),
    "minor_version": ("minor version", "nebenversion", "unterversion", "次版本", "次版本号", "副版本"),
    "dump_file_size": ("dump file size", "dump-dateigröße", "größe der dump-datei", "转储文件大小"),
    "dump_file_time": ("dump file time", "dump-dateizeit", "zeit der dump-datei", "转储文件时间"),
    # The lower pane (drivers of the selected crash).
    "filename": ("filename", "file name", "dateiname", "文件名"),
    "address_in_stack": ("address in stack", "adresse im stapel", "adresse im stack", "堆栈中的地址", "栈中地址", "在堆栈中的地址"),
    "from_address": ("from address", "von adresse", "起始地址", "从地址"),
    "to_address": ("to address", "bis adresse", "结束地址", "到地址"),
    "size": ("size", "größe", "大小"),
    "time_stamp": ("time stamp", "zeitstempel", "时间戳"),
    "time_string": ("time string", "zeit-string", "zeitstring", "时间字符串"),
}
_BY_LABEL = {label: key for key, labels in _FIELDS.items() for label in labels}
# The columns of the upper pane in BlueScreenView's default order: what a
# headerless CSV or a copied grid row holds.
_DEFAULT_COLUMNS = (
    "dump_file", "crash_time", "bug_check_string", "bug_check_code", "parameter_1", "parameter_2", "parameter_3",
    "parameter_4", "caused_by_driver", "caused_by_address", "file_description", "product_name", "company",
    "file_version", "processor", "crash_address", "stack_address_1", "stack_address_2", "stack_address_3",
    "computer_name", "full_path", "processors_count", "major_version", "minor_version", "dump_file_size",
    "dump_file_time",
)
_LOWER_COLUMNS = (
    "filename", "address_in_stack", "from_address", "to_address", "size", "time_stamp", "time_string",
    "product_name", "file_description", "file_version", "company", "full_path",
)
# Fields only a crash row has (as opposed to the lower pane's driver rows).
_CRASH_KEYS = frozenset(("bug_check_code", "bug_check_string", "caused_by_driver", "crash_address", "parameter_1"))

# The upper pane's first headers as a tab-less paste prints them.
_HEADER_RUN = "Dump File Crash Time Bug Check String Bug Check Code"
# Cheap marks: one of these literal strings must be in the text.
_MARKS = (
    "Caused By Driver", "Bug Check Code", "Bug Check String", "caused by driver", "Caused by driver",
    "Verursacht durch", "Address In Stack", "Adresse im", "由驱动程序", "错误检查", "蓝屏错误", "堆栈地址",
    ".dmp\t", ".dmp,", '.dmp"', "<td", "<TD", _HEADER_RUN, "Caused by Driver",
)
_MARK_GATE = Marks(_MARKS, also=("bug check ",))
_HTML = Marks(("<td", "<TD"))  # its folded word searched by the gate already


# A line that may be "Label : value" of a known label, or a rule of '='.
_LABEL_LINE = folded_label_pattern(_BY_LABEL, also=BLANKS_RUN + b"=====", also_starts="=")


def label_key(label: str) -> str | None:
    norm = " ".join(label.strip().strip(":：").lower().split())
    return _BY_LABEL.get(norm)


def read_bluescreenview(text: str, source: str) -> Reading | None:
    if not _MARK_GATE.found(text):
        return None
    records: list[dict[str, str]] = []
    if _HTML.found(text):
        records = _html_records(text)
    if not records:
        records = _text_records(text)
    if not records:
        records = _delimited_records(text)
    if not records:
        records = _flattened_records(text)
    if not records:
        return None
    crashes = [r for r in records if _CRASH_KEYS & r.keys()]
    drivers = [r for r in records if "filename" in r and not (_CRASH_KEYS & r.keys())]
    reading = Reading()
    for record in crashes[:MAX_CRASHES]:
        crash = _crash(record, source)
        if crash is not None:
            reading.crashes.append(crash)
    if drivers:
        if len(reading.crashes) == 1:
            _lower_pane(drivers, *reading.crashes[0])
        else:
            # The lower pane belongs to whichever crash was selected: with
            # none or several in the text it is only what was loaded.
            reading.context.append(Inventory(source="bluescreenview", drivers=[_driver(r) for r in drivers]))
    return reading if reading.crashes or reading.context else None


# ------------------------------------------------------------------ shapes

def _text_records(text: str) -> list[dict[str, str]]:
    """'Label : value' lines; a line of '=' (or a repeated label) starts the next record."""
    records: list[dict[str, str]] = []
    cur: dict[str, str] = {}
    # The folded copy (the other readers search it too): the pattern is a
    # third cheaper there than in any case in the text itself.
    rows = Rows(text)
    for begin in label_begins(folded(text).low, _LABEL_LINE):  # the lines that may be a label's or a rule
        stripped = rows.line_from(begin).strip()
        if stripped.startswith("=====") and not stripped.strip("="):
            if cur:
                records.append(cur)
                cur = {}
            continue
        sep = _separator(stripped)
        if sep < 0:
            continue
        key = label_key(stripped[:sep])
        if key is None:
            continue
        if key in cur:
            records.append(cur)
            cur = {}
        cur[key] = stripped[sep + 1 :].strip()[:MAX_VALUE]
        if len(records) > MAX_CRASHES * 4:
            break
    if cur:
        records.append(cur)
    return [r for r in records if len(r) >= 2]


def _separator(line: str) -> int:
    """Where 'Label   : value' splits (a full-width colon in Chinese)."""
    for mark in (":", "："):
        pos = line.find(mark)
        if 0 < pos <= 60:
            return pos
    return -1


# Two tabs, or two commas, on one line.  Searched from a delimiter only (the
# search runs in C to each tab or comma, a try to the next one or the line's
# end): a line with one of each, prose or a two-column list, costs no Python
# step, as it did when each line with a tab or a comma was found by str.find
# and its delimiters counted (4 MB of such lines: 1.7 s; a pattern walking
# each line from its start: 0.26 s, and three times the cost on other text).
_TWO_DELIMITERS = (re.compile("\t[^\t\n]*+\t"), re.compile(",[^,\n]*+,"))


def _delimited_lines(text: str) -> Iterator[str]:
    """The lines that may split into three cells or more: two tabs, or two
    commas (the whole line's, uncut).  Only these are read (a line with
    fewer of its delimiter changes nothing)."""
    begins: set[int] = set()
    for pattern in _TWO_DELIMITERS:
        found = pattern.search(text)
        while found is not None:
            begins.add(text.rfind("\n", 0, found.start()) + 1)
            end = text.find("\n", found.end())
            found = pattern.search(text, end) if end >= 0 else None  # on from the next line
    for begin in sorted(begins):
        yield line_at(text, begin)


def _delimited_records(text: str) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    header: list[str | None] | None = None
    for line in _delimited_lines(text):
        if not line.strip():
            continue
        delim = "\t" if "\t" in line else ","
        try:
            cells = next(csv.reader([line], delimiter=delim))
        except (csv.Error, StopIteration):
            continue
        keys = [label_key(c) for c in cells]
        if sum(k is not None for k in keys) >= 3:
            header = keys
            continue
        if header is not None and len(cells) >= 3:
            out.append({k: v.strip()[:MAX_VALUE] for k, v in zip(header, cells) if k and v.strip()})
        elif _looks_like_row(cells):
            out.append({k: v.strip()[:MAX_VALUE] for k, v in zip(_DEFAULT_COLUMNS, cells) if v.strip()})
        if len(out) >= MAX_CRASHES:
            break
    return out


def _looks_like_row(cells: list[str]) -> bool:
    """A headerless upper-pane row: a .dmp name first and a hex bug check code fourth."""
    if len(cells) < 9:
        return False
    code = cells[3].strip()
    return cells[0].strip().lower().endswith(".dmp") and code.lower().startswith("0x") and hex_int(code) is not None


def _flattened_records(text: str) -> list[dict[str, str]]:
    """A grid row pasted where tabs became single blanks, often after the
    header row on the same line: the values are told apart by their look
    (a .dmp name, a NAME_IN_CAPITALS, 0x codes, image+offset addresses)."""
    out: list[dict[str, str]] = []
    for begin in marked_begins(text, (".dmp",)):
        line = line_at(text, begin)
        if ".dmp" not in line:
            continue
        start = line.find(_HEADER_RUN)
        words = line[start + len(_HEADER_RUN):].split() if start >= 0 else line.split()
        at = next((i for i, w in enumerate(words) if w.lower().endswith(".dmp")), None)
        if at is None:
            continue
        record = _flattened(words[at:])
        if record:
            out.append(record)
        if len(out) >= MAX_CRASHES:
            break
    return out


def _flattened(words: list[str]) -> dict[str, str] | None:
    r = {"dump_file": words[0]}
    i = 1
    time: list[str] = []
    while i < len(words) and not _is_name(words[i]) and not words[i].lower().startswith("0x"):
        time.append(words[i])
        i += 1
    if time:
        r["crash_time"] = " ".join(time)[:MAX_VALUE]
    if i < len(words) and _is_name(words[i]):
        r["bug_check_string"] = words[i]
        i += 1
    if i >= len(words) or hex_int(words[i]) is None or not words[i].lower().startswith("0x"):
        return None
    r["bug_check_code"] = words[i]
    i += 1
    for n in range(1, 5):
        if i < len(words) and hex_int(words[i]) is not None:
            r[f"parameter_{n}"] = words[i]
            i += 1
    if i < len(words) and "+" not in words[i] and image_name(words[i]) and "." in words[i]:
        r["caused_by_driver"] = words[i]
        i += 1
    if i < len(words) and address_frame(words[i]) is not None:
        r["caused_by_address"] = words[i]
        i += 1
    rest = words[i:]
    for w in rest:
        if w in ("x64", "x86", "32-bit", "64-bit", "ARM64"):
            r.setdefault("processor", w)
        elif "\\" in w and w.lower().endswith(".dmp"):
            r.setdefault("full_path", w)
        elif address_frame(w) is not None and "processor" in r:
            r.setdefault("crash_address", w)
    if "full_path" in r:
        tail = rest[rest.index(r["full_path"]) + 1 :]
        numbers = [w for w in tail if w.isdigit()]
        if len(numbers) >= 3:
            r["processors_count"], r["major_version"], r["minor_version"] = numbers[:3]
    return r


def _is_name(word: str) -> bool:
    return len(word) > 4 and "_" in word and word.replace("_", "").isalnum() and word.upper() == word


class _Tables(HTMLParser):
    """The cells of every table row; markup and scripts ignored."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._cells = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._close_cell()
            self._row = []
            if not self.tables:
                self.tables.append([])
            self.tables[-1].append(self._row)
        elif tag in ("td", "th"):
            self._close_cell()
            if self._row is not None and self._cells < MAX_CRASHES * 40:
                self._cell = []
                self._cells += 1
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th", "tr", "table"):
            self._close_cell()

    def handle_data(self, data: str) -> None:
        if self._cell is not None and sum(map(len, self._cell)) < MAX_VALUE:
            self._cell.append(data)

    def _close_cell(self) -> None:
        if self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
        self._cell = None


def _html_records(text: str) -> list[dict[str, str]]:
    parser = _Tables()
    try:
        parser.feed(text)
        parser.close()
    except (ValueError, AssertionError):
        return []
    out: list[dict[str, str]] = []
    for table in parser.tables:
        rows = [r for r in table if r]
        if not rows:
            continue
        keys = [label_key(c) for c in rows[0]]
        if sum(k is not None for k in keys) >= 3:
            for row in rows[1:]:
                out.append({k: v for k, v in zip(keys, row) if k and v})
            continue
        # Vertical: a label and its value per row.
        record = {}
        for row in rows:
            if len(row) >= 2:
                key = label_key(row[0])
                if key:
                    record[key] = row[1]
        if len(record) >= 2:
            out.append(record)
    return out[: MAX_CRASHES * 4]


# ----------------------------------------------------------------- records

def _crash(r: dict[str, str], source: str) -> tuple[DumpReport, Findings] | None:
    code, notes = code_from_words(r.get("bug_check_code"), r.get("bug_check_string"))
    if code is None and not r.get("caused_by_driver"):
        return None
    report, findings = new_crash(_label(source, r.get("dump_file")), Kind.TOOL_REPORT)
    report.notes.extend(notes)
    args = [hex_int(r.get(f"parameter_{n}")) for n in range(1, 5)]
    if not any(a is not None for a in args) and r.get("parameters"):
        args = hex_list(r["parameters"])  # "Parameters : a, b, c, d" as people retype the four
    set_bugcheck(report, code, args)
    report.dump_file = r.get("full_path") or r.get("dump_file")
    report.crash_time = r.get("crash_time")
    report.computer = r.get("computer_name") or None
    count = r.get("processors_count", "")
    report.processors = int(count) if count.isdigit() else None
    report.os = _os(r)
    add_identity(report, "loading", r.get("full_path"))
    driver = image_name(r.get("caused_by_driver"))
    if driver:
        info = add_module(report, ModuleInfo(
            name=module_of(driver), image=driver, company=r.get("company") or None,
            product_name=r.get("product_name") or None, file_version=r.get("file_version") or None,
            description=r.get("file_description") or None))
        claim(findings, driver, f"Caused By Driver: {r['caused_by_driver']}", TOOL)
        site = address_frame(r.get("caused_by_address"))
        if site is not None:
            findings.sites.append(Site(symbol=f"{info.name}+0x{site.offset or 0:x}"))
    crash_at = address_frame(r.get("crash_address"))
    stack = [f for f in (address_frame(r.get(f"stack_address_{n}")) for n in range(1, 4)) if f is not None]
    if stack:
        # Named frames (image+offset) as a debugger would print them, not
        # raw values: the judge weighs them as a stack.
        findings.stacks.append(stack)
        report.stack = stack
    if crash_at is not None and not findings.sites:
        findings.sites.append(Site(symbol=crash_at.label()))
    return report, findings


def _label(source: str, dump: str | None) -> str:
    """Each row is a crash of its own: named by its dump file within the report."""
    return f"{source}:{dump}" if dump else source


def _os(r: dict[str, str]) -> OsInfo:
    os = OsInfo()
    minor = r.get("minor_version", "")
    if minor.isdigit() and 2000 <= int(minor) < 100000:
        os.build = int(minor)
    cpu = r.get("processor", "").lower()
    os.arch = "x64" if "64" in cpu and "arm" not in cpu else "arm64" if "arm" in cpu else "x86" if cpu else None
    return fill_os(os)


def _lower_pane(drivers: list[dict[str, str]], report: DumpReport, findings: Findings) -> None:
    """The drivers of the one crash in the text: each loaded module, and a
    stack of those BlueScreenView found in the crash's stack."""
    hits = []
    for r in drivers:
        d = _driver(r)
        add_module(report, ModuleInfo(name=d.name, image=d.image, path=d.path, base=hex_int(r.get("from_address")),
                                      size=_size(r), timestamp=hex_int(r.get("time_stamp")),
                                      file_version=d.version, company=d.company, product_name=d.product,
                                      description=d.description))
        findings.loaded.append(module_key(d.name))
        at = r.get("address_in_stack")
        if at:
            # "tmxpflt.sys+1234" (or a bare address): BlueScreenView found
            # the driver in the crash's stack and highlighted it.
            frame = address_frame(at)
            hits.append(Frame(module=d.name, offset=frame.offset if frame else None,
                              return_address=None if frame else hex_int(at)))
    if hits:
        findings.stacks.append(hits)


def _driver(r: dict[str, str]) -> InstalledDriver:
    image = image_name(r.get("filename")) or r.get("filename", "?")[:120]
    return InstalledDriver(name=module_of(image), image=image, path=r.get("full_path") or None,
                           version=r.get("file_version") or None, date=r.get("time_string") or None,
                           company=r.get("company") or None, product=r.get("product_name") or None,
                           description=r.get("file_description") or None)


def _size(r: dict[str, str]) -> int | None:
    value = r.get("size", "").replace(",", "").replace(".", "").strip()
    if value.isdigit():
        return int(value)
    return hex_int(value)



"""What a machine has installed, from the listings people paste:
``driverquery`` (/fo csv, list or table, /v, /si, localised headers),
``systeminfo`` (OS, build, hotfixes, boot time, maker and model, BIOS;
Chinese and German labels too) and msinfo32 reports (the .nfo XML, UTF-16,
and its text export: "System Drivers" and "Signed Drivers").

No crash here: an ``Inventory`` goes into ``Reading.context`` for the case
verdict ("the fix is installed" / "not installed")."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from xml.parsers import expat

from analysis.findings import Reading
from analysis.model import module_key
from analysis.reports.common import MAX_VALUE, Marks, Rows, fold_words, folded, folded_label_pattern, label_begins, lines, marked_rows

MAX_DRIVERS = 5000
MAX_HOTFIXES = 2000
MAX_XML_ELEMENTS = 500_000
MAX_XML_CHARS = 64 * 1024 * 1024


@dataclass(slots=True)
class InstalledDriver:
    name: str  # module name without extension, as listed ("tmxpflt")
    image: str | None = None  # file name ("tmxpflt.sys")
    path: str | None = None
    version: str | None = None
    date: str | None = None  # as the listing wrote it (link date, driver date)
    company: str | None = None
    product: str | None = None
    description: str | None = None
    state: str | None = None  # "Running", "Stopped"
    start_mode: str | None = None  # "Boot", "System", "Auto", "Manual", "Disabled"
    signed: bool | None = None


@dataclass
class Inventory:
    """One machine's installed software as one listing stated it."""

    source: str  # "systeminfo" | "driverquery" | "msinfo32" | "bluescreenview"
    computer: str | None = None
    os_name: str | None = None
    os_version: str | None = None  # "10.0.17134"
    os_build: int | None = None
    boot_time: str | None = None
    manufacturer: str | None = None
    model: str | None = None
    bios: str | None = None
    arch: str | None = None
    hotfixes: list[str] = field(default_factory=list)  # "KB4343669", upper case
    drivers: list[InstalledDriver] = field(default_factory=list)

    def driver(self, name: str) -> InstalledDriver | None:
        key = module_key(name)
        return next((d for d in self.drivers if module_key(d.name) == key
                     or (d.image and module_key(d.image) == key)), None)

    def has_hotfix(self, kb: str) -> bool:
        wanted = kb.strip().upper()
        wanted = wanted if wanted.startswith("KB") else "KB" + wanted
        return wanted in self.hotfixes


_KB = re.compile(r"\bKB[ ]?(\d{6,8})\b", re.I)
_BUILD = re.compile(r"(\d++)\.(\d++)\.(\d{4,5})\b")


def _norm(label: str) -> str:
    return " ".join(label.strip().strip(":：").lower().split())


def _set_os_version(inv: Inventory, value: str) -> None:
    inv.os_version = inv.os_version or value[:MAX_VALUE]
    m = _BUILD.search(value)
    if m and inv.os_build is None:
        inv.os_build = int(m[3])


def _arch(value: str) -> str | None:
    low = value.lower()
    return "arm64" if "arm" in low else "x64" if "64" in low else "x86" if "86" in low or "32" in low else None


# ------------------------------------------------------------- systeminfo

_SYSTEMINFO: dict[str, str] = {
    **dict.fromkeys(("host name", "主机名", "主機名稱", "hostname"), "computer"),
    **dict.fromkeys(("os name", "os 名称", "作業系統名稱", "betriebssystemname"), "os_name"),
    **dict.fromkeys(("os version", "os 版本", "作業系統版本", "betriebssystemversion"), "os_version"),
    **dict.fromkeys(("system boot time", "系统启动时间", "系統開機時間", "systemstartzeit"), "boot_time"),
    **dict.fromkeys(("system manufacturer", "系统制造商", "系統製造商", "systemhersteller"), "manufacturer"),
    **dict.fromkeys(("system model", "系统型号", "系統型號", "systemmodell"), "model"),
    **dict.fromkeys(("bios version", "bios 版本", "bios-version"), "bios"),
    **dict.fromkeys(("system type", "系统类型", "系統類型", "systemtyp"), "arch"),
    **dict.fromkeys(("hotfix(s)", "hotfix(es)", "修补程序", "修補程式", "hotfixes"), "hotfixes"),
}
# A field's line never begins with a space or a tab (see _label_colon; the
# hotfixes' indented lines are read after their label's, not found).
_SYSTEMINFO_LINE = folded_label_pattern(_SYSTEMINFO, indented=False)
_SYSTEMINFO_MARKS = ("OS Name", "Hotfix(s)", "System Boot Time", "OS 名称", "修补程序", "系统启动时间",
                     "Betriebssystemname", "Hotfix(es)", "作業系統名稱", '"Host Name"', '"主机名"')
_SYSTEMINFO_GATE = Marks(_SYSTEMINFO_MARKS, also=("hotfix(",))


def read_systeminfo(text: str, source: str) -> Reading | None:
    if not _SYSTEMINFO_GATE.found(text):
        return None
    inv = Inventory(source="systeminfo")
    low = folded(text).low
    rows = Rows(text)
    header = next((r for r in rows.head(20) if r.count('","') >= 5), None)
    if header is not None:
        _systeminfo_csv(lines(text), inv)
    else:
        # Only the lines that may be a field's are read (each taken from
        # where the scan found it), and after the hotfixes' label every line
        # until the list ends: elsewhere a line changes nothing.
        current: str | None = None
        below = 0  # the lines that begin before it are read
        for begin in label_begins(low, _SYSTEMINFO_LINE):
            if begin < below:
                continue
            current = _systeminfo_line(inv, rows.line_from(begin), current)
            while current == "hotfixes" and rows.has_after(begin):
                begin = rows.next_begin(begin)
                current = _systeminfo_line(inv, rows.line_from(begin), current)
            below = begin + 1
    if not (inv.os_name or inv.os_build or inv.hotfixes or inv.computer):
        return None
    return Reading(context=[inv])


def _systeminfo_line(inv: Inventory, line: str, current: str | None) -> str | None:
    """One line of a systeminfo listing read into ``inv``; the field it
    leaves open (a hotfix list goes on in indented lines)."""
    colon = _label_colon(line)
    key = _SYSTEMINFO.get(_norm(line[:colon])) if colon > 0 else None
    if key is not None:
        _systeminfo_field(inv, key, line[colon + 1 :].strip())
        return key
    if current == "hotfixes" and line.startswith((" ", "\t")):
        _add_kbs(inv, line)
        return current
    if colon > 0 and not line.startswith((" ", "\t")):
        return None
    return current


def _label_colon(line: str) -> int:
    for mark in (":", "："):
        pos = line.find(mark)
        if 0 < pos <= 40 and not line.startswith((" ", "\t")):
            return pos
    return -1


def _systeminfo_field(inv: Inventory, key: str, value: str) -> None:
    value = value[:MAX_VALUE]
    if not value:
        return
    if key == "os_version":
        _set_os_version(inv, value)
    elif key == "hotfixes":
        _add_kbs(inv, value)
    elif key == "arch":
        inv.arch = inv.arch or _arch(value)
    elif getattr(inv, key) is None:
        setattr(inv, key, value)


def _add_kbs(inv: Inventory, text: str) -> None:
    for m in _KB.finditer(text):
        kb = "KB" + m[1]
        if kb not in inv.hotfixes and len(inv.hotfixes) < MAX_HOTFIXES:
            inv.hotfixes.append(kb)


def _systeminfo_csv(rows: list[str], inv: Inventory) -> None:
    """systeminfo /fo csv: a header row and a row per machine (the first is read)."""
    table = list(csv.reader(r for r in rows if r.strip()))
    if len(table) < 2:
        return
    for label, value in zip(table[0], table[1]):
        key = _SYSTEMINFO.get(_norm(label))
        if key:
            _systeminfo_field(inv, key, value.strip())


# ------------------------------------------------------------ driverquery

_DRIVER_COLUMNS: dict[str, str] = {
    **dict.fromkeys(("module name", "模块名", "模組名稱", "modulname"), "name"),
    **dict.fromkeys(("display name", "显示名称", "顯示名稱", "anzeigename"), "description"),
    **dict.fromkeys(("description", "描述", "beschreibung"), "description"),
    **dict.fromkeys(("start mode", "启动模式", "啟動模式", "startmodus", "starttyp"), "start_mode"),
    **dict.fromkeys(("state", "状态", "狀態", "status"), "state"),
    **dict.fromkeys(("link date", "链接日期", "連結日期", "linkdatum", "verknüpfungsdatum"), "date"),
    **dict.fromkeys(("path", "路径", "路徑", "pfad"), "path"),
    # driverquery /si
    **dict.fromkeys(("devicename", "device name", "设备名称", "gerätename"), "description"),
    **dict.fromkeys(("infname", "inf name", "inf 名称"), "inf"),
    **dict.fromkeys(("issigned", "is signed", "已签名", "signiert"), "signed"),
    **dict.fromkeys(("manufacturer", "制造商", "製造商", "hersteller"), "company"),
}
_DRIVERQUERY_MARKS = ("Module Name", "模块名", "Modulname", "模組名稱", "IsSigned", "InfName", "DeviceName")
_DRIVERQUERY_GATE = Marks(_DRIVERQUERY_MARKS)


def read_driverquery(text: str, source: str) -> Reading | None:
    if not _DRIVERQUERY_GATE.found(text):
        return None
    rows = lines(text)
    inv = Inventory(source="driverquery")
    # The header line (a prompt or a banner may come first).
    at = next((i for i in marked_rows(text, _DRIVERQUERY_MARKS) if any(mark in rows[i] for mark in _DRIVERQUERY_MARKS)),
              None)
    if at is not None:
        line = rows[at]
        rule = rows[at + 1] if at + 1 < len(rows) else ""
        if '","' in line or line.count(",") >= 2:
            _driverquery_csv(rows[at:], inv)
        elif "=" in rule and not rule.strip().strip("= "):
            _driverquery_table(line, rule, rows[at + 2 :], inv)
        else:
            _driverquery_list(rows[at:], inv)
    if not inv.drivers:
        return None
    return Reading(context=[inv])


def _driver_from(values: dict[str, str]) -> InstalledDriver | None:
    path = values.get("path") or None
    name = values.get("name") or ""
    if not name and values.get("inf") and path is None:
        # /si lists devices by INF; the device name stands for the driver.
        name = values.get("description", "")
    if not name:
        return None
    image = path.rsplit("\\", 1)[-1] if path and "\\" in path else None
    signed = values.get("signed", "").strip().lower()
    return InstalledDriver(
        name=name[:120], image=image, path=path, date=values.get("date") or None,
        description=values.get("description") or None, state=values.get("state") or None,
        start_mode=values.get("start_mode") or None, company=values.get("company") or None,
        signed=True if signed in ("true", "yes", "是", "ja") else False if signed in ("false", "no", "否", "nein") else None,
    )


def _add_driver(inv: Inventory, values: dict[str, str]) -> None:
    d = _driver_from(values)
    if d is not None and len(inv.drivers) < MAX_DRIVERS:
        inv.drivers.append(d)


def _driverquery_csv(rows: list[str], inv: Inventory) -> None:
    header: list[str | None] | None = None
    for cells in csv.reader(r for r in rows if r.strip()):
        keys = [_DRIVER_COLUMNS.get(_norm(c)) for c in cells]
        if sum(k is not None for k in keys) >= 2 and header is None or (header and keys == header):
            header = keys  # the header repeats in a multi-part listing
            continue
        if header is None:
            continue
        values: dict[str, str] = {}
        for k, v in zip(header, cells):
            if k and v.strip() and k not in values:
                values[k] = v.strip()[:MAX_VALUE]
        _add_driver(inv, values)
        if len(inv.drivers) >= MAX_DRIVERS:
            break


def _driverquery_table(header: str, rule: str, rows: list[str], inv: Inventory) -> None:
    """Fixed columns whose widths the '====' line under the header gives."""
    spans = [(m.start(), m.end()) for m in re.finditer(r"=++", rule)]
    keys = [_DRIVER_COLUMNS.get(_norm(header[a:b])) for a, b in spans]
    for line in rows:
        if not line.strip():
            continue
        values: dict[str, str] = {}
        for (a, b), k in zip(spans, keys):
            if k and k not in values:
                value = line[a : b + 1].strip()
                if value:
                    values[k] = value[:MAX_VALUE]
        _add_driver(inv, values)


def _driverquery_list(rows: list[str], inv: Inventory) -> None:
    """'Label: value' blocks, one per driver, each starting with the module name."""
    values: dict[str, str] = {}
    for line in rows:
        colon = _label_colon(line)
        key = _DRIVER_COLUMNS.get(_norm(line[:colon])) if colon > 0 else None
        if key is None:
            continue
        if key == "name" and values:
            _add_driver(inv, values)
            values = {}
        values.setdefault(key, line[colon + 1 :].strip()[:MAX_VALUE])
    if values:
        _add_driver(inv, values)


# -------------------------------------------------------------- msinfo32

_MSINFO_SUMMARY: dict[str, str] = {
    **dict.fromkeys(("os name", "os 名称", "作業系統名稱", "betriebssystemname"), "os_name"),
    **dict.fromkeys(("version", "版本", "betriebssystemversion"), "os_version"),
    **dict.fromkeys(("system name", "系统名称", "系統名稱", "systemname"), "computer"),
    **dict.fromkeys(("system manufacturer", "系统制造商", "系統製造商", "systemhersteller"), "manufacturer"),
    **dict.fromkeys(("system model", "系统型号", "系統型號", "systemmodell"), "model"),
    **dict.fromkeys(("system type", "系统类型", "系統類型", "systemtyp"), "arch"),
    **dict.fromkeys(("bios version/date", "bios 版本/日期", "bios-version/-datum"), "bios"),
}
_MSINFO_DRIVER: dict[str, str] = {
    **dict.fromkeys(("name", "名称", "名稱"), "name"),
    **dict.fromkeys(("description", "描述"), "description"),
    **dict.fromkeys(("file", "文件", "檔案", "datei"), "path"),
    **dict.fromkeys(("state", "状态", "狀態"), "state"),
    **dict.fromkeys(("start mode", "start_mode", "启动模式", "啟動模式", "startmodus"), "start_mode"),
    # Signed Drivers
    **dict.fromkeys(("device name", "device_name", "设备名称", "裝置名稱", "gerätename"), "device"),
    **dict.fromkeys(("signed", "已签名", "已簽署", "signiert"), "signed"),
    **dict.fromkeys(("driver version", "driver_version", "驱动程序版本", "驅動程式版本", "treiberversion"), "version"),
    **dict.fromkeys(("driver date", "driver_date", "驱动程序日期", "驅動程式日期", "treiberdatum"), "date"),
    **dict.fromkeys(("manufacturer", "制造商", "製造商", "hersteller"), "company"),
    **dict.fromkeys(("driver name", "driver_name", "驱动程序名称", "驅動程式名稱", "treibername"), "driver_name"),
}
_SYSTEM_DRIVERS = ("system drivers", "系统驱动程序", "系統驅動程式", "systemtreiber")
_SIGNED_DRIVERS = ("signed drivers", "签名驱动程序", "已签名的驱动程序", "已簽署的驅動程式", "signierte treiber")
_SUMMARY = ("system summary", "系统摘要", "系統摘要", "systemübersicht")
_MSINFO_MARKS = ("<MsInfo", "[System Drivers]", "[Signed Drivers]", "[System Summary]", "[系统摘要]",
                 "[系统驱动程序]", "System Information report written at", "系统信息报告")
_MSINFO_GATE = Marks(_MSINFO_MARKS, also=("[system ", "drivers]"))
# The lines of the text export read outside a known section: a heading, the system's name.
_MSINFO_ROW_WORDS = fold_words(("[", "system name:", "系统名称:", "系统名称："))


def read_msinfo(text: str, source: str) -> Reading | None:
    if not _MSINFO_GATE.found(text):
        return None
    inv = Inventory(source="msinfo32")
    if "<MsInfo" in text:
        prolog = text[: text.find("<MsInfo")]
        if "<!DOCTYPE" in prolog or "<!ENTITY" in prolog:
            raise XmlRefused("an XML document with a DTD or entity declarations (not expanded)")
        _msinfo_xml(text, inv)
    else:
        _msinfo_text(text, inv)
    if not (inv.drivers or inv.os_name or inv.os_build):
        return None
    return Reading(context=[inv])


def _section(name: str) -> str | None:
    low = _norm(name)
    if low in _SYSTEM_DRIVERS:
        return "system"
    if low in _SIGNED_DRIVERS:
        return "signed"
    if low in _SUMMARY:
        return "summary"
    return None


def _msinfo_row(inv: Inventory, section: str, values: dict[str, str]) -> None:
    if section == "summary":
        key = _MSINFO_SUMMARY.get(_norm(values.get("item", "")))
        value = values.get("value", "").strip()
        if key and value:
            _systeminfo_field(inv, key, value)
        return
    if len(inv.drivers) >= MAX_DRIVERS:
        return
    if section == "system":
        d = _driver_from({k: v for k, v in values.items() if k != "signed"})
        if d is not None:
            inv.drivers.append(d)
        return
    # A signed driver is a device's driver: named by its file where given.
    name = values.get("driver_name", "").strip()
    image = name if name.lower().endswith((".sys", ".dll")) else None
    signed = values.get("signed", "").strip().lower()
    inv.drivers.append(InstalledDriver(
        name=(image.rsplit(".", 1)[0] if image else name or values.get("device", "?"))[:120], image=image,
        version=values.get("version") or None, date=values.get("date") or None,
        company=values.get("company") or None, description=values.get("device") or None,
        signed=True if signed in ("true", "yes", "是", "ja") else False if signed in ("false", "no", "否", "nein") else None,
    ))


def _msinfo_text(text: str, inv: Inventory) -> None:
    """The text export: '[Section]' headings, then a tab-separated header and rows."""
    section: str | None = None
    header: list[str] | None = None
    rows = lines(text)
    # Outside a known section only a heading or the system's name counts:
    # the rows between are passed over unread.
    marked = marked_rows(folded(text).low, _MSINFO_ROW_WORDS)
    m = i = 0
    while i < len(rows):
        if section is None:
            while m < len(marked) and marked[m] < i:
                m += 1
            if m == len(marked):
                break
            i = marked[m]
        line = rows[i]
        i += 1
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section, header = _section(stripped[1:-1]), None
            continue
        if section is None and stripped.lower().startswith(("system name:", "系统名称:", "系统名称：")):
            inv.computer = inv.computer or stripped.split(":", 1)[-1].split("：", 1)[-1].strip()[:120] or None
        if section is None or not stripped:
            continue
        cells = [c.strip() for c in line.rstrip("\t").split("\t")]
        if header is None:
            header = [_norm(c) for c in cells]
            if section == "summary":
                header = ["item", "value"]
                if _norm(cells[0]) not in ("item", "项目", "項目", "element"):
                    _msinfo_row(inv, section, dict(zip(header, cells)))
            else:
                header = [_MSINFO_DRIVER.get(h, h) for h in header]
            continue
        _msinfo_row(inv, section, {k: v[:MAX_VALUE] for k, v in zip(header, cells)})


class XmlRefused(ValueError):
    """An XML document with a DTD or entity declarations: never expanded."""


def _msinfo_xml(text: str, inv: Inventory) -> None:
    """The .nfo: nested <Category name=...> holding <Data> rows whose child
    elements are the columns.  Parsed by expat with every DTD refused, so
    no entity is ever declared, let alone expanded (no bomb, no external file)."""
    # The declaration names UTF-16 while the text is already decoded.
    body = text[text.find("<MsInfo") :][:MAX_XML_CHARS]
    parser = expat.ParserCreate()
    sections: list[str | None] = []
    row: dict[str, str] | None = None
    field_name: str | None = None
    chunks: list[str] = []
    count = 0

    def refuse(*_args) -> int:
        raise XmlRefused("DTD or entity declaration in the document")

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal row, field_name, count
        count += 1
        if count > MAX_XML_ELEMENTS:
            raise XmlRefused("too many elements")
        if tag == "Category":
            sections.append(_section(attrs.get("name", "")))
        elif tag == "Data":
            row = {}
        elif row is not None:
            field_name = tag
            chunks.clear()

    def end(tag: str) -> None:
        nonlocal row, field_name
        if tag == "Category" and sections:
            sections.pop()
        elif tag == "Data":
            section = next((s for s in reversed(sections) if s), None)
            if row is not None and section is not None:
                if section == "summary":
                    _msinfo_row(inv, section, {"item": row.get("item", ""), "value": row.get("value", "")})
                else:
                    _msinfo_row(inv, section, {_MSINFO_DRIVER.get(k, k): v for k, v in row.items()})
            row = None
        elif row is not None and tag == field_name:
            row[_norm(tag.replace("_", " "))] = "".join(chunks).strip()[:MAX_VALUE]
            field_name = None

    def data(chars: str) -> None:
        if field_name is not None and sum(map(len, chunks)) < MAX_VALUE:
            chunks.append(chars)

    parser.StartDoctypeDeclHandler = refuse  # type: ignore[assignment]
    parser.EntityDeclHandler = refuse  # type: ignore[assignment]
    parser.UnparsedEntityDeclHandler = refuse  # type: ignore[assignment]
    parser.ExternalEntityRefHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    try:
        parser.Parse(body, True)
    except expat.ExpatError:
        pass  # a truncated report: keep what was read before the break

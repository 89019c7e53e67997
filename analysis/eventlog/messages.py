"""What an event's rendered message says, for the shapes that carry no
data fields (text and CSV exports): the message templates of the events a
crash case needs, in English, Chinese and German.

Every pattern is linear: bounded repeats, no nested quantifiers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from analysis.buckets import bucket_module, bucket_text  # noqa: F401  (read by interpret and the readers)
from analysis.eventlog.event import strip_marks

_HEX = r"0x[0-9A-Fa-f]{1,16}"
_BUGCHECK = re.compile(
    r"(?P<code>" + _HEX + r")\s{0,3}[(（]\s{0,3}(?P<a1>" + _HEX + r")\s{0,3},\s{0,3}(?P<a2>" + _HEX
    + r")\s{0,3},\s{0,3}(?P<a3>" + _HEX + r")\s{0,3},\s{0,3}(?P<a4>" + _HEX + r")\s{0,3}[)）]")
# "A dump was saved in: C:\Windows\MEMORY.DMP." / "已将转储的数据保存在: ..." /
# "Ein Speicherabbild wurde gespeichert in: ...": the path is what ends in .dmp.
_DUMP = re.compile(r"(?:[A-Za-z]:|%SystemRoot%|\\SystemRoot)\\[^\r\n<>\"|?*。，,]{0,260}?\.dmp", re.I)
# Every _DUMP match holds a backslash after the colon of "C:", the "%" of
# "%SystemRoot%" or the "t" of "\SystemRoot", at most 11 characters after
# its start: _DUMP is searched only from there (see ``hinted``; a backslash
# alone is in most of a path's places).
_DUMP_HINT = (re.compile(r"[:%Tt]\\"), 11)
_REPORT = re.compile(r"(?:Report\s?Id|报告\s?I[Dd]|Berichts?-?(?:ID|kennung))\s{0,3}[:：]\s{0,3}([0-9A-Za-z][0-9A-Za-z-]{0,63})")
_BUGCHECK_WORDS = ("bugcheck", "bug check", "检测错误", "fehlercode", "schwerwiegenden fehler", "stopfehler")


def hinted(pattern: re.Pattern[str], hint: tuple[re.Pattern[str], int], text: str, pos: int = 0) -> re.Match[str] | None:
    """``pattern.search(text, pos)`` for a pattern each of whose matches
    holds a match of ``hint[0]`` (a pattern without a cased letter, whose
    matches cannot overlap) beginning at most ``hint[1]`` characters after
    its own start.  A case-insensitive pattern of words has no first
    characters for the engine to skip to, so its search tries every word
    at every character of the text (30 ns a character for the WER bucket's
    seven); the hint's first characters are skipped to in C, and the whole
    pattern is tried only at the starts from ``hint[1]`` before each hint
    to it, in order: the first that matches is the leftmost match."""
    hint_pattern, back = hint
    tried = pos  # starts below this were tried
    for found in hint_pattern.finditer(text, pos):
        at = found.start()
        for start in range(max(tried, at - back), at + 1):
            m = pattern.match(text, start)
            if m is not None:
                return m
        tried = at + 1
    return None


@dataclass(slots=True)
class BugCheckText:
    code: int
    args: list[int]
    dump: str | None
    report_id: str | None


def bugcheck_message(text: str | None) -> BugCheckText | None:
    """'... The bugcheck was: 0x0000001a (0x41790, 0x..., 0x..., 0x...). A
    dump was saved in: C:\\Windows\\MEMORY.DMP. Report Id: ...' and its
    Chinese and German forms."""
    if not text:
        return None
    text = text[:8192]
    m = _BUGCHECK.search(text)
    if not m:
        return None
    dump = hinted(_DUMP, _DUMP_HINT, text, m.end())
    report = _REPORT.search(text, m.end())
    return BugCheckText(
        code=int(m["code"], 16),
        args=[int(arg, 16) for arg in m.group("a1", "a2", "a3", "a4")],
        dump=dump[0] if dump else None,
        report_id=report[1].rstrip("-") if report else None,
    )


def has_bugcheck(text: str | None) -> bool:
    """``bugcheck_message(text) is not None``, without reading the dump
    and the report id after the code."""
    if not text:
        return False
    return _BUGCHECK.search(text[:8192]) is not None


def says_bugcheck(text: str | None) -> bool:
    low = (text or "")[:2000].lower()
    return any(w in low for w in _BUGCHECK_WORDS)


# Kernel-Power 41's fields where only text survived: the Details tab's
# friendly view ("BugcheckCode 159"), or "BugcheckCode: 159" in a paste.
_KP_CODE = re.compile(r"BugcheckCode\W{0,3}(\d{1,10})\b")
_KP_PARAM = re.compile(r"BugcheckParameter([1-4])\W{0,3}(" + _HEX + r")\b")


def kernel_power_fields(text: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if not text:
        return out
    m = _KP_CODE.search(text[:8192])
    if m:
        out["BugcheckCode"] = m[1]
    for p in _KP_PARAM.finditer(text[:8192]):
        out[f"BugcheckParameter{p[1]}"] = p[2]
    return out


# EventLog 6008: "The previous system shutdown at 2:41:02 AM on 5/29/2023
# was unexpected." / "上一次系统的 2:41:02 在 2023/5/29 上的关闭是意外的。" /
# "Das System wurde zuvor am 29.05.2023 um 02:41:02 unerwartet heruntergefahren."
_TIME = re.compile(r"(?:上午|下午)?\s{0,2}\d{1,2}:\d\d(?::\d\d)?(?:\s{0,2}[AaPp]\.?[Mm]\.?)?")
_DATE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")


def shutdown_stamp(time_text: str | None, date_text: str | None, message: str | None) -> str | None:
    """The 6008's "date time" of the last moment the machine was seen
    running, as one string a LocalTimes can read."""
    time_text = strip_marks(time_text or "")
    date_text = strip_marks(date_text or "")
    if not (time_text and date_text) and message:
        text = strip_marks(message[:1000])
        t = _TIME.search(text)
        d = _DATE.search(text)
        time_text, date_text = (t[0].strip() if t else ""), (d[0] if d else "")
    if not (time_text and date_text):
        return None
    am_pm = ""
    if time_text.startswith(("上午", "下午")):
        am_pm = " PM" if time_text.startswith("下午") else " AM"
        time_text = time_text[2:].strip()
    return f"{date_text.strip()} {time_text.strip()}{am_pm}"


# EventLog 6009: "Microsoft (R) Windows (R) 10.00. 17134  Multiprocessor Free."
_OS_BUILD = re.compile(r"Windows\s\(R\)\s{1,3}(\d{1,2})\.(\d{1,2})\.\s{0,3}(\d{4,5})\b")


def os_build_message(text: str | None) -> int | None:
    m = _OS_BUILD.search((text or "")[:1000])
    return int(m[3]) if m else None


def _labelled(labels: tuple[str, ...], hint: tuple[re.Pattern[str], int] | None = None) -> re.Pattern:
    """The pattern of a label of ``labels`` and its value; ``hint``: a hint
    its labels alone are searched from (see ``hinted``)."""
    names = "|".join(re.escape(label) for label in labels)
    pattern = re.compile(r"(?:^|[\n，,]|\s)\s{0,4}(?:" + names + r")\s{0,3}[:：][ \t]{0,8}([^\r\n，,]{0,400})", re.I)
    _LABELS_ALONE[pattern.pattern] = re.compile("(?:" + names + ")", re.I)
    if hint is not None:
        _LABEL_HINTS[pattern.pattern] = hint
    return pattern


# A _labelled pattern's labels alone: searched first, by their first letters.
_LABELS_ALONE: dict[str, re.Pattern] = {}
# The hints of those searched for in the whole of a long message where it
# often holds none (a WER report's "Report Id").
_LABEL_HINTS: dict[str, tuple[re.Pattern[str], int]] = {}


def labels_in(pattern: re.Pattern, text: str) -> Iterator[re.Match[str]]:
    """``_LABELS_ALONE[pattern.pattern].finditer(text)``: from its hint where
    it has one (no label is empty: each search goes on from the end of the
    label before)."""
    alone = _LABELS_ALONE[pattern.pattern]
    hint = _LABEL_HINTS.get(pattern.pattern)
    if hint is None:
        yield from alone.finditer(text)
        return
    at = 0
    while (label := hinted(alone, hint, text, at)) is not None:
        yield label
        at = label.end()


def labelled(pattern: re.Pattern, text: str) -> re.Match | None:
    """``pattern.search(text)`` for a ``_labelled`` pattern.  Its blanks
    are tried at every character of the text; its labels alone are found
    by a quick scan, and a match holds a label that starts at most five
    characters (a break and four blanks) after the match does.  A label
    that starts inside another one found (one label the end of another)
    lies within that one's span: the whole pattern is tried only at the
    starts from five before each label found to its end, in order."""
    tried = 0  # starts below this were tried
    for label in labels_in(pattern, text):
        for start in range(max(tried, label.start() - 5), label.end()):
            m = pattern.match(text, start)
            if m is not None:
                return m
        tried = label.end()
    return None


# Service Control Manager 7045, labels of the message by language.
_SERVICE = {
    "name": _labelled(("Service Name", "服务名称", "Dienstname")),
    "path": _labelled(("Service File Name", "服务文件名", "Dienstdateiname")),
    "type": _labelled(("Service Type", "服务类型", "Diensttyp")),
    "start": _labelled(("Service Start Type", "服务启动类型", "Dienststarttyp")),
}


def service_message(text: str | None) -> dict[str, str]:
    out = {}
    for key, pattern in _SERVICE.items():
        m = labelled(pattern, (text or "")[:4000])
        if m and m[1].strip():
            out[key] = m[1].strip()
    return out


def after_colon(text: str | None) -> str:
    """What follows a message's introduction: 7026's driver list, a
    Windows Update event's title ("...the following update: TITLE")."""
    text = (text or "")[:4000]
    cut = max(text.rfind(": "), text.rfind("："), text.rfind(":\n"), text.rfind(":\r"))
    return text[cut + 1 :].strip() if cut >= 0 else ""


_KB = re.compile(r"\bKB(\d{6,8})\b")
_ERROR = re.compile(r"\b0x[0-9A-Fa-f]{8}\b")


def kb_numbers(text: str | None) -> list[str]:
    return list(dict.fromkeys("KB" + m for m in _KB.findall((text or "")[:2000])))


def error_code(text: str | None) -> str | None:
    m = _ERROR.search((text or "")[:2000])
    return m[0] if m else None


# WHEA-Logger: "Component: Processor Core", "Error Source: Machine Check Exception".
_COMPONENT = _labelled(("Reported by component", "Component", "报告者组件", "组件", "Gemeldet von Komponente", "Komponente"))
_ERROR_SOURCE = _labelled(("Error Source", "错误源", "Fehlerquelle"))
_FATAL_WORDS = ("fatal", "schwerwiegend", "严重", "致命", "unkorrigierbar")


def whea_message(text: str | None) -> tuple[str | None, str | None, bool]:
    text = (text or "")[:4000]
    component = labelled(_COMPONENT, text)
    source = labelled(_ERROR_SOURCE, text)
    first_line = text.split("\n", 1)[0].lower()
    return (component[1].strip() if component else None, source[1].strip() if source else None,
            any(w in first_line for w in _FATAL_WORDS))


# Display 4101: "Display driver nvlddmkm stopped responding and has successfully recovered."
_TDR = re.compile(r"(?:Display driver|显示器驱动程序|Anzeigetreiber)\s{1,3}([\w.-]{1,64})")


def tdr_driver(text: str | None) -> str | None:
    m = _TDR.search((text or "")[:1000])
    return m[1] if m else None


# Application Error 1000, Windows Error Reporting 1001, Application Hang 1002.
_APP = {
    "app": _labelled(("Faulting application name", "错误应用程序名称", "Name der fehlerhaften Anwendung")),
    "module": _labelled(("Faulting module name", "错误模块名称", "Name des fehlerhaften Moduls")),
    "exception": _labelled(("Exception code", "异常代码", "Ausnahmecode")),
    "offset": _labelled(("Fault offset", "错误偏移量", "Fehleroffset")),
    "app_path": _labelled(("Faulting application path", "错误应用程序路径", "Pfad der fehlerhaften Anwendung")),
    "module_path": _labelled(("Faulting module path", "错误模块路径", "Pfad des fehlerhaften Moduls")),
    # Each label starts with "re", "be" (no case forms but ASCII ones) or 报告.
    "report": _labelled(("Report Id", "报告 ID", "报告 Id", "Berichtskennung", "Bericht-ID", "Berichts-ID"),
                        (re.compile("[RrBb报][Ee告]"), 0)),
}
_VERSION = re.compile(r"(?:version|版本|Version)\s{0,2}[:：]\s{0,2}([\w.]{1,40})")


def app_crash_message(text: str | None, keys: tuple[str, ...] | None = None) -> dict[str, str]:
    """The labelled fields of an application error's message (``keys``:
    only those of ``_APP``'s fields, each searched once; all by default)."""
    text = (text or "")[:8000]
    out: dict[str, str] = {}
    found: dict[str, re.Match | None] = {}
    for key in keys or tuple(_APP):
        m = found[key] = labelled(_APP[key], text)
        if m and m[1].strip():
            out[key] = m[1].strip()
    # "Faulting application name: x.exe, version: 1.2, time stamp: 0x..."
    for key in ("app", "module"):
        m = found.get(key)
        if m:
            line_end = text.find("\n", m.end())
            line = text[m.start() : line_end if line_end >= 0 else len(text)]
            v = _VERSION.search(line)
            if v:
                out[key + "_version"] = v[1]
    return out


_HANG = re.compile(r"(?:The program|程序|Das Programm)\s{1,3}([^\s]{1,128}\.exe)\s{1,3}(?:version|版本|Version)\s{1,3}([\w.]{1,40})", re.I)


def hang_message(text: str | None) -> tuple[str | None, str | None]:
    m = _HANG.search((text or "")[:2000])
    return (m[1], m[2]) if m else (None, None)


# Windows Error Reporting's report of a blue screen, as text: the
# Application log's WER 1001 message ("Fault bucket 0x13A_win32kfull!X, type
# 0 / Event Name: BlueScreen / P1: 13a / P2: ..."), the Windows 7 recovery
# dialog ("Problem Event Name: BlueScreen / BCCode: f4 / BCP1: ..."), and
# Reliability Monitor's details ("Code: 3b / Parameter 1: ... / Bucket ID:
# 0x3B_lxcore!X"); English, Chinese, German and Italian labels.
_WER_EVENT = _labelled(("Event Name", "事件名称", "Ereignisname", "Nome evento", "Problem Event Name",
                        "问题事件名称", "Problemereignisname", "Nome evento problema"))
# Searched in the text after a line break (a "^" of MULTILINE is tried at every
# character; a break is found by the engine's quick scan).
_WER_P = re.compile(r"\n[ \t>]{0,8}P(\d{1,2})[ \t]{0,2}[:：][ \t]{0,4}([^\r\n]{0,200})")
# The dialog's BCCode/BCP1-4 and Reliability Monitor's Code/Parameter 1-4
# are P1 (the bug check) and P2-P5 (its parameters) of the same report.
_WER_BC = re.compile(r"\n[ \t>]{0,8}(?:BCCode|BCP([1-4]))[ \t]{0,4}[:：][ \t]{0,8}([0-9A-Fa-f]{1,16})\b")
_WER_CODE = re.compile(r"(?m)\n[ \t>]{0,8}(?:Code|代码|Parameter[ \t]?([1-4])|参数[ \t]?([1-4]))[ \t]{0,4}[:：]"
                       r"[ \t]{0,8}([0-9A-Fa-f]{1,16})[ \t]*+$")
# "Fault bucket 0x13A_win32kfull!DesktopAlloc, type 0", "Bucket errato ...,
# tipo 0", "故障存储段 ...，类型 0", "Fehlerbucket ..., Typ 0", "Bucket ID: ...".
_WER_BUCKET = re.compile(r"(?:Fault bucket|Bucket errato|Fehlerbucket|故障存储段|Bucket ID|存储段 ID|Bucket-ID)"
                         r"[ \t]{0,4}[:：]?[ \t]{0,4}([A-Za-z0-9_][\w.!$~+-]{3,200})", re.I)
# Each of _WER_BUCKET's words holds "bucket" ("b", "u" and "c" have no case
# forms but their ASCII ones) at its start or 6 characters in, or 存储段 at
# its start or 2 characters in.
_WER_BUCKET_HINT = (re.compile("[Bb存][Uu储][Cc段]"), 6)


@dataclass(slots=True)
class WerReport:
    name: str | None  # the event name: BlueScreen, APPCRASH, LiveKernelEvent...
    params: dict[int, str]  # P1..P10 as written
    bucket: str | None = None  # WER's failure bucket, when it names one


def wer_message(text: str | None) -> WerReport:
    text = (text or "")[:8000]
    name = labelled(_WER_EVENT, text)
    lined = "\n" + text  # the line patterns match from the break before a line
    params = {int(n): v.strip() for n, v in _WER_P.findall(lined) if 1 <= int(n) <= 10}
    if not params:
        for p, value in _WER_BC.findall(lined):
            params.setdefault(int(p) + 1 if p else 1, value)
    if not params:
        for p1, p2, value in _WER_CODE.findall(lined):
            n = p1 or p2
            params.setdefault(int(n) + 1 if n else 1, value)
    bucket = hinted(_WER_BUCKET, _WER_BUCKET_HINT, text)
    value = bucket[1].rstrip(",.;") if bucket else None
    return WerReport(name[1].strip() if name else None, params,
                     value if value and not value.lower().startswith(("type", "tipo", "typ")) else None)

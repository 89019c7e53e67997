"""The stop screen itself, typed or copied from a photo: Windows 8/10/11
("Your PC ran into a problem", "Stop code:", "What failed:"; the Chinese
"终止代码" / "失败的操作"), and Windows XP/Vista/7 ("A problem has been
detected...", "*** STOP: 0x0000007E (...)", "*** x.sys - Address ... base
at ..., DateStamp ...").

One screen is one crash.  The bug check is the screen's, corrected to the
nearest real name when retyped a letter or two off; the driver the screen
names is a claim of the "blue screen", never the verdict."""

from __future__ import annotations

import re

from analysis.findings import Findings, Reading, Site
from analysis.model import DumpReport, Kind, ModuleInfo
from analysis.reports.common import (
    MAX_NAME, Marks, add_module, bugcheck_from_name, claim, corrected_note, hex_int, hex_list, image_name, lines,
    module_of, new_crash, set_bugcheck,
)
from analysis.winbuilds import fill as fill_os

TOOL = "blue screen"

# Literal marks of a stop screen; one of them must be in the text before
# any pattern runs.
_MARKS = (
    "ran into a problem", "Stop code", "Stop Code", "stop code", "STOP CODE", "What failed", "What Failed",
    "what failed", "STOP: 0x", "STOP 0x", "Stop: 0x", "has been shut down to prevent damage",
    "search online later for this error", "search for the error online", "windows.com/stopcode",
    "遇到问题", "终止代码", "停止代码", "失败的操作", "停止代碼", "失敗的操作", "發生問題", "为了保护您的计算机",
    "技术信息", "problem seems to be caused by the following file", "termination code", "Termination code",
    # Prose about a screen: "I got a BSOD: SYSTEM THREAD EXCEPTION NOT HANDLED (x.sys)".
    "BSOD", "BSoD", "bsod", "blue screen", "Blue screen", "Blue Screen", "bluescreen", "BlueScreen", "蓝屏", "藍屏",
    "stop error", "Stop error",
    # "crashes SYSTEM_THREAD_EXCEPTION_NOT_HANDLED(Nvlddmkm.sys)": a name and
    # its file with no word for the screen around them.
    ".sys)", ".SYS)", ".Sys)",
)
# Searched first in any case: words that marks share (see Marks).
_MARK_GATE = Marks(_MARKS, also=("blue", "停止代"))

# "Stop code: X", "终止代码：X", "Stop code - X (0x0000007E)"; what follows the
# mark is read without a pattern (see _stop_value).
_STOP_CODE = re.compile(r"(?:stop ?code|termination code|终止代码|停止代码|停止代碼)[ \t]*+(?:[:：\-=]|is|was)?[ \t]*+:?[ \t]*+", re.I)
_WHAT_FAILED = re.compile(r"(?:what failed|失败的操作|失敗的操作|失败的项目|失敗的項目)[ \t]*+(?:[:：\-=]|is|was)?[ \t]*+"
                          r"(?:is |was )?([\w.$~-]{1,120})", re.I)
# Windows 8: "...search online later for this error: NAME (iaStorA.sys)"
_SEARCH = re.compile(r"(?:for this error|the error online|此错误|此錯誤)[ \t]*+[:：]?[ \t]*+([A-Z][A-Z0-9_]{3,100})"
                     r"(?:[ \t]*+\(([\w.$~-]{1,120})\))?")
# "*** STOP: 0x0000007E (0xC0000005,0x8054B2F8, ...)" -- the list may be cut or wrapped.
_STOP_LINE = re.compile(r"STOP[ \t]*+:?[ \t]*+(?:0x)?([0-9a-fA-F]{8})\b[ \t]*+(?:\(([^)\n]{0,200})\)?)?", re.I)
# "*** gv3.sys - Address F86B5A89 base at F86B5000, DateStamp 3dd9919eb"
_ADDRESS_LINE = re.compile(
    r"\*{1,3}[ \t]*+([\w.$~-]{1,120}\.(?:sys|dll|exe|drv))[ \t]*+-[ \t]*+(?:Address|地址)[ \t]*+(?:0x)?([0-9a-fA-F`]{8,17})"
    r"[ \t]*+(?:has base at|base at|基址为?|位于)[ \t]*+(?:0x)?([0-9a-fA-F`]{8,17})[ \t,，]*+(?:DateStamp|日期戳)?[ \t]*+(?:0x)?([0-9a-fA-F]{1,9})?",
    re.I)
# XP: "***  Address F73120AE base at F7300000, DateStamp 3ce6f20b - ati2dvag.dll"
_ADDRESS_LINE_XP = re.compile(
    r"\*{1,3}[ \t]*+Address[ \t]*+(?:0x)?([0-9a-fA-F`]{8,17})[ \t]*+(?:has )?base at[ \t]*+(?:0x)?([0-9a-fA-F`]{8,17})"
    r"[ \t,]*+(?:DateStamp[ \t]*+(?:0x)?([0-9a-fA-F]{1,9}))?[ \t]*+-[ \t]*+([\w.$~-]{1,120})", re.I)
_CAUSED_BY_FILE = re.compile(r"(?:caused by the following file|由以下文件引起的?)[ \t]*+[:：]?[ \t]*+([\w.$~-]{1,120})", re.I)
# A stop line typed without its "STOP:": "0x0000007E (0xFFFFFFFFC0000005,0x..., 0x..., 0x...)".
_BARE_STOP = re.compile(r"[ \t*]*+0x([0-9a-fA-F]{8})[ \t]*+\(((?:[ \t]*+0x[0-9a-fA-F`]{1,17}[ \t]*+,){3}[ \t]*+0x[0-9a-fA-F`]{1,17})[ \t]*+\)")
# In prose: a name in capitals with blanks or underscores ("SYSTEM THREAD
# EXCEPTION NOT HANDLED"), and "(x.sys)" or "x.sys failed" after it.
_CAPS_RUN = re.compile(r"\b[A-Z][A-Z0-9]{1,30}(?:[ _][A-Z0-9]{1,30}){2,12}\b")
_PROSE_FILE = re.compile(r"\(([\w.$~-]{1,120}\.sys)\)|\b([\w.$~-]{1,120}\.sys) failed\b"
                         r"|\b(?:due to|caused by|because of|blames?|points? to|pointing to)[ \t]{1,3}(?:the[ \t]{1,3})?"
                         r"([\w$~-][\w.$~-]{0,119}\.sys)\b", re.I)
# A name as people type it in a sentence: any case, underscores kept
# ("It shows \"Driver_corrupted_mmpool\"").
_UNDERSCORED = re.compile(r"\b[A-Za-z][A-Za-z0-9]{1,30}(?:_[A-Za-z0-9]{1,30}){2,12}\b")
# The name line of an XP/7 screen: the symbolic name alone on its line.
_NAME_LINE = re.compile(r"[ \t*]*+([A-Z][A-Z0-9]++(?:_[A-Z0-9]++){1,12})[ \t]*+$")


# Sentences only the screen itself says (a stop code alone may be prose).
_SCREEN_SENTENCES = (
    "ran into a problem", "has been shut down to prevent damage", "What failed", "What Failed", "what failed",
    "Technical information", "windows.com/stopcode", "遇到问题", "检测到问题", "失败的操作", "技术信息", "發生問題",
    "失敗的操作", "search online later for this error", "search for the error online",
)
_SENTENCE_GATE = Marks(_SCREEN_SENTENCES)


def is_blue_screen(text: str) -> bool:
    return _MARK_GATE.found(text)


def is_screen_text(text: str) -> bool:
    """The text holds the screen's own sentences, not just a stop code
    (asked after the readers are done with the text)."""
    return _SENTENCE_GATE.found_alone(text)


def read_blue_screen(text: str, source: str) -> Reading | None:
    """The stop screen in the text, or None when there is none."""
    if not is_blue_screen(text):
        return None
    report, findings = new_crash(source, Kind.BLUE_SCREEN)
    code: int | None = None
    args: list[int | None] = []
    name_seen: str | None = None
    failed: str | None = None
    rows = lines(text)
    for i, line in enumerate(rows):
        low = line.lower()
        if "stop" in low:
            m = _STOP_LINE.search(line) if ("stop:" in low or "stop 0x" in low or "***" in line) else None
            if m and code is None:
                code = int(m[1], 16)
                args_text = m[2] or ""
                if m[2] is not None and ")" not in line[m.start():] and i + 1 < len(rows):
                    args_text += " " + rows[i + 1].split(")", 1)[0]  # the list wrapped at the screen's edge
                args = hex_list(args_text)
        if "stop" in low or "终止代码" in line or "停止代" in line:
            m = _STOP_CODE.search(line)
            if m:
                value, hex_value = _stop_value(line[m.end():])
                if value and value.lower().startswith("0x"):
                    if code is None and hex_int(value):
                        code = hex_int(value)
                        args = args or _paren_args(line[m.end():])
                elif value:
                    name_seen = name_seen or value
                if hex_value is not None and code is None:
                    code = hex_value
        if failed is None and ("failed" in low or "失败" in line or "失敗" in line):
            m = _WHAT_FAILED.search(line)
            if m:
                failed = _claim_file(m[1], line, findings)
        if "error" in low or "错误" in line or "錯誤" in line:
            m = _SEARCH.search(line)
            if m:
                name_seen = name_seen or m[1]
                if m[2] and failed is None:
                    failed = _claim_file(m[2], line, findings)
        if "*" in line and ("ddress" in line or "地址" in line):
            _address_line(line, report, findings)
        if failed is None and ("following file" in low or "以下文件" in line):
            m = _CAUSED_BY_FILE.search(line)
            if m:
                failed = _claim_file(m[1], line, findings)
        if "_" in line and name_seen is None and len(line) <= MAX_NAME:
            m = _NAME_LINE.match(line)
            if m and bugcheck_from_name(m[1]) is not None:
                name_seen = m[1]
        if code is None and "(" in line and "0x" in line:
            m = _BARE_STOP.match(line)
            if m:
                code, args = int(m[1], 16), hex_list(m[2])
        if name_seen is None and code is None:
            prose_name = _prose_name(line)
            if prose_name:
                name_seen = prose_name
                if failed is None:
                    m = _PROSE_FILE.search(line)
                    if m:
                        failed = _claim_file(m[1] or m[2] or m[3], line, findings)
    named = bugcheck_from_name(name_seen)
    if named is not None and named.typed is not None:
        report.notes.append(corrected_note(named))
    if code is None and named is not None:
        code = named.code
    if code is None and not findings.claims:
        return None  # screen words without a stop code or a driver: nothing to report
    set_bugcheck(report, code, args)
    report.os = fill_os(report.os)
    return Reading(crashes=[(report, findings)])


def _prose_name(line: str) -> str | None:
    """A real bug check name written in capitals inside a sentence (exact
    only: prose is not corrected)."""
    for pattern in (_CAPS_RUN, _UNDERSCORED):
        for m in pattern.finditer(line):
            named = bugcheck_from_name(m[0])
            if named is not None and named.typed is None:
                return named.name
    return None


def _stop_value(rest: str) -> tuple[str | None, int | None]:
    """What follows "Stop code:": a hex code, or a name (with blanks for
    its underscores when retyped), and a "(0x...)" after it."""
    rest = rest.strip().lstrip("`'\"*“‘ ")
    first, _, after = rest.partition(" ")
    if first.lower() in _LINKING and after:
        rest = after.lstrip("`'\"*“‘ :")  # "the stop code were `0x000000d1 (...)`"
    if rest[:2].lower() == "0x":
        # A code first: what is in parentheses after it are its parameters.
        return rest.split(None, 1)[0].rstrip("`'\".,;:)”’"), None
    hex_value = None
    paren = rest.find("(")
    if paren >= 0:
        hex_value = hex_int(rest[paren + 1 : paren + 14].split(")", 1)[0]) or None
        rest = rest[:paren].strip()
    if not rest:
        return None, hex_value
    if all(c.isalnum() or c in "_ " for c in rest[:MAX_NAME]) and len(rest) <= MAX_NAME:
        return rest.rstrip(" ."), hex_value
    # Other words follow (a sentence goes on, or the line breaks were lost):
    # the longest run of leading words that is a bug check name.
    words = rest[:MAX_NAME].split()[:12]
    for end, word in enumerate(words):
        if not word.replace("_", "").isalnum():
            words = words[: end + (1 if word.rstrip(".,;:!?").replace("_", "").isalnum() else 0)]
            break
    words = [w.rstrip(".,;:!?") for w in words]
    for k in range(len(words), 0, -1):
        if bugcheck_from_name(" ".join(words[:k])) is not None:
            return " ".join(words[:k]), hex_value
    return (words[0] if words else None), hex_value


# Words between "stop code" and its value in a sentence.
_LINKING = frozenset(("is", "was", "were", "are", "of", "reads", "said", "says", "shows", "showed", "=", "-", ":"))


def _paren_args(rest: str) -> list[int | None]:
    """The four parameters in "0x000000D1 (0x5f, 0x2, 0x1, 0xfffff809849011a7)"."""
    start = rest.find("(")
    end = rest.find(")", start + 1)
    if start < 0 or end < 0 or end - start > 200:
        return []
    values = hex_list(rest[start + 1 : end])
    return values if len(values) == 4 and all(v is not None for v in values) else []


def _claim_file(word: str, line: str, findings: Findings) -> str | None:
    image = _file(word)
    if image:
        claim(findings, image, line.strip(), TOOL)
    return image


def _file(word: str) -> str | None:
    image = image_name(word)
    if image is None or "." not in image:
        return None
    return image


def _address_line(line: str, report: DumpReport, findings: Findings) -> bool:
    m = _ADDRESS_LINE.search(line)
    if m:
        image, address, base, stamp = m[1], m[2], m[3], m[4]
    else:
        m = _ADDRESS_LINE_XP.search(line)
        if not m:
            return False
        address, base, stamp, image = m[1], m[2], m[3], m[4]
    image = _file(image) or ""
    if not image:
        return False
    addr, start = hex_int(address), hex_int(base)
    info = add_module(report, ModuleInfo(name=module_of(image), image=image, base=start, timestamp=hex_int(stamp)))
    if addr is not None and start is not None and addr >= start:
        findings.sites.append(Site(symbol=f"{info.name}+0x{addr - start:x}", address=addr))
    claim(findings, image, line.strip(), TOOL)
    return True

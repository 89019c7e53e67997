"""Find every fact a debugger transcript states, with its position.

Each pattern runs once over the whole cleaned text (``finditer`` in C), so
lines that say nothing cost no Python work.  The result is a position-ordered
list of events that ``assemble`` groups into dumps."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from analysis.text.stack import FRAME_SITE_ONLY, FRAME_WITH_ADDR, WRAPPED_FRAME, frame_from_match

HEX = r"[0-9a-fA-F]"


@dataclass(slots=True)
class Event:
    pos: int
    kind: str
    value: Any
    end: int = 0


# Fields !analyze prints as "KEY:  value".  The set decides what counts as
# analysis output (as opposed to the output of k, lm, !thread ...).
ANALYSIS_FIELDS = {
    "MODULE_NAME", "IMAGE_NAME", "SYMBOL_NAME", "FAILURE_BUCKET_ID", "DEFAULT_BUCKET_ID",
    "BUCKET_ID", "BUGCHECK_STR", "BUGCHECK_CODE", "BUGCHECK_P1", "BUGCHECK_P2",
    "BUGCHECK_P3", "BUGCHECK_P4", "PROCESS_NAME", "OS_VERSION", "BUILDLAB_STR",
    "OSPLATFORM_TYPE", "OSNAME", "OSBUILD", "FAILURE_ID_HASH", "FAILURE_ID_HASH_STRING",
    "FAULTING_MODULE", "EXCEPTION_CODE", "EXCEPTION_CODE_STR", "ERROR_CODE", "IMAGE_VERSION",
    "SYSTEM_MANUFACTURER", "SYSTEM_PRODUCT_NAME", "BIOS_VERSION", "CPU_COUNT", "DUMP_TYPE",
    "FOLLOWUP_NAME", "CURRENT_IRQL", "TRAP_FRAME", "EXCEPTION_RECORD", "CONTEXT",
    "BLACKBOXBSD", "BLACKBOXNTFS", "BLACKBOXPNP", "BLACKBOXWINLOGON", "CUSTOMER_CRASH_COUNT",
    "STACK_COMMAND", "BUCKET_ID_FUNC_OFFSET", "FAILURE_EXCEPTION_CODE", "FAILURE_IMAGE_NAME",
    "FAILURE_MODULE_NAME", "IMAGE_TIMESTAMP", "DEBUG_FLR_IMAGE_TIMESTAMP", "MODULE_TIMESTAMP",
    "BUCKET_ID_MODULE_STR", "BUCKET_ID_PREFIX_STR", "BUCKET_ID_FUNCTION_STR", "TARGET_TIME",
    "EXCEPTION_PARAMETER1", "EXCEPTION_PARAMETER2", "EXCEPTION_STR", "DEVICE_OBJECT",
    "DRIVER_OBJECT", "ANALYSIS_VERSION", "STACK_TEXT", "FAULTING_IP", "FOLLOWUP_IP",
    "DISK_HARDWARE_ERROR", "WHEA_ERROR_RECORD", "CPU_VENDOR", "CPU_MHZ", "MEMORY_CORRUPTOR",
    "LAST_CONTROL_TRANSFER", "PROCESS_OBJECT", "IMAGE_NAME_STR", "BUGCHECK_STR_EXTENDED",
    "FAULTING_THREAD", "READ_ADDRESS", "WRITE_ADDRESS", "FAILED_INSTRUCTION_ADDRESS",
    "DUMP_FILE_ATTRIBUTES", "KEY_VALUES_STRING", "SYMBOL_STACK_INDEX", "DRIVER_VERIFIER_IO_VIOLATION_TYPE",
    "MODULE_PATH", "IMAGE_PATH", "FAULTING_SOURCE_FILE", "BUILD_VERSION_STRING", "BUGCHECK_CODE_STR",
}

_FIELD = re.compile(r"^[ ]*([A-Z][A-Z0-9_]{2,40}):[ ]*(.*)$", re.M)
_BANNER = re.compile(r"^[ *]*Bugcheck Analysis[ *]*$", re.M | re.I)
_NAME_CODE = re.compile(r"^[ #*]*([A-Z][A-Z0-9_]{3,80}) \((?:0x)?(" + HEX + r"{1,8})\)[ *]*$", re.M)
_UNKNOWN_CODE = re.compile(r"^[ ]*Unknown bugcheck code \((" + HEX + r"{1,8})\)", re.M)
_NAME_ONLY = re.compile(r"^[ #*]*([A-Z][A-Z0-9]+(?:_[A-Z0-9]+)+)[ *]*$", re.M)
_STOP_CODE = re.compile(
    r"(?:Stop ?code|停止代码|终止代码)[ ]*[:：]?[ ]*([A-Z][A-Z0-9_]{3,80})(?:[ ]*\((?:0x)?(" + HEX + r"{1,8})\))?", re.I
)
_FATAL_ERROR = re.compile(
    r"Fatal System Error: 0x(" + HEX + r"{8})\s*\(([^)]*)\)"
)
_DRIVER_AT_FAULT = re.compile(r"Driver at fault:[ ]*\n?\*{0,3}[ ]*([\w.$~-]+\.sys)", re.I)
_KEY_VALUE = re.compile(r"^[ ]*Key[ ]*:[ ]*([\w.]+)[ ]*\n[ ]*Value:[ ]*(.*)$", re.M)
_ARG = re.compile(r"^[ ]*Arg([1-4]): ?(" + HEX + r"+)\b(?:,? ?(.*(?:\n[ ]{3,}\S.*)*))?", re.M)
_BUGCHECK_LINE = re.compile(r"BugCheck (?:0x)?(" + HEX + r"{1,8}), \{([^}\n]*)\}", re.I)
_BUGCHECK_CMD = re.compile(
    r"^[ ]*Bugcheck code (" + HEX + r"{8})[ ]*\n[ ]*Arguments((?:[ ]+" + HEX + r"{8,17}){1,4})", re.M | re.I
)
_CAUSED_BY = re.compile(r"^[ ]*Probably caused by ?: ?(.+)$", re.M)
_KERNEL_VERSION = re.compile(
    r"^[ ]*(Windows[\w .]*?) Kernel Version (\d{4,5})(.*)$", re.M
)
_BUILT_BY = re.compile(r"^[ ]*(?:Built by|Edition build lab):[ ]*(\S+)", re.M)
_LOADING = re.compile(r"^[ ]*Loading Dump File \[(.+?)\]", re.M)
_DUMP_KIND = re.compile(r"^[ ]*((?:Mini Kernel|Kernel Bitmap|Kernel Summary|Kernel Complete|Full Kernel|Complete|Kernel Summary|User Mini|Automatic) Dump File)\b", re.M | re.I)
_SESSION_TIME = re.compile(r"^[ ]*Debug session time:[ ]*(.+)$", re.M)
_UPTIME = re.compile(r"^[ ]*System Uptime:[ ]*(.+)$", re.M)
_PROMPT = re.compile(r"^[ ]*(?:\d+: )?(?:l?kd|\d+:\d+(?::\w+)?)> ?(.*)$", re.M)
_THREAD_PROCESS = re.compile(r"Owning Process[ ]+" + HEX + r"+[ ]+Image:[ ]+(\S+)")
_THREAD_HEAD = re.compile(r"^[ ]*THREAD " + HEX + r"{8,17}[ ]+Cid", re.M)
_EXCEPTION_CODE = re.compile(r"^[ ]*ExceptionCode: (" + HEX + r"{8})\b(?: \(([^)]*)\))?", re.M)
_EXCEPTION_ADDR = re.compile(r"^[ ]*ExceptionAddress: (" + HEX + r"{8,17})(?: \(([^)]*)\))?", re.M)
_SUBCODE = re.compile(r"^[ ]*Subcode: (0x" + HEX + r"+)[ ]+(\w+)", re.M)
_INSTR = re.compile(r"^([A-Za-z_][\w.$-]*(?:![^\s:]+|\+0x" + HEX + r"+)):[ ]*$", re.M)
_LM_HEADER = re.compile(r"^[ ]*start[ ]+end[ ]+module name[ ]*$", re.M)
_LM_LINE = re.compile(
    r"^[ ]*(" + HEX + r"{8,17})[ ]+(" + HEX + r"{8,17})[ ]+([\w.$~-]+)[ ]+(?:[TCM# ]*)\(([^)]*)\)[ ]*(\S+)?[ ]*$",
    re.M,
)
_UNLOADED_HEADER = re.compile(r"^[ ]*Unloaded modules:[ ]*$", re.M)
_UNLOADED_LINE = re.compile(r"^[ ]*(" + HEX + r"{8,17})[ ]+(" + HEX + r"{8,17})[ ]+([\w.$~-]+\.(?:sys|dll|exe))[ ]*$", re.M | re.I)
_LM_DETAIL = re.compile(
    r"^[ ]*(Loaded symbol image file|Image path|Image name|Timestamp|CheckSum|ImageSize|"
    r"File version|Product version|CompanyName|ProductName|FileDescription|OriginalFilename|"
    r"InternalName|FileVersion|ProductVersion|LegalCopyright)[ ]*:[ ]*(.*)$",
    re.M | re.I,
)
_MISSING_SYMBOLS = re.compile(
    r"(?:Unable to load image|symbols could not be loaded for|Unable to verify timestamp for|"
    r"Unable to verify checksum for)[ ]+(?:\\?\S*\\)?([\w.$~-]+\.(?:sys|dll|exe))",
    re.I,
)
_DBGHELP = re.compile(r"^[ ]*DBGHELP: ([\w.$~-]+?)(?:\.(?:sys|dll|exe))? (?:is not source indexed|- (?:public|private|export) symbols)", re.M | re.I)
# Reports of other tools engineers paste: BlueScreenView and WhoCrashed.
_BSV = re.compile(
    r"^[ ]*(Bug Check String|Bug Check Code|Parameter [1-4]|Caused By Driver|Caused By Address|"
    r"Crash Address|Processor|Major Version|Minor Version|Dump File|Crash Time)[ ]*:[ ]*(.*)$",
    re.M,
)
_WHOCRASHED_MODULE = re.compile(
    r"probably caused by the following module:[ ]*([\w.$~-]+)(?:[ ]*\(([^)]*)\))?", re.I
)
_WHOCRASHED_CODE = re.compile(
    r"^[ ]*Bug ?check code:[ ]*0x(" + HEX + r"{1,8})[ ]*\(([^)]*)\)", re.M | re.I
)
_WHOCRASHED_NAME = re.compile(r"^[ ]*Bugcheck name:[ ]*([A-Z][A-Z0-9_]+)", re.M | re.I)
# What an engineer types in prose: "BugCheck: 0x1a", "蓝屏代码 0x139", "stop code 0x...".
_PROSE_CODE = re.compile(
    r"(?:bug ?check(?: code)?|stop code|蓝屏代码|错误代码)[ :：]*(?:is )?0x(" + HEX + r"{1,8})\b", re.I
)


def _hex(text: str) -> int | None:
    text = text.strip().rstrip(",").replace("`", "")
    if text.lower().startswith("0x"):
        text = text[2:]
    try:
        return int(text, 16) if text else None
    except ValueError:
        return None


def scan(text: str) -> list[Event]:
    ev: list[Event] = []
    add = ev.append

    for m in _BANNER.finditer(text):
        add(Event(m.start(), "banner", None))
    for m in _NAME_CODE.finditer(text):
        add(Event(m.start(), "name_code", (m[1], int(m[2], 16))))
    for m in _UNKNOWN_CODE.finditer(text):
        add(Event(m.start(), "name_code", (None, int(m[1], 16))))
    for m in _NAME_ONLY.finditer(text):
        add(Event(m.start(), "bugcheck_name", m[1]))
    for m in _STOP_CODE.finditer(text):
        if m[2]:
            add(Event(m.start(), "bugcheck", (int(m[2], 16), [])))
        add(Event(m.start(), "bugcheck_name", m[1].upper()))
    for m in _FATAL_ERROR.finditer(text):
        args = [_hex(a) for a in m[2].split(",")][:4]
        add(Event(m.start(), "bugcheck", (int(m[1], 16), args)))
    for m in _DRIVER_AT_FAULT.finditer(text):
        add(Event(m.start(), "driver_at_fault", m[1]))
    for m in _KEY_VALUE.finditer(text):
        key, value = m[1].lower(), m[2].strip()
        if key in ("bugcheck.code.legacyapi", "bugcheck.code.targetmodel", "bugcheck.code.kibugcheckdata") and _hex(value) is not None:
            add(Event(m.start(), "field", ("BUGCHECK_CODE", value.lower().removeprefix("0x"))))
        elif key == "failure.bucket":
            add(Event(m.start(), "field", ("FAILURE_BUCKET_ID", value)))
        elif key == "failure.hash":
            add(Event(m.start(), "field", ("FAILURE_ID_HASH", value)))
    for m in _ARG.finditer(text):
        meaning = " ".join((m[3] or "").split())
        add(Event(m.start(), "arg", (int(m[1]), int(m[2], 16), meaning)))
    for m in _BUGCHECK_LINE.finditer(text):
        args = [_hex(a) for a in m[2].split(",")][:4]
        add(Event(m.start(), "bugcheck", (int(m[1], 16), args)))
    for m in _BUGCHECK_CMD.finditer(text):
        args = [_hex(a) for a in m[2].split()][:4]
        add(Event(m.start(), "bugcheck", (int(m[1], 16), args)))
    for m in _CAUSED_BY.finditer(text):
        add(Event(m.start(), "caused_by", m[1].strip()))
    for m in _KERNEL_VERSION.finditer(text):
        add(Event(m.start(), "kernel_version", (m[1].strip(), int(m[2]), m[3])))
    for m in _BUILT_BY.finditer(text):
        add(Event(m.start(), "built_by", m[1]))
    for m in _LOADING.finditer(text):
        add(Event(m.start(), "loading", m[1].strip()))
    for m in _DUMP_KIND.finditer(text):
        add(Event(m.start(), "dump_kind", m[1]))
    for m in _SESSION_TIME.finditer(text):
        add(Event(m.start(), "session_time", m[1].strip()))
    for m in _UPTIME.finditer(text):
        add(Event(m.start(), "uptime", m[1].strip()))
    for m in _PROMPT.finditer(text):
        add(Event(m.start(), "prompt", m[1].strip()))
    for m in _THREAD_HEAD.finditer(text):
        add(Event(m.start(), "thread", None))
    for m in _THREAD_PROCESS.finditer(text):
        add(Event(m.start(), "thread_process", m[1]))
    for m in _EXCEPTION_CODE.finditer(text):
        add(Event(m.start(), "exception_code", int(m[1], 16)))
    for m in _EXCEPTION_ADDR.finditer(text):
        add(Event(m.start(), "exception_address", (int(m[1], 16), m[2])))
    for m in _SUBCODE.finditer(text):
        add(Event(m.start(), "subcode", (int(m[1], 16), m[2])))
    for m in _INSTR.finditer(text):
        add(Event(m.start(), "instruction", m[1]))
    for m in _LM_HEADER.finditer(text):
        add(Event(m.start(), "lm_header", None))
    lm_lines = set()
    for m in _LM_LINE.finditer(text):
        lm_lines.add(m.start())
        add(Event(m.start(), "lm", (int(m[1], 16), int(m[2], 16), m[3], m[4], m[5])))
    for m in _UNLOADED_HEADER.finditer(text):
        add(Event(m.start(), "unloaded_header", None))
    for m in _UNLOADED_LINE.finditer(text):
        add(Event(m.start(), "unloaded", (int(m[1], 16), int(m[2], 16), m[3])))
    for m in _LM_DETAIL.finditer(text):
        add(Event(m.start(), "lm_detail", (m[1].lower(), m[2].strip())))
    for m in _MISSING_SYMBOLS.finditer(text):
        add(Event(m.start(), "mentioned_module", m[1]))
    for m in _DBGHELP.finditer(text):
        add(Event(m.start(), "mentioned_module", m[1] + ".sys" if "." not in m[1] else m[1]))
    for m in _BSV.finditer(text):
        add(Event(m.start(), "bsv", (m[1], m[2].strip())))
    for m in _WHOCRASHED_MODULE.finditer(text):
        add(Event(m.start(), "whocrashed_module", (m[1], m[2])))
    for m in _WHOCRASHED_CODE.finditer(text):
        args = [_hex(a) for a in m[2].split(",")][:4]
        add(Event(m.start(), "bugcheck", (int(m[1], 16), args)))
    for m in _WHOCRASHED_NAME.finditer(text):
        add(Event(m.start(), "bugcheck_name", m[1]))
    for m in _PROSE_CODE.finditer(text):
        add(Event(m.start(), "prose_code", int(m[1], 16)))
    for m in _FIELD.finditer(text):
        key = m[1]
        if key in ANALYSIS_FIELDS:
            value = m[2].strip()
            if not value and key in ("FAULTING_IP", "FOLLOWUP_IP"):
                # The symbol is on the next line: "FAULTING_IP:\nnt!KiPageFault+260"
                nl = text.find("\n", m.end() + 1)
                value = text[m.end() + 1 : nl if nl >= 0 else len(text)].strip()
            add(Event(m.start(), "field", (key, value), m.end()))

    if "\n" in text:
        text = WRAPPED_FRAME.sub(r"\1 ", text) if _has_wrapped(text) else text
    for m in FRAME_WITH_ADDR.finditer(text):
        if m.start() in lm_lines:
            continue
        frame = frame_from_match(m)
        if frame is not None:
            add(Event(m.start(), "frame", frame))
    for m in FRAME_SITE_ONLY.finditer(text):
        frame = frame_from_match(m)
        if frame is not None:
            add(Event(m.start(), "frame", frame))

    ev.sort(key=lambda e: e.pos)
    return ev


def _has_wrapped(text: str) -> bool:
    return WRAPPED_FRAME.search(text) is not None

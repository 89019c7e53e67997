"""Find every fact a debugger transcript states, in the order stated.

One pass over the lines.  Each line is sent by its first character (and
for text lines its first word) to the two or three patterns that could fit
it, so a 50 KB log costs a few thousand short regex matches rather than
dozens of whole-text scans.  The result is an ordered list of events that
``assemble`` groups into dumps; an event's ``pos`` is its line number."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from analysis import native
from analysis.deadline import NEVER, Deadline
from analysis.model import Frame
from analysis.text.stack import (
    ADDR, FRAME_ADDR_BODY, FRAME_SITE_BODY, MODULE_START, NOT_MODULES, PLAIN_FRAME_BODY, frame_from_addr_groups,
    frame_from_site_groups, plain_frame,
)

HEX = r"[0-9a-fA-F]"


@dataclass(slots=True)
class Event:
    pos: int
    kind: str
    value: Any


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



def _c(body: str, flags: int = 0) -> re.Pattern:
    return re.compile(body.replace("HEX", HEX), flags)


# Every unbounded repeat is possessive (tests/test_regex_linear.py): a
# line that almost fits is given up at once instead of being tried again
# with every shorter split of its blanks, digits and words.
_FIELD = _c(r"[ ]*+([A-Z][A-Z0-9_]{2,40}):[ ]*+(.*+)$")
_NAME_CODE = _c(r"[ #*]*+([A-Z][A-Z0-9_]{3,80}) \((?:0x)?(HEX{1,8})\)[ *]*+$")
_NAME_ONLY = _c(r"[ #*]*+([A-Z][A-Z0-9]++(?:_[A-Z0-9]++)++)[ *]*+$")
_UNKNOWN_CODE = _c(r"[ ]*+Unknown bugcheck code \((HEX{1,8})\)")
_ARG = _c(r"[ ]*+Arg([1-4]): ?(HEX++)\b(?:,? ?(.*+))?$")
_BUGCHECK_CMD = _c(r"[ ]*+Bugcheck code (HEX{8})[ ]*+$", re.I)
_ARGUMENTS = _c(r"[ ]*+Arguments((?:[ ]++HEX{8,17}){1,4})")
_CAUSED_BY = _c(r"[ ]*+Probably caused by ?: ?(.++)$")
_KERNEL_VERSION = _c(r"[ ]*+(Windows[\w .]{0,100}?) Kernel Version (\d{4,5})(.*+)$")
_BUILT_BY = _c(r"[ ]*+(?:Built by|Edition build lab):[ ]*+(\S++)")
_LOADING = _c(r"[ ]*+Loading Dump File \[([^\]\n]++)\]")
_DUMP_KIND = _c(r"[ ]*+((?:Mini Kernel|Kernel Bitmap|Kernel Summary|Kernel Complete|Full Kernel|Complete|User Mini|Automatic) Dump File)\b", re.I)
# "(?=.)": a value of blanks alone still counts as there (it strips to "").
_SESSION_TIME = _c(r"[ ]*+Debug session time:(?=.)[ ]*+(.*+)$")
_UPTIME = _c(r"[ ]*+System Uptime:(?=.)[ ]*+(.*+)$")
_PROMPT = _c(r"[ ]*+(?:\d++: )?(?:l?kd|\d++:\d++(?::\w++)?)> ?(.*+)$")
_THREAD = _c(r"[ ]*+THREAD HEX{8,17}[ ]++Cid")
_EXCEPTION_CODE = _c(r"[ ]*+ExceptionCode: (HEX{8})\b")
_EXCEPTION_ADDR = _c(r"[ ]*+ExceptionAddress: (HEX{8,17})(?: \(([^)]*+)\))?")
_SUBCODE = _c(r"[ ]*+Subcode: (0xHEX++)[ ]++(\w++)")
_LM_HEADER = _c(r"[ ]*+start[ ]++end[ ]++module name[ ]*+$")
_LM_DETAIL = _c(
    r"[ ]*+(Loaded symbol image file|Image path|Image name|Timestamp|CheckSum|ImageSize|File version|"
    r"Product version|CompanyName|ProductName|FileDescription|OriginalFilename|InternalName|FileVersion|"
    r"ProductVersion|LegalCopyright)[ ]*+:[ ]*+(.*+)$", re.I)
_DBGHELP = _c(r"[ ]*+DBGHELP: ([\w.$~-]{1,255}?)(?:\.(?:sys|dll|exe))? (?:is not source indexed|- (?:public|private|export) symbols)")
_BSV = _c(r"[ ]*+(Bug Check String|Bug Check Code|Parameter [1-4]|Caused By Driver|Caused By Address|"
          r"Crash Address|Processor|Major Version|Minor Version|Dump File|Crash Time)[ ]*+:[ ]*+(.*+)$")
_WHOCRASHED_CODE = _c(r"[ ]*+Bug ?check code:[ ]*+0x(HEX{1,8})[ ]*+\(([^)]*+)\)?", re.I)
_WHOCRASHED_NAME = _c(r"[ ]*+Bugcheck name:[ ]*+([A-Z][A-Z0-9_]++)", re.I)
_KEY = _c(r"[ ]*+Key[ ]*+:[ ]*+([\w.]++)[ ]*+$")
_VALUE = _c(r"[ ]*+Value:[ ]*+(.*+)$")
_LM = _c(r"[ ]*+(HEX{8,17})[ ]++(HEX{8,17})[ ]++([\w.$~-]++)[ ]++(?:[TCM# ]*+)\(([^)]*+)\)[ ]*+(\S++)?[ ]*+$")
# The image name ends in .sys/.dll/.exe: the name is taken whole and its
# end looked at behind it, rather than given back a character at a time.
_BARE_MODULE = _c(r"[ ]*+(HEX{8,17})[ ]++(HEX{8,17})[ ]++([\w.$~-]++)(?<=[\w.$~-]\.(?:sys|dll|exe))[ ]*+$", re.I)
_INSTRUCTION = _c(r"[ ]*+(" + MODULE_START + r"[\w.$-]*+(?:![^\s:]++|\+0xHEX++)):[ ]*+$")
_FRAME = re.compile(FRAME_ADDR_BODY)
_FRAME_SITE = re.compile(FRAME_SITE_BODY)
# A frame line whose call site (or last arguments) went to the next line.
# Numbers must be separated by blanks here: "(?:[ ]*ADDR)*" would let a
# long run of hex digits be split in exponentially many ways.
_FRAME_PREFIX = _c(r"[ ]*+(?:HEX{2,4}[ ]++)?ADDR[ ]++ADDR(?:[ ]++:)?(?:[ ]++ADDR)*+(?:[ ]++:)?[ ]*+$".replace("ADDR", ADDR + "+"))

# Facts found mid-line, searched for at every position: a class that stops
# at the next opening mark ("[^{}]") keeps each try to its own stretch of
# the line, so a line of many openings costs one pass, not one per opening.
_BUGCHECK_LINE = _c(r"BugCheck (?:0x)?(HEX{1,8}), \{([^{}]*+)\}", re.I)
_THREAD_PROCESS = _c(r"Owning Process[ ]++HEX++[ ]++Image:[ ]++(\S++)")
_FATAL_ERROR = _c(r"Fatal System Error: 0x(HEX{8})")
_PAREN_ARGS = _c(r"\s*+\(([^)]*+)\)")
# Tried only where a name starts (a file name is at most 255 characters).
_DRIVER_AT_FAULT = _c(r"(?<![\w.$~-])([\w.$~-]{1,255}\.sys)\b", re.I)
_MISSING_PHRASES = ("Unable to load image", "symbols could not be loaded for", "Unable to verify timestamp for",
                    "Unable to verify checksum for")
_MISSING = _c(r"(?:" + "|".join(_MISSING_PHRASES) + r")[ ]++(?:[^\s\\]*+\\)*+([\w.$~-]{1,255}\.(?:sys|dll|exe))", re.I)
_WHOCRASHED_MODULE = _c(r"probably caused by the following module:[ ]*+([\w.$~-]++)(?:[ ]*+\(([^)]*+)\))?", re.I)
_STOP_CODE = _c(r"(?:Stop ?code|停止代码|终止代码)[ ]*+[:：]?[ ]*+([A-Za-z][A-Za-z0-9_]{3,80})(?:[ ]*+\((?:0x)?(HEX{1,8})\))?", re.I)
# What an engineer types in prose: "BugCheck: 0x1a", "蓝屏代码 0x139".
_PROSE_CODE = _c(r"(?:bug ?check(?: code)?|stop code|蓝屏代码|错误代码)[ :：]*+(?:is )?0x(HEX{1,8})\b", re.I)

_HEX_CHARS = frozenset("0123456789abcdefABCDEF")
_NUMBERS = "0123456789abcdefABCDEF :"  # what a line of hex words, blanks and colons is made of
MAX_LINE = 2048  # characters of one line any pattern sees
MAX_VALUE = 512  # characters of a field's value kept
_LM_DETAIL_WORDS = frozenset((
    "Loaded", "Image", "Timestamp:", "CheckSum:", "Checksum:", "ImageSize:", "File", "Product", "CompanyName:",
    "ProductName:", "FileDescription:", "OriginalFilename:", "InternalName:", "FileVersion:", "ProductVersion:",
    "LegalCopyright:",
))
_BSV_WORDS = frozenset(("Bug", "Parameter", "Caused", "Crash", "Processor", "Major", "Minor", "Dump"))
_DUMP_KIND_WORDS = frozenset(("Mini", "Kernel", "Full", "Complete", "User", "Automatic"))


def _arg_event(pos: int, number: str, digits: str, meaning: str) -> Event:
    """An argument line's fact: its number, value and meaning (blanks made
    single), or the digits no 64-bit value can be."""
    value = int(digits, 16)
    if value > MAX_ARG:
        return Event(pos, "bad_arg", (int(number), digits[:64]))
    return Event(pos, "arg", (int(number), value, " ".join(meaning[:MAX_VALUE].split())))


def _hex(text: str) -> int | None:
    text = text.strip().rstrip(",").replace("`", "")
    if text.lower().startswith("0x"):
        text = text[2:]
    try:
        return int(text, 16) if text else None
    except ValueError:
        return None


# No bug check argument is wider than 64 bits: "fffffee01381e0b00" (17
# digits, from a retyped e-mail) is flagged and not used as a value.
MAX_ARG = (1 << 64) - 1


def _args(text: str, sep: str | None = ",") -> tuple[list[int | None], list[tuple[int, str]]]:
    """The arguments of "BugCheck 1A, {...}" and its kin, and those that
    cannot be values (argument number, as written)."""
    values: list[int | None] = []
    bad: list[tuple[int, str]] = []
    for n, word in enumerate(text.split(sep)[:4], 1):
        value = _hex(word)
        if value is not None and value > MAX_ARG:
            bad.append((n, word.strip().rstrip(",")[:64]))
            value = None
        values.append(value)
    return values, bad


# Where a line may say something.  Most lines of a transcript say nothing
# any reader looks for (prose, blank lines, dumped memory, the rest of a
# stack's columns); finding the others is left to the regex engine, over
# the whole text, so that Python never sees the rest.  Both sets are
# *supersets* of what the line readers below can take: a line left out
# could not have given a fact, and a line taken in needlessly gives none,
# so the facts are those a read of every line gives.
#
# A line is taken in when its start (after blanks) could open a line the
# readers know: a number (frame, lm, memory row, prompt), a banner's
# name line, one of !analyze's keys, a bug check's name, or the words the
# line readers dispatch on, each as far as its reader needs it.
def _trie(words: set[str]) -> str:
    """A pattern for exactly these words whose every choice starts with a
    literal, so the engine skips the choices of other first letters."""
    heads: dict[str, set[str]] = {}
    for word in words:
        heads.setdefault(word[:1], set()).add(word[1:])
    ends = "" in heads
    branches = [re.escape(head) + _trie(rest) for head, rest in sorted(heads.items()) if head]
    if not branches:
        return ""
    body = "(?:" + "|".join(branches) + ")"
    return body + "?" if ends else body


_H = "[0-9a-fA-F]"
# The words the line readers dispatch on, as far as each reader needs them
# before its pattern can match (``_UPPER_WORDS`` and the tests of
# _upper_line, _lower_line and _star_line).
_OPENING_WORDS = (
    "Arg1:", "Arg2:", "Arg3:", "Arg4:", "Unknown bugcheck code", "Bug ", "Bugcheck ", "BugCheck ",
    "Probably caused by", "Windows", "Built by:", "Edition build lab:", "Loading Dump File [", "Debug session time:",
    "System Uptime:", "ExceptionCode: ", "ExceptionAddress: ", "Subcode: ", "DBGHELP:", "Unloaded modules:",
    "Parameter 1", "Parameter 2", "Parameter 3", "Parameter 4", "Caused By Driver", "Caused By Address",
    "Crash Address", "Crash Time", "Processor", "Major Version", "Minor Version", "Dump File", "kd>", "lkd>",
    "bug check code", "bugcheck code",
)
# The dump kinds' first words (as written) and what may follow them (any case).
_DUMP_KINDS = (("Mini", ("kernel",)), ("Kernel", ("bitmap", "summary", "complete")), ("Full", ("kernel",)),
               ("Complete", ("dump",)), ("User", ("mini",)), ("Automatic", ("dump",)))
# The labels of lm's details: a first letter of either case, the rest in any.
_LM_LABELS = (("l", ("oaded symbol image file",)), ("i", ("mage path", "mage name", "magesize", "nternalname")),
              ("t", ("imestamp",)), ("c", ("hecksum", "ompanyname")), ("f", ("ile version", "iledescription", "ileversion")),
              ("p", ("roduct version", "roductname", "roductversion")), ("o", ("riginalfilename",)), ("l", ("egalcopyright",)))
_LINE_START = re.compile(
    r"\n[ ]*+(?=[!-~])(?:"
    # The two commonest lines are read here whole (see Scanner.run): a key
    # of !analyze with its value (groups 2, 3) and a "Key : name" line of
    # newer debuggers, noting whether a "Value:" line follows it (5, 6).
    rf"(?P<field>({_trie(ANALYSIS_FIELDS)}):[ ]*+([^\n]*+))"
    r"|(?P<key>Key[ ]++:[ ]*+([\w.]++)[ ]*+(?![^\n])(?:(?=\n[ ]{0,%d}+Value:()))?)" % (MAX_LINE - 6)
    # ... and an argument line whose next line does not go on with its
    # meaning (see Scanner.go_on_wrap), a frame of the plain shape, and a
    # line of numbers alone before another (memory dumped by dq/dd: no
    # fact, and no frame whose call site went to the next line).
    + r"|(?P<numbers>[0-9a-fA-F :]++(?=\n[0-9a-fA-F :]*+(?![^\n])))"
    + rf"|(?P<arg>Arg(?P<a_n>[1-4]): (?P<a_digits>{_H}++)\b(?:,? ?(?P<a_meaning>[^\n]*+))?(?=\n(?![ ]{{3}})[\s\S]))"
    + f"|(?P<frame>{PLAIN_FRAME_BODY})"
    + "|" + _trie(set(_OPENING_WORDS))
    # a number (frame, lm, memory row) or a call site, a prompt, a line of
    # stars or hashes (a banner, a name line, "*** Fatal System Error") but
    # one of nothing else (a banner's borders: a third of the lines read the
    # long way in the bench corpus, and none says anything)
    + rf"|(?:{_H}{{2,4}}[ ]++)?(?:{_H}{{8}}|[\w.$-]++(?:!|\+0x))|[0-9]\d*+:|[*#](?![*# ]*+(?![^\n]))"
    rf"|THREAD {_H}{{8}}|Key[ ]++:|start[ ]++end"
    # a bug check's name alone on its line (as far as a line is read), or with its code
    r"|[A-Z][A-Z0-9]*+_[A-Z0-9_]*+(?: \(|[ *]*+(?:(?![^\n])|(?<=[^\n]{%d})))" % MAX_LINE
    + "|" + "|".join(f"{first} (?i:{'|'.join(seconds)})" for first, seconds in _DUMP_KINDS)
    + "|(?:" + "|".join(f"[{first}{first.upper()}](?i:{'|'.join(rests)})" for first, rests in _LM_LABELS) + ")[ ]*+:"
    r")")
# ... or when it holds what ``_midline`` looks for first (each of its
# tests asks for one of these words; a BugCheck line for its ", {"); and a
# code in prose is a "0x" after a keyword, its blanks or a colon.  (What a
# banner line is known by is read on every line that starts with a star:
# each word here is one more scan of the whole text.)
_MIDLINE_WORDS = (", {", "Owning Process", "nable to", "could not be loaded", "t fault", "following module",
                  "ode", "ODE", "代码")
# The mid-line words only the stop code's test asks for.
_STOP_CODE_WORDS = frozenset(("ode", "ODE", "代码"))


def _says_stop_code(line: str) -> bool:
    """Whether _midline's stop code test reads the line (a piece of one)."""
    if "code" in line or "Code" in line or "代码" in line or "CODE" in line:
        low = line.lower()
        return "stop code" in low or "stopcode" in low or "停止代码" in line or "终止代码" in line
    return False


_PROSE_HEX = (re.compile("0x(?<=[kKeE码\u212a :：]0x)"), re.compile("0X(?<=[kKeE码\u212a :：]0X)"))
# The text is read in segments of about this many characters (some 4,000
# short lines), each ending at a line end; the clock is looked at between two.
_SEGMENT = 16 * 1024
# Keys whose value, when the line has none, is the next line.
_VALUE_NEXT = ("FAULTING_IP", "FOLLOWUP_IP")
# "Key : name" lines whose value is a fact (``_key``).
_KEYS_READ = frozenset(("bugcheck.code.legacyapi", "bugcheck.code.targetmodel", "bugcheck.code.kibugcheckdata",
                        "failure.bucket", "failure.hash"))


def _midline_lines_py(text: str, a: int, b: int, max_line: int = MAX_LINE) -> tuple[list[int], dict[int, set[int]]]:
    """The lines of text[a:b] (a at a line start) that hold one of the
    mid-line words, by their start; and for a line over MAX_LINE
    characters (``max_line``), the further pieces of it that hold one.  A few passes of
    str.find over the block, at memchr speed."""
    found = [a]
    pieces: dict[int, set[int]] = {}
    # The last hit of this word's pass and its line: the line of the next
    # (further on) is looked for back to there only.  Looked for back to
    # ``a``, a line of pieces each holding the word cost the line's length
    # per piece: 3.4 s for a line of 8 million characters.
    last = [a, a]

    def hit(at: int, stop_code: bool = False) -> int:
        """Note the line (and piece) of a word at ``at``; where to look on.
        ``stop_code``: the word is one only the stop code's test asks for,
        and the line is noted only when that test takes it (most lines
        with "code" in them are not about a stop code)."""
        line = text.rfind("\n", last[0], at) + 1 or last[1]
        last[:] = at, line
        piece = line + (at - line) // max_line * max_line
        end = text.find("\n", at, piece + max_line)
        end = end if end >= 0 else piece + max_line
        if stop_code and not _says_stop_code(text[piece:end]):
            return end
        found.append(line)
        if piece != line:
            pieces.setdefault(line, set()).add(piece)
        return end

    for word in _MIDLINE_WORDS:
        stop_code = word in _STOP_CODE_WORDS
        last[:] = a, a
        at = text.find(word, a, b)
        while at >= 0:
            at = text.find(word, hit(at, stop_code), b)
    for pattern in _PROSE_HEX:
        last[:] = a, a
        m = pattern.search(text, a, b)
        while m:
            m = pattern.search(text, hit(m.start()), b)
    return sorted(set(found)), pieces


# The same in one pass of C over the characters (csrc/midline.c), where it
# was built: on a text stored two bytes a character (any Chinese in it) the
# eleven passes above cost more than the whole line-start scan.
_NATIVE_MIDLINE = native.load("midline")


# The walk over the lines in C (csrc/lines.c; Scanner._walk), given the
# tables the line pattern above is made of: the words each of its
# branches starts with, so that it passes over a line only when no
# branch can match it.
_NATIVE_LINES = native.load("lines")
if _NATIVE_LINES is not None:
    # What csrc/lines.c reads as a field's name: capitals, digits and "_", a capital first.
    assert all("A" <= name[0] <= "Z" and set(name) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") for name in ANALYSIS_FIELDS)
    # (Named: tests/test_native.py gives setup wrong ones and then these again.)
    _LINES_TABLES = (
        Event, Frame, {name: name for name in ANALYSIS_FIELDS}, set(_VALUE_NEXT),
        (*_OPENING_WORDS, "Key ", "THREAD ", "start"),  # (the key lines: "Key" and a blank at least)
        "".join(first for first, rests in _LM_LABELS for _ in rests),
        tuple(rest for _, rests in _LM_LABELS for rest in rests),
        tuple(first + " " for first, seconds in _DUMP_KINDS for _ in seconds),
        tuple(second for _, seconds in _DUMP_KINDS for second in seconds), tuple(sorted(NOT_MODULES)),
        tuple(sorted(_KEYS_READ)), tuple(sorted(_LM_DETAIL_WORDS)), tuple(p.lower() for p in _MISSING_PHRASES),
        MAX_LINE, MAX_VALUE)
    _NATIVE_LINES.setup(*_LINES_TABLES)


def _midline_lines(text: str, a: int, b: int) -> tuple[list[int], dict[int, set[int]]]:
    if _NATIVE_MIDLINE is not None:
        return _NATIVE_MIDLINE.midline_lines(text, a, b, MAX_LINE)
    return _midline_lines_py(text, a, b)


class Scanner:
    """Reads a text block by block (a whole text is one block).  What a
    block ends with, a line whose next line is not known yet, is kept and
    read with the next block (``tail``); an argument whose wrapped meaning
    runs to the end of the block goes on there."""

    __slots__ = ("text", "cur", "nxt", "out", "deadline", "stopped_at", "final", "wrap", "tail", "base",
                 "lines_before")

    def __init__(self, deadline: Deadline = NEVER):
        self.text = ""
        self.cur = 0  # where the line being read starts
        self.nxt = 0  # where the line after it starts (past a line a fact took with it)
        self.out: list[Event] = []
        self.deadline = deadline
        self.stopped_at: int | None = None  # the character of the block the time ran out at
        self.final = True
        self.wrap: tuple[str, str, str] | None = None  # an argument still taking wrapped lines
        self.tail = ""
        # Where ``text`` starts in the whole text: its character, and the
        # lines before it (an event's position counts from ``text``).
        self.base = 0
        self.lines_before = 0

    def add(self, kind: str, value: Any) -> None:
        self.out.append(Event(self.cur, kind, value))

    def add_bugcheck(self, code: int, args: tuple[list[int | None], list[tuple[int, str]]]) -> None:
        values, bad = args
        self.add("bugcheck", (code, values))
        for n, text in bad:
            self.add("bad_arg", (n, text))

    def peek(self) -> str:
        """The next line, cut as the line itself is: a look ahead (a field's
        value on its next line, a wrapped argument) is bounded too."""
        return self.line_from(self.nxt)

    def line_from(self, j: int) -> str:
        """The line that starts at ``j``, cut as a line read is."""
        text = self.text
        end = text.find("\n", j, j + MAX_LINE)
        return text[j : end if end >= 0 else j + MAX_LINE]

    def take_next(self) -> None:
        """The next line belongs to this line's fact: it is not read again."""
        end = self.text.find("\n", self.nxt)
        self.nxt = (end if end >= 0 else len(self.text)) + 1

    def feed(self, block: str, final: bool = True) -> list[Event]:
        """Read ``block`` after what was kept of the last one; the facts
        found (taken out of ``out``).  Not ``final``: the block ends with a
        line end and more text follows."""
        done = len(self.text) - len(self.tail)  # what the last block read (its tail is read again now)
        if done:
            self.lines_before += self.text.count("\n", 0, done)
            self.base += done
        text = self.tail + block if self.tail else block
        self.text, self.final, self.tail = text, final, ""
        n = len(text)
        # Not final: the last line is read with the next block, so that a
        # look at the line after any line read here sees that line.
        limit = n if final else text.rfind("\n", 0, n - 1) + 1
        cursor = 0  # the first line not read yet
        if self.wrap is not None:
            self.cur = self.nxt = 0
            self.go_on_wrap()
            cursor = self.nxt
        if self.wrap is None and self.stopped_at is None:
            cursor = self._run(cursor, limit)
        if not final and self.stopped_at is None:
            self.tail = text[max(cursor, limit):]
        out, self.out = self.out, []
        return out

    def run(self) -> list[Event]:
        return self.feed(self.text)

    def _run(self, cursor: int, limit: int) -> int:
        if _NATIVE_LINES is not None:
            return self._walk(cursor, limit)
        text = self.text
        others, pieces = self._others(cursor, limit)
        o = 0
        for seg, stop in self._segments(cursor, limit):
            for m in _LINE_START.finditer(text, seg - 1 if seg else 0, stop):
                start = m.start() + 1
                if others[o] <= start:
                    o, cursor = self._read_others(others, o, start, cursor, pieces)
                    if self.wrap is not None:
                        return cursor
                    if others[o] == start:
                        o += 1
                if start < cursor:
                    continue
                cursor = self._take(m, start, stop, cursor, pieces)
                if self.wrap is not None:
                    return cursor
            o, cursor = self._read_others(others, o, stop, cursor, pieces)
            if self.wrap is not None:
                return cursor
        return cursor

    def _walk(self, cursor: int, limit: int) -> int:
        """``_run`` with the walk over the lines in C (csrc/lines.c): it
        reads the lines of the shapes the pattern reads whole itself and
        the commonest of the long way's (a bug check's name, "Probably
        caused by", a crash's arguments), passes over the lines no branch of
        _LINE_START can match, and hands back each other line, which is
        matched (or read the long way) here as ``_run`` reads it."""
        assert _NATIVE_LINES is not None
        scan = _NATIVE_LINES.scan
        match = _LINE_START.match
        text = self.text
        out = self.out
        others, pieces = self._others(cursor, limit)
        o = 0
        for seg, stop in self._segments(cursor, limit):
            pos = seg
            while True:
                start, cursor, long_way = scan(text, pos, others[o], stop, cursor, out)
                if start >= stop:
                    break
                if long_way == 2:  # a mid-line word's line (others[o]), read in C
                    o += 1
                    pos = cursor
                    continue
                # The lines a mid-line word is in before this one are read
                # as the match after them would read them in _run; with no
                # match between, reading them now reads them in the same order.
                o, cursor = self._read_others(others, o, start, cursor, pieces)
                if self.wrap is not None:
                    return cursor
                m = None
                other = others[o] == start
                if other:  # (a mid-line word's line: read, matched or not)
                    o += 1
                    if not long_way:
                        m = match(text, start - 1, stop)
                        long_way = m is None
                elif not long_way and start >= cursor:
                    m = match(text, start - 1, stop)
                if long_way:
                    # What _take does with a line of no shape it reads whole;
                    # or a line the pattern might not match at all, which
                    # then says nothing (tests/test_text_gates.py: reading
                    # every line says what the lines the pattern takes say).
                    # A line the walk sends here holds no mid-line word (it
                    # stops at those): nothing is looked for mid-line in it.
                    cursor = self._read_other(start, cursor, pieces, other)
                elif m is not None and start >= cursor:
                    cursor = self._take(m, start, stop, cursor, pieces)
                if self.wrap is not None:
                    return cursor
                end = text.find("\n", start, stop)
                pos = end + 1 if end >= 0 else stop
            o, cursor = self._read_others(others, o, stop, cursor, pieces)
            if self.wrap is not None:
                return cursor
        return cursor

    def _others(self, cursor: int, limit: int) -> tuple[list[int], dict[int, set[int]]]:
        """The lines that hold a mid-line word, with a sentinel past the
        last, and the further pieces of the long ones that do."""
        others, pieces = _midline_lines(self.text, cursor, limit)
        others.append(len(self.text) + 1)
        return others, pieces

    def _segments(self, seg: int, limit: int) -> Iterator[tuple[int, int]]:
        """text[seg:limit] in segments of about _SEGMENT characters, each
        ending at a line end; the clock is looked at between two."""
        text = self.text
        while seg < limit:
            if seg and self.deadline.expired():
                self.stopped_at = seg
                return
            stop = text.find("\n", seg + _SEGMENT, limit)
            stop = limit if stop < 0 else stop + 1
            yield seg, stop
            seg = stop

    def _read_others(self, others: list[int], o: int, before: int, cursor: int,
                     pieces: dict[int, set[int]]) -> tuple[int, int]:
        """Read the lines a mid-line word is in from others[o] to ``before``
        (until one starts a wrapped argument); the next of them, the cursor."""
        while others[o] < before:
            cursor = self._read_other(others[o], cursor, pieces)
            if self.wrap is not None:
                break
            o += 1
        return o, cursor

    def _read_other(self, start: int, cursor: int, pieces: dict[int, set[int]], midline: bool = True) -> int:
        """Read a line a mid-line word is in, unless a fact before it took it
        (``midline``: False for a line known to hold none)."""
        if start < cursor:
            return cursor
        cursor = self._read(start, midline)
        if pieces and start in pieces:
            self._read_pieces(pieces[start])
        return cursor

    def _take(self, m: re.Match, start: int, stop: int, cursor: int, pieces: dict[int, set[int]]) -> int:
        """Read the line _LINE_START matched (m) at ``start``; the new cursor."""
        kind, end = m.lastgroup, m.end()
        # What _read would make of the line, without the detour: it
        # holds exactly this much (a longer one is cut first, and
        # read in pieces).  The pattern sees the text only up to
        # ``stop``: at the segment's (or a block's) last line but
        # one, its looks at the next line (the Value line of a key,
        # the line after one of numbers) saw an end of text that is
        # not there.
        if kind == "field" and end - start <= MAX_LINE:
            value = m[3].strip()
            cursor = end + 1
            if not value and m[2] in _VALUE_NEXT:  # "FAULTING_IP:\nnt!KiPageFault+260"
                value = self.line_from(cursor).strip()
            self.out.append(Event(start, "field", (m[2], value[:MAX_VALUE])))
        elif kind == "frame" and end - start <= MAX_LINE:
            frame = plain_frame(m)
            if frame is not None:
                self.out.append(Event(start, "frame", frame))
            cursor = end + 1
        elif kind == "arg" and end - start <= MAX_LINE:
            self.out.append(_arg_event(start, m["a_n"], m["a_digits"], m["a_meaning"] or ""))
            cursor = end + 1
        elif (kind == "key" and (end + 1 < stop or stop >= len(self.text)) and m.end(4) - start <= MAX_LINE
              and m[5].lower() not in _KEYS_READ):
            cursor = m.end(4) + 1
            if m[6] is not None:  # the Value line goes with it
                value_end = self.text.find("\n", cursor)
                cursor = (value_end if value_end >= 0 else len(self.text)) + 1
        elif kind == "numbers" and (end + 1 < stop or stop >= len(self.text)):
            cursor = end + 1
        else:
            # (Only the long way reads a line in pieces or starts a
            # wrapped argument.)
            cursor = self._read_other(start, -1, pieces)
        return cursor

    def go_on_wrap(self) -> None:
        """WinDbg wraps long meanings onto lines indented under the text:
        they belong to the argument.  At the end of a block that is not the
        last, what follows is not known yet: the argument waits for it."""
        assert self.wrap is not None
        number, digits, meaning = self.wrap
        while True:
            if not self.final and self.nxt >= len(self.text):
                self.wrap = (number, digits, meaning)
                return
            nxt = self.peek()
            if nxt.startswith("   ") and nxt.strip() and not nxt.lstrip().startswith("Arg"):
                if len(meaning) < MAX_VALUE:
                    meaning += " " + nxt.strip()
                self.take_next()
            else:
                break
        self.wrap = None
        self.out.append(_arg_event(self.cur, number, digits, meaning))

    def _read_pieces(self, starts: set[int]) -> None:
        for piece in sorted(starts):
            self._read_piece(piece)

    def _read(self, start: int, midline: bool = True) -> int:
        """Read the line at ``start``; where the next line to read starts.
        ``midline``: False when the line holds no mid-line word, so that
        _midline can find nothing in it."""
        text = self.text
        end = text.find("\n", start)
        if end < 0:
            end = len(text)
        self.cur, self.nxt = start, end + 1
        # No debugger line is this long; a pasted blob is read in pieces so
        # that no pattern can spend more than a bounded time on one.
        line = text[start : min(end, start + MAX_LINE)]
        stripped = line.lstrip(" ")
        if stripped:
            first = stripped[0]
            if first in _HEX_CHARS and _hex_start(stripped) and self._hex_line(line, stripped):
                # Frames, lm and unloaded-module lines state nothing mid-line.
                return self.nxt
            if "A" <= first <= "Z":
                handled = self._upper_line(line, stripped)
            elif "a" <= first <= "z":
                handled = self._lower_line(line, stripped)
            elif first in "*#":
                handled = self._star_line(line, stripped)
            else:
                handled = False
            # A line already read as a field, an argument, an lm detail...
            # holds no second fact in the middle.
            if not handled and midline:
                self._midline(line)
        return self.nxt

    def _read_piece(self, start: int) -> None:
        """A piece of a line past its first MAX_LINE characters: what is
        said mid-line (a BugCheck line, a missing image ...) is looked for
        there too; no line starts in it."""
        nxt = self.nxt
        self.cur = start
        end = self.text.find("\n", start, start + MAX_LINE)
        self._midline(self.text[start : end if end >= 0 else start + MAX_LINE])
        self.nxt = nxt

    # -- line kinds ----------------------------------------------------------
    def _hex_line(self, line: str, s: str) -> bool:
        if ">" in line:
            m = _PROMPT.match(line)
            if m:
                self.add("prompt", m[1].strip())
                return True
        if "(" in line:
            m = _LM.match(line)
            if m:
                self.add("lm", (int(m[1], 16), int(m[2], 16), m[3], m[4], m[5]))
                return True
        if not line.rstrip(_NUMBERS):
            # Only numbers (dq/dd memory output, or a frame whose call site
            # a mail client wrapped onto the next line): no frame without a
            # call site, so the frame pattern is tried only when the next
            # line has more than numbers; and no other fact is made of
            # numbers alone, so the line is done with either way.
            if _FRAME_PREFIX.match(line):
                nxt = self.peek()
                if nxt.rstrip(_NUMBERS):
                    m = _FRAME.match(line + "\n" + nxt)
                    if m:
                        self.take_next()
                        return self._frame(m)
            return True
        m = _FRAME.match(line)
        if m:
            return self._frame(m)
        if "." in line:
            m = _BARE_MODULE.match(line)
            if m:
                self.add("bare_module", (int(m[1], 16), int(m[2], 16), m[3]))
                return True
        if "!" in s or "+0x" in s:
            return self._site_line(line)
        return False

    def _frame(self, m: re.Match) -> bool:
        frame = frame_from_addr_groups(*m.groups())
        if frame is not None:
            self.add("frame", frame)
        return True

    def _site_line(self, line: str) -> bool:
        m = _INSTRUCTION.match(line)
        if m:
            self.add("instruction", m[1])
            return True
        m = _FRAME_SITE.match(line)
        if m:
            frame = frame_from_site_groups(*m.groups())
            if frame is not None:
                self.add("frame", frame)
            return True
        return False

    def _upper_line(self, line: str, s: str) -> bool:
        if ":" in s:
            m = _FIELD.match(line)
            if m and self._field(m):
                return True
        word = s.split(None, 1)[0]
        handler = _UPPER_WORDS.get(word)
        if handler is not None and handler(self, line):
            return True
        if word in _LM_DETAIL_WORDS and self._lm_detail(line):
            return True
        if word in _BSV_WORDS:
            m = _BSV.match(line)
            if m:
                self.add("bsv", (m[1], m[2].strip()))
                return True
        if word in _DUMP_KIND_WORDS:
            m = _DUMP_KIND.match(line)
            if m:
                self.add("dump_kind", m[1])
                return True
        if "_" in s:
            if "(" in s:
                m = _NAME_CODE.match(line)
                if m:
                    self.add("name_code", (m[1], int(m[2], 16)))
                    return True
            m = _NAME_ONLY.match(line)
            if m:
                self.add("bugcheck_name", m[1])
                return True
        if _hex_start(s) and self._hex_line(line, s):
            return True
        if "!" in s or "+0x" in s:
            return self._site_line(line)
        return False

    def _lower_line(self, line: str, s: str) -> bool:
        if s.startswith("start") and _LM_HEADER.match(line):
            self.add("lm_header", None)
            return True
        if ">" in s:
            m = _PROMPT.match(line)
            if m:
                self.add("prompt", m[1].strip())
                return True
        if s.startswith(("bugcheck code", "bug check code")):
            return _whocrashed_or_cmd(self, line)
        if self._lm_detail(line):
            return True
        if "!" in s or "+0x" in s:
            return self._site_line(line)
        return False

    def _star_line(self, line: str, s: str) -> bool:
        if "ugcheck Analysis" in s or "UGCHECK ANALYSIS" in s:
            self.add("banner", None)
            return True
        if s.startswith("#"):
            m = _NAME_CODE.match(line)
            if m:
                self.add("name_code", (m[1], int(m[2], 16)))
                return True
            m = _NAME_ONLY.match(line)
            if m:
                self.add("bugcheck_name", m[1])
                return True
        if "Fatal System Error" in s:
            m = _FATAL_ERROR.search(line)
            if m:
                following = line[m.end():] + "\n" + self.peek()
                pm = _PAREN_ARGS.match(following)
                self.add_bugcheck(int(m[1], 16), _args(pm[1]) if pm else ([], []))
                return True
        return False

    def _midline(self, line: str) -> None:
        if "ug" in line or "UG" in line:
            if "heck " in line or "HECK " in line:
                m = _BUGCHECK_LINE.search(line)
                if m:
                    self.add_bugcheck(int(m[1], 16), _args(m[2]))
        if "Owning Process" in line:
            m = _THREAD_PROCESS.search(line)
            if m:
                self.add("thread_process", m[1])
        if "nable to" in line or "could not be loaded" in line:
            for m in _MISSING.finditer(line):
                self.add("mentioned_module", m[1])
        if "t fault" in line:
            low = line.lower()
            if "driver at fault" in low:
                rest = line[low.index("driver at fault") + 15 :].lstrip(":")[:300] or self.peek()[:300]
                m = _DRIVER_AT_FAULT.search(rest) or _DRIVER_AT_FAULT.search(self.peek()[:300])
                if m:
                    self.add("driver_at_fault", m[1])
        if "following module" in line:
            m = _WHOCRASHED_MODULE.search(line)
            if m:
                self.add("whocrashed_module", (m[1], m[2]))
        if _says_stop_code(line):
            for m in _STOP_CODE.finditer(line):
                if m[2]:
                    self.add("bugcheck", (int(m[2], 16), []))
                self.add("bugcheck_name", m[1].upper())
        if "0x" in line and ("ug" in line or "UG" in line or "代码" in line or "top code" in line):
            for m in _PROSE_CODE.finditer(line):
                self.add("prose_code", int(m[1], 16))

    # -- multi-line facts ------------------------------------------------------
    def _field(self, m: re.Match) -> bool:
        key = m[1]
        if key not in ANALYSIS_FIELDS:
            return False
        value = m[2].strip()[:MAX_VALUE]
        if not value and key in _VALUE_NEXT:
            value = self.peek().strip()[:MAX_VALUE]  # "FAULTING_IP:\\nnt!KiPageFault+260"
        self.add("field", (key, value))
        return True

    def _lm_detail(self, line: str) -> bool:
        m = _LM_DETAIL.match(line)
        if m:
            self.add("lm_detail", (m[1].lower(), m[2].strip()[:MAX_VALUE]))
            return True
        return False


_DIGITS = frozenset("0123456789")
_HEX_STR = "0123456789abcdefABCDEF"


def _hex_start(s: str) -> bool:
    """Does the line open with a number (frame, lm line, prompt) rather than
    a word that merely starts with a-f ("Arguments:", "because")?"""
    if s[0] in _DIGITS:
        return True
    if s[1:2] not in _HEX_CHARS:
        return False  # most words are settled by their second letter
    end = s.find(" ")
    word = s if end < 0 else s[:end]
    return len(word) >= 2 and not word.strip(_HEX_STR)


def _arg(sc: Scanner, line: str) -> bool:
    m = _ARG.match(line)
    if not m:
        return False
    sc.wrap = (m[1], m[2], m[3] or "")
    sc.go_on_wrap()
    return True


def _whocrashed_or_cmd(sc: Scanner, line: str) -> bool:
    m = _BUGCHECK_CMD.match(line)
    if m:
        a = _ARGUMENTS.match(sc.peek())
        sc.add_bugcheck(int(m[1], 16), _args(a[1], None) if a else ([], []))
        return True
    m = _WHOCRASHED_CODE.match(line)
    if m:
        args = m[2]
        if ")" not in line:  # the argument list was wrapped
            args += " " + sc.peek().split(")", 1)[0]
        sc.add_bugcheck(int(m[1], 16), _args(args))
        return True
    m = _WHOCRASHED_NAME.match(line)
    if m:
        sc.add("bugcheck_name", m[1].upper())
        return True
    return False


def _key(sc: Scanner, line: str) -> bool:
    m = _KEY.match(line)
    if not m:
        return False
    v = _VALUE.match(sc.peek())
    if not v:
        return True
    sc.take_next()
    key, value = m[1].lower(), v[1].strip()[:MAX_VALUE]
    if key in ("bugcheck.code.legacyapi", "bugcheck.code.targetmodel", "bugcheck.code.kibugcheckdata"):
        if _hex(value) is not None:
            sc.add("field", ("BUGCHECK_CODE", value.lower().removeprefix("0x")))
    elif key == "failure.bucket":
        sc.add("field", ("FAILURE_BUCKET_ID", value))
    elif key == "failure.hash":
        sc.add("field", ("FAILURE_ID_HASH", value))
    return True


def _one(kind: str, pattern: re.Pattern, convert=lambda m: m[1]):
    def handler(sc: Scanner, line: str) -> bool:
        m = pattern.match(line)
        if m:
            sc.add(kind, convert(m))
            return True
        return False
    return handler


_UPPER_WORDS = {
    **{f"Arg{n}:": _arg for n in "1234"},
    "Unknown": _one("name_code", _UNKNOWN_CODE, lambda m: (None, int(m[1], 16))),
    "Bugcheck": _whocrashed_or_cmd,
    "BugCheck": _whocrashed_or_cmd,
    "Bug": _whocrashed_or_cmd,
    "Probably": _one("caused_by", _CAUSED_BY, lambda m: m[1].strip()),
    "Windows": _one("kernel_version", _KERNEL_VERSION, lambda m: (m[1].strip(), int(m[2]), m[3])),
    "Built": _one("built_by", _BUILT_BY),
    "Edition": _one("built_by", _BUILT_BY),
    "Loading": _one("loading", _LOADING, lambda m: m[1].strip()),
    "Debug": _one("session_time", _SESSION_TIME, lambda m: m[1].strip()),
    "System": _one("uptime", _UPTIME, lambda m: m[1].strip()),
    "THREAD": _one("thread", _THREAD, lambda m: None),
    "ExceptionCode:": _one("exception_code", _EXCEPTION_CODE, lambda m: int(m[1], 16)),
    "ExceptionAddress:": _one("exception_address", _EXCEPTION_ADDR, lambda m: (int(m[1], 16), m[2])),
    "Subcode:": _one("subcode", _SUBCODE, lambda m: (int(m[1], 16), m[2])),
    "DBGHELP:": _one("mentioned_module", _DBGHELP, lambda m: m[1] if "." in m[1] else m[1] + ".sys"),
    "Key": _key,
    "Unloaded": _one("unloaded_header", re.compile(r"[ ]*+Unloaded modules:[ ]*+$"), lambda m: None),
}


def scan(text: str) -> list[Event]:
    return Scanner().feed(text)


def scan_within(text: str, deadline: Deadline) -> tuple[list[Event], float | None]:
    """The events of the text read before the deadline, and the share of it
    read when it ran out (None: all was)."""
    scanner = Scanner(deadline)
    events = scanner.feed(text)
    if scanner.stopped_at is None:
        return events, None
    return events, scanner.stopped_at / len(text)

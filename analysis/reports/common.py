"""What the report readers share: bounded lines, numbers as the tools
print them, bug check names as people retype them, and the record of one
crash in the findings vocabulary."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache

from analysis import catalog, marks
from analysis.eventlog.event import cut_lines
from analysis.findings import Claim, Claimant, Findings
from analysis.marks import Marks  # noqa: F401  (the readers take their gates from here, with the rest they share)
from analysis.model import BugCheck, DumpReport, Frame, ModuleInfo, module_key

MAX_LINE = 2048  # characters of one line a reader looks at
MAX_VALUE = 512  # characters of one field's value kept
MAX_CRASHES = 500  # crashes one report may describe (a BlueScreenView list of years)
MAX_NAME = 120  # a module or bug check name is never longer

_HEX = frozenset("0123456789abcdefABCDEF")


_LINES: list[tuple[str, list[str]]] = []
_LOWER: list[tuple[str, str]] = []


def lines(text: str) -> list[str]:
    """The text's lines, each cut to a bounded length, tabs kept.  The
    readers of one text share one list (kept until ``forget``): do not
    change it."""
    if _LINES and _LINES[0][0] is text:
        return _LINES[0][1]
    rows = cut_lines(text, MAX_LINE)
    _LINES[:] = [(text, rows)]
    return rows


def forget() -> None:
    """Let go of the last text's lines, lowered and folded copies (once its readers are done)."""
    _LINES.clear()
    _LOWER.clear()
    marks.forget()


def lowered(text: str) -> str:
    """``text.lower()``, made once for the readers of one text (its lines
    are the lowered lines of ``text``: lowering never adds or drops a
    line break)."""
    if _LOWER and _LOWER[0][0] is text:
        return _LOWER[0][1]
    low = text.lower()
    _LOWER[:] = [(text, low)]
    return low


def marked_rows(low: str, words: tuple[str, ...], start: int = 0, end: int | None = None, row: int = 0) -> list[int]:
    """The numbers of the lines (as ``lines`` counts them) of the lowered
    text ``low`` that hold one of ``words``, in order, each once: found
    with str.find in C, at most once per line and word.  A reader walks
    these rows instead of every line, so its words must be in every line
    its own test takes (a row may hold a word and still be passed over:
    the reader decides on the line itself).  Only ``low[start:end]`` is
    searched when they are given: ``start`` where line ``row`` begins,
    ``end`` where a line begins (or the end)."""
    return [r for r, _ in marked_lines(low, words, start, end, row)]


def marked_lines(low: str, words: tuple[str, ...], start: int = 0, end: int | None = None,
                 row: int = 0) -> list[tuple[int, int]]:
    """``marked_rows``, each with where its line begins in ``low``."""
    stop = len(low) if end is None else end
    hits: list[int] = []
    for word in words:
        at = low.find(word, start, stop)
        while at >= 0:
            hits.append(at)
            nl = low.find("\n", at, stop)
            if nl < 0:
                break
            at = low.find(word, nl, stop)
    hits.sort()
    out: list[tuple[int, int]] = []
    last = start
    for at in hits:
        row += low.count("\n", last, at)
        last = at
        if not out or out[-1][0] != row:
            out.append((row, max(low.rfind("\n", start, at) + 1, start)))
    return out


def walk_marked_rows(low: str, words: tuple[str, ...], start: int, end: int, row: int,
                     needed: Callable[[str], bool]) -> Iterator[int]:
    """``marked_rows(low, words, start, end, row)``, one row at a time, each
    word searched on only while ``needed(word)`` (asked after each row the
    caller has read): a reader whose rows each fill one field per word
    stops scanning for a word once its field is filled."""
    return (r for r, _ in walk_marked_lines(low, words, start, end, row, needed))


def walk_marked_lines(low: str, words: tuple[str, ...], start: int, end: int, row: int,
                      needed: Callable[[str], bool]) -> Iterator[tuple[int, int]]:
    """``walk_marked_rows``, each row with where its line begins in ``low``
    (as ``marked_lines`` gives them)."""
    nexts: dict[str, int] = {}
    for word in words:
        at = low.find(word, start, end)
        if at >= 0:
            nexts[word] = at
    last = start
    while nexts:
        at = min(nexts.values())
        row += low.count("\n", last, at)
        last = at
        yield row, max(low.rfind("\n", start, at) + 1, start)
        line_end = low.find("\n", at, end)
        for word in list(nexts):
            if not needed(word):
                del nexts[word]
            elif line_end < 0 or nexts[word] < line_end:  # on the row just read: on to the next one
                following = low.find(word, line_end, end) if line_end >= 0 else -1
                if following < 0:
                    del nexts[word]
                else:
                    nexts[word] = following


# What str.split() and str.strip() take for blanks, but the line break
# (tests/test_text_gates.py checks it against str.isspace).
BLANKS = "\t\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def label_pattern(labels: Iterable[str], also: str = "") -> re.Pattern[str]:
    """Lines that may be a "Label: value" line of one of ``labels`` (each
    lowered, its words single-blanked): the label's words after blanks and
    stray colons at the line's start, then a blank or a colon.  The labels
    become a trie, so each line start costs a few steps, not one per label.
    Searched in ``"\n" + lowered(text)`` (see ``label_rows``); ``also``: a
    further alternative, after the line break."""
    labels = list(labels)
    trie: dict = {}
    for label in labels:
        node = trie
        for ch in label:
            node = node.setdefault(ch, {})
        node[""] = {}

    def walk(node: dict) -> str:
        alts = []
        for ch in sorted(k for k in node if k):
            step = f"[{BLANKS}]++" if ch == " " else re.escape(ch)
            alts.append(step + walk(node[ch]))
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 and "" not in node else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    # The labels' first characters as one class ahead of the trie: the
    # engine tests a line's first character once, not against each branch.
    first = "".join(sorted({re.escape(label[0]) for label in labels if label}))
    words = f"[{BLANKS}:：]*+(?=[{first}]){walk(trie)}(?=[{BLANKS}:：])"
    return re.compile("\n(?:" + words + (f"|{also}" if also else "") + ")")


def label_rows(low: str, pattern: re.Pattern[str]) -> list[int]:
    """The numbers of the lines of the lowered text ``low`` (or of the text
    itself) that a ``label_pattern`` (or another pattern that matches from a
    line break) finds, in order: one scan in C, and Python sees only those
    lines."""
    return [row for row, _ in label_places(low, pattern)]


def label_places(text: str, pattern: re.Pattern[str]) -> Iterator[tuple[int, int]]:
    """The rows ``label_rows`` gives, each with where its line begins in ``text``."""
    row = at = 0
    for m in pattern.finditer("\n" + text):
        begin = m.start()  # the break's place in "\n" + text: its line's in text
        row += text.count("\n", at, begin)
        at = begin
        yield row, begin


def line_at(text: str, start: int) -> str:
    """The line of ``text`` that begins at ``start``, as ``lines`` has it."""
    end = text.find("\n", start, start + MAX_LINE)
    return text[start : start + MAX_LINE if end < 0 else end].rstrip("\r")


class Rows:
    """The lines of a text as ``lines`` has them, each taken from where it
    begins in the text's lowered copy (where a reader's ``marked_lines``
    found it): the text's other lines never become Python objects.  The
    places are the text's own unless lowering lengthened a character
    (U+0130); then the lines are cut after all."""

    def __init__(self, text: str, low: str | None = None) -> None:
        """``low``: the lowered copy the places are in (None: the text itself)."""
        self.text = text
        self._places = text if low is None else low
        self._count: int | None = None
        self._rows = None if low is None or len(low) == len(text) else lines(text)

    def __len__(self) -> int:
        if self._count is None:  # counted when asked (a scan of the text)
            self._count = self.text.count("\n") + 1  # lowering never adds or drops a break
        return self._count

    def line(self, row: int, begin: int) -> str:
        """lines(text)[row], which begins at ``begin``."""
        return line_at(self.text, begin) if self._rows is None else self._rows[row]

    def next_begin(self, begin: int) -> int:
        """Where the line after the one beginning at ``begin`` begins (there must be one)."""
        return self._places.index("\n", begin) + 1

    def after(self, row: int, begin: int) -> str:
        """lines(text)[row + 1] (there must be one) of line ``row``, which begins at ``begin``."""
        if self._rows is not None:
            return self._rows[row + 1]
        return line_at(self.text, self.next_begin(begin))

    def run(self, row: int, begin: int, end_row: int, limit: int) -> list[str]:
        """lines(text)[row:end_row][:limit], line ``row`` beginning at ``begin``."""
        if self._rows is not None:
            return self._rows[row:end_row][:limit]
        text, out = self.text, []
        for _ in range(min(end_row - row, limit)):
            out.append(line_at(text, begin))
            end = text.find("\n", begin)
            if end < 0:
                break
            begin = end + 1
        return out

    def head(self, count: int) -> list[str]:
        """lines(text)[:count]."""
        if self._rows is not None:
            return self._rows[:count]
        return self.run(0, 0, count, count)  # (the run stops at the text's end)


def hex_int(text: str | None) -> int | None:
    """'0x0000001a', '00000000`00000010', 'fffff806`4b6a1b2e', '1a' -> int."""
    if not text:
        return None
    word = text.strip().split(None, 1)[0].rstrip(",;)").lstrip("(").replace("`", "")
    if word[:2] in ("0x", "0X"):
        word = word[2:]
    if not word or len(word) > 16 or not all(c in _HEX for c in word):
        return None
    return int(word, 16)


def hex_list(text: str, limit: int = 4) -> list[int | None]:
    """'0x41792, 0xFFFF..., 0x1, 0x0' (commas, blanks or both) -> ints."""
    words = text.replace(",", " ").split()
    return [hex_int(w) for w in words[:limit]]


def image_name(text: str | None) -> str | None:
    """A module's file name from what a tool printed: a path, 'x.sys+1b2e',
    'tmxpflt.sys (TmXPFlt+0x1234)'.  None when nothing file-like is there."""
    if not text:
        return None
    word = text.strip().split(None, 1)[0] if text.strip() else ""
    word = word.rsplit("\\", 1)[-1].split("+", 1)[0].strip("()[]'\",;")
    if not word or len(word) > MAX_NAME or not _name_chars(word):
        return None
    return word


def _name_chars(word: str) -> bool:
    return all(c.isalnum() or c in "._-$~" for c in word)


def module_of(image: str) -> str:
    """'TmXPFlt.sys' -> 'TmXPFlt' (the spelling kept)."""
    return image.rsplit(".", 1)[0] if "." in image else image


def address_frame(text: str | None) -> Frame | None:
    """'ntoskrnl.exe+3f5b40' (BlueScreenView's address columns) -> a frame."""
    if not text or "+" not in text:
        return None
    name, _, off = text.strip().partition("+")
    image = image_name(name)
    offset = hex_int(off)
    if image is None or offset is None:
        return None
    return Frame(module=module_of(image), offset=offset)


# ---------------------------------------------------------------- bug checks

@cache
def _names() -> dict[str, int]:
    # The catalog keeps its tables private and looks names up one at a
    # time; a nearest-name search needs them all.
    facts, _ = catalog._bugcheck_tables()
    return {entry["name"]: int(key, 16) for key, entry in facts.items()}


MAX_EDITS = 2


@dataclass(slots=True, frozen=True)
class NamedCode:
    code: int
    name: str
    typed: str | None = None  # what the text said, when it was corrected


def bugcheck_from_name(text: str | None) -> NamedCode | None:
    """A bug check name as a person wrote it: exact, with blanks for the
    underscores, in any case, or one or two letters off the real name (the
    unambiguous nearest only; a short name must match closer)."""
    if not text:
        return None
    raw = text.strip()[:MAX_NAME]
    wanted = "_".join(raw.replace("_", " ").split()).upper()
    if len(wanted) < 4:
        return None
    names = _names()
    if wanted in names:
        return NamedCode(names[wanted], wanted)
    limit = 1 if len(wanted) < 12 else MAX_EDITS
    best: list[str] = []
    best_d = limit + 1
    for name in names:
        if abs(len(name) - len(wanted)) > limit:
            continue
        d = bounded_distance(wanted, name, min(limit, best_d))
        if d < best_d:
            best, best_d = [name], d
        elif d == best_d and d <= limit:
            best.append(name)
    if len(best) != 1 or best_d > limit:
        return None
    return NamedCode(names[best[0]], best[0], typed=raw)


def bounded_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, or limit + 1 as soon as it must exceed limit
    (only a band of width 2*limit+1 is computed: O(len * limit))."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    over = limit + 1
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        lo, hi = max(1, i - limit), min(len(b), i + limit)
        cur = [over] * (len(b) + 1)
        if lo == 1:
            cur[0] = i
        row_min = cur[0] if lo == 1 else over
        ca = a[i - 1]
        for j in range(lo, hi + 1):
            cost = 0 if ca == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            cur[j] = v
            if v < row_min:
                row_min = v
        if row_min > limit:
            return over
        prev = cur
    return min(prev[len(b)], over)


def code_from_words(code_text: str | None, name_text: str | None) -> tuple[int | None, list[str]]:
    """The bug check from a hex code and/or a name (either may be missing
    or mistyped): the code when it is a number, else the name's.  Notes say
    what was corrected."""
    notes: list[str] = []
    code = hex_int(code_text) if code_text else None
    named = bugcheck_from_name(name_text)
    if named and named.typed is not None:
        notes.append(corrected_note(named))
    if code is None and named is not None:
        code = named.code
    return code, notes


CORRECTED = "stop_code_corrected"


def corrected_note(named: NamedCode) -> str:
    """The note a renderer words as "the stop code was read as X (typed Y)"."""
    return f"{CORRECTED}:{named.typed}:{named.name}"


# ------------------------------------------------------------------- records

def new_crash(source: str, kind: str) -> tuple[DumpReport, Findings]:
    return DumpReport(source=source, kind=kind), Findings()


def set_bugcheck(report: DumpReport, code: int | None, args: list[int | None]) -> None:
    if code is None:
        report.partial = True
        report.notes.append("no_bugcheck")
        return
    args = list(args[:4])
    while args and args[-1] is None:
        args.pop()
    report.bugcheck = BugCheck(code=code, args=args)
    if len(args) == 4 and all(a is not None for a in args):
        # The key the WinDbg reader uses too: a tool's row and the debugger's
        # analysis of the same dump are one crash.
        report.identity = tuple(sorted(set(report.identity) | {str(("bugcheck", code, tuple(args)))}))


def add_identity(report: DumpReport, key: str, value: str | None) -> None:
    if value:
        norm = " ".join(value.lower().split())
        report.identity = tuple(sorted(set(report.identity) | {str((key, norm))}))


def add_module(report: DumpReport, info: ModuleInfo) -> ModuleInfo:
    key = module_key(info.name)
    known = report.modules.get(key)
    if known is None:
        report.modules[key] = info
        return info
    known.merge(info)
    return known


def claim(findings: Findings, image: str, quote: str, tool: str) -> None:
    """A tool named the module: a claim, never a verdict."""
    # The quote names a crash tool so the verdict's evidence says whose word it is.
    said = quote if tool == "blue screen" or quote.startswith(tool) else f"{tool}: {quote}"
    findings.claims.append(Claim(by=Claimant.TOOL, name=module_of(image), quote=said[:MAX_VALUE], tool=tool,
                                 image=image if "." in image else None))

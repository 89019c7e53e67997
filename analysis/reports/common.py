"""What the report readers share: bounded lines, numbers as the tools
print them, bug check names as people retype them, and the record of one
crash in the findings vocabulary."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import AnyStr
from dataclasses import dataclass
from functools import cache

from analysis import catalog, marks, native
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
_FOLDED: list[tuple[str, "Folded"]] = []


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
    """Let go of the last text's lines and folded copies (once its readers are done)."""
    _LINES.clear()
    _FOLDED.clear()
    marks.forget()


# The two characters whose lower case is (or holds) an ASCII letter.  With
# a Kelvin sign in the text ASCII lowering is not str.lower() for a word
# with a k (see folded).  A dotted I lowers to "i" and a combining dot: a
# word or a label holding that "i" would have to end there or go on with
# the dot, and none does (fold_words, folded_label_pattern), so it is
# nowhere where the folded copy keeps İ, as in the full lowering.
_KELVIN = "\u212a"  # K -> "k"
_DOTTED_I = "\u0130"  # İ -> "i\u0307" (a character longer)


@dataclass(slots=True)
class Folded:
    """A text as UTF-8 (``raw``) and a lowered copy of it (``low``) that the
    readers search: what ``str.lower()`` of the text would tell, for
    ``fold_words`` and ``label_pattern``, found in bytes (a UTF-8 text's
    bytes lowered are ten times cheaper than str.lower() of a text of wide
    characters, and searched faster).  ``exact``: low's places are raw's
    (its ASCII letters lowered, nothing else changed); otherwise low is
    ``text.lower()`` encoded, and the lines are cut after all."""

    raw: bytes
    low: bytes
    exact: bool


def folded(text: str) -> Folded:
    """``text``'s ``Folded``, made once for the readers of one text (kept until ``forget``)."""
    if _FOLDED and _FOLDED[0][0] is text:
        return _FOLDED[0][1]
    raw, low = marks.copies(text)  # (the literal marks' folded copy: low is raw.lower())
    if text.isascii() or _KELVIN not in text:  # (found faster in the text than in raw)
        # Every other character lowers to one that is not ASCII, or to
        # itself: a word of ASCII letters is where its letters are in any
        # case, and a pattern names the upper-case forms of its other letters.
        fold = Folded(raw, low, True)
    else:
        fold = Folded(raw, text.lower().encode("utf-8", "surrogatepass"), False)
    _FOLDED[:] = [(text, fold)]
    return fold


def _uncased(ch: str) -> bool:
    return ch.lower() == ch == ch.upper()


def fold_words(words: Iterable[str]) -> tuple[bytes, ...]:
    """Lower-case words as the folded copy (``Folded.low``) holds them: each
    must be lower-case, and each of its characters ASCII or uncased (no
    upper-case form that the copy would keep), so that the word is in the
    copy where ``str.lower()`` of the text holds it; and none may end in
    "i" (see _DOTTED_I)."""
    out = tuple(word.encode("utf-8") for word in words)
    assert all(w == w.lower() and not w.endswith(b"i") and all(c.isascii() or _uncased(c) for c in w.decode())
               for w in out), words
    return out


def marked_rows(low: AnyStr, words: tuple[AnyStr, ...], start: int = 0, end: int | None = None, row: int = 0) -> list[int]:
    """The numbers of the lines (as ``lines`` counts them) of ``low`` (the
    folded copy, with ``fold_words``; or a text itself) that hold one of
    ``words``, in order, each once: found with find in C, at most once per
    line and word.  A reader walks these rows instead of every line, so its
    words must be in every line its own test takes (a row may hold a word
    and still be passed over: the reader decides on the line itself).  Only
    ``low[start:end]`` is searched when they are given: ``start`` where line
    ``row`` begins, ``end`` where a line begins (or the end)."""
    return [r for r, _ in marked_lines(low, words, start, end, row)]


def _break(low: AnyStr) -> AnyStr:
    return "\n" if isinstance(low, str) else b"\n"  # type: ignore[return-value]


def marked_lines(low: AnyStr, words: tuple[AnyStr, ...], start: int = 0, end: int | None = None,
                 row: int = 0) -> list[tuple[int, int]]:
    """``marked_rows``, each with where its line begins in ``low``."""
    return list(_counted(low, marked_begins(low, words, start, end), start, row))


def _counted(low: AnyStr, begins: Iterable[int], start: int, row: int) -> Iterator[tuple[int, int]]:
    """Each line's begin with its row (``start`` where row ``row`` begins)."""
    nl = _break(low)
    last = start
    for begin in begins:
        row += low.count(nl, last, begin)
        last = begin
        yield row, begin


def marked_begins(low: AnyStr, words: tuple[AnyStr, ...], start: int = 0, end: int | None = None) -> list[int]:
    """Where each line ``marked_rows`` gives begins in ``low``, the rows not
    counted (``Rows.line_from`` takes a line from where it begins)."""
    nl = _break(low)
    stop = len(low) if end is None else end
    hits: list[int] = []
    for word in words:
        at = low.find(word, start, stop)
        while at >= 0:
            hits.append(max(low.rfind(nl, start, at) + 1, start))
            brk = low.find(nl, at, stop)
            if brk < 0:
                break
            at = low.find(word, brk, stop)
    return sorted(set(hits))


def walk_marked_begins(low: AnyStr, words: tuple[AnyStr, ...], start: int, end: int,
                       needed: Callable[[AnyStr], bool]) -> Iterator[int]:
    """Where each line of ``low[start:end]`` that holds one of ``words``
    begins (as ``marked_begins`` gives them), one at a time, each word
    searched on only while ``needed(word)`` (asked after each line the
    caller has read): a reader whose lines each fill one field per word
    stops scanning for a word once its field is filled."""
    nl = _break(low)
    nexts: dict[AnyStr, int] = {}
    for word in words:
        at = low.find(word, start, end)
        if at >= 0:
            nexts[word] = at
    while nexts:
        at = min(nexts.values())
        yield max(low.rfind(nl, start, at) + 1, start)
        line_end = low.find(nl, at, end)
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


def _chars(spec: str) -> list[str]:
    """The characters of a class written as ``BLANKS`` is ("a-c": a, b and c)."""
    out, i = [], 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            out += [chr(c) for c in range(ord(spec[i]), ord(spec[i + 2]) + 1)]
            i += 3
        else:
            out.append(spec[i])
            i += 1
    return out


def utf8_class(chars: Iterable[str]) -> bytes:
    """A pattern of bytes matching one of ``chars`` as UTF-8: the ASCII ones
    as one class, the others grouped by their leading bytes behind one class
    of their first bytes (a try at a byte that starts none of them costs two
    tests, as a class of characters would cost one)."""
    ends: dict[bytes, set[int]] = {}
    for ch in set(chars):
        code = ch.encode("utf-8", "surrogatepass")
        ends.setdefault(code[:-1], set()).add(code[-1])
    singles = sorted(ends.pop(b"", set()))
    alts = [re.escape(head) + _byte_class(sorted(tails)) for head, tails in sorted(ends.items())]
    if len(alts) > 1:
        alts = [b"(?=" + _byte_class(sorted({head[0] for head in ends})) + b")(?:" + b"|".join(alts) + b")"]
    parts = ([_byte_class(singles)] if singles else []) + alts
    return parts[0] if len(parts) == 1 else b"(?:" + b"|".join(parts) + b")"


def _byte_class(codes: list[int]) -> bytes:
    if len(codes) == 1:
        return re.escape(bytes(codes))
    return b"[" + b"".join(b"\\x%02x" % c for c in codes) + b"]"


# Lowered characters the folded copy may still hold in upper case (the
# upper case of a letter that is not ASCII): each, with every character
# that lowers to it (tests/test_reader_gates.py checks them against every
# character there is).  A label with another such letter fails at import.
_UPPER = {"ä": "Ä", "ö": "Ö", "ü": "Ü", "ß": "ẞ"}


def _cases(ch: str) -> list[str]:
    """``ch`` (lower case) and each character the folded copy may hold where str.lower() has ``ch``."""
    if ch.isascii() or _uncased(ch):
        return [ch]
    assert ch in _UPPER, ch  # a letter whose upper-case forms are not known here
    return [ch, *_UPPER[ch]]


def utf8_run(chars: Iterable[str], least: int = 0) -> bytes:
    """A pattern of bytes matching the longest run (possessive) of ``chars``
    as UTF-8, of at least ``least`` (0 or 1) of them: the ASCII ones as one
    repeated class, which the engine walks in one loop (a repeat of
    ``utf8_class`` would step through its alternatives at each one)."""
    chars = set(chars)
    ascii_run = _byte_class(sorted(ord(c) for c in chars if c.isascii())) + b"*+"
    others = utf8_class(c for c in chars if not c.isascii())
    run = ascii_run + b"(?:" + others + ascii_run + b")*+"
    return b"(?=" + utf8_class(chars) + b")" + run if least else run


BLANKS_RUN = utf8_run(_chars(BLANKS))  # blanks (or none), as a pattern of bytes
_BLANK_OR_COLON = utf8_class(_chars(BLANKS) + [":", "："])
_BLANKS_OR_COLONS = utf8_run(_chars(BLANKS) + [":", "："])


def _trie(labels: list[str], step: Callable[[str], AnyStr], empty: AnyStr) -> AnyStr:
    """The labels as one pattern of a trie: each character's ``step``, a
    branch where the labels part, a label that ends within another optional."""
    trie: dict = {}
    for label in labels:
        node = trie
        for ch in label:
            node = node.setdefault(ch, {})
        node[""] = {}

    group, bar, close, optional = ("(?:", "|", ")", ")?") if isinstance(empty, str) else (b"(?:", b"|", b")", b")?")

    def walk(node: dict) -> AnyStr:
        alts = [step(ch) + walk(node[ch]) for ch in sorted(k for k in node if k)]
        if not alts:
            return empty
        body = alts[0] if len(alts) == 1 and "" not in node else group + bar.join(alts) + close
        return group + body + optional if "" in node else body

    return walk(trie)


def label_pattern(labels: Iterable[str], also: str = "") -> re.Pattern[str]:
    """Lines that may be a "Label: value" line of one of ``labels`` (each
    lowered, its words single-blanked): the label's words after blanks and
    stray colons at the line's start, then a blank or a colon.  The labels
    become a trie, so each line start costs a few steps, not one per label.
    Searched in ``"\n" + text.lower()``; ``also``: a further alternative,
    after the line break.  (The report readers search their folded copy
    with ``folded_label_pattern`` instead.)"""
    labels = list(labels)
    trie = _trie(labels, lambda ch: f"[{BLANKS}]++" if ch == " " else re.escape(ch), "")
    # The labels' first characters as one class ahead of the trie: the
    # engine tests a line's first character once, not against each branch.
    first = "".join(sorted({re.escape(label[0]) for label in labels if label}))
    words = f"[{BLANKS}:：]*+(?=[{first}]){trie}(?=[{BLANKS}:：])"
    return re.compile("\n(?:" + words + (f"|{also}" if also else "") + ")")


def folded_label_pattern(labels: Iterable[str], also: bytes = b"", also_starts: str = "",
                         indented: bool = True) -> re.Pattern[bytes]:
    """``label_pattern`` for ``b"\n" + folded(text).low`` (see
    ``label_rows``), where it finds the lines that ``label_pattern`` would
    find in ``"\n" + text.lower()``: a letter that is not ASCII matches in
    either case there (see ``_cases``).  ``also``: a further alternative
    (of bytes), after the line break, whose match is blanks (or none) and
    then one of the characters ``also_starts`` (what the core's walk over
    the lines, ``label_lines``, lets it see).  ``indented=False``:
    not the lines that begin with a space or a tab (a reader that never
    takes those: its scan passes over them at their first byte)."""
    labels = list(labels)
    assert not any("\u0307" in label for label in labels)  # (see _DOTTED_I)
    blanks = utf8_run(_chars(BLANKS), 1)
    trie = _trie(labels, lambda ch: blanks if ch == " " else utf8_class(_cases(ch)), b"")
    # The labels' first characters ahead of the trie: the engine tests a
    # line's first character once, not against each branch; and first of
    # all, one class of the first bytes of those, the blanks, the colons and
    # what ``also`` starts with, which most lines fail at once.
    heads = {c for label in labels if label for c in _cases(label[0])}
    leads = sorted({c.encode()[0] for c in heads | set(_chars(BLANKS)) | {":", "："} | set(also_starts)}
                   - (set() if indented else {ord(" "), ord("\t")}))
    words = _BLANKS_OR_COLONS + b"(?=" + utf8_class(heads) + b")" + trie + b"(?=" + _BLANK_OR_COLON + b")"
    pattern = re.compile(b"\n(?=" + _byte_class(leads) + b")(?:" + words + (b"|" + also if also else b"") + b")")
    _LINE_TABLES[pattern] = _line_tables(labels, leads, also_starts)
    return pattern


# The tables of each folded_label_pattern for the compiled core's walk over
# the lines (analysis._marks.label_lines), which leaves to the pattern only
# the lines it may match.
_LINE_TABLES: dict[re.Pattern[bytes], tuple[bytes, bytes, bytes, bytes]] = {}
_MARKS_CORE = native.load("marks")
_ASCII_BLANKS = [ord(c) for c in _chars(BLANKS) if c.isascii()]


def _line_tables(labels: list[str], leads: list[int], also_starts: str) -> tuple[bytes, bytes, bytes, bytes]:
    """label_lines' tables for a pattern: its first bytes (``leads``); the
    pairs of bytes a label's folded copy may open with (2; a blank where
    the label has one, and any byte of a character outside ASCII), or
    may open with when its second and third are a pair of the third table
    (1: a label of three ASCII letters first); and the bytes its further
    alternative may hold past its blanks (``also_starts``)."""
    first = bytearray(256)
    for b in leads:
        first[b] = 1
    pairs, thirds = bytearray(65536), bytearray(65536)
    wide = range(0x80, 0x100)  # a byte of a character outside ASCII (a blank among them)

    def ascii_cases(ch: str) -> list[int]:
        return [ord(c) for c in _cases(ch) if c.isascii()]

    for label in labels:
        assert label and label[0] != " "
        for head in ascii_cases(label[0]):
            if len(label) == 1:
                pairs[head * 256 : head * 256 + 256] = b"\x02" * 256  # what follows a label: a blank or a colon
                continue
            if label[1] == " " or not label[1].isascii():
                for second in [*(_ASCII_BLANKS if label[1] == " " else ()), *wide]:
                    pairs[head * 256 + second] = 2
                continue
            for second in ascii_cases(label[1]):
                if len(label) == 2 or label[2] == " " or not label[2].isascii():
                    pairs[head * 256 + second] = 2
                    continue
                pairs[head * 256 + second] = max(pairs[head * 256 + second], 1)
                for third in ascii_cases(label[2]):
                    thirds[second * 256 + third] = 1
    after = bytearray(256)
    for c in also_starts:
        assert c.isascii() and c not in BLANKS
        after[ord(c)] = 1
    return bytes(first), bytes(pairs), bytes(thirds), bytes(after)


def label_rows(low: bytes, pattern: re.Pattern[bytes]) -> list[int]:
    """The numbers of the lines of the folded copy ``low`` that a
    ``folded_label_pattern`` (or another pattern that matches from a line
    break) finds, in order (the rows of ``label_begins``)."""
    return [row for row, _ in _counted(low, label_begins(low, pattern), 0, 0)]


def label_begins(low: bytes, pattern: re.Pattern[bytes]) -> Iterator[int]:
    """Where each line that a ``folded_label_pattern`` (or another pattern
    that matches from a line break) finds begins in the folded copy ``low``,
    in order: one scan in C, Python sees only those lines, and their rows
    are not counted (``Rows.line_from`` takes a line from where it begins)."""
    first = low.find(b"\n")
    core = _MARKS_CORE
    tables = _LINE_TABLES.get(pattern) if core is not None else None
    # The lines the pattern may match: found in C (each then asked of the
    # pattern, from the break before it, as its scan asks it), or all of them.
    begins = core.label_lines(low, *tables) if core is not None and tables is not None else None
    if (begins is None or begins[:1] == [0]) and pattern.match(b"\n" + (low if first < 0 else low[:first])):
        yield 0  # the first line, a break put before it
    if begins is None:
        for m in pattern.finditer(low):  # (a match never takes the break after its line)
            yield m.start() + 1  # where the line after the break begins
    else:
        yield from (begin for begin in begins if begin and pattern.match(low, begin - 1))


def search_at(pattern: re.Pattern[str], text: str, literal: str) -> re.Match[str] | None:
    """``pattern.search(text)`` for a pattern whose every match starts with
    ``literal``: tried only where str.find finds it (a faster scan of a
    text of wide characters than the regex engine's search for its prefix)."""
    at = text.find(literal)
    while at >= 0:
        m = pattern.match(text, at)
        if m is not None:
            return m
        at = text.find(literal, at + 1)
    return None


def line_at(text: str, start: int) -> str:
    """The line of ``text`` that begins at ``start``, as ``lines`` has it."""
    end = text.find("\n", start, start + MAX_LINE)
    return text[start : start + MAX_LINE if end < 0 else end].rstrip("\r")


_WIDEST = 4 * MAX_LINE  # bytes of UTF-8 that hold a line's first MAX_LINE characters


class Rows:
    """The lines of a text as ``lines`` has them, each taken from where it
    begins in the text's folded copy (where a reader's scan of
    ``folded(text).low`` found it): decoded from the text's UTF-8 there, so
    the text's other lines never become Python objects.  Unless lowering
    changed a character's length (``Folded.exact``): then the lines are
    cut after all, and each one's row is counted from the last line taken
    (a reader takes them in order: each break is counted about once)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._fold = folded(text)
        self._raw = self._fold.raw
        self._places = self._fold.low
        self._rows = None if self._fold.exact else lines(text)
        self._counted = (0, 0)  # a place in the folded copy, and its line's row (see line_from)

    def _line(self, begin: int) -> str:
        raw = self._raw
        end = raw.find(b"\n", begin, begin + _WIDEST)
        if end < 0:
            end = min(len(raw), begin + _WIDEST)
            while end < len(raw) and raw[end] & 0xC0 == 0x80:  # not within a character
                end -= 1
        return raw[begin:end].decode("utf-8", "surrogatepass")[:MAX_LINE].rstrip("\r")

    def line_from(self, begin: int) -> str:
        """The line that begins at ``begin``, its row not asked: counted only
        where the lines are cut (from the last place asked, on or back)."""
        if self._rows is None:
            return self._line(begin)
        at, row = self._counted
        # A step back (WhoCrashed takes a conclusion's run after the marked
        # line that ends it) counts back to there: counted again from the
        # start, a text of many such runs cost its length per run.
        if begin < at:
            row -= self._places.count(b"\n", begin, at)
        else:
            row += self._places.count(b"\n", at, begin)
        self._counted = (begin, row)
        return self._rows[row]

    def next_begin(self, begin: int) -> int:
        """Where the line after the one beginning at ``begin`` begins (there must be one)."""
        return self._places.index(b"\n", begin) + 1

    def has_after(self, begin: int) -> bool:
        """Whether a line follows the one beginning at ``begin`` (without counting the lines)."""
        return self._places.find(b"\n", begin) >= 0

    def run_to(self, begin: int, finish: int, limit: int) -> list[str]:
        """The lines that begin at ``begin`` or after it and before ``finish``, at most ``limit``."""
        out: list[str] = []
        while len(out) < limit and begin < finish:
            out.append(self.line_from(begin))
            end = self._places.find(b"\n", begin)
            if end < 0:
                break
            begin = end + 1
        return out

    def head(self, count: int) -> list[str]:
        """lines(text)[:count]."""
        if self._rows is not None:
            return self._rows[:count]
        return self.run_to(0, len(self._places) + 1, count)


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

"""Undo what e-mail clients, forums and chat apps do to debugger output
before the parsers see it: whole-text regex passes, so a 50 KB log costs
a few C-level scans instead of a Python loop per character, and every
parser (and every look at the next line) sees the cleaned text."""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import pairwise
from typing import NamedTuple

from analysis import native
from analysis.entities import unescape

# Characters to replace (str.translate would walk a non-ASCII text one code
# point at a time through Python's mapping protocol; see _replace_all).
_REPLACE = (
    ("\u200b", ""), ("\u200c", ""), ("\u200d", ""), ("\u2060", ""), ("\ufeff", ""), ("\u00ad", ""),
    ("\u00a0", " "), ("\u3000", " "), ("\t", " "), ("\u2007", " "), ("\u202f", " "),
    # Full-width punctuation a Chinese input method leaves in hand-typed lines.
    ("：", ": "), ("，", ", "), ("（", " ("), ("）", ") "), ("！", "!"),
)

# A break tag is the line end: the newline after it in the page's source is
# not a second one ("<br>\n" would otherwise leave a blank line after every
# line, and a blank line ends a wrapped argument).
_HTML_BREAK = re.compile(r"(?:<br\s*+/?>|</p>|</div>|</li>)\n?", re.I)
# A tag's attributes stop at the next "<" (and a BBCode value at the next
# "["): tried at every "<p" of 60 KB of "<p <p <p", "[^>]*" ran to the end
# of the text each time (7.5 s); now each try ends where the next begins.
_HTML_TAG = re.compile(r"</?(?:p|div|span|pre|code|font|b|i|strong|em|li|ul|ol|blockquote|tt|table|tr|td)(?:\s[^<>]*+)?>", re.I)
_BBCODE = re.compile(r"\[/?(?:code|quote|spoiler|b|i|u|size|font|color|noparse|plain|icode)(?:=[^\[\]]*+)?\]", re.I)
_ENTITY = re.compile(r"&(?:gt|lt|amp|quot|nbsp|#\d++|#x[0-9a-f]++);", re.I)
_MD_ESCAPE = re.compile(r"\\([_*#`\[\]<>!|-])")
# E-mail quoting: "> > Arg1: ..." is Arg1 (the indentation after the
# markers is the line's own: WinDbg indents wrapped argument text).  Found
# from the newline before them ("^" in MULTILINE mode is tried at every
# position: three times the cost), and only in a text that has a ">" at a
# line start or after a blank: debugger output hardly ever does.
_QUOTE_FIRST = re.compile(r"[ ]*+(?:>[ ]?)++")
_QUOTE = re.compile(r"\n[ ]*+(?:>[ ]?)++")
# Markdown bold ("**MODULE_NAME:** VSApiNt", "**psav3cld.sys**+1bae0"): runs
# of exactly two stars; the banners' long runs stay (without a call back to
# Python for each of them).
_BOLD = re.compile(r"\*\*(?<!\*\*\*)(?!\*)")  # the literal first: the engine jumps to each "**"


# A blog that flattened the output glues the fields together:
# "MODULE_NAME: nvlddmkmIMAGE_NAME: nvlddmkm.sysDEBUG_FLR_IMAGE_TIMESTAMP: ...".
# A key is cut off from what it is glued to: a lower-case letter, a digit or
# a closing mark right before it.
_GLUABLE_KEYS = (
    "MODULE_NAME", "IMAGE_NAME", "SYMBOL_NAME", "FAILURE_BUCKET_ID", "DEFAULT_BUCKET_ID", "BUGCHECK_STR",
    "PROCESS_NAME", "DEBUG_FLR_IMAGE_TIMESTAMP", "FOLLOWUP_NAME", "FOLLOWUP_IP", "STACK_TEXT", "STACK_COMMAND",
    "SYMBOL_STACK_INDEX", "IMAGE_VERSION", "OS_VERSION", "BUCKET_ID", "FAULTING_IP", "FAULTING_MODULE",
    "CUSTOMER_CRASH_COUNT", "CURRENT_IRQL", "LAST_CONTROL_TRANSFER", "BUGCHECK_CODE", "ANALYSIS_VERSION",
)
_GLUE = "[a-z0-9.)\\]}]"  # what a key is glued to: a lower-case letter, a digit, a closing mark
_TAIL_HEADS: dict[str, tuple[str, ...]] = {}
for _key in _GLUABLE_KEYS:
    _head, _tail = _key.split("_", 1)
    _TAIL_HEADS[_tail] = (*_TAIL_HEADS.get(_tail, ()), _head)
# Found from the key's first underscore: the engine jumps from one "_" to
# the next (a literal first character), tries the rest of each key there,
# and only then looks behind at the key's head and what precedes it.
# Searching for the keys themselves tried them at every capital letter of
# the text, and Python looked at every key found (half of clean's time).
_GLUED_KEY = re.compile("_(?:" + "|".join(
    f"{tail}:(?:" + "|".join(f"(?<={_GLUE}{head}_{tail}:)" for head in heads) + ")"
    for tail, heads in _TAIL_HEADS.items()) + ")")


def _unglue(text: str) -> str:
    cuts = []
    for m in _GLUED_KEY.finditer(text):
        at = m.start()
        for head in _TAIL_HEADS[text[at + 1 : m.end() - 1]]:
            if at > len(head) and text.startswith(head, at - len(head)):
                cuts.append(at - len(head))
                break
    if not cuts:
        return text
    bounds = [0, *cuts, len(text)]
    return "\n".join(text[a:b] for a, b in pairwise(bounds))


# A paste whose line breaks were lost ("... Arg4: fffff8064b6a1b2e, address
# which referenced memory PROCESS_NAME:  System SYMBOL_NAME:  rtwlane+1b2e
# MODULE_NAME: rtwlane ..."): a line this long that holds several of
# !analyze's keys is cut before each of them, and before the argument lines
# and the bug check's name line, so every field is a line again.
_REFLOW_LONGER = 240
_REFLOW_KEYS = 2
# The blank before a key is part of the match (a literal first character
# the engine jumps to), not looked behind at from every position.
_KEY_WORD = re.compile(r" ((?:[A-Z][A-Z0-9_]{2,40}+:|Arg[1-4]:|Arguments:|[A-Z][A-Z0-9_]{3,80}+ \([0-9a-fA-F]{1,8}+\)(?= |$)))")


def _reflow_line(line: str) -> str:
    from analysis.text.events import ANALYSIS_FIELDS

    cuts = []
    for m in _KEY_WORD.finditer(line):
        word = m[1]
        if word.endswith(":") and not word.startswith(("Arg", "Arguments")) and word[:-1] not in ANALYSIS_FIELDS:
            continue
        cuts.append(m.start(1))
        if word.endswith(")"):
            cuts.append(m.end())  # the name line ends at its code; prose follows
    if len([c for c in cuts if line[c:c + 3] != "Arg"]) < _REFLOW_KEYS:
        return line
    bounds = [0, *cuts, len(line)]
    return "\n".join(line[a:b].strip() for a, b in pairwise(sorted(set(bounds))))


# A line longer than _REFLOW_LONGER, found from the newline before it: the
# lines that are not are never cut out of the text.
_LONG_LINE = re.compile(r"\n[^\n]{%d}" % (_REFLOW_LONGER + 1))


def _long_lines_py(text: str, longer: int = _REFLOW_LONGER) -> list[int]:
    """Where each line of more than ``longer`` characters starts (the twin of
    analysis._lines.long_lines)."""
    first = text.find("\n")
    starts = [0] if (first if first >= 0 else len(text)) > longer else []
    pattern = _LONG_LINE if longer == _REFLOW_LONGER else re.compile(r"\n[^\n]{%d}" % (longer + 1))
    starts.extend(m.start() + 1 for m in pattern.finditer(text))
    return starts


def _long_lines(text: str) -> list[int]:
    return _LINES.long_lines(text, _REFLOW_LONGER) if _LINES is not None else _long_lines_py(text)


def _reflow(text: str) -> str:
    starts = _long_lines(text)
    pieces: list[str] = []
    done = 0
    for start in starts:
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        line = text[start:end]
        flowed = _reflow_line(line)
        if flowed is not line:
            pieces += (text[done:start], flowed)
            done = end
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


# One pass for all of them: each replacement that changes the length copied
# the whole text (six of them in a Chinese log).  A replacement never makes
# a character another would replace, so one pass equals the replacements
# one after another.
_REPLACED = dict(_REPLACE)
_TO_REPLACE = re.compile("[" + "".join(re.escape(old) for old, _ in _REPLACE) + "]")


def _replace_all_py(text: str) -> str:
    if text.isascii():  # O(1): an ASCII string says so; the tab is the one ASCII character replaced
        return text.replace("\t", " ") if "\t" in text else text
    return _TO_REPLACE.sub(lambda m: _REPLACED[m[0]], text)


def _fold_py(text: str) -> str:
    """clean's first pass: a text's line ends made "\n" (CR LF, then a CR
    alone), then its characters replaced."""
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            text = text.replace("\r", "\n")
    return _replace_all_py(text)


def _may_be_quoted(text: str) -> bool:
    """Whether a text may have quote markers: a ">" at a line start or after a blank."""
    return ">" in text and ("\n>" in text or " >" in text or text[:1] == ">")  # one character: a memchr


def _unquote_unbold_py(text: str) -> str:
    """E-mail quote markers off the line starts, then markdown bold's stars."""
    if _may_be_quoted(text):
        first = _QUOTE_FIRST.match(text)
        text = _QUOTE.sub("\n", text[first.end():] if first else text)
    if "**" in text:
        text = _BOLD.sub("", text)
    return text


class _Passes(NamedTuple):
    """The passes of clean that are loops over the characters: compiled
    (csrc/clean.c) or their pure-Python twins above, the reference."""

    fold: Callable[[str], str]
    replace_all: Callable[[str], str]
    unquote_unbold: Callable[[str], str]


_PY_PASSES = _Passes(_fold_py, _replace_all_py, _unquote_unbold_py)
# One pass of C for the three of _fold_py (two str.replace passes and a
# regex sub calling back to Python for each character replaced, over texts
# nearly all stored two bytes a character), and one for the two regex subs
# of _unquote_unbold_py: see csrc/clean.c.
_NATIVE = native.load("clean")
_PASSES = _Passes(_NATIVE.fold, _NATIVE.replace, _NATIVE.unquote_unbold) if _NATIVE else _PY_PASSES
_replace_all = _PASSES.replace_all
# The long lines _reflow looks at, found by a memchr walk (csrc/lines.c).
_LINES = native.load("lines")


# What makes a pass worth its cost, each as one pattern that starts with a
# literal (the engine jumps from one to the next): a chain of `in` tests
# scanned the text once per mark, several times the cost of the pass.
_HTML_MARK = re.compile("<(?:br|p|div|BR|/)")
_BBCODE_MARK = re.compile(r"\[(?:/|code|CODE|quote|QUOTE)")
_MD_MARK = re.compile(r"\\[_*#\[>]")


def last_break_end(text: str, end: int) -> int:
    """Where the last HTML break tag in text[:end] ends (0: none): the line
    end of a page saved on one line, which clean makes a line end (a block
    of a streamed text is cut there).  Looked for only after a "<"."""
    at = 0
    if text.find("<", 0, end) >= 0:
        for m in _HTML_BREAK.finditer(text, 0, end):
            at = m.end()
    return at


def clean(text: str) -> str:
    return _clean(text, _PASSES)


def clean_py(text: str) -> str:
    """clean on the pure-Python twins alone: the reference of the compiled passes."""
    return _clean(text, _PY_PASSES)


# A text is cleaned in pieces of about this many characters, each ending
# at a line end.  A pass that changes a text copies it: on 8 MB of real
# logs, which one emoji makes four bytes a character, each copy was 31 MB
# of fresh pages, and the kernel's page faults were most of clean's time.
# A piece's copies fit in memory already used (and a piece without the
# emoji is stored one byte a character); the pieces are joined once.
_PIECE = 32 * 1024


def _cut(text: str, size: int) -> list[str]:
    """text in pieces of about ``size`` characters, each ending with a "\n"
    (but the last); one piece, the text itself, when it is not longer."""
    if len(text) <= size:
        return [text]
    pieces, at = [], 0
    while at < len(text):
        end = text.find("\n", at + size)
        end = len(text) if end < 0 else end + 1
        pieces.append(text[at:end])
        at = end
    return pieces


def _closed(pieces: list[str], opening: str, closing: str) -> list[str]:
    """The pieces, each joined to the one before it while an ``opening``
    has no ``closing`` after it there: a tag's (or a BBCode's) match holds
    neither character inside, so one that crosses a piece's end starts at
    the last opening before it.  A run of pieces to join is joined once:
    added to the one before piece by piece, a text whose every piece ends
    with an open "<" ("a <- b" in R, "x < y") was copied once per piece,
    quadratic in its size (tests/test_text_clean.py)."""
    out: list[str] = []
    run: list[str] = []  # the pieces since the last one that ended closed
    is_open = False
    for piece in pieces:
        run.append(piece)
        last_open, last_close = piece.rfind(opening), piece.rfind(closing)
        if last_open >= 0 or last_close >= 0:
            is_open = last_open > last_close
        if not is_open:
            out.append(run[0] if len(run) == 1 else "".join(run))
            run = []
    if run:
        out.append(run[0] if len(run) == 1 else "".join(run))
    return out


def _clean(text: str, passes: _Passes, size: int = _PIECE) -> str:
    """The passes in turn over the pieces of the text: each pass's test of
    whether it applies is taken over all of them (what it looks for holds
    no line end, so no piece's end cuts it), and each pass changes what it
    would change in the whole text, since none of its matches crosses a
    line end (the tags' and the BBCode's, which may, are kept in one
    piece by _closed; tests/test_text_clean.py)."""
    pieces = [passes.fold(piece) for piece in _cut(text, size)]  # (a "\r\n" never crosses a piece's end either)
    if any("&" in piece and _ENTITY.search(piece) for piece in pieces):
        # An entity may stand for a character replaced ("&nbsp;"); a "&#13;"
        # is a "\r" that stays (its line was one already).
        pieces = [passes.replace_all(unescape(piece)) for piece in pieces]
    if any(_HTML_MARK.search(piece) for piece in pieces):
        pieces = [_HTML_BREAK.sub("\n", piece) for piece in _closed(pieces, "<", ">")]
        pieces = [_HTML_TAG.sub("", piece) for piece in _closed(pieces, "<", ">")]
    if any(_BBCODE_MARK.search(piece) for piece in pieces):
        pieces = [_BBCODE.sub("", piece) for piece in _closed(pieces, "[", "]")]
    if any(_MD_MARK.search(piece) for piece in pieces):
        pieces = [_MD_ESCAPE.sub(r"\1", piece) for piece in pieces]
    if any("**" in piece or _may_be_quoted(piece) for piece in pieces):
        pieces = [passes.unquote_unbold(piece) for piece in pieces]
    if any("_NAME:" in piece for piece in pieces):
        pieces = [_reflow(_unglue(piece)) for piece in pieces]
    if any("`" in piece for piece in pieces):
        # Backticks either split a 64-bit address (fffff801`cc98ce55) or
        # are markdown code spans and fences: dropping them serves all.
        pieces = [piece.replace("`", "") for piece in pieces]
    return pieces[0] if len(pieces) == 1 else "".join(pieces)

"""Undo what e-mail clients, forums and chat apps do to debugger output
before the parsers see it: whole-text regex passes, so a 50 KB log costs
a few C-level scans instead of a Python loop per character, and every
parser (and every look at the next line) sees the cleaned text."""

from __future__ import annotations

import html
import re
from itertools import pairwise

# Characters to replace.  str.replace per character beats str.translate:
# translate walks a non-ASCII text one code point at a time in Python's
# mapping protocol, replace is a C scan that is skipped when absent.
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
# of exactly two stars; the banners' long runs stay.
_STARS = re.compile(r"\*\*++")


def _unbold(m: re.Match) -> str:
    return "" if len(m[0]) == 2 else m[0]


# A blog that flattened the output glues the fields together:
# "MODULE_NAME: nvlddmkmIMAGE_NAME: nvlddmkm.sysDEBUG_FLR_IMAGE_TIMESTAMP: ...".
# The keys are found first and the character before each checked in Python:
# a lookbehind tried at every position of a 50 KB log cost a third of its analysis.
_GLUABLE_KEY = re.compile(
    r"(?:MODULE_NAME|IMAGE_NAME|SYMBOL_NAME|FAILURE_BUCKET_ID|DEFAULT_BUCKET_ID|BUGCHECK_STR|"
    r"PROCESS_NAME|DEBUG_FLR_IMAGE_TIMESTAMP|FOLLOWUP_NAME|FOLLOWUP_IP|STACK_TEXT|STACK_COMMAND|SYMBOL_STACK_INDEX|"
    r"IMAGE_VERSION|OS_VERSION|BUCKET_ID|FAULTING_IP|FAULTING_MODULE|CUSTOMER_CRASH_COUNT|CURRENT_IRQL|"
    r"LAST_CONTROL_TRANSFER|BUGCHECK_CODE|ANALYSIS_VERSION):"
)
_GLUED_AFTER = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.)]}")


def _unglue(text: str) -> str:
    cuts = [m.start() for m in _GLUABLE_KEY.finditer(text) if m.start() and text[m.start() - 1] in _GLUED_AFTER]
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
_KEY_WORD = re.compile(r"(?<= )(?:[A-Z][A-Z0-9_]{2,40}+:|Arg[1-4]:|Arguments:|[A-Z][A-Z0-9_]{3,80}+ \([0-9a-fA-F]{1,8}+\)(?= |$))")


def _reflow_line(line: str) -> str:
    from analysis.text.events import ANALYSIS_FIELDS

    cuts = []
    for m in _KEY_WORD.finditer(line):
        word = m[0]
        if word.endswith(":") and not word.startswith(("Arg", "Arguments")) and word[:-1] not in ANALYSIS_FIELDS:
            continue
        cuts.append(m.start())
        if word.endswith(")"):
            cuts.append(m.end())  # the name line ends at its code; prose follows
    if len([c for c in cuts if line[c:c + 3] != "Arg"]) < _REFLOW_KEYS:
        return line
    bounds = [0, *cuts, len(line)]
    return "\n".join(line[a:b].strip() for a, b in pairwise(sorted(set(bounds))))


def _reflow(text: str) -> str:
    if not any(len(line) > _REFLOW_LONGER for line in text.split("\n")):
        return text
    return "\n".join(_reflow_line(line) if len(line) > _REFLOW_LONGER else line for line in text.split("\n"))


def _replace_all(text: str) -> str:
    for old, new in _REPLACE:
        if old in text:
            text = text.replace(old, new)
    return text


def clean(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _replace_all(text)
    if "&" in text and _ENTITY.search(text):
        text = _replace_all(html.unescape(text))
    if "<br" in text or "<p" in text or "<div" in text or "<BR" in text or "</" in text:
        text = _HTML_BREAK.sub("\n", text)
        text = _HTML_TAG.sub("", text)
    if "[/" in text or "[code" in text or "[CODE" in text or "[quote" in text or "[QUOTE" in text:
        text = _BBCODE.sub("", text)
    if "\\_" in text or "\\*" in text or "\\#" in text or "\\[" in text or "\\>" in text:
        text = _MD_ESCAPE.sub(r"\1", text)
    if "\n>" in text or " >" in text or text[:1] == ">":
        first = _QUOTE_FIRST.match(text)
        text = _QUOTE.sub("\n", text[first.end():] if first else text)
    if "**" in text:
        text = _STARS.sub(_unbold, text)
    if "_NAME:" in text:
        text = _unglue(text)
        text = _reflow(text)
    if "`" in text:
        # Backticks either split a 64-bit address (fffff801`cc98ce55) or
        # are markdown code spans and fences: dropping them serves all.
        text = text.replace("`", "")
    return text

"""Undo what e-mail clients, forums and chat apps do to debugger output
before the parsers see it.  Whole-text regex passes, so a 50 KB log costs
a few C-level scans instead of a Python loop per character."""

from __future__ import annotations

import html
import re

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = {ord("\u00a0"): " ", ord("\u3000"): " ", ord("\t"): " ", ord("\u2007"): " ", ord("\u202f"): " "}
# Full-width punctuation a Chinese input method leaves in hand-typed lines.
_FULLWIDTH = {ord("："): ": ", ord("，"): ", ", ord("（"): " (", ord("）"): ") ", ord("！"): "!"}

_HTML_BREAK = re.compile(r"<br\s*/?>|</p>|</div>|</li>", re.I)
_HTML_TAG = re.compile(r"</?(?:p|div|span|pre|code|font|b|i|strong|em|li|ul|ol|blockquote|tt|table|tr|td)(?:\s[^>]*)?>", re.I)
_BBCODE = re.compile(r"\[/?(?:code|quote|spoiler|b|i|u|size|font|color|noparse|plain|icode)(?:=[^\]]*)?\]", re.I)
_QUOTE_MARKS = re.compile(r"^[ ]{0,3}(?:>[ ]?)+", re.M)
_FENCE = re.compile(r"^[ ]*(?:```|~~~)[\w+-]*[ ]*$", re.M)
_MD_ESCAPE = re.compile(r"\\([_*#`\[\]<>!|-])")
# A backtick that is not the high/low separator of a 64-bit address is
# markdown or chat formatting.
_STRAY_TICK = re.compile(r"(?<![0-9a-fA-F])`|`(?![0-9a-fA-F])")
_ADDR_TICK = re.compile(r"([0-9a-fA-F])`([0-9a-fA-F])")
_TRAILING = re.compile(r"[ ]+$", re.M)


def clean(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.translate(_INVISIBLE).translate(_SPACES).translate(_FULLWIDTH)
    if "&" in text and re.search(r"&(?:gt|lt|amp|quot|nbsp|#\d+|#x[0-9a-f]+);", text, re.I):
        text = html.unescape(text).translate(_SPACES)
    if "<" in text:
        text = _HTML_BREAK.sub("\n", text)
        text = _HTML_TAG.sub("", text)
    if "[" in text:
        text = _BBCODE.sub("", text)
    if ">" in text:
        text = _QUOTE_MARKS.sub("", text)
    if "```" in text or "~~~" in text:
        text = _FENCE.sub("", text)
    if "\\" in text:
        text = _MD_ESCAPE.sub(r"\1", text)
    if "`" in text:
        text = _STRAY_TICK.sub("", text)
        text = _ADDR_TICK.sub(r"\1\2", text)
    if "**" in text:
        # Markdown bold around a field (**MODULE_NAME:** x) but not the
        # asterisk banner of !analyze.
        text = re.sub(r"(?<=[\w:])\*\*|\*\*(?=\w)", "", text)
    return _TRAILING.sub("", text)

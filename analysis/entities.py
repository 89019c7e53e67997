"""HTML character references undone, whatever their length.

``html.unescape`` reads a decimal reference with ``int()``, which refuses a
number of more than 4,300 digits (``sys.get_int_max_str_digits``): a pasted
"&#000…0065;" of 5,000 digits raised ValueError and ended the analysis of
the whole text.  Such a reference is first written shorter with the same
meaning — its leading zeros dropped, and a number of more than seven digits
(past every character, 0x10FFFF) made one that is past them too, which
``html.unescape`` turns into U+FFFD as it would the long one.  Hexadecimal
references are not limited (a power-of-two base)."""

from __future__ import annotations

import html
import re

# As html.unescape takes a decimal reference: ASCII digits, all of them.
_LONG_DECIMAL = re.compile(r"&#([0-9]{1000,}+)")
_PAST_EVERY_CHARACTER = "1114112"  # 0x10FFFF + 1


def _shorter(m: re.Match[str]) -> str:
    digits = m[1].lstrip("0") or "0"
    return "&#" + (digits if len(digits) <= 7 else _PAST_EVERY_CHARACTER)


def unescape(text: str) -> str:
    """``html.unescape(text)``, for references of any length."""
    try:
        return html.unescape(text)
    except ValueError:
        return html.unescape(_LONG_DECIMAL.sub(_shorter, text))

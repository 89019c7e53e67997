"""What any reader may say of an input before knowing its format: that its
bytes are binary, or that it cannot be analysed.  A leaf module (standard
library only), so that the binary readers and intake need not import the
text package to share them."""

from __future__ import annotations

from analysis.problem_texts import PROBLEMS

_CONTROL_BYTES = bytes(b for b in range(32) if b < 9 or 13 < b)


class Said(str):
    """A problem with one input, in English words, carrying the code and
    values (analysis.problem_texts) that say it in another language."""

    code: str | None
    params: dict

    def __new__(cls, text: str, code: str | None = None, params: dict | None = None) -> "Said":
        self = super().__new__(cls, text)
        self.code, self.params = code, dict(params or {})
        return self

    def __reduce__(self):  # survives the trip back from a worker process
        return (Said, (str(self), self.code, self.params))

    def said_in(self, lang: str) -> str:
        table = PROBLEMS.get(lang) or PROBLEMS["en"]
        if self.code and self.code in table:
            try:
                return table[self.code].format(**self.params)
            except (KeyError, IndexError, ValueError):
                pass
        return str(self)


def said(code: str, **params: object) -> Said:
    """The problem ``code`` with its values, worded in English."""
    return Said(PROBLEMS["en"][code].format(**params), code, params)


def said_in(message: str, lang: str) -> str:
    """Any problem message in a language (one without a code stays as it is)."""
    return message.said_in(lang) if isinstance(message, Said) else message


class Rejected(ValueError):
    """One input that cannot be analysed.  Raised with a code of
    analysis.problem_texts and its values (``Rejected("empty_file")``), or,
    from older readers, with English words and a code."""

    def __init__(self, message: str, code: str | None = None, **params: object) -> None:
        if code is None and message in PROBLEMS["en"]:
            code, message = message, PROBLEMS["en"][message].format(**params)
        super().__init__(message)
        self.code = code
        self.params = params

    def said(self) -> Said:
        return Said(str(self), self.code, self.params)


def looks_binary(head: bytes) -> bool:
    """Text logs have almost no control bytes; dumps and archives are full
    of them.  Judged on the start of the data, after any UTF-16 decoding."""
    if not head:
        return False
    sample = head[:8192]
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > len(sample) * 0.02

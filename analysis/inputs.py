"""What any reader may say of an input before knowing its format: that its
bytes are binary, or that it cannot be analysed.  A leaf module (standard
library only), so that the binary readers and intake need not import the
text package to share them."""

from __future__ import annotations

_CONTROL_BYTES = bytes(b for b in range(32) if b < 9 or 13 < b)


class Rejected(ValueError):
    """One input that cannot be analysed, with the reason in plain words
    (English).  ``code`` and ``params``, where a reader gives them, let a
    renderer say the same in the reply's language
    (analysis.render.eventlog.rejected_text)."""

    def __init__(self, message: str, code: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


def looks_binary(head: bytes) -> bool:
    """Text logs have almost no control bytes; dumps and archives are full
    of them.  Judged on the start of the data, after any UTF-16 decoding."""
    if not head:
        return False
    sample = head[:8192]
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > len(sample) * 0.02

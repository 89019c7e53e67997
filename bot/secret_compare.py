"""Comparing a secret a request presents (a signature, a token, a cookie)
with the expected one, in constant time.  hmac.compare_digest raises on a
str holding anything but ASCII; a hostile header must be refused, not
crash the handler, so both sides are compared as UTF-8 bytes."""

from __future__ import annotations

import hmac


def same_secret(presented: str | bytes | None, expected: str | bytes) -> bool:
    if presented is None:
        return False
    a = presented.encode("utf-8", "surrogatepass") if isinstance(presented, str) else presented
    b = expected.encode("utf-8", "surrogatepass") if isinstance(expected, str) else expected
    return hmac.compare_digest(a, b)

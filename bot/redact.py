"""Secrets out of what crashdesk writes down: log lines (the access log's
request lines included) and the error kept with a failed job.  A board
sign-in link, WeCom's access_token, a Slack token or a secret in a URL is
replaced by [redacted] before anyone who reads the logs can use it."""

from __future__ import annotations

import logging
import re

# Query parameters that carry a credential, and tokens by their shape.
# Every pattern is linear: a run of non-separator characters, taken whole.
_QUERY = re.compile(r"(?i)([?&](?:t|access_token|corpsecret|secret|token|key|code|signature|msg_signature)=)[^&\s\"'#]++")
_SLACK = re.compile(r"\b(xox[abprse]-|xapp-)[A-Za-z0-9-]++")
_BEARER = re.compile(r"(?i)\b(bearer\s++)[^\s\"']++")
_COOKIE = re.compile(r"(?i)(crashdesk_session=)[^;\s\"']++")
MARK = "[redacted]"


def redact(text: str) -> str:
    if not text:
        return text
    for pattern in (_QUERY, _SLACK, _BEARER, _COOKIE):
        text = pattern.sub(lambda m: m[1] + MARK, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message once, arguments formatted in."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install(logger: logging.Logger | None = None) -> None:
    """On every handler of the root logger (where aiohttp's access log and
    crashdesk's own records end up)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())

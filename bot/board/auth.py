"""Who may see the board.  Case data is customer data: a session starts
only from a signed, expiring link the bot hands out in chat (to the people
the desk serves, bot.access), and is kept server-side (store.sessions):
the HttpOnly, SameSite=Strict cookie holds only a random token, so signing
out or expiry ends the session for good.  A link names its case or none:
a case link opens a session that reaches that case only.  The link key is
CRASHDESK_SECRET, or one kept in the database so that a link printed by one
process opens on another that shares the file."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from bot.secret_compare import same_secret

LINK_TTL = 24 * 3600
SESSION_TTL = 12 * 3600
COOKIE = "crashdesk_session"


class BadToken(ValueError):
    """Tampered, expired or malformed: the request is refused."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class Link:
    """What a verified sign-in link says: who, from which platform, and the
    one case it opens (None: the whole board)."""
    user: str
    platform: str
    case: str | None


class Signer:
    def __init__(self, key: bytes, clock=time.time):
        self.key = key
        self.clock = clock

    def _mac(self, purpose: str, payload: str) -> str:
        return _b64(hmac.new(self.key, f"{purpose}.{payload}".encode(), hashlib.sha256).digest())

    def sign(self, purpose: str, data: dict, ttl: int) -> str:
        body = _b64(json.dumps({**data, "exp": int(self.clock()) + ttl}, separators=(",", ":")).encode())
        return f"{body}.{self._mac(purpose, body)}"

    def verify(self, purpose: str, token: str | None) -> dict:
        if not token or token.count(".") != 1:
            raise BadToken("malformed")
        body, mac = token.split(".")
        if not same_secret(mac, self._mac(purpose, body)):
            raise BadToken("bad signature")
        try:
            data = json.loads(_unb64(body))
        except ValueError:
            raise BadToken("malformed") from None
        if int(data.get("exp", 0)) < self.clock():
            raise BadToken("expired")
        return data

    # -- sign-in links ------------------------------------------------------
    def link_token(self, user: str, platform: str, case: str | None = None, ttl: int = LINK_TTL) -> str:
        return self.sign("link", {"u": user, "p": platform, "c": case, "n": secrets.token_hex(4)}, ttl)

    def link(self, token: str | None) -> Link:
        data = self.verify("link", token)
        user, platform, case = data.get("u"), data.get("p"), data.get("c")
        if not isinstance(user, str) or not isinstance(platform, str) or not isinstance(case, (str, type(None))):
            raise BadToken("malformed")
        return Link(user, platform, case)


def new_key() -> str:
    return secrets.token_hex(32)


# -- session cookies (the session itself is in store.sessions) ---------------
def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def cookie_token(value: str | None) -> str | None:
    """The session token a cookie carries, or None for anything that is not
    one (absent, another shape, a non-ASCII byte): such a request is simply
    not signed in."""
    if not value or not 20 <= len(value) <= 100 or not value.isascii():
        return None
    if value.strip("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"):
        return None
    return value

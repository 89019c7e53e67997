"""Who may see the board.  Case data is customer data: a session starts
only from a signed, expiring link the bot hands out in chat, and lives in
an HttpOnly, SameSite=Strict cookie that is itself signed.  The key is
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


@dataclass(slots=True)
class Session:
    user: str
    platform: str
    csrf: str


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

    # -- the two tokens ------------------------------------------------------
    def link_token(self, user: str, platform: str, case: str | None = None, ttl: int = LINK_TTL) -> str:
        return self.sign("link", {"u": user, "p": platform, "c": case, "n": secrets.token_hex(4)}, ttl)

    def session_cookie(self, user: str, platform: str) -> tuple[str, Session]:
        csrf = secrets.token_urlsafe(24)
        value = self.sign("session", {"u": user, "p": platform, "x": csrf}, SESSION_TTL)
        return value, Session(user, platform, csrf)

    def session(self, cookie: str | None) -> Session:
        data = self.verify("session", cookie)
        return Session(data["u"], data["p"], data["x"])


def new_key() -> str:
    return secrets.token_hex(32)

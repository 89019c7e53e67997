"""Board sessions, kept server-side.

The browser holds a random token; this table holds its SHA-256 (a copy of
the database does not sign anyone in), who it belongs to, the one case it
may reach (None: the whole board), its CSRF token and when it ends.  A
session is alive while it is neither revoked nor past ``expires_at``:
signing out revokes it, and an old cookie then finds nothing."""

from __future__ import annotations

from dataclasses import dataclass

from store.audit import record
from store.db import Database, writing


@dataclass(frozen=True, slots=True)
class Session:
    id: int
    user: str
    platform: str
    case: str | None  # the one case it reaches; None: the whole board
    csrf: str
    expires_at: str

    def reaches(self, number: str) -> bool:
        """Whether this session may see and act on case ``number``."""
        return self.case is None or self.case == number


def _session(row: dict) -> Session:
    return Session(id=row["id"], user=row["user"], platform=row["platform"], case=row["case_number"],
                   csrf=row["csrf"], expires_at=row["expires_at"])


def start(db: Database, *, token_hash: str, user: str, platform: str, case: str | None, csrf: str, at: str,
          expires_at: str, remote: str | None = None) -> Session:
    """A new session and its audit line, in one transaction; sessions that
    ended before ``at`` are cleared out on the way."""
    with writing(db):
        db.execute("delete from sessions where expires_at < ? or revoked_at is not null and revoked_at < ?",
                   [at, at])
        sid = db.insert("sessions", {"token_hash": token_hash, "user": user, "platform": platform,
                                     "case_number": case, "csrf": csrf, "created_at": at, "expires_at": expires_at,
                                     "last_seen_at": at})
        record(db, at=at, who=user, platform=platform, action="board_sign_in",
               detail={"session": sid, "case": case, "remote": remote})
    return Session(sid, user, platform, case, csrf, expires_at)


def alive(db: Database, token_hash: str, now: str) -> Session | None:
    row = db.one("select * from sessions where token_hash = ? and revoked_at is null and expires_at > ?",
                 [token_hash, now])
    return _session(row) if row else None


def end(db: Database, token_hash: str, at: str, remote: str | None = None) -> Session | None:
    """Sign out: the session is revoked (its audit line with it); None when
    there was no live session under that token."""
    with writing(db):
        row = db.one("select * from sessions where token_hash = ? and revoked_at is null and expires_at > ?",
                     [token_hash, at])
        if row is None:
            return None
        db.execute("update sessions set revoked_at = ? where id = ?", [at, row["id"]])
        record(db, at=at, who=row["user"], platform=row["platform"], action="board_sign_out",
               detail={"session": row["id"], "case": row["case_number"], "remote": remote})
    return _session(row)


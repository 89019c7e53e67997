"""Who changed what: every change to a case is written here, in the same
transaction as the change itself."""

from __future__ import annotations

import json

from store.db import Database, writing


def record(db: Database, *, at: str, who: str | None, action: str, case_id: int | None = None,
           platform: str | None = None, detail: dict | None = None) -> None:
    db.insert("audit", {
        "at": at, "who": who, "platform": platform, "case_id": case_id, "action": action,
        "detail": json.dumps(detail or {}, ensure_ascii=False, default=str),
    })



def note(db: Database, *, at: str, who: str | None, action: str, case_id: int | None = None,
         platform: str | None = None, detail: dict | None = None) -> None:
    """An audit line that goes with no change of its own (a board upload's
    outcome): written in its own transaction, not left in an implicit one
    that holds the database's write lock."""
    with writing(db):
        record(db, at=at, who=who, action=action, case_id=case_id, platform=platform, detail=detail)

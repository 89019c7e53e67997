"""Who changed what: every change to a case is written here, in the same
transaction as the change itself."""

from __future__ import annotations

import json

from store.db import Database


def record(db: Database, *, at: str, who: str | None, action: str, case_id: int | None = None,
           platform: str | None = None, detail: dict | None = None) -> None:
    db.insert("audit", {
        "at": at, "who": who, "platform": platform, "case_id": case_id, "action": action,
        "detail": json.dumps(detail or {}, ensure_ascii=False, default=str),
    })


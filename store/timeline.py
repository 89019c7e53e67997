"""What happened on a case, in order: follow-ups (phone, e-mail, visit,
note), thread messages from every platform, decisions (archive, reopen)."""

from __future__ import annotations

from store.db import Database

from store.audit import record
from store.db import writing

def add_followup(db: Database, case_id: int, *, kind: str, who: str | None, at: str, agreed: str,
                 next_action: str | None, due: str | None, platform: str | None = None,
                 observe: bool = False, origin: str | None = None) -> int:
    """A follow-up, and the case's next action and last contact with it, in
    one transaction; an archived case keeps no next action.  ``observe``
    puts an open case under observation; a case archived meanwhile stays
    archived.  ``origin`` names the message it
    came from: the same message handled again (a job run again after a
    crash) logs nothing twice."""
    with writing(db):
        row = db.execute(
            "insert into followups (case_id, kind, who, at, agreed, next_action, due, origin) "
            "values (?, ?, ?, ?, ?, ?, ?, ?) on conflict (origin) do nothing returning id",
            [case_id, kind, who, at, agreed, next_action, due, origin]).fetchone()
        if row is None:
            found = db.one("select id from followups where origin = ?", [origin])
            return found["id"] if found else 0
        fid = row[0]
        if observe:
            db.execute("update cases set status = 'observing' where id = ? and status = 'open'", [case_id])
        changes = {"updated_at": at}
        if kind != "note":
            changes["last_contact_at"] = at
        db.update("cases", case_id, changes)
        if next_action or due:
            # An archived case has no next action: a call after the archive
            # is on the record, and sets none.
            db.execute("update cases set next_action = ?, next_action_due = ? where id = ? and status <> 'archived'",
                       [next_action, due, case_id])
        record(db, at=at, who=who, platform=platform, case_id=case_id, action=f"followup:{kind}",
               detail={"agreed": agreed, "next_action": next_action, "due": due})
    return fid


def add_message(db: Database, case_id: int, *, platform: str, channel: str, thread: str | None, ts: str,
                user: str | None, text: str, is_bot: bool, at: str) -> bool:
    """A thread message on the case timeline; False for a delivery seen before."""
    with writing(db):
        cur = db.execute(
            'insert into messages (case_id, platform, channel, thread, ts, "user", text, is_bot, at) '
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (platform, channel, ts) do nothing",
            [case_id, platform, channel, thread, ts, user, text, int(is_bot), at])
        return cur.rowcount > 0


def add_decision(db: Database, case_id: int, *, kind: str, reason: str | None, summary: str | None,
                 email: str | None, who: str | None, at: str, lang: str, case_changes: dict,
                 from_statuses: tuple[str, ...], platform: str | None = None,
                 email_lang: str | None = None) -> int | None:
    """A decision (archive, reopen) and the case's new state, in one
    transaction; None, and nothing written, when the case is no longer in one
    of ``from_statuses`` (two people archiving at once make one decision).
    ``email_lang``: the customer e-mail's language, when not ``lang``."""
    with writing(db):
        row = db.execute(f"select status from cases where id = ?{db.for_update}", [case_id]).fetchone()
        if row is None or row[0] not in from_statuses:
            return None
        did = db.insert("decisions", {"case_id": case_id, "kind": kind, "reason": reason, "summary": summary,
                                      "email": email, "who": who, "at": at, "lang": lang,
                                      "email_lang": (email_lang or lang) if email is not None else None})
        db.update("cases", case_id, {**case_changes, "updated_at": at})
        record(db, at=at, who=who, platform=platform, case_id=case_id, action=kind,
               detail={"reason": reason, "from": {"status": row[0]}, "to": case_changes})
    return did


def followups(db: Database, case_id: int) -> list[dict]:
    return list(db.query("select * from followups where case_id = ? order by at, id", [case_id]))


def messages(db: Database, case_id: int) -> list[dict]:
    return list(db.query("select * from messages where case_id = ? order by at, id", [case_id]))


def decisions(db: Database, case_id: int) -> list[dict]:
    return list(db.query("select * from decisions where case_id = ? order by at, id", [case_id]))


def last_decision(db: Database, case_id: int, kind: str | None = None) -> dict | None:
    sql = "select * from decisions where case_id = ?" + (" and kind = ?" if kind else "") + " order by at desc, id desc limit 1"
    rows = list(db.query(sql, [case_id, kind] if kind else [case_id]))
    return rows[0] if rows else None


def timeline(db: Database, case_id: int) -> list[dict]:
    """Everything on the case, oldest first, each item with a ``type``."""
    items = []
    for f in followups(db, case_id):
        items.append({"type": "followup", **f})
    for m in messages(db, case_id):
        items.append({"type": "message", **m})
    for d in decisions(db, case_id):
        items.append({"type": "decision", **d})
    for u in db.query(
        "select dumps.id as dump_id, dumps.name, dumps.size, dumps.kind, case_dumps.added_at as at, "
        "case_dumps.added_by as who from case_dumps join dumps on dumps.id = case_dumps.dump_id where case_id = ?",
        [case_id],
    ):
        items.append({"type": "upload", **u})
    items.sort(key=lambda i: (i.get("at") or "", i["type"]))
    return items

"""Tables of the case record, as migrations (sqlite-utils' built-in
``Migrations``): a database created by any earlier version is brought up to
date on open, and a failed step rolls back whole."""

from __future__ import annotations

from sqlite_utils import Migrations

migrations = Migrations("crashdesk")
KNOWN: list[str] = []  # every step this version has, in order


def _step(name: str):
    KNOWN.append(name)
    return migrations(name=name)


@_step("001_case_record")
def _m001(db):
    db["cases"].create(
        {
            "id": int, "number": str, "title": str, "customer": str, "contact": str,
            "priority": str, "status": str, "product": str, "os": str, "owner": str,
            "opened_at": str, "opened_by": str, "first_response_at": str, "last_contact_at": str,
            "next_action": str, "next_action_due": str, "verdict_line": str, "verdict_json": str,
            "updated_at": str, "archived_at": str, "lang": str,
        },
        pk="id", not_null={"number", "priority", "status", "opened_at"},
        defaults={"priority": "P3", "status": "open"},
    )
    db["cases"].create_index(["number"], unique=True)
    db["cases"].create_index(["status", "priority", "opened_at"])

    db["case_threads"].create(
        {"id": int, "case_id": int, "platform": str, "channel": str, "thread": str, "created_at": str},
        pk="id", foreign_keys=[("case_id", "cases", "id")], not_null={"case_id", "platform", "channel", "thread"},
    )
    db["case_threads"].create_index(["platform", "channel", "thread"], unique=True)
    db["case_threads"].create_index(["case_id"])

    db["dumps"].create(
        {"id": int, "sha256": str, "name": str, "size": int, "kind": str, "path": str, "created_at": str},
        pk="id", not_null={"sha256", "name", "size"},
    )
    db["dumps"].create_index(["sha256"], unique=True)

    db["case_dumps"].create(
        {"case_id": int, "dump_id": int, "added_at": str, "added_by": str},
        pk=("case_id", "dump_id"), foreign_keys=[("case_id", "cases", "id"), ("dump_id", "dumps", "id")],
    )

    db["analyses"].create(
        {"id": int, "dump_id": int, "engine": str, "verdict_json": str, "summary": str, "created_at": str},
        pk="id", foreign_keys=[("dump_id", "dumps", "id")], not_null={"dump_id", "verdict_json"},
    )
    db["analyses"].create_index(["dump_id"])

    db["followups"].create(
        {"id": int, "case_id": int, "kind": str, "who": str, "at": str, "agreed": str,
         "next_action": str, "due": str},
        pk="id", foreign_keys=[("case_id", "cases", "id")], not_null={"case_id", "kind", "at"},
    )
    db["followups"].create_index(["case_id", "at"])

    db["messages"].create(
        {"id": int, "case_id": int, "platform": str, "channel": str, "thread": str, "ts": str,
         "user": str, "text": str, "is_bot": int, "at": str},
        pk="id", foreign_keys=[("case_id", "cases", "id")], not_null={"case_id", "at"},
    )
    db["messages"].create_index(["platform", "channel", "ts"], unique=True)
    db["messages"].create_index(["case_id", "at"])

    db["decisions"].create(
        {"id": int, "case_id": int, "kind": str, "reason": str, "summary": str, "email": str,
         "who": str, "at": str, "lang": str},
        pk="id", foreign_keys=[("case_id", "cases", "id")], not_null={"case_id", "kind", "at"},
    )
    db["decisions"].create_index(["case_id", "at"])

    db["audit"].create(
        {"id": int, "at": str, "who": str, "platform": str, "case_id": int, "action": str, "detail": str},
        pk="id", not_null={"at", "action"},
    )
    db["audit"].create_index(["case_id", "at"])

    db["pending_uploads"].create(
        {"id": int, "platform": str, "channel": str, "thread": str, "user": str, "dump_id": int, "at": str},
        pk="id", foreign_keys=[("dump_id", "dumps", "id")],
    )
    db["pending_uploads"].create_index(["platform", "channel", "thread"])

    db["digests"].create({"channel": str, "day": str, "claimed_at": str, "sent_at": str}, pk=("channel", "day"))
    db["seen_events"].create({"key": str, "at": str}, pk="key")
    db["settings"].create({"key": str, "value": str}, pk="key")

    db["jobs"].create(
        {"id": int, "kind": str, "dedupe": str, "payload": str, "status": str, "attempts": int,
         "not_before": str, "created_at": str, "updated_at": str, "error": str},
        pk="id", not_null={"kind", "status", "created_at"}, defaults={"status": "queued", "attempts": 0},
    )
    db["jobs"].create_index(["dedupe"], unique=True)
    db["jobs"].create_index(["status", "not_before"])

    # Full-text search over what an engineer would look for later.  The
    # trigram tokenizer finds Chinese words inside unsegmented text
    # ("亚信安全" in "客户将升级亚信安全软件"); see store.search for shorter words.
    for table, columns in FTS_COLUMNS.items():
        db[table].enable_fts(list(columns), create_triggers=True, tokenize="trigram")


FTS_COLUMNS = {
    "cases": ("number", "title", "customer", "verdict_line"),
    "followups": ("agreed", "next_action"),
    "analyses": ("summary",),
    "decisions": ("reason", "summary"),
    "messages": ("text",),
}


@_step("002_vendor_and_chinese_verdict")
def _m002(db):
    # The vendor behind a case, kept beside the verdict so the board can
    # filter and count by it; and the verdict worded in Chinese as well.
    db["cases"].add_column("vendor", str)
    db["cases"].add_column("verdict_zh", str)
    db["cases"].create_index(["vendor"])

"""Memory across cases (issue 11): the crash fingerprints of every case's
verdict, the cases that share them, the buckets as they grow; and the
known issues proposed when a case is archived, until a lead confirms or
rejects them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from store.audit import record
from store.db import Database, writing


def record_fingerprints(db: Database, case_id: int, verdict: dict, at: str) -> None:
    """The case's fingerprints now: its verdict's crashes that name a module
    (a crash that names none ties no cases together).  Called in the
    transaction that stores the verdict."""
    db.execute("delete from fingerprints where case_id = ?", [case_id])
    for n, d in enumerate(verdict.get("dumps") or []):
        fp = d.get("fingerprint") or {}
        if not fp.get("module"):
            continue
        # One file can tell several crashes (a support thread of two dumps).
        db.execute("insert into fingerprints (case_id, source, bucket, exact, module, version, at) "
                   "values (?, ?, ?, ?, ?, ?, ?)",
                   [case_id, f"{d['source'][:480]}#{n}", fp["bucket"][:300], (fp.get("exact") or "")[:500], fp["module"][:120],
                    (fp.get("version") or None), at])


@dataclass(slots=True)
class Seen:
    """Another case where the same bug (or the same module) was seen."""

    number: str
    customer: str | None
    status: str
    last: str  # ISO date it was last updated
    buckets: list[str] = field(default_factory=list)  # shared buckets; empty: only the module is shared
    archived_reason: str | None = None


@dataclass(slots=True)
class Similar:
    same_bug: list[Seen] = field(default_factory=list)  # sharing a bucket, most recent first
    same_module: list[Seen] = field(default_factory=list)  # sharing only a culprit module

    @property
    def customers(self) -> int:
        return len({s.customer or s.number for s in self.same_bug})

    @property
    def archived(self) -> list[Seen]:
        return [s for s in self.same_bug if s.status == "archived"]


def similar(db: Database, case_id: int, limit: int = 20) -> Similar:
    rows = list(db.query(
        "select c.id, c.number, c.customer, c.status, coalesce(c.updated_at, c.opened_at) as last, f.bucket, "
        "f.module, (select f2.bucket from fingerprints f2 where f2.case_id = ? and f2.bucket = f.bucket limit 1) as shared "
        "from fingerprints f join cases c on c.id = f.case_id "
        "where f.case_id <> ? and (f.bucket in (select bucket from fingerprints where case_id = ?) "
        "or f.module in (select module from fingerprints where case_id = ?)) "
        "order by last desc", [case_id, case_id, case_id, case_id]))
    by_case: dict[int, Seen] = {}
    for r in rows:
        seen = by_case.setdefault(r["id"], Seen(r["number"], r["customer"], r["status"], (r["last"] or "")[:10]))
        if r["shared"] and r["shared"] not in seen.buckets:
            seen.buckets.append(r["shared"])
    out = Similar()
    for cid, seen in by_case.items():
        if seen.status == "archived":
            row = db.one("select reason from decisions where case_id = ? and kind = 'archive' order by at desc, id desc "
                         "limit 1", [cid])
            seen.archived_reason = row["reason"] if row else None
        (out.same_bug if seen.buckets else out.same_module).append(seen)
    out.same_bug, out.same_module = out.same_bug[:limit], out.same_module[:limit]
    return out


@dataclass(slots=True)
class Bucket:
    bucket: str
    module: str
    cases: int
    customers: int
    first: str
    last: str
    by_month: dict[str, int]  # "2021-09" -> cases first seen in that month


def buckets(db: Database, limit: int = 50) -> list[Bucket]:
    """The buckets seen in more than one case first, then by size and how recent."""
    rows = list(db.query(
        "select f.bucket, f.module, f.case_id, c.customer, c.number, min(f.at) as at from fingerprints f "
        "join cases c on c.id = f.case_id group by f.bucket, f.module, f.case_id, c.customer, c.number"))
    grouped: dict[str, list[dict]] = {}
    for r in rows:
        grouped.setdefault(r["bucket"], []).append(r)
    out = []
    for bucket, members in grouped.items():
        months: dict[str, int] = {}
        for m in members:
            months[m["at"][:7]] = months.get(m["at"][:7], 0) + 1
        out.append(Bucket(bucket, members[0]["module"], len(members),
                          len({m["customer"] or m["number"] for m in members}),
                          min(m["at"] for m in members)[:10], max(m["at"] for m in members)[:10], dict(sorted(months.items()))))
    out.sort(key=lambda b: b.last, reverse=True)
    out.sort(key=lambda b: b.cases, reverse=True)
    return out[:limit]


# ------------------------------------------------------------ known issues

def propose_issue(db: Database, case_id: int, rule: dict, *, who: str | None, at: str, platform: str | None) -> int:
    with writing(db):
        existing = db.one("select id from issue_proposals where case_id = ? and status = 'proposed'", [case_id])
        if existing:
            db.execute("update issue_proposals set rule = ?, proposed_by = ?, proposed_at = ? where id = ?",
                       [json.dumps(rule, ensure_ascii=False), who, at, existing["id"]])
            return existing["id"]
        pid = db.insert("issue_proposals", {"case_id": case_id, "rule": json.dumps(rule, ensure_ascii=False),
                                            "status": "proposed", "proposed_by": who, "proposed_at": at})
        record(db, at=at, who=who, platform=platform, case_id=case_id, action="propose_issue", detail={"id": pid})
        return pid


def proposals(db: Database, status: str = "proposed") -> list[dict]:
    rows = list(db.query("select p.*, c.number from issue_proposals p join cases c on c.id = p.case_id "
                         "where p.status = ? order by p.id", [status]))
    for r in rows:
        r["rule"] = json.loads(r["rule"])
    return rows


def decide_issue(db: Database, proposal_id: int, status: str, *, who: str | None, at: str,
                 platform: str | None) -> dict | None:
    """Confirm or reject a proposal once; None when there is no such open proposal."""
    assert status in ("confirmed", "rejected")
    with writing(db):
        row = db.one("select * from issue_proposals where id = ? and status = 'proposed'", [proposal_id])
        if row is None:
            return None
        db.execute("update issue_proposals set status = ?, decided_by = ?, decided_at = ? where id = ?",
                   [status, who, at, proposal_id])
        record(db, at=at, who=who, platform=platform, case_id=row["case_id"], action=f"issue_{status}",
               detail={"id": proposal_id})
    row["status"] = status
    row["rule"] = json.loads(row["rule"])
    return row


def confirmed_rules(db: Database) -> list[dict]:
    """The known issues leads confirmed, as rules the analysis matches."""
    return [json.loads(r["rule"]) for r in db.query(
        "select rule from issue_proposals where status = 'confirmed' order by id")]

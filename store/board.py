"""What the web case board reads: filtered case lists, the pieces of a case
page, and vendor counts over time."""

from __future__ import annotations

import json

from store.db import Database

from store.cases import Case, _case, where
from store.search import search


def case_list(db: Database, *, statuses=("open", "observing"), priority: str | None = None,
              customer: str | None = None, vendor: str | None = None, owner: str | None = None,
              q: str | None = None, limit: int = 200, offset: int = 0) -> tuple[list[Case], int]:
    ids = [c.id for c, _ in search(db, q, limit=1000)] if q else None
    clause, params = where(statuses, priority=priority, customer=customer, vendor=vendor, owner=owner, ids=ids)
    total = next(db.query(f"select count(*) as n from cases where {clause}", params))["n"]
    rows = db.query(f"select * from cases where {clause} order by opened_at, id limit ? offset ?",
                    [*params, limit, offset])
    return [_case(r) for r in rows], total


def facets(db: Database) -> dict[str, list[str]]:
    """Values the filters can take."""
    out = {}
    for column in ("customer", "vendor", "owner"):
        out[column] = [r[column] for r in db.query(
            f"select distinct {column} from cases where {column} is not null and {column} != '' order by {column}")]
    return out


def vendor_stats(db: Database) -> list[dict]:
    """Per vendor: open and archived cases, dumps, the modules blamed."""
    stats: dict[str, dict] = {}
    for row in db.query(
        "select cases.vendor, cases.status, cases.verdict_json, "
        "(select count(*) from case_dumps where case_dumps.case_id = cases.id) as dumps "
        "from cases where cases.vendor is not null"
    ):
        entry = stats.setdefault(row["vendor"], {"vendor": row["vendor"], "open": 0, "archived": 0, "dumps": 0,
                                                 "modules": {}, "vendor_zh": None})
        entry["archived" if row["status"] == "archived" else "open"] += 1
        entry["dumps"] += row["dumps"]
        verdict = json.loads(row["verdict_json"] or "{}").get("case", {})
        entry["vendor_zh"] = entry["vendor_zh"] or verdict.get("vendor_zh")
        for module in verdict.get("modules") or []:
            item = entry["modules"].setdefault(module.lower(), [module, 0])
            item[1] += 1
    result = []
    for entry in stats.values():
        entry["modules"] = sorted((tuple(m) for m in entry["modules"].values()), key=lambda m: -m[1])
        result.append(entry)
    result.sort(key=lambda e: (-(e["open"] + e["archived"]), e["vendor"]))
    return result


def vendor_months(db: Database, months: int = 12) -> list[dict]:
    """Cases opened per month and vendor, the last ``months`` months that have any."""
    rows = list(db.query(
        "select substr(opened_at, 1, 7) as month, vendor, count(*) as n from cases "
        "where vendor is not null group by month, vendor order by month"))
    keep = sorted({r["month"] for r in rows})[-months:]
    return [r for r in rows if r["month"] in keep]


def case_changes(db: Database, case_id: int) -> list[dict]:
    """The owner and priority changes of a case (from its audit lines), as
    timeline items."""
    out = []
    for row in db.query("select at, who, platform, action, detail from audit where case_id = ? "
                        "and action in ('assign', 'priority') order by at, id", [case_id]):
        detail = json.loads(row["detail"] or "{}")
        to = detail.get("to") if isinstance(detail, dict) else None
        value = to.get("owner" if row["action"] == "assign" else "priority") if isinstance(to, dict) else None
        out.append({"type": "change", "kind": row["action"], "at": row["at"], "who": row["who"],
                    "platform": row["platform"], "value": value})
    return out


def case_file_names(db: Database, case_id: int) -> set[str]:
    """The names of the files filed under a case."""
    return {r["name"] for r in db.query("select dumps.name from case_dumps join dumps on dumps.id = case_dumps.dump_id "
                                        "where case_dumps.case_id = ?", [case_id])}

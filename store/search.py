"""Full-text search over the case record: titles and customers, follow-ups,
verdicts, decisions and thread messages, answered as matching cases."""

from __future__ import annotations

from store.db import Database

from store.cases import Case, by_ids
from store.schema import FTS_COLUMNS

# (table, how a row leads to its case, label of what matched)
_SOURCES = (
    ("cases", "cases.id", "case"),
    ("followups", "followups.case_id", "followup"),
    ("decisions", "decisions.case_id", "decision"),
    ("messages", "messages.case_id", "message"),
    ("analyses", "case_dumps.case_id", "verdict"),
)
_JOINS = {"analyses": " join case_dumps on case_dumps.dump_id = analyses.dump_id"}


def _condition(db: Database, table: str, words: list[str]) -> tuple[str, list]:
    """On SQLite, FTS when every word is long enough for the trigram index
    (3+ characters); otherwise a LIKE over the same columns, which a
    two-character Chinese word ("蓝屏") needs.  On PostgreSQL always the
    (case-insensitive) LIKE, which pg_trgm's indexes answer."""
    if db.dialect == "sqlite" and all(len(w) >= 3 for w in words):
        return (f"{table}.rowid in (select rowid from {table}_fts where {table}_fts match ?)",
                [" ".join('"' + w.replace('"', '""') + '"' for w in words)])
    clauses, params = [], []
    for w in words:
        like = "%" + w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        clauses.append("(" + " or ".join(f"{table}.{c} {db.like} ? escape '\\'" for c in FTS_COLUMNS[table]) + ")")
        params.extend([like] * len(FTS_COLUMNS[table]))
    return " and ".join(clauses), params


def search(db: Database, words: str, limit: int = 20) -> list[tuple[Case, list[str]]]:
    terms = [w for w in words.split() if w]
    if not terms:
        return []
    hits: dict[int, list[str]] = {}
    order: list[int] = []
    for table, case_col, label in _SOURCES:
        where, params = _condition(db, table, terms)
        sql = (f"select distinct {case_col} as case_id from {table}{_JOINS.get(table, '')} "
               f"where {where} limit ?")
        for row in db.query(sql, [*params, limit * 4]):
            if row["case_id"] not in hits:
                hits[row["case_id"]] = []
                order.append(row["case_id"])
            if label not in hits[row["case_id"]]:
                hits[row["case_id"]].append(label)
    found = by_ids(db, order[:limit])
    results = [(found[case_id], hits[case_id]) for case_id in order[:limit] if case_id in found]
    # Most recently active first.
    results.sort(key=lambda r: r[0].updated_at or "", reverse=True)
    return results

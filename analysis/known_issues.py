"""Vendors' known issues, what they apply to, and whether the evidence shows
an affected or a fixed version (issue 11).

An article covers a product, a driver's file versions or build dates, some
Windows builds, some bug checks; and it names what fixes it (a product
version, a driver version, a Windows update).  The verdict says which side
of the line the customer's evidence is on: "VSApiNt built 2019-09-15: the
article covers builds before 2018-06-01" -- and the next step follows from
that.  With an inventory (driverquery, msinfo32, systeminfo) it says whether
the fix is installed.

Rules live in analysis/data/known_issues.json; a support lead adds one
there, or confirms one the desk proposed when a case was archived."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Iterable, Sequence

from analysis.model import DumpReport, KnownIssue, VersionCheck, module_key

_DATA = Path(__file__).with_name("data") / "known_issues.json"
_VERSION = re.compile(r"\d++(?:\.\d++){1,3}")


class VersionState(StrEnum):
    AFFECTED = "affected"  # the evidence shows a version the article covers
    FIXED = "fixed"  # the evidence shows the fixed version (or later)
    UNKNOWN = "unknown"  # no version of the module in the evidence


@dataclass(slots=True, frozen=True)
class Affected:
    """One module's line between affected and fixed: a file version below
    ``version_below``, or an image built before ``built_before``."""

    module: str  # module key
    version_below: tuple[int, ...] | None = None
    built_before: str | None = None  # ISO date
    # The line covers one version family: versions from this one on (Intel
    # SST's 10.29 and 10.30 drivers are fixed at different builds).
    version_from: tuple[int, ...] | None = None


@dataclass(slots=True, frozen=True)
class Rule:
    id: str
    title: str
    title_zh: str | None
    url: str
    vendors: tuple[str, ...]
    modules: tuple[str, ...]
    builds: tuple[int, ...]
    bugchecks: tuple[int, ...]
    advice_en: str
    advice_zh: str
    affected: tuple[Affected, ...] = ()
    fixed_en: str | None = None  # what fixes it, in words ("OfficeScan XG SP1 or later")
    fixed_zh: str | None = None
    fix_kbs: tuple[str, ...] = ()  # Windows updates that fix it


def parse_version(text: str | None) -> tuple[int, ...] | None:
    """'12.0.0.1300 built by: WinDDK' -> (12, 0, 0, 1300)."""
    if not text:
        return None
    m = _VERSION.search(text[:200])
    return tuple(int(p) for p in m[0].split(".")) if m else None


def _rule(item: dict) -> Rule:
    affected = tuple(
        Affected(module=module_key(a["module"]), version_below=parse_version(a.get("version_below")),
                 built_before=a.get("built_before"), version_from=parse_version(a.get("version_from")))
        for a in item.get("affected", []))
    fixed = item.get("fixed") or {}
    return Rule(
        id=item["id"], title=item["title"], title_zh=item.get("title_zh"), url=item["url"],
        vendors=tuple(v.lower() for v in item.get("vendors", [])),
        modules=tuple(module_key(m) for m in item.get("modules", [])),
        builds=tuple(item.get("os_builds", [])),
        bugchecks=tuple(int(c, 16) for c in item.get("bugchecks", [])),
        advice_en=item["advice_en"], advice_zh=item["advice_zh"],
        affected=affected, fixed_en=fixed.get("en"), fixed_zh=fixed.get("zh"),
        fix_kbs=tuple(k.upper() for k in fixed.get("kbs", [])),
    )


@cache
def rules() -> tuple[Rule, ...]:
    return tuple(_rule(item) for item in json.loads(_DATA.read_text(encoding="utf-8")))


@dataclass(slots=True)
class Sighting:
    """A version of a module seen in the evidence."""

    module: str  # module key
    version: tuple[int, ...] | None
    built: str | None  # ISO date
    where: str  # the dump or listing it came from
    name: str = ""  # the module as the evidence spells it


@dataclass
class Evidence:
    """What the case shows that known issues are checked against."""

    vendors: set[str] = field(default_factory=set)
    modules: set[str] = field(default_factory=set)
    builds: set[int] = field(default_factory=set)
    bugchecks: set[int] = field(default_factory=set)
    sightings: list[Sighting] = field(default_factory=list)
    hotfixes: set[str] | None = None  # None: no listing of installed updates


def sightings_of(dumps: Iterable[DumpReport]) -> list[Sighting]:
    from analysis.vendors import built_date

    out = []
    for d in dumps:
        for info in d.modules.values():
            version = parse_version(info.file_version) or parse_version(info.product_version)
            built = built_date(info.timestamp)
            if version or built:
                out.append(Sighting(module_key(info.name), version, built, d.source, info.name))
    return out


def inventory_sightings(inventories: Iterable) -> list[Sighting]:
    """Installed drivers' versions and dates from inventories (analysis.reports.Inventory)."""
    out = []
    for inv in inventories:
        for drv in getattr(inv, "drivers", []):
            built = _iso_date(drv.date)
            version = parse_version(drv.version)
            if version or built:
                out.append(Sighting(module_key(drv.image or drv.name), version, built, inv.source, drv.name))
    return out


_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})|(\d{1,2})/(\d{1,2})/(\d{4})")


def _iso_date(text: str | None) -> str | None:
    """A listing's date ('2019-09-15', '9/15/2019') as ISO; ambiguous
    day/month orders are read the US way, as driverquery writes them."""
    if not text:
        return None
    m = _DATE.search(text[:40])
    if not m:
        return None
    if m[1]:
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    else:
        mo, d, y = int(m[4]), int(m[5]), int(m[6])
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return None
    return f"{y:04d}-{mo:02d}-{d:02d}"


def version_state(rule: Rule, sightings: list[Sighting]) -> tuple[VersionState, list[VersionCheck]]:
    """Affected or fixed, by the article's lines, and the checks that say so."""
    checks: list[VersionCheck] = []
    for line in rule.affected:
        for s in (s for s in sightings if s.module == line.module):
            name = s.name or s.module
            if line.version_below and s.version:
                if line.version_from and s.version[:len(line.version_from)] < line.version_from:
                    continue  # another version family than this line's
                checks.append(VersionCheck(name, ".".join(map(str, s.version)), ".".join(map(str, line.version_below)),
                                           "version", s.version < line.version_below, s.where))
            elif line.built_before and s.built:
                checks.append(VersionCheck(name, s.built, line.built_before, "built", s.built < line.built_before,
                                           s.where))
    checks = _own_family(rule, sightings, list(dict.fromkeys(checks)))
    if not checks:
        return VersionState.UNKNOWN, []
    if any(c.affected for c in checks):
        return VersionState.AFFECTED, [c for c in checks if c.affected]
    return VersionState.FIXED, checks


def _own_family(rule: Rule, sightings: list[Sighting], checks: list[VersionCheck]) -> list[VersionCheck]:
    """With lines per version family, a version is judged by the family it
    belongs to: the line with the highest ``version_from`` it reaches."""
    families = [a for a in rule.affected if a.version_from]
    if not families:
        return checks
    kept = []
    for c in checks:
        seen = parse_version(c.seen) if c.by == "version" else None
        if seen is None:
            kept.append(c)
            continue
        reached = [a for a in families if module_key(c.module) == a.module and a.version_from
                   and seen[:len(a.version_from)] >= a.version_from]
        best = max(reached, key=lambda a: a.version_from or (), default=None)
        if best is None or ".".join(map(str, best.version_below or ())) == c.limit:
            kept.append(c)
    return kept


def match(evidence: Evidence, extra: Sequence[dict] = ()) -> list[KnownIssue]:
    """The known issues that fit: the vendor, a module, the Windows build and
    bug check of the evidence showing the vendor; each with where the
    evidence stands against its fix."""
    found = []
    for rule in (*rules(), *(_rule(item) for item in extra)):
        if rule.vendors and not (evidence.vendors & set(rule.vendors)):
            continue
        if rule.modules and not (evidence.modules & set(rule.modules)):
            continue
        if rule.builds and not (evidence.builds & set(rule.builds)):
            continue
        if rule.bugchecks and not (evidence.bugchecks & set(rule.bugchecks)):
            continue
        state, why = version_state(rule, evidence.sightings)
        kb_installed = None
        if rule.fix_kbs and evidence.hotfixes is not None:
            kb_installed = bool(set(rule.fix_kbs) & evidence.hotfixes)
        found.append(KnownIssue(rule.id, rule.title, rule.url, rule.advice_en, rule.advice_zh, rule.title_zh,
                                state=state.value, state_why=why, fixed_en=rule.fixed_en, fixed_zh=rule.fixed_zh,
                                fix_kbs=list(rule.fix_kbs), fix_installed=kb_installed,
                                versioned=bool(rule.affected)))
    return found


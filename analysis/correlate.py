"""Case level: what several dumps of one customer say together.

The seed case in one function: two dumps, two different bug checks (0x1A,
0x139), the same two AsiaInfo/Trend Micro drivers on both stacks -> one
vendor, high confidence, the vendor's known issue for that Windows build."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from analysis import catalog
from analysis.vendors import identify
from analysis.model import CaseReport, DumpReport, KnownIssue, ModuleInfo, Reason, module_key

def case_modules(dumps: list[DumpReport]) -> dict[str, ModuleInfo]:
    """lm evidence pooled over the case: the lmvm shown for dump 1 also
    describes the same file on the same machines in dump 2."""
    pooled: dict[str, ModuleInfo] = {}
    for d in dumps:
        for key, info in d.modules.items():
            if key in pooled:
                pooled[key].merge(info)
            else:
                pooled[key] = replace(info)
    return pooled


def dump_modules(dump: DumpReport, pooled: dict[str, ModuleInfo]) -> dict[str, ModuleInfo]:
    """One dump's lm evidence, what it lacks filled in from the case's: its
    own record of a module comes first (its path, its version), a thinner
    record (an ``lm`` line without ``v``) gains the CompanyName another dump
    showed, never loses it."""
    if not dump.modules:
        return pooled
    view = dict(pooled)
    for key, info in dump.modules.items():
        own = replace(info)
        if key in pooled:
            own.merge(pooled[key])
        view[key] = own
    return view


def module_vendor(name: str, modules: dict[str, ModuleInfo]) -> str | None:
    info = modules.get(module_key(name))
    if info:
        row = catalog.vendor_from_text(info.path) or catalog.vendor_from_text(info.company)
        if row:
            return row.vendor
    drv = catalog.driver(name)
    return drv.vendor if drv else None


def correlate(dumps: list[DumpReport]) -> CaseReport:
    pooled = case_modules(dumps)
    views = [dump_modules(d, pooled) for d in dumps]
    case = CaseReport(dumps=dumps)
    reasons: list[Reason] = []
    for d, modules in zip(dumps, views):
        if d.culprit:
            identify(d.culprit, modules)

    codes = [d.bugcheck.code for d in dumps if d.bugcheck]
    case.bugcheck_codes = list(dict.fromkeys(codes))
    case.os_builds = list(dict.fromkeys(d.os.build for d in dumps if d.os.build))

    # Vendors behind each dump: its culprit, and the third-party modules on
    # its stack.  Counted by family (one product line sold under two names);
    # named as the evidence names them.
    per_dump_vendors: list[set[str]] = []
    vendor_modules: dict[str, list[str]] = {}
    culprit_families: Counter = Counter()
    namings: dict[str, list] = {}  # family -> the culprits naming it
    for d, modules in zip(dumps, views):
        seen: set[str] = set()
        c = d.culprit
        fam = catalog.family_key(c.vendor) if c and c.third_party else None
        if c and fam:
            culprit_families[fam] += 1
            seen.add(fam)
            namings.setdefault(fam, []).append(c)
            _add_module(vendor_modules, fam, c.module)
        for name in d.third_party_modules:
            v = catalog.family_key(module_vendor(name, modules))
            if v:
                seen.add(v)
                _add_module(vendor_modules, v, name)
        per_dump_vendors.append(seen)

    blamed = [d.culprit for d in dumps if d.culprit and d.culprit.third_party]
    if culprit_families:
        top, hits = culprit_families.most_common(1)[0]
        case.vendor, case.vendor_zh, case.product = _naming(namings[top])
        named = {"vendor": case.vendor, "vendor_zh": case.vendor_zh}
        case.modules = vendor_modules.get(top, [])
        on_all = sum(1 for s in per_dump_vendors if top in s)
        distinct_codes = len(set(codes))
        if len(culprit_families) == 1 and hits >= 2:
            case.confidence = "high"
            case.pattern = "single-vendor"
            reasons.append(Reason("same_vendor_all_dumps", {"n": hits, **named, "codes": case.bugcheck_codes,
                                                           "distinct": distinct_codes}))
        elif len(culprit_families) == 1:
            strongest = max((c.confidence for c in blamed), key=_rank)
            case.confidence = strongest
            case.pattern = "single-vendor"
            reasons.append(Reason("single_dump_vendor", {**named, "basis": blamed[0].basis}))
        else:
            case.confidence = "medium" if hits > len(dumps) / 2 else "low"
            case.pattern = "mixed"
            reasons.append(Reason("several_vendors", {"vendors": [_naming(namings[f])[0]
                                                                  for f, _ in culprit_families.most_common()]}))
        if on_all > hits:
            reasons.append(Reason("vendor_on_other_stacks", {**named, "n": on_all}))
        for d in dumps:
            c = d.culprit
            if c and c.windbg_blamed and c.basis == "stack":
                reasons.append(Reason("windbg_overruled", {"windbg": c.windbg_blamed, "module": c.module,
                                                          "source": d.source}))
        for d, modules in zip(dumps, views):
            if d.process and catalog.family_key(module_vendor(d.process, modules)) == top:
                reasons.append(Reason("process_of_vendor", {"process": d.process, **named}))
                break
        lm_basis = next((c.vendor_basis for c in blamed if c.vendor_basis and c.vendor_basis.startswith("lmvm")), None)
        if lm_basis:
            reasons.append(Reason("vendor_from_lmvm", {"basis": lm_basis}))
        case.recommendation = "update_or_remove_vendor"
    elif any(d.bugcheck and _hardware(d.bugcheck.code) for d in dumps) or any(
        d.culprit and d.culprit.basis == "hardware" for d in dumps
    ):
        case.pattern = "hardware"
        case.confidence = "medium"
        reasons.append(Reason("hardware_bugcheck", {"codes": case.bugcheck_codes}))
        case.recommendation = "hardware_diagnostics"
    elif len(set(codes)) >= 3 and not any(d.third_party_modules for d in dumps):
        case.pattern = "hardware"
        case.confidence = "medium"
        reasons.append(Reason("varied_inbox_only", {"n": len(dumps), "distinct": len(set(codes))}))
        case.recommendation = "hardware_diagnostics"
    elif dumps and all(d.culprit is None or d.culprit.third_party is False or d.culprit.module is None for d in dumps):
        case.pattern = "inbox-only"
        case.confidence = "low"
        reasons.append(Reason("inbox_only", {"n": len(dumps)}))
        case.recommendation = "collect_more"
    else:
        case.confidence = "low"
        case.recommendation = "collect_more"

    case.known_issues = match_known_issues(case, dumps)
    case.reasons = reasons
    return case


def _hardware(code: int) -> bool:
    info = catalog.bugcheck(code)
    return bool(info and info.hardware)


def _naming(culprits: list) -> tuple[str, str | None, str | None]:
    """English name, Chinese name and product of one family, both names
    from the same evidence: the name the customer's install gives (lmvm
    path or CompanyName), else the family's own name."""
    from_install = [c for c in culprits if (c.vendor_basis or "").startswith("lmvm")]
    if from_install:
        vendor = Counter(c.vendor for c in from_install).most_common(1)[0][0]
    else:
        vendor = catalog.family_name(culprits[0].vendor)
    same = [c for c in culprits if c.vendor == vendor]
    zh = next((c.vendor_zh for c in same if c.vendor_zh), None) or catalog.vendor_zh(vendor)
    product = next((c.product for c in (*same, *culprits) if c.product), None)
    return vendor, zh, product


def _add_module(table: dict[str, list[str]], vendor: str, module: str | None) -> None:
    if not module:
        return
    mods = table.setdefault(vendor, [])
    if module_key(module) not in {module_key(m) for m in mods}:
        mods.append(module)


def _rank(conf: str) -> int:
    return {"low": 0, "medium": 1, "high": 2}.get(conf, 0)


def match_known_issues(case: CaseReport, dumps: list[DumpReport]) -> list[KnownIssue]:
    vendors = {v.lower() for v in catalog.family_members(case.vendor)}
    modules = {module_key(m) for d in dumps for m in d.third_party_modules}
    modules |= {module_key(d.culprit.module) for d in dumps if d.culprit and d.culprit.module}
    builds = set(case.os_builds)
    found = []
    for rule in catalog.known_issues():
        if rule.vendors and not (vendors & set(rule.vendors)):
            continue
        if rule.modules and not (modules & set(rule.modules)):
            continue
        if rule.builds and not (builds & set(rule.builds)):
            continue
        if rule.bugchecks and not (set(case.bugcheck_codes) & set(rule.bugchecks)):
            continue
        found.append(KnownIssue(rule.id, rule.title, rule.url, rule.advice_en, rule.advice_zh, rule.title_zh))
    return found

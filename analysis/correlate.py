"""Case level: what all the evidence of one case says together.

The seed case in one function: two dumps, two different bug checks (0x1A,
0x139), the same two AsiaInfo/Trend Micro drivers on both stacks -> one
vendor, high confidence, the vendor's known issue for that Windows build.

A vendor is claimed for the evidence that shows it, and no further
(issue 11): the case is grouped by machine, application crashes are not blue
screens, event-log entries name no module, and a blue screen whose stack
shows only Windows' own modules disagrees with the claim and lowers its
confidence."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Iterable, Sequence

from analysis import catalog, known_issues
from analysis.eventlog.machine import MachineLog
from analysis.machines import group
from analysis.model import CaseReport, Culprit, DumpReport, KnownIssue, Kind, ModuleInfo, Reason, module_key
from analysis.vendors import identify


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


def family_of(c: Culprit | None) -> str | None:
    """The vendor family a dump's culprit names, when it is third-party."""
    return catalog.family_key(c.vendor) if c and c.third_party and c.vendor else None


def says_windows(d: DumpReport) -> bool:
    """A blue screen whose evidence was looked at and shows only Windows'
    own modules (or the hardware): it does not support a vendor claim."""
    c = d.culprit
    if c is None:
        return False
    if c.basis == "hardware":
        return True
    return c.third_party is False and bool(d.stack or d.modules)


def correlate(dumps: list[DumpReport], context: Iterable[object] = (), known: Sequence[dict] = ()) -> CaseReport:
    """The case verdict over every crash; ``context`` holds what the inputs
    said about the machines besides crashes (inventories, event timelines)."""
    context = list(context)
    inventories = [c for c in context if hasattr(c, "hotfixes")]
    pooled = case_modules(dumps)
    views = [dump_modules(d, pooled) for d in dumps]
    case = CaseReport(dumps=dumps)
    reasons: list[Reason] = []
    for d, modules in zip(dumps, views):
        if d.culprit:
            identify(d.culprit, modules)
    case.machines = group(dumps)

    codes = [d.bugcheck.code for d in dumps if d.bugcheck]
    case.bugcheck_codes = list(dict.fromkeys(codes))
    case.os_builds = list(dict.fromkeys(d.os.build for d in dumps if d.os.build))
    blue = [i for i, d in enumerate(dumps) if d.kind != Kind.APP_MINIDUMP]
    case.app_crashes = [i for i, d in enumerate(dumps) if d.kind == Kind.APP_MINIDUMP]

    # Vendors behind each blue screen: its culprit, and the third-party
    # modules on its stack.  Counted by family (one product line sold under
    # two names); named as the evidence names them.
    vendors_seen: dict[int, set[str]] = {}
    vendor_modules: dict[str, list[str]] = {}
    culprit_families: Counter = Counter()
    namings: dict[str, list[Culprit]] = {}  # family -> the culprits naming it
    for i in blue:
        d, modules = dumps[i], views[i]
        seen: set[str] = set()
        c = d.culprit
        fam = family_of(c)
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
        vendors_seen[i] = seen

    bugchecks = [b for b in (dumps[i].bugcheck for i in blue) if b]
    # An event log's crash is silent about modules unless a report in it
    # named one (WER's failure bucket).
    logged = [i for i in blue if dumps[i].kind == Kind.EVENT_LOG and not _named(dumps[i])]
    looked = [i for i in blue if i not in logged]
    looked_codes = {b.code for b in (dumps[i].bugcheck for i in looked) if b}
    timelines = [c for c in context if isinstance(c, MachineLog)]
    whea = sum(1 for log in timelines for h in log.hardware if h.provider.startswith("WHEA") and h.fatal)
    if whea:
        reasons.append(Reason("whea_logged", {"n": whea}))
    culprits = [c for c in (dumps[i].culprit for i in blue) if c]
    if culprit_families:
        top, hits = culprit_families.most_common(1)[0]
        case.vendor, case.vendor_zh, case.product = _naming(namings[top])
        named = {"vendor": case.vendor, "vendor_zh": case.vendor_zh}
        case.modules = vendor_modules.get(top, [])
        shows = [i for i in blue if family_of(dumps[i].culprit) == top]
        case.vendor_dumps = shows
        shown_codes = list(dict.fromkeys(b.code for b in (dumps[i].bugcheck for i in shows) if b))
        windows_only = [i for i in blue if says_windows(dumps[i])]
        evidence = [i for i in blue if family_of(dumps[i].culprit) or says_windows(dumps[i])]
        if len(culprit_families) == 1:
            case.pattern = "single-vendor"
            if hits >= 2:
                case.confidence = "high"
                key = "same_vendor_all_dumps" if len(shows) == len(evidence) else "vendor_some_dumps"
                reasons.append(Reason(key, {"n": hits, "total": len(evidence), **named, "codes": shown_codes,
                                            "distinct": len(shown_codes)}))
            else:
                c = dumps[shows[0]].culprit
                assert c is not None
                case.confidence = c.confidence
                reasons.append(Reason("single_dump_vendor", {**named, "basis": c.basis}))
            if windows_only:
                # The evidence disagrees: a crash elsewhere shows only Windows.
                case.confidence = _lower(case.confidence)
                if hits == 1:
                    reasons.append(Reason("windows_only_dumps", {"n": len(windows_only), **named}))
        else:
            case.confidence = "medium" if hits > len(evidence) / 2 else "low"
            case.pattern = "mixed"
            reasons.append(Reason("several_vendors", {"vendors": [_naming(namings[f])[0]
                                                                  for f, _ in culprit_families.most_common()]}))
        on_all = sum(1 for s in vendors_seen.values() if top in s)
        if on_all > hits:
            reasons.append(Reason("vendor_on_other_stacks", {**named, "n": on_all}))
        for i in blue:
            c = dumps[i].culprit
            if c and c.windbg_blamed and c.basis == "stack":
                reasons.append(Reason("windbg_overruled", {"windbg": c.windbg_blamed, "module": c.module,
                                                          "source": dumps[i].source}))
        for i in blue:
            d = dumps[i]
            if d.process and catalog.family_key(module_vendor(d.process, views[i])) == top:
                reasons.append(Reason("process_of_vendor", {"process": d.process, **named}))
                break
        install = next((c for c in namings[top] if c.vendor_source == "install"), None)
        if install is not None:
            reasons.append(Reason("vendor_from_lmvm", {"where": install.vendor_where, "catalog": install.catalog_vendor,
                                                       "catalog_zh": install.catalog_vendor_zh}))
        case.recommendation = "update_or_remove_vendor"
    elif any(_hardware(b.code) for b in bugchecks) or any(c.basis == "hardware" for c in culprits) or whea:
        case.pattern = "hardware"
        case.confidence = "medium"
        if any(_hardware(b.code) for b in bugchecks) or any(c.basis == "hardware" for c in culprits):
            reasons.append(Reason("hardware_bugcheck", {"codes": case.bugcheck_codes}))
        case.recommendation = "hardware_diagnostics"
    elif len(looked_codes) >= 3 and not any(dumps[i].third_party_modules for i in looked):
        case.pattern = "hardware"
        case.confidence = "medium"
        reasons.append(Reason("varied_inbox_only", {"n": len(looked), "distinct": len(looked_codes)}))
        case.recommendation = "hardware_diagnostics"
    elif looked and all(c.third_party is False or c.module is None for c in culprits):
        case.pattern = "inbox-only"
        case.confidence = "low"
        reasons.append(Reason("inbox_only", {"n": len(looked)}))
        case.recommendation = "collect_more"
    elif logged and not looked:
        # An event log says when and with which bug check, never which driver.
        case.pattern = "logged"
        case.confidence = "low"
        distinct = len({catalog.base_code(b.code) for b in (dumps[i].bugcheck for i in logged) if b})
        reasons.append(Reason("logged_only", {"n": len(logged)}))
        if distinct >= 3:
            reasons.append(Reason("logged_varied", {"distinct": distinct}))
        case.recommendation = "send_dumps"
    elif not blue and case.app_crashes:
        case.pattern = "application"
        case.confidence = "low"
        case.recommendation = "collect_app_dumps"
    else:
        case.confidence = "low"
        case.recommendation = "collect_more"

    case.inventories = list(inventories)
    case.timelines = timelines
    reasons.extend(installed_before(timelines, case))
    case.known_issues = match_known_issues(case, dumps, case.inventories, known)
    case.reasons = reasons
    return case


def installed_before(timelines: list[MachineLog], case: CaseReport) -> list[Reason]:
    """Third-party drivers an event log shows installed in the days before
    its machine's first blue screen: where to look first, said as a lead,
    never as a culprit."""
    from analysis.eventlog.interpret import changes_before

    out = []
    for log in timelines:
        names = []
        for item in changes_before(log, INSTALL_DAYS):
            name = getattr(item, "name", None)
            if name and getattr(item, "driver", False) and catalog.is_third_party(name, getattr(item, "image_path", None)):
                drv = catalog.driver(name)
                names.append((name, drv.vendor if drv else None, drv.vendor_zh if drv else None))
        if names:
            out.append(Reason("installed_before", {"computer": log.computer or "", "days": INSTALL_DAYS,
                                                   "drivers": names}))
    return out


INSTALL_DAYS = 7


def _named(d: DumpReport) -> bool:
    return bool(d.culprit and d.culprit.module)


def _lower(confidence: str) -> str:
    return {"high": "medium", "medium": "low"}.get(confidence, "low")


def _hardware(code: int) -> bool:
    info = catalog.bugcheck(code)
    return bool(info and info.hardware)


def _naming(culprits: list[Culprit]) -> tuple[str, str | None, str | None]:
    """English name, Chinese name and product of one family, both names
    from the same evidence: the name the customer's install gives (lmvm
    path or CompanyName), else the family's own name."""
    from_install = [c for c in culprits if (c.vendor_basis or "").startswith("lmvm")]
    if from_install:
        vendor = Counter(c.vendor for c in from_install).most_common(1)[0][0]
    else:
        # Only the catalog knows the files: the name it gives them (a Trend
        # Micro driver is Trend Micro, AsiaInfo's own filter AsiaInfo).
        vendor = Counter(c.vendor for c in culprits).most_common(1)[0][0]
    assert vendor is not None
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


def match_known_issues(case: CaseReport, dumps: list[DumpReport], inventories: list,
                       known: Sequence[dict] = ()) -> list[KnownIssue]:
    """The vendor's known issues that fit the evidence showing the vendor:
    its modules, the Windows builds of those machines, their bug checks;
    and where that evidence (and any inventory) stands against the fix."""
    scope = [dumps[i] for i in case.vendor_dumps] or dumps
    ev = known_issues.Evidence(vendors={v.lower() for v in catalog.family_members(case.vendor)})
    ev.modules = {module_key(m) for d in scope for m in d.third_party_modules}
    ev.modules |= {module_key(d.culprit.module) for d in scope if d.culprit and d.culprit.module}
    ev.builds = {d.os.build for d in scope if d.os.build} | {i.os_build for i in inventories if i.os_build}
    ev.bugchecks = {d.bugcheck.code for d in scope if d.bugcheck}
    ev.sightings = known_issues.sightings_of(scope) + known_issues.inventory_sightings(inventories)
    listed = [i for i in inventories if getattr(i, "source", None) == "systeminfo"]
    if listed:
        ev.hotfixes = {kb for i in listed for kb in i.hotfixes}
    return known_issues.match(ev, known)

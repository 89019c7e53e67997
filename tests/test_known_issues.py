"""The known-issue table (analysis/data/known_issues.json, issue 11): every
rule is sourced and well formed, matches a case built from its own facts and
no case outside them, says 'affected' below its version line and 'fixed' at
it, and an inventory says whether a Windows-side fix is installed."""

from __future__ import annotations

import csv
import json
import re
from datetime import date, datetime, timedelta, timezone

import pytest

from analysis import catalog, known_issues
from analysis.correlate import correlate
from analysis.model import BugCheck, Culprit, DumpReport, Kind, ModuleInfo, OsInfo, module_key
from analysis.pipeline import analyze_paths
from analysis.render.doc import to_plain
from analysis.render.verdict import case_doc, known_issue_state, recommendation
from analysis.reports.inventory import InstalledDriver, Inventory
from tests.conftest import ROOT, shared_file

DATA = ROOT / "analysis" / "data"
RAW = json.loads((DATA / "known_issues.json").read_text(encoding="utf-8"))
RULES = {r.id: r for r in known_issues.rules()}
CJK = re.compile(r"[\u4e00-\u9fff]")
KB = re.compile(r"KB\d{6,7}")


def _drivers_by_vendor() -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}
    for row in csv.DictReader(open(DATA / "drivers.csv", encoding="utf-8")):
        if row["module"].lower().endswith(".sys"):
            table.setdefault(row["vendor"].lower(), []).append(module_key(row["module"]))
    return table


DRIVERS = _drivers_by_vendor()
VENDORS = set(DRIVERS) | {row["vendor"].lower() for row in csv.DictReader(open(DATA / "vendor_paths.csv", encoding="utf-8"))}


def timestamp(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=timezone.utc).timestamp()) + 12 * 3600


def dump(module: str, build: int, code: int, version: str | None = None, built: str | None = None) -> DumpReport:
    """One kernel dump as a reader would leave it: the culprit module, its
    lmvm record, the Windows build and the bug check."""
    inbox = catalog.is_inbox(module)
    info = ModuleInfo(name=module, image=module + ".sys", file_version=version,
                      timestamp=timestamp(built) if built else None)
    return DumpReport(source=f"{module}-{build}.dmp", kind=Kind.KERNEL_MINIDUMP, bugcheck=BugCheck(code, [0, 0, 0, 0]),
                      culprit=Culprit(module=module, image=module + ".sys", third_party=not inbox, basis="stack",
                                      confidence="high"),
                      os=OsInfo(build=build), modules={module_key(module): info},
                      third_party_modules=[] if inbox else [module])


def facts(rule: known_issues.Rule) -> tuple[str, int, int]:
    """A module, build and bug check the rule names (a vendor's driver from
    the catalog when the rule names the vendor only)."""
    if rule.modules:
        named = [m for m in rule.modules if not rule.vendors or _vendor_in(rule, m)]
        assert named, f"{rule.id}: no module of the rule belongs to its vendors in the catalog"
        module = named[0]
    elif rule.vendors:
        module = next(m for v in rule.vendors for m in DRIVERS.get(v, []))
    else:
        module = "nt"  # a rule on Windows' own crash: the build and bug check decide
    build = rule.builds[0] if rule.builds else 19045
    code = rule.bugchecks[0] if rule.bugchecks else 0x50
    return module, build, code


def _vendor_in(rule: known_issues.Rule, module: str) -> bool:
    drv = catalog.driver(module)
    return bool(drv and catalog.family_key(drv.vendor) in {catalog.family_key(v) for v in rule.vendors})


def matched(*dumps: DumpReport, context: tuple = ()) -> dict[str, object]:
    return {k.id: k for k in correlate(list(dumps), context).known_issues}


# -- the table itself ---------------------------------------------------------------------

def test_there_are_thirty_sourced_rules_with_unique_ids():
    ids = [item["id"] for item in RAW]
    assert len(ids) >= 30 and len(set(ids)) == len(ids)
    assert set(RULES) == set(ids)


@pytest.mark.parametrize("item", RAW, ids=lambda item: item["id"])
def test_every_rule_is_sourced_bilingual_and_well_formed(item):
    rule = RULES[item["id"]]
    sources = item.get("sources") or []
    assert sources and all(s.startswith("https://") for s in sources)
    assert item["url"] == sources[0], "the first source is the one the verdict links"
    assert item["title"] and item["advice_en"] and not CJK.search(item["title"] + item["advice_en"])
    assert CJK.search(item["title_zh"]) and CJK.search(item["advice_zh"])
    assert rule.vendors or rule.modules or rule.builds, "a rule that names nothing would match every case"
    for vendor in rule.vendors:
        assert vendor in VENDORS, f"{vendor}: not a vendor name of drivers.csv or vendor_paths.csv"
    for line in rule.affected:
        assert line.module in rule.modules, "a version line is for a module the rule matches on"
        assert (line.version_below is None) != (line.built_before is None)
        if line.built_before:
            date.fromisoformat(line.built_before)
    fixed = item.get("fixed") or {}
    assert bool(fixed.get("en")) == bool(fixed.get("zh")), "the fix is said in both languages or neither"
    if fixed.get("zh"):
        assert CJK.search(fixed["zh"]) and not CJK.search(fixed["en"])
    # Words for the fix go with a version line: without one, the verdict
    # would ask for versions that cannot decide anything.
    assert bool(fixed.get("en")) == bool(rule.affected), "fix words belong to rules with a version line"
    assert all(KB.fullmatch(kb) for kb in rule.fix_kbs)


# -- matching -----------------------------------------------------------------------------

@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_each_rule_matches_a_case_built_from_its_own_facts(rule_id):
    rule = RULES[rule_id]
    module, build, code = facts(rule)
    assert rule_id in matched(dump(module, build, code))


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_no_rule_matches_outside_its_facts(rule_id):
    rule = RULES[rule_id]
    module, build, code = facts(rule)
    if rule.builds:
        assert rule_id not in matched(dump(module, 3790, code)), "another Windows build"
    if rule.bugchecks:
        assert rule_id not in matched(dump(module, build, 0xC000021A)), "another bug check"
    if rule.modules:
        assert rule_id not in matched(dump("foofilter", build, code)), "another module"
    if rule.vendors:
        other = "klif" if "kaspersky" not in rule.vendors else "tmxpflt"
        assert rule_id not in matched(dump(other, build, code)), "another vendor"


def _below(version: tuple[int, ...]) -> str:
    parts = list(version)
    i = max(i for i, p in enumerate(parts) if p > 0)
    parts[i] -= 1
    parts[i + 1:] = [65535] * (len(parts) - i - 1)
    return ".".join(map(str, parts))


LINES = [(rid, line) for rid, rule in sorted(RULES.items()) for line in rule.affected]


@pytest.mark.parametrize(("rule_id", "line"), LINES, ids=lambda v: v if isinstance(v, str) else v.module)
def test_below_the_line_is_affected_and_at_the_line_is_fixed(rule_id, line):
    rule = RULES[rule_id]
    _, build, code = facts(rule)
    if line.version_below:
        limit = ".".join(map(str, line.version_below))
        below, at = dump(line.module, build, code, version=_below(line.version_below)), dump(line.module, build, code, version=limit)
    else:
        limit = line.built_before
        day = date.fromisoformat(limit)
        below = dump(line.module, build, code, built=(day - timedelta(days=1)).isoformat())
        at = dump(line.module, build, code, built=limit)
    ki = matched(below)[rule_id]
    assert ki.state == "affected" and [c.limit for c in ki.state_why] == [limit]
    assert "covers" in known_issue_state(ki, "en") and "影响范围内" in known_issue_state(ki, "zh")
    assert ki.fixed_zh in known_issue_state(ki, "zh")
    ki = matched(at)[rule_id]
    assert ki.state == "fixed" and all(not c.affected for c in ki.state_why)
    assert "probably not the cause" in known_issue_state(ki, "en")
    # Without a version or build date of the module, the verdict cannot say.
    assert matched(dump(line.module, build, code))[rule_id].state == "unknown"


def test_an_affected_driver_makes_the_fix_the_recommendation_in_both_languages():
    case = correlate([dump("IntcAudioBus", 26100, 0x9F, version="10.30.0.5152")])
    ki = next(k for k in case.known_issues if k.id == "ms-win11-24h2-intel-sst-intcaudiobus")
    assert ki.state == "affected"
    assert recommendation(case, "en").startswith("Upgrade to Intel Smart Sound Technology driver 10.29.00.5714 or later")
    assert recommendation(case, "zh").startswith("请升级到英特尔智音技术（Intel SST）驱动")
    zh = to_plain(case_doc(case, "zh"))
    assert "IntcAudioBus 10.30.0.5152，低于修复版本 10.30.0.5714" in zh


# -- the seed case --------------------------------------------------------------------------

def test_the_seed_case_matches_the_trend_article_and_the_sources_do_not_place_its_build():
    """The seed: AsiaInfo OfficeScan on 1803, VSApiNt built 2019-09-15,
    ntrtscan 13.0.0.1733.  Trend Micro's 1119990 is the article for it, but
    no stored copy of the article gives its affected or fixed builds, so the
    table has no line to hold that VSApiNt against: the verdict names the
    article and says nothing of affected or fixed."""
    case = analyze_paths([str(shared_file("seed", "000_e491b5df55a129aa.txt"))]).case
    vsapint = next(d.modules["vsapint"] for d in case.dumps if "vsapint" in d.modules)
    assert datetime.fromtimestamp(vsapint.timestamp, tz=timezone.utc).date().isoformat() == "2019-09-15"
    assert [k.id for k in case.known_issues] == ["trendmicro-1119990"]
    ki = case.known_issues[0]
    assert ki.state == "unknown" and ki.state_why == [] and ki.fixed_en is None
    assert known_issue_state(ki, "en") is None and known_issue_state(ki, "zh") is None
    assert RULES["trendmicro-1119990"].affected == ()


# -- inventories ----------------------------------------------------------------------------

PRINTING = "ms-kb5000802-print-apc-2004"


def systeminfo(*kbs: str) -> Inventory:
    return Inventory(source="systeminfo", computer="PC-01", os_build=19041, hotfixes=list(kbs))


def test_a_systeminfo_listing_says_whether_the_windows_fix_is_installed():
    crash = dump("win32kfull", 19041, 0x1)
    assert matched(crash)[PRINTING].fix_installed is None  # no listing, nothing said
    installed = matched(crash, context=(systeminfo("KB5001567", "KB4601554"),))[PRINTING]
    assert installed.fix_installed is True
    assert known_issue_state(installed, "en") == "The fix (KB5001567, KB5001649) is installed on the machine."
    assert known_issue_state(installed, "zh") == "该机器已安装修复补丁（KB5001567、KB5001649）。"
    missing = matched(crash, context=(systeminfo("KB5000802"),))[PRINTING]
    assert missing.fix_installed is False
    assert "is not among the updates the machine lists" in known_issue_state(missing, "en") and "已安装更新中没有修复补丁" in known_issue_state(missing, "zh")


def test_a_driver_listing_gives_the_version_a_dump_does_not_show():
    crash = dump("IntcAudioBus", 22000, 0x9F)  # the dump names the driver but not its version
    rule_id = "ms-win11-intel-sst-intcaudiobus"
    assert matched(crash)[rule_id].state == "unknown"
    old = Inventory(source="driverquery", computer="PC-01",
                    drivers=[InstalledDriver(name="IntcAudioBus", image="IntcAudioBus.sys", version="10.29.0.5152")])
    ki = matched(crash, context=(old,))[rule_id]
    assert ki.state == "affected" and ki.state_why[0].where == "driverquery"
    new = Inventory(source="driverquery", computer="PC-01",
                    drivers=[InstalledDriver(name="IntcAudioBus", image="IntcAudioBus.sys", version="10.30.0.5714")])
    assert matched(crash, context=(new,))[rule_id].state == "fixed"


def test_a_version_is_judged_by_its_own_family_line():
    """Intel SST: the 10.29 and 10.30 drivers are fixed at different builds;
    a fixed 10.29 driver is not 'affected' by the 10.30 line."""
    from analysis.known_issues import Sighting, parse_version, rules, version_state

    rule = next(r for r in rules() if r.id == "ms-win11-intel-sst-intcaudiobus")

    def state(version):
        return version_state(rule, [Sighting("intcaudiobus", parse_version(version), None, "x", "IntcAudioBus")])[0]

    assert state("10.29.0.5714") == "fixed"
    assert state("10.29.0.5152") == "affected"
    assert state("10.30.0.5152") == "affected"
    assert state("10.30.0.5714") == "fixed"


def test_without_a_listing_the_verdict_asks_for_systeminfo():
    from analysis.model import KnownIssue
    from analysis.render.verdict import known_issue_state

    ki = KnownIssue("x", "t", "https://x", "a", "b", fix_kbs=["KB5001567"])
    assert "systeminfo" in known_issue_state(ki, "en") and "systeminfo" in known_issue_state(ki, "zh")
    # An article that names no versions does not send anyone to collect lmvm for it.
    assert "lmvm" not in known_issue_state(ki, "en")

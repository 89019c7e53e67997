"""The reference tables a support lead edits by hand: they must stay loadable
and consistent, because every verdict reads them."""

import csv
import json

from analysis import catalog
from analysis.catalog import DATA
from analysis.model import module_key
from tests.conftest import shared_file

CATEGORIES = {
    "antivirus", "edr", "endpoint-security", "firewall", "dlp", "encryption", "backup", "graphics", "network", "wifi",
    "bluetooth", "storage", "chipset", "audio", "input", "usb", "virtualization", "vpn", "anti-cheat", "monitoring",
    "remote-access", "hardware-utility", "utility", "file-system", "copy-protection", "windows", "sample",
    "malicious", "other",
}


def _rows():
    return list(csv.DictReader(open(DATA / "drivers.csv", encoding="utf-8")))


def test_driver_catalog_is_large_and_categorised_with_one_row_per_module_and_vendor():
    rows = _rows()
    assert len(rows) >= 2600
    pairs = [(module_key(r["module"]), r["vendor"].lower()) for r in rows]
    assert len(pairs) == len(set(pairs)), "a module listed twice for one vendor"
    assert {r["category"] for r in rows} <= CATEGORIES
    assert all(r["vendor"].strip() for r in rows)
    assert {r["confirmed"] for r in rows} <= {"yes", "no"}
    assert {r["windows"] for r in rows} <= {"", "inbox", "optional"}
    # Chinese security vendors are part of the mandate.
    vendors = {r["vendor"] for r in rows}
    assert {"Qihoo 360", "Tencent", "Huorong", "Kingsoft", "AsiaInfo Security", "Sangfor"} <= vendors


def test_every_row_of_the_teams_table_is_in_the_catalog_with_its_vendor():
    """../shared/data/modules.csv whole: every (module, vendor) row is a row
    of the catalog under the catalog's name for that company (a spelling
    vendor_paths.csv knows, the company form dropped, or the same family)."""
    table = list(csv.DictReader(open(shared_file("data", "modules.csv"), encoding="utf-8")))
    assert len(table) >= 2600
    missing, other = [], []
    for r in table:
        rows = catalog.drivers_named(r["module"])
        if not rows:
            missing.append(r["module"])
        elif r["vendor"] and "ddk provider" not in r["vendor"].lower():  # WDK template text is no company
            if not any(catalog.same_vendor(x.vendor, r["vendor"]) for x in rows):
                other.append((r["module"], r["vendor"], [x.vendor for x in rows]))
    assert missing == [] and other == []


def test_every_row_has_a_source_or_says_unconfirmed():
    """A row is confirmed only by a primary source (the vendor's own files,
    site, docs or tracker, Microsoft's docs, a real file's version info or a
    real paste); a community list, a copy site or a fixture leaves it
    unconfirmed, and the catalog says so."""
    for r in _rows():
        kinds = {catalog.source_kind(ref) for ref in r["source"].split(" | ") if ref.strip()}
        primary = catalog.SourceKind.PRIMARY in kinds
        if r["confirmed"] == "yes":
            assert primary, r["module"]
        elif r["category"] != "malicious" and r["vendor"] != "Unknown":
            assert not primary, f"{r['module']}: a primary source confirms it"
    # The API carries it.
    assert catalog.driver("360fsflt").confirmed and "ms-altitudes" in catalog.driver("360fsflt").source
    unconfirmed = next(r["module"] for r in _rows() if r["confirmed"] == "no" and r["category"] != "malicious")
    assert catalog.driver(unconfirmed).confirmed is False


def test_source_kinds():
    kind = catalog.source_kind
    assert kind("ms-altitudes") is kind("loldrivers:0f64bf7a") is catalog.SourceKind.PRIMARY
    assert kind("https://github.com/RiotVanguard/Vanguard/issues/82") is catalog.SourceKind.PRIMARY
    assert kind("OpenVPN/tap-windows6@0cad8664c2a5:src/resource.rc") is catalog.SourceKind.PRIMARY
    assert kind("websec") is kind("redteam-edr") is kind("community:a list") is catalog.SourceKind.SECONDARY
    assert kind("https://code911.top/howto/manage-inbox-network-drivers") is catalog.SourceKind.COPY
    assert kind("https://www.umatechnology.org/?p=1") is catalog.SourceKind.COPY
    assert kind("tests/fixtures/real2/x.txt") is kind("seed/000.txt") is catalog.SourceKind.FIXTURE
    assert kind("an engineer remembers it") is catalog.SourceKind.SECONDARY


def test_inbox_and_third_party_never_overlap():
    rows = _rows()
    for r in rows:
        if r["windows"]:
            assert r["vendor"] == "Microsoft" and catalog.is_inbox(r["module"]), r["module"]
    # A vendor's file that took a Windows name (IObit's monitor.sys) comes
    # after Windows' own row; every other third-party row is third-party.
    third = [r for r in rows if not r["windows"] and catalog.driver(r["module"]).vendor == r["vendor"]]
    assert not [r["module"] for r in third if catalog.is_inbox(r["module"])]
    assert catalog.driver("monitor").vendor == "Microsoft" and "IObit" in catalog.driver("monitor").other_vendors
    for name in ("nt", "ntkrnlmp", "ntoskrnl.exe", "hal", "win32kfull", "fltmgr", "tcpip", "ndis", "NETIO"):
        assert catalog.is_inbox(name), name
    for name in ("VSApiNt", "TmXPFlt", "nvlddmkm", "csagent", "klif", "360FsFlt", "sysdiag"):
        assert catalog.is_third_party(name), name
    assert catalog.is_third_party("memory_corruption") is None


def test_microsofts_optional_components_are_not_third_party():
    """Hyper-V, WSL, Defender, RDP, the VPN miniports, Storage Spaces...
    are Windows: a crash inside one names Microsoft, and a third-party
    driver beside it is the better answer."""
    for name in ("vmswitch", "vmbus", "vid", "winhvr", "storvsp", "lxss", "lxcore", "WdFilter", "WdBoot",
                 "WdNisDrv", "MpKslDrv", "rdpdr", "rdpwd", "termdd", "rdpvideominiport", "rasl2tp", "raspptp",
                 "rassstp", "agilevpn", "ndiswan", "spaceport", "dfsrflt", "datascrn", "quota"):
        assert catalog.is_third_party(name) is False, name
        assert catalog.is_inbox(name), name
    # Microsoft's tools installed apart from Windows can be the answer.
    for name in ("procmon11", "rsfxdrv", "storagesync", "minispy"):
        drv = catalog.driver(name)
        assert drv.vendor == "Microsoft" and drv.windows is None and catalog.is_third_party(name), name


def test_trend_micro_rows_are_trend_micro():
    """A Trend Micro driver the catalog knows is Trend Micro / 趋势科技, the
    family's name too: AsiaInfo Security is what the customer's own install
    (path, CompanyName) says, never the catalog's guess."""
    trend = [r for r in _rows() if r["module"].lower().startswith(("tm", "vsapi", "ntrtscan", "pccnt"))
             and "trend" in r["vendor"].lower()]
    assert len(trend) >= 30
    for r in trend:
        assert (r["vendor"], r["vendor_zh"]) == ("Trend Micro", "趋势科技"), r["module"]
    for name in ("VSApiNt", "TmXPFlt", "tmcomm", "TmPreFlt", "tmevtmgr", "ntrtscan"):
        assert (catalog.driver(name).vendor, catalog.driver(name).vendor_zh) == ("Trend Micro", "趋势科技"), name
    assert catalog.family_name("Trend Micro") == catalog.family_name("AsiaInfo Security") == "Trend Micro"
    assert catalog.family_key("AsiaInfo Security") == catalog.family_key("Trend Micro")
    # AsiaInfo Security's own filters, registered in its own name, stay its.
    assert catalog.driver("asbm").vendor == "AsiaInfo Security"
    # The customer's evidence names AsiaInfo Security in either language.
    for text in (r"C:\Program Files (x86)\AsiaInfo Security\OfficeScan Client\TmListen.exe", "亚信安全",
                 "AsiaInfo Security Technologies"):
        assert catalog.vendor_from_text(text).vendor == "AsiaInfo Security", text
    for text in (r"C:\Program Files\Trend Micro\AMSP\tmcomm.sys", "Trend Micro Inc.", "TrendMicro Inc.", "趨勢科技"):
        assert catalog.vendor_from_text(text).vendor == "Trend Micro", text


def test_a_name_two_vendors_ship_says_so():
    drv = catalog.driver("cbfsfilter2017")
    assert drv.other_vendors and drv.vendor not in drv.other_vendors
    assert {r.vendor for r in catalog.drivers_named("cbfsfilter2017")} == {drv.vendor, *drv.other_vendors}
    assert catalog.drivers_named("no-such-driver") == () and catalog.driver("360fsflt").other_vendors == ()


def test_vendor_names():
    assert catalog.vendor_name("Emsi Software GmbH") == "Emsisoft"
    assert catalog.vendor_name("Beijing Qihoo Technology Co., Ltd.") == "Qihoo 360"
    assert catalog.vendor_name("5nine Software Inc.") == "5nine Software"
    assert catalog.vendor_name("INCA Internet Co., Ltd") == "INCA Internet"
    assert catalog.same_vendor("Baidu (Hong Kong) Limited", "Baidu")
    assert catalog.same_vendor("AsiaInfo Security", "Trend Micro") and not catalog.same_vendor("Intel", "AMD")
    assert catalog.vendor_name("") is None and not catalog.same_vendor(None, "Intel")


def test_every_bug_check_has_a_name_and_the_guide_matches():
    facts = json.loads((DATA / "bugchecks.json").read_text(encoding="utf-8"))
    guide = json.loads((DATA / "bugcheck_guide.json").read_text(encoding="utf-8"))
    assert len(facts) >= 400
    for key, entry in guide.items():
        if key.startswith("_"):
            continue
        assert key in facts and facts[key]["name"] == entry["name"], key
    info = catalog.bugcheck(0x1A)
    assert info.name == "MEMORY_MANAGEMENT" and info.zh
    assert info.subtype([0x41792])[0].startswith("corrupted PTE")
    assert catalog.bugcheck(0x139).subtype([3])[1]  # Chinese subtype text exists
    assert catalog.bugcheck(0x1000007E).code_param([0xC0000005, 1, 2, 3]) == 2


def test_vendor_paths_resolve_the_seed():
    row = catalog.vendor_from_text(r"\??\C:\Program Files (x86)\Asiainfo Security\OfficeScan Client\VSApiNt.sys")
    assert (row.vendor, row.vendor_zh, row.product) == ("AsiaInfo Security", "亚信安全", "OfficeScan")
    assert catalog.vendor_from_text(r"C:\Program Files (x86)\Trend Micro\OfficeScan Client\x.sys").vendor == "Trend Micro"


def test_known_issues_load():
    from analysis import known_issues

    rules = known_issues.rules()
    assert rules and all(r.url.startswith("https://") for r in rules)
    assert any(17134 in r.builds for r in rules)


def test_vendor_families_are_one_per_vendor():
    """The family column of vendor_paths.csv: every row of a vendor names the
    same family, and a family's members are vendors the tables know."""
    rows = list(csv.DictReader(open(DATA / "vendor_paths.csv", encoding="utf-8")))
    families: dict[str, set] = {}
    for r in rows:
        families.setdefault(r["vendor"], set()).add((r.get("family") or "").strip())
    assert {v: f for v, f in families.items() if len(f) > 1} == {}
    drivers = {r["vendor"] for r in csv.DictReader(open(DATA / "drivers.csv", encoding="utf-8"))}
    for vendor in ("AsiaInfo Security", "Trend Micro"):
        assert set(catalog.family_members(vendor)) == {"AsiaInfo Security", "Trend Micro"}
        assert vendor in drivers


def test_m_twins_of_every_bug_check_are_known_by_one_rule():
    """0x1000000A is 0x0A raised with the 0x10000000 bit: the same bug check,
    whether or not the reference lists the twin."""
    for code, name in ((0x1000000A, "IRQL_NOT_LESS_OR_EQUAL"), (0x10000050, "PAGE_FAULT_IN_NONPAGED_AREA"),
                       (0x1000009C, "MACHINE_CHECK_EXCEPTION")):
        info = catalog.bugcheck(code)
        assert info is not None and info.code == code and info.name == name, hex(code)
        base = catalog.bugcheck(code & ~0x10000000)
        assert (info.params, info.zh, info.hardware, info.code_params) == (base.params, base.zh, base.hardware, base.code_params)
    assert catalog.bugcheck(0x1000009C).hardware
    assert catalog.bugcheck(0x1000007E).name == "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M"  # listed twins keep their name
    assert catalog.bugcheck(0xDEADDEAD).name == "MANUALLY_INITIATED_CRASH1"  # not a twin of 0xCEADDEAD
    assert catalog.bugcheck(0x1000FFFF) is None and catalog.bugcheck(0x20000001) is None
    assert catalog.same_bugcheck(0x1000008E, 0x8E) and not catalog.same_bugcheck(0x1000008E, 0x7E)
    # The reference's own same_as entries say what the rule says.
    facts = json.loads((DATA / "bugchecks.json").read_text(encoding="utf-8"))
    for key, entry in facts.items():
        if "same_as" in entry:
            assert int(entry["same_as"], 16) == catalog.base_code(int(key, 16)) != int(key, 16), key


def test_the_framework_table_answers():
    """Windows' modules that run other vendors' code say what they run, in
    both languages, and pick those of a dump's modules that plug in."""
    rows = list(csv.DictReader(open(DATA / "frameworks.csv", encoding="utf-8")))
    assert len(rows) >= 30
    for r in rows:
        info = catalog.framework(r["module"])
        assert info and info.role_en and info.role_zh and info.calls_en and info.calls_zh, r["module"]
        assert catalog.is_inbox(r["module"]) and catalog.is_third_party(r["module"]) is False, r["module"]
        assert set(info.categories) <= CATEGORIES and (info.categories or info.minifilters), r["module"]
        assert all(catalog.source_kind(ref) is catalog.SourceKind.PRIMARY for ref in info.source.split(" | "))
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in text) for text in (info.role_zh, info.calls_zh))
    for name in ("fltmgr", "FLTMGR.SYS", "netio", "tcpip", "fwpkclnt", "ndis", "storport", "ataport", "scsiport",
                 "ks", "portcls", "dxgkrnl", "dxgmms2", "wdf01000", "usbport", "usbxhci", "ucx01000"):
        assert catalog.framework(name), name
    assert catalog.framework("VSApiNt") is None and catalog.framework(None) is None
    loaded = ["nt", "VSApiNt", "TmXPFlt", "tmlwf", "tmwfp", "nvlddmkm", "iaStorAC", "e1i63x64", "360FsFlt"]
    assert catalog.framework("fltmgr").candidates(loaded) == ["VSApiNt", "TmXPFlt", "360FsFlt"]
    assert catalog.framework("netio").candidates(loaded) == ["tmlwf", "tmwfp", "e1i63x64"]
    assert catalog.framework("storport").candidates(loaded) == ["iaStorAC"]
    assert catalog.framework("dxgkrnl").candidates(loaded) == ["nvlddmkm"]
    assert catalog.framework("ndis").candidates(["vmswitch", "ndis"]) == []  # Windows' own are no candidates


# ------------------------------------------------------ the guide in Chinese
# A Chinese reply says every bug check in Chinese: the guide covers every
# code of the reference, and its Chinese keeps no English scaffolding
# ("异常记录 (exception record) 地址", "核对 pool tag").  Names stay as the team
# writes them: symbolic names, status names, commands, acronyms, CamelCase.

import re  # noqa: E402

_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
# Plain-looking words the team's Chinese e-mails keep in English.
_KEPT_WORDS = {"callstack", "dump", "dumps", "windows", "driver", "verifier", "microsoft", "windbg"}
# A word glued to these is part of a command, path, identifier or number:
# !analyze, hiberfil.sys, nt!KeBugCheckEx, Arg1, KeLeaveCriticalRegion().
_GLUED_BEFORE = set("!._\\/:$%#@0123456789")
_GLUED_AFTER = set("_\\/(!:0123456789")


def _is_name(text: str, m: re.Match) -> bool:
    word = m.group(0)
    before = text[m.start() - 1] if m.start() else ""
    after = text[m.end()] if m.end() < len(text) else ""
    if word.lower() in _KEPT_WORDS or any(c.isupper() for c in word[1:]):
        return True  # kept word, acronym (IRQL, PTE), CamelCase (WinDbg, Hyper-V)
    if before and before in _GLUED_BEFORE:
        return True
    return bool(after) and (after in _GLUED_AFTER or (after == "." and text[m.end() + 1:m.end() + 2].isalnum()))


def english_runs(text: str) -> list[str]:
    """English phrases in a Chinese text: 3 or more plain words in a row
    (only spaces between them), or 2 lower-case words of 3+ letters
    ("pool tag", "trap frame").  Names neither count nor break a run."""
    runs: list[list[str]] = []
    current: list[str] = []
    last_end = None
    for m in _WORD.finditer(text):
        gap = text[last_end:m.start()] if last_end is not None else None
        if gap is not None and (not gap or gap.strip(" ")):
            runs.append(current)
            current = []
        last_end = m.end()
        if not _is_name(text, m):
            current.append(m.group(0))
    runs.append(current)
    found = []
    for run in runs:
        if len(run) >= 3:
            found.append(" ".join(run))
            continue
        found += [f"{a} {b}" for a, b in zip(run, run[1:])
                  if a.islower() and b.islower() and len(a) >= 3 and len(b) >= 3]
    return found


def test_english_runs_finds_scaffolding_and_spares_names():
    for text in ("异常记录 (exception record) 地址", "核对 pool tag 所属驱动", "定向电源切换（directed power transition）",
                 "发生在 the faulting thread 上", "Look at the callstack"):
        assert english_runs(text), text
    for text in ("用 lm tn 列出已卸载的驱动", "开启 Driver Verifier 特殊池", "0x1A MEMORY_MANAGEMENT（内存管理错误）",
                 "可对参数3 执行 .cxr 后用 kb 查看", "并非蓝屏：系统生成了 live dump 并继续运行。", "!analyze -v",
                 "hiberfil.sys 所在磁盘", "STATUS_ACCESS_VIOLATION", "KeEnterCriticalRegion / KeLeaveCriticalRegion",
                 "Arg3 0xFFFF8683633D2678 — 异常记录地址", "WHEA-Logger 事件", "Hyper-V 虚拟机"):
        assert english_runs(text) == [], text


def _guide() -> tuple[dict, dict]:
    facts = json.loads((DATA / "bugchecks.json").read_text(encoding="utf-8"))
    guide = json.loads((DATA / "bugcheck_guide.json").read_text(encoding="utf-8"))
    return facts, guide


def _chinese_texts(entry: dict):
    for field in ("zh", "summary_zh", "likely_zh"):
        yield field, entry.get(field) or ""
    for i, text in enumerate(entry.get("params_zh") or []):
        yield f"params_zh[{i}]", text
    for key, text in (entry.get("subtypes_zh") or {}).items():
        yield f"subtypes_zh[{key}]", text


_HAN = re.compile(r"[\u4e00-\u9fff]")


def test_every_bug_check_is_said_in_chinese():
    from analysis.render.verdict import subtype_hints

    facts, guide = _guide()
    missing = [key for key in facts if key not in guide]
    assert missing == [], f"codes without a guide entry: {missing}"
    for key, fact in facts.items():
        entry = guide[key]
        for field in ("zh", "summary_en", "summary_zh", "likely_en", "likely_zh"):
            assert (entry.get(field) or "").strip(), (key, field)
        for field in ("zh", "summary_zh", "likely_zh"):
            assert _HAN.search(entry[field]), (key, field, entry[field])
        params = fact.get("params") or []
        params_zh = entry.get("params_zh") or []
        assert len(params_zh) == len(params), (key, params_zh)
        info = catalog.bugcheck(int(key, 16))
        assert info is not None and info.zh == entry["zh"], key
        for sub, english in info.subtypes.items():
            chinese = info.subtypes_zh.get(sub)
            assert chinese, (key, sub)
            # The other arguments' lines get their Chinese hint wherever the English has one.
            assert set(subtype_hints(english)) <= set(subtype_hints(chinese)), (key, sub, english, chinese)
        assert set(info.subtypes_zh) <= set(info.subtypes), (key, set(info.subtypes_zh) - set(info.subtypes))
        for n in [entry.get("culprit_param"), entry.get("driver_name_param"),
                  *(entry.get("culprit_param_by_subtype") or {}).values()]:
            assert n is None or 1 <= n <= max(len(params), 4), (key, n)
        for sub in entry.get("culprit_param_by_subtype") or {}:
            assert "0x" + sub.upper() in info.subtypes, (key, sub)
        assert not entry.get("culprit_param_is_target") or entry.get("culprit_param"), key
    # Hardware's own reports, per Microsoft's reference.
    for code in (0x9C, 0x124, 0x80, 0x101, 0x2E, 0xE0, 0x111, 0x122, 0x17E, 0x1DF):
        assert catalog.bugcheck(code).hardware, hex(code)
    for code in (0x7E, 0xD1, 0xF2, 0x127):
        assert not catalog.bugcheck(code).hardware, hex(code)


def test_the_chinese_guide_has_no_english_phrases():
    _, guide = _guide()
    found = [(key, field, text) for key, entry in guide.items() for field, text in _chinese_texts(entry)
             if english_runs(text)]
    assert found == []


def _bugcheck_lines(plain: str) -> list[str]:
    """The lines of a verdict that the bug-check tables wrote: the code's
    label, its arguments, what it means and its usual cause."""
    from analysis.render.texts import t

    labels = tuple(f"{t('zh', k)}: " for k in ("bugcheck", "meaning", "usual_cause"))
    args_header = f"{t('zh', 'args')}:"
    lines, in_args = [], False
    for line in plain.splitlines():
        if line == args_header:
            in_args = True
            continue
        if in_args and line.startswith("  - "):
            lines.append(line)
            continue
        in_args = False
        if line.startswith(labels):
            lines.append(line)
    return lines


def test_chinese_verdicts_of_every_text_fixture_say_the_bug_check_in_chinese():
    from pathlib import Path

    from analysis.pipeline import analyze_paths
    from analysis.render.doc import to_plain
    from analysis.render.verdict import case_doc

    fixtures = sorted((Path(__file__).parent / "fixtures").rglob("*.txt"))
    assert len(fixtures) >= 100
    seen, found = 0, []
    for path in fixtures:
        outcome = analyze_paths([str(path)])
        lines = _bugcheck_lines(to_plain(case_doc(outcome.case, "zh")))
        seen += len(lines)
        found += [(path.name, line, english_runs(line)) for line in lines if english_runs(line)]
    assert seen >= 500  # the verdicts do show bug-check lines
    assert found == []

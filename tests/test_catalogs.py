"""The reference tables a support lead edits by hand: they must stay loadable
and consistent, because every verdict reads them."""

import csv
import json

from analysis import catalog
from analysis.catalog import DATA
from analysis.model import module_key

CATEGORIES = {
    "antivirus", "edr", "firewall", "dlp", "encryption", "backup", "graphics", "network", "wifi", "bluetooth",
    "storage", "chipset", "audio", "input", "usb", "virtualization", "vpn", "anti-cheat", "monitoring",
    "remote-access", "hardware-utility", "file-system", "other",
}


def test_driver_catalog_is_large_unique_and_categorised():
    rows = list(csv.DictReader(open(DATA / "drivers.csv", encoding="utf-8")))
    assert len(rows) >= 400
    keys = [module_key(r["module"]) for r in rows]
    assert len(keys) == len(set(keys)), "a module listed twice"
    assert {r["category"] for r in rows} <= CATEGORIES
    assert all(r["vendor"].strip() for r in rows)
    # Chinese security vendors are part of the mandate.
    vendors = {r["vendor"] for r in rows}
    assert {"Qihoo 360", "Tencent", "Huorong", "Kingsoft", "AsiaInfo Security", "Sangfor"} <= vendors


def test_inbox_and_third_party_never_overlap():
    rows = list(csv.DictReader(open(DATA / "drivers.csv", encoding="utf-8")))
    assert not [r["module"] for r in rows if catalog.is_inbox(r["module"])]
    for name in ("nt", "ntkrnlmp", "ntoskrnl.exe", "hal", "win32kfull", "fltmgr", "tcpip", "ndis", "NETIO"):
        assert catalog.is_inbox(name), name
    for name in ("VSApiNt", "TmXPFlt", "nvlddmkm", "csagent", "klif", "360FsFlt", "sysdiag"):
        assert catalog.is_third_party(name), name
    assert catalog.is_third_party("memory_corruption") is None


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

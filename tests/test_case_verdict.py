"""The case verdict a senior engineer would sign (issue 11): per machine,
a vendor claimed only for the evidence that shows it, application crashes
and event logs in their own words, no English scaffolding in Chinese."""

import re

from analysis.pipeline import analyze_paths
from analysis.render.as_json import case_json
from analysis.render.doc import to_plain
from analysis.render.verdict import case_doc
from tests.conftest import FIXTURES, SEED, shared_file

TRIAGE = ("dumps", "triage_x64_19041_0x1000007E.dmp")
CALC = ("dumps", "usermode_calc_win7.dmp")


def mixed_case():
    return analyze_paths([str(shared_file("seed", SEED.name)), str(shared_file(*TRIAGE)), str(shared_file(*CALC))])


def test_three_machines_one_vendor_for_the_two_dumps_that_show_it():
    case = mixed_case().case
    assert [m.os.build for m in case.machines] == [17134, 19041, 7601]
    assert [len(m.dumps) for m in case.machines] == [2, 1, 1]
    assert case.vendor == "AsiaInfo Security" and len(case.vendor_dumps) == 2
    # The 19041 dump shows only Windows: the claim holds for the others, at lower confidence.
    assert case.confidence == "medium"
    out = case_json(case, "en")
    assert out["case"]["summary"] == ("3 machines, 3 dumps, 1 application crash, 3 bug checks, "
                                      "AsiaInfo Security in 2 of 3 blue screens")
    lines = [m["summary"] for m in out["case"]["machines"]]
    assert lines[0].startswith("build 17134 (Windows 10 1803, x64): 2 dumps (0x1A, 0x139) point at AsiaInfo Security")
    assert "shows no third-party driver" in lines[1]
    assert "calc.exe dump is not a crash: 0x80000003 STATUS_BREAKPOINT" in lines[2]
    # The application crash never counts for the vendor, nor for the blue screens.
    assert out["case"]["app_crashes"] == [out["dumps"][3]["source"]]


def test_chinese_verdict_has_no_english_scaffolding():
    text = to_plain(case_doc(mixed_case().case, "zh", with_dumps=False))
    assert "3 台机器" in text and "3 次蓝屏中有 2 次指向亚信安全" in text
    assert "驱动目录中该文件记为趋势科技" in text
    for scaffolding in ("catalog", "dump(s)", "all 案例", "（（", "))", "April 2018 Update", "MODULE_NAME)"):
        assert scaffolding not in text, scaffolding
    # Lists in Chinese are joined with 、, never with an English comma and space.
    assert not re.search(r"0x[0-9A-F]+, 0x", text)


def test_english_plurals():
    case = analyze_paths([str(shared_file(*TRIAGE))]).case
    summary = case_json(case, "en")["case"]["summary"]
    assert summary.startswith("1 dump, 1 bug check") and "(s)" not in summary


def test_an_event_log_alone_names_no_culprit_and_asks_for_the_dumps():
    outcome = analyze_paths([str(FIXTURES / "eventlog" / "crash_general_en.txt")])
    case = outcome.case
    assert case.pattern == "logged" and case.recommendation == "send_dumps"
    assert all(d.culprit is None or d.culprit.module is None for d in case.dumps)
    assert case.vendor is None
    reasons = {r.code: r.params for r in case.reasons}
    assert "varied_inbox_only" not in reasons and "inbox_only" not in reasons
    assert [name for name, _, _ in reasons["installed_before"]["drivers"]] == ["TmXPFlt", "VSApiNt"]
    out = case_json(case, "en")
    assert out["event_logs"][0]["computer"] == "DESKTOP-1N4R894"
    text = to_plain(case_doc(case, "en"))
    assert "6 blue screens in 19 days, 3 different bug checks" in text
    # Each logged crash is told once, in its log's section, not as six dump sections.
    assert "Blue screen 1, from the event log" not in text


def test_a_dump_joins_the_named_machine_of_its_build():
    outcome = analyze_paths([str(FIXTURES / "eventlog" / "crash_general_en.txt"), str(shared_file("seed", SEED.name))])
    case = outcome.case
    assert [m.name for m in case.machines] == ["DESKTOP-1N4R894"]
    assert case.vendor == "AsiaInfo Security"


def test_a_fault_in_a_windows_framework_names_the_third_party_code_it_calls():
    from analysis.attribution import judge
    from analysis.findings import Claim, Claimant, Findings
    from analysis.model import BugCheck, DumpReport, Kind, ModuleInfo
    from analysis.render.verdict import evidence_lines

    modules = {k: ModuleInfo(name=n, image=n + ".sys") for k, n in
               (("netio", "NETIO"), ("vsapint", "VSApiNt"), ("tmwfp", "tmwfp"), ("ntfs", "Ntfs"))}
    report = DumpReport(source="t.txt", kind=Kind.WINDBG_TEXT, bugcheck=BugCheck(0x3B, [0xC0000005, 0, 0, 0]),
                        modules=modules)
    culprit = judge(report, Findings(claims=[Claim(Claimant.DEBUGGER, "NETIO", "MODULE_NAME: NETIO")]))
    assert (culprit.module, culprit.third_party, culprit.confidence) == ("NETIO", False, "low")
    # The WFP callout driver is a lead; the file-scan engine is not the kind NETIO calls.
    assert culprit.candidates == ["tmwfp"]
    assert any("tmwfp" in line and "WFP" in line for line in evidence_lines(culprit, "zh"))


def test_the_card_line_counts_each_kind_of_evidence_in_its_own_words():
    from handlers.cards import verdict_line

    logged = case_json(analyze_paths([str(FIXTURES / "eventlog" / "crash_general_en.txt")]).case, "en")
    assert verdict_line(logged, "en").startswith("6 blue screens in event logs: 0x1A, 0x139, 0x50 → the event log names no module")
    mixed = case_json(mixed_case().case, "zh")
    line = verdict_line(mixed, "zh")
    assert line.startswith("3 个 dump、1 个应用程序崩溃：0x1A、0x139、0x1000007E → 亚信安全（VSapiNt、TmXPFlt）")


def test_dumps_that_do_not_say_their_build_join_the_one_machine_of_their_file():
    """A dump without a build joins the machine the earlier dumps of its file
    are on when there is one (a support thread about one fleet), and is on
    a machine unknown otherwise: whatever the number of dumps (each was
    once compared with every earlier one)."""
    from analysis.machines import group
    from analysis.model import DumpReport, Kind, OsInfo

    K = Kind.KERNEL_MINIDUMP

    dumps = [DumpReport(source="thread.txt", kind=K, os=OsInfo(build=19041, arch="x64"))]
    dumps += [DumpReport(source="thread.txt", kind=K) for _ in range(499)]
    dumps += [DumpReport(source="other.txt", kind=K), DumpReport(source="mixed.txt", kind=K, os=OsInfo(build=7601)),
              DumpReport(source="mixed.txt", kind=K, os=OsInfo(build=17134)), DumpReport(source="mixed.txt", kind=K)]
    machines = group(dumps)
    assert [(m.key, len(m.dumps)) for m in machines] == [("build:19041/x64", 500), ("unknown", 2), ("build:7601/?", 1),
                                                         ("build:17134/?", 1)]
    assert machines[1].dumps == [500, 503]

"""Case level: vendor families named as the evidence names them, and lm
evidence merged per module across the dumps of a case."""

from analysis import catalog
from analysis.intake import Blob
from analysis.pipeline import analyze_blobs
from analysis.render.doc import to_plain
from analysis.render.verdict import case_doc


def analyze(*texts: str):
    return analyze_blobs([Blob(f"dump{i}.txt", t.encode()) for i, t in enumerate(texts)]).case


def lmvm_log(code_line: str, module: str, path: str | None = None, company: str | None = None, lm_only=False) -> str:
    text = code_line + f"\n\nMODULE_NAME: {module}\n\nIMAGE_NAME:  {module}.sys\n\n"
    text += f"0: kd> lm{'' if lm_only else 'vm ' + module}\nstart             end                 module name\n"
    text += f"fffff801`e7c00000 fffff801`e7c1a000   {module}     (no symbols)\n"
    if path:
        text += f"    Image path: {path}\n    Image name: {module}.sys\n"
    if company:
        text += f"    CompanyName:      {company}\n"
    return text


MM = "MEMORY_MANAGEMENT (1a)\nArguments:\nArg1: 0000000000041790, A page table page has been corrupted.\nArg2: fffffa8001234560\nArg3: 000000000000ffff\nArg4: 0000000000000000"
KSCF = ("KERNEL_SECURITY_CHECK_FAILURE (139)\nArguments:\nArg1: 0000000000000003, A LIST_ENTRY has been corrupted.\n"
        "Arg2: fffff80255d5e3c8\nArg3: fffff80255d5e320\nArg4: 0000000000000000")
TREND_PATH = r"\??\C:\Program Files (x86)\Trend Micro\OfficeScan Client\tmxpflt.sys"
ASIAINFO_PATH = r"\??\C:\Program Files (x86)\AsiaInfo Security\OfficeScan Client\VSApiNt.sys"


def test_a_trend_micro_install_is_named_trend_micro_in_both_languages():
    case = analyze("Windows 10 Kernel Version 17134 MP (4 procs) Free x64\n" + lmvm_log(MM, "tmxpflt", TREND_PATH))
    assert (case.vendor, case.vendor_zh, case.product) == ("Trend Micro", "趋势科技", "OfficeScan")
    en, zh = to_plain(case_doc(case, "en")), to_plain(case_doc(case, "zh"))
    assert "one vendor: Trend Micro" in en and "AsiaInfo" not in en
    assert "指向同一厂商：趋势科技" in zh and "亚信" not in zh
    # The family's known issue, whichever name the install goes by.
    assert [k.id for k in case.known_issues] == ["trendmicro-1119990"]


def test_an_asiainfo_install_is_still_one_vendor_with_a_catalog_trend_micro_driver():
    """Dump 1's lmvm says AsiaInfo Security; dump 2 blames tmxpflt, which only
    the catalog knows (as Trend Micro): one family, named by the install."""
    case = analyze(lmvm_log(MM, "VSApiNt", ASIAINFO_PATH),
                   KSCF + "\n\nMODULE_NAME: tmxpflt\n\nIMAGE_NAME:  tmxpflt.sys\n")
    assert [d.culprit.vendor for d in case.dumps] == ["AsiaInfo Security", "Trend Micro"]
    assert case.pattern == "single-vendor" and case.confidence == "high"
    assert (case.vendor, case.vendor_zh) == ("AsiaInfo Security", "亚信安全")
    assert case.reasons[0].code == "same_vendor_all_dumps"


def test_vendor_families_come_from_the_catalog():
    assert catalog.family_key("AsiaInfo Security") == catalog.family_key("trend micro")
    assert catalog.family_key("Kaspersky") != catalog.family_key("Trend Micro")
    assert set(catalog.family_members("AsiaInfo Security")) == {"AsiaInfo Security", "Trend Micro"}
    assert catalog.family_members("Kaspersky") == ("Kaspersky",)
    assert catalog.family_key(None) is None and catalog.family_members(None) == ()


def test_a_thinner_lm_record_in_one_dump_does_not_hide_another_dumps_lmvm():
    """Dump A shows lmvm with CompanyName, dump B only an lm line for the
    same driver: B keeps the vendor A's lmvm gave, and more evidence never
    weakens the verdict."""
    a = lmvm_log(MM, "FooFlt", r"\SystemRoot\system32\DRIVERS\FooFlt.sys", "Acme Widgets Ltd.")
    b = lmvm_log(KSCF, "FooFlt", lm_only=True)
    case = analyze(a, b)
    assert [d.culprit.vendor for d in case.dumps] == ["Acme Widgets", "Acme Widgets"]
    assert case.dumps[1].culprit.vendor_basis == "lmvm CompanyName: Acme Widgets Ltd."
    assert case.reasons[0].code == "same_vendor_all_dumps" and case.reasons[0].params["n"] == 2
    # Without the lm line B said the same: the lm line must not cost anything.
    no_lm = analyze(a, KSCF + "\n\nMODULE_NAME: FooFlt\n\nIMAGE_NAME:  FooFlt.sys\n")
    assert [d.culprit.vendor for d in no_lm.dumps] == ["Acme Widgets", "Acme Widgets"]


def test_a_dumps_own_lm_record_comes_before_the_pooled_one():
    a = lmvm_log(MM, "FooFlt", r"C:\Program Files\Kaspersky Lab\x\FooFlt.sys")
    b = lmvm_log(KSCF, "FooFlt", r"C:\Program Files\Trend Micro\Security Agent\FooFlt.sys")
    case = analyze(a, b)
    assert [d.culprit.vendor for d in case.dumps] == ["Kaspersky", "Trend Micro"]
    assert case.pattern == "mixed"


def test_a_family_driver_known_only_to_the_catalog_is_trend_micro_in_both_languages():
    """Nothing of the customer's says AsiaInfo Security: a Trend Micro file
    known only to the catalog is Trend Micro, wherever the customer is."""
    case = analyze(MM + "\n\nMODULE_NAME: tmxpflt\n\nIMAGE_NAME:  tmxpflt.sys\n")
    assert case.dumps[0].culprit.vendor == "Trend Micro"  # what the catalog row says
    assert (case.vendor, case.vendor_zh) == ("Trend Micro", "趋势科技")


def test_an_m_twin_of_a_hardware_bug_check_is_a_hardware_case():
    for code in (0x1000009C, 0x10000124):
        case = analyze(f"BugCheck {code:X}, {{0, fffff80000b9cb70, 0, 0}}\n"
                       "Probably caused by : ntkrnlmp.exe ( nt!KiMcheckAbort+0x1f )\n")
        assert case.dumps[0].bugcheck.code == code
        assert case.pattern == "hardware" and case.recommendation == "hardware_diagnostics", hex(code)
    irql = analyze("BugCheck 1000000A, {fffff80000001000, 2, 0, fffff80123456789}\n"
                   "Probably caused by : klif.sys ( klif+2b3c )\n")
    (d,) = irql.dumps
    assert d.bugcheck.code == 0x1000000A and d.culprit.module == "klif"

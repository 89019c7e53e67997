"""Debugger output in the shapes support engineers actually paste."""

from pathlib import Path

import pytest

from analysis.intake import Blob
from analysis.model import module_key
from analysis.pipeline import analyze_blobs
from analysis.text import parse_text

FIX = Path(__file__).parent / "fixtures" / "text"


def one(name: str):
    outcome = analyze_blobs([Blob(name, (FIX / name).read_bytes())])
    assert len(outcome.case.dumps) == 1, outcome.problems
    return outcome.case.dumps[0], outcome


def test_windbg_blames_inbox_but_mcafee_on_stack():
    d, _ = one("win7_x64_0xD1_tcpip_blamed_mcafee_on_stack.txt")
    assert d.bugcheck.code == 0xD1
    assert d.bugcheck.args == [0xFFFFFA800B2F1010, 2, 0, 0xFFFFF88001A4F2C3]
    assert d.module_name == "tcpip"
    c = d.culprit
    assert module_key(c.module) == "mfewfpk"
    assert c.basis == "stack"
    assert c.windbg_blamed == "tcpip"
    assert c.third_party is True
    assert c.vendor == "McAfee"
    assert "mfewfpk" in [module_key(m) for m in d.third_party_modules]
    assert d.os.build == 7601 and d.os.arch == "x64"
    assert d.dump_file.endswith("031514-21590-01.dmp")
    assert d.process == "System"
    assert len(d.stack) == 16


def test_one_line_summary_and_probably_caused_by():
    d, _ = one("oneline_0x3B_probably_caused_by.txt")
    assert d.bugcheck.code == 0x3B
    assert d.bugcheck.args == [0xC0000005, 0xFFFFF8016C9A1B2D, 0xFFFFD000236F1AC0, 0]
    assert d.culprit.module == "nvlddmkm"
    assert d.culprit.image == "nvlddmkm.sys"
    assert d.culprit.vendor == "NVIDIA"


def test_x86_kv_stack_and_m_variant():
    d, _ = one("win7_x86_kv_0x8E_avg.txt")
    assert d.bugcheck.code == 0x1000008E
    assert d.os.arch == "x86"
    assert d.culprit.module == "avgtdix"
    assert d.culprit.basis == "windbg"
    assert d.stack[0].module == "avgtdix" and d.stack[0].offset == 0x12C71
    assert d.process == "svchost.exe"


def test_new_windbg_keys_and_lmvm_path():
    d, outcome = one("win11_0x139_keyvalues_crowdstrike.txt")
    assert d.bugcheck.code == 0x139 and d.bugcheck.args[0] == 3
    assert d.os.build == 22621 and d.os.product.startswith("Windows 11")
    assert d.culprit.module == "csagent"
    assert d.culprit.vendor == "CrowdStrike"
    assert d.fast_fail == "FAST_FAIL_CORRUPT_LIST_ENTRY"
    assert d.culprit.built == "2024-08-16"


def test_whea_is_hardware_not_a_driver():
    d, outcome = one("whea_0x124_genuineintel.txt")
    assert d.bugcheck.code == 0x124
    assert d.culprit.module is None
    assert d.culprit.basis == "hardware"
    assert outcome.case.pattern == "hardware"
    assert outcome.case.recommendation == "hardware_diagnostics"


def test_bluescreenview_report():
    d, _ = one("bluescreenview_report.txt")
    assert d.bugcheck.code == 0xD1
    assert d.bugcheck.args[3] == 0xFFFFF8064B6A1B2E
    assert d.culprit.module == "rtwlane"
    assert d.culprit.vendor == "Realtek"
    assert d.os.build == 22621


def test_session_without_a_crash_is_refused():
    outcome = analyze_blobs([Blob("s.txt", (FIX / "no_crash_session.txt").read_bytes())])
    assert not outcome.case.dumps
    assert "no bug check" in outcome.problems[0][1]


STACKS = {
    "k x64 with frame numbers": """
 # Child-SP          RetAddr               Call Site
00 ffffa807`2f0f6b38 fffff801`4c8a6d69     nt!KeBugCheckEx
01 ffffa807`2f0f6b40 fffff801`4c8a2e43     nt!KiBugCheckDispatch+0x69
02 ffffa807`2f0f6c80 fffff801`5e1a2b3c     nt!KiPageFault+0x443
03 ffffa807`2f0f6e10 fffff801`4c7a1f2d     klif+0x2b3c
04 ffffa807`2f0f6e60 fffff801`4c7a1a08     FLTMGR!FltpPerformPreCallbacks+0x2fd
""",
    "kb new style": """
 # RetAddr               : Args to Child                                                           : Call Site
00 fffff801`4c8a6d69     : 00000000`0000000a 00000000`00000010 00000000`00000002 00000000`00000000 : nt!KeBugCheckEx
01 fffff801`4c8a2e43     : 00000000`00000000 00000000`00000000 00000000`00000000 00000000`00000000 : nt!KiBugCheckDispatch+0x69
02 fffff801`5e1a2b3c     : 00000000`00000000 00000000`00000000 00000000`00000000 00000000`00000000 : nt!KiPageFault+0x443
03 fffff801`4c7a1f2d     : 00000000`00000000 00000000`00000000 00000000`00000000 00000000`00000000 : klif+0x2b3c
""",
    "kc call sites only": """
 # Call Site
00 nt!KeBugCheckEx
01 nt!KiBugCheckDispatch
02 nt!KiPageFault
03 klif!KlTransferMessage
04 FLTMGR!FltpPerformPreCallbacks
""",
    "kP with parameters": """
 # Child-SP          RetAddr               Call Site
00 ffffa807`2f0f6b38 fffff801`4c8a6d69     nt!KeBugCheckEx(
			unsigned long BugCheckCode = 0xa,
			unsigned int64 BugCheckParameter1 = 0x10,
			unsigned int64 BugCheckParameter2 = 2,
			unsigned int64 BugCheckParameter3 = 0,
			unsigned int64 BugCheckParameter4 = 0xfffff801`5e1a2b3c)
01 ffffa807`2f0f6b40 fffff801`5e1a2b3c     nt!KiPageFault+0x443
02 ffffa807`2f0f6e10 fffff801`4c7a1f2d     klif!KlTransferMessage+0x2c(
			void * Context = 0xffffd00a`12345678)
""",
    "wrapped by a mail client": """
fffff880`0331f5c8 fffff800`02ed6be9 : 00000000`0000000a 00000000`00000010 00000000`00000002
00000000`00000000 : nt!KeBugCheckEx
fffff880`0331f5d0 fffff800`02ed5860 : 00000000`00000000 00000000`00000000 00000000`00000000 00000000`00000000 : nt!KiBugCheckDispatch+0x69
fffff880`0331f710 fffff880`04a12b3c : 00000000`00000000 00000000`00000000 00000000`00000000
00000000`00000000 : nt!KiPageFault+0x260
fffff880`0331f8a0 fffff880`0180f2ba : 00000000`00000000 00000000`00000000 00000000`00000000 00000000`00000000 : klif+0x2b3c
""",
}


@pytest.mark.parametrize("shape", sorted(STACKS))
def test_stack_shapes_blame_the_third_party_frame(shape):
    text = "BugCheck A, {10, 2, 0, fffff8015e1a2b3c}\nProbably caused by : ntkrnlmp.exe ( nt!KiPageFault+443 )\n" + STACKS[shape]
    (report, clues), = parse_text(text, "t.txt")
    from analysis.attribution import judge as blame

    culprit = blame(report, clues)
    assert culprit.module.lower() == "klif", shape
    assert culprit.basis == "stack"
    assert culprit.windbg_blamed == "nt"
    assert report.stack[0].function == "KeBugCheckEx"


def test_backticks_code_spans_and_markdown_escapes():
    text = (
        "**Bug check**: `BugCheck 50, {ffffe70b1a2b3c4d, 0, fffff8063c1f2a3b, 2}`\n"
        "`Probably caused by : aswSP.sys ( aswSP+2a3b )`\n"
        "MODULE\\_NAME: aswSP\n"
    )
    (report, clues), = parse_text(text, "t.md")
    assert report.bugcheck.code == 0x50
    assert report.bugcheck.args[2] == 0xFFFFF8063C1F2A3B
    assert report.module_name == "aswSP"


def test_two_different_dumps_in_one_paste_are_split():
    a = (FIX / "win7_x64_0xD1_tcpip_blamed_mcafee_on_stack.txt").read_text()
    b = (FIX / "win11_0x139_keyvalues_crowdstrike.txt").read_text()
    outcome = analyze_blobs([Blob("both.txt", (a + "\n\n" + b).encode())])
    assert [d.bugcheck.code for d in outcome.case.dumps] == [0xD1, 0x139]
    assert outcome.case.pattern == "mixed"


def test_bugcheck_code_followed_by_its_name():
    text = ("BUGCHECK_CODE:           7e   (SYSTEM_THREAD_EXCEPTION_NOT_HANDLED)\n"
            "BUGCHECK_P1:             ffffffffc0000005   (STATUS_ACCESS_VIOLATION)\n"
            "BUGCHECK_P2:             fffff8017b1c2d3e\n")
    (report, _), = parse_text(text, "t.txt")
    assert report.bugcheck.code == 0x7E and report.bugcheck.args[:2] == [0xFFFFFFFFC0000005, 0xFFFFF8017B1C2D3E]


def test_user_mode_frames_are_the_application_not_a_driver():
    text = """BugCheck 3B, {c0000005, fffff96000123456, fffff88003a2f0b0, 0}
Probably caused by : win32k.sys ( win32k!xxxSendMessage+0x2c )
fffff880`03a2f7d8 fffff800`02a8ae69 : 00000000`0000003b 00000000`c0000005 : nt!KeBugCheckEx
fffff880`03a2f7e0 fffff960`00123456 : 00000000`00000000 00000000`00000000 : nt!KiSystemServiceHandler+0x7c
fffff880`03a2fb70 fffff800`02a8a153 : 00000000`00000000 00000000`00000000 : win32k!xxxSendMessage+0x2c
fffff880`03a2fbe0 00000000`76f1ff2a : 00000000`00000000 00000000`00000000 : nt!KiSystemServiceCopyEnd+0x13
00000000`0024d968 00000000`76e1b1ea : 00000000`00000000 00000000`00000001 : USER32!ZwUserSendMessage+0xa
00000000`0024d970 00000000`00000001 : 00000000`00000000 00000000`00000000 : pwned+0x101d
"""
    from analysis.attribution import judge as blame

    (report, clues), = parse_text(text, "t.txt")
    culprit = blame(report, clues)
    assert culprit.module == "win32k" and culprit.basis == "windbg_inbox"
    assert report.third_party_modules == []


def test_a_windows_only_stack_without_module_name_still_names_where_it_failed():
    text = """KERNEL_SECURITY_CHECK_FAILURE (139)
Arguments:
Arg1: 0000000000000003, A LIST_ENTRY has been corrupted (i.e. double remove).
Arg2: fffff90ea867ee40, Address of the trap frame for the exception that caused the bugcheck
Arg3: fffff90ea867ed98, Address of the exception record for the exception that caused the bugcheck
Arg4: 0000000000000000, Reserved
nt!DbgBreakPointWithStatus:
fffff804`194014b0 cc              int     3
 # Child-SP          RetAddr               Call Site
00 fffff90e`a867e368 fffff804`19525382     nt!DbgBreakPointWithStatus
01 fffff90e`a867eae0 fffff804`1941ad69     nt!KeBugCheckEx+0x107
02 fffff90e`a867eb20 fffff804`1941b190     nt!KiBugCheckDispatch+0x69
03 fffff90e`a867ec60 fffff804`19419523     nt!KiFastFailDispatch+0xd0
04 fffff90e`a867ee40 fffff804`1db3f677     nt!KiRaiseSecurityCheckFailure+0x323
05 fffff90e`a867efd0 fffff804`1daf6c05     HTTP!UlFreeUnknownCodingList+0x63
06 fffff90e`a867f000 fffff804`1dacd201     HTTP!UlpParseAcceptEncoding+0x299c5
"""
    from analysis.attribution import judge as blame

    (report, clues), = parse_text(text, "t.txt")
    culprit = blame(report, clues)
    assert (culprit.module, culprit.basis, culprit.third_party, culprit.confidence) == ("HTTP", "faulting_inbox", False, "low")


def test_fields_glued_together_by_a_blog_are_split():
    text = ("VIDEO_TDR_FAILURE (116)\nArguments:\nArg1: fffffa8007b1c010, Optional pointer to internal TDR recovery context\n"
            "MODULE_NAME: nvlddmkmIMAGE_NAME: nvlddmkm.sysDEBUG_FLR_IMAGE_TIMESTAMP: 4fdf93d7FAILURE_BUCKET_ID: 0x116_IMAGE_nvlddmkm.sys\n")
    (report, _), = parse_text(text, "t.txt")
    assert report.module_name == "nvlddmkm" and report.image_name == "nvlddmkm.sys"
    assert report.failure_bucket == "0x116_IMAGE_nvlddmkm.sys"


def test_memory_dump_rows_are_not_frames_but_a_wrapped_frame_still_is():
    """Rows of dq/dd output are only numbers: never a frame on their own,
    while a kb frame whose call site a mail client put on the next line is."""
    text = ("BugCheck A, {10, 2, 0, fffff8015e1a2b3c}\n"
            "Probably caused by : ntkrnlmp.exe ( nt!KiPageFault+443 )\n"
            "0: kd> dq fffff801`5e1a2b00\n"
            "fffff801`5e1a2b00  fffff801`4c8a6d69 00000000`00000010\n"
            "fffff801`5e1a2b10  00000000`00000002 fffff801`5e1a2b3c\n"
            "0: kd> dd fffff801`5e1a2b00\n"
            "fffff801`5e1a2b00  4c8a6d69 fffff801 00000010 00000000\n"
            "0: kd> kb\n"
            "8d8b3b1c 82a3a1b9 0000000a 00000010 00000002\n"
            "klif+0x2b3c\n"
            "8d8b3b60 82a3a000 00000000 00000000\n"
            "00000000 nt!KiTrap0E+0x2cf\n")
    (report, clues), = parse_text(text, "t.txt")
    assert [f.label() for f in report.stack] == ["klif+0x2b3c", "nt!KiTrap0E+0x2cf"]
    assert report.stack[0].return_address == 0x82A3A1B9 and report.stack[0].args == (0xA, 0x10, 2)
    assert report.stack[1].args == (0, 0, 0)


def test_module_names_that_begin_with_digits():
    """Qihoo 360's drivers (360FsFlt, 360Box64) are among the most common in
    Chinese fleets; their frames used to vanish from every stack."""
    d, outcome = one("qihoo360_fsflt_0x50_digit_modules.txt")
    assert "360FsFlt+0x5678" in [f.label() for f in d.stack]
    assert d.culprit.module == "360FsFlt" and d.culprit.vendor == "Qihoo 360"
    assert d.culprit.windbg_blamed == "FLTMGR"
    assert [module_key(m) for m in d.third_party_modules] == ["360fsflt", "360box64"]
    assert outcome.case.vendor == "Qihoo 360"


@pytest.mark.parametrize("site,label", [
    ("360FsFlt+0x5678", "360FsFlt+0x5678"),
    ("360Box64!Something+0x10", "360Box64!Something+0x10"),
    ("1394ohci!OhciIsr+0x3a", "1394ohci!OhciIsr+0x3a"),
    ("0x1234", "0x1234"),
])
def test_sites_whose_module_begins_with_a_digit(site, label):
    from analysis.text.stack import parse_site

    assert parse_site(site).label() == label


@pytest.mark.parametrize("site", ["1234abcd+0x10", "0x12ab!foo", "00000000!x+0x1", "12+0x5"])
def test_numbers_are_not_modules(site):
    from analysis.text.stack import parse_site

    assert parse_site(site) is None


def test_failure_buckets_name_their_module_the_same_way_in_every_reader():
    from analysis.buckets import bucket_module

    assert bucket_module("0x133_DPC_npcap!NPF_Obj") == "npcap"
    assert bucket_module("AV_360FsFlt!unknown_function") == "360FsFlt"
    assert bucket_module("0x116_IMAGE_nvlddmkm.sys") == "nvlddmkm"
    assert bucket_module("0x1a_41792_VSapiNt!VSSwapShortTable") == "VSapiNt"
    assert bucket_module("0x50_VSApiNt+1234") == "VSApiNt"
    assert bucket_module("0x124_GenuineIntel_PROCESSOR_CACHE") is None
    assert bucket_module("AV_unknown!x") is None

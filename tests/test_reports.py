"""The report readers (analysis.reports) on the shapes customers send:
stop screens, BlueScreenView and WhoCrashed reports, dump headers, and
inventories of the machine; through the pipeline as a person would."""

from __future__ import annotations

import pytest

from analysis.findings import Claimant
from analysis.intake import Blob
from analysis.pipeline import analyze_blobs
from analysis.render.doc import to_plain
from analysis.render.verdict import case_doc
from analysis.reports import Inventory, read_reports
from analysis.reports.bluescreen import read_blue_screen
from analysis.reports.bluescreenview import read_bluescreenview
from analysis.reports.common import bounded_distance, bugcheck_from_name
from analysis.reports.dumpheader import read_dump_header
from analysis.reports.inventory import read_driverquery, read_msinfo, read_systeminfo
from analysis.reports.whocrashed import read_whocrashed


def analyse(text: str, name: str = "paste.txt", encoding: str = "utf-8"):
    return analyze_blobs([Blob(name, text.encode(encoding))])


def only(text: str):
    outcome = analyse(text)
    assert len(outcome.case.dumps) == 1, (outcome.case.dumps, outcome.problems)
    return outcome.case.dumps[0], outcome


# ------------------------------------------------------------ stop screens

WIN10 = """:(
Your PC ran into a problem and needs to restart. We're just collecting some error info, and then we'll restart for you.

For more information about this issue and possible fixes, visit https://www.windows.com/stopcode

If you call a support person, give them this info:
Stop code: SYSTEM_THREAD_EXCEPTON_NOT_HANDLED
What failed: igdkmd64.sys
"""


def test_retyped_stop_code_is_corrected_and_the_verdict_says_so():
    d, outcome = only(WIN10)
    assert d.kind == "blue-screen"
    assert d.bugcheck.code == 0x7E
    assert d.culprit.module == "igdkmd64" and d.culprit.basis == "tool"
    assert "What failed: igdkmd64.sys" in [e.text for e in d.culprit.evidence]
    en, zh = (to_plain(case_doc(outcome.case, lang)) for lang in ("en", "zh"))
    assert d.notes == ["stop_code_corrected:SYSTEM_THREAD_EXCEPTON_NOT_HANDLED:SYSTEM_THREAD_EXCEPTION_NOT_HANDLED"]
    assert "SYSTEM_THREAD_EXCEPTON_NOT_HANDLED" in en and "nearest real bug check name" in en
    assert "已按最接近的 BugCheck 名称 SYSTEM_THREAD_EXCEPTION_NOT_HANDLED 处理" in zh


def test_nearest_name_is_bounded_and_unambiguous():
    assert bugcheck_from_name("SYSTEM_THREAD_EXCEPTION_NOT_HANDLED").typed is None
    assert bugcheck_from_name("system thread exception not handled").code == 0x7E
    assert bugcheck_from_name("KERNEL_SECURTY_CHECK_FAILUR").code == 0x139  # two letters off
    assert bugcheck_from_name("KERNEL_SECURITY_CHEK_FALURE_X") is None  # three off: no guess
    assert bugcheck_from_name("NOTHING_LIKE_ANY_NAME_AT_ALL") is None
    assert bounded_distance("abcdef", "abcxef", 2) == 1
    assert bounded_distance("abcdef", "uvwxyz", 2) == 3


def test_chinese_screen():
    d, _ = only("你的设备遇到问题，需要重启。我们只收集某些错误信息，然后为你重新启动。\n"
                "如果致电支持人员，请向他们提供以下信息:\n终止代码: DRIVER_IRQL_NOT_LESS_OR_EQUAL\n失败的操作: tmxpflt.sys\n")
    assert d.bugcheck.code == 0xD1
    assert d.culprit.module == "tmxpflt"


def test_windows7_screen_gives_arguments_offset_and_build_time():
    text = """A problem has been detected and Windows has been shut down to prevent damage
to your computer.

DRIVER_IRQL_NOT_LESS_OR_EQUAL

Technical information:

*** STOP: 0x000000D1 (0x0000000000000000,0x0000000000000002,0x0000000000000000,
0xFFFFF88001A4F2C3)

***   mfewfpk.sys - Address FFFFF88001A4F2C3 base at FFFFF88001A00000, DateStamp 4a5bc600
"""
    reading = read_blue_screen(text, "s.txt")
    report, findings = reading.crashes[0]
    assert report.bugcheck.args == [0, 2, 0, 0xFFFFF88001A4F2C3]
    assert findings.sites[0].symbol == "mfewfpk+0x4f2c3"
    assert report.modules["mfewfpk"].timestamp == 0x4A5BC600
    assert findings.claims[0].by is Claimant.TOOL and findings.claims[0].tool == "blue screen"
    d, _ = only(text)
    assert d.culprit.module == "mfewfpk" and d.culprit.built == "2009-07-13"


def test_a_screen_without_a_driver_names_no_culprit():
    d, _ = only("BSOD with stop error:\n0x0000007E (0xFFFFFFFFC0000005,0xFFFFF8000D382295,0xFFFFF880009A9678,0xFFFFF880009A8ED0)\n")
    assert d.bugcheck.code == 0x7E and d.culprit is None


def test_a_stop_code_in_prose_next_to_windbg_output_is_not_a_second_crash():
    text = "The code is written STOP: 0x0000007B in old screens.\n\nBugcheck Analysis\n\nKERNEL_SECURITY_CHECK_FAILURE (139)\nArguments:\nArg1: 0000000000000003\n"
    outcome = analyse(text)
    assert [d.bugcheck.code for d in outcome.case.dumps] == [0x139]


# ---------------------------------------------------------- BlueScreenView

BSV = """==================================================
Dump File         : 090921-12345-01.dmp
Crash Time        : 09/09/2021 10:14:33
Bug Check String  : MEMORY_MANAGEMENT
Bug Check Code    : 0x0000001a
Parameter 1       : 00000000`00041792
Parameter 2       : fffff680`00001000
Parameter 3       : 00000000`00010000
Parameter 4       : 00000000`00000000
Caused By Driver  : ntoskrnl.exe
Caused By Address : ntoskrnl.exe+3f5b40
File Description  : NT Kernel & System
Product Name      : Microsoft® Windows® Operating System
Company           : Microsoft Corporation
File Version      : 10.0.17134.1 (WinBuild.160101.0800)
Processor         : x64
Crash Address     : ntoskrnl.exe+3f5b40
Stack Address 1   : tmxpflt.sys+1c2d0
Stack Address 2   : VSApiNt.sys+42c10
Stack Address 3   : 
Computer Name     : BANK-PC-017
Full Path         : C:\\Windows\\Minidump\\090921-12345-01.dmp
Processors Count  : 4
Major Version     : 15
Minor Version     : 17134
Dump File Size    : 1,120,576
Dump File Time    : 09/09/2021 10:15:02
==================================================
"""


def test_bluescreenview_ntoskrnl_blamed_does_not_hide_the_stack_drivers():
    d, _ = only(BSV)
    assert d.kind == "tool-report" and d.bugcheck.code == 0x1A and d.bugcheck.args[0] == 0x41792
    assert d.os.build == 17134 and d.os.arch == "x64" and d.computer == "BANK-PC-017" and d.processors == 4
    assert d.culprit.module.lower() == "tmxpflt" and d.culprit.basis == "stack"
    assert [m.lower() for m in d.third_party_modules] == ["tmxpflt", "vsapint"]
    assert d.modules["ntoskrnl"].company == "Microsoft Corporation"


def test_bluescreenview_company_names_the_vendor_of_the_caused_by_driver():
    text = BSV.replace("ntoskrnl.exe+3f5b40", "atikmdag.sys+1b2e").replace("ntoskrnl.exe", "atikmdag.sys")
    text = text.replace("Microsoft Corporation", "Advanced Micro Devices, Inc.").replace(
        "File Version      : 10.0.17134.1 (WinBuild.160101.0800)", "File Version      : 8.01.01.1171")
    d, _ = only(text.replace("tmxpflt.sys+1c2d0", "").replace("VSApiNt.sys+42c10", ""))
    assert d.culprit.module == "atikmdag" and d.culprit.basis == "tool"
    assert d.modules["atikmdag"].file_version == "8.01.01.1171"
    assert "BlueScreenView: Caused By Driver: atikmdag.sys" in [e.text for e in d.culprit.evidence]


ROW = ("090921-12345-01.dmp\t09/09/2021 10:14:33\tMEMORY_MANAGEMENT\t0x0000001a\t00000000`00041792\t"
       "fffff680`00001000\t00000000`00010000\t00000000`00000000\ttmxpflt.sys\ttmxpflt.sys+1c2d0\t\t\t"
       "Trend Micro Inc.\t\tx64\tntoskrnl.exe+3f5b40\t\t\t\t\tC:\\Windows\\Minidump\\090921-12345-01.dmp\t4\t15\t17134\t1,120,576\t09/09/2021 10:15:02")


@pytest.mark.parametrize("text", [
    ROW,  # a grid row copied with Ctrl+C
    ROW.replace("\t", ","),  # CSV without its header
    "Dump File\tCrash Time\tBug Check String\tBug Check Code\tParameter 1\tParameter 2\tParameter 3\tParameter 4\t"
    "Caused By Driver\tCaused By Address\n" + "\t".join(ROW.split("\t")[:10]),
    "<html><table border=1><tr><th>Dump File<th>Crash Time<th>Bug Check String<th>Bug Check Code<th>Parameter 1"
    "<th>Caused By Driver<th>Company</tr><tr><td>090921-12345-01.dmp<td>09/09/2021<td>MEMORY_MANAGEMENT"
    "<td>0x0000001a<td>00000000`00041792<td>tmxpflt.sys<td>Trend Micro Inc.</tr></table></html>",
    # German and Chinese field names
    "Dump-Datei : 090921-12345-01.dmp\nBug Check Code : 0x0000001a\nVerursacht durch Treiber : tmxpflt.sys\nFirma : Trend Micro Inc.\n",
    "转储文件 : 090921-12345-01.dmp\n错误检查代码 : 0x0000001a\n由驱动程序引起 : tmxpflt.sys\n公司 : Trend Micro Inc.\n",
])
def test_bluescreenview_shapes(text):
    reading = read_bluescreenview(text, "r.txt")
    assert reading is not None and len(reading.crashes) == 1
    report, findings = reading.crashes[0]
    assert report.bugcheck.code == 0x1A
    assert findings.claims[0].name == "tmxpflt" and findings.claims[0].tool == "BlueScreenView"


def test_bluescreenview_several_rows_are_several_crashes():
    two = ROW + "\n" + ROW.replace("090921-12345-01", "091021-11111-01").replace("0x0000001a", "0x00000139").replace(
        "MEMORY_MANAGEMENT", "KERNEL_SECURITY_CHECK_FAILURE")
    outcome = analyse(two)
    assert sorted(d.bugcheck.code for d in outcome.case.dumps) == [0x1A, 0x139]


def test_bluescreenview_lower_pane_highlights_the_stack_drivers():
    lower = """==================================================
Filename          : tmxpflt.sys
Address In Stack  : tmxpflt.sys+1c2d0
From Address      : fffff807`4a200000
To Address        : fffff807`4a260000
Size              : 0x00060000
Time Stamp        : 0x5b0e1a2c
Time String       : 30/05/2018 05:11:40
Product Name      : Trend Micro Eyes
File Description  : Trend Micro Extended Filter Driver
File Version      : 6.6.0.1090
Company           : Trend Micro Inc.
Full Path         : C:\\Windows\\system32\\drivers\\tmxpflt.sys
==================================================
"""
    d, _ = only(BSV.replace("tmxpflt.sys+1c2d0", "").replace("VSApiNt.sys+42c10", "") + "\n" + lower)
    assert d.modules["tmxpflt"].file_version == "6.6.0.1090"
    assert d.culprit.module == "tmxpflt" and d.culprit.vendor


def test_windbg_output_and_a_bluescreenview_report_in_one_text_both_count():
    windbg = ("Loading Dump File [C:\\Windows\\Minidump\\091021-11111-01.dmp]\nBugcheck Analysis\n\n"
              "KERNEL_SECURITY_CHECK_FAILURE (139)\nArguments:\nArg1: 0000000000000003\nArg2: ffff8001\nArg3: ffff8002\n"
              "Arg4: 0000000000000000\n\nMODULE_NAME: VSApiNt\n\nIMAGE_NAME:  VSApiNt.sys\n")
    outcome = analyse(BSV + "\n" + windbg)
    assert sorted(d.bugcheck.code for d in outcome.case.dumps) == [0x1A, 0x139]


# -------------------------------------------------------------- WhoCrashed

WHOCRASHED = """System Information (local)
Computer name: BANK-PC-017
Windows version: Windows 10 , 10.0, build: 17134
Windows dir: C:\\WINDOWS

Crash Dump Analysis

On Tue 07/09/2021 10:14:33 your computer crashed or a problem was reported
crash dump file: C:\\Windows\\Minidump\\090721-12890-01.dmp
This was probably caused by the following module: tmxpflt.sys (TmXPFlt+0x1234)
Bugcheck code: 0x1A (0x41792, 0xFFFFF68000001000, 0x10000, 0x0)
Error: MEMORY_MANAGEMENT
file path: C:\\Windows\\system32\\drivers\\tmxpflt.sys
product: Trend Micro Eyes
company: Trend Micro Inc.
description: Trend Micro Extended Filter Driver
Bug check description: This indicates that a severe memory management error occurred.

On Mon 06/09/2021 09:01:02 your computer crashed or a problem was reported
crash dump file: C:\\Windows\\Minidump\\090621-11000-01.dmp
This was probably caused by the following module: ntoskrnl.exe (nt+0x1A9490)
Bugcheck code: 0x139 (0x3, 0xFFFF8001, 0xFFFF8002,
0x0)
Error: KERNEL_SECURITY_CHECK_FAILURE

Conclusion

2 crash dumps have been found and analyzed. A third party driver has been identified to be causing system crashes on your computer.

tmxpflt.sys (Trend Micro Extended Filter Driver, Trend Micro Inc.)
"""


def test_whocrashed_report_is_one_crash_per_block():
    outcome = analyse(WHOCRASHED)
    dumps = sorted(outcome.case.dumps, key=lambda d: d.bugcheck.code)
    assert [d.bugcheck.code for d in dumps] == [0x1A, 0x139]
    first, second = dumps
    assert first.bugcheck.args == [0x41792, 0xFFFFF68000001000, 0x10000, 0]
    assert second.bugcheck.args == [3, 0xFFFF8001, 0xFFFF8002, 0]  # wrapped list
    assert first.culprit.module.lower() == "tmxpflt" and first.culprit.basis == "tool"
    assert "WhoCrashed:" in " ".join(e.text for e in first.culprit.evidence)
    assert first.modules["tmxpflt"].company == "Trend Micro Inc."
    assert first.os.build == 17134 and first.computer == "BANK-PC-017"
    assert second.culprit is None or second.culprit.third_party is not True


def test_whocrashed_reader_rejects_other_text():
    assert read_whocrashed("nothing here but a crash dump file: word", "x") is None


# ------------------------------------------------------------ dump headers

DUMPCHK = """Loading Dump File [C:\\Windows\\Minidump\\090921-12345-01.dmp]
Mini Kernel Dump File: Only registers and stack trace are available

----- 64 bit Kernel Mini Dump Analysis

DUMP_HEADER64:
MajorVersion        0000000f
MinorVersion        000042ee
KdSecondaryVersion  00000000
DirectoryTableBase  00000000`001ad000
PfnDataBase         fffffa80`00000000
PsLoadedModuleList  fffff802`17a5b5f0
PsActiveProcessHead fffff802`17a41a40
MachineImageType    00008664
NumberProcessors    00000004
BugCheckCode        0000001a
BugCheckParameter1  00000000`00041792
BugCheckParameter2  fffff680`00001000
BugCheckParameter3  00000000`00010000
BugCheckParameter4  00000000`00000000
KdDebuggerDataBlock fffff802`17927ea0
"""


def test_dumpchk_header_gives_code_arguments_and_build():
    d, _ = only(DUMPCHK)
    assert d.bugcheck.code == 0x1A and d.bugcheck.args == [0x41792, 0xFFFFF68000001000, 0x10000, 0]
    assert d.os.build == 17134 and d.os.arch == "x64" and d.processors == 4


def test_volatility_crashinfo():
    vol2 = ("_DMP_HEADER64:\n Majorversion:         0x0000000f (15)\n Minorversion:         0x00001db1 (7601)\n"
            " MachineImageType      0x00008664\n NumberProcessors      0x00000002\n BugCheckCode          0x0000007e\n"
            " KdDebuggerDataBlock   0xfffff80002e040a0\n")
    report, _ = read_dump_header(vol2, "v").crashes[0]
    assert report.bugcheck.code == 0x7E and report.os.build == 7601 and report.os.arch == "x64"
    vol3 = ("Signature\tMajorVersion\tMinorVersion\tDirectoryTableBase\tPfnDataBase\tPsLoadedModuleList\t"
            "PsActiveProcessHead\tMachineImageType\tNumberProcessors\tKdDebuggerDataBlock\tBugCheckCode\n"
            "PAGEDU64\t15\t19041\t0x1aa000\t0xfffffa8000000000\t0xfffff8017fc2a2d0\t0xfffff8017fc1b9a0\t34404\t8\t"
            "0xfffff8017f800b20\t0x139\n")
    report, _ = read_dump_header(vol3, "v3").crashes[0]
    assert report.bugcheck.code == 0x139 and report.os.build == 19041
    # A dump taken by a tool records no bug check: no crash is made up.
    assert read_dump_header(vol2.replace("0x0000007e", "0x00000000"), "v") is None


# -------------------------------------------------------------- inventory

def test_driverquery_csv_list_table_and_signed():
    csv_text = ('"Module Name","Display Name","Description","Driver Type","Start Mode","State","Status",'
                '"Accept Stop","Accept Pause","Paged Pool(bytes)","Code(bytes)","BSS(bytes)","Link Date","Path","Init(bytes)"\n'
                '"tmxpflt","Trend Micro Extended Filter","Trend Micro Extended Filter","File System ","System","Running",'
                '"OK","TRUE","FALSE","4,096","196,608","0","5/30/2018 5:11:40 AM","C:\\Windows\\system32\\drivers\\tmxpflt.sys","4,096"\n')
    inv = read_driverquery(csv_text, "d").context[0]
    assert inv.driver("tmxpflt.sys").path.endswith("tmxpflt.sys") and inv.driver("tmxpflt").state == "Running"
    listing = "Module Name:  tmxpflt\nDisplay Name: Trend Micro Extended Filter\nLink Date:    5/30/2018\n\nModule Name:  VSApiNt\nDisplay Name: VSAPI NT\n"
    assert [d.name for d in read_driverquery(listing, "d").context[0].drivers] == ["tmxpflt", "VSApiNt"]
    table = ("Module Name  Display Name           Driver Type   Link Date\n"
             "============ ====================== ============= ======================\n"
             "tmxpflt      Trend Micro Extended F File System   5/30/2018 5:11:40 AM\n")
    assert read_driverquery(table, "d").context[0].drivers[0].date == "5/30/2018 5:11:40 AM"
    chinese = '"模块名","显示名称","驱动程序类型","链接日期"\n"tmxpflt","Trend Micro Extended Filter","File System","2018/5/30 5:11:40"\n'
    assert read_driverquery(chinese, "d").context[0].drivers[0].name == "tmxpflt"
    signed = '"DeviceName","InfName","IsSigned","Manufacturer"\n"Intel(R) Ethernet","oem12.inf","TRUE","Intel"\n'
    d = read_driverquery(signed, "d").context[0].drivers[0]
    assert d.signed is True and d.company == "Intel"


SYSTEMINFO_ZH = """主机名:           BANK-PC-017
OS 名称:          Microsoft Windows 10 专业版
OS 版本:          10.0.17134 暂缺 Build 17134
系统启动时间:     2021/9/7, 8:00:00
系统制造商:       Dell Inc.
系统型号:         OptiPlex 7050
系统类型:         x64-based PC
BIOS 版本:        Dell Inc. 1.4.2, 2018/1/1
修补程序:         安装了 2 个修补程序。
                  [01]: KB4100347
                  [02]: KB4343669
网卡:             安装了 1 个 NIC。
"""


def test_systeminfo_chinese_and_csv():
    inv = read_systeminfo(SYSTEMINFO_ZH, "s").context[0]
    assert (inv.computer, inv.os_build, inv.manufacturer, inv.model, inv.arch) == (
        "BANK-PC-017", 17134, "Dell Inc.", "OptiPlex 7050", "x64")
    assert inv.hotfixes == ["KB4100347", "KB4343669"] and inv.has_hotfix("4343669") and not inv.has_hotfix("KB1")
    csv_text = ('"Host Name","OS Name","OS Version","System Boot Time","Hotfix(s)","Network Card(s)"\n'
                '"PC1","Microsoft Windows 10 Pro","10.0.19044 N/A Build 19044","9/7/2021, 8:00:00 AM",'
                '"2 Hotfix(s) Installed.,[01]: KB5005565,[02]: KB5005699","1 NIC(s)"\n')
    inv = read_systeminfo(csv_text, "s").context[0]
    assert inv.os_build == 19044 and inv.hotfixes == ["KB5005565", "KB5005699"]


NFO = """<?xml version="1.0" encoding="UTF-16"?>
<MsInfo>
<Metadata><Version>8.0</Version></Metadata>
<Category name="System Summary">
<Data><Item><![CDATA[OS Name]]></Item><Value><![CDATA[Microsoft Windows 10 Pro]]></Value></Data>
<Data><Item><![CDATA[Version]]></Item><Value><![CDATA[10.0.17134 Build 17134]]></Value></Data>
<Data><Item><![CDATA[System Name]]></Item><Value><![CDATA[BANK-PC-017]]></Value></Data>
<Category name="Software Environment">
<Category name="System Drivers">
<Data><Name><![CDATA[tmxpflt]]></Name><Description><![CDATA[Trend Micro Extended Filter]]></Description><File><![CDATA[c:\\windows\\system32\\drivers\\tmxpflt.sys]]></File><Type>Kernel Driver</Type><Started>Yes</Started><Start_Mode>System</Start_Mode><State>Running</State></Data>
</Category>
<Category name="Signed Drivers">
<Data><Device_Name>Intel(R) Ethernet Connection I219-LM</Device_Name><Signed>Yes</Signed><Driver_Version>12.17.10.8</Driver_Version><Driver_Date>2018/3/1</Driver_Date><Manufacturer>Intel</Manufacturer><Driver_Name>e1d65x64.sys</Driver_Name></Data>
</Category>
</Category>
</Category>
</MsInfo>
"""


def test_msinfo32_nfo_utf16_through_the_pipeline():
    outcome = analyze_blobs([Blob("machine.nfo", b"\xff\xfe" + NFO.encode("utf-16-le"))])
    assert not outcome.case.dumps
    inv = next(c for c in outcome.context if isinstance(c, Inventory))
    assert inv.computer == "BANK-PC-017" and inv.os_build == 17134
    assert inv.driver("tmxpflt").path.endswith("tmxpflt.sys")
    e1d = inv.driver("e1d65x64")
    assert (e1d.version, e1d.company, e1d.signed) == ("12.17.10.8", "Intel", True)
    assert "no crash in it" in outcome.problems[0][1]


def test_msinfo32_text_export():
    text = ("System Information report written at: 09/07/21 10:00:00\nSystem Name: BANK-PC-017\n[System Summary]\n\n"
            "Item\tValue\t\nOS Name\tMicrosoft Windows 10 Pro\t\nVersion\t10.0.17134 Build 17134\t\n\n"
            "[System Drivers]\n\nName\tDescription\tFile\tType\tStarted\tStart Mode\tState\tStatus\t\n"
            "tmxpflt\tTrend Micro Extended Filter\tc:\\windows\\system32\\drivers\\tmxpflt.sys\tKernel Driver\tYes\tSystem\tRunning\tOK\t\n")
    inv = read_msinfo(text, "m").context[0]
    assert inv.os_build == 17134 and inv.driver("tmxpflt").state == "Running"


def test_xml_bomb_and_external_entity_are_refused_unexpanded():
    bomb = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
            + "".join(f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
            + ']>\n<MsInfo><Category name="System Summary"><Data><Item>OS Name</Item><Value>&lol9;</Value></Data>'
            "</Category></MsInfo>\n")
    outcome = analyze_blobs([Blob("bomb.nfo", bomb.encode())])
    assert not outcome.case.dumps and "DTD" in outcome.problems[0][1]
    external = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                "<MsInfo><Category name=\"System Summary\"><Data><Item>OS Name</Item><Value>&e;</Value></Data></Category></MsInfo>")
    outcome = analyze_blobs([Blob("ext.nfo", external.encode())])
    assert "DTD" in outcome.problems[0][1]


def test_readers_reject_cheaply_what_is_not_theirs():
    text = "just a note about a printer\n" * 50
    assert read_reports(text, "n") == []


def test_a_converters_signature_is_no_bug_check():
    # A header made from a raw memory image: 'MATT' where the bug check goes, 'PAGE' filler around.
    header = ("_DMP_HEADER:\n Majorversion:         0x0000000f (15)\n Minorversion:         0x00001db0 (7600)\n"
              " MachineImageType      0x0000014c\n NumberProcessors      0x00000001\n BugCheckCode          0x5454414d\n"
              " KdDebuggerDataBlock   0x82964be8\n ProductType           0x45474150\n")
    assert read_dump_header(header, "x") is None
    real = header.replace("0x5454414d", "0x0000007e")
    reading = read_dump_header(real, "x")
    assert reading is not None and reading.crashes[0][0].bugcheck.code == 0x7E

"""Windows event logs: the three real System logs, one crashing machine in
every export shape, real pastes, and hostile inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.eventlog import Shape, changes_before, read_event_log, sniff
from analysis.eventlog.event import LocalTimes
from analysis.inputs import Rejected
from analysis.intake import Blob, open_path
from analysis.model import Kind
from analysis.pipeline import analyze_blobs, analyze_paths
from analysis.render.doc import to_plain
from analysis.render.eventlog import change_line, machine_doc, machine_json, summary
from tests.conftest import FIXTURES, ROOT, SEED, shared_file
from tests.eventlog_fleet import EXPECTED_CODES, SHAPES

EVTX = FIXTURES / "eventlog"


def read(path: Path):
    blob = open_path(str(path))
    try:
        return read_event_log(blob)
    finally:
        blob.close()


# --- the real System logs -------------------------------------------------

def test_ec2_log_has_no_blue_screen_and_one_power_loss():
    reading = read(shared_file("evtx", "system-ec2-unexpected-shutdown.evtx"))
    assert reading.crashes == []
    (log,) = reading.context
    assert log.records == 7857
    assert log.computer == "ASLWinClient.aperture.sci"  # its latest name; the image's names are aliases
    assert "EC2AMAZ-NEUK2LF" in log.aliases
    assert log.os.build == 20348 and log.os.product == "Windows Server 2022"
    (shutdown,) = log.shutdowns  # Kernel-Power 41 with BugcheckCode 0 and the 6008 of the same boot
    assert shutdown.sources == ["Kernel-Power 41", "EventLog 6008"]
    assert shutdown.last_alive == "2023-05-29T02:41:02"
    en, zh = summary(log, "en"), summary(log, "zh")
    assert "no blue screen recorded between 2023-05-11 and 2023-06-06" in en
    assert "1 unexpected shutdown with no bug check recorded" in en
    assert "2023-05-11 至 2023-06-06 期间没有蓝屏记录" in zh and "意外关机 1 次" in zh


def test_17134_log_lists_driver_installs_updates_and_boots():
    (log,) = read(shared_file("evtx", "system-win10-17134-vss.evtx")).context
    assert (log.computer, log.os.build, log.os.revision, log.os.product) == ("DESKTOP-1N4R894", 17134, 165,
                                                                             "Windows 10 1803")
    assert log.records == 1160 and log.total("boots") == 3
    paths = {i.image_path for i in log.installs if i.driver}
    assert r"\SystemRoot\System32\drivers\netkvm.sys" in paths
    assert r"\SystemRoot\System32\drivers\teamviewervpn.sys" in paths
    assert sum(u.status == "installed" for u in log.updates) == 137
    failed = [u for u in log.updates if u.status == "failed"]
    assert [u.error for u in failed] == ["0x8024001E", "0x8024001E"]
    assert log.crashes == [] and log.shutdowns == []


def test_15063_log_is_one_machine_under_two_names():
    (log,) = read(shared_file("evtx", "system-win10-15063.evtx")).context
    assert log.computer == "DESKTOP-2KGM189" and log.aliases == ["WIN-P4SIAA0SQCO"]
    assert log.records == 1881 and log.builds == [15063]
    assert log.total("installs") == 57


def test_evtx_through_the_pipeline_is_analysed_without_problems():
    outcome = analyze_paths([str(shared_file("evtx", "system-win10-17134-vss.evtx"))])
    assert outcome.analysed and outcome.problems == [] and outcome.case.dumps == []


# --- one crashing machine, every shape -------------------------------------

@pytest.mark.parametrize("name", sorted(SHAPES))
def test_every_shape_gives_the_same_six_blue_screens(name):
    path = EVTX / name
    with _opened(path) as blob:
        assert sniff(blob.head(65536)) is not None
        reading = read_event_log(blob)
    (log,) = reading.context
    assert len(reading.crashes) == 6 and log.codes == EXPECTED_CODES
    assert len(log.shutdowns) == 2
    assert all(s.last_alive for s in log.shutdowns)
    assert log.builds == [17134]
    first = log.crashes[0]
    assert first.sources == ["Kernel-Power 41", "EventLog 6008", "BugCheck 1001"]
    assert first.dump == r"C:\Windows\MEMORY.DMP" and first.report_id == "00000001-7a1c-4b2e-9d3f-0a1b2c3d4e5f"
    assert first.args == [0x41790, 0xFFFFE50000123450, 0xFFFF, 0x0]
    for report, findings in reading.crashes:
        assert report.kind == Kind.EVENT_LOG and report.culprit is None
        assert findings.claims == [] and findings.stacks == []
        assert report.os.build == 17134
    changes = [change_line(c, "en") for c in changes_before(log)]
    assert changes == [
        r"2018-07-12 driver TmXPFlt installed (\SystemRoot\system32\DRIVERS\TmXPFlt.sys)",
        r"2018-07-12 driver VSApiNt installed (\SystemRoot\system32\DRIVERS\VSApiNt.sys)",
        "2018-07-13 KB4338819 installed",
        "2018-07-13 KB4338832 failed (0x80070643)",
    ]
    line = summary(log, "en")
    assert "6 blue screens in 19 days, 3 different bug checks (0x1A, 0x139, 0x50)" in line
    assert "2 unexpected shutdowns" in line
    zh = summary(log, "zh")
    assert "19 天内蓝屏 6 次，3 种不同的 BugCheck（0x1A、0x139、0x50）" in zh
    # Event Viewer's CSV and Format-List's default view name no computer.
    assert log.computer == (None if "eventviewer" in name or "format_list" in name else "DESKTOP-1N4R894")


class _opened:
    def __init__(self, path: Path):
        self.blob = open_path(str(path))

    def __enter__(self) -> Blob:
        return self.blob

    def __exit__(self, *exc) -> None:
        self.blob.close()


def test_the_machine_section_reads_in_both_languages():
    (log,) = read(EVTX / "crash_general_zh.txt").context
    en = to_plain(machine_doc(log, "en"))
    zh = to_plain(machine_doc(log, "zh"))
    assert "DESKTOP-1N4R894 (Windows 10 1803, build 17134): 6 blue screens in 19 days" in en
    assert "2018-07-12 driver TmXPFlt installed" in en
    assert "第一次蓝屏前 7 天内的变更" in zh and "2018-07-12 安装驱动 TmXPFlt" in zh
    for english in ("blue screen", "installed", "driver", "updates", "Before"):
        assert english not in zh
    data = machine_json(log, "zh")
    json.dumps(data, ensure_ascii=False)
    assert data["bugchecks"] == ["0x1A", "0x139", "0x50"]
    assert data["crashes"][0]["code"] == "0x1A" and data["crashes"][0]["name"] == "MEMORY_MANAGEMENT"


def test_an_event_log_crash_and_the_dump_of_the_same_crash_count_once():
    """Kernel-Power 41's bug check and parameters are the key a dump or a
    WinDbg log of the same crash carries: the case keeps one."""
    text = (EVTX / "real_41_code26_details_xml.xml").read_bytes()
    outcome = analyze_blobs([Blob("a.xml", text), Blob("b.txt", text.replace(b"4730", b"4731"))])
    assert len(outcome.case.dumps) == 1 and len(outcome.context) == 2


# --- real pastes ------------------------------------------------------------

@pytest.mark.parametrize("name,code,p1", [
    ("real_41_code26_details_xml.xml", 0x1A, 0x3470),
    ("real_41_code26_escaped_paste.txt", 0x1A, 0x6001),
    ("real_41_eventdata_zh_docs.txt", 0x9F, 0x3),
])
def test_kernel_power_41_with_a_bug_check(name, code, p1):
    reading = read(EVTX / name)
    (report, _), = reading.crashes
    assert report.bugcheck.code == code and report.bugcheck.args[0] == p1
    assert report.culprit is None


@pytest.mark.parametrize("name", ["real_41_general_en.txt", "real_41_friendly_view.txt",
                                  "real_41_general_de_cp1252.txt"])
def test_kernel_power_41_without_a_code_is_no_blue_screen(name):
    reading = read(EVTX / name)
    assert reading.crashes == []
    (log,) = reading.context
    assert len(log.shutdowns) == 1 and log.shutdowns[0].sources == ["Kernel-Power 41"]
    assert "no bug check recorded" in summary(log, "en")


def test_other_text_is_not_taken_for_an_event_log():
    assert sniff(SEED.read_bytes()[:65536]) is None if SEED.exists() else True
    for path in sorted((FIXTURES / "text").glob("*.txt")) + sorted((FIXTURES / "real").glob("*.txt"))[:10]:
        assert sniff(path.read_bytes()[:65536]) is None, path.name


def test_application_log_crashes_hangs_and_hardware(tmp_path):
    events = [
        ("Application Error", 1000, 2, ["NTRtScan.exe", "6.6.0.1234", "5a1b2c3d", "TMFBE.dll", "2.1.0.1", "5a000000",
                                        "c0000005", "0000000000012345", "1a2c", "01d41b", r"C:\Program Files\NTRtScan.exe",
                                        r"C:\Program Files\TMFBE.dll", "0a1b2c3d-1111-2222-3333-444455556666"]),
        ("Application Hang", 1002, 2, ["OUTLOOK.EXE", "16.0.4738.1000", "2f14", "01d41c", "4294967295"]),
        ("Microsoft-Windows-WHEA-Logger", 18, 2, []),
        ("Display", 4101, 3, ["nvlddmkm", ""]),
    ]
    body = "".join(
        f'<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="{p}"/>'
        f'<EventID>{i}</EventID><Level>{lvl}</Level><TimeCreated SystemTime="2018-07-15T0{n}:00:00.0Z"/>'
        f'<Computer>PC-1</Computer></System><EventData>{"".join(f"<Data>{d}</Data>" for d in data)}</EventData>'
        f'<RenderingInfo Culture="en-US"><Message>{"A fatal hardware error has occurred.&#10;&#10;Reported by component: Processor Core&#10;Error Source: Machine Check Exception" if i == 18 else ""}</Message></RenderingInfo></Event>\n'
        for n, (p, i, lvl, data) in enumerate(events))
    path = tmp_path / "app.xml"
    path.write_text(body, encoding="utf-8")
    (log,) = read(path).context
    crash, hang = log.app_crashes
    assert (crash.app, crash.module, crash.exception_code, crash.offset) == ("NTRtScan.exe", "TMFBE.dll", 0xC0000005,
                                                                             "0000000000012345")
    assert (hang.kind, hang.app) == ("hang", "OUTLOOK.EXE")
    whea, tdr = log.hardware
    assert whea.fatal and whea.component == "Processor Core"
    assert tdr.driver == "nvlddmkm" and not tdr.fatal
    zh = to_plain(machine_doc(log, "zh"))
    assert "WHEA-Logger 记录硬件错误 1 次，其中致命错误 1 次" in zh and "显示驱动 nvlddmkm 停止响应后恢复 1 次" in zh


def test_application_error_from_a_chinese_message(tmp_path):
    csv_text = ("级别,日期和时间,来源,事件 ID,任务类别\r\n"
                '错误,2018/7/15 10:00:00,Application Error,1000,(100),"错误应用程序名称: NTRtScan.exe，版本: 6.6.0.1234，时间戳: 0x5a1b2c3d\r\n'
                '错误模块名称: TMFBE.dll，版本: 2.1.0.1，时间戳: 0x5a000000\r\n异常代码: 0xc0000005\r\n错误偏移量: 0x0000000000012345"\r\n')
    path = tmp_path / "app.csv"
    path.write_bytes(csv_text.encode("utf-8-sig"))
    (log,) = read(path).context
    (crash,) = log.app_crashes
    assert (crash.app, crash.app_version, crash.module, crash.exception_code) == ("NTRtScan.exe", "6.6.0.1234",
                                                                                  "TMFBE.dll", 0xC0000005)


# --- times --------------------------------------------------------------------

def test_the_first_piece_read_is_the_head_the_dates_are_settled_from():
    # read_event_log decodes the first megabyte once, for both.
    from analysis.eventlog import _head_text, _pieces

    text = "Log Name: System\n日志名称: System\n" * 40000  # past a megabyte in any of these
    for data in (text.encode("utf-16"), text.encode("utf-8"), text.encode("gb18030"), text.encode("utf-8")[:5000],
                 b"", "\u00e9".encode("utf-8") * (1 << 19) + b"\xe4"):
        blob = Blob("x.txt", data)
        assert next(_pieces(blob)) == _head_text(blob.head(LocalTimes.HEAD))


def test_dates_are_read_day_first_once_the_file_shows_it():
    us = LocalTimes("7/12/2018 10:15:02 AM\n7/13/2018 10:15:02 AM")
    gb = LocalTimes("12/07/2018 10:15:02\n13/07/2018 10:15:02")
    assert us.iso("7/12/2018 10:15:02 PM") == "2018-07-12T22:15:02"
    assert gb.iso("12/07/2018 10:15:02") == "2018-07-12T10:15:02"
    assert LocalTimes().iso("12.07.2018 10:15:02") == "2018-07-12T10:15:02"
    assert LocalTimes().iso("2018/7/12 下午 3:15:02") == "2018-07-12T15:15:02"
    assert LocalTimes().iso("\u200e5/\u200e29/\u200e2023 2:41:02 AM") == "2023-05-29T02:41:02"


# --- bad input ----------------------------------------------------------------

def _evtx_bytes() -> bytes:
    return shared_file("evtx", "system-win10-17134-vss.evtx").read_bytes()


def test_truncated_evtx_reads_what_is_whole(tmp_path):
    path = tmp_path / "cut.evtx"
    path.write_bytes(_evtx_bytes()[:200_000])
    (log,) = read(path).context
    assert log.records == 238 and "truncated" in log.notes
    assert "its last events are missing" in to_plain(machine_doc(log, "en"))


def test_a_damaged_chunk_is_stepped_over(tmp_path):
    data = bytearray(_evtx_bytes())
    start = 4096 + 65536
    data[start + 600 : start + 5000] = b"\xff" * 4400
    path = tmp_path / "damaged.evtx"
    path.write_bytes(bytes(data))
    (log,) = read(path).context
    assert "unreadable_chunk" in log.notes
    assert 1000 < log.records < 1160  # every chunk but the damaged one


def test_an_evtx_with_no_records_is_refused_with_a_code(tmp_path):
    path = tmp_path / "empty.evtx"
    path.write_bytes(_evtx_bytes()[:4096])
    with pytest.raises(Rejected) as info:
        read(path)
    assert info.value.code == "evtx_empty"
    assert "没有可读取的事件" in info.value.said().said_in("zh")


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Events><Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="&lol3;"/>
<EventID>41</EventID></System></Event></Events>"""


def test_billion_laughs_and_external_entities_are_refused_unread(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    xxe = ('<?xml version="1.0"?>\n<!DOCTYPE e [<!ENTITY x SYSTEM "file://%s">]>\n'
           '<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="&x;"/>'
           "<EventID>41</EventID></System></Event>" % secret)
    for name, text in (("bomb.xml", BOMB), ("xxe.xml", xxe)):
        outcome = analyze_blobs([Blob(name, text.encode())])
        assert outcome.case.dumps == [] and outcome.context == []
        (problem,) = outcome.problems
        assert "DTD or entities" in problem[1] and "TOP-SECRET" not in problem[1]
    with pytest.raises(Rejected) as info:
        read_event_log(Blob("bomb.xml", BOMB.encode()))
    assert info.value.code == "xml_unsafe"
    assert "已拒绝读取" in info.value.said().said_in("zh")


def test_a_csv_with_the_wrong_columns_says_which_it_has():
    blob = Blob("x.csv", b"Event ID,Computer Name,Owner\r\n41,PC-1,alice\r\n")
    assert sniff(blob.head()) is Shape.CSV
    with pytest.raises(Rejected) as info:
        read_event_log(blob)
    assert info.value.code == "csv_columns"
    assert "Event ID, Computer Name, Owner" in str(info.value)
    zh = info.value.said().said_in("zh")
    assert "不是事件日志导出" in zh and "Event ID, Computer Name, Owner" in zh


def test_an_unclosed_quote_in_a_csv_keeps_what_came_before():
    rows = "Level,Date and Time,Source,Event ID,Task Category\r\n"
    rows += 'Critical,7/14/2018 9:02:12 AM,Kernel-Power,41,(63),"The system has rebooted."\r\n'
    rows += 'Error,7/14/2018 9:03:45 AM,BugCheck,1001,None,"never closed\r\n'
    rows += "Information,7/14/2018 9:04:00 AM,EventLog,6005,None,The Event log service was started.\r\n" * 5000
    reading = read_event_log(Blob("cut.csv", rows.encode()))
    (log,) = reading.context
    assert len(log.shutdowns) == 1 and "cut_short" in log.notes


def test_one_endless_line_costs_bounded_memory():
    text = "Log Name: System\nSource: EventLog\nEvent ID: 6005\nDescription:\n" + "A" * 5_000_000
    (log,) = read_event_log(Blob("long.txt", text.encode())).context
    assert log.records == 1


def test_a_large_evtx_is_streamed_in_bounded_memory(tmp_path):
    """64 MiB of chunks (the real log's, repeated): the child's own peak
    resident memory stays far below the file's size."""
    src = _evtx_bytes()
    body = src[4096 : 4096 + ((len(src) - 4096) // 65536) * 65536]
    path = tmp_path / "big.evtx"
    with path.open("wb") as f:
        f.write(src[:4096])
        while f.tell() < 64 * 1024 * 1024:
            f.write(body)
    code = ("import sys; sys.path.insert(0, %r)\n"
            "from analysis.pipeline import analyze_paths\n"
            "o = analyze_paths([%r])\n"
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
            "print(o.context[0].records, hwm)\n") % (str(ROOT), str(path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    records, hwm_kb = int(out[0]), int(out[1])
    assert records > 60_000
    assert hwm_kb < 48 * 1024 + 64 * 1024 // 2, out  # well under the file's size plus the interpreter


def test_an_export_of_many_computers_is_one_machine_called_by_its_latest_name():
    # One event per computer in a log that is not ForwardedEvents: one
    # machine renamed, called by its latest name (what this costs as the
    # computers grow is bench/bench_hostile.py's "many computers": each
    # machine's name was searched for among them all, quadratic).
    unit = ("Log Name: System\nSource: Microsoft-Windows-Kernel-Power\nDate: 7/13/2018 10:00:00 AM\nEvent ID: 41\n"
            "Level: Critical\nComputer: PC{i}\nDescription:\nThe system has rebooted {i}\n")
    data = "".join(unit.format(i=i) for i in range(300)).encode()
    reading = read_event_log(Blob("x.txt", data))
    from analysis.eventlog.machine import MachineLog

    assert [c.computer for c in reading.context if isinstance(c, MachineLog)] == ["PC299"]

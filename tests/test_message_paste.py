"""An event's message pasted without its event (the 1001 sentence, WER's
BlueScreen report, a bug check retold from the event viewer), and the XP
Event Viewer copy: through the pipeline as a person sends them."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.eventlog.message_paste import MAX_MESSAGES, read_message_paste
from analysis.eventlog.messages import wer_message
from analysis.intake import Blob
from analysis.model import Kind
from analysis.pipeline import analyze_blobs
from analysis.reports.bluescreen import read_blue_screen

EVENTLOG = Path(__file__).resolve().parent / "fixtures" / "eventlog"


def analyse(text: str, name: str = "paste.txt"):
    return analyze_blobs([Blob(name, text.encode("utf-8"))])


def only(text: str):
    outcome = analyse(text)
    assert len(outcome.case.dumps) == 1, (outcome.case.dumps, outcome.problems)
    return outcome.case.dumps[0]


@pytest.mark.parametrize("name, code, arg1, dump", [
    ("real_1001_dokany_message_0x50.txt", 0x50, 0xFFFFFFFFFFFFFFE8, r"C:\Windows\MEMORY.DMP"),
    ("real_1001_conemu_quoted_message_0xA.txt", 0xA, 0x26C, None),
    ("real_1001_meshcentral_backticks_0x3B.txt", 0x3B, 0xC0000005, r"C:\Windows\MEMORY.DMP"),
    ("real_1001_insertion_strings_0x4E.txt", 0x4E, 0x99, None),
    ("real_1001_npcap_prose_stop_code_0xD1.txt", 0xD1, 0x5F, None),
    ("real_wer_botframework_fault_bucket_0x18.txt", 0x18, 0, None),
    ("real_wer_zh_win7_dialog_0xF4.txt", 0xF4, 0x3, None),
])
def test_a_pasted_message_is_the_blue_screen_it_records(name, code, arg1, dump):
    d = only((EVENTLOG / name).read_text(encoding="utf-8"))
    assert d.kind == Kind.EVENT_LOG
    assert d.bugcheck is not None and d.bugcheck.code == code and d.bugcheck.args[0] == arg1
    assert d.dump_file == dump
    assert d.culprit is None or not d.culprit.third_party  # the message names no driver


def test_wer_parameters_are_p1_the_code_and_p2_to_p5_its_arguments():
    d = only((EVENTLOG / "real_wer_it_fault_bucket_win32kfull_0x13A.txt").read_text(encoding="utf-8"))
    assert d.bugcheck.code == 0x13A
    assert d.bugcheck.args == [0x6, 0xFFFFC19040800000, 0xFFFFC1904089E9E0, 0]


def test_the_failure_bucket_is_wers_claim_never_more():
    d = only((EVENTLOG / "real_wer_it_fault_bucket_win32kfull_0x13A.txt").read_text(encoding="utf-8"))
    assert d.culprit.module == "win32kfull" and d.culprit.third_party is False
    assert d.culprit.confidence == "low"
    assert any("Windows Error Reporting" in e.text for e in d.culprit.evidence)


def test_a_third_party_bucket_names_the_vendor():
    text = ("Fault bucket 0x133_DPC_npcap!NPF_ObjectPoolReturn, type 0\nEvent Name: BlueScreen\nResponse: Not available\n"
            "Cab Id: 0\n\nProblem signature:\nP1: 133\nP2: 0\nP3: 501\nP4: 500\nP5: fffff8004c8fb320\nP6: 10_0_19041\n")
    d = only(text)
    assert d.bugcheck.code == 0x133 and d.culprit.module == "npcap" and d.culprit.third_party


def test_reliability_monitor_and_the_1001_message_are_one_crash():
    outcome = analyse((EVENTLOG / "real_1001_wsl_reliability_lxcore_0x3B.txt").read_text(encoding="utf-8"))
    assert [d.bugcheck.code for d in outcome.case.dumps] == [0x3B]
    assert outcome.case.dumps[0].culprit.module == "lxcore"


def test_the_win7_dialog_maps_bccode_and_bcp():
    report = wer_message("Problem Event Name:\tBlueScreen\nBCCode:\t7e\nBCP1:\tFFFFFFFFC0000005\nBCP2:\tFFFFF88001234567\n")
    assert report.name == "BlueScreen" and report.params[1] == "7e" and report.params[2] == "FFFFFFFFC0000005"


def test_a_retold_code_needs_the_log_it_came_from():
    said = "The event viewer tells me the stop code was 0x000000d1 (0x5f, 0x2, 0x1, 0xfffff809849011a7)."
    assert read_message_paste(said, "x") is not None
    # A bug check with parameters and nothing saying it came from a log is not an event.
    assert read_message_paste("I saw 0x000000d1 (0x5f, 0x2, 0x1, 0xfffff809849011a7) in a log file", "x") is None


def test_a_paste_of_many_messages_is_bounded():
    one = ("The computer has rebooted from a bugcheck.  The bugcheck was: 0x0000001a (0x0000000000041790, "
           "0xffffe18000b2e4a0, 0x0000000000000001, 0x0000000000000000). A dump was saved in: C:\\WINDOWS\\MEMORY.DMP.\n")
    reading = read_message_paste(one * (MAX_MESSAGES * 5), "x")
    assert reading is not None and 1 <= len(reading.crashes) <= MAX_MESSAGES


def test_the_xp_event_properties_copy_is_an_event_log():
    d = only((EVENTLOG / "real_1001_xp_savedump_eventvwr_0x100000D1.txt").read_text(encoding="utf-8"))
    assert d.bugcheck.code == 0x100000D1 and d.computer == "SKYNET"
    assert d.crash_time == "2007-12-11T15:19:32"  # Date: and Time: on two lines
    assert d.dump_file == r"C:\WINDOWS\Minidump\Mini111207-01.dmp"


def test_a_message_inside_debugger_output_is_not_counted_twice():
    text = ("The computer has rebooted from a bugcheck.  The bugcheck was: 0x0000003b (0x00000000c0000005, "
            "0xfffff80815a0f9c8, 0xffffbf0094c14e70, 0x0000000000000000).\n\n"
            "SYSTEM_SERVICE_EXCEPTION (3b)\nArguments:\nArg1: 00000000c0000005\nArg2: fffff80815a0f9c8\n"
            "Arg3: ffffbf0094c14e70\nArg4: 0000000000000000\n\nMODULE_NAME: lxcore\nIMAGE_NAME:  lxcore.sys\n")
    outcome = analyse(text)
    assert len(outcome.case.dumps) == 1 and outcome.case.dumps[0].bugcheck.code == 0x3B


@pytest.mark.parametrize("text, code, args", [
    ("The bluescreen stop code were `0x000000d1 (0x5f, 0x2, 0x1, 0xfffff809849011a7)`.", 0xD1, [0x5F, 2, 1, 0xFFFFF809849011A7]),
    ("BSOD, stop code was 0x0000003B", 0x3B, []),
    ("Stop code: 0x0 after a BSOD", None, None),
])
def test_a_stop_code_in_a_sentence(text, code, args):
    reading = read_blue_screen(text, "x")
    if code is None:
        assert reading is None or all(c[0].bugcheck is None for c in reading.crashes)
        return
    report = reading.crashes[0][0]
    assert report.bugcheck.code == code and report.bugcheck.args == args


@pytest.mark.parametrize("bucket, module", [
    ("0x3B_lxcore!LxpPseudoFsDynamicEntryDirectoryOverridePermissions", "lxcore"),
    ("0x133_DPC_npcap!NPF_ObjectPoolReturn", "npcap"),
    ("0x7E_c0000005_USBAudio2_ACX!Foo", "USBAudio2_ACX"),
    ("0x116_IMAGE_nvlddmkm.sys", "nvlddmkm"),
    ("0x1A_41790_memory_corruption", None),
    ("0x13A_win32kfull!DesktopAlloc, type 0", None),  # not one token
])
def test_the_module_a_bucket_names(bucket, module):
    from analysis.eventlog.messages import bucket_module
    assert bucket_module(bucket) == module


@pytest.mark.parametrize("text, code, image", [
    ("qubes 4.2 crashes SYSTEM_THREAD_EXCEPTION_NOT_HANDLED(Nvlddmkm.sys).", 0x7E, "Nvlddmkm.sys"),
    ("I observed a Blue screen due to DriverMonitor.sys. The bugcheck code was "
     "DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS.", 0xCE, "DriverMonitor.sys"),
    ('my computer goes into the bluescreen loop on boot. It shows "Driver_corrupted_mmpool".', 0xD0, None),
])
def test_a_name_and_file_in_prose(text, code, image):
    reading = read_blue_screen(text, "x")
    report, findings = reading.crashes[0]
    assert report.bugcheck.code == code
    assert [c.image for c in findings.claims] == ([image] if image else [])


def test_a_file_in_parentheses_without_a_name_is_no_crash():
    assert read_blue_screen("Loaded the filter (npcap.sys) and it works.", "x") is None


def test_marks_without_messages_cost_a_bounded_look():
    noise = "Insertion strings: none. " * 40000
    late = "\nInsertion strings: 0x0000000a (0x10, 0x2, 0x0, 0xfffff8012345678a)"
    # Thousands of empty marks: the looking stops long before the end.
    assert read_message_paste(noise + late, "x") is None
    # Another message's mark is looked for on its own.
    other = "\nThe computer has rebooted from a bugcheck.  The bugcheck was: 0x0000000a (0x10, 0x2, 0x0, 0xfffff8012345678a)."
    reading = read_message_paste(noise + other, "x")
    assert reading is not None and [r.bugcheck.code for r, _ in reading.crashes] == [0xA]

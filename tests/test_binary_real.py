"""The real sample dumps in ../shared/dumps: everything its README says a
reader must find (the files are test data, read in place, never copied)."""

from __future__ import annotations

import hashlib

import pytest

from analysis.binary.app import read_app_dump
from analysis.binary.kernel import read_kernel_dump
from analysis.intake import open_path
from analysis.model import module_key
from analysis.pipeline import analyze_paths
from tests.conftest import judged, shared_file

TRIAGE = ("dumps", "triage_x64_19041_0x1000007E.dmp")
CALC = ("dumps", "usermode_calc_win7.dmp")
PRESENT_NOT_AT_FAULT = ["nvlddmkm.sys", "rt640x64.sys", "VBoxDrv.sys", "npcap.sys", "AsIO2.sys", "wintun.sys"]


@pytest.fixture(scope="module")
def triage():
    path = shared_file(*TRIAGE)
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == "6875e8ff013eddb9d562165067be24e2a231a8851690bb101f6597ca9534cd28"
    return judged(read_kernel_dump(data, path.name))


@pytest.fixture(scope="module")
def calc():
    path = shared_file(*CALC)
    return judged(read_app_dump(path.read_bytes(), path.name))


def test_triage_header_verdict(triage):
    assert triage.kind == "kernel-minidump"
    assert triage.dump_type == "small memory dump (triage)"
    assert triage.bugcheck.code == 0x1000007E
    assert triage.bugcheck.args == [0xFFFFFFFFC0000005, 0xFFFFF8048B58334C, 0xFFFF850429891EE8, 0xFFFF850429891720]
    assert triage.os.build == 19041 and triage.os.arch == "x64"
    assert triage.os.buildlab == "19041.1.amd64fre.vb_release.191206-1406"
    assert triage.os.product == "Windows 10 2004"
    assert triage.processors == 16
    assert triage.process == "System"  # a system thread: the EPROCESS copy names the System process
    assert triage.crash_time == "2021-02-21T01:38:22Z"
    assert triage.uptime == "0 days 00:00:03.7"
    assert triage.exception_code == 0xC0000005
    assert triage.exception_address == 0xFFFFF8048B58334C
    assert not triage.partial and triage.notes == []


def test_triage_driver_lists(triage):
    loaded = [m for m in triage.modules.values() if not m.unloaded]
    unloaded = [m.image for m in triage.modules.values() if m.unloaded]
    assert len(loaded) == 151
    assert loaded[0].image == "ntoskrnl.exe" and loaded[0].base == 0xFFFFF8047BA00000
    assert loaded[0].path == "\\SystemRoot\\system32\\ntoskrnl.exe"
    assert unloaded == ["dam.sys", "WdBoot.sys", "hwpolicy.sys", "mcupdate.dll"]
    amdppm = triage.module("amdppm")
    assert amdppm.base == 0xFFFFF8048B580000 and amdppm.size == 0x3B000
    nv = triage.module("nvlddmkm")
    assert "DriverStore\\FileRepository\\nv_dispi.inf_amd64" in nv.path
    assert nv.timestamp == 0x5FED9856  # a real link date for a third-party driver: 2020-12-31


def test_triage_blames_amdppm_as_the_faulting_inbox_driver(triage):
    c = triage.culprit
    assert (c.module, c.image) == ("amdppm", "amdppm.sys")
    assert c.third_party is False
    assert c.basis == "param"
    assert c.confidence == "low"  # an in-box driver: where it faulted, not whom to call
    texts = [e.text for e in c.evidence]
    assert "parameter 2 = 0xfffff8048b58334c = amdppm.sys+0x334c" in texts
    assert "context Rip = amdppm.sys+0x334c" in texts
    stack_line = next(t for t in texts if t.startswith("stack: "))
    assert stack_line == "stack: ntoskrnl.exe ×82, amdppm.sys ×41, ACPI.sys ×3, Wdf01000.sys ×30"
    assert triage.stack[0].label() == "amdppm+0x334c"


def test_triage_third_party_drivers_present_but_not_blamed(triage):
    assert triage.third_party_modules == []
    for image in PRESENT_NOT_AT_FAULT:
        info = triage.module(image)
        assert info is not None and not info.unloaded, image
        assert module_key(triage.culprit.module) != module_key(image)
    present = next(e.text for e in triage.culprit.evidence if e.kind == "present")
    for image in PRESENT_NOT_AT_FAULT:
        assert image in present


def test_triage_through_the_pipeline_is_inbox_only():
    path = shared_file(*TRIAGE)
    outcome = analyze_paths([str(path)])
    assert not outcome.problems
    (d,) = outcome.case.dumps
    assert d.culprit.vendor == "Microsoft"
    assert outcome.case.vendor is None
    assert outcome.case.pattern == "inbox-only"


def test_triage_from_a_mapped_file():
    blob = open_path(str(shared_file(*TRIAGE)))
    try:
        report = judged(read_kernel_dump(blob.data, blob.name))
    finally:
        blob.close()
    assert report.culprit.image == "amdppm.sys"


def test_calc_is_an_application_crash(calc):
    assert calc.kind == "app-minidump"
    assert calc.bugcheck is None
    assert calc.process == "calc.exe"
    assert calc.exception_code == 0x80000003
    assert calc.exception_address == 0x7776AE10
    assert len([m for m in calc.modules.values()]) == 28
    assert calc.os.build == 7601 and calc.os.arch == "x64" and calc.os.version == "6.1.7601"
    assert calc.os.product == "Windows 7 SP1"
    c = calc.culprit
    assert (c.module, c.image, c.basis, c.third_party) == ("ntdll", "ntdll.dll", "exception_address", False)
    assert "exception address 0x7776ae10 = ntdll.dll+0x4ae10" in [e.text for e in c.evidence]
    ntdll = calc.module("ntdll")
    assert ntdll.path == "C:\\Windows\\System32\\ntdll.dll"
    assert ntdll.base == 0x77720000 and ntdll.timestamp == 0x57D2FDE1
    assert calc.module("calc").file_version == "6.1.7600.16385"
    assert calc.crash_time == "2016-10-29T12:43:47Z"


def test_calc_agrees_with_the_minidump_package(calc):
    minidump = pytest.importorskip("minidump.minidumpfile")
    import logging

    logging.disable(logging.CRITICAL)  # the package logs a harmless PEB traceback
    try:
        theirs = minidump.MinidumpFile.parse(str(shared_file(*CALC)))
    finally:
        logging.disable(logging.NOTSET)
    ours = [m for m in calc.modules.values()]
    assert [(m.path, m.base, m.size, m.timestamp) for m in ours] == [
        (m.name, m.baseaddress, m.size, m.timestamp) for m in theirs.modules.modules
    ]
    record = theirs.exception.exception_records[0].ExceptionRecord
    assert calc.exception_address == record.ExceptionAddress
    assert theirs.sysinfo.BuildNumber == calc.os.build


def test_a_cut_triage_dump_keeps_what_it_holds():
    """A minidump cut short (a failed upload, a full disk) keeps the drivers,
    stack and process read before the cut: the data-block table lying past
    the end costs a note, not the body."""
    data = shared_file(*TRIAGE).read_bytes()
    known = 0
    for n in range(0x2000, 0x1A000, 0x400):
        report = judged(read_kernel_dump(data[:n], "cut.dmp"))
        assert report.bugcheck.code == 0x1000007E and report.partial, hex(n)
        assert "triage_unreadable" not in report.notes or n == 0x2000, hex(n)
        assert len(report.modules) >= known, hex(n)  # a longer cut never knows less
        known = len(report.modules)
        if n >= 0xE400:
            assert report.kind == "kernel-minidump" and report.process == "System", hex(n)
        if n >= 0x16000:
            assert report.stack and report.culprit.module and "data_blocks_truncated" in report.notes, hex(n)
    # The last cut that used to lose everything holds the whole driver list.
    report = judged(read_kernel_dump(data[:0x19438], "cut.dmp"))
    assert len([m for m in report.modules.values() if not m.unloaded]) == 151
    assert report.process == "System" and report.culprit.module == "amdppm"


def test_a_triage_dump_cut_after_its_last_part_is_still_partial():
    """Only the TRGD marker at the end is missing: every part reads, yet the
    writer never finished, and the report says so."""
    data = shared_file(*TRIAGE).read_bytes()
    whole = judged(read_kernel_dump(data, "whole.dmp"))
    valid_at = int.from_bytes(data[0x2008:0x200C], "little")
    report = judged(read_kernel_dump(data[:valid_at], "cut.dmp"))
    assert not whole.partial
    assert report.partial and "triage_not_validated" in report.notes
    assert report.culprit.module == whole.culprit.module and len(report.modules) == len(whole.modules)

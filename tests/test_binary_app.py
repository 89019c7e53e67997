"""Application crash dumps (MDMP) built from the public MINIDUMP_* layout."""

from __future__ import annotations

from analysis import catalog
from analysis.binary.app import read_app_dump
from analysis.intake import Blob
from analysis.pipeline import analyze_blobs, analyze_paths
from analysis.render.as_json import case_json
from tests import dumpbuild as db
from tests.conftest import judged
from tests.conftest import shared_file

OSCE = "C:\\Program Files (x86)\\Trend Micro\\OfficeScan Client\\"
NTRTSCAN = db.AppModule(OSCE + "NTRtScan.exe", 0x7FF6A1200000, 0x2D0000, 0x5C8F1A2B, (12, 0, 1, 5210))
TMFBE = db.AppModule(OSCE + "TmFbe.dll", 0x7FFA01200000, 0x180000, 0x5C8F1A00, (12, 0, 1, 1176))
NTDLL = db.AppModule("C:\\Windows\\System32\\ntdll.dll", 0x7FFA10000000, 0x1F0000, 0xB1E2C3D4, (10, 0, 19041, 1288))
KBASE = db.AppModule("C:\\Windows\\System32\\KERNELBASE.dll", 0x7FFA0E000000, 0x2C0000, 0xC1E2C3D4, (10, 0, 19041, 1288))
LPK = db.AppModule("C:\\Windows\\System32\\lpk.dll", 0x7FFA0D000000, 0x10000)


def read(blob: bytes):
    return judged(read_app_dump(blob, "NTRtScan.exe.1234.dmp"))


def test_scanner_process_crashing_in_its_own_dll():
    fault = TMFBE.base + 0x4A1C
    d = read(db.app_dump(modules=[NTRTSCAN, NTDLL, KBASE, TMFBE], address=fault,
                         stack_words=[NTDLL.base + 0x1000, TMFBE.base + 0x77, NTRTSCAN.base + 0x1234]))
    assert d.kind == "app-minidump" and d.bugcheck is None and not d.partial
    assert d.process == "NTRtScan.exe"
    assert d.exception_code == 0xC0000005 and d.exception_address == fault
    c = d.culprit
    assert (c.module, c.image, c.basis, c.third_party, c.confidence) == ("TmFbe", "TmFbe.dll", "exception_address", True, "high")
    assert f"exception address 0x{fault:x} = TmFbe.dll+0x4a1c" in [e.text for e in c.evidence]
    assert d.third_party_modules == ["TmFbe", "NTRtScan"]
    assert d.module("ntrtscan").file_version == "12.0.1.5210"
    assert d.module("tmfbe").timestamp == 0x5C8F1A00
    assert d.os.build == 19045 and d.os.arch == "x64" and d.os.version == "10.0.19045"
    assert d.crash_time == "2024-03-01T10:00:05Z"


def test_vendor_of_an_application_crash_comes_from_the_path():
    d = analyze_blobs([Blob("NTRtScan.dmp", db.app_dump(modules=[NTRTSCAN, NTDLL, TMFBE], address=TMFBE.base + 8))])
    (report,) = d.case.dumps
    assert report.culprit.vendor in ("Trend Micro", "AsiaInfo Security")


def test_fault_in_windows_dll_is_not_third_party():
    d = read(db.app_dump(modules=[NTRTSCAN, NTDLL, LPK], address=LPK.base + 0x10))
    # lpk is not in the catalog, but Windows keeps it in System32.
    assert (d.culprit.module, d.culprit.third_party, d.culprit.confidence) == ("lpk", False, "low")


def test_exception_outside_every_module():
    d = read(db.app_dump(modules=[NTRTSCAN, NTDLL, TMFBE], address=0x1234, stack_words=[TMFBE.base + 0x99]))
    c = d.culprit
    assert (c.module, c.basis, c.confidence) == ("TmFbe", "raw_stack", "low")
    assert "exception address 0x1234 lies in no listed module" in [e.text for e in c.evidence]


def test_32bit_application():
    exe = db.AppModule("C:\\Program Files\\Foo\\foo.exe", 0x00400000, 0x50000)
    dll = db.AppModule("C:\\Windows\\SysWOW64\\ntdll.dll", 0x77000000, 0x190000)
    d = read(db.app_dump(modules=[exe, dll], arch=0, address=0x00401234, build=7601, stack_words=[0x77001000]))
    assert d.os.arch == "x86" and d.os.product == "Windows 7 SP1"
    assert (d.culprit.module, d.process) == ("foo", "foo.exe")


def test_no_exception_stream():
    blob = db.app_dump(modules=[NTRTSCAN, NTDLL], address=NTDLL.base + 4, directory_count=2)
    d = read(blob)  # only SystemInfo and ModuleList are listed
    assert "no_exception_stream" in d.notes and d.exception_code is None
    assert d.process == "NTRtScan.exe" and d.culprit.module is None


def test_json_and_the_reader_agree_on_what_is_third_party():
    """One predicate: the real calc.exe dump's System32 and WinSxS images are
    Windows' in --json too, the OfficeScan ones third-party in both."""
    out = case_json(analyze_paths([str(shared_file("dumps", "usermode_calc_win7.dmp"))]).case)
    (d,) = out["dumps"]
    assert len(d["modules"]) == 28
    assert [m["image"] for m in d["modules"] if m["third_party"]] == []
    assert d["third_party_modules"] == [] and d["culprit"]["third_party"] is False

    blob = db.app_dump(modules=[NTRTSCAN, NTDLL, KBASE, TMFBE, LPK], address=TMFBE.base + 0x10,
                       stack_words=[TMFBE.base + 0x77])
    (d,) = case_json(analyze_blobs([Blob("x.dmp", blob)]).case)["dumps"]
    marks = {m["image"]: m["third_party"] for m in d["modules"]}
    assert marks == {"NTRtScan.exe": True, "ntdll.dll": False, "KERNELBASE.dll": False, "TmFbe.dll": True, "lpk.dll": False}
    assert d["culprit"]["third_party"] is True


def test_a_driver_folder_is_not_windows_own():
    assert catalog.is_third_party("foo.dll", "C:\\Windows\\System32\\foo.dll") is False
    assert catalog.is_third_party("foo.dll", "C:\\Windows\\WinSxS\\amd64_x\\foo.dll") is False
    assert catalog.is_third_party("foo.sys", "C:\\Windows\\System32\\drivers\\foo.sys") is True
    assert catalog.is_third_party("foo.dll", "C:\\Windows\\System32\\DriverStore\\FileRepository\\x\\foo.dll") is True
    assert catalog.is_third_party("TmFbe.dll", "C:\\Program Files\\Trend Micro\\TmFbe.dll") is True
    assert catalog.is_third_party("foo.dll") is True and catalog.is_third_party("memory_corruption") is None

"""Small memory dumps (type 4) built from the documented layout: each test
states the dump it builds and what the reader must conclude from it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from analysis.binary.kernel import read_kernel_dump
from analysis.intake import Blob
from analysis.model import module_key
from analysis.pipeline import analyze_blobs
from tests import dumpbuild as db
from tests.conftest import judged

TM = db.Driver("\\SystemRoot\\system32\\drivers\\TmXPFlt.sys", 0xFFFFF80481200000, 0x60000, 0x5A1B2C3D)
VSAPI = db.Driver("\\SystemRoot\\system32\\drivers\\VSApiNt.sys", 0xFFFFF80481400000, 0x1A0000, 0x5A1B2C40)
NV = db.Driver("\\SystemRoot\\System32\\DriverStore\\FileRepository\\nv_dispi.inf_amd64_3621da861144492b\\nvlddmkm.sys",
               0xFFFFF8048B6B0000, 0x25E6000, 0x5FED9856)
NT = db.NT_BASE
KEBUGCHECK = NT + 0x3F5A80


def read(blob: bytes, name: str = "Mini.dmp"):
    return judged(read_kernel_dump(blob, name))


def av_stack(first: db.Driver, second: db.Driver) -> list[int]:
    """KeBugCheckEx frame, then two antivirus frames under kernel frames."""
    return [0, NT + 0x3F5A95, 0x41792, NT + 0x2D81C4, first.base + 0x2D1A, 0x1000, first.base + 0x5F0,
            NT + 0x21A0C3, second.base + 0x8C4E, 0, NT + 0x1B2F10, first.base + 0x2D1A]


def av_dump(code: int, params: tuple, when: datetime) -> bytes:
    return db.triage_dump(drivers=db.standard_drivers([NV, TM, VSAPI]), stack_words=av_stack(VSAPI, TM),
                          code=code, params=params, ip=KEBUGCHECK, build=17134, when=when,
                          buildlab="17134.1.amd64fre.rs4_release.180410-1804")


def test_antivirus_on_the_stack_of_0x1A():
    d = read(av_dump(0x1A, (0x41792, 0xFFFFF6FB7DBED000, 0x10000, 0), db.CRASH_TIME))
    assert d.kind == "kernel-minidump" and not d.partial
    assert d.bugcheck.code == 0x1A and d.bugcheck.args[0] == 0x41792
    c = d.culprit
    assert (c.module, c.image, c.third_party, c.basis, c.confidence) == ("VSApiNt", "VSApiNt.sys", True, "raw_stack", "medium")
    assert d.third_party_modules == ["VSApiNt", "TmXPFlt"]
    assert "stack: ntoskrnl.exe ×4, VSApiNt.sys ×3, TmXPFlt.sys ×1" in [e.text for e in c.evidence]
    assert "context Rip = ntoskrnl.exe+0x3f5a80" in [e.text for e in c.evidence]
    assert "nearest stack value into it: VSApiNt.sys+0x2d1a (at 0xffff850429890f08)" in [e.text for e in c.evidence]
    assert d.stack[0].label() == "ntoskrnl+0x3f5a80"
    assert [f.label() for f in d.stack[1:4]] == ["ntoskrnl+0x3f5a95", "ntoskrnl+0x2d81c4", "VSApiNt+0x2d1a"]
    assert d.os.build == 17134 and d.os.codename == "rs4" and d.os.buildlab.startswith("17134.1.amd64fre")
    # nvlddmkm is loaded but on no stack: present, never blamed.
    assert "nvlddmkm.sys" in next(e.text for e in c.evidence if e.kind == "present")


def test_two_dumps_of_the_seed_case_make_one_vendor_case():
    one = av_dump(0x1A, (0x41792, 0xFFFFF6FB7DBED000, 0x10000, 0), datetime(2019, 5, 6, 9, 12, tzinfo=UTC))
    two = av_dump(0x139, (3, 0xFFFFA0818D9F6F10, 0xFFFFA0818D9F6E68, 0), datetime(2019, 5, 8, 14, 40, tzinfo=UTC))
    outcome = analyze_blobs([Blob("050619-1.dmp", one), Blob("050819-2.dmp", two)])
    case = outcome.case
    assert not outcome.problems and len(case.dumps) == 2
    assert [d.bugcheck.code for d in case.dumps] == [0x1A, 0x139]
    for d in case.dumps:
        assert module_key(d.culprit.module) == "vsapint"
        assert d.culprit.vendor in ("Trend Micro", "AsiaInfo Security")
    assert case.vendor == "Trend Micro"  # the dumps carry no install path saying AsiaInfo
    assert case.confidence == "high" and case.pattern == "single-vendor"
    assert {module_key(m) for m in case.modules} >= {"vsapint", "tmxpflt"}
    assert [k.id for k in case.known_issues] == ["trendmicro-1119990"]


def test_the_same_minidump_twice_is_counted_once():
    one = av_dump(0x1A, (0x41792, 0xFFFFF6FB7DBED000, 0x10000, 0), db.CRASH_TIME)
    outcome = analyze_blobs([Blob("a.dmp", one), Blob("copy.dmp", one)])
    assert len(outcome.case.dumps) == 1


def test_code_parameter_and_context_agree_on_a_third_party_driver():
    fault = NV.base + 0x1C2F4A
    d = read(db.triage_dump(drivers=db.standard_drivers([NV]), code=0xD1,
                            params=(0x28, 2, 0, fault), ip=fault, stack_words=[NT + 0x40F4E1, fault + 0x33]))
    c = d.culprit
    assert (c.module, c.basis, c.confidence, c.third_party) == ("nvlddmkm", "param", "high", True)
    texts = [e.text for e in c.evidence]
    assert f"parameter 4 = 0x{fault:x} = nvlddmkm.sys+0x1c2f4a" in texts
    assert "context Rip = nvlddmkm.sys+0x1c2f4a" in texts
    assert d.third_party_modules == ["nvlddmkm"]


def test_instruction_pointer_alone():
    ip = TM.base + 0x4410
    d = read(db.triage_dump(drivers=db.standard_drivers([TM]), code=0x1A, params=(0x5003, 0, 0, 0), ip=ip,
                            stack_words=[NT + 0x1000]))
    assert (d.culprit.module, d.culprit.basis, d.culprit.confidence) == ("TmXPFlt", "context_ip", "medium")


def test_the_kernel_recorded_a_broken_driver():
    drivers = db.standard_drivers([TM, VSAPI])
    d = read(db.triage_dump(drivers=drivers, broken=len(drivers) - 1, code=0xC2, params=(7, 0x1097, 0, 0),
                            ip=KEBUGCHECK, stack_words=[TM.base + 0x100]))
    c = d.culprit
    assert (c.module, c.basis, c.confidence) == ("VSApiNt", "broken_driver", "medium")
    assert "the kernel recorded VSApiNt.sys as the broken driver" in [e.text for e in c.evidence]


def test_0xCE_parameter_lies_in_an_unloaded_driver():
    gone = ("SymEvent.sys", 0xFFFFF80490000000, 0xFFFFF80490030000)
    d = read(db.triage_dump(unloaded=[gone, ("dam.sys", 0xFFFFF80487DE0000, 0xFFFFF80487DFC000)], code=0xCE,
                            params=(0xFFFFF80490012345, 8, 0xFFFFF80490012345, 0), ip=KEBUGCHECK,
                            stack_words=[NT + 0x1000]))
    c = d.culprit
    assert (c.module, c.image, c.basis, c.third_party) == ("SymEvent", "SymEvent.sys", "unloaded", True)
    assert "parameter 1 = 0xfffff80490012345 = SymEvent.sys+0x12345 (an unloaded driver)" in [e.text for e in c.evidence]
    assert d.module("dam").unloaded


def test_0xFC_target_is_reported_not_blamed():
    target = NV.base + 0x2000000
    d = read(db.triage_dump(drivers=db.standard_drivers([NV, TM]), code=0xFC, params=(target, 0x8A000001, 0, 0),
                            ip=KEBUGCHECK, stack_words=[NT + 0x1000, TM.base + 0x77]))
    c = d.culprit
    assert (c.module, c.basis) == ("TmXPFlt", "raw_stack")
    target_line = next(e.text for e in c.evidence if e.kind == "param_target")
    assert "nvlddmkm.sys+0x2000000" in target_line and "target" in target_line


def test_only_windows_on_the_stack():
    d = read(db.triage_dump(code=0x50, params=(0xFFFFC00012345678, 0, NT + 0x2ABCDE, 2), ip=NT + 0x2ABCDE,
                            stack_words=[NT + 0x1000, 0xFFFFF80479000000 + 0x5000]))
    c = d.culprit
    assert (c.module, c.basis, c.third_party, c.confidence) == ("ntoskrnl", "param", False, "low")
    assert d.third_party_modules == []


def test_32bit_small_dump():
    ntfs, avg = 0x8B800000, 0x8F200000
    drivers = db.standard_drivers([db.Driver("\\SystemRoot\\system32\\drivers\\avgtdix.sys", avg, 0x40000)], wide=False)
    blob = db.triage_dump(wide=False, drivers=drivers, code=0x1000008E,
                          params=(0xC0000005, avg + 0x12C71, 0x9A3F1B20, 0),
                          ip=avg + 0x12C71, stack_words=[0x82800000 + 0x1234, avg + 0x8000, ntfs + 0x55],
                          unloaded=[("dump_diskdump.sys", 0x90000000, 0x90010000)], build=7601,
                          buildlab="7601.24545.x86fre.win7sp1_ldr_escrow.200102-1707", product_type=1)
    assert blob[:8] == b"PAGEDUMP"
    d = read(blob)
    assert d.kind == "kernel-minidump" and not d.partial, d.notes
    assert d.bugcheck.args == [0xC0000005, avg + 0x12C71, 0x9A3F1B20, 0]
    assert d.os.arch == "x86" and d.os.build == 7601 and d.os.buildlab.startswith("7601.24545.x86fre")
    assert d.os.product == "Windows 7 SP1"
    assert d.crash_time == "2024-03-01T10:00:05Z" and d.uptime == "0 days 12:34:56.7"
    assert [m.image for m in d.modules.values()][:2] == ["ntkrnlpa.exe", "halmacpi.dll"]
    assert d.module("avgtdix").base == avg and d.module("avgtdix").size == 0x40000
    assert d.module("dump_diskdum").unloaded  # the unloaded list keeps 12 characters of a name
    c = d.culprit
    assert (c.module, c.basis, c.confidence) == ("avgtdix", "param", "high")
    assert "context Eip = avgtdix.sys+0x12c71" in [e.text for e in c.evidence]
    assert d.third_party_modules == ["avgtdix"]


def test_arm64_small_dump_uses_pc():
    fault = TM.base + 0x99C
    d = read(db.triage_dump(drivers=db.standard_drivers([TM]), machine=db.MACHINE_ARM64, code=0x1E,
                            params=(0xC0000005, fault, 0, 0), ip=fault, build=22000,
                            buildlab="22000.1.arm64fre.co_release.210604-1628", stack_words=[fault]))
    assert d.os.arch == "arm64" and d.os.product.startswith("Windows 11")
    assert "context Pc = TmXPFlt.sys+0x99c" in [e.text for e in d.culprit.evidence]
    assert d.culprit.confidence == "high"


def test_server_product_and_header_fields():
    d = read(db.triage_dump(build=17763, product_type=3, cpus=32, code=0x9F, params=(3, 0xFFFF9A0D1, 0, 0),
                            buildlab="17763.1.amd64fre.rs5_release.180914-1434"))
    assert d.os.product == "Windows Server 2019" and d.os.version == "10.0.17763"
    assert d.processors == 32
    assert d.dump_type == "small memory dump (triage)"


def test_encrypted_dump_keeps_the_header_verdict():
    d = read(db.triage_dump(code=0xD1, params=(1, 2, 3, 4), attributes=0x100))
    assert d.bugcheck.code == 0xD1 and d.partial and "encrypted_dump" in d.notes
    assert d.modules == {} and d.kind == "kernel-header-only"


def test_checked_build_is_noted():
    blob = bytearray(db.triage_dump())
    blob[8:12] = (0xC).to_bytes(4, "little")
    assert "checked_build" in read(bytes(blob)).notes


@pytest.mark.parametrize("dump_type, kind, name", [
    (3, "kernel-header-only", "header-only dump"),
    (7, "kernel-header-only", "automatic memory dump"),
])
def test_header_only_types(dump_type, kind, name):
    blob = bytes(db.kernel_header(dump_type=dump_type, code=0x133, params=(1, 0x1E00, 0xFFFFF8047C4FA320, 0)))
    d = read(blob)
    assert (d.kind, d.dump_type, d.bugcheck.code) == (kind, name, 0x133)
    assert not d.partial


def test_unknown_dump_type_is_partial():
    d = read(bytes(db.kernel_header(dump_type=0x77, code=0x133)))
    assert d.kind == "kernel-header-only" and d.partial and "unknown_dump_type" in d.notes


# ------------------------------------------------------- the faulting process

def test_process_name_from_the_eprocess_copy_of_each_layout():
    for build, at, name in [(19041, 0x5A8, "NTRtScan.exe"), (17134, 0x450, "SearchIndexer."), (26100, 0x338, "System"),
                            (7601, 0x2E0, "svchost.exe")]:
        d = read(db.triage_dump(build=build, process=db.eprocess(name, at)))
        assert d.process == name, build
    d = read(db.triage_dump(wide=False, drivers=db.standard_drivers(wide=False), build=7601,
                            process=db.eprocess("TmListen.exe", 0x16C, size=0x2C0, wide=False)))
    assert d.process == "TmListen.exe"


def test_process_name_of_a_build_the_table_does_not_know_is_found_by_its_shape():
    # A future build moved the slot: the one aligned name-shaped field is taken.
    assert read(db.triage_dump(build=27000, process=db.eprocess("MsMpEng.exe", 0x640))).process == "MsMpEng.exe"
    # Two name-shaped fields and none where the layout says: no guess.
    two = bytearray(db.eprocess("MsMpEng.exe", 0x640))
    two[0x700:0x70F] = b"explorer.exe\0\0\0"
    assert read(db.triage_dump(build=27000, process=bytes(two))).process is None


def test_process_copy_that_is_noise_or_cut_off_gives_no_name():
    assert read(db.triage_dump(process=bytes(range(256)) * 10)).process is None
    # The slot is text but not a name's shape (no NUL inside the 15 bytes).
    unended = bytearray(db.eprocess("x.exe", 0x5A8))
    unended[0x5A8:0x5B7] = b"A" * 15
    assert read(db.triage_dump(process=bytes(unended))).process is None
    # ProcessOffset past the end of the file.
    d = read(db.triage_dump(process=db.eprocess("x.exe", 0x5A8), overrides={0x20: 0x7FFFFFF0}))
    assert d.process is None and d.bugcheck.code == 0x1000007E

"""Damaged and hostile dumps: each gets what can be read (the header verdict,
marked partial with a note) or one clear Rejected -- never a traceback, a
hang, or memory that grows with what the file claims."""

from __future__ import annotations

import struct
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.binary.app import read_app_dump
from analysis.binary.kernel import read_kernel_dump
from analysis.intake import Blob, Rejected
from analysis.pipeline import analyze_blobs
from tests import dumpbuild as db
from tests.conftest import judged
from tests.conftest import SHARED

TM = db.Driver("\\SystemRoot\\system32\\drivers\\TmXPFlt.sys", 0xFFFFF80481200000, 0x60000)
MEMORY_LIMIT = 300 << 20


def guarded(reader, blob: bytes):
    """Run a reader and the judge: a report or Rejected, within a memory
    limit (measured by this process's own allocations; time belongs in
    bench/, never in a test that runs under load)."""
    tracemalloc.start()
    try:
        report = judged(reader(blob, "bad.dmp"))
    except Rejected as exc:
        report = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT, peak
    if not isinstance(report, Rejected):
        assert not any("internal" in n for n in report.notes)
    return report


def good_triage() -> bytes:
    return db.triage_dump(drivers=db.standard_drivers([TM]), code=0xD1, params=(0x28, 2, 0, TM.base + 0x44),
                          ip=TM.base + 0x44, stack_words=[db.NT_BASE + 0x10, TM.base + 0x99],
                          unloaded=[("dam.sys", 0xFFFFF80487DE0000, 0xFFFFF80487DFC000)])


def triage_field(blob: bytes, off: int) -> int:
    return struct.unpack_from("<I", blob, 0x2000 + off)[0]


def patched(blob: bytes, at: int, fmt: str, value: int) -> bytes:
    out = bytearray(blob)
    struct.pack_into("<" + fmt, out, at, value)
    return bytes(out)


# ------------------------------------------------------------- truncation

@pytest.mark.parametrize("cut", [8, 0x30, 0x5F])
def test_cut_before_the_bug_check_is_rejected(cut):
    exc = guarded(read_kernel_dump, good_triage()[:cut])
    assert isinstance(exc, Rejected) and "cut off inside its header" in str(exc)


@pytest.mark.parametrize("cut", [0x60, 0x400, 0x1000, 0x1FFF])
def test_cut_inside_the_header_keeps_the_verdict(cut):
    d = guarded(read_kernel_dump, good_triage()[:cut])
    assert d.bugcheck.code == 0xD1 and d.bugcheck.args == [0x28, 2, 0, TM.base + 0x44]
    assert d.partial and "header_truncated" in d.notes and d.kind == "kernel-header-only"


@pytest.mark.parametrize("fraction", [0.2, 0.5, 0.7, 0.9, 0.99])
def test_cut_inside_the_body_keeps_what_fits(fraction):
    blob = good_triage()
    d = guarded(read_kernel_dump, blob[: 0x2000 + int((len(blob) - 0x2000) * fraction)])
    assert d.bugcheck.code == 0xD1
    assert d.partial or d.notes


def test_real_minidump_cut_short():
    path = SHARED / "dumps" / "triage_x64_19041_0x1000007E.dmp"
    if not path.exists():
        pytest.skip("shared test data not present")
    data = path.read_bytes()
    for cut in (0x60, 0x2000, 0x2080, 0xE400, 0x10900, 0x15D20, 0x19500, 0x13A28C):
        d = guarded(read_kernel_dump, data[:cut])
        assert d.bugcheck.code == 0x1000007E
        assert d.partial or cut == 0x13A28C


# ------------------------------------------------------------ blank files

def test_zero_filled_file_is_one_clear_problem():
    outcome = analyze_blobs([Blob("MEMORY.DMP", bytes(64 * 1024))])
    assert not outcome.case.dumps
    assert len(outcome.problems) == 1


def test_signature_then_zeros_is_rejected():
    exc = guarded(read_kernel_dump, b"PAGEDU64" + bytes(0x3000))
    assert isinstance(exc, Rejected) and "nothing to read" in str(exc)
    outcome = analyze_blobs([Blob("x.dmp", b"PAGEDUMP" + bytes(0x2000))])
    assert not outcome.case.dumps and len(outcome.problems) == 1


def test_header_with_a_zero_filled_body():
    blob = bytearray(good_triage())
    blob[0x2000:] = bytes(len(blob) - 0x2000)
    d = guarded(read_kernel_dump, bytes(blob))
    assert d.bugcheck.code == 0xD1 and d.partial


# --------------------------------------------- offsets and counts that lie

@pytest.mark.parametrize("field, value, note", [
    (0x34, 0xFFFFFFFF, "driver_list_truncated"),  # DriverCount: billions of entries
    (0x30, 0xFFFFFFF0, "driver_list_truncated"),  # DriverListOffset past the end
    (0x2C, 0xFFFFFFFF, "stack_clipped"),  # SizeOfCallStack: a 4 GB stack
    (0x28, 0x7FFFFFF0, "stack_clipped"),  # CallStackOffset past the end
    (0x7C, 0x7FFFFFFF, "data_blocks_truncated"),  # DataBlocksCount
    (0x40, 0xFFFFFF00, "broken_driver_unreadable"),  # BrokenDriverOffset past the end
])
def test_triage_fields_that_lie(field, value, note):
    blob = db.triage_dump(drivers=db.standard_drivers([TM]), code=0xD1, params=(0x28, 2, 0, TM.base + 0x44),
                          ip=TM.base + 0x44, stack_words=[TM.base + 0x99], overrides={field: value})
    d = guarded(read_kernel_dump, blob)
    assert d.bugcheck.code == 0xD1
    assert d.partial and note in d.notes


def test_unloaded_count_of_billions():
    blob = good_triage()
    d = guarded(read_kernel_dump, patched(blob, triage_field(blob, 0x18), "I", 0xFFFFFFFF))
    assert d.partial and "unloaded_list_truncated" in d.notes


def test_driver_name_claiming_four_billion_characters():
    blob = good_triage()
    pool = triage_field(blob, 0x38)
    d = guarded(read_kernel_dump, patched(blob, pool, "I", 0xFFFFFFFF))
    assert d.partial and "driver_entries_unreadable" in d.notes
    assert len(d.modules) >= 5


def test_debugger_data_pointing_past_the_end():
    blob = good_triage()
    d = guarded(read_kernel_dump, patched(blob, 0x2000 + 0x70, "I", 0xFFFFFFF0))
    assert d.os.buildlab is None and d.bugcheck.code == 0xD1


def test_bitmap_claiming_two_to_the_sixty_pages():
    blob = db.bitmap_dump(db.kernel_memory(stack_words=[1]), code=0x1A)
    d = guarded(read_kernel_dump, patched(blob, 0x2030, "Q", 1 << 60))
    assert d.bugcheck.code == 0x1A and d.partial


def test_bitmap_first_page_past_the_end():
    blob = db.bitmap_dump(db.kernel_memory(stack_words=[1]), code=0x1A)
    d = guarded(read_kernel_dump, patched(blob, 0x2020, "Q", 1 << 40))
    assert d.partial and "memory_map_unreadable" in d.notes


def test_rdmp_metadata_claiming_exabytes():
    blob = db.rdmp_dump(db.kernel_memory(stack_words=[1]), 8, code=0x1A)
    d = guarded(read_kernel_dump, patched(blob, 0x2010, "Q", 1 << 62))
    assert d.bugcheck.code == 0x1A


def test_full_dump_claiming_billions_of_runs():
    blob = db.full_dump(db.kernel_memory(stack_words=[1]), code=0x1A)
    d = guarded(read_kernel_dump, patched(blob, 0x88, "I", 0xFFFFFFF0))
    assert d.bugcheck.code == 0x1A and "memory_runs_truncated" in d.notes


def test_run_claiming_exabytes_of_pages():
    blob = db.full_dump(db.kernel_memory(stack_words=[1]), code=0x1A)
    d = guarded(read_kernel_dump, patched(blob, 0xA0, "Q", 1 << 62))
    assert d.bugcheck.code == 0x1A


def test_page_tables_all_pointing_at_one_table():
    """A PML4 whose entries point back at itself: the walk must end."""
    k = db.kernel_memory(stack_words=[1])
    pml4 = k.mem.page(k.tables.pml4)
    for i in range(512):
        struct.pack_into("<Q", pml4, i * 8, (k.tables.pml4 << 12) | 3)
    d = guarded(read_kernel_dump, db.bitmap_dump(k, code=0x1A))
    assert d.bugcheck.code == 0x1A and d.partial


def test_self_referencing_module_list_head():
    k = db.kernel_memory(stack_words=[1])
    k.tables.write(k.entries[0], struct.pack("<Q", k.entries[0]))
    d = guarded(read_kernel_dump, db.bitmap_dump(k, code=0x1A))
    assert "module_list_loop" in d.notes and d.partial


# --------------------------------------------------------------- app dumps

APP_MODULES = [db.AppModule("C:\\Program Files (x86)\\Trend Micro\\OfficeScan Client\\NTRtScan.exe", 0x400000, 0x200000),
               db.AppModule("C:\\Windows\\System32\\ntdll.dll", 0x7FFA10000000, 0x1F0000)]


def good_app() -> bytes:
    return db.app_dump(modules=APP_MODULES, address=0x400000 + 0x1234)


def test_app_directory_claiming_billions_of_streams():
    d = guarded(read_app_dump, patched(good_app(), 8, "I", 0xFFFFFFFF))
    assert d.exception_code == 0xC0000005 and "stream_directory_truncated" in d.notes


def test_app_directory_past_the_end():
    exc = guarded(read_app_dump, patched(good_app(), 12, "I", 0xFFFFFF00))
    assert isinstance(exc, Rejected)


def test_app_module_count_of_billions():
    blob = good_app()
    d = guarded(read_app_dump, blob)
    assert d.process == "NTRtScan.exe"
    rva = next(r for t, _, r in struct.iter_unpack("<III", blob[32 : 32 + 48]) if t == 4)
    d = guarded(read_app_dump, patched(blob, rva, "I", 0xFFFFFFFF))
    assert d.partial and "module_list_truncated" in d.notes


@pytest.mark.parametrize("cut", [4, 31, 40, 200, 600])
def test_app_cut_short(cut):
    result = guarded(read_app_dump, good_app()[:cut])
    assert isinstance(result, Rejected) or result.kind == "app-minidump"


# ------------------------------------------------------------------ fuzz

def _bases() -> list[tuple[object, bytes]]:
    k = db.kernel_memory(drivers=db.standard_drivers([TM]), stack_words=[TM.base + 1, db.NT_BASE + 2],
                         unloaded=[("dam.sys", 0xFFFFF80487DE0000, 0xFFFFF80487DFC000)])
    return [
        (read_kernel_dump, good_triage()),
        (read_kernel_dump, db.triage_dump(wide=False, stack_words=[0x82800010], code=0x50)),
        (read_kernel_dump, db.bitmap_dump(k, code=0x1A)),
        (read_kernel_dump, db.full_dump(k, code=0x1A)),
        (read_kernel_dump, db.rdmp_dump(k, 10, code=0x1A)),
        (read_kernel_dump, db.full_dump(db.kernel_memory32(stack_words=[0x82800010]), code=0xD1)),
        (read_app_dump, good_app()),
    ]


BASES = _bases()
# Offsets worth hitting: header fields, the triage/bitmap/RDMP header, the
# first loader structures.
HOT = sorted({*range(0, 0x100, 4), *range(0xF00, 0xFB0, 4), *range(0x2000, 0x2100, 4), *range(0x1000, 0x1070, 4)})


@st.composite
def mutations(draw):
    reader, base = draw(st.sampled_from(BASES))
    blob = bytearray(base)
    for _ in range(draw(st.integers(1, 6))):
        where = draw(st.one_of(st.sampled_from(HOT), st.integers(0, len(blob) - 1)))
        if where >= len(blob):
            continue
        kind = draw(st.sampled_from(["u32", "u64", "byte", "cut"]))
        if kind == "cut":
            del blob[max(where, 8):]
        elif kind == "byte":
            blob[where] = draw(st.integers(0, 255))
        else:
            size = 4 if kind == "u32" else 8
            value = draw(st.sampled_from([0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 0x45474150, 1 << 40, (1 << 64) - 1,
                                          0x2000, 0x10000, len(base), len(base) - 4]))
            chunk = (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
            blob[where : where + size] = chunk[: max(0, len(blob) - where)]
    return reader, bytes(blob)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutations())
def test_fuzzed_dumps_never_crash(case):
    reader, blob = case
    result = guarded(reader, blob)
    assert isinstance(result, Rejected) or result.kind in (
        "kernel-minidump", "kernel-memory-dump", "kernel-header-only", "app-minidump")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(min_size=0, max_size=0x2400), st.sampled_from([b"PAGEDU64", b"PAGEDUMP", b"MDMP\x93\xa7\x00\x00"]))
def test_random_bytes_after_a_signature(tail, signature):
    reader = read_app_dump if signature.startswith(b"MDMP") else read_kernel_dump
    guarded(reader, signature + tail)


def test_fuzz_the_real_minidump():
    path = SHARED / "dumps" / "triage_x64_19041_0x1000007E.dmp"
    if not path.exists():
        pytest.skip("shared test data not present")
    data = path.read_bytes()

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.tuples(st.integers(0x2000, 0x2080), st.sampled_from([0, 0xFFFFFFFF, 0x7FFFFFFF, 0x13A288])),
                    min_size=1, max_size=4))
    def run(edits):
        blob = bytearray(data)
        for at, value in edits:
            struct.pack_into("<I", blob, at - at % 4, value)
        result = guarded(read_kernel_dump, bytes(blob))
        assert result.bugcheck.code == 0x1000007E

    run()

"""MEMORY.DMP (types 1, 5, 6, 8, 9, 10) built from the documented layout:
real x64 page tables, a PsLoadedModuleList to walk, a kernel stack."""

from __future__ import annotations

import mmap
import os
import resource
import struct
import tracemalloc

import pytest

from analysis.binary.header import read_header
from analysis.binary.kernel import read_kernel_dump
from analysis.binary.memory import physical_map
from analysis.binary.view import View
from analysis.intake import open_path
from tests import dumpbuild as db
from tests.conftest import judged

TM = db.Driver("\\SystemRoot\\system32\\drivers\\TmXPFlt.sys", 0xFFFFF80481200000, 0x60000, 0x5A1B2C3D)
VSAPI = db.Driver("\\SystemRoot\\system32\\drivers\\VSApiNt.sys", 0xFFFFF80481400000, 0x1A0000, 0x5A1B2C40)
NV = db.Driver("\\SystemRoot\\System32\\DriverStore\\FileRepository\\nv_dispi.inf_amd64_3621da861144492b\\nvlddmkm.sys",
               0xFFFFF8048B6B0000, 0x25E6000)
DRIVERS = db.standard_drivers([NV, TM, VSAPI])
NT = db.NT_BASE
STACK = [0, NT + 0x3F5A95, 0x41792, NT + 0x2D81C4, VSAPI.base + 0x2D1A, VSAPI.base + 0x5F0,
         NT + 0x21A0C3, TM.base + 0x8C4E]
UNLOADED = [("dam.sys", 0xFFFFF80487DE0000, 0xFFFFF80487DFC000), ("WdBoot.sys", 0xFFFFF80479D30000, 0xFFFFF80479D42000)]
PARAMS = {"code": 0x1A, "params": (0x41792, 0xFFFFF6FB7DBED000, 0x10000, 0)}


def machine(**kw) -> db.KernelMemory:
    kw.setdefault("drivers", DRIVERS)
    kw.setdefault("stack_words", STACK)
    kw.setdefault("unloaded", UNLOADED)
    return db.kernel_memory(**kw)


def read(blob, name: str = "MEMORY.DMP"):
    return judged(read_kernel_dump(blob, name))


def check_walk(d, kind_name: str) -> None:
    assert d.kind == "kernel-memory-dump"
    assert d.dump_type == kind_name
    assert not d.partial, d.notes
    assert d.bugcheck.code == 0x1A and d.bugcheck.args[0] == 0x41792
    loaded = [m for m in d.modules.values() if not m.unloaded]
    assert [m.image for m in loaded] == [x.image for x in DRIVERS]
    assert [(m.base, m.size, m.path) for m in loaded] == [(x.base, x.size, x.path) for x in DRIVERS]
    assert [m.image for m in d.modules.values() if m.unloaded] == ["dam.sys", "WdBoot.sys"]
    assert d.os.buildlab == db.BUILDLAB and d.os.build == 19041
    c = d.culprit
    assert (c.module, c.basis, c.third_party) == ("VSApiNt", "raw_stack", True)
    assert d.third_party_modules == ["VSApiNt", "TmXPFlt"]
    assert "stack: ntoskrnl.exe ×3, VSApiNt.sys ×2, TmXPFlt.sys ×1" in [e.text for e in c.evidence]
    assert "context Rip = ntoskrnl.exe+0x3f5a80" in [e.text for e in c.evidence]
    assert "nvlddmkm.sys" in next(e.text for e in c.evidence if e.kind == "present")


def test_bitmap_dump_with_large_huge_and_transition_pages():
    # Names and loader entries sit in a 1 GB page, ntoskrnl's data in a 2 MB
    # one, and one stack page is only in transition.
    k = machine(huge_pfn=0x40000)
    check_walk(read(db.bitmap_dump(k, **PARAMS)), "kernel bitmap dump")


def test_bitmap_dump_with_small_pages_only():
    k = machine(transition_stack=False)
    check_walk(read(db.bitmap_dump(k, **PARAMS)), "kernel bitmap dump")


def test_live_kernel_bitmap_type_6_and_full_bitmap_signature():
    k = machine()
    check_walk(read(db.bitmap_dump(k, dump_type=6, **PARAMS)), "live kernel bitmap dump")
    check_walk(read(db.bitmap_dump(k, signature=b"FDMP", **PARAMS)), "complete bitmap dump")


def test_full_dump_type_1_runs():
    check_walk(read(db.full_dump(machine(), **PARAMS)), "complete memory dump")


@pytest.mark.parametrize("dump_type, name", [
    (8, "kernel memory dump"), (9, "kernel and user memory dump"), (10, "complete memory dump")])
def test_rdmp_dumps(dump_type, name):
    check_walk(read(db.rdmp_dump(machine(), dump_type, **PARAMS)), name)


def test_code_parameter_in_a_third_party_driver_via_memory_dump():
    fault = NV.base + 0x1C2F4A
    k = machine(ip=fault, stack_words=[NT + 0x40F4E1, fault + 0x40, NV.base + 0x300])
    d = read(db.bitmap_dump(k, code=0xD1, params=(0x28, 2, 0, fault)))
    c = d.culprit
    assert (c.module, c.basis, c.confidence) == ("nvlddmkm", "param", "high")
    assert f"parameter 4 = 0x{fault:x} = nvlddmkm.sys+0x1c2f4a" in [e.text for e in c.evidence]


def test_0xCE_in_the_unloaded_ring_of_a_memory_dump():
    k = machine(unloaded=[("SymEvent.sys", 0xFFFFF80490000000, 0xFFFFF80490030000)])
    d = read(db.bitmap_dump(k, code=0xCE, params=(0xFFFFF80490012345, 8, 0xFFFFF80490012345, 0)))
    assert (d.culprit.module, d.culprit.basis) == ("SymEvent", "unloaded")


def test_module_list_that_loops_keeps_what_was_read():
    k = machine()
    k.tables.write(k.entries[-1], struct.pack("<Q", k.entries[2]))  # last Flink back into the list
    d = read(db.bitmap_dump(k, **PARAMS))
    assert d.partial and "module_list_loop" in d.notes
    assert d.bugcheck.code == 0x1A
    assert len([m for m in d.modules.values() if not m.unloaded]) == len(DRIVERS)
    assert d.culprit.module == "VSApiNt"


def test_module_list_that_leaves_mapped_memory():
    k = machine()
    k.tables.write(k.entries[3], struct.pack("<Q", 0xFFFFC7FF00001000))  # Flink to an unmapped page
    d = read(db.bitmap_dump(k, **PARAMS))
    assert d.partial and "module_list_broken" in d.notes
    assert [m.image for m in d.modules.values() if not m.unloaded] == [x.image for x in DRIVERS[:4]]


def test_page_table_entry_pointing_outside_the_file():
    k = machine()
    k.tables.set_entry(k.entries[4], 1, (0xFFFFFFFFF << 12) | 1)  # PTE of the 5th entry's page
    d = read(db.bitmap_dump(k, **PARAMS))
    assert d.partial and "module_list_broken" in d.notes
    assert d.bugcheck.code == 0x1A


def test_page_directory_outside_the_file_keeps_header_verdict():
    k = machine()
    blob = bytearray(db.bitmap_dump(k, **PARAMS))
    struct.pack_into("<Q", blob, 0x10, 0x7FFFFFFFF000)  # CR3 far past any page in the dump
    d = read(bytes(blob))
    assert d.partial and {"module_list_unreadable", "stack_unreadable"} <= set(d.notes)
    assert d.bugcheck.code == 0x1A and d.modules == {}
    assert d.kind == "kernel-header-only" and d.dump_type == "kernel bitmap dump"
    assert d.culprit.module is None


def test_encoded_debugger_data_is_only_a_note():
    d = read(db.bitmap_dump(machine(kdbg_tag=b"\x9a\x1f\x00\x00"), **PARAMS))
    assert "debugger_data_encoded_or_missing" in d.notes and not d.partial
    assert d.os.buildlab is None and d.os.build == 19041
    assert d.culprit.module == "VSApiNt"


def test_damaged_bitmap_header_keeps_header_verdict():
    blob = bytearray(db.bitmap_dump(machine(), **PARAMS))
    blob[0x2000:0x2004] = b"XXXX"
    d = read(bytes(blob))
    assert d.partial and "memory_map_unreadable" in d.notes and d.bugcheck.code == 0x1A
    assert d.kind == "kernel-header-only"


def test_arm64_memory_dump_is_header_only_for_now():
    d = read(db.bitmap_dump(machine(), machine=db.MACHINE_ARM64, **PARAMS))
    assert d.partial and "arm64_paging_not_supported" in d.notes
    assert d.os.arch == "arm64" and d.bugcheck.code == 0x1A and d.kind == "kernel-header-only"


def test_physical_maps_agree_on_every_page():
    k = machine(huge_pfn=0x40000)
    blobs = [db.bitmap_dump(k), db.full_dump(k), db.rdmp_dump(k, 8), db.rdmp_dump(k, 10)]
    for blob in blobs:
        view = View(blob)
        phys, _ = physical_map(view, read_header(view), [])
        for pfn, page in k.mem.pages.items():
            assert phys.read(pfn << 12, db.PAGE) == bytes(page), (blob[0xF98], hex(pfn))
        assert phys.offset(0x3FFFFF) is None


def test_agrees_with_kdmp_parser(tmp_path):
    kdmp = pytest.importorskip("kdmp_parser")
    k = machine(huge_pfn=0x40000, transition_stack=False)
    for name, blob in [("bmp", db.bitmap_dump(k)), ("full", db.full_dump(k)), ("rdmp", db.rdmp_dump(k, 8))]:
        path = tmp_path / f"{name}.dmp"
        path.write_bytes(blob)
        theirs = kdmp.KernelDumpParser(str(path))
        for va in (k.module_list, k.kdbg, k.entries[0], k.entries[-1], k.sp):
            assert theirs.translate_virtual(va) == k.tables.translate(va)


# ------------------------------------------------------- big sparse files

@pytest.fixture(scope="module")
def big_dumps(tmp_path_factory):
    """The same system in a 64 MiB and in a sparse 4 GiB bitmap dump: all
    pages present, so the 4 GiB one has a 128 KiB bitmap and its structures
    lie near the end of physical memory."""
    folder = tmp_path_factory.mktemp("big")
    small = folder / "MEMORY-64M.DMP"
    large = folder / "MEMORY-4G.DMP"
    db.bitmap_dump(machine(first_pfn=0x1000), total_pages=(64 << 20) // db.PAGE, all_present=True, path=small,
                   **PARAMS)
    db.bitmap_dump(machine(first_pfn=0xF0000), total_pages=(4 << 30) // db.PAGE, all_present=True, path=large,
                   **PARAMS)
    return small, large


def _measured_read(path):
    """The report and the peak of this process's allocations while reading."""
    blob = open_path(str(path))
    try:
        tracemalloc.start()
        report = judged(read_kernel_dump(blob.data, blob.name))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    finally:
        blob.close()
    return report, peak


def test_sparse_4gib_bitmap_dump_costs_what_64mib_does(big_dumps):
    small, large = big_dumps
    assert os.path.getsize(large) > 4 << 30
    assert os.stat(large).st_blocks * 512 < 64 << 20  # sparse: almost nothing on disk
    r_small, m_small = _measured_read(small)
    r_large, m_large = _measured_read(large)
    check_walk(r_small, "kernel bitmap dump")
    check_walk(r_large, "kernel bitmap dump")
    assert m_large < 32 << 20
    assert m_large < m_small + (4 << 20)


def test_mapped_4gib_dump_touches_few_pages(big_dumps):
    """Page faults while reading the mapped file: a whole-file read would
    fault a million pages in; the walk needs a few hundred."""
    _, large = big_dumps
    with open(large, "rb") as fh:
        data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            report = judged(read_kernel_dump(data, "MEMORY.DMP"))
            faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
        finally:
            data.close()
    assert report.culprit.module == "VSApiNt"
    assert faults < 5000, faults


@pytest.mark.parametrize("pae", [True, False])
def test_32bit_complete_dump_walks_x86_page_tables(pae):
    avg = db.Driver("\\SystemRoot\\system32\\drivers\\avgtdix.sys", 0x8F200000, 0x40000)
    drivers = db.standard_drivers([avg], wide=False)
    k = db.kernel_memory32(pae=pae, drivers=drivers, stack_words=[0x82800010, avg.base + 0x1234, 0x8B800055],
                           unloaded=[("dam.sys", 0x90000000, 0x90010000)])
    blob = db.full_dump(k, code=0x1000008E, params=(0xC0000005, avg.base + 0x12C71, 0x9A3F1B20, 0))
    assert blob[:8] == b"PAGEDUMP"
    d = read(blob)
    assert d.kind == "kernel-memory-dump" and d.dump_type == "complete memory dump" and not d.partial, d.notes
    assert [m.image for m in d.modules.values() if not m.unloaded] == [x.image for x in drivers]
    assert d.module("dam").unloaded and d.module("dam").base == 0x90000000
    assert d.os.arch == "x86" and d.os.buildlab.startswith("7601.24545.x86fre")
    c = d.culprit
    assert (c.module, c.basis, c.confidence) == ("avgtdix", "param", "high")
    assert "stack: ntkrnlpa.exe ×1, avgtdix.sys ×1, Ntfs.sys ×1" in [e.text for e in c.evidence]


def test_timestamps_come_from_resident_pe_headers():
    d = read(db.bitmap_dump(machine(), **PARAMS))
    assert d.module("TmXPFlt").timestamp == TM.timestamp and d.module("TmXPFlt").checksum == TM.checksum
    d = read(db.bitmap_dump(machine(pe_headers=False), **PARAMS))
    assert d.module("TmXPFlt").timestamp is None and not d.partial

"""The body of a kernel or complete memory dump (MEMORY.DMP: dump types 1,
5, 6, 8, 9, 10): no driver list is stored, so it is rebuilt from the
crashed system's memory, the way a debugger does it.

1. Find where each physical page sits in the file (physmem).
2. Translate virtual addresses with the saved page tables (paging).
3. Walk PsLoadedModuleList: a circular list of KLDR_DATA_TABLE_ENTRY.
4. Read the faulting thread's stack upward from the context's stack pointer.

Only the pages these steps touch are read; every loop has a cap, and a
list that loops back on itself or leaves the dump ends the walk with a note.
Offsets: ../shared/research/dump-formats.md §3 and §7."""

from __future__ import annotations

from dataclasses import dataclass, field

from analysis.binary.header import (
    MACHINE_ARM64,
    MACHINE_X64,
    MACHINE_X86,
    TYPE_BITMAP_FULL,
    TYPE_BITMAP_KERNEL,
    TYPE_FULL,
    TYPE_RDMP_COMPLETE,
    TYPE_RDMP_KERNEL,
    TYPE_RDMP_KERNEL_USER,
    TYPE_SUMMARY,
    KernelHeader,
)
from analysis.binary.images import Image, image_name
from analysis.binary.paging import (
    MAX_TABLE_READS,
    AddressSpace,
    BudgetExceeded,
    X64Space,
    X86PaeSpace,
    X86Space,
)
from analysis.binary.physmem import BitmapMap, PhysicalMemory, RangeMap, RunMap
from analysis.binary.view import DumpFormatError, View, ascii_z, utf16

MAX_MODULES = 4096
MAX_NAME_BYTES = 2048
STACK_WINDOW = 0x10000  # kernel stacks are 24-72 KB; stop at the first missing page anyway
UNLOADED_SLOTS = 50  # MI_UNLOADED_DRIVERS
KDBG_SIZE = 0x340

_BITMAP_SIGNATURES = (b"SDMP", b"FDMP")
_RDMP_MARKER = 0x40


@dataclass(frozen=True)
class _Ldr:
    """KLDR_DATA_TABLE_ENTRY offsets (only the stable first fields)."""

    length: int
    base: int
    size: int
    full_name: int
    base_name: int
    string_buffer: int  # Buffer inside UNICODE_STRING


_LDR64 = _Ldr(0x68, 0x30, 0x40, 0x48, 0x58, 0x08)
_LDR32 = _Ldr(0x34, 0x18, 0x20, 0x24, 0x2C, 0x04)


@dataclass
class MemoryDump:
    bitmap_signature: str | None = None
    modules: list[Image] = field(default_factory=list)
    unloaded: list[Image] = field(default_factory=list)
    stack_top: int | None = None
    stack: bytes = b""
    buildlab: str | None = None
    notes: list[str] = field(default_factory=list)
    walked: bool = False  # the module list was read to its end


def physical_map(view: View, h: KernelHeader, notes: list[str]) -> tuple[PhysicalMemory, str | None]:
    """The PFN map for this dump type; DumpFormatError if its header is damaged."""
    body = h.size
    t = h.dump_type
    if t == TYPE_FULL:
        if not h.runs:
            raise DumpFormatError("full dump without physical memory runs")
        if h.runs_claimed is not None and h.runs_claimed > len(h.runs):
            notes.append("memory_runs_truncated")
        return RunMap(view, h.runs, body), None
    if t in (TYPE_BITMAP_FULL, TYPE_BITMAP_KERNEL, TYPE_SUMMARY):
        if not h.wide:
            raise DumpFormatError("32-bit bitmap dumps are not supported", "x86_bitmap_not_supported")
        view.need(body, 0x38, "bitmap dump header")
        signature, valid = view.bytes(body, 4), view.bytes(body + 4, 4)
        if signature not in _BITMAP_SIGNATURES or valid != b"DUMP":
            raise DumpFormatError("bitmap dump header has no SDMP/FDMP signature")
        first, bits = view.u64(body + 0x20), view.u64(body + 0x30)
        if first >= view.size:
            raise DumpFormatError("bitmap dump: first page lies past the end of the file")
        if first < body + 0x38 + (bits + 7) // 8:
            notes.append("bitmap_overlaps_pages")
        return BitmapMap(view, body + 0x38, bits, first), signature.decode()
    if t in (TYPE_RDMP_KERNEL, TYPE_RDMP_KERNEL_USER, TYPE_RDMP_COMPLETE):
        if not h.wide:
            raise DumpFormatError("32-bit RDMP dumps do not exist", "x86_rdmp_unexpected")
        view.need(body, 0x30, "RDMP header")
        marker, signature, valid = view.u32(body), view.bytes(body + 4, 4), view.bytes(body + 8, 4)
        if marker != _RDMP_MARKER or signature != b"RDMP" or valid != b"DUMP":
            raise DumpFormatError("RDMP header has a wrong marker or signature")
        metadata, first = view.u64(body + 0x10), view.u64(body + 0x18)
        if not metadata or first >= view.size or first < body + 0x30:
            raise DumpFormatError("RDMP header: metadata size or first page offset out of range")
        # Metadata starts after the 0x20-byte RDMP header; the range list
        # after its first 16 bytes, and it ends where the pages begin.
        entries = min((metadata - 0x10) // 16, (first - body - 0x30) // 16)
        return RangeMap(view, body + 0x30, max(entries, 0), first), None
    raise DumpFormatError(f"dump type {t} holds no memory pages")


def address_space(phys: PhysicalMemory, h: KernelHeader) -> AddressSpace:
    if h.dtb is None:
        raise DumpFormatError("no page directory base in the header", "no_page_directory")
    if h.machine == MACHINE_X64:
        return X64Space(phys, h.dtb)
    if h.machine == MACHINE_X86:
        return X86PaeSpace(phys, h.dtb) if h.pae else X86Space(phys, h.dtb)
    if h.machine == MACHINE_ARM64:
        raise DumpFormatError("ARM64 page tables are not walked yet", "arm64_paging_not_supported")
    raise DumpFormatError(f"page tables of machine 0x{h.machine or 0:x} are not supported", "paging_not_supported")


def read_memory_dump(view: View, h: KernelHeader) -> MemoryDump:
    m = MemoryDump()
    phys, signature = physical_map(view, h, m.notes)
    m.bitmap_signature = signature
    m.notes.extend(phys.notes)
    space = address_space(phys, h)
    ldr = _LDR64 if h.wide else _LDR32
    # Each step gets its own page-table budget, so one hostile structure
    # cannot starve the others.
    for step, failed in ((lambda: _walk_modules(space, h, ldr, m), "module_walk_stopped"),
                         (lambda: _read_debugger_data(space, h, m), "debugger_data_unreadable"),
                         (lambda: _read_stack(space, h, m), "stack_unreadable")):
        space.budget = MAX_TABLE_READS
        try:
            step()
        except BudgetExceeded:
            m.notes.append("page_walk_budget_exceeded")
            m.notes.append(failed)
        except DumpFormatError:
            m.notes.append(failed)
    if not m.stack and "stack_unreadable" not in m.notes:
        m.notes.append("stack_unreadable")
    return m


def _read_stack(space: AddressSpace, h: KernelHeader, m: MemoryDump) -> None:
    if h.sp:
        m.stack_top = h.sp
        m.stack = space.read_prefix(h.sp, STACK_WINDOW)


def _string(space: AddressSpace, raw: bytes, at: int, ldr: _Ldr) -> str | None:
    length = int.from_bytes(raw[at : at + 2], "little")
    buffer = int.from_bytes(raw[at + ldr.string_buffer : at + ldr.string_buffer + space.ptr_size], "little")
    if not length or not buffer:
        return None
    data = space.read(buffer, min(length, MAX_NAME_BYTES) & ~1)
    return utf16(data) if data else None


def _walk_modules(space: AddressSpace, h: KernelHeader, ldr: _Ldr, m: MemoryDump) -> None:
    head = h.module_list
    if not head:
        m.notes.append("no_module_list_head")
        return
    entry = space.ptr(head)
    if entry is None:
        m.notes.append("module_list_unreadable")
        return
    seen: set[int] = set()
    unnamed = 0
    while entry != head:
        if entry in seen:
            m.notes.append("module_list_loop")
            return
        if len(seen) >= MAX_MODULES:
            m.notes.append("module_list_too_long")
            return
        seen.add(entry)
        raw = space.read(entry, ldr.length)
        if raw is None:
            m.notes.append("module_list_broken")
            return
        wide = space.ptr_size
        base = int.from_bytes(raw[ldr.base : ldr.base + wide], "little")
        size = int.from_bytes(raw[ldr.size : ldr.size + 4], "little")
        full = _string(space, raw, ldr.full_name, ldr)
        name = _string(space, raw, ldr.base_name, ldr) or (image_name(full) if full else None)
        if name:
            m.modules.append(Image(image=name, base=base, size=size, path=full))
        else:
            unnamed += 1
        entry = int.from_bytes(raw[0:wide], "little")
    m.walked = True
    if unnamed:
        m.notes.append("module_names_unreadable")
    for img in m.modules:
        _read_pe_stamp(space, img)


def _read_pe_stamp(space: AddressSpace, img: Image) -> None:
    """TimeDateStamp and CheckSum from the image's own PE header, when its
    first page is resident (it usually is for drivers)."""
    dos = space.read(img.base, 0x40)
    if dos is None or dos[:2] != b"MZ":
        return
    pe_at = int.from_bytes(dos[0x3C:0x40], "little")
    if not 0x40 <= pe_at <= 0x1000 - 0x60:
        return
    pe = space.read(img.base + pe_at, 0x60)
    if pe is None or pe[:4] != b"PE\x00\x00":
        return
    img.timestamp = int.from_bytes(pe[8:12], "little") or None
    img.checksum = int.from_bytes(pe[0x58:0x5C], "little") or None


def _read_debugger_data(space: AddressSpace, h: KernelHeader, m: MemoryDump) -> None:
    """KDDEBUGGER_DATA64, when the kernel left it unencoded: NtBuildLab
    (+0x208) and the unloaded-driver ring (+0x220 MmUnloadedDrivers)."""
    if not h.kdbg:
        return
    raw = space.read(h.kdbg, KDBG_SIZE)
    if raw is None or raw[0x10:0x14] != b"KDBG":
        m.notes.append("debugger_data_encoded_or_missing")
        return
    mask = (1 << 64) - 1 if h.wide else 0xFFFFFFFF
    lab_at = int.from_bytes(raw[0x208:0x210], "little") & mask
    lab = ascii_z(space.read_prefix(lab_at, 128)).strip() if lab_at else ""
    if lab and lab.isprintable():
        m.buildlab = lab
    variable = int.from_bytes(raw[0x220:0x228], "little") & mask
    array_at = space.ptr(variable) if variable else None
    if not array_at:
        return
    p = space.ptr_size
    size = 0x28 if h.wide else 0x18  # UNICODE_STRING, start, end, time
    table = space.read_prefix(array_at, UNLOADED_SLOTS * size)
    name_buffer = 8 if h.wide else 4
    for i in range(len(table) // size):
        e = table[i * size : (i + 1) * size]
        length = int.from_bytes(e[0:2], "little")
        buffer = int.from_bytes(e[name_buffer : name_buffer + p], "little")
        start = int.from_bytes(e[size - 8 - 2 * p : size - 8 - p], "little")
        end = int.from_bytes(e[size - 8 - p : size - 8], "little")
        if not length or not buffer or end <= start:
            continue
        data = space.read(buffer, min(length, 512) & ~1)
        if data:
            name = image_name(utf16(data))
            if name:
                m.unloaded.append(Image(image=name, base=start, size=end - start, unloaded=True))

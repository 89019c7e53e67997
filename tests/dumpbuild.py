"""Synthetic crash dumps built from the documented layout
(../shared/research/dump-formats.md), for the tests and the bench.

Nothing here is copied from a real dump: every file is assembled field by
field, so each test states exactly what the reader must find.

- ``triage_dump``: a small memory dump (type 4), 64-bit or 32-bit.
- ``KernelMemory``: a little x64 machine -- physical pages, 4-level page
  tables (4 KB, 2 MB and 1 GB mappings, transition PTEs), a
  PsLoadedModuleList of KLDR_DATA_TABLE_ENTRYs with UNICODE_STRING names, a
  KDDEBUGGER_DATA64 block, the unloaded-driver ring and a kernel stack --
  serialised as a bitmap (5/6), full (1) or RDMP (8/9/10) MEMORY.DMP.
- ``app_dump``: a user-mode MDMP.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime

PAGE = 0x1000
FILL = b"PAGE"

MACHINE_X64, MACHINE_X86, MACHINE_ARM64 = 0x8664, 0x14C, 0xAA64

# A crash time and uptime used unless a test says otherwise.
CRASH_TIME = datetime(2024, 3, 1, 10, 0, 5, tzinfo=UTC)
UPTIME_100NS = 12 * 3600 * 10**7 + 34 * 60 * 10**7 + 56 * 10**7 + 7 * 10**6  # 0 days 12:34:56.7

NT_BASE = 0xFFFFF8047BA00000
NT_SIZE = 0x1046000
BUILDLAB = "19041.1.amd64fre.vb_release.191206-1406"


def filetime(when: datetime) -> int:
    return int((when - datetime(1601, 1, 1, tzinfo=UTC)).total_seconds() * 10**7)


def _align(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def _put(buf: bytearray, off: int, fmt: str, *values) -> None:
    struct.pack_into("<" + fmt, buf, off, *values)


@dataclass
class Driver:
    path: str
    base: int
    size: int
    timestamp: int = 0x5F1E2D3C
    checksum: int = 0x1A2B3

    @property
    def image(self) -> str:
        return self.path.rsplit("\\", 1)[-1]


def standard_drivers(extra: list[Driver] | None = None, wide: bool = True) -> list[Driver]:
    """ntoskrnl and hal first (as Windows lists them), then a few in-box
    drivers, then ``extra``."""
    if wide:
        rows = [
            Driver("\\SystemRoot\\system32\\ntoskrnl.exe", NT_BASE, NT_SIZE, 0xA3B2C1D0, 0xA5938C),
            Driver("\\SystemRoot\\system32\\hal.dll", 0xFFFFF8047B900000, 0x100000, 0x9E8D7C6B),
            Driver("\\SystemRoot\\System32\\drivers\\ACPI.sys", 0xFFFFF80478A00000, 0xD0000),
            Driver("\\SystemRoot\\System32\\drivers\\Wdf01000.sys", 0xFFFFF80478800000, 0x100000),
            Driver("\\SystemRoot\\System32\\Drivers\\Ntfs.sys", 0xFFFFF80479000000, 0x2D0000),
            Driver("\\SystemRoot\\System32\\drivers\\fltmgr.sys", 0xFFFFF80478600000, 0x80000),
        ]
    else:
        rows = [
            Driver("\\SystemRoot\\system32\\ntkrnlpa.exe", 0x82800000, 0x420000),
            Driver("\\SystemRoot\\system32\\halmacpi.dll", 0x82C20000, 0x40000),
            Driver("\\SystemRoot\\system32\\drivers\\ACPI.sys", 0x8B600000, 0x50000),
            Driver("\\SystemRoot\\System32\\Drivers\\Ntfs.sys", 0x8B800000, 0x130000),
            Driver("\\SystemRoot\\System32\\drivers\\fltmgr.sys", 0x8B700000, 0x40000),
        ]
    return rows + list(extra or [])


# ---------------------------------------------------------------- headers

def kernel_header(*, wide: bool = True, machine: int | None = None, build: int = 19041, code: int = 0x1000007E,
                  params: tuple = (0, 0, 0, 0), dump_type: int = 4, dtb: int = 0, module_list: int = 0,
                  kdbg: int = 0, ip: int = 0, sp: int = 0, cpus: int = 8, when: datetime = CRASH_TIME,
                  uptime: int = UPTIME_100NS, product_type: int = 1, runs: list[tuple[int, int]] | None = None,
                  major: int = 0xF, attributes: int | None = None, pae: bool = True) -> bytearray:
    """DUMP_HEADER64 (0x2000) or DUMP_HEADER32 (0x1000), 'PAGE'-filled where unset."""
    size = 0x2000 if wide else 0x1000
    h = bytearray(FILL * (size // 4))
    machine = machine or (MACHINE_X64 if wide else MACHINE_X86)
    if wide:
        h[0:8] = b"PAGEDU64"
        _put(h, 0x08, "II", major, build)
        _put(h, 0x10, "QQQQ", dtb, 0xFFFFD28000000000, module_list, 0)
        _put(h, 0x30, "III", machine, cpus, code)
        _put(h, 0x40, "4Q", *params)
        _put(h, 0x80, "Q", kdbg)
        if runs is not None:
            _put(h, 0x88, "IIQ", len(runs), 0, sum(c for _, c in runs))
            for i, (base, count) in enumerate(runs):
                _put(h, 0x98 + i * 16, "QQ", base, count)
        ctx = 0x348
        h[ctx : ctx + 0x4D0] = bytes(0x4D0)
        if machine == MACHINE_ARM64:
            _put(h, ctx + 0x100, "QQ", sp, ip)
        else:
            _put(h, ctx + 0x30, "I", 0x10001F)
            _put(h, ctx + 0x98, "Q", sp)
            _put(h, ctx + 0xF8, "Q", ip)
        h[0xF00:0xF98] = bytes(0x98)
        _put(h, 0xF00, "I", 0x80000003)
        _put(h, 0xF10, "Q", NT_BASE + 0x3F5A80)
        _put(h, 0xF98, "II", dump_type, 0)
        _put(h, 0xFA0, "QQ", 0, filetime(when))
        _put(h, 0x1030, "Q", uptime)
        _put(h, 0x1038, "I", 0xCFF if dump_type == 4 else 0)
        _put(h, 0x1040, "III", product_type, 0x110, 0)
        if attributes is not None:
            _put(h, 0x1050, "I", attributes)
    else:
        h[0:8] = b"PAGEDUMP"
        _put(h, 0x08, "II", major, build)
        _put(h, 0x10, "IIII", dtb, 0x84000000, module_list, 0)
        _put(h, 0x20, "III", machine, cpus, code)
        _put(h, 0x2C, "4I", *[p & 0xFFFFFFFF for p in params])
        _put(h, 0x5C, "BB", 1 if pae else 0, 0)
        _put(h, 0x60, "I", kdbg)
        if runs is not None:
            _put(h, 0x64, "II", len(runs), sum(c for _, c in runs))
            for i, (base, count) in enumerate(runs):
                _put(h, 0x6C + i * 8, "II", base, count)
        ctx = 0x320
        h[ctx : ctx + 0x2CC] = bytes(0x2CC)
        _put(h, ctx + 0xB8, "I", ip)
        _put(h, ctx + 0xC4, "I", sp)
        h[0x7D0:0x820] = bytes(0x50)
        _put(h, 0x7D0, "I", 0x80000003)
        _put(h, 0xF88, "II", dump_type, 0xCFF if dump_type == 4 else 0)
        _put(h, 0xF94, "III", product_type, 0x110, 0)
        _put(h, 0xFA0, "Q", 0)
        _put(h, 0xFB8, "QQ", uptime, filetime(when))
        if attributes is not None:
            _put(h, 0x8A0, "I", attributes)
    return h


# ----------------------------------------------------------- small dumps

def _dump_string(text: str) -> bytes:
    raw = struct.pack("<I", len(text)) + text.encode("utf-16-le") + b"\x00\x00"
    return raw + bytes(_align(len(raw), 8) - len(raw))


def eprocess(name: str, at: int, size: int = 0xA40, wide: bool = True) -> bytes:
    """An EPROCESS copy: kernel pointers and small counts throughout, as a
    real one holds, and ``name`` in the ImageFileName slot at ``at``."""
    pointer = 0xFFFFA0818D9F6E68 if wide else 0x8D9F6E68
    words = [pointer + 0x40 * i if i % 3 else i for i in range(size // (8 if wide else 4))]
    raw = bytearray(struct.pack(f"<{len(words)}{'Q' if wide else 'I'}", *words))
    raw[at : at + 15] = name.encode("ascii")[:14].ljust(15, b"\0")
    return bytes(raw)


def triage_dump(*, wide: bool = True, drivers: list[Driver] | None = None,
                unloaded: list[tuple[str, int, int]] = (), stack_top: int | None = None,
                stack_words: list[int] = (), code: int = 0x1000007E, params: tuple = (0, 0, 0, 0),
                ip: int = 0, sp: int | None = None, broken: int | None = None, buildlab: str | None = BUILDLAB,
                build: int = 19041, machine: int | None = None, cpus: int = 8, when: datetime = CRASH_TIME,
                uptime: int = UPTIME_100NS, product_type: int = 1, attributes: int | None = None,
                process: bytes | None = None, overrides: dict[int, int] | None = None) -> bytes:
    """A small memory dump.  ``process`` is the raw EPROCESS copy (see
    eprocess()), followed by an ETHREAD copy as Windows writes them.
    ``overrides`` maps a TRIAGE_DUMP field offset to a ULONG to write over
    the computed value (for the malformed shapes)."""
    drivers = drivers if drivers is not None else standard_drivers(wide=wide)
    pf = "Q" if wide else "I"
    if stack_top is None:
        stack_top = 0xFFFF850429890EE8 if wide else 0x8D3F1C00
    hsize = 0x2000 if wide else 0x1000
    tsize = 0x80 if wide else 0x68
    body = bytearray()

    def place(blob: bytes, align: int = 8) -> int:
        nonlocal body
        body += bytes(_align(len(body), align) - len(body))
        at = hsize + tsize + len(body)
        body += blob
        return at

    # Unloaded drivers: count, then fixed entries with the name cut to 12 characters.
    entry_size = 0x38 if wide else 0x28
    ul = bytearray(struct.pack("<I", len(unloaded)) + (bytes(4) if wide else b""))
    for name, start, end in unloaded:
        e = bytearray(entry_size)
        _put(e, 0, "HH", len(name) * 2, len(name) * 2)
        short = name[:12].encode("utf-16-le")
        e[(0x10 if wide else 0x08) : (0x10 if wide else 0x08) + len(short)] = short
        _put(e, 0x28 if wide else 0x20, pf * 2, start, end)
        ul += e
    unloaded_at = place(bytes(ul))

    stack = struct.pack(f"<{len(stack_words)}{pf}", *stack_words)
    stack_at = place(stack)
    process_at = thread_at = 0
    if process is not None:
        process_at = place(process)
        thread_at = place(bytes(0x500 if wide else 0x2C0))

    stride = 0x90 if wide else 0x4C
    driver_at = place(bytes(stride * len(drivers)))
    pool_at = hsize + tsize + _align(len(body), 8)
    names = []
    for d in drivers:
        names.append(place(_dump_string(d.path)))
    pool_end = hsize + tsize + len(body)
    for i, d in enumerate(drivers):
        e = bytearray(stride)
        _put(e, 0, "I", names[i])
        if wide:
            _put(e, 0x38, "Q", d.base)
            _put(e, 0x48, "I", d.size)
            _put(e, 0x80, "I", d.checksum)
            _put(e, 0x88, "I", d.timestamp)
        else:
            _put(e, 0x1C, "I", d.base)
            _put(e, 0x24, "I", d.size)
            _put(e, 0x44, "I", d.checksum)
            _put(e, 0x48, "I", d.timestamp)
        off = driver_at - hsize - tsize
        body[off + i * stride : off + (i + 1) * stride] = e
    broken_at = driver_at + broken * stride if broken is not None else 0

    # KDDEBUGGER_DATA64 copy, and the NtBuildLab string it points at as a data block.
    lab_va = NT_BASE + 0xC4C0A0 if wide else 0x82B4C0A0
    kd = bytearray(0x380)
    kd[0x10:0x14] = b"KDBG"
    _put(kd, 0x14, "I", 0x380)
    sign = (lambda v: v) if wide else (lambda v: v | 0xFFFFFFFF00000000 if v & 0x80000000 else v)
    _put(kd, 0x18, "Q", sign(drivers[0].base if drivers else 0))
    _put(kd, 0x208, "Q", sign(lab_va))
    kd_at = place(bytes(kd))
    blocks = []
    if buildlab is not None:
        lab_at = place(buildlab.encode() + b"\x00", 8)
        blocks.append((lab_va, lab_at, len(buildlab) + 1))
    code_va = ip & ~0xFFF
    if ip:
        blocks.append((code_va, place(bytes(range(256)) * 16, 8), PAGE))
    block_fmt = "QII" if wide else "III"
    blocks_at = place(b"".join(struct.pack("<" + block_fmt, *b) for b in blocks))
    valid_at = hsize + tsize + _align(len(body), 4)
    place(b"TRGD", 4)
    size_of_dump = hsize + tsize + len(body)

    t = bytearray(tsize)
    _put(t, 0, "18I", 0, size_of_dump, valid_at, 0x348 if wide else 0x320, 0xF00 if wide else 0x7D0, 0,
         unloaded_at, 0, process_at, thread_at, stack_at, len(stack), driver_at, len(drivers), pool_at, pool_end - pool_at,
         broken_at, 0xFFFFFFFF)
    if wide:
        _put(t, 0x48, "Q", stack_top)
        _put(t, 0x70, "IIII", kd_at, 0x380, blocks_at, len(blocks))
    else:
        _put(t, 0x48, "I", stack_top)
        _put(t, 0x58, "IIII", kd_at, 0x380, blocks_at, len(blocks))
    for off, value in (overrides or {}).items():
        _put(t, off, "I", value)
    header = kernel_header(wide=wide, machine=machine, build=build, code=code, params=params, dump_type=4,
                           module_list=NT_BASE + 0xC2A300 if wide else 0x82B2A300,
                           kdbg=NT_BASE + 0xC00000 if wide else 0x82B00000, ip=ip,
                           sp=sp if sp is not None else stack_top, cpus=cpus, when=when, uptime=uptime,
                           product_type=product_type, attributes=attributes)
    return bytes(header + t + body)


# ------------------------------------------------------------ memory dumps

class Memory:
    """Physical pages of the synthetic machine, allocated upward from ``first_pfn``."""

    def __init__(self, first_pfn: int = 0x100) -> None:
        self.pages: dict[int, bytearray] = {}
        self.cursor = first_pfn

    def alloc(self, align: int = 1) -> int:
        self.cursor = _align(self.cursor, align)
        pfn = self.cursor
        self.cursor += align
        self.pages.setdefault(pfn, bytearray(PAGE))
        return pfn

    def page(self, pfn: int) -> bytearray:
        return self.pages.setdefault(pfn, bytearray(PAGE))

    def write(self, pa: int, data: bytes) -> None:
        while data:
            n = min(len(data), PAGE - (pa & 0xFFF))
            self.page(pa >> 12)[pa & 0xFFF : (pa & 0xFFF) + n] = data[:n]
            pa, data = pa + n, data[n:]


class X64Tables:
    """Four-level page tables in ``mem``; ``write`` puts bytes at a virtual address."""

    PRESENT, WRITE, LARGE, TRANSITION = 1, 2, 0x80, 0x800

    def __init__(self, mem: Memory) -> None:
        self.mem = mem
        self.pml4 = mem.alloc()
        self.dtb = self.pml4 << 12

    def _next(self, table_pfn: int, index: int) -> int:
        raw = self.mem.page(table_pfn)
        entry = struct.unpack_from("<Q", raw, index * 8)[0]
        if entry & self.PRESENT and not entry & self.LARGE:
            return entry >> 12 & 0xFFFFFFFFFF
        pfn = self.mem.alloc()
        struct.pack_into("<Q", raw, index * 8, (pfn << 12) | self.PRESENT | self.WRITE)
        return pfn

    def _path(self, va: int, depth: int) -> tuple[int, int]:
        table = self.pml4
        for shift in (39, 30, 21, 12)[: depth - 1]:
            table = self._next(table, (va >> shift) & 0x1FF)
        shift = (39, 30, 21, 12)[depth - 1]
        return table, (va >> shift) & 0x1FF

    def set_entry(self, va: int, level: int, value: int) -> None:
        """Raw entry at ``level`` (4 = PML4 ... 1 = PTE) for ``va``."""
        table, index = self._path(va, 5 - level)
        struct.pack_into("<Q", self.mem.page(table), index * 8, value)

    def map(self, va: int, pfn: int, transition: bool = False) -> None:
        flags = self.TRANSITION if transition else self.PRESENT | self.WRITE
        self.set_entry(va, 1, (pfn << 12) | flags)

    def map_large(self, va: int, pfn: int) -> None:
        self.set_entry(va, 2, (pfn << 12) | self.PRESENT | self.WRITE | self.LARGE)

    def map_huge(self, va: int, pfn: int) -> None:
        self.set_entry(va, 3, (pfn << 12) | self.PRESENT | self.WRITE | self.LARGE)

    def translate(self, va: int) -> int | None:
        table = self.pml4
        for shift, level in ((39, 4), (30, 3), (21, 2), (12, 1)):
            entry = struct.unpack_from("<Q", self.mem.page(table), ((va >> shift) & 0x1FF) * 8)[0]
            mapped = entry & self.PRESENT or (level == 1 and entry & self.TRANSITION)
            if not mapped:
                return None
            frame = entry & 0x000FFFFFFFFFF000
            if level in (3, 2) and entry & self.LARGE:
                span = (1 << shift) - 1
                return (frame & ~span) | (va & span)
            if level == 1:
                return frame | (va & 0xFFF)
            table = frame >> 12
        return None

    def write(self, va: int, data: bytes) -> None:
        while data:
            n = min(len(data), PAGE - (va & 0xFFF))
            pa = self.translate(va)
            assert pa is not None, f"VA 0x{va:x} not mapped"
            self.mem.write(pa, data[:n])
            va, data = va + n, data[n:]


@dataclass
class KernelMemory:
    """A crashed x64 system in memory, ready to be written as a MEMORY.DMP."""

    mem: Memory
    tables: X64Tables
    module_list: int
    kdbg: int
    ip: int
    sp: int
    drivers: list[Driver]
    entries: list[int] = field(default_factory=list)  # VA of each KLDR entry
    wide: bool = True
    pae: bool = False

    @property
    def dtb(self) -> int:
        return self.tables.dtb


def pe_header(timestamp: int, checksum: int) -> bytes:
    """The first bytes of a PE image: 'MZ', e_lfanew, 'PE', the file header's
    TimeDateStamp and the optional header's CheckSum."""
    page = bytearray(0x200)
    page[0:2] = b"MZ"
    _put(page, 0x3C, "I", 0xE8)
    page[0xE8:0xEC] = b"PE\x00\x00"
    _put(page, 0xE8 + 4, "HHI", 0x8664, 6, timestamp)
    _put(page, 0xE8 + 0x18 + 0x40, "I", checksum)
    return bytes(page)


NT_DATA = NT_BASE + 0xC00000  # a 2 MB-aligned data section of ntoskrnl, mapped with a large page
POOL = 0xFFFFC00000000000  # loader entries and names: 1 GB-aligned, mapped with a huge page or 4 KB pages
STACK_BASE = 0xFFFF850429893000  # top (highest address) of the faulting thread's stack
STACK_PAGES = 6


def _write_kdbg(t, kdbg: int, tag: bytes, drivers, head: int, buildlab, lab_va: int, unloaded_var: int,
                last_unloaded: int, sign) -> None:
    """The KDDEBUGGER_DATA64 block (pointers through ``sign``) and the build string it points at."""
    kd = bytearray(0x380)
    kd[0x10:0x14] = tag
    _put(kd, 0x14, "I", 0x380)
    _put(kd, 0x18, "Q", sign(drivers[0].base if drivers else 0))
    _put(kd, 0x48, "Q", sign(head))
    _put(kd, 0x208, "Q", sign(lab_va) if buildlab else 0)
    _put(kd, 0x220, "QQ", sign(unloaded_var), sign(last_unloaded))
    t.write(kdbg, bytes(kd))
    if buildlab:
        t.write(lab_va, buildlab.encode() + b"\x00")


def _write_unloaded_ring(t, ring: int, unloaded, entry_size: int, entry) -> None:
    """MmUnloadedDrivers' ring of 50 entries; ``entry(length, name_va, start, end)``
    gives one entry's struct format and values."""
    ring_bytes = bytearray(50 * entry_size)
    name_va = ring + len(ring_bytes)
    for i, (name, start, end) in enumerate(unloaded):
        raw = name.encode("utf-16-le")
        t.write(name_va, raw)
        fmt, *values = entry(len(raw), name_va, start, end)
        _put(ring_bytes, i * entry_size, fmt, *values)
        name_va = _align(name_va + len(raw), 8)
    t.write(ring, bytes(ring_bytes))


def kernel_memory(*, drivers: list[Driver] | None = None, unloaded: list[tuple[str, int, int]] = (),
                  stack_words: list[int] = (), ip: int = NT_BASE + 0x3F5A80, first_pfn: int = 0x100,
                  huge_pfn: int | None = None, buildlab: str | None = BUILDLAB, kdbg_tag: bytes = b"KDBG",
                  transition_stack: bool = True, pe_headers: bool = True) -> KernelMemory:
    """Lay out the kernel structures a reader needs, through real page tables."""
    mem = Memory(first_pfn)
    t = X64Tables(mem)
    drivers = drivers if drivers is not None else standard_drivers()

    large = mem.alloc(align=512)  # 2 MB of physical memory, only touched pages are stored
    mem.cursor = large + 512
    t.map_large(NT_DATA, large)
    head = NT_DATA + 0x2A300
    kdbg = NT_DATA + 0x4C000
    lab_va = NT_DATA + 0x4C400
    unloaded_var = NT_DATA + 0x2A308
    last_unloaded = NT_DATA + 0x2A310

    # Loader entries: 0xA0 bytes each, then their names, then the unloaded ring.
    entries, cursor = [], POOL + 0x100
    for d in drivers:
        entries.append(cursor)
        cursor += 0xA0
    names_at = cursor
    ring = _align(cursor + sum(2 * (len(d.path) + len(d.image)) + 16 for d in drivers), PAGE)
    if huge_pfn is not None:
        t.map_huge(POOL, huge_pfn)
    else:
        for va in range(POOL, ring + 2 * PAGE + 50 * 64, PAGE):
            t.map(va, mem.alloc())
    for i, d in enumerate(drivers):
        full = d.path.encode("utf-16-le")
        base_name = d.image.encode("utf-16-le")
        full_va, names_at = names_at, _align(names_at + len(full) + 2, 8)
        base_va, names_at = names_at, _align(names_at + len(base_name) + 2, 8)
        t.write(full_va, full + b"\x00\x00")
        t.write(base_va, base_name + b"\x00\x00")
        e = bytearray(0xA0)
        nxt = entries[i + 1] if i + 1 < len(entries) else head
        prv = entries[i - 1] if i else head
        _put(e, 0x00, "QQ", nxt, prv)
        _put(e, 0x30, "QQI", d.base, d.base + 0x1000, d.size)
        _put(e, 0x48, "HHIQ", len(full), len(full) + 2, 0, full_va)
        _put(e, 0x58, "HHIQ", len(base_name), len(base_name) + 2, 0, base_va)
        t.write(entries[i], bytes(e))
    t.write(head, struct.pack("<QQ", entries[0] if entries else head, entries[-1] if entries else head))
    if pe_headers:
        for d in drivers:
            if t.translate(d.base) is None:
                t.map(d.base, mem.alloc())
            t.write(d.base, pe_header(d.timestamp, d.checksum))

    _write_kdbg(t, kdbg, kdbg_tag, drivers, head, buildlab, lab_va, unloaded_var, last_unloaded, sign=lambda v: v)
    # MmUnloadedDrivers -> ring of 50 UNLOADED_DRIVERS {UNICODE_STRING, start, end, time}.
    _write_unloaded_ring(t, ring, unloaded, 0x28, lambda n, va, s, e: ("HHIQQQQ", n, n, 0, va, s, e, 0))
    t.write(unloaded_var, struct.pack("<Q", ring))
    t.write(last_unloaded, struct.pack("<I", len(unloaded)))

    # The faulting thread's stack; one page only in transition (still in RAM).
    low = STACK_BASE - STACK_PAGES * PAGE
    for i in range(STACK_PAGES):
        t.map(low + i * PAGE, mem.alloc(), transition=transition_stack and i == 1)
    sp = low + 0x120
    t.write(sp, struct.pack(f"<{len(stack_words)}Q", *stack_words))
    return KernelMemory(mem, t, head, kdbg, ip, sp, drivers, entries)


def _memory_header(k: KernelMemory, dump_type: int, **kw) -> bytearray:
    kw.setdefault("code", 0x1000007E)
    if not k.wide:
        kw.setdefault("pae", k.pae)
        kw.setdefault("build", 7601)
    return kernel_header(wide=k.wide, dump_type=dump_type, dtb=k.dtb, module_list=k.module_list, kdbg=k.kdbg,
                         ip=k.ip, sp=k.sp, **kw)


def bitmap_dump(k: KernelMemory, *, total_pages: int | None = None, dump_type: int = 5,
                signature: bytes = b"SDMP", path=None, all_present: bool = False, **header) -> bytes | None:
    """Type 5/6: BMP header, bitmap, then present pages in PFN order.  With
    ``all_present`` every page of ``total_pages`` is in the file (the RAM of
    a real machine), and with ``path`` the file is written sparse: only the
    pages holding data are written, the rest stay holes."""
    top = max(k.mem.pages) + 1
    total = max(total_pages or 0, top)
    present = range(total) if all_present else sorted(k.mem.pages)
    bitmap = bytearray(_align(total, 8) // 8)
    if all_present:
        bitmap[: total // 8] = b"\xff" * (total // 8)
        for pfn in range(total // 8 * 8, total):
            bitmap[pfn // 8] |= 1 << (pfn % 8)
    else:
        for pfn in present:
            bitmap[pfn // 8] |= 1 << (pfn % 8)
    first = 0x2038 + len(bitmap)
    bmp = bytearray(0x38)
    bmp[0:4], bmp[4:8] = signature, b"DUMP"
    _put(bmp, 0x20, "QQQ", first, len(present), total)
    head = bytes(_memory_header(k, dump_type, **header) + bmp + bitmap)
    if path is None:
        assert not all_present or total <= 1 << 16, "write large dumps to a file"
        if all_present:
            out = bytearray(head) + bytearray(total * PAGE)
            for pfn, page in k.mem.pages.items():
                out[first + pfn * PAGE : first + (pfn + 1) * PAGE] = page
            return bytes(out)
        return head + b"".join(bytes(k.mem.pages[pfn]) for pfn in present)
    with open(path, "wb") as fh:
        fh.write(head)
        if all_present:
            for pfn in sorted(k.mem.pages):
                fh.seek(first + pfn * PAGE)
                fh.write(k.mem.pages[pfn])
            fh.truncate(first + total * PAGE)
        else:
            for pfn in present:
                fh.write(k.mem.pages[pfn])
    return None


def _ranges(pfns: list[int]) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for pfn in pfns:
        if out and out[-1][0] + out[-1][1] == pfn:
            out[-1][1] += 1
        else:
            out.append([pfn, 1])
    return [(a, b) for a, b in out]


def full_dump(k: KernelMemory, **header) -> bytes:
    """Type 1: the header's PhysicalMemoryBlock runs, pages from 0x2000 in run order."""
    pfns = sorted(k.mem.pages)
    runs = _ranges(pfns)
    assert len(runs) <= (42 if k.wide else 86), "more runs than the header holds"
    return bytes(_memory_header(k, 1, runs=runs, **header)) + b"".join(bytes(k.mem.pages[p]) for p in pfns)


def rdmp_dump(k: KernelMemory, dump_type: int = 8, **header) -> bytes:
    """Types 8-10: RDMP header, metadata (16 bytes then PFN ranges), pages from
    FirstPageOffset in range order.  FirstPageOffset = 0x2020 + MetadataSize,
    the relation kdmp-parser checks."""
    pfns = sorted(k.mem.pages)
    ranges = _ranges(pfns)
    first = _align(0x2030 + (len(ranges) + 1) * 16, PAGE)
    metadata = first - 0x2020
    r = bytearray(first - 0x2000)
    _put(r, 0, "I4s4sIQQ", 0x40, b"RDMP", b"DUMP", 0, metadata, first)
    if dump_type == 10:
        _put(r, 0x20, "IHHQ", len(ranges), 0, 0, len(pfns))
    for i, (pfn, count) in enumerate(ranges):
        _put(r, 0x30 + i * 16, "QQ", pfn, count)
    return bytes(_memory_header(k, dump_type, **header) + r) + b"".join(bytes(k.mem.pages[p]) for p in pfns)


class X86Tables(X64Tables):
    """32-bit x86 page tables: PAE (4-entry PDPT, 512 x 8-byte entries, 2 MB
    large pages) or classic (1024 x 4-byte entries, 4 MB large pages)."""

    def __init__(self, mem: Memory, pae: bool) -> None:
        self.mem, self.pae = mem, pae
        self.top = mem.alloc()
        self.pml4 = self.top
        self.dtb = self.top << 12

    def _levels(self, va: int) -> list[tuple[int, int, int]]:
        """(shift, index mask, entry size) from the top level down."""
        if self.pae:
            return [(30, 3, 8), (21, 0x1FF, 8), (12, 0x1FF, 8)]
        return [(22, 0x3FF, 4), (12, 0x3FF, 4)]

    def _entry_at(self, table: int, va: int, level: tuple[int, int, int]) -> tuple[bytearray, int, int]:
        shift, mask, size = level
        return self.mem.page(table), ((va >> shift) & mask) * size, size

    def _set(self, va: int, depth: int, value: int) -> None:
        levels = self._levels(va)
        table = self.top
        for level in levels[:depth]:
            page, off, size = self._entry_at(table, va, level)
            entry = int.from_bytes(page[off : off + size], "little")
            if not entry & self.PRESENT:
                nxt = self.mem.alloc()
                entry = (nxt << 12) | self.PRESENT | (0 if (self.pae and level is levels[0]) else self.WRITE)
                page[off : off + size] = entry.to_bytes(size, "little")
            table = (entry & 0x000FFFFFFFFFF000) >> 12
        page, off, size = self._entry_at(table, va, levels[depth])
        page[off : off + size] = value.to_bytes(size, "little")

    def map(self, va: int, pfn: int, transition: bool = False) -> None:
        flags = self.TRANSITION if transition else self.PRESENT | self.WRITE
        self._set(va, len(self._levels(va)) - 1, (pfn << 12) | flags)

    def map_large(self, va: int, pfn: int) -> None:
        self._set(va, len(self._levels(va)) - 2, (pfn << 12) | self.PRESENT | self.WRITE | self.LARGE)

    def translate(self, va: int) -> int | None:
        levels = self._levels(va)
        table = self.top
        for i, level in enumerate(levels):
            page, off, size = self._entry_at(table, va, level)
            entry = int.from_bytes(page[off : off + size], "little")
            last = i == len(levels) - 1
            if not (entry & self.PRESENT or (last and entry & self.TRANSITION)):
                return None
            frame = entry & (0x000FFFFFFFFFF000 if self.pae else 0xFFFFF000)
            if i == len(levels) - 2 and entry & self.LARGE:
                span = (1 << level[0]) - 1
                return (frame & ~span) | (va & span)
            if last:
                return frame | (va & 0xFFF)
            table = frame >> 12
        return None


NT_DATA32 = 0x82C00000  # 4 MB aligned: a large page with or without PAE
POOL32 = 0x85000000
STACK_BASE32 = 0x8D3F3000


def kernel_memory32(*, pae: bool = True, drivers: list[Driver] | None = None, stack_words: list[int] = (),
                    unloaded: list[tuple[str, int, int]] = (), ip: int = 0x82A3F5A8, buildlab: str | None =
                    "7601.24545.x86fre.win7sp1_ldr_escrow.200102-1707") -> KernelMemory:
    """A 32-bit x86 system: the same structures with 4-byte pointers."""
    mem = Memory(0x100)
    t = X86Tables(mem, pae)
    drivers = drivers if drivers is not None else standard_drivers(wide=False)
    large = mem.alloc(align=1024)
    mem.cursor = large + 1024
    t.map_large(NT_DATA32, large)
    for i in range(32):
        t.map(POOL32 + i * PAGE, mem.alloc())
    head, kdbg, lab_va = NT_DATA32 + 0x2A300, NT_DATA32 + 0x4C000, NT_DATA32 + 0x4C400
    unloaded_var, last_unloaded, ring = NT_DATA32 + 0x2A308, NT_DATA32 + 0x2A310, POOL32 + 0x18000
    entries, cursor = [], POOL32 + 0x100
    for _ in drivers:
        entries.append(cursor)
        cursor += 0x50
    names_at = cursor
    for i, d in enumerate(drivers):
        full, base_name = d.path.encode("utf-16-le"), d.image.encode("utf-16-le")
        full_va, names_at = names_at, _align(names_at + len(full) + 2, 8)
        base_va, names_at = names_at, _align(names_at + len(base_name) + 2, 8)
        t.write(full_va, full + b"\x00\x00")
        t.write(base_va, base_name + b"\x00\x00")
        e = bytearray(0x50)
        nxt = entries[i + 1] if i + 1 < len(entries) else head
        prv = entries[i - 1] if i else head
        _put(e, 0x00, "II", nxt, prv)
        _put(e, 0x18, "III", d.base, d.base + 0x1000, d.size)
        _put(e, 0x24, "HHI", len(full), len(full) + 2, full_va)
        _put(e, 0x2C, "HHI", len(base_name), len(base_name) + 2, base_va)
        t.write(entries[i], bytes(e))
    t.write(head, struct.pack("<II", entries[0] if entries else head, entries[-1] if entries else head))

    def sx(v: int) -> int:  # KDDEBUGGER_DATA64 sign-extends 32-bit pointers
        return v | 0xFFFFFFFF00000000 if v & 0x80000000 else v

    _write_kdbg(t, kdbg, b"KDBG", drivers, head, buildlab, lab_va, unloaded_var, last_unloaded, sign=sx)
    _write_unloaded_ring(t, ring, unloaded, 0x18, lambda n, va, s, e: ("HHIIIQ", n, n, va, s, e, 0))
    t.write(unloaded_var, struct.pack("<I", ring))
    t.write(last_unloaded, struct.pack("<I", len(unloaded)))
    low = STACK_BASE32 - 3 * PAGE
    for i in range(3):
        t.map(low + i * PAGE, mem.alloc(), transition=i == 1)
    sp = low + 0x80
    t.write(sp, struct.pack(f"<{len(stack_words)}I", *stack_words))
    return KernelMemory(mem, t, head, kdbg, ip, sp, drivers, entries, wide=False, pae=pae)


# ---------------------------------------------------------------- app dumps

@dataclass
class AppModule:
    path: str
    base: int
    size: int
    timestamp: int = 0x5E0F1A2B
    version: tuple[int, int, int, int] = (10, 0, 19041, 1)


def app_dump(*, modules: list[AppModule], code: int = 0xC0000005, address: int = 0, thread_id: int = 0x1234,
             arch: int = 9, build: int = 19045, stack_base: int | None = None,
             stack_words: list[int] = (), when: datetime = CRASH_TIME, cpus: int = 8,
             directory_count: int | None = None) -> bytes:
    """MDMP with SystemInfo, ModuleList, Exception (with CONTEXT) and ThreadList streams."""
    wide = arch in (9, 12)
    pf = "Q" if wide else "I"
    if stack_base is None:
        stack_base = 0x000000D2A3F00000 if wide else 0x0019F000
    out = bytearray(32)
    streams: list[tuple[int, int, int]] = []

    def add(blob: bytes) -> int:
        out.extend(bytes(_align(len(out), 8) - len(out)))
        at = len(out)
        out.extend(blob)
        return at

    directory_at = add(bytes(12 * 4))
    sysinfo = bytearray(56)
    _put(sysinfo, 0, "HHHBB", arch, 6, 0x3D04, cpus, 1)
    _put(sysinfo, 8, "IIII", 10 if build >= 10240 else 6, 0 if build >= 10240 else 1, build, 2)
    streams.append((7, len(sysinfo), add(bytes(sysinfo))))

    names = [add(struct.pack("<I", len(m.path) * 2) + m.path.encode("utf-16-le") + b"\x00\x00") for m in modules]
    mods = bytearray(struct.pack("<I", len(modules)))
    for m, name_rva in zip(modules, names, strict=True):
        e = bytearray(108)
        a, b, c, d = m.version
        _put(e, 0, "QIIII", m.base, m.size, 0x1234, m.timestamp, name_rva)
        _put(e, 24, "6I", 0xFEEF04BD, 0x10000, a << 16 | b, c << 16 | d, a << 16 | b, c << 16 | d)
        mods += e
    streams.append((4, len(mods), add(bytes(mods))))

    context = bytearray(0x4D0 if wide else 0x2CC)
    sp = stack_base + 0x40
    if arch == 9:
        _put(context, 0x98, "Q", sp)
        _put(context, 0xF8, "Q", address)
    else:
        _put(context, 0xB8, "I", address)
        _put(context, 0xC4, "I", sp)
    ctx_rva = add(bytes(context))
    exc = bytearray(0xA8)
    _put(exc, 0, "II", thread_id, 0)
    _put(exc, 8, "IIQQ", code, 0, 0, address)
    _put(exc, 0xA0, "II", len(context), ctx_rva)
    streams.append((6, len(exc), add(bytes(exc))))

    stack = bytes(0x40) + struct.pack(f"<{len(stack_words)}{pf}", *stack_words)
    stack_rva = add(stack)
    threads = bytearray(struct.pack("<I", 1))
    t = bytearray(48)
    _put(t, 0, "IIIIQ", thread_id, 0, 0, 0, 0)
    _put(t, 0x18, "QII", stack_base, len(stack), stack_rva)
    _put(t, 0x28, "II", len(context), ctx_rva)
    threads += t
    streams.append((3, len(threads), add(bytes(threads))))

    for i, (kind, size, rva) in enumerate(streams):
        _put(out, directory_at + i * 12, "III", kind, size, rva)
    stamp = int(when.timestamp())
    count = directory_count if directory_count is not None else 4
    _put(out, 0, "4sIIIIIQ", b"MDMP", 0xA793 | (0xA0B1 << 16), count, directory_at, 0, stamp, 0)
    return bytes(out)

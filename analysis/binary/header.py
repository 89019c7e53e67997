"""The fixed header every kernel crash dump starts with: DUMP_HEADER64
('PAGEDU64', 0x2000 bytes, x64 and ARM64) and DUMP_HEADER32 ('PAGEDUMP',
0x1000 bytes).  Offsets: ../shared/research/dump-formats.md §2 and §8.

The header alone gives the verdict (bug check and parameters, build,
machine, time), so it is read field by field: a file cut short inside the
header still yields what it holds, as long as the bug check is there."""

from __future__ import annotations

from dataclasses import dataclass, field

from analysis.binary.view import DumpFormatError, View, unset32, unset64

MACHINE_X64 = 0x8664
MACHINE_ARM64 = 0xAA64
MACHINE_X86 = 0x14C
MACHINE_ARM = 0x1C4
ARCH = {MACHINE_X64: "x64", MACHINE_ARM64: "arm64", MACHINE_X86: "x86", MACHINE_ARM: "arm"}

TYPE_FULL = 1
TYPE_SUMMARY = 2
TYPE_HEADER = 3
TYPE_TRIAGE = 4
TYPE_BITMAP_FULL = 5
TYPE_BITMAP_KERNEL = 6
TYPE_AUTOMATIC = 7
TYPE_RDMP_KERNEL = 8
TYPE_RDMP_KERNEL_USER = 9
TYPE_RDMP_COMPLETE = 10

DUMP_TYPE_NAMES = {
    TYPE_FULL: "complete memory dump",
    TYPE_SUMMARY: "kernel summary dump",
    TYPE_HEADER: "header-only dump",
    TYPE_TRIAGE: "small memory dump (triage)",
    TYPE_BITMAP_FULL: "kernel bitmap dump",
    TYPE_BITMAP_KERNEL: "live kernel bitmap dump",
    TYPE_AUTOMATIC: "automatic memory dump",
    TYPE_RDMP_KERNEL: "kernel memory dump",
    TYPE_RDMP_KERNEL_USER: "kernel and user memory dump",
    TYPE_RDMP_COMPLETE: "complete memory dump",
}
MEMORY_TYPES = frozenset({TYPE_FULL, TYPE_SUMMARY, TYPE_BITMAP_FULL, TYPE_BITMAP_KERNEL,
                          TYPE_RDMP_KERNEL, TYPE_RDMP_KERNEL_USER, TYPE_RDMP_COMPLETE})

ATTR_ENCRYPTED = 1 << 8

# Where each layout keeps its fields.  Bug check parameters, pointers and
# run entries are 8 bytes wide in the 64-bit header and 4 in the 32-bit one.
_LAYOUT64 = {
    "size": 0x2000, "dtb": 0x10, "pfn_db": 0x18, "module_list": 0x20, "process_head": 0x28, "machine": 0x30, "cpus": 0x34,
    "code": 0x38, "params": 0x40, "kdbg": 0x80, "runs": 0x88, "run_entries": 0x98, "run_max": 42, "context": 0x348,
    "exception": 0xF00, "dump_type": 0xF98, "required_space": 0xFA0, "system_time": 0xFA8, "uptime": 0x1030,
    "minidump_fields": 0x1038, "product_type": 0x1040, "suite_mask": 0x1044, "attributes": 0x1050, "pae": None,
}
_LAYOUT32 = {
    "size": 0x1000, "dtb": 0x10, "pfn_db": 0x14, "module_list": 0x18, "process_head": 0x1C, "machine": 0x20, "cpus": 0x24,
    "code": 0x28, "params": 0x2C, "kdbg": 0x60, "runs": 0x64, "run_entries": 0x6C, "run_max": 86, "context": 0x320,
    "exception": 0x7D0, "dump_type": 0xF88, "required_space": 0xFA0, "system_time": 0xFC0, "uptime": 0xFB8,
    "minidump_fields": 0xF8C, "product_type": 0xF94, "suite_mask": 0xF98, "attributes": 0x8A0, "pae": 0x5C,
}

# CONTEXT: (instruction pointer, stack pointer) offsets per machine, §6.
_CONTEXT_REGS = {MACHINE_X64: (0xF8, 0x98, 8), MACHINE_ARM64: (0x108, 0x100, 8), MACHINE_X86: (0xB8, 0xC4, 4)}


@dataclass(slots=True)
class KernelHeader:
    wide: bool  # 64-bit header (pointers 8 bytes)
    size: int  # header length; the dump body starts here
    major: int | None = None
    build: int | None = None
    dtb: int | None = None
    module_list: int | None = None
    machine: int | None = None
    processors: int | None = None
    code: int | None = None
    params: list[int] = field(default_factory=list)
    kdbg: int | None = None
    runs: list[tuple[int, int]] = field(default_factory=list)  # (base PFN, page count)
    runs_claimed: int | None = None
    context_offset: int = 0
    ip: int | None = None
    sp: int | None = None
    exception_code: int | None = None
    exception_address: int | None = None
    dump_type: int | None = None
    system_time: int | None = None  # FILETIME
    uptime: int | None = None  # 100 ns units
    minidump_fields: int | None = None
    product_type: int | None = None
    attributes: int | None = None
    pae: bool = False
    truncated: bool = False  # the file ends inside the header

    @property
    def arch(self) -> str | None:
        return ARCH.get(self.machine or 0)

    @property
    def ptr_size(self) -> int:
        return 8 if self.wide else 4

    @property
    def encrypted(self) -> bool:
        return not unset32(self.attributes) and bool(self.attributes & ATTR_ENCRYPTED)

    def intact(self) -> bool:
        """Enough of a real header to give a verdict: a known machine, or a
        bug check code.  A zero-filled or random header has neither."""
        known_machine = self.machine in ARCH
        return known_machine or bool(self.code and not unset32(self.code))


def read_header(view: View) -> KernelHeader:
    signature = view.bytes(0, 8, "signature") if view.has(0, 8) else b""
    if signature == b"PAGEDU64":
        lay, wide = _LAYOUT64, True
    elif signature == b"PAGEDUMP":
        lay, wide = _LAYOUT32, False
    else:
        raise DumpFormatError("not a kernel crash dump header")
    if not view.has(0, lay["params"] + 4 * (8 if wide else 4)):
        raise DumpFormatError("the file ends before the bug check fields of the header")
    h = KernelHeader(wide=wide, size=lay["size"], truncated=view.size < lay["size"])
    ptr = view.opt_u64 if wide else view.opt_u32
    h.major = view.opt_u32(0x08)
    h.build = _set(view.opt_u32(0x0C))
    h.dtb = _set_ptr(ptr(lay["dtb"]), wide)
    h.module_list = _set_ptr(ptr(lay["module_list"]), wide)
    h.machine = _set(view.opt_u32(lay["machine"]))
    h.processors = _set(view.opt_u32(lay["cpus"]))
    h.code = _set(view.opt_u32(lay["code"]))
    step = 8 if wide else 4
    h.params = [ptr(lay["params"] + i * step) or 0 for i in range(4)]
    h.kdbg = _set_ptr(ptr(lay["kdbg"]), wide)
    h.dump_type = _set(view.opt_u32(lay["dump_type"]))
    h.system_time = _set_ptr(view.opt_u64(lay["system_time"]), True)
    h.uptime = _set_ptr(view.opt_u64(lay["uptime"]), True)
    h.minidump_fields = _set(view.opt_u32(lay["minidump_fields"]))
    h.product_type = _set(view.opt_u32(lay["product_type"]))
    h.attributes = view.opt_u32(lay["attributes"])
    if lay["pae"] is not None and view.has(lay["pae"], 1):
        h.pae = view.u8(lay["pae"]) == 1
    h.context_offset = lay["context"]
    regs = _CONTEXT_REGS.get(h.machine or 0)
    if regs:
        ip_off, sp_off, width = regs
        read = view.opt_u64 if width == 8 else view.opt_u32
        h.ip = read(lay["context"] + ip_off)
        h.sp = read(lay["context"] + sp_off)
    exc = lay["exception"]
    h.exception_code = view.opt_u32(exc)
    h.exception_address = ptr(exc + (0x10 if wide else 0x0C))
    _read_runs(view, h, lay)
    return h


def _read_runs(view: View, h: KernelHeader, lay: dict) -> None:
    """PhysicalMemoryBlock: meaningful for full dumps (type 1) only."""
    count = view.opt_u32(lay["runs"])
    if unset32(count):
        return
    h.runs_claimed = count
    step = 16 if h.wide else 8
    for i in range(min(count, lay["run_max"])):
        off = lay["run_entries"] + i * step
        if not view.has(off, step):
            break
        if h.wide:
            base, pages = view.u64(off), view.u64(off + 8)
        else:
            base, pages = view.u32(off), view.u32(off + 4)
        h.runs.append((base, pages))


def _set(value: int | None) -> int | None:
    return None if unset32(value) else value


def _set_ptr(value: int | None, wide: bool) -> int | None:
    if value is None:
        return None
    return None if (unset64(value) if wide else unset32(value)) else value

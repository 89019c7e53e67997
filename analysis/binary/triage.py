"""The body of a small memory dump (dump type 4, C:\\Windows\\Minidump\\*.dmp):
TRIAGE_DUMP64 at 0x2000 or TRIAGE_DUMP32 at 0x1000.

Every *Offset field is an absolute file offset and is checked against the
file before use; a part that does not fit is skipped with a note, and the
rest is still read.  Layout: ../shared/research/dump-formats.md §4-§5, §8."""

from __future__ import annotations

import bisect
import re
import struct
from dataclasses import dataclass, field

from analysis.binary.header import KernelHeader
from analysis.binary.images import MAX_STACK_BYTES, Image, image_name
from analysis.binary.view import DumpFormatError, View, ascii_z, utf16

# Windows keeps at most 50 unloaded drivers; lists of drivers run to a few
# hundred.  Anything beyond these is a damaged count.
MAX_DRIVERS = 4096
MAX_UNLOADED = 256
MAX_DATA_BLOCKS = 1 << 16
MAX_NAME_UNITS = 1024

_TRIAGE_VALID = b"TRGD"
_KDBG_TAG = b"KDBG"

# EPROCESS.ImageFileName (UCHAR[15]) by the first build with that layout, from
# the kernels' public symbols.  The copy is raw and the table cannot know every
# build, so a slot is only trusted when it holds a name; see process_name().
_IMAGE_NAME_AT = {
    True: ((7600, 0x2E0), (9200, 0x438), (10240, 0x448), (10586, 0x450), (19041, 0x5A8), (26100, 0x338)),
    False: ((7600, 0x16C), (9200, 0x170), (10240, 0x174), (19041, 0x17C)),
}
MAX_PROCESS_COPY = 0x2000
# The kernel keeps 14 characters and a NUL, the rest of the slot zero.
_IMAGE_NAME = re.compile(rb"([A-Za-z0-9_$~][A-Za-z0-9_$~ .()+!#&@-]{0,13})\x00++")
_NAMES_WITHOUT_DOT = {b"System", b"Registry", b"Idle", b"MemCompression", b"Secure System", b"vmmem"}


@dataclass(frozen=True)
class _Layout:
    """Offsets of TRIAGE_DUMP fields relative to its start, per width."""

    top_of_stack: int
    data_page: tuple[int, int, int]  # address, offset, size
    debugger_data: tuple[int, int]  # offset, size
    data_blocks: tuple[int, int]  # offset, count
    block_size: int
    entry_size: int  # DUMP_DRIVER_ENTRY
    entry_base: int  # DllBase inside the entry
    entry_size_of_image: int
    entry_checksum: int
    entry_timestamp: int


_WIDE = _Layout(0x48, (0x60, 0x68, 0x6C), (0x70, 0x74), (0x78, 0x7C), 16, 0x90, 0x38, 0x48, 0x80, 0x88)
_NARROW = _Layout(0x48, (0x4C, 0x50, 0x54), (0x58, 0x5C), (0x60, 0x64), 12, 0x4C, 0x1C, 0x24, 0x44, 0x48)


@dataclass
class TriageDump:
    drivers: list[Image] = field(default_factory=list)
    unloaded: list[Image] = field(default_factory=list)
    broken: Image | None = None
    stack_top: int | None = None
    stack: bytes = b""
    buildlab: str | None = None
    process: str | None = None
    notes: list[str] = field(default_factory=list)
    _blocks: list[tuple[int, int, int]] = field(default_factory=list)  # (VA, file offset, size), by VA
    _starts: list[int] = field(default_factory=list)

    def read_va(self, view: View, va: int, length: int) -> bytes:
        """Memory the dump happened to capture (data blocks, stack): up to
        ``length`` bytes from ``va``, as far as one captured range goes."""
        i = bisect.bisect_right(self._starts, va) - 1
        if i < 0:
            return b""
        start, off, size = self._blocks[i]
        n = min(length, start + size - va)
        if n <= 0 or not view.has(off + va - start, n):
            return b""
        return view.bytes(off + va - start, n)


def read_triage(view: View, h: KernelHeader) -> TriageDump:
    base = h.size
    lay = _WIDE if h.wide else _NARROW
    t = TriageDump()
    view.need(base, 0x48, "triage dump header")

    def field_at(off: int) -> int:  # the leading fields are ULONGs in both widths
        return view.u32(base + off)

    valid_offset, unloaded_offset = field_at(0x08), field_at(0x18)
    process_offset, thread_offset = field_at(0x20), field_at(0x24)
    stack_offset, stack_size = field_at(0x28), field_at(0x2C)
    driver_offset, driver_count, pool_offset = field_at(0x30), field_at(0x34), field_at(0x38)
    broken_offset = field_at(0x40)
    if not (view.has(valid_offset, 4) and view.bytes(valid_offset, 4) == _TRIAGE_VALID):
        t.notes.append("triage_not_validated")

    # Each part on its own: one that does not fit costs a note, never what
    # the others already read (a cut file keeps its drivers and stack).
    steps = (
        ("driver_list", lambda: _read_drivers(view, lay, t, driver_offset, driver_count, pool_offset)),
        ("unloaded_list", lambda: _read_unloaded(view, h, t, unloaded_offset)),
        ("broken_driver", lambda: _read_broken(view, lay, t, broken_offset)),
        ("stack", lambda: _read_stack(view, h, lay, t, stack_offset, stack_size)),
        ("data_blocks", lambda: _read_blocks(view, h, lay, t)),
        ("buildlab", lambda: _read_buildlab(view, h, lay, t)),
        ("process", lambda: _read_process(view, h, t, process_offset, thread_offset)),
    )
    for name, step in steps:
        try:
            step()
        except DumpFormatError:
            t.notes.append(f"{name}_unreadable")
    return t


def _read_broken(view: View, lay: _Layout, t: TriageDump, offset: int) -> None:
    if offset:
        t.broken = _driver_entry(view, lay, offset)


def dump_string(view: View, offset: int) -> str:
    """DUMP_STRING: a length in UTF-16 code units, then the text."""
    units = view.u32(offset, "driver name length")
    if units > MAX_NAME_UNITS:
        raise DumpFormatError(f"driver name of {units} characters")
    return utf16(view.bytes(offset + 4, units * 2, "driver name"))


def _driver_entry(view: View, lay: _Layout, offset: int) -> Image:
    view.need(offset, lay.entry_size, "driver entry")
    name_offset = view.u32(offset)
    path = dump_string(view, name_offset)
    if not path.strip():
        raise DumpFormatError("driver entry without a name")
    wide = lay is _WIDE
    return Image(
        image=image_name(path),
        path=path,
        base=view.ptr(offset + lay.entry_base, wide),
        size=view.u32(offset + lay.entry_size_of_image),
        checksum=view.u32(offset + lay.entry_checksum) or None,
        timestamp=view.u32(offset + lay.entry_timestamp) or None,
    )


def _read_drivers(view: View, lay: _Layout, t: TriageDump, offset: int, count: int, pool: int) -> None:
    if not offset or not count:
        t.notes.append("no_driver_list")
        return
    stride = lay.entry_size
    # The string pool follows the list: the gap confirms the entry size.
    if pool > offset and (pool - offset) % count == 0 and (pool - offset) // count != stride:
        t.notes.append("driver_entry_size_unexpected")
    fit = view.clip(offset, count * stride, MAX_DRIVERS * stride) // stride
    if fit < count:
        t.notes.append("driver_list_truncated")
    bad = 0
    for i in range(fit):
        try:
            t.drivers.append(_driver_entry(view, lay, offset + i * stride))
        except DumpFormatError:
            bad += 1
    if bad:
        t.notes.append("driver_entries_unreadable")


def _read_unloaded(view: View, h: KernelHeader, t: TriageDump, offset: int) -> None:
    """ULONG count, then DUMP_UNLOADED_DRIVERS: UNICODE_STRING (Length in
    bytes), WCHAR[12] name cut to 12 characters, start and end addresses."""
    if not offset or not view.has(offset, 4):
        return
    count = view.u32(offset)
    p = h.ptr_size
    size = 0x38 if h.wide else 0x28
    first = offset + (8 if h.wide else 4)  # the 64-bit array is 8-byte aligned
    name_at, start_at = (0x10, 0x28) if h.wide else (0x08, 0x20)
    fit = view.clip(first, count * size, MAX_UNLOADED * size) // size
    if fit < count:
        t.notes.append("unloaded_list_truncated")
    for i in range(fit):
        e = first + i * size
        length = view.u16(e)
        name = utf16(view.bytes(e + name_at, min(length, 24) & ~1))
        start, end = view.ptr(e + start_at, h.wide), view.ptr(e + start_at + p, h.wide)
        if name and end > start:
            t.unloaded.append(Image(image=name, base=start, size=end - start, unloaded=True))


def _read_stack(view: View, h: KernelHeader, lay: _Layout, t: TriageDump, offset: int, size: int) -> None:
    top_at = h.size + lay.top_of_stack
    if not view.has(top_at, h.ptr_size):
        return
    t.stack_top = view.ptr(top_at, h.wide)
    have = view.clip(offset, size, MAX_STACK_BYTES)
    if have < size:
        t.notes.append("stack_clipped")
    if have:
        t.stack = view.bytes(offset, have, "stack", MAX_STACK_BYTES)
        _add_block(t, t.stack_top, offset, have)


def _add_block(t: TriageDump, va: int, offset: int, size: int) -> None:
    if size <= 0:
        return
    i = bisect.bisect_right(t._starts, va)
    t._starts.insert(i, va)
    t._blocks.insert(i, (va, offset, size))


def _read_blocks(view: View, h: KernelHeader, lay: _Layout, t: TriageDump) -> None:
    base = h.size
    if not view.has(base + lay.data_blocks[1], 4):
        return
    blocks_at = view.u32(base + lay.data_blocks[0])
    count = view.u32(base + lay.data_blocks[1])
    if not blocks_at or not count:
        return
    fit = view.clip(blocks_at, count * lay.block_size, MAX_DATA_BLOCKS * lay.block_size) // lay.block_size
    if fit < count:
        t.notes.append("data_blocks_truncated")
    if fit:  # a table that starts past the end of a cut file holds nothing
        raw = view.bytes(blocks_at, fit * lay.block_size, "data blocks", MAX_DATA_BLOCKS * lay.block_size)
        fmt = "<QII" if h.wide else "<III"
        found = [(va, off, size) for va, off, size in struct.iter_unpack(fmt, raw) if size and view.has(off, size)]
        # One sorted insert per block would be quadratic; merge with what is there.
        merged = sorted(found + t._blocks)
        t._blocks = merged
        t._starts = [b[0] for b in merged]
    # The data page is one more captured range.
    dp = lay.data_page
    if view.has(base + dp[2], 4):
        va = view.ptr(base + dp[0], h.wide)
        off, size = view.u32(base + dp[1]), view.u32(base + dp[2])
        if va and size and view.has(off, size):
            _add_block(t, va, off, size)


def _read_buildlab(view: View, h: KernelHeader, lay: _Layout, t: TriageDump) -> None:
    """NtBuildLab via the KDDEBUGGER_DATA64 copy: a pointer at +0x208 whose
    target string one of the data blocks holds."""
    base = h.size
    if not view.has(base + lay.debugger_data[1], 4):
        return
    kd_at = view.u32(base + lay.debugger_data[0])
    kd_size = view.u32(base + lay.debugger_data[1])
    if not kd_at or kd_size < 0x210 or not view.has(kd_at, 0x210):
        return
    if view.bytes(kd_at + 0x10, 4) != _KDBG_TAG:
        t.notes.append("debugger_data_not_kdbg")
        return
    pointer = view.u64(kd_at + 0x208)
    if not h.wide:
        pointer &= 0xFFFFFFFF  # KDDEBUGGER_DATA64 sign-extends 32-bit pointers
    lab = ascii_z(t.read_va(view, pointer, 128)).strip()
    if lab and lab.isprintable():
        t.buildlab = lab


def _read_process(view: View, h: KernelHeader, t: TriageDump, offset: int, thread_offset: int) -> None:
    """The faulting process's name from the raw EPROCESS copy, which the
    ETHREAD copy follows (that gap is the structure's size)."""
    if not offset:
        return
    wanted = thread_offset - offset if thread_offset > offset else MAX_PROCESS_COPY
    have = view.clip(offset, wanted, MAX_PROCESS_COPY)
    if have:
        t.process = process_name(view.bytes(offset, have, "process", MAX_PROCESS_COPY), h.build or 0, h.wide)


def process_name(raw: bytes, build: int, wide: bool) -> str | None:
    """ImageFileName out of an EPROCESS copy without symbols: the slot the
    build's layout names when it holds a name; otherwise the one aligned slot
    anywhere in the copy that looks like an image name, if exactly one does."""
    align = 8 if wide else 4
    known = None
    for first, at in _IMAGE_NAME_AT[wide]:
        if build >= first:
            known = at
    if known is not None:
        name = _name_in_slot(raw, known)
        if name:
            return name
    found = {n for at in range(0, len(raw) - 15, align) if (n := _name_in_slot(raw, at, strict=True))}
    return found.pop() if len(found) == 1 else None


def _name_in_slot(raw: bytes, at: int, strict: bool = False) -> str | None:
    m = _IMAGE_NAME.fullmatch(raw, at, at + 15) if at + 15 <= len(raw) else None
    if not m:
        return None
    name = m.group(1)
    # Found by scanning rather than by layout: ask more of it than being text.
    if strict and b"." not in name and name not in _NAMES_WITHOUT_DOT and len(name) < 14:
        return None
    return name.decode("ascii").rstrip()

"""Bounds-checked reads from a dump's bytes.

Every structure in a crash dump is read through a View: explicit offsets,
little-endian, and one exception type when the file does not hold what a
field claims.  The data may be a ``bytes``, a ``memoryview`` or an
``mmap.mmap``; a View never copies more than the caller asked for, so a
mapped 16 GB file costs only the pages actually read."""

from __future__ import annotations

import mmap
import struct

# 'PAGE' is what Windows leaves in header fields it did not fill.
PAGE_FILL32 = 0x45474150
PAGE_FILL64 = 0x4547415045474150

_U8 = struct.Struct("<B")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


class DumpFormatError(Exception):
    """A field points outside the file or holds an impossible value.
    ``note`` is the short code a report carries when this ends a reading step."""

    def __init__(self, message: str, note: str | None = None) -> None:
        super().__init__(message)
        self.note = note


class View:
    __slots__ = ("data", "size", "_direct")

    def __init__(self, data) -> None:
        self.data = data
        self.size = len(data)
        # bytes, memoryview and mmap are unpacked in place; any other
        # object that slices to bytes (a ranged reader over object
        # storage) is sliced first.
        self._direct = isinstance(data, (bytes, bytearray, memoryview, mmap.mmap))

    def has(self, offset: int, length: int) -> bool:
        return 0 <= offset and 0 <= length and offset + length <= self.size

    def need(self, offset: int, length: int, what: str) -> None:
        if not self.has(offset, length):
            raise DumpFormatError(f"{what}: {length} bytes at 0x{offset:x} lie outside the {self.size}-byte file")

    def unpack(self, fmt: struct.Struct, offset: int, what: str = "field") -> tuple:
        self.need(offset, fmt.size, what)
        if self._direct:
            return fmt.unpack_from(self.data, offset)
        return fmt.unpack(self.data[offset : offset + fmt.size])

    def u8(self, offset: int, what: str = "byte") -> int:
        return self.unpack(_U8, offset, what)[0]

    def u16(self, offset: int, what: str = "u16") -> int:
        return self.unpack(_U16, offset, what)[0]

    def u32(self, offset: int, what: str = "u32") -> int:
        return self.unpack(_U32, offset, what)[0]

    def u64(self, offset: int, what: str = "u64") -> int:
        return self.unpack(_U64, offset, what)[0]

    def ptr(self, offset: int, wide: bool, what: str = "pointer") -> int:
        return self.u64(offset, what) if wide else self.u32(offset, what)

    def opt_u32(self, offset: int) -> int | None:
        """A field that a truncated header may lack."""
        return self.unpack(_U32, offset)[0] if self.has(offset, 4) else None

    def opt_u64(self, offset: int) -> int | None:
        return self.unpack(_U64, offset)[0] if self.has(offset, 8) else None

    def bytes(self, offset: int, length: int, what: str = "bytes", limit: int = 1 << 20) -> bytes:
        """A copy of a range; ``limit`` keeps a claimed length from costing memory."""
        if length > limit:
            raise DumpFormatError(f"{what}: claims {length} bytes, more than the {limit}-byte limit")
        self.need(offset, length, what)
        return bytes(self.data[offset : offset + length])

    def clip(self, offset: int, length: int, limit: int) -> int:
        """How much of a claimed range the file (and the limit) really holds."""
        if offset < 0 or offset >= self.size or length <= 0:
            return 0
        return min(length, self.size - offset, limit)


def unset32(value: int | None) -> bool:
    return value is None or value == PAGE_FILL32


def unset64(value: int | None) -> bool:
    return value is None or value == PAGE_FILL64


def utf16(raw: bytes) -> str:
    """Names in dumps are UTF-16LE, sometimes cut mid-character or NUL-padded."""
    if len(raw) % 2:
        raw = raw[:-1]
    text = raw.decode("utf-16-le", errors="replace")
    return text.split("\x00", 1)[0]


def ascii_z(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("ascii", errors="replace")

"""Where a physical page lives in a MEMORY.DMP file.

A kernel or complete dump stores only some of the machine's pages, one after
the other, and says which ones in a table: runs of PFNs in the header (type
1), a bitmap after the header (types 5 and 6, and the old summary type 2 when
it carries the same header), or a list of PFN ranges (types 8-10,
'RDMP').  Each map answers ``offset(pfn)`` without reading the pages
themselves; layouts in ../shared/research/dump-formats.md §3."""

from __future__ import annotations

import bisect
import struct
from array import array

from analysis.binary.view import DumpFormatError, View

PAGE = 0x1000

# Caps that keep a lying table from costing memory or time.
MAX_BITMAP_BYTES = 64 * 1024**2  # 512 Mi pages = 2 TiB of RAM
MAX_RANGES = 1 << 20
_BLOCK = 4096  # bitmap bytes per cached population count


class PhysicalMemory:
    """Base: maps a PFN to the file offset of its page, or None."""

    def __init__(self, view: View) -> None:
        self.view = view
        self.notes: list[str] = []

    def offset(self, pfn: int) -> int | None:  # pragma: no cover - interface
        raise NotImplementedError

    def read(self, pa: int, length: int) -> bytes | None:
        """Bytes at a physical address, within one page."""
        if pa < 0 or length <= 0 or (pa & (PAGE - 1)) + length > PAGE:
            return None
        base = self.offset(pa >> 12)
        if base is None:
            return None
        off = base + (pa & (PAGE - 1))
        if not self.view.has(off, length):
            return None
        return bytes(self.view.data[off : off + length])


class RunMap(PhysicalMemory):
    """Type 1: the header's PhysicalMemoryBlock lists runs of PFNs, stored
    back to back from the end of the header."""

    def __init__(self, view: View, runs: list[tuple[int, int]], first: int) -> None:
        super().__init__(view)
        spans = []
        at = first
        for base, count in runs:
            if count:
                spans.append((base, count, at))
            at += count * PAGE
        spans.sort()
        self._bases = [s[0] for s in spans]
        self._spans = spans

    def offset(self, pfn: int) -> int | None:
        i = bisect.bisect_right(self._bases, pfn) - 1
        if i < 0:
            return None
        base, count, at = self._spans[i]
        if pfn >= base + count:
            return None
        return at + (pfn - base) * PAGE



class BitmapMap(PhysicalMemory):
    """Types 5/6: bit n set = PFN n present; present pages follow each other
    from ``first`` in PFN order, so a page's place is the number of set bits
    before it.  Population counts are kept per 4 KB block of bitmap and
    computed only as far as the highest PFN asked for."""

    def __init__(self, view: View, bitmap_offset: int, bits: int, first: int) -> None:
        super().__init__(view)
        want = (bits + 7) // 8
        have = view.clip(bitmap_offset, want, MAX_BITMAP_BYTES)
        if have < want:
            self.notes.append("bitmap_clipped")
        self._off = bitmap_offset
        self._len = have
        self._bits = min(bits, have * 8)
        self._first = first
        self._prefix = array("Q", [0])  # set bits before block i

    def _count(self, start: int, end: int) -> int:
        end = min(end, self._len)
        if end <= start:
            return 0
        return int.from_bytes(self.view.data[self._off + start : self._off + end], "little").bit_count()

    def offset(self, pfn: int) -> int | None:
        if pfn < 0 or pfn >= self._bits:
            return None
        byte, bit = divmod(pfn, 8)
        if not (self.view.data[self._off + byte] >> bit) & 1:
            return None
        block = byte // _BLOCK
        prefix = self._prefix
        while len(prefix) <= block:
            i = len(prefix) - 1
            prefix.append(prefix[i] + self._count(i * _BLOCK, (i + 1) * _BLOCK))
        before = prefix[block] + self._count(block * _BLOCK, byte)
        before += (self.view.data[self._off + byte] & ((1 << bit) - 1)).bit_count()
        return self._first + before * PAGE



class RangeMap(PhysicalMemory):
    """Types 8-10: a list of (first PFN, page count) ranges; pages stored
    back to back from ``first`` in list order.  A zero PFN ends the list
    (kdmp-parser reads it the same way)."""

    def __init__(self, view: View, table: int, entries: int, first: int) -> None:
        super().__init__(view)
        if entries > MAX_RANGES:
            self.notes.append("ranges_clipped")
            entries = MAX_RANGES
        fit = view.clip(table, entries * 16, entries * 16) // 16
        if fit < entries:
            self.notes.append("ranges_clipped")
        bases, counts, places = array("Q"), array("Q"), array("Q")
        at = first
        for pfn, count in struct.iter_unpack("<QQ", view.data[table : table + fit * 16]):
            if pfn == 0:
                break
            bases.append(pfn)
            counts.append(count)
            places.append(at)
            at += count * PAGE
            if at > 1 << 62:
                raise DumpFormatError("PFN ranges claim more pages than any file can hold")
        order = sorted(range(len(bases)), key=bases.__getitem__)
        self._bases = array("Q", (bases[i] for i in order))
        self._counts = array("Q", (counts[i] for i in order))
        self._places = array("Q", (places[i] for i in order))

    def offset(self, pfn: int) -> int | None:
        i = bisect.bisect_right(self._bases, pfn) - 1
        if i < 0 or pfn >= self._bases[i] + self._counts[i]:
            return None
        return self._places[i] + (pfn - self._bases[i]) * PAGE


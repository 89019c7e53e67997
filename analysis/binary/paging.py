"""Virtual to physical translation through the page tables saved in a
MEMORY.DMP, starting from the header's DirectoryTableBase (CR3).

x64 uses four levels of 512 eight-byte entries (1 GiB and 2 MiB large pages
at the third and second level); 32-bit x86 uses two levels of 1024 four-byte
entries (4 MiB large pages) or, with PAE, a 4-entry table over two levels of
512 eight-byte entries (2 MiB large pages).  A leaf entry that is not
present but marked "transition" (bit 11 set, prototype bit 10 clear) still
names a page in RAM that the dump holds, so it is followed too.

Every page-table read counts against a budget, so a hostile file whose
tables point everywhere cannot make a walk run for long."""

from __future__ import annotations

from analysis.binary.physmem import PAGE, PhysicalMemory
from analysis.binary.view import DumpFormatError

_FRAME64 = 0x000FFFFFFFFFF000
_PRESENT = 1
_LARGE = 1 << 7
_PROTOTYPE = 1 << 10
_TRANSITION = 1 << 11

MAX_TABLE_READS = 200_000
_CACHE_LIMIT = 1 << 16


class BudgetExceeded(DumpFormatError):
    """The walk read more page-table entries than any real dump needs."""


def _leaf_in_ram(entry: int) -> bool:
    return bool(entry & _PRESENT) or (bool(entry & _TRANSITION) and not entry & _PROTOTYPE)


class AddressSpace:
    """Reads virtual memory of the crashed system; None where the dump holds
    no page."""

    ptr_size = 8

    def __init__(self, phys: PhysicalMemory, dtb: int, budget: int = MAX_TABLE_READS) -> None:
        self.phys = phys
        self.dtb = dtb
        self.budget = budget
        self._entries: dict[int, int | None] = {}
        self._pages: dict[int, int | None] = {}

    # -- translation -------------------------------------------------------
    def _entry(self, pa: int, width: int) -> int | None:
        cached = self._entries.get(pa, -1)
        if cached != -1:
            return cached
        self.budget -= 1
        if self.budget < 0:
            raise BudgetExceeded("page-table walk exceeded its read budget")
        raw = self.phys.read(pa, width)
        value = None if raw is None else int.from_bytes(raw, "little")
        if len(self._entries) < _CACHE_LIMIT:
            self._entries[pa] = value
        return value

    def _walk(self, va: int) -> int | None:  # pragma: no cover - interface
        raise NotImplementedError

    def translate(self, va: int) -> int | None:
        page = va >> 12
        frame = self._pages.get(page, -1)
        if frame == -1:
            pa = self._walk(va & ~(PAGE - 1))
            frame = None if pa is None else pa >> 12
            if len(self._pages) < _CACHE_LIMIT:
                self._pages[page] = frame
        if frame is None:
            return None
        return (frame << 12) | (va & (PAGE - 1))

    # -- reads ---------------------------------------------------------------
    def read(self, va: int, length: int) -> bytes | None:
        """All ``length`` bytes at ``va``, or None if any page is missing."""
        data = self.read_prefix(va, length)
        return data if len(data) == length else None

    def read_prefix(self, va: int, length: int) -> bytes:
        """The readable start of a range: stops at the first missing page."""
        out = bytearray()
        while length > 0:
            pa = self.translate(va)
            if pa is None:
                break
            n = min(length, PAGE - (va & (PAGE - 1)))
            chunk = self.phys.read(pa, n)
            if chunk is None:
                break
            out += chunk
            va += n
            length -= n
        return bytes(out)

    def ptr(self, va: int) -> int | None:
        raw = self.read(va, self.ptr_size)
        return None if raw is None else int.from_bytes(raw, "little")


class X64Space(AddressSpace):
    ptr_size = 8

    def _walk(self, va: int) -> int | None:
        top = va >> 47
        if top not in (0, 0x1FFFF):  # not canonical
            return None
        table = self.dtb & _FRAME64
        for level, shift in ((4, 39), (3, 30), (2, 21), (1, 12)):
            entry = self._entry(table + ((va >> shift) & 0x1FF) * 8, 8)
            if entry is None:
                return None
            if level == 1:
                return (entry & _FRAME64) | (va & 0xFFF) if _leaf_in_ram(entry) else None
            if not entry & _PRESENT:
                return None
            if entry & _LARGE and level in (3, 2):
                span = (1 << shift) - 1
                return (entry & _FRAME64 & ~span) | (va & span)
            table = entry & _FRAME64
        return None  # pragma: no cover


class X86PaeSpace(AddressSpace):
    ptr_size = 4

    def _walk(self, va: int) -> int | None:
        va &= 0xFFFFFFFF
        pdpte = self._entry((self.dtb & 0xFFFFFFE0) + ((va >> 30) & 3) * 8, 8)
        if pdpte is None or not pdpte & _PRESENT:
            return None
        pde = self._entry((pdpte & _FRAME64) + ((va >> 21) & 0x1FF) * 8, 8)
        if pde is None or not pde & _PRESENT:
            return None
        if pde & _LARGE:
            return (pde & _FRAME64 & ~0x1FFFFF) | (va & 0x1FFFFF)
        pte = self._entry((pde & _FRAME64) + ((va >> 12) & 0x1FF) * 8, 8)
        if pte is None or not _leaf_in_ram(pte):
            return None
        return (pte & _FRAME64) | (va & 0xFFF)


class X86Space(AddressSpace):
    ptr_size = 4

    def _walk(self, va: int) -> int | None:
        va &= 0xFFFFFFFF
        pde = self._entry((self.dtb & 0xFFFFF000) + (va >> 22) * 4, 4)
        if pde is None or not pde & _PRESENT:
            return None
        if pde & _LARGE:
            return (pde & 0xFFC00000) | (va & 0x3FFFFF)
        pte = self._entry((pde & 0xFFFFF000) + ((va >> 12) & 0x3FF) * 4, 4)
        if pte is None or not _leaf_in_ram(pte):
            return None
        return (pte & 0xFFFFF000) | (va & 0xFFF)


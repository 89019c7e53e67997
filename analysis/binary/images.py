"""The loaded images of a crashed system (drivers, or a process's modules)
and what an address or a stack says about them.

Without symbols, a dump's code addresses can only be placed in an image's
range: "amdppm.sys+0x334c".  A raw stack is a run of pointer-sized values;
those that fall in an image are likely return addresses (or stale ones), so
the images they name, in order of first appearance from the stack top, are
the drivers the faulting thread ran through."""

from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass, field

from analysis.findings import Claim, Findings, Site, StackHit
from analysis.model import Frame, ModuleInfo, module_key

# No real image is this large; a bigger size is a damaged entry.
MAX_IMAGE_SIZE = 1 << 32
MAX_STACK_BYTES = 1 << 20
MAX_FRAMES = 32
MAX_HITS_KEPT = 256


@dataclass(slots=True)
class Image:
    image: str  # file name, "amdppm.sys"
    base: int
    size: int
    path: str | None = None
    timestamp: int | None = None
    checksum: int | None = None
    unloaded: bool = False
    file_version: str | None = None
    product_version: str | None = None
    key: str = field(init=False, default="")  # module_key of the image, computed once: lookups are hot

    def __post_init__(self) -> None:
        self.key = module_key(self.image)

    @property
    def name(self) -> str:
        """File name without extension, case kept: "ACPI" for ACPI.sys."""
        stem, dot, ext = self.image.rpartition(".")
        return stem if dot and stem and 1 <= len(ext) <= 4 else self.image

    def contains(self, address: int) -> bool:
        return self.base <= address < self.base + self.size

    def at(self, address: int) -> str:
        return f"{self.image}+0x{address - self.base:x}"

    def info(self) -> ModuleInfo:
        return ModuleInfo(
            name=self.name, image=self.image, path=self.path, base=self.base, size=self.size,
            timestamp=self.timestamp, checksum=self.checksum, unloaded=self.unloaded,
            file_version=self.file_version, product_version=self.product_version,
        )


def image_name(path: str) -> str:
    """'\\SystemRoot\\system32\\drivers\\ACPI.sys' -> 'ACPI.sys'"""
    return path.replace("/", "\\").rsplit("\\", 1)[-1].strip() or path


class ImageMap:
    """Address -> image, by binary search over the images' bases."""

    def __init__(self, images: list[Image]) -> None:
        usable = [i for i in images if i.size and 0 < i.size <= MAX_IMAGE_SIZE and i.base]
        usable.sort(key=lambda i: i.base)
        self._images = usable
        self._bases = [i.base for i in usable]

    def __len__(self) -> int:
        return len(self._images)

    def find(self, address: int | None) -> Image | None:
        if not address:
            return None
        i = bisect.bisect_right(self._bases, address) - 1
        # Overlapping entries (a damaged list) are rare; look a little back.
        for j in range(i, max(i - 4, -1), -1):
            if self._images[j].contains(address):
                return self._images[j]
        return None


@dataclass(slots=True)
class StackScan:
    """Images named by the values on a raw stack."""

    counts: dict[str, int] = field(default_factory=dict)  # image key -> hits, first-seen order
    images: dict[str, Image] = field(default_factory=dict)
    hits: list[tuple[int, int, Image]] = field(default_factory=list)  # (slot VA, value, image)
    words: int = 0

    def ordered(self) -> list[tuple[Image, int]]:
        return [(self.images[k], n) for k, n in self.counts.items()]


def scan_stack(raw: bytes, start: int, ptr_size: int, images: ImageMap) -> StackScan:
    """Every aligned pointer-sized value of ``raw`` (the bytes at virtual
    address ``start``) that lies in an image."""
    scan = StackScan()
    skip = (-start) % ptr_size
    raw = raw[skip : skip + MAX_STACK_BYTES]
    n = len(raw) // ptr_size
    scan.words = n
    values = struct.unpack_from(f"<{n}{'Q' if ptr_size == 8 else 'I'}", raw, 0)
    slot = start + skip
    for value in values:
        hit = images.find(value)
        if hit is not None:
            key = hit.key
            if key in scan.counts:
                scan.counts[key] += 1
            else:
                scan.counts[key] = 1
                scan.images[key] = hit
            if len(scan.hits) < MAX_HITS_KEPT:
                scan.hits.append((slot, value, hit))
        slot += ptr_size
    return scan


def raw_findings(claims: list[Claim], sites: list[Site], scan: StackScan | None, loaded: list[str]) -> Findings:
    """A dump read without symbols: no unwinding, the raw stack's hits."""
    hits = [StackHit(slot, value, img.key) for slot, value, img in scan.hits] if scan else []
    return Findings(claims=claims, unwound=False, sites=sites, stack_hits=hits,
                    stack_counts=dict(scan.counts) if scan else {}, loaded=loaded)


def raw_frames(ip: int | None, ip_img: Image | None, scan: StackScan | None) -> list[Frame]:
    """The faulting stack as frames: the failing instruction, then the raw hits."""
    frames = []
    if ip_img is not None and ip is not None:
        frames.append(Frame(module=ip_img.name, offset=ip - ip_img.base, index=0, address=ip))
    for slot, value, img in (scan.hits if scan else [])[:MAX_FRAMES]:
        frames.append(Frame(module=img.name, offset=value - img.base, index=len(frames), child_sp=slot, address=value))
    return frames

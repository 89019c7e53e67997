"""What an uploaded file is, judged by its content, and unpacking of the
containers customers send (zip, gzip) with hard limits: archives are
streamed member by member, never extracted to paths named by the archive,
and a bomb is refused before it costs memory or disk."""

from __future__ import annotations

import gzip
import hashlib
import io
import mmap
import os
import lzma
import tempfile
import zlib
from dataclasses import dataclass, field
from typing import IO, Callable

from analysis.deadline import NEVER, Deadline
from analysis.inputs import Rejected, looks_binary, said
from analysis.ziparchive import MemberReader, ZipError, read_directory

# Limits on what one upload may unpack to.
MAX_MEMBERS = 200
MAX_MEMBER_BYTES = 8 * 1024**3  # a zipped MEMORY.DMP may be large; it goes to disk
MAX_TOTAL_BYTES = 16 * 1024**3
MAX_RATIO = 200  # real dumps and logs compress 3-30:1; more is a bomb
RATIO_FLOOR = 8 * 1024**2  # small members may compress as they like
IN_MEMORY_BYTES = 64 * 1024**2  # larger members are spooled to a temp file
MAX_DEPTH = 2
SAMPLED_DIGEST_ABOVE = 64 * 1024**2

KIND_KERNEL64 = "kernel-dump-64"
KIND_KERNEL32 = "kernel-dump-32"
KIND_APP = "app-minidump"
KIND_ZIP = "zip"
KIND_GZIP = "gzip"
KIND_TEXT = "text"


@dataclass
class Blob:
    """One piece of evidence: its label and its bytes (bytes or a mapped file)."""

    name: str
    data: bytes | mmap.mmap | memoryview
    depth: int = 0
    notes: list[str] = field(default_factory=list)
    _keep: IO[bytes] | None = None  # the temp file behind a spooled member

    def __len__(self) -> int:
        return len(self.data)

    def head(self, n: int = 8192) -> bytes:
        return bytes(self.data[:n])

    def chunks(self, size: int = 4 * 1024 * 1024):
        """The bytes in pieces.  Pages of a mapped file already read are
        given back, so reading a 200 MB log does not keep 200 MB resident."""
        data = self.data
        for start in range(0, len(data), size):
            yield bytes(data[start : start + size])
            self._release(start, size)

    def _release(self, start: int, size: int) -> None:
        """Give back the pages of a mapped file from ``start`` on that were
        read (the file stays in the page cache; only this process lets go)."""
        data = self.data
        if isinstance(data, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):
            try:
                data.madvise(mmap.MADV_DONTNEED, start - start % mmap.PAGESIZE, min(size, len(data) - start))
            except (OSError, ValueError):
                pass

    def digest(self) -> bytes:
        """Identity of the content, for "the same file twice".  Above 64 MiB
        it is the length, the header pages and 64 samples spread over the
        file: a 16 GB MEMORY.DMP must not be read whole just to be compared
        (its header alone holds the crash time and the bug check)."""
        h = hashlib.sha256()
        size = len(self.data)
        if size <= SAMPLED_DIGEST_ABOVE:
            for chunk in self.chunks():
                h.update(chunk)
            return h.digest()
        h.update(size.to_bytes(8, "little"))
        h.update(bytes(self.data[:0x2000]))
        step = size // 64
        for i in range(64):
            h.update(bytes(self.data[i * step : i * step + 4096]))
        # A look at a page of a file in the page cache maps the pages
        # around it too: 64 looks left 80 MB of a 100 MB log resident.
        self._release(0, size)
        return h.digest()

    def close(self) -> None:
        if isinstance(self.data, mmap.mmap):
            try:
                self.data.close()
            except BufferError:
                pass  # a reader still holds a view; the OS frees it on exit
        if self._keep is not None:
            self._keep.close()


class _MappedFile:
    """A read-only file object over a mapped file: gzip asks for
    seekable(), which mmap only has from Python 3.13."""

    def __init__(self, data: mmap.mmap):
        self._data = data
        self._pos = 0

    def read(self, n: int | None = -1) -> bytes:
        end = len(self._data) if n is None or n < 0 else min(len(self._data), self._pos + n)
        chunk = self._data[self._pos:end]
        self._pos = end
        return chunk

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: len(self._data)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True


def _file_of(blob: "Blob"):
    return _MappedFile(blob.data) if isinstance(blob.data, mmap.mmap) else io.BytesIO(blob.data)


def sniff(head: bytes) -> str:
    if head.startswith(b"PAGEDU64"):
        return KIND_KERNEL64
    if head.startswith(b"PAGEDUMP"):
        return KIND_KERNEL32
    if head.startswith(b"MDMP"):
        return KIND_APP
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return KIND_ZIP
    if head.startswith(b"\x1f\x8b"):
        return KIND_GZIP
    if head.startswith(b"MSCF"):
        raise Rejected("cab")
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        raise Rejected("7z")
    if head.startswith(b"Rar!"):
        raise Rejected("rar")
    if head.startswith(b"PAGE") and len(head) >= 8 and looks_binary(head):
        # PAGE_FAULT_IN_NONPAGED_AREA (50) on a log's first line is text.
        raise Rejected("dump_signature")
    return KIND_TEXT


def open_path(path: str) -> Blob:
    """Map a file read-only; a dump of many GB costs only the pages read."""
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        raise Rejected("no_such_file") from None
    except IsADirectoryError:
        raise Rejected("is_directory") from None
    except PermissionError:
        raise Rejected("permission_denied") from None
    with fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0:
            raise Rejected("empty_file")
        data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    return Blob(path, data)


def safe_member_name(name: str) -> str:
    """A label for an archive member: never a path to write to."""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    return "/".join(parts) or "member"


def _spool(reader, declared: int, limit: int, label: str, budget: "Budget",
           consumed: Callable[[], int], deadline: Deadline) -> tuple[bytes | mmap.mmap, IO[bytes] | None]:
    """Copy a decompressing stream, a bounded piece at a time: never past
    what it declared (``declared`` >= 0) or ``limit``, and never at a ratio
    of bytes out to compressed bytes in (``consumed()``) that only a bomb
    has.  Every byte produced is counted in the budget, refused or not."""
    limit = min(declared if declared >= 0 else limit, limit)
    in_memory = 0 <= declared <= IN_MEMORY_BYTES
    tmp = None if in_memory else tempfile.TemporaryFile(prefix="crashdesk-")
    parts: list[bytes] = []
    copied = 0
    try:
        while True:
            chunk = reader.read(min(1024 * 1024, limit + 1 - copied))
            if not chunk:
                break
            copied += len(chunk)
            budget.produced += len(chunk)
            if copied > limit:
                raise Rejected("unpacks_more_than_declared", label=label) if declared >= 0 and limit == declared \
                    else Rejected("unpacks_more_than", label=label, limit=limit)
            if copied > RATIO_FLOOR and copied > MAX_RATIO * max(1, consumed()):
                raise Rejected("unpacks_ratio", label=label, ratio=MAX_RATIO)
            if deadline.expired():
                raise Rejected("unpack_time", label=label)
            if tmp is None:
                parts.append(chunk)
            else:
                tmp.write(chunk)
    except BaseException:
        if tmp is not None:
            tmp.close()
        raise
    if tmp is None:
        return b"".join(parts), None
    tmp.flush()
    if copied == 0:
        tmp.close()
        return b"", None
    return mmap.mmap(tmp.fileno(), 0, access=mmap.ACCESS_READ), tmp


@dataclass
class Budget:
    """What one upload may unpack to, shared by every archive nested in it:
    otherwise each level of a zip of zips would get the limits anew."""

    bytes_left: int
    members_left: int
    produced: int = 0  # bytes decompressed, kept or refused

    @classmethod
    def for_upload(cls, size: int) -> "Budget":
        return cls(min(MAX_TOTAL_BYTES, max(IN_MEMORY_BYTES, size * MAX_RATIO)), MAX_MEMBERS)


def expand(blob: Blob, problems: list[tuple[str, str]], budget: Budget | None = None, deadline: Deadline = NEVER):
    """Yield the analysable pieces of a blob: itself, or its archive members
    (as long as the deadline allows)."""
    try:
        kind = sniff(blob.head(16))
    except Rejected as exc:
        problems.append((blob.name, exc.said()))
        return
    if kind in (KIND_ZIP, KIND_GZIP):
        budget = budget or Budget.for_upload(len(blob))
        yield from (_expand_zip if kind == KIND_ZIP else _expand_gzip)(blob, problems, budget, deadline)
    else:
        yield blob


def _expand_zip(blob: Blob, problems, budget: Budget, deadline: Deadline):
    if blob.depth >= MAX_DEPTH:
        problems.append((blob.name, said("nested_too_deep")))
        return
    try:
        # At most members_left files, and never more directory entries than
        # a few times that: the count is the end record's, not a list built
        # of the whole directory.
        directory = read_directory(blob.data, budget.members_left, MAX_MEMBERS * 5)
    except ZipError as exc:
        problems.append((blob.name, said("bad_zip", why=str(exc)[:200])))
        return
    members = directory.members
    if not members and directory.complete:
        problems.append((blob.name, said("empty_zip")))
        return
    if not directory.complete:
        problems.append((blob.name, said("zip_members_capped", declared=directory.declared, read=len(members))
                         if members else said("zip_members_none")))
    budget.members_left -= len(members)
    for n, info in enumerate(members):
        label = f"{blob.name}:{safe_member_name(info.name)}"
        if deadline.expired():
            problems.append((blob.name, said("zip_time_cut", n=len(members) - n)))
            break
        if info.encrypted:
            problems.append((label, said("encrypted_member")))
            continue
        if info.size > MAX_MEMBER_BYTES:
            problems.append((label, said("member_too_large", size=info.size, limit=MAX_MEMBER_BYTES)))
            continue
        if info.size > RATIO_FLOOR and info.size > max(1, info.compressed_size) * MAX_RATIO:
            problems.append((label, said("member_ratio", ratio=info.size // max(1, info.compressed_size))))
            continue
        if info.size > budget.bytes_left:
            problems.append((label, said("upload_budget")))
            break
        try:
            reader = MemberReader(blob.data, info)
            data, keep = _spool(reader, info.size, min(MAX_MEMBER_BYTES, budget.bytes_left), label, budget,
                                lambda: reader.consumed, deadline)
        except Rejected as exc:
            problems.append((label, exc.said()))
            continue
        except (ZipError, zlib.error, OSError, EOFError, lzma.LZMAError, ValueError) as exc:
            problems.append((label, said("cannot_unpack", why=str(exc)[:200])))
            continue
        budget.bytes_left -= len(data)
        if not len(data):
            problems.append((label, said("empty_file")))
            continue
        yield from expand(Blob(label, data, depth=blob.depth + 1, _keep=keep), problems, budget, deadline)


def _expand_gzip(blob: Blob, problems, budget: Budget, deadline: Deadline):
    if blob.depth >= MAX_DEPTH:
        problems.append((blob.name, said("nested_too_deep")))
        return
    label = blob.name[:-3] if blob.name.lower().endswith(".gz") else blob.name + ":gunzip"
    limit = min(MAX_MEMBER_BYTES, budget.bytes_left, max(RATIO_FLOOR, len(blob) * MAX_RATIO))
    # The trailer states the size (modulo 4 GiB, so never more than it is):
    # a bomb that says so is refused before a byte is unpacked.
    stated = int.from_bytes(bytes(blob.data[-4:]), "little") if len(blob) >= 18 else 0
    if stated > RATIO_FLOOR and stated > MAX_RATIO * len(blob):
        problems.append((label, said("gzip_ratio", stated=stated, ratio=stated // len(blob))))
        return
    source = _file_of(blob)
    try:
        with gzip.GzipFile(fileobj=source) as reader:
            data, keep = _spool(reader, -1, limit, label, budget, source.tell, deadline)
    except Rejected as exc:
        problems.append((label, exc.said()))
        return
    except (OSError, EOFError, zlib.error) as exc:
        problems.append((label, said("bad_gzip", why=str(exc)[:200])))
        return
    budget.bytes_left -= len(data)
    if not len(data):
        problems.append((label, said("empty_file")))
        return
    yield from expand(Blob(label, data, depth=blob.depth + 1, _keep=keep), problems, budget, deadline)

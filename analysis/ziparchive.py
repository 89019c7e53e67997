"""Zip archives read by hand, so that nothing an archive declares is
believed before it is checked.  zipfile reads the whole central directory
into objects before the first member can be looked at (1,000,000 one-byte
members: 665 MB), and hands an LZMA member to a decoder sized by the
member's own header (a 4 GiB dictionary: 657 MB).  Here:

- the number of entries comes from the end record, and the directory is
  read one entry at a time, only as far as the caller wants;
- an LZMA member's dictionary size is read and refused before a decoder
  exists;
- a member is decompressed a bounded step at a time: a read returns at most
  what was asked for, whatever the compressed bytes would expand to, and
  counts the compressed bytes it consumed (for a ratio checked while
  streaming).

Only what customers' archives hold is read: stored, deflate, bzip2 and
LZMA members, ZIP64 sizes, data before the archive (a self-extractor).  The
data is any buffer (bytes, mmap, memoryview); nothing is written anywhere."""

from __future__ import annotations

import bz2
import lzma
import struct
import zlib
from dataclasses import dataclass

STORED, DEFLATED, BZIP2, LZMA = 0, 8, 12, 14
# A decoder's memory is its dictionary.  7-Zip's strongest setting uses
# 64 MiB; nothing a customer zips needs more.
MAX_LZMA_DICT = 64 * 1024**2
_INPUT_STEP = 64 * 1024  # compressed bytes fed to a decoder at a time
_Inflate = type(zlib.decompressobj())

_EOCD = struct.Struct("<4s4H2LH")
_EOCD64_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_LOCAL = struct.Struct("<4s2B4HL2L2H")


class ZipError(ValueError):
    """The archive (or one member) cannot be read: said in plain words."""


@dataclass(slots=True)
class Member:
    name: str
    method: int
    flags: int
    crc: int
    compressed_size: int
    size: int
    header_offset: int  # of its local header, from the archive's start

    @property
    def encrypted(self) -> bool:
        return bool(self.flags & 0x1)


@dataclass(slots=True)
class Directory:
    declared: int  # entries the end record says the archive holds
    members: list[Member]  # the files read, in order (directories left out)
    complete: bool  # every entry was read


def _end_record(data) -> tuple[int, int, int, int]:
    """(entries, directory size, directory start in ``data``, bytes in
    front of the archive)."""
    size = len(data)
    tail_start = max(0, size - _EOCD.size - 0xFFFF)
    tail = bytes(data[tail_start:])
    pos = tail.rfind(b"PK\x05\x06")
    while pos >= 0 and pos + _EOCD.size > len(tail):
        pos = tail.rfind(b"PK\x05\x06", 0, pos)
    if pos < 0:
        raise ZipError("no end-of-archive record: not a zip archive, or cut short")
    _, disk, cd_disk, _, entries, cd_size, cd_offset, _ = _EOCD.unpack_from(tail, pos)
    end = tail_start + pos
    if disk or cd_disk:
        raise ZipError("an archive split over several files; please send it as one .zip")
    at = end - _EOCD64_LOCATOR.size
    record = at - _EOCD64.size
    if at >= 0 and bytes(data[at : at + 4]) == b"PK\x06\x07" and bytes(data[record : record + 4]) != b"PK\x06\x06":
        record = _EOCD64_LOCATOR.unpack(bytes(data[at : at + _EOCD64_LOCATOR.size]))[2]  # a record with extra data
    if record >= 0 and bytes(data[at : at + 4]) == b"PK\x06\x07" and bytes(data[record : record + 4]) == b"PK\x06\x06":
        # ZIP64: more than 65,535 entries, or offsets past 4 GiB.
        fields = _EOCD64.unpack(bytes(data[record : record + _EOCD64.size]))
        entries, cd_size, cd_offset = fields[7], fields[8], fields[9]
        end = record
    elif cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        raise ZipError("a ZIP64 archive without its ZIP64 end record")
    # Bytes in front of the archive (a self-extractor's stub) shift every
    # offset it states: the directory ends where the end record begins.
    start = end - cd_size
    if start < 0 or cd_offset > start:
        raise ZipError("the archive's directory lies outside the file (cut short?)")
    return entries, cd_size, start, start - cd_offset


def _zip64_extra(extra: bytes, size: int, csize: int, offset: int) -> tuple[int, int, int]:
    pos = 0
    while pos + 4 <= len(extra):
        kind, length = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + length]
        if kind == 0x0001:
            values = [struct.unpack_from("<Q", body, i)[0] for i in range(0, len(body) - 7, 8)]
            if size == 0xFFFFFFFF and values:
                size = values.pop(0)
            if csize == 0xFFFFFFFF and values:
                csize = values.pop(0)
            if offset == 0xFFFFFFFF and values:
                offset = values.pop(0)
            break
        pos += 4 + length
    return size, csize, offset


def read_directory(data, files: int, entries: int) -> Directory:
    """The first ``files`` files of the archive, reading at most ``entries``
    directory entries: never more, whatever the archive declares."""
    declared, cd_size, start, shift = _end_record(data)
    members: list[Member] = []
    pos, end, read = start, start + cd_size, 0
    while read < min(declared, entries) and len(members) < files:
        head = bytes(data[pos : pos + _CENTRAL.size])
        if len(head) < _CENTRAL.size or head[:4] != b"PK\x01\x02" or pos + _CENTRAL.size > end:
            raise ZipError("the archive's directory is damaged or cut short")
        f = _CENTRAL.unpack(head)
        flags, method, crc, csize, size = f[5], f[6], f[9], f[10], f[11]
        name_len, extra_len, comment_len, offset = f[12], f[13], f[14], f[18]
        body = bytes(data[pos + _CENTRAL.size : pos + _CENTRAL.size + name_len + extra_len])
        size, csize, offset = _zip64_extra(body[name_len:], size, csize, offset)
        name = body[:name_len].decode("utf-8" if flags & 0x800 else "cp437", "replace")
        pos += _CENTRAL.size + name_len + extra_len + comment_len
        read += 1
        if not name.endswith("/"):
            members.append(Member(name, method, flags, crc, csize, size, offset + shift))
    return Directory(declared, members, read >= declared)


class MemberReader:
    """One member's bytes, a bounded step at a time.  ``read(n)`` returns at
    most ``n`` bytes; ``consumed`` counts the compressed bytes used so far.
    At the member's end its size and CRC are checked."""

    def __init__(self, data, member: Member):
        local = bytes(data[member.header_offset : member.header_offset + _LOCAL.size])
        if len(local) < _LOCAL.size or local[:4] != b"PK\x03\x04":
            raise ZipError("a member's header is missing (damaged archive)")
        f = _LOCAL.unpack(local)
        self._pos = member.header_offset + _LOCAL.size + f[10] + f[11]
        self._end = self._pos + member.compressed_size
        if self._end > len(data):
            raise ZipError("the archive is cut short inside this member")
        self._data = data
        self._member = member
        self._start = self._pos
        self.produced = 0
        self._crc = 0
        self._eof = False
        self._want_input = True
        self._tail = b""  # deflate input the decoder has not taken yet
        self._dec: zlib._Decompress | bz2.BZ2Decompressor | lzma.LZMADecompressor | None
        if member.method == STORED:
            self._dec = None
        elif member.method == DEFLATED:
            self._dec = zlib.decompressobj(-15)
        elif member.method == BZIP2:
            self._dec = bz2.BZ2Decompressor()
        elif member.method == LZMA:
            self._dec = self._lzma()
        else:
            raise ZipError(f"compression method {member.method} is not supported; please zip it with deflate")

    @property
    def consumed(self) -> int:
        return self._pos - self._start - len(self._tail)

    def _lzma(self) -> lzma.LZMADecompressor:
        # Zip's LZMA header: SDK version (2 bytes), size of the properties
        # (2), then the properties: lc/lp/pb in one byte, the dictionary size.
        head = bytes(self._data[self._pos : min(self._end, self._pos + 4)])
        if len(head) < 4:
            raise ZipError("an LZMA member without its header")
        props_size = struct.unpack_from("<H", head, 2)[0]
        props = bytes(self._data[self._pos + 4 : min(self._end, self._pos + 4 + props_size)])
        if props_size < 5 or len(props) < 5:
            raise ZipError("an LZMA member without its properties")
        dict_size = struct.unpack_from("<I", props, 1)[0]
        if dict_size > MAX_LZMA_DICT:
            raise ZipError(f"an LZMA member asks for a {dict_size:,}-byte dictionary (at most {MAX_LZMA_DICT:,} "
                           "are allowed): a decompression bomb?")
        lclppb = props[0]
        if lclppb >= 9 * 5 * 5:
            raise ZipError("an LZMA member with invalid properties")
        self._pos += 4 + props_size
        self._start = self._pos
        return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[{
            "id": lzma.FILTER_LZMA1, "dict_size": dict_size,
            "lc": lclppb % 9, "lp": lclppb // 9 % 5, "pb": lclppb // 45}])

    def _step(self, n: int) -> bytes:
        """At most ``n`` bytes: what one bounded step of the decoder gives."""
        if self._dec is None:
            out = bytes(self._data[self._pos : min(self._end, self._pos + n)])
            self._pos += len(out)
            self._eof = self._pos >= self._end
            return out
        data = b""
        if self._want_input:
            data = bytes(self._data[self._pos : min(self._end, self._pos + _INPUT_STEP)])
            self._pos += len(data)
        dec = self._dec
        if isinstance(dec, _Inflate):
            out = dec.decompress(self._tail + data, n)
            self._tail = dec.unconsumed_tail
            self._eof = dec.eof
            self._want_input = not self._tail and len(out) < n
        else:
            out = dec.decompress(data, n)
            self._eof = dec.eof
            self._want_input = dec.needs_input
        if self._member.method == LZMA and self.produced + len(out) >= self._member.size:
            # Zip's LZMA need not end with a marker: the size says where it ends.
            out = out[: self._member.size - self.produced]
            self._eof = True
        if not out and not self._eof and self._want_input and self._pos >= self._end:
            raise ZipError("the member's compressed data ends before the member does (damaged archive)")
        return out

    def read(self, n: int) -> bytes:
        parts: list[bytes] = []
        left = n
        while left > 0 and not self._eof:
            out = self._step(left)
            parts.append(out)
            left -= len(out)
            self.produced += len(out)
            self._crc = zlib.crc32(out, self._crc)
        if self._eof and (self.produced != self._member.size or self._crc != self._member.crc):
            if self.produced > self._member.size:
                raise ZipError("unpacks to more than it declares (a zip bomb?)")
            raise ZipError("damaged: its contents do not match the archive's checksum")
        return b"".join(parts)

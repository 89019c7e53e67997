"""Hostile archives for the tests, built in a moment; the memory a piece
of work costs, measured where nothing else runs (a fresh child process, by
its own peak VmHWM, never the test runner's); and what a verdict holds."""

from __future__ import annotations

import json
import lzma
import struct
import subprocess
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _local(name: bytes, method: int, crc: int, csize: int, size: int, flags: int = 0) -> bytes:
    return struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, method, 0, 0, crc, csize, size, len(name), 0) + name


def _central(name: bytes, method: int, crc: int, csize: int, size: int, offset: int, flags: int = 0) -> bytes:
    return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, method, 0, 0, crc, csize, size,
                       len(name), 0, 0, 0, 0, 0, offset) + name


def _end(entries: int, cd_size: int, cd_offset: int, zip64: bool = False) -> bytes:
    out = b""
    if zip64:
        record = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, entries, entries, cd_size, cd_offset)
        out = record + struct.pack("<IIQI", 0x07064B50, 0, cd_offset + cd_size, 1)
    return out + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(entries, 0xFFFF), min(entries, 0xFFFF),
                             min(cd_size, 0xFFFFFFFF), min(cd_offset, 0xFFFFFFFF), 0)


def lzma_member(data: bytes, dict_size: int = 1 << 20) -> bytes:
    """Zip's LZMA member data (header, properties, raw stream with its end
    marker), compressed with a small dictionary and then declaring
    ``dict_size``: what the decoder would be built with."""
    comp = lzma.LZMACompressor(lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA1, "preset": 0, "dict_size": 1 << 20}])
    stream = comp.compress(data) + comp.flush()
    props = bytes([3 + 9 * (0 + 5 * 2)]) + struct.pack("<I", dict_size)  # lc=3 lp=0 pb=2
    return struct.pack("<BBH", 9, 20, len(props)) + props + stream


def zip_with(name: str, method: int, payload: bytes, size: int, crc: int, *, pad: int = 0, flags: int = 0) -> bytes:
    """One member; ``pad`` zero bytes after its compressed data (counted in
    its compressed size, which is what a ratio check believes)."""
    raw = name.encode()
    payload += b"\0" * pad
    local = _local(raw, method, crc, len(payload), size, flags) + payload
    cd = _central(raw, method, crc, len(payload), size, 0, flags)
    return local + cd + _end(1, len(cd), len(local))


def lzma_dictionary_bomb(size: int = 64 * 1024**2, dict_size: int = 0xFFFFFFFF) -> bytes:
    """A member of ``size`` zeros whose LZMA header asks for a 4 GiB
    dictionary, padded so that its ratio looks like a real dump's (160:1)."""
    data = b"PAGEDU64" + b"\0" * (size - 8)
    member = lzma_member(data, dict_size)
    return zip_with("MEMORY.DMP", 14, member, size, zlib.crc32(data), pad=size // 160 - len(member), flags=0x2)


def many_members(count: int) -> bytes:
    """``count`` one-byte members (ZIP64, as tools write above 65,535), every
    directory entry pointing at one local header."""
    local = _local(b"a", 0, zlib.crc32(b"x"), 1, 1) + b"x"
    cd = _central(b"a", 0, zlib.crc32(b"x"), 1, 1, 0) * count
    return local + cd + _end(count, len(cd), len(local), zip64=True)


def gzip_of_zeros(size: int, stated: int | None = None) -> bytes:
    """A gzip of ``size`` zeros; ``stated`` replaces the size its trailer
    gives (a bomb that lies about itself)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * (1 << 24)
    out = [comp.compress(block) for _ in range(size >> 24)] + [comp.compress(b"\0" * (size & ((1 << 24) - 1))), comp.flush()]
    data = b"".join(out)
    if stated is not None:
        data = data[:-4] + struct.pack("<I", stated)
    return data


_PEAK = """
import json, sys
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
"""

_EXPAND = r"""
from analysis.intake import Blob, Budget, expand, open_path
import analysis.ziparchive, gzip, lzma, bz2, zlib  # imported before the first measure
blob = open_path(sys.argv[1])
budget = Budget.for_upload(len(blob))
problems = []
before = peak()
pieces = 0
for piece in expand(blob, problems, budget):
    pieces += 1
    piece.close()
print(json.dumps({"rise": peak() - before, "produced": budget.produced, "pieces": pieces, "problems": problems}))
"""


def in_child(code: str, *args: str) -> dict:
    """Run ``code`` in a fresh process (``peak()`` gives its own VmHWM in
    bytes, ``sys.argv[1:]`` are ``args``); what it printed, as JSON."""
    r = subprocess.run([sys.executable, "-c", _PEAK + code, *args], cwd=ROOT, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def expand_in_child(path: Path) -> dict:
    """Unpack ``path`` as an upload in a fresh process: how much its peak
    memory rose, the bytes decompressed, the pieces and the problems."""
    return in_child(_EXPAND, str(path))


def strings_in(value):
    """Every string of a verdict's JSON, however deep."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings_in(v)

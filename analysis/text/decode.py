"""Bytes of an uploaded log to text, whatever the engineer's machine wrote:
UTF-8 (with or without BOM), UTF-16 LE/BE (WinDbg's ``.logopen /u``),
GB18030/GBK (a Chinese Windows' notepad), Latin-1 as the last resort."""

from __future__ import annotations

import codecs

from analysis import marks
from analysis.inputs import looks_binary

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class NotText(ValueError):
    """The bytes are not a text log (binary junk, an unknown binary format)."""


def sniff_encoding(head: bytes) -> tuple[str, int]:
    """Encoding and BOM length, from the first few KB of the file."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name, len(bom)
    sample = head[:4096]
    if len(sample) >= 4:
        even_nuls = sample[0::2].count(0)
        odd_nuls = sample[1::2].count(0)
        half = len(sample) // 2
        # ASCII-heavy UTF-16 without a BOM: every other byte is zero.
        if odd_nuls > half * 0.4 and even_nuls < half * 0.05:
            return "utf-16-le", 0
        if even_nuls > half * 0.4 and odd_nuls < half * 0.05:
            return "utf-16-be", 0
    try:
        sample.decode("utf-8")
        return "utf-8", 0
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sample's end is still UTF-8.
        if exc.start >= len(sample) - 3 and exc.reason == "unexpected end of data":
            return "utf-8", 0
    try:
        sample.decode("gb18030")
        return "gb18030", 0
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3:
            return "gb18030", 0
    return "latin-1", 0


def decode(data: bytes | bytearray | memoryview) -> str:
    """Whole-buffer decode.  Undecodable bytes in an otherwise readable log
    become U+FFFD rather than failing the analysis."""
    data = bytes(data)
    encoding, skip = sniff_encoding(data[:8192])
    if encoding.startswith("utf-16"):
        text = data[skip:].decode(encoding, errors="replace")
        if looks_binary(text[:8192].encode("utf-8", "replace")):
            raise NotText("binary data")
        return text
    if looks_binary(data[skip:]):
        raise NotText("binary data")
    if encoding == "utf-8":
        try:
            raw = data[skip:]
            return marks.decoded_from(raw.decode("utf-8"), raw)
        except UnicodeDecodeError:
            encoding = "gb18030"
    try:
        return data[skip:].decode(encoding)
    except UnicodeDecodeError:
        return data[skip:].decode("utf-8", errors="replace")


def iter_decoded(chunks, head: bytes):
    """Incremental decode for inputs too large to hold as one string."""
    encoding, skip = sniff_encoding(head)
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    first = True
    for chunk in chunks:
        if first and skip:
            chunk = chunk[skip:]
        first = False
        yield decoder.decode(chunk)
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail

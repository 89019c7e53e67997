"""WinDbg transcripts (and what forums and mail clients did to them) in,
one DumpReport per crash out."""

from __future__ import annotations

from analysis.findings import Findings
from analysis.model import DumpReport
from analysis.text.assemble import fold, group, to_report
from analysis.text.clean import clean
from analysis.text.decode import NotText, decode, iter_decoded, sniff_encoding
from analysis.text.events import scan

__all__ = ["read_text", "read_large_text", "NotText", "NoCrashFound", "WHOLE_TEXT_LIMIT"]

# Texts up to this size are parsed whole; larger ones (a 200 MB log of
# !process 0 7) only around the places that mention a crash.
WHOLE_TEXT_LIMIT = 8 * 1024 * 1024
_WINDOW = 256 * 1024
_MAX_WINDOWS = 32
# Literal marks of crash output.  str.find scans for one at memchr speed,
# where a regex alternation would try every branch at every position.
_ANCHORS = (
    "Bugcheck Analysis", "BugCheck ", "Probably caused by", "Loading Dump File",
    "FAILURE_BUCKET_ID", "BUGCHECK_CODE", "\nArguments:", "Bug Check Code",
)


def _anchor_positions(block: str, limit: int) -> list[int]:
    found = []
    for needle in _ANCHORS:
        pos = block.find(needle, 0, limit)
        while pos >= 0:
            found.append(pos)
            pos = block.find(needle, pos + 1, limit)
    found.sort()
    return found


class NoCrashFound(ValueError):
    """Readable text, but no bug check, stack or analysis in it."""


def read_text(data: bytes, source: str) -> list[tuple[DumpReport, Findings]]:
    text = decode(data)
    return parse_text(text, source)


def parse_text(text: str, source: str) -> list[tuple[DumpReport, Findings]]:
    cleaned = clean(text)
    drafts = fold(group(scan(cleaned)))
    crashes = [d for d in drafts if d.has_crash()]
    # A stack with no crash around it is reported only when nothing better
    # is there: next to real crashes it is some other thread's output.
    results = [to_report(d, source) for d in (crashes or [d for d in drafts if d.stacks])]
    if not results:
        raise NoCrashFound("no bug check, stack or !analyze output found")
    return results


def read_large_text(chunks, head: bytes, source: str) -> list[tuple[DumpReport, Findings]]:
    """Stream a huge log: decode chunk by chunk, keep only windows around
    crash anchors, parse those.  Memory stays bounded by the window count."""
    encoding, _ = sniff_encoding(head)
    windows: list[str] = []
    pending = ""  # decoded text not yet searched to the end
    truncated = False
    pieces = iter_decoded(chunks, head)
    done = False
    while not done and not truncated:
        piece = next(pieces, None)
        done = piece is None
        block = pending + (piece or "")
        # An anchor in the last window's length is searched again with the
        # next chunk, so that its window is whole.
        limit = len(block) if done else max(0, len(block) - _WINDOW)
        covered = 0
        for pos in _anchor_positions(block, limit):
            if pos < covered:
                continue  # already inside the previous window
            if len(windows) >= _MAX_WINDOWS:
                truncated = True
                break
            # A little context before the anchor (the bug check name sits a
            # line above "Arguments:"), cut at a line start.
            start = block.rfind("\n", 0, max(0, pos - 512)) + 1 if pos > 512 else 0
            windows.append(block[start : pos + _WINDOW])
            covered = pos + _WINDOW
        pending = block[min(len(block), max(limit - 1024, covered, 0)) :]
    if not windows:
        raise NoCrashFound(f"no crash analysis found in the {encoding} text")
    results = parse_text("\n".join(windows), source)
    for report, _ in results:
        report.notes.append("large_text_windows")
        if truncated:
            report.partial = True
    return results

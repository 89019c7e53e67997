"""WinDbg transcripts (and what forums and mail clients did to them) in,
one DumpReport per crash out."""

from __future__ import annotations

from analysis.deadline import NEVER, Deadline
from analysis.inputs import Rejected
from analysis.findings import Findings
from analysis.model import DumpReport
from analysis.text.assemble import fold, group, to_report
from analysis.text.clean import clean
from analysis.text.decode import NotText, decode, iter_decoded, sniff_encoding
from analysis.text.events import scan_within

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


# Text kept before an anchor: the bug check's name sits a line above
# "Arguments:".  The window starts at a line start, but never further back
# than one line's length: a text of one 200 MB line has no line start to
# go back to (every window used to start at 0).
_CONTEXT = 512
_BACK = _CONTEXT + 2048


def _next_anchors(block: str, start: int, limit: int, found: dict[str, int]) -> int:
    """The first anchor at or after ``start`` (and before ``limit``), or -1.
    ``found`` keeps each needle's next position, so that each is searched
    for once over the block, not once per window."""
    best = -1
    for needle in _ANCHORS:
        pos = found.get(needle, -2)
        if pos == -2 or (0 <= pos < start):
            pos = block.find(needle, start, limit)
            found[needle] = pos
        if pos >= 0 and (best < 0 or pos < best):
            best = pos
    return best


def windows(pieces, deadline: Deadline = NEVER) -> tuple[list[str], bool]:
    """The windows of a decoded text around its crash anchors: each at most
    _BACK + _WINDOW characters, at most _MAX_WINDOWS of them (True: there
    were more, or the deadline passed before the text's end).  Text is kept
    only for the window being looked for."""
    found: list[str] = []
    pending = ""  # the end of the last block: context and anchors not searched to their window's end
    skip = 0  # where in ``pending`` the next anchor may start (the last window covers what is before)
    pieces = iter(pieces)
    while True:
        if deadline.expired():
            return found, True
        piece = next(pieces, None)
        done = piece is None
        block = pending + (piece or "")
        # An anchor within the last window's length is searched again with
        # the next piece, so that its window is whole.
        limit = len(block) if done else max(0, len(block) - _WINDOW)
        cursor = skip
        needles: dict[str, int] = {}
        while cursor < limit:
            pos = _next_anchors(block, cursor, limit, needles)
            if pos < 0:
                break
            if len(found) >= _MAX_WINDOWS:
                return found, True
            back = max(0, pos - _CONTEXT)
            line = block.rfind("\n", max(0, pos - _BACK), back)
            start = line + 1 if line >= 0 else back
            found.append(block[start : pos + _WINDOW])
            cursor = pos + _WINDOW
        if done:
            return found, False
        # Every anchor before ``limit`` is done with: the next block starts
        # one line's context before it.
        keep = max(0, limit - _BACK)
        pending, skip = block[keep:], max(cursor, limit) - keep


class NoCrashFound(Rejected):
    """Readable text, but no bug check, stack or analysis in it."""


def read_text(data: bytes, source: str, deadline: Deadline = NEVER) -> list[tuple[DumpReport, Findings]]:
    text = decode(data)
    return parse_text(text, source, deadline)


# What one text may describe.  A thread of e-mails holds a few dumps (the
# largest fixture: 3 drafts); 280,000 lines of "BugCheck 1A, {n, ...}" each
# opened a draft (300 MB) and folding them back compared every pair (hours).
# Events that can open a draft are counted before grouping, drafts before
# folding, crashes before reporting; a text cut so says so on its reports.
MAX_OPENING_EVENTS = 50_000
MAX_DRAFTS = 500
MAX_CRASHES = 100
_OPENING = frozenset(("field", "name_code", "arg", "bugcheck", "caused_by", "thread_process", "lm", "loading",
                      "prompt", "banner"))


def _opening_cut(events: list) -> int:
    """How many events to group: all, unless too many could open a draft."""
    seen = 0
    for i, e in enumerate(events):
        if e.kind in _OPENING:
            seen += 1
            if seen > MAX_OPENING_EVENTS:
                return i
    return len(events)


def parse_text(text: str, source: str, deadline: Deadline = NEVER) -> list[tuple[DumpReport, Findings]]:
    cleaned = clean(text)
    if deadline.expired():
        raise NoCrashFound("time_before_read")
    events, share = scan_within(cleaned, deadline)
    keep = _opening_cut(events)
    drafts = group(events[:keep] if keep < len(events) else events)
    cut = keep < len(events) or len(drafts) > MAX_DRAFTS
    drafts = fold(drafts[:MAX_DRAFTS])
    crashes = [d for d in drafts if d.has_crash()]
    cut = cut or len(crashes) > MAX_CRASHES
    # A stack with no crash around it is reported only when nothing better
    # is there: next to real crashes it is some other thread's output.
    results = [to_report(d, source) for d in (crashes[:MAX_CRASHES] or [d for d in drafts if d.stacks][:MAX_CRASHES])]
    if not results:
        if share is not None:
            raise NoCrashFound("time_part_read", share=f"{share:.0%}")
        raise NoCrashFound("no_crash_text")
    for report, _ in results:
        if cut:
            report.notes.append("crashes_cut")
        if share is not None:
            # What follows the line the time ran out at is not in the verdict.
            report.notes.append("time_limit")
            report.partial = True
    return results


def read_large_text(chunks, head: bytes, source: str, deadline: Deadline = NEVER) -> list[tuple[DumpReport, Findings]]:
    """Stream a huge log: decode chunk by chunk, keep only windows around
    crash anchors, parse those.  Memory and work stay bounded by the window
    count and size, whatever the lines look like."""
    encoding, _ = sniff_encoding(head)
    found, truncated = windows(iter_decoded(chunks, head), deadline)
    timed_out = truncated and deadline.expired()
    if not found:
        if timed_out:
            raise NoCrashFound("time_before_crash")
        raise NoCrashFound("no_crash_large", encoding=encoding)
    results = parse_text("\n".join(found), source, deadline)
    for report, _ in results:
        report.notes.append("large_text_windows")
        if truncated:
            report.partial = True
        if timed_out and "time_limit" not in report.notes:
            report.notes.append("time_limit")
    return results

"""WinDbg transcripts (and what forums and mail clients did to them) in,
one DumpReport per crash out.

A text is read as it streams: cleaned, scanned, grouped into drafts and
folded block by block, so that a text of any size is read whole in
bounded memory (a text up to WHOLE_TEXT_LIMIT is one block)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from analysis.deadline import NEVER, Deadline
from analysis.findings import Findings
from analysis.inputs import Rejected
from analysis.model import DumpReport
from analysis.text.assemble import MAX_CRASHES, Folder, Grouper, to_report
from analysis.text.clean import clean
from analysis.text.decode import NotText, decode, iter_decoded, sniff_encoding
from analysis.text.events import Scanner

__all__ = ["read_text", "read_large_text", "parse_text", "NotText", "NoCrashFound", "WHOLE_TEXT_LIMIT",
           "MAX_CRASHES"]

# Texts up to this many bytes are decoded whole (and read by the report
# readers too, see analysis.pipeline); larger ones are read in blocks of
# BLOCK characters, each ending at a line end.  A line longer than a block
# (no debugger writes one) is broken at the block's end.  A block is held a
# few times over while it is cleaned and scanned, at up to 4 bytes a
# character (one emoji in a forum paste makes every character 4 bytes):
# blocks of 4 Mi characters took a 1 GB log to 312 MB resident, of 1 Mi
# to under 100 MB, at the same speed.
WHOLE_TEXT_LIMIT = 8 * 1024 * 1024
BLOCK = 1024 * 1024


class NoCrashFound(Rejected):
    """Readable text, but no bug check, stack or analysis in it."""


class _Reading:
    """One text on its way through: what its blocks said, folded into the
    drafts of its crashes as they come."""

    def __init__(self, deadline: Deadline):
        self.scanner = Scanner(deadline)
        self.folder = Folder()
        self.grouper = Grouper(self.folder)
        self.previous: tuple[int, int, str] = (0, 0, "")  # the block before: its start, lines before it, text
        self.left_line: int | None = None  # the line the first crash let go starts on

    def feed(self, cleaned: str, final: bool) -> bool:
        """Read one cleaned block; False once the time ran out in it."""
        sc = self.scanner
        self.previous = (sc.base, sc.lines_before, sc.text)
        events = sc.feed(cleaned, final)
        self.grouper.base = sc.base
        self.grouper.feed(events)
        if self.left_line is None and self.folder.first_left_out is not None:
            self.left_line = self.line_of(self.folder.first_left_out)
        return sc.stopped_at is None

    def line_of(self, pos: int) -> int:
        """The line (from 1) of a character of the whole cleaned text, while
        it is in this block or the one before; a crash that began earlier
        still (more than a block long) is given the first line of that one."""
        sc = self.scanner
        for base, before, text in ((sc.base, sc.lines_before, sc.text), self.previous):
            if pos >= base:
                return before + text.count("\n", 0, pos - base) + 1
        return self.previous[1] + 1

    def reports(self, source: str, share: float | None) -> list[tuple[DumpReport, Findings]]:
        """The crashes, as reports; ``share``: how much of the text was read
        when the time ran out (None: all of it)."""
        self.grouper.close()
        if self.left_line is None and self.folder.first_left_out is not None:
            self.left_line = self.line_of(self.folder.first_left_out)
        drafts = self.folder.result()
        crashes = [d for d in drafts if d.has_crash()]
        cut = self.folder.cut or len(crashes) > MAX_CRASHES
        # Which crashes are not in the verdict: how many, from which line on.
        left, line = self.folder.left_out + len(crashes[MAX_CRASHES:]), self.left_line
        if crashes[MAX_CRASHES:]:
            first = self.line_of(crashes[MAX_CRASHES].start)
            line = first if line is None else min(line, first)
        # A stack with no crash around it is reported only when nothing better
        # is there: next to real crashes it is some other thread's output.
        chosen = crashes[:MAX_CRASHES] or [d for d in drafts if d.stacks][:MAX_CRASHES]
        results = [to_report(d, source) for d in chosen]
        stop = self.first_unread_line() if share is not None else None
        if not results:
            if share is not None:
                raise NoCrashFound("time_part_read", share=f"{share:.0%}", line=f"{stop:,}")
            raise NoCrashFound("no_crash_text")
        for report, _ in results:
            if cut:
                report.notes.append("crashes_cut")
                if left and line is not None:
                    report.notes.append(f"crashes_left:{left}:{line}")
            if share is not None:
                # What follows the place the time ran out at is not in the verdict.
                report.notes.append("time_limit")
                report.notes.append(f"time_limit_at:{stop}:{share:.0%}")
                report.partial = True
        return results

    def first_unread_line(self) -> int:
        """The line the time ran out at: within a block, where the scanner
        stopped; between two, the first line of the block not read."""
        sc = self.scanner
        at = sc.stopped_at if sc.stopped_at is not None else len(sc.text) - len(sc.tail)
        return self.line_of(sc.base + at)


def read_text(data: bytes, source: str, deadline: Deadline = NEVER) -> list[tuple[DumpReport, Findings]]:
    return parse_text(decode(data), source, deadline)


def parse_text(text: str, source: str, deadline: Deadline = NEVER) -> list[tuple[DumpReport, Findings]]:
    """A decoded text read as one block."""
    cleaned = clean(text)
    if deadline.expired():
        raise NoCrashFound("time_before_read")
    reading = _Reading(deadline)
    done = reading.feed(cleaned, True)
    stopped = reading.scanner.stopped_at
    return reading.reports(source, None if done or stopped is None else stopped / len(cleaned))


def _blocks(pieces: Iterable[str]) -> Iterator[tuple[str, bool]]:
    """Decoded pieces regrouped into blocks of about BLOCK characters, each
    ending at a line end; True with the last."""
    buf = ""
    for piece in pieces:
        buf = buf + piece if buf else piece
        while len(buf) >= BLOCK:
            cut = buf.rfind("\n", 0, BLOCK) + 1
            if cut:
                yield buf[:cut], False
            else:
                cut = BLOCK
                yield buf[:cut] + "\n", False
            buf = buf[cut:]
    yield buf, True


def read_large_text(chunks: Iterable[bytes], head: bytes, source: str, deadline: Deadline = NEVER,
                    size: int | None = None) -> list[tuple[DumpReport, Findings]]:
    """A text too large to hold, read whole as it streams: decoded, cleaned
    and read block by block; memory stays bounded by the block size and the
    drafts kept (analysis.text.assemble), whatever the text's size."""
    encoding, _ = sniff_encoding(head)
    taken = 0

    def counted() -> Iterator[bytes]:
        nonlocal taken
        for chunk in chunks:
            taken += len(chunk)
            yield chunk

    reading = _Reading(deadline)
    share = None
    for block, final in _blocks(iter_decoded(counted(), head)):
        if deadline.expired() or not reading.feed(clean(block), final):
            share = taken / size if size else 0.0
            break
    try:
        return reading.reports(source, share)
    except NoCrashFound as exc:
        if exc.code == "no_crash_text":
            raise NoCrashFound("no_crash_large", encoding=encoding) from None
        raise

"""WinDbg transcripts (and what forums and mail clients did to them) in,
one DumpReport per crash out.

A text is read as it streams: cleaned, scanned, grouped into drafts and
folded block by block, so that a text of any size is read whole in
bounded memory (a text up to WHOLE_TEXT_LIMIT is one block)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from analysis import native
from analysis.deadline import NEVER, Deadline
from analysis.findings import Findings
from analysis.inputs import Rejected
from analysis.model import DumpReport
from analysis.text.assemble import MAX_CRASHES, Folder, Grouper, to_report
from analysis.text.clean import clean, last_break_end
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


class _Lines:
    """Which line of the whole cleaned text a position lies on, for the
    grouper and the folder.  Apart from the _Reading that holds them: their
    bound methods there made each reading a cycle (reading -> grouper ->
    method -> reading), which only the collector frees, and while it is
    paused (analysis/collector.py) every text of a batch, as sent and as
    cleaned, stayed in memory until the batch's end (tests/test_collector.py)."""

    __slots__ = ("scanner", "counted", "previous")

    def __init__(self, scanner: Scanner):
        self.scanner = scanner
        self.counted: tuple[str, int, int] = ("", 0, 1)  # line_at's last count: its text, position, line
        self.previous: tuple[int, int, str] = (0, 0, "")  # the block before: its start, lines before it, text

    def line_at(self, pos: int) -> int:
        """The line (from 1) of the whole cleaned text that a position in the
        block being read lies on: counted on from the last one asked for
        (a draft is given its line as it begins, in the order of the text)."""
        text, before = self.scanner.text, self.scanner.lines_before
        counted, at, line = self.counted
        if counted is not text or pos < at:
            at, line = 0, before + 1
        line += text.count("\n", at, pos)
        self.counted = (text, pos, line)
        return line

    def line_of(self, pos: int) -> int:
        """The line (from 1) of a character of the whole cleaned text, while
        it is in this block or the one before; one earlier still is given
        the first line of the block before (only a draft kept asks, when
        the next one begins)."""
        sc = self.scanner
        if pos >= sc.base:
            return self.line_at(pos - sc.base)
        base, before, text = self.previous
        return before + (text.count("\n", 0, pos - base) if pos >= base else 0) + 1


class _Reading:
    """One text on its way through: what its blocks said, folded into the
    drafts of its crashes as they come."""

    def __init__(self, deadline: Deadline):
        self.scanner = Scanner(deadline)
        self.folder = Folder()
        self.grouper = Grouper(self.folder)
        self.lines = _Lines(self.scanner)
        self.grouper.line_at = self.lines.line_at
        self.folder.line_of = self.lines.line_of
        # clean() moved line breaks (HTML breaks, entities, glued fields):
        # the lines counted are the cleaned text's, not those the sender sees.
        self.moved = False
        self.sent: str | None = None  # a text read whole, as sent (moved is settled when a note needs it)

    def feed(self, cleaned: str, final: bool) -> bool:
        """Read one cleaned block; False once the time ran out in it."""
        sc = self.scanner
        self.lines.previous = (sc.base, sc.lines_before, sc.text)
        events = sc.feed(cleaned, final)
        self.grouper.base = sc.base
        self.grouper.feed(events)
        return sc.stopped_at is None

    def reports(self, source: str, share: float | None) -> list[tuple[DumpReport, Findings]]:
        """The crashes, as reports; ``share``: how much of the text was read
        when the time ran out (None: all of it)."""
        self.grouper.close()
        drafts = self.folder.result()
        crashes = [d for d in drafts if d.has_crash()]
        cut = self.folder.cut or len(crashes) > MAX_CRASHES
        # Which crashes are not in the verdict: how many, from which line on.
        left, line = self.folder.left_out + len(crashes[MAX_CRASHES:]), self.folder.first_left_out
        if crashes[MAX_CRASHES:]:
            first = crashes[MAX_CRASHES].line
            line = first if line is None else min(line, first)
        # A stack with no crash around it is reported only when nothing better
        # is there: next to real crashes it is some other thread's output.
        chosen = crashes[:MAX_CRASHES] or [d for d in drafts if d.stacks][:MAX_CRASHES]
        results = [to_report(d, source) for d in chosen]
        stop = self.first_unread_line() if share is not None else None
        # ":cleaned": the line is counted in the text as cleaned, which has
        # other line breaks than the one sent.
        if self.sent is not None and (stop is not None or (cut and left)):
            self.moved = line_ends(self.sent) != lf_count(self.scanner.text)
        of = ":cleaned" if self.moved else ""
        if not results:
            if share is not None:
                raise NoCrashFound("time_part_read_cleaned" if of else "time_part_read", share=f"{share:.0%}",
                                   line=stop)  # a number: each language writes it its own way
            raise NoCrashFound("no_crash_text")
        for report, _ in results:
            if cut:
                report.notes.append("crashes_cut")
                if left and line is not None:
                    report.notes.append(f"crashes_left:{left}:{line}{of}")
            if share is not None:
                # What follows the place the time ran out at is not in the verdict.
                report.notes.append("time_limit")
                report.notes.append(f"time_limit_at:{stop}:{share:.0%}{of}")
                report.partial = True
        return results

    def read_to(self) -> int:
        """Where the reading stopped in the whole cleaned text: within a
        block, where the scanner stopped; between two, where the block not
        read starts (the last one's last line waits for it)."""
        sc = self.scanner
        return sc.base + (sc.stopped_at if sc.stopped_at is not None else len(sc.text) - len(sc.tail))

    def first_unread_line(self) -> int:
        """The line the time ran out at."""
        return self.lines.line_at(self.read_to() - self.scanner.base)


def line_breaks_py(text: str) -> tuple[int, int, int]:
    """How many LF, CR and CR LF a text holds (the twin of analysis._lines.line_breaks)."""
    return text.count("\n"), text.count("\r"), text.count("\r\n")


_LINES_CORE = native.load("lines")
_line_breaks = _LINES_CORE.line_breaks if _LINES_CORE is not None else line_breaks_py


def line_ends(text: str) -> int:
    """The lines a text's sender sees end: LF, CRLF and a CR alone."""
    lf, crs, crlfs = _line_breaks(text)
    return lf + crs - crlfs


def lf_count(text: str) -> int:
    """The text's LF."""
    return _line_breaks(text)[0]


def read_text(data: bytes, source: str, deadline: Deadline = NEVER) -> list[tuple[DumpReport, Findings]]:
    return parse_text(decode(data), source, deadline)


def parse_text(text: str, source: str, deadline: Deadline = NEVER) -> list[tuple[DumpReport, Findings]]:
    """A decoded text read as one block."""
    cleaned = clean(text)
    if deadline.expired():
        raise NoCrashFound("time_before_read")
    reading = _Reading(deadline)
    reading.sent = text
    done = reading.feed(cleaned, True)
    stopped = reading.scanner.stopped_at
    return reading.reports(source, None if done or stopped is None else stopped / len(cleaned))


def _blocks(pieces: Iterable[str]) -> Iterator[tuple[str, bool]]:
    """Decoded pieces regrouped into blocks of about BLOCK characters, each
    ending at a line end (LF, or a CR alone); True with the last."""
    buf = ""
    for piece in pieces:
        buf = buf + piece if buf else piece
        while len(buf) > BLOCK:  # (the character after the block's last is known)
            # A line end of either kind (clean makes a lone CR one): a CR
            # followed by an LF is found as that LF, so that a CRLF is never
            # cut in two (a second, blank line).
            cut = max(buf.rfind("\n", 0, BLOCK + 1), buf.rfind("\r", 0, BLOCK)) + 1
            if cut:
                yield buf[:cut], False
            else:
                # No line end: after the last HTML break tag, which is the
                # line end of a page saved on one line (clean takes the
                # line end given after it as the tag's own), or else at the
                # block's end.
                cut = last_break_end(buf, BLOCK) or BLOCK
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

    decoded = 0  # characters the bytes taken so far decoded to

    def pieces() -> Iterator[str]:
        nonlocal decoded
        for piece in iter_decoded(counted(), head):
            decoded += len(piece)
            yield piece

    reading = _Reading(deadline)
    share = None
    fed = cleaned_fed = 0  # characters of the blocks fed, before and after clean
    for block, final in _blocks(pieces()):
        if deadline.expired():
            stopped = True
        else:
            cleaned = clean(block)
            fed, cleaned_fed = fed + len(block), cleaned_fed + len(cleaned)
            if not reading.moved and line_ends(block) != lf_count(cleaned):
                reading.moved = True
            stopped = not reading.feed(cleaned, final)
        if stopped:
            # How much of the text lies before where the reading stopped: the
            # bytes taken run ahead of it (by what decoding and the block
            # being built hold), so it is counted in characters read, as
            # bytes at the rate the text decoded at so far.
            read = reading.read_to() * (fed / cleaned_fed if cleaned_fed else 1.0)
            share = min(1.0, read * (taken / decoded if decoded else 1.0) / size) if size else 0.0
            break
    try:
        return reading.reports(source, share)
    except NoCrashFound as exc:
        if exc.code == "no_crash_text":
            raise NoCrashFound("no_crash_large", encoding=encoding) from None
        raise

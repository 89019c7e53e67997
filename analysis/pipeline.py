"""All the evidence of one case in, one CaseReport out.

Pure: bytes (or mapped files) in, verdict out; whoever calls it decides
where the bytes came from and where the verdict goes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from analysis import collector
from analysis.attribution import judge
from analysis.findings import Findings
from analysis.correlate import correlate
from analysis.deadline import NEVER, Deadline, TimeBudget
from analysis.intake import (
    KIND_APP, KIND_KERNEL32, KIND_KERNEL64, KIND_TEXT, Blob, Rejected, expand, open_path, sniff,
)
from analysis.inputs import said
from analysis.marks import Marks
from analysis.model import CaseReport, DumpReport, module_key


_NOT_READ = said("not_read_time")
# Crashes one case verdict holds: a zip of 200 pastes of 100 crashes each
# would otherwise make a verdict of 20,000.
MAX_CASE_DUMPS = 500
# Frames and modules a dump's verdict lists (WinDbg's k shows 20 frames; a
# busy machine loads a few hundred modules).
MAX_FRAMES = 256
MAX_MODULES = 2048


@dataclass
class Outcome:
    case: CaseReport
    problems: list[tuple[str, str]] = field(default_factory=list)  # (source, message)
    # What the inputs say about the machines besides crashes: an inventory
    # (analysis.reports.Inventory), an event log's MachineLog.
    context: list[object] = field(default_factory=list)

    @property
    def analysed(self) -> bool:
        # An event log with no crash in it is an answer too: "no blue
        # screen recorded between X and Y".
        from analysis.eventlog.machine import MachineLog

        return bool(self.case.dumps) or any(isinstance(c, MachineLog) for c in self.context)


def read_blob(blob: Blob, context: list[object] | None = None,
              deadline: Deadline = NEVER) -> list[tuple[DumpReport, Findings]]:
    """One file (not a container) -> the crashes it describes, as far as the
    deadline lets the reader go.  What it says about the machine besides (an
    inventory of installed drivers, an event log's timeline) is added to
    ``context``."""
    from analysis import eventlog

    if deadline.expired():
        raise Rejected("not_read_time")

    shape = eventlog.sniff(blob.head(65536))
    if shape is not None:
        reading = eventlog.read_event_log(blob, shape)
        if context is not None:
            context.extend(reading.context)
        return reading.crashes
    kind = sniff(blob.head(16))
    if kind in (KIND_KERNEL64, KIND_KERNEL32):
        from analysis.binary.kernel import read_kernel_dump

        return [read_kernel_dump(blob.data, blob.name)]
    if kind == KIND_APP:
        from analysis.binary.app import read_app_dump

        return [read_app_dump(blob.data, blob.name)]
    assert kind == KIND_TEXT
    from analysis import text

    try:
        if len(blob) > text.WHOLE_TEXT_LIMIT:
            return text.read_large_text(blob.chunks(text.BLOCK), blob.head(), blob.name, deadline, len(blob))
        return read_decoded(text.decode(bytes(blob.data)), blob.name, context if context is not None else [], deadline)
    except text.NotText:
        raise Rejected("not_evidence") from None


# Literal marks of debugger output: with one of them the WinDbg reader reads
# the text even when a report reader found its shape there too.
_WINDBG_MARKS = ("Bugcheck Analysis", "BUGCHECK_CODE", "FAILURE_BUCKET_ID", "STACK_TEXT", "Probably caused by",
                 "Loading Dump File", "\nArg1: ", "MODULE_NAME:", "BugCheck ", "Child-SP", "ChildEBP", "kd> ")
# Its words are searched in the same pass as the report readers' (asked
# before them, while their folded copy of the text is held).
_WINDBG_GATE = Marks(_WINDBG_MARKS)


def read_decoded(decoded: str, source: str, context: list[object],
                 deadline: Deadline = NEVER) -> list[tuple[DumpReport, Findings]]:
    """The text dispatcher: the report readers (analysis.reports) and the
    WinDbg reader each try the text; a crash two of them describe counts once."""
    from analysis import text
    from analysis.reports import XmlRefused, read_reports
    from analysis.reports.bluescreen import is_screen_text

    windbg_marked = _WINDBG_GATE.found(decoded)
    try:
        readings = read_reports(decoded, source)
    except XmlRefused:
        raise Rejected("xml_refused") from None
    found = [crash for reading in readings for crash in reading.crashes]
    for reading in readings:
        context.extend(reading.context)
    if not found or windbg_marked:
        try:
            windbg = text.parse_text(decoded, source, deadline)
        except text.NoCrashFound:
            if not readings:
                raise
            windbg = []
        # The screen's sentences are looked for only when a screen and the
        # debugger's output are both there (a scan of the text, mostly not needed).
        screen = bool(windbg) and any(c[0].kind == "blue-screen" for c in found) and is_screen_text(decoded)
        found = windbg + [crash for crash in found if not _same_crash_told(crash, windbg)
                          and (screen or crash[0].kind != "blue-screen" or not windbg)]
    if not found and readings:
        what = ", ".join(sorted({getattr(c, "source", "listing") for r in readings for c in r.context}))
        raise Rejected("inventory_only", what=what)
    return found


def _same_crash_told(crash: tuple[DumpReport, Findings], windbg: list[tuple[DumpReport, Findings]]) -> bool:
    """A report reader's crash that the WinDbg output of the same text also
    describes (its dump header, the screen of that crash): what the report
    adds fills the debugger's record, and it is not counted again."""
    report, findings = crash
    ident = set(report.identity)
    for other, other_findings in windbg:
        a, b = report.bugcheck, other.bugcheck
        same = bool(ident & set(other.identity)) or (a is not None and b is not None and a.code == b.code and (
            report.kind == "blue-screen" or (len(a.args) == 4 and a.args == b.args)))
        if same:
            other.os.build = other.os.build or report.os.build
            other.os.arch = other.os.arch or report.os.arch
            other.processors = other.processors or report.processors
            other.computer = other.computer or report.computer
            for info in report.modules.values():
                other.modules.setdefault(module_key(info.name), info)
            other_findings.claims.extend(findings.claims)
            return True
    return False


class _SeenContent:
    """The pieces of one submission read so far, for "the same file twice".
    Two pieces of the same content are of the same length: a piece's digest
    is taken only once another of its length comes, and the digest of a
    piece that stays open after it is read (a blob as given, not an archive
    member) waits until then: one file alone is never hashed (sha256 of a
    50 KB paste cost 3 % of its analysis)."""

    def __init__(self) -> None:
        self.digests: dict[int, set[bytes]] = {}
        self.waiting: dict[int, list[Blob]] = {}

    def again(self, piece: Blob, open_after: bool) -> bool:
        size = len(piece)
        if size not in self.digests and size not in self.waiting:
            if open_after:
                self.waiting[size] = [piece]
            else:
                self.digests[size] = {piece.digest()}  # a member: closed once read
            return False
        digests = self.digests.setdefault(size, set())
        digests.update(earlier.digest() for earlier in self.waiting.pop(size, ()))
        digest = piece.digest()
        if digest in digests:
            return True
        digests.add(digest)
        return False


def analyze_blobs(blobs: list[Blob], budget: TimeBudget = TimeBudget(), known: Sequence[dict] = ()) -> Outcome:
    """``known``: known issues beyond the shipped table (those a support lead
    confirmed on the desk), as rules in known_issues.json's format."""
    """Every input gets ``budget.per_input`` seconds (itself and whatever it
    unpacks to), all of them together ``budget.total``: an input the time
    ran out in is reported as far as it was read (note time_limit), one not
    reached is named in the problems."""
    with collector.paused():
        return _analyze(blobs, budget, known)


def _analyze(blobs: list[Blob], budget: TimeBudget, known: Sequence[dict]) -> Outcome:
    problems: list[tuple[str, str]] = []
    found: list[tuple[DumpReport, Findings]] = []
    context: list[object] = []
    seen = _SeenContent()
    case_deadline = Deadline(budget.total, budget.clock)
    for blob in blobs:
        if case_deadline.expired():
            problems.append((blob.name, _NOT_READ))
            continue
        deadline = case_deadline.within(budget.per_input)
        for piece in expand(blob, problems, deadline=deadline):
            if seen.again(piece, open_after=piece is blob):
                problems.append((piece.name, said("same_content")))
                continue
            try:
                found.extend(read_blob(piece, context, deadline))
            except Rejected as exc:
                problems.append((piece.name, exc.said()))
            finally:
                if piece is not blob:
                    piece.close()
    reports: list[DumpReport] = []
    # Mark of identity -> the first report holding it: one look per mark,
    # where comparing every report with every other was quadratic.
    holder: dict[object, int] = {}
    for report, findings in found:
        report.culprit = judge(report, findings)
        _bound_lists(report)
        ident = set(report.identity)
        same = min((holder[k] for k in ident if k in holder), default=None)
        if same is not None:
            # The same crash described again (its log next to its dump): keep
            # whichever says more.
            if _richness(report) > _richness(reports[same]):
                reports[same] = report
                for k in ident:
                    holder[k] = min(holder.get(k, same), same)
            continue
        if len(reports) >= MAX_CASE_DUMPS:
            problems.append((report.source, said("case_cut", max=MAX_CASE_DUMPS)))
            break
        for k in ident:
            holder.setdefault(k, len(reports))
        reports.append(report)
    return Outcome(correlate(reports, context, known), problems, context)


def _bound_lists(report: DumpReport) -> None:
    """What a verdict lists of one dump, once the culprit is judged on all of
    it: a paste of 60,000 frame lines is one stack of 60,000 frames."""
    if len(report.stack) > MAX_FRAMES:
        report.stack = report.stack[:MAX_FRAMES]
        if "stack_cut" not in report.notes:
            report.notes.append("stack_cut")
    if len(report.modules) > MAX_MODULES:
        report.modules = dict(list(report.modules.items())[:MAX_MODULES])
        if "modules_cut" not in report.notes:
            report.notes.append("modules_cut")


def _richness(report: DumpReport) -> tuple:
    c = report.culprit
    return (bool(c and c.third_party), bool(c and c.module), len(report.third_party_modules),
            bool(report.stack), len(report.modules), not report.partial)


def analyze_labelled(items: list[tuple[str, str]], budget: TimeBudget = TimeBudget(),
                     opener: Callable[[str], Blob] = open_path, known: Sequence[dict] = ()) -> Outcome:
    """Files under the labels a person knows them by (upload names, not the
    paths they are stored at); each dump's ``source`` is its label.
    ``opener`` turns where a file is kept into a Blob (the caller's, when
    files are kept elsewhere than on a local disk)."""
    blobs, problems = [], []
    for label, path in items:
        try:
            blob = opener(path)
        except Rejected as exc:
            problems.append((label, exc.said()))
            continue
        blob.name = label
        blobs.append(blob)
    try:
        outcome = analyze_blobs(blobs, budget, known)
    finally:
        for b in blobs:
            b.close()
    outcome.problems[:0] = problems
    return outcome


def analyze_paths(paths: list[str], budget: TimeBudget = TimeBudget()) -> Outcome:
    """Files named by their paths (the command line)."""
    return analyze_labelled([(path, path) for path in paths], budget)

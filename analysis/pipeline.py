"""All the evidence of one case in, one CaseReport out.

Pure: bytes (or mapped files) in, verdict out; whoever calls it decides
where the bytes came from and where the verdict goes."""

from __future__ import annotations

from dataclasses import dataclass, field

from analysis.attribution import judge
from analysis.findings import Findings
from analysis.correlate import correlate
from analysis.intake import (
    KIND_APP, KIND_KERNEL32, KIND_KERNEL64, KIND_TEXT, Blob, Rejected, expand, open_path, sniff,
)
from analysis.model import CaseReport, DumpReport


@dataclass
class Outcome:
    case: CaseReport
    problems: list[tuple[str, str]] = field(default_factory=list)  # (source, message)

    @property
    def analysed(self) -> bool:
        return bool(self.case.dumps)


def read_blob(blob: Blob) -> list[tuple[DumpReport, Findings]]:
    """One file (not a container) -> the crashes it describes."""
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
            return text.read_large_text(blob.chunks(), blob.head(), blob.name)
        return text.read_text(bytes(blob.data), blob.name)
    except text.NotText:
        raise Rejected("not a WinDbg log, a crash dump, or an archive of them") from None
    except text.NoCrashFound as exc:
        raise Rejected(f"readable text, but {exc}") from None


def analyze_blobs(blobs: list[Blob]) -> Outcome:
    problems: list[tuple[str, str]] = []
    found: list[tuple[DumpReport, Findings]] = []
    seen_digests: set[bytes] = set()
    for blob in blobs:
        for piece in expand(blob, problems):
            digest = piece.digest()
            if digest in seen_digests:
                problems.append((piece.name, "same content as another input; counted once"))
                continue
            seen_digests.add(digest)
            try:
                found.extend(read_blob(piece))
            except Rejected as exc:
                problems.append((piece.name, str(exc)))
            finally:
                if piece is not blob:
                    piece.close()
    reports: list[DumpReport] = []
    identities: list[set] = []
    for report, findings in found:
        report.culprit = judge(report, findings)
        ident = set(report.identity)
        same = next((i for i, other in enumerate(identities) if ident and ident & other), None)
        if same is not None:
            # The same crash described again (its log next to its dump): keep
            # whichever says more.
            if _richness(report) > _richness(reports[same]):
                reports[same] = report
                identities[same] |= ident
            continue
        identities.append(ident)
        reports.append(report)
    return Outcome(correlate(reports), problems)


def _richness(report: DumpReport) -> tuple:
    c = report.culprit
    return (bool(c and c.third_party), bool(c and c.module), len(report.third_party_modules),
            bool(report.stack), len(report.modules), not report.partial)


def analyze_labelled(items: list[tuple[str, str]]) -> Outcome:
    """Files under the labels a person knows them by (upload names, not the
    paths they are stored at); each dump's ``source`` is its label."""
    blobs, problems = [], []
    for label, path in items:
        try:
            blob = open_path(path)
        except Rejected as exc:
            problems.append((label, str(exc)))
            continue
        blob.name = label
        blobs.append(blob)
    try:
        outcome = analyze_blobs(blobs)
    finally:
        for b in blobs:
            b.close()
    outcome.problems[:0] = problems
    return outcome


def analyze_paths(paths: list[str]) -> Outcome:
    """Files named by their paths (the command line)."""
    return analyze_labelled([(path, path) for path in paths])

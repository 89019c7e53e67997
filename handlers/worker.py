"""What runs in the analysis worker processes: stored files of a case in,
the case verdict (JSON for the record, a Doc for the chat) out.  Kept apart
from the event loop: a MEMORY.DMP of hundreds of MB must not stall the
acknowledgement of the next chat event."""

from __future__ import annotations

from analysis.intake import KIND_KERNEL32, KIND_KERNEL64, Blob, Rejected, open_path, sniff
from analysis.model import CaseReport
from analysis.deadline import TimeBudget
from analysis.pipeline import analyze_labelled
from analysis.render.as_json import ENGINE_VERSION, case_json, errors_json
from analysis.render.doc import Doc
from analysis.render.verdict import case_doc, code_label

__all__ = ["analyze_case_files", "ENGINE_VERSION"]


def summary_text(case: CaseReport) -> str:
    """One searchable line per verdict: codes, names, modules, vendor."""
    parts = []
    for d in case.dumps:
        if d.bugcheck:
            parts.append(code_label(d.bugcheck.code, "en"))
        if d.culprit and d.culprit.module:
            parts.append(" ".join(x for x in (d.culprit.module, d.culprit.image, d.culprit.vendor,
                                              d.culprit.vendor_zh, d.culprit.product) if x))
    if case.vendor:
        parts.append(" ".join(x for x in (case.vendor, case.vendor_zh, case.product) if x))
    return " | ".join(parts)


def open_stored(location: str) -> Blob:
    """A stored file as the readers take it.  A local file is mapped; an
    object in S3 storage that is a kernel dump is read in place, range by
    range (a MEMORY.DMP of many GB costs the pages the walk reads); any
    other object is read start to end anyway, so it is fetched to a temp
    file first."""
    from store.files import RangedObject, is_s3

    if not is_s3(location):
        return open_path(location)
    import mmap
    import tempfile

    obj = RangedObject(location)
    if len(obj) == 0:
        raise Rejected("the file is empty")
    if sniff(obj[:16]) in (KIND_KERNEL64, KIND_KERNEL32):
        return Blob(location, obj)  # type: ignore[arg-type]
    tmp = tempfile.TemporaryFile(prefix="crashdesk-s3-")
    obj.download(tmp)
    tmp.flush()
    return Blob(location, mmap.mmap(tmp.fileno(), 0, access=mmap.ACCESS_READ), _keep=tmp)


def analyze_case_files(items: list[tuple[str, str]], lang: str, detail: list[str] | None,
                       storage: str | None = None, known: list[dict] | None = None,
                       seconds: float | None = None) -> tuple[dict, dict, Doc, str]:
    """The verdict in English and in Chinese (the record keeps both, for the
    board's language switch), the chat reply in the asker's language, and
    the searchable summary."""
    budget = TimeBudget(total=seconds) if seconds else TimeBudget()
    outcome = analyze_labelled(items, budget, opener=open_stored, known=known or ())
    verdict_en = case_json(outcome.case, "en", errors_json(outcome.problems, "en"))
    verdict_zh = case_json(outcome.case, "zh", errors_json(outcome.problems, "zh"))
    doc = case_doc(outcome.case, lang, only=set(detail) if detail is not None else None)
    return verdict_en, verdict_zh, doc, summary_text(outcome.case)

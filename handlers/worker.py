"""What runs in the analysis worker processes: stored files of a case in,
the case verdict (JSON for the record, a Doc for the chat) out.  Kept apart
from the event loop: a MEMORY.DMP of hundreds of MB must not stall the
acknowledgement of the next chat event."""

from __future__ import annotations

from analysis.model import CaseReport
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


def analyze_case_files(items: list[tuple[str, str]], lang: str, detail: list[str] | None) -> tuple[dict, dict, Doc, str]:
    """The verdict in English and in Chinese (the record keeps both, for the
    board's language switch), the chat reply in the asker's language, and
    the searchable summary."""
    outcome = analyze_labelled(items)
    verdict_en = case_json(outcome.case, "en", errors_json(outcome.problems, "en"))
    verdict_zh = case_json(outcome.case, "zh", errors_json(outcome.problems, "zh"))
    doc = case_doc(outcome.case, lang, only=set(detail) if detail is not None else None)
    return verdict_en, verdict_zh, doc, summary_text(outcome.case)

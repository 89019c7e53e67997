"""How long anything a verdict says may be: every field is cut at 4,000
characters, saying so in the verdict's language.  A 256 KB line pasted
after FAULTING_IP once became a 256 KB evidence entry (and 139 WeCom
messages to one person); no reader's own caps are trusted for that."""

from __future__ import annotations

from typing import Any

from analysis.render.doc import Block, Doc
from analysis.render.texts import t

MAX_FIELD_CHARS = 4000


def cut(text: str, lang: str, limit: int = MAX_FIELD_CHARS) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + t(lang, "field_cut", limit=limit)


def bound_json(value: Any, lang: str) -> Any:
    """Every string of a verdict's JSON, cut; the structure is left as it is."""
    if isinstance(value, str):
        return cut(value, lang)
    if isinstance(value, dict):
        return {k: bound_json(v, lang) for k, v in value.items()}
    if isinstance(value, list):
        return [bound_json(v, lang) for v in value]
    return value


def bound_doc(doc: Doc, lang: str) -> Doc:
    for i, b in enumerate(doc.blocks):
        if len(b.text) > MAX_FIELD_CHARS or len(b.label) > MAX_FIELD_CHARS or any(
                len(item) > MAX_FIELD_CHARS for item in b.items):
            doc.blocks[i] = Block(b.kind, cut(b.text, lang), label=cut(b.label, lang),
                                  items=[cut(item, lang) for item in b.items], link=b.link)
    return doc

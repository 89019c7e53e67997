"""A Reply as Slack Block Kit, with the plain-text fallback Slack shows in
notifications and to clients that cannot draw blocks."""

from __future__ import annotations

from analysis.render.doc import Block, Doc, to_plain
from handlers.events import Action, Reply
from handlers.texts import t

MAX_BLOCKS = 50
SECTION_LIMIT = 3000  # characters of mrkdwn in one section
HEADER_LIMIT = 150
FALLBACK_LIMIT = 3900


def _escape(text: str) -> str:
    """Slack mrkdwn needs &, < and > escaped; nothing else."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> list[dict]:
    out = []
    while text:
        cut = text[:SECTION_LIMIT]
        if len(text) > SECTION_LIMIT and "\n" in cut:
            cut = cut[: cut.rfind("\n")]
        out.append({"type": "section", "text": {"type": "mrkdwn", "text": cut}})
        text = text[len(cut):].lstrip("\n")
    return out


def doc_blocks(doc: Doc) -> list[dict]:
    blocks: list[dict] = []
    fields: list[str] = []

    def flush_fields():
        if fields:
            blocks.extend(_section("\n".join(fields)))
            fields.clear()

    for b in doc.blocks:
        if b.kind == "field":
            fields.append(f"*{_escape(b.label)}:* {_escape(b.text)}")
            continue
        flush_fields()
        if b.kind == "heading":
            blocks.append({"type": "header", "text": {"type": "plain_text", "text": b.text[:HEADER_LIMIT], "emoji": False}})
        elif b.kind == "para":
            text = _escape(b.text)
            if b.link:
                text = f"<{b.link}|{text}>"
            blocks.extend(_section(text))
        elif b.kind == "bullets":
            lines = ([f"*{_escape(b.label)}:*"] if b.label else []) + [f"• {_escape(i)}" for i in b.items]
            blocks.extend(_section("\n".join(lines)))
        elif b.kind == "code":
            body = b.text.replace("```", "'''")
            for part in _section(body):
                part["text"]["text"] = "```" + part["text"]["text"] + "```"
                blocks.append(part)
        elif b.kind == "divider":
            blocks.append({"type": "divider"})
    flush_fields()
    return blocks


def _rest(reply: Reply) -> str:
    return t(reply.lang or "en", "reply_cut")


def action_blocks(actions: list[Action]) -> list[dict]:
    if not actions:
        return []
    elements = []
    for a in actions[:5]:
        button = {"type": "button", "text": {"type": "plain_text", "text": a.label[:75]},
                  "action_id": f"crashdesk_{a.id}", "value": a.value[:2000] or "-"}
        if a.id == "board" and a.value.startswith("http"):
            button["url"] = a.value
        elements.append(button)
    return [{"type": "actions", "elements": elements}]


def message(reply: Reply) -> dict:
    """chat.postMessage arguments (without channel and thread)."""
    doc = reply.bounded_doc()
    blocks = doc_blocks(doc)
    actions = action_blocks(reply.actions)
    if len(blocks) + len(actions) > MAX_BLOCKS:
        # Many short blocks within the byte limit: the last one says where the rest is.
        rest = doc_blocks(Doc([Block("para", _rest(reply))]))
        blocks = blocks[: MAX_BLOCKS - len(actions) - len(rest)] + rest
    text = to_plain(doc)
    if len(text) > FALLBACK_LIMIT:
        text = text[:FALLBACK_LIMIT] + "…"
    return {"text": text, "blocks": blocks + actions, "unfurl_links": False, "unfurl_media": False}

"""A Reply as WeCom markdown: the subset WeCom draws (headings, bold,
links, inline code, quotes, font colours) in messages of at most 2,048
bytes.  A long verdict is split at line ends into numbered parts; the whole
record stays one `case show` away."""

from __future__ import annotations

from analysis.render.doc import MarkdownStyle, markdown_lines
from bot.wecom_api import MARKDOWN_LIMIT
from handlers.events import Reply


# WeCom's markdown: "###" headings, full-width colons, no code fences.
WECOM = MarkdownStyle(heading="### {}", field="**{}**：{}", bullet="- {}", code_fence=False)

COMMANDS = {
    "call": "case call {} …",
    "archive": "case archive {} …",
    "assign_me": "case assign {} me",
    "open": "case open {} …",
}


def _fit(line: str, limit: int) -> list[str]:
    """A single line longer than a message, cut on character boundaries."""
    parts, cur = [], ""
    for ch in line:
        if len((cur + ch).encode()) > limit:
            parts.append(cur)
            cur = ""
        cur += ch
    return parts + ([cur] if cur else [])


def chunks(reply: Reply, limit: int = MARKDOWN_LIMIT) -> list[str]:
    room = limit - 64  # space for the "(2/3)" marker and its font tag
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for line in markdown_lines(reply.doc, WECOM):
        for part in _fit(line, room) if len(line.encode()) > room else [line]:
            need = len(part.encode()) + 1
            if current and size + need > room:
                pieces.append("\n".join(current))
                current, size = [], 0
            current.append(part)
            size += need
    if reply.actions:
        # No buttons in WeCom markdown: show the command each button runs.
        hint = " · ".join(f"`{COMMANDS[a.id].format(a.value or '<CAS-…>')}`" for a in reply.actions if a.id in COMMANDS)
        if hint and size + len(hint.encode()) + 1 <= room:
            current.append(f"<font color=\"comment\">{hint}</font>")
            size += len(hint.encode()) + 1
        for a in reply.actions:
            if a.id == "board" and a.value.startswith("http"):
                link = f"[{a.label}]({a.value})"
                if size + len(link.encode()) + 1 <= room:
                    current.append(link)
                    size += len(link.encode()) + 1
    if current:
        pieces.append("\n".join(current))
    if len(pieces) > 1:
        pieces = [f"{p}\n<font color=\"comment\">({i}/{len(pieces)})</font>" for i, p in enumerate(pieces, 1)]
    return pieces

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
    "reopen": "case reopen {} …",
    "open": "case open {} …",
}


# What one reply may become: Reply.bounded_doc holds it to the desk-wide
# MAX_REPLY_BYTES, about five messages; this is the backstop.
MAX_PARTS = 6


def _fit(line: str, limit: int) -> list[str]:
    """A single line longer than a message, cut on character boundaries."""
    data = line.encode()
    parts = []
    while data:
        cut = min(limit, len(data))
        while 0 < cut < len(data) and data[cut] & 0xC0 == 0x80:
            cut -= 1  # not inside a UTF-8 sequence
        if cut == 0:  # a limit narrower than one character: the character alone
            cut = 1
            while cut < len(data) and data[cut] & 0xC0 == 0x80:
                cut += 1
        parts.append(data[:cut].decode())
        data = data[cut:]
    return parts


def chunks(reply: Reply, limit: int = MARKDOWN_LIMIT) -> list[str]:
    room = limit - 64  # space for the "(2/3)" marker and its font tag
    pieces: list[str] = []
    current: list[str] = []
    size = 0

    def put(part: str) -> None:
        nonlocal current, size
        need = len(part.encode()) + 1
        if current and size + need > room:
            pieces.append("\n".join(current))
            current, size = [], 0
        current.append(part)
        size += need

    for line in markdown_lines(reply.bounded_doc(), WECOM):
        for part in _fit(line, room) if len(line.encode()) > room else [line]:
            put(part)
    if reply.actions:
        # No buttons in WeCom markdown: show the command each button runs.
        hint = " · ".join(f"`{COMMANDS[a.id].format(a.value or '<CAS-…>')}`" for a in reply.actions if a.id in COMMANDS)
        if hint and size + len(hint.encode()) + 1 <= room:
            current.append(f"<font color=\"comment\">{hint}</font>")
            size += len(hint.encode()) + 1
        for a in reply.actions:
            if a.id == "board" and a.value.startswith("http"):
                # The way to the rest of a long answer: never left out.
                put(f"[{a.label}]({a.value})")
    if current:
        pieces.append("\n".join(current))
    if len(pieces) > MAX_PARTS:
        pieces = pieces[: MAX_PARTS - 1] + pieces[-1:]
    if len(pieces) > 1:
        pieces = [f"{p}\n<font color=\"comment\">({i}/{len(pieces)})</font>" for i, p in enumerate(pieces, 1)]
    return pieces

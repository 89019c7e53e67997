"""A verdict as a small document: headings, labelled fields, bullet lists,
code.  Each platform turns it into its own markup (plain text for the
terminal, mrkdwn/Block Kit for Slack, markdown for WeCom), so the wording
is written once."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Block:
    kind: str  # heading | field | bullets | code | para | divider
    text: str = ""
    label: str = ""
    items: list[str] = field(default_factory=list)
    link: str | None = None


@dataclass(slots=True)
class Doc:
    blocks: list[Block] = field(default_factory=list)

    def heading(self, text: str) -> None:
        self.blocks.append(Block("heading", text))

    def field(self, label: str, text: str | None) -> None:
        if text:
            self.blocks.append(Block("field", text, label=label))

    def bullets(self, label: str, items: list[str]) -> None:
        items = [i for i in items if i]
        if items:
            self.blocks.append(Block("bullets", label=label, items=items))

    def para(self, text: str | None) -> None:
        if text:
            self.blocks.append(Block("para", text))

    def code(self, text: str | None) -> None:
        if text:
            self.blocks.append(Block("code", text))

    def divider(self) -> None:
        self.blocks.append(Block("divider"))

    def link(self, text: str, url: str) -> None:
        self.blocks.append(Block("para", text, link=url))

    def extend(self, other: "Doc") -> None:
        self.blocks.extend(other.blocks)


def to_plain(doc: Doc) -> str:
    out: list[str] = []
    for b in doc.blocks:
        if b.kind == "heading":
            if out:
                out.append("")
            out.append(b.text)
            out.append("=" * min(72, _width(b.text)))
        elif b.kind == "field":
            out.append(f"{b.label}: {b.text}")
        elif b.kind == "bullets":
            out.append(f"{b.label}:" if b.label else "")
            out.extend(f"  - {i}" for i in b.items)
        elif b.kind == "para":
            out.append(b.text + (f" {b.link}" if b.link else ""))
        elif b.kind == "code":
            out.extend("    " + line for line in b.text.splitlines())
        elif b.kind == "divider":
            out.append("")
    return "\n".join(line for line in out if line is not None).strip() + "\n"


@dataclass(frozen=True, slots=True)
class MarkdownStyle:
    """How one chat platform writes markdown."""

    heading: str = "**{}**"
    field: str = "**{}**: {}"
    bullet: str = "• {}"
    link: str = "[{text}]({url})"
    code_fence: bool = True  # False: code lines become "> " quotes (WeCom)


COMMONMARK = MarkdownStyle()


def markdown_lines(doc: Doc, style: MarkdownStyle = COMMONMARK) -> list[str]:
    out: list[str] = []
    for b in doc.blocks:
        if b.kind == "heading":
            out.append(style.heading.format(b.text))
        elif b.kind == "field":
            out.append(style.field.format(b.label, b.text))
        elif b.kind == "bullets":
            if b.label:
                out.append(style.field.format(b.label, "").rstrip())
            out.extend(style.bullet.format(i) for i in b.items)
        elif b.kind == "para":
            out.append(style.link.format(text=b.text, url=b.link) if b.link else b.text)
        elif b.kind == "code":
            if style.code_fence:
                out.append("```\n" + b.text + "\n```")
            else:
                out.extend("> " + (line or " ") for line in b.text.splitlines())
        elif b.kind == "divider":
            out.append("")
    return out


def to_markdown(doc: Doc, style: MarkdownStyle = COMMONMARK) -> str:
    """Markdown for the console's --markdown and for platforms that take
    CommonMark; a platform with its own dialect passes its style."""
    return "\n".join(markdown_lines(doc, style)).strip() + "\n"


# What one reply carries at most (UTF-8 bytes of its words), on every
# platform: about five WeCom messages of 2,048 bytes, a few Slack sections
# well inside its 50 blocks, a screenful in a terminal.  A longer answer is
# cut at a block, and says where the rest is (the case board).
MAX_REPLY_BYTES = 8 * 1024


def _block_bytes(b: Block) -> int:
    return (len(b.text.encode()) + len(b.label.encode()) + sum(len(i.encode()) + 4 for i in b.items)
            + len((b.link or "").encode()) + 8)


def doc_bytes(doc: Doc) -> int:
    return sum(_block_bytes(b) for b in doc.blocks)


def _prefix(text: str, room: int) -> str:
    """At most ``room`` bytes of ``text``, cut at a character boundary."""
    return text.encode()[: max(0, room)].decode("utf-8", "ignore")


def fit(doc: Doc, more: str, limit: int = MAX_REPLY_BYTES) -> Doc:
    """The doc as one reply may carry it: whole when it fits; otherwise the
    blocks that fit, the one that does not cut short, and ``more`` (where
    the rest is) last."""
    if doc_bytes(doc) <= limit:
        return doc
    room = limit - len(more.encode()) - 16
    out = Doc()
    for b in doc.blocks:
        size = _block_bytes(b)
        if size <= room:
            out.blocks.append(b)
            room -= size
            continue
        if b.kind == "bullets":
            items: list[str] = []
            room -= len(b.label.encode()) + 8
            for item in b.items:
                if len(item.encode()) + 4 > room:
                    break
                items.append(item)
                room -= len(item.encode()) + 4
            if items:
                out.blocks.append(Block("bullets", label=b.label, items=items))
        elif b.kind in ("field", "para", "code") and room > 64:
            text = _prefix(b.text, room - len(b.label.encode()) - 16)
            out.blocks.append(Block(b.kind, text + "…", label=b.label))
        break
    out.para(more)
    return out


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

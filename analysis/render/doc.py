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


def to_markdown(doc: Doc, bold: str = "**") -> str:
    """CommonMark-ish markdown (WeCom, the web board).  ``bold='*'`` gives
    Slack's mrkdwn."""
    out: list[str] = []
    for b in doc.blocks:
        if b.kind == "heading":
            out.append(f"{bold}{b.text}{bold}")
        elif b.kind == "field":
            out.append(f"{bold}{b.label}{bold}: {b.text}")
        elif b.kind == "bullets":
            if b.label:
                out.append(f"{bold}{b.label}{bold}:")
            out.extend(f"• {i}" for i in b.items)
        elif b.kind == "para":
            if b.link:
                out.append(f"<{b.link}|{b.text}>" if bold == "*" else f"[{b.text}]({b.link})")
            else:
                out.append(b.text)
        elif b.kind == "code":
            out.append("```\n" + b.text + "\n```")
        elif b.kind == "divider":
            out.append("")
    return "\n".join(out).strip() + "\n"


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

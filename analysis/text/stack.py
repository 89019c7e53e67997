"""Call-stack lines in every shape WinDbg prints them (k, kb, kv, kn, kP, kc,
STACK_TEXT, 32- and 64-bit) and the shapes forums leave of them."""

from __future__ import annotations

import re

from analysis.model import Frame

HEX = r"[0-9a-fA-F]"
ADDR = HEX + r"{8,17}"  # 64-bit with the backtick removed; 17 digits = a forum typo

# Frame layouts, as bodies of the line regex in events.py (groups are
# positional there):
#   [nn] child-sp retaddr [: args... :] site
#   [nn] childebp retaddr args... site        (x86 kb/kv)
#   [nn] retaddr : args... : site             (x64 kb of newer debuggers)
# A mail client may have wrapped the arguments or the call site onto the next
# line; one such break is joined back, and only before hex or a call site.
_BREAK = r"(?:[ ]+|[ ]*\n[ ]*)"
FRAME_ADDR_BODY = (
    rf"[ ]*(?:({HEX}{{2,4}})[ ]+)?({ADDR})(?:[ ]+({ADDR}))?"
    rf"((?:{_BREAK}:?(?:[ ]*{ADDR}){{1,4}}[ ]*:?){{0,2}})"
    rf"(?:[ ]+(?!{HEX}+(?:[ ]|$))([^\s:(].*)|[ ]*\n[ ]*([A-Za-z_][\w.$~-]*[!+].*))$"
)
# kc, or a stack retyped in a bug report: only call sites, which then need
# "!" or "+0x" to count.
FRAME_SITE_BODY = rf"[ ]*(?:({HEX}{{2,4}})[ ]+)?([A-Za-z_][\w.$-]*![^\s:]+|[A-Za-z_][\w.$-]*\+0x{HEX}+)[ ]*$"

_SITE = re.compile(
    rf"^(?P<mod>[A-Za-z_][\w.$-]*?)"
    rf"(?:!(?P<fn>[^\s+]+?))?"
    rf"(?:\+(?:0x)?(?P<off>{HEX}+))?"
    rf"(?:[ ]+(?:\[.*\]|\(.*\)|<.*>))*[ ]*$"
)
# Forum copies sometimes lose the "!": "VSApiNt VSSwapShortTable+0x136d".
_SITE_SPACED = re.compile(rf"^(?P<mod>[A-Za-z_][\w.$-]*)[ ]+(?P<fn>[A-Za-z_?@$][\w@?$:<>~]*)\+(?:0x)?(?P<off>{HEX}+)\b")
_SITE_NEG = re.compile(rf"^(?P<mod>[A-Za-z_][\w.$-]*)[ ]+-0x{HEX}+\b")
_RAW = re.compile(rf"^0x(?P<addr>{HEX}+)\b")
_TRAILER = re.compile(r"[ ]+(?:\(TrapFrame @.*|\(Inline Function.*|\(FPO:.*|\(CONTEXT @.*|\[.*\]|\(.*\))$")

# Names that look like modules but are not loaded images.
_NOT_MODULES = {"0x0", "unknown", "unknown_module", "unknown_image"}


def parse_site(site: str) -> Frame | None:
    site = site.strip().rstrip("(")  # kP opens the parameter list on the frame line
    trailer = False
    while " " in site:
        trimmed = _TRAILER.sub("", site)
        if trimmed == site:
            break
        site, trailer = trimmed, True
    if not site:
        return None
    m = _RAW.match(site)
    if m:
        return Frame(module=None, address=int(m["addr"], 16))
    m = _SITE.match(site)
    if m and m["mod"].lower() not in _NOT_MODULES:
        if not (m["fn"] or m["off"]):
            # A bare word after two numbers is as often a disassembly line
            # ("fffff80c`994c0b62 4183795003 cmp") or an lm line as a frame.
            if trailer or not _known_module(m["mod"]):
                return None
        return Frame(
            module=m["mod"],
            function=m["fn"] or None,
            offset=int(m["off"], 16) if m["off"] else None,
        )
    m = _SITE_SPACED.match(site)
    if m:
        return Frame(module=m["mod"], function=m["fn"], offset=int(m["off"], 16))
    m = _SITE_NEG.match(site)
    if m:
        return Frame(module=m["mod"])
    return None


def _known_module(name: str) -> bool:
    from analysis import catalog

    return catalog.is_inbox(name) or catalog.driver(name) is not None


def frame_from_addr_groups(idx, sp, ret, args, site, wrapped_site) -> Frame | None:
    frame = parse_site(site or wrapped_site)
    if frame is None:
        return None
    frame.index = int(idx, 16) if idx else None
    if args:
        frame.args = tuple(int(a, 16) for a in re.findall(ADDR, args))
    if ret:
        frame.child_sp = int(sp, 16)
        frame.return_address = int(ret, 16)
    else:
        frame.return_address = int(sp, 16)
    return frame


def frame_from_site_groups(idx, site) -> Frame | None:
    frame = parse_site(site)
    if frame is not None:
        frame.index = int(idx, 16) if idx else None
    return frame

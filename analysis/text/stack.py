"""Call-stack lines in every shape WinDbg prints them (k, kb, kv, kn, kP, kc,
STACK_TEXT, 32- and 64-bit) and the shapes forums leave of them."""

from __future__ import annotations

import re

from analysis.model import Frame

HEX = r"[0-9a-fA-F]"
ADDR = HEX + r"{8,17}"  # 64-bit with the backtick removed; 17 digits = a forum typo

# A module name as WinDbg prints it.  Most begin with a letter; some begin
# with digits (Qihoo 360's 360FsFlt and 360Box64, Windows' 1394ohci): such a
# name holds a letter past f (or "_") before any other character, so that a
# number (0x1234, a digit-led hex word) is never taken for a module.
MODULE_START = r"(?:[A-Za-z_]|(?!0[xX])[0-9][0-9a-fA-F]*+[g-zG-Z_])"

# Frame layouts, as bodies of the line regex in events.py (groups are
# positional there):
#   [nn] child-sp retaddr [: args... :] site
#   [nn] childebp retaddr args... site        (x86 kb/kv)
#   [nn] retaddr : args... : site             (x64 kb of newer debuggers)
# A mail client may have wrapped the arguments or the call site onto the next
# line; one such break is joined back, and only before hex or a call site.
#
# Every run of blanks is taken whole (possessive) and a colon brings its own
# blanks with it, so there is one way to read a line: with "[ ]+:?[ ]*"
# the blanks between two numbers could be split in as many ways as there are
# blanks, tried again for every way the arguments group could end (a line of
# 2,000 blanks took 24 s).  Every number of a frame line is followed by a
# blank, a colon or a line end, never by another digit: taken whole, a
# number is not tried again at each of its shorter lengths.
_BREAK = r"(?:[ ]++|[ ]*+\n[ ]*+)"
_WORD = ADDR + "+"
FRAME_ADDR_BODY = (
    rf"[ ]*+(?:({HEX}{{2,4}})[ ]++)?({_WORD})(?:[ ]++({_WORD}))?"
    rf"((?:{_BREAK}(?::[ ]*+)?{_WORD}(?:[ ]++{_WORD}){{0,3}}(?:[ ]*+:)?){{0,2}})"
    rf"(?:[ ]++(?!{HEX}++(?:[ ]|$))([^\s:(].*+)|[ ]*+\n[ ]*+({MODULE_START}[\w.$~-]*+[!+].*+))$"
)
# kc, or a stack retyped in a bug report: only call sites, which then need
# "!" or "+0x" to count.
FRAME_SITE_BODY = (
    rf"[ ]*+(?:({HEX}{{2,4}})[ ]++)?({MODULE_START}[\w.$-]*+![^\s:]++|{MODULE_START}[\w.$-]*+\+0x{HEX}++)[ ]*+$"
)

# Forum copies sometimes lose the "!": "VSApiNt VSSwapShortTable+0x136d".
_SITE_SPACED = re.compile(
    rf"^(?P<mod>{MODULE_START}[\w.$-]*+)[ ]++(?P<fn>[A-Za-z_?@$][\w@?$:<>~]*+)\+(?:0x)?(?P<off>{HEX}++)\b")
_SITE_NEG = re.compile(rf"^(?P<mod>{MODULE_START}[\w.$-]*+)[ ]++-0x{HEX}++\b")
_ADDR = re.compile(ADDR)

# Names that look like modules but are not loaded images.
NOT_MODULES = {"0x0", "unknown", "unknown_module", "unknown_image"}


_MODULE_NAME = re.compile(MODULE_START + r"[\w.$~-]*+")
_HEX_DIGITS = "0123456789abcdefABCDEF"


def parse_site(site: str) -> Frame | None:
    """'nt!KiPageFault+0x260 (TrapFrame @ ...)' -> Frame(nt, KiPageFault, 0x260).

    Plain string slicing for the common shapes: this runs once per frame of
    every stack, and a general regex costs several times more."""
    site = site.strip().rstrip("(")  # kP opens the parameter list on the frame line
    trailer = False
    space = site.find(" ")
    if space >= 0:
        rest = site[space:].lstrip()
        if rest[:1] in ("(", "[", "<"):
            site, trailer = site[:space], True  # (TrapFrame @ ...), [file @ line], (FPO: ...)
        else:
            m = _SITE_SPACED.match(site)
            if m:
                return Frame(module=m["mod"], function=m["fn"], offset=int(m["off"], 16))
            m = _SITE_NEG.match(site)
            if m:
                return Frame(module=m["mod"])
            return None
    if not site:
        return None
    if site[:2] in ("0x", "0X"):
        digits = site[2:]
        if digits and not digits.strip(_HEX_DIGITS):
            return Frame(module=None, address=int(digits, 16))
        return None
    bang = site.find("!")
    plus = site.rfind("+")
    offset = None
    if plus > bang:
        digits = site[plus + 1 :]
        digits = digits[2:] if digits[:2] in ("0x", "0X") else digits
        if digits and not digits.strip(_HEX_DIGITS):
            offset = int(digits, 16)
            site = site[:plus]
    if bang > 0:
        module, function = site[:bang], site[bang + 1 :] or None
    else:
        module, function = site, None
    if not _MODULE_NAME.fullmatch(module) or module.lower() in NOT_MODULES:
        return None
    if function is None and offset is None:
        # A bare word after two numbers is as often a disassembly line
        # ("fffff80c`994c0b62 4183795003 cmp") or an lm line as a frame.
        if trailer or not _known_module(module):
            return None
    return Frame(module=module, function=function, offset=offset)


def _known_module(name: str) -> bool:
    from analysis import catalog

    return catalog.is_inbox(name) or catalog.driver(name) is not None


# The commonest frame line, read whole by the line pattern of events.py
# (groups by name): numbers as FRAME_ADDR_BODY takes them on one line, then
# a plain call site -- module, "!function" and/or "+0x" offset, nothing a
# C++ name or a trailer adds -- and the line's end.  For such a line
# FRAME_ADDR_BODY gives the same numbers and parse_site the same parts
# (tests/test_text_gates.py compares them), so the frame is made from the
# groups without the line being cut out and matched again.
PLAIN_FRAME_BODY = (
    # A line of words is given up at its first characters, one of numbers
    # alone (memory dumped by dq/dd) before they are tried in every grouping.
    r"(?=[0-9a-fA-F]{2})(?=[^!+\n]*+[!+])"
    rf"(?:(?P<f_idx>{HEX}{{2,4}})[ ]++)?(?P<f_sp>{_WORD})(?:[ ]++(?P<f_ret>{_WORD}))?"
    rf"(?P<f_args>(?:[ ]++(?::[ ]*+)?{_WORD}(?:[ ]++{_WORD}){{0,3}}(?:[ ]*+:)?){{0,2}})"
    # The site holds a "!" or a "+" (a bare name is read the long way).
    rf"[ ]++(?=[\w.$~-]*+[!+])(?P<f_mod>{MODULE_START}[\w.$~-]*+)(?:!(?P<f_fn>[A-Za-z_?@$][\w@?$]*+))?"
    rf"(?:\+0x(?P<f_off>{HEX}++))?[ ]*+(?![^\n])"
)


def plain_frame(m: re.Match) -> Frame | None:
    """The frame of a PLAIN_FRAME_BODY match (None: a name that is no module).
    Made in one go (one group call, one constructor): a stack's every frame
    line comes here."""
    idx, sp, ret, args, module, function, offset = m.group("f_idx", "f_sp", "f_ret", "f_args", "f_mod", "f_fn",
                                                           "f_off")
    if module.lower() in NOT_MODULES:
        return None
    index, child_sp, return_address, numbers = _place(idx, sp, ret, args)
    return Frame(module, function, int(offset, 16) if offset is not None else None, index, child_sp, return_address,
                 None, numbers)


def frame_from_addr_groups(idx, sp, ret, args, site, wrapped_site) -> Frame | None:
    frame = parse_site(site or wrapped_site)
    if frame is None:
        return None
    return _placed(frame, idx, sp, ret, args)


def _place(idx: str | None, sp: str, ret: str | None,
           args: str | None) -> tuple[int | None, int | None, int, tuple[int, ...] | None]:
    """A frame line's number, stack pointer, return address and arguments
    (one number before the site is the return address alone)."""
    return (int(idx, 16) if idx else None, int(sp, 16) if ret else None, int(ret if ret else sp, 16),
            tuple(int(a, 16) for a in _ADDR.findall(args)) if args else None)


def _placed(frame: Frame, idx: str | None, sp: str, ret: str | None, args: str | None) -> Frame:
    """The frame, placed on its stack (parse_site gives it neither)."""
    frame.index, frame.child_sp, frame.return_address, frame.args = _place(idx, sp, ret, args)
    return frame


def frame_from_site_groups(idx, site) -> Frame | None:
    frame = parse_site(site)
    if frame is not None:
        frame.index = int(idx, 16) if idx else None
    return frame

"""A crash's fingerprint, for memory across cases (issue 11).

Two crashes are the same bug when the same module fails the same way: the
bug check (an _M twin is its base code), the subtype its first argument
selects (0x1A's 0x41792, a corrupted PTE), and the culprit module.  That is
the *bucket* -- what Windows Error Reporting groups by, less the function,
which a debugger without symbols cannot see and a stop screen never says.
The module's version or build date and the faulting function and offset
refine it: the *exact* fingerprint, which tells a regression from a known
bug, and the version tells which customers still run it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from analysis import catalog
from analysis.model import DumpReport, Kind, module_key

_SYMBOL = re.compile(r"[^!\s]{1,200}+!([^\s+]{1,200}+)(?:\+(?:0x)?+([0-9a-fA-F]{1,16}+))?")


@dataclass(slots=True, frozen=True)
class Fingerprint:
    code: int | None
    subtype: int | None
    module: str | None  # module key of the culprit; None where the evidence names none
    version: str | None  # the culprit's file version, else its build date
    function: str | None  # "VSSwapShortTable+0x136d", "+0x334c" (an offset without symbols)
    app: bool = False  # an application crash: code is the exception code

    @property
    def bucket(self) -> str:
        """What groups crashes of one bug: 'bc:0x1A/0x41792/vsapint'."""
        head = "app" if self.app else "bc"
        code = "%#X" % self.code if self.code is not None else "?"
        parts = [f"{head}:{code.replace('0X', '0x')}"]
        if self.subtype is not None:
            parts.append("0x%X" % self.subtype)
        parts.append(self.module or "-")
        return "/".join(parts)

    @property
    def linkable(self) -> bool:
        """Crashes are tied across cases only by a module: two 0x7E with no
        module named are two unknowns, not one bug."""
        return self.module is not None

    @property
    def exact(self) -> str:
        return "/".join([self.bucket, self.version or "-", self.function or "-"])


# The kernel goes by many names: WinDbg's "nt", the image's, the PAE and MP builds'.
_KERNEL = frozenset({"nt", "ntoskrnl", "ntkrnlmp", "ntkrnlpa", "ntkrpamp", "ntkrnlup"})


def module_name(name: str) -> str:
    key = module_key(name)
    return "nt" if key in _KERNEL else key


def fingerprint(d: DumpReport) -> Fingerprint | None:
    """None for evidence that says neither a bug check nor an exception."""
    c = d.culprit
    module = module_name(c.module) if c and c.module else None
    info = d.module(c.module) if c and c.module else None
    version = None
    if info is not None:
        version = (info.file_version or "").split()[0] if info.file_version else None
    if not version and c and c.built:
        version = c.built
    if d.kind == Kind.APP_MINIDUMP:
        if d.exception_code is None:
            return None
        return Fingerprint(d.exception_code, None, module, version, _function(d, module), app=True)
    if d.bugcheck is None:
        return None
    code = catalog.base_code(d.bugcheck.code)
    bc = catalog.bugcheck(code)
    subtype = None
    if bc and bc.subtype_param and bc.subtypes and len(d.bugcheck.args) >= bc.subtype_param:
        value = d.bugcheck.args[bc.subtype_param - 1]
        # Only a value the table knows selects a subtype: anything else is data.
        if value is not None and "0x%X" % value in bc.subtypes:
            subtype = value
    elif bc and bc.exception_codes and d.bugcheck.args and d.bugcheck.args[0] is not None:
        # Exception bug checks: the exception (access violation, breakpoint) is the subtype.
        subtype = d.bugcheck.args[0] & 0xFFFFFFFF
    return Fingerprint(code, subtype, module, version, _function(d, module))


def _function(d: DumpReport, module: str | None) -> str | None:
    """The faulting function and offset in the culprit module: WinDbg's
    SYMBOL_NAME when it is in that module, else the first frame in it."""
    if not module:
        return None
    if d.symbol:
        m = _SYMBOL.match(d.symbol.strip())
        if m and module_name(d.symbol.split("!", 1)[0]) == module:
            return m[1] + (f"+0x{int(m[2], 16):x}" if m[2] else "")
    for frame in d.stack:
        if frame.module and module_name(frame.module) == module:
            if frame.function:
                return frame.function + (f"+0x{frame.offset:x}" if frame.offset is not None else "")
            if frame.offset is not None:
                return f"+0x{frame.offset:x}"
            return None
    return None

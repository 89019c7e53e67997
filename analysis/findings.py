"""The one record every reader produces (issue 10): whatever the evidence
was -- WinDbg text, a kernel or application dump, an event log, the text of
a blue screen, a BlueScreenView or WhoCrashed report -- a reader states what
it saw in these terms, and ``analysis.attribution`` alone judges it.

A reader never decides the culprit.  It reports *claims* (someone named a
module: the kernel's own broken-driver record, WinDbg's MODULE_NAME, a
tool's "Caused By Driver"), the faulting *site* (the failing instruction),
the *stacks* it could see, and the modules it found; the rule ladder weighs
them the same way for every shape of input."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from analysis.model import DumpReport, Frame


class Claimant(StrEnum):
    """Who named a module, strongest first."""

    KERNEL = "kernel"  # the kernel's record: triage broken driver, "Driver at fault:", MmUnloadedDrivers
    DEBUGGER = "debugger"  # WinDbg's MODULE_NAME / IMAGE_NAME / "Probably caused by" / the failure bucket
    TOOL = "tool"  # a crash tool's report (BlueScreenView, WhoCrashed) or the blue screen's "What failed:"
    FAULTING_MODULE = "faulting_module"  # WinDbg's FAULTING_MODULE: where, not necessarily who


@dataclass(slots=True)
class Claim:
    by: Claimant
    name: str  # module or image as written ("VSApiNt", "TmXPFlt.sys")
    quote: str  # the line of the input that says so, for the evidence
    tool: str | None = None  # "WinDbg", "BlueScreenView", "WhoCrashed", "blue screen"
    image: str | None = None  # the image, when the claim names both module and file


@dataclass(slots=True)
class Site:
    """The failing instruction: a symbol as a debugger printed it
    ("nt!KiPageFault+0x260", from FAULTING_IP or .trap), or an address
    read from a saved context (its register named)."""

    symbol: str | None = None
    address: int | None = None
    register: str | None = None
    exception: bool = False  # from ExceptionAddress (an exception record) rather than the trap


@dataclass(slots=True)
class StackHit:
    """A raw-stack value that falls in a loaded image (no unwinding)."""

    slot: int  # stack address it was read at
    value: int  # the value: a likely return address
    module: str  # module key of the image it falls in


@dataclass
class Findings:
    """What bears on the culprit, besides the DumpReport's own fields
    (bug check, modules with their ranges, the faulting stack in
    ``report.stack``)."""

    claims: list[Claim] = field(default_factory=list)
    # Every stack the input showed; the faulting one is also ``report.stack``.
    stacks: list[list[Frame]] = field(default_factory=list)
    # True: the stacks are a debugger's unwinding (each frame a call);
    # False: a raw scan of stack memory (values that merely fall in images).
    unwound: bool = True
    sites: list[Site] = field(default_factory=list)
    # Third-party images a debugger had to load to analyse this crash
    # ("Unable to load image x.sys"): the only trace when no stack is shown.
    mentioned: list[str] = field(default_factory=list)
    # Raw scan only: the hits nearest the stack top first, and the images by
    # number of hits (for "stack: a.sys x3, b.sys x1").
    stack_hits: list[StackHit] = field(default_factory=list)
    stack_counts: dict[str, int] = field(default_factory=dict)  # module key -> hits, first-seen order
    # Module keys of every loaded image in load order ("third-party drivers
    # loaded but not implicated"); empty when the input lists none.
    loaded: list[str] = field(default_factory=list)


@dataclass
class Reading:
    """Everything one input gave: the crashes it describes, and what it says
    about the machines around them (an event log's timeline, an inventory
    of installed drivers).  ``context`` holds reader-specific records that
    the case correlation knows how to use."""

    crashes: list[tuple[DumpReport, Findings]] = field(default_factory=list)
    context: list[object] = field(default_factory=list)

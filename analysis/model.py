"""The verdict's vocabulary: what every reader (text or binary) produces and
every renderer consumes.  Plain dataclasses so that the handlers and the store
can carry them around without knowing how they were read."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import overload

from analysis.memo import short_cached


class Kind(StrEnum):
    """What a piece of evidence was.  The value is what --json prints."""

    WINDBG_TEXT = "windbg-text"
    KERNEL_MINIDUMP = "kernel-minidump"
    KERNEL_MEMORY_DUMP = "kernel-memory-dump"
    KERNEL_HEADER_ONLY = "kernel-header-only"
    APP_MINIDUMP = "app-minidump"
    EVENT_LOG = "event-log"  # a BugCheck / Kernel-Power / WER event of a Windows event log
    BLUE_SCREEN = "blue-screen"  # the text of the stop screen, typed or copied
    TOOL_REPORT = "tool-report"  # BlueScreenView, WhoCrashed, dumpchk, kd -z, Volatility crashinfo


@overload
def hex_code(value: int) -> str: ...
@overload
def hex_code(value: None) -> None: ...
@overload
def hex_code(value: int | None) -> str | None: ...
def hex_code(value: int | None) -> str | None:
    """Bug check codes and arguments as WinDbg users write them in tickets:
    upper-case hex, no zero padding."""
    if value is None:
        return None
    return "0x%X" % value


@dataclass(slots=True)
class BugCheck:
    code: int
    args: list[int | None] = field(default_factory=list)
    # Arguments as written that no 64-bit value can be (17 hex digits from a
    # retyped e-mail), by argument number: shown as flagged, never used.
    unusable: dict[int, str] = field(default_factory=dict)


@dataclass(slots=True)
class Frame:
    """One call-stack frame.  ``module`` is spelled as the debugger printed it
    (``VSApiNt``, ``nt``); ``address`` holds the instruction address when only
    a raw number was printed (``0xa028448b``)."""

    module: str | None
    function: str | None = None
    offset: int | None = None
    index: int | None = None
    child_sp: int | None = None
    return_address: int | None = None
    address: int | None = None
    args: tuple[int, ...] | None = None  # "Args to Child" of kb

    def label(self) -> str:
        if self.module is None:
            return "0x%x" % self.address if self.address is not None else "?"
        text = self.module
        if self.function:
            text += "!" + self.function
        if self.offset is not None:
            text += "+0x%x" % self.offset
        return text


@dataclass(slots=True)
class ModuleInfo:
    """What is known about one loaded image: from ``lmvm`` text or a dump's
    driver list.  ``name`` is the module name without extension."""

    name: str
    image: str | None = None
    path: str | None = None
    base: int | None = None
    size: int | None = None
    timestamp: int | None = None
    checksum: int | None = None
    file_version: str | None = None
    product_version: str | None = None
    company: str | None = None
    product_name: str | None = None
    description: str | None = None
    unloaded: bool = False

    def merge(self, other: "ModuleInfo") -> None:
        """Fill what this record lacks from another sighting of the module."""
        for slot in self.__slots__:
            if getattr(self, slot) in (None, "") and getattr(other, slot) not in (None, ""):
                setattr(self, slot, getattr(other, slot))


@dataclass(slots=True)
class Evidence:
    """A line a senior engineer would quote to justify the verdict."""

    kind: str  # e.g. "module_name", "stack", "lmvm_path", "param", "context_ip", "raw_stack"
    text: str


@dataclass(slots=True)
class Culprit:
    module: str | None
    image: str | None = None
    vendor: str | None = None
    vendor_zh: str | None = None
    product: str | None = None  # product line: "OfficeScan"
    description: str | None = None  # what the file is, from the catalog
    category: str | None = None
    third_party: bool | None = None
    basis: str = "unknown"
    confidence: str = "low"  # high | medium | low
    evidence: list[Evidence] = field(default_factory=list)
    # WinDbg's own answer when we overruled it (it blamed nt while a
    # third-party driver sat on the faulting stack).
    windbg_blamed: str | None = None
    vendor_basis: str | None = None  # the same in English words, for --json and search
    # Where the vendor came from: "install" (the image path on the customer's
    # machine), "company" (its CompanyName), "catalog" (only our table knows).
    vendor_source: str | None = None
    vendor_where: str | None = None  # the path, the CompanyName or the catalog's file name
    catalog_vendor: str | None = None  # the catalog's name for the file, where the install says another
    catalog_vendor_zh: str | None = None
    built: str | None = None  # ISO date of the image timestamp when it is a date
    # The culprit is a Windows framework that calls other vendors' code
    # (analysis.catalog.framework): the third-party modules of that kind the
    # evidence shows, as leads.
    framework: str | None = None
    candidates: list[str] = field(default_factory=list)


@dataclass(slots=True)
class OsInfo:
    build: int | None = None
    revision: int | None = None
    version: str | None = None  # "10.0.17134.1"
    buildlab: str | None = None
    arch: str | None = None  # x64 | x86 | arm64
    product: str | None = None  # "Windows 10 1803"
    release: str | None = None  # "April 2018 Update"
    codename: str | None = None  # "rs4"


@dataclass(slots=True)
class DumpReport:
    """One crash: a dump file, or one dump's worth of debugger text."""

    source: str
    kind: str  # a Kind value
    bugcheck: BugCheck | None = None
    culprit: Culprit | None = None
    process: str | None = None
    os: OsInfo = field(default_factory=OsInfo)
    failure_bucket: str | None = None
    symbol: str | None = None
    module_name: str | None = None  # WinDbg's MODULE_NAME
    image_name: str | None = None  # WinDbg's IMAGE_NAME
    probably_caused_by: str | None = None
    failure_hash: str | None = None
    exception_code: int | None = None
    exception_address: int | None = None
    fast_fail: str | None = None
    dump_file: str | None = None  # "Loading Dump File [...]"
    crash_time: str | None = None
    uptime: str | None = None
    processors: int | None = None
    dump_type: str | None = None
    computer: str | None = None  # the machine's name, where the evidence gives it
    boot_time: str | None = None  # ISO time the machine last started before this crash
    report_id: str | None = None  # Windows Error Reporting's id of the crash (event 1001)
    stack: list[Frame] = field(default_factory=list)
    modules: dict[str, ModuleInfo] = field(default_factory=dict)  # key: lower-case name
    third_party_modules: list[str] = field(default_factory=list)
    partial: bool = False
    notes: list[str] = field(default_factory=list)
    # Mark of identity used to recognise a quoted copy of the same dump.
    identity: tuple = ()

    def module(self, name: str | None) -> ModuleInfo | None:
        if not name:
            return None
        return self.modules.get(module_key(name))


@dataclass(slots=True, frozen=True)
class VersionCheck:
    """One module version of the evidence against a known issue's line."""

    module: str
    seen: str  # the version or the ISO build date seen
    limit: str  # the first fixed version, or the date builds before are affected
    by: str  # "version" | "built"
    affected: bool
    where: str  # the dump or listing it came from


@dataclass(slots=True)
class KnownIssue:
    id: str
    title: str
    url: str
    advice_en: str
    advice_zh: str
    title_zh: str | None = None
    state: str = "unknown"  # analysis.known_issues.VersionState: affected | fixed | unknown
    state_why: list["VersionCheck"] = field(default_factory=list)
    fixed_en: str | None = None  # what fixes it
    fixed_zh: str | None = None
    fix_kbs: list[str] = field(default_factory=list)
    fix_installed: bool | None = None  # a listing of installed updates shows the fix (None: no listing)
    versioned: bool = False  # the article says which versions it covers


@dataclass(slots=True)
class Reason:
    """One reason behind the case verdict, as a message code and its values,
    so that each language words it its own way."""

    code: str
    params: dict


@dataclass(slots=True)
class CaseReport:
    dumps: list[DumpReport]
    vendor: str | None = None
    vendor_zh: str | None = None
    product: str | None = None
    modules: list[str] = field(default_factory=list)
    confidence: str = "low"
    reasons: list[Reason] = field(default_factory=list)
    pattern: str | None = None  # "single-vendor" | "hardware" | "mixed" | "inbox-only" | None
    recommendation: str | None = None  # code, rendered per language
    known_issues: list[KnownIssue] = field(default_factory=list)
    bugcheck_codes: list[int] = field(default_factory=list)
    os_builds: list[int] = field(default_factory=list)
    machines: list = field(default_factory=list)  # analysis.machines.Machine, in order of first evidence
    vendor_dumps: list[int] = field(default_factory=list)  # indices of the dumps that show the vendor
    app_crashes: list[int] = field(default_factory=list)  # indices of the application crashes
    inventories: list = field(default_factory=list)  # analysis.reports.Inventory records of the case's machines
    timelines: list = field(default_factory=list)  # analysis.eventlog.MachineLog: what the event logs tell


# One crash's stacks, modules and claims name the same few modules again
# and again (40,000 look-ups in 300 logs): each name's key is made once.
@short_cached(maxsize=8192)
def module_key(name: str) -> str:
    """Modules are compared case-insensitively and without extension:
    WinDbg prints VSapiNt, VSApiNt and VSApiNt.sys for one file."""
    name = name.strip().lower()
    for ext in (".sys", ".dll", ".exe", ".drv"):
        if name.endswith(ext):
            return name[: -len(ext)]
    return name

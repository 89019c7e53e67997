"""Kernel crash dumps ('PAGEDU64', 'PAGEDUMP') -> DumpReport.

The header gives the verdict for every dump type; the body adds the driver
list, the faulting stack and the build string: directly for a small memory
dump (triage), through the saved page tables for MEMORY.DMP.  When the body
cannot be read the header verdict stands, marked partial with a note code
saying why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from analysis import catalog, winbuilds
from analysis.findings import Claim, Claimant, Findings, Site
from analysis.binary.header import (
    DUMP_TYPE_NAMES,
    MACHINE_ARM64,
    MACHINE_X86,
    MEMORY_TYPES,
    TYPE_TRIAGE,
    KernelHeader,
    read_header,
)
from analysis.binary.images import Image, ImageMap, raw_findings, raw_frames, scan_stack
from analysis.binary.memory import read_memory_dump
from analysis.binary.osinfo import os_info
from analysis.binary.triage import read_triage
from analysis.binary.view import DumpFormatError, View
from analysis.inputs import Rejected
from analysis.model import BugCheck, DumpReport

KIND_MINIDUMP = "kernel-minidump"
KIND_MEMORY = "kernel-memory-dump"
KIND_HEADER_ONLY = "kernel-header-only"

_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
_IP_REGISTER = {MACHINE_X86: "Eip", MACHINE_ARM64: "Pc"}
_CHECKED_BUILD = 0xC


def read_kernel_dump(data, source: str) -> tuple[DumpReport, Findings]:
    view = View(data)
    try:
        h = read_header(view)
    except DumpFormatError:
        raise Rejected("kernel_header_cut") from None
    if not h.intact():
        raise Rejected("kernel_header_blank")
    report = _header_report(h, source)
    images: list[Image] = []
    unloaded: list[Image] = []
    broken = None
    stack, stack_top = b"", None
    buildlab = None

    if h.truncated:
        _partial(report, "header_truncated")
    elif h.encrypted:
        _partial(report, "encrypted_dump")
    elif h.dump_type == TYPE_TRIAGE:
        try:
            t = read_triage(view, h)
        except DumpFormatError:
            _partial(report, "triage_unreadable")
        else:
            images, unloaded, broken = t.drivers, t.unloaded, t.broken
            stack, stack_top, buildlab = t.stack, t.stack_top, t.buildlab
            report.process = t.process
            report.notes.extend(t.notes)
            if not images:
                _partial(report, "no_drivers_read")
            # No TRGD marker where the header says: the writer never finished
            # (or the end was cut off), even if every part still read.
            if any(n.endswith(("_truncated", "_unreadable", "_clipped", "_not_validated")) for n in t.notes):
                report.partial = True
    elif h.dump_type in MEMORY_TYPES:
        try:
            m = read_memory_dump(view, h)
        except DumpFormatError as exc:
            _partial(report, exc.note or "memory_map_unreadable")
        else:
            images, unloaded = m.modules, m.unloaded
            stack, stack_top, buildlab = m.stack, m.stack_top, m.buildlab
            report.notes.extend(m.notes)
            if m.bitmap_signature == "FDMP":
                report.dump_type = "complete bitmap dump"
            if not m.walked or not images or "stack_unreadable" in m.notes or "bitmap_clipped" in m.notes:
                report.partial = True
    else:
        report.kind = KIND_HEADER_ONLY
        if h.dump_type not in DUMP_TYPE_NAMES:
            _partial(report, "unknown_dump_type")

    if buildlab:
        report.os.buildlab = buildlab
        winbuilds.fill(report.os)

    loaded = ImageMap(images)
    for img in images:
        report.modules.setdefault(img.key, img.info())
    for img in unloaded + ([broken] if broken else []):
        report.modules.setdefault(img.key, img.info())
    scan = scan_stack(stack, stack_top, h.ptr_size, loaded) if stack and stack_top else None
    ip_img = loaded.find(h.ip) or ImageMap(unloaded).find(h.ip)
    report.stack = raw_frames(h.ip, ip_img, scan)
    if not images and not stack:
        report.kind = KIND_HEADER_ONLY  # nothing came from the body: the header is all there is
    claims = [Claim(Claimant.KERNEL, broken.name, f"the kernel recorded {broken.image} as the broken driver",
                    tool="kernel", image=broken.image)] if broken else []
    sites = [Site(address=h.ip, register=_IP_REGISTER.get(h.machine or 0, "Rip"))] if h.ip else []
    return report, raw_findings(claims, sites, scan, [img.key for img in images])


def _partial(report: DumpReport, note: str) -> None:
    report.partial = True
    report.notes.append(note)


def _header_report(h: KernelHeader, source: str) -> DumpReport:
    kind = KIND_MINIDUMP if h.dump_type == TYPE_TRIAGE else KIND_MEMORY if h.dump_type in MEMORY_TYPES else KIND_HEADER_ONLY
    report = DumpReport(source=source, kind=kind)
    if h.code is not None and h.code != 0:
        report.bugcheck = BugCheck(h.code, list(h.params))
    else:
        report.notes.append("no_bugcheck")
    report.processors = h.processors
    report.dump_type = DUMP_TYPE_NAMES.get(h.dump_type) if h.dump_type is not None else None
    if report.dump_type is None and h.dump_type is not None:
        report.dump_type = f"dump type {h.dump_type}"
    report.crash_time = _filetime(h.system_time)
    report.uptime = _uptime(h.uptime)
    report.os = os_info(h.build, h.arch, h.product_type)
    if h.major == _CHECKED_BUILD:
        report.notes.append("checked_build")
    info = catalog.bugcheck(h.code)
    if info and info.exception_codes and h.params:
        # Exception bug checks: parameter 1 is the exception code, the code
        # parameter the address it happened at.
        report.exception_code = h.params[0] & 0xFFFFFFFF
        n = info.code_param(list[int | None](h.params))
        if n and n <= len(h.params):
            report.exception_address = h.params[n - 1]
    report.identity = _identity(h, report)
    return report


def _filetime(value: int | None) -> str | None:
    if not value or value >= 1 << 63:
        return None
    try:
        when = _FILETIME_EPOCH + timedelta(microseconds=value // 10)
    except OverflowError:
        return None
    if not 1990 <= when.year <= 2200:
        return None
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _uptime(value: int | None) -> str | None:
    """100 ns units -> WinDbg's 'System Uptime' form, to a tenth of a second."""
    if value is None or value >= 100 * 365 * 86400 * 10**7:
        return None
    tenths = value // 10**6
    seconds, tenth = divmod(tenths, 10)
    minutes, sec = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    days, hour = divmod(hours, 24)
    return f"{days} days {hour:02d}:{minute:02d}:{sec:02d}.{tenth}"


def _identity(h: KernelHeader, report: DumpReport) -> tuple:
    """Keys shared with a WinDbg log of the same crash (bug check and its
    arguments, spelled as the text reader spells them) and with another
    dump written by the same crash (its time)."""
    keys: set[tuple] = set()
    if report.bugcheck and any(a > 0xFFFF for a in h.params):
        keys.add(("bugcheck", h.code, tuple(h.params)))
    if report.crash_time:
        keys.add(("crash_time", report.crash_time, h.code))
    return tuple(sorted(map(str, keys)))

"""Application crash dumps ('MDMP': WER, procdump, Task Manager) ->
DumpReport of kind "app-minidump".

An application crash is not a blue screen: no bug check, but an exception
code and address, the process's modules with their versions, and the module
the exception address lies in.  The format is Microsoft's public
MINIDUMP_* structures (minidumpapiset.h); only the streams needed here are
read, each located through the stream directory and checked against the
file before use."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

from analysis import catalog
from analysis.binary.images import (
    MAX_FRAMES,
    MAX_STACK_BYTES,
    Image,
    ImageMap,
    StackScan,
    image_name,
    raw_findings,
    raw_frames,
    scan_stack,
)
from analysis.binary.osinfo import os_info
from analysis.binary.view import DumpFormatError, View, utf16
from analysis.inputs import Rejected
from analysis.findings import Findings, Site
from analysis.model import DumpReport

KIND_APP = "app-minidump"

_MDMP_VERSION = 0xA793
STREAM_THREADS = 3
STREAM_MODULES = 4
STREAM_EXCEPTION = 6
STREAM_SYSTEM = 7

MAX_STREAMS = 4096
MAX_MODULES = 8192
MAX_THREADS = 1 << 16
MAX_NAME_BYTES = 2048
_MODULE_SIZE = 108  # MINIDUMP_MODULE
_THREAD_SIZE = 48  # MINIDUMP_THREAD
_FIXED_FILE_INFO = 0xFEEF04BD

_ARCH = {0: "x86", 5: "arm", 6: "ia64", 9: "x64", 12: "arm64"}
# CONTEXT offsets of (instruction, stack) pointer per architecture.
_CONTEXT_REGS = {"x64": (0xF8, 0x98, 8), "x86": (0xB8, 0xC4, 4), "arm64": (0x108, 0x100, 8)}
def read_app_dump(data, source: str) -> tuple[DumpReport, Findings]:
    view = View(data)
    if not view.has(0, 32):
        raise Rejected("app_header_cut")
    signature, version, count, directory = struct.unpack_from("<4sIII", view.data, 0)
    if signature != b"MDMP" or version & 0xFFFF != _MDMP_VERSION:
        raise Rejected("app_bad_signature")
    report = DumpReport(source=source, kind=KIND_APP, dump_type="application minidump")
    streams = _directory(view, directory, count, report)
    if not streams:
        raise Rejected("app_no_streams")
    report.crash_time = _unix_time(view.u32(0x14))
    try:
        images, scan = _read_streams(view, streams, report)
    except DumpFormatError:
        # Only a stream whose inner fields lie: keep what was read before it.
        report.partial = True
        report.notes.append("stream_unreadable")
        images, scan = ImageMap([]), None

    address = report.exception_address
    report.stack = raw_frames(address, images.find(address), scan)
    report.identity = tuple(sorted(map(str, {("app", report.process, report.exception_code,
                                               report.exception_address, report.crash_time)})))
    sites = [Site(address=address, exception=True)] if address is not None else []
    return report, raw_findings([], sites, scan, [])


def _read_streams(view: View, streams: dict, report: DumpReport) -> tuple[ImageMap, StackScan | None]:
    arch = None
    if STREAM_SYSTEM in streams:
        arch = _system_info(view, streams[STREAM_SYSTEM], report)
    modules = _modules(view, streams.get(STREAM_MODULES), report)
    if modules:
        report.process = modules[0].image
    else:
        report.partial = True
    for img in modules:
        report.modules.setdefault(img.key, img.info())

    thread_id, context = None, None
    if STREAM_EXCEPTION in streams:
        thread_id, context = _exception(view, streams[STREAM_EXCEPTION], report)
        if arch in ("x86", "arm") and report.exception_address is not None:
            report.exception_address &= 0xFFFFFFFF
    else:
        report.notes.append("no_exception_stream")

    images = ImageMap(modules)
    stack_top, stack = None, b""
    if context is not None and arch in _CONTEXT_REGS:
        _, sp = _registers(view, context, arch)
        if STREAM_THREADS in streams and thread_id is not None:
            stack_top, stack = _thread_stack(view, streams[STREAM_THREADS], thread_id, sp, report)
    scan = None
    if stack and stack_top is not None and arch in _CONTEXT_REGS:
        scan = scan_stack(stack, stack_top, _CONTEXT_REGS[arch][2], images)
    return images, scan


def _directory(view: View, at: int, count: int, report: DumpReport) -> dict[int, tuple[int, int]]:
    """Stream type -> (size, file offset); the first stream of a type wins."""
    fit = view.clip(at, count * 12, MAX_STREAMS * 12) // 12
    if fit < count:
        report.notes.append("stream_directory_truncated")
        report.partial = True
    streams: dict[int, tuple[int, int]] = {}
    for i in range(fit):
        kind, size, rva = view.unpack(_DIR, at + i * 12, "stream directory")
        if kind and kind not in streams:
            if view.has(rva, size):
                streams[kind] = (size, rva)
            else:
                report.notes.append(f"stream_{kind}_outside_file")
                report.partial = True
    return streams


_DIR = struct.Struct("<III")


def _system_info(view: View, where: tuple[int, int], report: DumpReport) -> str | None:
    size, rva = where
    if size < 24:
        return None
    arch_code, _, _, cpus, product_type = struct.unpack_from("<HHHBB", view.data, rva)
    major, minor, build = struct.unpack_from("<III", view.data, rva + 8)
    arch = _ARCH.get(arch_code)
    report.processors = cpus or None
    report.os = os_info(build, arch, product_type, version=f"{major}.{minor}.{build}" if major < 100 else None)
    return arch


def _string(view: View, rva: int) -> str | None:
    """MINIDUMP_STRING: a length in bytes, then UTF-16LE."""
    if not view.has(rva, 4):
        return None
    length = view.u32(rva)
    if length > MAX_NAME_BYTES or not view.has(rva + 4, length):
        return None
    return utf16(view.bytes(rva + 4, length))


def _modules(view: View, where: tuple[int, int] | None, report: DumpReport) -> list[Image]:
    if where is None:
        report.notes.append("no_module_list")
        return []
    size, rva = where
    if size < 4:
        return []
    count = view.u32(rva)
    fit = min(count, (size - 4) // _MODULE_SIZE, MAX_MODULES)
    if fit < count:
        report.notes.append("module_list_truncated")
        report.partial = True
    out = []
    for i in range(fit):
        e = rva + 4 + i * _MODULE_SIZE
        base, image_size, checksum, stamp, name_rva = struct.unpack_from("<QIIII", view.data, e)
        path = _string(view, name_rva)
        if not path:
            report.notes.append("module_name_unreadable")
            continue
        sig, _, file_ms, file_ls, prod_ms, prod_ls = struct.unpack_from("<6I", view.data, e + 24)
        out.append(Image(
            image=image_name(path), path=path, base=base, size=image_size, checksum=checksum or None,
            timestamp=stamp or None,
            file_version=_version(file_ms, file_ls) if sig == _FIXED_FILE_INFO else None,
            product_version=_version(prod_ms, prod_ls) if sig == _FIXED_FILE_INFO else None,
        ))
    return out


def _version(ms: int, ls: int) -> str:
    return f"{ms >> 16}.{ms & 0xFFFF}.{ls >> 16}.{ls & 0xFFFF}"


def _exception(view: View, where: tuple[int, int], report: DumpReport) -> tuple[int | None, tuple[int, int] | None]:
    """MINIDUMP_EXCEPTION_STREAM: thread id, the exception record, and the
    location of the faulting thread's CONTEXT."""
    size, rva = where
    if size < 0xA8:
        report.notes.append("exception_stream_short")
        return None, None
    thread_id = view.u32(rva)
    report.exception_code = view.u32(rva + 8)
    report.exception_address = view.u64(rva + 0x18)
    ctx_size, ctx_rva = view.u32(rva + 0xA0), view.u32(rva + 0xA4)
    context = (ctx_size, ctx_rva) if ctx_size and view.has(ctx_rva, ctx_size) else None
    return thread_id, context


def _registers(view: View, context: tuple[int, int], arch: str) -> tuple[int | None, int | None]:
    size, rva = context
    ip_at, sp_at, width = _CONTEXT_REGS[arch]
    if size < sp_at + width or size < ip_at + width:
        return None, None
    read = view.u64 if width == 8 else view.u32
    return read(rva + ip_at), read(rva + sp_at)


def _thread_stack(view: View, where: tuple[int, int], thread_id: int, sp: int | None,
                  report: DumpReport) -> tuple[int | None, bytes]:
    """The faulting thread's captured stack memory, from its stack pointer up."""
    size, rva = where
    if size < 4:
        return None, b""
    count = min(view.u32(rva), (size - 4) // _THREAD_SIZE, MAX_THREADS)
    for i in range(count):
        e = rva + 4 + i * _THREAD_SIZE
        if view.u32(e) != thread_id:
            continue
        start, length, mem_rva = struct.unpack_from("<QII", view.data, e + 0x18)
        have = view.clip(mem_rva, length, MAX_STACK_BYTES)
        if not have:
            return None, b""
        skip = sp - start if sp is not None and start <= sp < start + have else 0
        return start + skip, view.bytes(mem_rva + skip, have - skip, "thread stack", MAX_STACK_BYTES)
    return None, b""


def _unix_time(value: int) -> str | None:
    if not value:
        return None
    return datetime.fromtimestamp(value, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


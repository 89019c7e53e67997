"""Which module to blame for one crash, and who made it.

The rule every support engineer learns the hard way: WinDbg's
MODULE_NAME is right when it names a third-party driver, and often wrong
when it names Windows itself (nt, win32k, fltmgr...) while an antivirus or
display driver sits on the faulting stack.  We never blame an inbox module
without saying which third-party ones were there."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache

from analysis import catalog
from analysis.model import Culprit, DumpReport, Evidence, Frame, ModuleInfo, module_key

# Stand-ins WinDbg uses for the CPU vendor in WHEA bug checks.
_CPU_PSEUDO = {"genuineintel", "authenticamd", "centaurhauls", "hygongenuine"}


@dataclass(slots=True)
class Clues:
    """What a reader found besides the report's own fields."""

    windbg_module: str | None = None
    windbg_image: str | None = None
    caused_by: str | None = None
    stacks: list[list[Frame]] = field(default_factory=list)
    instruction: str | None = None  # symbol of the faulting instruction (.trap / FAULTING_IP)
    exception_symbol: str | None = None
    tool_blame: str | None = None  # BlueScreenView / WhoCrashed
    mentioned: list[str] = field(default_factory=list)
    faulting_module: str | None = None
    broken_driver: str | None = None  # "Driver at fault:" of a live kernel debugger


def _caused_by_module(text: str | None) -> tuple[str | None, str | None]:
    """'VSApiNt.sys ( VSApiNt!VSSwapShortTable+136d )' -> ('VSApiNt', 'VSApiNt.sys')"""
    if not text:
        return None, None
    m = re.match(r"\s*([\w.$~-]+)\s*(?:\(\s*([\w.$~-]+)[!+]?)?", text)
    if not m:
        return None, None
    image = m[1]
    inner = m[2]
    module = inner if inner and "." not in inner else image.rsplit(".", 1)[0] if "." in image else image
    return module, image if "." in image else None


def _symbol_module(symbol: str | None) -> str | None:
    if not symbol:
        return None
    m = re.match(r"([A-Za-z_][\w.$~-]*?)(?:!|\+0x|\+[0-9a-f]+\b|$)", symbol.strip())
    if not m:
        return None
    name = m[1]
    return name.rsplit(".", 1)[0] if name.lower().endswith((".sys", ".dll", ".exe")) else name


def is_cpu_pseudo(name: str | None) -> bool:
    return bool(name) and module_key(name) in _CPU_PSEUDO


@lru_cache(maxsize=4096)
def third_party(name: str | None) -> bool | None:
    if not name or is_cpu_pseudo(name):
        return None
    return catalog.is_third_party(name)


def frame_module(frame: Frame, modules: dict[str, ModuleInfo]) -> str | None:
    """Module of a frame; raw addresses are placed with the lm ranges."""
    if frame.module:
        return frame.module
    if frame.address is not None:
        hit = module_at(frame.address, modules)
        return hit.name if hit else None
    return None


def module_at(address: int, modules: dict[str, ModuleInfo]) -> ModuleInfo | None:
    for info in modules.values():
        if info.base is not None and info.size and info.base <= address < info.base + info.size:
            return info
    return None


def in_user_mode(frame: Frame, arch: str | None) -> bool:
    """A frame running on a user-mode stack: the application that made a
    system call, not a driver.  Told by the stack pointer, when shown."""
    sp = frame.child_sp
    if sp is None:
        return False
    if arch == "x86" or (arch is None and sp <= 0xFFFFFFFF):
        return sp < 0x80000000
    return sp < 0x0000_8000_0000_0000


def stack_third_party(stacks: list[list[Frame]], modules: dict[str, ModuleInfo], arch: str | None = None) -> list[str]:
    """Third-party kernel modules on the stacks, nearest the crash first."""
    seen: dict[str, str] = {}
    for stack in stacks:
        for frame in stack:
            if in_user_mode(frame, arch):
                continue
            name = frame_module(frame, modules)
            if name and third_party(name) and module_key(name) not in seen:
                seen[module_key(name)] = name
    return list(seen.values())


# Frames of the kernel's own crash and exception machinery: the code that
# failed is the first frame below them.
_MACHINERY = ("kebugcheck", "kibugcheck", "kipagefault", "kiraisesecuritycheckfailure", "kifastfaildispatch",
              "kigeneralprotectionfault", "kiexceptiondispatch", "kidispatchexception", "rtldispatchexception",
              "rtlpexecutehandlerforexception", "kifatalexceptionhandler", "kebugcheck2", "dbgbreakpoint",
              "kibugcheckdebugbreak", "kisystemservicehandler", "kiinvalidopcodefault", "kidoublefaultabort",
              "kitrap", "rtlraisestatus", "exraisestatus", "kistackfault")


def first_failing_frame(stack: list[Frame], modules: dict[str, ModuleInfo], arch: str | None) -> Frame | None:
    past_machinery = False
    for frame in stack:
        if in_user_mode(frame, arch):
            return None
        fn = (frame.function or "").lower()
        if fn.startswith(_MACHINERY):
            past_machinery = True
            continue
        if past_machinery and frame_module(frame, modules):
            return frame
    return None


def blame(report: DumpReport, clues: Clues) -> Culprit | None:
    """Pick the culprit module of one dump (vendor is resolved later, with
    the whole case's lm evidence)."""
    code = report.bugcheck.code if report.bugcheck else None
    info = catalog.bugcheck(code)
    faulting = report.stack
    ordered = [report.stack] + [s for s in clues.stacks if s is not report.stack]
    on_stack = stack_third_party(ordered, report.modules, report.os.arch)
    report.third_party_modules = on_stack

    windbg = clues.windbg_module
    windbg_image = clues.windbg_image
    cb_module, cb_image = _caused_by_module(clues.caused_by)
    windbg = windbg or cb_module or (windbg_image.rsplit(".", 1)[0] if windbg_image and "." in windbg_image else windbg_image)
    windbg_image = windbg_image or cb_image
    windbg_said = windbg or clues.faulting_module

    def culprit(module, basis, confidence, *evidence, image=None, blamed=None):
        return Culprit(
            module=module,
            image=image or _image_for(module, report.modules),
            third_party=third_party(module),
            basis=basis,
            confidence=confidence,
            evidence=[e for e in evidence if e],
            windbg_blamed=blamed,
        )

    stack_ev = _stack_evidence(faulting, on_stack[0], report.modules) if on_stack else None
    instr_module = _symbol_module(clues.instruction) or _symbol_module(clues.exception_symbol)
    param_hit = _param_hit(report, info)

    # 0. The kernel itself named the driver at fault (live debugger, BAD_POOL_CALLER...).
    if clues.broken_driver and third_party(clues.broken_driver):
        name = clues.broken_driver.rsplit(".", 1)[0]
        return culprit(name, "broken_driver", "high", Evidence("broken_driver", f"Driver at fault: {clues.broken_driver}"),
                       image=clues.broken_driver)

    # 1. WinDbg (or the analysis tool the engineer ran) named a third-party module.
    if windbg and third_party(windbg):
        on = module_key(windbg) in {module_key(m) for m in on_stack}
        conf = "high" if on or not faulting else "medium"
        return culprit(
            windbg, "windbg", conf,
            Evidence("module_name", f"MODULE_NAME: {windbg}" if clues.windbg_module else f"Probably caused by: {clues.caused_by}"),
            stack_ev if on else None,
            image=windbg_image if windbg_image and module_key(windbg_image) == module_key(windbg) else None,
        )
    if clues.tool_blame and third_party(clues.tool_blame):
        name = clues.tool_blame.rsplit(".", 1)[0] if "." in clues.tool_blame else clues.tool_blame
        return culprit(name, "tool", "medium", Evidence("tool", f"Caused by driver: {clues.tool_blame}"),
                       image=clues.tool_blame if "." in clues.tool_blame else None)

    # 2. Windows was blamed (or nothing was), but a third-party driver was on the stack.
    if on_stack:
        top = on_stack[0]
        supported = (instr_module and module_key(instr_module) == module_key(top)) or (
            param_hit and module_key(param_hit[1].name) == module_key(top))
        return culprit(
            top, "stack", "high" if supported else "medium",
            stack_ev,
            Evidence("instruction", f"faulting instruction in {clues.instruction or clues.exception_symbol}") if supported and instr_module else None,
            Evidence("windbg_overruled", f"WinDbg blamed {windbg_said}") if windbg_said else None,
            blamed=windbg_said,
        )

    # 3. The faulting instruction or a code-address parameter lies in a third-party module.
    if instr_module and third_party(instr_module):
        return culprit(instr_module, "instruction", "medium",
                       Evidence("instruction", f"faulting instruction {clues.instruction or clues.exception_symbol}"),
                       blamed=windbg_said)
    if param_hit and param_hit[1] and third_party(param_hit[1].name):
        n, mod, addr = param_hit
        return culprit(mod.name, "param", "medium",
                       Evidence("param", f"parameter {n} = 0x{addr:x} = {mod.name}+0x{addr - mod.base:x}"),
                       blamed=windbg_said)

    # 4. WinDbg had to load a third-party image to analyse the crash ("Unable to
    #    load image x.sys", "symbols could not be loaded for x.sys"): without a
    #    stack that is the only trace of the driver involved.
    mentioned = [m for m in clues.mentioned if third_party(m)]
    if mentioned and not faulting and not (info and info.hardware):
        name = mentioned[0].rsplit(".", 1)[0]
        return culprit(name, "mentioned", "low",
                       Evidence("mentioned", f"WinDbg loaded {mentioned[0]} while analysing this crash"),
                       Evidence("windbg_overruled", f"WinDbg blamed {windbg_said}") if windbg_said else None,
                       image=mentioned[0], blamed=windbg_said)

    # 5. A hardware verdict.
    if (info and info.hardware) or (windbg and (catalog.is_pseudo(windbg) and "hardware" in windbg.lower())) or is_cpu_pseudo(windbg):
        return Culprit(module=None, basis="hardware", confidence="medium", third_party=None,
                       evidence=[Evidence("bugcheck", f"{info.name if info else hex(code or 0)} points at hardware")]
                       + ([Evidence("module_name", f"WinDbg: {windbg}")] if windbg else []),
                       category="hardware", windbg_blamed=windbg_said)

    # 6. Only Windows' own modules: report WinDbg's answer, and say so.
    if windbg and not catalog.is_pseudo(windbg):
        return culprit(windbg, "windbg_inbox", "low",
                       Evidence("module_name", f"WinDbg: {windbg}"),
                       Evidence("inbox_only", "no third-party module on the stack") if faulting else None,
                       image=windbg_image if windbg_image and "." in windbg_image else None)
    # 7. No module named (or only "memory_corruption"): the Windows module
    #    the failing instruction, or the first frame past the crash
    #    machinery, lies in -- said as a low-confidence lead, not a verdict.
    where = clues.instruction or clues.exception_symbol
    in_machinery = bool(where) and "!" in where and where.split("!", 1)[1].lower().startswith(_MACHINERY)
    lead = instr_module if instr_module and not catalog.is_pseudo(instr_module) and not in_machinery else None
    if lead is None and faulting:
        frame = first_failing_frame(faulting, report.modules, report.os.arch)
        if frame is not None:
            lead, where = frame_module(frame, report.modules), frame.label()
    if lead:
        return culprit(lead, "faulting_inbox", "low",
                       Evidence("instruction", f"fault in {where}"),
                       Evidence("module_name", f"WinDbg: {windbg}") if windbg else None,
                       Evidence("inbox_only", "no third-party module on the stack") if faulting else None,
                       blamed=windbg)
    if windbg:
        return Culprit(module=None, basis="windbg_pseudo", confidence="low", third_party=None,
                       evidence=[Evidence("module_name", f"WinDbg: {windbg}")], windbg_blamed=windbg)
    return None


def _image_for(module: str | None, modules: dict[str, ModuleInfo]) -> str | None:
    if not module:
        return None
    info = modules.get(module_key(module))
    if info and info.image:
        return info.image
    drv = catalog.driver(module)
    if drv:
        # Keep WinDbg's spelling of the name, the catalog's extension.
        return module + drv.image[drv.image.rfind("."):] if "." in drv.image else drv.image
    return None


def _stack_evidence(stack: list[Frame], module: str, modules: dict[str, ModuleInfo]) -> Evidence | None:
    key = module_key(module)
    for i, frame in enumerate(stack):
        name = frame_module(frame, modules)
        if name and module_key(name) == key:
            idx = frame.index if frame.index is not None else i
            return Evidence("stack", f"frame {idx:02x}: {frame.label()}")
    return Evidence("stack", f"{module} on another stack of this dump")


def _param_hit(report: DumpReport, info) -> tuple[int, ModuleInfo, int] | None:
    if not info or not report.bugcheck:
        return None
    chosen = info.code_param(report.bugcheck.args)
    params = [chosen] if chosen else list(info.code_params)
    for n in params:
        if n and n <= len(report.bugcheck.args):
            value = report.bugcheck.args[n - 1]
            if value:
                hit = module_at(value, report.modules)
                if hit:
                    return n, hit, value
    return None


# ------------------------------------------------------------------ vendors

_CORP_SUFFIX = re.compile(r"[,.]?\s+(?:corporation|corp\.?|inc\.?|incorporated|co\.,? ?ltd\.?|ltd\.?|limited|gmbh|llc|s\.?a\.?|a\.?s\.?|ag|ab)\s*$", re.I)


def _placeholder(value: str | None) -> bool:
    """Resource strings a build system forgot to fill ('trend_company_name')."""
    return not value or bool(re.fullmatch(r"[a-z0-9]+(?:_[a-z0-9]+)+", value.strip()))


def identify(culprit: Culprit, modules: dict[str, ModuleInfo]) -> None:
    """Vendor and product of the culprit: lm evidence first (the customer's
    own install says who shipped the file), then the driver catalog."""
    if not culprit.module:
        return
    info = modules.get(module_key(culprit.module))
    drv = catalog.driver(culprit.image or culprit.module)
    row = None
    if info:
        row = catalog.vendor_from_text(info.path) or catalog.vendor_from_text(info.company)
        if info.image and not culprit.image:
            culprit.image = info.image
        culprit.built = built_date(info.timestamp)
    lm_product = info.product_name if info and not _placeholder(info.product_name) else None
    if row:
        culprit.vendor, culprit.vendor_zh = row.vendor, row.vendor_zh
        culprit.product = row.product or lm_product
        where = info.path if info.path and row.pattern in info.path.lower().replace("/", "\\") else info.company
        culprit.vendor_basis = f"lmvm: {where}"
        if drv and drv.vendor.lower() != row.vendor.lower():
            culprit.vendor_basis += f" (catalog: {drv.vendor})"
    elif info and info.company and not _placeholder(info.company):
        culprit.vendor = _CORP_SUFFIX.sub("", info.company.strip())
        culprit.product = lm_product
        culprit.vendor_basis = f"lmvm CompanyName: {info.company}"
        if drv and drv.vendor.lower() in culprit.vendor.lower():
            culprit.vendor, culprit.vendor_zh = drv.vendor, drv.vendor_zh
    elif drv:
        culprit.vendor, culprit.vendor_zh = drv.vendor, drv.vendor_zh
        culprit.product = lm_product
        culprit.vendor_basis = f"catalog: {drv.image}"
    if drv:
        culprit.category = culprit.category or drv.category
        culprit.description = drv.product
    if culprit.third_party is False:
        culprit.vendor = culprit.vendor or "Microsoft"
        culprit.vendor_zh = culprit.vendor_zh or "微软"
        culprit.product = culprit.product or "Windows"


def built_date(timestamp: int | None) -> str | None:
    """Image timestamps are dates for third-party drivers, hashes for
    Windows 10+ inbox ones; keep only plausible dates."""
    if not timestamp:
        return None
    when = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    if 1995 <= when.year <= datetime.now(tz=timezone.utc).year:
        return when.date().isoformat()
    return None

"""Which module to blame for one crash: one judge for every reader.

Every reader -- WinDbg text, kernel and application dumps, event logs, the
blue screen's text, crash-tool reports -- states what it saw as Findings
(analysis/findings.py); the rules below weigh them the same way whatever
the input was.  Each rule is small, returns the module it points at with the
line it cites, and the first rule that names a third-party module wins:

  kernel      the kernel's own record of the broken driver
  debugger    WinDbg named it (MODULE_NAME, "Probably caused by")
  tool        a crash tool's report or the stop screen named it
  stack       the first third-party frame of a debugger's unwound stack
  param       a bug check parameter that holds a code address points into it
  site        the failing instruction lies in it
  raw stack   return addresses into it on the faulting thread's raw stack
  mentioned   the only third-party image the debugger had to load
  hardware    the bug check is the hardware's own report

The rule every support engineer learns the hard way: WinDbg's MODULE_NAME
is right when it names a third-party driver, and often wrong when it names
Windows itself while an antivirus or display driver sits on the faulting
stack.  Windows' own modules are named only when no third-party one is in
sight, at low confidence, and the evidence says so.  Confidence rises with
the number of independent rules that agree."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from analysis import catalog
from analysis.findings import Claim, Claimant, Findings, Site
from analysis.model import Culprit, DumpReport, Evidence, Frame, ModuleInfo, module_key

# Stand-ins WinDbg uses for the CPU vendor in WHEA bug checks.
_CPU_PSEUDO = {"genuineintel", "authenticamd", "centaurhauls", "hygongenuine"}
# The kernel and HAL: the last images to name as "where it happened" on a raw stack.
_CORE = frozenset({"ntoskrnl", "ntkrnlmp", "ntkrnlpa", "ntkrpamp", "hal", "halmacpi", "halacpi", "halaacpi"})
# Bug checks whose first parameter is an address in a driver that has since
# been unloaded (0xCE: its code ran; 0xD4: it left a pointer behind).
_BUGCHECK_UNLOADED = frozenset({0xCE, 0xD4})
STACK_EVIDENCE_MODULES = 8
PRESENT_LISTED = 40
FRAMEWORK_CANDIDATES = 12


class Basis(StrEnum):
    """The rule a culprit was chosen by (rendered as words per language)."""

    BROKEN_DRIVER = "broken_driver"
    WINDBG = "windbg"
    TOOL = "tool"
    STACK = "stack"
    PARAM = "param"
    UNLOADED = "unloaded"
    INSTRUCTION = "instruction"
    CONTEXT_IP = "context_ip"
    EXCEPTION_ADDRESS = "exception_address"
    RAW_STACK = "raw_stack"
    MENTIONED = "mentioned"
    HARDWARE = "hardware"
    WINDBG_INBOX = "windbg_inbox"
    FAULTING_INBOX = "faulting_inbox"
    WINDBG_PSEUDO = "windbg_pseudo"
    UNKNOWN = "unknown"


def is_cpu_pseudo(name: str | None) -> bool:
    return bool(name) and module_key(name or "") in _CPU_PSEUDO


@lru_cache(maxsize=4096)
def third_party(name: str | None, path: str | None = None) -> bool | None:
    """Not Windows' own image (None: a pseudo-module, nobody's)."""
    if not name or is_cpu_pseudo(name):
        return None
    return catalog.is_third_party(name, path)


# ------------------------------------------------------------ module places

class ModuleIndex:
    """Address -> module, by binary search over the modules' ranges; loaded
    images first, then the unloaded ones (an address in a driver that has
    since been unloaded)."""

    def __init__(self, modules: dict[str, ModuleInfo]):
        self._loaded = self._sorted(m for m in modules.values() if not m.unloaded)
        self._unloaded = self._sorted(m for m in modules.values() if m.unloaded)

    @staticmethod
    def _sorted(mods) -> tuple[list[int], list[ModuleInfo]]:
        usable = sorted((m for m in mods if m.base and m.size and 0 < m.size <= 1 << 32), key=lambda m: m.base or 0)
        return [m.base or 0 for m in usable], usable

    @staticmethod
    def _find(table: tuple[list[int], list[ModuleInfo]], address: int) -> ModuleInfo | None:
        bases, mods = table
        i = bisect.bisect_right(bases, address) - 1
        # Overlapping entries (a damaged list) are rare; look a little back.
        for j in range(i, max(i - 4, -1), -1):
            m = mods[j]
            if (m.base or 0) <= address < (m.base or 0) + (m.size or 0):
                return m
        return None

    def find(self, address: int | None, unloaded_first: bool = False) -> ModuleInfo | None:
        if not address:
            return None
        order = (self._unloaded, self._loaded) if unloaded_first else (self._loaded, self._unloaded)
        return self._find(order[0], address) or self._find(order[1], address)


def at(info: ModuleInfo, address: int) -> str:
    """'amdppm.sys+0x334c'"""
    return f"{info.image or info.name}+0x{address - (info.base or 0):x}"


def frame_module(frame: Frame, index: ModuleIndex) -> str | None:
    """Module of a frame; raw addresses are placed with the module ranges."""
    if frame.module:
        return frame.module
    hit = index.find(frame.address) if frame.address is not None else None
    return hit.name if hit else None


def in_user_mode(frame: Frame, arch: str | None) -> bool:
    """A frame running on a user-mode stack: the application that made a
    system call, not a driver.  Told by the stack pointer, when shown."""
    sp = frame.child_sp
    if sp is None:
        return False
    if arch == "x86" or (arch is None and sp <= 0xFFFFFFFF):
        return sp < 0x80000000
    return sp < 0x0000_8000_0000_0000


# Frames of the kernel's own crash and exception machinery: the code that
# failed is the first frame below them.
_MACHINERY = ("kebugcheck", "kibugcheck", "kipagefault", "kiraisesecuritycheckfailure", "kifastfaildispatch",
              "kigeneralprotectionfault", "kiexceptiondispatch", "kidispatchexception", "rtldispatchexception",
              "rtlpexecutehandlerforexception", "kifatalexceptionhandler", "kebugcheck2", "dbgbreakpoint",
              "kibugcheckdebugbreak", "kisystemservicehandler", "kiinvalidopcodefault", "kidoublefaultabort",
              "kitrap", "rtlraisestatus", "exraisestatus", "kistackfault")


def first_failing_frame(stack: list[Frame], index: ModuleIndex, arch: str | None) -> Frame | None:
    past_machinery = False
    for frame in stack:
        if in_user_mode(frame, arch):
            return None
        fn = (frame.function or "").lower()
        if fn.startswith(_MACHINERY):
            past_machinery = True
            continue
        if past_machinery and frame_module(frame, index):
            return frame
    return None


def _stem(name: str) -> str:
    """'TmXPFlt.sys' -> 'TmXPFlt'; a module name stays as it is."""
    stem, dot, ext = name.rpartition(".")
    return stem if dot and stem and ext.lower() in ("sys", "dll", "exe", "drv") else name


# ------------------------------------------------------------------ the judge

@dataclass(slots=True)
class _Pick:
    """What one rule points at."""

    name: str  # module, as the evidence spells it
    image: str | None
    evidence: Evidence
    basis: Basis
    where: str | None = None  # the failing instruction's symbol, for a site


class _Judge:
    """The observations of one crash, each made once, and the ladder over them."""

    def __init__(self, report: DumpReport, f: Findings):
        self.report, self.f = report, f
        self.code = report.bugcheck.code if report.bugcheck else None
        self.info = catalog.bugcheck(self.code)
        self.modules = report.modules
        self.index = ModuleIndex(report.modules)
        self.arch = report.os.arch
        self.faulting = report.stack
        self.raw = not f.unwound
        self.app = report.kind == "app-minidump"
        self.facts: list[Evidence] = []  # what a raw read saw, reported whether or not it decided
        self.on_stack = self._third_party_on_stack()
        report.third_party_modules = self._implicated()
        self.kernel = self._claim(Claimant.KERNEL)
        self.debugger = self._claim(Claimant.DEBUGGER)
        self.tool = self._claim(Claimant.TOOL)
        faulting_module = self._claim(Claimant.FAULTING_MODULE)
        # What WinDbg said, for "WinDbg blamed nt" when the judge disagrees.
        self.windbg_said = (self.debugger.name if self.debugger else None) or (
            faulting_module.name if faulting_module else None)
        if self.kernel and self.raw:
            self.facts.append(self.kernel_evidence())
        self.param = self._param()
        self.site = self._site()
        self._raw_summary()

    # -- observations --------------------------------------------------------
    def tp(self, name: str | None) -> bool:
        if not name:
            return False
        info = self.modules.get(module_key(name))
        return third_party(name, info.path if info else None) is True

    def _claim(self, by: Claimant) -> Claim | None:
        return next((c for c in self.f.claims if c.by == by), None)

    def _implicated(self) -> list[str]:
        """Third-party modules the crash ran through, nearest first: for a
        kernel dump read raw, the failing instruction's image and then the
        stack's."""
        if not self.raw or self.app:
            return list(self.on_stack)
        site = next((s for s in self.f.sites if s.address is not None), None)
        hit = self.index.find(site.address) if site else None
        first = [hit.name] if hit is not None and self.tp(hit.image or hit.name) else []
        return first + [m for m in self.on_stack if not first or module_key(m) != module_key(first[0])]

    def _third_party_on_stack(self) -> list[str]:
        """Third-party modules on the stacks, nearest the crash first."""
        seen: dict[str, str] = {}
        if self.raw:
            for h in self.f.stack_hits:
                info = self.modules.get(h.module)
                if info is not None and self.tp(info.image or info.name):
                    seen.setdefault(h.module, info.name)
            return list(seen.values())
        for stack in [self.faulting] + [s for s in self.f.stacks if s is not self.faulting]:
            for frame in stack:
                if in_user_mode(frame, self.arch):
                    continue
                name = frame_module(frame, self.index)
                if name and third_party(name) and module_key(name) not in seen:
                    seen[module_key(name)] = name
        return list(seen.values())

    def stacked(self, name: str) -> bool:
        return module_key(name) in {module_key(m) for m in self.on_stack}

    def kernel_evidence(self) -> Evidence:
        assert self.kernel is not None
        return Evidence("broken_driver", self.kernel.quote)

    def _param(self) -> _Pick | None:
        """The module a code-address parameter of this bug check points into."""
        info, bc = self.info, self.report.bugcheck
        if not info or not bc or not bc.args:
            return None
        args = bc.args
        target = None
        if self.code in _BUGCHECK_UNLOADED:
            # Parameter 1 is an address in the driver that was unloaded.
            candidates = [1] + [n for n in info.code_params if n != 1]
        else:
            chosen = info.code_param(args)
            candidates = [chosen] if chosen else list(info.code_params)
            target = info.culprit_param if info.culprit_param_is_target else None
        for n in candidates:
            if not n or n > len(args) or not args[n - 1]:
                continue
            value = args[n - 1]
            assert value is not None
            hit = self.index.find(value, unloaded_first=self.code in _BUGCHECK_UNLOADED and n == 1)
            if hit is None:
                continue
            where = f"parameter {n} = 0x{value:x} = {at(hit, value)}"
            if n == target:
                self.facts.append(Evidence("param_target", where + " (the target address, not the code at fault)"))
                continue
            if hit.unloaded:
                pick = _Pick(hit.name, hit.image, Evidence("unloaded", where + " (an unloaded driver)"), Basis.UNLOADED)
            else:
                pick = _Pick(hit.name, hit.image, Evidence("param", where), Basis.PARAM)
            if self.raw:
                self.facts.append(pick.evidence)
            return pick
        return None

    def _site(self) -> _Pick | None:
        """The module the failing instruction lies in."""
        for site in self.f.sites:
            pick = self._site_pick(site)
            if pick is not None or site.address is not None:
                return pick
        return None

    def _site_pick(self, site: Site) -> _Pick | None:
        if site.address is not None:
            hit = self.index.find(site.address)
            if site.exception:
                if hit is None:
                    self.facts.append(Evidence("exception_address",
                                               f"exception address 0x{site.address:x} lies in no listed module"))
                    return None
                ev = Evidence("exception_address", f"exception address 0x{site.address:x} = {at(hit, site.address)}")
                basis = Basis.EXCEPTION_ADDRESS
            else:
                register = site.register or "Rip"
                if hit is None:
                    self.facts.append(Evidence("context_ip", f"context {register} = 0x{site.address:x} (in no listed module)"))
                    return None
                ev = Evidence("context_ip", f"context {register} = {at(hit, site.address)}")
                basis = Basis.UNLOADED if hit.unloaded else Basis.CONTEXT_IP
            self.facts.append(ev)
            return _Pick(hit.name, hit.image, ev, basis)
        if site.symbol:
            module = _symbol_module(site.symbol)
            if module:
                return _Pick(module, None, Evidence("instruction", f"faulting instruction {site.symbol}"),
                             Basis.INSTRUCTION, where=site.symbol)
        return None

    def _raw_summary(self) -> None:
        if not self.raw or not self.f.stack_hits:
            return
        counts = self.f.stack_counts
        if not counts:
            for h in self.f.stack_hits:
                counts[h.module] = counts.get(h.module, 0) + 1
        ordered = [(self.modules[k], n) for k, n in counts.items() if k in self.modules]
        shown = ", ".join(f"{m.image or m.name} ×{n}" for m, n in ordered[:STACK_EVIDENCE_MODULES])
        more = len(ordered) - STACK_EVIDENCE_MODULES
        self.facts.append(Evidence("raw_stack", "stack: " + shown + (f", +{more} more" if more > 0 else "")))

    def agreeing(self, name: str) -> int:
        """How many independent rules point at this module."""
        key = module_key(name)
        named = [self.kernel, self.debugger, self.tool]
        votes = sum(1 for c in named if c is not None and module_key(_stem(c.name)) == key)
        votes += sum(1 for p in (self.param, self.site) if p is not None and module_key(p.name) == key)
        votes += 1 if self.stacked(name) else 0
        return votes

    def confidence(self, name: str) -> str:
        if self.agreeing(name) >= 2:
            return "high"
        # A debugger's answer with no stack shown to check it against stands.
        if not self.raw and not self.faulting and (self.kernel or self.debugger):
            return "high"
        return "medium"

    # -- the verdict -----------------------------------------------------------
    def culprit(self, pick: _Pick | None, confidence: str, *evidence: Evidence | None,
                blamed: str | None = None, name: str | None = None, image: str | None = None) -> Culprit:
        module = name or (pick.name if pick else None)
        own = [e for e in evidence if e]
        if self.raw:
            # A dump has no analysis of its own: every observation is reported,
            # the deciding one where it was made.
            own = [e for e in self.facts] + [e for e in own if e not in self.facts]
        return Culprit(
            module=module,
            image=image or (pick.image if pick else None) or _image_for(module, self.modules),
            third_party=third_party(module, self._path(module)) if module else None,
            basis=pick.basis if pick else Basis.UNKNOWN,
            confidence=confidence,
            evidence=own,
            windbg_blamed=blamed,
        )

    def _path(self, module: str | None) -> str | None:
        info = self.modules.get(module_key(module)) if module else None
        return info.path if info else None

    def stack_evidence(self, module: str) -> Evidence | None:
        if self.raw:
            return self._nearest_hit(module)
        key = module_key(module)
        for i, frame in enumerate(self.faulting):
            name = frame_module(frame, self.index)
            if name and module_key(name) == key:
                idx = frame.index if frame.index is not None else i
                return Evidence("stack", f"frame {idx:02x}: {frame.label()}")
        return Evidence("stack", f"{module} on another stack of this dump")

    def _nearest_hit(self, module: str) -> Evidence | None:
        key = module_key(module)
        for h in self.f.stack_hits:
            if h.module == key and key in self.modules:
                return Evidence("raw_stack", f"nearest stack value into it: {at(self.modules[key], h.value)} (at 0x{h.slot:x})")
        return None

    def support(self, name: str, but: _Pick | None = None) -> list[Evidence]:
        """The other observations that point at the same module: the stack
        frame, the code-address parameter, the failing instruction."""
        key = module_key(name)
        stack = self.stack_evidence(name) if self.stacked(name) else None
        out = [stack] if stack else []
        for p in (self.param, self.site):
            if p is not None and p is not but and module_key(p.name) == key:
                if p.basis == Basis.INSTRUCTION and out and out[0].kind == "stack":
                    out.append(Evidence("instruction", f"faulting instruction in {p.where}"))
                else:
                    out.append(p.evidence)
        return [e for e in out if e]

    def overruled(self, chosen: str) -> Evidence | None:
        said = self.windbg_said
        if said and module_key(said) != module_key(chosen):
            return Evidence("windbg_overruled", f"WinDbg blamed {said}")
        return None

    def blamed(self, chosen: str) -> str | None:
        said = self.windbg_said
        return said if said and module_key(said) != module_key(chosen) else None

    def present(self, chosen: str | None) -> Evidence | None:
        """Third-party drivers loaded but on no stack: named, never blamed."""
        seen = {module_key(m) for m in self.on_stack}
        if chosen:
            seen.add(module_key(chosen))
        out = []
        for key in self.f.loaded:
            info = self.modules.get(key)
            if key not in seen and info is not None and self.tp(info.image or info.name):
                seen.add(key)
                out.append(info.image or info.name)
        if not out:
            return None
        more = len(out) - PRESENT_LISTED
        return Evidence("present", "third-party drivers loaded but not implicated: "
                        + ", ".join(out[:PRESENT_LISTED]) + (f", +{more} more" if more > 0 else ""))

    def verdict(self) -> Culprit | None:
        chosen = self._third_party_verdict()
        if chosen is None:
            chosen = self._inbox_verdict()
            if chosen is not None:
                self._framework_candidates(chosen)
        if chosen is not None and self.raw:
            tail = [e for e in (self.present(chosen.module),) if e]
            chosen.evidence.extend(tail)
        return chosen

    def _framework_candidates(self, chosen: Culprit) -> None:
        """A fault inside a Windows framework that calls other vendors' code
        (the filter manager, the network stack's callouts, storport's
        miniports) points at the code it was calling: name the third-party
        modules of that kind the evidence shows, as leads."""
        fw = catalog.framework(chosen.module)
        if fw is None:
            return
        names = [info.name for info in self.modules.values() if not info.unloaded]
        names += [_stem(m) for m in self.f.mentioned]
        chosen.candidates = fw.candidates(names)[:FRAMEWORK_CANDIDATES]
        chosen.framework = fw.module
        if chosen.candidates:
            chosen.evidence.append(Evidence("framework", f"{chosen.module} calls {fw.calls_en}: "
                                            + ", ".join(chosen.candidates)))

    def _third_party_verdict(self) -> Culprit | None:
        k, d, t = self.kernel, self.debugger, self.tool
        if k is not None and self.tp(_stem(k.name)):
            name = _stem(k.name)
            return self.culprit(_Pick(name, k.image or (k.name if "." in k.name else None), self.kernel_evidence(),
                                      Basis.BROKEN_DRIVER), self.confidence(name), self.kernel_evidence(),
                                *self.support(name))
        if d is not None and self.tp(d.name):
            image = d.image if d.image and module_key(d.image) == module_key(d.name) else None
            return self.culprit(_Pick(d.name, image, Evidence("module_name", d.quote), Basis.WINDBG),
                                self.confidence(d.name), Evidence("module_name", d.quote), *self.support(d.name))
        if t is not None and self.tp(_stem(t.name)):
            name = _stem(t.name)
            ev = Evidence("tool", t.quote)
            return self.culprit(_Pick(name, t.image or (t.name if "." in t.name else None), ev, Basis.TOOL),
                                self.confidence(name), ev, *self.support(name))
        if self.on_stack and not self.raw:
            top = self.on_stack[0]
            return self.culprit(_Pick(top, None, Evidence("stack", top), Basis.STACK), self.confidence(top),
                                *self.support(top), self.overruled(top), blamed=self.blamed(top))
        for pick in (self.param, self.site):
            if pick is not None and self.tp(pick.name):
                ev = pick.evidence
                conf = self.confidence(pick.name)
                return self.culprit(pick, conf, ev, *self.support(pick.name, but=pick),
                                    blamed=self.blamed(pick.name) if not self.raw else None)
        if self.on_stack and self.raw:
            top = self.on_stack[0]
            info = self.modules.get(module_key(top))
            pick = _Pick(top, info.image if info else None, Evidence("raw_stack", top), Basis.RAW_STACK)
            # An application's stack is full of stale pointers into its DLLs.
            conf = "low" if self.app else self.confidence(top)
            return self.culprit(pick, conf, self.stack_evidence(top))
        mentioned = [m for m in self.f.mentioned if self.tp(m)]
        if mentioned and not self.faulting and not (self.info and self.info.hardware):
            name = _stem(mentioned[0])
            return self.culprit(
                _Pick(name, mentioned[0], Evidence("mentioned", ""), Basis.MENTIONED), "low",
                Evidence("mentioned", f"WinDbg loaded {mentioned[0]} while analysing this crash"),
                self.overruled(name), blamed=self.blamed(name))
        return None

    def _inbox_verdict(self) -> Culprit | None:
        d = self.debugger
        said = d.name if d else None
        hardware = (self.info and self.info.hardware) or (said and catalog.is_pseudo(said) and "hardware" in said.lower()) \
            or is_cpu_pseudo(said)
        if hardware and not self.raw:
            name = self.info.name if self.info else hex(self.code or 0)
            return Culprit(module=None, basis=Basis.HARDWARE, confidence="medium", third_party=None,
                           evidence=[Evidence("bugcheck", f"{name} points at hardware")]
                           + ([Evidence("module_name", f"WinDbg: {said}")] if said else []),
                           category="hardware", windbg_blamed=self.windbg_said)
        inbox_only = Evidence("inbox_only", "no third-party driver on the faulting stack" if self.raw
                              else "no third-party module on the stack")
        # "No third-party driver" is said of what was looked at: a dump's raw
        # read always, a transcript when it showed a stack.
        inbox = None if self.app else inbox_only if self.raw or self.faulting else None
        if self.kernel is not None:
            name = _stem(self.kernel.name)
            return self.culprit(_Pick(name, self.kernel.image, self.kernel_evidence(), Basis.BROKEN_DRIVER), "low",
                                None if self.raw else self.kernel_evidence(), inbox)
        if d is not None and not catalog.is_pseudo(d.name):
            return self.culprit(_Pick(d.name, d.image if d.image and "." in d.image else None,
                                      Evidence("module_name", ""), Basis.WINDBG_INBOX), "low",
                                Evidence("module_name", f"WinDbg: {d.name}"), inbox)
        t = self.tool
        if t is not None and not catalog.is_pseudo(_stem(t.name)):
            # The tool's (or the stop screen's) answer, when it names Windows
            # itself: reported as said, at low confidence.
            name = _stem(t.name)
            return self.culprit(_Pick(name, t.image or (t.name if "." in t.name else None), Evidence("tool", t.quote),
                                      Basis.TOOL), "low", Evidence("tool", t.quote), inbox)
        for pick in (self.param, self.site):
            if pick is not None and pick.basis != Basis.INSTRUCTION:
                return self.culprit(pick, "low", inbox)
        # The Windows module the failing instruction, or the first frame past
        # the crash machinery, lies in: a low-confidence lead, not a verdict.
        site = self.site
        where = site.where if site else None
        in_machinery = bool(where) and "!" in (where or "") and (where or "").split("!", 1)[1].lower().startswith(_MACHINERY)
        lead = site.name if site and where and not catalog.is_pseudo(site.name) and not in_machinery else None
        if lead is None and self.faulting and not self.raw:
            frame = first_failing_frame(self.faulting, self.index, self.arch)
            if frame is not None:
                lead, where = frame_module(frame, self.index), frame.label()
        if lead:
            return self.culprit(_Pick(lead, None, Evidence("instruction", ""), Basis.FAULTING_INBOX), "low",
                                Evidence("instruction", f"fault in {where}"),
                                Evidence("module_name", f"WinDbg: {said}") if said else None,
                                inbox, blamed=said)
        if self.raw and self.f.stack_hits:
            keys = list(dict.fromkeys(h.module for h in self.f.stack_hits))
            key = next((k for k in keys if k not in _CORE), keys[0])
            info = self.modules.get(key)
            if info is not None:
                pick = _Pick(info.name, info.image, Evidence("raw_stack", ""), Basis.RAW_STACK)
                return self.culprit(pick, "low", self._nearest_hit(info.name), inbox)
        if said:
            return Culprit(module=None, basis=Basis.WINDBG_PSEUDO, confidence="low", third_party=None,
                           evidence=[Evidence("module_name", f"WinDbg: {said}")], windbg_blamed=said)
        if self.raw:
            return self.culprit(None, "low", inbox)
        return None


def judge(report: DumpReport, findings: Findings) -> Culprit | None:
    """The culprit of one crash (its vendor is resolved later, with the whole
    case's lm evidence).  Also sets ``report.third_party_modules``."""
    return _Judge(report, findings).verdict()


def _symbol_module(symbol: str | None) -> str | None:
    """'VSApiNt!VSSwapShortTable+0x136d' -> 'VSApiNt'; 'x.sys+0x10' -> 'x'."""
    if not symbol:
        return None
    text = symbol.strip()
    end = len(text)
    for mark in ("!", "+"):
        i = text.find(mark)
        if 0 < i < end:
            end = i
    name = text[:end]
    if not name or not (name[0].isalnum() or name[0] == "_") or not all(ch.isalnum() or ch in "_.$~-" for ch in name):
        return None
    if name[:2].lower() == "0x" or (len(name) >= 8 and not name.strip("0123456789abcdefABCDEF")):
        return None  # an address, not a module ("fffff801`12345678" with its backtick gone)
    return _stem(name)


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

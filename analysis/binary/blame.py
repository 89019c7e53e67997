"""Which driver a kernel dump points at, without symbols (issue 3, and
../shared/research/dump-formats.md §9.2).

Rules, strongest first: the driver the kernel itself recorded as broken; a
bug check parameter that holds a code address; the instruction pointer of
the saved context; the images whose ranges hold values on the faulting
stack.  Windows' own images are never blamed while a third-party one is
implicated, but the place a crash happened is always reported, even when it
is an in-box driver: "amdppm.sys+0x334c" is the answer an engineer quotes."""

from __future__ import annotations

from dataclasses import dataclass

from analysis import catalog
from analysis.attribution import third_party
from analysis.binary.images import MAX_FRAMES, Image, ImageMap, StackScan
from analysis.model import Culprit, Evidence, Frame

_CORE = frozenset({"ntoskrnl", "ntkrnlmp", "ntkrnlpa", "ntkrpamp", "hal", "halmacpi", "halacpi", "halaacpi"})
_BUGCHECK_UNLOADED = 0xCE
STACK_EVIDENCE_MODULES = 8
PRESENT_LISTED = 40


@dataclass
class Findings:
    """What a dump reader found that bears on the culprit."""

    images: ImageMap
    unloaded: ImageMap
    code: int | None = None
    args: list[int] | None = None
    broken: Image | None = None
    ip: int | None = None
    ip_register: str = "Rip"
    stack: StackScan | None = None
    loaded: list[Image] | None = None


def _is_third_party(img: Image | None) -> bool:
    return bool(img) and third_party(img.image) is True


def _is_core(img: Image) -> bool:
    return img.key in _CORE


def decide(f: Findings) -> tuple[Culprit, list[str], list[Frame]]:
    """The culprit, the third-party images on the faulting stack (nearest the
    crash first), and the stack as frames (context IP, then the raw hits)."""
    evidence: list[Evidence] = []
    votes: dict[str, Image] = {}  # rule -> image it points at
    info = catalog.bugcheck(f.code)
    args = f.args or []

    if f.broken is not None:
        votes["broken_driver"] = f.broken
        evidence.append(Evidence("broken_driver", f"the kernel recorded {f.broken.image} as the broken driver"))

    param_img, param_rule = _param(f, info, args, evidence)
    if param_img is not None:
        votes[param_rule] = param_img

    ip_img = f.images.find(f.ip) or f.unloaded.find(f.ip)
    if ip_img is not None:
        votes["context_ip"] = ip_img
        evidence.append(Evidence("context_ip", f"context {f.ip_register} = {ip_img.at(f.ip)}"))
    elif f.ip:
        evidence.append(Evidence("context_ip", f"context {f.ip_register} = 0x{f.ip:x} (in no listed module)"))

    ordered = f.stack.ordered() if f.stack else []
    if ordered:
        shown = ", ".join(f"{img.image} ×{n}" for img, n in ordered[:STACK_EVIDENCE_MODULES])
        more = len(ordered) - STACK_EVIDENCE_MODULES
        evidence.append(Evidence("raw_stack", "stack: " + shown + (f", +{more} more" if more > 0 else "")))
    on_stack = [img for img, _ in ordered]

    tp_stack: dict[str, Image] = {}
    if _is_third_party(ip_img):
        tp_stack[ip_img.key] = ip_img
    for img in on_stack:
        if _is_third_party(img):
            tp_stack.setdefault(img.key, img)

    # Strongest rule naming a third-party image (the broken driver counts
    # even when it is Windows' own: the kernel said so).
    chosen, basis = None, None
    if f.broken is not None:
        chosen, basis = f.broken, "broken_driver"
    elif _is_third_party(param_img):
        chosen, basis = param_img, param_rule
    elif _is_third_party(ip_img):
        chosen, basis = ip_img, "unloaded" if ip_img.unloaded else "context_ip"
    else:
        first = next((img for img in on_stack if _is_third_party(img)), None)
        if first is not None:
            chosen, basis = first, "raw_stack"

    if chosen is not None and basis == "raw_stack":
        _first_hit_evidence(f, chosen, evidence)
    if chosen is not None:
        agree = sum(1 for img in votes.values() if img.key == chosen.key)
        agree += 1 if chosen.key in {i.key for i in on_stack} else 0
        confidence = "high" if agree >= 2 else "medium"
    else:
        # Only Windows' own images: say where it happened, with low weight.
        confidence = "low"
        for img, rule in ((param_img, param_rule), (ip_img, "context_ip")):
            if img is not None:
                chosen, basis = img, ("unloaded" if img.unloaded else rule)
                break
        else:
            first = next((img for img in on_stack if not _is_core(img)), None) or (on_stack[0] if on_stack else None)
            if first is not None:
                chosen, basis = first, "raw_stack"
                _first_hit_evidence(f, chosen, evidence)
        evidence.append(Evidence("inbox_only", "no third-party driver on the faulting stack"))

    present = _present_elsewhere(f, tp_stack, chosen)
    if present:
        listed = ", ".join(img.image for img in present[:PRESENT_LISTED])
        more = len(present) - PRESENT_LISTED
        evidence.append(Evidence("present", "third-party drivers loaded but not implicated: " + listed
                                 + (f", +{more} more" if more > 0 else "")))

    if chosen is None:
        culprit = Culprit(module=None, basis="unknown", confidence="low", third_party=None, evidence=evidence)
    else:
        culprit = Culprit(module=chosen.name, image=chosen.image, third_party=third_party(chosen.image),
                          basis=basis, confidence=confidence, evidence=evidence)
    return culprit, [img.name for img in tp_stack.values()], _frames(f, ip_img)


def _param(f: Findings, info, args: list[int], evidence: list[Evidence]) -> tuple[Image | None, str]:
    """The image a code-address parameter of this bug check points into."""
    if not info or not args:
        return None, "param"
    if f.code == _BUGCHECK_UNLOADED:
        # 0xCE: parameter 1 is an address in the driver that was unloaded.
        candidates = [1] + [n for n in info.code_params if n != 1]
        target = None
    else:
        chosen = info.code_param(args)
        candidates = [chosen] if chosen else list(info.code_params)
        target = info.culprit_param if info.culprit_param_is_target else None
    for n in candidates:
        if not n or n > len(args) or not args[n - 1]:
            continue
        value = args[n - 1]
        if f.code == _BUGCHECK_UNLOADED and n == 1:
            img = f.unloaded.find(value) or f.images.find(value)
        else:
            img = f.images.find(value) or f.unloaded.find(value)
        if img is None:
            continue
        where = f"parameter {n} = 0x{value:x} = {img.at(value)}"
        if n == target:
            evidence.append(Evidence("param_target", where + " (the target address, not the code at fault)"))
            continue
        if img.unloaded:
            evidence.append(Evidence("unloaded", where + " (an unloaded driver)"))
            return img, "unloaded"
        evidence.append(Evidence("param", where))
        return img, "param"
    return None, "param"


def _first_hit_evidence(f: Findings, img: Image, evidence: list[Evidence]) -> None:
    for slot, value, hit in f.stack.hits if f.stack else []:
        if hit.key == img.key:
            evidence.append(Evidence("raw_stack", f"nearest stack value into it: {hit.at(value)} (at 0x{slot:x})"))
            return


def _present_elsewhere(f: Findings, on_stack: dict[str, Image], chosen: Image | None) -> list[Image]:
    seen = set(on_stack)
    if chosen is not None:
        seen.add(chosen.key)
    out = []
    for img in f.loaded or []:
        if img.key not in seen and _is_third_party(img):
            seen.add(img.key)
            out.append(img)
    return out


def _frames(f: Findings, ip_img: Image | None) -> list[Frame]:
    frames = []
    if ip_img is not None and f.ip is not None:
        frames.append(Frame(module=ip_img.name, offset=f.ip - ip_img.base, index=0, address=f.ip))
    for slot, value, img in (f.stack.hits if f.stack else [])[:MAX_FRAMES]:
        frames.append(Frame(module=img.name, offset=value - img.base, index=len(frames), child_sp=slot, address=value))
    return frames

"""The project's reference tables, loaded once on first use.

Data lives in ``analysis/data`` as JSON/CSV so that a support lead can add a
driver or a known issue without touching code; see ``analysis/data/SOURCES.md``
for where the facts come from."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from analysis.model import module_key

DATA = Path(__file__).with_name("data")


def _json(name: str):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


# ---------------------------------------------------------------- bug checks

@dataclass(slots=True, frozen=True)
class BugCheckInfo:
    code: int
    name: str
    category: str | None
    params: tuple[str, ...]
    params_zh: tuple[str, ...]
    code_params: tuple[int, ...]  # 1-based parameters holding a code address
    culprit_param: int | None  # the one that points at the faulting code
    culprit_param_is_target: bool
    culprit_param_by_subtype: dict
    subtype_param: int | None
    subtypes: dict
    subtypes_zh: dict
    exception_codes: dict
    zh: str | None
    summary_en: str | None
    summary_zh: str | None
    likely_en: str | None
    likely_zh: str | None
    hardware: bool

    def code_param(self, args: list[int | None]) -> int | None:
        """The parameter that points at the responsible code, for these arguments."""
        if self.culprit_param_by_subtype and self.subtype_param and len(args) >= self.subtype_param:
            value = args[self.subtype_param - 1]
            if value is not None and "0x%X" % value in self.culprit_param_by_subtype:
                return self.culprit_param_by_subtype["0x%X" % value]
        return self.culprit_param

    def subtype(self, args: list[int | None]) -> tuple[str | None, str | None]:
        """English and Chinese meaning of the subtype selected by the arguments."""
        if not self.subtype_param or len(args) < self.subtype_param:
            return None, None
        value = args[self.subtype_param - 1]
        if value is None:
            return None, None
        key = "0x%X" % value
        return self.subtypes.get(key), self.subtypes_zh.get(key)


@cache
def _bugcheck_tables():
    return _json("bugchecks.json"), _json("bugcheck_guide.json")


def base_code(code: int) -> int:
    """The bug check a code is the _M twin of, or the code itself:
    0x1000008E is 0x8E raised by a newer kernel (KeBugCheckEx with the
    0x10000000 bit set); its parameters mean the same."""
    return code & ~0x10000000 if code & 0xF0000000 == 0x10000000 else code


def same_bugcheck(a: int | None, b: int | None) -> bool:
    """Two codes naming one bug check (either unknown counts as agreeing)."""
    if a is None or b is None:
        return True
    return base_code(a) == base_code(b)


@cache
def bugcheck(code: int | None) -> BugCheckInfo | None:
    if code is None:
        return None
    facts, guide = _bugcheck_tables()
    key, base_key = "0x%X" % code, "0x%X" % base_code(code)
    base = facts.get(base_key, {}) if base_key != key else {}
    entry = facts.get(key) or base
    if not entry:
        return None
    subtypes = (entry.get("subtypes") or facts.get(entry.get("subtypes_from", ""), {}).get("subtypes")
                or base.get("subtypes") or {})
    subtype_param = entry.get("subtype_param") or base.get("subtype_param") or (1 if subtypes else None)
    g = guide.get(key) or (guide.get(base_key) if base else None) or {}
    generic = guide.get("_generic", {})
    zh_subtypes = {("0x" + k.upper().removeprefix("0X")): v for k, v in (g.get("subtypes_zh") or {}).items()}
    return BugCheckInfo(
        code=code,
        name=entry["name"],
        category=entry.get("category") or base.get("category"),
        params=tuple(entry.get("params") or base.get("params") or ()),
        params_zh=tuple(g.get("params_zh") or ()),
        code_params=tuple(entry.get("code_params") or base.get("code_params") or ()),
        culprit_param=g.get("culprit_param"),
        culprit_param_is_target=bool(g.get("culprit_param_is_target")),
        culprit_param_by_subtype={"0x" + k.upper().removeprefix("0X"): v
                                  for k, v in (g.get("culprit_param_by_subtype") or {}).items()},
        subtype_param=subtype_param,
        subtypes=subtypes,
        subtypes_zh=zh_subtypes,
        exception_codes=entry.get("exception_codes") or base.get("exception_codes") or {},
        zh=g.get("zh"),
        summary_en=g.get("summary_en") or generic.get("summary_en"),
        summary_zh=g.get("summary_zh") or generic.get("summary_zh"),
        likely_en=g.get("likely_en") or generic.get("likely_en"),
        likely_zh=g.get("likely_zh") or generic.get("likely_zh"),
        hardware=bool(g.get("hardware")),
    )


@cache
def bugcheck_by_name(name: str) -> int | None:
    facts, _ = _bugcheck_tables()
    wanted = name.strip().upper()
    for key, entry in facts.items():
        if entry["name"] == wanted:
            return int(key, 16)
    return None


# ------------------------------------------------------------------- drivers

@dataclass(slots=True, frozen=True)
class DriverInfo:
    image: str
    vendor: str
    vendor_zh: str | None
    product: str | None
    category: str | None
    confidence: str


@cache
def _drivers() -> dict[str, DriverInfo]:
    table: dict[str, DriverInfo] = {}
    with open(DATA / "drivers.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            image = row["module"].strip().lower()
            table.setdefault(
                module_key(image),
                DriverInfo(
                    image=image,
                    vendor=row["vendor"].strip(),
                    vendor_zh=(row.get("vendor_zh") or "").strip() or None,
                    product=(row.get("product") or "").strip() or None,
                    category=(row.get("category") or "").strip() or None,
                    confidence=(row.get("confidence") or "medium").strip(),
                ),
            )
    return table


def driver(name: str | None) -> DriverInfo | None:
    if not name:
        return None
    return _drivers().get(module_key(name))


@cache
def _inbox() -> frozenset[str]:
    names = set()
    for line in (DATA / "inbox_modules.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip().lower()
        if line:
            names.add(module_key(line))
    return frozenset(names)


# Prefixes of Windows' own image families that grow with every release.
_INBOX_PREFIXES = ("ntkrnl", "ntoskrnl", "ntkrpamp", "win32k", "dxgmms", "halmacpi", "dump_", "api-ms-win-", "ext-ms-win-")
# Pseudo-modules !analyze uses when it cannot blame an image.
PSEUDO_MODULES = frozenset({
    "memory_corruption", "hardware", "hardware_ram", "hardware_disk", "hardware_cpu",
    "unknown_module", "unknown_image", "unknown", "pool_corruption", "analysis_inconclusive",
    "large_pages_corruption", "one_bit", "two_bit", "stride", "hardware_processor",
})


def is_pseudo(name: str | None) -> bool:
    if not name:
        return False
    key = module_key(name)
    return key in PSEUDO_MODULES or key.startswith("unknown_") or key.startswith("hardware_") or key.startswith("memory_corruption")


def is_inbox(name: str | None) -> bool:
    """Windows' own image: never the answer while a third-party one is on
    the stack.  Partner drivers shipped in the box (Intel NIC, Realtek audio)
    are not listed here: their vendor is still who to call."""
    if not name:
        return False
    key = module_key(name)
    if key in _inbox():
        return True
    return key.startswith(_INBOX_PREFIXES)


# Folders Windows keeps its own images in.  Drivers (system32\drivers, the
# driver store) are everyone's: there a name the catalog lacks says nothing.
_WINDOWS_DIRS = ("\\windows\\system32\\", "\\windows\\syswow64\\", "\\windows\\winsxs\\")
_SHARED_DIRS = ("\\drivers\\", "\\driverstore\\")


def in_windows_dir(path: str | None) -> bool:
    low = (path or "").lower().replace("/", "\\")
    return any(d in low for d in _WINDOWS_DIRS) and not any(d in low for d in _SHARED_DIRS)


def is_third_party(name: str | None, path: str | None = None) -> bool | None:
    """Not Windows' own image (None: a pseudo-module, nobody's).  With the
    image's path, one the catalog does not know that lives in Windows' own
    folders (System32, SysWOW64, WinSxS) is taken as Windows'."""
    if not name or is_pseudo(name):
        return None
    if is_inbox(name):
        return False
    if path and driver(name) is None and in_windows_dir(path):
        return False
    return True


@dataclass(slots=True, frozen=True)
class VendorPath:
    pattern: str
    vendor: str
    vendor_zh: str | None
    product: str | None
    family: str | None  # one product line sold under several names (Trend Micro / AsiaInfo Security)


@cache
def _vendor_paths() -> tuple[VendorPath, ...]:
    rows = []
    with open(DATA / "vendor_paths.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            rows.append(
                VendorPath(
                    pattern=row["pattern"].strip().lower().replace("/", "\\"),
                    vendor=row["vendor"].strip(),
                    vendor_zh=(row.get("vendor_zh") or "").strip() or None,
                    product=(row.get("product") or "").strip() or None,
                    family=(row.get("family") or "").strip() or None,
                )
            )
    # Longest pattern first: "\asiainfo security\officescan client\" before "\asiainfo security\".
    rows.sort(key=lambda r: -len(r.pattern))
    return tuple(rows)


def vendor_from_text(text: str | None) -> VendorPath | None:
    """Vendor named by an image path or a CompanyName string."""
    if not text:
        return None
    hay = text.lower().replace("/", "\\")
    for row in _vendor_paths():
        if row.pattern in hay:
            return row
    return None


@cache
def _families() -> dict[str, str]:
    """Vendor name (lower case) -> its family, from vendor_paths.csv's family column."""
    return {row.vendor.lower(): row.family for row in _vendor_paths() if row.family}


def family_name(vendor: str | None) -> str | None:
    """The name a verdict gives the vendor's family when the customer's
    install does not say which of its names it goes by: AsiaInfo Security
    and Trend Micro ship the same OfficeScan files and are one vendor."""
    if not vendor:
        return None
    return _families().get(vendor.lower(), vendor)


def family_key(vendor: str | None) -> str | None:
    """What two vendor names are compared by."""
    name = family_name(vendor)
    return name.lower() if name else None


def family_members(vendor: str | None) -> tuple[str, ...]:
    """Every name the vendor's family goes by (the vendor's own first)."""
    if not vendor:
        return ()
    key = family_key(vendor)
    others = {row.vendor for row in _vendor_paths() if row.family and row.family.lower() == key}
    return (vendor, *sorted(v for v in others if v.lower() != vendor.lower()))


@cache
def vendor_zh(vendor: str) -> str | None:
    """The Chinese name the tables give a vendor."""
    low = vendor.lower()
    for row in (*_vendor_paths(), *_drivers().values()):
        if row.vendor.lower() == low and row.vendor_zh:
            return row.vendor_zh
    return None

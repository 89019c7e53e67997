"""The project's reference tables, loaded once on first use.

Data lives in ``analysis/data`` as JSON/CSV so that a support lead can add a
driver or a known issue without touching code; see ``analysis/data/SOURCES.md``
for where the facts come from."""

from __future__ import annotations

import csv
import enum
import json
import re
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

class SourceKind(enum.Enum):
    """What a row's source is worth as evidence of who ships the file."""

    PRIMARY = "primary"  # the vendor's own site, docs, INF/RC or tracker; Microsoft's docs; a real file's version info
    SECONDARY = "secondary"  # community lists and write-ups: someone else's say-so
    COPY = "copy"  # driver-database and SEO sites that copy each other
    FIXTURE = "fixture"  # the project's own test data


@dataclass(slots=True, frozen=True)
class DriverInfo:
    image: str
    vendor: str
    vendor_zh: str | None
    product: str | None
    category: str | None
    confidence: str
    # A primary source names this vendor for this file; when False a verdict
    # says "vendor unconfirmed" (only a community list, a copy site or a
    # fixture names it, or the version info is known to be forged).
    confirmed: bool = True
    source: str = ""
    # "inbox" (every install) or "optional" (a Windows feature or role: Hyper-V,
    # WSL, RDP...): part of Windows, never a third party.
    windows: str | None = None
    altitude: str | None = None  # minifilter altitude and load-order group
    # Other companies that ship a file of this name (a renamed SDK driver,
    # a name two vendors registered): the name alone does not say which.
    other_vendors: tuple[str, ...] = ()


_DRIVER_COLUMNS = ("module", "vendor", "vendor_zh", "product", "category", "windows", "confirmed",
                   "confidence", "altitude", "source")


@cache
def _driver_index() -> dict[str, list[list[str]]]:
    """Module key -> its rows as read (columns in _DRIVER_COLUMNS order), the
    row a verdict uses first.  Rows become DriverInfo only when asked for:
    a process asks about a few dozen of the 3,000 names, and reading them
    raw is a third of the cost of building them all."""
    index: dict[str, list[list[str]]] = {}
    with open(DATA / "drivers.csv", encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = [h.strip() for h in next(reader)]
        at = [header.index(name) if name in header else -1 for name in _DRIVER_COLUMNS]
        as_is = at == list(range(len(_DRIVER_COLUMNS))) and len(header) == len(at)
        for fields in reader:
            if not fields:
                continue
            if not as_is or len(fields) != len(at):  # a hand-edited file: other column order, short rows
                fields = [fields[i] if 0 <= i < len(fields) else "" for i in at]
            index.setdefault(module_key(fields[0]), []).append(fields)
    return index


def _info(row: list[str], others: tuple[str, ...] = ()) -> DriverInfo:
    module, vendor, zh, product, category, windows, confirmed, confidence, altitude, source = (f.strip() for f in row)
    return DriverInfo(image=module.lower(), vendor=vendor, vendor_zh=zh or None, product=product or None,
                      category=category or None, confidence=confidence or "medium", confirmed=confirmed != "no",
                      source=source, windows=windows or None, altitude=altitude or None, other_vendors=others)


@cache
def _driver_key(key: str) -> tuple[DriverInfo, ...]:
    rows = _driver_index().get(key)
    if not rows:
        return ()
    first = rows[0]
    others = tuple(dict.fromkeys(r[1].strip() for r in rows[1:] if r[1].strip() != first[1].strip()))
    return (_info(first, others), *(_info(r) for r in rows[1:]))


def driver(name: str | None) -> DriverInfo | None:
    if not name:
        return None
    rows = _driver_key(module_key(name))
    return rows[0] if rows else None


def drivers_named(name: str | None) -> tuple[DriverInfo, ...]:
    """Every catalog row for a file name, the one driver() gives first."""
    if not name:
        return ()
    return _driver_key(module_key(name))


def _is_windows_row(key: str) -> bool:
    rows = _driver_index().get(key)
    return rows is not None and bool(rows[0][5].strip())


@cache
def _driver_vendor_zh() -> dict[str, str]:
    names: dict[str, str] = {}
    for rows in _driver_index().values():
        for row in rows:
            if row[2].strip():
                names.setdefault(row[1].strip().lower(), row[2].strip())
    return names


@cache
def _source_table() -> dict[str, SourceKind]:
    """sources.csv: short keys, web hosts and repositories, and what each is worth."""
    table = {}
    with open(DATA / "sources.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            table[row["key"].strip().lower()] = SourceKind(row["kind"].strip())
    return table


_FIXTURE_DIRS = ("tests/", "seed/", "examples/")


def source_kind(ref: str) -> SourceKind:
    """What one reference in a row's source column is: a key of sources.csv
    (``loldrivers:<yaml>``), a URL, ``owner/repo@commit:path``, or a fixture.
    A URL or repository sources.csv does not list counts as primary: rows
    cite the vendor's own pages, files and trackers, and real pastes."""
    ref = ref.strip()
    table = _source_table()
    low = ref.lower()
    if low.startswith(("https://", "http://")):
        host = low.split("://", 1)[1].split("/", 1)[0]
        while host:
            if host in table:
                return table[host]
            host = host.partition(".")[2] if host.count(".") > 1 else ""
        repo = "/".join(low.split("://", 1)[1].split("/")[1:3])
        return table.get(repo, SourceKind.PRIMARY)
    if low.startswith(_FIXTURE_DIRS):
        return SourceKind.FIXTURE
    head = low.split(":", 1)[0]
    if head in table:
        return table[head]
    repo = head.split("@", 1)[0]
    if repo.count("/") == 1 and " " not in repo:
        return table.get(repo, SourceKind.PRIMARY)
    return SourceKind.SECONDARY  # a description of where, not a place to look


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
    are not listed here: their vendor is still who to call.  The catalog's
    Microsoft rows marked inbox or optional (Hyper-V, WSL, RDP, Defender...)
    count too; Microsoft's separately installed tools (Sysinternals, SQL
    Server, WDK samples built by someone else) do not."""
    if not name:
        return False
    key = module_key(name)
    if key in _inbox() or key.startswith(_INBOX_PREFIXES):
        return True
    return _is_windows_row(key)


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


# Company-form endings dropped from a CompanyName to get the vendor's name
# ("Emsi Software GmbH" -> "Emsi Software"); bounded, no nested repeats.
_CORP_SUFFIX = re.compile(
    r"[,.]?\s{1,3}(?:corporation|corp\.?|incorporated|inc\.?|co\.?,?\s?ltd\.?|ltd\.?|limited|gmbh|llc|"
    r"l\.l\.c\.|s\.a\.s\.|s\.a\.|s\.r\.o\.|srl|ag|ab|asa|a/s|oy|pty\.?\s?ltd\.?|pvt\.?\s?ltd\.?|k\.k\.|co\.|company)"
    r"[.,]?\s{0,3}$",
    re.I,
)
_NAME_WORDS = re.compile(r"[^\W_]+")


def vendor_name(company: str | None) -> str | None:
    """The catalog's name for a company as a CompanyName or a source spells
    it: a known spelling (vendor_paths.csv) gives the catalog's name, any
    other loses its company form ("Inc.", "Co., Ltd.")."""
    if not company or not company.strip():
        return None
    text = company.strip()[:200]
    row = vendor_from_text(text)
    if row:
        return row.vendor
    for _ in range(2):  # "Foo Co., Ltd." and "Foo Inc., Ltd." both end in two forms
        text = _CORP_SUFFIX.sub("", text).strip(" ,")
    return text or company.strip()[:200]


def same_vendor(a: str | None, b: str | None) -> bool:
    """Two spellings of one vendor: the same family, or one name the other's
    first words ("Baidu" / "Baidu (Hong Kong) Limited").  Loose on purpose:
    for checking a source's spelling against the catalog's, not for grouping
    a case's evidence (family_key does that)."""
    ka, kb = family_key(vendor_name(a)), family_key(vendor_name(b))
    if not ka or not kb:
        return False
    if ka == kb:
        return True
    wa, wb = _NAME_WORDS.findall(ka), _NAME_WORDS.findall(kb)
    n = min(len(wa), len(wb))
    return n > 0 and wa[:n] == wb[:n]


@cache
def vendor_zh(vendor: str) -> str | None:
    """The Chinese name the tables give a vendor."""
    low = vendor.lower()
    for row in _vendor_paths():
        if row.vendor.lower() == low and row.vendor_zh:
            return row.vendor_zh
    return _driver_vendor_zh().get(low)


# ----------------------------------------------------------------- frameworks

@dataclass(slots=True, frozen=True)
class FrameworkInfo:
    """A Windows module that runs other vendors' code: a fault inside it is
    often a fault of the driver it was calling back into."""

    module: str
    role_en: str  # what the Windows module is
    role_zh: str
    calls_en: str  # the kind of third-party code it calls
    calls_zh: str
    categories: tuple[str, ...]  # catalog categories of the drivers that plug in
    keywords: tuple[str, ...]  # words of a driver's description that say it plugs in
    minifilters: bool  # file-system minifilters (drivers with an altitude) plug in
    source: str

    def plugs_in(self, drv: DriverInfo) -> bool:
        """Whether a catalog driver is of a kind this framework calls."""
        if drv.altitude:
            return self.minifilters  # a minifilter is called by the filter manager, not by NDIS or storport
        if drv.category in self.categories:
            return True
        text = (drv.product or "").lower()
        words = set(_NAME_WORDS.findall(text))
        return any((kw in text) if not kw.isalnum() else (kw in words) for kw in self.keywords)

    def candidates(self, names) -> list[str]:
        """Of the given module names (a dump's loaded or stacked modules), the
        third-party ones of a kind this framework calls, in the order given."""
        out: list[str] = []
        seen: set[str] = set()
        for name in names:
            key = module_key(name) if name else ""
            if not key or key in seen or is_third_party(name) is not True:
                continue
            drv = driver(name)
            if drv and self.plugs_in(drv):
                seen.add(key)
                out.append(name)
        return out


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip().lower() for part in text.split(";") if part.strip())


@cache
def _frameworks() -> dict[str, FrameworkInfo]:
    table = {}
    with open(DATA / "frameworks.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            cats = _split(row["categories"])
            info = FrameworkInfo(
                module=row["module"].strip().lower(),
                role_en=row["role_en"].strip(),
                role_zh=row["role_zh"].strip(),
                calls_en=row["calls_en"].strip(),
                calls_zh=row["calls_zh"].strip(),
                categories=tuple(c for c in cats if c != "minifilter"),
                keywords=_split(row.get("keywords") or ""),
                minifilters="minifilter" in cats,
                source=row["source"].strip(),
            )
            table[module_key(info.module)] = info
    return table


def framework(name: str | None) -> FrameworkInfo | None:
    """What a Windows framework module calls, or None for any other module."""
    if not name:
        return None
    return _frameworks().get(module_key(name))

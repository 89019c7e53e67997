"""Merge the team's driver-to-vendor table into analysis/data/drivers.csv.

Run by hand when the reference data changes:
    python scripts/import_modules.py ../shared/data/modules.csv

Every (module, vendor) row of modules.csv ends up in drivers.csv.  Rows the
catalog already has keep their hand-written fields (vendor names, Chinese
names, descriptions) and gain the table's sources; new rows get the
catalog's name for the vendor (vendor_paths.csv spellings, company forms
dropped), a category, and a short description generated from the facts
(filter group, product name).  Only facts are taken.  The `confirmed` column
says whether a primary source names the vendor (sources.csv says what each
source is worth).  Idempotent: running it twice gives the same file."""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis import catalog  # noqa: E402
from analysis.model import module_key  # noqa: E402

OUT = ROOT / "analysis" / "data" / "drivers.csv"
COLUMNS = ["module", "vendor", "vendor_zh", "product", "category", "windows", "confirmed", "confidence",
           "altitude", "source"]

CATEGORY = {
    "monitoring": "monitoring", "antivirus": "antivirus", "endpoint security": "endpoint-security",
    "encryption": "encryption", "dlp": "dlp", "backup": "backup", "utility": "utility",
    "hardware utility": "hardware-utility", "virtualization": "virtualization", "storage": "storage",
    "file system filter": "file-system", "copy protection": "copy-protection", "network": "network",
    "game anti-cheat": "anti-cheat", "malicious driver": "malicious", "firewall": "firewall",
    "graphics": "graphics", "wifi": "wifi", "audio": "audio", "input/usb": "input", "vpn": "vpn",
    "microsoft-inbox": "windows",
}

# Load-order group of an altitude -> what kind of filter it is, in our words.
GROUP = {
    "anti-virus": "anti-virus file-system filter", "activity monitor": "file-activity monitoring filter",
    "security enhancer": "security file-system filter", "security monitor": "security file-system filter",
    "security bottom": "security file-system filter", "content screener": "content-screening (DLP) filter",
    "security content screener": "content-screening (DLP) filter", "encryption": "file-encryption filter",
    "replication": "replication filter", "continuous backup": "continuous-backup filter",
    "undelete": "undelete filter", "system recovery": "system-recovery filter", "open file": "open-file (backup) filter",
    "hsm": "tiered-storage (HSM) filter", "quota management": "quota filter", "physical quota management": "quota filter",
    "cluster file system": "cluster file-system filter", "compression": "compression filter",
    "virtualization": "file-system virtualization filter", "copy protection": "copy-protection filter",
    "imaging (ex: .zip)": "archive (imaging) filter", "top": "file-system filter", "bottom": "file-system filter",
    "system": "file-system filter", "infrastructure": "file-system filter",
}

CATEGORY_PHRASE = {
    "hardware-utility": "hardware access / tuning driver", "utility": "utility driver", "storage": "storage driver",
    "network": "network driver", "graphics": "graphics driver", "audio": "audio driver", "input": "input/USB driver",
    "antivirus": "security driver", "endpoint-security": "security driver", "monitoring": "monitoring driver",
    "virtualization": "virtualization driver", "anti-cheat": "anti-cheat driver", "malicious": "driver",
    "encryption": "encryption driver", "backup": "backup driver", "vpn": "VPN driver", "wifi": "Wi-Fi driver",
    "firewall": "network filter driver", "dlp": "data-loss-prevention driver", "copy-protection": "copy-protection driver",
    "file-system": "file-system driver", "windows": "Windows driver",
}

# Microsoft's own names in the table that are not in inbox_modules.txt:
# (windows, category, description).  windows "" = installed apart from
# Windows (Sysinternals, SQL Server, WDK samples someone built): it can be
# the answer like any third-party driver.  Names Microsoft registered an
# altitude for without saying more are taken as parts of Windows or its
# server roles ("optional").
SAMPLE = "WDK sample filter: a vendor's build of it keeps the name"
TEST = "Microsoft file-system test filter"
MICROSOFT = {
    "avscan": ("", "sample", SAMPLE), "cancelsafe": ("", "sample", SAMPLE), "cdo": ("", "sample", SAMPLE),
    "change": ("", "sample", SAMPLE), "ctx": ("", "sample", SAMPLE), "delete_flt": ("", "sample", SAMPLE),
    "minispy": ("", "sample", SAMPLE), "namechanger": ("", "sample", SAMPLE), "nullfilter": ("", "sample", SAMPLE),
    "passthrough": ("", "sample", SAMPLE), "scanner": ("", "sample", SAMPLE), "simrep": ("", "sample", SAMPLE),
    "swapbuffers": ("", "sample", SAMPLE), "cbsampledrv": ("", "sample", SAMPLE),
    "failattach": ("", "sample", TEST), "failmount": ("", "sample", TEST), "stest": ("", "sample", TEST),
    "ntest": ("", "sample", TEST), "usbtest": ("", "sample", TEST),
    "procmon11": ("", "monitoring", "Sysinternals Process Monitor driver"),
    "dpmfilter": ("", "backup", "System Center Data Protection Manager filter"),
    "storagesync": ("", "storage", "Azure File Sync agent tiering filter"),
    "storagesyncguard": ("", "storage", "Azure File Sync agent guard filter"),
    "rsfxdrv": ("", "storage", "SQL Server FILESTREAM filter"),
    "msixpackagingtoolmonitor": ("", "monitoring", "MSIX Packaging Tool capture filter"),
    "p4vfsflt": ("", "file-system", "P4VFS (Perforce virtual file system) filter"),
    "sftredir": ("", "virtualization", "App-V 4 (SoftGrid) redirector"),
    "mpfilter": ("", "antivirus", "Microsoft Security Essentials / Forefront anti-virus filter"),
    "sysmondrv": ("", "monitoring", "Sysinternals Sysmon driver"),
    "wdfilter": ("inbox", "antivirus", "Microsoft Defender anti-virus filter"),
    "mpksldrv": ("inbox", "antivirus", "Microsoft Defender kernel-side loader driver"),
    "ksld": ("inbox", "antivirus", "Microsoft Defender kernel-side loader driver"),
    "wtd": ("inbox", "antivirus", "Web Threat Defense (Defender SmartScreen) filter"),
    "bfs": ("inbox", "windows", "Brokering File System filter (app isolation)"),
    "wimfsf": ("inbox", "windows", "WIM file-system filter"),
    "datascrn": ("optional", "windows", "File Server Resource Manager file-screening filter (server role)"),
    "quota": ("optional", "windows", "File Server Resource Manager quota filter (server role)"),
    "dfsrflt": ("optional", "windows", "DFS Replication filter (server role)"),
    "sis": ("optional", "windows", "Single Instance Storage filter (server role)"),
    "msnfsflt": ("optional", "windows", "Server for NFS filter (server role)"),
    "iiscache": ("optional", "windows", "IIS cache filter (server role)"),
    "smbbandwidthlimitfilter": ("optional", "windows", "SMB bandwidth limit filter (server feature)"),
    "appvmon": ("optional", "virtualization", "App-V client monitor filter (Windows feature)"),
    "winsetupboot": ("inbox", "windows", "Windows Setup filter"),
    "winsetupmon": ("inbox", "windows", "Windows Setup monitor filter"),
}
# Names only a community list gives: kept, unconfirmed, never Windows'.
UNVERIFIED_MS = {"applocker", "entraiddriver", "microsoftpurviewdrv", "wdk"}


UNKNOWN = "Unknown"


def _placeholder(company: str) -> bool:
    """No company, or the WDK template's "Windows (R) Win 7 DDK provider"."""
    return not company.strip() or "ddk provider" in company.lower()


# modules.csv's references -> the short ones sources.csv defines: a pattern
# whose first group is kept after the key, or a prefix that is the key alone.
_REF_PATTERNS = (
    (re.compile(r"MicrosoftDocs/windows-driver-docs@\w+:windows-driver-docs-pr/ifs/allocated-altitudes\.md"), "ms-altitudes"),
    (re.compile(r"MicrosoftDocs/windows-driver-docs@\w+:windows-driver-docs-pr/(\S+)"), "msdocs"),
    (re.compile(r"magicsword-io/LOLDrivers@\w+:yaml/([\w-]+)\.yaml"), "loldrivers"),
    (re.compile(r"m417z/winbindex:data/by_filename_compressed/(\S+)\.json\.gz"), "winbindex"),
)
_REF_PREFIXES = (("websec/", "websec"), ("BankSecurity/", "redteam-edr"), ("virtio-win/", "virtio-win"),
                 ("FrannDzs/nVidia-modded-Inf", "nvidia-inf"),
                 ("VirtualBox source", "community:VirtualBox source VBoxNetLwf.inf (Oracle copyright header)"))


def ref_of(source: str) -> str:
    """modules.csv's source text -> the short reference drivers.csv cites."""
    s = source.strip()
    for pattern, key in _REF_PATTERNS:
        m = pattern.match(s)
        if m:
            return f"{key}:{m[1]}" if m.groups() else key
    for prefix, key in _REF_PREFIXES:
        if s.startswith(prefix):
            return key
    cut = s.find(" (")  # the table's own remark after a URL or repo path
    return (s[:cut] if cut > 0 else s).split(", ")[0]


def old_refs(source: str) -> list[str]:
    """The references of a row written before sources.csv existed."""
    out = []
    for part in re.split(r"\s+;\s+|\s+\|\s+", source.strip()):
        part = part.strip()
        if not part or part == "well-known":
            continue
        if part.startswith("modules.csv:"):
            continue  # replaced by the table's own references below
        if part.startswith("code-index:"):
            part = "community:" + part.split(":", 1)[1].strip()
        elif part.startswith("github.com/"):
            part = "https://" + re.sub(r"\s+issues$", "/issues", part)
        elif part.startswith("seed/"):
            part = "seed/" + part.split("/", 1)[1].split(" ", 1)[0]
        elif part.startswith("tests/fixtures/"):
            part = part.split(" ", 1)[0]
        out.append(part)
    return out


def altitude_of(notes: str) -> str:
    m = re.search(r"minifilter altitude ([\d.]+) \(FSFilter ([^)]+)\)", notes)
    return f"{m[1]} FSFilter {m[2]}" if m else ""


def describe(row: dict, category: str, altitude: str) -> str:
    product = row["product"].strip()
    if product.startswith("Windows: "):
        label = product[len("Windows: "):]
        return label if label.startswith("Windows") else "Windows " + label
    if product.lower().startswith("microsoft") and "operating system" in product.lower():
        product = ""  # a version-info boilerplate, not a product
    if altitude:
        group = altitude.split("FSFilter ", 1)[1].lower()
        what = GROUP.get(group, "file-system filter")
    else:
        what = CATEGORY_PHRASE.get(category, "driver")
    if "malicious" in row["notes"]:
        what += " (known malicious; its version info may be forged)"
    elif "known vulnerable" in row["notes"]:
        what += " (known vulnerable, abused to load malware)"
    return f"{product}: {what}" if product and product.lower() not in what.lower() else what


def confirmed(refs: list[str], category: str, vendor: str) -> str:
    if category == "malicious" or vendor == UNKNOWN:
        return "no"  # the version info of malware names whoever it pretends to be
    return "yes" if any(catalog.source_kind(r) is catalog.SourceKind.PRIMARY for r in refs) else "no"


def _has_primary(row: dict) -> bool:
    return any(catalog.source_kind(r) is catalog.SourceKind.PRIMARY for r in row["source"].split(" | ") if r)


def load_current() -> list[dict]:
    with open(OUT, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for r in rows:
        if "confirmed" in r:  # already in this format
            out.append({c: r.get(c, "") for c in COLUMNS})
            continue
        out.append({
            "module": r["module"], "vendor": r["vendor"], "vendor_zh": r["vendor_zh"], "product": r["product"],
            "category": r["category"], "windows": "", "confirmed": "", "confidence": r["confidence"],
            "altitude": "", "source": " | ".join(old_refs(r["source"])),
        })
    return out


def merge(modules_csv: Path) -> list[dict]:
    current = load_current()
    by_key: dict[str, list[dict]] = {}
    for r in current:
        by_key.setdefault(module_key(r["module"]), []).append(r)
    with open(modules_csv, encoding="utf-8", newline="") as fh:
        table = list(csv.DictReader(fh))
    for src in table:
        module = src["module"].strip().lower()
        key = module_key(module)
        refs = [ref_of(s) for s in src["source"].split(" | ") if s.strip()]
        category = CATEGORY.get(src["category"], "other")
        if "LOLDrivers: malicious" in src["notes"] and not catalog.is_inbox(module):
            category = "malicious"  # not when malware took a Windows file's name (usbxhci.sys)
        altitude = altitude_of(src["notes"])
        is_ms = src["vendor"].lower().startswith("microsoft") and category != "malicious"
        rows = by_key.setdefault(key, [])
        if _placeholder(src["vendor"]):
            if rows:
                continue  # the file's version info does not say who made it; the row we have does
            src = {**src, "vendor": UNKNOWN}
            refs.append("community:the source names no company" + (f" (product: {src['product']})" if src["product"] else ""))
        vendor = "Microsoft" if is_ms else (catalog.vendor_name(src["vendor"]) or src["vendor"].strip())
        mine = next((r for r in rows if catalog.same_vendor(r["vendor"], vendor)
                     or catalog.same_vendor(r["vendor"], src["vendor"])), None)
        if mine is None:
            windows, description = "", describe(src, category, altitude)
            if is_ms:
                if key in UNVERIFIED_MS:
                    category = "other" if category == "windows" else category
                elif key in MICROSOFT:
                    windows, category, description = MICROSOFT[key]
                elif catalog.is_inbox(module) or category == "windows":
                    windows = "inbox" if catalog.is_inbox(module) else "optional"
                    category = "windows"
            mine = {
                "module": module, "vendor": vendor,
                "vendor_zh": ("微软" if is_ms else catalog.vendor_zh(vendor) or ""),
                "product": description, "category": category, "windows": windows, "confirmed": "",
                "confidence": src["confidence"], "altitude": altitude, "source": "",
            }
            rows.append(mine)
        have = [r for r in mine["source"].split(" | ") if r]
        mine["source"] = " | ".join(dict.fromkeys(have + refs))
        if not mine["altitude"]:
            mine["altitude"] = altitude
    out = []
    for key in sorted(by_key):
        # Windows' own file first: a vendor's driver that took its name
        # (monitor.sys) does not make every Windows install that vendor's;
        # then the companies a primary source names.
        for r in sorted(by_key[key], key=lambda r: (not r["windows"], not _has_primary(r))):
            refs = [x for x in r["source"].split(" | ") if x]
            r["confirmed"] = confirmed(refs, r["category"], r["vendor"])
            out.append(r)
    return out


def main() -> None:
    rows = merge(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT.parent / "shared" / "data" / "modules.csv"))
    with open(OUT, "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"{len(rows)} rows, {sum(r['confirmed'] == 'no' for r in rows)} unconfirmed -> {OUT}")


if __name__ == "__main__":
    main()

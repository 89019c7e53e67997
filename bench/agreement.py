"""Agreement of `crashdesk analyze` with the experts who answered real
forum and issue-tracker posts, per shape of input.

    python bench/agreement.py tests/fixtures/real [more folders] [--verbose]

Each folder holds the posted texts and a manifest.json naming, for each,
its shape (WinDbg text when none is given) and what the expert settled on:
the bug check and the culprit module and vendor, or for an inventory
(systeminfo, driverquery, msinfo32) the machine's name, build and hotfixes.
Entries whose expert named no module count for the bug check and for
"invented": a third-party culprit the input does not support.  An entry
whose expert named a module the input never shows ("culprit_in_input":
false: the thread settled it from a dump or prose not in the paste) is
counted apart, as "culprit_elsewhere", and held to no mark.

    python bench/agreement.py tests/fixtures/* --shapes   # per shape, all folders together"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.model import module_key  # noqa: E402
from analysis.pipeline import analyze_paths  # noqa: E402
from analysis.reports import Inventory  # noqa: E402

INVENTORY_SHAPES = ("systeminfo", "driverquery", "msinfo32")


def _same_vendor(ours: str | None, theirs: str) -> bool:
    if not ours:
        return False
    a, b = ours.lower(), theirs.lower()
    return a in b or b in a or a.split()[0] == b.split()[0]


def score(folder: Path, misses: list[str] | None = None) -> dict[str, dict[str, list[int]]]:
    """shape -> measure -> [agreed, counted]."""
    tally: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for entry in json.loads((folder / "manifest.json").read_text(encoding="utf-8")):
        shape = entry.get("shape", "windbg-text")
        outcome = analyze_paths([str(folder / entry["file"])])
        t = tally[shape]
        missed: list[str] = []
        if shape in INVENTORY_SHAPES:
            inv = next(iter(outcome.context), None)
            for key in ("os_build", "computer"):
                if entry.get(key) is not None:
                    t[key][1] += 1
                    ours = getattr(inv, key, None)
                    t[key][0] += ours == entry[key]
                    if ours != entry[key]:
                        missed.append(f"{key} {ours} != {entry[key]}")
            for kb in entry.get("hotfixes_include", []):
                t["hotfix"][1] += 1
                t["hotfix"][0] += bool(isinstance(inv, Inventory) and inv.has_hotfix(kb))
        else:
            d = outcome.case.dumps[0] if outcome.case.dumps else None
            c = d.culprit if d else None
            code = "0x%X" % d.bugcheck.code if d and d.bugcheck else None
            t["bugcheck"][1] += 1
            t["bugcheck"][0] += code == entry["bugcheck"]
            if code != entry["bugcheck"]:
                missed.append(f"bugcheck {code} != {entry['bugcheck']}")
            ours = c.module if c else None
            if entry.get("culprit_module") and entry.get("culprit_in_input") is False:
                t["culprit_elsewhere"][1] += 1
                t["culprit_elsewhere"][0] += bool(ours and module_key(ours) == module_key(entry["culprit_module"]))
            elif entry.get("culprit_module"):
                t["culprit"][1] += 1
                ok = bool(ours and module_key(ours) == module_key(entry["culprit_module"]))
                t["culprit"][0] += ok
                if not ok:
                    missed.append(f"culprit {ours} != {entry['culprit_module']}")
            else:
                # Counted as agreement when no third-party module was made up.
                t["not_invented"][1] += 1
                invented = bool(c and c.module and c.third_party)
                t["not_invented"][0] += not invented
                if invented:
                    missed.append(f"invented culprit {ours}")
            if entry.get("vendor") and entry.get("culprit_in_input") is not False:
                t["vendor"][1] += 1
                vendor = (c.vendor if c else None) or outcome.case.vendor
                ok = _same_vendor(vendor, entry["vendor"])
                t["vendor"][0] += ok
                if not ok:
                    missed.append(f"vendor {vendor} != {entry['vendor']}")
        if missed and misses is not None:
            misses.append(f"{folder.name}/{entry['file']}: " + "; ".join(missed))
    return {shape: dict(measures) for shape, measures in tally.items()}


def by_shape(folders: list[Path], misses: list[str] | None = None) -> dict[str, dict[str, list[int]]]:
    """shape -> measure -> [agreed, counted], every folder added up: the
    issue's marks are per shape, wherever its fixtures live."""
    out: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for folder in folders:
        for shape, measures in score(folder, misses).items():
            for key, (ok, n) in measures.items():
                out[shape][key][0] += ok
                out[shape][key][1] += n
    return {shape: dict(measures) for shape, measures in out.items()}


def merged(scores: list[dict[str, dict[str, list[int]]]]) -> dict[str, list[int]]:
    """Every shape's measure added up."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for s in scores:
        for measures in s.values():
            for key, (ok, n) in measures.items():
                out[key][0] += ok
                out[key][1] += n
    return dict(out)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("folders", nargs="+")
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--shapes", action="store_true", help="per shape, all folders together")
    args = ap.parse_args()
    misses: list[str] = []
    if args.shapes:
        for shape, measures in sorted(by_shape([Path(f) for f in args.folders if (Path(f) / "manifest.json").exists()],
                                               misses).items()):
            for key, (ok, n) in sorted(measures.items()):
                print(f"{shape:15s} {key:17s} {ok:3d}/{n:3d} = {100 * ok / max(n, 1):5.1f} %")
        if args.verbose:
            print("\n".join(misses))
        return 0
    for folder in args.folders:
        for shape, measures in sorted(score(Path(folder), misses).items()):
            for key, (ok, n) in sorted(measures.items()):
                print(f"{Path(folder).name:10s} {shape:15s} {key:12s} {ok:3d}/{n:3d} = {100 * ok / max(n, 1):5.1f} %")
    if args.verbose:
        print("\n".join(misses))
    return 0


if __name__ == "__main__":
    sys.exit(main())

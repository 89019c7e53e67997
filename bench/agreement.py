"""Agreement of `crashdesk analyze` with the experts who answered real
forum and issue-tracker posts.

    python bench/agreement.py tests/fixtures/real [--verbose]

The folder holds the posted debugger texts and a manifest.json naming, for
each, the bug check and the culprit module and vendor the expert settled on.
Entries whose expert named no module (hardware, unknown) count only for the
bug check."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.model import module_key  # noqa: E402
from analysis.pipeline import analyze_paths  # noqa: E402


def _same_vendor(ours: str | None, theirs: str) -> bool:
    if not ours:
        return False
    a, b = ours.lower(), theirs.lower()
    return a in b or b in a or a.split()[0] == b.split()[0]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args()
    folder = Path(args.folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    tally = {"bugcheck": [0, 0], "culprit": [0, 0], "vendor": [0, 0]}
    for entry in manifest:
        outcome = analyze_paths([str(folder / entry["file"])])
        dumps = outcome.case.dumps
        d = dumps[0] if dumps else None
        code = "0x%X" % d.bugcheck.code if d and d.bugcheck else None
        culprit = d.culprit if d else None
        misses = []
        tally["bugcheck"][1] += 1
        if code == entry["bugcheck"]:
            tally["bugcheck"][0] += 1
        else:
            misses.append(f"bugcheck {code} != {entry['bugcheck']}")
        if entry.get("culprit_module"):
            tally["culprit"][1] += 1
            ours = culprit.module if culprit else None
            if ours and module_key(ours) == module_key(entry["culprit_module"]):
                tally["culprit"][0] += 1
            else:
                misses.append(f"culprit {ours} != {entry['culprit_module']}")
        if entry.get("vendor"):
            tally["vendor"][1] += 1
            ours = (culprit.vendor if culprit else None) or outcome.case.vendor
            if _same_vendor(ours, entry["vendor"]):
                tally["vendor"][0] += 1
            else:
                misses.append(f"vendor {ours} != {entry['vendor']}")
        if misses and args.verbose:
            print(f"{entry['file']}: " + "; ".join(misses))
    for key, (ok, n) in tally.items():
        print(f"{key:9s} {ok:3d}/{n:3d} = {100 * ok / max(n, 1):5.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How well the crash fingerprint groups crashes of one bug (issue 11).

    python bench/bucketing.py [--verbose]

Every labelled fixture (tests/fixtures/*/manifest.json) is one crash whose
expert named the culprit module (or none: hardware, unknown).  Crashes are
of one bug when the expert's module and the bug check (its base code) are
the same; the fingerprint's bucket is our grouping.  Reported as pairwise
precision, recall and F-measure, and as B-cubed F, the measures the
bucketing literature uses (ReBucket, Dang et al., ICSE 2012, reports F
~0.88 on Windows Error Reporting stacks)."""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis import catalog  # noqa: E402
from analysis.fingerprint import fingerprint, module_name  # noqa: E402
from analysis.pipeline import analyze_paths  # noqa: E402


def labelled() -> list[tuple[str, str, str]]:
    """(fixture, the experts' group, our bucket) for every labelled fixture."""
    out = []
    for manifest in sorted((ROOT / "tests" / "fixtures").glob("*/manifest.json")):
        for entry in json.loads(manifest.read_text(encoding="utf-8")):
            if not entry.get("bugcheck"):
                continue
            outcome = analyze_paths([str(manifest.parent / entry["file"])])
            if not outcome.case.dumps:
                continue
            fp = fingerprint(outcome.case.dumps[0])
            name = f"{manifest.parent.name}/{entry['file']}"
            code = catalog.base_code(int(entry["bugcheck"], 16))
            # A crash whose expert named no module is a group of its own, and
            # so is one we bucket without a module: neither ties crashes together.
            module = entry.get("culprit_module")
            truth = f"0x{code:X}/{module_name(module)}" if module else name
            out.append((name, truth, fp.bucket if fp and fp.linkable else name))
    return out


def pairwise(items: list[tuple[str, str, str]]) -> tuple[float, float, float]:
    tp = fp = fn = 0
    for (_, t1, p1), (_, t2, p2) in combinations(items, 2):
        same_t, same_p = t1 == t2, p1 == p2
        tp += same_t and same_p
        fp += same_p and not same_t
        fn += same_t and not same_p
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, _f(precision, recall)


def bcubed(items: list[tuple[str, str, str]]) -> tuple[float, float, float]:
    by_truth, by_pred = defaultdict(set), defaultdict(set)
    for name, t, p in items:
        by_truth[t].add(name)
        by_pred[p].add(name)
    precision = recall = 0.0
    for name, t, p in items:
        both = len(by_truth[t] & by_pred[p])
        precision += both / len(by_pred[p])
        recall += both / len(by_truth[t])
    n = len(items) or 1
    return precision / n, recall / n, _f(precision / n, recall / n)


def _f(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args()
    items = labelled()
    groups = len({t for _, t, _ in items})
    print(f"{len(items)} labelled crashes in {groups} expert groups, {len({p for _, _, p in items})} buckets")
    for label, (p, r, f) in (("pairwise", pairwise(items)), ("B-cubed", bcubed(items))):
        print(f"{label:9} precision {p:.3f}  recall {r:.3f}  F {f:.3f}")
    if args.verbose:
        for name, t, p in items:
            print(f"  {name:70} expert {t:28} ours {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The verdicts of many inputs, written down to compare two commits.

    .venv/bin/python bench/verdicts.py write OUT.jsonl [--logs 400] [--seed 1] [--code TREE]
    .venv/bin/python bench/verdicts.py compare OLD.jsonl NEW.jsonl

``write`` analyses bench_text's corpus (the same seed gives the same logs),
its large shapes (8 MB of real logs, 8 MB of distinct crashes) and every
test fixture, and writes one JSON line per input: its name and its case
verdict's JSON (case_json, English).  ``--code TREE``: the analysis of
another checkout (``git worktree add /tmp/old <commit>``), on the same
inputs; then ``compare``: the inputs whose verdicts differ, and where.  Speed work must leave every verdict as it was
(tests/test_golden.py pins the fixtures', real logs' and dumps' on every
run; this covers the corpus too)."""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))  # after a --code tree
sys.path.append(str(ROOT / "bench"))


def inputs(logs: int, seed: int):
    import bench_text

    with tempfile.TemporaryDirectory() as tmp:
        for path in bench_text.build_corpus(Path(tmp), logs, random.Random(seed)):
            yield path.name, path.read_bytes()
    yield "real-8MB.txt", bench_text.repeated(bench_text.real_logs(), 8 * 1000 * 1000)
    yield "distinct-8MB.txt", bench_text.distinct_crashes(8 * 1000 * 1000)
    fixtures = ROOT / "tests" / "fixtures"
    for path in sorted(p for p in fixtures.rglob("*") if p.is_file()):
        yield str(path.relative_to(fixtures)), path.read_bytes()


def write(out: Path, logs: int, seed: int, code: Path | None = None) -> int:
    if code is not None:
        # That tree's analysis, imported before bench_text (whose inputs do
        # not depend on the analysis) could import this tree's.
        sys.path.insert(0, str(code.resolve()))
    from analysis.intake import Blob
    from analysis.pipeline import analyze_blobs
    from analysis.render.as_json import case_json, errors_json

    count = 0
    with open(out, "w", encoding="utf-8") as fh:
        for name, data in inputs(logs, seed):
            outcome = analyze_blobs([Blob(name, data)])
            verdict = case_json(outcome.case, "en", errors_json(outcome.problems, "en"))
            fh.write(json.dumps({"name": name, "verdict": verdict}, sort_keys=True, default=str) + "\n")
            count += 1
    return count


def _differences(a, b, path: str = ""):
    if type(a) is not type(b):
        yield path, a, b
    elif isinstance(a, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                yield from _differences(a.get(key), b.get(key), f"{path}.{key}")
    elif isinstance(a, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                yield from _differences(x, y, f"{path}[{i}]")
    elif a != b:
        yield path, a, b


def compare(old: Path, new: Path) -> int:
    read = lambda p: {r["name"]: r["verdict"] for r in map(json.loads, p.read_text(encoding="utf-8").splitlines())}  # noqa: E731
    a, b = read(old), read(new)
    differ = [name for name in a if name in b and a[name] != b[name]]
    print(f"{len(a)} inputs, {len(b)} inputs; {len(differ)} verdicts differ; "
          f"only in the old: {len(set(a) - set(b))}, only in the new: {len(set(b) - set(a))}")
    for name in differ:
        diffs = list(_differences(a[name], b[name]))
        print(f"- {name}: {len(diffs)} places, first: {diffs[0][0]}: {str(diffs[0][1])[:120]!r} -> "
              f"{str(diffs[0][2])[:120]!r}")
    return 1 if differ or set(a) != set(b) else 0


def main() -> int:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="what", required=True)
    w = sub.add_parser("write")
    w.add_argument("out", type=Path)
    w.add_argument("--logs", type=int, default=400)
    w.add_argument("--seed", type=int, default=1)
    w.add_argument("--code", type=Path, help="a checkout whose analysis writes the verdicts")
    c = sub.add_parser("compare")
    c.add_argument("old", type=Path)
    c.add_argument("new", type=Path)
    args = ap.parse_args()
    if args.what == "write":
        print(f"{write(args.out, args.logs, args.seed, args.code)} verdicts written to {args.out}")
        return 0
    return compare(args.old, args.new)


if __name__ == "__main__":
    sys.exit(main())

"""The inputs whose verdicts are pinned byte for byte (tests/golden/), and
how each is named there.  A change to the engine that changes an answer
shows up as a diff of these files, reviewed in the same commit; a speed-up
must leave them alone.

    python -m tests.golden_inputs --update   # rewrite after an intended change"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.conftest import SHARED  # noqa: E402


def inputs() -> list[tuple[str, Path]]:
    """(label, path): every text fixture, the examples, the seed, the real dumps and event logs."""
    found: list[tuple[str, Path]] = []
    fixtures = ROOT / "tests" / "fixtures"
    for path in sorted(fixtures.rglob("*")):
        if path.is_file() and path.name != "manifest.json" and not path.name.endswith(".md"):
            found.append((str(path.relative_to(fixtures)), path))
    for path in sorted((ROOT / "examples").glob("*.txt")):
        found.append(("examples/" + path.name, path))
    for folder in ("seed", "dumps", "evtx"):
        for path in sorted((SHARED / folder).glob("*")):
            if path.is_file() and path.suffix.lower() in (".txt", ".dmp", ".evtx"):
                found.append((f"shared/{folder}/{path.name}", path))
    return found


def golden_name(label: str) -> Path:
    return GOLDEN / (label.replace("/", "__") + ".json")


def verdict(label: str, path: Path) -> str:
    from analysis.pipeline import analyze_labelled
    from analysis.render.as_json import case_json, errors_json

    outcome = analyze_labelled([(label, str(path))])
    both = {lang: case_json(outcome.case, lang, errors_json(outcome.problems, lang)) for lang in ("en", "zh")}
    return json.dumps(both, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    if argv != ["--update"]:
        print(__doc__)
        return 2
    GOLDEN.mkdir(exist_ok=True)
    wanted = set()
    for label, path in inputs():
        target = golden_name(label)
        wanted.add(target.name)
        text = verdict(label, path)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            print("wrote", target.relative_to(ROOT))
    for old in GOLDEN.glob("*.json"):
        if old.name not in wanted:
            old.unlink()
            print("removed", old.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

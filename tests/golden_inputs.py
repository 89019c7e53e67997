"""The inputs whose verdicts are pinned byte for byte (tests/golden/), and
how each is named there.  A change to the engine that changes an answer
shows up as a diff of these files, reviewed in the same commit; a speed-up
must leave them alone.

    python -m tests.golden_inputs --update   # rewrite after an intended change"""

from __future__ import annotations

import hashlib
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
    pin_engine()
    return 0


ENGINE_PIN = ROOT / "tests" / "engine_pin.json"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def pin_engine() -> None:
    """Record the answer the current engine version gives for each input.
    An answer already recorded for this version is never re-pinned: a
    changed answer needs a new ENGINE_VERSION (its stored verdicts are then
    work to redo); a new input only adds its answer."""
    from analysis.render.as_json import ENGINE_VERSION

    pin = json.loads(ENGINE_PIN.read_text(encoding="utf-8")) if ENGINE_PIN.exists() else {}
    files = pin.get("files", {}) if pin.get("engine") == ENGINE_VERSION else {}
    current = {p.name: digest(p) for p in sorted(GOLDEN.glob("*.json"))}
    kept = {name: files.get(name, sha) for name, sha in current.items()}
    ENGINE_PIN.write_text(json.dumps({"engine": ENGINE_VERSION, "files": kept}, indent=1, sort_keys=True) + "\n",
                          encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

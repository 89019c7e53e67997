"""Rebuild analysis/data/bugchecks.json from the team's reference table.

Run by hand when the reference data changes:
    python scripts/import_bugchecks.py ../shared/data/bugchecks.json
Only facts are kept (code, name, category, which parameter holds what, the
argument subtypes as short labels); the project's own wording lives in
analysis/data/bugcheck_guide.json."""

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "analysis" / "data" / "bugchecks.json"


def norm_key(key: str) -> str:
    return "0x%X" % int(key, 16)


def convert(entry: dict) -> dict:
    out = {"name": entry["name"], "category": entry.get("category")}
    params = [p.get("meaning", "") for p in sorted(entry.get("params", []), key=lambda p: p["n"])]
    if params:
        out["params"] = params
    code_params = entry.get("params_with_driver_or_routine_address") or []
    if code_params:
        out["code_params"] = code_params
    if entry.get("arg1_subtypes"):
        out["subtypes"] = {norm_key(k): v for k, v in entry["arg1_subtypes"].items()}
        out["subtype_param"] = 1
    elif entry.get("arg4_types"):
        out["subtypes"] = {norm_key(k): v for k, v in entry["arg4_types"].items()}
        out["subtype_param"] = 4
    if entry.get("arg1_subtypes_inherited_from"):
        out["subtypes_from"] = entry["arg1_subtypes_inherited_from"]
    if entry.get("same_as"):
        out["same_as"] = entry["same_as"]
    if entry.get("param1_common_exception_codes"):
        out["exception_codes"] = {norm_key(k): v for k, v in entry["param1_common_exception_codes"].items()}
    if entry.get("live_dump"):
        out["live_dump"] = True
    if entry.get("params_note"):
        out["note"] = entry["params_note"]
    return out


def main(src: str) -> None:
    rows = json.loads(Path(src).read_text(encoding="utf-8"))
    catalog = {norm_key(e["code"]): convert(e) for e in rows}
    # One code per line: diffs of the catalog stay readable.
    lines = [f"{json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in catalog.items()]
    OUT.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")
    print(f"{len(catalog)} codes -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/bugchecks.json")

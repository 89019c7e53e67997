"""The engine version stored with every verdict changes when the engine's
answers change, so that verdicts of an older engine are recomputed (a file
attached but not analysed under the current engine is work still to do).
The golden verdicts are the engine's answers; tests/engine_pin.json records
each one under the version that gave it.  A changed answer fails here until
ENGINE_VERSION is bumped (then `python -m tests.golden_inputs --update` pins
the new answers); a new input only adds its own."""

import json

from analysis.render.as_json import ENGINE_VERSION
from tests.golden_inputs import ENGINE_PIN, GOLDEN, digest


def test_the_engine_version_follows_the_golden_verdicts():
    pin = json.loads(ENGINE_PIN.read_text(encoding="utf-8"))
    assert pin["engine"] == ENGINE_VERSION, "ENGINE_VERSION changed: run python -m tests.golden_inputs --update"
    changed, new = [], []
    for path in sorted(GOLDEN.glob("*.json")):
        if path.name not in pin["files"]:
            new.append(path.name)
        elif pin["files"][path.name] != digest(path):
            changed.append(path.name)
    assert not changed, (f"the engine's answers changed for {len(changed)} inputs ({changed[:5]}): bump ENGINE_VERSION "
                         "in analysis/render/as_json.py, then python -m tests.golden_inputs --update")
    assert not new, f"new inputs without a pinned answer ({new[:5]}): python -m tests.golden_inputs --update"

"""The engine version stored with every verdict changes when the engine's
answers change, so that verdicts of an older engine are recomputed (a file
attached but not analysed under the current engine is work still to do).
The golden verdicts are the engine's answers: when they change, this test
fails until ENGINE_VERSION is bumped and the new digest pinned here."""

import hashlib
from pathlib import Path

from analysis.render.as_json import ENGINE_VERSION

GOLDEN = Path(__file__).resolve().parent / "golden"
# ENGINE_VERSION -> digest of the golden verdicts it gives
PINNED = {"1": "185b5d3572b05f55"}


def golden_digest() -> str:
    h = hashlib.sha256()
    for path in sorted(GOLDEN.rglob("*.json")):
        h.update(path.relative_to(GOLDEN).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def test_the_engine_version_follows_the_golden_verdicts():
    digest = golden_digest()
    assert ENGINE_VERSION in PINNED, f"pin ENGINE_VERSION {ENGINE_VERSION!r} -> {digest!r} here"
    assert PINNED[ENGINE_VERSION] == digest, (
        f"the golden verdicts changed (digest {digest}): bump ENGINE_VERSION in analysis/render/as_json.py "
        f"and pin the new version to {digest!r} here")

"""Every pinned input still gets exactly the verdict it had (tests/golden/):
refactors and speed-ups change no answer; an intended change rewrites the
files with `python -m tests.golden_inputs --update` in the same commit."""

import pytest

from tests.golden_inputs import golden_name, inputs, verdict

CASES = inputs()


@pytest.mark.parametrize("label,path", CASES, ids=[label for label, _ in CASES])
def test_verdict_is_unchanged(label, path):
    golden = golden_name(label)
    assert golden.exists(), f"no golden verdict for {label}: run python -m tests.golden_inputs --update"
    assert verdict(label, path) == golden.read_text(encoding="utf-8")

"""Folding the drafts of one text into its crashes: a draft is compared
only with the kept drafts that share one of its marks (failure hash,
bucket, dump file, bug check and arguments), found in an index, not with
every draft before it; what is kept is bounded."""

from analysis.text import MAX_CRASHES, parse_text
from analysis.text import assemble


def _counting(monkeypatch) -> list[int]:
    calls = [0]
    compatible = assemble.Draft.compatible

    def counted(self, other):
        calls[0] += 1
        return compatible(self, other)

    monkeypatch.setattr(assemble.Draft, "compatible", counted)
    return calls


def test_distinct_crashes_of_one_bucket_are_not_compared_with_each_other(monkeypatch):
    """3,000 crashes of the same bucket with other arguments: each used to be
    compared with every crash kept before it (4.5 million comparisons, or
    125,000 with the first 500 drafts only)."""
    calls = _counting(monkeypatch)
    text = "".join(f"BugCheck 1A, {{{i:x}, 1, 2, 3}}\nFAILURE_BUCKET_ID: 0x1A_nt!MiDeletePage\n"
                   for i in range(1, 3001))
    found = parse_text(text, "x")
    assert len(found) == MAX_CRASHES and "crashes_cut" in found[0][0].notes
    assert calls[0] < 3000


def test_quotes_fold_into_the_crash_they_quote(monkeypatch):
    """200 crashes, then each quoted again with its module: every quote finds
    its crash through the bucket it names, and only it is compared."""
    calls = _counting(monkeypatch)
    first = "".join(f"BugCheck 1A, {{{i:x}, 1, 2, 3}}\nFAILURE_BUCKET_ID: AV_bucket{i}\n\n" for i in range(1, 201))
    quotes = "".join(f"> FAILURE_BUCKET_ID: AV_bucket{i}\n> MODULE_NAME: mod{i}\n\n" for i in range(1, 101))
    found = parse_text(first + quotes, "x")
    assert [r.module_name for r, _ in found] == [f"mod{i}" for i in range(1, 101)]
    assert [r.failure_bucket for r, _ in found] == [f"AV_bucket{i}" for i in range(1, 101)]
    assert calls[0] < 400


def test_a_stacks_signature_holds_every_field_of_its_frames() -> None:
    """Two stacks are the same when their frames are equal (Frame's own
    equality, over all its fields): the signature reads them all."""
    from dataclasses import fields

    from analysis.model import Frame
    from analysis.text import assemble

    assert assemble._FRAME_KEY(Frame(*range(8))) == tuple(range(8))
    assert [f.name for f in fields(Frame)] == ["module", "function", "offset", "index", "child_sp", "return_address",
                                               "address", "args"]

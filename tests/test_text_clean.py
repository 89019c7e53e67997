"""clean in pieces (analysis/text/clean.py, _clean): the same text as the
passes over the whole text, whatever the pieces' size."""

from __future__ import annotations

import importlib
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.text.decode import NotText, decode
from tests.test_native import _CLEAN_BITS

cleaning = importlib.import_module("analysis.text.clean")  # the module: the package's name is the function
WHOLE = 1 << 62  # a piece larger than any text: the passes over the whole text

# What crosses a line end: tags and BBCode whose attributes or values go
# on over lines, a break tag's blanks, and the line ends of either kind.
_ACROSS = ["<p\n class=x\n>", "<br\n/>", "<br\n\n>", "<div\n", ">\n", "[color=\nred]", "[code\n]", "[/quote\n", "]\n",
           "<", ">", "[", "]", "\r\n", "\r", "\n", "\n\n", "<b<br>>", "<p foo <br> \n", "x>\n", "&lt;p\n&gt;",
           "> > Arg1: 1\n", "**MODULE_NAME:** x\n", "nvlddmkmIMAGE_NAME: nvlddmkm.sys\n", "ffff`ffff\n"]


def _same_in_pieces(text: str) -> None:
    for passes in (cleaning._PASSES, cleaning._PY_PASSES):
        whole = cleaning._clean(text, passes, WHOLE)
        for size in (1, 3, 16, 200):
            assert cleaning._clean(text, passes, size) == whole, (size, text[:200])


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(_CLEAN_BITS + _ACROSS) | st.text(max_size=3), max_size=40))
def test_clean_in_pieces_gives_the_whole_texts_clean(bits) -> None:
    _same_in_pieces("".join(bits))


def test_clean_in_pieces_on_real_transcripts() -> None:
    fixtures = Path(__file__).parent / "fixtures"
    texts = []
    for path in sorted(fixtures.rglob("*.txt")):
        try:
            texts.append(decode(path.read_bytes()))
        except NotText:
            continue
    texts.append("\n".join(texts))
    for text in texts:
        _same_in_pieces(text)


def test_a_tag_open_over_a_pieces_end_is_cleaned_whole() -> None:
    """A tag (and a BBCode) whose attributes go on over lines: the pieces it
    crosses are one piece for its pass."""
    text = "x\n<p\n class='x'\n>MODULE_NAME: nvlddmkm\n[quote=\nred]IMAGE_NAME: a.sys\n" + "y\n" * 10
    assert cleaning._clean(text, cleaning._PASSES, 1) == "x\nMODULE_NAME: nvlddmkm\nIMAGE_NAME: a.sys\n" + "y\n" * 10


def test_a_long_text_is_cleaned_in_pieces_stored_narrow() -> None:
    """One emoji makes the whole text four bytes a character; its pieces
    without it are stored one byte a character (what a piece's copies cost)."""
    text = "\U0001f600\n" + "MODULE_NAME: x\n" * 10_000
    pieces = cleaning._cut(text, cleaning._PIECE)
    assert len(pieces) > 2 and "".join(pieces) == text
    assert all(p.isascii() for p in pieces[1:])
    assert cleaning._cut("short", cleaning._PIECE) == ["short"]


def test_pieces_open_one_after_another_are_joined_once() -> None:
    """A text whose every piece ends with an open "<" ("a <- b" in R, "x < y")
    is one piece for the tags' pass, joined once: added to the one before
    piece by piece it was copied once per piece, quadratic in its size
    (0.68 s for 8 MB with an emoji, 0.24 s joined once).  Counted: the
    characters copied by adding pieces, against the text's length."""
    copied = [0]

    class Counted(str):
        def __add__(self, other: str) -> "Counted":
            copied[0] += len(self) + len(other)
            return Counted(str.__add__(self, other))

    pieces = [Counted(f"a <- b {i}\n") for i in range(2000)] + [Counted("x > y\n"), Counted("c < d\n"), Counted("e\n")]
    joined = cleaning._closed(pieces, "<", ">")
    assert joined == ["".join(pieces[:2001]), "c < d\ne\n"]
    assert copied[0] <= 2 * sum(map(len, pieces))

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

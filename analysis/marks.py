"""Literal marks told in a text by a few scans of its folded copy (see
``Marks``): the report readers' gates, and the pasted event message's
(analysis.eventlog.message_paste), which analysis.reports reads among its
readers: it is a module of its own, outside both packages, so that either
imports it first."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from analysis import native

_CORE = native.load("marks")


class _Folded:
    """One text's folded copy and the first places of words in it."""

    __slots__ = ("text", "raw", "data", "first", "all_asked")

    def __init__(self, text: str) -> None:
        self.text = text
        self.raw = _DECODED[0][1] if _DECODED and _DECODED[0][0] is text else text.encode("utf-8", "surrogatepass")
        self.data = self.raw.lower()  # fold(text)
        self.first: dict[bytes, int] = {}
        self.all_asked = False  # the first places of every word of _WORDS are in ``first``


_FOLDED: list[_Folded] = []
# The last text decoded from UTF-8 as it was (strictly: every byte read,
# none replaced), with its bytes: its folded copy is made from them, not
# from the text encoded again (a third of the copy's cost, on a text of
# wide characters).  Let go of with the folded copy.
_DECODED: list[tuple[str, bytes]] = []


def decoded_from(text: str, raw: bytes) -> str:
    """Note that ``text`` is ``raw`` decoded as UTF-8 without an error (so
    that ``text.encode("utf-8")`` is ``raw``); ``text``."""
    _DECODED[:] = [(text, raw)]
    return text
# Every word a Marks searches for (of two bytes or more: a single byte is a
# memchr), so that the compiled core finds the first place of all of them
# in one pass the first time any is asked of a text: the readers ask 50 to
# 90 of every text, and each bytes.find pass over it costs more than
# reading the whole of it in one pass (0.8 ms a megabyte for all of them,
# against 0.45 ms a word).  Words are added as the modules making Marks are
# imported; the Finder is made again for the next text after a new one.
_WORDS: dict[bytes, None] = {}
_FINDER: list = []  # the core's Finder for _WORDS as they are, once made


def _register(words: Iterable[bytes]) -> None:
    for word in words:
        if len(word) >= 2 and word not in _WORDS:
            _WORDS[word] = None
            _FINDER.clear()


def _first_places_py(data: bytes, words: tuple[bytes, ...]) -> tuple[int, ...]:
    """What the core's ``Finder(words).first(data)`` gives (its reference)."""
    return tuple(data.find(word) for word in words)


def forget() -> None:
    """Let go of the last text's folded copy (once its readers are done)."""
    _FOLDED.clear()
    _DECODED.clear()


def fold(text: str) -> bytes:
    """``text`` as UTF-8 with its ASCII letters lowered (the bytes' lower(),
    ten times cheaper than str.lower()): whatever the case of a mark's
    ASCII letters in ``text``, ``fold(mark)`` is in ``fold(text)``; UTF-8
    keeps a substring a substring (lone surrogates passed through)."""
    return text.encode("utf-8", "surrogatepass").lower()


def _held(text: str) -> _Folded:
    if not (_FOLDED and _FOLDED[0].text is text):
        _FOLDED[:] = [_Folded(text)]
    return _FOLDED[0]


def copies(text: str) -> tuple[bytes, bytes]:
    """``text`` as UTF-8, and ``fold(text)``: made once for the readers of
    one text (the report readers search the same folded bytes; kept until
    ``forget``)."""
    held = _held(text)
    return held.raw, held.data


def _folded_find(text: str, word: bytes, at: int = -1) -> int:
    """``fold(text).find(word, at + 1)``; the first place of each word is
    found once for the readers of one text (kept until ``forget``, which
    analysis.reports.common.forget calls with its lines' and folded copies')."""
    held = _held(text)
    if at >= 0:
        return held.data.find(word, at + 1)
    place = held.first.get(word)
    if place is None:
        if _CORE is not None and not held.all_asked and word in _WORDS:
            if not _FINDER:
                _FINDER.append(_CORE.Finder(tuple(_WORDS)))
            finder = _FINDER[0]
            held.first.update(zip(finder.words, finder.first(held.data)))
            held.all_asked = True
            place = held.first.get(word)
        if place is None:
            place = held.first[word] = held.data.find(word)
    return place


class Marks:
    """Literal marks, ``any(mark in text for mark in marks)`` told by fewer
    scans of the text: each scan costs about a twentieth of the baseline
    read + decode + regex scan of bench_text.py (0.3 to 0.6 ms a megabyte),
    and a reader lists its marks in every case people write them.  First a few words are searched in the folded text
    (``fold``), each in every mark of a group (the marks' own folded forms,
    and ``also``: a shorter word several marks share), in the order of the
    marks; the words a reader shares with another are searched once per
    text.  The marks of a group whose word is there are then looked for
    where the word is (an ASCII text's folded bytes are its characters, one
    for one), or searched as they are when the word is in many places or
    the text is not ASCII."""

    PLACES = 16  # places of a word looked at before its marks are searched for

    def __init__(self, marks: Iterable[str], also: Iterable[str] = ()) -> None:
        self.marks = tuple(marks)
        folded = {fold(w) for w in self.marks} | {fold(w) for w in also}
        # The least words: one within another is enough for both.
        words = [w for w in folded if not any(o != w and o in w for o in folded)]
        groups = [(w, tuple(m for m in self.marks if w in fold(m))) for w in words]
        groups.sort(key=lambda g: self.marks.index(g[1][0]) if g[1] else 0)  # the marks' order: the likeliest first
        # Each mark with where the word begins in it.
        self.groups = [(w, not w.isascii(), tuple((m, fold(m).find(w)) for m in ms)) for w, ms in groups if ms]
        _register(w for w, _, _ in self.groups)
        assert all(any(m == n for g in self.groups for n, _ in g[2]) for m in self.marks)
        # Each mark as UTF-8 (none holds a lone surrogate): it is in a text
        # where these bytes are in the text's, at the places of the folded
        # copy's bytes (see present).
        self.encoded = {m: m.encode("utf-8") for m in self.marks}

    def found(self, text: str, within: str | None = None) -> bool:
        """``any(mark in text for mark in self.marks)`` (in ``within``, the
        start of ``text``, when given)."""
        return next(self.present(text, within), None) is not None

    def found_alone(self, text: str) -> bool:
        """``found``, for a caller outside the readers of a text (no
        ``forget`` after it): the folded copy it makes is let go of."""
        held = bool(_FOLDED) and _FOLDED[0].text is text
        try:
            return self.found(text)
        finally:
            if not held:
                _FOLDED.clear()

    def present(self, text: str, within: str | None = None) -> Iterator[str]:
        """The marks that are in ``text`` (or in ``within``, the start of it),
        one at a time, each once."""
        ascii_only = text.isascii()  # O(1): no word with another character can be there
        # Where the marks are looked for: the whole text's UTF-8 (the folded
        # copy's source: a place in the one is the same place in the other,
        # and a text of wide characters is four times the bytes as a str);
        # or the start of it given, a str, whose places are the folded
        # copy's when it is ASCII.
        raw: bytes | None = None  # (taken once the folded copy is there: a word is searched)
        where = text if within is None else within
        placed = within is None or ascii_only
        encoded = self.encoded
        told: set[str] = set()
        for word, wide, marks in self.groups:
            # A word of other characters (Chinese) only where its first byte
            # is: one byte is found by memchr, and a few such bytes stand for
            # all of them.
            if wide and (ascii_only or _folded_find(text, word[:1]) < 0):
                continue
            place = _folded_find(text, word)
            left = [(m, k) for m, k in marks if m not in told]
            if place < 0 or not left:
                continue
            if within is None and raw is None:
                raw = _held(text).raw
            if placed:
                for _ in range(self.PLACES):
                    for m, k in list(left):
                        if place >= k and (raw.startswith(encoded[m], place - k) if raw is not None
                                           else where.startswith(m, place - k)):
                            left.remove((m, k))
                            told.add(m)
                            yield m
                    place = _folded_find(text, word, place)
                    if place < 0 or not left:
                        break
                if place < 0:
                    continue  # each place looked at: the marks left are not there
            for m, _ in left:
                if encoded[m] in raw if raw is not None else m in where:
                    told.add(m)
                    yield m

"""A cache for the pure functions of a string that the readers ask again
and again about the same few values (a module's key, a value's normal
form): only short strings are kept, so what a hostile text names (8,192
distinct names of 2,000 four-byte characters kept 125 MB after one case)
never fills it."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

R = TypeVar("R")


def short_cached(maxsize: int, longest: int = 128) -> Callable[[Callable[[str], R]], Callable[[str], R]]:
    """``function`` made once per string of up to ``longest`` characters
    (at most ``maxsize`` of them kept); a longer one is worked out each time."""
    def wrap(function: Callable[[str], R]) -> Callable[[str], R]:
        kept = lru_cache(maxsize=maxsize)(function)

        def cached(value: str) -> R:
            return kept(value) if len(value) <= longest else function(value)

        cached.__doc__ = function.__doc__
        return cached
    return wrap

"""How long an analysis may take.  A time budget is given per input (a file,
with whatever it unpacks to) and, optionally, for the whole case; the
readers check it cooperatively, between pieces and in their long loops, and
what they had not read when it ran out is said in the answer (a note on the
report, a line in the verdict, a problem for an input not read at all).

Nothing here stops a computation by force: a reader that never checks is
stopped only by its caller's hard limit (``crashdesk analyze --time-limit``,
the worker's timeout)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

# Seconds one input may take by default.  The slowest honest input, 8 MB of
# prose lines, takes about 3 s on the development machine.
INPUT_SECONDS = 60.0

Clock = Callable[[], float]


class Deadline:
    """A moment the work should stop by (None: never)."""

    __slots__ = ("_at", "_clock")

    def __init__(self, seconds: float | None, clock: Clock = time.monotonic):
        self._clock = clock
        self._at = None if seconds is None else clock() + seconds

    def expired(self) -> bool:
        return self._at is not None and self._clock() >= self._at

    def within(self, seconds: float | None) -> "Deadline":
        """A deadline no later than this one, ``seconds`` from now."""
        inner = Deadline(seconds, self._clock)
        if inner._at is None or (self._at is not None and self._at < inner._at):
            inner._at = self._at
        return inner


NEVER = Deadline(None)


@dataclass(frozen=True)
class TimeBudget:
    """What the caller allows: seconds per input, seconds for all inputs of
    the case together (None: no limit), and the clock to measure them by."""

    per_input: float | None = INPUT_SECONDS
    total: float | None = None
    clock: Clock = field(default=time.monotonic, compare=False)

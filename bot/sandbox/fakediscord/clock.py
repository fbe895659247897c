"""Clocks for the fake: the real ones by default, a hand-moved one for tests.

``FakeDiscord(clock=...)`` measures every duration Discord enforces (rate
limit windows, the 3 s callback deadline, the 15 min interaction token, the
nonce memory) on ``clock``, a monotonic time in seconds; ``wall_clock`` (POSIX
seconds) is what "now" means for timestamps (a scheduled event must start in
the future, ``X-RateLimit-Reset`` is an epoch time). A test passes a
``ManualClock`` for either and moves it with ``advance`` instead of sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]


class ManualClock:
    """A clock that stands still until told to move: ``clock.advance(900)``."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        """Move the clock forward (never back) and return the new time."""
        if seconds < 0:
            raise ValueError("a clock does not go back")
        self.now += seconds
        return self.now

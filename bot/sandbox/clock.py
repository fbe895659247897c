"""The sandbox's movable clock: real time plus an offset that only grows.

The bot takes it as its ``clock=`` callable, so its services and scheduled
jobs see the moved time; ``:advance 2d`` adds to the offset. The offset is
kept in a file beside the sandbox database: the bot's state was written at
the moved time, and time must not run backwards for it at the next start.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from storage.types import utcnow

UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1)}
UNITS["m"] = timedelta(minutes=1)
MAX_STEP = timedelta(days=400)
_PART = re.compile(r"(\d{1,4})\s*([wdhm])", re.IGNORECASE)


class DurationError(ValueError):
    """The text is not a duration such as ``2d`` or ``1w 3h``."""


def parse_duration(text: str) -> timedelta:
    """Return the duration written as ``2d``, ``36h``, ``1w 2d``, ``90m`` (units w, d, h, m)."""
    compact = text.strip()
    parts = _PART.findall(compact)
    if not compact or _PART.sub("", compact).strip(" ,+"):
        raise DurationError(
            f"{text.strip()!r} is not a duration: write a number and a unit "
            "(w, d, h or m), for example 2d, 36h or 1w 2d."
        )
    total = sum((int(n) * UNITS[unit.lower()] for n, unit in parts), timedelta())
    if total <= timedelta():
        raise DurationError("The clock only moves forward: give a duration above zero.")
    if total > MAX_STEP:
        raise DurationError("That is too far in one step: move at most 400 days at a time.")
    return total


def format_duration(delta: timedelta) -> str:
    """Return ``delta`` as ``2d 3h`` (whole minutes)."""
    minutes = int(delta.total_seconds() // 60)
    parts = []
    for unit, size in (("d", 1440), ("h", 60), ("m", 1)):
        if minutes >= size:
            parts.append(f"{minutes // size}{unit}")
            minutes %= size
    return " ".join(parts) or "0m"


class SandboxClock:
    """``now()`` is the real time plus ``offset``; callable like ``utcnow``."""

    def __init__(
        self, offset: timedelta = timedelta(), *, real: Callable[[], datetime] = utcnow
    ) -> None:
        self.offset = offset
        self._real = real

    def now(self) -> datetime:
        """Return the sandbox's current time (UTC, aware)."""
        return self._real() + self.offset

    __call__ = now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta``; return the new time."""
        if delta <= timedelta():
            raise DurationError("The clock only moves forward.")
        self.offset += delta
        return self.now()

    @classmethod
    def load(cls, path: Path) -> SandboxClock:
        """Return a clock with the offset saved in ``path`` (none if missing or unreadable)."""
        seconds = 0.0
        with contextlib.suppress(OSError, ValueError):
            seconds = max(0.0, float(path.read_text(encoding="utf-8").strip()))
        return cls(timedelta(seconds=seconds))

    def save(self, path: Path) -> None:
        """Write the offset to ``path``."""
        path.write_text(f"{self.offset.total_seconds():.0f}\n", encoding="utf-8")

"""Offsets such as ``14d,7d,1d,1h``: parsed, checked and written back."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.errors import InvalidInput
from bot.i18n import _, ngettext
from bot.services.text import quoted

UNIT_MINUTES = {"m": 1, "h": 60, "d": 60 * 24, "w": 60 * 24 * 7}
MAX_OFFSETS = 10
MAX_OFFSET = timedelta(days=120)
_TOKEN = re.compile(r"^\s*(\d{1,6})\s*([mhdw])\s*$", re.IGNORECASE)


def parse_offsets(text: str) -> tuple[int, ...]:
    """Return the offsets in ``text`` as whole minutes, largest first, without repeats.

    Raises ``InvalidInput`` naming the piece that cannot be read.
    """
    pieces = [piece for piece in re.split(r"[,\s;]+", text.strip()) if piece]
    if not pieces:
        raise InvalidInput(_("Give at least one offset, for example `14d,7d,1d,1h`."))
    minutes: set[int] = set()
    for piece in pieces:
        match = _TOKEN.match(piece)
        if match is None:
            raise InvalidInput(
                _(
                    "{piece} is not an offset. Write a number and a unit "
                    "(m, h, d or w), for example `14d,7d,1d,1h`.",
                    piece=quoted(piece, 20),
                )
            )
        value = int(match.group(1)) * UNIT_MINUTES[match.group(2).lower()]
        if value <= 0:
            raise InvalidInput(_("`{piece}` is zero: offsets must be at least 1m.", piece=piece))
        if value > MAX_OFFSET.total_seconds() // 60:
            raise InvalidInput(
                _("`{piece}` is too far ahead: offsets can be at most 120 days.", piece=piece)
            )
        minutes.add(value)
    if len(minutes) > MAX_OFFSETS:
        raise InvalidInput(
            ngettext(
                "Give at most {n} offset (you gave {given}).",
                "Give at most {n} offsets (you gave {given}).",
                MAX_OFFSETS,
                given=len(minutes),
            )
        )
    return tuple(sorted(minutes, reverse=True))


def format_offset(minutes: int) -> str:
    """Return ``minutes`` in the largest unit that divides it, e.g. ``1440`` -> ``1d``.

    Weeks are written as days (``14d``, not ``2w``): that is how the IGF counts.
    """
    for unit in ("d", "h"):
        size = UNIT_MINUTES[unit]
        if minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


def format_offsets(offsets: tuple[int, ...] | list[int]) -> str:
    """Return offsets as the user would type them: ``14d, 7d, 1d, 1h``."""
    return ", ".join(format_offset(m) for m in offsets)

"""Numbers, percentages, dates and lists in the current language (Babel's CLDR data).

Discord timestamps (``<t:…>``) need none of this: the client shows them in
the reader's own language and time zone. These are for the rest: a date in
a chart's title, a count in a sentence, a share in a warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from functools import lru_cache
from typing import Literal

from babel import Locale
from babel import dates as babel_dates
from babel import lists as babel_lists
from babel import numbers as babel_numbers

from bot.i18n import LANGUAGES, current


@lru_cache(maxsize=16)
def _locale(code: str) -> Locale:
    return Locale.parse(LANGUAGES[code].babel)


def locale() -> Locale:
    """Return the CLDR locale of the current language."""
    return _locale(current())


def number(value: int | float) -> str:
    """Return ``value`` with the current language's digit grouping (1,234 / 1 234)."""
    return babel_numbers.format_decimal(value, locale=locale())


def decimal(value: float, places: int) -> str:
    """Return ``value`` with exactly ``places`` decimals, as the current language writes it."""
    return babel_numbers.format_decimal(value, format="0." + "0" * places, locale=locale())


def percent(share: float, *, decimals: int = 0) -> str:
    """Return ``share`` (0.25) as a percentage in the current language ("25%", "25 %")."""
    here = locale()
    pattern = str(here.percent_formats[None].pattern)
    if decimals:
        pattern = pattern.replace("0", "0." + "0" * decimals, 1)
    return babel_numbers.format_percent(share, pattern, locale=here)


def day(value: date | datetime) -> str:
    """Return a date in the current language's medium form ("7 Dec 2026", "7 déc. 2026")."""
    return babel_dates.format_date(value, "medium", locale=locale())


def moment(value: datetime, zone: tzinfo | None = None) -> str:
    """Return a date and time in the current language, in ``zone`` (default: as given)."""
    return babel_dates.format_datetime(value, "medium", tzinfo=zone, locale=locale())


def clock(value: datetime, zone: tzinfo | None = None) -> str:
    """Return a time of day in the current language ("14:05")."""
    return babel_dates.format_time(value, "short", tzinfo=zone, locale=locale())


def weekday(index: int) -> str:
    """Return the name of weekday ``index`` (0 is Monday) in the current language."""
    return str(locale().days["format"]["wide"][index])


def items(
    values: Sequence[str],
    style: Literal["standard", "standard-short", "or", "or-short", "unit"] = "standard",
) -> str:
    """Return ``values`` as a list in a sentence ("A, B and C", "A, B et C")."""
    if not values:
        return ""
    return babel_lists.format_list(list(values), style=style, locale=locale())


def joined(values: Sequence[str]) -> str:
    """Return ``values`` separated as the current language separates a list ("A, B" / "A、B").

    No "and" before the last: for lists shown as lists (names of groups, of
    dimensions), where ``items`` would read as a sentence.
    """
    middle = str(locale().list_patterns["standard"]["middle"])
    out = ""
    for index, value in enumerate(values):
        out = value if index == 0 else middle.format(out, value)
    return out

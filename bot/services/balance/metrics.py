"""Shares, empty categories, the largest share and evenness, from the counts of one query."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from bot.i18n import N_, _
from bot.services.taxonomy import (
    ATTENDANCE,
    GENDERS,
    PREFER_NOT_TO_SAY,
    REGIONS,
    UN_REGIONS,
    stakeholder_groups,
)
from storage.balance import (
    NO,
    SEAT_DIMENSIONS,
    YES,
    Count,
)

IGO: Final = "Intergovernmental Organization"
GOVERNMENT: Final = "Government"
# The MAG seat rule: what is not Government is shared equally among these.
MAG_SHARED_GROUPS: Final = ("Civil Society", "Private Sector", "Technical Community")
NOT_STATED: Final = N_("Not stated")
# Categories that record that nobody said: counted and shown, never judged.
UNSTATED: Final = frozenset({NOT_STATED, PREFER_NOT_TO_SAY})

DIMENSIONS: Final = SEAT_DIMENSIONS
LABELS: Final[Mapping[str, str]] = {
    "stakeholder_group": N_("Stakeholder group"),
    "region": N_("Region"),
    "gender": N_("Gender"),
    "developing_country": N_("Developing country"),
    "first_time": N_("First-time"),
    "youth": N_("Youth"),
    "attendance": N_("Attendance"),
}
# Category names (data: warnings and charts show them with ``_(name)``).
YES_NO: Final[Mapping[str, tuple[str, str]]] = {
    "developing_country": (N_("Developing country"), N_("Developed country")),
    "first_time": (N_("First-time"), N_("Returning")),
    "youth": (N_("Youth"), N_("Not youth")),
}
ARTICLES: Final[Mapping[str, str]] = {
    "Private Sector": "the Private Sector",
    "Technical Community": "the Technical Community",
    IGO: "an Intergovernmental Organization",
    **{region: f"the {region}" for region in UN_REGIONS},
}
PROGRAMME_STATUS: Final = "accepted"
# The programme: accepted proposals, with those accepted on conditions still to meet.
PROGRAMME_STATUSES: Final = ("accepted", "conditional")
ALL: Final = "all"


def shares(counts: Mapping[str, int]) -> dict[str, float]:
    """Return each count's share of their total (0 everywhere when the total is 0)."""
    total = sum(counts.values())
    return {name: (count / total if total else 0.0) for name, count in counts.items()}


def evenness(counts: Iterable[int]) -> float | None:
    """Return how evenly seats spread over the given categories, from 0 to 1.

    Shannon entropy normalised by its maximum, the entropy of an equal spread
    over every category given (empty ones included): 1 when each category
    holds the same, 0 when one holds everything; None when nobody is counted.
    An empty category lowers evenness, and one person more or less moves it
    only a little.
    """
    values = list(counts)
    total = sum(values)
    if total <= 0:
        return None
    if len(values) < 2:
        return 0.0
    entropy = -sum((c / total) * math.log(c / total) for c in values if c > 0)
    return max(0.0, min(1.0, entropy / math.log(len(values))))


@dataclass(frozen=True)
class Category:
    """One category of a dimension: its seats, people and share of the seats."""

    name: str
    seats: int
    people: int | None  # None where one person may hold seats in several (attendance)
    share: float  # of the dimension's seats, 0 to 1
    stated: bool = True  # False for "Prefer not to say" and "Not stated"


@dataclass(frozen=True)
class Dimension:
    """The categories of one dimension, with the figures derived from them."""

    key: str
    label: str
    categories: tuple[Category, ...]
    seats: int
    people: int | None

    def get(self, name: str) -> Category | None:
        """Return the category called ``name``, if there is one."""
        return next((c for c in self.categories if c.name == name), None)

    def seats_of(self, name: str) -> int:
        """Return the seats held by ``name`` (0 when absent)."""
        category = self.get(name)
        return category.seats if category else 0

    def share_of(self, name: str) -> float:
        """Return the share of seats held by ``name`` (0 when absent)."""
        category = self.get(name)
        return category.share if category else 0.0

    @property
    def empty(self) -> tuple[str, ...]:
        """Return the stated categories with nobody."""
        return tuple(c.name for c in self.categories if c.stated and c.seats == 0)

    @property
    def largest(self) -> Category | None:
        """Return the stated category with the largest share (first in order on a tie)."""
        held = [c for c in self.categories if c.stated and c.seats]
        return max(held, key=lambda c: (c.share, c.seats)) if held else None

    @property
    def evenness(self) -> float | None:
        """Return the evenness over every stated category, empty ones too (see ``evenness``)."""
        return evenness(c.seats for c in self.categories if c.stated)

    @property
    def people_differ(self) -> bool:
        """Return whether some category has more seats than people."""
        return any(c.people is not None and c.people != c.seats for c in self.categories)


def dimension_categories(key: str, rules: Mapping[str, Any]) -> tuple[str, ...]:
    """Return a dimension's categories in display order (unstated ones last)."""
    if key == "stakeholder_group":
        return (*stakeholder_groups(rules), NOT_STATED)
    if key == "region":
        return (*REGIONS, NOT_STATED)
    if key == "gender":
        return GENDERS
    if key == "attendance":
        return tuple(ATTENDANCE.values())
    yes, no = YES_NO[key]
    return (yes, no, NOT_STATED)


def category_name(key: str, value: str | None) -> str:
    """Return the category a stored value falls in (None: not stated)."""
    if value is None or value == "":
        return NOT_STATED
    if key in YES_NO:
        yes, no = YES_NO[key]
        return {YES: yes, NO: no}.get(value, NOT_STATED)
    if key == "attendance":
        return ATTENDANCE.get(value, value)
    return value


def build_dimension(
    key: str, raw: Mapping[str | None, Count], rules: Mapping[str, Any]
) -> Dimension:
    """Return a dimension from the stored values' counts; every category shown, even empty."""
    merged: dict[str, Count] = {}
    for value, count in raw.items():
        name = category_name(key, value)
        old = merged.get(name, Count())
        merged[name] = Count(old.seats + count.seats, old.people + count.people)
    names = list(dimension_categories(key, rules))
    # A stored value the guild no longer lists (a removed group) still counts.
    names += sorted(name for name in merged if name not in names)
    # "Not stated" is listed only when someone is in it, except where it is the only unknown.
    names = [n for n in names if n != NOT_STATED or n in merged]
    seat_share = shares({name: merged.get(name, Count()).seats for name in names})
    per_person = key != "attendance"
    categories = tuple(
        Category(
            name=name,
            seats=merged.get(name, Count()).seats,
            people=merged.get(name, Count()).people if per_person else None,
            share=seat_share[name],
            stated=name not in UNSTATED,
        )
        for name in names
    )
    seats = sum(c.seats for c in categories)
    people = sum(c.people or 0 for c in categories) if per_person else None
    return Dimension(key, _(LABELS.get(key, key)), categories, seats, people)

"""The targets (``balance.*`` rules), the MAG seat rule, and the warnings in plain words."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bot.services.balance.metrics import (
    ARTICLES,
    GOVERNMENT,
    IGO,
    MAG_SHARED_GROUPS,
    YES_NO,
    Dimension,
)
from bot.services.config import DEFAULTS
from bot.services.taxonomy import (
    UN_REGIONS,
    stakeholder_groups,
)
from bot.services.text import Line, Typed, plain_line


@dataclass(frozen=True)
class Targets:
    """The guild's balance targets (``balance.*`` rules); shares in percent, 0 is off."""

    min_seats: int
    group_share_max: float
    group_share_min: float
    every_group: bool
    region_share_max: float
    every_region: bool
    gender_share_max: float
    developing_share_min: float
    first_time_share_min: float
    youth_share_min: float
    funnel_drop_points: float
    mag_government_max: float
    mag_tolerance_points: float

    @classmethod
    def from_rules(cls, rules: Mapping[str, Any]) -> Targets:
        """Return the targets in ``rules``; a value that is not usable falls back to the default."""
        values: dict[str, Any] = {}
        for name, kind in cls.__annotations__.items():
            key = f"balance.{name}"
            default = DEFAULTS.rules[key]
            value = rules.get(key, default)
            values[name] = _coerce(value, default, kind)
        return cls(**values)


def _coerce(value: Any, default: Any, kind: str) -> Any:
    if kind == "bool":
        return value if isinstance(value, bool) else bool(default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float(default)
    if not math.isfinite(number) or number < 0:
        number = float(default)
    if kind == "int":
        return int(number)
    return min(number, 100.0)


@dataclass(frozen=True)
class BalanceWarning:
    """A target that is not met, in plain words.

    ``line`` marks the category names as ``Typed``: an admin may add a
    stakeholder group called anything, and it must reach Discord as text,
    never as a link or a mention (``bot.render.text.render_line``).
    """

    rule: str  # the rule's name, e.g. balance.group_share_max
    dimension: str
    category: str
    line: Line

    @property
    def text(self) -> str:
        """Return the warning as plain text (audit, logs; never shown as markdown)."""
        return plain_line(self.line)

    @property
    def key(self) -> tuple[str, str, str]:
        """Return what identifies the warning across two counts (before and after)."""
        return (self.rule, self.dimension, self.category)


@dataclass(frozen=True)
class TargetLine:
    """A target drawn on the chart: a ceiling, a floor or an expected share."""

    dimension: str
    share: float  # 0 to 1
    kind: Literal["max", "min", "equal"]
    category: str | None = None  # None: every category of the dimension
    label: str = ""


@dataclass(frozen=True)
class Scope:
    """What was counted, worded for titles and warnings."""

    kind: str  # proposal | programme | panellists | mag | funnel
    title: str
    seats_phrase: str  # "confirmed seats on accepted proposals"
    who: str  # "confirmed panellist": "No confirmed panellist from ..."
    where: str = ""  # " on accepted proposals"
    judged: bool = True  # False: counted and shown, no target applies (declined nominations)


def the(name: str) -> str:
    """Return a group or region's name as a sentence says it ("the African Group")."""
    return ARTICLES.get(name, name)


def _name(name: str) -> Typed:
    return Typed(name, 100)


def _the(name: str) -> tuple[str | Typed, ...]:
    """Return ``the(name)`` as parts of a line: the known names as written, others as typed."""
    known = ARTICLES.get(name)
    return (known,) if known is not None else (_name(name),)


def pct(share: float, *, against: float | None = None) -> str:
    """Return a share in percent; with a decimal when rounding would hide a breach."""
    value = share * 100
    if 0 < value < 0.5:
        return "<1%"
    if against is not None and round(value) == round(against) and value != against:
        return f"{value:.1f}%"
    return f"{value:.0f}%"


def over(part: float, whole: float, limit: float) -> bool:
    """Return whether ``part`` is more than ``limit`` percent of ``whole``.

    Compared on counts, not on rounded shares: 0.4 * 100 is 40.00000000000001
    in floating point, and 40% must not breach "at most 40%".
    """
    return part * 100 > limit * whole


def under(part: float, whole: float, limit: float) -> bool:
    """Return whether ``part`` is less than ``limit`` percent of ``whole`` (on counts)."""
    return part * 100 < limit * whole


def _share_max(
    dimension: Dimension, limit: float, rule: str, scope: Scope, lines: list[TargetLine]
) -> list[BalanceWarning]:
    if not 0 < limit < 100:
        return []
    lines.append(TargetLine(dimension.key, limit / 100, "max", label=f"at most {limit:g}%"))
    return [
        BalanceWarning(
            rule,
            dimension.key,
            c.name,
            (
                _name(c.name),
                f" holds {pct(c.share, against=limit)} of {scope.seats_phrase} "
                f"(target at most {limit:g}%)",
            ),
        )
        for c in dimension.categories
        if c.stated and over(c.seats, dimension.seats, limit)
    ]


def _share_min(
    dimension: Dimension,
    names: Sequence[str],
    limit: float,
    rule: str,
    scope: Scope,
    lines: list[TargetLine],
    *,
    skip_empty: bool = False,
) -> list[BalanceWarning]:
    if not 0 < limit < 100:
        return []
    only_one = len(names) == 1
    lines.append(
        TargetLine(
            dimension.key,
            limit / 100,
            "min",
            category=names[0] if only_one else None,
            label=f"at least {limit:g}%",
        )
    )
    unstated = sum(c.seats for c in dimension.categories if not c.stated)
    note = f"; {unstated} not stated" if unstated else ""
    warnings = []
    for name in names:
        share = dimension.share_of(name)
        held = dimension.seats_of(name)
        if not under(held, dimension.seats, limit) or (skip_empty and held == 0):
            continue
        line = (
            _name(name),
            f" holds only {pct(share, against=limit)} of {scope.seats_phrase} "
            f"(target at least {limit:g}%{note})",
        )
        warnings.append(BalanceWarning(rule, dimension.key, name, line))
    return warnings


def _every(
    dimension: Dimension, names: Sequence[str], rule: str, scope: Scope
) -> list[BalanceWarning]:
    return [
        BalanceWarning(
            rule, dimension.key, name, (f"No {scope.who} from ", *_the(name), scope.where)
        )
        for name in names
        if dimension.share_of(name) == 0
    ]


def required_groups(rules: Mapping[str, Any]) -> tuple[str, ...]:
    """Return the stakeholder groups every count should include (IGOs are often absent)."""
    return tuple(g for g in stakeholder_groups(rules) if g != IGO)


@dataclass(frozen=True)
class Judgement:
    """The warnings of one count, what the chart draws, and notes.

    ``judged`` is False when no target was weighed (nobody counted, a scope
    targets don't apply to, fewer seats than ``balance.min_seats``): then the
    absence of warnings means nothing, and nothing may say "met".
    """

    warnings: tuple[BalanceWarning, ...]
    lines: tuple[TargetLine, ...]
    notes: tuple[str, ...]
    judged: bool = True


def judge(
    dimensions: Mapping[str, Dimension],
    seats: int,
    scope: Scope,
    targets: Targets,
    rules: Mapping[str, Any],
) -> Judgement:
    """Return the warnings for a count against the targets (none below ``min_seats``)."""
    lines: list[TargetLine] = []
    warnings: list[BalanceWarning] = []
    notes: list[str] = []
    if seats == 0:
        return Judgement((), (), (f"Nobody is counted yet: no {scope.seats_phrase}.",), False)
    if not scope.judged:
        return Judgement((), (), (f"Targets do not apply to {scope.seats_phrase}.",), False)
    small = seats < targets.min_seats
    group = dimensions.get("stakeholder_group")
    region = dimensions.get("region")
    gender = dimensions.get("gender")
    if group is not None and scope.kind == "mag":
        warnings += _mag_rule(group, targets, lines, notes)
    elif group is not None:
        required = required_groups(rules)
        warnings += _share_max(
            group, targets.group_share_max, "balance.group_share_max", scope, lines
        )
        warnings += _share_min(
            group,
            required,
            targets.group_share_min,
            "balance.group_share_min",
            scope,
            lines,
            skip_empty=targets.every_group,
        )
        if targets.every_group:
            warnings += _every(group, required, "balance.every_group", scope)
    if region is not None:
        if targets.every_region:
            warnings += _every(region, UN_REGIONS, "balance.every_region", scope)
        warnings += _share_max(
            region, targets.region_share_max, "balance.region_share_max", scope, lines
        )
    if gender is not None:
        warnings += _share_max(
            gender, targets.gender_share_max, "balance.gender_share_max", scope, lines
        )
    for key, limit, rule in (
        ("developing_country", targets.developing_share_min, "balance.developing_share_min"),
        ("first_time", targets.first_time_share_min, "balance.first_time_share_min"),
        ("youth", targets.youth_share_min, "balance.youth_share_min"),
    ):
        if key in dimensions:
            name = YES_NO[key][0]
            warnings += _share_min(dimensions[key], [name], limit, rule, scope, lines)
    if small:
        notes.append(
            f"Targets apply from {targets.min_seats} seats; this counts {seats}, "
            "so no target is judged yet."
        )
        return Judgement((), tuple(lines), tuple(notes), False)
    return Judgement(tuple(warnings), tuple(lines), tuple(notes))


def _mag_rule(
    group: Dimension, targets: Targets, lines: list[TargetLine], notes: list[str]
) -> list[BalanceWarning]:
    """Check the MAG seat rule over voting seats (IGO members are observers)."""
    observers = group.get(IGO)
    voting = group.seats - (observers.seats if observers else 0)
    if observers and observers.seats:
        notes.append(
            f"{observers.seats} Intergovernmental Organization member(s) hold observer seats "
            "and are not counted in the MAG seat rule."
        )
    if voting <= 0:
        return []
    warnings: list[BalanceWarning] = []
    government = group.get(GOVERNMENT)
    gov_seats = government.seats if government else 0
    limit = targets.mag_government_max
    phrase = "voting MAG seats"
    # The bars are shares of every member: the rule's lines are drawn in those terms.
    drawn = voting / group.seats
    if 0 < limit < 100:
        lines.append(
            TargetLine(
                "stakeholder_group", limit / 100 * drawn, "max", GOVERNMENT, f"at most {limit:g}%"
            )
        )
        gov_share = gov_seats / voting
        if over(gov_seats, voting, limit):
            warnings.append(
                BalanceWarning(
                    "balance.mag_government_max",
                    "stakeholder_group",
                    GOVERNMENT,
                    f"Government holds {pct(gov_share, against=limit)} of {phrase} "
                    f"(rule: at most {limit:g}%)",
                )
            )
    equal = (voting - gov_seats) / len(MAG_SHARED_GROUPS) / voting
    tolerance = targets.mag_tolerance_points
    for name in MAG_SHARED_GROUPS:
        category = group.get(name)
        held = category.seats if category else 0
        share = held / voting
        lines.append(
            TargetLine(
                "stakeholder_group",
                equal * drawn,
                "equal",
                name,
                f"equal share {pct(equal)}",
            )
        )
        # |seats - rest/3| against tolerance% of voting, times 3 to stay in whole numbers.
        if over(abs(3 * held - (voting - gov_seats)), 3 * voting, tolerance):
            warnings.append(
                BalanceWarning(
                    "balance.mag_tolerance_points",
                    "stakeholder_group",
                    name,
                    (
                        _name(name),
                        f" holds {pct(share)} of {phrase}; an equal share of the "
                        f"non-government seats would be {pct(equal)} (within {tolerance:g} "
                        "points)",
                    ),
                )
            )
    return warnings

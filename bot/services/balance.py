"""Stakeholder balance: who holds the seats, measured against the guild's targets.

A *seat* is a participation (a person on a proposal in one role); a person on
three sessions is one person and three seats. Every count comes from one SQL
query (``storage.balance``); this module turns counts into shares, empty
categories, the largest share and evenness, checks them against the targets
(``balance.*`` rules, defaults in ``bot.services.config``) and words the
warnings.

"Prefer not to say" and "Not stated" are categories of their own: they are
counted and shown, never guessed, and never judged (no target applies to
them, and evenness is computed over the categories people did state).

Scopes:

- ``proposal``: everyone active (nominated, invited, confirmed) on one session;
- ``programme``: confirmed seats on the proposals with one status (accepted);
- ``panellists``: nominations (any proposal) with one status, or all;
- ``mag``: the MAG's own composition, from member profiles, against the MAG
  seat rule (Government up to 40%, the rest shared equally among Civil
  Society, Private Sector and Technical Community; IGOs are observers);
- ``funnel``: shares at nominated, invited, confirmed, and at submitted,
  accepted; a category whose share falls more than the set number of points
  from the first stage to the last is flagged.

Guardrails: ``effect_of`` counts the programme before and after one decision
(a panellist confirmed or declined, a proposal accepted or rejected) inside the
decision's own transaction; ``record_effect`` audits the targets it breaches.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final, Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import InvalidInput, NotFound, PermissionDenied
from bot.services.auth import Actor
from bot.services.config import DEFAULTS, ConfigService, GuildSettings, settings_from_row
from bot.services.outbox import DigestSection
from bot.services.proposals import Decision
from bot.services.taxonomy import (
    ACTIVE_PARTICIPATION,
    ATTENDANCE,
    GENDERS,
    KINDS,
    PARTICIPATION_STATUSES,
    PREFER_NOT_TO_SAY,
    PROPOSAL_STATUSES,
    REGIONS,
    ROLES,
    UN_REGIONS,
    kind_label,
    match_key,
    proposal_label,
    stakeholder_groups,
)
from bot.services.text import Line, Typed, plain_line, quoted
from bot.services.visibility import SENSITIVE_DIMENSIONS, hides_small_counts, min_count
from storage.audit import record_event
from storage.balance import (
    NO,
    SEAT_DIMENSIONS,
    YES,
    Count,
    SeatCounts,
    Selection,
    member_counts,
    seat_counts,
)
from storage.config import get_guild_config
from storage.database import Database
from storage.panellists import people_on
from storage.proposals import get_proposal

IGO: Final = "Intergovernmental Organization"
GOVERNMENT: Final = "Government"
# The MAG seat rule: what is not Government is shared equally among these.
MAG_SHARED_GROUPS: Final = ("Civil Society", "Private Sector", "Technical Community")
NOT_STATED: Final = "Not stated"
# Categories that record that nobody said: counted and shown, never judged.
UNSTATED: Final = frozenset({NOT_STATED, PREFER_NOT_TO_SAY})

DIMENSIONS: Final = SEAT_DIMENSIONS
LABELS: Final[Mapping[str, str]] = {
    "stakeholder_group": "Stakeholder group",
    "region": "Region",
    "gender": "Gender",
    "developing_country": "Developing country",
    "first_time": "First-time",
    "youth": "Youth",
    "attendance": "Attendance",
}
YES_NO: Final[Mapping[str, tuple[str, str]]] = {
    "developing_country": ("Developing country", "Developed country"),
    "first_time": ("First-time", "Returning"),
    "youth": ("Youth", "Not youth"),
}
ARTICLES: Final[Mapping[str, str]] = {
    "Private Sector": "the Private Sector",
    "Technical Community": "the Technical Community",
    IGO: "an Intergovernmental Organization",
    **{region: f"the {region}" for region in UN_REGIONS},
}
PROGRAMME_STATUS: Final = "accepted"
ALL: Final = "all"


# --- metrics -------------------------------------------------------------------


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
    return Dimension(key, LABELS.get(key, key), categories, seats, people)


# --- targets and warnings ------------------------------------------------------------


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
        held = _seats(dimension, name)
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


# --- reports ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NamedSeat:
    """One seat with the person's name: shown to the secretariat only."""

    name: str
    role: str
    status: str
    stakeholder_group: str
    region: str
    gender: str


@dataclass(frozen=True)
class BalanceReport:
    """Everything ``/balance`` shows for one scope."""

    scope: Scope
    seats: int
    people: int
    dimensions: tuple[Dimension, ...]
    warnings: tuple[BalanceWarning, ...]
    targets: tuple[TargetLine, ...]
    notes: tuple[str, ...] = ()
    names: tuple[NamedSeat, ...] | None = None  # the secretariat's view of one session
    judged: bool = True  # targets were weighed (see ``Judgement.judged``)

    def dimension(self, key: str) -> Dimension:
        """Return the dimension with this key."""
        return next(d for d in self.dimensions if d.key == key)


def make_report(
    counts: SeatCounts,
    scope: Scope,
    rules: Mapping[str, Any],
    *,
    dimensions: Sequence[str] = DIMENSIONS,
    names: tuple[NamedSeat, ...] | None = None,
) -> BalanceReport:
    """Return the report of one count: metrics, warnings and target lines."""
    built = {
        key: build_dimension(key, counts.by_dimension.get(key, {}), rules) for key in dimensions
    }
    verdict = judge(built, counts.total.seats, scope, Targets.from_rules(rules), rules)
    return BalanceReport(
        scope=scope,
        seats=counts.total.seats,
        people=counts.total.people,
        dimensions=tuple(built.values()),
        warnings=verdict.warnings,
        targets=verdict.lines,
        notes=verdict.notes,
        names=names,
        judged=verdict.judged,
    )


def redact(report: BalanceReport, min_people: int) -> BalanceReport:
    """Return the report as those who may not see personal data see it.

    A sensitive dimension (gender, youth: ``bot.services.visibility``) in
    which some group has fewer than ``min_people`` people (but not none), or
    that counts fewer than four times ``min_people`` people, is left out
    whole: no counts, no shares, no bars. Anything less leaks: rounded
    shares times the total give the hidden count back, and so does the
    difference of the other counts. Its warnings become one warning without
    numbers or names. The secretariat sees everything (they get the report
    unredacted).
    """
    if min_people <= 1:
        return report
    kept: list[Dimension] = []
    hidden: dict[str, str] = {}
    notes = list(report.notes)
    for dimension in report.dimensions:
        if dimension.key not in SENSITIVE_DIMENSIONS:
            kept.append(dimension)
            continue
        people = dimension.people if dimension.people is not None else dimension.seats
        small = any(0 < (c.people or c.seats) < min_people for c in dimension.categories)
        if people and (small or people < 4 * min_people):
            hidden[dimension.key] = dimension.label
            notes.append(
                f"{dimension.label} is shown to the secretariat only: some group here has "
                f"fewer than {min_people} people, and its numbers could tell who they are."
            )
            continue
        kept.append(dimension)
    if not hidden:
        return report
    warnings: list[BalanceWarning] = []
    said: set[str] = set()
    for warning in report.warnings:
        label = hidden.get(warning.dimension)
        if label is None:
            warnings.append(warning)
        elif warning.dimension not in said:
            said.add(warning.dimension)
            warnings.append(
                BalanceWarning(
                    "privacy.min_count",
                    warning.dimension,
                    "",
                    f"{label}: a target is not met (the secretariat sees the details)",
                )
            )
    targets = tuple(t for t in report.targets if t.dimension not in hidden)
    return replace(
        report,
        dimensions=tuple(kept),
        warnings=tuple(warnings),
        targets=targets,
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class FunnelStage:
    """One stage of a funnel and the shares at it."""

    label: str
    report: BalanceReport


@dataclass(frozen=True)
class FunnelReport:
    """Shares through the nomination funnel and the selection funnel, with drops flagged."""

    scope: Scope
    nominations: tuple[FunnelStage, ...]
    selection: tuple[FunnelStage, ...]
    nomination_flags: tuple[BalanceWarning, ...]
    selection_flags: tuple[BalanceWarning, ...]
    drop_points: float

    @property
    def flags(self) -> tuple[BalanceWarning, ...]:
        """Return every drop flagged, nominations first."""
        return self.nomination_flags + self.selection_flags


def funnel_flags(
    stages: Sequence[FunnelStage], drop_points: float, min_seats: int
) -> list[BalanceWarning]:
    """Return the categories whose share falls more than ``drop_points`` from first to last stage.

    Both stages need at least ``min_seats`` seats: shares of a handful say little.
    """
    if len(stages) < 2 or drop_points <= 0:
        return []
    first, last = stages[0].report, stages[-1].report
    if first.seats < min_seats or last.seats < min_seats:
        return []
    flags = []
    for dimension in first.dimensions:
        after = last.dimension(dimension.key)
        for category in dimension.categories:
            if not category.stated:
                continue
            later = _seats(after, category.name)
            drop = (category.share - after.share_of(category.name)) * 100
            # The drop compared on counts: seats/first - later/last > points%.
            gap = category.seats * last.seats - later * first.seats
            if over(gap, first.seats * last.seats, drop_points):
                line = (
                    _name(category.name),
                    f" falls from {pct(category.share)} of "
                    f"{first.scope.seats_phrase} to {pct(after.share_of(category.name))} of "
                    f"{last.scope.seats_phrase} ({drop:.0f} points; flagged above "
                    f"{drop_points:g})",
                )
                flags.append(
                    BalanceWarning("balance.funnel_drop_points", dimension.key, category.name, line)
                )
    return flags


# --- selections and scopes -------------------------------------------------------------


def programme_selection(
    status: str | None = PROGRAMME_STATUS, kind: str | None = None
) -> Selection:
    """Return the programme's seats: confirmed participations on proposals with ``status``."""
    return Selection(
        participation_statuses=("confirmed",),
        proposal_statuses=None if status is None else (status,),
        kinds=None if kind is None else (kind,),
    )


def programme_scope(status: str | None = PROGRAMME_STATUS, kind: str | None = None) -> Scope:
    """Return the wording of the programme count."""
    which = "all" if status is None else status.replace("_", " ")
    where = f" on {which} proposals" + (f" ({kind_label(kind)})" if kind else "")
    return Scope(
        kind="programme",
        title=f"Programme: confirmed seats{where}",
        seats_phrase=f"confirmed seats{where}",
        who="confirmed panellist",
        where=where,
    )


NOMINATION_PHRASES: Final[Mapping[str, tuple[str, str]]] = {
    # status -> (seats phrase, who)
    "nominated": ("nominations still open", "open nomination"),
    "invited": ("invited nominations", "invited panellist"),
    "confirmed": ("confirmed seats", "confirmed panellist"),
    "declined": ("declined nominations", "declined nominee"),
    "withdrawn": ("withdrawn nominations", "withdrawn nominee"),
}


def panellists_scope(status: str | None) -> Scope:
    """Return the wording of a count of nominations."""
    phrase, who = NOMINATION_PHRASES.get(status or "", ("nominations", "nominee"))
    title = "Nominations" + (f": {status}" if status else ": every status")
    judged = status not in ("declined", "withdrawn")
    return Scope(kind="panellists", title=title, seats_phrase=phrase, who=who, judged=judged)


MAG_SCOPE: Final = Scope(
    kind="mag", title="MAG composition", seats_phrase="MAG seats", who="MAG member"
)


def check_proposal_status(status: str | None) -> str | None:
    """Return a proposal status, None for ``all``, or raise InvalidInput."""
    if status is None:
        return PROGRAMME_STATUS
    key = status.strip().lower().replace(" ", "_")
    if key == ALL:
        return None
    if key not in PROPOSAL_STATUSES:
        raise InvalidInput(
            f"{quoted(status, 30)} is not a proposal status. "
            f"Use one of: {', '.join(PROPOSAL_STATUSES)}, or all."
        )
    return key


def check_nomination_status(status: str | None) -> str | None:
    """Return a participation status, None for all, or raise InvalidInput."""
    if status is None or status.strip().lower() == ALL:
        return None
    key = status.strip().lower()
    if key not in PARTICIPATION_STATUSES:
        raise InvalidInput(
            f"{quoted(status, 30)} is not a nomination status. "
            f"Use one of: {', '.join(PARTICIPATION_STATUSES)}, or all."
        )
    return key


def check_kind(kind: str | None) -> str | None:
    """Return a session kind's key, None for all kinds, or raise InvalidInput."""
    if kind is None or kind.strip().lower() == ALL:
        return None
    return match_key(kind, KINDS, "session kind")


def require_viewer(actor: Actor) -> None:
    """Refuse unless the actor is a MAG member or the secretariat (or an admin)."""
    if not (actor.is_mag or actor.can_act_as_secretariat):
        raise PermissionDenied(
            "Only MAG members and the secretariat can see balance statistics. "
            "Ask an admin for the MAG role."
        )


# --- guardrails at decision time -------------------------------------------------------


@dataclass(frozen=True)
class DecisionChange:
    """One decision: a participation or a proposal moving from one status to another."""

    subject: Literal["participation", "proposal"]
    id: int
    before: str
    after: str


@dataclass(frozen=True)
class ShareShift:
    """How one category's share of the programme moves with a decision."""

    dimension: str  # label
    category: str
    before: float
    after: float
    key: str = ""  # the dimension's key


@dataclass(frozen=True)
class BalanceEffect:
    """The programme's balance before and after one decision."""

    scope: Scope
    seats_before: int
    seats_after: int
    people_before: int
    people_after: int
    shifts: tuple[ShareShift, ...]
    new_warnings: tuple[BalanceWarning, ...]  # breached by this decision
    resolved: tuple[BalanceWarning, ...]  # met again thanks to it
    still: tuple[BalanceWarning, ...]  # breached before and after

    @property
    def changed(self) -> bool:
        """Return whether the decision changes the programme at all."""
        return (self.seats_before, self.people_before) != (self.seats_after, self.people_after)

    @property
    def breached(self) -> bool:
        """Return whether the decision breaches a target that was met before."""
        return bool(self.new_warnings)

    def without_sensitive(self) -> BalanceEffect:
        """Return the effect without gender and youth (for all but the secretariat).

        One decision moves one person: a shift or a new warning in a
        sensitive dimension would tell that person's gender.
        """

        def keep(w: BalanceWarning) -> bool:
            return w.dimension not in SENSITIVE_DIMENSIONS

        return replace(
            self,
            shifts=tuple(s for s in self.shifts if s.key not in SENSITIVE_DIMENSIONS),
            new_warnings=tuple(filter(keep, self.new_warnings)),
            resolved=tuple(filter(keep, self.resolved)),
            still=tuple(filter(keep, self.still)),
        )


def _with_override(selection: Selection, change: DecisionChange, status: str) -> Selection:
    if change.subject == "participation":
        return replace(selection, participation_override=(change.id, status))
    return replace(selection, proposal_override=(change.id, status))


def _seats(dimension: Dimension, name: str) -> int:
    category = dimension.get(name)
    return category.seats if category else 0


def compare(before: BalanceReport, after: BalanceReport) -> BalanceEffect:
    """Return the effect of going from ``before`` to ``after``."""
    shifts = []
    for dimension in after.dimensions:
        old = before.dimension(dimension.key)
        moves = [
            (abs(c.share - old.share_of(c.name)), c.name, old.share_of(c.name), c.share)
            for c in dimension.categories
            if c.seats != _seats(old, c.name)
        ]
        if moves:
            _, name, was, now = max(moves, key=lambda m: m[0])
            shifts.append(ShareShift(dimension.label, name, was, now, dimension.key))
    old_keys = {w.key for w in before.warnings}
    new_keys = {w.key for w in after.warnings}
    # A warning that disappears because the count fell below the targets' reach
    # was not met: only a judged count can say so.
    resolved = tuple(w for w in before.warnings if w.key not in new_keys) if after.judged else ()
    return BalanceEffect(
        scope=after.scope,
        seats_before=before.seats,
        seats_after=after.seats,
        people_before=before.people,
        people_after=after.people,
        shifts=tuple(shifts),
        new_warnings=tuple(w for w in after.warnings if w.key not in old_keys),
        resolved=resolved,
        still=tuple(w for w in after.warnings if w.key in old_keys),
    )


async def effect_of(
    session: AsyncSession, *, guild_id: int, change: DecisionChange, rules: Mapping[str, Any]
) -> BalanceEffect:
    """Return the decision's effect on the programme (confirmed seats on accepted proposals).

    Call it inside the decision's transaction, before or after the status is
    written: both counts override the changed row's status, so the answer is
    the same either way. One query counts both.
    """
    base = programme_selection()
    before, after = await seat_counts(
        session,
        guild_id=guild_id,
        selections=[
            _with_override(base, change, change.before),
            _with_override(base, change, change.after),
        ],
    )
    scope = programme_scope()
    return compare(make_report(before, scope, rules), make_report(after, scope, rules))


async def record_effect(
    session: AsyncSession,
    *,
    guild_id: int,
    actor_id: int | None,
    target: str,
    effect: BalanceEffect,
    at: datetime | None = None,
) -> None:
    """Audit the targets a decision breached (nothing when it breached none)."""
    if not effect.new_warnings:
        return
    await record_event(
        session,
        guild_id=guild_id,
        actor_id=actor_id,
        action="balance.warning",
        target=target,
        after={
            "warnings": [w.text for w in effect.new_warnings],
            "rules": sorted({w.rule for w in effect.new_warnings}),
        },
        note="Decision made despite the balance warning(s).",
        at=at,
    )


async def guard_decision(
    session: AsyncSession,
    *,
    guild_id: int,
    actor_id: int | None,
    target: str,
    change: DecisionChange,
    rules: Mapping[str, Any],
    at: datetime | None = None,
) -> BalanceEffect:
    """Return the decision's effect on the programme, auditing any target it breaches."""
    effect = await effect_of(session, guild_id=guild_id, change=change, rules=rules)
    await record_effect(
        session, guild_id=guild_id, actor_id=actor_id, target=target, effect=effect, at=at
    )
    return effect


async def balance_decision_hook(session: AsyncSession, decision: Decision) -> BalanceEffect:
    """Weigh a decision on programme balance: the ``on_decision`` hook of proposals and panellists.

    Runs inside the decision's transaction and reads the guild's rules with
    the same session (a second connection from inside a write transaction can
    deadlock a full pool on SQLite); audits any target the decision breaches.
    """
    rules = settings_from_row(
        decision.guild_id, await get_guild_config(session, decision.guild_id)
    ).rules
    return await guard_decision(
        session,
        guild_id=decision.guild_id,
        actor_id=decision.actor_id,
        target=decision.target,
        change=DecisionChange(decision.subject, decision.id, decision.before, decision.after),
        rules=rules,
        at=decision.at,
    )


# --- the digest section -----------------------------------------------------------------


def _prefixed(before: str, line: Line, after: str) -> Line:
    parts = (line,) if isinstance(line, str) else line
    return (before, *parts, after)


async def balance_digest_section(
    session: AsyncSession,
    guild_id: int,
    since: datetime,
    until: datetime,
    settings: GuildSettings,
) -> DigestSection | None:
    """Return the current balance warnings of the programme and the MAG (None: there are none).

    The digest goes to a channel: it is redacted as for anyone but the
    secretariat, whoever can read that channel.
    """
    least = min_count(settings.rules)
    programme = make_report(
        (await seat_counts(session, guild_id=guild_id, selections=[programme_selection()]))[0],
        programme_scope(),
        settings.rules,
    )
    mag = make_report(
        await member_counts(session, guild_id=guild_id),
        MAG_SCOPE,
        settings.rules,
        dimensions=("stakeholder_group", "region", "gender"),
    )
    lines: list[Line] = [
        _prefixed(f"{where}: ", w.line, ".")
        for where, report in (("Programme", redact(programme, least)), ("MAG", redact(mag, least)))
        for w in report.warnings
    ]
    if not lines:
        return None
    lines.append("Details and charts: /balance programme, /balance mag.")
    return DigestSection(name="balance", title="Balance warnings", lines=tuple(lines), order=40)


# --- the service ------------------------------------------------------------------------


class BalanceService:
    """Counts, shares and warnings for ``/balance``: aggregates, names for the secretariat only."""

    def __init__(self, db: Database, clock: Callable[[], datetime], config: ConfigService) -> None:
        self._db = db
        self._clock = clock
        self._config = config

    @staticmethod
    def _for(actor: Actor, report: BalanceReport, settings: GuildSettings) -> BalanceReport:
        """Return the report as ``actor`` may see it (small sensitive groups: secretariat only)."""
        if not hides_small_counts(actor):
            return report
        return redact(report, min_count(settings.rules))

    async def _count(self, guild_id: int, selections: Sequence[Selection]) -> list[SeatCounts]:
        async with self._db.read() as session:
            return await seat_counts(session, guild_id=guild_id, selections=selections)

    async def proposal(self, actor: Actor, number: int) -> BalanceReport:
        """Return the balance of everyone active on one session (names for the secretariat)."""
        require_viewer(actor)
        if number < 1:
            raise InvalidInput("Proposal numbers start at 1.")
        settings = await self._config.get(actor.guild_id)
        async with self._db.read() as session:
            proposal = await get_proposal(session, guild_id=actor.guild_id, number=number)
            if proposal is None or proposal.id is None:
                raise NotFound(f"There is no proposal #{number} here. `/proposal list` shows them.")
            (counts,) = await seat_counts(
                session,
                guild_id=actor.guild_id,
                selections=[
                    Selection(participation_statuses=ACTIVE_PARTICIPATION, proposal_id=proposal.id)
                ],
            )
            names = None
            if actor.can_act_as_secretariat:
                rows = await people_on(session, guild_id=actor.guild_id, proposal_ids=[proposal.id])
                names = tuple(
                    NamedSeat(
                        name=pe.name,
                        role=ROLES.get(pa.role, pa.role),
                        status=pa.status,
                        stakeholder_group=pe.stakeholder_group,
                        region=pe.region,
                        gender=pe.gender,
                    )
                    for pa, pe in rows
                    if pa.status in ACTIVE_PARTICIPATION
                )
        label = proposal_label(proposal.kind, proposal.number)
        scope = Scope(
            kind="proposal",
            title=f"{label}: everyone on the session",
            seats_phrase=f"seats on {label}",
            who="one",
            where=f" on {label}",
        )
        return self._for(actor, make_report(counts, scope, settings.rules, names=names), settings)

    async def programme(
        self, actor: Actor, status: str | None = None, kind: str | None = None
    ) -> BalanceReport:
        """Return the balance of confirmed seats on proposals with ``status`` (default accepted)."""
        require_viewer(actor)
        proposal_status = check_proposal_status(status)
        kind_key = check_kind(kind)
        settings = await self._config.get(actor.guild_id)
        (counts,) = await self._count(
            actor.guild_id, [programme_selection(proposal_status, kind_key)]
        )
        report = make_report(counts, programme_scope(proposal_status, kind_key), settings.rules)
        return self._for(actor, report, settings)

    async def panellists(self, actor: Actor, status: str | None = None) -> BalanceReport:
        """Return the balance of nominations with ``status`` (None: every nomination)."""
        require_viewer(actor)
        key = check_nomination_status(status)
        settings = await self._config.get(actor.guild_id)
        selection = Selection(participation_statuses=None if key is None else (key,))
        (counts,) = await self._count(actor.guild_id, [selection])
        return self._for(
            actor, make_report(counts, panellists_scope(key), settings.rules), settings
        )

    async def mag(self, actor: Actor) -> BalanceReport:
        """Return the MAG's composition from member profiles, against the MAG seat rule."""
        require_viewer(actor)
        settings = await self._config.get(actor.guild_id)
        async with self._db.read() as session:
            counts = await member_counts(session, guild_id=actor.guild_id)
        report = make_report(
            counts, MAG_SCOPE, settings.rules, dimensions=("stakeholder_group", "region", "gender")
        )
        return self._for(actor, report, settings)

    async def funnel(self, actor: Actor) -> FunnelReport:
        """Return shares at nominated, invited, confirmed, and at submitted, accepted."""
        require_viewer(actor)
        settings = await self._config.get(actor.guild_id)
        rules = settings.rules
        stages: list[tuple[str, Selection, Scope]] = [
            (
                "Nominated",
                Selection(),
                Scope("funnel", "Nominated", "nominations", "nominee"),
            ),
            (
                "Invited",
                Selection(participation_statuses=("invited", "confirmed")),
                Scope("funnel", "Invited", "invited or confirmed seats", "invited panellist"),
            ),
            (
                "Confirmed",
                Selection(participation_statuses=("confirmed",)),
                Scope("funnel", "Confirmed", "confirmed seats", "confirmed panellist"),
            ),
            (
                "Submitted",
                Selection(participation_statuses=ACTIVE_PARTICIPATION),
                Scope("funnel", "Submitted", "seats on all proposals", "one"),
            ),
            (
                "Accepted",
                Selection(
                    participation_statuses=ACTIVE_PARTICIPATION,
                    proposal_statuses=(PROGRAMME_STATUS,),
                ),
                Scope("funnel", "Accepted", "seats on accepted proposals", "one"),
            ),
        ]
        counts = await self._count(actor.guild_id, [s for _, s, _ in stages])
        built = [
            FunnelStage(label, make_report(c, scope, rules))
            for (label, _, scope), c in zip(stages, counts, strict=True)
        ]
        targets = Targets.from_rules(rules)
        drop, least = targets.funnel_drop_points, targets.min_seats
        # Drops are found on the full counts, then shown as the reader may see them.
        flags = [
            funnel_flags(built[:3], drop, least),
            funnel_flags(built[3:], drop, least),
        ]
        shown = [FunnelStage(s.label, self._for(actor, s.report, settings)) for s in built]
        # A dimension hidden at one stage is hidden at all: stages are compared side by side.
        common = set.intersection(*({d.key for d in s.report.dimensions} for s in shown))
        shown = [
            FunnelStage(
                s.label,
                replace(
                    s.report,
                    dimensions=tuple(d for d in s.report.dimensions if d.key in common),
                ),
            )
            for s in shown
        ]
        if hides_small_counts(actor):
            # Flags of a dimension left out (``redact``) would tell what it hides.
            visible = {d.key for d in shown[0].report.dimensions}
            flags = [[f for f in group if f.dimension in visible] for group in flags]
        scope = Scope("funnel", "Funnel: nominations and selection", "seats", "one")
        return FunnelReport(
            scope, tuple(shown[:3]), tuple(shown[3:]), tuple(flags[0]), tuple(flags[1]), drop
        )

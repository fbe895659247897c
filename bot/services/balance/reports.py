"""A balance report: the metrics and warnings of one scope, as each may see it; the funnel."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.i18n import _, ngettext
from bot.services.balance.judgement import (
    BalanceWarning,
    Scope,
    TargetLine,
    Targets,
    _name,
    judge,
    line_of,
    over,
    pct,
)
from bot.services.balance.metrics import DIMENSIONS, Dimension, build_dimension
from bot.services.visibility import SENSITIVE_DIMENSIONS
from storage.balance import (
    SeatCounts,
)


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
                ngettext(
                    "{dimension} is shown to the secretariat only: some group here has "
                    "fewer than {n} person, and its numbers could tell who they are.",
                    "{dimension} is shown to the secretariat only: some group here has "
                    "fewer than {n} people, and its numbers could tell who they are.",
                    min_people,
                    dimension=dimension.label,
                )
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
                    _(
                        "{dimension}: a target is not met (the secretariat sees the details)",
                        dimension=label,
                    ),
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
            later = after.seats_of(category.name)
            drop = (category.share - after.share_of(category.name)) * 100
            # The drop compared on counts: seats/first - later/last > points%.
            gap = category.seats * last.seats - later * first.seats
            if over(gap, first.seats * last.seats, drop_points):
                line = line_of(
                    "{name} falls from {before} of {first} to {after} of {last} "
                    "({drop} points; flagged above {limit})",
                    name=_name(category.name),
                    before=pct(category.share),
                    first=first.scope.seats_phrase,
                    after=pct(after.share_of(category.name)),
                    last=last.scope.seats_phrase,
                    drop=f"{drop:.0f}",
                    limit=f"{drop_points:g}",
                )
                flags.append(
                    BalanceWarning("balance.funnel_drop_points", dimension.key, category.name, line)
                )
    return flags

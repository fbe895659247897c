"""Fair meeting hours for a worldwide MAG: who meets at night, and a rotation that shares it.

The rule (docs/meetings.md shows it with a table):

- A meeting is *social* for a member when all of it falls between 07:00 and
  22:00 on their local clock (their IANA zone, daylight saving included, on
  that meeting's date); otherwise it is *unsocial* for them.
- For a series of meetings, each meeting takes one of the candidate UTC
  hours, chosen greedily in date order. For each meeting, the hour chosen is
  the one that, once counted, gives, in this order:

  1. the smallest maximum, over members, of their count of unsocial meetings;
  2. the smallest maximum, over regions, of the region's average count
     (a region of many members does not weigh more than a region of few:
     the burden is spread across regions, not only people);
  3. the fewest members in unsocial hours at this meeting;
  4. a different hour from the previous meeting (rotation when all else ties);
  5. the earliest candidate hour.

Greedy is not always optimal, but it is predictable (the same input gives
the same plan), fast (members x meetings x hours), and never lets a member's
count run ahead of the others' while another hour would spare them. Should
the rotation ever end with a higher worst count than keeping the best single
hour for the whole series, that single hour is proposed instead.

Pure functions, no Discord, no database: ``plan_series`` is all there is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import Final
from zoneinfo import ZoneInfo

from bot.errors import InvalidInput
from bot.i18n import _

DAY_STARTS: Final = time(7, 0)
DAY_ENDS: Final = time(22, 0)
DEFAULT_HOURS: Final = (0, 3, 6, 9, 12, 15, 18, 21)
MAX_MEETINGS: Final = 52
MAX_DURATION: Final = 12 * 60


@dataclass(frozen=True)
class Member:
    """A member with the time zone they gave (``key``: how they are named back)."""

    key: int
    zone: str
    region: str


@dataclass(frozen=True)
class Slot:
    """One meeting of the series: its start in UTC and who is in unsocial hours."""

    index: int
    starts_at: datetime
    hour: int
    unsocial: tuple[int, ...]


@dataclass(frozen=True)
class Candidate:
    """One candidate hour, judged on the first meeting's date: who would be outside 07-22."""

    hour: int
    unsocial: tuple[int, ...]


@dataclass(frozen=True)
class Plan:
    """A series' slots, each member's count of unsocial meetings, and what one fixed hour gives."""

    slots: tuple[Slot, ...]
    counts: dict[int, int]  # member key -> unsocial meetings
    regions: dict[str, int]  # region -> unsocial member-meetings
    candidates: tuple[Candidate, ...]
    worst: int  # the highest count in the plan
    fixed_hour: int | None  # the best single hour for the whole series
    fixed_worst: int  # the highest count if every meeting were at ``fixed_hour``


def parse_hours(text: str | None) -> tuple[int, ...]:
    """Return candidate UTC hours typed as ``5,13,21`` (default: every three hours)."""
    if text is None or not text.strip():
        return DEFAULT_HOURS
    hours: list[int] = []
    for part in text.replace(" ", ",").split(","):
        if not part:
            continue
        value = part.split(":")[0]
        if not value.isdigit() or not 0 <= int(value) <= 23:
            raise InvalidInput(
                _("Hours are UTC hours from 0 to 23, such as 5,13,21 (not {value}).", value=part)
            )
        if int(value) not in hours:
            hours.append(int(value))
    if not hours:
        raise InvalidInput(_("Give at least one candidate hour, such as 5,13,21."))
    return tuple(sorted(hours))


def is_unsocial(start: datetime, minutes: int, zone: ZoneInfo) -> bool:
    """Return whether a meeting from ``start`` (aware) for ``minutes`` leaves 07:00-22:00 local."""
    local_start = start.astimezone(zone)
    local_end = (start + timedelta(minutes=minutes)).astimezone(zone)
    if local_start.time() < DAY_STARTS:
        return True
    day_end = datetime.combine(local_start.date(), DAY_ENDS, tzinfo=zone)
    return local_end.replace(tzinfo=None) > day_end.replace(tzinfo=None)


def series_dates(first: date, count: int, every_days: int) -> tuple[date, ...]:
    return tuple(first + timedelta(days=every_days * i) for i in range(count))


def _unsocial_sets(
    members: Sequence[Member], days: Sequence[date], hours: Sequence[int], minutes: int
) -> list[list[tuple[int, ...]]]:
    """Return, per meeting and hour, the indexes of members in unsocial hours (zones shared)."""
    zones: dict[str, list[int]] = {}
    for index, member in enumerate(members):
        zones.setdefault(member.zone, []).append(index)
    # One ZoneInfo per zone: its own cache keeps only a few, and loading one reads a file.
    loaded = {zone: ZoneInfo(zone) for zone in zones}
    table: list[list[tuple[int, ...]]] = []
    for day in days:
        row: list[tuple[int, ...]] = []
        for hour in hours:
            start = datetime.combine(day, time(hour), tzinfo=UTC)
            found: list[int] = []
            for zone, indexes in zones.items():
                if is_unsocial(start, minutes, loaded[zone]):
                    found.extend(indexes)
            row.append(tuple(sorted(found)))
        table.append(row)
    return table


def plan_series(
    members: Iterable[Member],
    *,
    first: date,
    count: int,
    every_days: int = 7,
    hours: Sequence[int] = DEFAULT_HOURS,
    minutes: int = 120,
) -> Plan:
    """Return the rotation of ``hours`` over ``count`` meetings that shares unsocial hours."""
    people = tuple(members)
    if not 1 <= count <= MAX_MEETINGS:
        raise InvalidInput(_("A series has from 1 to {limit} meetings.", limit=MAX_MEETINGS))
    if not 1 <= minutes <= MAX_DURATION:
        raise InvalidInput(_("A meeting lasts from 1 minute to 12 hours."))
    if every_days < 1:
        raise InvalidInput(_("Meetings of a series are at least a day apart."))
    if not hours:
        raise InvalidInput(_("Give at least one candidate hour, such as 5,13,21."))
    days = series_dates(first, count, every_days)
    table = _unsocial_sets(people, days, hours, minutes)
    region_of = [m.region for m in people]
    sizes: dict[str, int] = {}
    for region in region_of:
        sizes[region] = sizes.get(region, 0) + 1
    fixed_hour, fixed_worst = _best_fixed(table, hours, len(people))
    picks = _greedy(table, hours, region_of, sizes)
    counts = _counts(table, picks, len(people))
    if fixed_hour is not None and max(counts, default=0) > fixed_worst:
        # Greedy is a heuristic: never propose worse than keeping one hour.
        picks = [hours.index(fixed_hour)] * len(days)
        counts = _counts(table, picks, len(people))
    by_region = dict.fromkeys(sizes, 0)
    for i, n in enumerate(counts):
        by_region[region_of[i]] += n
    slots = [
        Slot(
            index=index + 1,
            starts_at=datetime.combine(day, time(hours[pick]), tzinfo=UTC),
            hour=hours[pick],
            unsocial=tuple(people[i].key for i in table[index][pick]),
        )
        for index, (day, pick) in enumerate(zip(days, picks, strict=True))
    ]
    return Plan(
        slots=tuple(slots),
        counts={m.key: counts[i] for i, m in enumerate(people)},
        regions=by_region,
        candidates=tuple(
            Candidate(hour=h, unsocial=tuple(people[i].key for i in table[0][c]))
            for c, h in enumerate(hours)
        ),
        worst=max(counts, default=0),
        fixed_hour=fixed_hour,
        fixed_worst=fixed_worst,
    )


def _greedy(
    table: Sequence[Sequence[tuple[int, ...]]],
    hours: Sequence[int],
    region_of: Sequence[str],
    sizes: dict[str, int],
) -> list[int]:
    """Return, per meeting, the index of the hour the rule in the module doc chooses."""
    counts = [0] * len(region_of)
    by_region = dict.fromkeys(sizes, 0)
    worst = 0
    previous: int | None = None
    picks: list[int] = []
    for row in table:
        best_key: tuple[int, Fraction, int, int, int] | None = None
        best = 0
        for choice, unsocial in enumerate(row):
            top = max([worst, *(counts[i] + 1 for i in unsocial)])
            added: dict[str, int] = {}
            for i in unsocial:
                added[region_of[i]] = added.get(region_of[i], 0) + 1
            spread = max(
                (Fraction(by_region[r] + added.get(r, 0), sizes[r]) for r in sizes),
                default=Fraction(0),
            )
            key = (top, spread, len(unsocial), 1 if hours[choice] == previous else 0, choice)
            if best_key is None or key < best_key:
                best_key, best = key, choice
        for i in row[best]:
            counts[i] += 1
            by_region[region_of[i]] += 1
            worst = max(worst, counts[i])
        previous = hours[best]
        picks.append(best)
    return picks


def _counts(
    table: Sequence[Sequence[tuple[int, ...]]], picks: Sequence[int], people: int
) -> list[int]:
    counts = [0] * people
    for row, pick in zip(table, picks, strict=True):
        for i in row[pick]:
            counts[i] += 1
    return counts


def _best_fixed(
    table: Sequence[Sequence[tuple[int, ...]]], hours: Sequence[int], people: int
) -> tuple[int | None, int]:
    """Return the single hour whose worst per-member count is least, and that count."""
    best: tuple[int, int] | None = None  # (worst, choice)
    for choice in range(len(hours)):
        counts = [0] * people
        for row in table:
            for i in row[choice]:
                counts[i] += 1
        key = (max(counts, default=0), choice)
        if best is None or key < best:
            best = key
    if best is None:
        return None, 0
    return hours[best[1]], best[0]

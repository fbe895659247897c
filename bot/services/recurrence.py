"""Wall-clock schedules: recurring deadlines and digest times, in a guild's zone.

A recurring deadline at 09:00 stays at 09:00 on the wall clock of its zone
across daylight-saving changes; its instant in UTC moves instead. Each
occurrence is computed from the first one (never from the previous one), so a
monthly deadline on the 31st is on the 31st again after a short month.

Two days a year the wall clock misbehaves; both follow RFC 5545 (what
calendar apps do), so our reminders and the exported calendar agree:

- **Fall-back** (a wall time happens twice, e.g. 02:30 on the last Sunday of
  October in Zurich): the first of the two instants is used, so a schedule
  fires once that day, not twice.
- **Spring-forward** (a wall time does not exist, e.g. 02:30 on the last Sunday
  of March in Zurich): the time is shifted forward by the length of the gap
  (02:30 becomes 03:30), so the occurrence still happens that day.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo

from bot.i18n import N_

Repeat = Literal["none", "daily", "weekly", "biweekly", "monthly"]

REPEATS: Final[tuple[Repeat, ...]] = ("none", "daily", "weekly", "biweekly", "monthly")
REPEAT_LABELS: Final[dict[str, str]] = {
    "none": N_("does not repeat"),
    "daily": N_("every day"),
    "weekly": N_("every week"),
    "biweekly": N_("every two weeks"),
    "monthly": N_("every month"),
}
# Rough length of one period, to jump near the answer before stepping.
_PERIOD_DAYS: Final = {"daily": 1, "weekly": 7, "biweekly": 14, "monthly": 28}


def to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """Return the instant at which the clocks of ``zone`` show ``wall`` (naive).

    Ambiguous wall times (fall-back) give the first instant; wall times that do
    not exist (spring-forward) are shifted forward by the gap. Both rules are
    those of RFC 5545 and come from reading the wall time with ``fold=0``.
    """
    if wall.tzinfo is not None:
        raise ValueError("pass a naive wall-clock time")
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def is_gap(wall: datetime, zone: ZoneInfo) -> bool:
    """Return whether the wall time does not exist in ``zone`` (spring-forward)."""
    back = to_utc(wall, zone).astimezone(zone).replace(tzinfo=None)
    return back != wall


def add_months(day: date, months: int, anchor_day: int) -> date:
    """Return ``day`` moved by ``months``, on ``anchor_day`` or the month's last day."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(anchor_day, last))


def occurrence_wall(first: datetime, repeat: Repeat, n: int) -> datetime:
    """Return the wall-clock time of occurrence ``n`` (0 is ``first`` itself)."""
    if n < 0:
        raise ValueError("occurrences are numbered from 0")
    if n == 0 or repeat == "none":
        if n and repeat == "none":
            raise ValueError("a deadline that does not repeat has one occurrence")
        return first
    if repeat == "daily":
        return first + timedelta(days=n)
    if repeat == "weekly":
        return first + timedelta(days=7 * n)
    if repeat == "biweekly":
        return first + timedelta(days=14 * n)
    if repeat == "monthly":
        day = add_months(first.date(), n, first.day)
        return datetime.combine(day, first.time())
    raise ValueError(f"unknown repeat {repeat!r}")


def occurrence(first: datetime, zone: ZoneInfo, repeat: Repeat, n: int) -> datetime:
    """Return occurrence ``n`` of a schedule starting at wall time ``first``, in UTC."""
    return to_utc(occurrence_wall(first, repeat, n), zone)


def first_occurrence_after(
    first: datetime, zone: ZoneInfo, repeat: Repeat, after: datetime
) -> int | None:
    """Return the smallest ``n`` whose occurrence is strictly after ``after``.

    None when the schedule has ended (a deadline that does not repeat and has
    passed).
    """
    if occurrence(first, zone, repeat, 0) > after:
        return 0
    if repeat == "none":
        return None
    local_after = after.astimezone(zone).replace(tzinfo=None)
    estimate = max(0, (local_after - first).days // _PERIOD_DAYS[repeat] - 2)
    if repeat == "monthly":
        estimate = max(
            0,
            (local_after.year - first.year) * 12 + local_after.month - first.month - 1,
        )
    n = estimate
    # Step back while the estimate overshoots (cannot for monthly/weekly, but
    # keeps the function honest), then forward to the answer.
    while n > 0 and occurrence(first, zone, repeat, n - 1) > after:
        n -= 1
    while occurrence(first, zone, repeat, n) <= after:
        n += 1
    return n


def parse_wall(text: str) -> datetime:
    """Return ``YYYY-MM-DD HH:MM`` as a naive wall-clock datetime; ValueError if malformed."""
    cleaned = " ".join(text.strip().replace("T", " ").split())
    return datetime.strptime(cleaned, "%Y-%m-%d %H:%M")


def format_wall(wall: datetime) -> str:
    """Return a wall-clock time as ``YYYY-MM-DD HH:MM``."""
    return wall.strftime("%Y-%m-%d %H:%M")


def next_daily(at: time, zone: ZoneInfo, after: datetime) -> datetime:
    """Return the first instant strictly after ``after`` when ``zone`` shows ``at``."""
    day = after.astimezone(zone).date() - timedelta(days=1)
    while True:
        candidate = to_utc(datetime.combine(day, at), zone)
        if candidate > after:
            return candidate
        day += timedelta(days=1)


def next_weekly(at: time, weekday: int, zone: ZoneInfo, after: datetime) -> datetime:
    """Return the first instant after ``after`` that is ``weekday`` (0 = Monday) at ``at``."""
    day = after.astimezone(zone).date() - timedelta(days=1)
    while True:
        if day.weekday() == weekday:
            candidate = to_utc(datetime.combine(day, at), zone)
            if candidate > after:
                return candidate
        day += timedelta(days=1)


def next_digest_time(
    frequency: str, time_of_day: str, weekday: int, zone: ZoneInfo, after: datetime
) -> datetime | None:
    """Return when the next digest is due after ``after`` (None when digests are off)."""
    if frequency == "off":
        return None
    hours, minutes = (int(part) for part in time_of_day.split(":"))
    at = time(hours, minutes)
    if frequency == "daily":
        return next_daily(at, zone, after)
    if frequency == "weekly":
        return next_weekly(at, weekday, zone, after)
    raise ValueError(f"unknown digest frequency {frequency!r}")


def digest_period(frequency: str) -> timedelta:
    """Return the nominal length of a digest period (the first digest looks this far back)."""
    return timedelta(days=1) if frequency == "daily" else timedelta(days=7)

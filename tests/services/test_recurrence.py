"""Wall-clock schedules across daylight-saving changes (Zurich and New York)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.recurrence import (
    add_months,
    first_occurrence_after,
    is_gap,
    next_daily,
    next_digest_time,
    next_weekly,
    occurrence,
    to_utc,
)

ZURICH = ZoneInfo("Europe/Zurich")
NEW_YORK = ZoneInfo("America/New_York")
# 2027: Europe changes on 28 March and 31 October; the US on 14 March and 7 November.
EU_SPRING, EU_FALL = date(2027, 3, 28), date(2027, 10, 31)
US_SPRING, US_FALL = date(2027, 3, 14), date(2027, 11, 7)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


@pytest.mark.parametrize(
    ("zone", "day", "before", "after"),
    [
        (ZURICH, EU_SPRING, timedelta(hours=1), timedelta(hours=2)),
        (ZURICH, EU_FALL, timedelta(hours=2), timedelta(hours=1)),
        (NEW_YORK, US_SPRING, timedelta(hours=-5), timedelta(hours=-4)),
        (NEW_YORK, US_FALL, timedelta(hours=-4), timedelta(hours=-5)),
    ],
)
def test_weekly_0900_stays_0900_across_the_change(
    zone: ZoneInfo, day: date, before: timedelta, after: timedelta
) -> None:
    first = datetime.combine(day - timedelta(days=14), time(9, 0))
    moments = [occurrence(first, zone, "weekly", n) for n in range(5)]
    assert [local(m, zone) for m in moments] == [first + timedelta(days=7 * n) for n in range(5)]
    assert moments[0].astimezone(zone).utcoffset() == before
    assert moments[4].astimezone(zone).utcoffset() == after
    # The UTC instant moves by the change, so the gap is not a whole week once.
    gaps = {moments[n + 1] - moments[n] for n in range(4)}
    assert gaps == {timedelta(days=7), timedelta(days=7) + before - after}


@pytest.mark.parametrize(("zone", "day"), [(ZURICH, EU_FALL), (NEW_YORK, US_FALL)])
def test_an_ambiguous_time_fires_once_on_fall_back_day_at_the_first_instant(
    zone: ZoneInfo, day: date
) -> None:
    wall = datetime.combine(day, time(1, 30) if zone is NEW_YORK else time(2, 30))
    moment = to_utc(wall, zone)
    assert local(moment, zone) == wall
    assert moment.astimezone(zone).fold == 0
    # The same wall time one hour later (fold=1) is never produced.
    later = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    assert later - moment == timedelta(hours=1)
    first = wall - timedelta(days=7)
    weekly = [occurrence(first, zone, "weekly", n) for n in range(3)]
    assert weekly[1] == moment
    assert sum(1 for m in weekly if m.astimezone(zone).date() == day) == 1


@pytest.mark.parametrize(("zone", "day"), [(ZURICH, EU_SPRING), (NEW_YORK, US_SPRING)])
def test_a_missing_time_is_shifted_forward_by_the_gap_on_spring_forward_day(
    zone: ZoneInfo, day: date
) -> None:
    wall = datetime.combine(day, time(2, 30))
    assert is_gap(wall, zone)
    moment = to_utc(wall, zone)
    assert local(moment, zone) == datetime.combine(day, time(3, 30))
    # The next week is back at 02:30 on the wall clock.
    first = wall - timedelta(days=7)
    assert local(occurrence(first, zone, "weekly", 2), zone) == wall + timedelta(days=7)


def test_every_two_weeks_and_monthly() -> None:
    first = datetime(2027, 1, 31, 23, 59)
    monthly = [local(occurrence(first, ZoneInfo("UTC"), "monthly", n), UTC) for n in range(4)]
    assert [m.date() for m in monthly] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]
    biweekly = occurrence(datetime(2027, 10, 25, 9), ZURICH, "biweekly", 1)
    assert local(biweekly, ZURICH) == datetime(2027, 11, 8, 9)
    assert add_months(date(2028, 1, 31), 1, 31) == date(2028, 2, 29)


def test_a_one_off_schedule_ends() -> None:
    first = datetime(2027, 3, 1, 12)
    assert first_occurrence_after(first, ZURICH, "none", utc(2027, 2, 1)) == 0
    assert first_occurrence_after(first, ZURICH, "none", utc(2027, 4, 1)) is None


@given(
    first=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)),
    repeat=st.sampled_from(["weekly", "biweekly", "monthly"]),
    days=st.integers(min_value=-30, max_value=3000),
    zone=st.sampled_from([ZURICH, NEW_YORK, ZoneInfo("Asia/Tokyo")]),
)
def test_first_occurrence_after_is_the_first_one_after(
    first: datetime, repeat: str, days: int, zone: ZoneInfo
) -> None:
    first = first.replace(second=0, microsecond=0)
    after = to_utc(first, zone) + timedelta(days=days, minutes=7)
    n = first_occurrence_after(first, zone, repeat, after)  # type: ignore[arg-type]
    assert n is not None
    assert occurrence(first, zone, repeat, n) > after  # type: ignore[arg-type]
    assert n == 0 or occurrence(first, zone, repeat, n - 1) <= after  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("zone", "day", "at"),
    [
        (ZURICH, EU_FALL, time(2, 30)),
        (ZURICH, EU_SPRING, time(2, 30)),
        (NEW_YORK, US_FALL, time(1, 30)),
        (NEW_YORK, US_SPRING, time(2, 30)),
        (ZURICH, EU_FALL, time(9, 0)),
        (NEW_YORK, US_SPRING, time(9, 0)),
    ],
)
def test_a_daily_digest_fires_once_a_day_across_the_change(
    zone: ZoneInfo, day: date, at: time
) -> None:
    start = to_utc(datetime.combine(day - timedelta(days=3), time(12)), zone)
    fired = []
    moment = start
    for _ in range(7):
        moment = next_daily(at, zone, moment)
        fired.append(moment)
    days = [m.astimezone(zone).date() for m in fired]
    assert days == [day - timedelta(days=2) + timedelta(days=n) for n in range(7)]
    for m in fired:
        wall = datetime.combine(m.astimezone(zone).date(), at)
        expected = datetime.combine(wall.date(), time(3, 30)) if is_gap(wall, zone) else wall
        assert local(m, zone) == expected


def test_weekly_digests_land_on_their_weekday() -> None:
    after = utc(2027, 10, 27, 12)  # a Wednesday
    monday = next_weekly(time(9), 0, ZURICH, after)
    assert local(monday, ZURICH) == datetime(2027, 11, 1, 9)
    assert monday == utc(2027, 11, 1, 8)  # winter time by then
    friday = next_digest_time("weekly", "08:30", 4, NEW_YORK, utc(2027, 10, 29, 12, 30))
    assert friday is not None and local(friday, NEW_YORK) == datetime(2027, 10, 29, 8, 30) + (
        timedelta(days=7)
    )
    assert next_digest_time("off", "09:00", 0, ZURICH, after) is None


@given(
    after=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1)),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 59]),
    zone=st.sampled_from([ZURICH, NEW_YORK]),
)
def test_next_daily_is_strictly_later_and_within_a_day(
    after: datetime, hour: int, minute: int, zone: ZoneInfo
) -> None:
    moment = after.replace(tzinfo=UTC)
    nxt = next_daily(time(hour, minute), zone, moment)
    assert moment < nxt <= moment + timedelta(days=1, hours=1)
    assert next_daily(time(hour, minute), zone, nxt) > nxt


@pytest.mark.parametrize("day", [EU_SPRING, EU_FALL])
def test_daily_0900_stays_0900_and_fires_once_a_day_across_the_change(day: date) -> None:
    first = datetime.combine(day - timedelta(days=3), time(9, 0))
    moments = [occurrence(first, ZURICH, "daily", n) for n in range(7)]
    assert [local(m, ZURICH) for m in moments] == [first + timedelta(days=n) for n in range(7)]
    assert len({m.astimezone(ZURICH).date() for m in moments}) == 7
    # An ambiguous 02:30 on fall-back day fires once, at its first instant.
    night = [occurrence(datetime.combine(EU_FALL, time(2, 30)), ZURICH, "daily", n) for n in (0, 1)]
    assert night[1] - night[0] == timedelta(hours=25)

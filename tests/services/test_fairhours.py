"""Fair meeting hours, a pure function: the 07:00-22:00 rule, the rotation, its tie-breaks."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import product
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import InvalidInput
from bot.services.fairhours import (
    DEFAULT_HOURS,
    Member,
    is_unsocial,
    parse_hours,
    plan_series,
)

WEOG = "Western European and Others Group (WEOG)"
GRULAC = "Latin American and Caribbean Group (GRULAC)"
AFRICA = "African Group"
ASIA = "Asia-Pacific Group"

#: The five-zone MAG of docs/meetings.md (and of the e2e test).
FIVE = [
    Member(1, "America/Los_Angeles", WEOG),
    Member(2, "America/Sao_Paulo", GRULAC),
    Member(3, "Europe/Zurich", WEOG),
    Member(4, "Africa/Nairobi", AFRICA),
    Member(5, "Asia/Tokyo", ASIA),
]
ZONES = [
    "America/Los_Angeles", "America/Sao_Paulo", "Europe/Zurich", "Africa/Nairobi",
    "Asia/Kolkata", "Asia/Tokyo", "Pacific/Auckland", "America/New_York", "Australia/Sydney",
]  # fmt: skip


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


# -- the rule for one member and one meeting --------------------------------------


@pytest.mark.parametrize(
    ("start", "minutes", "zone", "unsocial"),
    [
        (utc(2027, 1, 12, 6, 0), 60, "Europe/Zurich", False),  # 07:00-08:00 local: the edge
        (utc(2027, 1, 12, 5, 59), 60, "Europe/Zurich", True),  # 06:59 local
        (utc(2027, 1, 12, 19, 0), 120, "Europe/Zurich", False),  # 20:00-22:00 exactly
        (utc(2027, 1, 12, 19, 1), 120, "Europe/Zurich", True),  # ends 22:01
        (utc(2027, 1, 12, 22, 0), 60, "Europe/Zurich", True),  # 23:00, past midnight
        (utc(2027, 1, 12, 13, 0), 120, "Asia/Tokyo", True),  # 22:00-24:00
        (utc(2027, 1, 12, 13, 0), 120, "America/Los_Angeles", True),  # 05:00
        (utc(2027, 1, 12, 21, 0), 120, "America/Los_Angeles", False),  # 13:00
        (utc(2027, 1, 12, 2, 0), 60, "Asia/Kolkata", False),  # 07:30 (a half-hour zone)
        (utc(2027, 1, 12, 1, 0), 60, "Asia/Kolkata", True),  # 06:30
        (utc(2027, 1, 12, 12, 0), 120, "UTC", False),
    ],
)
def test_the_07_to_22_rule(start: datetime, minutes: int, zone: str, unsocial: bool) -> None:
    assert is_unsocial(start, minutes, ZoneInfo(zone)) is unsocial


def test_daylight_saving_moves_the_local_hour() -> None:
    # 05:00 UTC is 06:00 in Zurich in January (night) and 07:00 in July (day).
    zurich = ZoneInfo("Europe/Zurich")
    assert is_unsocial(utc(2027, 1, 12, 5), 60, zurich)
    assert not is_unsocial(utc(2027, 7, 13, 5), 60, zurich)
    # Sydney is the other way round: 20:00 UTC is 07:00 in January, 06:00 in July.
    sydney = ZoneInfo("Australia/Sydney")
    assert not is_unsocial(utc(2027, 1, 12, 20), 60, sydney)
    assert is_unsocial(utc(2027, 7, 13, 20), 60, sydney)


# -- candidate hours as typed ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        (None, DEFAULT_HOURS),
        ("", DEFAULT_HOURS),
        ("5,13,21", (5, 13, 21)),
        ("21, 5 13", (5, 13, 21)),
        ("13:00,5", (5, 13)),
        ("0,0,23", (0, 23)),
    ],
)
def test_parse_hours(text: str | None, hours: tuple[int, ...]) -> None:
    assert parse_hours(text) == hours


@pytest.mark.parametrize("text", ["24", "-1", "five", "5,x", ",", "5.5"])
def test_parse_hours_refuses(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_hours(text)


@pytest.mark.parametrize(
    "options",
    [{"count": 0}, {"count": 53}, {"minutes": 0}, {"minutes": 721}, {"every_days": 0},
     {"hours": ()}],
)  # fmt: skip
def test_plan_refuses_bad_series(options: dict[str, object]) -> None:
    values: dict[str, object] = {"first": date(2027, 1, 12), "count": 3} | options
    with pytest.raises(InvalidInput):
        plan_series(FIVE, **values)  # type: ignore[arg-type]


# -- the rotation -----------------------------------------------------------------------


def test_the_documented_rotation_of_five_time_zones() -> None:
    """The table in docs/meetings.md: three candidate hours, six meetings a fortnight apart."""
    plan = plan_series(FIVE, first=date(2027, 1, 12), count=6, every_days=14, hours=(5, 13, 21))
    assert {c.hour: c.unsocial for c in plan.candidates} == {
        5: (1, 2, 3),  # Los Angeles 21:00-23:00, São Paulo 02:00, Zurich 06:00
        13: (1, 5),  # Los Angeles 05:00, Tokyo 22:00-24:00
        21: (3, 4, 5),  # Zurich 22:00, Nairobi 00:00, Tokyo 06:00
    }
    assert [s.hour for s in plan.slots] == [13, 5, 21, 13, 5, 21]
    assert [s.starts_at.date().isoformat() for s in plan.slots][:2] == ["2027-01-12", "2027-01-26"]
    assert plan.counts == {1: 4, 2: 2, 3: 4, 4: 2, 5: 4}
    # Each member meets at night four times at most; a fixed hour would mean six for some.
    assert plan.worst == 4 and plan.fixed_worst == 6
    assert plan.regions == {WEOG: 8, GRULAC: 2, AFRICA: 2, ASIA: 4}


def test_four_is_the_best_possible_for_the_documented_case() -> None:
    """Brute force over every assignment of the three hours to six meetings."""
    plan = plan_series(FIVE, first=date(2027, 1, 12), count=6, every_days=14, hours=(5, 13, 21))
    unsocial = {c.hour: set(c.unsocial) for c in plan.candidates}
    best = min(
        max(sum(m in unsocial[h] for h in choice) for m in range(1, 6))
        for choice in product((5, 13, 21), repeat=6)
    )
    assert plan.worst == best == 4


def test_a_daytime_hour_for_everyone_is_kept() -> None:
    members = [Member(1, "Europe/Zurich", WEOG), Member(2, "Africa/Lagos", AFRICA)]
    plan = plan_series(members, first=date(2027, 1, 12), count=4, hours=(3, 12))
    assert [s.hour for s in plan.slots] == [12, 12, 12, 12]
    assert plan.counts == {1: 0, 2: 0} and plan.worst == 0


def test_when_all_else_ties_the_hour_rotates() -> None:
    members = [Member(1, "UTC", WEOG)]
    plan = plan_series(members, first=date(2027, 1, 12), count=4, hours=(10, 14))
    assert [s.hour for s in plan.slots] == [10, 14, 10, 14]


def test_region_share_prefers_the_larger_region() -> None:
    members = [
        Member(1, "Asia/Tokyo", ASIA),  # out at 13 UTC (22:00-23:00), in at 22 UTC (07:00)
        Member(2, "Europe/London", WEOG),  # in at 13 UTC, out at 22 UTC
        Member(3, "America/New_York", WEOG),  # in at both (08:00, 17:00)
        Member(4, "America/Toronto", WEOG),
    ]
    plan = plan_series(members, first=date(2027, 1, 12), count=2, hours=(13, 22), minutes=60)
    assert {c.hour: c.unsocial for c in plan.candidates} == {13: (1,), 22: (2,)}
    # 13 and 22 tie on the worst count (1) and the number out (1); at 22 the burden is a
    # third of WEOG, at 13 all of Asia-Pacific: 22 first (not the earlier hour), then 13.
    assert [s.hour for s in plan.slots] == [22, 13]
    assert plan.counts == {1: 1, 2: 1, 3: 0, 4: 0}


def test_nobody_to_count_gives_an_empty_plan() -> None:
    plan = plan_series([], first=date(2027, 1, 12), count=3, hours=(5, 13))
    assert plan.counts == {} and plan.worst == 0 and len(plan.slots) == 3


member_lists = st.lists(
    st.builds(Member, st.integers(1, 10**6), st.sampled_from(ZONES), st.sampled_from(
        [WEOG, GRULAC, AFRICA, ASIA])),
    min_size=1, max_size=12, unique_by=lambda m: m.key,
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    members=member_lists,
    hours=st.lists(st.integers(0, 23), min_size=1, max_size=5, unique=True).map(sorted),
    count=st.integers(1, 10),
    minutes=st.sampled_from([60, 90, 120, 180]),
)
def test_plan_invariants(members: list[Member], hours: list[int], count: int, minutes: int) -> None:
    plan = plan_series(
        members, first=date(2027, 1, 5), count=count, every_days=7, hours=hours, minutes=minutes
    )
    zones = {m.key: ZoneInfo(m.zone) for m in members}
    # Every slot's list is exactly the rule applied to each member.
    for slot in plan.slots:
        assert slot.hour in hours
        assert set(slot.unsocial) == {
            k for k, z in zones.items() if is_unsocial(slot.starts_at, minutes, z)
        }
    # The counts are those of the slots; never worse than keeping one hour.
    for key in zones:
        assert plan.counts[key] == sum(key in s.unsocial for s in plan.slots)
    assert plan.worst == max(plan.counts.values())
    assert plan.worst <= plan.fixed_worst
    assert sum(plan.regions.values()) == sum(plan.counts.values())
    # Deterministic: the same input gives the same plan.
    again = plan_series(
        members, first=date(2027, 1, 5), count=count, every_days=7, hours=hours, minutes=minutes
    )
    assert again == plan

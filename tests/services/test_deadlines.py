"""The deadline service: validation, planning in the same transaction, edit and remove."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import InvalidInput, NotFound, PermissionDenied
from bot.services.auth import Actor
from bot.services.config import ConfigService
from bot.services.deadlines import DeadlineService, parse_due
from bot.services.reminders import ReminderService
from bot.services.sending import OutboxService
from storage.audit import recent_events
from storage.database import Database
from storage.deadlines import latest_due, list_deadlines, reminders_of
from tests.conftest import FakeClock

GUILD = 111111111111111111
REMINDERS = 222222222222222222
ADMIN = Actor(guild_id=GUILD, user_id=1, is_admin=True)
MAG = Actor(guild_id=GUILD, user_id=2, is_mag=True)
DAY = 1440


@pytest.fixture
async def config(db: Database, clock: FakeClock) -> ConfigService:
    service = ConfigService(db, clock)
    await service.set_channel(ADMIN, "reminders", REMINDERS)
    return service


@pytest.fixture
def deadlines(db: Database, clock: FakeClock, config: ConfigService) -> DeadlineService:
    return DeadlineService(db, clock, config)


async def stored(db: Database) -> tuple[list, list]:
    async with db.read() as session:
        rows = await list_deadlines(session, guild_id=GUILD)
        reminders = await reminders_of(
            session, guild_id=GUILD, deadline_ids=[d.id for d in rows if d.id]
        )
    return rows, reminders


async def test_add_plans_the_reminders_ahead_in_the_same_transaction(
    deadlines: DeadlineService, db: Database
) -> None:
    # The clock is 2027-03-01 12:00 UTC; IGF deadlines are 23:59 UTC.
    view = await deadlines.add(
        ADMIN,
        title="  Call for workshop proposals ",
        due="2027-03-10 23:59",
        kind="proposals",
        link="https://intgovforum.org/call",
    )
    assert (view.number, view.title, view.timezone) == (1, "Call for workshop proposals", "UTC")
    assert view.next_due_at == datetime(2027, 3, 10, 23, 59, tzinfo=UTC)
    # 14d is already past: only 7d, 1d and 1h are planned.
    assert [(r.offset_minutes, r.status) for r in view.reminders] == [
        (7 * DAY, "pending"),
        (DAY, "pending"),
        (60, "pending"),
    ]
    assert view.reminders[0].due_at == datetime(2027, 3, 3, 23, 59, tzinfo=UTC)
    rows, reminders = await stored(db)
    assert len(rows) == 1 and len(reminders) == 3
    async with db.read() as session:
        (event,) = await recent_events(session, guild_id=GUILD, target="deadline:1")
    assert (event.action, event.target, event.after["kind"]) == (
        "deadline.add",
        "deadline:1",
        "proposals",
    )
    second = await deadlines.add(ADMIN, title="Second", due="2027-04-01 10:00")
    assert second.number == 2


async def test_the_due_time_is_read_in_the_given_zone(deadlines: DeadlineService) -> None:
    view = await deadlines.add(
        ADMIN, title="MAG call", due="2027-06-30 17:00", timezone="europe/zurich", offsets="1h"
    )
    assert view.timezone == "Europe/Zurich"
    assert view.next_due_at == datetime(2027, 6, 30, 15, 0, tzinfo=UTC)
    assert [r.due_at for r in view.reminders] == [datetime(2027, 6, 30, 14, 0, tzinfo=UTC)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"due": "2027-02-28 23:59"}, "in the past"),
        ({"due": "2027-03-01 12:00"}, "in the past"),
        ({"due": "10 March"}, "not a date and time"),
        ({"due": "2027-02-30 10:00"}, "not a date and time"),
        ({"timezone": "Europe/Geneva"}, "Europe/Zurich"),
        ({"offsets": "7x"}, "not an offset"),
        ({"offsets": "200d"}, "at most 120 days"),
        ({"kind": "party"}, "kind must be one of"),
        ({"repeat": "hourly"}, "Repeat must be"),
        ({"link": "javascript:alert(1)"}, "https://"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "at most 200"),
        # Near datetime's limits: converting to UTC or repeating would overflow.
        ({"due": "9999-12-31 23:59", "timezone": "America/Los_Angeles"}, "between now and"),
        ({"due": "9999-12-01 10:00", "repeat": "monthly"}, "between now and the end of 2036"),
        ({"due": "0001-01-01 00:30", "timezone": "Asia/Tokyo"}, "in the past"),
        ({"due": "2037-03-10 23:59"}, "too far ahead"),
    ],
)
async def test_bad_input_is_explained_and_nothing_is_stored(
    deadlines: DeadlineService, db: Database, kwargs: dict, message: str
) -> None:
    args = {"title": "Call", "due": "2027-03-10 23:59", **kwargs}
    with pytest.raises(InvalidInput, match=message):
        await deadlines.add(ADMIN, **args)
    assert await stored(db) == ([], [])


async def test_without_a_reminders_channel_a_deadline_needs_its_own(
    db: Database, clock: FakeClock
) -> None:
    service = DeadlineService(db, clock, ConfigService(db, clock))
    with pytest.raises(InvalidInput, match="reminders channel"):
        await service.add(ADMIN, title="Call", due="2027-03-10 23:59")
    view = await service.add(ADMIN, title="Call", due="2027-03-10 23:59", channel_id=5)
    assert view.channel_id == 5


async def test_only_the_secretariat_changes_deadlines_but_everyone_reads_them(
    deadlines: DeadlineService,
) -> None:
    with pytest.raises(PermissionDenied):
        await deadlines.add(MAG, title="Call", due="2027-03-10 23:59")
    await deadlines.add(ADMIN, title="Call", due="2027-03-10 23:59")
    with pytest.raises(PermissionDenied):
        await deadlines.edit(MAG, 1, title="Mine now")
    with pytest.raises(PermissionDenied):
        await deadlines.remove(MAG, 1)
    assert [v.title for v in await deadlines.list(MAG)] == ["Call"]
    secretariat = Actor(guild_id=GUILD, user_id=3, is_secretariat=True)
    assert (await deadlines.edit(secretariat, 1, title="Renamed")).title == "Renamed"


async def test_edit_replans_pending_reminders_and_sent_ones_stay_sent(
    deadlines: DeadlineService, db: Database, clock: FakeClock
) -> None:
    await deadlines.add(ADMIN, title="Reviews", due="2027-03-10 23:59", offsets="7d,1d,1h")
    async with db.write() as session:
        (seven, *_rest) = await reminders_of(session, guild_id=GUILD, deadline_ids=[1])
        seven.status = "sent"
    clock.now = datetime(2027, 3, 5, 12, tzinfo=UTC)
    # Extended by a week: 1d and 1h move; the 7d reminder was sent and stays sent.
    view = await deadlines.edit(ADMIN, 1, due="2027-03-17 23:59")
    assert [(r.offset_minutes, r.status, r.due_at.day) for r in view.reminders] == [
        (7 * DAY, "sent", 3),
        (DAY, "pending", 16),
        (60, "pending", 17),
    ]
    # New offsets: 1h is no longer wanted (cancelled), 2d is new.
    view = await deadlines.edit(ADMIN, 1, offsets="2d, 1d")
    assert sorted((r.offset_minutes, r.status) for r in view.reminders) == [
        (60, "cancelled"),
        (DAY, "pending"),
        (2 * DAY, "pending"),
        (7 * DAY, "sent"),
    ]
    # Back again: the cancelled one is planned again (it was never sent).
    view = await deadlines.edit(ADMIN, 1, offsets="1h")
    assert sorted((r.offset_minutes, r.status) for r in view.reminders) == [
        (60, "pending"),
        (DAY, "cancelled"),
        (2 * DAY, "cancelled"),
        (7 * DAY, "sent"),
    ]
    async with db.read() as session:
        events = await recent_events(session, guild_id=GUILD, target="deadline:1")
    assert [e.action for e in events] == ["deadline.edit"] * 3 + ["deadline.add"]
    assert events[2].before == {"due": "2027-03-10 23:59"}
    assert events[2].after == {"due": "2027-03-17 23:59"}


async def test_edit_title_only_leaves_the_reminders_alone(deadlines: DeadlineService) -> None:
    before = await deadlines.add(ADMIN, title="Call", due="2027-03-10 23:59")
    after = await deadlines.edit(ADMIN, 1, title="Call for inputs", link="https://x.org/a")
    assert after.reminders == before.reminders
    assert (after.title, after.link) == ("Call for inputs", "https://x.org/a")
    assert (await deadlines.edit(ADMIN, 1, link="-")).link is None
    with pytest.raises(InvalidInput, match="Say what to change"):
        await deadlines.edit(ADMIN, 1)
    with pytest.raises(InvalidInput, match="in the past"):
        await deadlines.edit(ADMIN, 1, due="2027-02-01 10:00")
    with pytest.raises(InvalidInput, match="too far ahead"):
        await deadlines.edit(ADMIN, 1, due="9999-12-31 23:59", timezone="America/Los_Angeles")


async def test_remove_cancels_pending_reminders(
    deadlines: DeadlineService, db: Database, clock: FakeClock
) -> None:
    await deadlines.add(ADMIN, title="Call", due="2027-03-10 23:59")
    view = await deadlines.remove(ADMIN, 1)
    assert view.removed
    assert {r.status for r in view.reminders} == {"cancelled"}
    assert await deadlines.list(ADMIN, include_past=True) == []
    with pytest.raises(NotFound, match="#1"):
        await deadlines.remove(ADMIN, 1)
    with pytest.raises(NotFound):
        await deadlines.edit(ADMIN, 1, title="Back")


async def test_list_hides_past_deadlines_unless_asked(
    deadlines: DeadlineService, clock: FakeClock
) -> None:
    await deadlines.add(ADMIN, title="Soon", due="2027-03-02 10:00")
    await deadlines.add(ADMIN, title="Later", due="2027-05-02 10:00")
    await deadlines.add(ADMIN, title="Weekly call", due="2027-03-03 15:00", repeat="weekly")
    clock.now = datetime(2027, 3, 20, tzinfo=UTC)
    assert [v.title for v in await deadlines.list(ADMIN)] == ["Weekly call", "Later"]
    titles = [v.title for v in await deadlines.list(ADMIN, include_past=True)]
    assert titles == ["Soon", "Weekly call", "Later"]


async def test_recurring_deadlines_plan_ahead_and_keep_the_wall_clock(
    deadlines: DeadlineService,
) -> None:
    # A weekly working-group call at 09:00 in Zurich, reminded 1 day and 1 hour before.
    view = await deadlines.add(
        ADMIN,
        title="WG call",
        due="2027-03-22 09:00",
        timezone="Europe/Zurich",
        repeat="every two weeks",
        offsets="1d,1h",
    )
    assert view.repeat == "biweekly" and view.repeat_label == "every two weeks"
    assert [r.due_at for r in view.reminders] == [
        datetime(2027, 3, 21, 8, tzinfo=UTC),
        datetime(2027, 3, 22, 7, tzinfo=UTC),
    ]
    assert [
        m.hour
        for m in view.schedule.between(view.next_due_at, view.next_due_at + timedelta(days=30))
    ] == [7, 7]


async def test_editing_a_recurring_schedule_keeps_what_was_sent_for_the_next_occurrence(
    deadlines: DeadlineService, db: Database, clock: FakeClock
) -> None:
    await deadlines.add(ADMIN, title="WG", due="2027-03-08 09:00", repeat="weekly", offsets="1d,1h")
    clock.now = datetime(2027, 3, 21, 10, tzinfo=UTC)  # the 1d reminder of the 22nd is due
    # The ticker plans the occurrences as they come near.
    await _reminders(db, clock, deadlines._config).roll(datetime(2027, 3, 20, tzinfo=UTC))
    async with db.write() as session:
        rows = await reminders_of(session, guild_id=GUILD, deadline_ids=[1])
        day_before = next(r for r in rows if r.offset_minutes == DAY and r.deadline_at.day == 22)
        day_before.status = "sent"
        key = day_before.occurrence
    view = await deadlines.edit(ADMIN, 1, due="2027-03-22 10:00")
    upcoming = [r for r in view.reminders if r.occurrence == key]
    assert sorted((r.offset_minutes, r.status, r.due_at.hour) for r in upcoming) == [
        (60, "pending", 9),
        (DAY, "sent", 9),
    ]


async def test_latest_due_answers_the_proposals_feature(
    deadlines: DeadlineService, db: Database
) -> None:
    await deadlines.add(ADMIN, title="Call", due="2027-03-10 23:59", kind="proposals")
    await deadlines.add(ADMIN, title="Extended", due="2027-03-17 23:59", kind="proposals")
    await deadlines.remove(ADMIN, 2)
    async with db.read() as session:
        assert await latest_due(session, guild_id=GUILD, kind="proposals") == datetime(
            2027, 3, 10, 23, 59, tzinfo=UTC
        )
        assert await latest_due(session, guild_id=GUILD, kind="reviews") is None
        assert await latest_due(session, guild_id=GUILD + 1, kind="proposals") is None


def test_due_times_accept_seconds_and_a_t() -> None:
    assert parse_due("2027-03-10T23:59") == datetime(2027, 3, 10, 23, 59)
    assert parse_due(" 2027-3-1 9:05:30 ") == datetime(2027, 3, 1, 9, 5, 30)
    with pytest.raises(InvalidInput):
        parse_due("2027-03-10 24:00")


async def test_a_recurring_deadline_can_become_a_one_off_and_back(
    deadlines: DeadlineService, db: Database, clock: FakeClock
) -> None:
    await deadlines.add(ADMIN, title="WG", due="2027-03-02 09:00", repeat="weekly", offsets="7d,1h")
    await _reminders(db, clock, deadlines._config).roll(clock.now)
    one_off = await deadlines.edit(ADMIN, 1, repeat="none", due="2027-03-20 09:00")
    assert one_off.repeat == "none"
    pending = one_off.pending()
    assert [r.deadline_at for r in pending] == [datetime(2027, 3, 20, 9, tzinfo=UTC)] * 2
    weekly = await deadlines.edit(ADMIN, 1, repeat="weekly")
    assert weekly.next_due_at == datetime(2027, 3, 20, 9, tzinfo=UTC)
    keys = [(r.occurrence, r.offset_minutes) for r in weekly.pending()]
    assert len(keys) == len(set(keys)) >= 2


def _reminders(db: Database, clock: FakeClock, config: ConfigService) -> ReminderService:
    return ReminderService(db, clock, config, OutboxService(db, clock, config, claimer="test"))

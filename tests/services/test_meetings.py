"""MAG meetings: scheduling and its refusals, the event kept in step (and retried), agendas,
attendance, minutes in the digest, and fair hours from the members' time zones."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import discord
import pytest

from bot.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from bot.render.meetings import plan_embed
from bot.services.auth import Actor
from bot.services.config import ConfigService
from bot.services.deadlines import DeadlineService
from bot.services.meetings import (
    EventOutcome,
    EventSpec,
    MeetingService,
    MeetingView,
    meetings_digest_section,
    roman,
)
from bot.services.profiles import ProfileService
from bot.services.text import Typed
from storage.database import Database
from storage.meetings import (
    EVENT_ACTIVE,
    EVENT_CANCELED,
    EVENT_COMPLETED,
    EVENT_SCHEDULED,
    Meeting,
)
from tests.conftest import FakeClock

GUILD = 111111111111111111
REMINDERS = 222222222222222222
ADMIN = Actor(guild_id=GUILD, user_id=1, is_admin=True)
SECRETARIAT = Actor(guild_id=GUILD, user_id=2, is_secretariat=True)
OUTSIDER = Actor(guild_id=GUILD, user_id=9)


def mag(user_id: int) -> Actor:
    return Actor(guild_id=GUILD, user_id=user_id, is_mag=True, display_name=f"M{user_id}")


@dataclass
class FakeGateway:
    """Discord's scheduled events as a list of calls; ``refuse`` makes the next calls fail."""

    calls: list[tuple[int | None, EventSpec]] = field(default_factory=list)
    refuse: EventOutcome | None = None
    status: dict[int, int] = field(default_factory=dict)

    async def sync(self, guild_id: int, event_id: int | None, spec: EventSpec) -> EventOutcome:
        self.calls.append((event_id, spec))
        if self.refuse is not None:
            return self.refuse
        new_id = event_id or 5000 + len(self.calls)
        self.status[new_id] = spec.status
        return EventOutcome(ok=True, event_id=new_id, status=spec.status)


FORBIDDEN = EventOutcome(ok=False, error="403 50013 Missing Permissions", missing_permission=True)


@pytest.fixture
async def config(db: Database, clock: FakeClock) -> ConfigService:
    service = ConfigService(db, clock)
    await service.set_channel(ADMIN, "reminders", REMINDERS)
    return service


@pytest.fixture
def deadlines(db: Database, clock: FakeClock, config: ConfigService) -> DeadlineService:
    return DeadlineService(db, clock, config)


@pytest.fixture
def meetings(
    db: Database, clock: FakeClock, config: ConfigService, deadlines: DeadlineService
) -> MeetingService:
    return MeetingService(db, clock, config, deadlines)


async def schedule(meetings: MeetingService, **options: object) -> int:
    values: dict[str, object] = {"starts": "2027-03-10 11:00", "timezone": "UTC"} | options
    return (await meetings.schedule(SECRETARIAT, **values)).number  # type: ignore[arg-type]


async def store_get(session: object, title: str) -> Meeting:
    from sqlmodel import select

    return (await session.exec(select(Meeting).where(Meeting.title == title))).one()  # type: ignore[attr-defined]


async def row_of(db: Database, number: int) -> Meeting:
    from storage.meetings import get_meeting

    async with db.read() as session:
        found = await get_meeting(session, guild_id=GUILD, number=number)
    assert found is not None
    return found


# -- scheduling -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "numeral"), [(1, "I"), (4, "IV"), (9, "IX"), (11, "XI"), (14, "XIV"), (40, "XL"),
                            (1994, "MCMXCIV")],
)  # fmt: skip
def test_roman(number: int, numeral: str) -> None:
    assert roman(number) == numeral


async def test_schedule_numbers_meetings_and_creates_their_reminders(
    meetings: MeetingService, deadlines: DeadlineService
) -> None:
    first = await meetings.schedule(SECRETARIAT, starts="2027-03-10 11:00", timezone="UTC")
    assert first.number == 1 and first.title == "Virtual Meeting I"
    assert first.ends_at - first.starts_at == timedelta(minutes=120)
    assert first.location == "Online" and not first.event_synced
    named = await meetings.schedule(
        SECRETARIAT, starts="2027-03-20 13:00", title="Working group on workshops", minutes=60
    )
    assert named.number == 2 and named.title == "Working group on workshops"
    deadline = await deadlines.get(SECRETARIAT, first.deadline_number or 0)
    assert deadline.kind == "meeting" and deadline.title == "Virtual Meeting I starts"
    assert deadline.next_due_at == first.starts_at
    assert deadline.reminders  # the server's default offsets, exactly once each


@pytest.mark.parametrize(
    ("actor", "options", "error", "words"),
    [
        (mag(5), {}, PermissionDenied, "Only the secretariat"),
        (SECRETARIAT, {"title": "x" * 101}, InvalidInput, "at most 100"),
        (SECRETARIAT, {"description": "x" * 1001}, InvalidInput, "at most 1000"),
        (SECRETARIAT, {"location": "x" * 101}, InvalidInput, "at most 100"),
        (SECRETARIAT, {"starts": "2027-02-01 10:00"}, InvalidInput, "passed already"),
        (SECRETARIAT, {"starts": "soon"}, InvalidInput, "not a date"),
        (SECRETARIAT, {"minutes": 5}, InvalidInput, "15 minutes"),
        (SECRETARIAT, {"timezone": "Europe/Geneva"}, InvalidInput, "Europe/Zurich"),
    ],
)
async def test_schedule_refusals(
    meetings: MeetingService,
    actor: Actor,
    options: dict[str, object],
    error: type[Exception],
    words: str,
) -> None:
    values: dict[str, object] = {"starts": "2027-03-10 11:00"} | options
    with pytest.raises(error, match=words):
        await meetings.schedule(actor, **values)  # type: ignore[arg-type]


async def test_a_hundred_upcoming_meetings_is_discords_limit(
    meetings: MeetingService, db: Database
) -> None:
    async with db.write() as session:
        for n in range(100):
            session.add(
                Meeting(
                    guild_id=GUILD,
                    number=1000 + n,
                    title="x",
                    location="Online",
                    starts_at=meetings.now() + timedelta(days=1),
                    ends_at=meetings.now() + timedelta(days=1, hours=1),
                    timezone="UTC",
                )
            )
    with pytest.raises(Conflict, match="100 upcoming"):
        await schedule(meetings)


async def test_two_schedules_at_once_never_pass_discords_limit(
    meetings: MeetingService, db: Database
) -> None:
    async with db.write() as session:
        for n in range(99):
            session.add(
                Meeting(
                    guild_id=GUILD, number=1000 + n, title="x", location="Online",
                    starts_at=meetings.now() + timedelta(days=1),
                    ends_at=meetings.now() + timedelta(days=1, hours=1), timezone="UTC",
                )
            )  # fmt: skip
    await schedule(meetings, title="Warm-up")  # the counter row exists: the race is on it
    async with db.write() as session:
        row = await store_get(session, "Warm-up")
        await session.delete(row)
    results = await asyncio.gather(
        schedule(meetings, title="A"), schedule(meetings, title="B"), return_exceptions=True
    )
    assert sorted(type(r).__name__ for r in results) == ["Conflict", "int"], results


# -- the Discord event --------------------------------------------------------------------


async def test_the_event_is_created_then_follows_edits_and_the_cancel(
    meetings: MeetingService, deadlines: DeadlineService, db: Database
) -> None:
    gateway = FakeGateway()
    number = await schedule(meetings, description="Workshop selection")
    result = await meetings.sync_one(GUILD, number, gateway)
    assert result.synced
    ((event_id, spec),) = gateway.calls
    assert event_id is None and spec.name == "Virtual Meeting I" and spec.status == EVENT_SCHEDULED
    assert spec.description == "Workshop selection" and spec.location == "Online"
    row = await row_of(db, number)
    assert row.event_id is not None and not row.event_dirty
    # Nothing changed: nothing is sent.
    assert await meetings.sync_events(meetings.now(), gateway) == 0
    assert len(gateway.calls) == 1
    edited = await meetings.edit(
        SECRETARIAT, number, starts="2027-03-11 12:00", title="Virtual Meeting XI"
    )
    assert not edited.event_synced
    assert await meetings.sync_events(meetings.now(), gateway) == 1
    event_id, spec = gateway.calls[-1]
    assert event_id == row.event_id and spec.name == "Virtual Meeting XI"
    assert spec.starts_at.isoformat() == "2027-03-11T12:00:00+00:00"
    deadline = await deadlines.get(SECRETARIAT, row.deadline_number or 0)
    assert deadline.next_due_at == spec.starts_at  # the reminders moved with it
    assert deadline.title == "Virtual Meeting XI starts"
    # Its start moves only with the meeting; its title may change here.
    with pytest.raises(Conflict, match="when meeting #1 starts"):
        await deadlines.edit(SECRETARIAT, deadline.number, due="2027-03-12 12:00")
    with pytest.raises(Conflict, match="/meeting cancel"):
        await deadlines.remove(SECRETARIAT, deadline.number)
    await deadlines.edit(SECRETARIAT, deadline.number, title="Virtual Meeting XI (call)")
    await meetings.cancel(SECRETARIAT, number)
    await meetings.sync_events(meetings.now(), gateway)
    assert gateway.calls[-1][1].status == EVENT_CANCELED
    with pytest.raises(NotFound):  # its reminders are gone with it
        await deadlines.get(SECRETARIAT, row.deadline_number or 0)
    with pytest.raises(Conflict, match="cancelled"):
        await meetings.edit(SECRETARIAT, number, title="Again")


async def test_a_refusal_keeps_the_meeting_and_is_retried_with_a_growing_wait(
    meetings: MeetingService, clock: FakeClock, db: Database
) -> None:
    gateway = FakeGateway(refuse=FORBIDDEN)
    number = await schedule(meetings)
    result = await meetings.sync_one(GUILD, number, gateway)
    assert not result.synced and result.missing_permission
    assert result.next_try_at == clock.now + timedelta(minutes=1)
    view = await meetings.get(SECRETARIAT, number)
    assert view.number == number and view.event_error == "403 50013 Missing Permissions"
    # Not before its time; then again, with twice the wait.
    assert await meetings.sync_events(clock.now + timedelta(seconds=30), gateway) == 0
    assert len(gateway.calls) == 1
    clock.now += timedelta(minutes=1)
    await meetings.sync_events(clock.now, gateway)
    assert len(gateway.calls) == 2
    assert (await row_of(db, number)).event_next_try_at == clock.now + timedelta(minutes=2)
    # A rate limit says how long itself.
    gateway.refuse = EventOutcome(ok=False, error="rate limited", retry_after=30.0)
    clock.now += timedelta(minutes=2)
    await meetings.sync_events(clock.now, gateway)
    assert (await row_of(db, number)).event_next_try_at == clock.now + timedelta(seconds=30)
    # The permission is given: the next try creates the event, once.
    gateway.refuse = None
    clock.now += timedelta(seconds=30)
    assert await meetings.sync_events(clock.now, gateway) == 1
    row = await row_of(db, number)
    assert row.event_id is not None and not row.event_dirty and row.event_error is None
    assert await meetings.sync_events(clock.now, gateway) == 0


async def test_the_event_starts_and_ends_with_the_meeting(
    meetings: MeetingService, clock: FakeClock
) -> None:
    gateway = FakeGateway()
    number = await schedule(meetings)
    await meetings.sync_one(GUILD, number, gateway)
    view = await meetings.get(SECRETARIAT, number)
    clock.now = view.starts_at + timedelta(seconds=5)
    await meetings.sync_events(clock.now, gateway)
    assert gateway.calls[-1][1].status == EVENT_ACTIVE
    clock.now = view.ends_at + timedelta(seconds=5)
    await meetings.sync_events(clock.now, gateway)
    assert gateway.calls[-1][1].status == EVENT_COMPLETED
    calls = len(gateway.calls)
    await meetings.sync_events(clock.now + timedelta(hours=1), gateway)
    assert len(gateway.calls) == calls


async def test_a_process_syncs_only_the_servers_it_serves(
    meetings: MeetingService, db: Database
) -> None:
    gateway = FakeGateway()
    number = await schedule(meetings)
    assert await meetings.sync_events(meetings.now(), gateway, guild_ids=[GUILD + 1]) == 0
    assert gateway.calls == [] and (await row_of(db, number)).event_next_try_at is None
    assert await meetings.sync_events(meetings.now(), gateway, guild_ids=[]) == 0
    assert await meetings.sync_events(meetings.now(), gateway, guild_ids=[GUILD]) == 1


async def test_a_refused_start_waits_for_its_retry_time(
    meetings: MeetingService, clock: FakeClock, db: Database
) -> None:
    gateway = FakeGateway()
    number = await schedule(meetings)
    await meetings.sync_one(GUILD, number, gateway)
    view = await meetings.get(SECRETARIAT, number)
    clock.now = view.starts_at + timedelta(seconds=5)
    gateway.refuse = FORBIDDEN
    assert await meetings.sync_events(clock.now, gateway) == 0
    assert len(gateway.calls) == 2 and gateway.calls[-1][1].status == EVENT_ACTIVE
    # The next ticks (every 10 s) leave Discord alone until the retry time.
    for seconds in (10, 20, 50):
        await meetings.sync_events(clock.now + timedelta(seconds=seconds), gateway)
    assert len(gateway.calls) == 2
    clock.now += timedelta(minutes=1)
    gateway.refuse = None
    assert await meetings.sync_events(clock.now, gateway) == 1
    assert len(gateway.calls) == 3 and (await row_of(db, number)).event_status == EVENT_ACTIVE


async def test_other_servers_and_stuck_rows_do_not_crowd_out_the_ones_due(
    meetings: MeetingService, clock: FakeClock, db: Database
) -> None:
    start = clock.now + timedelta(days=1)
    async with db.write() as session:
        for n in range(60):  # another shard's server (or one the bot left), never synced here
            session.add(
                Meeting(
                    guild_id=GUILD + 1, number=n + 1, title="x", location="Online",
                    starts_at=start, ends_at=start + timedelta(hours=1), timezone="UTC",
                )
            )  # fmt: skip
        for n in range(60):  # this server's, refused and waiting for their retry
            session.add(
                Meeting(
                    guild_id=GUILD, number=500 + n, title="x", location="Online",
                    starts_at=clock.now - timedelta(minutes=5), ends_at=start,
                    timezone="UTC", event_id=9000 + n, event_status=EVENT_SCHEDULED,
                    event_dirty=True, event_attempts=3,
                    event_next_try_at=clock.now + timedelta(minutes=30),
                )
            )  # fmt: skip
    gateway = FakeGateway()
    number = await schedule(meetings)
    assert await meetings.sync_events(clock.now, gateway, guild_ids=[GUILD]) == 1
    ((_, spec),) = gateway.calls
    assert spec.name == "Virtual Meeting I"
    assert (await row_of(db, number)).event_id is not None


async def test_a_create_whose_answer_may_be_lost_looks_for_the_event_first(
    meetings: MeetingService, clock: FakeClock
) -> None:
    gateway = FakeGateway(refuse=EventOutcome(ok=False, error="TimeoutError"))
    number = await schedule(meetings)
    await meetings.sync_one(GUILD, number, gateway)
    assert gateway.calls[0][1].may_exist is False  # never tried: nothing to look for
    gateway.refuse = None
    clock.now += timedelta(minutes=1)
    await meetings.sync_events(clock.now, gateway)
    event_id, spec = gateway.calls[1]
    assert event_id is None and spec.may_exist is True


@dataclass
class StubEvent:
    id: int
    name: str
    start_time: datetime
    end_time: datetime
    creator_id: int
    location: str = "Online"
    description: str | None = None
    status: discord.EventStatus = discord.EventStatus.scheduled


@dataclass
class StubGuild:
    events: list[StubEvent]
    created: list[dict[str, object]] = field(default_factory=list)

    async def fetch_scheduled_events(self) -> list[StubEvent]:
        return list(self.events)

    async def create_scheduled_event(self, **fields: object) -> StubEvent:
        self.created.append(fields)
        return StubEvent(7, str(fields["name"]), fields["start_time"], fields["end_time"], 1)  # type: ignore[arg-type]


async def test_discord_events_adopt_the_bots_own_event_instead_of_a_second_one() -> None:
    from cogs.meetings import DiscordEvents

    start = datetime(2027, 3, 10, 11, tzinfo=UTC)
    theirs = StubEvent(41, "Virtual Meeting I", start, start + timedelta(hours=2), creator_id=99)
    ours = StubEvent(42, "Virtual Meeting I", start, start + timedelta(hours=2), creator_id=1)
    guild = StubGuild([theirs, ours])
    client = SimpleNamespace(user=SimpleNamespace(id=1), get_guild=lambda _id: guild)
    spec = EventSpec(
        name="Virtual Meeting I", description=None, location="Online", starts_at=start,
        ends_at=start + timedelta(hours=2), status=EVENT_SCHEDULED, known_status=None,
        may_exist=True,
    )  # fmt: skip
    events = DiscordEvents(client)  # type: ignore[arg-type]
    outcome = await events.sync(GUILD, None, spec)
    assert outcome.ok and outcome.event_id == 42 and guild.created == []
    guild.events = [theirs]  # not there: created once
    outcome = await events.sync(GUILD, None, spec)
    assert outcome.event_id == 7 and len(guild.created) == 1


async def test_a_gone_event_is_made_again(meetings: MeetingService, db: Database) -> None:
    gateway = FakeGateway()
    number = await schedule(meetings)
    await meetings.sync_one(GUILD, number, gateway)
    await meetings.edit(SECRETARIAT, number, title="Renamed")
    gateway.refuse = EventOutcome(ok=False, error="10070 Unknown Guild Scheduled Event", gone=True)
    await meetings.sync_one(GUILD, number, gateway)
    assert (await row_of(db, number)).event_id is None
    gateway.refuse = None
    await meetings.sync_one(GUILD, number, gateway, meetings.now() + timedelta(minutes=2))
    assert gateway.calls[-1][0] is None  # created again


# -- agenda, attendance, minutes -------------------------------------------------------------


async def test_agenda_items_added_proposed_accepted_declined(meetings: MeetingService) -> None:
    number = await schedule(meetings)
    added = await meetings.agenda_add(SECRETARIAT, number, "Adoption of the agenda")
    assert added.status == "accepted" and added.number == 1
    proposed = await meetings.agenda_add(mag(5), number, "Hybrid participation")
    assert proposed.status == "proposed"
    other = await meetings.agenda_add(mag(6), number, "Not this time")
    with pytest.raises(PermissionDenied):
        await meetings.agenda_add(OUTSIDER, number, "Me too")
    with pytest.raises(PermissionDenied):
        await meetings.agenda_decide(mag(5), number, proposed.number, accept=True)
    assert (await meetings.agenda_decide(SECRETARIAT, number, 2, accept=True)).status == "accepted"
    await meetings.agenda_decide(SECRETARIAT, number, other.number, accept=False)
    with pytest.raises(Conflict, match="declined already"):
        await meetings.agenda_decide(SECRETARIAT, number, other.number, accept=True)
    with pytest.raises(NotFound):
        await meetings.agenda_decide(SECRETARIAT, number, 9, accept=True)
    seen = await meetings.get(mag(7), number)
    assert [i.text for i in seen.agenda] == ["Adoption of the agenda", "Hybrid participation"]
    theirs = await meetings.get(mag(6), number)  # the proposer sees their declined item
    assert [i.status for i in theirs.agenda] == ["accepted", "accepted", "declined"]


async def test_meetings_are_shown_to_the_mag_and_the_secretariat_only(
    meetings: MeetingService,
) -> None:
    number = await schedule(meetings)
    for reader in (mag(5), SECRETARIAT, ADMIN):
        assert (await meetings.get(reader, number)).number == number
        assert [v.number for v in await meetings.listed(reader)] == [number]
    with pytest.raises(PermissionDenied, match="Only MAG members and the secretariat can see"):
        await meetings.get(OUTSIDER, number)
    with pytest.raises(PermissionDenied, match="Only MAG members and the secretariat can see"):
        await meetings.listed(OUTSIDER)


async def test_a_cancel_and_its_reminders_go_together(
    meetings: MeetingService,
    deadlines: DeadlineService,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from storage import deadlines as deadline_store

    number = await schedule(meetings)
    row = await row_of(db, number)

    async def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(deadline_store, "cancel_reminders", broken)
    with pytest.raises(RuntimeError):
        await meetings.cancel(SECRETARIAT, number)
    # Nothing half done: the meeting is not cancelled, its reminders are kept.
    assert (await row_of(db, number)).cancelled_at is None
    assert (await deadlines.get(SECRETARIAT, row.deadline_number or 0)).reminders
    monkeypatch.undo()
    await meetings.cancel(SECRETARIAT, number)
    assert (await row_of(db, number)).cancelled_at is not None
    with pytest.raises(NotFound):
        await deadlines.get(SECRETARIAT, row.deadline_number or 0)


async def test_an_edit_refuses_a_time_zone_without_a_start(meetings: MeetingService) -> None:
    number = await schedule(meetings)
    with pytest.raises(InvalidInput, match="applies only to a new start"):
        await meetings.edit(SECRETARIAT, number, timezone="Asia/Tokyo")
    with pytest.raises(InvalidInput, match="applies only to a new start"):
        await meetings.edit(SECRETARIAT, number, title="New", timezone="Asia/Tokyo")
    moved = await meetings.edit(
        SECRETARIAT, number, starts="2027-03-10 20:00", timezone="Asia/Tokyo"
    )
    assert moved.starts_at.isoformat() == "2027-03-10T11:00:00+00:00"
    assert moved.zone == "Asia/Tokyo"


async def test_the_attendance_button_is_posted_from_15_minutes_before(
    meetings: MeetingService, clock: FakeClock
) -> None:
    number = await schedule(meetings)
    view = await meetings.get(SECRETARIAT, number)
    clock.now = view.starts_at - timedelta(minutes=16)
    with pytest.raises(Conflict, match="from 15 minutes before"):
        await meetings.open_attendance(SECRETARIAT, number)
    clock.now = view.starts_at - timedelta(minutes=15)
    assert (await meetings.open_attendance(SECRETARIAT, number)).attendance_posted
    assert await meetings.attend(mag(5), number) is True  # a press is taken then too


def test_full_minutes_are_attached_when_a_field_cannot_hold_them() -> None:
    from bot.render.meetings import meeting_embed, minutes_files

    start = datetime(2027, 3, 10, 11, tzinfo=UTC)
    minutes = "".join(f"Line {i}: the MAG *discussed* item {i}.\n" for i in range(120))[:4000]
    view = MeetingView(
        number=3, title="Virtual Meeting III", description=None, location="Online",
        starts_at=start, ends_at=start + timedelta(hours=2), zone="UTC", channel_id=None,
        deadline_number=None, cancelled=False, event_id=None, event_synced=True,
        event_error=None, event_next_try_at=None, minutes=minutes, decisions="Short.",
        minutes_at=start, attendance_posted=True,
    )  # fmt: skip
    embed = meeting_embed(view, start)
    fields = {f.name: f.value or "" for f in embed.fields}
    assert len(fields["Minutes"]) <= 1024 and "In full in the attached file" in fields["Minutes"]
    assert fields["Decisions"] == "Short."
    (file,) = minutes_files(view)
    assert file.filename == "meeting-3-minutes.txt"
    text = file.fp.read().decode("utf-8")
    assert minutes.strip() in text and "Short." in text  # as typed, not escaped
    short = dataclasses.replace(view, minutes="Brief.")
    assert minutes_files(short) == []
    assert {f.name: f.value for f in meeting_embed(short, start).fields}["Minutes"] == "Brief."


async def test_attendance_while_the_meeting_runs(
    meetings: MeetingService, clock: FakeClock
) -> None:
    number = await schedule(meetings)
    view = await meetings.get(SECRETARIAT, number)
    with pytest.raises(Conflict, match="attendance opens"):
        await meetings.attend(mag(5), number)
    assert await meetings.attendance_due(clock.now) == []
    clock.now = view.starts_at + timedelta(minutes=1)
    (post,) = await meetings.attendance_due(clock.now)
    assert post.channel_id == REMINDERS and post.meeting.number == number
    assert await meetings.attendance_due(clock.now) == []  # once
    assert await meetings.attend(mag(5), number) is True
    assert await meetings.attend(mag(5), number) is False
    with pytest.raises(PermissionDenied):
        await meetings.attend(OUTSIDER, number)
    assert (await meetings.get(SECRETARIAT, number)).attendees == (5,)
    clock.now = view.ends_at
    with pytest.raises(Conflict, match="over"):
        await meetings.attend(mag(6), number)


async def test_minutes_after_the_start_and_in_the_digest(
    meetings: MeetingService, clock: FakeClock, db: Database, config: ConfigService
) -> None:
    number = await schedule(meetings)
    with pytest.raises(Conflict, match="has not started"):
        await meetings.check_minutes(SECRETARIAT, number)
    view = await meetings.get(SECRETARIAT, number)
    since = clock.now
    clock.now = view.ends_at + timedelta(minutes=5)
    with pytest.raises(PermissionDenied):
        await meetings.record_minutes(mag(5), number, minutes="x", decisions="y")
    with pytest.raises(InvalidInput):
        await meetings.record_minutes(SECRETARIAT, number, minutes=" ", decisions="")
    done = await meetings.record_minutes(
        SECRETARIAT,
        number,
        minutes="The MAG discussed the themes.",
        decisions="Three themes.\nA call for workshops by 1 April.",
    )
    assert done.minutes_at == clock.now
    settings = await config.get(GUILD)
    async with db.read() as session:
        section = await meetings_digest_section(
            session, GUILD, since, clock.now + timedelta(seconds=1), settings
        )
    assert section is not None and section.title == "Meeting minutes"
    first = section.lines[0]
    assert isinstance(first, tuple)
    assert Typed("Virtual Meeting I", 100) in first
    assert Typed("Three themes. / A call for workshops by 1 April.", 300) in first
    async with db.read() as session:
        later = await meetings_digest_section(
            session,
            GUILD,
            clock.now + timedelta(seconds=1),
            clock.now + timedelta(days=1),
            settings,
        )
    assert later is None


# -- fair hours from profiles -----------------------------------------------------------------


async def test_plan_counts_the_members_who_gave_a_time_zone(
    meetings: MeetingService, db: Database, clock: FakeClock, config: ConfigService
) -> None:
    await config.set_role(ADMIN, "mag", 777)
    profiles = ProfileService(db, clock, config)
    with pytest.raises(Conflict, match="No MAG member has set a time zone"):
        await meetings.plan(mag(10), first="2027-01-12", count=3)
    zones = {10: "America/Los_Angeles", 11: "Asia/Tokyo", 12: None}
    for user_id, zone in zones.items():
        await profiles.set(
            mag(user_id), stakeholder_group="Civil Society", region="African Group", gender="Female"
        )
        if zone:
            view = await profiles.set_timezone(mag(user_id), zone.lower())
            assert view.timezone == zone  # canonical name
    with pytest.raises(InvalidInput):
        await profiles.set_timezone(mag(10), "Europe/Geneva")
    with pytest.raises(NotFound):
        await profiles.set_timezone(mag(99), "UTC")
    with pytest.raises(PermissionDenied):
        await meetings.plan(OUTSIDER, first="2027-01-12", count=3)
    with pytest.raises(InvalidInput, match="not a date"):
        await meetings.plan(mag(10), first="12 Jan", count=3)
    planned = await meetings.plan(mag(10), first="2027-01-12", count=2, hours="13,21")
    assert set(planned.plan.counts) == {10, 11} and planned.without_zone == (12,)
    # A MAG member sees the others' regions, and only their own zone.
    assert planned.names[10] == "M10" and planned.zones == {10: "America/Los_Angeles"}
    assert planned.regions[11] == "African Group"
    embed = plan_embed(planned)
    assert "Asia/Tokyo" not in str(embed.to_dict())
    assert "M11 (African Group)" in str(embed.to_dict())
    secretariat = await meetings.plan(SECRETARIAT, first="2027-01-12", count=2, hours="13,21")
    assert secretariat.zones == {10: "America/Los_Angeles", 11: "Asia/Tokyo"}
    assert "Asia/Tokyo" in str(plan_embed(secretariat).to_dict())


async def test_a_members_time_zone_is_shown_to_them_and_the_secretariat_only(
    db: Database, clock: FakeClock, config: ConfigService
) -> None:
    profiles = ProfileService(db, clock, config)
    await profiles.set(
        mag(10), stakeholder_group="Civil Society", region="African Group", gender="Female"
    )
    await profiles.set_timezone(mag(10), "Africa/Nairobi")
    assert (await profiles.show(mag(10))).timezone == "Africa/Nairobi"
    assert (await profiles.show(SECRETARIAT, 10)).timezone == "Africa/Nairobi"
    assert (await profiles.show(ADMIN, 10)).timezone == "Africa/Nairobi"
    other = await profiles.show(mag(11), 10)
    assert other.timezone is None and other.gender is None and other.region == "African Group"

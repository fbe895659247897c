"""MAG meetings: scheduled by the secretariat, shown as Discord scheduled events, reminded,
attended, minuted, and planned at hours that share the night between regions.

A meeting is numbered per guild; without a title it is "Virtual Meeting XI"
(its number in roman numerals, as the MAG names them). Its start is a
deadline of kind ``meeting``, created with it in one transaction, so the
MAG's reminders before it are the usual exactly-once ones; moving the
meeting moves the deadline, cancelling it removes it.

The Discord scheduled event
---------------------------
The meeting row is the truth; the Discord event is kept in step by
``sync_events`` (and ``sync_one`` right after a command, so the secretariat
hears at once whether Discord took it). Why a small retry loop on the row
and not the outbox: the outbox's lanes, refs and message history look-ups
are about posting messages exactly once; an event is one object that is
created once and then overwritten with the latest state, so "send the
latest state until Discord has it" is the whole need. The row says so
itself (``event_dirty``, ``event_next_try_at``, ``event_attempts``,
``event_error``), the loop is driven by an injected ``now``, and a refusal
is retried with a growing wait (1, 2, 4 … 60 minutes; a 429's own
``retry_after``). Only the command's own answer tells the secretariat that
Discord refused (once); the retries only log. One process owns a guild's
shard, and an ``asyncio.Lock`` keeps this process from syncing one meeting
twice at once (two creates would make two events).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Final, Protocol
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from bot.i18n import N_, _, ngettext
from bot.services.auth import Actor, require_secretariat
from bot.services.config import ConfigService, GuildSettings, check_timezone
from bot.services.deadlines import DeadlineService, parse_due
from bot.services.fairhours import Member, Plan, parse_hours, plan_series
from bot.services.outbox import DigestSection
from bot.services.recurrence import to_utc
from bot.services.text import Line, Typed, clean_block, clean_line, parted, slot
from storage import deadlines as deadline_store
from storage import meetings as store
from storage.audit import record_event
from storage.database import Database
from storage.meetings import (
    ACCEPTED,
    DECLINED,
    EVENT_ACTIVE,
    EVENT_CANCELED,
    EVENT_COMPLETED,
    EVENT_SCHEDULED,
    PROPOSED,
    Meeting,
    MeetingAgendaItem,
)
from storage.profiles import list_members

log = logging.getLogger(__name__)

MAX_TITLE: Final = 100  # Discord: a scheduled event's name is 1-100 characters
MAX_DESCRIPTION: Final = 1000  # Discord: at most 1,000
MAX_LOCATION: Final = 100  # Discord: an external event's location, 1-100
MAX_AGENDA_TEXT: Final = 200
MAX_AGENDA: Final = 25
MAX_MINUTES: Final = 4000
MAX_UPCOMING: Final = 100  # Discord: scheduled + active events per server
DEFAULT_MINUTES: Final = 120
DEFAULT_LOCATION: Final = N_("Online")
ATTEND_EARLY: Final = timedelta(minutes=15)  # "I'm here" is taken from 15 min before
RETRY_FIRST: Final = timedelta(minutes=1)
RETRY_MOST: Final = timedelta(hours=1)
AGENDA_LABELS: Final = {
    PROPOSED: N_("proposed"),
    ACCEPTED: N_("accepted"),
    DECLINED: N_("declined"),
}

_ROMAN: Final = (
    (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
    (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
)  # fmt: skip


def roman(number: int) -> str:
    """Return ``number`` (1-3999) in roman numerals: 11 -> XI."""
    if not 1 <= number <= 3999:
        return str(number)
    out: list[str] = []
    for value, letters in _ROMAN:
        count, number = divmod(number, value)
        out.append(letters * count)
    return "".join(out)


def default_title(number: int) -> str:
    return _("Virtual Meeting {numeral}", numeral=roman(number))


# -- what Discord is asked, and what it answered ---------------------------------


@dataclass(frozen=True)
class EventSpec:
    """The scheduled event a meeting should be, in Discord's terms (external, guild only)."""

    name: str
    description: str | None
    location: str
    starts_at: datetime
    ends_at: datetime
    status: int  # what it should be now: scheduled, active, completed or cancelled
    known_status: int | None  # what Discord was last told (None: no event yet)
    # An earlier create may have reached Discord with its answer lost: look for
    # the bot's own event of this name and start before creating another.
    may_exist: bool = False


@dataclass(frozen=True)
class EventOutcome:
    """Discord's answer to a sync."""

    ok: bool
    event_id: int | None = None
    status: int | None = None
    error: str | None = None
    missing_permission: bool = False
    retry_after: float | None = None  # seconds, from a 429
    gone: bool = False  # the event was deleted in Discord


class EventGateway(Protocol):
    """Makes a guild's scheduled event match ``spec`` (the cog layer's, through discord.py)."""

    async def sync(self, guild_id: int, event_id: int | None, spec: EventSpec) -> EventOutcome:
        """Create, edit, start, end or cancel the event; never raise for Discord's refusals."""
        ...


@dataclass(frozen=True)
class SyncResult:
    """What a sync did for one meeting (the command's answer says it)."""

    synced: bool
    missing_permission: bool = False
    error: str | None = None
    next_try_at: datetime | None = None


# -- views -----------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaView:
    number: int
    text: str
    status: str
    proposed_by: int


@dataclass(frozen=True)
class MeetingView:
    """A meeting as the commands show it."""

    number: int
    title: str
    description: str | None
    location: str
    starts_at: datetime
    ends_at: datetime
    zone: str
    channel_id: int | None
    deadline_number: int | None
    cancelled: bool
    event_id: int | None
    event_synced: bool
    event_error: str | None
    event_next_try_at: datetime | None
    minutes: str | None
    decisions: str | None
    minutes_at: datetime | None
    attendance_posted: bool
    agenda: tuple[AgendaView, ...] = ()
    attendees: tuple[int, ...] = ()

    def state(self, now: datetime) -> str:
        if self.cancelled:
            return "cancelled"
        if now >= self.ends_at:
            return "over"
        if now >= self.starts_at:
            return "under way"
        return "upcoming"


def view_of(
    row: Meeting,
    agenda: Sequence[MeetingAgendaItem] = (),
    attendees: Sequence[int] = (),
) -> MeetingView:
    return MeetingView(
        number=row.number,
        title=row.title,
        description=row.description,
        location=row.location,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        zone=row.timezone,
        channel_id=row.channel_id,
        deadline_number=row.deadline_number,
        cancelled=row.cancelled_at is not None,
        event_id=row.event_id,
        event_synced=not row.event_dirty,
        event_error=row.event_error,
        event_next_try_at=row.event_next_try_at if row.event_dirty else None,
        minutes=row.minutes,
        decisions=row.decisions,
        minutes_at=row.minutes_at,
        attendance_posted=row.attendance_posted_at is not None,
        agenda=tuple(
            AgendaView(number=i.number, text=i.text, status=i.status, proposed_by=i.proposed_by)
            for i in agenda
        ),
        attendees=tuple(attendees),
    )


def wanted_status(row: Meeting, now: datetime) -> int:
    """Return the status the event should have now: the meeting's phase."""
    if row.cancelled_at is not None:
        # An event that already began can only end; one not begun is cancelled.
        return EVENT_COMPLETED if row.event_status == EVENT_ACTIVE else EVENT_CANCELED
    if now >= row.ends_at:
        return EVENT_COMPLETED  # one never started is started, then ended (Discord's order)
    if now >= row.starts_at:
        return EVENT_ACTIVE
    return EVENT_SCHEDULED


def spec_of(row: Meeting, now: datetime) -> EventSpec:
    return EventSpec(
        name=row.title,
        description=row.description,
        location=row.location,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        status=wanted_status(row, now),
        known_status=row.event_status,
        may_exist=row.event_id is None and row.event_attempts > 0,
    )


def retry_wait(attempts: int, retry_after: float | None) -> timedelta:
    """Return how long to wait before trying Discord again after ``attempts`` refusals."""
    if retry_after is not None:
        return timedelta(seconds=max(1.0, retry_after))
    return min(RETRY_MOST, RETRY_FIRST * 2 ** max(0, attempts - 1))


@dataclass(frozen=True)
class PlannedSeries:
    """``/meeting plan``'s answer: the plan, and who it could not count."""

    plan: Plan
    names: dict[int, str]  # user id -> display name
    regions: dict[int, str]
    zones: dict[int, str]
    without_zone: tuple[int, ...]
    minutes: int
    every_days: int


@dataclass(frozen=True)
class AttendancePost:
    """An attendance button to post now: where, and for which meeting."""

    guild_id: int
    channel_id: int
    meeting: MeetingView
    language: str


@dataclass
class _Locks:
    by_meeting: dict[int, asyncio.Lock] = field(default_factory=dict)

    def of(self, meeting_id: int) -> asyncio.Lock:
        return self.by_meeting.setdefault(meeting_id, asyncio.Lock())


class MeetingService:
    """Schedule meetings, keep their Discord events in step, take agendas, attendance, minutes."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        config: ConfigService,
        deadlines: DeadlineService,
    ) -> None:
        self._db = db
        self._clock = clock
        self._config = config
        self._deadlines = deadlines
        self._locks = _Locks()

    def now(self) -> datetime:
        return self._clock()

    # -- checks ---------------------------------------------------------------------

    @staticmethod
    def _title(text: str) -> str:
        title = clean_line(text)
        if not title:
            raise InvalidInput(_("Give the meeting a title."))
        if len(title) > MAX_TITLE:
            raise InvalidInput(
                _(
                    "Meeting titles can be at most {limit} characters (Discord's limit for "
                    "events); this one has {length}.",
                    limit=MAX_TITLE,
                    length=len(title),
                )
            )
        return title

    @staticmethod
    def _description(text: str | None) -> str | None:
        value = clean_block(text)
        if len(value) > MAX_DESCRIPTION:
            raise InvalidInput(
                _(
                    "Descriptions can be at most {limit} characters (Discord's limit for "
                    "events); this one has {length}.",
                    limit=MAX_DESCRIPTION,
                    length=len(value),
                )
            )
        return value or None

    @staticmethod
    def _location(text: str | None) -> str:
        value = clean_line(text) if text else _(DEFAULT_LOCATION)
        if len(value) > MAX_LOCATION:
            raise InvalidInput(
                _("The location can be at most {limit} characters.", limit=MAX_LOCATION)
            )
        return value or _(DEFAULT_LOCATION)

    @staticmethod
    def _duration(minutes: int | None) -> timedelta:
        value = DEFAULT_MINUTES if minutes is None else minutes
        if not 15 <= value <= 12 * 60:
            raise InvalidInput(_("A meeting lasts from 15 minutes to 12 hours."))
        return timedelta(minutes=value)

    @staticmethod
    async def _find(
        session: AsyncSession, guild_id: int, number: int, *, lock: bool = False
    ) -> Meeting:
        row = await store.get_meeting(session, guild_id=guild_id, number=number, lock=lock)
        if row is None:
            raise NotFound(
                _(
                    "There is no meeting #{number} on this server. `/meeting list` shows them.",
                    number=number,
                )
            )
        return row

    @staticmethod
    def _not_cancelled(row: Meeting) -> None:
        if row.cancelled_at is not None:
            raise Conflict(_("Meeting #{number} is cancelled.", number=row.number))

    # -- the secretariat ------------------------------------------------------------

    async def schedule(
        self,
        actor: Actor,
        *,
        starts: str,
        title: str | None = None,
        minutes: int | None = None,
        timezone: str | None = None,
        location: str | None = None,
        description: str | None = None,
        channel_id: int | None = None,
        offsets: str | None = None,
    ) -> MeetingView:
        """Schedule a meeting and its start deadline (reminders) in one transaction."""
        require_secretariat(actor)
        named = self._title(title) if title else None
        about = self._description(description)
        where = self._location(location)
        length = self._duration(minutes)
        settings = await self._config.get(actor.guild_id)
        zone_name = check_timezone(timezone) if timezone else settings.timezone
        now = self._clock()
        starts_at = to_utc(parse_due(starts), ZoneInfo(zone_name))
        if starts_at <= now:
            raise InvalidInput(_("That time has passed already: give a later start."))
        new = await self._deadlines.prepare(
            actor,
            title=named or _("Meeting"),
            due=starts,
            timezone=zone_name,
            kind="meeting",
            offsets=offsets,
            channel_id=channel_id,
        )
        async with self._db.write() as session:
            # The number first: it locks the guild's counter until this transaction
            # ends, so two schedules at once count one after the other (a refusal
            # rolls the number back with everything else).
            number = await store.allocate_meeting_number(session, guild_id=actor.guild_id)
            upcoming = await store.count_upcoming(session, guild_id=actor.guild_id, now=now)
            if upcoming >= MAX_UPCOMING:
                raise Conflict(
                    _(
                        "This server has {limit} upcoming meetings: Discord allows no more "
                        "scheduled events. Cancel one, or wait until one is over.",
                        limit=MAX_UPCOMING,
                    )
                )
            name = named or default_title(number)
            deadline = await self._deadlines.create_in(
                session,
                actor,
                dataclasses.replace(new, title=_("{title} starts", title=name)[:200]),
            )
            row = Meeting(
                guild_id=actor.guild_id,
                number=number,
                title=name,
                description=about,
                location=where,
                starts_at=starts_at,
                ends_at=starts_at + length,
                timezone=zone_name,
                channel_id=channel_id,
                deadline_number=deadline.number,
                created_by=actor.user_id,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            await session.flush()
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="meeting.schedule",
                target=f"meeting:{number}",
                after={"title": name, "starts_at": starts_at.isoformat(), "location": where},
                at=now,
            )
            view = view_of(row)
        self._deadlines.planned(deadline)
        return view

    async def edit(
        self,
        actor: Actor,
        number: int,
        *,
        title: str | None = None,
        starts: str | None = None,
        minutes: int | None = None,
        timezone: str | None = None,
        location: str | None = None,
        description: str | None = None,
    ) -> MeetingView:
        """Change a meeting; its start deadline and its Discord event follow."""
        require_secretariat(actor)
        if all(v is None for v in (title, starts, minutes, timezone, location, description)):
            raise InvalidInput(_("Say what to change: a title, a start, a length, a location…"))
        if timezone is not None and starts is None:
            raise InvalidInput(
                _(
                    "The time zone applies only to a new start: give `starts` with it (the "
                    "meeting keeps its start otherwise)."
                )
            )
        now = self._clock()
        async with self._db.read() as session:
            current = await self._find(session, actor.guild_id, number)
        self._not_cancelled(current)
        if now >= current.ends_at:
            raise Conflict(_("Meeting #{number} is over: it can no longer change.", number=number))
        zone_name = check_timezone(timezone) if timezone else current.timezone
        changes: dict[str, object] = {}
        if title is not None:
            changes["title"] = self._title(title)
        if description is not None:
            changes["description"] = self._description(description)
        if location is not None:
            changes["location"] = self._location(location)
        starts_at = current.starts_at
        if starts is not None:
            starts_at = to_utc(parse_due(starts), ZoneInfo(zone_name))
            if starts_at <= now:
                raise InvalidInput(_("That time has passed already: give a later start."))
            changes["starts_at"] = starts_at
            changes["timezone"] = zone_name
        length = (
            self._duration(minutes) if minutes is not None else current.ends_at - current.starts_at
        )
        changes["ends_at"] = starts_at + length
        # The reminders follow the start and the name (their own transaction, first).
        if (starts is not None or title is not None) and current.deadline_number is not None:
            renamed = changes.get("title")
            await self._deadlines.edit(
                actor,
                current.deadline_number,
                title=_("{title} starts", title=renamed)[:200] if renamed else None,
                due=starts,
                timezone=zone_name if starts is not None else None,
                by_meeting=True,
            )
        async with self._db.write() as session:
            row = await self._find(session, actor.guild_id, number, lock=True)
            before = {k: _audit_value(getattr(row, k)) for k in changes}
            for name, value in changes.items():
                setattr(row, name, value)
            row.updated_at = now
            self._mark_dirty(row)
            session.add(row)
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="meeting.edit",
                target=f"meeting:{number}",
                before=before,
                after={k: _audit_value(v) for k, v in changes.items()},
                at=now,
            )
            return view_of(row)

    async def cancel(self, actor: Actor, number: int) -> MeetingView:
        """Cancel a meeting: its reminders stop, its Discord event is cancelled."""
        require_secretariat(actor)
        now = self._clock()
        async with self._db.write() as session:
            row = await self._find(session, actor.guild_id, number, lock=True)
            self._not_cancelled(row)
            if now >= row.ends_at:
                raise Conflict(
                    _("Meeting #{number} is over: it can no longer change.", number=number)
                )
            row.cancelled_at = now
            row.updated_at = now
            self._mark_dirty(row)
            session.add(row)
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="meeting.cancel",
                target=f"meeting:{number}",
                at=now,
            )
            if row.deadline_number is not None and now < row.starts_at:
                # In the same transaction: a cancelled meeting never keeps its reminders.
                await _remove_start_deadline(session, actor, row.deadline_number, now)
            return view_of(row)

    @staticmethod
    def _mark_dirty(row: Meeting) -> None:
        row.event_dirty = True
        row.event_next_try_at = None
        row.event_attempts = 0

    # -- reading --------------------------------------------------------------------

    @staticmethod
    def _require_reader(actor: Actor) -> None:
        """Meetings (agendas, attendance, minutes) are the MAG's and the secretariat's."""
        if not (actor.can_act_as_secretariat or actor.is_mag):
            raise PermissionDenied(
                _(
                    "Only MAG members and the secretariat can see meetings, their agendas, "
                    "attendance and minutes."
                )
            )

    async def listed(self, actor: Actor, *, include_past: bool = False) -> list[MeetingView]:
        """Return the meetings ahead or under way (MAG members and the secretariat)."""
        self._require_reader(actor)
        now = self._clock()
        async with self._db.read() as session:
            rows = await store.list_meetings(
                session, guild_id=actor.guild_id, since=None if include_past else now
            )
        return [view_of(row) for row in rows]

    async def get(self, actor: Actor, number: int) -> MeetingView:
        """Return a meeting with its agenda (declined items for the secretariat only)."""
        self._require_reader(actor)
        async with self._db.read() as session:
            row = await self._find(session, actor.guild_id, number)
            assert row.id is not None
            agenda = await store.agenda_of(session, meeting_id=row.id)
            attendees = await store.attendees_of(session, meeting_id=row.id)
        shown = [
            item
            for item in agenda
            if item.status != DECLINED
            or actor.can_act_as_secretariat
            or item.proposed_by == actor.user_id
        ]
        return view_of(row, shown, attendees)

    # -- the agenda -----------------------------------------------------------------

    async def agenda_add(self, actor: Actor, number: int, text: str) -> AgendaView:
        """Add an item (the secretariat's is on the agenda; a MAG member's is proposed)."""
        if not (actor.can_act_as_secretariat or actor.is_mag):
            raise PermissionDenied(_("Only MAG members and the secretariat can add agenda items."))
        item_text = clean_line(text)
        if not item_text:
            raise InvalidInput(_("Say what the agenda item is."))
        if len(item_text) > MAX_AGENDA_TEXT:
            raise InvalidInput(
                _("Agenda items can be at most {limit} characters.", limit=MAX_AGENDA_TEXT)
            )
        now = self._clock()
        async with self._db.write() as session:
            row = await self._find(session, actor.guild_id, number, lock=True)
            self._not_cancelled(row)
            if now >= row.ends_at:
                raise Conflict(_("Meeting #{number} is over: its agenda is closed.", number=number))
            assert row.id is not None
            item_number = await store.next_agenda_number(session, meeting_id=row.id)
            if item_number > MAX_AGENDA:
                raise Conflict(_("A meeting's agenda has at most {limit} items.", limit=MAX_AGENDA))
            status = ACCEPTED if actor.can_act_as_secretariat else PROPOSED
            item = MeetingAgendaItem(
                guild_id=actor.guild_id,
                meeting_id=row.id,
                number=item_number,
                text=item_text,
                status=status,
                proposed_by=actor.user_id,
                decided_by=actor.user_id if status == ACCEPTED else None,
                created_at=now,
            )
            session.add(item)
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="meeting.agenda." + ("add" if status == ACCEPTED else "propose"),
                target=f"meeting:{number}:agenda:{item_number}",
                after={"text": item_text},
                at=now,
            )
            return AgendaView(item_number, item_text, status, actor.user_id)

    async def agenda_decide(
        self, actor: Actor, number: int, item_number: int, *, accept: bool
    ) -> AgendaView:
        """Accept or decline a proposed agenda item (the secretariat)."""
        require_secretariat(actor)
        now = self._clock()
        async with self._db.write() as session:
            row = await self._find(session, actor.guild_id, number, lock=True)
            assert row.id is not None
            item = await store.get_agenda_item(session, meeting_id=row.id, number=item_number)
            if item is None:
                raise NotFound(
                    _(
                        "Meeting #{number} has no agenda item {item}.",
                        number=number,
                        item=item_number,
                    )
                )
            if item.status != PROPOSED:
                raise Conflict(
                    _(
                        "Agenda item {item} is {status} already.",
                        item=item_number,
                        status=_(AGENDA_LABELS[item.status]),
                    )
                )
            item.status = ACCEPTED if accept else DECLINED
            item.decided_by = actor.user_id
            session.add(item)
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="meeting.agenda." + ("accept" if accept else "decline"),
                target=f"meeting:{number}:agenda:{item_number}",
                at=now,
            )
            return AgendaView(item.number, item.text, item.status, item.proposed_by)

    # -- attendance -----------------------------------------------------------------

    async def attend(self, actor: Actor, number: int) -> bool:
        """Record "I'm here" (MAG and secretariat, while it runs); return False if said already."""
        if not (actor.can_act_as_secretariat or actor.is_mag):
            raise PermissionDenied(_("Attendance is taken from MAG members and the secretariat."))
        now = self._clock()
        async with self._db.write() as session:
            row = await self._find(session, actor.guild_id, number)
            self._not_cancelled(row)
            if now < row.starts_at - ATTEND_EARLY:
                raise Conflict(
                    _(
                        "Meeting #{number} starts <t:{when}:R>: attendance opens 15 minutes "
                        "before.",
                        number=number,
                        when=int(row.starts_at.timestamp()),
                    )
                )
            if now >= row.ends_at:
                raise Conflict(_("Meeting #{number} is over: attendance is closed.", number=number))
            assert row.id is not None
            return await store.add_attendance(
                session,
                guild_id=actor.guild_id,
                meeting_id=row.id,
                user_id=actor.user_id,
                at=now,
            )

    async def open_attendance(self, actor: Actor, number: int) -> MeetingView:
        """Return the meeting whose attendance button the secretariat posts now."""
        require_secretariat(actor)
        now = self._clock()
        async with self._db.write() as session:
            row = await self._find(session, actor.guild_id, number, lock=True)
            self._not_cancelled(row)
            if now < row.starts_at - ATTEND_EARLY:
                raise Conflict(
                    _(
                        "Meeting #{number} starts <t:{when}:R>: its attendance button can be "
                        "posted from 15 minutes before, when presses are taken.",
                        number=number,
                        when=int(row.starts_at.timestamp()),
                    )
                )
            if now >= row.ends_at:
                raise Conflict(_("Meeting #{number} is over: attendance is closed.", number=number))
            row.attendance_posted_at = row.attendance_posted_at or now
            session.add(row)
            return view_of(row)

    async def attendance_due(self, now: datetime) -> list[AttendancePost]:
        """Claim the meetings that started without an attendance button; return what to post.

        Claimed before posting (at most once): a post that fails is logged,
        and the secretariat can post it with ``/meeting attendance``.
        """
        posts: list[AttendancePost] = []
        async with self._db.write() as session:
            for row in await store.attendance_due(session, now=now):
                row.attendance_posted_at = now
                session.add(row)
                settings = await self._config.get_in(session, row.guild_id)
                channel = row.channel_id or settings.channels["reminders"]
                if channel is None:
                    continue
                posts.append(
                    AttendancePost(
                        guild_id=row.guild_id,
                        channel_id=channel,
                        meeting=view_of(row),
                        language=self._config.public_language(settings),
                    )
                )
        return posts

    # -- minutes --------------------------------------------------------------------

    async def check_minutes(self, actor: Actor, number: int) -> MeetingView:
        """Refuse before the form opens unless minutes can be recorded now; return the meeting."""
        require_secretariat(actor)
        async with self._db.read() as session:
            row = await self._find(session, actor.guild_id, number)
        self._check_minutes_time(row, self._clock())
        return view_of(row)

    @staticmethod
    def _check_minutes_time(row: Meeting, now: datetime) -> None:
        if row.cancelled_at is not None:
            raise Conflict(_("Meeting #{number} is cancelled.", number=row.number))
        if now < row.starts_at:
            raise Conflict(
                _(
                    "Meeting #{number} has not started: minutes are recorded from its start.",
                    number=row.number,
                )
            )

    async def record_minutes(
        self, actor: Actor, number: int, *, minutes: str, decisions: str
    ) -> MeetingView:
        """Record (or replace) a meeting's minutes and decisions; they go in the next digest."""
        require_secretariat(actor)
        text, decided = clean_block(minutes), clean_block(decisions)
        if not text and not decided:
            raise InvalidInput(_("Write the minutes or the decisions (or both)."))
        for value in (text, decided):
            if len(value) > MAX_MINUTES:
                raise InvalidInput(
                    _("Minutes can be at most {limit} characters.", limit=MAX_MINUTES)
                )
        now = self._clock()
        async with self._db.write() as session:
            row = await self._find(session, actor.guild_id, number, lock=True)
            self._check_minutes_time(row, now)
            replaced = row.minutes_at is not None
            row.minutes, row.decisions = text or None, decided or None
            row.minutes_by, row.minutes_at = actor.user_id, now
            session.add(row)
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="meeting.minutes",
                target=f"meeting:{number}",
                note="replaced" if replaced else None,
                at=now,
            )
            return view_of(row)

    # -- the Discord scheduled event --------------------------------------------------

    async def sync_one(
        self, guild_id: int, number: int, gateway: EventGateway, now: datetime | None = None
    ) -> SyncResult:
        """Bring one meeting's Discord event up to date now (after a command)."""
        async with self._db.read() as session:
            row = await self._find(session, guild_id, number)
        assert row.id is not None
        return await self._sync(row.id, gateway, now or self._clock())

    async def sync_events(
        self,
        now: datetime,
        gateway: EventGateway,
        guild_ids: Collection[int] | None = None,
    ) -> int:
        """Sync every meeting whose event is behind and due for a try; return how many synced.

        ``guild_ids``: the servers this process serves (its shards), chosen in
        the query itself; the others' meetings, and those of servers the bot
        left, are left untouched (a server it joins again is synced then).
        """
        try:
            async with self._db.read() as session:
                rows = await store.events_to_sync(session, now=now, guild_ids=guild_ids)
        except Exception:
            log.exception("reading the meetings to sync failed; the next tick tries again")
            return 0
        synced = 0
        for row in rows:
            assert row.id is not None
            try:
                result = await self._sync(row.id, gateway, now)
            except Exception:
                log.exception("syncing meeting %s failed; the next tick tries again", row.id)
                continue
            synced += result.synced
        return synced

    async def _sync(self, meeting_id: int, gateway: EventGateway, now: datetime) -> SyncResult:
        lock = self._locks.of(meeting_id)
        async with lock:
            async with self._db.read() as session:
                row = await store.get_meeting_by_id(session, meeting_id=meeting_id)
            if row is None:
                return SyncResult(synced=False)
            spec = spec_of(row, now)
            if row.event_id is None and spec.status in (EVENT_CANCELED, EVENT_COMPLETED):
                outcome = EventOutcome(ok=True, status=spec.status)  # nothing to tell Discord
            elif row.event_id is None and now >= row.starts_at:
                # Discord takes no event starting in the past: too late to show this one.
                outcome = EventOutcome(ok=True, status=EVENT_COMPLETED)
            elif (
                not row.event_dirty and row.event_id is not None and spec.status == row.event_status
            ):
                return SyncResult(synced=True)
            else:
                outcome = await gateway.sync(row.guild_id, row.event_id, spec)
            # Never hold a transaction while Discord answers: write what it said after.
            async with self._db.write() as session:
                fresh = await store.get_meeting_by_id(session, meeting_id=meeting_id, lock=True)
                if fresh is None:
                    return SyncResult(synced=False)
                changed_since = fresh.updated_at != row.updated_at
                if outcome.ok:
                    fresh.event_id = outcome.event_id or fresh.event_id
                    fresh.event_status = outcome.status
                    fresh.event_dirty = changed_since
                    fresh.event_next_try_at = None
                    fresh.event_attempts = 0
                    fresh.event_error = None
                    result = SyncResult(synced=True)
                else:
                    if outcome.gone:
                        fresh.event_id, fresh.event_status = None, None  # made again next time
                    fresh.event_dirty = True
                    fresh.event_attempts += 1
                    wait = retry_wait(fresh.event_attempts, outcome.retry_after)
                    fresh.event_next_try_at = now + wait
                    fresh.event_error = (outcome.error or "")[:300] or None
                    result = SyncResult(
                        synced=False,
                        missing_permission=outcome.missing_permission,
                        error=outcome.error,
                        next_try_at=fresh.event_next_try_at,
                    )
                    log.warning(
                        "Discord refused the event of meeting %s (%s); next try at %s",
                        meeting_id,
                        outcome.error,
                        fresh.event_next_try_at.isoformat(),
                    )
                session.add(fresh)
            return result

    async def next_due(self) -> datetime | None:
        """Return when the next meeting starts (its attendance button is posted then)."""
        async with self._db.read() as session:
            return await store.next_start(session)

    async def next_event_try(self) -> datetime | None:
        async with self._db.read() as session:
            return await store.next_event_try(session)

    # -- fair hours -------------------------------------------------------------------

    async def plan(
        self,
        actor: Actor,
        *,
        first: str,
        count: int,
        hours: str | None = None,
        every_days: int = 7,
        minutes: int | None = None,
    ) -> PlannedSeries:
        """Propose UTC hours for a series that share unsocial hours across the MAG's zones."""
        if not (actor.can_act_as_secretariat or actor.is_mag):
            raise PermissionDenied(_("Only MAG members and the secretariat can plan meetings."))
        candidates = parse_hours(hours)
        length = int(self._duration(minutes).total_seconds() // 60)
        try:
            day = date.fromisoformat(first.strip())
        except ValueError:
            raise InvalidInput(
                _("{text} is not a date. Use YYYY-MM-DD, such as 2027-01-12.", text=first)
            ) from None
        async with self._db.read() as session:
            members = await list_members(session, guild_id=actor.guild_id, current_only=True)
        counted = [m for m in members if m.timezone]
        if not counted:
            raise Conflict(
                _(
                    "No MAG member has set a time zone yet. Members set theirs with "
                    "`/profile timezone`."
                )
            )
        people = [Member(key=m.user_id, zone=m.timezone or "UTC", region=m.region) for m in counted]
        # Pure CPU work (zone conversions): off the event loop.
        result = await asyncio.to_thread(
            plan_series,
            people,
            first=day,
            count=count,
            every_days=every_days,
            hours=candidates,
            minutes=length,
        )
        # A member's time zone is theirs and the secretariat's to see: the MAG
        # sees regions (and its own zone).
        zoned = [m for m in counted if actor.can_act_as_secretariat or m.user_id == actor.user_id]
        return PlannedSeries(
            plan=result,
            names={m.user_id: m.display_name for m in counted},
            regions={m.user_id: m.region for m in counted},
            zones={m.user_id: m.timezone or "UTC" for m in zoned},
            without_zone=tuple(m.user_id for m in members if not m.timezone),
            minutes=length,
            every_days=every_days,
        )


async def _remove_start_deadline(
    session: AsyncSession, actor: Actor, deadline_number: int, now: datetime
) -> None:
    """Remove a cancelled meeting's start deadline and its pending reminders, in ``session``.

    What ``DeadlineService.remove`` does, inside the cancel's own transaction;
    a deadline removed already is left as it is.
    """
    deadline = await deadline_store.get_deadline(
        session, guild_id=actor.guild_id, number=deadline_number, for_update=True
    )
    if deadline is None or deadline.removed_at is not None:
        return
    assert deadline.id is not None
    deadline.removed_at = now
    deadline.roll_at = None
    deadline.updated_at = now
    session.add(deadline)
    cancelled = await deadline_store.cancel_reminders(
        session, guild_id=actor.guild_id, deadline_id=deadline.id, detail="deadline removed"
    )
    await record_event(
        session,
        guild_id=actor.guild_id,
        actor_id=actor.user_id,
        action="deadline.remove",
        target=f"deadline:{deadline_number}",
        before={"title": deadline.title, "kind": deadline.kind},
        note=ngettext(
            "{n} pending reminders cancelled", "{n} pending reminders cancelled", cancelled
        ),
        at=now,
    )


def _audit_value(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


async def meetings_digest_section(
    session: AsyncSession,
    guild_id: int,
    since: datetime,
    until: datetime,
    _settings: GuildSettings,
) -> DigestSection | None:
    """Return the minutes and decisions recorded in the period, one line per meeting."""
    rows = await store.minutes_between(session, guild_id=guild_id, since=since, until=until)
    if not rows:
        return None
    lines: list[Line] = []
    for row in rows:
        when = f"<t:{int(row.starts_at.timestamp())}:D>"
        if row.decisions:
            text = _(
                "{title} ({when}): decisions: {decisions}",
                title=slot("title"),
                when=when,
                decisions=slot("decisions"),
            )
            lines.append(
                parted(
                    text,
                    title=Typed(row.title, 100),
                    decisions=Typed(" / ".join(row.decisions.splitlines()), 300),
                )
            )
        else:
            text = _("{title} ({when}): minutes recorded.", title=slot("title"), when=when)
            lines.append(parted(text, title=Typed(row.title, 100)))
    lines.append(
        ngettext(
            "Full minutes: `/meeting view` ({n} meeting).",
            "Full minutes: `/meeting view` ({n} meetings).",
            len(rows),
        )
    )
    return DigestSection(name="meetings", title=_("Meeting minutes"), lines=tuple(lines), order=35)

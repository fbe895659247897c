"""MAG meetings, their agendas and attendance, and the Discord scheduled event kept in step.

A meeting is numbered per guild (its display name defaults to "Virtual
Meeting XI" from that number). Its start is a deadline (kind ``meeting``)
with the usual exactly-once reminders, like a consultation's close.

The scheduled event is the bot's copy made visible in Discord: the meeting
row is the truth, and ``event_dirty`` says Discord has not heard the latest
of it (created, changed, started, ended, cancelled). A sync that Discord
refuses leaves the row dirty with ``event_next_try_at`` and the error, and
the next tick tries again (``bot.services.meetings``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import Column, ForeignKey, Index, Integer, UniqueConstraint, func, or_
from sqlmodel import Field, SQLModel, col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.types import DiscordId, UTCDateTime, utcnow
from storage.upsert import insert_for

# Agenda items: added by the secretariat (accepted), or proposed by a MAG member.
PROPOSED: Final = "proposed"
ACCEPTED: Final = "accepted"
DECLINED: Final = "declined"
AGENDA_STATUSES: Final = (PROPOSED, ACCEPTED, DECLINED)

# The scheduled event's status as last told to Discord (Discord's own numbers).
EVENT_SCHEDULED, EVENT_ACTIVE, EVENT_COMPLETED, EVENT_CANCELED = 1, 2, 3, 4


class MeetingCounter(SQLModel, table=True):
    """The last meeting number handed out in one guild."""

    __tablename__ = "meeting_counter"

    guild_id: int = Field(sa_column=Column(DiscordId, primary_key=True, autoincrement=False))
    last_number: int = Field(default=0)


class Meeting(SQLModel, table=True):
    """A MAG meeting: when, where, what it decided, and its Discord scheduled event."""

    __tablename__ = "meeting"
    __table_args__ = (
        UniqueConstraint("guild_id", "number", name="uq_meeting_guild_number"),
        Index("ix_meeting_guild_starts", "guild_id", "starts_at"),
        Index("ix_meeting_event_dirty", "event_dirty", "event_next_try_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_type=DiscordId)
    number: int
    title: str = Field(max_length=100)  # the scheduled event's name: at most 100
    description: str | None = Field(default=None, max_length=1000)
    location: str = Field(max_length=100)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    timezone: str = Field(max_length=64)
    channel_id: int | None = Field(default=None, sa_type=DiscordId)  # reminders, attendance
    deadline_number: int | None = None  # its start, with the reminders
    created_by: int | None = Field(default=None, sa_type=DiscordId)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The attendance button: posted once, when the meeting starts (or on request).
    attendance_posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    minutes: str | None = Field(default=None, max_length=4000)
    decisions: str | None = Field(default=None, max_length=4000)
    minutes_by: int | None = Field(default=None, sa_type=DiscordId)
    minutes_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The Discord scheduled event, as far as Discord has heard.
    event_id: int | None = Field(default=None, sa_type=DiscordId)
    event_status: int | None = None  # None: never created
    event_dirty: bool = Field(default=True)
    event_next_try_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    event_attempts: int = Field(default=0)
    event_error: str | None = Field(default=None, max_length=300)


class MeetingAgendaItem(SQLModel, table=True):
    """One agenda item, numbered within its meeting."""

    __tablename__ = "meeting_agenda_item"
    __table_args__ = (UniqueConstraint("meeting_id", "number", name="uq_agenda_meeting_number"),)

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_type=DiscordId)
    meeting_id: int = Field(
        sa_column=Column(Integer, ForeignKey("meeting.id", ondelete="CASCADE"), nullable=False)
    )
    number: int
    text: str = Field(max_length=200)
    status: str = Field(default=PROPOSED, max_length=12)
    proposed_by: int = Field(sa_type=DiscordId)
    decided_by: int | None = Field(default=None, sa_type=DiscordId)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MeetingAttendance(SQLModel, table=True):
    """Someone said "I'm here" at a meeting (once per person)."""

    __tablename__ = "meeting_attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id", name="uq_attendance_person"),)

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_type=DiscordId)
    meeting_id: int = Field(
        sa_column=Column(Integer, ForeignKey("meeting.id", ondelete="CASCADE"), nullable=False)
    )
    user_id: int = Field(sa_type=DiscordId)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


async def allocate_meeting_number(session: AsyncSession, *, guild_id: int) -> int:
    """Return the guild's next meeting number (its counter held until the transaction ends)."""
    bump = (
        update(MeetingCounter)
        .where(col(MeetingCounter.guild_id) == guild_id)
        .values(last_number=col(MeetingCounter.last_number) + 1)
        .returning(col(MeetingCounter.last_number))
    )
    number = (await session.exec(bump)).scalar_one_or_none()
    if number is None:
        await session.exec(
            insert_for(session, MeetingCounter)
            .values(guild_id=guild_id, last_number=0)
            .on_conflict_do_nothing(index_elements=["guild_id"])
        )
        number = (await session.exec(bump)).scalar_one()
    return int(number)


async def get_meeting(
    session: AsyncSession, *, guild_id: int, number: int, lock: bool = False
) -> Meeting | None:
    query = select(Meeting).where(Meeting.guild_id == guild_id, Meeting.number == number)
    if lock:
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def get_meeting_by_id(
    session: AsyncSession, *, meeting_id: int, lock: bool = False
) -> Meeting | None:
    query = select(Meeting).where(Meeting.id == meeting_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await session.exec(query)).first()


async def meeting_of_deadline(
    session: AsyncSession, *, guild_id: int, deadline_number: int
) -> Meeting | None:
    query = select(Meeting).where(
        Meeting.guild_id == guild_id,
        Meeting.deadline_number == deadline_number,
        col(Meeting.cancelled_at).is_(None),
    )
    return (await session.exec(query)).first()


async def list_meetings(
    session: AsyncSession, *, guild_id: int, since: datetime | None = None, limit: int = 25
) -> Sequence[Meeting]:
    """Return the guild's meetings, soonest first (those ending after ``since``, when given)."""
    query = select(Meeting).where(Meeting.guild_id == guild_id)
    if since is not None:
        query = query.where(col(Meeting.ends_at) > since)
    return (await session.exec(query.order_by(col(Meeting.starts_at)).limit(limit))).all()


async def count_upcoming(session: AsyncSession, *, guild_id: int, now: datetime) -> int:
    """Return how many meetings of the guild are not cancelled and not over."""
    query = select(func.count()).where(
        col(Meeting.guild_id) == guild_id,
        col(Meeting.cancelled_at).is_(None),
        col(Meeting.ends_at) > now,
    )
    return int((await session.exec(query)).one())


async def events_to_sync(
    session: AsyncSession,
    *,
    now: datetime,
    guild_ids: Collection[int] | None = None,
    limit: int = 50,
) -> Sequence[Meeting]:
    """Return meetings Discord has not heard the latest of, due for a try now.

    Dirty rows (created, edited, cancelled), and clean ones whose event
    should start or end by now; all only once their retry time has come (a
    refused start waits like a refused edit). ``guild_ids``: the servers this
    process serves, filtered here before the limit, so rows of other shards
    or of servers the bot left never crowd out the ones it can sync.
    """
    due = col(Meeting.event_next_try_at).is_(None) | (col(Meeting.event_next_try_at) <= now)
    dirty = col(Meeting.event_dirty).is_(True)
    started = (
        (col(Meeting.event_status) == EVENT_SCHEDULED)
        & col(Meeting.cancelled_at).is_(None)
        & (col(Meeting.starts_at) <= now)
    )
    ended = (
        (col(Meeting.event_status) == EVENT_ACTIVE)
        & col(Meeting.cancelled_at).is_(None)
        & (col(Meeting.ends_at) <= now)
    )
    query = select(Meeting).where(or_(dirty, started, ended), due)
    if guild_ids is not None:
        if not guild_ids:
            return []
        query = query.where(col(Meeting.guild_id).in_(list(guild_ids)))
    query = query.order_by(
        func.coalesce(col(Meeting.event_next_try_at), col(Meeting.starts_at)),
        col(Meeting.id),
    ).limit(limit)
    return (await session.exec(query)).all()


async def attendance_due(
    session: AsyncSession, *, now: datetime, limit: int = 50
) -> Sequence[Meeting]:
    """Return (locked) meetings under way whose attendance button is not posted yet."""
    query = (
        select(Meeting)
        .where(
            col(Meeting.cancelled_at).is_(None),
            col(Meeting.attendance_posted_at).is_(None),
            col(Meeting.starts_at) <= now,
            col(Meeting.ends_at) > now,
        )
        .order_by(col(Meeting.starts_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.exec(query)).all()


async def agenda_of(session: AsyncSession, *, meeting_id: int) -> Sequence[MeetingAgendaItem]:
    query = (
        select(MeetingAgendaItem)
        .where(MeetingAgendaItem.meeting_id == meeting_id)
        .order_by(col(MeetingAgendaItem.number))
    )
    return (await session.exec(query)).all()


async def next_agenda_number(session: AsyncSession, *, meeting_id: int) -> int:
    query = select(func.coalesce(func.max(MeetingAgendaItem.number), 0)).where(
        MeetingAgendaItem.meeting_id == meeting_id
    )
    return int((await session.exec(query)).one()) + 1


async def get_agenda_item(
    session: AsyncSession, *, meeting_id: int, number: int
) -> MeetingAgendaItem | None:
    query = select(MeetingAgendaItem).where(
        MeetingAgendaItem.meeting_id == meeting_id, MeetingAgendaItem.number == number
    )
    return (await session.exec(query)).first()


async def add_attendance(
    session: AsyncSession, *, guild_id: int, meeting_id: int, user_id: int, at: datetime
) -> bool:
    """Record that someone is at a meeting; return False when they were already."""
    inserted = (
        await session.exec(
            insert_for(session, MeetingAttendance)
            .values(guild_id=guild_id, meeting_id=meeting_id, user_id=user_id, at=at)
            .on_conflict_do_nothing(index_elements=["meeting_id", "user_id"])
            .returning(col(MeetingAttendance.id))
        )
    ).scalar_one_or_none()
    return inserted is not None


async def attendees_of(session: AsyncSession, *, meeting_id: int) -> Sequence[int]:
    query = (
        select(MeetingAttendance.user_id)
        .where(MeetingAttendance.meeting_id == meeting_id)
        .order_by(col(MeetingAttendance.at))
    )
    return [int(u) for u in (await session.exec(query)).all()]


async def minutes_between(
    session: AsyncSession, *, guild_id: int, since: datetime, until: datetime
) -> Sequence[Meeting]:
    """Return the meetings whose minutes were recorded in (since, until], for the digest."""
    query = (
        select(Meeting)
        .where(
            Meeting.guild_id == guild_id,
            col(Meeting.minutes_at) > since,
            col(Meeting.minutes_at) <= until,
        )
        .order_by(col(Meeting.starts_at))
    )
    return (await session.exec(query)).all()


async def next_start(session: AsyncSession) -> datetime | None:
    """Return when the next meeting whose attendance is not posted starts (for a wake-up)."""
    query = select(func.min(Meeting.starts_at)).where(
        col(Meeting.cancelled_at).is_(None), col(Meeting.attendance_posted_at).is_(None)
    )
    return (await session.exec(query)).one()


async def next_event_try(session: AsyncSession) -> datetime | None:
    """Return when the next event sync, start or end is due (for a wake-up)."""
    query = select(func.min(Meeting.event_next_try_at)).where(col(Meeting.event_dirty).is_(True))
    return (await session.exec(query)).one()

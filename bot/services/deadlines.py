"""Deadlines: add, list, edit, remove, and the calendar of what is ahead.

Every change to a deadline plans its reminders in the same transaction
(``bot.services.reminders.plan_deadline``), so a deadline never exists
without its reminders, nor the reminders without it. Only the secretariat
(or an admin) changes deadlines; everyone in the server may read them.

Edits re-plan the reminders that are still pending; a reminder already sent
stays sent, and one being sent at that moment completes. When the schedule of
a recurring deadline changes, its upcoming occurrence keeps its place in the
ledger, so what was already sent for it is not sent again.
"""

from __future__ import annotations

import builtins
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import Conflict, InvalidInput, NotFound
from bot.i18n import N_, _, current, ngettext
from bot.services.auth import Actor, require_secretariat
from bot.services.config import ConfigService, check_timezone
from bot.services.durations import format_offsets, parse_offsets
from bot.services.recurrence import (
    REPEAT_LABELS,
    REPEATS,
    Repeat,
    format_wall,
    is_gap,
    to_utc,
)
from bot.services.reminders import Planning, Schedule, plan_deadline
from bot.services.text import clean_line, quoted, web_link
from storage import deadlines as store
from storage.audit import record_event
from storage.consultations import consultation_of_deadline
from storage.database import Database
from storage.deadlines import Deadline, Reminder
from storage.meetings import meeting_of_deadline

log = logging.getLogger(__name__)

KINDS: Final = ("proposals", "reviews", "consultation", "meeting", "confirmations", "other")
KIND_LABELS: Final = {
    "proposals": N_("Proposals"),
    "reviews": N_("Reviews"),
    "consultation": N_("Consultation"),
    "meeting": N_("Meeting"),
    "confirmations": N_("Slot confirmations"),
    "other": N_("Deadline"),
}
MAX_TITLE: Final = 200
MAX_LINK: Final = 500
# How far ahead a due time may be (further is a typo, and near year 9999 the
# date arithmetic overflows).
MAX_YEARS_AHEAD: Final = 10
LIST_LIMIT: Final = 50
_REPEAT_WORDS: Final = {
    "none": "none",
    "no": "none",
    "once": "none",
    "daily": "daily",
    "every day": "daily",
    "each day": "daily",
    "weekly": "weekly",
    "every week": "weekly",
    "biweekly": "biweekly",
    "fortnightly": "biweekly",
    "every two weeks": "biweekly",
    "every 2 weeks": "biweekly",
    "monthly": "monthly",
    "every month": "monthly",
}
_DUE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")


@dataclass(frozen=True)
class ReminderView:
    """One planned or settled reminder of a deadline."""

    occurrence: int
    offset_minutes: int
    due_at: datetime
    deadline_at: datetime
    status: str
    late: bool = False
    detail: str | None = None


@dataclass(frozen=True)
class NewDeadline:
    """A deadline checked and planned, not stored yet (``DeadlineService.prepare``)."""

    title: str
    kind: str
    link: str | None
    zone_name: str
    wall: datetime
    repeat: Repeat
    minutes: tuple[int, ...]
    channel_id: int | None
    planning: Planning
    now: datetime


@dataclass(frozen=True)
class DeadlineView:
    """A deadline as the commands show it."""

    number: int
    title: str
    kind: str
    link: str | None
    timezone: str
    first_local: str
    repeat: str
    offsets: tuple[int, ...]
    channel_id: int | None
    next_due_at: datetime
    removed: bool
    reminders: tuple[ReminderView, ...] = ()

    @property
    def repeat_label(self) -> str:
        """Return the repeat in words: ``every two weeks``."""
        return _(REPEAT_LABELS.get(self.repeat, self.repeat))

    @property
    def offsets_text(self) -> str:
        """Return the offsets as typed: ``7d, 1d, 1h``."""
        return format_offsets(self.offsets)

    @property
    def schedule(self) -> Schedule:
        """Return the wall-clock schedule (its occurrence keys start at 0)."""
        return Schedule(
            first=datetime.fromisoformat(self.first_local),
            zone=ZoneInfo(self.timezone),
            repeat=self.repeat,  # type: ignore[arg-type]
        )

    def pending(self) -> tuple[ReminderView, ...]:
        """Return the reminders still to send, soonest first."""
        return tuple(r for r in self.reminders if r.status in store.OPEN_STATUSES)


def view_of(deadline: Deadline, reminders: list[Reminder] | None = None) -> DeadlineView:
    """Return the view of a deadline row (with its reminders, when given)."""
    return DeadlineView(
        number=deadline.number,
        title=deadline.title,
        kind=deadline.kind,
        link=deadline.link,
        timezone=deadline.timezone,
        first_local=deadline.first_local,
        repeat=deadline.repeat,
        offsets=tuple(deadline.offsets),
        channel_id=deadline.channel_id,
        next_due_at=deadline.due_at,
        removed=deadline.removed_at is not None,
        reminders=tuple(
            ReminderView(
                occurrence=r.occurrence,
                offset_minutes=r.offset_minutes,
                due_at=r.due_at,
                deadline_at=r.deadline_at,
                status=r.status,
                late=r.late,
                detail=r.detail,
            )
            for r in reminders or ()
        ),
    )


def parse_due(text: str) -> datetime:
    """Return ``YYYY-MM-DD HH:MM`` (seconds optional) as a naive wall time, or raise."""
    match = _DUE.match(text)
    problem = InvalidInput(
        _(
            "{text} is not a date and time. Use YYYY-MM-DD HH:MM on a 24-hour clock, "
            "for example `2027-03-15 23:59`.",
            text=quoted(text, 30),
        )
    )
    if match is None:
        raise problem
    try:
        year, month, day, hour, minute, second = (int(p or 0) for p in match.groups())
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        raise problem from None


def check_title(text: str) -> str:
    """Return the title on one line, or raise when empty or too long."""
    title = clean_line(text)
    if not title:
        raise InvalidInput(_("Give the deadline a title."))
    if len(title) > MAX_TITLE:
        raise InvalidInput(
            ngettext(
                "Titles can be at most {n} character (this one has {length}).",
                "Titles can be at most {n} characters (this one has {length}).",
                MAX_TITLE,
                length=len(title),
            )
        )
    return title


def check_kind(text: str) -> str:
    """Return a known kind of deadline, or raise."""
    kind = text.strip().lower()
    if kind not in KINDS:
        raise InvalidInput(_("The kind must be one of {kinds}.", kinds=", ".join(KINDS)))
    return kind


def check_repeat(text: str) -> Repeat:
    """Return the repeat named by ``text`` (``every two weeks`` -> ``biweekly``), or raise."""
    repeat = _REPEAT_WORDS.get(" ".join(text.strip().lower().split()))
    if repeat is None:
        raise InvalidInput(_("Repeat must be none, daily, weekly, every two weeks or monthly."))
    assert repeat in REPEATS
    return repeat


def check_link(text: str) -> str | None:
    """Return the link (None for ``-`` or empty), or raise when it is not a web address."""
    link = clean_line(text)
    if link in ("", "-"):
        return None
    if len(link) > MAX_LINK:
        raise InvalidInput(
            ngettext(
                "Links can be at most {n} character.",
                "Links can be at most {n} characters.",
                MAX_LINK,
            )
        )
    checked = web_link(link)
    if checked is None:
        raise InvalidInput(
            _(
                "The link must be a full web address with a real host, such as "
                "`https://www.intgovforum.org/en/content/call-for-proposals`."
            )
        )
    return checked


class DeadlineService:
    """Add, change, remove and list a guild's deadlines."""

    def __init__(self, db: Database, clock: Callable[[], datetime], config: ConfigService) -> None:
        self._db = db
        self._clock = clock
        self._config = config
        # Told the earliest new reminder time after a change (the delivery
        # wakes up for it instead of waiting for its next tick).
        self.on_planned: list[Callable[[datetime], None]] = []

    async def add(
        self,
        actor: Actor,
        *,
        title: str,
        due: str,
        timezone: str | None = None,
        kind: str = "other",
        link: str | None = None,
        offsets: str | None = None,
        repeat: str = "none",
        channel_id: int | None = None,
    ) -> DeadlineView:
        """Add a deadline with its reminders; refuse (storing nothing) on bad input."""
        new = await self.prepare(
            actor,
            title=title,
            due=due,
            timezone=timezone,
            kind=kind,
            link=link,
            offsets=offsets,
            repeat=repeat,
            channel_id=channel_id,
        )
        async with self._db.write() as session:
            view = await self.create_in(session, actor, new)
        self.planned(view)
        return view

    async def prepare(
        self,
        actor: Actor,
        *,
        title: str,
        due: str,
        timezone: str | None = None,
        kind: str = "other",
        link: str | None = None,
        offsets: str | None = None,
        repeat: str = "none",
        channel_id: int | None = None,
    ) -> NewDeadline:
        """Check a deadline as typed and plan its reminders; raise on bad input, store nothing.

        ``create_in`` then stores it in the caller's transaction (a consultation
        creates its closing deadline with itself), and ``planned`` wakes the
        clock once that transaction is committed.
        """
        require_secretariat(actor)
        settings = await self._config.get(actor.guild_id)
        zone_name = check_timezone(timezone) if timezone else settings.timezone
        wall = parse_due(due)
        title = check_title(title)
        kind = check_kind(kind)
        repeat_value = check_repeat(repeat)
        link_value = check_link(link) if link is not None else None
        minutes = parse_offsets(offsets) if offsets is not None else settings.reminder_offsets
        if channel_id is None and settings.channels["reminders"] is None:
            raise InvalidInput(
                _(
                    "There is no reminders channel yet: choose a `channel` for this deadline, "
                    "or ask an admin to run `/config channel reminders`."
                )
            )
        now = self._clock()
        zone = ZoneInfo(zone_name)
        self._check_ahead(wall, zone, zone_name, now)
        schedule = Schedule(first=wall, zone=zone, repeat=repeat_value)
        return NewDeadline(
            title=title,
            kind=kind,
            link=link_value,
            zone_name=zone_name,
            wall=wall,
            repeat=repeat_value,
            minutes=tuple(minutes),
            channel_id=channel_id,
            planning=plan_deadline(schedule, minutes, now),
            now=now,
        )

    async def create_in(
        self, session: AsyncSession, actor: Actor, new: NewDeadline
    ) -> DeadlineView:
        """Store a prepared deadline and its reminders in the caller's transaction."""
        planning, now = new.planning, new.now
        number = await store.allocate_deadline_number(session, guild_id=actor.guild_id)
        deadline = await store.add_deadline(
            session,
            deadline=Deadline(
                guild_id=actor.guild_id,
                number=number,
                title=new.title,
                kind=new.kind,
                link=new.link,
                timezone=new.zone_name,
                first_local=format_wall_seconds(new.wall),
                repeat=new.repeat,
                offsets=list(new.minutes),
                channel_id=new.channel_id,
                due_at=planning.next_due_at,
                roll_at=planning.roll_at,
                created_by=actor.user_id,
                created_at=now,
                updated_at=now,
            ),
        )
        assert deadline.id is not None
        await store.upsert_reminders(
            session,
            guild_id=actor.guild_id,
            deadline_id=deadline.id,
            plan=planning.plan,
            now=now,
        )
        await record_event(
            session,
            guild_id=actor.guild_id,
            actor_id=actor.user_id,
            action="deadline.add",
            target=f"deadline:{number}",
            after=_audit_state(deadline),
            at=now,
        )
        reminders = await store.reminders_of(
            session, guild_id=actor.guild_id, deadline_ids=[deadline.id]
        )
        return view_of(deadline, reminders)

    async def edit(
        self,
        actor: Actor,
        number: int,
        *,
        title: str | None = None,
        due: str | None = None,
        timezone: str | None = None,
        kind: str | None = None,
        link: str | None = None,
        offsets: str | None = None,
        repeat: str | None = None,
        channel_id: int | None = None,
        by_meeting: bool = False,
    ) -> DeadlineView:
        """Change a deadline; pending reminders are re-planned, sent ones stay sent.

        ``by_meeting``: a meeting moves its own start (``/deadline edit`` may not).
        """
        require_secretariat(actor)
        given = {
            "title": title,
            "due": due,
            "timezone": timezone,
            "kind": kind,
            "link": link,
            "offsets": offsets,
            "repeat": repeat,
            "channel": channel_id,
        }
        if all(value is None for value in given.values()):
            raise InvalidInput(_("Say what to change: a new title, due time, offsets, link…"))
        changes: dict[str, Any] = {}
        if title is not None:
            changes["title"] = check_title(title)
        if kind is not None:
            changes["kind"] = check_kind(kind)
        if link is not None:
            changes["link"] = check_link(link)
        if offsets is not None:
            changes["offsets"] = list(parse_offsets(offsets))
        if channel_id is not None:
            changes["channel_id"] = channel_id
        new_zone = check_timezone(timezone) if timezone is not None else None
        new_wall = parse_due(due) if due is not None else None
        new_repeat = check_repeat(repeat) if repeat is not None else None
        now = self._clock()
        async with self._db.write() as session:
            deadline = await self._get(session, actor.guild_id, number, for_update=True)
            await self._check_not_a_consultation(
                session,
                deadline,
                removing=due is not None or repeat is not None or kind is not None,
            )
            if not by_meeting:
                await self._check_not_a_meeting(
                    session,
                    deadline,
                    moving=due is not None
                    or repeat is not None
                    or kind is not None
                    or timezone is not None,
                )
            assert deadline.id is not None
            before = _audit_state(deadline)
            old = Schedule.of(deadline)
            schedule = Schedule(
                first=new_wall if new_wall is not None else old.first,
                zone=ZoneInfo(new_zone) if new_zone is not None else old.zone,
                repeat=new_repeat if new_repeat is not None else old.repeat,
            )
            moved = (schedule.first, schedule.zone.key, schedule.repeat) != (
                old.first,
                old.zone.key,
                old.repeat,
            )
            if moved:
                if new_wall is not None or schedule.repeat == "none":
                    self._check_ahead(schedule.first, schedule.zone, schedule.zone.key, now)
                upcoming_new = schedule.upcoming(now)
                if upcoming_new is None:
                    raise InvalidInput(
                        _("That schedule has no occurrence ahead: give a later `due`.")
                    )
                # The upcoming occurrence keeps its ledger key across the change.
                key = old.base + (old.upcoming(now) or 0)
                schedule = Schedule(
                    schedule.first, schedule.zone, schedule.repeat, base=key - upcoming_new
                )
                changes.update(
                    first_local=format_wall_seconds(schedule.first),
                    timezone=schedule.zone.key,
                    repeat=schedule.repeat,
                    occurrence_base=schedule.base,
                )
            for name, value in changes.items():
                setattr(deadline, name, value)
            planning = plan_deadline(schedule, deadline.offsets, now)
            deadline.due_at = planning.next_due_at
            deadline.roll_at = planning.roll_at
            deadline.updated_at = now
            await store.replan_reminders(
                session,
                guild_id=actor.guild_id,
                deadline_id=deadline.id,
                plan=planning.plan,
                now=now,
            )
            after = _audit_state(deadline)
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="deadline.edit",
                target=f"deadline:{number}",
                before={k: v for k, v in before.items() if after.get(k) != v},
                after={k: v for k, v in after.items() if before.get(k) != v},
                at=now,
            )
            reminders = await store.reminders_of(
                session, guild_id=actor.guild_id, deadline_ids=[deadline.id]
            )
            view = view_of(deadline, reminders)
        self.planned(view)
        return view

    async def remove(self, actor: Actor, number: int, *, by_meeting: bool = False) -> DeadlineView:
        """Remove a deadline and cancel its pending reminders."""
        require_secretariat(actor)
        now = self._clock()
        async with self._db.write() as session:
            deadline = await self._get(session, actor.guild_id, number, for_update=True)
            await self._check_not_a_consultation(session, deadline, removing=True)
            if not by_meeting:
                await self._check_not_a_meeting(session, deadline, moving=True)
            assert deadline.id is not None
            deadline.removed_at = now
            deadline.roll_at = None
            deadline.updated_at = now
            cancelled = await store.cancel_reminders(
                session,
                guild_id=actor.guild_id,
                deadline_id=deadline.id,
                detail="deadline removed",
            )
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="deadline.remove",
                target=f"deadline:{number}",
                before=_audit_state(deadline),
                # English says "reminders" for any number (as it always has).
                note=ngettext(
                    "{n} pending reminders cancelled", "{n} pending reminders cancelled", cancelled
                ),
                at=now,
            )
            reminders = await store.reminders_of(
                session, guild_id=actor.guild_id, deadline_ids=[deadline.id]
            )
            return view_of(deadline, reminders)

    async def get(self, actor: Actor, number: int) -> DeadlineView:
        """Return one deadline with its reminders."""
        async with self._db.read() as session:
            deadline = await self._get(session, actor.guild_id, number)
            assert deadline.id is not None
            reminders = await store.reminders_of(
                session, guild_id=actor.guild_id, deadline_ids=[deadline.id]
            )
            return view_of(deadline, reminders)

    async def list(
        self, actor: Actor, *, include_past: bool = False
    ) -> builtins.list[DeadlineView]:
        """Return the guild's deadlines, soonest first (past ones only when asked)."""
        now = self._clock()

        async def load() -> tuple[DeadlineView, ...]:
            async with self._db.read() as session:
                rows = await store.list_deadlines(
                    session,
                    guild_id=actor.guild_id,
                    due_after=None if include_past else now,
                    limit=LIST_LIMIT,
                )
                reminders = await store.reminders_of(
                    session, guild_id=actor.guild_id, deadline_ids=[d.id for d in rows if d.id]
                )
            by_deadline: dict[int, builtins.list[Reminder]] = {}
            for reminder in reminders:
                by_deadline.setdefault(reminder.deadline_id, []).append(reminder)
            return tuple(view_of(d, by_deadline.get(d.id or 0, [])) for d in rows)

        key = ("deadlines", actor.guild_id, current(), include_past)
        views = await self._db.reads.get(key, load, now=now, tables=("deadline", "reminder"))
        # Kept up to 2 s: one that passed meanwhile is not listed as ahead
        # (the query's own rule: a recurring deadline stays).
        return [v for v in views if include_past or v.repeat != "none" or v.next_due_at > now]

    async def upcoming(self, actor: Actor) -> builtins.list[DeadlineView]:
        """Return the deadlines still ahead (for the calendar)."""
        return await self.list(actor, include_past=False)

    @staticmethod
    async def _check_not_a_consultation(
        session: Any, deadline: Deadline, *, removing: bool
    ) -> None:
        """Refuse to move or remove a consultation's closing deadline here (it closes by it)."""
        if deadline.kind != "consultation" or not removing:
            return
        owner = await consultation_of_deadline(
            session, guild_id=deadline.guild_id, deadline_number=deadline.number
        )
        if owner is not None:
            raise Conflict(
                _(
                    "Deadline #{number} is when consultation #{consultation} closes: its time, "
                    "repeat and kind cannot change here, and it cannot be removed. Its title, "
                    "link, offsets and channel can.",
                    number=deadline.number,
                    consultation=owner.number,
                )
            )

    @staticmethod
    async def _check_not_a_meeting(session: Any, deadline: Deadline, *, moving: bool) -> None:
        """Refuse to move or remove a meeting's start here: `/meeting edit` moves both."""
        if deadline.kind != "meeting" or not moving:
            return
        owner = await meeting_of_deadline(
            session, guild_id=deadline.guild_id, deadline_number=deadline.number
        )
        if owner is not None:
            raise Conflict(
                _(
                    "Deadline #{number} is when meeting #{meeting} starts: change its time with "
                    "`/meeting edit`, or cancel it with `/meeting cancel`. Its title, link, "
                    "offsets and channel can change here.",
                    number=deadline.number,
                    meeting=owner.number,
                )
            )

    async def _get(
        self, session: Any, guild_id: int, number: int, *, for_update: bool = False
    ) -> Deadline:
        deadline = await store.get_deadline(
            session, guild_id=guild_id, number=number, for_update=for_update
        )
        if deadline is None or deadline.removed_at is not None:
            raise NotFound(
                _("There is no deadline #{number}. `/deadline list` shows them.", number=number)
            )
        return deadline

    @staticmethod
    def _check_ahead(wall: datetime, zone: ZoneInfo, zone_name: str, now: datetime) -> None:
        # Bound the wall time first: near year 1 or 9999 converting it to UTC
        # (or stepping a repeat past it) overflows datetime. A day's slack
        # covers every zone's offset, so the exact past check below still rules.
        naive_now = now.astimezone(UTC).replace(tzinfo=None)
        latest = naive_now + timedelta(days=365 * MAX_YEARS_AHEAD)
        if wall > latest:
            raise InvalidInput(
                _(
                    "{when} is too far ahead: give a date and time "
                    "between now and the end of {year}.",
                    when=format_wall_seconds(wall),
                    year=latest.year - 1,
                )
            )
        if wall < naive_now - timedelta(days=2) or to_utc(wall, zone) <= now:
            raise InvalidInput(
                _(
                    "{when} {zone} is in the past. Give a date and time ahead.",
                    when=format_wall(wall),
                    zone=zone_name,
                )
            )
        if is_gap(wall, zone):
            log.info("deadline at %s %s falls in a DST gap; shifted forward", wall, zone_name)

    def planned(self, view: DeadlineView) -> None:
        """Tell the clock when the first reminder of ``view`` is due (after its commit)."""
        pending = [r.due_at for r in view.pending()]
        if not pending:
            return
        for callback in self.on_planned:
            try:
                callback(min(pending))
            except Exception:
                log.exception("on_planned callback failed")


def format_wall_seconds(wall: datetime) -> str:
    """Return the wall time as stored: ``YYYY-MM-DD HH:MM``, with ``:SS`` when not zero."""
    return wall.isoformat(sep=" ", timespec="seconds" if wall.second else "minutes")


def _audit_state(deadline: Deadline) -> dict[str, Any]:
    return {
        "title": deadline.title,
        "kind": deadline.kind,
        "due": deadline.first_local,
        "timezone": deadline.timezone,
        "repeat": deadline.repeat,
        "offsets": list(deadline.offsets),
        "link": deadline.link,
        "channel_id": str(deadline.channel_id) if deadline.channel_id else None,
    }

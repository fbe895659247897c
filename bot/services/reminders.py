"""Reminders: planned with their deadline, queued once, sent by the outbox.

Planning turns a deadline (its wall-clock schedule and offsets) into reminder
rows; ``bot.services.deadlines`` calls it in the transaction that changes the
deadline, and the ticker calls it again for recurring deadlines as their
next occurrences come near (``roll``).

A tick (``ReminderService.tick(now)``), in order:

1. plans the next occurrences of recurring deadlines that are due for it;
2. skips reminders whose deadline has passed (never sent late), and of the
   due reminders of one occurrence keeps only the nearest to the deadline
   (after downtime: one late reminder, not a burst);
3. queues due reminders: in one transaction a batch of rows becomes
   ``queued`` and each gets its outbox row (``reminder:<id>``, unique), with
   who is still to act (the chase) as it stands at that moment, and, when
   the server chose direct messages, one row per member chased (once per
   reminder, whatever happens to the channel post).

The outbox (``bot.services.sending``) sends them, on the channel's lane,
several due together as one message; it tells this service how each ended
(sent, with the time and whether it was late; failed; expired when its
deadline came first), recorded on the reminder row. No phase of a tick can
stop the others, and no error escapes ``tick``.
"""

from __future__ import annotations

import logging
import secrets
import socket
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import SOURCE, _, ngettext, speaking
from bot.services.config import ConfigService, GuildSettings
from bot.services.faults import log_failure
from bot.services.outbox import (
    Chase,
    DirectPost,
    Post,
    PostResult,
    ReminderBatch,
    ReminderPost,
)
from bot.services.recurrence import (
    Repeat,
    first_occurrence_after,
    occurrence,
)
from bot.services.sending import OutboxService, channel_of_lane, nonce_of, ref_of
from bot.services.taxonomy import CLOSED_TO_REVIEW
from bot.services.text import decode_line, encode_line
from storage import deadlines as store
from storage.chasing import proposals_short_of_speakers, unfinished_reviews
from storage.database import Database
from storage.deadlines import Deadline, Reminder
from storage.delivery import Shards
from storage.outbox import SENT as OUTBOX_SENT
from storage.outbox import NewItem, OutboxItem, channel_lane, enqueue, user_lane
from storage.reviews import round_of_deadline, round_pairs

log = logging.getLogger(__name__)

LOOKAHEAD: Final = timedelta(days=1)  # plan a recurrence this long before its first reminder
LATE_AFTER: Final = timedelta(minutes=5)  # later than this, a reminder says it is late
BATCH: Final = 100
MAX_NAMED: Final = 30  # chased members named in one reminder

# Proposals whose reviews and speakers are still being chased (the proposals
# feature's vocabulary: bot.services.taxonomy).
CHASED_STATUSES: Final = ("submitted", "under_review")
SPEAKER_ROLE: Final = "speaker"
CONFIRMED: Final = "confirmed"


def default_claimer() -> str:
    """Return an id for this process, unique enough to tell claimers apart."""
    return f"{socket.gethostname()[:40]}-{secrets.token_hex(4)}"


# --- planning ---------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """A deadline's occurrences: wall-clock start, zone, repeat, and the key of the first."""

    first: datetime  # naive, on the zone's wall clock
    zone: ZoneInfo
    repeat: Repeat
    base: int = 0

    @classmethod
    def of(cls, deadline: Deadline) -> Schedule:
        """Return the schedule stored in a deadline row."""
        return cls(
            first=datetime.fromisoformat(deadline.first_local),
            zone=ZoneInfo(deadline.timezone),
            repeat=deadline.repeat,  # type: ignore[arg-type]
            base=deadline.occurrence_base,
        )

    def at(self, k: int) -> datetime:
        """Return occurrence ``k`` of this schedule, in UTC."""
        return occurrence(self.first, self.zone, self.repeat, k)

    def upcoming(self, now: datetime) -> int | None:
        """Return the index of the first occurrence after ``now`` (None: it is over)."""
        return first_occurrence_after(self.first, self.zone, self.repeat, now)

    def between(self, start: datetime, end: datetime) -> list[datetime]:
        """Return the occurrences in (start, end], in UTC."""
        k = self.upcoming(start)
        found: list[datetime] = []
        while k is not None:
            moment = self.at(k)
            if moment > end:
                break
            found.append(moment)
            k = k + 1 if self.repeat != "none" else None
        return found


@dataclass(frozen=True)
class Planning:
    """The reminders a deadline should have now, and when to look at it again."""

    plan: dict[tuple[int, int], tuple[datetime, datetime]]
    next_due_at: datetime
    roll_at: datetime | None


def plan_deadline(
    schedule: Schedule,
    offsets: Iterable[int],
    now: datetime,
    *,
    include_missed: bool = False,
    lookahead: timedelta = LOOKAHEAD,
) -> Planning:
    """Return the reminders to plan for the occurrences ahead of ``now``.

    Every occurrence whose earliest reminder falls within ``lookahead`` is
    planned (always at least the next one). Reminders whose time is already
    past are left out, unless ``include_missed`` (the planner catching up
    after downtime: the tick then sends the nearest one late, once).
    """
    minutes = sorted(set(offsets), reverse=True)
    k0 = schedule.upcoming(now)
    if k0 is None:
        return Planning({}, next_due_at=schedule.at(0), roll_at=None)
    biggest = timedelta(minutes=minutes[0]) if minutes else timedelta(0)
    plan: dict[tuple[int, int], tuple[datetime, datetime]] = {}
    k = k0
    while True:
        moment = schedule.at(k)
        if k > k0 and moment - biggest > now + lookahead:
            break
        for offset in minutes:
            due = moment - timedelta(minutes=offset)
            if due > now or include_missed:
                plan[(schedule.base + k, offset)] = (due, moment)
        k += 1
        if schedule.repeat == "none":
            break
    next_due = schedule.at(k0)
    roll_at = None
    if schedule.repeat != "none":
        roll_at = min(next_due, schedule.at(k) - biggest - lookahead)
    return Planning(plan, next_due_at=next_due, roll_at=roll_at)


# --- chasing ---------------------------------------------------------------


@dataclass(frozen=True)
class ChaseContext:
    """What a chase provider knows about the reminder being sent."""

    guild_id: int
    deadline_number: int
    title: str
    kind: str
    deadline_at: datetime
    settings: GuildSettings


ChaseProvider = Callable[[AsyncSession, ChaseContext], Awaitable[Chase | None]]
# The language a member reads their direct messages in: (user_id, guild_id) -> code.
PersonLanguage = Callable[[int, int], Awaitable[str]]


async def chase_reviews(session: AsyncSession, context: ChaseContext) -> Chase | None:
    """Name the MAG members whose assigned reviews are unfinished, with their counts.

    The window of a later round (``bot.services.rounds``) chases only what is
    left to score again in it.
    """
    round_ = await round_of_deadline(
        session, guild_id=context.guild_id, deadline_number=context.deadline_number
    )
    if round_ is not None:
        pairs = await round_pairs(
            session,
            guild_id=context.guild_id,
            proposal_ids=round_.proposal_ids or (),
            since=round_.opened_at,
            closed=CLOSED_TO_REVIEW,
        )
        per_member = Counter(m for m, _p, done in pairs if not done)
        rows = sorted(per_member.items(), key=lambda row: (-row[1], row[0]))
    else:
        rows = await unfinished_reviews(
            session, guild_id=context.guild_id, statuses=CHASED_STATUSES
        )
    if not rows:
        return Chase(summary=_("Every assigned review is done. Thank you!"))
    total = sum(count for _member, count in rows)
    named = rows[:MAX_NAMED]
    lines = [
        ngettext(
            "{member}: {n} review to finish",
            "{member}: {n} reviews to finish",
            count,
            member=f"<@{member}>",
        )
        for member, count in named
    ]
    if len(rows) > len(named):
        # English says "members" for any number (as it always has).
        lines.append(
            ngettext("…and {n} more members", "…and {n} more members", len(rows) - len(named))
        )
    direct = tuple((member, count) for member, count in rows)
    return Chase(
        summary=ngettext(
            "{n} review still unfinished, by {members}:",
            "{n} reviews still unfinished, by {members}:",
            total,
            members=ngettext("{n} MAG member", "{n} MAG members", len(rows)),
        ),
        lines=tuple(lines),
        user_ids=tuple(member for member, _count in named),
        direct=direct,
    )


async def chase_proposals(session: AsyncSession, context: ChaseContext) -> Chase | None:
    """Say how many proposals still lack enough confirmed speakers."""
    minimum = int(context.settings.rules.get("screening.min_speakers_agreed", 3) or 0)
    if minimum <= 0:
        return None
    total, sample = await proposals_short_of_speakers(
        session,
        guild_id=context.guild_id,
        statuses=CHASED_STATUSES,
        role=SPEAKER_ROLE,
        confirmed_status=CONFIRMED,
        minimum=minimum,
    )
    if total == 0:
        # English says "speakers" for any minimum (as it always has).
        return Chase(
            summary=ngettext(
                "Every proposal has at least {n} confirmed speakers.",
                "Every proposal has at least {n} confirmed speakers.",
                minimum,
            )
        )
    lines = [
        _(
            "#{number}: {confirmed} of {minimum} confirmed",
            number=number,
            confirmed=confirmed,
            minimum=minimum,
        )
        for number, confirmed in sample
    ]
    if total > len(sample):
        lines.append(_("…and {count} more", count=total - len(sample)))
    return Chase(
        summary=ngettext(
            "{n} proposal still lack {minimum} confirmed speakers:",
            "{n} proposals still lack {minimum} confirmed speakers:",
            total,
            minimum=minimum,
        ),
        lines=tuple(lines),
    )


DEFAULT_CHASERS: Final[Mapping[str, ChaseProvider]] = {
    "reviews": chase_reviews,
    "proposals": chase_proposals,
}


# --- delivery ---------------------------------------------------------------


@dataclass
class TickReport:
    """What one tick did (for logs, tests and the bench)."""

    rolled: int = 0
    skipped_passed: int = 0
    skipped_superseded: int = 0
    queued: int = 0
    failed: int = 0
    errors: int = 0

    def __bool__(self) -> bool:
        return any(vars(self).values())


REMINDER: Final = "reminder"
CHASE_DM: Final = "chase_dm"
# Deadlines whose chased people are always messaged directly (proposers confirming slots).
DIRECT_KINDS: Final = frozenset({"confirmations"})


def _encode_chase(chase: Chase | None) -> dict[str, object] | None:
    if chase is None:
        return None
    return {
        "summary": chase.summary,
        "lines": [encode_line(line) for line in chase.lines],
        "user_ids": list(chase.user_ids),
        "direct": [list(pair) for pair in chase.direct],
    }


def _decode_chase(value: object) -> Chase | None:
    if not isinstance(value, dict):
        return None
    return Chase(
        summary=str(value.get("summary", "")),
        lines=tuple(decode_line(line) for line in value.get("lines") or ()),
        user_ids=tuple(int(u) for u in value.get("user_ids") or ()),
        direct=tuple((int(u), int(n)) for u, n in value.get("direct") or ()),
    )


def reminder_post(item: OutboxItem, now: datetime, *, channel_id: int = 0) -> ReminderPost:
    """Return the reminder an outbox row holds; it says it is late if it is, now."""
    p = item.payload
    return ReminderPost(
        guild_id=item.guild_id,
        channel_id=channel_of_lane(item.lane) or channel_id,
        nonce=nonce_of(item),
        ref=ref_of(item),
        deadline_number=int(p["deadline_number"]),
        title=str(p["title"]),
        kind=str(p["kind"]),
        link=p.get("link"),
        deadline_at=datetime.fromisoformat(str(p["deadline_at"])),
        zone=str(p["zone"]),
        offset_minutes=int(p["offset_minutes"]),
        repeat=str(p["repeat"]),
        late=now - item.due_at > LATE_AFTER,
        mention_role_id=p.get("mention_role_id"),
        chase=_decode_chase(p.get("chase")),
        chased_directly=bool(p.get("chased_directly")),
        language=str(p.get("language") or SOURCE),
    )


class ReminderService:
    """Plans recurring deadlines, settles what must not be sent, and queues due reminders.

    Sending is the outbox's (``bot.services.sending``): a due reminder becomes
    an outbox row in the transaction that marks it queued, so it is sent once;
    the outbox tells this service how it went (``_settled``).
    """

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        config: ConfigService,
        outbox: OutboxService,
        *,
        shards: Shards | None = None,
        batch: int = BATCH,
        chasers: Mapping[str, ChaseProvider] | None = None,
        person_language: PersonLanguage | None = None,
    ) -> None:
        self._db = db
        self._person_language = person_language
        self._clock = clock
        self._config = config
        self.outbox = outbox
        self.shards = shards
        self.batch = batch
        self.chasers: dict[str, ChaseProvider] = dict(
            DEFAULT_CHASERS if chasers is None else chasers
        )
        outbox.register(REMINDER, self._prepare, self._settled)
        outbox.register(CHASE_DM, self._prepare_direct)

    def use(self, *, shards: Shards | None = None) -> None:
        """Queue the reminders of the guilds of ``shards`` (None: every guild)."""
        self.shards = shards

    # -- the tick ------------------------------------------------------------

    async def tick(self, now: datetime) -> TickReport:
        """Plan, skip and queue everything due at ``now``; never raises."""
        report = TickReport()
        for phase in (self._roll_phase, self._skip_phase, self._queue_phase):
            try:
                await phase(now, report)
            except Exception as error:
                report.errors += 1
                log_failure(log, f"reminder tick: {phase.__name__.strip('_')}", error)
        if report.queued or report.failed or report.skipped_passed or report.errors:
            log.info(
                "reminders: %d queued, %d failed, %d skipped",
                report.queued,
                report.failed,
                report.skipped_passed + report.skipped_superseded,
            )
        return report

    async def next_due(self) -> datetime | None:
        """Return when something of ours is next due (a reminder, a recurrence)."""
        async with self._db.read() as session:
            found = [
                await store.next_reminder_due(session, shards=self.shards),
                await store.next_roll_due(session, shards=self.shards),
            ]
        times = [moment for moment in found if moment is not None]
        return min(times) if times else None

    async def roll(self, now: datetime) -> int:
        """Plan the next occurrences of recurring deadlines; return how many were looked at."""
        report = TickReport()
        await self._roll_phase(now, report)
        return report.rolled

    async def _roll_phase(self, now: datetime, report: TickReport) -> None:
        while True:
            async with self._db.write() as session:
                due = await store.deadlines_to_roll(session, now=now, shards=self.shards)
                for deadline in due:
                    assert deadline.id is not None
                    try:
                        planning = plan_deadline(
                            Schedule.of(deadline), deadline.offsets, now, include_missed=True
                        )
                    except (ValueError, KeyError) as error:
                        log.error("deadline %s cannot be planned: %s", deadline.id, error)
                        deadline.roll_at = None
                        continue
                    await store.upsert_reminders(
                        session,
                        guild_id=deadline.guild_id,
                        deadline_id=deadline.id,
                        plan=planning.plan,
                        now=now,
                    )
                    deadline.due_at = planning.next_due_at
                    deadline.roll_at = planning.roll_at
            report.rolled += len(due)
            if len(due) < 100:
                return

    async def _skip_phase(self, now: datetime, report: TickReport) -> None:
        async with self._db.write() as session:
            passed, superseded = await store.skip_unsendable(session, now=now, shards=self.shards)
        report.skipped_passed += passed
        report.skipped_superseded += superseded

    async def _queue_phase(self, now: datetime, report: TickReport) -> None:
        """Turn due reminders into outbox rows, in batches, each batch one transaction."""
        while True:
            async with self._db.write() as session:
                due = await store.queue_due_reminders(
                    session, now=now, shards=self.shards, limit=self.batch
                )
                items: list[NewItem] = []
                for reminder, deadline in due:
                    made = await self._items(session, reminder, deadline, now)
                    if made:
                        items += made
                        report.queued += 1
                    else:
                        report.failed += 1
                await enqueue(session, items=items, now=now)
            if items:
                self.outbox.queued(min(i.due_at for i in items))
            if len(due) < self.batch:
                return

    async def _items(
        self, session: AsyncSession, reminder: Reminder, deadline: Deadline, now: datetime
    ) -> list[NewItem]:
        """Return the outbox rows of one due reminder (none: it failed, marked so)."""
        assert reminder.id is not None
        settings = await self._config.get_in(session, reminder.guild_id)
        channel_id = deadline.channel_id or settings.channels["reminders"]
        if channel_id is None:
            log.warning(
                "reminder %s: guild %s has no reminders channel", reminder.id, deadline.guild_id
            )
            reminder.status, reminder.detail = store.FAILED, "no reminders channel is set"
            return []
        mention = settings.roles["mag"] if settings.rules.get("reminders.mention_mag") else None
        # The chase lines are kept in the row: written in the channel's language.
        language = self._config.public_language(settings)
        with speaking(language):
            chase = await self._chase(session, deadline, reminder, settings)
        # Reviewers are messaged when the server chose so; proposers waited on, always
        # (they may not read the reminders channel).
        direct = (
            (
                (bool(settings.rules.get("reminders.dm_reviewers")) and deadline.kind == "reviews")
                or deadline.kind in DIRECT_KINDS
            )
            and chase is not None
            and bool(chase.direct)
        )
        payload = {
            "reminder_id": reminder.id,
            "deadline_number": deadline.number,
            "title": deadline.title,
            "kind": deadline.kind,
            "link": deadline.link,
            "deadline_at": reminder.deadline_at.isoformat(),
            "zone": deadline.timezone,
            "offset_minutes": reminder.offset_minutes,
            "repeat": deadline.repeat,
            "mention_role_id": mention,
            "chase": _encode_chase(chase),
            "chased_directly": direct,
            "language": language,
        }
        items = [
            NewItem(
                guild_id=reminder.guild_id,
                key=f"{REMINDER}:{reminder.id}",
                kind=REMINDER,
                lane=channel_lane(channel_id),
                due_at=reminder.due_at,
                expires_at=reminder.deadline_at,
                payload=payload,
                batchable=True,
            )
        ]
        if direct and chase is not None:
            # Once per reminder: the rows exist once, whatever happens to the channel post.
            items += [
                NewItem(
                    guild_id=reminder.guild_id,
                    key=f"{REMINDER}:{reminder.id}:dm:{user_id}",
                    kind=CHASE_DM,
                    lane=user_lane(user_id),
                    due_at=reminder.due_at,
                    expires_at=reminder.deadline_at,
                    payload={**payload, "chase": None, "open_reviews": count},
                )
                for user_id, count in chase.direct
            ]
        return items

    async def _chase(
        self, session: AsyncSession, deadline: Deadline, reminder: Reminder, settings: GuildSettings
    ) -> Chase | None:
        provider = self.chasers.get(deadline.kind)
        if provider is None:
            return None
        context = ChaseContext(
            guild_id=deadline.guild_id,
            deadline_number=deadline.number,
            title=deadline.title,
            kind=deadline.kind,
            deadline_at=reminder.deadline_at,
            settings=settings,
        )
        try:
            async with session.begin_nested():
                return await provider(session, context)
        except Exception:
            # A reminder without its chase list beats no reminder.
            log.exception("chasing for deadline %s failed", deadline.id)
            return None

    # -- the outbox's side ------------------------------------------------------

    async def _prepare(self, items: Sequence[OutboxItem]) -> Post:
        now = self._clock()
        posts = tuple(reminder_post(item, now) for item in items)
        if len(posts) == 1:
            return posts[0]
        first = items[0]
        return ReminderBatch(
            guild_id=first.guild_id,
            channel_id=posts[0].channel_id,
            nonce=nonce_of(first),
            reminders=posts,
        )

    async def _prepare_direct(self, items: Sequence[OutboxItem]) -> Post:
        item = items[0]
        user_id = int(item.lane[2:])
        reminder = reminder_post(item, self._clock())
        language = reminder.language
        if self._person_language is not None:
            # The member's own language, as it is when the message goes.
            language = await self._person_language(user_id, item.guild_id)
        return DirectPost(
            guild_id=item.guild_id,
            user_id=user_id,
            nonce=nonce_of(item),
            ref=ref_of(item),
            open_reviews=int(item.payload.get("open_reviews", 0)),
            reminder=reminder,
            language=language,
        )

    async def _settled(
        self, session: AsyncSession, items: Sequence[OutboxItem], result: PostResult | None
    ) -> None:
        """Record on the reminder rows how their outbox rows ended (None: they expired)."""
        settled = []
        for item in items:
            if result is None:
                status, detail = store.SKIPPED, "deadline passed before it could be sent"
            elif item.status == OUTBOX_SENT:
                status, detail = store.SENT, None
            else:
                status, detail = store.FAILED, item.detail
            settled.append(
                store.Settled(
                    reminder_id=int(item.payload["reminder_id"]),
                    status=status,
                    at=item.sent_at,
                    message_id=item.message_id,
                    late=item.sent_at is not None and item.sent_at - item.due_at > LATE_AFTER,
                    detail=detail,
                )
            )
        await store.settle_reminders(session, settled)

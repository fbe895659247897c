"""Reminders: planned with their deadline, delivered exactly once by a ticker.

Planning turns a deadline (its wall-clock schedule and offsets) into reminder
rows; ``bot.services.deadlines`` calls it in the transaction that changes the
deadline, and the ticker calls it again for recurring deadlines as their
next occurrences come near (``roll``).

A tick (``ReminderService.tick(now)``), in order:

1. plans the next occurrences of recurring deadlines that are due for it;
2. skips reminders whose deadline has passed (never sent late), and of the
   due reminders of one occurrence keeps only the nearest to the deadline
   (after downtime: one late reminder, not a burst);
3. claims due rows in batches (``sending``, with a lease), posts each with a
   nonce derived from the row, outside any transaction, and records the
   outcome where the row is still this claimer's: ``sent``; ``failed`` on
   403/404 (the channel is blocked and the admins told once); ``retry`` on
   429/5xx/network errors, with a growing wait, until ``MAX_ATTEMPTS``.

A process that crashes between posting and recording leaves the row in
``sending``; when the lease is over another tick claims it again and posts
with the same nonce, which Discord answers with the message already posted.
No phase of a tick can stop the others, and no error escapes ``tick``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.config import ConfigService, GuildSettings
from bot.services.outbox import (
    AdminNotice,
    Chase,
    DirectPost,
    Outbox,
    Post,
    PostResult,
    PostStatus,
    ReminderPost,
    make_nonce,
)
from bot.services.recurrence import (
    Repeat,
    first_occurrence_after,
    occurrence,
)
from storage import deadlines as store
from storage.chasing import proposals_short_of_speakers, unfinished_reviews
from storage.database import Database
from storage.deadlines import Deadline, Reminder, ReminderOutcome
from storage.delivery import ChannelBlock, Shards, block_channel, blocks_in, unblock_channel

log = logging.getLogger(__name__)

LEASE: Final = timedelta(seconds=90)  # well inside Discord's nonce memory
LOOKAHEAD: Final = timedelta(days=1)  # plan a recurrence this long before its first reminder
LATE_AFTER: Final = timedelta(minutes=5)  # later than this, a reminder says it is late
MAX_ATTEMPTS: Final = 6
BLOCK_RETRY: Final = timedelta(hours=1)  # a refused channel is tried again after this
BATCH: Final = 100
CONCURRENCY: Final = 16
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


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


async def chase_reviews(session: AsyncSession, context: ChaseContext) -> Chase | None:
    """Name the MAG members whose assigned reviews are unfinished, with their counts."""
    rows = await unfinished_reviews(session, guild_id=context.guild_id, statuses=CHASED_STATUSES)
    if not rows:
        return Chase(summary="Every assigned review is done. Thank you!")
    total = sum(n for _, n in rows)
    named = rows[:MAX_NAMED]
    lines = [f"<@{member}>: {_plural(n, 'review')} to finish" for member, n in named]
    if len(rows) > len(named):
        lines.append(f"…and {len(rows) - len(named)} more members")
    direct = tuple((member, n) for member, n in rows)
    return Chase(
        summary=f"{_plural(total, 'review')} still unfinished, "
        f"by {_plural(len(rows), 'MAG member')}:",
        lines=tuple(lines),
        user_ids=tuple(member for member, _ in named),
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
        return Chase(summary=f"Every proposal has at least {minimum} confirmed speakers.")
    lines = [f"#{number}: {confirmed} of {minimum} confirmed" for number, confirmed in sample]
    if total > len(sample):
        lines.append(f"…and {total - len(sample)} more")
    return Chase(
        summary=f"{_plural(total, 'proposal')} still lack {minimum} confirmed speakers:",
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
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    retried: int = 0
    late: int = 0
    errors: int = 0

    def __bool__(self) -> bool:
        return any(vars(self).values())


def backoff(attempts: int) -> timedelta:
    """Return how long to wait before another try after ``attempts`` tries."""
    return timedelta(seconds=min(15 * 60, 30 * 2 ** max(0, attempts - 1)))


@dataclass
class _Delivery:
    reminder: Reminder
    deadline: Deadline
    channel_id: int | None
    outcome: ReminderOutcome | None = None
    refused: PostResult | None = None  # 403/404 from Discord: block the channel


class ReminderService:
    """Plans recurring deadlines and delivers due reminders, exactly once."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        config: ConfigService,
        *,
        outbox: Outbox | None = None,
        shards: Shards | None = None,
        claimer: str | None = None,
        lease: timedelta = LEASE,
        batch: int = BATCH,
        concurrency: int = CONCURRENCY,
        chasers: Mapping[str, ChaseProvider] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._config = config
        self.outbox = outbox
        self.shards = shards
        self.claimer = claimer or default_claimer()
        self.lease = lease
        self.batch = batch
        self.concurrency = concurrency
        self.chasers: dict[str, ChaseProvider] = dict(
            DEFAULT_CHASERS if chasers is None else chasers
        )
        # Set when the process shuts down: a long tick ends after its batch.
        self.stopping = False

    def use(self, outbox: Outbox, *, shards: Shards | None = None) -> None:
        """Deliver through ``outbox``, for the guilds of ``shards`` (None: every guild)."""
        self.outbox = outbox
        self.shards = shards

    # -- the tick ------------------------------------------------------------

    async def tick(self, now: datetime) -> TickReport:
        """Plan, skip, claim and send everything due at ``now``; never raises."""
        report = TickReport()
        for phase in (self._roll_phase, self._skip_phase, self._send_phase):
            try:
                await phase(now, report)
            except Exception:
                report.errors += 1
                log.exception("reminder tick: %s failed", phase.__name__.strip("_"))
        if report.sent or report.failed or report.skipped_passed or report.errors:
            log.info(
                "reminders: %d sent (%d late), %d failed, %d retried, %d skipped",
                report.sent,
                report.late,
                report.failed,
                report.retried,
                report.skipped_passed + report.skipped_superseded,
            )
        return report

    async def next_due(self) -> datetime | None:
        """Return when something of ours is next due (a reminder, a retry, a recurrence)."""
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

    async def _send_phase(self, now: datetime, report: TickReport) -> None:
        if self.outbox is None:
            raise RuntimeError("ReminderService has no outbox: call use() first")
        started = time.monotonic()
        while True:
            # A long tick (thousands due at once) keeps each batch's lease
            # measured from when that batch was claimed.
            elapsed = timedelta(seconds=time.monotonic() - started)
            async with self._db.write() as session:
                claimed = await store.claim_due_reminders(
                    session,
                    now=now,
                    claimer=self.claimer,
                    lease_until=now + elapsed + self.lease,
                    shards=self.shards,
                    limit=self.batch,
                )
                blocks = await blocks_in(session, guild_ids={r.guild_id for r, _ in claimed})
            if not claimed:
                return
            report.claimed += len(claimed)
            deliveries = await self._deliver(claimed, blocks, now, report)
            await self._record(deliveries, blocks, now)
            if len(claimed) < self.batch or self.stopping:
                return

    async def _deliver(
        self,
        claimed: list[tuple[Reminder, Deadline]],
        blocks: Mapping[tuple[int, int], ChannelBlock],
        now: datetime,
        report: TickReport,
    ) -> list[_Delivery]:
        gate = asyncio.Semaphore(self.concurrency)

        async def one(reminder: Reminder, deadline: Deadline) -> _Delivery:
            async with gate:
                return await self._deliver_one(reminder, deadline, blocks, now)

        deliveries = await asyncio.gather(*(one(r, d) for r, d in claimed))
        for delivery in deliveries:
            outcome = delivery.outcome
            assert outcome is not None
            if outcome.status == store.SENT:
                report.sent += 1
                report.late += outcome.late
            elif outcome.status == store.FAILED:
                report.failed += 1
            else:
                report.retried += 1
        return list(deliveries)

    async def _deliver_one(
        self,
        reminder: Reminder,
        deadline: Deadline,
        blocks: Mapping[tuple[int, int], ChannelBlock],
        now: datetime,
    ) -> _Delivery:
        assert reminder.id is not None
        settings = await self._config.get(reminder.guild_id)
        channel_id = deadline.channel_id or settings.channels["reminders"]
        delivery = _Delivery(reminder, deadline, channel_id)

        def outcome(status: str, **kwargs: object) -> _Delivery:
            assert reminder.id is not None
            delivery.outcome = ReminderOutcome(reminder.id, status, now, **kwargs)  # type: ignore[arg-type]
            return delivery

        if channel_id is None:
            log.warning(
                "reminder %s: guild %s has no reminders channel", reminder.id, deadline.guild_id
            )
            return outcome(store.FAILED, detail="no reminders channel is set")
        block = blocks.get((reminder.guild_id, channel_id))
        if block is not None and block.retry_at > now:
            return outcome(store.FAILED, detail=f"channel unavailable: {block.error}"[:200])
        late = now - reminder.due_at > LATE_AFTER
        post = await self._reminder_post(reminder, deadline, settings, channel_id, late)
        if post.chased_directly and post.chase is not None:
            await self._direct_messages(reminder, post)
        result = await self._post(post)
        if result.status is PostStatus.SENT:
            return outcome(store.SENT, message_id=result.message_id, late=late)
        if result.status is PostStatus.FAILED:
            log.warning(
                "reminder %s to channel %s failed: %s", reminder.id, channel_id, result.detail
            )
            if result.channel_refused:
                delivery.refused = result
            return outcome(store.FAILED, detail=result.detail or "refused by Discord")
        if reminder.attempts >= MAX_ATTEMPTS:
            log.warning("reminder %s: giving up after %d attempts", reminder.id, reminder.attempts)
            detail = f"gave up after {reminder.attempts} attempts: {result.detail}"
            return outcome(store.FAILED, detail=detail)
        return outcome(store.RETRY, detail=result.detail, retry_at=now + backoff(reminder.attempts))

    async def _reminder_post(
        self,
        reminder: Reminder,
        deadline: Deadline,
        settings: GuildSettings,
        channel_id: int,
        late: bool,
    ) -> ReminderPost:
        assert reminder.id is not None
        mention = None
        if settings.rules.get("reminders.mention_mag"):
            mention = settings.roles["mag"]
        chase = await self._chase(deadline, reminder, settings)
        direct = bool(settings.rules.get("reminders.dm_reviewers")) and deadline.kind == "reviews"
        return ReminderPost(
            guild_id=reminder.guild_id,
            channel_id=channel_id,
            nonce=make_nonce("r", reminder.id),
            deadline_number=deadline.number,
            title=deadline.title,
            kind=deadline.kind,
            link=deadline.link,
            deadline_at=reminder.deadline_at,
            zone=deadline.timezone,
            offset_minutes=reminder.offset_minutes,
            repeat=deadline.repeat,
            late=late,
            mention_role_id=mention,
            chase=chase,
            chased_directly=direct and chase is not None and bool(chase.direct),
        )

    async def _chase(
        self, deadline: Deadline, reminder: Reminder, settings: GuildSettings
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
            async with self._db.read() as session:
                return await provider(session, context)
        except Exception:
            # A reminder without its chase list beats no reminder.
            log.exception("chasing for deadline %s failed", deadline.id)
            return None

    async def _direct_messages(self, reminder: Reminder, post: ReminderPost) -> None:
        assert post.chase is not None
        for user_id, count in post.chase.direct:
            direct = DirectPost(
                guild_id=post.guild_id,
                user_id=user_id,
                nonce=make_nonce("r", reminder.id, "u", user_id),
                open_reviews=count,
                reminder=replace(post, chase=None),
            )
            result = await self._post(direct)
            if result.status is not PostStatus.SENT:
                # Members may refuse DMs; the channel reminder still says how many.
                log.info("reminder %s: DM to %s not sent: %s", reminder.id, user_id, result.detail)

    async def _post(self, post: Post) -> PostResult:
        assert self.outbox is not None
        try:
            return await self.outbox.post(post)
        except Exception as error:  # an outbox must not raise; if it does, retry later
            log.exception("posting %s failed", post.nonce)
            return PostResult.retry(f"{type(error).__name__}: {error}"[:200])

    async def _record(
        self,
        deliveries: list[_Delivery],
        blocks: Mapping[tuple[int, int], ChannelBlock],
        now: datetime,
    ) -> None:
        notices: list[AdminNotice] = []
        async with self._db.write() as session:
            await store.finish_reminders(
                session,
                claimer=self.claimer,
                outcomes=[d.outcome for d in deliveries if d.outcome is not None],
            )
            sent_to = {
                (d.reminder.guild_id, d.channel_id)
                for d in deliveries
                if d.outcome is not None and d.outcome.status == store.SENT and d.channel_id
            }
            for guild_id, channel_id in sorted(sent_to & set(blocks)):
                await unblock_channel(session, guild_id=guild_id, channel_id=channel_id)
            refused = {
                (d.reminder.guild_id, d.channel_id): d.refused
                for d in deliveries
                if d.refused is not None and d.channel_id is not None
            }
            for (guild_id, channel_id), result in sorted(refused.items()):
                assert result is not None
                notice = await channel_refused(
                    session,
                    config=self._config,
                    guild_id=guild_id,
                    channel_id=channel_id,
                    result=result,
                    purpose="reminders",
                    now=now,
                )
                if notice is not None:
                    notices.append(notice)
        for notice in notices:
            await self._post(notice)


async def channel_refused(
    session: AsyncSession,
    *,
    config: ConfigService,
    guild_id: int,
    channel_id: int,
    result: PostResult,
    purpose: str,
    now: datetime,
) -> AdminNotice | None:
    """Block a channel Discord refused; return the admins' notice if they were not told yet.

    The notice is marked as given in this transaction, before it is posted:
    the admins hear of a blocked channel at most once (the log line is always
    written).
    """
    block = await block_channel(
        session,
        guild_id=guild_id,
        channel_id=channel_id,
        error=f"{result.http_status} {result.detail}".strip(),
        now=now,
        retry_at=now + BLOCK_RETRY,
    )
    log.warning(
        "guild %s: channel %s refused %s posts (%s); blocked until %s",
        guild_id,
        channel_id,
        purpose,
        block.error,
        block.retry_at.isoformat(),
    )
    if block.notified_at is not None:
        return None
    block.notified_at = now
    await session.flush()
    settings = await config.get(guild_id)
    log_channel = settings.channels["log"]
    if log_channel is None or log_channel == channel_id:
        return None
    reason = (
        "the channel no longer exists"
        if result.http_status == 404
        else ("I am not allowed to post there")
    )
    text = (
        f"I could not post {purpose} in <#{channel_id}>: {reason} ({result.http_status}). "
        "Fix the channel's permissions, or choose another channel with "
        f"`/config channel {purpose if purpose in ('reminders', 'digest') else 'reminders'}`. "
        "Until then posts there are marked failed; I will try again in an hour."
    )
    return AdminNotice(
        guild_id=guild_id,
        channel_id=log_channel,
        nonce=make_nonce("b", block.id),
        text=text,
    )

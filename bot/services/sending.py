"""Sending the outbox: lanes in parallel, each outcome recorded as Discord answers.

``OutboxService`` is the ledger's side: features register how to render a
kind of row (``preparers``) and what to do when one is settled (``hooks``:
the reminder row becomes sent, the digest run posted...); it claims rows,
records outcomes, blocks channels Discord refused and tells the admins once.

``Sender`` is the engine, with no Discord in it (an ``Outbox`` posts):

- ``pump`` claims the next messages of idle lanes and starts one task per
  lane, at most ``concurrency`` at once. A lane sends one message at a time
  (reminders due together in a channel go as one message of up to 10
  embeds), so a channel that is slow or rate limited delays itself only.
- Each task records its outcome the moment Discord answers: a crash loses at
  most the messages in flight, never a batch.
- Leases are per row and short (``LEASE``); ``renew`` extends those in
  flight while the process lives, so a crashed sender's rows are taken over
  within a lease, and a slow post is never taken over by a live process.
- A row taken over after its sender died may have reached Discord: before
  posting it again the sender asks ``Outbox.find`` for its ref in the
  destination's recent messages, and records the message it finds instead.
- A rate limit (429) longer than discord.py is allowed to wait becomes a
  retry at the time Discord gave, without counting as a failure; 5xx and
  network errors retry with a growing wait and count, up to ``MAX_ATTEMPTS``
  answers; 403/404 fail at once and block the channel (the admins are told
  once, through the outbox too).

Everything takes its time from the injected clock, so tests drive it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import N_, SOURCE, _, speaking
from bot.services.config import ConfigService
from bot.services.faults import log_failure
from bot.services.outbox import AdminNotice, Outbox, Post, PostResult, PostStatus, make_nonce
from storage import outbox as store
from storage.database import Database
from storage.delivery import Shards, block_channel, blocks_in, unblock_channel
from storage.outbox import NewItem, OutboxItem, Outcome

log = logging.getLogger(__name__)

LEASE: Final = timedelta(seconds=30)
MAX_ATTEMPTS: Final = 6
BLOCK_RETRY: Final = timedelta(hours=1)
CONCURRENCY: Final = 32
PER_MESSAGE: Final = 10  # Discord: at most 10 embeds in one message
NOTICE: Final = "notice"
# Why a row whose preparer had nothing to render any more was settled (not a failure to report).
NOTHING_TO_SEND: Final = "nothing to send any more"

# (items of one message) -> the post to send (None: nothing to send any more).
Preparer = Callable[[Sequence[OutboxItem]], Awaitable[Post | None]]
# (session, rows of one kind, result) -> None, in the outcome's transaction
# (result None: the rows expired).
Hook = Callable[[AsyncSession, Sequence[OutboxItem], PostResult | None], Awaitable[None]]


def backoff(attempts: int) -> timedelta:
    """Return how long to wait before another try after ``attempts`` failed answers."""
    return timedelta(seconds=min(15 * 60, 30 * 2 ** max(0, attempts - 1)))


def ref_of(item: OutboxItem) -> str:
    """Return the ref a row's message shows (its id and random marker)."""
    return f"{item.id}-{item.marker}"


def nonce_of(item: OutboxItem) -> str:
    """Return the nonce of a row's message: never reused, even when an id is."""
    return make_nonce("o", item.id, item.marker)


# The admins' notice about a channel Discord refused: by what it was for, and
# whether the channel is gone (404) or the bot may not post there.
_REFUSED_NOTICES: Final = {
    ("digest", True): N_(
        "I could not post digest in {channel}: the channel no longer exists ({status}). "
        "Fix the channel's permissions, or choose a channel again with "
        "`/config channel digest` (choosing the same one again retries it at once). "
        "Until then posts there are marked failed; I will try again in an hour."
    ),
    ("digest", False): N_(
        "I could not post digest in {channel}: I am not allowed to post there ({status}). "
        "Fix the channel's permissions, or choose a channel again with "
        "`/config channel digest` (choosing the same one again retries it at once). "
        "Until then posts there are marked failed; I will try again in an hour."
    ),
    ("reminders", True): N_(
        "I could not post reminders in {channel}: the channel no longer exists ({status}). "
        "Fix the channel's permissions, or choose a channel again with "
        "`/config channel reminders` (choosing the same one again retries it at once). "
        "Until then posts there are marked failed; I will try again in an hour."
    ),
    ("reminders", False): N_(
        "I could not post reminders in {channel}: I am not allowed to post there ({status}). "
        "Fix the channel's permissions, or choose a channel again with "
        "`/config channel reminders` (choosing the same one again retries it at once). "
        "Until then posts there are marked failed; I will try again in an hour."
    ),
}


def channel_of_lane(lane: str) -> int | None:
    """Return the channel of a channel lane (None: a user's lane)."""
    return int(lane[2:]) if lane.startswith("c:") else None


@dataclass
class SendReport:
    """What sending did (for logs, tests and benches)."""

    claimed: int = 0
    sent: int = 0
    found: int = 0  # already on Discord after a crash: recorded, not posted again
    failed: int = 0
    retried: int = 0
    expired: int = 0
    errors: int = 0
    lateness: list[float] = field(default_factory=list)  # seconds, sent rows


class OutboxService:
    """The outbox ledger: claim, record, block and notice; features plug in by kind."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        config: ConfigService,
        *,
        claimer: str,
        shards: Shards | None = None,
        lease: timedelta = LEASE,
    ) -> None:
        self._db = db
        self.clock = clock
        self._config = config
        self.claimer = claimer
        self.shards = shards
        self.lease = lease
        self.preparers: dict[str, Preparer] = {NOTICE: self._prepare_notice}
        self.hooks: dict[str, Hook] = {}
        # Called (in the outcome's transaction) when the service that sends a kind is down.
        self.unavailable_hooks: dict[str, Hook] = {}
        # Called with a due time whenever something is queued (the sender wakes).
        self.on_queued: list[Callable[[datetime], None]] = []

    def register(
        self,
        kind: str,
        preparer: Preparer,
        hook: Hook | None = None,
        *,
        unavailable: Hook | None = None,
    ) -> None:
        """Say how rows of ``kind`` are rendered, what settles them, and who hears of an outage.

        ``unavailable`` is called with rows held because their sending service
        refused everything (``PostResult.held``: an SMTP login refused).
        """
        self.preparers[kind] = preparer
        if hook is not None:
            self.hooks[kind] = hook
        if unavailable is not None:
            self.unavailable_hooks[kind] = unavailable

    def queued(self, when: datetime) -> None:
        """Tell the sender something was queued for ``when`` (call after committing)."""
        for callback in self.on_queued:
            callback(when)

    # -- the ledger ------------------------------------------------------------

    async def expire(self, now: datetime) -> int:
        """Settle rows whose time passed unsent; their features are told."""
        async with self._db.write() as session:
            rows = await store.expire(session, now=now, shards=self.shards)
            await self._tell(session, rows, None)
        return len(rows)

    async def _tell(
        self, session: AsyncSession, rows: Sequence[OutboxItem], result: PostResult | None
    ) -> None:
        """Call each kind's hook once with its settled rows (one statement for many)."""
        by_kind: dict[str, list[OutboxItem]] = {}
        for row in rows:
            by_kind.setdefault(row.kind, []).append(row)
        for kind, settled in by_kind.items():
            hook = self.hooks.get(kind)
            if hook is not None:
                await hook(session, settled, result)

    async def claim(self, now: datetime, *, busy: set[str], lanes: int) -> list[list[OutboxItem]]:
        """Lease the next messages of idle lanes; return them grouped by lane."""
        async with self._db.write() as session:
            rows = await store.claim(
                session,
                now=now,
                claimer=self.claimer,
                lease_until=now + self.lease,
                shards=self.shards,
                busy_lanes=busy,
                lanes=lanes,
                per_lane=PER_MESSAGE,
            )
            # From here a crash may leave a message on Discord: a taker looks first.
            # (Remember what each row said before: set means an earlier attempt may have.)
            earlier = {r.id: r.attempted_at for r in rows}
            await store.begin_attempt(
                session, ids=[r.id for r in rows if r.id is not None], claimer=self.claimer, at=now
            )
        groups: dict[str, list[OutboxItem]] = {}
        for row in rows:
            row.attempted_at = earlier[row.id]
            groups.setdefault(row.lane, []).append(row)
        return list(groups.values())

    async def renew(self, ids: Sequence[int], now: datetime) -> int:
        """Extend the leases of rows this process is still sending."""
        async with self._db.write() as session:
            return await store.renew(
                session, ids=ids, claimer=self.claimer, lease_until=now + self.lease
            )

    async def blocked(self, items: Sequence[OutboxItem], now: datetime) -> str | None:
        """Return why a lane's channel is blocked right now (None: it is not)."""
        channel = channel_of_lane(items[0].lane)
        if channel is None:
            return None
        async with self._db.read() as session:
            blocks = await blocks_in(session, guild_ids={items[0].guild_id})
        block = blocks.get((items[0].guild_id, channel))
        if block is not None and block.retry_at > now:
            return f"channel unavailable: {block.error}"[:200]
        return None

    async def prepare(self, items: Sequence[OutboxItem]) -> Post | None:
        """Return the post for one message's rows (their kind's preparer renders it)."""
        return await self.preparers[items[0].kind](items)

    async def record(
        self, items: Sequence[OutboxItem], result: PostResult, now: datetime
    ) -> list[OutboxItem]:
        """Record Discord's answer for one message's rows; return the rows settled.

        In one transaction: the rows' outcome, their features' hooks, and for a
        refused channel its block and the admins' notice (queued once per block).
        """
        outcomes = [self._outcome(item, result, now) for item in items]
        channel = channel_of_lane(items[0].lane)
        async with self._db.write() as session:
            done = await store.finish(session, claimer=self.claimer, outcomes=outcomes)
            await self._tell(session, [row for row in done if row.status != store.QUEUED], result)
            down = self.unavailable_hooks.get(items[0].kind)
            if done and result.unavailable and down is not None:
                await down(session, done, result)
            if done and channel is not None and items[0].kind != NOTICE:
                if result.status is PostStatus.SENT:
                    await unblock_channel(session, guild_id=items[0].guild_id, channel_id=channel)
                elif result.channel_refused:
                    await self._refused(session, items[0], channel, result, now)
        return done

    def _outcome(self, item: OutboxItem, result: PostResult, now: datetime) -> Outcome:
        assert item.id is not None
        if result.status is PostStatus.SENT:
            return Outcome(item.id, store.SENT, now, message_id=result.message_id)
        if result.status is PostStatus.FAILED:
            return Outcome(item.id, store.FAILED, now, detail=result.detail or "refused by Discord")
        if result.retry_after is not None:  # a rate limit: try again when Discord said
            wait = timedelta(seconds=max(0.5, result.retry_after))
            return Outcome(
                item.id, store.QUEUED, now, detail=result.detail, retry_at=now + wait, counts=False
            )
        if item.attempts + 1 >= MAX_ATTEMPTS:
            detail = f"gave up after {item.attempts + 1} failed answers: {result.detail}"
            return Outcome(item.id, store.FAILED, now, detail=detail)
        return Outcome(
            item.id,
            store.QUEUED,
            now,
            detail=result.detail,
            retry_at=now + backoff(item.attempts + 1),
            maybe_sent=True,  # a timeout or a 5xx may still have posted it
        )

    async def _refused(
        self,
        session: AsyncSession,
        item: OutboxItem,
        channel_id: int,
        result: PostResult,
        now: datetime,
    ) -> None:
        """Block a channel Discord refused, and queue the admins' notice once per block."""
        block = await block_channel(
            session,
            guild_id=item.guild_id,
            channel_id=channel_id,
            error=f"{result.http_status} {result.detail}".strip(),
            now=now,
            retry_at=now + BLOCK_RETRY,
        )
        log.warning(
            "guild %s: channel %s refused a %s (%s); blocked until %s",
            item.guild_id,
            channel_id,
            item.kind,
            block.error,
            block.retry_at.isoformat(),
        )
        if block.notified_at is not None:
            return
        block.notified_at = now
        settings = await self._config.get_in(session, item.guild_id)
        log_channel = settings.channels["log"]
        if log_channel is None or log_channel == channel_id:
            return
        purpose = "digest" if item.kind == "digest" else "reminders"
        language = self._config.public_language(settings)
        with speaking(language):
            text = _(
                _REFUSED_NOTICES[(purpose, result.http_status == 404)],
                channel=f"<#{channel_id}>",
                status=result.http_status,
            )
        await store.enqueue(
            session,
            items=[
                NewItem(
                    guild_id=item.guild_id,
                    key=f"notice:block:{item.guild_id}:{channel_id}:{int(block.blocked_at.timestamp())}",
                    kind=NOTICE,
                    lane=store.channel_lane(log_channel),
                    due_at=now,
                    payload={"text": text, "language": language},
                )
            ],
            now=now,
        )

    async def _prepare_notice(self, items: Sequence[OutboxItem]) -> Post:
        item = items[0]
        channel = channel_of_lane(item.lane)
        assert channel is not None
        return AdminNotice(
            guild_id=item.guild_id,
            channel_id=channel,
            nonce=nonce_of(item),
            ref=ref_of(item),
            text=str(item.payload.get("text", "")),
            language=str(item.payload.get("language") or SOURCE),
            plain=bool(item.payload.get("plain")),
        )

    async def next_due(self) -> datetime | None:
        """Return when something of ours is next due to be sent (or a lease runs out)."""
        async with self._db.read() as session:
            return await store.next_due(session, shards=self.shards)

    async def open_depth(self) -> Mapping[str, int]:
        """Return how many rows wait to be sent (queued) or are being sent (the queue)."""
        async with self._db.read() as session:
            return await store.count_by_status(session, statuses=store.OPEN)

    async def depth(self) -> Mapping[str, int]:
        """Return how many rows are in each status (the queue's depth)."""
        async with self._db.read() as session:
            return await store.count_by_status(session)

    async def wait_settled(self, key: str, timeout: float) -> OutboxItem | None:
        """Wait (polling) until the row ``key`` is settled; return it, or None on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            async with self._db.read() as session:
                row = (await store.items_by_key(session, keys=[key])).get(key)
            if row is not None and row.status not in store.OPEN:
                return row
            if loop.time() >= deadline:
                return row
            await asyncio.sleep(0.1)


class Sender:
    """Sends the outbox through an ``Outbox``: lanes in parallel, outcomes one by one."""

    def __init__(
        self, service: OutboxService, outbox: Outbox, *, concurrency: int = CONCURRENCY
    ) -> None:
        self.service = service
        self.outbox = outbox
        self.concurrency = concurrency
        self._lanes: dict[str, asyncio.Task[None]] = {}
        self._ids: dict[str, list[int]] = {}
        self.report = SendReport()
        self.done = asyncio.Event()  # set whenever a lane finishes (the loop looks again)
        # Called with the rows of each settled message and the time (metrics).
        self.on_settled: list[Callable[[Sequence[OutboxItem], datetime], None]] = []

    @property
    def busy(self) -> int:
        """Return how many lanes are sending now."""
        return len(self._lanes)

    def in_flight(self) -> list[int]:
        """Return the ids of the rows this process is sending now."""
        return [i for ids in self._ids.values() for i in ids]

    async def pump(self) -> int:
        """Expire what is too late, claim idle lanes' next messages and start sending them.

        Returns how many lanes were started. Raises when the database fails
        (the loop backs off).
        """
        now = self.service.clock()
        self.report.expired += await self.service.expire(now)
        room = self.concurrency - len(self._lanes)
        if room <= 0:
            return 0
        groups = await self.service.claim(now, busy=set(self._lanes), lanes=room)
        for items in groups:
            lane = items[0].lane
            self.report.claimed += len(items)
            self._ids[lane] = [i.id for i in items if i.id is not None]
            task = asyncio.create_task(self._send(items), name=f"outbox-{lane}")
            self._lanes[lane] = task
            task.add_done_callback(functools.partial(self._finished, lane))
        return len(groups)

    def _finished(self, lane: str, _: object = None) -> None:
        self._lanes.pop(lane, None)
        self._ids.pop(lane, None)
        self.done.set()

    async def drain(self) -> None:
        """Wait until every lane in flight has finished."""
        while self._lanes:
            await asyncio.gather(*self._lanes.values(), return_exceptions=True)

    async def run_once(self) -> SendReport:
        """Send everything due now, lane after lane, until nothing is left (tests, benches)."""
        while await self.pump():
            await self.drain()
        await self.drain()
        return self.report

    async def renew(self) -> None:
        """Extend the leases of what is in flight (call every lease/3 while running)."""
        ids = self.in_flight()
        if ids:
            await self.service.renew(ids, self.service.clock())

    async def stop(self, timeout: float) -> None:
        """Let the messages in flight finish (their leases run out if they cannot)."""
        if self._lanes:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.drain(), timeout)

    async def _send(self, items: list[OutboxItem]) -> None:
        try:
            await self._send_one(items)
        except Exception as error:
            # The lease runs out and another attempt looks before posting.
            self.report.errors += 1
            log_failure(log, f"sending outbox rows {[i.id for i in items]}", error)

    async def _send_one(self, items: list[OutboxItem]) -> None:
        service = self.service
        now = service.clock()
        blocked = await service.blocked(items, now)
        if blocked is not None:
            await self._settle(items, PostResult.failed(blocked), now)
            return
        post = await service.prepare(items)
        if post is None:
            await self._settle(items, PostResult.failed(NOTHING_TO_SEND), now)
            return
        taken_over = [i for i in items if i.attempted_at is not None]
        if taken_over:
            since = min(i.attempted_at for i in taken_over if i.attempted_at is not None)
            found = await self.outbox.find(post, since - timedelta(minutes=1))
            if found is None:
                await self._settle(
                    items, PostResult.retry("could not read the channel to check"), now
                )
                return
            already = [i for i in items if ref_of(i) in found]
            if already:
                # The earlier attempt reached Discord: record it, post nothing again.
                self.report.found += len(already)
                log.info(
                    "outbox: %d of %d taken-over row(s) found in %s: recorded, not posted again",
                    len(already),
                    len(items),
                    items[0].lane,
                )
                for item in already:
                    await self._settle([item], PostResult.sent(found[ref_of(item)]), now)
                items = [i for i in items if ref_of(i) not in found]
                if not items:
                    return
                post = await service.prepare(items)
                if post is None:
                    return
        try:
            result = await self.outbox.post(post)
        except Exception as error:  # an outbox must not raise; if it does, try again later
            log.exception("posting outbox rows %s failed", [i.id for i in items])
            result = PostResult.retry(f"{type(error).__name__}: {error}"[:200])
        await self._settle(items, result, service.clock())

    async def _settle(self, items: Sequence[OutboxItem], result: PostResult, now: datetime) -> None:
        done = await self.service.record(items, result, now)
        if done:
            log.info(
                "outbox: %s %s ×%d in %s: %s%s",
                done[0].kind,
                ref_of(done[0]),
                len(done),
                done[0].lane,
                done[0].status,
                f" ({result.detail})" if result.detail and done[0].status != store.SENT else "",
            )
        report = self.report
        for observer in self.on_settled if done else ():
            try:
                observer(done, now)
            except Exception:  # a metric must never make a sent message look failed
                log.exception("an observer of settled outbox rows failed")
        for row in done:
            if row.status == store.SENT:
                report.sent += 1
                report.lateness.append((now - row.due_at).total_seconds())
            elif row.status == store.FAILED:
                report.failed += 1
            else:
                report.retried += 1

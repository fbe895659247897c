"""Sending the outbox through Discord, and the clock that plans what is due.

``DiscordOutbox`` is the services' ``Outbox``: it renders each post
(``bot.render``) and sends it; Discord's answer is mapped for the services:
403/404 are permanent (``FAILED``), a rate limit longer than discord.py may
wait (``max_ratelimit_timeout``) comes back as a retry at the time Discord
gave, 5xx and network errors are worth another try. ``find`` reads a
destination's recent messages for the refs the bot's messages carry, which
is how a message that reached Discord before a crash is recognised instead
of being posted again.

``Deliveries`` runs two things:

- the planner, on the bot's clock: every ``TICK_SECONDS`` (and at the next
  due time, for precision) reminders and digests due are queued in the
  outbox, and recurring deadlines planned ahead;
- the sender loop (``bot.services.sending.Sender``): it starts lanes as soon
  as anything is queued or a lane finishes, renews the leases of what is in
  flight, and backs off while the database fails (one log line a minute).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

import aiohttp
import discord
from apscheduler.triggers.date import DateTrigger

from bot.clock import Clock
from bot.i18n import speaking
from bot.mail import Mailer, SmtpServer
from bot.metrics import Metrics
from bot.render.decisions import decision_embed, decision_view
from bot.render.digests import digest_embed
from bot.render.embeds import clip, directed, fit_embed
from bot.render.reminders import (
    batch_content,
    direct_content,
    notice_content,
    ref_text,
    reminder_content,
    reminder_embed,
    reminder_mentions,
)
from bot.render.reviews import assigned_content, round_content
from bot.services.faults import log_failure
from bot.services.outbox import (
    AdminNotice,
    AssignedNotice,
    DecisionNotice,
    DigestPost,
    DirectPost,
    EmailPost,
    Post,
    PostResult,
    ReminderBatch,
    ReminderPost,
    RoundNotice,
    UserNotice,
    refs_of,
)
from bot.services.registry import Services
from bot.services.reminders import LATE_AFTER, REMINDER
from bot.services.sending import LEASE, Sender
from bot.settings import Settings
from storage.delivery import Shards
from storage.outbox import FAILED, SENT, OutboxItem
from storage.types import utcnow

log = logging.getLogger(__name__)

TICK_SECONDS: Final = 30.0
WAKE_JOB: Final = "deliveries-wake"
STOP_TIMEOUT: Final = 15.0
STOP_LOOP_WAIT: Final = 5.0  # seconds the loops have to notice a stop before being cancelled
HISTORY_PAGES: Final = 3  # 300 messages back, at most, when looking for a message
MAX_BACKOFF: Final = 60.0
REF: Final = re.compile(r"\bref ([0-9]+-[0-9a-z]+)\b")  # what ``ref_text`` writes


class DiscordOutbox:
    """The services' outbox, posting through a discord.py client."""

    def __init__(self, client: discord.Client, mailer: Mailer | None = None) -> None:
        self._client = client
        self._mailer = mailer  # emails (nominees not on Discord) go by SMTP

    async def post(self, post: Post) -> PostResult:
        """Post ``post``; map Discord's answer to sent, retry or failed."""
        if isinstance(post, EmailPost):
            if self._mailer is None:
                return PostResult.failed("no SMTP server is configured (SMTP_URL)")
            return await self._mailer.send(post)
        try:
            message = await self._send(post)
        except discord.Forbidden as error:
            return PostResult.failed(f"{error.code} {error.text}".strip(), 403)
        except discord.NotFound as error:
            return PostResult.failed(f"{error.code} {error.text}".strip(), 404)
        except discord.RateLimited as error:
            return PostResult.retry(
                f"rate limited for {error.retry_after:.1f} s", 429, error.retry_after
            )
        except discord.HTTPException as error:
            if error.status == 429 or error.status >= 500:
                return PostResult.retry(f"{error.status} {error.text}".strip(), error.status)
            return PostResult.failed(f"{error.status} {error.text}".strip(), error.status)
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            return PostResult.retry(f"{type(error).__name__}: {error}")
        return PostResult.sent(message.id)

    async def _destination(self, post: Post) -> discord.abc.Messageable:
        if isinstance(
            post, DirectPost | AssignedNotice | DecisionNotice | RoundNotice | UserNotice
        ):
            return await self._client.create_dm(discord.Object(id=post.user_id))
        if isinstance(post, EmailPost):
            raise TypeError("an email has no Discord destination")
        return self._client.get_partial_messageable(post.channel_id, guild_id=post.guild_id)

    async def _send(self, post: Post) -> discord.Message:
        destination = await self._destination(post)
        with speaking(post.language):
            kwargs = self._render(post)
            if kwargs.get("content"):
                kwargs["content"] = directed(kwargs["content"])
        return await destination.send(nonce=post.nonce, **kwargs)

    @staticmethod
    def _render(post: Post) -> dict[str, Any]:
        """Return what to send for ``post``, in the current language."""
        none = discord.AllowedMentions.none()
        kwargs: dict[str, Any]
        if isinstance(post, DirectPost):
            kwargs = {
                "content": direct_content(post),
                "embed": reminder_embed(post.reminder),
                "allowed_mentions": none,
            }
        elif isinstance(post, ReminderPost):
            kwargs = {
                "content": reminder_content(post),
                "embed": reminder_embed(post),
                "allowed_mentions": reminder_mentions(post),
            }
        elif isinstance(post, ReminderBatch):
            kwargs = {
                "content": batch_content(post),
                "embeds": [reminder_embed(r) for r in post.reminders],
                "allowed_mentions": reminder_mentions(post),
            }
        elif isinstance(post, DigestPost):
            kwargs = {"embed": digest_embed(post.digest, post.ref), "allowed_mentions": none}
        elif isinstance(post, AdminNotice):
            kwargs = {"content": notice_content(post), "allowed_mentions": none}
        elif isinstance(post, UserNotice):
            kwargs = {"content": clip(f"{post.text} ({ref_text(post.ref)})", 2000)}
            kwargs["allowed_mentions"] = none
        elif isinstance(post, AssignedNotice):
            kwargs = {"content": assigned_content(post), "allowed_mentions": none}
        elif isinstance(post, RoundNotice):
            kwargs = {"content": round_content(post), "allowed_mentions": none}
        elif isinstance(post, DecisionNotice):
            # Up to ten released comments and the reasons may pass Discord's 6,000
            # characters: the last comments are cut, never what to do.
            kwargs = {"embed": fit_embed(decision_embed(post)), "allowed_mentions": none}
            view = decision_view(post)
            if view is not None:
                kwargs["view"] = view
        else:
            raise TypeError(f"cannot post {type(post).__name__}")
        return kwargs

    async def find(self, post: Post, since: datetime) -> dict[str, int] | None:
        """Return, by ref, this bot's messages of ``post`` in its destination since ``since``."""
        if isinstance(post, EmailPost):
            return {}  # a mail cannot be looked up once sent: it goes again (bot.mail)
        wanted = set(refs_of(post))
        me = self._client.user
        try:
            destination = await self._destination(post)
            found: dict[str, int] = {}
            after = discord.Object(id=discord.utils.time_snowflake(since))
            async for message in destination.history(
                limit=100 * HISTORY_PAGES, after=after, oldest_first=True
            ):
                if me is not None and message.author.id != me.id:
                    continue
                texts = [message.content] + [
                    part
                    for embed in message.embeds
                    for part in (embed.footer.text or "", embed.description or "")
                ]
                for text in texts:
                    for ref in REF.findall(text):
                        if ref in wanted:
                            found[ref] = message.id
            return found
        except discord.Forbidden:
            return {}  # nothing of ours can be there: posting will fail and say why
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError, OSError) as error:
            log.info("could not read the history of %s to check: %s", type(post).__name__, error)
            return None


def shards_of(settings: Settings) -> Shards | None:
    """Return the shards this process owns (None: every guild, a single process)."""
    if settings.shard_count is None:
        return None
    ids = settings.shard_ids if settings.shard_ids is not None else range(settings.shard_count)
    return Shards(settings.shard_count, frozenset(ids))


class Deliveries:
    """The planner on the clock, and the sender loop beside it."""

    def __init__(
        self,
        services: Services,
        clock: Clock,
        sender: Sender,
        *,
        every: float = TICK_SECONDS,
        metrics: Metrics | None = None,
    ) -> None:
        self._services = services
        self._metrics = metrics
        self._clock = clock
        self._every = timedelta(seconds=every)
        self.sender = sender
        self._lock = asyncio.Lock()
        self._again = False
        self._stopped = False
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._tick_failures = 0

    def start(self) -> None:
        """Plan every ``every`` seconds (and once now); run the sender and its lease renewal."""
        self._clock.every(self._every.total_seconds(), self.tick, name="deliveries")
        self.wake_at(self._clock.now())
        self._services.outbox.on_queued.append(self.queued)
        self._tasks = [
            asyncio.create_task(self._send_loop(), name="outbox-sender"),
            asyncio.create_task(self._renew_loop(), name="outbox-leases"),
        ]

    async def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Start nothing new; let the lanes in flight finish before the database closes.

        Rows in flight that cannot finish keep their lease until it runs out;
        then this process after a restart, or another one, looks before posting.
        """
        self._stopped = True
        self._stopping.set()
        self._wake.set()
        # Both loops see the flag at their next turn (the wake-up ends their
        # waits); cancelling one in the middle of a database call would cut a
        # transaction's rollback short.
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=STOP_LOOP_WAIT)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.sender.stop(timeout)
        try:
            await asyncio.wait_for(self._lock.acquire(), timeout)
        except TimeoutError:
            log.warning("a planning tick was still running after %.0f s; leaving it", timeout)
        else:
            self._lock.release()

    def queued(self, when: datetime) -> None:
        """Something was queued for ``when``: send now, or wake up then."""
        if when <= self._clock.now():
            self._wake.set()
        else:
            self.wake_at(when)

    async def tick(self) -> None:
        """Queue what is due now; never raises, never runs twice at once."""
        if self._stopped:
            return
        if self._lock.locked():
            self._again = True  # a wake-up during a long tick: look once more after it
            return
        async with self._lock:
            while True:
                self._again = False
                now = self._clock.now()
                try:
                    planned = await self._services.reminders.tick(now)
                    if self._metrics is not None and planned.queued:
                        self._metrics.reminders.labels("queued").inc(planned.queued)
                    await self._services.digests.tick(now)
                    await self._services.consultations.tick(now)
                except Exception as error:  # the services never raise; if they did, keep ticking
                    log_failure(log, "delivery tick", error)
                if not self._again or self._stopped:
                    break
            self._wake.set()
            if not self._stopped:
                await self._plan_wake()

    async def _plan_wake(self) -> None:
        try:
            found = [
                await self._services.reminders.next_due(),
                await self._services.digests.next_due(),
                await self._services.consultations.next_due(),
            ]
        except Exception as error:
            log.warning("could not read the next due time: %s", error)
            return
        times = [t for t in found if t is not None]
        if times:
            self.wake_at(min(times))

    def wake_at(self, moment: datetime) -> None:
        """Tick at ``moment`` if that is sooner than the next regular tick."""
        delay = moment - self._clock.now()
        if delay > self._every or not self._clock.running:
            return
        # The injected clock may differ from the scheduler's real one (the
        # sandbox moves time): wait for the delay, measured on the real clock.
        run_date = utcnow() + max(delay, timedelta(0)) + timedelta(milliseconds=50)
        self._clock.scheduler.add_job(
            self.tick,
            DateTrigger(run_date=run_date),
            id=WAKE_JOB,
            name=WAKE_JOB,
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def _send_loop(self) -> None:
        """Start lanes whenever there is room and something is due; back off on failures."""
        failures = 0
        while not self._stopped:
            self._wake.clear()
            self.sender.done.clear()
            try:
                started = await self.sender.pump()
                if failures:
                    log.info("sending resumed after %d failed attempt(s)", failures)
                failures = 0
            except Exception as error:
                failures += 1
                wait = min(MAX_BACKOFF, 0.5 * 2**failures)
                if failures == 1:
                    log_failure(log, f"sending (next try in {wait:.0f} s)", error)
                elif failures % 10 == 0 or wait < MAX_BACKOFF:
                    log.warning("sending still failing (%s); next try in %.0f s", error, wait)
                await self._sleep(wait)
                continue
            if started:
                continue  # there may be more idle lanes with something due
            await self._wait(await self._next_wait())

    async def _next_wait(self) -> float:
        try:
            due = await self._services.outbox.next_due()
        except Exception:
            return 1.0
        if due is None:
            return self._every.total_seconds()
        return max(
            0.05, min(self._every.total_seconds(), (due - self._clock.now()).total_seconds())
        )

    async def _wait(self, seconds: float) -> None:
        wake = asyncio.ensure_future(self._wake.wait())
        done = asyncio.ensure_future(self.sender.done.wait())
        try:
            await asyncio.wait({wake, done}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            wake.cancel()
            done.cancel()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _renew_loop(self) -> None:
        """Keep the leases of what is in flight alive while this process lives."""
        every = LEASE.total_seconds() / 3
        while not self._stopped:
            # Its own event: the shared wake-up is set by every queued row, and
            # renewing on each would be a write per wake-up.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), every)
            if self._stopped:
                break
            try:
                await self.sender.renew()
            except Exception as error:
                log.warning("could not renew the outbox leases: %s", error)


def count_settled(metrics: Metrics) -> Callable[[Sequence[OutboxItem], datetime], None]:
    """Return an observer of settled outbox messages that counts them in ``metrics``.

    It is called once per message with the rows it carried (a message may
    carry ten reminders): posts are counted per message, reminders per row.
    Lateness runs from the time a row was last due (a retry moves it).
    """

    def observe(rows: Sequence[OutboxItem], now: datetime) -> None:
        first = rows[0]
        outcome = {SENT: "sent", FAILED: "failed"}.get(first.status, "retry")
        metrics.posts.labels(first.kind, outcome).inc()
        for row in rows:
            late = (now - row.due_at).total_seconds()
            if row.status == SENT:
                metrics.lateness.labels(row.kind).observe(max(0.0, late))
            if row.kind == REMINDER and outcome != "retry":
                metrics.reminders.labels(outcome).inc()
                if outcome == "sent" and late > LATE_AFTER.total_seconds():
                    metrics.reminders.labels("late").inc()

    return observe


def start_deliveries(
    client: discord.Client,
    services: Services,
    clock: Clock,
    settings: Settings,
    metrics: Metrics | None = None,
) -> Deliveries:
    """Deliver the services' reminders and digests through ``client``, on ``clock``."""
    shards = shards_of(settings)
    services.outbox.shards = shards
    services.reminders.use(shards=shards)
    services.digests.use(shards=shards)
    mailer = None
    if settings.email_enabled:
        assert settings.smtp_url is not None and settings.web_secret is not None
        assert settings.smtp_sender is not None and settings.web_base_url is not None
        mailer = Mailer(
            SmtpServer.from_url(settings.smtp_url.get(), settings.smtp_tls),
            clock=services.outbox.clock,
        )
        services.email.use(
            secret=settings.web_secret.get(),
            base_url=settings.web_base_url,
            sender=settings.smtp_sender,
        )
    elif settings.web_enabled and settings.web_secret is not None:
        assert settings.web_base_url is not None
        services.email.use_pages(secret=settings.web_secret.get(), base_url=settings.web_base_url)
    sender = Sender(services.outbox, DiscordOutbox(client, mailer))
    deliveries = Deliveries(services, clock, sender, metrics=metrics)
    if metrics is not None:
        sender.on_settled.append(count_settled(metrics))
    services.deadlines.on_planned.append(deliveries.wake_at)
    deliveries.start()
    log.info(
        "delivering reminders and digests for %s",
        "every guild" if shards is None else f"shards {sorted(shards.ids)} of {shards.count}",
    )
    return deliveries

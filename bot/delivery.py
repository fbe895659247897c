"""Posting reminders and digests to Discord, and the ticker that drives them.

``DiscordOutbox`` is the services' ``Outbox``: it renders each post
(``bot.render``) and sends it with the post's nonce. discord.py sends a nonce
with ``enforce_nonce``, so Discord answers a repeated nonce with the message
it already has instead of posting again: that is what makes a retry after a
crash safe. Discord's answer is mapped for the services: 403/404 are
permanent (``FAILED``), 429 and 5xx (after discord.py's own retries) and
network errors are worth another try later (``RETRY``).

``Deliveries`` runs on the bot's clock: a tick every ``TICK_SECONDS`` (the
safety net: it catches up after downtime and plans recurring deadlines), plus
a one-shot wake-up at the next due time so that a reminder goes out on the
second, not up to a tick late. A tick never raises and never overlaps another.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

import aiohttp
import discord
from apscheduler.triggers.date import DateTrigger

from bot.clock import Clock
from bot.render.digests import digest_embed
from bot.render.reminders import (
    direct_content,
    notice_content,
    reminder_content,
    reminder_embed,
    reminder_mentions,
)
from bot.services.outbox import (
    AdminNotice,
    DigestPost,
    DirectPost,
    Post,
    PostResult,
    ReminderPost,
)
from bot.services.registry import Services
from bot.settings import Settings
from storage.delivery import Shards
from storage.types import utcnow

if TYPE_CHECKING:
    from bot.client import MagBot

log = logging.getLogger(__name__)

TICK_SECONDS: Final = 30.0
WAKE_JOB: Final = "deliveries-wake"
STOP_TIMEOUT: Final = 15.0


class DiscordOutbox:
    """The services' outbox, posting through a discord.py client."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def post(self, post: Post) -> PostResult:
        """Post ``post`` with its nonce; map Discord's answer to sent, retry or failed."""
        try:
            message = await self._send(post)
        except discord.Forbidden as error:
            return PostResult.failed(f"{error.code} {error.text}".strip(), 403)
        except discord.NotFound as error:
            return PostResult.failed(f"{error.code} {error.text}".strip(), 404)
        except discord.RateLimited as error:
            return PostResult.retry(f"rate limited for {error.retry_after:.0f} s", 429)
        except discord.HTTPException as error:
            if error.status == 429 or error.status >= 500:
                return PostResult.retry(f"{error.status} {error.text}".strip(), error.status)
            return PostResult.failed(f"{error.status} {error.text}".strip(), error.status)
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            return PostResult.retry(f"{type(error).__name__}: {error}")
        return PostResult.sent(message.id)

    async def _send(self, post: Post) -> discord.Message:
        if isinstance(post, DirectPost):
            dm = await self._client.create_dm(discord.Object(id=post.user_id))
            return await dm.send(
                content=direct_content(post),
                embed=reminder_embed(post.reminder),
                nonce=post.nonce,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        channel = self._client.get_partial_messageable(post.channel_id, guild_id=post.guild_id)
        if isinstance(post, ReminderPost):
            return await channel.send(
                content=reminder_content(post),
                embed=reminder_embed(post),
                nonce=post.nonce,
                allowed_mentions=reminder_mentions(post),
            )
        if isinstance(post, DigestPost):
            return await channel.send(
                embed=digest_embed(post.digest),
                nonce=post.nonce,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        if isinstance(post, AdminNotice):
            return await channel.send(
                content=notice_content(post),
                nonce=post.nonce,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        raise TypeError(f"cannot post {type(post).__name__}")


def shards_of(settings: Settings) -> Shards | None:
    """Return the shards this process owns (None: every guild, a single process)."""
    if settings.shard_count is None:
        return None
    ids = settings.shard_ids if settings.shard_ids is not None else range(settings.shard_count)
    return Shards(settings.shard_count, frozenset(ids))


class Deliveries:
    """The ticker: reminders, then digests, on the clock; a precise wake-up for the next one."""

    def __init__(self, services: Services, clock: Clock, *, every: float = TICK_SECONDS) -> None:
        self._services = services
        self._clock = clock
        self._every = timedelta(seconds=every)
        self._lock = asyncio.Lock()
        self._again = False
        self._stopped = False

    def start(self) -> None:
        """Tick every ``every`` seconds (and once now)."""
        self._clock.every(self._every.total_seconds(), self.tick, name="deliveries")
        self.wake_at(self._clock.now())

    async def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Start no more ticks; let the one in flight finish its batch before the database closes.

        Rows it claimed but could not post are taken again, by this process
        after a restart or by another one, when their lease is over.
        """
        self._stopped = True
        self._services.reminders.stopping = True
        try:
            await asyncio.wait_for(self._lock.acquire(), timeout)
        except TimeoutError:
            log.warning("a delivery tick was still running after %.0f s; leaving it", timeout)
        else:
            self._lock.release()

    async def tick(self) -> None:
        """Deliver what is due now; never raises, never runs twice at once."""
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
                    await self._services.reminders.tick(now)
                    await self._services.digests.tick(now)
                except Exception:  # the services never raise; if they did, keep ticking
                    log.exception("delivery tick failed")
                if not self._again or self._stopped:
                    break
            if not self._stopped:
                await self._plan_wake()

    async def _plan_wake(self) -> None:
        try:
            found = [
                await self._services.reminders.next_due(),
                await self._services.digests.next_due(),
            ]
        except Exception:
            log.exception("could not read the next due time")
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


def start_deliveries(bot: MagBot) -> Deliveries:
    """Deliver the bot's reminders and digests through Discord, on the bot's clock."""
    outbox = DiscordOutbox(bot)
    shards = shards_of(bot.settings)
    bot.services.reminders.use(outbox, shards=shards)
    bot.services.digests.use(outbox, shards=shards)
    deliveries = Deliveries(bot.services, bot.clock)
    bot.services.deadlines.on_planned.append(deliveries.wake_at)
    deliveries.start()
    log.info(
        "delivering reminders and digests every %.0f s for %s",
        TICK_SECONDS,
        "every guild" if shards is None else f"shards {sorted(shards.ids)} of {shards.count}",
    )
    return deliveries

"""Benchmark: one rate-limited and a few slow channels beside healthy guilds, digests due too.

    python -m bench.delivery_isolation [--guilds 50] [--per-guild 20] [--limited 1]
                                       [--slow 2] [--slow-seconds 5] [--database-url URL]

The fake Discord runs in a child process (rate limits off except where
asked). Guild 0.. ``--limited``-1 post reminders into a channel limited to one
message per 5 s (a shared 429 with ``retry_after`` up to 5 s: discord.py
raises instead of sleeping, the outbox schedules the retry); the next
``--slow`` guilds' reminder channels answer ``--slow-seconds`` late. Every
guild also has a digest due 20 s into the minute of reminders (a digest
each, in its own channel). This process is the bot: the real services,
``Deliveries`` and ``DiscordOutbox``.

Reported: lateness (post completed minus due time) of the healthy guilds'
reminders at p50, p95 and max (issue 10's target: p95 < 2 s), the same for
the impaired guilds, when the last digest went out, the 429s the fake sent,
and duplicates (every reminder must be in its channel exactly once).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import discord
from sqlalchemy import update

from bench.reminders import (
    CHANNEL_BASE,
    DIGEST_BASE,
    TimedOutbox,
    guild_ids,
    percentile,
    report,
    seed,
    serve_fake,
)
from bench.scratch import create_database, drop_database
from bot.client import use_api
from bot.clock import Clock
from bot.delivery import Deliveries, DiscordOutbox
from bot.services.outbox import DigestPost, Post, PostResult
from bot.services.registry import Services
from bot.services.sending import Sender
from storage.config import GuildConfig
from storage.types import utcnow


class DigestTimes(TimedOutbox):
    """Also note when each digest went out."""

    def __init__(self, inner: DiscordOutbox) -> None:
        super().__init__(inner)
        self.digests: list[float] = []
        self.all_digests = asyncio.Event()
        self.expected_digests = 0

    async def post(self, post: Post) -> PostResult:
        result = await super().post(post)
        if isinstance(post, DigestPost) and result.message_id is not None:
            self.digests.append(time.time())
            if len(self.digests) >= self.expected_digests:
                self.all_digests.set()
        return result


def _figures(values: list[float], prefix: str) -> dict[str, float]:
    if not values:
        return {}
    return {
        f"{prefix}_p50_s": statistics.median(values),
        f"{prefix}_p95_s": percentile(values, 0.95),
        f"{prefix}_max_s": max(values),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    guilds = guild_ids(args.guilds)
    limited = {CHANNEL_BASE + i: (1, 5.0) for i in range(args.limited)}
    slowed = range(args.limited, args.limited + args.slow)
    slow = {CHANNEL_BASE + i: args.slow_seconds for i in slowed}
    impaired = set(guilds[: args.limited + args.slow])
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    fake = context.Process(
        target=serve_fake,
        args=(child, args.guilds, False, {"slow": slow, "limited": limited}),
        daemon=True,
    )
    fake.start()
    url, token = parent.recv()
    use_api(url)

    db, schema = await create_database(
        args.database_url, Path(tempfile.mkdtemp(prefix="bench-isolation-"))
    )

    client = discord.Client(intents=discord.Intents.none())
    await client.login(token)
    services = Services.create(db)
    outbox = DigestTimes(DiscordOutbox(client))
    outbox.expected_digests = args.guilds
    first_due = utcnow() + timedelta(seconds=args.lead)
    outbox.expected = await seed(db, guilds, args.per_guild, first_due)
    digest_at = first_due + timedelta(seconds=20)
    async with db.write() as session:
        for i, guild_id in enumerate(guilds):
            await session.exec(
                update(GuildConfig)  # type: ignore[call-overload]
                .where(GuildConfig.guild_id == guild_id)  # type: ignore[arg-type]
                .values(
                    digest_channel_id=DIGEST_BASE + i,
                    digest_frequency="daily",
                    digest_time=digest_at.strftime("%H:%M"),
                    next_digest_at=digest_at,
                )
            )
    clock = Clock(utcnow)
    clock.start()
    deliveries = Deliveries(services, clock, Sender(services.outbox, outbox))  # type: ignore[arg-type]
    services.deadlines.on_planned.append(deliveries.wake_at)
    deliveries.start()
    try:
        await asyncio.wait_for(outbox.done.wait(), args.timeout)
        # The digests are posted around the reminders; give them a minute.
        await asyncio.wait_for(outbox.all_digests.wait(), 60)
    finally:
        await deliveries.stop()
        clock.shutdown()
    parent.send("count")
    held, distinct, too_many_requests = parent.recv()
    parent.send("stop")
    parent.recv()
    fake.join(5)
    await client.close()
    await drop_database(db, schema)
    healthy = [x for g, v in outbox.by_guild.items() if g not in impaired for x in v]
    hurt = [x for g, v in outbox.by_guild.items() if g in impaired for x in v]
    return {
        "backend": db.backend,
        "guilds": args.guilds,
        "reminders": outbox.expected,
        "limited_channels": args.limited,
        "slow_channels": args.slow,
        "slow_answer_s": args.slow_seconds,
        "delivered": len(outbox.lateness),
        "messages_in_fake": held,
        "distinct_nonces": distinct,
        "duplicates": held - distinct,
        "fake_sent_429s": too_many_requests,
        **_figures(healthy, "healthy_lateness"),
        **_figures(hurt, "impaired_lateness"),
        "digests_posted": len(outbox.digests),
        "last_digest_after_due_s": (max(outbox.digests) - digest_at.timestamp())
        if outbox.digests
        else float("nan"),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--guilds", type=int, default=50)
    parser.add_argument("--per-guild", type=int, default=20)
    parser.add_argument("--limited", type=int, default=1)
    parser.add_argument("--slow", type=int, default=2)
    parser.add_argument("--slow-seconds", type=float, default=5.0)
    parser.add_argument("--lead", type=float, default=6.0)
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    report(asyncio.run(run(parser.parse_args(argv))))


if __name__ == "__main__":
    main()

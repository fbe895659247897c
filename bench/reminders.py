"""Benchmark: 10,000 reminders due in the same minute across 200 guilds.

    python -m bench.reminders [--guilds 200] [--per-guild 50] [--database-url URL]
                              [--discord-limits]

The fake Discord (``bot.sandbox.fakediscord``) runs in a child process, as
Discord would be another machine; this process is the bot: the real
services, the real ``Deliveries`` ticker on the real clock (a tick every 30 s
plus a wake-up at the next due time) and the real ``DiscordOutbox`` posting
through discord.py's HTTP client. Reminders are spread evenly over one
minute starting a few seconds after seeding.

Reported: the time to deliver them all (from the first due time to the last
post), lateness of each post (post completed minus due time) at p50, p95 and
max, the longest event-loop stall of the bot's loop (a monitor task sleeping
5 ms and measuring how late it wakes), and the process's peak memory (RSS).
At the end the fake is asked how many messages it holds: each reminder must
be there exactly once.

The fake runs with its rate limits off (``RateLimits.off()``), so the figures
measure the bot's own overhead. ``--discord-limits`` runs it under Discord's
(50 requests/s per bot, 5 messages per 5 s per channel), and the 429s the
fake sent are counted. Reminders due in one channel together go out as one
message of up to 10 embeds, so 10,000 reminders need about 1,000 messages
rather than the 10,000 that would take 200 s at 50/s. The least time the
limits allow is printed beside the figure (``minimum_seconds``), with the
ratio of the two.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import multiprocessing
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import discord
from sqlalchemy import insert, select

from bench.scratch import create_database, drop_database
from bot.client import use_api
from bot.clock import Clock
from bot.delivery import Deliveries, DiscordOutbox
from bot.services.outbox import Post, PostResult, ReminderBatch, ReminderPost
from bot.services.registry import Services
from bot.services.sending import PER_MESSAGE, Sender
from storage.config import GuildConfig
from storage.database import Database
from storage.deadlines import Deadline, Reminder, count_by_status
from storage.types import utcnow

GUILD_BASE = 1_200_000_000_000_000_000
CHANNEL_BASE = 1_210_000_000_000_000_000
DIGEST_BASE = 1_220_000_000_000_000_000
SPREAD = 60.0  # seconds from the first reminder due to the last


def guild_ids(count: int) -> list[int]:
    return [GUILD_BASE + (i << 22) for i in range(count)]


# --- the fake Discord, in its own process -------------------------------------


def serve_fake(
    conn: Connection, guilds: int, discord_limits: bool, faults: dict[str, Any] | None = None
) -> None:
    """Run a fake Discord with ``guilds`` guilds until told to stop; answer counts.

    ``faults``: ``slow`` {channel: seconds}, ``limited`` {channel: (n, per)},
    ``nonce_memory`` (None: a Discord that forgets nonces at once).
    """
    asyncio.run(_serve_fake(conn, guilds, discord_limits, faults or {}))


async def _serve_fake(
    conn: Connection, guilds: int, discord_limits: bool, faults: dict[str, Any]
) -> None:
    from bot.sandbox.fakediscord import FakeDiscord, RateLimits

    options: dict[str, Any] = {}
    if "nonce_memory" in faults:
        options["nonce_memory"] = faults["nonce_memory"]
    fake = FakeDiscord(limits=None if discord_limits else RateLimits.off(), **options)
    await fake.start()
    for i, guild_id in enumerate(guild_ids(guilds)):
        guild = fake.add_guild(guild_id, f"Guild {i}")
        guild.add_channel(CHANNEL_BASE + i, "reminders")
        guild.add_channel(DIGEST_BASE + i, "digest")
    for channel, seconds in faults.get("slow", {}).items():
        fake.slow_channel(channel, seconds)
    for channel, seconds in faults.get("held", {}).items():
        fake.hold_answers(channel, seconds)
    for channel, (limit, per) in faults.get("limited", {}).items():
        fake.limit_channel(channel, limit, per, scope="shared")
    conn.send((fake.url, fake.token))
    loop = asyncio.get_running_loop()
    while True:
        command = await loop.run_in_executor(None, conn.recv)
        if command == "count":
            messages = [m for m in fake.all_messages() if m.channel_id >= CHANNEL_BASE]
            nonces = [str(m.nonce) for m in messages]
            conn.send((len(messages), len(set(nonces)), len(fake.rate_limit_hits)))
        else:
            await fake.stop()
            conn.send("stopped")
            return


# --- the bot side -------------------------------------------------------------


class TimedOutbox:
    """Records when each reminder's post completed, against its due time."""

    def __init__(self, inner: DiscordOutbox) -> None:
        self.inner = inner
        self.lateness: list[float] = []
        self.by_guild: dict[int, list[float]] = {}
        self.last_post = 0.0
        self.done = asyncio.Event()
        self.expected = 0

    async def post(self, post: Post) -> PostResult:
        result = await self.inner.post(post)
        if result.message_id is not None:
            reminders: tuple[ReminderPost, ...] = ()
            if isinstance(post, ReminderPost):
                reminders = (post,)
            elif isinstance(post, ReminderBatch):
                reminders = post.reminders
            now = time.time()
            for reminder in reminders:
                due = reminder.deadline_at - timedelta(minutes=reminder.offset_minutes)
                self.lateness.append(now - due.timestamp())
                self.by_guild.setdefault(reminder.guild_id, []).append(now - due.timestamp())
                self.last_post = now
            if reminders and len(self.lateness) >= self.expected:
                self.done.set()
        return result

    async def find(self, post: Post, since: datetime) -> dict[str, int] | None:
        return await self.inner.find(post, since)


async def monitor_stalls(
    stalls: list[tuple[float, float]], stop: asyncio.Event, interval: float = 0.005
) -> None:
    """Record (when, how late) the loop wakes a task that sleeps ``interval``."""
    while not stop.is_set():
        start = time.perf_counter()
        await asyncio.sleep(interval)
        stalls.append((time.time(), time.perf_counter() - start - interval))


async def seed(db: Database, guilds: list[int], per_guild: int, first_due: datetime) -> int:
    """Store the guilds' configs, one deadline per reminder, reminders over one minute."""
    total = len(guilds) * per_guild
    now = utcnow()
    async with db.write() as session:
        conn = await session.connection()
        await conn.execute(
            insert(GuildConfig),
            [
                {"guild_id": g, "reminders_channel_id": CHANNEL_BASE + i, "rules": {}}
                for i, g in enumerate(guilds)
            ],
        )
        deadlines = []
        for i, guild_id in enumerate(guilds):
            for n in range(per_guild):
                deadlines.append(
                    {
                        "guild_id": guild_id,
                        "number": n + 1,
                        "title": f"Deadline {n + 1} of guild {i}",
                        "kind": "other",
                        "timezone": "UTC",
                        "first_local": (first_due + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
                        "repeat": "none",
                        "occurrence_base": 0,
                        "offsets": [60],
                        "due_at": first_due + timedelta(hours=1),
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        await conn.execute(insert(Deadline), deadlines)
        ids = (await conn.execute(select(Deadline.id).order_by(Deadline.id))).scalars().all()
        reminders = []
        for index, deadline_id in enumerate(ids):
            due = first_due + timedelta(seconds=SPREAD * index / total)
            reminders.append(
                {
                    "guild_id": deadlines[index]["guild_id"],
                    "deadline_id": deadline_id,
                    "occurrence": 0,
                    "offset_minutes": 60,
                    "due_at": due,
                    "deadline_at": due + timedelta(hours=1),
                    "status": "pending",
                    "attempts": 0,
                    "late": False,
                    "created_at": now,
                }
            )
        await conn.execute(insert(Reminder), reminders)
    return total


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def minimum_seconds(guilds: int, per_guild: int, spread: float, *, limits: bool) -> float:
    """Return the least time from the first due time to the last post that Discord allows.

    Nothing can go out before it is due (``spread``); under Discord's limits
    each channel's reminders need ``ceil(per_guild / 10)`` messages (10
    embeds each), all of them at most 50 a second, and each channel at most
    5 per 5 seconds.
    """
    if not limits:
        return spread
    per_channel = math.ceil(per_guild / PER_MESSAGE)
    global_floor = guilds * per_channel / 50
    channel_floor = (math.ceil(per_channel / 5) - 1) * 5.0
    return max(spread, global_floor, channel_floor)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    fake = context.Process(
        target=serve_fake, args=(child, args.guilds, args.discord_limits), daemon=True
    )
    fake.start()
    url, token = parent.recv()
    use_api(url)

    db, schema = await create_database(
        args.database_url, Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    )

    client = discord.Client(intents=discord.Intents.none())
    await client.login(token)
    services = Services.create(db)
    outbox = TimedOutbox(DiscordOutbox(client))

    first_due = utcnow() + timedelta(seconds=args.lead)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outbox.expected = await seed(db, guild_ids(args.guilds), args.per_guild, first_due)
    if args.freeze_gc:
        # What a long-running bot can do after start: move every object that
        # lives for the whole process out of the collector's way, so that a
        # full collection does not walk them (it was the longest stall).
        gc.collect()
        gc.freeze()
    clock = Clock(utcnow)
    clock.start()
    deliveries = Deliveries(services, clock, Sender(services.outbox, outbox))  # type: ignore[arg-type]
    services.deadlines.on_planned.append(deliveries.wake_at)
    stalls: list[tuple[float, float]] = []
    stop = asyncio.Event()
    monitor = asyncio.create_task(monitor_stalls(stalls, stop))
    deliveries.start()
    try:
        await asyncio.wait_for(outbox.done.wait(), args.timeout)
    finally:
        stop.set()
        await monitor
        await deliveries.stop()
        clock.shutdown()
    last_due = first_due + timedelta(seconds=SPREAD)
    async with db.read() as session:
        statuses = await count_by_status(session)
    parent.send("count")
    held, distinct, too_many_requests = parent.recv()
    parent.send("stop")
    parent.recv()
    fake.join(5)
    await client.close()
    await drop_database(db, schema)
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    worst = max(stalls, key=lambda stall: stall[1])
    minimum = minimum_seconds(args.guilds, args.per_guild, SPREAD, limits=args.discord_limits)
    delivered_after = outbox.last_post - first_due.timestamp()
    return {
        "backend": db.backend,
        "gc_frozen": args.freeze_gc,
        "reminders": outbox.expected,
        "guilds": args.guilds,
        "delivered_posts": len(outbox.lateness),
        "fake_holds": held,
        "distinct_nonces": distinct,
        "discord_limits": args.discord_limits,
        "fake_sent_429s": too_many_requests,
        "ledger": statuses,
        "all_delivered_after_first_due_s": delivered_after,
        "minimum_the_limits_allow_s": minimum,
        "ratio_to_minimum": delivered_after / minimum,
        "last_post_after_last_due_s": outbox.last_post - last_due.timestamp(),
        "lateness_p50_s": statistics.median(outbox.lateness),
        "lateness_p95_s": percentile(outbox.lateness, 0.95),
        "lateness_max_s": max(outbox.lateness),
        "loop_stall_max_ms": 1000 * worst[1],
        "loop_stall_max_at_s_after_first_due": worst[0] - first_due.timestamp(),
        "loop_stall_p99_ms": 1000 * percentile([late for _, late in stalls], 0.99),
        "loop_stalls_over_50ms": sum(1 for _, late in stalls if late > 0.05),
        "rss_before_seed_mb": rss_before / 1024,
        "rss_peak_mb": rss_peak / 1024,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--guilds", type=int, default=200)
    parser.add_argument("--per-guild", type=int, default=50)
    parser.add_argument("--lead", type=float, default=8.0, help="seconds before the first is due")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument(
        "--discord-limits", action="store_true", help="the fake enforces Discord's rate limits"
    )
    parser.add_argument(
        "--freeze-gc", action="store_true", help="gc.freeze() after start (see the stall figure)"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL"),
        help="PostgreSQL URL (a throwaway schema is used); default a fresh SQLite file",
    )
    args = parser.parse_args(argv)
    report(asyncio.run(run(args)))


def report(results: dict[str, Any]) -> None:
    """Print the figures one per line, then all of them as one JSON line."""
    width = max(len(k) for k in results)
    for key, value in results.items():
        shown = f"{value:.3f}" if isinstance(value, float) else value
        print(f"{key:<{width}}  {shown}")
    print(json.dumps(results, default=str))


if __name__ == "__main__":
    main()

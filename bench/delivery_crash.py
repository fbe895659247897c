"""Benchmark: SIGKILL the sender again and again while reminders fall due; count duplicates.

    python -m bench.delivery_crash [--guilds 50] [--per-guild 20] [--kills 20]
                                   [--answer-delay 0.2] [--nonce-memory SECONDS]
                                   [--database-url URL]

The local Discord runs in this process and, by default, forgets nonces at
once: Discord's own dedupe is off, every re-post would be visible. Reminders
(guilds × per-guild) fall due over one minute. The bot's delivery side (the
real services, ``Deliveries``, ``Sender`` and ``DiscordOutbox``) runs in a
child process that is killed with SIGKILL after 2–6 s, ``--kills`` times,
and started again each time; then one last child runs until every reminder
is recorded. ``--answer-delay`` holds each post's answer after the message
exists (the window between post and record in which a kill leaves a message
the ledger does not know about).

Reported: kills, duplicates (messages beyond one per reminder), missing
reminders, how many taken-over rows the senders found in the channel instead
of posting again, the longest gap between a reminder's first and a repeated
copy, and the time until everything was recorded. Issue 10's target:
duplicates <= kills without any nonce dedupe (only a message in flight), and
0 when the taker can read the channel.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import random
import re
import signal
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.reminders import CHANNEL_BASE, guild_ids, report, seed
from bench.scratch import create_database, drop_database, open_database
from bot.delivery import REF
from storage.database import Database
from storage.deadlines import count_by_status
from storage.outbox import OutboxItem
from storage.types import utcnow

FOUND = re.compile(r"outbox: (\d+) of \d+ taken-over row")


def sender_process(url: str | None, schema: str | None, workdir: str, api: str, token: str) -> None:
    """The bot's delivery side, until killed."""
    logging.basicConfig(
        filename=Path(workdir) / f"sender-{os.getpid()}.log",
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("discord").setLevel(logging.WARNING)
    asyncio.run(_sender(url, schema, Path(workdir), api, token))


async def _sender(url: str | None, schema: str | None, workdir: Path, api: str, token: str) -> None:
    import discord

    from bot.client import use_api
    from bot.clock import Clock
    from bot.delivery import Deliveries, DiscordOutbox
    from bot.services.registry import Services
    from bot.services.sending import Sender

    use_api(api)
    db = open_database(url, schema, workdir)
    client = discord.Client(intents=discord.Intents.none())
    await client.login(token)
    services = Services.create(db)
    clock = Clock(utcnow)
    clock.start()
    deliveries = Deliveries(services, clock, Sender(services.outbox, DiscordOutbox(client)))
    services.deadlines.on_planned.append(deliveries.wake_at)
    deliveries.start()
    await asyncio.Event().wait()


async def _left(db: Database) -> int:
    async with db.read() as session:
        statuses = await count_by_status(session)
        busy = await session.scalar(
            select(func.count())
            .select_from(OutboxItem)
            .where(
                OutboxItem.status.in_(("queued", "sending"))  # type: ignore[attr-defined]
            )
        )
    return statuses.get("pending", 0) + int(busy or 0)


def _found_in_logs(workdir: Path) -> int:
    """Return how many taken-over rows the senders found posted (from their logs)."""
    return sum(
        int(m.group(1))
        for log_file in workdir.glob("sender-*.log")
        for m in FOUND.finditer(log_file.read_text())
    )


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from bot.sandbox.fakediscord import FakeDiscord, RateLimits

    fake = FakeDiscord(limits=RateLimits.off(), nonce_memory=args.nonce_memory)
    await fake.start()
    guilds = guild_ids(args.guilds)
    for i, guild_id in enumerate(guilds):
        fake.add_guild(guild_id, f"Guild {i}").add_channel(CHANNEL_BASE + i, "reminders")
        if args.answer_delay:
            fake.hold_answers(CHANNEL_BASE + i, args.answer_delay)

    workdir = Path(tempfile.mkdtemp(prefix="bench-crash-"))
    db, schema = await create_database(args.database_url, workdir)
    first_due = utcnow() + timedelta(seconds=args.lead)
    expected = await seed(db, guilds, args.per_guild, first_due)

    context = multiprocessing.get_context("spawn")
    rng = random.Random(args.seed)

    def start() -> multiprocessing.process.BaseProcess:
        child = context.Process(
            target=sender_process,
            args=(args.database_url, schema, str(workdir), fake.url, fake.token),
            daemon=True,
        )
        child.start()
        return child

    kills = 0
    began = time.monotonic()
    for _ in range(args.kills):
        child = start()
        await asyncio.sleep(rng.uniform(2.0, 6.0))
        os.kill(child.pid or 0, signal.SIGKILL)
        await asyncio.get_running_loop().run_in_executor(None, child.join)
        kills += 1
    child = start()
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        if utcnow() > first_due + timedelta(seconds=60) and await _left(db) == 0:
            break
        await asyncio.sleep(0.5)
    settled_after = time.monotonic() - began
    left = await _left(db)
    child.terminate()
    await asyncio.get_running_loop().run_in_executor(None, child.join)

    copies: Counter[str] = Counter()
    first_seen: dict[str, float] = {}
    gaps: list[float] = []
    by_ref: dict[str, list[float]] = defaultdict(list)
    for message in fake.all_messages():
        if message.channel_id < CHANNEL_BASE:
            continue
        texts = [message.content, message.embed_text()]
        refs = {ref for part in texts for ref in REF.findall(part)}
        for ref in refs:
            copies[ref] += 1
            by_ref[ref].append(message.created_at)
    for ref, times in by_ref.items():
        first_seen[ref] = min(times)
        gaps += [t - first_seen[ref] for t in times if t != first_seen[ref]]
    found = await asyncio.to_thread(_found_in_logs, workdir)
    async with db.read() as session:
        statuses = await count_by_status(session)
    await drop_database(db, schema)
    await fake.stop()
    return {
        "backend": db.backend,
        "reminders": expected,
        "guilds": args.guilds,
        "kills": kills,
        "answer_delay_s": args.answer_delay,
        "nonce_memory_s": args.nonce_memory,
        "ledger": statuses,
        "left_unsettled": left,
        "reminders_in_discord": len(copies),
        "missing": expected - len(copies),
        "duplicates": sum(n - 1 for n in copies.values()),
        "found_instead_of_reposted": found,
        "longest_repeat_gap_s": max(gaps) if gaps else 0.0,
        "settled_after_s": settled_after,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--guilds", type=int, default=50)
    parser.add_argument("--per-guild", type=int, default=20)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--answer-delay", type=float, default=0.2)
    parser.add_argument("--nonce-memory", type=float, default=None)
    parser.add_argument("--lead", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    report(asyncio.run(run(parser.parse_args(argv))))


if __name__ == "__main__":
    main()

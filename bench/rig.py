"""The rig of the side-by-side benches: the real bot and a bare bot, each on a local Discord.

``start_rig`` builds, in this process, two fake Discords (``bot.sandbox.
fakediscord``, Discord's rate limits on): one holds the demo server, 199 more
servers and ``members`` MAG members, and the real bot (``magbot run``, a
process of its own, its SQLite file seeded at IGF scale by
``bench.proposals_data``: 2,000 proposals, 12,000 participations, 16,000
reviews); the other holds one server and the bare bot of ``bench.bare_bot``.
Both bots are separate processes, so neither shares the bench's event loop,
and every command goes through the gateway and back over HTTP as on Discord.

``timed`` runs one command and returns the seconds until its final visible
answer (the message a user sees, after a deferral if there was one).
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import secrets
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.proposals_data import SECRETARIAT_ID, Sizes, seed
from bot.sandbox.fakediscord import FakeDiscord
from bot.sandbox.world import GUILD_ID, DemoWorld, build_demo_world
from storage import migrate
from storage.database import Database
from tests.e2e.harness import ROOT, BotProcess

BARE_GUILD = 930_000_000_000_000_001
BARE_CHANNEL = 930_000_000_000_000_002
BARE_USER = 930_000_000_000_000_003
EXTRA_GUILDS = 930_100_000_000_000_000
MEMBER_BASE = 930_200_000_000_000_000
REVIEWER = SECRETARIAT_ID + 100  # the first seeded MAG member: 400 proposals assigned


@dataclass(frozen=True)
class Command:
    """One command of a mix: who runs it, with which options."""

    path: str
    user: str  # "member" (a MAG member), "admin", "secretariat" or "reviewer"
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        shown = " ".join(f"{k}:{v}" for k, v in self.options.items())
        return f"/{self.path}{' ' + shown if shown else ''}"


@dataclass
class Rig:
    fake: FakeDiscord
    bare_fake: FakeDiscord
    bot: BotProcess
    bare: asyncio.subprocess.Process
    demo: DemoWorld
    members: list[int]
    metrics_url: str
    start_to_ready: float
    workdir: Path

    def user(self, who: str, rnd: random.Random) -> int:
        if who == "member":
            return rnd.choice(self.members)
        if who == "reviewer":
            return REVIEWER
        if who == "secretariat":
            return SECRETARIAT_ID
        return self.demo.users[who]

    async def timed(self, command: Command, rnd: random.Random) -> float:
        """Run ``command`` on the real bot; return seconds to its final visible answer."""
        channel = self.demo.channels["general"]
        start = time.perf_counter()
        ix = await self.fake.run_command(
            GUILD_ID, channel, self.user(command.user, rnd), command.path, **command.options
        )
        await ix.wait_reply(timeout=30)
        return time.perf_counter() - start

    async def admin(self, path: str, **options: Any) -> None:
        """Run a command as the server admin, untimed (setting something up)."""
        ix = await self.fake.run_command(
            GUILD_ID, self.demo.channels["general"], self.demo.users["admin"], path, **options
        )
        await ix.wait_reply(timeout=30)

    async def timed_bare(self) -> float:
        """Run ``/ping`` on the bare bot; return seconds to its answer."""
        start = time.perf_counter()
        ix = await self.bare_fake.run_command(BARE_GUILD, BARE_CHANNEL, BARE_USER, "ping")
        await ix.wait_reply(timeout=30)
        return time.perf_counter() - start

    async def metrics(self) -> str:
        async with aiohttp.ClientSession() as session, session.get(self.metrics_url) as response:
            return await response.text()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _seed(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        await migrate.upgrade(db)
        return await seed(db, Sizes(), guild=GUILD_ID)
    finally:
        await db.dispose()


async def _admin(server_url: str, statement: str) -> None:
    """Run CREATE or DROP DATABASE on the PostgreSQL server of ``server_url``."""
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def fresh_postgres(server_url: str) -> str:
    """Create a throwaway database on that server; return its URL (``drop_postgres`` ends it)."""
    name = f"bench_{secrets.token_hex(4)}"
    await _admin(server_url, f'CREATE DATABASE "{name}"')
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def drop_postgres(server_url: str, url: str) -> None:
    name = make_url(url).database
    await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _wait_healthy(url: str, timeout: float = 60) -> None:
    deadline = time.perf_counter() + timeout
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() < deadline:
            try:
                async with session.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.01)
    raise TimeoutError(f"{url} did not answer 200 within {timeout} s")


async def start_rig(
    workdir: Path,
    *,
    guilds: int = 200,
    members: int = 200,
    database_url: str | None = None,
    locale: str | None = None,
) -> Rig:
    """Start both fakes and both bots, configure the real one as an admin would.

    The bot's database: ``database_url`` (an empty PostgreSQL database), or a
    SQLite file in ``workdir``. ``locale``: everyone's Discord app language
    (``fr``: the bot answers everyone in French).
    """
    url = database_url or f"sqlite+aiosqlite:///{workdir}/magbot.db"
    counts = await _seed(url)
    print(f"seeded {counts['proposal']:,} proposals, {counts['participation']:,} seats, "
          f"{counts['review']:,} reviews", flush=True)  # fmt: skip
    fake = FakeDiscord()
    await fake.start()
    demo = build_demo_world(fake)
    member_ids = [MEMBER_BASE + i for i in range(members)]
    mag_role = demo.roles["mag"]
    for index, user_id in enumerate(member_ids):
        demo.guild.add_member(user_id, f"Member {index}", roles=[mag_role])
    demo.guild.add_member(REVIEWER, "Reviewer", roles=[mag_role])
    demo.guild.add_member(SECRETARIAT_ID, "Secretariat", roles=[demo.roles["secretariat"]])
    if locale is not None:
        demo.guild.locale = locale
        for user_id in [*member_ids, REVIEWER, SECRETARIAT_ID, *demo.users.values()]:
            fake.users[user_id].locale = locale
    for index in range(guilds - 1):
        extra = fake.add_guild(EXTRA_GUILDS + 2 * index, f"NRI {index}")
        extra.add_channel(EXTRA_GUILDS + 2 * index + 1, "general")
    port = free_port()
    bot = BotProcess(
        api_url=fake.url,
        guild_id=GUILD_ID,
        workdir=workdir,
        env={"METRICS_PORT": str(port), "LOG_LEVEL": "WARNING", "DATABASE_URL": url},
    )
    started = time.perf_counter()
    await bot.start()
    health = f"http://127.0.0.1:{port}/healthz"
    await bot.alive_while(_wait_healthy(health))
    start_to_ready = time.perf_counter() - started
    await bot.alive_while(fake.wait_for_commands(GUILD_ID, timeout=60))
    channel, admin = demo.channels["general"], demo.users["admin"]
    for purpose, role in (("mag", mag_role), ("secretariat", demo.roles["secretariat"])):
        ix = await fake.run_command(
            GUILD_ID, channel, admin, "config role", purpose=purpose, role=role
        )
        await ix.wait_reply()

    bare_fake = FakeDiscord()
    await bare_fake.start()
    bare_guild = bare_fake.add_guild(BARE_GUILD, "Bare")
    bare_guild.add_channel(BARE_CHANNEL, "general")
    bare_guild.add_member(BARE_USER, "Someone")
    bare = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.bare_bot",
        cwd=ROOT,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            **bare_fake.env,
            "DEV_GUILD_ID": str(BARE_GUILD),
        },
        stdin=asyncio.subprocess.DEVNULL,
    )
    await bare_fake.wait_for_commands(BARE_GUILD, timeout=60)
    await bare_fake.wait_connected(timeout=30)
    return Rig(
        fake=fake,
        bare_fake=bare_fake,
        bot=bot,
        bare=bare,
        demo=demo,
        members=member_ids,
        metrics_url=f"http://127.0.0.1:{port}/metrics",
        start_to_ready=start_to_ready,
        workdir=workdir,
    )


async def stop_rig(rig: Rig) -> None:
    await rig.bot.stop()
    rig.bare.terminate()
    await rig.bare.wait()
    await rig.fake.stop()
    await rig.bare_fake.stop()


def sample(text: str, name: str, **labels: str) -> float:
    """Return one sample of a Prometheus text page (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)"
    found = re.search("^" + pattern + "$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def lag_buckets(text: str) -> dict[float, float]:
    """Return the loop-lag histogram's cumulative counts by upper bound."""
    found = re.findall(r'^magbot_event_loop_lag_seconds_bucket\{le="([^"]+)"\} (\S+)$', text, re.M)
    return {float(le): float(count) for le, count in found}


def stalls(before: str, after: str, over: float = 0.05) -> tuple[int, str]:
    """Return how many loop-lag looks between two pages were over ``over`` seconds,
    and the range the longest fell in."""
    first, last = lag_buckets(before), lag_buckets(after)
    deltas = {le: last[le] - first.get(le, 0.0) for le in sorted(last)}
    total = deltas[float("inf")]
    below = max((count for le, count in deltas.items() if le <= over), default=0.0)
    bounds = sorted(deltas)
    longest = "0"
    for lower, upper in zip([0.0, *bounds], bounds, strict=False):
        if deltas[upper] - (deltas[lower] if lower else 0.0) > 0:
            longest = f"{lower * 1000:g}-{upper * 1000:g} ms"
    return int(total - below), longest


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))
    return ordered[index]


def rss_mb(metrics_text: str) -> float:
    return sample(metrics_text, "process_resident_memory_bytes") / 2**20

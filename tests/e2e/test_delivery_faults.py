"""Delivery under faults, end to end, against a local Discord that ignores nonces.

Discord's nonce dedupe lasts minutes at best; here it is off, so every
duplicate would be visible. The bot is a real process: it is killed with
SIGKILL while its post is on the wire, and channels are made slow or failing
beside healthy ones.
"""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.conftest import World, due_in, titled

pytestmark = pytest.mark.asyncio(loop_scope="module")

FAKE_OPTIONS = {"nonce_memory": None}


async def test_setup_the_channels_and_roles(world: World) -> None:
    w = world
    await w.run("admin", "config channel", purpose="reminders", channel=w.channels["reminders"])
    await w.run("admin", "config channel", purpose="log", channel=w.channels["mag-log"])
    await w.run("admin", "config role", purpose="secretariat", role=w.roles["secretariat"])


async def test_a_kill_between_post_and_record_gives_one_message(world: World) -> None:
    channel = world.channels["reminders"]
    # The message exists at once; the bot hears about it only 40 s later.
    world.fake.hold_answers(channel, 40)
    await world.run(
        "secretariat", "deadline add", title="Crash window", due=due_in(63), offsets="1m"
    )
    await world.fake.wait_for_message(
        channel, lambda m: "Crash window" in m.embed_text(), timeout=30
    )
    assert await world.bot.stop(signal.SIGKILL) == -signal.SIGKILL
    world.fake.hold_answers(channel, 0)
    start = len(world.bot.lines)
    identifies = len(world.fake.identifies)
    await world.bot.start()
    await world.bot.alive_while(world.fake.wait_connected(timeout=30, identifies=identifies + 1))
    # The dead process's lease runs out (30 s); the taker looks in the channel first.
    await world.bot.wait_for_line(
        r"outbox: 1 of 1 taken-over row\(s\) found in c:\d+", after=start, timeout=60
    )
    await world.bot.wait_for_line(r"outbox: reminder \S+ ×1 in c:\d+: sent", after=start)
    assert len(titled(world, "reminders", "Crash window")) == 1


async def test_a_slow_channel_does_not_hold_up_another(world: World) -> None:
    slow, healthy = world.channels["reminders"], world.channels["digest"]
    world.fake.slow_channel(slow, 8)
    try:
        due = due_in(64)
        await world.run("secretariat", "deadline add", title="Slow lane", due=due, offsets="1m")
        await world.run(
            "secretariat",
            "deadline add",
            title="Fast lane",
            due=due,
            offsets="1m",
            channel=healthy,
        )
        reminder_at = datetime.strptime(due, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        reminder_at -= timedelta(minutes=1)
        await world.fake.wait_for_message(
            healthy, lambda m: "Fast lane" in m.embed_text(), timeout=30
        )
        late = (datetime.now(UTC) - reminder_at).total_seconds()
        assert late < 10, f"the healthy channel waited {late:.1f} s for the slow one"
        assert titled(world, "reminders", "Slow lane") == []  # still on its way
        await world.fake.wait_for_message(slow, lambda m: "Slow lane" in m.embed_text(), timeout=40)
    finally:
        world.fake.slow_channel(slow, 0)
    assert len(titled(world, "reminders", "Slow lane")) == 1
    assert len(titled(world, "digest", "Fast lane")) == 1


async def test_the_admins_hear_of_a_refused_channel_even_when_the_log_channel_fails(
    world: World,
) -> None:
    log_channel = world.channels["mag-log"]
    world.fake.fail_channel(world.channels["reminders"], 403, times=1)
    world.fake.fail_channel(log_channel, 500, times=3)  # discord.py's own retries, then ours
    await world.run("secretariat", "deadline add", title="Refused", due=due_in(63), offsets="1m")
    began = time.monotonic()
    notice = await world.fake.wait_for_message(
        log_channel, lambda m: "could not post reminders" in m.content, timeout=60
    )
    assert f"<#{world.channels['reminders']}>" in notice.content
    await asyncio.sleep(1)
    notices = [m for m in world.fake.channel_messages(log_channel) if "could not post" in m.content]
    assert len(notices) == 1, f"{len(notices)} notices after {time.monotonic() - began:.0f} s"
    # Re-choosing the channel (its permissions fixed) lifts the block at once.
    await world.run(
        "admin", "config channel", purpose="reminders", channel=world.channels["reminders"]
    )
    await world.run("secretariat", "deadline add", title="Fixed", due=due_in(63), offsets="1m")
    await world.fake.wait_for_message(
        world.channels["reminders"], lambda m: "Fixed" in m.embed_text(), timeout=30
    )

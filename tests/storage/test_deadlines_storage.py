"""The reminder ledger and digest runs on both backends: claims, shards, upserts."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from storage.config import GuildConfig
from storage.database import Database
from storage.deadlines import (
    CANCELLED,
    PENDING,
    QUEUED,
    SENT,
    Deadline,
    Reminder,
    allocate_deadline_number,
    next_reminder_due,
    queue_due_reminders,
    reminders_of,
    upsert_reminders,
)
from storage.delivery import Shards, block_channel, get_block, unblock_channel
from storage.digests import last_run, start_run

NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
GUILD = 1_300_000_000_000_000_123


async def add_deadline(db: Database, guild_id: int = GUILD) -> Deadline:
    async with db.write() as session:
        number = await allocate_deadline_number(session, guild_id=guild_id)
        deadline = Deadline(
            guild_id=guild_id,
            number=number,
            title="T",
            timezone="UTC",
            first_local="2027-03-11 09:00",
            offsets=[60],
            due_at=NOW + timedelta(days=1),
        )
        session.add(deadline)
    return deadline


async def test_the_shard_expression_matches_discords_formula(db: Database) -> None:
    rng = random.Random(4)
    ids = [rng.randrange(10**17, 2**63 - 1) for _ in range(300)]
    async with db.write() as session:
        for guild_id in ids:
            session.add(GuildConfig(guild_id=guild_id, rules={}))
    for count in (1, 2, 3, 16):
        for shard_ids in ({0}, {count - 1}, set(range(0, count, 2))):
            shards = Shards(count, frozenset(shard_ids))
            query = select(GuildConfig.guild_id).where(shards.clause(GuildConfig.guild_id))
            async with db.read() as session:
                found = set((await session.exec(query)).all())
            assert found == {g for g in ids if shards.owns(g)}, (count, shard_ids)


async def test_concurrent_queueing_never_overlaps(db: Database) -> None:
    deadline = await add_deadline(db)
    assert deadline.id is not None
    async with db.write() as session:
        for n in range(120):
            session.add(
                Reminder(
                    guild_id=GUILD,
                    deadline_id=deadline.id,
                    occurrence=n,
                    offset_minutes=60,
                    due_at=NOW - timedelta(minutes=1),
                    deadline_at=NOW + timedelta(days=1),
                )
            )

    async def queue() -> list[int]:
        taken: list[int] = []
        while True:
            async with db.write() as session:
                rows = await queue_due_reminders(session, now=NOW, shards=None, limit=7)
            if not rows:
                return taken
            taken += [r.id for r, _ in rows if r.id is not None]
            await asyncio.sleep(0)

    claims = await asyncio.gather(*(queue() for _ in range(8)))
    every = [i for taken in claims for i in taken]
    assert len(every) == len(set(every)) == 120
    async with db.read() as session:
        rows = await reminders_of(session, guild_id=GUILD, deadline_ids=[deadline.id])
        assert await next_reminder_due(session, shards=None) is None
    assert {r.status for r in rows} == {QUEUED}


async def test_upserts_revive_cancelled_reminders_but_never_touch_sent_ones(db: Database) -> None:
    deadline = await add_deadline(db)
    assert deadline.id is not None
    first = {
        (0, 60): (NOW + timedelta(hours=1), NOW + timedelta(hours=2)),
        (0, 30): (NOW + timedelta(hours=1, minutes=30), NOW + timedelta(hours=2)),
    }
    async with db.write() as session:
        await upsert_reminders(
            session, guild_id=GUILD, deadline_id=deadline.id, plan=first, now=NOW
        )
        rows = await reminders_of(session, guild_id=GUILD, deadline_ids=[deadline.id])
        rows[0].status, rows[1].status = SENT, CANCELLED
    moved = {
        key: (due + timedelta(days=1), at + timedelta(days=1)) for key, (due, at) in first.items()
    }
    async with db.write() as session:
        await upsert_reminders(
            session, guild_id=GUILD, deadline_id=deadline.id, plan=moved, now=NOW
        )
    async with db.read() as session:
        rows = await reminders_of(session, guild_id=GUILD, deadline_ids=[deadline.id])
    by_offset = {r.offset_minutes: r for r in rows}
    assert (by_offset[60].status, by_offset[60].due_at) == (SENT, NOW + timedelta(hours=1))
    assert (by_offset[30].status, by_offset[30].due_at) == (
        PENDING,
        NOW + timedelta(days=1, hours=1, minutes=30),
    )


async def test_a_digest_period_is_claimed_once(db: Database) -> None:
    kwargs = {
        "guild_id": GUILD,
        "kind": "scheduled",
        "period_start": NOW - timedelta(days=7),
        "period_end": NOW,
        "scheduled_for": NOW,
        "channel_id": 5,
        "now": NOW,
    }
    async with db.write() as session:
        run = await start_run(session, **kwargs)  # type: ignore[arg-type]
    async with db.write() as session:
        assert await start_run(session, **kwargs) is None  # type: ignore[arg-type]
        latest = await last_run(session, guild_id=GUILD)
    assert run is not None and latest is not None and latest.id == run.id


async def test_channel_blocks(db: Database) -> None:
    async with db.write() as session:
        first = await block_channel(
            session, guild_id=GUILD, channel_id=9, error="403", now=NOW, retry_at=NOW
        )
        first.notified_at = NOW
    async with db.write() as session:
        again = await block_channel(
            session,
            guild_id=GUILD,
            channel_id=9,
            error="404",
            now=NOW,
            retry_at=NOW + timedelta(hours=1),
        )
    assert (again.id, again.notified_at, again.error) == (first.id, NOW, "404")
    async with db.write() as session:
        assert await unblock_channel(session, guild_id=GUILD, channel_id=9)
        assert await get_block(session, guild_id=GUILD, channel_id=9) is None
        assert not await unblock_channel(session, guild_id=GUILD, channel_id=9)


async def test_reminders_are_kept_per_guild(db: Database) -> None:
    mine, theirs = await add_deadline(db), await add_deadline(db, GUILD + 1)
    assert mine.number == theirs.number == 1
    async with db.read() as session:
        assert await reminders_of(session, guild_id=GUILD + 1, deadline_ids=[mine.id or 0]) == []
        query = select(Deadline).where(col(Deadline.guild_id) == GUILD)
        assert len((await session.exec(query)).all()) == 1

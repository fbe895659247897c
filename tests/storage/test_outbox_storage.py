"""The outbox ledger on both backends: lanes, leases, outcomes, expiry."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from storage.database import Database
from storage.outbox import (
    QUEUED,
    SENDING,
    SENT,
    NewItem,
    Outcome,
    begin_attempt,
    claim,
    enqueue,
    expire,
    finish,
    items_by_key,
    next_due,
    renew,
)

NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
GUILD = 1_300_000_000_000_000_123


def item(
    key: str, lane: str, *, due: datetime = NOW, batchable: bool = True, kind: str = "r"
) -> NewItem:
    return NewItem(
        guild_id=GUILD, key=key, kind=kind, lane=lane, due_at=due, payload={"k": key},
        batchable=batchable,
    )  # fmt: skip


async def take(db: Database, me: str, *, now: datetime = NOW, busy=(), lanes: int = 8):
    async with db.write() as session:
        return await claim(
            session,
            now=now,
            claimer=me,
            lease_until=now + timedelta(seconds=30),
            shards=None,
            busy_lanes=set(busy),
            lanes=lanes,
            per_lane=10,
        )


async def test_queueing_twice_makes_one_row(db: Database) -> None:
    async with db.write() as session:
        assert await enqueue(session, items=[item("a", "c:1"), item("a", "c:1")], now=NOW) == 1
    async with db.write() as session:
        assert await enqueue(session, items=[item("a", "c:2")], now=NOW) == 0
        rows = await items_by_key(session, keys=["a"])
    assert rows["a"].lane == "c:1" and rows["a"].status == QUEUED


async def test_a_lane_sends_one_message_at_a_time_in_order(db: Database) -> None:
    items = [item(f"a{i}", "c:1", due=NOW - timedelta(seconds=20 - i)) for i in range(12)]
    items += [item("notice", "c:1", due=NOW, batchable=False, kind="notice")]
    items += [item(f"b{i}", "c:2") for i in range(3)]
    async with db.write() as session:
        await enqueue(session, items=items, now=NOW)
    first = await take(db, "p1")
    by_lane: dict[str, list[str]] = {}
    for row in first:
        by_lane.setdefault(row.lane, []).append(row.key)
    assert by_lane == {"c:1": [f"a{i}" for i in range(10)], "c:2": ["b0", "b1", "b2"]}
    # While c:1 is being sent (by anyone), nothing more of it is claimed.
    assert await take(db, "p2") == []
    async with db.write() as session:
        await finish(
            session,
            claimer="p1",
            outcomes=[Outcome(r.id, SENT, NOW, message_id=9) for r in first if r.id],
        )
    second = await take(db, "p2")
    assert [r.key for r in second] == ["a10", "a11"]  # a different kind ends the batch
    async with db.write() as session:
        await finish(
            session, claimer="p2", outcomes=[Outcome(r.id, SENT, NOW) for r in second if r.id]
        )
    assert [r.key for r in await take(db, "p2")] == ["notice"]


async def test_concurrent_claims_never_overlap(db: Database) -> None:
    # 30 lanes of 40 rows: a lane needs four claims, so claimers race for the
    # same lanes over and over (on PostgreSQL this once deadlocked).
    async with db.write() as session:
        await enqueue(session, items=[item(f"x{i}", f"c:{i % 30}") for i in range(1200)], now=NOW)
    holder: dict[str, str] = {}
    split: list[str] = []

    sent: dict[str, list[int]] = {}

    async def drain(me: str) -> list[int]:
        taken: list[int] = []
        while True:
            rows = await take(db, me, lanes=5)
            if not rows:
                return taken
            mine = {r.lane for r in rows}
            split.extend(lane for lane in mine if holder.get(lane, me) != me)
            holder.update(dict.fromkeys(mine, me))
            for r in rows:
                sent.setdefault(r.lane, []).append(int(r.key[1:]))
            taken += [r.id for r in rows if r.id is not None]
            await asyncio.sleep(0.001)  # "sending"; the others claim meanwhile
            for lane in mine:  # released before the outcomes are written
                holder.pop(lane, None)
            async with db.write() as session:
                await finish(
                    session,
                    claimer=me,
                    outcomes=[Outcome(i, SENT, NOW) for i in taken[-len(rows) :]],
                )
            await asyncio.sleep(0)

    claims = await asyncio.gather(*(drain(f"c{i}") for i in range(8)))
    every = [i for taken in claims for i in taken]
    assert len(every) == len(set(every)) == 1200
    assert split == []
    # Within a lane, rows went out in the order they were queued.
    assert all(order == sorted(order) for order in sent.values())


async def test_a_lease_that_runs_out_is_taken_over_and_only_the_owner_records(
    db: Database,
) -> None:
    async with db.write() as session:
        await enqueue(session, items=[item("a", "c:1")], now=NOW)
    (row,) = await take(db, "old")
    async with db.write() as session:
        await begin_attempt(session, ids=[row.id], claimer="old", at=NOW)  # type: ignore[list-item]
    assert await take(db, "new", now=NOW + timedelta(seconds=29)) == []
    # The owner renews while alive...
    async with db.write() as session:
        assert (
            await renew(
                session, ids=[row.id], claimer="old", lease_until=NOW + timedelta(seconds=60)
            )
            == 1
        )  # type: ignore[list-item]
    assert await take(db, "new", now=NOW + timedelta(seconds=45)) == []
    # ...and once it is gone, another process takes over, seeing the earlier attempt.
    (again,) = await take(db, "new", now=NOW + timedelta(seconds=61))
    assert again.id == row.id and again.attempted_at == NOW and again.claimed_by == "new"
    async with db.write() as session:
        assert await finish(session, claimer="old", outcomes=[Outcome(row.id, SENT, NOW)]) == []  # type: ignore[arg-type]
        (done,) = await finish(
            session, claimer="new", outcomes=[Outcome(row.id, SENT, NOW, message_id=3)]
        )  # type: ignore[arg-type]
    assert (done.status, done.message_id, done.claimed_by) == (SENT, 3, None)


async def test_a_row_past_its_time_expires_unsent(db: Database) -> None:
    late = NewItem(
        guild_id=GUILD, key="late", kind="r", lane="c:1", due_at=NOW,
        expires_at=NOW + timedelta(minutes=1), payload={},
    )  # fmt: skip
    async with db.write() as session:
        await enqueue(session, items=[late, item("ok", "c:2")], now=NOW)
    async with db.write() as session:
        assert await expire(session, now=NOW, shards=None) == []
        (gone,) = await expire(session, now=NOW + timedelta(minutes=2), shards=None)
    assert gone.key == "late"
    async with db.read() as session:
        assert await next_due(session, shards=None) == NOW
    assert [r.key for r in await take(db, "p", now=NOW + timedelta(minutes=2))] == ["ok"]
    assert SENDING  # (the status a claimed row has)

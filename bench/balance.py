"""Benchmark of ``/balance programme``: 1,000,000 participations across 200 guilds.

Run ``.venv/bin/python -m bench.balance`` (``--help`` for options). For each
backend it builds a fresh database (SQLite: a file in a temporary directory;
PostgreSQL: a schema of its own in ``--postgres``, dropped afterwards), loads a
seeded data set, then times, interleaved in the same run:

- the service call behind ``/balance programme`` for the largest guild
  (permission check, settings, the query, every metric and warning);
- the bare SQL it runs (the same statement on a plain connection);
- drawing the chart (on the single-thread chart executor, its cache cleared).

Guild sizes follow a Zipf-like law, so the largest guild holds about 5% of
all participations. Each proposal has six seats (an organizer, three
speakers, two moderators), each person sits on about three.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.render.charts import clear_cache, render_chart
from bot.services.auth import Actor
from bot.services.balance import BalanceService, programme_selection
from bot.services.config import ConfigService
from storage.balance import seat_counts_query
from storage.database import Database
from storage.schema import metadata

POSTGRES_URL = "postgresql+asyncpg://127.0.0.1:5432/test"
NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
SEATS_PER_PROPOSAL = 6
ROLES = ("organizer", "speaker", "speaker", "speaker", "onsite_moderator", "online_moderator")


def weighted(pairs: Sequence[tuple[Any, float]]) -> tuple[list[Any], list[float]]:
    return [v for v, _ in pairs], [w for _, w in pairs]


GROUPS = weighted(
    [
        ("Civil Society", 30),
        ("Government", 22),
        ("Technical Community", 20),
        ("Private Sector", 20),
        ("Intergovernmental Organization", 8),
    ]
)
REGIONS = weighted(
    [
        ("Western European and Others Group (WEOG)", 35),
        ("Asia-Pacific Group", 20),
        ("African Group", 18),
        ("Latin American and Caribbean Group (GRULAC)", 14),
        ("Eastern European Group", 9),
        ("Intergovernmental Organization", 4),
    ]
)
GENDERS = weighted(
    [("Female", 46), ("Male", 48), ("Non-binary", 2), ("Other", 1), ("Prefer not to say", 3)]
)
FLAGS = weighted([(True, 40), (False, 45), (None, 15)])
PROPOSAL_STATUS = weighted(
    [
        ("accepted", 25),
        ("rejected", 30),
        ("under_review", 20),
        ("submitted", 10),
        ("screened_out", 8),
        ("withdrawn", 5),
        ("merged", 2),
    ]
)
KIND = weighted([("workshop", 80), ("open_forum", 10), ("town_hall", 5), ("lightning_talk", 5)])
SEAT_STATUS = weighted(
    [("confirmed", 55), ("invited", 15), ("nominated", 15), ("declined", 10), ("withdrawn", 5)]
)
ATTENDANCE = weighted([("onsite", 65), ("online", 35)])


def guild_sizes(total: int, guilds: int, rng: random.Random) -> list[int]:
    """Return participations per guild, Zipf-like (exponent 0.6), summing to ``total``."""
    weights = [1 / (rank**0.6) for rank in range(1, guilds + 1)]
    scale = total / sum(weights)
    sizes = [max(SEATS_PER_PROPOSAL, int(w * scale)) for w in weights]
    sizes[0] += total - sum(sizes)
    rng.shuffle(sizes)
    return sizes


@dataclass
class DataSet:
    """Rows to load, as tuples in the tables' column order below."""

    proposals: list[tuple[Any, ...]]
    people: list[tuple[Any, ...]]
    participations: list[tuple[Any, ...]]
    members: list[tuple[Any, ...]]
    largest_guild: int
    largest_size: int


PROPOSAL_COLUMNS = (
    "id", "guild_id", "number", "kind", "status", "title", "description", "policy_questions",
    "expected_outcomes", "hybrid_plan", "format", "duration", "subtheme", "proposer_id",
    "proposer_name", "proposer_is_mag", "created_at", "updated_at",
)  # fmt: skip
PERSON_COLUMNS = (
    "id", "guild_id", "key", "name", "stakeholder_group", "region", "gender",
    "developing_country", "first_time", "youth", "details_source", "created_at", "updated_at",
)  # fmt: skip
PARTICIPATION_COLUMNS = (
    "id", "guild_id", "proposal_id", "person_id", "role", "attendance", "status",
    "agreed_in_principle", "created_at", "updated_at",
)  # fmt: skip
MEMBER_COLUMNS = (
    "id", "guild_id", "user_id", "display_name", "stakeholder_group", "region", "gender",
    "created_at", "updated_at",
)  # fmt: skip


def generate(total: int, guilds: int, seed: int) -> DataSet:
    """Return the seeded data set: ``total`` participations across ``guilds`` guilds."""
    rng = random.Random(seed)
    sizes = guild_sizes(total, guilds, rng)
    proposals: list[tuple[Any, ...]] = []
    people: list[tuple[Any, ...]] = []
    seats: list[tuple[Any, ...]] = []
    members: list[tuple[Any, ...]] = []
    choice = rng.choices
    for index, size in enumerate(sizes):
        guild_id = 800_000_000_000_000_000 + index
        n_people = max(SEATS_PER_PROPOSAL, size // 3)
        first_person = len(people) + 1
        groups = choice(GROUPS[0], GROUPS[1], k=n_people)
        regions = choice(REGIONS[0], REGIONS[1], k=n_people)
        genders = choice(GENDERS[0], GENDERS[1], k=n_people)
        flags = choice(FLAGS[0], FLAGS[1], k=3 * n_people)
        for p in range(n_people):
            pid = first_person + p
            person = (pid, guild_id, f"k{pid}", f"Person {pid}", groups[p], regions[p], genders[p])
            people.append((*person, *flags[3 * p : 3 * p + 3], "nominator", NOW, NOW))
        n_proposals = math.ceil(size / SEATS_PER_PROPOSAL)
        statuses = choice(PROPOSAL_STATUS[0], PROPOSAL_STATUS[1], k=n_proposals)
        kinds = choice(KIND[0], KIND[1], k=n_proposals)
        seat_statuses = choice(SEAT_STATUS[0], SEAT_STATUS[1], k=size)
        attendance = choice(ATTENDANCE[0], ATTENDANCE[1], k=size)
        made = 0
        for number in range(1, n_proposals + 1):
            proposal_id = len(proposals) + 1
            head = (proposal_id, guild_id, number, kinds[number - 1], statuses[number - 1])
            texts = ("Title", "Description", "Questions", "Outcomes", "Hybrid", "Panel", 60)
            tail = ("Data Governance & Trust", 1000 + number % 50, "Proposer", False, NOW, NOW)
            proposals.append((*head, *texts, *tail))
            on_it = rng.sample(range(n_people), min(SEATS_PER_PROPOSAL, size - made))
            for slot, who in enumerate(on_it):
                status = seat_statuses[made]
                ids = (len(seats) + 1, guild_id, proposal_id, first_person + who, ROLES[slot])
                seats.append((*ids, attendance[made], status, status == "confirmed", NOW, NOW))
                made += 1
        for user in range(40):
            traits = (
                choice(GROUPS[0], GROUPS[1])[0],
                choice(REGIONS[0], REGIONS[1])[0],
                choice(GENDERS[0], GENDERS[1])[0],
            )
            member = (len(members) + 1, guild_id, 10_000 + user, f"Member {user}")
            members.append((*member, *traits, NOW, NOW))
    largest = max(range(guilds), key=lambda i: sizes[i])
    return DataSet(
        proposals, people, seats, members, 800_000_000_000_000_000 + largest, sizes[largest]
    )


def chunks(rows: list[tuple[Any, ...]], size: int = 50_000) -> Iterator[list[tuple[Any, ...]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


NOW_TEXT = NOW.replace(tzinfo=None).isoformat(sep=" ")


def _sqlite_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    # SQLite keeps UTC as naive text (storage.types); the two times end every row.
    return (*row[:-2], NOW_TEXT, NOW_TEXT)


def _with_defaults(
    table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """Add the model's scalar defaults for required columns the data set leaves out.

    Rows end with (created_at, updated_at); the defaults go before them, so a
    column added to a model later does not break the bench.
    """
    extra = [
        (column.name, column.default.arg)
        for column in metadata.tables[table].columns
        if column.name not in columns
        and not column.nullable
        and column.default is not None
        and column.default.is_scalar
    ]
    if not extra:
        return columns, rows
    names = tuple(name for name, _ in extra)
    values = tuple(value for _, value in extra)
    return (
        (*columns[:-2], *names, *columns[-2:]),
        [(*row[:-2], *values, *row[-2:]) for row in rows],
    )


async def load(db: Database, data: DataSet, schema: str | None) -> None:
    """Create the tables and bulk-load the rows (COPY on PostgreSQL, executemany on SQLite).

    The secondary indexes of the loaded tables are dropped first and built
    again after the load: one sort per index instead of a million updates.
    """
    tables = [
        ("proposal", PROPOSAL_COLUMNS, data.proposals),
        ("person", PERSON_COLUMNS, data.people),
        ("participation", PARTICIPATION_COLUMNS, data.participations),
        ("mag_member", MEMBER_COLUMNS, data.members),
    ]
    tables = [(name, *_with_defaults(name, columns, rows)) for name, columns, rows in tables]
    indexes = [index for name, _, _ in tables for index in metadata.tables[name].indexes]
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        for index in indexes:
            await conn.run_sync(index.drop)
    async with db.engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        if db.is_sqlite:
            # Consistent by construction: skip a foreign-key lookup per row.
            await raw.execute("PRAGMA foreign_keys=OFF")
            await raw.execute("BEGIN")
            for table, columns, rows in tables:
                marks = ", ".join("?" for _ in columns)
                sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
                for chunk in chunks(rows):
                    await raw.executemany(sql, [_sqlite_row(r) for r in chunk])
            await raw.execute("COMMIT")
            await raw.execute("PRAGMA foreign_keys=ON")
        else:
            for table, columns, rows in tables:
                await raw.copy_records_to_table(
                    table, records=rows, columns=columns, schema_name=schema
                )
    async with db.engine.begin() as conn:
        for index in indexes:
            await conn.run_sync(index.create)
        await conn.execute(text("ANALYZE"))


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))
    return ordered[index]


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await call()
    return (time.perf_counter() - start) * 1000


async def measure(db: Database, data: DataSet, runs: int) -> tuple[dict[str, list[float]], bytes]:
    """Time the service call and the bare SQL, interleaved, then the chart; return its PNG."""
    config = ConfigService(db, lambda: NOW)
    service = BalanceService(db, lambda: NOW, config)
    actor = Actor(guild_id=data.largest_guild, user_id=1, is_mag=True)
    query = seat_counts_query(data.largest_guild, [programme_selection()])

    async def bare() -> None:
        async with db.engine.connect() as conn:
            (await conn.execute(query)).all()

    async def call() -> None:
        await service.programme(actor)

    for _ in range(5):
        await call()
        await bare()
    times: dict[str, list[float]] = {"service": [], "bare SQL": [], "chart": []}
    for i in range(runs):
        # Alternate which goes first, so neither always finds the cache warmer.
        pair = (
            (("service", call), ("bare SQL", bare))
            if i % 2
            else (
                ("bare SQL", bare),
                ("service", call),
            )
        )
        for name, run in pair:
            times[name].append(await timed(run))
    report = await service.programme(actor)

    async def draw() -> bytes:
        clear_cache()  # time the drawing, not the cache of charts already drawn
        return await render_chart(report)

    for _ in range(max(5, runs // 4)):
        times["chart"].append(await timed(draw))
    return times, await draw()


async def run_backend(
    backend: str, args: argparse.Namespace, data: DataSet
) -> tuple[dict[str, list[float]], bytes, float]:
    """Load ``data`` into a fresh database of ``backend``; return the times, the chart, the load."""
    schema = None
    with tempfile.TemporaryDirectory(prefix="bench-balance-") as tmp:
        if backend == "sqlite":
            db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        else:
            schema = f"bench_balance_{secrets.token_hex(4)}"
            db = Database(args.postgres, connect_args={"server_settings": {"search_path": schema}})
            async with db.engine.begin() as conn:
                await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            start = time.perf_counter()
            await load(db, data, schema)
            loaded = time.perf_counter() - start
            times, png = await measure(db, data, args.runs)
        finally:
            if schema is not None:
                async with db.engine.begin() as conn:
                    await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await db.dispose()
    return times, png, loaded


async def bench(backend: str, args: argparse.Namespace, data: DataSet) -> bytes:
    times, png, loaded = await run_backend(backend, args, data)
    print(f"\n{backend}: loaded {len(data.participations):,} participations in {loaded:.1f} s")
    for name, values in times.items():
        print(
            f"  {name:<9} p50 {percentile(values, 0.5):7.2f} ms   "
            f"p99 {percentile(values, 0.99):7.2f} ms   (n={len(values)})"
        )
    ratio = statistics.median(times["service"]) / statistics.median(times["bare SQL"])
    print(f"  service / bare SQL at p50: {ratio:.2f}x")
    return png


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.balance", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--participations", type=int, default=1_000_000)
    parser.add_argument("--guilds", type=int, default=200)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--postgres", default=POSTGRES_URL)
    parser.add_argument("--chart", type=Path, help="save the largest guild's programme chart here")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    data = generate(args.participations, args.guilds, args.seed)
    print(
        f"generated {len(data.participations):,} participations, {len(data.people):,} people, "
        f"{len(data.proposals):,} proposals in {args.guilds} guilds "
        f"({time.perf_counter() - start:.1f} s, seed {args.seed}); largest guild: "
        f"{data.largest_size:,} participations"
    )
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        png = asyncio.run(bench(backend, args, data))
    if args.chart is not None:
        args.chart.write_bytes(png)
        print(f"\nthe largest guild's programme chart: {args.chart}")


if __name__ == "__main__":
    main()

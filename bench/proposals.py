"""Benchmark of the handlers behind ``/proposal list``, ``/proposal view`` and ``/review …``.

Run ``.venv/bin/python -m bench.proposals`` (``--help`` for options). For each
backend it builds a fresh database (SQLite: a file in a temporary directory;
PostgreSQL: a schema of its own in ``--postgres``, dropped afterwards), loads
the seeded data set of ``bench.proposals_data`` (one guild: 2,000 proposals,
12,000 participations, 40 MAG members, 16,000 reviews), then calls each
service method many times, interleaved, and prints p50 and p99 in ms.

- list: a random page of ``/proposal list`` (one in three with a status filter);
- view: ``/proposal view`` of a random proposal as the secretariat (people,
  review count, scores with conflicts left out);
- results: a page of ``/review results`` for the whole guild (every proposal
  ranked in SQL, conflicted scores left out; half the calls the first page);
- progress: ``/review progress`` (every reviewer's counts, one grouped query);
- borderline: ``/review borderline`` at a random cut (every score read,
  normalised per reviewer, both rankings).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import text

from bench.proposals_data import GUILD, SECRETARIAT_ID, Sizes, seed
from bot.services.auth import Actor
from bot.services.registry import Services
from storage.database import Database
from storage.schema import metadata

POSTGRES_URL = "postgresql+asyncpg://127.0.0.1:5432/test"
SECRETARIAT = Actor(guild_id=GUILD, user_id=SECRETARIAT_ID, is_secretariat=True)
ANYONE = Actor(guild_id=GUILD, user_id=SECRETARIAT_ID + 1)


def percentile(values: list[float], q: float) -> float:
    """Return the ``q`` quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))
    return ordered[index]


async def _database(backend: str, workdir: Path, postgres_url: str) -> Database:
    if backend == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{workdir}/bench.db")
    else:
        schema = f"bench_{secrets.token_hex(4)}"
        db = Database(postgres_url, connect_args={"server_settings": {"search_path": schema}})
        async with db.engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        db.bench_schema = schema  # type: ignore[attr-defined]
    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    return db


async def _drop(db: Database) -> None:
    schema = getattr(db, "bench_schema", None)
    if schema is not None:
        async with db.engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await db.dispose()


async def run_backend(
    backend: str, workdir: Path, postgres_url: str, rounds: int, sizes: Sizes
) -> dict[str, list[float]]:
    """Seed one backend and time each handler; return the timings in ms."""
    db = await _database(backend, workdir, postgres_url)
    try:
        started = time.perf_counter()
        counts = await seed(db, sizes)
        print(
            f"{backend}: seeded {counts['proposal']} proposals, "
            f"{counts['participation']} participations, {counts['mag_member']} members, "
            f"{counts['review']} reviews in {time.perf_counter() - started:.1f} s"
        )
        services = Services.create(db)
        rnd = random.Random(1)
        handlers: dict[str, Callable[[], Awaitable[object]]] = {
            "proposal list": lambda: services.proposals.list_page(
                ANYONE,
                status="under_review" if rnd.random() < 0.33 else None,
                page=rnd.randrange(0, 200),
            ),
            "proposal view": lambda: services.proposals.view(
                SECRETARIAT, rnd.randint(1, sizes.proposals)
            ),
            "review results": lambda: services.reviews.results(
                SECRETARIAT, page=0 if rnd.random() < 0.5 else rnd.randrange(0, 110)
            ),
            "review progress": lambda: services.reviews.progress(SECRETARIAT),
            "review borderline": lambda: services.reviews.borderline(
                SECRETARIAT, rnd.randint(50, 1500)
            ),
        }
        timings: dict[str, list[float]] = {name: [] for name in handlers}
        for handler in handlers.values():  # warm caches and the pool
            await handler()
        for _ in range(rounds):
            for name, handler in handlers.items():
                t0 = time.perf_counter()
                await handler()
                timings[name].append((time.perf_counter() - t0) * 1000)
        return timings
    finally:
        await _drop(db)


def table(results: dict[str, dict[str, list[float]]]) -> str:
    """Return the results as a plain-text table."""
    lines = [f"{'backend':<11} {'handler':<15} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"]
    for backend, timings in results.items():
        for name, values in timings.items():
            lines.append(
                f"{backend:<11} {name:<15} {len(values):>5} {statistics.median(values):>8.1f} "
                f"{percentile(values, 0.99):>8.1f} {max(values):>8.1f}"
            )
    return "\n".join(lines)


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.proposals", description=__doc__)
    parser.add_argument("--rounds", type=int, default=300, help="calls per handler")
    parser.add_argument(
        "--backend", choices=("sqlite", "postgresql", "both"), default="both", help="which"
    )
    parser.add_argument("--postgres", default=POSTGRES_URL, help="PostgreSQL URL")
    parser.add_argument("--proposals", type=int, default=2000)
    args = parser.parse_args(argv)
    sizes = Sizes(proposals=args.proposals, people=args.proposals * 2)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as workdir:
        for backend in backends:
            try:
                results[backend] = await run_backend(
                    backend, Path(workdir), args.postgres, args.rounds, sizes
                )
            except OSError as error:
                print(f"{backend}: skipped ({error})")
    print()
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))

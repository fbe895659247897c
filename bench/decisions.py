"""Benchmark of the evaluation's decision loop at IGF scale: drafts, feedback, publish.

Run ``.venv/bin/python -m bench.decisions`` (``--help`` for options). For each
backend it seeds the data set of ``bench.proposals_data`` (2,000 proposals,
12,000 participations, 40 MAG members, 16,000 reviews), puts every proposal
under review and drafts a decision on each (written directly: setting up is
not what is measured), then times, interleaved:

- draft: ``/decision draft`` redrafting a random proposal;
- feedback: ``/decision feedback`` showing a random proposal's comments;
- list: ``/decision list`` (every draft, and the balance effect of all of
  them together: two programme counts in one query), with the follow-up;

then publishes all 2,000 at once (``/decision publish``, confirmed) while a
probe measures how late the event loop wakes (a sleep of 5 ms, again and
again), and prints the time to publish (2,000 statuses, audit events and
outbox rows) and the longest stall. Finally ``/decision list`` once more,
now with 2,000 published decisions to follow up.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from sqlalchemy import insert, text, update

from bench.proposals import POSTGRES_URL, SECRETARIAT, _database, _drop, percentile
from bench.proposals_data import GUILD, Sizes, seed
from bot.services.proposals import DECIDED
from bot.services.registry import Services
from storage.decisions import ProposalDecision
from storage.proposals import Proposal
from storage.types import utcnow


class LoopProbe:
    """Measure the event loop's stalls: how late a 5 ms sleep wakes up."""

    def __init__(self, every: float = 0.005) -> None:
        self.every = every
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(self.every)
            self.worst = max(self.worst, loop.time() - start - self.every)

    def __enter__(self) -> LoopProbe:
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def _draft_everything(services: Services, count: int) -> None:
    """Put every proposal under review and draft a decision on each, in bulk."""
    rnd = random.Random(7)
    now = utcnow()
    async with services.db.write() as session:
        await session.exec(
            update(Proposal).where(Proposal.guild_id == GUILD).values(status="under_review")
        )
        ids = (await session.exec(text("SELECT id FROM proposal ORDER BY number"))).all()
        rows = []
        for (pid,) in ids[:count]:
            outcome = rnd.choice(DECIDED)
            rows.append(
                {
                    "guild_id": GUILD,
                    "proposal_id": pid,
                    "draft_of": pid,
                    "outcome": outcome,
                    "reason": "Decided at the MAG meeting",
                    "conditions": "Add a speaker" if outcome == "conditional" else None,
                    "released": [],
                    "anonymise": True,
                    "drafted_by": SECRETARIAT.user_id,
                    "drafted_at": now,
                }
            )
        connection = await session.connection()
        await connection.execute(insert(ProposalDecision.__table__), rows)  # type: ignore[attr-defined]


async def run_backend(
    backend: str, workdir: Path, postgres_url: str, rounds: int, sizes: Sizes
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Seed one backend, time each handler and one publish of everything."""
    db = await _database(backend, workdir, postgres_url)
    try:
        started = time.perf_counter()
        await seed(db, sizes)
        services = Services.create(db)
        await _draft_everything(services, sizes.proposals)
        print(f"{backend}: seeded and drafted in {time.perf_counter() - started:.1f} s")
        rnd = random.Random(1)

        async def listed() -> None:
            await services.decisions.drafts(SECRETARIAT)
            await services.decisions.status(SECRETARIAT)

        handlers: dict[str, Callable[[], Awaitable[object]]] = {
            "draft": lambda: services.decisions.draft(
                SECRETARIAT, rnd.randint(1, sizes.proposals), rnd.choice(DECIDED[:1] + DECIDED[2:])
            ),
            "feedback": lambda: services.decisions.feedback(
                SECRETARIAT, rnd.randint(1, sizes.proposals)
            ),
            "list": listed,
        }
        timings: dict[str, list[float]] = {name: [] for name in handlers}
        for handler in handlers.values():
            await handler()
        for _ in range(rounds):
            for name, handler in handlers.items():
                t0 = time.perf_counter()
                await handler()
                timings[name].append((time.perf_counter() - t0) * 1000)
        with LoopProbe() as probe:
            t0 = time.perf_counter()
            result = await services.decisions.publish(SECRETARIAT, confirmed=True)
            publish_s = time.perf_counter() - t0
        after: list[float] = []
        for _ in range(max(10, rounds // 10)):
            t0 = time.perf_counter()
            await listed()
            after.append((time.perf_counter() - t0) * 1000)
        timings["list (published)"] = after
        figures = {
            "published": float(result.total),
            "publish_s": publish_s,
            "worst_stall_ms": probe.worst * 1000,
        }
        return timings, figures
    finally:
        await _drop(db)


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.decisions", description=__doc__)
    parser.add_argument("--rounds", type=int, default=200, help="calls per handler")
    parser.add_argument(
        "--backend", choices=("sqlite", "postgresql", "both"), default="both", help="which"
    )
    parser.add_argument("--postgres", default=POSTGRES_URL, help="PostgreSQL URL")
    parser.add_argument("--proposals", type=int, default=2000)
    args = parser.parse_args(argv)
    sizes = Sizes(proposals=args.proposals, people=args.proposals * 2)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    lines = [f"{'backend':<11} {'handler':<17} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"]
    publishes = []
    with tempfile.TemporaryDirectory() as workdir:
        for backend in backends:
            try:
                timings, figures = await run_backend(
                    backend, Path(workdir), args.postgres, args.rounds, sizes
                )
            except OSError as error:
                print(f"{backend}: skipped ({error})")
                continue
            for name, values in timings.items():
                lines.append(
                    f"{backend:<11} {name:<17} {len(values):>5} {statistics.median(values):>8.1f} "
                    f"{percentile(values, 0.99):>8.1f} {max(values):>8.1f}"
                )
            publishes.append(
                f"{backend}: published {figures['published']:.0f} decisions in "
                f"{figures['publish_s']:.2f} s; longest event-loop stall "
                f"{figures['worst_stall_ms']:.1f} ms"
            )
    print()
    print("\n".join(lines))
    print("\n".join(publishes))
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))

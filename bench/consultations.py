"""A consultation with 5,000 inputs: the summary with its chart, and the submit handler.

    python -m bench.consultations [--inputs 5000] [--runs 50] [--submits 300]

The real services on a SQLite file (the bot's default): a consultation is
opened, ``--inputs`` inputs are given through ``ConsultationService.submit``
(each its own member, stakeholder groups and regions in the proportions of
an IGF call), then:

- **summary**: ``summary`` (one grouped query), its embeds and the chart
  drawn in the chart thread, as ``/consultation summary`` does, ``--runs``
  times. One more input is given (untimed) before each run, so the chart is
  drawn afresh, never served from the chart cache. Target: p99 < 300 ms.
- **submit**: ``--submits`` more inputs, each timed from the call to the
  stored input (the handler's work: checks, one transaction, the audit
  row), into the consultation that already holds the others. Target:
  p99 < 50 ms.

The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench.rig import percentile
from bot.i18n import load_all
from bot.render.charts import render_chart
from bot.render.consultations import summary_embeds
from bot.services.auth import Actor
from bot.services.config import ConfigService
from bot.services.consultations import ConsultationService
from bot.services.deadlines import DeadlineService
from bot.services.sending import OutboxService
from storage.database import Database
from storage.schema import metadata

GUILD = 1
SECRETARIAT = Actor(guild_id=GUILD, user_id=2, is_secretariat=True)
GROUPS = [
    ("Civil Society", 37),
    ("Technical Community", 21),
    ("Private Sector", 17),
    ("Government", 16),
    ("Intergovernmental Organization", 9),
]
REGIONS = [
    ("Western European and Others Group (WEOG)", 29),
    ("African Group", 23),
    ("Asia-Pacific Group", 21),
    ("Latin American and Caribbean Group (GRULAC)", 15),
    ("Eastern European Group", 7),
    ("Intergovernmental Organization", 5),
]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2027, 3, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def pick(rnd: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    return rnd.choices([p[0] for p in pairs], [p[1] for p in pairs])[0]


async def give(service: ConsultationService, rnd: random.Random, user_id: int) -> None:
    await service.submit(
        Actor(guild_id=GUILD, user_id=user_id),
        1,
        answers=[f"Input {user_id}: " + "words " * rnd.randint(20, 200), ""],
        stakeholder_group=pick(rnd, GROUPS),
        region=pick(rnd, REGIONS),
        gender=rnd.choice(["Female", "Male", None]),
        developing_country=rnd.choice([True, False, None]),
        youth=rnd.choice([True, False, None]),
        submission_key=f"k{user_id}",  # as the form sends it
    )


async def run(args: argparse.Namespace) -> dict[str, object]:
    load_all()
    rnd = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-consultations-") as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        clock = Clock()
        config = ConfigService(db, clock)
        admin = Actor(guild_id=GUILD, user_id=1, is_admin=True)
        await config.set_channel(admin, "reminders", 99)
        service = ConsultationService(
            db, clock, config, DeadlineService(db, clock, config),
            OutboxService(db, clock, config, claimer="bench"),
        )  # fmt: skip
        await service.open(
            SECRETARIAT,
            title="Call for issues",
            questions=["Which issues?", "Why?"],
            closes="2027-06-01 23:59",
        )
        started = time.perf_counter()
        for user_id in range(1000, 1000 + args.inputs):
            await give(service, rnd, user_id)
        loaded = time.perf_counter() - started
        print(f"{args.inputs:,} inputs given in {loaded:.1f} s", flush=True)
        summary_times: list[float] = []
        next_user = 1000 + args.inputs
        for _ in range(args.runs):
            await give(service, rnd, next_user)  # the chart changes: drawn afresh
            next_user += 1
            start = time.perf_counter()
            summary = await service.summary(SECRETARIAT, 1)
            summary_embeds(summary)
            await render_chart(summary.report)
            summary_times.append(time.perf_counter() - start)
        submit_times: list[float] = []
        for _ in range(args.submits):
            start = time.perf_counter()
            await give(service, rnd, next_user)
            submit_times.append(time.perf_counter() - start)
            next_user += 1
        await db.dispose()
    return {
        "inputs": args.inputs,
        "summary_p50_ms": 1000 * statistics.median(summary_times),
        "summary_p99_ms": 1000 * percentile(summary_times, 0.99),
        "submit_p50_ms": 1000 * statistics.median(submit_times),
        "submit_p99_ms": 1000 * percentile(submit_times, 0.99),
        "runs": args.runs,
        "submits": args.submits,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--submits", type=int, default=300)
    parser.add_argument("--seed", type=int, default=14)
    results = asyncio.run(run(parser.parse_args(argv)))
    print(
        f"summary + chart: p50 {results['summary_p50_ms']:.1f} ms, "
        f"p99 {results['summary_p99_ms']:.1f} ms (target < 300 ms)"
    )
    print(
        f"submit handler: p50 {results['submit_p50_ms']:.1f} ms, "
        f"p99 {results['submit_p99_ms']:.1f} ms (target < 50 ms)"
    )
    print(json.dumps(results))


if __name__ == "__main__":
    main()

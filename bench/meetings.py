"""``/meeting plan`` for 60 MAG members in 30 time zones over a series of 24 meetings.

    python -m bench.meetings [--members 60] [--meetings 24] [--runs 50]

The real services on a SQLite file (the bot's default): ``--members`` MAG
profiles with time zones spread over the world, then ``MeetingService.plan``
(the profiles read, the planner in its thread) and its embed, as the
command does, ``--runs`` times, for two sets of candidate hours: the default
(every three hours, 8 candidates) and all 24 hours (the most work). Target:
p99 < 300 ms. The pure planner is timed on its own too.

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
from datetime import UTC, date, datetime
from pathlib import Path

from bench.rig import percentile
from bot.i18n import load_all
from bot.render.meetings import plan_embed
from bot.services.auth import Actor
from bot.services.config import ConfigService
from bot.services.deadlines import DeadlineService
from bot.services.fairhours import Member, plan_series
from bot.services.meetings import MeetingService
from bot.services.profiles import ProfileService
from storage.database import Database
from storage.schema import metadata

GUILD = 1
MAG_ROLE = 77
ZONES = [
    ("America/Los_Angeles", "Western European and Others Group (WEOG)"),
    ("America/Denver", "Western European and Others Group (WEOG)"),
    ("America/Chicago", "Western European and Others Group (WEOG)"),
    ("America/New_York", "Western European and Others Group (WEOG)"),
    ("America/Mexico_City", "Latin American and Caribbean Group (GRULAC)"),
    ("America/Bogota", "Latin American and Caribbean Group (GRULAC)"),
    ("America/Lima", "Latin American and Caribbean Group (GRULAC)"),
    ("America/Sao_Paulo", "Latin American and Caribbean Group (GRULAC)"),
    ("America/Argentina/Buenos_Aires", "Latin American and Caribbean Group (GRULAC)"),
    ("Europe/London", "Western European and Others Group (WEOG)"),
    ("Europe/Zurich", "Western European and Others Group (WEOG)"),
    ("Europe/Berlin", "Western European and Others Group (WEOG)"),
    ("Europe/Warsaw", "Eastern European Group"),
    ("Europe/Kyiv", "Eastern European Group"),
    ("Europe/Moscow", "Eastern European Group"),
    ("Africa/Dakar", "African Group"),
    ("Africa/Lagos", "African Group"),
    ("Africa/Cairo", "African Group"),
    ("Africa/Nairobi", "African Group"),
    ("Africa/Johannesburg", "African Group"),
    ("Asia/Dubai", "Asia-Pacific Group"),
    ("Asia/Karachi", "Asia-Pacific Group"),
    ("Asia/Kolkata", "Asia-Pacific Group"),
    ("Asia/Dhaka", "Asia-Pacific Group"),
    ("Asia/Bangkok", "Asia-Pacific Group"),
    ("Asia/Shanghai", "Asia-Pacific Group"),
    ("Asia/Tokyo", "Asia-Pacific Group"),
    ("Australia/Sydney", "Western European and Others Group (WEOG)"),
    ("Pacific/Auckland", "Western European and Others Group (WEOG)"),
    ("Pacific/Fiji", "Asia-Pacific Group"),
]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def run(args: argparse.Namespace) -> dict[str, object]:
    load_all()
    rnd = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-meetings-") as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        clock = Clock()
        config = ConfigService(db, clock)
        admin = Actor(guild_id=GUILD, user_id=1, is_admin=True)
        await config.set_role(admin, "mag", MAG_ROLE)
        profiles = ProfileService(db, clock, config)
        members: list[Member] = []
        for user_id in range(1000, 1000 + args.members):
            zone, region = ZONES[(user_id - 1000) % len(ZONES)] if rnd.random() < 0.9 else (
                rnd.choice(ZONES))  # fmt: skip
            actor = Actor(guild_id=GUILD, user_id=user_id, is_mag=True, display_name=f"M{user_id}")
            await profiles.set(
                actor, stakeholder_group="Civil Society", region=region, gender="Female"
            )
            await profiles.set_timezone(actor, zone)
            members.append(Member(user_id, zone, region))
        service = MeetingService(db, clock, config, DeadlineService(db, clock, config))
        asker = Actor(guild_id=GUILD, user_id=1000, is_mag=True)
        results: dict[str, object] = {"members": args.members, "meetings": args.meetings}
        for label, hours in (
            ("default_hours", None),
            ("all_24_hours", ",".join(map(str, range(24)))),
        ):
            times: list[float] = []
            worst = fixed = 0
            for _ in range(args.runs):
                start = time.perf_counter()
                planned = await service.plan(
                    asker, first="2027-01-12", count=args.meetings, every_days=14, hours=hours
                )
                plan_embed(planned)
                times.append(time.perf_counter() - start)
                worst, fixed = planned.plan.worst, planned.plan.fixed_worst
            results[f"{label}_p50_ms"] = 1000 * statistics.median(times)
            results[f"{label}_p99_ms"] = 1000 * percentile(times, 0.99)
            results[f"{label}_worst"] = worst
            results[f"{label}_fixed_worst"] = fixed
        pure: list[float] = []
        for _ in range(args.runs):
            start = time.perf_counter()
            plan_series(members, first=date(2027, 1, 12), count=args.meetings, every_days=14,
                        hours=range(24))  # fmt: skip
            pure.append(time.perf_counter() - start)
        results["planner_only_24_hours_p50_ms"] = 1000 * statistics.median(pure)
        await db.dispose()
    results["runs"] = args.runs
    return results


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=60)
    parser.add_argument("--meetings", type=int, default=24)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=15)
    results = asyncio.run(run(parser.parse_args(argv)))
    for label in ("default_hours", "all_24_hours"):
        print(
            f"/meeting plan, {label.replace('_', ' ')}: p50 {results[f'{label}_p50_ms']:.1f} ms, "
            f"p99 {results[f'{label}_p99_ms']:.1f} ms (target < 300 ms); worst member "
            f"{results[f'{label}_worst']} unsocial meetings (one fixed hour: "
            f"{results[f'{label}_fixed_worst']})"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()

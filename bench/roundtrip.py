"""Side by side: each command of the real bot against a bare discord.py bot's ``/ping``.

    python -m bench.roundtrip [--runs 200] [--seed 7] [--locale fr]

The rig (``bench.rig``): the real bot on an IGF-scale database (2,000
proposals, 12,000 participations, 16,000 reviews) in a local Discord with
200 servers, and a bare discord.py bot in another, both separate processes,
Discord's rate limits on. Each round runs every command once, each time right
beside one ``/ping`` of the bare bot (which goes first alternates), so both
see the same machine at the same moment. ``/balance programme`` counts the
seats of the 1,400 proposals under review, and a target changes (untimed)
before each, so its chart is drawn every time, never served from the cache.
The time is to the final visible answer: what a user sees, after a
"thinking…" if the command deferred.

Also reported: start to ready (process spawn to ``/healthz`` 200, 200
servers), the bot's resident memory after the run, and event-loop stalls
over 50 ms during the run (the bot's own loop-lag probe, ``bot.metrics``).
The last line is one JSON object with every figure.

``--locale fr`` puts everyone's Discord app in French, so every answer is
translated: compare its ratios to the bare bot with a run without it (the
cost of translation, issue 12; docs/performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.rig import (
    Command,
    Rig,
    drop_postgres,
    fresh_postgres,
    percentile,
    rss_mb,
    stalls,
    start_rig,
    stop_rig,
)

RANDOM = -1  # an option filled with a random proposal number at each run

COMMANDS: tuple[Command, ...] = (
    Command("help", "member"),
    Command("config show", "admin"),
    Command("deadline list", "member"),
    Command("proposal list", "member"),
    Command("proposal view", "secretariat", {"number": RANDOM}),
    Command("review queue", "reviewer"),
    Command("review results", "secretariat"),
    Command("balance programme", "member", {"status": "under_review"}),
)
# Before each /balance the ceiling of one stakeholder group moves (untimed), so
# the chart differs and is drawn afresh: the figure is a full answer, never
# one from the chart cache.
REDRAW = "balance programme"


def filled(command: Command, rnd: random.Random) -> Command:
    options = {k: (rnd.randint(1, 2000) if v == RANDOM else v) for k, v in command.options.items()}
    return Command(command.path, command.user, options)


async def measure(
    rig: Rig, commands: Sequence[Command], runs: int, rnd: random.Random
) -> dict[str, dict[str, list[float]]]:
    times: dict[str, dict[str, list[float]]] = {c.path: {"bot": [], "bare": []} for c in commands}
    for _ in range(5):  # warm both up: caches, connections, first imports
        for command in commands:
            await rig.timed(filled(command, rnd), rnd)
            await rig.timed_bare()
    for index in range(runs):
        for command in commands:
            pair = times[command.path]
            if command.path == REDRAW:
                # 70 values: more than the 64 charts the cache keeps.
                ceiling = str(30 + index % 70)
                await rig.admin("config rule", name="balance.group_share_max", value=ceiling)
            if index % 2:
                pair["bot"].append(await rig.timed(filled(command, rnd), rnd))
                pair["bare"].append(await rig.timed_bare())
            else:
                pair["bare"].append(await rig.timed_bare())
                pair["bot"].append(await rig.timed(filled(command, rnd), rnd))
    return times


def summary(times: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, float]]:
    out = {}
    for path, pair in times.items():
        bot, bare = pair["bot"], pair["bare"]
        out[path] = {
            "bot_p50_ms": 1000 * statistics.median(bot),
            "bot_p99_ms": 1000 * percentile(bot, 0.99),
            "bare_p50_ms": 1000 * statistics.median(bare),
            "bare_p99_ms": 1000 * percentile(bare, 0.99),
            "ratio_p50": statistics.median(bot) / statistics.median(bare),
            "ratio_p99": percentile(bot, 0.99) / percentile(bare, 0.99),
            "n": len(bot),
        }
    return out


async def run(args: argparse.Namespace) -> dict[str, Any]:
    rnd = random.Random(args.seed)
    database_url = await fresh_postgres(args.postgres) if args.postgres else None
    with tempfile.TemporaryDirectory(prefix="bench-roundtrip-") as tmp:
        rig = await start_rig(
            Path(tmp), database_url=database_url, guilds=args.guilds, locale=args.locale
        )
        try:
            before = await rig.metrics()
            times = await measure(rig, COMMANDS, args.runs, rnd)
            after = await rig.metrics()
            errors = rig.bot.unexpected_errors()
        finally:
            await stop_rig(rig)
            if database_url is not None:
                await drop_postgres(args.postgres, database_url)
    over, longest = stalls(before, after)
    return {
        "database": "postgresql" if args.postgres else "sqlite",
        "locale": args.locale or "en-US",
        "commands": summary(times),
        "start_to_ready_s": rig.start_to_ready,
        "guilds": args.guilds,
        "rss_mb": rss_mb(after),
        "loop_stalls_over_50ms": over,
        "longest_stall": longest,
        "bot_errors": len(errors),
    }


def report(results: dict[str, Any]) -> None:
    print()
    print(f"{'command':<20} {'bot p50':>9} {'bare p50':>9} {'ratio':>6}"
          f" {'bot p99':>9} {'bare p99':>9} {'ratio':>6}")  # fmt: skip
    for path, row in results["commands"].items():
        print(
            f"/{path:<19} {row['bot_p50_ms']:>7.1f}ms {row['bare_p50_ms']:>7.1f}ms "
            f"{row['ratio_p50']:>5.2f}x {row['bot_p99_ms']:>7.1f}ms {row['bare_p99_ms']:>7.1f}ms "
            f"{row['ratio_p99']:>5.2f}x"
        )
    print()
    print(f"start to ready ({results['guilds']} servers): {results['start_to_ready_s']:.2f} s")
    print(f"resident memory after the run: {results['rss_mb']:.0f} MB")
    print(f"event-loop stalls over 50 ms: {results['loop_stalls_over_50ms']}"
          f" (longest in {results['longest_stall']})")  # fmt: skip
    print(f"errors the bot logged: {results['bot_errors']}")
    print(json.dumps(results))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="rounds of every command")
    parser.add_argument("--guilds", type=int, default=200)
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="run the bot on a throwaway database on this PostgreSQL server "
        "(e.g. postgresql+asyncpg://127.0.0.1:5432/test); default SQLite",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--locale", help="everyone's Discord app language, e.g. fr (default en-US: English)"
    )
    report(asyncio.run(run(parser.parse_args(argv))))


if __name__ == "__main__":
    main()

"""Under load, side by side: mixed commands from many members at a steady rate, one bot process.

    python -m bench.load [--rate 200] [--seconds 30] [--slice 10]

The rig of ``bench.rig`` (IGF-scale database, 200 servers, 200 MAG members,
Discord's rate limits on). Commands arrive open-loop, at ``--rate`` a second
whatever the answers do, as members would: the real bot gets a mix of
``/help``, ``/config show``, ``/deadline list``, ``/proposal list``,
``/proposal view`` and ``/review queue``; the bare bot gets ``/ping`` at the
same rate. The two take turns in slices of ``--slice`` seconds (bare, bot,
bare, bot…) until each had ``--seconds``, so both meet the same machine.

Reported for each: interactions sent, answered within 10 s, p50, p99 and max
to the final visible answer; for the real bot also Discord's protocol errors
(a callback after Discord's 3 s), event-loop stalls over 50 ms (its loop-lag
probe) and resident memory. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
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
from bench.roundtrip import RANDOM, filled

MIX: tuple[tuple[Command, int], ...] = (
    (Command("help", "member"), 2),
    (Command("config show", "admin"), 1),
    (Command("deadline list", "member"), 2),
    (Command("proposal list", "member"), 3),
    (Command("proposal view", "member", {"number": RANDOM}), 3),
    (Command("review queue", "reviewer"), 1),
)
ANSWER_WITHIN = 10.0


async def slice_of(
    run_one: Callable[[], Awaitable[float]], rate: float, seconds: float
) -> tuple[list[float], int]:
    """Start ``run_one`` ``rate`` times a second for ``seconds``; return latencies, failures."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    total = round(rate * seconds)
    tasks: list[asyncio.Task[float]] = []
    for index in range(total):
        delay = start + index / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(asyncio.wait_for(run_one(), ANSWER_WITHIN)))
    results = await asyncio.gather(*tasks, return_exceptions=True)
    latencies = [r for r in results if isinstance(r, float)]
    return latencies, total - len(latencies)


def figures(latencies: list[float], failures: int) -> dict[str, Any]:
    return {
        "sent": len(latencies) + failures,
        "answered": len(latencies),
        "p50_ms": 1000 * statistics.median(latencies) if latencies else None,
        "p99_ms": 1000 * percentile(latencies, 0.99) if latencies else None,
        "max_ms": 1000 * max(latencies) if latencies else None,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    rnd = random.Random(args.seed)
    commands = [command for command, weight in MIX for _ in range(weight)]
    database_url = await fresh_postgres(args.postgres) if args.postgres else None
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        rig: Rig = await start_rig(Path(tmp), database_url=database_url)
        try:

            async def bot_one() -> float:
                return await rig.timed(filled(rnd.choice(commands), rnd), rnd)

            for command in commands:  # warm up
                await rig.timed(filled(command, rnd), rnd)
                await rig.timed_bare()
            before = await rig.metrics()
            protocol_before = len(rig.fake.protocol_errors)
            bot: tuple[list[float], int] = ([], 0)
            bare: tuple[list[float], int] = ([], 0)
            done = 0.0
            started = time.perf_counter()
            while done < args.seconds:
                length = min(args.slice, args.seconds - done)
                got = await slice_of(rig.timed_bare, args.rate, length)
                bare = (bare[0] + got[0], bare[1] + got[1])
                got = await slice_of(bot_one, args.rate, length)
                bot = (bot[0] + got[0], bot[1] + got[1])
                done += length
            elapsed = time.perf_counter() - started
            after = await rig.metrics()
            protocol = len(rig.fake.protocol_errors) - protocol_before
            errors = rig.bot.unexpected_errors()
        finally:
            await stop_rig(rig)
            if database_url is not None:
                await drop_postgres(args.postgres, database_url)
    over, longest = stalls(before, after)
    ours, theirs = figures(*bot), figures(*bare)
    ratio = ours["p99_ms"] / theirs["p99_ms"] if ours["p99_ms"] and theirs["p99_ms"] else None
    return {
        "database": "postgresql" if args.postgres else "sqlite",
        "rate_per_s": args.rate,
        "seconds_each": args.seconds,
        "wall_s": elapsed,
        "bot": ours,
        "bare": theirs,
        "ratio_p99": ratio,
        "protocol_errors": protocol,
        "loop_stalls_over_50ms": over,
        "longest_stall": longest,
        "rss_mb": rss_mb(after),
        "bot_errors": len(errors),
    }


def report(results: dict[str, Any]) -> None:
    print()
    print(f"{results['rate_per_s']}/s for {results['seconds_each']} s each, "
          f"in turns ({results['wall_s']:.0f} s in all)")  # fmt: skip
    for side in ("bot", "bare"):
        row = results[side]
        if not row["answered"]:
            print(f"  {side:<4} answered none of {row['sent']:,}")
            continue
        print(
            f"  {side:<4} answered {row['answered']:,} of {row['sent']:,}"
            f"  p50 {row['p50_ms']:.1f} ms  p99 {row['p99_ms']:.1f} ms  max {row['max_ms']:.0f} ms"
            " (of those answered)"
        )
    if results["ratio_p99"] is not None:
        print(f"  p99 bot / bare: {results['ratio_p99']:.2f}x")
    print(f"  Discord protocol errors (late callbacks): {results['protocol_errors']}")
    print(f"  event-loop stalls over 50 ms: {results['loop_stalls_over_50ms']}"
          f" (longest in {results['longest_stall']})")  # fmt: skip
    print(f"  resident memory: {results['rss_mb']:.0f} MB; errors logged: {results['bot_errors']}")
    print(json.dumps(results))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="interactions a second")
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds of load for each bot")
    parser.add_argument("--slice", type=float, default=10.0, help="seconds per turn")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="run the bot on a throwaway database on this PostgreSQL server "
        "(e.g. postgresql+asyncpg://127.0.0.1:5432/test); default SQLite",
    )
    parser.add_argument("--seed", type=int, default=11)
    report(asyncio.run(run(parser.parse_args(argv))))


if __name__ == "__main__":
    main()

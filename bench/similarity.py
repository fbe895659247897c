"""Benchmark of ``/review similar`` (merge suggestions) at IGF scale.

Run ``.venv/bin/python -m bench.similarity`` (``--help`` for options). It
builds a fresh SQLite database (``--backend postgresql`` or ``both`` for
PostgreSQL too), loads the seeded guild of ``bench.proposals_data`` (2,000
proposals, every one made live so that all are compared), then gives every
proposal texts that read like a cycle's: each on one or two of thirty
topics, written from a few hundred words of the field, a thousand names of
places and organisations and the common words of English; one proposal in
thirty is a near duplicate of another (the title's words reordered and one
changed, a tenth of the description's words edited, the policy questions in
another order).

It times, many times over, and prints p50 and p99 in ms:

- handler: the service call behind ``/review similar`` as the secretariat
  runs it (the texts read, every pair compared in a thread, the pairs made
  into briefs) and the embed rendered;
- compare: ``similar_pairs`` alone on the texts already read;
- loop lag: the longest the event loop was late for a 5 ms tick while the
  handler ran (the comparison runs in a thread: it should stay small).

It also says how many of the planted near duplicates were found at the
default threshold and how many other pairs were suggested.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select, update

from bench.proposals import POSTGRES_URL, SECRETARIAT, _database, _drop, percentile
from bench.proposals_data import GUILD, Sizes, seed
from bot.render.similarity import similar_embed
from bot.services.config import DEFAULTS
from bot.services.registry import Services
from bot.services.similarity import COMPARED, THRESHOLD_RULE, ProposalText, similar_pairs
from storage.proposals import Proposal

_TOPIC_WORDS = """
access accessibility accountability algorithms archives artificial intelligence audit
automation bandwidth biometric blockchain broadband capacity censorship certification
children cities climate cloud coalition commons community connectivity consent consumer
content copyright courts crime cryptography culture cybersecurity data democracy design
development digital disinformation diversity domain e-waste education elections
emergency encryption energy environment equity ethics evidence exclusion fact-checking
finance fragmentation freedom gender generative governance hate health heritage identity
inclusion indigenous infrastructure innovation interoperability investment journalism
jurisdiction labour languages law literacy localisation meaningful media migrants
misinformation mobile moderation multilingual multistakeholder networks neutrality
oceans online openness participation payments peering platforms policing privacy
procurement protocols public quantum regulation remote resilience rights routing rural
safety satellites security sovereignty spectrum standards startups surveillance
sustainability taxation technical telecommunications terrorism trade transparency trust
universal venture violence voices water women workers youth
"""
TOPIC_WORDS = _TOPIC_WORDS.split()
_COMMON_WORDS = """
the of and to in a is that for on with as by this be are from at or an it how which
will can their we our they these its more new also between through about who what
should would must need needs help helps make makes work works way ways role roles
session workshop speakers participants discuss discussion share sharing practices
countries governments companies organisations experts people users states regional
global local national international approaches challenges opportunities lessons
future current recent key main different better common shared open around across
"""
COMMON_WORDS = _COMMON_WORDS.split()
QUESTION_STARTS = ("How can", "What role should", "Which", "Who should", "Why do", "When does")


def _topics(rnd: random.Random) -> list[list[str]]:
    return [rnd.sample(TOPIC_WORDS, 24) for _ in range(30)]


def _writer(rnd: random.Random, names: list[str], topic: list[str]):
    def sentence(length: int) -> str:
        out = []
        for _ in range(length):
            draw = rnd.random()
            if draw < 0.5:
                out.append(rnd.choice(COMMON_WORDS))
            elif draw < 0.85:
                out.append(rnd.choice(topic))
            elif draw < 0.95:
                out.append(rnd.choice(TOPIC_WORDS))
            else:
                out.append(rnd.choice(names))
        return " ".join(out)

    return sentence


def texts(count: int, seed_value: int = 13) -> tuple[list[dict[str, str]], set[tuple[int, int]]]:
    """Return ``count`` proposals' texts (number -> fields) and the planted near-duplicate pairs."""
    rnd = random.Random(seed_value)
    names = [
        "".join(rnd.choice("bcdfghjklmnprstvwz") + rnd.choice("aeiou") for _ in range(3))
        for _ in range(1000)
    ]
    topics = _topics(rnd)
    out: list[dict[str, str]] = []
    planted: set[tuple[int, int]] = set()
    for number in range(1, count + 1):
        if number > 30 and rnd.random() < 1 / 30:
            original = rnd.randrange(1, number)
            source = out[original - 1]
            title = source["title"].split()
            rnd.shuffle(title)
            title[rnd.randrange(len(title))] = rnd.choice(TOPIC_WORDS)
            description = source["description"].split()
            for index in rnd.sample(range(len(description)), len(description) // 10):
                description[index] = rnd.choice(COMMON_WORDS + TOPIC_WORDS)
            questions = source["policy_questions"].split("? ")
            rnd.shuffle(questions)
            out.append(
                {
                    "title": " ".join(title).capitalize(),
                    "description": " ".join(description),
                    "policy_questions": "? ".join(questions),
                }
            )
            planted.add((original, number))
            continue
        topic = rnd.choice(topics) + (rnd.choice(topics) if rnd.random() < 0.3 else [])
        sentence = _writer(rnd, names, topic)
        title = " ".join(rnd.sample(topic, rnd.randint(3, 6))).capitalize()
        description = ". ".join(
            sentence(rnd.randint(12, 25)).capitalize() for _ in range(rnd.randint(6, 12))
        )
        questions = "? ".join(
            f"{rnd.choice(QUESTION_STARTS)} {sentence(rnd.randint(8, 14))}"
            for _ in range(rnd.randint(2, 4))
        )
        out.append({"title": title[:60], "description": description, "policy_questions": questions})
    return out, planted


def _family(planted: set[tuple[int, int]], number: int) -> int:
    """Return the proposal that ``number`` is a copy of (a copy of a copy: the first)."""
    parent = {copy: original for original, copy in planted}
    while number in parent:
        number = parent[number]
    return number


async def _lag(every: float = 0.005) -> float:
    """Tick every ``every`` s until cancelled; return the longest wait past a tick, in ms."""
    worst = 0.0
    try:
        while True:
            t0 = time.perf_counter()
            await asyncio.sleep(every)
            worst = max(worst, time.perf_counter() - t0 - every)
    except asyncio.CancelledError:
        return worst * 1000


async def run_backend(
    backend: str, workdir: Path, postgres_url: str, rounds: int, sizes: Sizes
) -> dict[str, list[float]]:
    """Seed one backend, give the proposals their texts and time the handler and the compare."""
    db = await _database(backend, workdir, postgres_url)
    try:
        started = time.perf_counter()
        await seed(db, sizes)
        written, planted = texts(sizes.proposals)
        table = Proposal.__table__  # type: ignore[attr-defined]
        async with db.write() as session:
            connection = await session.connection()
            for number, fields in enumerate(written, start=1):
                await connection.execute(
                    update(table)
                    .where(table.c.guild_id == GUILD, table.c.number == number)
                    .values(**fields)
                )
            # Every proposal live, so that all 2,000 are compared (the seed withdraws some).
            await connection.execute(
                update(table)
                .where(table.c.guild_id == GUILD, table.c.status.not_in(list(COMPARED)))
                .values(status="under_review")
            )
        took = time.perf_counter() - started
        print(f"{backend}: seeded {sizes.proposals} proposals in {took:.1f} s")
        services = Services.create(db)
        threshold = int(DEFAULTS.rules[THRESHOLD_RULE])
        report = await services.similarity.similar(SECRETARIAT, limit=10_000)
        numbers = {(p.first.number, p.second.number) for p in report.pairs}
        async with db.read() as session:
            connection = await session.connection()
            query = select(table.c.number, table.c.status).where(table.c.guild_id == GUILD)
            statuses = {int(n): str(status) for n, status in await connection.execute(query)}
        live = {pair for pair in planted if all(statuses[n] in COMPARED for n in pair)}
        others = numbers - live
        kin = {pair for pair in others if _family(planted, pair[0]) == _family(planted, pair[1])}
        print(
            f"{backend}: {report.compared} live proposals compared; at {threshold} % "
            f"{len(numbers & live)} of the {len(live)} planted near duplicates found; "
            f"{len(others)} other pairs suggested, {len(kin)} of them two copies of one proposal"
        )
        proposals = [
            ProposalText(n, **fields, status=statuses[n])
            for n, fields in enumerate(written, start=1)
        ]
        timings: dict[str, list[float]] = {"handler": [], "compare": [], "loop lag": []}
        for _ in range(rounds):
            ticker = asyncio.create_task(_lag())
            t0 = time.perf_counter()
            similar_embed(await services.similarity.similar(SECRETARIAT))
            timings["handler"].append((time.perf_counter() - t0) * 1000)
            ticker.cancel()
            timings["loop lag"].append(await ticker)
            t0 = time.perf_counter()
            similar_pairs(proposals, threshold, limit=15)
            timings["compare"].append((time.perf_counter() - t0) * 1000)
        return timings
    finally:
        await _drop(db)


def table(results: dict[str, dict[str, list[float]]]) -> str:
    """Return the results as a plain-text table."""
    lines = [f"{'backend':<11} {'step':<9} {'n':>4} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"]
    for backend, timings in results.items():
        for name, values in timings.items():
            lines.append(
                f"{backend:<11} {name:<9} {len(values):>4} {statistics.median(values):>8.1f} "
                f"{percentile(values, 0.99):>8.1f} {max(values):>8.1f}"
            )
    return "\n".join(lines)


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.similarity", description=__doc__)
    parser.add_argument("--rounds", type=int, default=30, help="calls of each")
    parser.add_argument(
        "--backend", choices=("sqlite", "postgresql", "both"), default="sqlite", help="which"
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
    summary = {
        f"{backend} {name}": {
            "p50_ms": round(statistics.median(values), 1),
            "p99_ms": round(percentile(values, 0.99), 1),
        }
        for backend, timings in results.items()
        for name, values in timings.items()
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))

"""Benchmark of `/proposal import` at IGF scale: 2,000 proposals with 12,000 people.

Run ``.venv/bin/python -m bench.imports`` (``--help`` for options). It writes
a pretalx JSON export (sessions with six speakers each, and the speakers
file with emails), then, while a probe measures how late the event loop
wakes (a sleep of 5 ms, again and again), times what the command does:

- preview: read the files (parsed in a worker thread), store the request
  that the Confirm button carries, and build the preview against the
  database (the first import of the call into a server with nothing);
- apply: take the stored request and import it in one transaction;
- re-import preview and apply: the same files again, which change nothing.

Targets (docs/import.md): preview < 3 s, apply < 10 s on SQLite, no stall of
the event loop over 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import tempfile
import time
from pathlib import Path

from bench.decisions import LoopProbe
from bench.proposals import POSTGRES_URL, SECRETARIAT, _database, _drop
from bot.errors import ConfirmationNeeded
from bot.services.import_formats import parse
from bot.services.registry import Services

WORDS = (
    *("data", "governance", "trust", "access", "inclusion", "rights", "youth", "policy"),
    *("network", "security", "climate", "community", "infrastructure", "standards"),
    *("openness", "regulation", "platforms", "cooperation"),
)


def export(proposals: int, per: int, seed: int = 5) -> tuple[bytes, bytes]:
    """Return a pretalx sessions export and its speakers export, both JSON."""
    rnd = random.Random(seed)
    sessions, speakers = [], []
    for n in range(proposals):
        codes = [f"S{n:05d}{k}" for k in range(per)]
        sessions.append(
            {
                "ID": f"P{n:05d}",
                "Proposal title": f"{rnd.choice(WORDS).title()} and {rnd.choice(WORDS)} #{n}",
                "Proposal state": "submitted",
                "Session type": rnd.choice(["Roundtable", "Panel", "Debate"]),
                "Track": rnd.choice(["Data governance", "Inclusion", "Security"]),
                "Abstract": " ".join(rnd.choice(WORDS) for _ in range(60)),
                "Description": " ".join(rnd.choice(WORDS) for _ in range(120)),
                "Duration": rnd.choice([60, 90]),
                "Speaker IDs": codes,
                "Speaker names": [f"Speaker {c}" for c in codes],
            }
        )
        for code in codes:
            speakers.append(
                {
                    "ID": code,
                    "Name": f"Speaker {code}",
                    "Email": f"{code.lower()}@example.org",
                    "Biography": "",
                    "Proposal IDs": [f"P{n:05d}"],
                }
            )
    return json.dumps(sessions).encode(), json.dumps(speakers).encode()


async def run_backend(backend: str, workdir: Path, postgres_url: str, proposals: int) -> list[str]:
    db = await _database(backend, workdir, postgres_url)
    try:
        services = Services.create(db)
        sessions, speakers = export(proposals, 6)
        files = [("sessions.json", sessions), ("speakers.json", speakers)]
        size = (len(sessions) + len(speakers)) / 1e6
        lines = []
        counted = parse(files)
        proposals_n, people_n = len(counted["proposals"]), len(counted["people"])
        for attempt in ("first import", "re-import"):
            with LoopProbe() as probe:
                started = time.perf_counter()
                parsed = await services.imports.read(SECRETARIAT, files)
                pending = await services.pending.ask(SECRETARIAT, "proposal.import", parsed)
                with contextlib.suppress(ConfirmationNeeded):
                    await services.imports.run(SECRETARIAT, parsed, confirmed=False)
                preview = time.perf_counter() - started
                started = time.perf_counter()
                taken = await services.pending.take(
                    guild_id=SECRETARIAT.guild_id,
                    user_id=SECRETARIAT.user_id,
                    action_id=pending.id,
                    token=pending.token,
                )
                result = await services.imports.run(SECRETARIAT, taken.payload, confirmed=True)
                apply = time.perf_counter() - started
            lines.append(
                f"{backend}: {attempt} of {proposals_n} proposals with "
                f"{people_n} people ({size:.1f} MB): preview {preview:.2f} s, "
                f"apply {apply:.2f} s ({result.proposals} proposals, {result.people} people, "
                f"{result.participations} participations written); longest event-loop stall "
                f"{probe.worst * 1000:.1f} ms"
            )
        return lines
    finally:
        await _drop(db)


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__)
    parser.add_argument(
        "--backend", choices=("sqlite", "postgresql", "both"), default="sqlite", help="which"
    )
    parser.add_argument("--postgres", default=POSTGRES_URL, help="PostgreSQL URL")
    parser.add_argument("--proposals", type=int, default=2000)
    args = parser.parse_args(argv)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    out = []
    with tempfile.TemporaryDirectory() as workdir:
        for backend in backends:
            try:
                out += await run_backend(backend, Path(workdir), args.postgres, args.proposals)
            except OSError as error:
                out.append(f"{backend}: skipped ({error})")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))

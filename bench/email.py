"""Email invitations and the consent page: sending through a real SMTP server, and the page.

    python -m bench.email [--nominees 300] [--pages 300]

The real services on a SQLite file (the bot's default), a local aiosmtpd
server and the consent pages on a local port (aiohttp, as the bot serves
them):

- **send**: ``--nominees`` people nominated by email only (one transaction
  each, as ``/panellist nominate``), then the outbox sent through SMTP
  (one connection per mail, lanes in parallel); mails per second.
- **page**: ``--pages`` GETs of a consent page over HTTP, each timed
  (token check, one query, the template). Target: p99 < 50 ms.
- **confirm**: the same number of Confirm POSTs, one per nominee.

The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp.test_utils import TestClient, TestServer

from bench.rig import percentile
from bot.i18n import load_all
from bot.mail import Mailer, SmtpServer
from bot.services.auth import Actor
from bot.services.registry import Services
from bot.services.sending import Sender
from storage.database import Database
from storage.schema import metadata
from tests.services.factories import SECRETARIAT, submit
from tests.web.smtp import smtp_server
from tests.web.test_email import Routed
from web.app import ConsentPages, RateLimit


async def run(args: argparse.Namespace) -> dict[str, object]:
    load_all()
    with tempfile.TemporaryDirectory() as tmp, smtp_server() as (inbox, port):
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        services = Services.create(db)
        services.email.use(secret="b" * 40, base_url="http://bench", sender="mag@example.org")
        proposals = max(1, args.nominees // 20)
        for i in range(proposals):  # each proposer may submit only a few
            await submit(services, Actor(guild_id=SECRETARIAT.guild_id, user_id=1000 + i))
        started = time.perf_counter()
        for i in range(args.nominees):
            await services.panellists.nominate(
                SECRETARIAT,
                proposal_number=1 + i % proposals,
                name=f"Nominee {i}",
                stakeholder_group="Civil Society",
                region="African Group",
                gender="Female",
                contact=f"nominee{i}@example.org",
            )
        nominate_s = time.perf_counter() - started
        outbox = Routed(Mailer(SmtpServer("127.0.0.1", port, None, None, "none")))
        started = time.perf_counter()
        await Sender(services.outbox, outbox).run_once()
        send_s = time.perf_counter() - started
        links = inbox.links()
        assert len(links) == args.nominees, (len(links), args.nominees)

        pages = ConsentPages(services.email, limit=RateLimit(rate=10**9))
        async with TestClient(TestServer(pages.app())) as client:
            paths = [urlsplit(link).path for link in links]
            page_ms = []
            for i in range(args.pages):
                t = time.perf_counter()
                response = await client.get(paths[i % len(paths)])
                await response.read()
                page_ms.append((time.perf_counter() - t) * 1000)
                assert response.status == 200
            confirm_ms = []
            for path in paths[: args.pages]:
                t = time.perf_counter()
                response = await client.post(path, data={"action": "confirm"})
                await response.read()
                confirm_ms.append((time.perf_counter() - t) * 1000)
                assert response.status == 200
        await db.dispose()
    return {
        "nominees": args.nominees,
        "nominate_ms_each": round(nominate_s * 1000 / args.nominees, 2),
        "send_s": round(send_s, 2),
        "mails_per_s": round(args.nominees / send_s, 1),
        "page_p50_ms": round(percentile(page_ms, 0.5), 2),
        "page_p99_ms": round(percentile(page_ms, 0.99), 2),
        "confirm_p50_ms": round(percentile(confirm_ms, 0.5), 2),
        "confirm_p99_ms": round(percentile(confirm_ms, 0.99), 2),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nominees", type=int, default=300)
    parser.add_argument("--pages", type=int, default=300)
    results = asyncio.run(run(parser.parse_args(argv)))
    for key, value in results.items():
        print(f"{key:>18}: {value}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()

"""At start the bot waits for a database that is still coming up, one log line per try."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest
from sqlalchemy.engine import make_url

from bot.cli import reach_database
from bot.settings import Settings
from tests.conftest import POSTGRES_URL, _postgres_reachable


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def test_the_bot_waits_for_a_database_that_comes_up(caplog: pytest.LogCaptureFixture) -> None:
    if not await _postgres_reachable():
        pytest.skip("needs PostgreSQL")
    real = make_url(POSTGRES_URL)
    port = _free_port()
    settings = Settings(
        discord_token=None,
        database_url=real.set(port=port).render_as_string(hide_password=False),
        database_wait=60,
    )
    server: asyncio.Server | None = None
    pauses: list[float] = []

    async def connect(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        up_r, up_w = await asyncio.open_connection(real.host, real.port or 5432)
        await asyncio.gather(_forward(client_r, up_w), _forward(up_r, client_w))

    async def sleep(seconds: float) -> None:  # time is injected: the database "starts" at try 3
        nonlocal server
        pauses.append(seconds)
        if len(pauses) == 2:
            server = await asyncio.start_server(connect, "127.0.0.1", port)

    caplog.set_level(logging.INFO, logger="magbot")
    try:
        await reach_database(settings, sleep=sleep)
    finally:
        if server is not None:
            server.close()
    assert pauses == [1.0, 2.0]  # a growing pause
    lines = [r.getMessage() for r in caplog.records if r.name == "magbot"]
    assert sum("not reachable (attempt" in line for line in lines) == 2
    assert any("reachable after 3 attempts" in line for line in lines)

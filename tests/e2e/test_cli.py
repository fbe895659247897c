"""`magbot sync` and `magbot run` as an operator meets them, against the local fake Discord."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from bot.sandbox.fakediscord import FakeDiscord
from tests.e2e.harness import ROOT, TOKEN

pytestmark = pytest.mark.asyncio(loop_scope="module")

GUILD = 900000000000000077


async def _magbot(
    fake: FakeDiscord, tmp_path, *args: str, env: dict[str, str] | None = None
) -> tuple[int, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DISCORD_TOKEN": TOKEN,
        "DISCORD_API_URL": fake.url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/sync.db",
        **(env or {}),
    }
    env.pop("DEV_GUILD_ID", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, output.decode()


async def test_sync_registers_commands_in_one_guild_and_globally(tmp_path) -> None:
    fake = FakeDiscord()
    await fake.start()
    try:
        fake.add_guild(GUILD, "NRI")
        status, output = await _magbot(fake, tmp_path, "sync", "--guild", str(GUILD))
        assert status == 0, output
        assert "Registered" in output
        names = {c["name"] for c in fake.commands(GUILD)}
        assert {"config", "help"} <= names
        assert fake.commands(None) == []

        status, output = await _magbot(fake, tmp_path, "sync")
        assert status == 0, output
        assert {c["name"] for c in fake.commands(None)} == names
        assert not fake.identifies, "sync must not connect to the gateway"
        fake.assert_clean()
    finally:
        await fake.stop()


async def test_run_without_a_database_waits_then_exits_with_one_line(tmp_path) -> None:
    fake = FakeDiscord()
    await fake.start()
    try:
        env_url = "postgresql+asyncpg://magbot:secret@127.0.0.1:1/mag"
        status, output = await _magbot(
            fake, tmp_path, "run", env={"DATABASE_URL": env_url, "DATABASE_WAIT": "2"}
        )
        assert status == 3, output
        attempts = [line for line in output.splitlines() if "not reachable (attempt" in line]
        assert len(attempts) >= 2
        last = output.strip().splitlines()[-1]
        assert last.startswith("magbot: the database at DATABASE_URL=")
        assert "did not answer within 2 s" in last
        assert "secret" not in output, "the password is never printed"
        assert "Traceback" not in output
        assert not fake.identifies, "without a database the bot does not connect"
    finally:
        await fake.stop()


async def test_a_database_that_refuses_us_ends_the_wait_at_once(tmp_path) -> None:
    from tests.conftest import POSTGRES_URL, _postgres_reachable

    if not await _postgres_reachable():
        pytest.skip("needs PostgreSQL")
    fake = FakeDiscord()
    await fake.start()
    try:
        url = POSTGRES_URL.rsplit("/", 1)[0] + "/no_such_database_here"
        status, output = await _magbot(
            fake, tmp_path, "run", env={"DATABASE_URL": url, "DATABASE_WAIT": "30"}
        )
        assert status == 3, output
        assert "not reachable (attempt" not in output
        last = output.strip().splitlines()[-1]
        assert last.startswith("magbot: the database at DATABASE_URL=")
        assert "refused to work" in last and "no_such_database_here" in last
        assert "Traceback" not in output
    finally:
        await fake.stop()

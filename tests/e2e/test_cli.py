"""`magbot sync` registers the commands on purpose, against the local fake Discord."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest

from bot.sandbox.fakediscord import FakeDiscord
from tests.e2e.harness import ROOT, TOKEN

pytestmark = pytest.mark.asyncio(loop_scope="module")

GUILD = 900000000000000077


async def _magbot(fake: FakeDiscord, tmp_path, *args: str) -> tuple[int, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DISCORD_TOKEN": TOKEN,
        "DISCORD_API_URL": fake.url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/sync.db",
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

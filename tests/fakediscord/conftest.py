"""Shared pieces for the fake's own tests: a small world and real discord.py clients.

``rest_client`` logs a real ``discord.Client`` in over HTTP only (no gateway),
which is enough to drive discord.py's HTTP client, rate-limit handling
included. ``GatewayBot`` also connects the gateway and answers one slash
command, for the features that need interactions or gateway events.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import discord
import pytest
from discord import app_commands

from bot.sandbox.fakediscord import FakeDiscord, FakeGuild, ManualClock

GUILD_ID = 1_330_000_000_000_000_000
TEXT_ID = GUILD_ID + 1
OTHER_TEXT_ID = GUILD_ID + 2
VOICE_ID = GUILD_ID + 3
STAGE_ID = GUILD_ID + 4
MEMBER_ID = GUILD_ID + 10


def build_guild(fake: FakeDiscord) -> FakeGuild:
    """One guild: two text channels, a voice and a stage channel, one member."""
    guild = fake.add_guild(GUILD_ID, "IGF MAG")
    guild.add_channel(TEXT_ID, "general")
    guild.add_channel(OTHER_TEXT_ID, "digest")
    guild.add_voice_channel(VOICE_ID, "meeting-room")
    guild.add_stage_channel(STAGE_ID, "open-forum")
    guild.add_member(MEMBER_ID, "member")
    return guild


@pytest.fixture
def clock() -> ManualClock:
    """A monotonic clock that moves only when the test says so."""
    return ManualClock(1_000.0)


@contextlib.asynccontextmanager
async def running(fake: FakeDiscord) -> AsyncIterator[FakeDiscord]:
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@contextlib.asynccontextmanager
async def rest_client(fake: FakeDiscord, **options: Any) -> AsyncIterator[discord.Client]:
    """A real discord.py client logged in to the fake over HTTP (no gateway)."""
    with fake.patch_discord():
        client = discord.Client(
            intents=discord.Intents.none(),
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        await client.login(fake.token)
        try:
            yield client
        finally:
            await client.close()


Handler = Callable[[discord.Interaction], Awaitable[None]]


class RecordingTree(app_commands.CommandTree[discord.Client]):
    """A command tree that keeps the errors of its commands instead of logging them."""

    def __init__(self, client: discord.Client) -> None:
        super().__init__(client)
        self.errors: list[app_commands.AppCommandError] = []

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        self.errors.append(error)


class GatewayBot(discord.Client):
    """A discord.py client on the fake's gateway with one guild slash command, ``/go``.

    Every interaction it got is kept in ``interactions`` so a test can answer
    later through discord.py itself (``interaction.followup``...).
    """

    def __init__(self, handler: Handler, intents: discord.Intents) -> None:
        super().__init__(intents=intents, allowed_mentions=discord.AllowedMentions.none())
        self.tree = RecordingTree(self)
        self.interactions: list[discord.Interaction] = []

        async def go(interaction: discord.Interaction) -> None:
            self.interactions.append(interaction)
            await handler(interaction)

        self.tree.add_command(
            app_commands.Command(name="go", description="Run the test's handler", callback=go),
            guild=discord.Object(GUILD_ID),
        )

    async def setup_hook(self) -> None:
        await self.tree.sync(guild=discord.Object(GUILD_ID))


@contextlib.asynccontextmanager
async def gateway_bot(
    fake: FakeDiscord, handler: Handler, intents: discord.Intents | None = None
) -> AsyncIterator[GatewayBot]:
    """Run a ``GatewayBot`` against the fake until the block ends."""
    with fake.patch_discord():
        bot = GatewayBot(handler, intents or discord.Intents(guilds=True))
        task = asyncio.create_task(bot.start(fake.token))
        try:
            await fake.wait_for_commands(GUILD_ID)
            await fake.wait_connected()
            await fake.flush_gateway()
            yield bot
        finally:
            await bot.close()
            await asyncio.wait_for(task, 5)

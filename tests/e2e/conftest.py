"""The end-to-end rig: a fake Discord and the real bot process, shared per module.

Each test module gets one ``World``: a fake Discord with a demo server
(``bot.sandbox.world``, the sandbox's: channels, roles, an admin, a
secretariat member, MAG members and others) and one ``magbot run`` process
connected to it, with its own SQLite file.
At the end of the module the bot is stopped with SIGTERM (it must exit 0),
and the module fails if the bot used a route the fake does not know, broke
Discord's protocol, or logged an error that no test provoked on purpose.

Tests in these modules use ``pytestmark = pytest.mark.asyncio(loop_scope="module")``
so that they run on the loop the fake and the bot's pipes live on.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio

from bot.sandbox.fakediscord import FakeDiscord, FakeGuild, FakeInteraction, FakeMessage
from bot.sandbox.world import GUILD_ID, build_demo_world
from tests.e2e.harness import BotProcess

__all__ = ["GUILD_ID", "World", "build_guild", "snowflake"]

_ids = itertools.count(910000000000000001)


def snowflake() -> int:
    return next(_ids)


@dataclass
class World:
    """The fake server, its people and channels, and the bot serving it."""

    fake: FakeDiscord
    bot: BotProcess
    guild: FakeGuild
    channels: dict[str, int]
    roles: dict[str, int]
    users: dict[str, int]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def guild_id(self) -> int:
        return self.guild.id

    async def invoke(
        self, user: str, path: str, /, *, where: str = "general", **options: Any
    ) -> FakeInteraction:
        """Run ``/path`` as the named user in the channel named ``where``."""
        return await self.fake.run_command(
            self.guild_id, self.channels[where], self.users[user], path, **options
        )

    async def run(
        self, user: str, path: str, /, *, where: str = "general", **options: Any
    ) -> FakeMessage:
        """Run ``/path`` and return the bot's visible answer."""
        interaction = await self.invoke(user, path, where=where, **options)
        return await interaction.wait_reply()

    async def confirm(self, user: str, reply: FakeMessage, label: str = "Confirm") -> FakeMessage:
        """Press ``label`` under a "please confirm" answer; return what the message became."""
        clicked = await self.fake.click(reply, label, self.users[user])
        return await clicked.wait_reply()

    async def run_confirmed(
        self, user: str, path: str, /, *, where: str = "general", **options: Any
    ) -> FakeMessage:
        """Run ``/path`` and, if it asks for confirmation, confirm; return the final answer."""
        reply = await self.run(user, path, where=where, **options)
        if any(c.get("label") == "Confirm" for c in reply.iter_components()):
            return await self.confirm(user, reply)
        return reply

    async def restart_bot(self) -> None:
        """Stop the bot with SIGTERM (exit 0 expected) and start it again."""
        status = await self.bot.stop()
        assert status == 0, self.bot.tail()
        identifies = len(self.fake.identifies)
        await self.bot.start()
        await self.bot.alive_while(self.fake.wait_connected(timeout=30, identifies=identifies + 1))


def due_in(seconds: float) -> str:
    """Return a due time ``seconds`` from now, as typed (UTC, with seconds)."""
    moment = datetime.now(UTC) + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def titled(world: World, channel: str, title: str) -> list[FakeMessage]:
    """Return the messages in the channel named ``channel`` whose embeds mention ``title``."""
    return [
        m for m in world.fake.channel_messages(world.channels[channel]) if title in m.embed_text()
    ]


def build_guild(
    fake: FakeDiscord, locale: str | None = None
) -> tuple[FakeGuild, dict[str, int], dict[str, int], dict[str, int]]:
    """Add the demo server (the sandbox's): channels, the MAG and secretariat roles, people.

    ``locale``: the server's Discord language and that of everyone's app on it.
    """
    demo = build_demo_world(fake, locale=locale)
    return demo.guild, demo.channels, demo.roles, demo.users


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    """One fake Discord and one bot process for the whole test module.

    A module may set ``BOT_ENV = {...}`` for extra environment of its bot, and
    ``FAKE_OPTIONS = {...}`` for its local Discord (e.g. ``nonce_memory=None``),
    and ``LOCALE = "fr"`` for the server's and everyone's Discord language.
    """
    fake = FakeDiscord(**getattr(request.module, "FAKE_OPTIONS", {}))
    await fake.start()
    guild, channels, roles, users = build_guild(fake, getattr(request.module, "LOCALE", None))
    workdir = tmp_path_factory.mktemp("bot")
    bot = BotProcess(
        api_url=fake.url,
        guild_id=guild.id,
        workdir=workdir,
        env=getattr(request.module, "BOT_ENV", {}),
    )
    await bot.start()
    try:
        await bot.alive_while(fake.wait_for_commands(guild.id, timeout=60))
        await bot.alive_while(fake.wait_connected(timeout=30))
        yield World(fake=fake, bot=bot, guild=guild, channels=channels, roles=roles, users=users)
        status = await bot.stop()
        assert status == 0, f"the bot did not exit cleanly ({status}):\n{bot.tail()}"
        fake.assert_clean()
        errors = bot.unexpected_errors()
        assert not errors, "the bot logged errors:\n" + "\n".join(errors)
    finally:
        if bot._process is not None:
            await bot.stop()
        await fake.stop()

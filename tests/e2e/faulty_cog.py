"""A test-only extension (loaded through EXTRA_COGS): commands that fail, or take their time."""

from __future__ import annotations

import asyncio

import discord
from discord import app_commands
from discord.ext import commands

from cogs._common import actor_of, bot_of, defer, send


class Faulty(commands.Cog):
    @app_commands.command(name="explode", description="Fail on purpose (tests only)")
    @app_commands.describe(deferred="Defer publicly first, as a slow command would")
    async def explode(self, interaction: discord.Interaction, deferred: bool = False) -> None:
        if deferred:
            await defer(interaction, ephemeral=False)
        raise RuntimeError("the database caught fire")

    @app_commands.command(name="nap", description="Answer after a while (tests only)")
    async def nap(self, interaction: discord.Interaction, seconds: float = 0.0) -> None:
        await defer(interaction)
        await asyncio.sleep(seconds)
        await send(interaction, f"Rested {seconds:g} s.")

    @app_commands.command(name="explode_after_saving", description="Save, then fail (tests only)")
    async def explode_after_saving(self, interaction: discord.Interaction) -> None:
        actor = await actor_of(interaction)
        await bot_of(interaction).services.config.set_cycle(actor, "Saved cycle")
        raise RuntimeError("the answer caught fire after the change was saved")


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(Faulty())

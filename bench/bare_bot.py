"""A bare discord.py bot that answers ``/ping``: the yardstick for the bot's own costs.

Run by ``bench.rig`` as a separate process, with ``DISCORD_API_URL``,
``DISCORD_TOKEN`` and ``DEV_GUILD_ID`` set as for the real bot. It does what
any discord.py bot must (gateway, command tree, one callback) and nothing
more, so what the real bot takes beyond it is the bot's own doing.
"""

from __future__ import annotations

import logging
import os

import discord
from discord import app_commands

from bot.client import use_api


class BareBot(discord.Client):
    def __init__(self, guild_id: int) -> None:
        super().__init__(intents=discord.Intents.default(), max_messages=None)
        self.tree = app_commands.CommandTree(self)
        self.guild = discord.Object(id=guild_id)

        @self.tree.command(name="ping", description="Answer pong", guild=self.guild)
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong", ephemeral=True)

    async def setup_hook(self) -> None:
        await self.tree.sync(guild=self.guild)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    use_api(os.environ["DISCORD_API_URL"])
    BareBot(int(os.environ["DEV_GUILD_ID"])).run(os.environ["DISCORD_TOKEN"], log_handler=None)


if __name__ == "__main__":
    main()

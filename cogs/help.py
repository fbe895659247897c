"""`/help`: every command, grouped by who uses it, read from the command tree itself.

Names and descriptions are shown as the reader's Discord client shows them:
from the catalogues, under the contexts the command tree's translator uses.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n import current, pgettext
from bot.localisation import DESCRIPTION, NAME
from bot.render.help import AUDIENCES, CommandLine, help_embeds
from cogs._common import send


def command_lines(tree: app_commands.CommandTree) -> list[CommandLine]:
    """Return one line per runnable command (subcommands flattened), with its audience.

    Its names and descriptions are in the current language.
    """
    lines: list[CommandLine] = []

    def walk(item: app_commands.Command | app_commands.Group, audience: str) -> None:
        audience = item.extras.get("audience", audience)
        if isinstance(item, app_commands.Group):
            for child in item.commands:
                walk(child, audience)
            return
        options = " ".join(
            pgettext(NAME, p.display_name) if p.required else f"[{pgettext(NAME, p.display_name)}]"
            for p in item.parameters
        )
        name = " ".join(pgettext(NAME, part) for part in item.qualified_name.split())
        lines.append(
            CommandLine(
                name=f"/{name}",
                options=options,
                description=pgettext(DESCRIPTION, item.description),
                audience=audience,
            )
        )

    for command in tree.get_commands(type=discord.AppCommandType.chat_input):
        walk(command, "everyone")
    return sorted(lines, key=lambda line: (AUDIENCES.index(line.audience), line.name))


class HelpCog(commands.Cog):
    """Help for everyone."""

    def __init__(self) -> None:
        # The tree does not change while the bot runs: walk it and render it once per language.
        self._embeds: dict[str, list[discord.Embed]] = {}

    @app_commands.command(name="help", description="List the bot's commands by who uses them")
    async def help(self, interaction: discord.Interaction) -> None:
        embeds = self._embeds.get(current())
        if embeds is None:
            embeds = help_embeds(command_lines(interaction.client.tree))  # type: ignore[attr-defined]
            self._embeds[current()] = embeds
        # One message per audience: together they are over one message's 6,000 characters.
        for embed in embeds:
            await send(interaction, embed=embed.copy())


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(HelpCog())

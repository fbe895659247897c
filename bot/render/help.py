"""The `/help` embed."""

from __future__ import annotations

from dataclasses import dataclass

import discord

from bot.i18n import N_, _
from bot.render.embeds import FIELD_VALUE, INFO

# Who a command is for, in the order /help lists them, with their headings.
AUDIENCES = ("everyone", "mag", "secretariat", "admins")
HEADINGS = {
    "everyone": N_("For everyone"),
    "mag": N_("For MAG members"),
    "secretariat": N_("For the secretariat"),
    "admins": N_("For server admins"),
}


@dataclass(frozen=True)
class CommandLine:
    """One command as /help lists it."""

    name: str
    options: str
    description: str
    audience: str


def help_embed(lines: list[CommandLine]) -> discord.Embed:
    """Return the commands grouped by audience, one field per audience."""
    embed = discord.Embed(
        title=_("What this bot does"),
        description=_(
            "Options in [brackets] are optional. "
            "Type a command and Discord shows each option's help."
        ),
        colour=INFO,
    )
    for audience in AUDIENCES:
        entries = [
            # The description is the command tree's English: its translation, where known.
            f"`{line.name}{' ' + line.options if line.options else ''}` — {_(line.description)}"
            for line in lines
            if line.audience == audience
        ]
        # One field holds 1024 characters: continue a long section in the next field.
        chunk: list[str] = []
        heading = _(HEADINGS[audience])
        for entry in entries:
            if chunk and len("\n".join([*chunk, entry])) > FIELD_VALUE:
                embed.add_field(name=heading, value="\n".join(chunk), inline=False)
                chunk, heading = [], _("{heading} (continued)", heading=_(HEADINGS[audience]))
            chunk.append(entry)
        if chunk:
            embed.add_field(name=heading, value="\n".join(chunk), inline=False)
    return embed

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


def help_embeds(lines: list[CommandLine]) -> list[discord.Embed]:
    """Return the commands grouped by audience: one embed per audience, one message each.

    One message holds at most 6,000 characters of embeds, and the whole list
    is longer than that in several languages: each audience gets its own
    embed (the first also says how to read it), sent as its own message.
    """
    embeds: list[discord.Embed] = []
    for audience in AUDIENCES:
        entries = [
            # The description is the command tree's English: its translation, where known.
            f"`{line.name}{' ' + line.options if line.options else ''}` — {_(line.description)}"
            for line in lines
            if line.audience == audience
        ]
        if not entries:
            continue
        embed = discord.Embed(title=_(HEADINGS[audience]), colour=INFO)
        if not embeds:
            embed.description = _(
                "Options in [brackets] are optional. "
                "Type a command and Discord shows each option's help."
            )
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
        embeds.append(embed)
    return embeds

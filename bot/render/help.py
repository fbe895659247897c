"""The `/help` embed."""

from __future__ import annotations

from dataclasses import dataclass

import discord

from bot.render.embeds import FIELD_VALUE, INFO

# Who a command is for, in the order /help lists them, with their headings.
AUDIENCES = ("everyone", "mag", "secretariat", "admins")
HEADINGS = {
    "everyone": "For everyone",
    "mag": "For MAG members",
    "secretariat": "For the secretariat",
    "admins": "For server admins",
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
        title="What this bot does",
        description="Options in [brackets] are optional. "
        "Type a command and Discord shows each option's help.",
        colour=INFO,
    )
    for audience in AUDIENCES:
        entries = [
            f"`{line.name}{' ' + line.options if line.options else ''}` — {line.description}"
            for line in lines
            if line.audience == audience
        ]
        # One field holds 1024 characters: continue a long section in the next field.
        chunk: list[str] = []
        heading = HEADINGS[audience]
        for entry in entries:
            if chunk and len("\n".join([*chunk, entry])) > FIELD_VALUE:
                embed.add_field(name=heading, value="\n".join(chunk), inline=False)
                chunk, heading = [], f"{HEADINGS[audience]} (continued)"
            chunk.append(entry)
        if chunk:
            embed.add_field(name=heading, value="\n".join(chunk), inline=False)
    return embed

"""One gate for every embed: Discord's limits, enforced by trimming, never by failing."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import discord

from bot.i18n import ngettext

TITLE = 256
DESCRIPTION = 4096
FIELD_NAME = 256
FIELD_VALUE = 1024
FIELDS = 25
FOOTER = 2048
AUTHOR = 256
TOTAL = 6000
ELLIPSIS = "…"

# Colours by meaning, so that every feature looks the same.
INFO = discord.Colour.blurple()
OK = discord.Colour.green()
WARN = discord.Colour.orange()


def clip(text: object, limit: int) -> str:
    """Return ``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    value = str(text)
    if len(value) <= limit:
        return value
    return value[: max(0, limit - len(ELLIPSIS))] + ELLIPSIS


def fit_embed(embed: discord.Embed) -> discord.Embed:
    """Return ``embed`` trimmed to Discord's limits (each part, then 6000 in all).

    Fields past the 25th are dropped and counted in the footer; when the total
    is over, the longest field values are shortened first, then the description.
    """
    if embed.title:
        embed.title = clip(embed.title, TITLE)
    if embed.description:
        embed.description = clip(embed.description, DESCRIPTION)
    fields = [
        (clip(f.name or "\u200b", FIELD_NAME), clip(f.value or "\u200b", FIELD_VALUE), f.inline)
        for f in embed.fields
    ]
    dropped = max(0, len(fields) - FIELDS)
    fields = fields[:FIELDS]
    footer = embed.footer.text or ""
    if dropped:
        more = ngettext("{n} more not shown", "{n} more not shown", dropped)
        footer = f"{footer} · {more}".lstrip(" ·")
    if footer:
        embed.set_footer(text=clip(footer, FOOTER), icon_url=embed.footer.icon_url)
    if embed.author.name:
        embed.set_author(
            name=clip(embed.author.name, AUTHOR),
            url=embed.author.url,
            icon_url=embed.author.icon_url,
        )

    def total() -> int:
        return (
            len(embed.title or "")
            + len(embed.description or "")
            + sum(len(n) + len(v) for n, v, _ in fields)
            + len(embed.footer.text or "")
            + len(embed.author.name or "")
        )

    while total() > TOTAL and fields:
        longest = max(range(len(fields)), key=lambda i: len(fields[i][1]))
        name, value, inline = fields[longest]
        excess = total() - TOTAL
        if len(value) <= 20:
            fields.pop()
            continue
        fields[longest] = (name, clip(value, max(20, len(value) - excess)), inline)
    if total() > TOTAL and embed.description:
        embed.description = clip(
            embed.description, max(0, len(embed.description) - (total() - TOTAL))
        )
    embed.clear_fields()
    for name, value, inline in fields:
        embed.add_field(name=name, value=value, inline=inline)
    return embed


def timestamp(moment: datetime, style: str = "F") -> str:
    """Return a Discord timestamp that each reader sees in their own time zone."""
    return f"<t:{int(moment.timestamp())}:{style}>"


def when(moment: datetime, zone_name: str) -> str:
    """Return absolute and relative Discord timestamps with the guild's zone named."""
    local = moment.astimezone(ZoneInfo(zone_name))
    return f"{timestamp(moment)} ({timestamp(moment, 'R')}) · {local:%Y-%m-%d %H:%M} {zone_name}"

"""One gate for every embed: Discord's limits, enforced by trimming, never by failing."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import discord

from bot.i18n import current_language, ngettext

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


RLM = "\u200f"  # RIGHT-TO-LEFT MARK
# A line's Markdown marker (a list item, a quote, a heading) stays first, or it is no longer one.
_MARKER = re.compile(r"^(\s*(?:[-*+]|\d+[.)]|>{1,3}|#{1,3}|-#)\s+)?")


def directed(text: str) -> str:
    """Return ``text`` with each line starting right to left, in a right-to-left language.

    Discord's app chooses each line's direction from its first strong
    character: an Arabic sentence that starts with ``#12``, a mention or a
    command name would be laid out left to right, its parts in the wrong
    order. A right-to-left mark at the start of each line (after its
    Markdown marker) keeps it right to left. Other languages: unchanged.
    """
    if not text or not current_language().rtl:
        return text
    return "\n".join(
        line
        if not line.strip() or line.startswith(("```", RLM))
        else _MARKER.sub(lambda m: (m.group(1) or "") + RLM, line, count=1)
        for line in text.split("\n")
    )


def fit_embed(embed: discord.Embed) -> discord.Embed:
    """Return ``embed`` trimmed to Discord's limits (each part, then 6000 in all).

    Fields past the 25th are dropped and counted in the footer; when the total
    is over, the longest field values are shortened first, then the description.
    In a right-to-left language every line is marked so (``directed``) first.
    """
    if current_language().rtl:
        _direct(embed)
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


def _direct(embed: discord.Embed) -> None:
    if embed.title:
        embed.title = directed(embed.title)
    if embed.description:
        embed.description = directed(embed.description)
    for index, field in enumerate(list(embed.fields)):
        embed.set_field_at(
            index,
            name=directed(field.name or ""),
            value=directed(field.value or ""),
            inline=field.inline,
        )
    if embed.footer.text:
        embed.set_footer(text=directed(embed.footer.text), icon_url=embed.footer.icon_url)
    if embed.author.name:
        embed.set_author(
            name=directed(embed.author.name), url=embed.author.url, icon_url=embed.author.icon_url
        )


def timestamp(moment: datetime, style: str = "F") -> str:
    """Return a Discord timestamp that each reader sees in their own time zone."""
    return f"<t:{int(moment.timestamp())}:{style}>"


def when(moment: datetime, zone_name: str) -> str:
    """Return absolute and relative Discord timestamps with the guild's zone named."""
    local = moment.astimezone(ZoneInfo(zone_name))
    return f"{timestamp(moment)} ({timestamp(moment, 'R')}) · {local:%Y-%m-%d %H:%M} {zone_name}"

"""The secretariat digest as one embed: a field per section, within Discord's limits."""

from __future__ import annotations

import discord

from bot.i18n import _
from bot.render.embeds import FIELD_VALUE, INFO, clip, fit_embed, timestamp
from bot.render.reminders import ref_text
from bot.render.text import one_line, render_line
from bot.services.outbox import Digest, DigestSection

MAX_FIELDS_PER_SECTION = 4


def section_fields(section: DigestSection) -> list[tuple[str, str]]:
    """Return (name, value) fields for a section, its lines packed into 1024-character values."""
    fields: list[tuple[str, str]] = []
    chunk: list[str] = []
    size = 0
    for raw in section.lines:
        line = clip(render_line(raw), FIELD_VALUE)
        if chunk and size + len(line) + 1 > FIELD_VALUE:
            fields.append(("\u200b" if fields else section.title, "\n".join(chunk)))
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        fields.append(("\u200b" if fields else section.title, "\n".join(chunk)))
    if len(fields) > MAX_FIELDS_PER_SECTION:
        fields = fields[:MAX_FIELDS_PER_SECTION]
        name, value = fields[-1]
        fields[-1] = (name, clip(value + "\n…", FIELD_VALUE))
    return fields


def digest_embed(digest: Digest, ref: str | None = None) -> discord.Embed:
    """Return the digest embed: what changed since ``since``, one field per section."""
    title = _("Secretariat digest")
    if digest.cycle_name:
        title = f"{title} · {one_line(digest.cycle_name, 100)}"
    embed = discord.Embed(title=clip(title, 256), colour=INFO)
    embed.description = _(
        "Since {since} ({relative}). Server time zone: {zone}.",
        since=timestamp(digest.since, "f"),
        relative=timestamp(digest.since, "R"),
        zone=digest.zone,
    )
    if digest.empty:
        embed.description += "\n" + _("Nothing to report.")
    for section in digest.sections:
        for name, value in section_fields(section):
            embed.add_field(name=name, value=value, inline=False)
    footer = _("/digest preview shows the next one · /deadline list for all deadlines")
    # "ref …" stays as it is in every language: delivery finds its messages by it.
    embed.set_footer(text=f"{footer} · {ref_text(ref)}" if ref else footer)
    return fit_embed(embed)

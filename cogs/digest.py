"""`/digest`: the secretariat's digest, previewed privately or posted now."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n import _
from bot.render.digests import digest_embed
from bot.render.embeds import timestamp
from cogs._common import actor_of, bot_of, defer, send

SEND_WAIT = 4.0  # seconds: the answer follows a deferral, so there is time


class DigestCog(commands.Cog):
    """The secretariat digest."""

    digest = app_commands.Group(
        name="digest",
        description="The secretariat digest of what changed (secretariat)",
        guild_only=True,
        extras={"audience": "secretariat"},
    )

    @digest.command(name="preview", description="Show privately what the next digest would say")
    async def preview(self, interaction: discord.Interaction) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        digest = await bot_of(interaction).services.digests.preview(actor)
        note = _("Only you can see this.")
        if digest.empty:
            note = _("Not posted: nothing to report.")
        await send(interaction, note, embed=digest_embed(digest))

    @digest.command(name="send", description="Post a digest now in the digest channel")
    async def send_now(self, interaction: discord.Interaction) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        services = bot_of(interaction).services
        result = await services.digests.send_now(actor)
        since = timestamp(result.digest.since, "f")
        settings = await services.config.get(actor.guild_id)
        where = f"<#{settings.channels['digest']}>"
        if result.key is None:
            text = _("Nothing to report since {since}: no digest posted.", since=since)
        else:
            # The outbox posts it within moments; say how it went if it is that quick.
            row = await services.outbox.wait_settled(result.key, timeout=SEND_WAIT)
            if row is not None and row.status == "sent":
                text = _(
                    "Digest posted in {channel} (changes since {since}).",
                    channel=where,
                    since=since,
                )
            elif row is not None and row.status == "failed":
                text = _(
                    "The digest could not be posted in {channel} ({detail}). Check the "
                    "channel's permissions; admins are told in the log channel.",
                    channel=where,
                    detail=row.detail,
                )
            else:
                text = _(
                    "The digest is on its way to {channel} (changes since {since}).",
                    channel=where,
                    since=since,
                )
        await send(interaction, text)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(DigestCog())

"""`/digest`: the secretariat's digest, previewed privately or posted now."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.render.digests import digest_embed
from bot.render.embeds import timestamp
from cogs._common import actor_of, bot_of, defer, send


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
        note = "Not posted: nothing to report." if digest.empty else "Only you can see this."
        await send(interaction, note, embed=digest_embed(digest))

    @digest.command(name="send", description="Post a digest now in the digest channel")
    async def send_now(self, interaction: discord.Interaction) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        result = await bot_of(interaction).services.digests.send_now(actor)
        since = timestamp(result.digest.since, "f")
        if result.status == "sent":
            settings = await bot_of(interaction).services.config.get(actor.guild_id)
            text = f"Digest posted in <#{settings.channels['digest']}> (changes since {since})."
        elif result.status == "empty":
            text = f"Nothing to report since {since}: no digest posted."
        else:
            text = (
                f"The digest could not be posted ({result.detail}). "
                "Check the digest channel's permissions; admins can see more in the log channel."
            )
        await send(interaction, text)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(DigestCog())

"""Helpers every cog uses: who is asking, deferring, answering (or updating the message)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot.answering import before_answering, defer_later
from bot.errors import UserError
from bot.i18n import _
from bot.render.embeds import clip, directed, fit_embed
from bot.services.auth import Actor

if TYPE_CHECKING:
    from bot.client import MagBot

# A number or id option that the database looks up. Such columns are 32-bit
# INTEGER (PostgreSQL refuses a larger value with an error, not "no match"), so
# Discord itself is told to refuse anything out of range before we see it.
Number = app_commands.Range[int, 1, 2**31 - 1]
CONTENT_MAX = 2000


def bot_of(interaction: discord.Interaction) -> MagBot:
    """Return the bot that received ``interaction``."""
    return interaction.client  # type: ignore[return-value]


async def actor_of(interaction: discord.Interaction) -> Actor:
    """Return the Actor for the member behind ``interaction``, roles resolved."""
    member = interaction.user
    if interaction.guild_id is None or not isinstance(member, discord.Member):
        raise UserError(_("This command works only inside a server."))
    permissions = interaction.permissions
    services = bot_of(interaction).services
    actor = await services.config.actor(
        guild_id=interaction.guild_id,
        user_id=member.id,
        role_ids=[role.id for role in member.roles],
        manage_guild=permissions.administrator or permissions.manage_guild,
        display_name=member.display_name,
    )
    # Whether they still hold the MAG role, seen here as it is (cached; rarely a write).
    await services.profiles.observe(actor)
    return actor


async def defer(interaction: discord.Interaction, *, ephemeral: bool = True) -> None:
    """Make sure Discord hears back within 3 s; answer with ``send`` later.

    Nothing is sent now: if the answer is not ready within ``DEFER_AFTER``
    (1 s), "thinking…" goes out then (``bot.answering``). A quick command
    answers in one callback.
    """
    defer_later(interaction, ephemeral=ephemeral)


async def send(
    interaction: discord.Interaction,
    content: str | None = None,
    *,
    embed: discord.Embed | None = None,
    embeds: list[discord.Embed] | None = None,
    files: list[discord.File] | None = None,
    view: discord.ui.View | None = None,
    ephemeral: bool = True,
) -> None:
    """Answer ``interaction``: the first response, or a followup after ``defer``."""
    all_embeds = [fit_embed(e) for e in ([embed] if embed else []) + (embeds or [])]
    # Discord refuses content over 2,000 characters (and the whole answer with it).
    kwargs: dict[str, Any] = {
        "content": None if content is None else clip(directed(content), CONTENT_MAX),
        "embeds": all_embeds,
    }
    if files:
        kwargs["files"] = files
    if view is not None:
        kwargs["view"] = view
    await before_answering(interaction)
    if interaction.response.is_done():
        interaction.extras["deferred_public"] = False
        await interaction.followup.send(ephemeral=ephemeral, **kwargs)
    else:
        await interaction.response.send_message(ephemeral=ephemeral, **kwargs)


async def respond(
    interaction: discord.Interaction,
    content: str | None = None,
    *,
    embed: discord.Embed | None = None,
    files: list[discord.File] | None = None,
    view: discord.ui.View | None = None,
) -> None:
    """Answer a command (``send``) or, for a button, replace the message it is on.

    Buttons (a confirmation's Confirm, a pager's Next) show their result in
    place of the message they were on; commands answer privately as usual.
    """
    if interaction.type is not discord.InteractionType.component:
        await send(interaction, content, embed=embed, files=files, view=view)
        return
    kwargs: dict[str, Any] = {
        "content": None if content is None else clip(directed(content), CONTENT_MAX),
        "embeds": [fit_embed(embed)] if embed else [],
        "view": view,
    }
    if files:
        kwargs["attachments"] = files
    await before_answering(interaction)
    if interaction.response.is_done():
        await interaction.edit_original_response(**kwargs)
    else:
        await interaction.response.edit_message(**kwargs)

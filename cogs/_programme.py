"""What the proposal, panellist and review cogs share: autocomplete, DMs, a pager."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands

from bot.render.embeds import clip, fit_embed
from bot.render.proposals import heading
from bot.services.taxonomy import GENDERS, REGIONS, stakeholder_groups
from bot.ui import View
from cogs._common import bot_of

log = logging.getLogger(__name__)

REGION_CHOICES = [app_commands.Choice(name=r, value=r) for r in REGIONS]
GENDER_CHOICES = [app_commands.Choice(name=g, value=g) for g in GENDERS]

PageFetcher = Callable[[int], Awaitable[tuple[discord.Embed, int]]]


async def proposal_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[int]]:
    """Suggest proposals by number or title (autocomplete for every ``proposal`` option)."""
    if interaction.guild_id is None:
        return []
    found = await bot_of(interaction).services.proposals.suggest(interaction.guild_id, current)
    return [app_commands.Choice(name=clip(heading(p, 100), 100), value=p.number) for p in found]


async def subtheme_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Suggest the guild's subthemes."""
    if interaction.guild_id is None:
        return []
    settings = await bot_of(interaction).services.config.get(interaction.guild_id)
    needle = current.casefold()
    return [
        app_commands.Choice(name=clip(name, 100), value=name[:100])
        for name in settings.subthemes
        if needle in name.casefold()
    ][:25]


async def stakeholder_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Suggest the guild's stakeholder groups (the five of the IGF and any it added)."""
    if interaction.guild_id is None:
        return []
    settings = await bot_of(interaction).services.config.get(interaction.guild_id)
    needle = current.casefold()
    return [
        app_commands.Choice(name=group[:100], value=group[:100])
        for group in stakeholder_groups(settings.rules)
        if needle in group.casefold()
    ][:25]


async def direct_message(
    client: discord.Client,
    user_id: int,
    *,
    embed: discord.Embed,
    view: discord.ui.View | None = None,
) -> bool:
    """Send a DM; return False (and log) when Discord refuses (DMs closed, unknown user)."""
    try:
        user = client.get_user(user_id) or await client.fetch_user(user_id)
        kwargs: dict[str, Any] = {"embed": fit_embed(embed)}
        if view is not None:
            kwargs["view"] = view
        await user.send(**kwargs)
    except discord.HTTPException as error:
        log.info("could not send a direct message to %s: %s", user_id, error.status)
        return False
    return True


class Pager(View):
    """Previous and Next buttons over pages that ``fetch`` renders on demand."""

    def __init__(self, owner_id: int, fetch: PageFetcher, page: int, pages: int) -> None:
        super().__init__(timeout=900)
        self.owner_id = owner_id
        self.fetch = fetch
        self.page = page
        self.pages = pages
        self._sync()

    def _sync(self) -> None:
        self.previous.disabled = self.page <= 0
        self.next.disabled = self.page >= self.pages - 1

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return interaction.user.id == self.owner_id

    async def _show(self, interaction: discord.Interaction, page: int) -> None:
        embed, self.pages = await self.fetch(page)
        self.page = min(max(0, page), self.pages - 1)
        self._sync()
        await interaction.response.edit_message(embed=fit_embed(embed), view=self)

    @discord.ui.button(label="Previous", emoji="◀️", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await self._show(interaction, self.page - 1)

    @discord.ui.button(label="Next", emoji="▶️", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await self._show(interaction, self.page + 1)

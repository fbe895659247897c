"""Base classes for views and modals that report errors the same way commands do."""

from __future__ import annotations

from typing import Any

import discord

from bot.tree import report_error


class View(discord.ui.View):
    """A view whose callbacks' errors go through the one error path."""

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        await report_error(interaction, error)


class Modal(discord.ui.Modal):
    """A modal whose submit errors go through the one error path."""

    async def on_error(  # type: ignore[override]  # discord.py's own Modal narrows it too
        self, interaction: discord.Interaction, error: Exception
    ) -> None:
        await report_error(interaction, error)

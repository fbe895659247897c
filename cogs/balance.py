"""`/balance`: stakeholder balance of a session, the programme, nominations and the MAG."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.render.balance import CHART_FILE, balance_embed, funnel_embed
from bot.roster import refresh_roster
from bot.services.balance import BalanceReport, FunnelReport
from bot.services.taxonomy import KINDS, PARTICIPATION_STATUSES, PROPOSAL_STATUSES
from cogs._common import actor_of, bot_of, defer, send
from cogs._programme import chart_file

PROPOSAL_STATUS_CHOICES = [
    app_commands.Choice(name=status.replace("_", " "), value=status) for status in PROPOSAL_STATUSES
] + [app_commands.Choice(name="all", value="all")]
KIND_CHOICES = [app_commands.Choice(name=label, value=key) for key, label in KINDS.items()] + [
    app_commands.Choice(name="all kinds", value="all")
]
NOMINATION_STATUS_CHOICES = [
    app_commands.Choice(name=status, value=status) for status in PARTICIPATION_STATUSES
] + [app_commands.Choice(name="all", value="all")]


async def answer(interaction: discord.Interaction, report: BalanceReport | FunnelReport) -> None:
    """Send the report's embed with its chart (a new ``discord.File`` for each send)."""
    chart = await chart_file(report)
    if isinstance(report, FunnelReport):
        embed = funnel_embed(report, chart=CHART_FILE)
    else:
        embed = balance_embed(report, chart=CHART_FILE)
    await send(interaction, embed=embed, files=[chart])


class BalanceCog(commands.Cog):
    """Stakeholder balance statistics (MAG members and the secretariat)."""

    balance = app_commands.Group(
        name="balance",
        description="Stakeholder balance: counts, shares, warnings and a chart",
        guild_only=True,
        extras={"audience": "mag"},
    )

    @balance.command(name="proposal", description="Balance of the people on one session")
    @app_commands.describe(number="The proposal's number, as in WS #12")
    async def proposal(
        self, interaction: discord.Interaction, number: app_commands.Range[int, 1, 1_000_000]
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        report = await bot_of(interaction).services.balance.proposal(actor, number)
        await answer(interaction, report)

    @balance.command(name="programme", description="Balance of confirmed seats on the programme")
    @app_commands.describe(
        status="Proposals with this status (default: accepted)",
        kind="Only this kind of session (default: all kinds)",
    )
    @app_commands.choices(status=PROPOSAL_STATUS_CHOICES, kind=KIND_CHOICES)
    async def programme(
        self,
        interaction: discord.Interaction,
        status: str | None = None,
        kind: str | None = None,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        report = await bot_of(interaction).services.balance.programme(actor, status, kind)
        await answer(interaction, report)

    @balance.command(name="panellists", description="Balance of nominations by their status")
    @app_commands.describe(status="Nominations with this status (default: all)")
    @app_commands.choices(status=NOMINATION_STATUS_CHOICES)
    async def panellists(self, interaction: discord.Interaction, status: str | None = None) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        report = await bot_of(interaction).services.balance.panellists(actor, status)
        await answer(interaction, report)

    @balance.command(name="mag", description="The MAG's own composition against the MAG seat rule")
    async def mag(self, interaction: discord.Interaction) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        await refresh_roster(bot_of(interaction), actor.guild_id)  # who still holds the role
        await answer(interaction, await bot_of(interaction).services.balance.mag(actor))

    @balance.command(
        name="funnel", description="Shares from nomination to confirmation, and to selection"
    )
    async def funnel(self, interaction: discord.Interaction) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        await answer(interaction, await bot_of(interaction).services.balance.funnel(actor))


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(BalanceCog())

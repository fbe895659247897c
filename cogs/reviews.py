"""`/review`: MAG members score and declare conflicts; the secretariat assigns and ranks."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.render.reviews import (
    assign_embed,
    conflict_text,
    queue_embed,
    results_embed,
    score_embed,
)
from cogs._common import Number, actor_of, bot_of, defer, send
from cogs._programme import Pager, proposal_choices, subtheme_choices

SCORE_CHOICES = [
    app_commands.Choice(name="5 — must be accepted", value=5),
    app_commands.Choice(name="4 — could be accepted", value=4),
    app_commands.Choice(name="3 — borderline", value=3),
    app_commands.Choice(name="2 — should not be accepted", value=2),
    app_commands.Choice(name="1 — serious problems", value=1),
]


class ReviewsCog(commands.Cog):
    """MAG evaluation of workshop proposals."""

    review = app_commands.Group(
        name="review",
        description="Score workshop proposals and see the results",
        guild_only=True,
        extras={"audience": "mag"},
    )

    @review.command(
        name="score", description="Score a workshop from 1 to 5 (a new score replaces yours)"
    )
    @app_commands.describe(
        proposal="The proposal's number",
        score="5 must be accepted … 1 serious problems",
        comment="Why (required for 3 or less)",
        merge="Tick if it should be merged with a similar proposal",
    )
    @app_commands.choices(score=SCORE_CHOICES)
    @app_commands.autocomplete(proposal=proposal_choices)
    async def score(
        self,
        interaction: discord.Interaction,
        proposal: Number,
        score: int,
        comment: app_commands.Range[str, 1, 2000] | None = None,
        merge: bool = False,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        result = await bot_of(interaction).services.reviews.score(
            actor, proposal, score, comment, merge=merge
        )
        await send(interaction, embed=score_embed(result))

    @review.command(name="conflict", description="Declare a conflict of interest on a proposal")
    @app_commands.describe(proposal="The proposal's number", reason="Why (kept in the audit)")
    @app_commands.autocomplete(proposal=proposal_choices)
    async def conflict(
        self,
        interaction: discord.Interaction,
        proposal: Number,
        reason: app_commands.Range[str, 1, 500] | None = None,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        result = await bot_of(interaction).services.reviews.declare_conflict(
            actor, proposal, reason
        )
        await send(interaction, conflict_text(result))

    @review.command(name="queue", description="Your assigned proposals still to score")
    async def queue(self, interaction: discord.Interaction) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        proposals = await bot_of(interaction).services.reviews.queue(actor)
        await send(interaction, embed=queue_embed(proposals))

    @review.command(
        name="assign",
        description="Give each workshop N reviewers, balanced and without conflicts",
        extras={"audience": "secretariat"},
    )
    @app_commands.describe(per_proposal="Reviewers per proposal (existing ones that hold are kept)")
    async def assign(
        self, interaction: discord.Interaction, per_proposal: app_commands.Range[int, 1, 25]
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        result = await bot_of(interaction).services.reviews.assign(actor, per_proposal)
        await send(interaction, embed=assign_embed(result))

    @review.command(
        name="results",
        description="The ranking by mean score (secretariat)",
        extras={"audience": "secretariat"},
    )
    @app_commands.describe(subtheme="Only this subtheme", status="Only this status")
    @app_commands.autocomplete(subtheme=subtheme_choices)
    async def results(
        self,
        interaction: discord.Interaction,
        subtheme: str | None = None,
        status: Literal["submitted", "under_review", "accepted", "rejected", "merged"]
        | None = None,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        service = bot_of(interaction).services.reviews

        async def fetch(page: int) -> tuple[discord.Embed, int]:
            found = await service.results(actor, subtheme=subtheme, status=status, page=page)
            return results_embed(found), found.pages

        embed, pages = await fetch(0)
        view = Pager(actor.user_id, fetch, 0, pages) if pages > 1 else None
        await send(interaction, embed=embed, view=view)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(ReviewsCog())

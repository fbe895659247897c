"""`/review`: MAG members score and declare conflicts; the secretariat assigns and ranks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n import _
from bot.render.reviews import (
    assign_embed,
    borderline_embed,
    conflict_text,
    decision_text,
    progress_embed,
    queue_embed,
    results_embed,
    round_text,
    score_embed,
    suspected_embed,
)
from bot.render.similarity import similar_embed
from bot.roster import refresh_roster
from bot.services.auth import Actor
from bot.services.reviews import RANKED
from cogs._actions import action, perform
from cogs._common import Number, actor_of, bot_of, defer, respond, send
from cogs._programme import (
    find_by_hash,
    page_view,
    pager,
    proposal_choices,
    short_hash,
    subtheme_choices,
)

RESULT_STATUSES = RANKED
NONE = "-"


@pager("results")
async def results_page(
    interaction: discord.Interaction, actor: Actor, page: int, args: str
) -> tuple[discord.Embed, int]:
    subtheme_code, status_code = args.split(".")
    services = bot_of(interaction).services
    subtheme = None
    if subtheme_code != NONE:
        settings = await services.config.get(actor.guild_id)
        subtheme = find_by_hash(settings.subthemes, subtheme_code)
    status = None if status_code == NONE else RESULT_STATUSES[int(status_code)]
    found = await services.reviews.results(actor, subtheme=subtheme, status=status, page=page)
    return results_embed(found), found.pages


@action("review.assign")
async def do_assign(
    interaction: discord.Interaction, actor: Actor, payload: Mapping[str, Any], confirmed: bool
) -> None:
    bot = bot_of(interaction)
    # Members who lost the MAG role (or left) are not given proposals.
    await refresh_roster(bot, actor.guild_id)
    result = await bot.services.reviews.assign(
        actor, int(payload["per_proposal"]), confirmed=confirmed
    )
    await respond(interaction, embed=assign_embed(result))


@action("review.round")
async def do_round(
    interaction: discord.Interaction, actor: Actor, payload: Mapping[str, Any], confirmed: bool
) -> None:
    opened = await bot_of(interaction).services.rounds.open(
        actor,
        int(payload["accept"]),
        str(payload["closes"]),
        subtheme=payload.get("subtheme"),
        confirmed=confirmed,
    )
    await respond(interaction, round_text(opened))


SCORE_CHOICES = [
    app_commands.Choice(name="5 — must be accepted", value=5),
    app_commands.Choice(name="4 — could be accepted", value=4),
    app_commands.Choice(name="3 — borderline", value=3),
    app_commands.Choice(name="2 — should not be accepted", value=2),
    app_commands.Choice(name="1 — serious problems", value=1),
]


WITHDRAW_CHOICES = [
    app_commands.Choice(name="my score", value="score"),
    app_commands.Choice(name="my declared conflict", value="conflict"),
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

    @review.command(
        name="withdraw", description="Withdraw your score or your declared conflict on a proposal"
    )
    @app_commands.describe(proposal="The proposal's number", what="Your score or your conflict")
    @app_commands.choices(what=WITHDRAW_CHOICES)
    @app_commands.autocomplete(proposal=proposal_choices)
    async def withdraw(self, interaction: discord.Interaction, proposal: Number, what: str) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        label = await bot_of(interaction).services.reviews.withdraw(actor, proposal, what)
        if what == "score":
            text = _(
                "Your score of {proposal} is withdrawn (recorded in the audit).", proposal=label
            )
        else:
            text = _(
                "Your conflict on {proposal} is withdrawn (recorded in the audit). The next "
                "assignment by the secretariat may give it to you.",
                proposal=label,
            )
        await send(interaction, text)

    @review.command(name="queue", description="Your assigned proposals still to score")
    async def queue(self, interaction: discord.Interaction) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        reviews = bot_of(interaction).services.reviews
        items = await reviews.queue(actor)
        progress, closes_at = await reviews.my_progress(actor)
        await send(interaction, embed=queue_embed(items, progress, closes_at))

    @review.command(
        name="borderline",
        description="The cut for N workshops and the proposals near it (secretariat)",
        extras={"audience": "secretariat"},
    )
    @app_commands.describe(
        accept="How many workshops the programme takes", subtheme="Only this subtheme"
    )
    @app_commands.autocomplete(subtheme=subtheme_choices)
    async def borderline(
        self,
        interaction: discord.Interaction,
        accept: app_commands.Range[int, 1, 5000],
        subtheme: str | None = None,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        report = await bot_of(interaction).services.reviews.borderline(
            actor, accept, subtheme=subtheme
        )
        await send(interaction, embed=borderline_embed(report))

    @review.command(
        name="round",
        description="Reopen scoring of the proposals near the cut, until a date (secretariat)",
        extras={"audience": "secretariat"},
    )
    @app_commands.describe(
        accept="How many workshops the programme takes (the cut)",
        closes="When the round closes (YYYY-MM-DD HH:MM, the server's time zone)",
        subtheme="Only this subtheme",
    )
    @app_commands.autocomplete(subtheme=subtheme_choices)
    async def round_(
        self,
        interaction: discord.Interaction,
        accept: app_commands.Range[int, 1, 5000],
        closes: app_commands.Range[str, 1, 40],
        subtheme: str | None = None,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        await perform(
            interaction,
            actor,
            "review.round",
            {"accept": accept, "closes": closes, "subtheme": subtheme},
        )

    @review.command(
        name="progress",
        description="Every reviewer's progress: scored, to score, not started (secretariat)",
        extras={"audience": "secretariat"},
    )
    async def progress(self, interaction: discord.Interaction) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        report = await bot_of(interaction).services.reviews.progress(actor)
        await send(interaction, embed=progress_embed(report))

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
        await perform(interaction, actor, "review.assign", {"per_proposal": per_proposal})

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
        status: Literal[
            "submitted",
            "under_review",
            "accepted",
            "conditional",
            "waitlisted",
            "rejected",
            "merged",
        ]
        | None = None,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        found = await bot_of(interaction).services.reviews.results(
            actor, subtheme=subtheme, status=status
        )
        args = (
            f"{short_hash(found.subtheme) if found.subtheme else NONE}."
            f"{RESULT_STATUSES.index(status) if status else NONE}"
        )
        view = page_view("results", actor.user_id, found.page, found.pages, args)
        await send(interaction, embed=results_embed(found), view=view)

    @review.command(
        name="similar",
        description="Proposals so alike they might be merged, most alike first",
    )
    @app_commands.describe(
        threshold="How alike, in percent from 50 to 100 (default: the server's rule)",
        subtheme="Only proposals of this subtheme",
    )
    @app_commands.autocomplete(subtheme=subtheme_choices)
    async def similar(
        self,
        interaction: discord.Interaction,
        threshold: app_commands.Range[int, 50, 100] | None = None,
        subtheme: str | None = None,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        report = await bot_of(interaction).services.similarity.similar(
            actor, threshold=threshold, subtheme=subtheme
        )
        await send(interaction, embed=similar_embed(report))

    @review.command(
        name="conflicts",
        description="Possible conflicts of interest to decide (secretariat)",
        extras={"audience": "secretariat"},
    )
    async def conflicts(self, interaction: discord.Interaction) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        found = await bot_of(interaction).services.reviews.suspected(actor)
        await send(interaction, embed=suspected_embed(found))

    @review.command(
        name="decide",
        description="Decide a possible conflict of interest (secretariat, audited)",
        extras={"audience": "secretariat"},
    )
    @app_commands.describe(
        proposal="The proposal's number",
        member="The MAG member",
        conflict="True: a conflict (their score stops counting); False: none",
        reason="Why (kept in the audit)",
    )
    @app_commands.autocomplete(proposal=proposal_choices)
    async def decide(
        self,
        interaction: discord.Interaction,
        proposal: Number,
        member: discord.Member,
        conflict: bool,
        reason: app_commands.Range[str, 1, 500],
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        result = await bot_of(interaction).services.reviews.decide_conflict(
            actor, proposal, member.id, conflict=conflict, reason=reason
        )
        await send(interaction, decision_text(result))


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(ReviewsCog())

"""`/decision`: draft decisions as a batch, look at them whole, publish, follow up.

Proposers hear of a decision by a direct message sent through the outbox,
once per decision. Accepted ones carry a "Confirm my slot" button whose
custom id names the server and the decision (``mag:slot:<guild>:<decision>``):
it is answered after any restart, and only for the proposer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n import _, ngettext
from bot.render.balance import effect_embed_of
from bot.render.decisions import (
    confirmed_embed,
    draft_embed,
    drafts_embed,
    feedback_embed,
    published_text,
    slot_label,
    slot_text,
    status_embed,
)
from bot.services.auth import Actor
from bot.services.proposals import DECIDED
from bot.ui import Answering, register
from cogs._actions import action, perform
from cogs._common import Number, actor_of, bot_of, defer, respond, send
from cogs._programme import proposal_choices

OUTCOME_CHOICES = [
    app_commands.Choice(name="accepted", value="accepted"),
    app_commands.Choice(name="conditionally accepted", value="conditional"),
    app_commands.Choice(name="waitlisted", value="waitlisted"),
    app_commands.Choice(name="rejected", value="rejected"),
]
assert [c.value for c in OUTCOME_CHOICES] == list(DECIDED)
SLOT = r"mag:slot:(?P<guild>[0-9]+):(?P<decision>[0-9]+)"
SECRETARIAT = {"audience": "secretariat"}


class SlotButton(Answering, discord.ui.DynamicItem[discord.ui.Button[Any]], template=SLOT):
    """The proposer's "Confirm my slot" button in the decision DM."""

    def __init__(self, guild_id: int, decision_id: int) -> None:
        self.guild_id = guild_id
        self.decision_id = decision_id
        super().__init__(
            discord.ui.Button(
                label=slot_label(),
                style=discord.ButtonStyle.success,
                custom_id=f"mag:slot:{guild_id}:{decision_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> SlotButton:
        return cls(int(match["guild"]), int(match["decision"]))

    async def run(self, interaction: discord.Interaction) -> None:
        answer = await bot_of(interaction).services.decisions.confirm_slot(
            guild_id=self.guild_id, user_id=interaction.user.id, decision_id=self.decision_id
        )
        # The button goes: the DM keeps the decision, and says the slot is confirmed.
        if interaction.message is not None:
            embeds = [confirmed_embed(e) for e in interaction.message.embeds[:1]]
            await interaction.response.edit_message(embeds=embeds, view=None)
            await interaction.followup.send(slot_text(answer), ephemeral=True)
        else:
            await send(interaction, slot_text(answer))


@action("decision.publish")
async def do_publish(
    interaction: discord.Interaction, actor: Actor, payload: Mapping[str, Any], confirmed: bool
) -> None:
    result = await bot_of(interaction).services.decisions.publish(
        actor,
        payload.get("confirm_by"),
        fingerprint=payload.get("fingerprint"),
        confirmed=confirmed,
    )
    embed = effect_embed_of(result.effect)
    await respond(interaction, published_text(result), embed=embed)


@action("decision.discard")
async def do_discard(
    interaction: discord.Interaction, actor: Actor, payload: Mapping[str, Any], confirmed: bool
) -> None:
    number = payload.get("number")
    count = await bot_of(interaction).services.decisions.discard(
        actor, None if number is None else int(number), confirmed=confirmed
    )
    await respond(interaction, discarded_text(count))


def discarded_text(count: int) -> str:
    """Return the answer to ``/decision discard``."""
    return ngettext(
        "Discarded {n} draft decision. Nobody had been told.",
        "Discarded {n} draft decisions. Nobody had been told.",
        count,
    )


class DecisionsCog(commands.Cog):
    """Decisions on proposals, in batches."""

    decision = app_commands.Group(
        name="decision",
        description="Draft, publish and follow up decisions on proposals (secretariat)",
        guild_only=True,
        extras=SECRETARIAT,
    )

    def __init__(self, bot: commands.Bot) -> None:
        register(bot, SlotButton)

    @decision.command(name="draft", description="Draft the decision on a proposal (nobody is told)")
    @app_commands.describe(
        proposal="The proposal's number",
        outcome="The decision",
        reason="Why (the proposer reads it)",
        conditions="Conditionally accepted: what the proposer must fix",
        due="Conditionally accepted: fix by (YYYY-MM-DD HH:MM, the server's time zone)",
    )
    @app_commands.choices(outcome=OUTCOME_CHOICES)
    @app_commands.autocomplete(proposal=proposal_choices)
    async def draft(
        self,
        interaction: discord.Interaction,
        proposal: Number,
        outcome: str,
        reason: str | None = None,
        conditions: str | None = None,
        due: str | None = None,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        view = await bot_of(interaction).services.decisions.draft(
            actor, proposal, outcome, reason, conditions=conditions, conditions_due=due
        )
        await send(interaction, embed=draft_embed(view))

    @decision.command(
        name="feedback", description="Choose the review comments the proposer is shown"
    )
    @app_commands.describe(
        proposal="The proposal's number",
        release='Reviewer letters ("A C"), all or none (leave out to see the comments)',
        anonymise='Show released comments as "a reviewer" (default: yes)',
    )
    @app_commands.autocomplete(proposal=proposal_choices)
    async def feedback(
        self,
        interaction: discord.Interaction,
        proposal: Number,
        release: str | None = None,
        anonymise: bool | None = None,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        view = await bot_of(interaction).services.decisions.feedback(
            actor, proposal, release, anonymise
        )
        await send(interaction, embed=feedback_embed(view))

    @decision.command(
        name="list", description="The drafts with their balance effect, and the follow-up"
    )
    async def list_(self, interaction: discord.Interaction) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        service = bot_of(interaction).services.decisions
        drafts = await service.drafts(actor)
        status = await service.status(actor)
        embeds = [status_embed(status)]
        if drafts.drafts:
            embeds.insert(0, drafts_embed(drafts))
        await send(interaction, embeds=embeds)

    @decision.command(name="discard", description="Discard a draft (leave out: every draft)")
    @app_commands.describe(proposal="The proposal's number (leave out: every draft)")
    @app_commands.autocomplete(proposal=proposal_choices)
    async def discard(
        self, interaction: discord.Interaction, proposal: Number | None = None
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        await perform(interaction, actor, "decision.discard", {"number": proposal})

    @decision.command(
        name="publish", description="Publish every draft and tell the proposers (asks first)"
    )
    @app_commands.describe(
        confirm_by="Accepted proposers confirm their slot by (YYYY-MM-DD HH:MM; default: "
        "in 14 days)"
    )
    async def publish(
        self, interaction: discord.Interaction, confirm_by: str | None = None
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        # What the drafts are when asked: a Confirm after they changed is refused.
        fingerprint = await bot_of(interaction).services.decisions.fingerprint(actor)
        await perform(
            interaction,
            actor,
            "decision.publish",
            {"confirm_by": confirm_by, "fingerprint": fingerprint},
        )

    @decision.command(
        name="conditions",
        description="Record that a conditionally accepted proposal met its conditions",
    )
    @app_commands.describe(proposal="The proposal's number", note="A note for the proposer")
    @app_commands.autocomplete(proposal=proposal_choices)
    async def conditions(
        self, interaction: discord.Interaction, proposal: Number, note: str | None = None
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        await bot_of(interaction).services.decisions.conditions_met(actor, proposal, note)
        await send(interaction, conditions_text(proposal))


def conditions_text(number: int) -> str:
    """Return the answer to ``/decision conditions``."""
    return _(
        "Proposal #{number} met its conditions and is accepted; its proposer will be told.",
        number=number,
    )


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(DecisionsCog(bot))

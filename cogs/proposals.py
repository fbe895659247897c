"""`/proposal`: submit, view, list, edit, withdraw; status, screening, export (secretariat)."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.render.balance import effect_embed_of
from bot.render.embeds import clip
from bot.render.proposals import (
    proposal_embed,
    proposal_list_embed,
    screened_embed,
    screening_embed,
    screening_text,
    status_change_embed,
    submitted_embed,
)
from bot.services.proposals import FormLimits, ProposalForm, StatusChange
from bot.services.taxonomy import FORMATS, KINDS
from bot.ui import Modal
from cogs._common import Number, actor_of, bot_of, defer, send
from cogs._programme import Pager, direct_message, proposal_choices, subtheme_choices

# Discord's own ceiling for a text input.
TEXT_INPUT_MAX = 4000
# discord.py's attachment limit when the guild is unknown (Discord's default).
DEFAULT_FILE_LIMIT = 10 * 1024 * 1024

FORMAT_CHOICES = [app_commands.Choice(name=f, value=f) for f in FORMATS]
KIND_CHOICES = [app_commands.Choice(name=label, value=key) for key, label in KINDS.items()]
DURATION_CHOICES = [app_commands.Choice(name=f"{d} minutes", value=d) for d in (30, 60, 90)]
Status = Literal[
    "submitted", "screened_out", "under_review", "accepted", "rejected", "merged", "withdrawn"
]

SubmitHandler = Callable[[discord.Interaction, ProposalForm], Awaitable[None]]


class ProposalModal(Modal):
    """The proposal form: five text fields, limited to the guild's lengths as you type."""

    def __init__(
        self,
        *,
        title: str,
        limits: FormLimits,
        on_done: SubmitHandler,
        current: ProposalForm | None = None,
    ) -> None:
        super().__init__(title=clip(title, 45), timeout=3600)
        self.on_done = on_done

        def field(
            name: str, label: str, style: discord.TextStyle, placeholder: str
        ) -> discord.ui.TextInput[ProposalModal]:
            default: str | None = getattr(current, name) if current else None
            text_input: discord.ui.TextInput[ProposalModal] = discord.ui.TextInput(
                label=label,
                style=style,
                custom_id=name,
                placeholder=placeholder,
                default=default,
                # Never below the stored text (an admin may have lowered the limit
                # since): Discord refuses a modal whose value is longer. The
                # service still enforces the limit on submit.
                max_length=min(max(limits[name], len(default or "")), TEXT_INPUT_MAX),
                required=True,
            )
            self.add_item(text_input)
            return text_input

        paragraph = discord.TextStyle.paragraph
        self.title_input = field(
            "title", "Title", discord.TextStyle.short, "A short, specific title"
        )
        self.description = field(
            "description", "Description", paragraph, "What the session is about and why now"
        )
        self.policy_questions = field(
            "policy_questions", "Policy questions", paragraph, "The questions it will address"
        )
        self.expected_outcomes = field(
            "expected_outcomes", "Expected outcomes", paragraph, "What participants gain"
        )
        self.hybrid_plan = field(
            "hybrid_plan", "Hybrid plan", paragraph, "How onsite and online people take part"
        )

    def form(self) -> ProposalForm:
        """Return what was typed."""
        return ProposalForm(
            title=self.title_input.value,
            description=self.description.value,
            policy_questions=self.policy_questions.value,
            expected_outcomes=self.expected_outcomes.value,
            hybrid_plan=self.hybrid_plan.value,
        )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.on_done(interaction, self.form())


async def tell_proposer(interaction: discord.Interaction, change: StatusChange) -> str:
    """DM the proposer about a status change; return a note for the person who made it."""
    if change.notify_user_id is None:
        return ""
    guild_name = interaction.guild.name if interaction.guild else "the server"
    sent = await direct_message(
        interaction.client,
        change.notify_user_id,
        embed=status_change_embed(change, guild_name),
    )
    return " The proposer was told." if sent else " The proposer could not be told (DMs closed)."


class ProposalsCog(commands.Cog):
    """Workshop proposals."""

    proposal = app_commands.Group(
        name="proposal",
        description="Submit, view and follow session proposals",
        guild_only=True,
        extras={"audience": "everyone"},
    )

    @proposal.command(name="submit", description="Submit a session proposal (opens a form)")
    @app_commands.describe(
        format="The session format",
        duration="How long the session lasts",
        subtheme="The subtheme (thematic track) it belongs to",
        kind="The kind of session (default: workshop)",
    )
    @app_commands.choices(format=FORMAT_CHOICES, kind=KIND_CHOICES)
    @app_commands.choices(duration=DURATION_CHOICES)
    @app_commands.autocomplete(subtheme=subtheme_choices)
    async def submit(
        self,
        interaction: discord.Interaction,
        format: str,
        duration: int,
        subtheme: str,
        kind: str = "workshop",
    ) -> None:
        services = bot_of(interaction).services
        actor = await actor_of(interaction)
        # Refuse before the form, so that nobody types a proposal for nothing.
        await services.proposals.check_can_submit(
            actor, kind=kind, fmt=format, duration=duration, subtheme=subtheme
        )
        limits = await services.proposals.form_limits(actor.guild_id)

        async def done(modal_interaction: discord.Interaction, form: ProposalForm) -> None:
            await defer(modal_interaction)
            proposal = await services.proposals.submit(
                actor, kind=kind, fmt=format, duration=duration, subtheme=subtheme, form=form
            )
            await send(modal_interaction, embed=submitted_embed(proposal))

        label = KINDS.get(kind, "session").lower()
        modal = ProposalModal(title=f"Propose a {label}", limits=limits, on_done=done)
        await interaction.response.send_modal(modal)

    @proposal.command(name="view", description="Show a proposal with its people and reviews")
    @app_commands.describe(number="The proposal's number (WS #12: 12)")
    @app_commands.autocomplete(number=proposal_choices)
    async def view(self, interaction: discord.Interaction, number: Number) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        detail = await bot_of(interaction).services.proposals.view(actor, number)
        await send(interaction, embed=proposal_embed(detail))

    @proposal.command(name="list", description="List proposals, ten to a page")
    @app_commands.describe(
        status="Only proposals with this status",
        subtheme="Only proposals in this subtheme",
        mine="Only the proposals you submitted",
    )
    @app_commands.autocomplete(subtheme=subtheme_choices)
    async def list_(
        self,
        interaction: discord.Interaction,
        status: Status | None = None,
        subtheme: str | None = None,
        mine: bool = False,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        service = bot_of(interaction).services.proposals

        async def fetch(page: int) -> tuple[discord.Embed, int]:
            found = await service.list_page(
                actor, status=status, subtheme=subtheme, mine=mine, page=page
            )
            return proposal_list_embed(found), found.pages

        embed, pages = await fetch(0)
        view = Pager(actor.user_id, fetch, 0, pages) if pages > 1 else None
        await send(interaction, embed=embed, view=view)

    @proposal.command(name="edit", description="Edit a proposal's text (opens the form, filled in)")
    @app_commands.describe(
        number="The proposal's number",
        format="A new format (optional)",
        duration="A new duration (optional)",
        subtheme="A new subtheme (optional)",
    )
    @app_commands.choices(format=FORMAT_CHOICES)
    @app_commands.choices(duration=DURATION_CHOICES)
    @app_commands.autocomplete(number=proposal_choices)
    @app_commands.autocomplete(subtheme=subtheme_choices)
    async def edit(
        self,
        interaction: discord.Interaction,
        number: Number,
        format: str | None = None,
        duration: int | None = None,
        subtheme: str | None = None,
    ) -> None:
        services = bot_of(interaction).services
        actor = await actor_of(interaction)
        proposal = await services.proposals.editable(actor, number)
        limits = await services.proposals.form_limits(actor.guild_id)
        current = ProposalForm(
            title=proposal.title,
            description=proposal.description,
            policy_questions=proposal.policy_questions,
            expected_outcomes=proposal.expected_outcomes,
            hybrid_plan=proposal.hybrid_plan,
        )

        async def done(modal_interaction: discord.Interaction, form: ProposalForm) -> None:
            await defer(modal_interaction)
            edited = await services.proposals.edit(
                actor, number, form, fmt=format, duration=duration, subtheme=subtheme
            )
            detail = await services.proposals.view(actor, edited.number)
            await send(modal_interaction, "Saved.", embed=proposal_embed(detail))

        modal = ProposalModal(title=f"Edit #{number}", limits=limits, on_done=done, current=current)
        await interaction.response.send_modal(modal)

    @proposal.command(name="withdraw", description="Withdraw a proposal (proposer or secretariat)")
    @app_commands.describe(number="The proposal's number", reason="Why (the proposer is told)")
    @app_commands.autocomplete(number=proposal_choices)
    async def withdraw(
        self, interaction: discord.Interaction, number: Number, reason: str | None = None
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        change = await bot_of(interaction).services.proposals.withdraw(actor, number, reason)
        note = await tell_proposer(interaction, change)
        await send(interaction, f"{change.label} is withdrawn.{note}")

    @proposal.command(
        name="status",
        description="Move a proposal to another status (secretariat)",
        extras={"audience": "secretariat"},
    )
    @app_commands.describe(
        number="The proposal's number",
        status="The new status",
        reason="Why (the proposer is told)",
        merged_into="With status merged: the proposal it was merged into",
    )
    @app_commands.autocomplete(number=proposal_choices, merged_into=proposal_choices)
    async def status(
        self,
        interaction: discord.Interaction,
        number: Number,
        status: Status,
        reason: str | None = None,
        merged_into: Number | None = None,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        change = await bot_of(interaction).services.proposals.set_status(
            actor, number, status, reason, merged_into=merged_into
        )
        note = await tell_proposer(interaction, change)
        after = change.after.replace("_", " ")
        await send(
            interaction,
            f"{change.label} is now {after}.{note}",
            embed=effect_embed_of(change.effect),
        )

    @proposal.command(
        name="screen",
        description="Check proposals against the screening rules (secretariat)",
        extras={"audience": "secretariat"},
    )
    @app_commands.describe(
        number="One proposal (default: every submitted or screened-out one)",
        apply="Also move them: failing -> screened out, passing -> under review",
    )
    @app_commands.autocomplete(number=proposal_choices)
    async def screen(
        self, interaction: discord.Interaction, number: Number | None = None, apply: bool = False
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        services = bot_of(interaction).services
        report = await services.screening.screen(actor, number, apply=apply)
        embed = screening_embed(report)
        files = None
        if len(report.results) > 20:
            data = screening_text(report).encode()
            files = [discord.File(io.BytesIO(data), filename="screening.txt")]
        await send(interaction, embed=embed, files=files)
        if apply:
            # After the answer: each proposer whose proposal moved hears of it.
            guild_name = interaction.guild.name if interaction.guild else "the server"
            for result in report.results:
                if result.moved_to is not None and result.proposer_id is not None:
                    await direct_message(
                        interaction.client,
                        result.proposer_id,
                        embed=screened_embed(result, guild_name),
                    )

    @proposal.command(
        name="export",
        description="Download every proposal with its people and scores",
        extras={"audience": "secretariat"},
    )
    @app_commands.describe(format="csv for spreadsheets, json for everything")
    async def export(
        self, interaction: discord.Interaction, format: Literal["csv", "json"]
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        export = await bot_of(interaction).services.export.export(actor, format)
        limit = interaction.guild.filesize_limit if interaction.guild else DEFAULT_FILE_LIMIT
        if len(export.content) > limit:
            await send(
                interaction,
                f"The export is {len(export.content) // 1024} KB, more than this server "
                "accepts as an attachment. Try the csv format, which leaves out the long texts.",
            )
            return
        who = "with" if export.private else "without"
        await send(
            interaction,
            f"{export.proposals} proposals, {who} contact details and scores.",
            files=[discord.File(io.BytesIO(export.content), filename=export.filename)],
        )


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(ProposalsCog())

"""`/panellist`: nominate people for proposals, follow their answers, forget them on request.

The nominee's Confirm and Decline buttons are ``DynamicItem``s: their custom id
carries the guild and the nomination, so they keep working after a restart.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserError
from bot.render.balance import effect_embed_of
from bot.render.embeds import clip, fit_embed
from bot.render.panellists import (
    answered_embed,
    change_text,
    entries_embed,
    entry_embed,
    forgotten_text,
    invitation_embed,
    nomination_embed,
)
from bot.services.panellists import PanellistEntry, ParticipationChange
from bot.services.taxonomy import ATTENDANCE, ROLES
from bot.tree import report_error
from cogs._common import Number, actor_of, bot_of, defer, send
from cogs._programme import (
    GENDER_CHOICES,
    REGION_CHOICES,
    direct_message,
    proposal_choices,
    stakeholder_choices,
)

ROLE_CHOICES = [app_commands.Choice(name=label, value=key) for key, label in ROLES.items()]
ATTENDANCE_CHOICES = [
    app_commands.Choice(name=label, value=key) for key, label in ATTENDANCE.items()
]
ANSWER = "mag:nominee:(?P<guild>[0-9]+):(?P<nomination>[0-9]+):(?P<answer>yes|no)"


class NomineeAnswer(discord.ui.DynamicItem[discord.ui.Button[Any]], template=ANSWER):
    """The Confirm or Decline button in a nominee's direct message."""

    def __init__(self, guild_id: int, participation_id: int, accept: bool) -> None:
        self.guild_id = guild_id
        self.participation_id = participation_id
        self.accept = accept
        super().__init__(
            discord.ui.Button(
                label="Confirm" if accept else "Decline",
                style=discord.ButtonStyle.success if accept else discord.ButtonStyle.danger,
                custom_id=f"mag:nominee:{guild_id}:{participation_id}:{'yes' if accept else 'no'}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> NomineeAnswer:
        return cls(int(match["guild"]), int(match["nomination"]), match["answer"] == "yes")

    async def callback(self, interaction: discord.Interaction) -> None:
        # Dynamic items are not in one of our views: errors are answered here.
        try:
            change = await bot_of(interaction).services.panellists.respond(
                guild_id=self.guild_id,
                user_id=interaction.user.id,
                participation_id=self.participation_id,
                accept=self.accept,
            )
            await interaction.response.edit_message(
                embed=fit_embed(answered_embed(change)), view=None
            )
            if change.notify_user_id is not None:
                await tell(interaction.client, change.notify_user_id, change)
        except Exception as error:
            await report_error(interaction, error)


def invitation_view(entry: PanellistEntry) -> discord.ui.View:
    """Return the Confirm and Decline buttons for one nomination."""
    view = discord.ui.View(timeout=None)
    pid = entry.participation.id or 0
    view.add_item(NomineeAnswer(entry.proposal.guild_id, pid, True))
    view.add_item(NomineeAnswer(entry.proposal.guild_id, pid, False))
    return view


async def invite(interaction: discord.Interaction, entry: PanellistEntry, user_id: int) -> bool:
    """DM the nominee the invitation with its buttons; return whether it went out."""
    guild_name = interaction.guild.name if interaction.guild else "the server"
    return await direct_message(
        interaction.client,
        user_id,
        embed=invitation_embed(entry, guild_name),
        view=invitation_view(entry),
    )


async def tell(client: discord.Client, user_id: int, change: ParticipationChange) -> bool:
    """DM the proposer one line about a nomination's new status."""
    embed = discord.Embed(description=change_text(change))
    return await direct_message(client, user_id, embed=embed)


class PanellistsCog(commands.Cog):
    """Panellist nominations."""

    panellist = app_commands.Group(
        name="panellist",
        description="Nominate panellists and follow their answers",
        guild_only=True,
        extras={"audience": "everyone"},
    )

    @panellist.command(name="nominate", description="Put a person on a proposal (nominated)")
    @app_commands.describe(
        proposal="The proposal's number",
        name="Full name",
        stakeholder="Stakeholder group",
        region="Regional group",
        gender="As the person states it (never guess)",
        role="Role on the session (default: speaker)",
        attendance="Onsite or online (default: onsite)",
        affiliation="Organisation (same name + affiliation = same person)",
        country="Country",
        member="Their Discord account here: they get a DM to confirm",
        rationale="Why them",
        contact="Email or other contact (only the secretariat sees it)",
        developing_country="From a developing or least-developed country",
        first_time="Speaking at the IGF for the first time",
        youth="A young person (as the IGF's youth track counts them)",
    )
    @app_commands.choices(
        region=REGION_CHOICES,
        gender=GENDER_CHOICES,
        role=ROLE_CHOICES,
        attendance=ATTENDANCE_CHOICES,
    )
    @app_commands.autocomplete(proposal=proposal_choices)
    @app_commands.autocomplete(stakeholder=stakeholder_choices)
    async def nominate(
        self,
        interaction: discord.Interaction,
        proposal: Number,
        name: app_commands.Range[str, 1, 100],
        stakeholder: str,
        region: str,
        gender: str,
        role: str = "speaker",
        attendance: str = "onsite",
        affiliation: app_commands.Range[str, 1, 150] | None = None,
        country: app_commands.Range[str, 1, 60] | None = None,
        member: discord.Member | None = None,
        rationale: app_commands.Range[str, 1, 1000] | None = None,
        contact: app_commands.Range[str, 1, 200] | None = None,
        developing_country: bool | None = None,
        first_time: bool | None = None,
        youth: bool | None = None,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        nomination = await bot_of(interaction).services.panellists.nominate(
            actor,
            proposal_number=proposal,
            name=name,
            stakeholder_group=stakeholder,
            region=region,
            gender=gender,
            role=role,
            attendance=attendance,
            affiliation=affiliation,
            country=country,
            member_id=member.id if member else None,
            rationale=rationale,
            contact=contact,
            developing_country=developing_country,
            first_time=first_time,
            youth=youth,
        )
        note = None
        if nomination.ask_user_id is not None:
            sent = await invite(interaction, nomination.entry, nomination.ask_user_id)
            note = (
                "They got a direct message to confirm or decline."
                if sent
                else "Their direct messages are closed: ask them to answer with "
                f"`/panellist status id:{nomination.entry.participation.id}`."
            )
        await send(interaction, note, embed=nomination_embed(nomination))

    @panellist.command(name="list", description="List nominations, newest first")
    @app_commands.describe(proposal="Only this proposal", status="Only this status")
    @app_commands.autocomplete(proposal=proposal_choices)
    async def list_(
        self,
        interaction: discord.Interaction,
        proposal: Number | None = None,
        status: Literal["nominated", "invited", "confirmed", "declined", "withdrawn"] | None = None,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        entries = await bot_of(interaction).services.panellists.list_entries(
            actor, proposal_number=proposal, status=status
        )
        await send(interaction, embed=entries_embed(entries))

    @panellist.command(name="view", description="Show one nomination")
    @app_commands.describe(id="The nomination's number (shown as #id)")
    async def view(self, interaction: discord.Interaction, id: Number) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        entry = await bot_of(interaction).services.panellists.view(actor, id)
        await send(interaction, embed=entry_embed(entry))

    @panellist.command(
        name="status", description="Change a nomination's status (proposer or secretariat)"
    )
    @app_commands.describe(id="The nomination's number (shown as #id)", status="The new status")
    async def status(
        self,
        interaction: discord.Interaction,
        id: Number,
        status: Literal["invited", "confirmed", "declined", "withdrawn"],
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        change = await bot_of(interaction).services.panellists.set_status(actor, id, status)
        notes = [change_text(change)]
        if change.ask_user_id is not None:
            sent = await invite(interaction, change.entry, change.ask_user_id)
            notes.append(
                "They got a direct message to confirm." if sent else "Their DMs are closed."
            )
        if change.notify_user_id is not None:
            await tell(interaction.client, change.notify_user_id, change)
        await send(interaction, " ".join(notes), embed=effect_embed_of(change.effect))

    @panellist.command(
        name="forget",
        description="Erase a person's personal data and nominations (secretariat)",
        extras={"audience": "secretariat"},
    )
    @app_commands.describe(person="The person (type a name to search)")
    async def forget(self, interaction: discord.Interaction, person: Number) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        forgotten = await bot_of(interaction).services.panellists.forget(actor, person)
        await send(interaction, forgotten_text(forgotten))

    @forget.autocomplete("person")
    async def people(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        try:
            actor = await actor_of(interaction)
        except UserError:
            return []
        found = await bot_of(interaction).services.panellists.search_people(actor, current)
        return [
            app_commands.Choice(
                name=clip(
                    f"#{p.id} {p.name}" + (f" ({p.affiliation})" if p.affiliation else ""), 100
                ),
                value=p.id or 0,
            )
            for p in found
        ]


async def setup(bot: commands.Bot) -> None:
    bot.add_dynamic_items(NomineeAnswer)
    await bot.add_cog(PanellistsCog())

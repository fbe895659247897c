"""`/panellist`: nominate people for proposals, follow their own answers, forget them on request.

The nominee's buttons (Confirm, Decline, Details are wrong, Stop invitations)
are ``DynamicItem``s: their custom id carries the guild and the nomination,
so they keep working after a restart, and the service checks that the one
clicking is the account the invitation went to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserError
from bot.i18n import _, pgettext, speaking
from bot.render.balance import effect_embed_of
from bot.render.embeds import fit_embed
from bot.render.panellists import (
    answered_embed,
    change_text,
    entries_embed,
    entry_embed,
    forgotten_text,
    invitation_embed,
    invitation_note,
    nomination_embed,
)
from bot.render.text import plain
from bot.services.auth import Actor
from bot.services.panellists import Invitation, PanellistEntry, ParticipationChange
from bot.services.taxonomy import ATTENDANCE, ROLES
from bot.ui import Answering, register, view_of
from cogs._actions import action, perform
from cogs._common import Number, actor_of, bot_of, defer, respond, send
from cogs._programme import (
    GENDER_CHOICES,
    REGION_CHOICES,
    direct_message,
    proposal_choices,
    recipient_language,
    stakeholder_choices,
)

ROLE_CHOICES = [app_commands.Choice(name=label, value=key) for key, label in ROLES.items()]
ATTENDANCE_CHOICES = [
    app_commands.Choice(name=label, value=key) for key, label in ATTENDANCE.items()
]
ANSWER = "mag:nominee:(?P<guild>[0-9]+):(?P<nomination>[0-9]+):(?P<answer>yes|no|wrong|stop)"
BUTTONS = {
    "yes": discord.ButtonStyle.success,
    "no": discord.ButtonStyle.danger,
    "wrong": discord.ButtonStyle.secondary,
    "stop": discord.ButtonStyle.secondary,
}


def button_label(answer: str) -> str:
    """Return the label of the nominee's button ``answer``, in the current language."""
    if answer == "yes":
        return pgettext("button", "Confirm")
    if answer == "no":
        return pgettext("button", "Decline")
    if answer == "wrong":
        return pgettext("button", "Details are wrong")
    return pgettext("button", "Stop invitations")


class NomineeAnswer(Answering, discord.ui.DynamicItem[discord.ui.Button[Any]], template=ANSWER):
    """One of the buttons in a nominee's invitation."""

    def __init__(self, guild_id: int, participation_id: int, answer: str) -> None:
        self.guild_id = guild_id
        self.participation_id = participation_id
        self.answer = answer
        super().__init__(
            discord.ui.Button(
                label=button_label(answer),
                style=BUTTONS[answer],
                custom_id=f"mag:nominee:{guild_id}:{participation_id}:{answer}",
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
        return cls(int(match["guild"]), int(match["nomination"]), match["answer"])

    async def run(self, interaction: discord.Interaction) -> None:
        service = bot_of(interaction).services.panellists
        if self.answer == "wrong":
            await service.dispute(
                guild_id=self.guild_id,
                user_id=interaction.user.id,
                participation_id=self.participation_id,
            )
            await send(
                interaction,
                _(
                    "Thank you: the secretariat was asked to check the details about you. "
                    "You can still confirm or decline."
                ),
            )
            return
        if self.answer == "stop":
            await service.set_invitations(
                guild_id=self.guild_id, user_id=interaction.user.id, allowed=False
            )
            await send(
                interaction,
                _(
                    "You will get no more invitations from this server. To allow them again, "
                    "run `/panellist invitations allow:True` there."
                ),
            )
            return
        change = await service.respond(
            guild_id=self.guild_id,
            user_id=interaction.user.id,
            participation_id=self.participation_id,
            accept=self.answer == "yes",
        )
        await interaction.response.edit_message(embed=fit_embed(answered_embed(change)), view=None)
        if change.notify_user_id is not None:
            await tell(interaction.client, change.notify_user_id, change)


def invitation_view(entry: PanellistEntry) -> discord.ui.View:
    """Return the nominee's four buttons for one nomination."""
    pid = entry.nominee.participation_id
    guild = entry.proposal.guild_id
    return view_of(*(NomineeAnswer(guild, pid, answer) for answer in BUTTONS))


async def invite(
    client: discord.Client,
    guild: discord.Guild | None,
    entry: PanellistEntry,
    invitation: Invitation,
) -> bool:
    """DM the nominee the invitation with its buttons; return whether it went out."""
    assert invitation.user_id is not None
    language = await recipient_language(client, invitation.user_id, entry.proposal.guild_id)
    with speaking(language):
        return await direct_message(
            client,
            invitation.user_id,
            embed=invitation_embed(
                entry, guild.name if guild else _("the server"), mag_member=invitation.mag_member
            ),
            view=invitation_view(entry),
        )


async def tell(client: discord.Client, user_id: int, change: ParticipationChange) -> bool:
    """DM the proposer one line about a nomination's new status (naming nobody)."""
    with speaking(await recipient_language(client, user_id, change.entry.proposal.guild_id)):
        return await direct_message(
            client, user_id, embed=discord.Embed(description=change_text(change))
        )


@action("person.forget")
async def do_forget(
    interaction: discord.Interaction, actor: Actor, payload: Mapping[str, Any], confirmed: bool
) -> None:
    forgotten = await bot_of(interaction).services.panellists.forget(
        actor, int(payload["person"]), confirmed=confirmed
    )
    await respond(interaction, forgotten_text(forgotten))


class PanellistsCog(commands.Cog):
    """Panellist nominations."""

    panellist = app_commands.Group(
        name="panellist",
        description="Nominate panellists and follow their answers",
        guild_only=True,
        extras={"audience": "everyone"},
    )

    @panellist.command(name="nominate", description="Put a person on a proposal and invite them")
    @app_commands.describe(
        proposal="The proposal's number",
        name="Full name",
        stakeholder="Stakeholder group",
        region="Regional group",
        gender="As the person states it (never guess)",
        role="Role on the session (default: speaker)",
        attendance="Onsite or online (leave out if not known yet)",
        affiliation="Organisation (same name + affiliation = same person)",
        country="Country",
        member="Their Discord account here: they get a DM to confirm (they confirm it is them)",
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
        attendance: str | None = None,
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
        invitation = nomination.invitation
        sent = None
        if invitation.emailed:  # queued in the outbox: the sender goes now
            bot_of(interaction).services.email.queued()
        if invitation.user_id is not None:
            sent = await invite(interaction.client, interaction.guild, nomination.entry, invitation)
        note = invitation_note(invitation, sent, nomination.entry.nominee.participation_id)
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
        name="status",
        description="Invite again or withdraw (organisers); confirm or decline (the nominee)",
    )
    @app_commands.describe(
        id="The nomination's number (shown as #id)",
        status="invited/withdrawn: organisers; confirmed/declined: the nominee's own answer",
    )
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
        if change.invitation is not None:
            sent = None
            if change.invitation.emailed:
                bot_of(interaction).services.email.queued()
            if change.invitation.user_id is not None:
                sent = await invite(
                    interaction.client, interaction.guild, change.entry, change.invitation
                )
            notes.append(invitation_note(change.invitation, sent, id))
        if change.notify_user_id is not None:
            await tell(interaction.client, change.notify_user_id, change)
        await send(interaction, " ".join(notes), embed=effect_embed_of(change.effect))

    @panellist.command(
        name="answer",
        description="Record a nominee's answer given outside Discord (secretariat)",
        extras={"audience": "secretariat"},
    )
    @app_commands.describe(
        id="The nomination's number (shown as #id)",
        answer="What they answered",
        note="How and when (for example: by email, 3 May)",
    )
    async def answer(
        self,
        interaction: discord.Interaction,
        id: Number,
        answer: Literal["confirmed", "declined"],
        note: app_commands.Range[str, 1, 300],
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        change = await bot_of(interaction).services.panellists.record_answer(
            actor, id, accept=answer == "confirmed", note=note
        )
        if change.notify_user_id is not None:
            await tell(interaction.client, change.notify_user_id, change)
        await send(
            interaction,
            _("{change} Recorded as an answer given outside Discord.", change=change_text(change)),
            embed=effect_embed_of(change.effect),
        )

    @panellist.command(
        name="invitations", description="Stop or allow invitations to you from this server"
    )
    @app_commands.describe(allow="True: invitations may come again; False: no more invitations")
    async def invitations(self, interaction: discord.Interaction, allow: bool) -> None:
        await defer(interaction)
        if interaction.guild_id is None:
            raise UserError(_("This command works only inside a server."))
        changed = await bot_of(interaction).services.panellists.set_invitations(
            guild_id=interaction.guild_id, user_id=interaction.user.id, allowed=allow
        )
        if allow and changed:
            text = _("This server may send you invitations.")
        elif allow:
            text = _("This server may send you invitations (it already was so).")
        elif changed:
            text = _("This server will send you no more invitations.")
        else:
            text = _("This server will send you no more invitations (it already was so).")
        await send(interaction, text)

    @panellist.command(
        name="forget",
        description="Erase a person's personal data and nominations (secretariat)",
        extras={"audience": "secretariat"},
    )
    @app_commands.describe(person="The person (type a name to search)")
    async def forget(self, interaction: discord.Interaction, person: Number) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        await perform(interaction, actor, "person.forget", {"person": person})

    @forget.autocomplete("person")
    async def people(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        return await person_choices(interaction, current)


async def person_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[int]]:
    """Suggest people by name (secretariat only: for anyone else, nothing)."""
    try:
        actor = await actor_of(interaction)
    except UserError:
        return []
    found = await bot_of(interaction).services.panellists.search_people(actor, current)
    return [
        app_commands.Choice(
            name=plain(f"#{p.id} {p.name}" + (f" ({p.affiliation})" if p.affiliation else ""), 100),
            value=p.id or 0,
        )
        for p in found
    ]


async def setup(bot: commands.Bot) -> None:
    register(bot, NomineeAnswer)
    await bot.add_cog(PanellistsCog())

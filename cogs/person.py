"""`/person`: the secretariat settles who is who (claims, accounts, details, merges, splits)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n import N_, _
from bot.render.people import change_embed, flags_embed, merged_embed, person_embed
from bot.services.auth import Actor
from cogs._actions import action, perform
from cogs._common import Number, actor_of, bot_of, defer, respond, send
from cogs._programme import GENDER_CHOICES, REGION_CHOICES, stakeholder_choices
from cogs.panellists import person_choices

# The details `/person correct` changes, as "Corrected: …" names them.
DETAILS = {
    "name": N_("name"),
    "affiliation": N_("affiliation"),
    "stakeholder_group": N_("stakeholder group"),
    "region": N_("region"),
    "gender": N_("gender"),
    "country": N_("country"),
    "contact": N_("contact"),
}


@action("person.merge")
async def do_merge(
    interaction: discord.Interaction, actor: Actor, payload: Mapping[str, Any], confirmed: bool
) -> None:
    merged = await bot_of(interaction).services.people.merge(
        actor, int(payload["source"]), int(payload["target"]), confirmed=confirmed
    )
    await respond(interaction, embed=merged_embed(merged))


class PersonCog(commands.Cog):
    """Person records (secretariat)."""

    person = app_commands.Group(
        name="person",
        description="Person records and the claims about them (secretariat)",
        guild_only=True,
        extras={"audience": "secretariat"},
    )

    @person.command(name="flags", description="Claims that disagree with a person's record")
    async def flags(self, interaction: discord.Interaction) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        await send(
            interaction, embed=flags_embed(await bot_of(interaction).services.people.flags(actor))
        )

    @person.command(name="view", description="A person record with every claim made about them")
    @app_commands.describe(person="The person (type a name to search)")
    @app_commands.autocomplete(person=person_choices)
    async def view(self, interaction: discord.Interaction, person: Number) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        found = await bot_of(interaction).services.people.view(actor, person)
        await send(interaction, embed=person_embed(found))

    @person.command(name="link", description="Set the Discord account that is this person")
    @app_commands.describe(person="The person", member="Their account; leave out to unlink")
    @app_commands.autocomplete(person=person_choices)
    async def link(
        self, interaction: discord.Interaction, person: Number, member: discord.Member | None = None
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        change = await bot_of(interaction).services.people.link(
            actor, person, member.id if member else None
        )
        if member:
            what = _("Linked to {member}", member=member.mention)
        else:
            what = _("No account is linked any more")
        await send(interaction, embed=change_embed(change, what))

    @person.command(name="correct", description="Correct a person's details (audited)")
    @app_commands.describe(
        person="The person",
        name="Full name",
        affiliation="Organisation (- clears it)",
        stakeholder="Stakeholder group",
        region="Regional group",
        gender="As the person states it",
        country="Country (- clears it)",
        contact="A contact the person confirmed (- clears it)",
    )
    @app_commands.choices(region=REGION_CHOICES, gender=GENDER_CHOICES)
    @app_commands.autocomplete(person=person_choices)
    @app_commands.autocomplete(stakeholder=stakeholder_choices)
    async def correct(
        self,
        interaction: discord.Interaction,
        person: Number,
        name: app_commands.Range[str, 1, 100] | None = None,
        affiliation: app_commands.Range[str, 1, 150] | None = None,
        stakeholder: str | None = None,
        region: str | None = None,
        gender: str | None = None,
        country: app_commands.Range[str, 1, 60] | None = None,
        contact: app_commands.Range[str, 1, 200] | None = None,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        change = await bot_of(interaction).services.people.correct(
            actor,
            person,
            name=name,
            affiliation=affiliation,
            stakeholder_group=stakeholder,
            region=region,
            gender=gender,
            country=country,
            contact=contact,
        )
        fields = ", ".join(_(DETAILS.get(c, c.replace("_", " "))) for c in change.changed)
        await send(interaction, embed=change_embed(change, _("Corrected: {fields}", fields=fields)))

    @person.command(
        name="merge", description="Two records are one person: merge the first into the second"
    )
    @app_commands.describe(
        person="The record to merge (it goes away)", into="The record that stays"
    )
    @app_commands.autocomplete(person=person_choices, into=person_choices)
    async def merge(self, interaction: discord.Interaction, person: Number, into: Number) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        await perform(interaction, actor, "person.merge", {"source": person, "target": into})

    @person.command(
        name="split", description="A nomination is of someone else: give it its own record"
    )
    @app_commands.describe(nomination="The nomination's number (shown as #id)")
    async def split(self, interaction: discord.Interaction, nomination: Number) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        change = await bot_of(interaction).services.people.split(actor, nomination)
        await send(
            interaction,
            embed=change_embed(
                change,
                _("Nomination #{nomination} now has a record of its own", nomination=nomination),
            ),
        )

    @person.command(name="dismiss", description="Settle a flag without changing the record")
    @app_commands.describe(
        person="The person", flag="The flag's number", note="Why (kept in the audit)"
    )
    @app_commands.autocomplete(person=person_choices)
    async def dismiss(
        self,
        interaction: discord.Interaction,
        person: Number,
        flag: Number,
        note: app_commands.Range[str, 1, 200],
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        await bot_of(interaction).services.people.dismiss(actor, person, flag, note)
        await send(
            interaction, _("Flag #{flag} of person #{person} is settled.", flag=flag, person=person)
        )


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(PersonCog())

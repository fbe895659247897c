"""`/profile`: a MAG member's own stakeholder group, region, gender and affiliation."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n import LANGUAGES, _, set_language
from bot.render.panellists import profile_embed
from bot.services.config import suggest_timezones
from cogs._common import actor_of, bot_of, defer, send
from cogs._programme import (
    AUTOMATIC,
    GENDER_CHOICES,
    LANGUAGE_CHOICES,
    REGION_CHOICES,
    stakeholder_choices,
)


class ProfileCog(commands.Cog):
    """MAG member profiles."""

    profile = app_commands.Group(
        name="profile",
        description="Your MAG profile: stakeholder group, region, gender, affiliation",
        guild_only=True,
        extras={"audience": "mag"},
    )

    @profile.command(name="set", description="Set your MAG profile")
    @app_commands.describe(
        stakeholder="Your stakeholder group",
        region="Your regional group",
        gender="Your gender (shown only to you and the secretariat)",
        affiliation="Your organisation (finds conflicts of interest); - to clear",
    )
    @app_commands.choices(region=REGION_CHOICES, gender=GENDER_CHOICES)
    @app_commands.autocomplete(stakeholder=stakeholder_choices)
    async def set_(
        self,
        interaction: discord.Interaction,
        stakeholder: str,
        region: str,
        gender: str,
        affiliation: app_commands.Range[str, 1, 150] | None = None,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        view = await bot_of(interaction).services.profiles.set(
            actor,
            stakeholder_group=stakeholder,
            region=region,
            gender=gender,
            affiliation=affiliation,
        )
        await send(interaction, _("Profile saved."), embed=profile_embed(view))

    @profile.command(name="timezone", description="Set your time zone (for fair meeting hours)")
    @app_commands.describe(zone="Your IANA time zone, such as Africa/Nairobi or America/Lima")
    async def timezone(
        self, interaction: discord.Interaction, zone: app_commands.Range[str, 1, 64]
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        view = await bot_of(interaction).services.profiles.set_timezone(actor, zone)
        await send(
            interaction,
            _("Your time zone is {zone}.", zone=view.timezone),
            embed=profile_embed(view),
        )

    @timezone.autocomplete("zone")
    async def zone_names(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=n, value=n) for n in suggest_timezones(current)]

    @profile.command(name="show", description="Show your profile or another MAG member's")
    @app_commands.describe(member="Whose profile (default: yours)")
    async def show(
        self, interaction: discord.Interaction, member: discord.Member | None = None
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        view = await bot_of(interaction).services.profiles.show(
            actor, member.id if member else None
        )
        await send(interaction, embed=profile_embed(view))

    @profile.command(name="language", description="Choose the language the bot writes to you in")
    @app_commands.describe(
        language="Your language (Arabic included); Automatic follows your Discord app"
    )
    @app_commands.choices(language=LANGUAGE_CHOICES)
    async def language(self, interaction: discord.Interaction, language: str) -> None:
        languages = bot_of(interaction).services.languages
        await languages.choose(interaction.user.id, None if language == AUTOMATIC else language)
        code = await languages.reader(
            interaction.user.id,
            locale=interaction.locale.value,
            guild_id=interaction.guild_id,
            guild_locale=interaction.guild_locale.value if interaction.guild_locale else None,
        )
        set_language(code)
        if language == AUTOMATIC:
            text = _(
                "I follow your Discord app's language again: {language} for now.",
                language=LANGUAGES[code].name,
            )
        else:
            text = _("From now on I write to you in {language}.", language=LANGUAGES[code].name)
        await send(interaction, text)


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(ProfileCog())

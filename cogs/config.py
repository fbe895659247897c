"""`/config`: the admins' settings for this server."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import NotFound
from bot.i18n import LANGUAGES, N_, _, ngettext
from bot.render.config import config_embed, rule_line
from bot.render.text import one_line
from bot.services.config import suggest_rules, suggest_timezones
from bot.services.text import quoted
from cogs._common import actor_of, bot_of, defer, send
from cogs._programme import AUTOMATIC, LANGUAGE_CHOICES, subtheme_choices

ADMIN_HINT = discord.Permissions(manage_guild=True)
CHANNEL_SET = {
    "reminders": N_("The reminders channel is now {channel}."),
    "digest": N_("The digest channel is now {channel}."),
    "log": N_("The log channel is now {channel}."),
}
ROLE_SET = {
    "mag": N_("The MAG role is now {role}."),
    "secretariat": N_("The secretariat role is now {role}."),
}


async def confirm(interaction: discord.Interaction, message: str) -> None:
    """Tell the admin what changed (privately)."""
    await send(interaction, _("{message}\nSee everything with `/config show`.", message=message))


class ConfigCog(commands.Cog):
    """Server configuration (admins)."""

    config = app_commands.Group(
        name="config",
        description="Configure this server's channels, roles, time zone and rules (admins)",
        guild_only=True,
        default_permissions=ADMIN_HINT,
        extras={"audience": "admins"},
    )
    subthemes = app_commands.Group(
        name="subthemes", description="The subthemes proposals are filed under", parent=config
    )

    @config.command(name="show", description="Show the whole configuration")
    async def show(self, interaction: discord.Interaction) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        services = bot_of(interaction).services
        settings = await services.config.show(actor)
        await send(interaction, embed=config_embed(settings, email=services.email.enabled))

    @config.command(
        name="language", description="Choose the language of the server's reminders and digests"
    )
    @app_commands.describe(
        language="Public posts (reminders, digests, charts); Automatic: the server's own locale"
    )
    @app_commands.choices(language=LANGUAGE_CHOICES)
    async def language(self, interaction: discord.Interaction, language: str) -> None:
        actor = await actor_of(interaction)
        services = bot_of(interaction).services
        await services.config.set_language(actor, None if language == AUTOMATIC else language)
        code = await services.languages.server(
            interaction.guild_id,
            interaction.guild_locale.value if interaction.guild_locale else None,
        )
        await confirm(
            interaction,
            _(
                "Reminders, digests and other public posts are now in {language}.",
                language=LANGUAGES[code].name,
            ),
        )

    @config.command(name="channel", description="Choose where reminders, digests or logs go")
    @app_commands.describe(
        purpose="What the channel is for",
        channel="The text channel; leave out to unset",
    )
    async def channel(
        self,
        interaction: discord.Interaction,
        purpose: Literal["reminders", "digest", "log"],
        channel: discord.TextChannel | None = None,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        await bot_of(interaction).services.config.set_channel(
            actor, purpose, channel.id if channel else None
        )
        where = channel.mention if channel else _("not set")
        await confirm(interaction, _(CHANNEL_SET[purpose], channel=where))

    @config.command(name="role", description="Choose the role of MAG members or the secretariat")
    @app_commands.describe(purpose="Who the role is for", role="The role; leave out to unset")
    async def role(
        self,
        interaction: discord.Interaction,
        purpose: Literal["mag", "secretariat"],
        role: discord.Role | None = None,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        await bot_of(interaction).services.config.set_role(
            actor,
            purpose,
            role.id if role else None,
            everyone=role is not None and role.is_default(),
            managed=role is not None and role.managed,
        )
        who = "mag" if purpose == "mag" else "secretariat"
        await confirm(interaction, _(ROLE_SET[who], role=role.mention if role else _("not set")))

    @config.command(name="timezone", description="Set the server's time zone (IANA name)")
    @app_commands.describe(name="For example Europe/Zurich (Geneva) or America/New_York")
    async def timezone(self, interaction: discord.Interaction, name: str) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        settings = await bot_of(interaction).services.config.set_timezone(actor, name)
        await confirm(
            interaction, _("The time zone is now {timezone}.", timezone=settings.timezone)
        )

    @timezone.autocomplete("name")
    async def timezone_names(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=n, value=n) for n in suggest_timezones(current)]

    @config.command(name="digest", description="Set when the secretariat digest is posted")
    @app_commands.describe(
        frequency="daily, weekly or off",
        time="Time of day, HH:MM, in the server's time zone",
        day="Day of the week (weekly only)",
    )
    async def digest(
        self,
        interaction: discord.Interaction,
        frequency: Literal["daily", "weekly", "off"],
        time: str | None = None,
        day: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
        | None = None,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        settings = await bot_of(interaction).services.config.set_digest(actor, frequency, time, day)
        text = _(
            "The digest is now {schedule} ({timezone}).",
            schedule=settings.digest.describe(),
            timezone=settings.timezone,
        )
        await confirm(interaction, text)

    @config.command(name="reminders", description="Set when reminders go out before deadlines")
    @app_commands.describe(offsets="Comma-separated, units m h d w, e.g. 14d,7d,1d,1h")
    async def reminders(self, interaction: discord.Interaction, offsets: str) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        settings = await bot_of(interaction).services.config.set_reminder_offsets(actor, offsets)
        text = _(
            "Reminders now go out {offsets} before each deadline.",
            offsets=settings.reminder_offsets_text,
        )
        await confirm(interaction, text)

    @subthemes.command(name="set", description="Replace the list of subthemes")
    @app_commands.describe(names="Subthemes separated by ; (semicolons)")
    async def subthemes_set(self, interaction: discord.Interaction, names: str) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        settings = await bot_of(interaction).services.config.set_subthemes(actor, names)
        count = len(settings.subthemes)
        await confirm(interaction, ngettext("{n} subthemes set.", "{n} subthemes set.", count))

    @subthemes.command(name="add", description="Add a subtheme")
    @app_commands.describe(name="The new subtheme")
    async def subthemes_add(self, interaction: discord.Interaction, name: str) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        settings = await bot_of(interaction).services.config.add_subtheme(actor, name)
        added = one_line(settings.subthemes[-1], 100)
        await confirm(interaction, _("Subtheme added: {name}.", name=added))

    @subthemes.command(name="remove", description="Remove a subtheme")
    @app_commands.describe(name="The subtheme to remove")
    @app_commands.autocomplete(name=subtheme_choices)
    async def subthemes_remove(self, interaction: discord.Interaction, name: str) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        settings = await bot_of(interaction).services.config.remove_subtheme(actor, name)
        text = ngettext(
            "Subtheme removed: {name}. {n} remain.",
            "Subtheme removed: {name}. {n} remain.",
            len(settings.subthemes),
            name=one_line(name, 100),
        )
        await confirm(interaction, text)

    @config.command(name="rule", description="Show or change a rule (screening, limits, targets)")
    @app_commands.describe(
        name="The rule, e.g. screening.min_speakers_agreed",
        value="New value: a number, true/false, or names separated by ;  `default` resets it",
    )
    async def rule(
        self, interaction: discord.Interaction, name: str, value: str | None = None
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        service = bot_of(interaction).services.config
        if value is None:
            settings = await service.show(actor)
            if name not in settings.rules:
                raise NotFound(
                    _("{rule} is not a rule. The command suggests names.", rule=quoted(name, 40))
                )
            await send(interaction, rule_line(settings, name))
            return
        settings = await service.set_rule_text(actor, name, value)
        await confirm(interaction, _("Rule changed: {rule}", rule=rule_line(settings, name)))

    @rule.autocomplete("name")
    async def rule_names(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=n, value=n) for n in suggest_rules(current)]

    @config.command(name="cycle", description="Name the annual cycle, e.g. IGF 2027")
    @app_commands.describe(name="The cycle's name")
    async def cycle(self, interaction: discord.Interaction, name: str) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        settings = await bot_of(interaction).services.config.set_cycle(actor, name)
        cycle = one_line(settings.cycle_name, 100)
        await confirm(interaction, _("The cycle is now {cycle}.", cycle=cycle))


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(ConfigCog())

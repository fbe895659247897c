"""`/config`: the admins' settings for this server."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import NotFound
from bot.render.config import config_embed, rule_line
from bot.render.text import one_line
from bot.services.config import suggest_rules, suggest_timezones
from bot.services.text import quoted
from cogs._common import actor_of, bot_of, defer, send
from cogs._programme import subtheme_choices

ADMIN_HINT = discord.Permissions(manage_guild=True)


async def confirm(interaction: discord.Interaction, message: str) -> None:
    """Tell the admin what changed (privately)."""
    await send(interaction, f"{message}\nSee everything with `/config show`.")


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
        settings = await bot_of(interaction).services.config.show(actor)
        await send(interaction, embed=config_embed(settings))

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
        where = channel.mention if channel else "not set"
        await confirm(interaction, f"The {purpose} channel is now {where}.")

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
        who = "MAG" if purpose == "mag" else "secretariat"
        await confirm(interaction, f"The {who} role is now {role.mention if role else 'not set'}.")

    @config.command(name="timezone", description="Set the server's time zone (IANA name)")
    @app_commands.describe(name="For example Europe/Zurich (Geneva) or America/New_York")
    async def timezone(self, interaction: discord.Interaction, name: str) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        settings = await bot_of(interaction).services.config.set_timezone(actor, name)
        await confirm(interaction, f"The time zone is now {settings.timezone}.")

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
        text = f"The digest is now {settings.digest.describe()} ({settings.timezone})."
        await confirm(interaction, text)

    @config.command(name="reminders", description="Set when reminders go out before deadlines")
    @app_commands.describe(offsets="Comma-separated, units m h d w, e.g. 14d,7d,1d,1h")
    async def reminders(self, interaction: discord.Interaction, offsets: str) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        settings = await bot_of(interaction).services.config.set_reminder_offsets(actor, offsets)
        text = f"Reminders now go out {settings.reminder_offsets_text} before each deadline."
        await confirm(interaction, text)

    @subthemes.command(name="set", description="Replace the list of subthemes")
    @app_commands.describe(names="Subthemes separated by ; (semicolons)")
    async def subthemes_set(self, interaction: discord.Interaction, names: str) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        settings = await bot_of(interaction).services.config.set_subthemes(actor, names)
        await confirm(interaction, f"{len(settings.subthemes)} subthemes set.")

    @subthemes.command(name="add", description="Add a subtheme")
    @app_commands.describe(name="The new subtheme")
    async def subthemes_add(self, interaction: discord.Interaction, name: str) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        settings = await bot_of(interaction).services.config.add_subtheme(actor, name)
        added = one_line(settings.subthemes[-1], 100)
        await confirm(interaction, f"Subtheme added: {added}.")

    @subthemes.command(name="remove", description="Remove a subtheme")
    @app_commands.describe(name="The subtheme to remove")
    @app_commands.autocomplete(name=subtheme_choices)
    async def subthemes_remove(self, interaction: discord.Interaction, name: str) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        settings = await bot_of(interaction).services.config.remove_subtheme(actor, name)
        text = f"Subtheme removed: {one_line(name, 100)}. {len(settings.subthemes)} remain."
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
                raise NotFound(f"{quoted(name, 40)} is not a rule. The command suggests names.")
            await send(interaction, rule_line(settings, name))
            return
        settings = await service.set_rule_text(actor, name, value)
        await confirm(interaction, f"Rule changed: {rule_line(settings, name)}")

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
        await confirm(interaction, f"The cycle is now {one_line(settings.cycle_name, 100)}.")


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(ConfigCog())

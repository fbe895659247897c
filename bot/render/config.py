"""The `/config show` embed."""

from __future__ import annotations

import discord

from bot.render.embeds import INFO, clip
from bot.render.text import one_line
from bot.services.config import DEFAULTS, GuildSettings, format_rule_value


def _channel(channel_id: int | None) -> str:
    return f"<#{channel_id}>" if channel_id else "not set"


def _role(role_id: int | None) -> str:
    return f"<@&{role_id}>" if role_id else "not set"


def _mark(settings: GuildSettings, name: str) -> str:
    return "" if name in settings.customised else " (default)"


def rule_line(settings: GuildSettings, name: str) -> str:
    """Return ``name: value (default: x)`` for one rule."""
    value = format_rule_value(settings.rules[name])
    default = format_rule_value(DEFAULTS.rules[name])
    note = "the default" if value == default else f"default: {one_line(default, 300)}"
    return f"`{name}` is {one_line(value, 1500)} ({note})"


def config_embed(settings: GuildSettings) -> discord.Embed:
    """Return the whole configuration of a guild in one embed."""
    cycle = settings.cycle_name or "not set"
    embed = discord.Embed(title="Server configuration", colour=INFO)
    embed.description = f"Cycle: **{one_line(cycle, 100)}**{_mark(settings, 'cycle_name')}"
    embed.add_field(
        name="Channels",
        value="\n".join(
            f"{purpose.capitalize()}: {_channel(cid)}" for purpose, cid in settings.channels.items()
        ),
        inline=True,
    )
    embed.add_field(
        name="Roles",
        value=f"MAG: {_role(settings.roles['mag'])}\n"
        f"Secretariat: {_role(settings.roles['secretariat'])}",
        inline=True,
    )
    embed.add_field(
        name="Time zone",
        value=f"{settings.timezone}{_mark(settings, 'timezone')}",
        inline=True,
    )
    digest_custom = {"digest_frequency", "digest_time", "digest_weekday"} & settings.customised
    embed.add_field(
        name="Digest",
        value=f"{settings.digest.describe()} ({settings.timezone})"
        + ("" if digest_custom else " (default)"),
        inline=True,
    )
    embed.add_field(
        name="Reminder offsets",
        value=f"{settings.reminder_offsets_text} before each deadline"
        f"{_mark(settings, 'reminder_offsets')}",
        inline=True,
    )
    subthemes = "\n".join(f"• {one_line(name, 100)}" for name in settings.subthemes) or "none"
    embed.add_field(
        name=f"Subthemes ({len(settings.subthemes)}){_mark(settings, 'subthemes')}",
        value=subthemes,
        inline=False,
    )
    # One field per family of rules (balance, screening...): together they
    # outgrow the 1024 characters of one field.
    families: dict[str, list[str]] = {}
    for name, value in sorted(settings.rules.items()):
        line = (
            f"{name}: {one_line(format_rule_value(value), 300)}{_mark(settings, 'rules.' + name)}"
        )
        families.setdefault(name.split(".", 1)[0], []).append(line)
    for family, lines in families.items():
        embed.add_field(name=f"Rules: {family}", value=clip("\n".join(lines), 1024), inline=False)
    embed.set_footer(text="Change a setting with /config <setting>, a rule with /config rule.")
    return embed

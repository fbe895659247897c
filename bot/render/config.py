"""The `/config show` embed."""

from __future__ import annotations

from typing import Final

import discord

from bot.i18n import LANGUAGES, N_, _
from bot.render.embeds import INFO, clip
from bot.render.text import one_line
from bot.services.config import DEFAULTS, GuildSettings, format_rule_value

# What each channel is for, as the embed names it.
CHANNEL_LABELS: Final = {
    "reminders": N_("Reminders"),
    "digest": N_("Digest"),
    "log": N_("Log"),
}


def _channel(channel_id: int | None) -> str:
    return f"<#{channel_id}>" if channel_id else _("not set")


def _role(role_id: int | None) -> str:
    return f"<@&{role_id}>" if role_id else _("not set")


def _marked(settings: GuildSettings, name: str, value: str) -> str:
    """Return ``value``, said to be the default when the guild did not change ``name``."""
    return value if name in settings.customised else _("{value} (default)", value=value)


def _purpose(purpose: str) -> str:
    label = CHANNEL_LABELS.get(purpose)
    return _(label) if label is not None else purpose.capitalize()


def rule_line(settings: GuildSettings, name: str) -> str:
    """Return ``name: value (default: x)`` for one rule."""
    value = format_rule_value(settings.rules[name])
    default = format_rule_value(DEFAULTS.rules[name])
    if value == default:
        return _("`{name}` is {value} (the default)", name=name, value=one_line(value, 1500))
    return _(
        "`{name}` is {value} (default: {default})",
        name=name,
        value=one_line(value, 1500),
        default=one_line(default, 300),
    )


def config_embed(settings: GuildSettings, *, email: bool | None = None) -> discord.Embed:
    """Return the whole configuration of a guild in one embed (``email``: invitations by email)."""
    cycle = settings.cycle_name or _("not set")
    embed = discord.Embed(title=_("Server configuration"), colour=INFO)
    embed.description = _(
        "Cycle: {cycle}",
        cycle=_marked(settings, "cycle_name", f"**{one_line(cycle, 100)}**"),
    )
    embed.add_field(
        name=_("Channels"),
        value="\n".join(
            f"{_purpose(purpose)}: {_channel(cid)}" for purpose, cid in settings.channels.items()
        ),
        inline=True,
    )
    embed.add_field(
        name=_("Roles"),
        value=_(
            "MAG: {mag}\nSecretariat: {secretariat}",
            mag=_role(settings.roles["mag"]),
            secretariat=_role(settings.roles["secretariat"]),
        ),
        inline=True,
    )
    embed.add_field(
        name=_("Time zone"),
        value=_marked(settings, "timezone", settings.timezone),
        inline=True,
    )
    embed.add_field(
        name=_("Language of public posts"),
        value=LANGUAGES[settings.language].name
        if settings.language is not None
        else _("Automatic (the server's own locale, else English)"),
        inline=True,
    )
    digest_custom = {"digest_frequency", "digest_time", "digest_weekday"} & settings.customised
    digest = _("{schedule} ({zone})", schedule=settings.digest.describe(), zone=settings.timezone)
    embed.add_field(
        name=_("Digest"),
        value=digest if digest_custom else _("{value} (default)", value=digest),
        inline=True,
    )
    embed.add_field(
        name=_("Reminder offsets"),
        value=_marked(
            settings,
            "reminder_offsets",
            _("{offsets} before each deadline", offsets=settings.reminder_offsets_text),
        ),
        inline=True,
    )
    subthemes = "\n".join(f"• {one_line(name, 100)}" for name in settings.subthemes) or _("none")
    embed.add_field(
        name=_marked(
            settings, "subthemes", _("Subthemes ({count})", count=len(settings.subthemes))
        ),
        value=subthemes,
        inline=False,
    )
    # One field per family of rules (balance, screening...): together they
    # outgrow the 1024 characters of one field.
    families: dict[str, list[str]] = {}
    for name, value in sorted(settings.rules.items()):
        line = _marked(
            settings, "rules." + name, f"{name}: {one_line(format_rule_value(value), 300)}"
        )
        families.setdefault(name.split(".", 1)[0], []).append(line)
    for family, lines in families.items():
        embed.add_field(
            name=_("Rules: {family}", family=family),
            value=clip("\n".join(lines), 1024),
            inline=False,
        )
    embed.set_footer(text=_("Change a setting with /config <setting>, a rule with /config rule."))
    if email is not None:
        embed.add_field(
            name=_("Email invitations"),
            value=_(
                "On: nominees with an email address and no Discord account get an email "
                "with a link to the consent page."
            )
            if email
            else _(
                "Off: invitations go by Discord only (the bot has no SMTP server or consent "
                "pages configured: docs/email.md)."
            ),
            inline=False,
        )
    return embed

"""The "are you sure?" message of a heavy change, and what a form echo says."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import discord

from bot.i18n import _
from bot.render.embeds import WARN, clip
from bot.render.text import safe
from bot.services.text import visible


def confirm_embed(what: str, warnings: Sequence[str]) -> discord.Embed:
    """Return what will happen, the reasons to look twice, and what the buttons do."""
    # The services' own sentences (typed parts already quoted): only invisible characters go.
    lines = [visible(what)]
    if warnings:
        lines += ["", _("**Before you confirm:**"), *(f"⚠️ {visible(w)}" for w in warnings)]
    lines += ["", _("Confirm to go ahead, or Cancel: nothing changes until you confirm.")]
    return discord.Embed(
        title=_("Please confirm"), description=clip("\n".join(lines), 4096), colour=WARN
    )


def cancelled_text() -> str:
    """Return the message left in place of a cancelled request."""
    return _("Cancelled: nothing was changed.")


def echo_text(values: Mapping[str, str], labels: Mapping[str, str]) -> str:
    """Return what someone typed in a form, as a plain text file to keep."""
    parts = []
    for name, value in values.items():
        parts.append(f"{labels.get(name, name)}\n{'-' * 20}\n{value}\n")
    return "\n".join(parts)


def echo_embed(reason: str) -> discord.Embed:
    """Return why a form could not be taken, with the reassurance that the text is attached."""
    return discord.Embed(
        title=_("Your form could not be submitted"),
        description=clip(
            _(
                "{reason}\n\nNothing you typed is lost: it is attached as a text file"
                " (and *Open the form again* brings it back, where the form allows).",
                reason=safe(reason, 1500),
            ),
            4096,
        ),
        colour=WARN,
    )

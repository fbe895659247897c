"""What `/proposal import` answers once the import is done."""

from __future__ import annotations

import discord

from bot.i18n import _, ngettext
from bot.render.embeds import OK, clip
from bot.services.imports import ImportResult, source_name


def import_embed(result: ImportResult) -> discord.Embed:
    """Return what an import created and what it left as it was."""
    lines = []
    if result.proposals and result.first is not None and result.last is not None:
        lines.append(
            ngettext(
                "{n} proposal imported: {first} to {last}.",
                "{n} proposals imported: {first} to {last}.",
                result.proposals,
                first=f"#{result.first}",
                last=f"#{result.last}",
            )
        )
        lines.append(
            ngettext(
                "{n} new person, never linked to a Discord account: link them with "
                "`/person link` once they have confirmed who they are.",
                "{n} new people, never linked to a Discord account: link them with "
                "`/person link` once they have confirmed who they are.",
                result.people,
            )
        )
        lines.append(
            ngettext(
                "{n} speaker nominated on the imported proposals.",
                "{n} speakers nominated on the imported proposals.",
                result.participations,
            )
        )
    else:
        lines.append(_("Nothing new: everything in this file was imported before."))
    if result.skipped:
        lines.append(
            ngettext(
                "{n} proposal imported before was left unchanged.",
                "{n} proposals imported before were left unchanged.",
                result.skipped,
            )
        )
    return discord.Embed(
        title=_("Imported from {source}", source=source_name(result.source)),
        description=clip("\n".join(lines), 4096),
        colour=OK,
    )

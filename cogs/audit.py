"""`/audit`: the secretariat reads what changed, for one proposal or the whole server."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n import _
from bot.render.reviews import audit_embed
from cogs._common import Number, actor_of, bot_of, defer, send
from cogs._programme import proposal_choices


class AuditCog(commands.Cog):
    """The audit trail."""

    @app_commands.command(
        name="audit",
        description="Recent changes: who did what, when (secretariat)",
        extras={"audience": "secretariat"},
    )
    @app_commands.describe(proposal="Only this proposal's events")
    @app_commands.autocomplete(proposal=proposal_choices)
    @app_commands.guild_only()
    async def audit(self, interaction: discord.Interaction, proposal: Number | None = None) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        events = await bot_of(interaction).services.audit.recent(actor, proposal_number=proposal)
        if proposal:
            title = _("Audit: proposal #{number}", number=proposal)
        else:
            title = _("Audit: recent changes")
        await send(interaction, embed=audit_embed(events, title))


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(AuditCog())

"""The balance section of the digest, as a channel may see it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import N_, _
from bot.services.balance.judgement import line_of
from bot.services.balance.reports import make_report, redact
from bot.services.balance.scopes import mag_scope, programme_scope, programme_selection
from bot.services.config import GuildSettings
from bot.services.outbox import DigestSection
from bot.services.text import Line
from bot.services.visibility import min_count
from storage.balance import (
    member_counts,
    seat_counts,
)


async def balance_digest_section(
    session: AsyncSession,
    guild_id: int,
    since: datetime,
    until: datetime,
    settings: GuildSettings,
) -> DigestSection | None:
    """Return the current balance warnings of the programme and the MAG (None: there are none).

    The digest goes to a channel: it is redacted as for anyone but the
    secretariat, whoever can read that channel.
    """
    least = min_count(settings.rules)
    programme = make_report(
        (await seat_counts(session, guild_id=guild_id, selections=[programme_selection()]))[0],
        programme_scope(),
        settings.rules,
    )
    mag = make_report(
        await member_counts(session, guild_id=guild_id),
        mag_scope(),
        settings.rules,
        dimensions=("stakeholder_group", "region", "gender"),
    )
    lines: list[Line] = [
        line_of(text, warning=(w.line,) if isinstance(w.line, str) else w.line)
        for text, report in (
            (N_("Programme: {warning}."), redact(programme, least)),
            (N_("MAG: {warning}."), redact(mag, least)),
        )
        for w in report.warnings
    ]
    if not lines:
        return None
    lines.append(_("Details and charts: /balance programme, /balance mag."))
    return DigestSection(name="balance", title=_("Balance warnings"), lines=tuple(lines), order=40)

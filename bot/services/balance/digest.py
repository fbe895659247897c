"""The balance section of the digest, as a channel may see it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.balance.reports import make_report, redact
from bot.services.balance.scopes import MAG_SCOPE, programme_scope, programme_selection
from bot.services.config import GuildSettings
from bot.services.outbox import DigestSection
from bot.services.text import Line
from bot.services.visibility import min_count
from storage.balance import (
    member_counts,
    seat_counts,
)


def _prefixed(before: str, line: Line, after: str) -> Line:
    parts = (line,) if isinstance(line, str) else line
    return (before, *parts, after)


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
        MAG_SCOPE,
        settings.rules,
        dimensions=("stakeholder_group", "region", "gender"),
    )
    lines: list[Line] = [
        _prefixed(f"{where}: ", w.line, ".")
        for where, report in (("Programme", redact(programme, least)), ("MAG", redact(mag, least)))
        for w in report.warnings
    ]
    if not lines:
        return None
    lines.append("Details and charts: /balance programme, /balance mag.")
    return DigestSection(name="balance", title="Balance warnings", lines=tuple(lines), order=40)

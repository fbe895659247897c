"""``/audit``: the secretariat reads the recent audit events, for one proposal or all."""

from __future__ import annotations

from typing import Final

from bot.errors import InvalidInput
from bot.services.auth import Actor, require_secretariat
from storage.audit import AuditEvent, recent_events
from storage.database import Database

MAX_EVENTS: Final = 25


class AuditService:
    """Read the audit trail."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def recent(
        self, actor: Actor, *, proposal_number: int | None = None, limit: int = MAX_EVENTS
    ) -> list[AuditEvent]:
        """Return the newest events first, optionally those about one proposal."""
        require_secretariat(actor)
        if proposal_number is not None and proposal_number < 1:
            raise InvalidInput("Proposal numbers start at 1.")
        target = None if proposal_number is None else f"proposal:{proposal_number}"
        async with self._db.read() as session:
            return await recent_events(
                session,
                guild_id=actor.guild_id,
                target=target,
                limit=max(1, min(limit, MAX_EVENTS)),
            )

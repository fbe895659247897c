"""``/audit``: the secretariat reads the recent audit events, for one proposal or all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from bot.errors import InvalidInput
from bot.i18n import _
from bot.services.auth import Actor, require_secretariat
from storage.audit import AuditEvent, recent_events
from storage.database import Database

MAX_EVENTS: Final = 25


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit event as the secretariat reads it."""

    at: datetime
    actor_id: int | None
    action: str
    target: str
    before: Any
    after: Any
    note: str | None


def entry_of(event: AuditEvent) -> AuditEntry:
    """Return how a stored audit event is shown."""
    return AuditEntry(
        at=event.created_at,
        actor_id=event.actor_id,
        action=event.action,
        target=event.target or "",
        before=event.before,
        after=event.after,
        note=event.note,
    )


class AuditService:
    """Read the audit trail."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def recent(
        self, actor: Actor, *, proposal_number: int | None = None, limit: int = MAX_EVENTS
    ) -> list[AuditEntry]:
        """Return the newest events first, optionally those about one proposal."""
        require_secretariat(actor)
        if proposal_number is not None and proposal_number < 1:
            raise InvalidInput(_("Proposal numbers start at 1."))
        target = None if proposal_number is None else f"proposal:{proposal_number}"
        async with self._db.read() as session:
            events = await recent_events(
                session,
                guild_id=actor.guild_id,
                target=target,
                limit=max(1, min(limit, MAX_EVENTS)),
            )
        return [entry_of(e) for e in events]

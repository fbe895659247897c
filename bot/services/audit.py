"""``/audit``: the secretariat reads the recent audit events, for one proposal or all."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from bot.errors import InvalidInput
from bot.i18n import _
from bot.services.auth import Actor, require_secretariat
from bot.services.config import ConfigService
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
    hidden_actor: bool = False  # a reviewer the server keeps unnamed


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


# What a reviewer does themselves: unnamed when the server keeps reviewers unnamed.
REVIEWER_ACTIONS = frozenset(
    {"review.score", "review.conflict", "review.withdraw_score", "review.withdraw_conflict"}
)


class AuditService:
    """Read the audit trail."""

    def __init__(self, db: Database, config: ConfigService | None = None) -> None:
        self._db = db
        self._config = config

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
        entries = [entry_of(e) for e in events]
        if self._config is not None:
            settings = await self._config.get(actor.guild_id)
            if not settings.rules.get("reviews.name_reviewers", True):
                # Unnamed reviewers stay unnamed here too: who scored is the rule's to hide.
                entries = [
                    dataclasses.replace(e, actor_id=None, hidden_actor=True)
                    if e.action in REVIEWER_ACTIONS
                    else e
                    for e in entries
                ]
        return entries

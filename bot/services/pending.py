"""Requests that wait for a button: "are you sure?" confirmations, and drafts of typed forms.

A heavy change (rejecting a proposal, forgetting a person, a bulk move) is
asked for first, then confirmed with a button. The request is stored as a
``PendingAction`` (what was asked, by whom) and its button carries only the
row's id and a random token, so the button still works after a restart and
cannot be guessed. Taking an action checks that it is the same person in the
same server, that it has not expired and was not used: a request runs at
most once. A form whose text could not be accepted is kept the same way, so
the person can open it again with what they typed.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from bot.errors import Conflict, NotFound, PermissionDenied
from bot.i18n import _
from bot.services.auth import Actor
from storage.database import Database
from storage.pending import PendingAction, add_pending, get_pending, purge_pending

# How long a confirmation waits for its button; a draft stays longer.
CONFIRM_FOR: Final = timedelta(minutes=30)
DRAFT_FOR: Final = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Pending:
    """A stored request: its id and token (for the button), kind and arguments."""

    id: int
    token: str
    kind: str
    payload: Mapping[str, Any]


class PendingService:
    """Store requests that wait for a button, and take them exactly once."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock

    async def ask(
        self, actor: Actor, kind: str, payload: Mapping[str, Any], *, lasts: timedelta = CONFIRM_FOR
    ) -> Pending:
        """Store a request of ``actor``'s that their button will run."""
        now = self._clock()
        async with self._db.write() as session:
            await purge_pending(session, before=now - DRAFT_FOR)
            action = await add_pending(
                session,
                action=PendingAction(
                    guild_id=actor.guild_id,
                    user_id=actor.user_id,
                    kind=kind,
                    token=secrets.token_urlsafe(9),
                    payload=dict(payload),
                    created_at=now,
                    expires_at=now + lasts,
                ),
            )
        assert action.id is not None
        return Pending(action.id, action.token, action.kind, action.payload)

    async def take(
        self, *, guild_id: int | None, user_id: int, action_id: int, token: str, keep: bool = False
    ) -> Pending:
        """Return the request behind a button and mark it used (``keep``: a draft, reusable).

        Refused when the token is wrong, it is someone else's, it expired or
        it was already used.
        """
        now = self._clock()
        async with self._db.write() as session:
            action = await get_pending(session, action_id=action_id, for_update=True)
            if action is None or not secrets.compare_digest(action.token, token):
                raise NotFound(_("This button is no longer valid. Run the command again."))
            if action.user_id != user_id or (guild_id is not None and action.guild_id != guild_id):
                raise PermissionDenied(_("This button is for the person who asked."))
            if action.used_at is not None:
                raise Conflict(_("This was already done (or cancelled): nothing more happens."))
            if action.expires_at <= now:
                raise Conflict(_("This request expired. Run the command again."))
            if not keep:
                action.used_at = now
        return Pending(action.id or 0, action.token, action.kind, dict(action.payload))

    async def peek(self, *, user_id: int, action_id: int, token: str) -> Pending | None:
        """Return a stored draft without using it (None: gone or not theirs)."""
        async with self._db.read() as session:
            action = await get_pending(session, action_id=action_id)
        if (
            action is None
            or not secrets.compare_digest(action.token, token)
            or action.user_id != user_id
            or action.used_at is not None
            or action.expires_at <= self._clock()
        ):
            return None
        return Pending(action.id or 0, action.token, action.kind, dict(action.payload))

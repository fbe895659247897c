"""What each ``/balance`` command counts: its selection and scope, its options checked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from bot.errors import InvalidInput, PermissionDenied
from bot.services.auth import Actor
from bot.services.balance.judgement import Scope
from bot.services.balance.metrics import ALL, PROGRAMME_STATUS
from bot.services.taxonomy import (
    KINDS,
    PARTICIPATION_STATUSES,
    PROPOSAL_STATUSES,
    kind_label,
    match_key,
)
from bot.services.text import quoted
from storage.balance import (
    Selection,
)


def programme_selection(
    status: str | None = PROGRAMME_STATUS, kind: str | None = None
) -> Selection:
    """Return the programme's seats: confirmed participations on proposals with ``status``."""
    return Selection(
        participation_statuses=("confirmed",),
        proposal_statuses=None if status is None else (status,),
        kinds=None if kind is None else (kind,),
    )


def programme_scope(status: str | None = PROGRAMME_STATUS, kind: str | None = None) -> Scope:
    """Return the wording of the programme count."""
    which = "all" if status is None else status.replace("_", " ")
    where = f" on {which} proposals" + (f" ({kind_label(kind)})" if kind else "")
    return Scope(
        kind="programme",
        title=f"Programme: confirmed seats{where}",
        seats_phrase=f"confirmed seats{where}",
        who="confirmed panellist",
        where=where,
    )


NOMINATION_PHRASES: Final[Mapping[str, tuple[str, str]]] = {
    # status -> (seats phrase, who)
    "nominated": ("nominations still open", "open nomination"),
    "invited": ("invited nominations", "invited panellist"),
    "confirmed": ("confirmed seats", "confirmed panellist"),
    "declined": ("declined nominations", "declined nominee"),
    "withdrawn": ("withdrawn nominations", "withdrawn nominee"),
}


def panellists_scope(status: str | None) -> Scope:
    """Return the wording of a count of nominations."""
    phrase, who = NOMINATION_PHRASES.get(status or "", ("nominations", "nominee"))
    title = "Nominations" + (f": {status}" if status else ": every status")
    judged = status not in ("declined", "withdrawn")
    return Scope(kind="panellists", title=title, seats_phrase=phrase, who=who, judged=judged)


MAG_SCOPE: Final = Scope(
    kind="mag", title="MAG composition", seats_phrase="MAG seats", who="MAG member"
)


def check_proposal_status(status: str | None) -> str | None:
    """Return a proposal status, None for ``all``, or raise InvalidInput."""
    if status is None:
        return PROGRAMME_STATUS
    key = status.strip().lower().replace(" ", "_")
    if key == ALL:
        return None
    if key not in PROPOSAL_STATUSES:
        raise InvalidInput(
            f"{quoted(status, 30)} is not a proposal status. "
            f"Use one of: {', '.join(PROPOSAL_STATUSES)}, or all."
        )
    return key


def check_nomination_status(status: str | None) -> str | None:
    """Return a participation status, None for all, or raise InvalidInput."""
    if status is None or status.strip().lower() == ALL:
        return None
    key = status.strip().lower()
    if key not in PARTICIPATION_STATUSES:
        raise InvalidInput(
            f"{quoted(status, 30)} is not a nomination status. "
            f"Use one of: {', '.join(PARTICIPATION_STATUSES)}, or all."
        )
    return key


def check_kind(kind: str | None) -> str | None:
    """Return a session kind's key, None for all kinds, or raise InvalidInput."""
    if kind is None or kind.strip().lower() == ALL:
        return None
    return match_key(kind, KINDS, "session kind")


def require_viewer(actor: Actor) -> None:
    """Refuse unless the actor is a MAG member or the secretariat (or an admin)."""
    if not (actor.is_mag or actor.can_act_as_secretariat):
        raise PermissionDenied(
            "Only MAG members and the secretariat can see balance statistics. "
            "Ask an admin for the MAG role."
        )

"""What each ``/balance`` command counts: its selection and scope, its options checked."""

from __future__ import annotations

from typing import Final

from bot.errors import InvalidInput, PermissionDenied
from bot.i18n import N_, _, pgettext
from bot.services.auth import Actor
from bot.services.balance.judgement import Scope
from bot.services.balance.metrics import ALL, PROGRAMME_STATUS, PROGRAMME_STATUSES
from bot.services.taxonomy import (
    KINDS,
    PARTICIPATION_STATUSES,
    PROPOSAL_STATUSES,
    kind_label,
    match_key,
    participation_label,
)
from bot.services.text import quoted
from storage.balance import (
    Selection,
)


def programme_selection(
    status: str | None = PROGRAMME_STATUS, kind: str | None = None
) -> Selection:
    """Return the programme's seats: confirmed participations on proposals with ``status``.

    Accepted counts those accepted on conditions too: they are in the programme
    unless the conditions are not met.
    """
    statuses: tuple[str, ...] | None = None
    if status is not None:
        statuses = PROGRAMME_STATUSES if status == PROGRAMME_STATUS else (status,)
    return Selection(
        participation_statuses=("confirmed",),
        proposal_statuses=statuses,
        kinds=None if kind is None else (kind,),
    )


def programme_scope(status: str | None = PROGRAMME_STATUS, kind: str | None = None) -> Scope:
    """Return the wording of the programme count, in the current language."""
    if status is None:
        where = _("on all proposals")
    else:
        where = _("on {status} proposals", status=_(status.replace("_", " ")))
    if kind:
        where = _("{proposals} ({kind})", proposals=where, kind=_(kind_label(kind)))
    return Scope(
        kind="programme",
        title=_("Programme: confirmed seats {where}", where=where),
        seats_phrase=_("confirmed seats {where}", where=where),
        who=pgettext("nobody from", "confirmed panellist"),
        where=f" {where}",
    )


def _nomination_phrases(status: str | None) -> tuple[str, str]:
    """Return the seats phrase and the "who" of nominations with ``status``."""
    if status == "nominated":
        return _("nominations still open"), pgettext("nobody from", "open nomination")
    if status == "invited":
        return _("invited nominations"), pgettext("nobody from", "invited panellist")
    if status == "confirmed":
        return _("confirmed seats"), pgettext("nobody from", "confirmed panellist")
    if status == "declined":
        return _("declined nominations"), pgettext("nobody from", "declined nominee")
    if status == "withdrawn":
        return _("withdrawn nominations"), pgettext("nobody from", "withdrawn nominee")
    return _("nominations"), pgettext("nobody from", "nominee")


def panellists_scope(status: str | None) -> Scope:
    """Return the wording of a count of nominations, in the current language."""
    phrase, who = _nomination_phrases(status)
    if status:
        title = _("Nominations: {status}", status=participation_label(status))
    else:
        title = _("Nominations: every status")
    judged = status not in ("declined", "withdrawn")
    return Scope(kind="panellists", title=title, seats_phrase=phrase, who=who, judged=judged)


def mag_scope() -> Scope:
    """Return the wording of the MAG's composition, in the current language."""
    return Scope(
        kind="mag",
        title=_("MAG composition"),
        seats_phrase=_("MAG seats"),
        who=pgettext("nobody from", "MAG member"),
    )


# The MAG scope in English (``mag_scope`` says it in the reader's language).
MAG_SCOPE: Final = Scope(
    kind="mag", title=N_("MAG composition"), seats_phrase=N_("MAG seats"), who=N_("MAG member")
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
            _(
                "{status} is not a proposal status. Use one of: {statuses}, or all.",
                status=quoted(status, 30),
                statuses=", ".join(PROPOSAL_STATUSES),
            )
        )
    return key


def check_nomination_status(status: str | None) -> str | None:
    """Return a participation status, None for all, or raise InvalidInput."""
    if status is None or status.strip().lower() == ALL:
        return None
    key = status.strip().lower()
    if key not in PARTICIPATION_STATUSES:
        raise InvalidInput(
            _(
                "{status} is not a nomination status. Use one of: {statuses}, or all.",
                status=quoted(status, 30),
                statuses=", ".join(PARTICIPATION_STATUSES),
            )
        )
    return key


def check_kind(kind: str | None) -> str | None:
    """Return a session kind's key, None for all kinds, or raise InvalidInput."""
    if kind is None or kind.strip().lower() == ALL:
        return None
    return match_key(kind, KINDS, _("session kind"))


def require_viewer(actor: Actor) -> None:
    """Refuse unless the actor is a MAG member or the secretariat (or an admin)."""
    if not (actor.is_mag or actor.can_act_as_secretariat):
        raise PermissionDenied(
            _(
                "Only MAG members and the secretariat can see balance statistics. "
                "Ask an admin for the MAG role."
            )
        )

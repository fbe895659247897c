"""Who is asking, and what they may do.

The cog layer builds an ``Actor`` from the interaction (user id, role ids,
whether they have Manage Server); the roles that make someone secretariat or
MAG are per-guild settings, so the flags are resolved here, in the services.
Discord's ``default_permissions`` is only a hint server admins can change:
every rule that matters is checked again here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.errors import PermissionDenied
from bot.i18n import _


@dataclass(frozen=True, slots=True)
class Actor:
    """A person acting in one guild, with what the guild's roles make them."""

    guild_id: int
    user_id: int
    is_admin: bool = False
    is_secretariat: bool = False
    is_mag: bool = False
    display_name: str = ""

    @property
    def can_act_as_secretariat(self) -> bool:
        """Admins may do whatever the secretariat may, so a new server works at once."""
        return self.is_admin or self.is_secretariat


def resolve_actor(
    *,
    guild_id: int,
    user_id: int,
    role_ids: Iterable[int],
    manage_guild: bool,
    mag_role_id: int | None,
    secretariat_role_id: int | None,
    display_name: str = "",
) -> Actor:
    """Return the Actor for a member with these roles under the guild's role settings."""
    roles = set(role_ids)
    return Actor(
        guild_id=guild_id,
        user_id=user_id,
        is_admin=manage_guild,
        is_secretariat=secretariat_role_id is not None and secretariat_role_id in roles,
        is_mag=mag_role_id is not None and mag_role_id in roles,
        display_name=display_name,
    )


def require_admin(actor: Actor) -> None:
    """Refuse unless the actor has Manage Server."""
    if not actor.is_admin:
        raise PermissionDenied(_("Only server admins (Manage Server permission) can do this."))


def require_secretariat(actor: Actor) -> None:
    """Refuse unless the actor is secretariat (or an admin)."""
    if not actor.can_act_as_secretariat:
        raise PermissionDenied(
            _("Only the secretariat can do this. Ask an admin to give you the secretariat role.")
        )


def require_mag(actor: Actor) -> None:
    """Refuse unless the actor holds the MAG role."""
    if not actor.is_mag:
        raise PermissionDenied(
            _("Only MAG members can do this. Ask an admin to give you the MAG role.")
        )

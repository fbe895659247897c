"""MAG members' profiles: who they are for composition balance and conflict checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from bot.errors import InvalidInput, NotFound, PermissionDenied
from bot.services.auth import Actor, require_mag
from bot.services.config import ConfigService
from bot.services.taxonomy import (
    GENDERS,
    REGIONS,
    affiliation_key,
    match,
    stakeholder_groups,
    tidy,
)
from storage.audit import record_event
from storage.database import Database
from storage.profiles import MagMember, get_member, get_or_create_member

MAX_AFFILIATION: Final = 150
CLEAR: Final = "-"


@dataclass(frozen=True)
class ProfileView:
    """A profile as this actor may see it."""

    member: MagMember
    private: bool  # gender may be shown (the member themselves, or the secretariat)


class ProfileService:
    """Set and show MAG member profiles."""

    def __init__(self, db: Database, clock: Callable[[], datetime], config: ConfigService) -> None:
        self._db = db
        self._clock = clock
        self._config = config

    async def set(
        self,
        actor: Actor,
        *,
        stakeholder_group: str,
        region: str,
        gender: str,
        affiliation: str | None = None,
    ) -> ProfileView:
        """Create or change the actor's own profile (``affiliation``: None keeps, ``-`` clears)."""
        require_mag(actor)
        settings = await self._config.get(actor.guild_id)
        values: dict[str, object] = {
            "stakeholder_group": match(
                stakeholder_group, stakeholder_groups(settings.rules), "stakeholder group"
            ),
            "region": match(region, REGIONS, "region"),
            "gender": match(gender, GENDERS, "gender"),
            "display_name": tidy(actor.display_name)[:100],
        }
        if affiliation is not None:
            cleaned = "" if affiliation.strip() == CLEAR else tidy(affiliation)
            if len(cleaned) > MAX_AFFILIATION:
                raise InvalidInput(
                    f"The affiliation can be at most {MAX_AFFILIATION} characters "
                    f"(yours has {len(cleaned)})."
                )
            values["affiliation"] = cleaned or None
            values["affiliation_key"] = affiliation_key(cleaned)
        now = self._clock()
        async with self._db.write() as session:
            member, created = await get_or_create_member(
                session,
                guild_id=actor.guild_id,
                user_id=actor.user_id,
                defaults={**values, "created_at": now, "updated_at": now},
            )
            before = {
                "stakeholder_group": member.stakeholder_group,
                "region": member.region,
                "affiliation": member.affiliation,
            }
            gender_changed = member.gender != values["gender"]
            for name, value in values.items():
                setattr(member, name, value)
            member.updated_at = now
            after = {
                "stakeholder_group": member.stakeholder_group,
                "region": member.region,
                "affiliation": member.affiliation,
            }
            if created or before != after or gender_changed:
                # Gender is personal data: the audit keeps only that it changed.
                await record_event(
                    session,
                    guild_id=actor.guild_id,
                    actor_id=actor.user_id,
                    action="profile.set",
                    target=f"profile:{actor.user_id}",
                    before=None if created else before,
                    after={**after, "gender_changed": gender_changed and not created},
                    at=now,
                )
        return ProfileView(member=member, private=True)

    async def show(self, actor: Actor, member_id: int | None = None) -> ProfileView:
        """Return a profile (by default one's own); gender only for its owner and secretariat."""
        user_id = actor.user_id if member_id is None else member_id
        own = user_id == actor.user_id
        if not (own or actor.is_mag or actor.can_act_as_secretariat):
            raise PermissionDenied("Only MAG members and the secretariat can see others' profiles.")
        async with self._db.read() as session:
            member = await get_member(session, guild_id=actor.guild_id, user_id=user_id)
        if member is None:
            who = "You have" if own else "This member has"
            raise NotFound(f"{who} no profile yet. MAG members set theirs with `/profile set`.")
        return ProfileView(member=member, private=own or actor.can_act_as_secretariat)

"""MAG members' profiles: who they are for composition balance and conflict checks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from bot.errors import InvalidInput, NotFound, PermissionDenied
from bot.i18n import N_, _
from bot.services.auth import Actor, require_mag
from bot.services.config import ConfigService, check_timezone
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
from storage.profiles import (
    MagMember,
    get_member,
    get_or_create_member,
    list_members,
    set_role_holders,
)

MAX_AFFILIATION: Final = 150
CLEAR: Final = "-"


@dataclass(frozen=True)
class ProfileView:
    """A profile as this actor may see it (``gender`` and ``timezone`` None for anyone but its
    owner and the secretariat)."""

    user_id: int
    display_name: str
    stakeholder_group: str
    region: str
    affiliation: str | None
    gender: str | None
    has_role: bool
    timezone: str | None = None


def profile_view(member: MagMember, *, private: bool) -> ProfileView:
    """Return a stored profile as shown; gender and time zone only when ``private``."""
    return ProfileView(
        user_id=member.user_id,
        display_name=member.display_name,
        stakeholder_group=member.stakeholder_group,
        region=member.region,
        affiliation=member.affiliation,
        gender=member.gender if private else None,
        has_role=member.has_role,
        timezone=member.timezone if private else None,
    )


class ProfileService:
    """Set and show MAG member profiles; keep track of who still holds the MAG role."""

    def __init__(self, db: Database, clock: Callable[[], datetime], config: ConfigService) -> None:
        self._db = db
        self._clock = clock
        self._config = config
        # (guild, user) -> holds the MAG role, as last recorded (None: no profile).
        self._seen: dict[tuple[int, int], bool | None] = {}

    async def observe(self, actor: Actor) -> None:
        """Record whether a member with a profile still holds the MAG role (every interaction).

        Cheap: the answer per member is cached, and the database is written
        only when it changes. Members who never interact are checked by
        ``record_roles`` (the bot asks Discord before assigning or counting).
        """
        if not (await self._config.get(actor.guild_id)).roles["mag"]:
            return
        key = (actor.guild_id, actor.user_id)
        if key not in self._seen:
            async with self._db.read() as session:
                member = await get_member(session, guild_id=actor.guild_id, user_id=actor.user_id)
            self._seen[key] = None if member is None else member.has_role
        known = self._seen[key]
        if known is None or known == actor.is_mag:
            return
        await self.record_roles(actor.guild_id, {actor.user_id: actor.is_mag})

    async def to_check(self, guild_id: int, *, older_than: timedelta) -> list[int]:
        """Return the profiles whose MAG role was not checked within ``older_than``."""
        cutoff = self._clock() - older_than
        async with self._db.read() as session:
            members = await list_members(session, guild_id=guild_id)
        return [
            m.user_id for m in members if m.role_checked_at is None or m.role_checked_at < cutoff
        ]

    async def record_roles(self, guild_id: int, holders: Mapping[int, bool]) -> int:
        """Record who among the profiled members holds the MAG role; return how many changed."""
        if not holders:
            return 0
        now = self._clock()
        async with self._db.write() as session:
            changed = await set_role_holders(session, guild_id=guild_id, holders=holders, at=now)
        for user_id, has in holders.items():
            if (guild_id, user_id) in self._seen:
                self._seen[(guild_id, user_id)] = has
        return changed

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
                stakeholder_group, stakeholder_groups(settings.rules), N_("stakeholder group")
            ),
            "region": match(region, REGIONS, N_("region")),
            "gender": match(gender, GENDERS, N_("gender")),
            "display_name": tidy(actor.display_name)[:100],
        }
        if affiliation is not None:
            cleaned = "" if affiliation.strip() == CLEAR else tidy(affiliation)
            if len(cleaned) > MAX_AFFILIATION:
                raise InvalidInput(
                    _(
                        "The affiliation can be at most {limit} characters (yours has {count}).",
                        limit=MAX_AFFILIATION,
                        count=len(cleaned),
                    )
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
            member.has_role = True  # they just acted as a MAG member
            member.role_checked_at = now
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
        self._seen[(actor.guild_id, actor.user_id)] = True
        return profile_view(member, private=True)

    async def set_timezone(self, actor: Actor, zone: str) -> ProfileView:
        """Set the actor's own time zone (IANA, checked with zoneinfo), for fair meeting hours."""
        require_mag(actor)
        name = check_timezone(zone)
        now = self._clock()
        async with self._db.write() as session:
            member = await get_member(session, guild_id=actor.guild_id, user_id=actor.user_id)
            if member is None:
                raise NotFound(
                    _("Set your profile with `/profile set` first, then your time zone.")
                )
            before = member.timezone
            member.timezone = name
            member.updated_at = now
            session.add(member)
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="profile.timezone",
                target=f"profile:{actor.user_id}",
                before={"timezone": before},
                after={"timezone": name},
                at=now,
            )
        return profile_view(member, private=True)

    async def show(self, actor: Actor, member_id: int | None = None) -> ProfileView:
        """Return a profile (by default one's own); gender and time zone only for its owner and
        the secretariat."""
        user_id = actor.user_id if member_id is None else member_id
        own = user_id == actor.user_id
        if not (own or actor.is_mag or actor.can_act_as_secretariat):
            raise PermissionDenied(
                _("Only MAG members and the secretariat can see others' profiles.")
            )
        async with self._db.read() as session:
            member = await get_member(session, guild_id=actor.guild_id, user_id=user_id)
        if member is None:
            if own:
                raise NotFound(
                    _("You have no profile yet. MAG members set theirs with `/profile set`.")
                )
            raise NotFound(
                _("This member has no profile yet. MAG members set theirs with `/profile set`.")
            )
        return profile_view(member, private=own or actor.can_act_as_secretariat)

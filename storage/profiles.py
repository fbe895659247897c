"""MAG members' own profiles: stakeholder group, region, gender, affiliation.

The profile feeds composition balance and conflict checks: a member whose
affiliation matches a proposal's proposer or organizers is conflicted on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel, col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.types import DiscordId, UTCDateTime, utcnow
from storage.upsert import insert_for


class MagMember(SQLModel, table=True):
    """One MAG member's profile in one guild."""

    __tablename__ = "mag_member"
    __table_args__ = (
        UniqueConstraint("guild_id", "user_id", name="uq_mag_member_guild_user"),
        Index("ix_mag_member_guild_affiliation", "guild_id", "affiliation_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    guild_id: int = Field(sa_type=DiscordId)
    user_id: int = Field(sa_type=DiscordId)
    display_name: str = Field(default="", max_length=100)
    stakeholder_group: str = Field(max_length=100)
    region: str = Field(max_length=100)
    gender: str = Field(max_length=32)
    affiliation: str | None = Field(default=None, max_length=300)
    affiliation_key: str | None = Field(default=None, max_length=64)
    # Their IANA time zone, for fair meeting hours (issue 15); None: not given.
    timezone: str | None = Field(default=None, max_length=64)
    # Whether they still hold the MAG role, as last seen (an interaction, or a
    # check of the server's member list); the profile stays when it goes.
    has_role: bool = Field(default=True)
    role_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


async def get_or_create_member(
    session: AsyncSession, *, guild_id: int, user_id: int, defaults: dict[str, object]
) -> tuple[MagMember, bool]:
    """Return the member's profile, locked for this transaction, and whether it is new."""
    inserted = (
        await session.exec(
            insert_for(session, MagMember)
            .values(guild_id=guild_id, user_id=user_id, **defaults)
            .on_conflict_do_nothing(index_elements=["guild_id", "user_id"])
            .returning(col(MagMember.id))
        )
    ).scalar_one_or_none()
    query = (
        select(MagMember)
        .where(MagMember.guild_id == guild_id, MagMember.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.exec(query)).one(), inserted is not None


async def get_member(session: AsyncSession, *, guild_id: int, user_id: int) -> MagMember | None:
    """Return the member's profile, or None when they never set one."""
    query = select(MagMember).where(MagMember.guild_id == guild_id, MagMember.user_id == user_id)
    return (await session.exec(query)).first()


async def list_members(
    session: AsyncSession, *, guild_id: int, current_only: bool = False
) -> list[MagMember]:
    """Return the guild's profiles by user id (``current_only``: those still holding the role)."""
    query = select(MagMember).where(MagMember.guild_id == guild_id)
    if current_only:
        query = query.where(col(MagMember.has_role).is_(True))
    return list((await session.exec(query.order_by(col(MagMember.user_id)))).all())


async def set_role_holders(
    session: AsyncSession, *, guild_id: int, holders: Mapping[int, bool], at: datetime
) -> int:
    """Record who among the profiles holds the MAG role; return how many changed."""
    changed = 0
    for value in (True, False):
        ids = sorted(uid for uid, has in holders.items() if has is value)
        if not ids:
            continue
        result = await session.exec(
            update(MagMember)
            .where(
                col(MagMember.guild_id) == guild_id,
                col(MagMember.user_id).in_(ids),
                col(MagMember.has_role).is_not(value),
            )
            .values(has_role=value, role_checked_at=at)
        )
        changed += int(result.rowcount or 0)
        await session.exec(
            update(MagMember)
            .where(col(MagMember.guild_id) == guild_id, col(MagMember.user_id).in_(ids))
            .values(role_checked_at=at)
        )
    return changed

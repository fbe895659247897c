"""Rows for the balance tests, written straight to storage (no service rules in the way)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from storage.database import Database
from storage.panellists import Participation, Person
from storage.proposals import Proposal

GUILD = 555555555555555555
OTHER = 666666666666666666
_numbers = itertools.count(1)
_guilds = itertools.count(700000000000000000)


@dataclass(frozen=True)
class P:
    """A person as a test describes them."""

    name: str
    group: str = "Civil Society"
    region: str = "African Group"
    gender: str = "Female"
    developing: bool | None = None
    first_time: bool | None = None
    youth: bool | None = None


async def proposal(
    db: Database, *, guild_id: int = GUILD, status: str = "accepted", kind: str = "workshop"
) -> int:
    async with db.write() as session:
        row = Proposal(
            guild_id=guild_id,
            number=next(_numbers),
            kind=kind,
            status=status,
            title="t",
            description="d",
            policy_questions="q",
            expected_outcomes="o",
            hybrid_plan="h",
            format="Panel",
            duration=60,
            subtheme="s",
            proposer_id=1,
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id


async def person(db: Database, p: P, *, guild_id: int = GUILD) -> int:
    async with db.write() as session:
        row = Person(
            guild_id=guild_id,
            key=f"{p.name}-{guild_id}",
            name=p.name,
            stakeholder_group=p.group,
            region=p.region,
            gender=p.gender,
            developing_country=p.developing,
            first_time=p.first_time,
            youth=p.youth,
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id


async def seat(
    db: Database,
    proposal_id: int,
    person_id: int,
    *,
    guild_id: int = GUILD,
    role: str = "speaker",
    status: str = "confirmed",
    attendance: str = "onsite",
) -> int:
    async with db.write() as session:
        row = Participation(
            guild_id=guild_id,
            proposal_id=proposal_id,
            person_id=person_id,
            role=role,
            attendance=attendance,
            status=status,
        )
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id


def next_guild() -> int:
    """Return a guild id no other test uses (each hypothesis example gets its own)."""
    return next(_guilds)

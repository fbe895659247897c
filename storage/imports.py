"""Bulk reads and writes of an imported call: proposals, people and their participations.

An import writes thousands of rows in one transaction, so these functions
insert in chunks with plain ``INSERT`` statements (no ORM objects) and read
back ids by (source, source id). Records are found again by their source and
source id (``Proposal.source``/``source_id``, ``Person.source``/``source_id``):
a second import of the same file finds everything and adds nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterator, Sequence
from typing import Any, Final

from sqlalchemy import insert, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.panellists import Participation, Person
from storage.proposals import Proposal, ProposalCounter, allocate_number
from storage.types import lower_text
from storage.upsert import insert_for

#: Rows per statement: small enough to keep each step short, large enough to be quick.
CHUNK: Final = 500


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def proposals_by_source(
    session: AsyncSession, *, guild_id: int, source: str, source_ids: Collection[str]
) -> dict[str, int]:
    """Return {source id: proposal number} of the guild's proposals already imported."""
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(source_ids)):
        query = select(Proposal.source_id, Proposal.number).where(
            Proposal.guild_id == guild_id,
            Proposal.source == source,
            col(Proposal.source_id).in_(chunk),
        )
        for sid, number in (await session.exec(query)).all():
            if sid is not None:
                found[sid] = number
    return found


async def proposals_by_title(
    session: AsyncSession, *, guild_id: int, titles: Collection[str]
) -> dict[str, int]:
    """Return {lower-cased title: number} of the guild's proposals with one of these titles."""
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(titles)):
        query = select(lower_text(Proposal.title), Proposal.number).where(
            Proposal.guild_id == guild_id, lower_text(Proposal.title).in_(chunk)
        )
        for title, number in (await session.exec(query)).all():
            found.setdefault(title, number)
    return found


async def people_by_source(
    session: AsyncSession, *, guild_id: int, source: str, source_ids: Collection[str]
) -> dict[str, int]:
    """Return {source id: person id} of the guild's people already imported from ``source``."""
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(source_ids)):
        query = select(Person.source_id, Person.id).where(
            Person.guild_id == guild_id, Person.source == source, col(Person.source_id).in_(chunk)
        )
        for sid, pid in (await session.exec(query)).all():
            if sid is not None and pid is not None:
                found[sid] = pid
    return found


async def people_by_key(
    session: AsyncSession, *, guild_id: int, keys: Collection[str]
) -> dict[str, int]:
    """Return {key: person id} of the guild's people with one of these keys."""
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(keys)):
        query = select(Person.key, Person.id).where(
            Person.guild_id == guild_id, col(Person.key).in_(chunk)
        )
        for key, pid in (await session.exec(query)).all():
            if pid is not None:
                found[key] = pid
    return found


async def lock_numbers(session: AsyncSession, *, guild_id: int) -> None:
    """Hold the guild's proposal counter until the transaction ends.

    Taken first by an import, so that two imports at once run one after the
    other: the second then sees what the first wrote and adds nothing twice.
    """
    await session.exec(
        insert_for(session, ProposalCounter)
        .values(guild_id=guild_id, last_number=0)
        .on_conflict_do_nothing(index_elements=["guild_id"])
    )
    await session.exec(
        update(ProposalCounter)
        .where(col(ProposalCounter.guild_id) == guild_id)
        .values(last_number=col(ProposalCounter.last_number))
    )


async def allocate_numbers(session: AsyncSession, *, guild_id: int, count: int) -> int:
    """Reserve ``count`` consecutive proposal numbers; return the first."""
    first = await allocate_number(session, guild_id=guild_id)
    if count > 1:
        await session.exec(
            update(ProposalCounter)
            .where(col(ProposalCounter.guild_id) == guild_id)
            .values(last_number=col(ProposalCounter.last_number) + (count - 1))
        )
    return first


async def insert_proposals(session: AsyncSession, *, rows: Sequence[dict[str, Any]]) -> None:
    """Insert proposals (complete column values), in chunks."""
    for chunk in _chunks(rows):
        await session.exec(insert(Proposal), params=list(chunk))
        await asyncio.sleep(0)


async def insert_people(session: AsyncSession, *, rows: Sequence[dict[str, Any]]) -> None:
    """Insert people; a key that exists already (a race) is left alone."""
    for chunk in _chunks(rows):
        statement = insert_for(session, Person).on_conflict_do_nothing(
            index_elements=["guild_id", "key"]
        )
        await session.exec(statement, params=list(chunk))
        await asyncio.sleep(0)


async def insert_participations(session: AsyncSession, *, rows: Sequence[dict[str, Any]]) -> None:
    """Insert participations; one that exists (same person, role and proposal) is left alone."""
    for chunk in _chunks(rows):
        statement = insert_for(session, Participation).on_conflict_do_nothing(
            index_elements=["proposal_id", "person_id", "role"]
        )
        await session.exec(statement, params=list(chunk))
        await asyncio.sleep(0)


async def proposal_ids_by_number(
    session: AsyncSession, *, guild_id: int, first: int, last: int
) -> dict[int, int]:
    """Return {number: id} of the guild's proposals numbered ``first`` to ``last``."""
    query = select(Proposal.number, Proposal.id).where(
        Proposal.guild_id == guild_id, Proposal.number >= first, Proposal.number <= last
    )
    return {n: i for n, i in (await session.exec(query)).all() if i is not None}

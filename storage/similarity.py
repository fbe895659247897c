"""The texts merge suggestions compare: one Core query, no ORM rows built."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select as core_select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.proposals import Proposal


@dataclass(frozen=True, slots=True)
class ProposalTextRow:
    """A proposal's number, kind, status, subtheme and the three texts that are compared."""

    id: int
    number: int
    kind: str
    status: str
    subtheme: str
    title: str
    description: str
    policy_questions: str


async def proposal_texts(
    session: AsyncSession,
    *,
    guild_id: int,
    statuses: Collection[str],
    subtheme: str | None = None,
) -> list[ProposalTextRow]:
    """Return the guild's proposals in ``statuses`` (and ``subtheme``), texts included."""
    # A Core statement on the session's connection: 2,000 rows, no ORM objects.
    proposal = Proposal.__table__  # type: ignore[attr-defined]
    fields = (
        "id", "number", "kind", "status", "subtheme", "title", "description", "policy_questions",
    )  # fmt: skip
    query = core_select(*(proposal.c[name] for name in fields)).where(
        proposal.c.guild_id == guild_id, proposal.c.status.in_(list(statuses))
    )
    if subtheme is not None:
        query = query.where(proposal.c.subtheme == subtheme)
    connection = await session.connection()
    rows = await connection.execute(query.order_by(proposal.c.number))
    return [ProposalTextRow(*row) for row in rows]

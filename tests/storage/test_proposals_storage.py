"""Proposal storage on both backends: numbering, uniqueness, score histograms."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from storage.database import Database
from storage.proposals import Proposal, add_proposal, allocate_number
from storage.reviews import count_scores, save_review, score_histograms

NOW = datetime(2027, 3, 1, tzinfo=UTC)
GUILD = 1_300_000_000_000_000_123


def _proposal(guild_id: int, number: int) -> Proposal:
    return Proposal(
        guild_id=guild_id,
        number=number,
        title="t",
        description="d",
        policy_questions="p",
        expected_outcomes="e",
        hybrid_plan="h",
        format="Panel",
        duration=60,
        subtheme="AI",
        proposer_id=GUILD + 1,
    )


async def test_numbers_are_per_guild_and_never_repeat(db: Database) -> None:
    async def take(guild_id: int) -> int:
        async with db.write() as session:
            number = await allocate_number(session, guild_id=guild_id)
            await asyncio.sleep(0)  # let the others try at the same time
            return number

    numbers = await asyncio.gather(*(take(GUILD) for _ in range(12)), take(GUILD + 5))
    assert sorted(numbers[:12]) == list(range(1, 13)) and numbers[12] == 1


async def test_a_rolled_back_number_is_handed_out_again(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.write() as session:
            assert await allocate_number(session, guild_id=GUILD) == 1
            raise RuntimeError("refused")
    async with db.write() as session:
        assert await allocate_number(session, guild_id=GUILD) == 1


async def test_a_number_is_unique_within_a_guild(db: Database) -> None:
    async with db.write() as session:
        await add_proposal(session, proposal=_proposal(GUILD, 1))
        await add_proposal(session, proposal=_proposal(GUILD + 1, 1))
    with pytest.raises(IntegrityError):
        async with db.write() as session:
            await add_proposal(session, proposal=_proposal(GUILD, 1))


async def test_histograms_of_no_reviews(db: Database) -> None:
    async with db.read() as session:
        assert await score_histograms(session, guild_id=GUILD) == {}


async def test_the_tally_follows_the_reviews(db: Database) -> None:
    """Scores added and replaced, some at the same time: the tally matches a count."""
    rnd = random.Random(5)
    async with db.write() as session:
        for number in (1, 2, 3):
            await add_proposal(session, proposal=_proposal(GUILD, number))

    async def score(member: int, proposal_id: int) -> None:
        async with db.write() as session:
            await save_review(
                session,
                guild_id=GUILD,
                proposal_id=proposal_id,
                member_id=member,
                score=rnd.randint(1, 5),
                comment=None,
                merge=rnd.random() < 0.3,
                at=NOW,
            )

    for _ in range(4):
        await asyncio.gather(*(score(rnd.randint(1, 8), rnd.randint(1, 3)) for _ in range(12)))
    async with db.read() as session:
        tally = await score_histograms(session, guild_id=GUILD)
        counted = await count_scores(session, guild_id=GUILD)
    assert tally == counted and sum(h.total for h in tally.values()) > 0

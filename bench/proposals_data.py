"""A seeded data set for the proposals benchmark: one guild of a busy cycle.

2,000 proposals, 12,000 participations (six seats each) of about 4,000
people, 40 MAG members with profiles, 16,000 reviews (eight per proposal),
16,000 reviewer assignments and a few hundred declared conflicts. Some MAG
members share an affiliation with organizers and some are panellists
themselves, so automatic conflicts exist as they would in a real cycle.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from bot.services.config import DEFAULTS
from bot.services.taxonomy import (
    FORMATS,
    GENDERS,
    REGIONS,
    STAKEHOLDER_GROUPS,
    affiliation_key,
    person_key,
)
from storage.database import Database
from storage.panellists import Participation, Person
from storage.profiles import MagMember
from storage.proposals import Proposal, ProposalCounter
from storage.reviews import ConflictDeclaration, Review, ReviewAssignment, ReviewTally

GUILD = 1_200_000_000_000_000_001
SECRETARIAT_ID = 1_200_000_000_000_000_002
START = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
SUBTHEMES = DEFAULTS.subthemes
SEATS = (
    ("organizer", "onsite"),
    ("speaker", "onsite"),
    ("speaker", "onsite"),
    ("speaker", "online"),
    ("onsite_moderator", "onsite"),
    ("online_moderator", "online"),
)
STATUSES = (("under_review", 70), ("submitted", 10), ("screened_out", 10), ("withdrawn", 5))
WORDS = [
    "data",
    "governance",
    "trust",
    "inclusion",
    "access",
    "rights",
    "security",
    "youth",
    "cooperation",
    "policy",
    "infrastructure",
    "multistakeholder",
    "standards",
    "platforms",
    "openness",
    "resilience",
    "community",
]


@dataclass(frozen=True)
class Sizes:
    """How big the data set is."""

    proposals: int = 2000
    people: int = 4000
    members: int = 40
    reviews_per_proposal: int = 8
    conflicts: int = 300


def _text(rnd: random.Random, words: int) -> str:
    return " ".join(rnd.choice(WORDS) for _ in range(words)).capitalize() + "."


async def seed(
    db: Database, sizes: Sizes = Sizes(), seed_value: int = 2027, *, guild: int = GUILD
) -> dict[str, int]:
    """Fill ``db`` (tables already created) with the data set of ``guild``; return row counts."""
    rnd = random.Random(seed_value)
    organisations = [f"Organisation {i}" for i in range(600)]
    members = [SECRETARIAT_ID + 100 + i for i in range(sizes.members)]

    member_rows = [
        {
            "guild_id": guild,
            "user_id": uid,
            "display_name": f"MAG {i}",
            "stakeholder_group": STAKEHOLDER_GROUPS[i % 5],
            "region": REGIONS[i % 5],
            "gender": GENDERS[i % 2],
            "affiliation": organisations[i * 7],
            "affiliation_key": affiliation_key(organisations[i * 7]),
            "created_at": START,
            "updated_at": START,
        }
        for i, uid in enumerate(members)
    ]
    people_rows = []
    for i in range(sizes.people):
        name = f"Person {i}"
        affiliation = rnd.choice(organisations)
        people_rows.append(
            {
                "id": i + 1,
                "guild_id": guild,
                "key": person_key(name, affiliation),
                "name": name,
                "affiliation": affiliation,
                "affiliation_key": affiliation_key(affiliation),
                "stakeholder_group": rnd.choice(STAKEHOLDER_GROUPS),
                "region": rnd.choice(REGIONS),
                "gender": rnd.choice(GENDERS),
                "country": None,
                # One person in 200 is a MAG member on Discord.
                "user_id": members[i % len(members)] if i % 200 == 0 else None,
                "contact": f"person{i}@example.org",
                "created_at": START,
                "updated_at": START,
            }
        )
    statuses = [s for s, weight in STATUSES for _ in range(weight)]
    proposal_rows = []
    for n in range(1, sizes.proposals + 1):
        at = START + timedelta(minutes=n)
        proposal_rows.append(
            {
                "id": n,
                "guild_id": guild,
                "number": n,
                "kind": "workshop",
                "status": rnd.choice(statuses),
                "title": _text(rnd, 6)[:60],
                "description": _text(rnd, 80),
                "policy_questions": _text(rnd, 30),
                "expected_outcomes": _text(rnd, 30),
                "hybrid_plan": _text(rnd, 30),
                "format": rnd.choice(FORMATS),
                "duration": rnd.choice((60, 90)),
                "subtheme": rnd.choice(SUBTHEMES),
                "proposer_id": SECRETARIAT_ID + 10_000 + n % 900,
                "proposer_name": f"Proposer {n % 900}",
                "proposer_is_mag": False,
                "created_at": at,
                "updated_at": at,
            }
        )
    participation_rows = []
    for n in range(1, sizes.proposals + 1):
        chosen = rnd.sample(range(1, sizes.people + 1), len(SEATS))
        for person_id, (role, attendance) in zip(chosen, SEATS, strict=True):
            status = rnd.choice(("confirmed", "confirmed", "invited", "nominated", "declined"))
            participation_rows.append(
                {
                    "guild_id": guild,
                    "proposal_id": n,
                    "person_id": person_id,
                    "role": role,
                    "attendance": attendance,
                    "status": status,
                    "nominated_by": SECRETARIAT_ID,
                    "agreed_in_principle": status == "confirmed",
                    "created_at": START,
                    "updated_at": START,
                }
            )
    review_rows, assignment_rows = [], []
    for n in range(1, sizes.proposals + 1):
        for uid in rnd.sample(members, sizes.reviews_per_proposal):
            score = rnd.choices((1, 2, 3, 4, 5), (5, 15, 30, 35, 15))[0]
            review_rows.append(
                {
                    "guild_id": guild,
                    "proposal_id": n,
                    "member_id": uid,
                    "score": score,
                    "comment": _text(rnd, 12) if score <= 3 else None,
                    "merge": rnd.random() < 0.05,
                    "created_at": START,
                    "updated_at": START,
                }
            )
            assignment_rows.append(
                {"guild_id": guild, "proposal_id": n, "member_id": uid, "created_at": START}
            )
    # The tally the scoring service keeps in step with the reviews.
    tallies: dict[int, dict[str, Any]] = {}
    for r in review_rows:
        tally = tallies.setdefault(
            r["proposal_id"],
            {"guild_id": guild, "proposal_id": r["proposal_id"], "merges": 0}
            | {f"n{s}": 0 for s in range(1, 6)},
        )
        tally[f"n{r['score']}"] += 1
        tally["merges"] += int(r["merge"])
    conflict_rows = [
        {
            "guild_id": guild,
            "proposal_id": r["proposal_id"],
            "member_id": r["member_id"],
            "reason": "Works with the organizers",
            "created_at": START,
        }
        for r in rnd.sample(review_rows, sizes.conflicts)
    ]
    tables: list[tuple[Any, list[dict[str, Any]]]] = [
        (MagMember, member_rows),
        (Person, people_rows),
        (Proposal, proposal_rows),
        (Participation, participation_rows),
        (Review, review_rows),
        (ReviewTally, list(tallies.values())),
        (ReviewAssignment, assignment_rows),
        (ConflictDeclaration, conflict_rows),
        (ProposalCounter, [{"guild_id": guild, "last_number": sizes.proposals}]),
    ]
    async with db.write() as session:
        for table, rows in tables:
            for start in range(0, len(rows), 2000):
                await session.execute(insert(table), rows[start : start + 2000])
    if db.backend == "postgresql":
        async with db.engine.begin() as conn:
            for table, _ in tables:
                await conn.exec_driver_sql(f"ANALYZE {table.__tablename__}")
            # Ids were given explicitly: move the sequences past them.
            for table in ("person", "proposal"):
                await conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
    else:
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE")
    return {table.__tablename__: len(rows) for table, rows in tables}

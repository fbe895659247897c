"""Actors and builders shared by the proposal, panellist and review tests."""

from __future__ import annotations

from typing import Any

from bot.services.auth import Actor
from bot.services.proposals import ProposalForm
from bot.services.registry import Services
from storage.database import Database
from storage.panellists import Participation
from storage.proposals import Proposal, get_proposal

GUILD = 333333333333333333
OTHER_GUILD = 444444444444444444

SECRETARIAT = Actor(guild_id=GUILD, user_id=10, is_secretariat=True, display_name="Sec")
ADMIN = Actor(guild_id=GUILD, user_id=11, is_admin=True, display_name="Admin")
PROPOSER = Actor(guild_id=GUILD, user_id=500, display_name="Pat Proposer")
SECOND_PROPOSER = Actor(guild_id=GUILD, user_id=501, display_name="Quinn")
NOBODY = Actor(guild_id=GUILD, user_id=502, display_name="Rowan")


def mag(user_id: int, guild_id: int = GUILD) -> Actor:
    """Return a MAG member."""
    return Actor(guild_id=guild_id, user_id=user_id, is_mag=True, display_name=f"MAG {user_id}")


MAG = mag(100)
MAG2 = mag(101)


def form(**changes: str) -> ProposalForm:
    """Return a complete proposal form, with ``changes`` applied."""
    values = {
        "title": "Data flows with trust",
        "description": "How data can cross borders while keeping people's trust.",
        "policy_questions": "1. Which rules help?\n2. Who enforces them?",
        "expected_outcomes": "A list of practices that work.",
        "hybrid_plan": "Online speakers join by video; an online moderator takes questions.",
    }
    values.update(changes)
    return ProposalForm(**values)


async def submit(
    services: Services,
    actor: Actor = PROPOSER,
    *,
    kind: str = "workshop",
    fmt: str = "Roundtable",
    duration: int = 60,
    subtheme: str = "Data Governance & Trust",
    **changes: str,
) -> Proposal:
    """Submit a proposal and return it as stored."""
    submitted = await services.proposals.submit(
        actor,
        kind=kind,
        fmt=fmt,
        duration=duration,
        subtheme=subtheme,
        form=form(**changes),
    )
    async with services.db.read() as session:
        stored = await get_proposal(
            session, guild_id=actor.guild_id, number=submitted.proposal.ref.number
        )
    assert stored is not None
    return stored


async def agree(services: Services, participation_id: int, *, accept: bool = True) -> Any:
    """Record the nominee's answer as given outside Discord (the secretariat's way)."""
    return await services.panellists.record_answer(
        SECRETARIAT, participation_id, accept=accept, note="by email"
    )


async def nominate(
    services: Services,
    number: int,
    name: str,
    *,
    actor: Actor = SECRETARIAT,
    gender: str = "Female",
    role: str = "speaker",
    attendance: str = "onsite",
    stakeholder: str = "Civil Society",
    region: str = "African Group",
    **extra: Any,
) -> Any:
    """Nominate someone and return the Nomination."""
    return await services.panellists.nominate(
        actor,
        proposal_number=number,
        name=name,
        stakeholder_group=stakeholder,
        region=region,
        gender=gender,
        role=role,
        attendance=attendance,
        **extra,
    )


async def eligible_panel(services: Services, number: int, *, prefix: str = "") -> list[int]:
    """Put a panel that passes the default screening on ``number``; return participation ids."""
    people = [
        ("Amina", "Female", "speaker", "Civil Society", "African Group"),
        ("Bruno", "Male", "speaker", "Private Sector", "Western European and Others Group (WEOG)"),
        ("Chen", "Female", "speaker", "Government", "Asia-Pacific Group"),
        ("Dana", "Non-binary", "onsite_moderator", "Technical Community", "Eastern European Group"),
    ]
    ids = []
    for name, gender, role, group, region in people:
        nomination = await nominate(
            services,
            number,
            f"{prefix}{name}",
            gender=gender,
            role=role,
            stakeholder=group,
            region=region,
        )
        change = await agree(services, nomination.entry.nominee.participation_id)
        ids.append(change.entry.nominee.participation_id)
    return ids


async def profile(
    services: Services,
    actor: Actor,
    group: str = "Civil Society",
    affiliation: str | None = None,
    region: str = "African Group",
    gender: str = "Female",
) -> None:
    """Give a MAG member a profile."""
    await services.profiles.set(
        actor, stakeholder_group=group, region=region, gender=gender, affiliation=affiliation
    )


async def answer(services: Services, who: Actor, participation_id: int, accept: bool = True) -> Any:
    """Answer a nomination as ``who`` on Discord (the nominee's buttons)."""
    return await services.panellists.respond(
        guild_id=who.guild_id, user_id=who.user_id, participation_id=participation_id, accept=accept
    )


async def participation(db: Database, participation_id: int) -> Participation:
    """Return a nomination's row as stored."""
    async with db.read() as session:
        row = await session.get(Participation, participation_id)
    assert row is not None
    return row

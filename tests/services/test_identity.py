"""Who is the nominee: a claim binds only what its maker did, the secretariat's link decides.

Each test is an attack or an accident the outside review of issue 9 found:
an alt account confirming a squatted record, a named account competing with
a confirmed one, a self-made link showing someone else's nominations, a merge
that lost an answer, the secretariat overriding the nominee, an agreement
recorded by the secretariat that did not count as a conflict.
"""

from __future__ import annotations

import pytest

from bot.errors import Conflict, PermissionDenied
from bot.services.auth import Actor
from bot.services.registry import Services
from bot.services.scoring import find_conflicts
from storage.database import Database
from storage.panellists import IdentityFlag
from storage.reviews import ON_IT
from tests.services.factories import (
    GUILD,
    PROPOSER,
    SECRETARIAT,
    agree,
    mag,
    nominate,
    submit,
)
from tests.services.factories import answer as _answer
from tests.services.factories import participation as _row

AMINA = Actor(guild_id=GUILD, user_id=778, display_name="Amina Diallo")
SQUATTER = Actor(guild_id=GUILD, user_id=779, display_name="Squatter")
ALT = Actor(guild_id=GUILD, user_id=780, display_name="Squatter's other account")


@pytest.fixture
def services(db: Database, clock) -> Services:
    return Services.create(db, clock)


async def _flags(db: Database, kind: str) -> list[IdentityFlag]:
    from sqlmodel import select

    async with db.read() as session:
        return list(
            (await session.exec(select(IdentityFlag).where(IdentityFlag.kind == kind))).all()
        )


async def test_an_alt_account_that_confirmed_a_squat_never_answers_for_the_person(
    services: Services, db: Database
) -> None:
    await submit(services, SQUATTER)
    await submit(services, PROPOSER)
    squat = await nominate(
        services,
        1,
        "ＡＭＩＮＡ  DIALLO",
        actor=SQUATTER,
        affiliation="digital rights LAB",
        member_id=ALT.user_id,
        contact="attacker@example.org",
        gender="Male",
    )
    await _answer(services, ALT, squat.entry.nominee.participation_id)  # the squat "binds"
    person_id = squat.entry.nominee.person_id

    # The real proposer names no account: nobody is invited, the alt cannot answer.
    unnamed = await nominate(
        services, 2, "Amina Diallo", actor=PROPOSER, affiliation="Digital Rights Lab"
    )
    assert unnamed.entry.nominee.person_id == person_id and not unnamed.invitation.sent
    pid = unnamed.entry.nominee.participation_id
    for status in ("confirmed", "withdrawn"):
        with pytest.raises(PermissionDenied):
            await services.panellists.set_status(ALT, pid, status)
    with pytest.raises(PermissionDenied):
        await _answer(services, ALT, pid)
    assert pid not in {
        e.nominee.participation_id for e in await services.panellists.list_entries(ALT)
    }

    # Naming the real account invites her; her Confirm counts and the clash is flagged.
    named = await nominate(
        services,
        2,
        "Amina Diallo",
        actor=PROPOSER,
        affiliation="Digital Rights Lab",
        role="rapporteur",
        member_id=AMINA.user_id,
    )
    assert named.invitation.user_id == AMINA.user_id
    answered = await _answer(services, AMINA, named.entry.nominee.participation_id)
    assert answered.after == "confirmed"
    assert any(f.claimed.get("user_id") == AMINA.user_id for f in await _flags(db, "account"))

    # The secretariat settles who she is: the alt's answer is voided, not hers.
    change = await services.people.link(SECRETARIAT, person_id, AMINA.user_id)
    assert change.voided_answers == 1
    squat_row = await _row(db, squat.entry.nominee.participation_id)
    assert (squat_row.consent, squat_row.status) == (None, "nominated")
    assert (await _row(db, named.entry.nominee.participation_id)).consent == "given"
    with pytest.raises(PermissionDenied):
        await _answer(services, ALT, squat.entry.nominee.participation_id)
    again = await services.panellists.set_status(
        SQUATTER, squat.entry.nominee.participation_id, "invited"
    )
    assert again.invitation is not None and again.invitation.user_id == AMINA.user_id


async def test_a_named_account_never_overrides_the_secretariats_link(
    services: Services, db: Database
) -> None:
    await submit(services, PROPOSER)
    await submit(services, SQUATTER)
    first = await nominate(services, 1, "Amina Diallo", actor=PROPOSER)
    await services.people.link(SECRETARIAT, first.entry.nominee.person_id, AMINA.user_id)
    claimed = await nominate(services, 2, "Amina Diallo", actor=SQUATTER, member_id=ALT.user_id)
    assert claimed.flagged == 1
    assert claimed.invitation.user_id == AMINA.user_id  # the confirmed account, not the alt
    with pytest.raises(PermissionDenied):
        await _answer(services, ALT, claimed.entry.nominee.participation_id)
    assert (await _answer(services, AMINA, claimed.entry.nominee.participation_id)).after == (
        "confirmed"
    )


async def test_a_self_made_link_shows_only_ones_own_nominations(
    services: Services, db: Database
) -> None:
    await submit(services, SQUATTER)
    await submit(services, PROPOSER)
    own = await nominate(services, 1, "Ana Lima", actor=SQUATTER, member_id=SQUATTER.user_id)
    await _answer(services, SQUATTER, own.entry.nominee.participation_id)
    other = await nominate(services, 2, "Ana Lima", actor=PROPOSER)
    listed = {e.nominee.participation_id for e in await services.panellists.list_entries(SQUATTER)}
    assert own.entry.nominee.participation_id in listed
    assert other.entry.nominee.participation_id not in listed
    with pytest.raises(PermissionDenied):
        await services.panellists.view(SQUATTER, other.entry.nominee.participation_id)


async def test_a_merge_keeps_the_seat_that_holds_the_nominees_answer(
    services: Services, db: Database
) -> None:
    await submit(services, PROPOSER)
    bare = await nominate(services, 1, "Amina Diallo", affiliation="DRL")
    answered = await nominate(
        services,
        1,
        "Amina Diallo",
        affiliation="Digital Rights Lab",
        actor=PROPOSER,
        member_id=AMINA.user_id,
    )
    await _answer(services, AMINA, answered.entry.nominee.participation_id)
    target, source = bare.entry.nominee.person_id, answered.entry.nominee.person_id
    merged = await services.people.merge(SECRETARIAT, source, target, confirmed=True)
    assert (merged.moved, merged.dropped) == (0, 1)
    (seat,) = merged.person.seats
    assert (seat.status, seat.answered_by) == ("confirmed", AMINA.user_id)


async def test_the_secretariat_records_answers_but_never_overrides_the_nominees(
    services: Services, db: Database
) -> None:
    await submit(services, PROPOSER)
    nomination = await nominate(services, 1, "Amina", actor=PROPOSER, member_id=AMINA.user_id)
    pid = nomination.entry.nominee.participation_id
    await _answer(services, AMINA, pid, accept=False)
    with pytest.raises(Conflict, match=r"answered nomination .* themselves"):
        await agree(services, pid)
    row = await _row(db, pid)
    assert (row.consent, row.answer_source, row.status) == ("refused", "discord", "declined")


async def test_an_agreement_the_secretariat_recorded_for_a_mag_member_counts_as_a_conflict(
    services: Services, db: Database
) -> None:
    member = mag(120)
    await submit(services, PROPOSER)
    nomination = await nominate(services, 1, "Mag Member", actor=PROPOSER)
    await services.people.link(SECRETARIAT, nomination.entry.nominee.person_id, member.user_id)
    async with db.read() as session:
        assert (1, member.user_id) not in await find_conflicts(session, guild_id=GUILD)
    await agree(services, nomination.entry.nominee.participation_id)  # by email, recorded
    async with db.read() as session:
        found = await find_conflicts(session, guild_id=GUILD)
    proposal_id = (await _row(db, nomination.entry.nominee.participation_id)).proposal_id
    assert found.get((proposal_id, member.user_id)) == ON_IT


async def test_a_mag_member_is_warned_before_confirming_that_it_is_a_conflict(
    services: Services, db: Database
) -> None:
    from bot.render.panellists import invitation_embed
    from tests.services.factories import profile

    member = mag(130)
    await profile(services, member)
    await submit(services, PROPOSER)
    nomination = await nominate(services, 1, "Kofi", actor=PROPOSER, member_id=member.user_id)
    assert nomination.invitation.mag_member
    embed = invitation_embed(nomination.entry, "IGF MAG", mag_member=True)
    assert any("conflict of interest" in (f.value or "") for f in embed.fields)
    other = await nominate(services, 1, "Ama", actor=PROPOSER, member_id=AMINA.user_id)
    assert not other.invitation.mag_member

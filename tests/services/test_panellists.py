"""Panellist nominations: identity, permissions, statuses, the nominee's answer, forgetting."""

from __future__ import annotations

import asyncio
import itertools
import json

import pytest

from bot.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from bot.services.auth import Actor
from bot.services.panellists import TRANSITIONS
from bot.services.registry import Services
from bot.services.taxonomy import PARTICIPATION_STATUSES
from storage.audit import recent_events
from storage.database import Database
from storage.panellists import Participation
from tests.services.factories import (
    ADMIN,
    GUILD,
    MAG,
    NOBODY,
    PROPOSER,
    SECOND_PROPOSER,
    SECRETARIAT,
    nominate,
    submit,
)

NOMINEE = Actor(guild_id=GUILD, user_id=777, display_name="Nominee")


@pytest.fixture
def services(db: Database, clock) -> Services:
    return Services.create(db, clock)


async def test_who_may_nominate(services: Services) -> None:
    await submit(services)
    by_secretariat = await nominate(services, 1, "Amina", actor=SECRETARIAT)
    by_mag = await nominate(services, 1, "Bruno", actor=MAG)
    by_proposer = await nominate(services, 1, "Chen", actor=PROPOSER)
    assert [n.entry.participation.nominated_by for n in (by_secretariat, by_mag, by_proposer)] == [
        SECRETARIAT.user_id,
        MAG.user_id,
        PROPOSER.user_id,
    ]
    assert by_mag.entry.participation.status == "nominated"
    for actor in (NOBODY, SECOND_PROPOSER):
        with pytest.raises(PermissionDenied, match="Only MAG members, the secretariat and"):
            await nominate(services, 1, "Dana", actor=actor)


async def test_nothing_is_added_to_a_closed_proposal(services: Services) -> None:
    await submit(services)
    await services.proposals.withdraw(PROPOSER, 1)
    with pytest.raises(Conflict, match="withdrawn: nobody can be added"):
        await nominate(services, 1, "Amina")
    with pytest.raises(NotFound):
        await nominate(services, 2, "Amina")


async def test_the_same_person_is_recognised_ignoring_case_and_accents(services: Services) -> None:
    await submit(services)
    await submit(services, SECOND_PROPOSER)
    first = await nominate(
        services, 1, "José  Ramos", affiliation="Université de Genève", country="Switzerland"
    )
    again = await nominate(
        services,
        2,
        " jose ramos ",
        affiliation="UNIVERSITE DE GENEVE",
        gender="Male",  # differs: the stored details are kept
        member_id=NOMINEE.user_id,
        contact="jose@example.org",
    )
    assert not first.reused and again.reused
    person = again.entry.person
    assert person.id == first.entry.person.id
    assert (person.name, person.gender, person.country) == ("José Ramos", "Female", "Switzerland")
    # Gaps are filled in: the Discord account and the contact were unknown.
    assert (person.user_id, person.contact) == (NOMINEE.user_id, "jose@example.org")
    assert again.ask_user_id == NOMINEE.user_id
    other = await nominate(services, 2, "José Ramos", affiliation="ICANN")
    assert not other.reused and other.entry.person.id != person.id


async def test_only_the_secretariat_ties_a_known_person_to_an_account(services: Services) -> None:
    await submit(services)
    await submit(services, SECOND_PROPOSER)
    first = await nominate(services, 1, "Ana Lima", affiliation="NIC.br")
    # A proposer nominating the same person cannot take over their identity.
    taken = await nominate(
        services,
        2,
        "ana lima",
        affiliation="NIC.br",
        actor=SECOND_PROPOSER,
        member_id=SECOND_PROPOSER.user_id,
        contact="impostor@example.org",
        country="Brazil",
    )
    person = taken.entry.person
    assert taken.reused and (person.user_id, person.contact) == (None, None)
    assert person.country == "Brazil"  # harmless gaps are still filled
    assert taken.ask_user_id is None
    # ...so they cannot answer for her elsewhere.
    with pytest.raises(PermissionDenied):
        await services.panellists.set_status(
            SECOND_PROPOSER, first.entry.participation.id, "declined"
        )
    # The secretariat may fill them in.
    known = await nominate(
        services,
        2,
        "Ana Lima",
        affiliation="NIC.br",
        role="onsite moderator",
        member_id=NOMINEE.user_id,
        contact="ana@example.org",
    )
    person = known.entry.person
    assert (person.user_id, person.contact) == (NOMINEE.user_id, "ana@example.org")
    assert known.ask_user_id == NOMINEE.user_id


async def test_preference_flags_are_stored_and_never_guessed(services: Services) -> None:
    await submit(services)
    await submit(services, SECOND_PROPOSER)
    unknown = await nominate(services, 1, "Ama Owusu", affiliation="Ghana IGF")
    person = unknown.entry.person
    assert (person.developing_country, person.first_time, person.youth) == (None, None, None)
    known = await nominate(
        services,
        2,
        "ama owusu",
        affiliation="Ghana IGF",
        developing_country=True,
        first_time=False,
        youth=True,
    )
    person = known.entry.person
    assert known.reused
    assert (person.developing_country, person.first_time, person.youth) == (True, False, True)


async def test_a_person_holds_each_role_once_per_proposal(services: Services) -> None:
    await submit(services)
    await nominate(services, 1, "Amina")
    with pytest.raises(Conflict, match="already on WS #1 as speaker"):
        await nominate(services, 1, "AMINA")
    rapporteur = await nominate(services, 1, "Amina", role="rapporteur", attendance="online")
    assert (rapporteur.entry.participation.role, rapporteur.entry.participation.attendance) == (
        "rapporteur",
        "online",
    )


async def test_concurrent_nominations_of_a_new_person_make_one_person(services: Services) -> None:
    for actor in (PROPOSER, SECOND_PROPOSER, NOBODY):
        await submit(services, actor)
    nominations = await asyncio.gather(*(nominate(services, n, "Zoë Li") for n in (1, 2, 3)))
    assert len({n.entry.person.id for n in nominations}) == 1
    assert sorted(n.reused for n in nominations) == [False, True, True]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"stakeholder": "Academia"}, "not a stakeholder group"),
        ({"region": "Europe"}, "not a region"),
        ({"gender": "Unknown"}, "not a gender"),
        ({"role": "keynote"}, "not a role"),
        ({"attendance": "hybrid"}, "not a way of attending"),
        ({"name": "   "}, "Give the person's name"),
        ({"name": "n" * 101}, "name can be at most 100"),
        ({"affiliation": "a" * 151}, "affiliation can be at most 150"),
        ({"rationale": "r" * 1001}, "rationale can be at most 1000"),
    ],
)
async def test_input_is_checked(services: Services, changes, message) -> None:
    await submit(services)
    changes = dict(changes)
    name = changes.pop("name", "Amina")
    with pytest.raises(InvalidInput, match=message):
        await nominate(services, 1, name, **changes)


async def test_names_are_matched_loosely_and_groups_can_be_added(services: Services) -> None:
    await submit(services)
    n = await nominate(
        services, 1, "Amina", stakeholder="civil", region="grulac", role="Onsite moderator"
    )
    assert (n.entry.person.stakeholder_group, n.entry.person.region) == (
        "Civil Society",
        "Latin American and Caribbean Group (GRULAC)",
    )
    assert n.entry.participation.role == "onsite_moderator"
    await services.config.set_rule(ADMIN, "taxonomy.extra_stakeholder_groups", ["Academia"])
    assert (
        await nominate(services, 1, "Bo", stakeholder="academia")
    ).entry.person.stakeholder_group == "Academia"


async def test_every_participation_transition(services: Services, db: Database) -> None:
    await submit(services)
    pairs = [
        (a, b) for a, b in itertools.product(PARTICIPATION_STATUSES, repeat=2) if b != "nominated"
    ]
    ids = []
    for i, _ in enumerate(pairs):
        ids.append((await nominate(services, 1, f"P{i}")).entry.participation.id)
    for pid, (before, after) in zip(ids, pairs, strict=True):
        async with db.write() as session:
            row = await session.get(Participation, pid)
            assert row is not None
            row.status = before
        if after in TRANSITIONS[before]:
            change = await services.panellists.set_status(SECRETARIAT, pid, after)
            assert (change.before, change.after) == (before, after)
            assert change.entry.participation.agreed_in_principle == (after == "confirmed")
        else:
            with pytest.raises(Conflict):
                await services.panellists.set_status(SECRETARIAT, pid, after)
    with pytest.raises(InvalidInput, match="cannot go back to nominated"):
        await services.panellists.set_status(SECRETARIAT, ids[0], "nominated")
    with pytest.raises(InvalidInput, match="not a nomination status"):
        await services.panellists.set_status(SECRETARIAT, ids[0], "maybe")


async def test_who_may_change_a_nomination(services: Services) -> None:
    await submit(services)
    pid = (await nominate(services, 1, "Amina", member_id=NOMINEE.user_id)).entry.participation.id
    for actor in (MAG, NOBODY, SECOND_PROPOSER):
        with pytest.raises(PermissionDenied, match="Only the proposer of WS #1"):
            await services.panellists.set_status(actor, pid, "invited")
    invited = await services.panellists.set_status(PROPOSER, pid, "invited")
    assert invited.ask_user_id == NOMINEE.user_id and invited.notify_user_id is None
    # The nominee may answer for themselves, but not invite themselves.
    with pytest.raises(PermissionDenied):
        await services.panellists.set_status(NOMINEE, pid, "invited")
    own = await services.panellists.set_status(NOMINEE, pid, "confirmed")
    assert own.entry.participation.consent == "given"
    assert own.notify_user_id == PROPOSER.user_id
    with pytest.raises(NotFound, match="no nomination #999"):
        await services.panellists.set_status(SECRETARIAT, 999, "invited")


async def test_the_nominee_confirms_with_consent(services: Services, clock) -> None:
    await submit(services)
    pid = (await nominate(services, 1, "Amina", member_id=NOMINEE.user_id)).entry.participation.id
    with pytest.raises(PermissionDenied, match="addressed to someone else"):
        await services.panellists.respond(
            guild_id=GUILD, user_id=NOBODY.user_id, participation_id=pid, accept=True
        )
    change = await services.panellists.respond(
        guild_id=GUILD, user_id=NOMINEE.user_id, participation_id=pid, accept=True
    )
    participation = change.entry.participation
    assert (participation.status, participation.consent) == ("confirmed", "given")
    assert participation.agreed_in_principle and participation.responded_at == clock.now
    assert change.notify_user_id == PROPOSER.user_id
    with pytest.raises(Conflict, match="already confirmed"):
        await services.panellists.respond(
            guild_id=GUILD, user_id=NOMINEE.user_id, participation_id=pid, accept=True
        )
    declined = await services.panellists.respond(
        guild_id=GUILD, user_id=NOMINEE.user_id, participation_id=pid, accept=False
    )
    assert (declined.entry.participation.status, declined.entry.participation.consent) == (
        "declined",
        "refused",
    )
    assert not declined.entry.participation.agreed_in_principle


async def test_a_withdrawn_nomination_cannot_be_confirmed(services: Services) -> None:
    await submit(services)
    pid = (await nominate(services, 1, "Amina", member_id=NOMINEE.user_id)).entry.participation.id
    await services.panellists.set_status(PROPOSER, pid, "withdrawn")
    with pytest.raises(Conflict, match="withdrawn now"):
        await services.panellists.respond(
            guild_id=GUILD, user_id=NOMINEE.user_id, participation_id=pid, accept=True
        )
    with pytest.raises(NotFound):
        await services.panellists.respond(
            guild_id=GUILD + 1, user_id=NOMINEE.user_id, participation_id=pid, accept=True
        )


async def test_who_sees_which_nominations(services: Services) -> None:
    await submit(services)
    await submit(services, SECOND_PROPOSER)
    await nominate(services, 1, "Amina", contact="a@example.org")
    await nominate(services, 2, "Bruno", member_id=NOMINEE.user_id)
    everything = await services.panellists.list_entries(MAG)
    assert [e.person.name for e in everything] == ["Bruno", "Amina"] and not everything[0].private
    assert (await services.panellists.list_entries(SECRETARIAT))[0].private
    assert [e.person.name for e in await services.panellists.list_entries(PROPOSER)] == ["Amina"]
    assert [e.person.name for e in await services.panellists.list_entries(NOMINEE)] == ["Bruno"]
    assert await services.panellists.list_entries(NOBODY) == []
    only_two = await services.panellists.list_entries(SECRETARIAT, proposal_number=2)
    assert [e.label for e in only_two] == ["WS #2"]
    assert await services.panellists.list_entries(SECRETARIAT, status="confirmed") == []

    amina = everything[1].participation.id
    assert (await services.panellists.view(PROPOSER, amina)).person.name == "Amina"
    assert (await services.panellists.view(SECRETARIAT, amina)).private
    with pytest.raises(PermissionDenied):
        await services.panellists.view(NOBODY, amina)


async def test_the_audit_keeps_no_personal_data(services: Services, db: Database) -> None:
    await submit(services)
    pid = (
        await nominate(
            services,
            1,
            "Amina Diallo",
            gender="Prefer not to say",
            contact="amina@example.org",
            rationale="Knows the subject",
            member_id=NOMINEE.user_id,
        )
    ).entry.participation.id
    await services.panellists.respond(
        guild_id=GUILD, user_id=NOMINEE.user_id, participation_id=pid, accept=True
    )
    async with db.read() as session:
        events = await recent_events(session, guild_id=GUILD, limit=100)
    text = json.dumps([(e.before, e.after, e.note) for e in events])
    for secret in ("Amina", "amina@example.org", "Prefer not to say", "Knows the subject"):
        assert secret not in text
    assert {"panellist.nominate", "panellist.respond"} <= {e.action for e in events}


async def test_forget_erases_the_person_and_their_participations(
    services: Services, db: Database
) -> None:
    await submit(services)
    await submit(services, SECOND_PROPOSER)
    first = await nominate(services, 1, "Amina", contact="amina@example.org")
    await nominate(services, 2, "Amina", role="rapporteur")
    await nominate(services, 2, "Bruno")
    person_id = first.entry.person.id
    for actor in (MAG, PROPOSER):
        with pytest.raises(PermissionDenied):
            await services.panellists.forget(actor, person_id)
    assert [p.name for p in await services.panellists.search_people(SECRETARIAT, "ami")] == [
        "Amina"
    ]
    assert await services.panellists.search_people(MAG, "ami") == []

    forgotten = await services.panellists.forget(SECRETARIAT, person_id)
    assert (forgotten.participations, forgotten.proposals) == (2, ["WS #1", "WS #2"])
    remaining = await services.panellists.list_entries(SECRETARIAT)
    assert [e.person.name for e in remaining] == ["Bruno"]
    assert (await services.proposals.view(SECRETARIAT, 1)).people == []
    with pytest.raises(NotFound, match="already forgotten"):
        await services.panellists.forget(SECRETARIAT, person_id)
    async with db.read() as session:
        (event,) = await recent_events(session, guild_id=GUILD, target=f"person:{person_id}")
    assert (event.action, event.before, event.after) == ("person.forget", None, None)
    assert "2 participation(s)" in event.note
    # Nominated again later, they are a new person.
    again = await nominate(services, 1, "Amina")
    assert not again.reused and again.entry.person.id != person_id


async def test_decisions_reach_the_guardrail_hook(services: Services) -> None:
    from bot.services.proposals import Decision

    seen: list[Decision] = []

    async def hook(session, decision: Decision) -> str:
        assert session.in_transaction()
        seen.append(decision)
        return f"effect of {decision.subject} {decision.after}"

    services.panellists.on_decision = hook
    services.proposals.on_decision = hook
    await submit(services)
    pid = (await nominate(services, 1, "Amina", member_id=NOMINEE.user_id)).entry.participation.id
    invited = await services.panellists.set_status(SECRETARIAT, pid, "invited")
    assert invited.effect is None  # not a decision the guardrails weigh
    answered = await services.panellists.respond(
        guild_id=GUILD, user_id=NOMINEE.user_id, participation_id=pid, accept=True
    )
    assert answered.effect is None  # the hook ran (below); the nominee is not shown it
    await services.proposals.set_status(SECRETARIAT, 1, "under_review")
    accepted = await services.proposals.set_status(SECRETARIAT, 1, "accepted")
    assert accepted.effect == "effect of proposal accepted"
    assert [(d.subject, d.before, d.after, d.target) for d in seen] == [
        ("participation", "invited", "confirmed", "proposal:1"),
        ("proposal", "under_review", "accepted", "proposal:1"),
    ]


async def test_the_balance_effect_is_shown_only_to_mag_and_secretariat(
    services: Services,
) -> None:
    # The effect can tell a nominee's gender: a proposer does not see it.
    seen: list[str] = []

    async def hook(session, decision) -> str:
        seen.append(decision.after)
        return "Gender: Non-binary 0% → 100%"

    services.panellists.on_decision = hook
    await submit(services)
    ids = [(await nominate(services, 1, n)).entry.participation.id for n in ("A", "B")]
    by_proposer = await services.panellists.set_status(PROPOSER, ids[0], "confirmed")
    assert by_proposer.effect is None and seen == ["confirmed"]  # the hook still ran
    by_secretariat = await services.panellists.set_status(SECRETARIAT, ids[1], "declined")
    assert by_secretariat.effect == "Gender: Non-binary 0% → 100%"

"""Panellist nominations: claims and identity, the nominee's own answer, invitations, forgetting."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.errors import ConfirmationNeeded, Conflict, InvalidInput, NotFound, PermissionDenied
from bot.services.auth import Actor
from bot.services.panellists import status_of
from bot.services.registry import Services
from storage.audit import recent_events
from storage.database import Database
from storage.panellists import IdentityFlag, Participation, Person
from tests.services.factories import (
    ADMIN,
    GUILD,
    MAG,
    NOBODY,
    PROPOSER,
    SECOND_PROPOSER,
    SECRETARIAT,
    agree,
    nominate,
    submit,
)
from tests.services.factories import answer as _answer
from tests.services.factories import participation as _row

NOMINEE = Actor(guild_id=GUILD, user_id=777, display_name="Nominee")
AMINA = Actor(guild_id=GUILD, user_id=778, display_name="Amina Diallo")
SQUATTER = Actor(guild_id=GUILD, user_id=779, display_name="Squatter")


@pytest.fixture
def services(db: Database, clock) -> Services:
    return Services.create(db, clock)


async def _person(db: Database, person_id: int) -> Person:
    async with db.read() as session:
        person = await session.get(Person, person_id)
    assert person is not None
    return person


async def test_who_may_nominate(services: Services) -> None:
    await submit(services)
    by_secretariat = await nominate(services, 1, "Amina", actor=SECRETARIAT)
    by_mag = await nominate(services, 1, "Bruno", actor=MAG)
    by_proposer = await nominate(services, 1, "Chen", actor=PROPOSER)
    assert [n.entry.nominee.nominated_by for n in (by_secretariat, by_mag, by_proposer)] == [
        SECRETARIAT.user_id,
        MAG.user_id,
        PROPOSER.user_id,
    ]
    assert by_mag.entry.nominee.status == "nominated"
    assert not by_mag.invitation.sent and "no Discord account" in (by_mag.invitation.reason or "")
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


async def test_what_a_nominator_types_is_a_claim(services: Services, db: Database) -> None:
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
        gender="Male",  # differs from the record
        member_id=NOMINEE.user_id,
        contact="jose@example.org",
    )
    assert not first.reused and again.reused and again.flagged == 1
    person = await _person(db, again.entry.nominee.person_id)
    assert person.id == first.entry.nominee.person_id
    assert (person.name, person.gender, person.country) == ("José Ramos", "Female", "Switzerland")
    # Nobody confirmed an account or a contact: the record holds neither.
    assert (person.user_id, person.contact) == (None, None)
    row = await _row(db, again.entry.nominee.participation_id)
    assert (row.invitee_id, row.contact) == (NOMINEE.user_id, "jose@example.org")
    assert again.invitation.user_id == NOMINEE.user_id and row.status == "invited"
    async with db.read() as session:
        flags = (await session.exec(select(IdentityFlag))).all()
    assert [(f.kind, f.claimed) for f in flags] == [("details", {"gender": "Male"})]
    other = await nominate(services, 2, "José Ramos", affiliation="ICANN")
    assert not other.reused and other.entry.nominee.person_id != person.id


async def test_a_squatted_record_routes_nothing_and_the_secretariat_repairs_it(
    services: Services, db: Database
) -> None:
    # The outside review's reproduction: a proposer registers "Amina" as themselves first.
    await submit(services, SQUATTER)
    await submit(services, PROPOSER)
    squat = await nominate(
        services,
        1,
        "ＡＭＩＮＡ  DIALLO",
        affiliation="digital rights LAB",
        actor=SQUATTER,
        member_id=SQUATTER.user_id,
        contact="attacker@example.org",
        gender="Male",
    )
    await _answer(services, SQUATTER, squat.entry.nominee.participation_id)
    # The real proposer nominates the real Amina, naming her account.
    real = await nominate(
        services,
        2,
        "Amina Diallo",
        affiliation="Digital Rights Lab",
        actor=PROPOSER,
        member_id=AMINA.user_id,
        gender="Female",
        contact="amina@example.org",
    )
    pid = real.entry.nominee.participation_id
    assert real.reused and real.flagged == 2  # her gender, and her account, differ
    assert real.invitation.user_id == AMINA.user_id  # never the squatter
    # The squatter can neither answer for her nor withdraw her.
    for attempt in (True, False):
        with pytest.raises(PermissionDenied):
            await _answer(services, SQUATTER, pid, attempt)
    with pytest.raises(PermissionDenied):
        await services.panellists.set_status(SQUATTER, pid, "withdrawn")
    answered = await _answer(services, AMINA, pid)
    row = await _row(db, pid)
    assert (row.status, row.consent, row.answered_by) == ("confirmed", "given", AMINA.user_id)
    assert answered.notify_user_id == PROPOSER.user_id
    # The secretariat sees every claim and settles them, audited.
    view = await services.people.view(SECRETARIAT, real.entry.nominee.person_id)
    assert {f.kind for f in view.flags} == {"details", "account"}
    assert view.user_id == SQUATTER.user_id and view.link_source == "own"
    linked = await services.people.link(SECRETARIAT, view.id, AMINA.user_id)
    assert linked.person.user_id == AMINA.user_id and linked.resolved_flags == 2
    corrected = await services.people.correct(SECRETARIAT, view.id, gender="Female")
    assert corrected.person.gender == "Female" and corrected.resolved_flags == 1
    assert corrected.person.details_source == "secretariat"
    split = await services.people.split(SECRETARIAT, squat.entry.nominee.participation_id)
    assert split.person.id != view.id and split.person.user_id is None
    assert [s.participation_id for s in split.person.seats] == [
        squat.entry.nominee.participation_id
    ]
    async with db.read() as session:
        events = await recent_events(session, guild_id=GUILD, limit=100)
    assert {"person.link", "person.correct", "person.split"} <= {e.action for e in events}
    assert "Female" not in json.dumps([(e.before, e.after) for e in events])
    for actor in (PROPOSER, MAG):
        with pytest.raises(PermissionDenied):
            await services.people.view(actor, view.id)


async def test_a_link_made_on_ones_own_nomination_routes_only_ones_own(
    services: Services, db: Database
) -> None:
    await submit(services, SQUATTER)
    await submit(services, PROPOSER)
    squat = await nominate(services, 1, "Ana Lima", actor=SQUATTER, member_id=SQUATTER.user_id)
    await _answer(services, SQUATTER, squat.entry.nominee.participation_id)
    # Someone else names no account: the self-made link is not used.
    unnamed = await nominate(services, 2, "Ana Lima", actor=PROPOSER)
    assert not unnamed.invitation.sent
    with pytest.raises(PermissionDenied):
        await _answer(services, SQUATTER, unnamed.entry.nominee.participation_id)
    # A link confirmed through someone else's invitation does not route either:
    # the nominator may have pointed it at an account of their own.
    invited = await nominate(services, 2, "Bo Chen", actor=PROPOSER, member_id=NOMINEE.user_id)
    await _answer(services, NOMINEE, invited.entry.nominee.participation_id)
    third = await nominate(services, 1, "Bo Chen", actor=SQUATTER, role="rapporteur")
    assert not third.invitation.sent
    # The secretariat's link does, for every nomination.
    await services.people.link(SECRETARIAT, invited.entry.nominee.person_id, NOMINEE.user_id)
    again = await services.panellists.set_status(
        SQUATTER, third.entry.nominee.participation_id, "invited"
    )
    assert again.invitation is not None and again.invitation.user_id == NOMINEE.user_id


async def test_the_nominees_answer_is_theirs_alone(services: Services, db: Database) -> None:
    await submit(services)
    nomination = await nominate(services, 1, "Amina", member_id=NOMINEE.user_id, actor=PROPOSER)
    pid = nomination.entry.nominee.participation_id
    for actor in (PROPOSER, SECRETARIAT):
        for status in ("confirmed", "declined"):
            with pytest.raises(PermissionDenied, match="Only the nominee answers"):
                await services.panellists.set_status(actor, pid, status)
    declined = await _answer(services, NOMINEE, pid, False)
    assert declined.after == "declined"
    # Nobody invites them again over their answer, nor confirms for them.
    with pytest.raises(Conflict, match="declined by the nominee"):
        await services.panellists.set_status(PROPOSER, pid, "invited")
    # They may change their mind themselves.
    changed = await services.panellists.set_status(NOMINEE, pid, "confirmed")
    assert changed.after == "confirmed"
    row = await _row(db, pid)
    assert (row.consent, row.answered_by, row.answer_source) == (
        "given",
        NOMINEE.user_id,
        "discord",
    )
    # An answer given outside Discord is recorded by the secretariat, marked as such.
    other = await nominate(services, 1, "Bruno")
    with pytest.raises(InvalidInput, match="how and when"):
        await services.panellists.record_answer(
            SECRETARIAT, other.entry.nominee.participation_id, accept=True, note=" "
        )
    with pytest.raises(PermissionDenied):
        await services.panellists.record_answer(
            PROPOSER, other.entry.nominee.participation_id, accept=True, note="by phone"
        )
    recorded = await agree(services, other.entry.nominee.participation_id)
    answer = recorded.entry.nominee.answer
    assert answer is not None and (answer.source, answer.note, answer.by_user_id) == (
        "secretariat",
        "by email",
        None,
    )


async def test_organisers_withdraw_and_restore(services: Services, db: Database) -> None:
    await submit(services)
    pid = (
        await nominate(services, 1, "Amina", member_id=NOMINEE.user_id)
    ).entry.nominee.participation_id
    await _answer(services, NOMINEE, pid)
    removed = await services.panellists.set_status(PROPOSER, pid, "withdrawn")
    assert removed.after == "withdrawn"
    with pytest.raises(Conflict, match="took this nomination off"):
        await _answer(services, NOMINEE, pid)
    restored = await services.panellists.set_status(PROPOSER, pid, "invited")
    assert restored.after == "confirmed"  # they had agreed: back as confirmed, no new DM
    assert restored.invitation is None
    for actor in (MAG, NOBODY, SECOND_PROPOSER):
        with pytest.raises(PermissionDenied, match="Only the proposer of WS #1"):
            await services.panellists.set_status(actor, pid, "withdrawn")
    with pytest.raises(NotFound, match="no nomination #999"):
        await services.panellists.set_status(SECRETARIAT, 999, "invited")


async def test_invitations_are_limited_and_can_be_stopped(services: Services, clock) -> None:
    await submit(services)
    await submit(services, SECOND_PROPOSER)
    pid = (
        await nominate(services, 1, "Amina", member_id=NOMINEE.user_id)
    ).entry.nominee.participation_id
    with pytest.raises(Conflict, match="less than 24 hours ago"):
        await services.panellists.set_status(PROPOSER, pid, "invited")
    clock.now += timedelta(hours=25)
    again = await services.panellists.set_status(PROPOSER, pid, "invited")
    assert again.invitation is not None and again.invitation.user_id == NOMINEE.user_id
    # At most three invitations a day reach one account.
    more = [
        await nominate(services, 2, name, member_id=NOMINEE.user_id) for name in ("B", "C", "D")
    ]
    assert [n.invitation.sent for n in more] == [True, True, False]
    assert "3 invitations from this server today" in (more[2].invitation.reason or "")
    # They can stop invitations, and allow them again.
    assert await services.panellists.set_invitations(
        guild_id=GUILD, user_id=NOMINEE.user_id, allowed=False
    )
    clock.now += timedelta(days=2)
    stopped = await nominate(services, 2, "E", member_id=NOMINEE.user_id)
    assert not stopped.invitation.sent and "asked this server not to" in (
        stopped.invitation.reason or ""
    )
    await services.panellists.set_invitations(guild_id=GUILD, user_id=NOMINEE.user_id, allowed=True)
    assert (await nominate(services, 2, "F", member_id=NOMINEE.user_id)).invitation.sent


@pytest.mark.parametrize("status", ["withdrawn", "rejected", "merged"])
async def test_nobody_confirms_on_a_closed_proposal(services: Services, status: str) -> None:
    await submit(services)
    await submit(services, SECOND_PROPOSER)
    pid = (
        await nominate(services, 1, "Amina", member_id=NOMINEE.user_id)
    ).entry.nominee.participation_id
    await services.proposals.set_status(SECRETARIAT, 2, "under_review")
    if status != "withdrawn":
        await services.proposals.set_status(SECRETARIAT, 1, "under_review")
    await services.proposals.set_status(
        SECRETARIAT, 1, status, merged_into=2 if status == "merged" else None, confirmed=True
    )
    with pytest.raises(Conflict, match="nothing to answer"):
        await _answer(services, NOMINEE, pid)
    with pytest.raises(Conflict, match="nothing to answer"):
        await agree(services, pid)


async def test_the_nominee_confirms_and_binds_their_account(
    services: Services, db: Database, clock
) -> None:
    await submit(services)
    nomination = await nominate(services, 1, "Amina", member_id=NOMINEE.user_id)
    pid = nomination.entry.nominee.participation_id
    with pytest.raises(PermissionDenied, match="addressed to someone else"):
        await _answer(services, NOBODY, pid)
    assert (await _person(db, nomination.entry.nominee.person_id)).user_id is None
    change = await _answer(services, NOMINEE, pid)
    row = await _row(db, pid)
    assert (row.status, row.consent, row.agreed_in_principle) == ("confirmed", "given", True)
    assert row.responded_at == clock.now and change.notify_user_id == PROPOSER.user_id
    person = await _person(db, nomination.entry.nominee.person_id)
    assert (person.user_id, person.link_source, person.details_source) == (
        NOMINEE.user_id,
        "invitation",
        "invitee",  # what the invitation showed, not gender nor country
    )
    with pytest.raises(Conflict, match="already confirmed"):
        await _answer(services, NOMINEE, pid)
    declined = await _answer(services, NOMINEE, pid, False)
    assert declined.after == "declined" and not (await _row(db, pid)).agreed_in_principle
    disputed = await services.panellists.dispute(
        guild_id=GUILD, user_id=NOMINEE.user_id, participation_id=pid
    )
    assert disputed.nominee.participation_id == pid
    flags = await services.people.flags(SECRETARIAT)
    assert [f.kind for f in flags] == ["disputed"]


def test_the_status_follows_from_the_facts() -> None:
    row = Participation(guild_id=1, proposal_id=1, person_id=1, role="speaker")
    assert status_of(row) == "nominated"
    row.invited_at = row.created_at
    assert status_of(row) == "invited"
    row.consent = "refused"
    assert status_of(row) == "declined"
    row.consent = "given"
    assert status_of(row) == "confirmed"
    row.removed_at = row.created_at
    assert status_of(row) == "withdrawn"


async def test_preference_flags_are_stored_and_never_guessed(
    services: Services, db: Database
) -> None:
    await submit(services)
    await submit(services, SECOND_PROPOSER)
    unknown = await nominate(services, 1, "Ama Owusu", affiliation="Ghana IGF")
    person = await _person(db, unknown.entry.nominee.person_id)
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
    person = await _person(db, known.entry.nominee.person_id)
    assert known.reused
    assert (person.developing_country, person.first_time, person.youth) == (True, False, True)


async def test_a_person_holds_each_role_once_per_proposal(services: Services) -> None:
    await submit(services)
    await nominate(services, 1, "Amina")
    with pytest.raises(Conflict, match="already on WS #1 as speaker"):
        await nominate(services, 1, "AMINA")
    rapporteur = await nominate(services, 1, "Amina", role="rapporteur", attendance="online")
    assert (rapporteur.entry.nominee.role, rapporteur.entry.nominee.attendance) == (
        "rapporteur",
        "online",
    )
    unstated = await services.panellists.nominate(
        SECRETARIAT,
        proposal_number=1,
        name="Bo",
        stakeholder_group="Government",
        region="African Group",
        gender="Male",
    )
    assert unstated.entry.nominee.attendance is None  # not stated unless given


async def test_concurrent_nominations_of_a_new_person_make_one_person(services: Services) -> None:
    for actor in (PROPOSER, SECOND_PROPOSER, NOBODY):
        await submit(services, actor)
    nominations = await asyncio.gather(*(nominate(services, n, "Zoë Li") for n in (1, 2, 3)))
    assert len({n.entry.nominee.person_id for n in nominations}) == 1
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
        ({"name": "\u200b\x00"}, "Give the person's name"),
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
    assert (n.entry.nominee.stakeholder_group, n.entry.nominee.region) == (
        "Civil Society",
        "Latin American and Caribbean Group (GRULAC)",
    )
    assert n.entry.nominee.role == "onsite_moderator"
    await services.config.set_rule(ADMIN, "taxonomy.extra_stakeholder_groups", ["Academia"])
    assert (
        await nominate(services, 1, "Bo", stakeholder="academia")
    ).entry.nominee.stakeholder_group == "Academia"


async def test_who_sees_which_nominations(services: Services) -> None:
    await submit(services)
    await submit(services, SECOND_PROPOSER)
    await nominate(services, 1, "Amina", contact="a@example.org")
    await nominate(services, 2, "Bruno", member_id=NOMINEE.user_id)
    everything = await services.panellists.list_entries(MAG)
    assert [e.nominee.name for e in everything] == ["Bruno", "Amina"]
    assert everything[1].nominee.contact_claim is None and everything[1].nominee.gender is None
    private = (await services.panellists.list_entries(SECRETARIAT))[1].nominee
    assert (private.contact_claim, private.gender) == ("a@example.org", "Female")
    assert [e.nominee.name for e in await services.panellists.list_entries(PROPOSER)] == ["Amina"]
    assert [e.nominee.name for e in await services.panellists.list_entries(NOMINEE)] == ["Bruno"]
    assert await services.panellists.list_entries(NOBODY) == []
    only_two = await services.panellists.list_entries(SECRETARIAT, proposal_number=2)
    assert [e.label for e in only_two] == ["WS #2"]
    assert await services.panellists.list_entries(SECRETARIAT, status="confirmed") == []

    amina = everything[1].nominee.participation_id
    assert (await services.panellists.view(PROPOSER, amina)).nominee.name == "Amina"
    assert (await services.panellists.view(SECRETARIAT, amina)).nominee.gender == "Female"
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
    ).entry.nominee.participation_id
    await _answer(services, NOMINEE, pid)
    async with db.read() as session:
        events = await recent_events(session, guild_id=GUILD, limit=100)
    text = json.dumps([(e.before, e.after, e.note) for e in events])
    for secret in ("Amina", "amina@example.org", "Prefer not to say", "Knows the subject"):
        assert secret not in text
    assert {"panellist.nominate", "panellist.respond"} <= {e.action for e in events}


async def test_searches_fold_letters_beyond_ascii(services: Services) -> None:
    await submit(services, title="ИНТЕРНЕТ для всех")
    await nominate(services, 1, "Élodie Ωmega")
    found = await services.panellists.search_people(SECRETARIAT, "élodie ω")
    assert [p.name for p in found] == ["Élodie Ωmega"]
    assert [
        r.title for r in await services.proposals.suggest(SECRETARIAT.guild_id, "интернет")
    ] == ["ИНТЕРНЕТ для всех"]


async def test_forget_asks_first_then_erases_everything(services: Services, db: Database) -> None:
    await submit(services)
    await submit(services, SECOND_PROPOSER)
    first = await nominate(services, 1, "Amina", contact="amina@example.org")
    await nominate(services, 2, "Amina", role="rapporteur", gender="Male")  # flagged
    await nominate(services, 2, "Bruno")
    person_id = first.entry.nominee.person_id
    for actor in (MAG, PROPOSER):
        with pytest.raises(PermissionDenied):
            await services.panellists.forget(actor, person_id, confirmed=True)
    assert [p.name for p in await services.panellists.search_people(SECRETARIAT, "ami")] == [
        "Amina"
    ]
    assert await services.panellists.search_people(MAG, "ami") == []
    with pytest.raises(ConfirmationNeeded, match="2 nomination"):
        await services.panellists.forget(SECRETARIAT, person_id)
    assert len(await services.panellists.list_entries(SECRETARIAT)) == 3  # nothing erased yet

    forgotten = await services.panellists.forget(SECRETARIAT, person_id, confirmed=True)
    assert (forgotten.participations, forgotten.proposals) == (2, ["WS #1", "WS #2"])
    remaining = await services.panellists.list_entries(SECRETARIAT)
    assert [e.nominee.name for e in remaining] == ["Bruno"]
    assert (await services.proposals.view(SECRETARIAT, 1)).people == ()
    assert await services.people.flags(SECRETARIAT) == []
    with pytest.raises(NotFound, match="already forgotten"):
        await services.panellists.forget(SECRETARIAT, person_id, confirmed=True)
    async with db.read() as session:
        (event,) = await recent_events(session, guild_id=GUILD, target=f"person:{person_id}")
    assert (event.action, event.before, event.after) == ("person.forget", None, None)
    assert "2 participation(s)" in event.note
    again = await nominate(services, 1, "Amina")
    assert not again.reused and again.entry.nominee.person_id != person_id


async def test_forget_leaves_nothing_readable_in_the_sqlite_files(tmp_path, clock) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/erase.db")
    from storage.schema import metadata

    async with db.engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    services = Services.create(db, clock)
    try:
        await submit(services)
        secret = "Zyxwvut Qponmlk"
        nomination = await nominate(
            services, 1, secret, contact="zyxwvut@secret.example", affiliation="Kjihgf Lab"
        )
        await services.panellists.forget(
            SECRETARIAT, nomination.entry.nominee.person_id, confirmed=True
        )
        found = {
            path.name: path.read_bytes()
            for path in tmp_path.iterdir()
            if path.name.startswith("erase.db")
        }
        assert found, "the database files exist"
        for name, data in found.items():
            for text in (secret, "zyxwvut@secret", "Kjihgf"):
                assert text.encode() not in data, (name, text)
        assert len(found.get("erase.db-wal", b"")) == 0  # the log was emptied
    finally:
        await db.dispose()


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
    pid = (
        await nominate(services, 1, "Amina", member_id=NOMINEE.user_id)
    ).entry.nominee.participation_id
    answered = await _answer(services, NOMINEE, pid)
    assert answered.effect is None  # the hook ran (below); the nominee is not shown it
    await services.proposals.set_status(SECRETARIAT, 1, "under_review")
    accepted = await services.proposals.set_status(SECRETARIAT, 1, "accepted", confirmed=True)
    assert accepted.effect == "effect of proposal accepted"
    assert [(d.subject, d.before, d.after, d.target) for d in seen] == [
        ("participation", "invited", "confirmed", "proposal:1"),
        ("proposal", "under_review", "accepted", "proposal:1"),
    ]


async def test_the_balance_effect_is_shown_only_to_mag_and_secretariat(services: Services) -> None:
    # The effect can tell a nominee's gender: a proposer does not see it.
    seen: list[str] = []

    async def hook(session, decision) -> str:
        seen.append(decision.after)
        return "Gender: Non-binary 0% → 100%"

    services.panellists.on_decision = hook
    await submit(services)
    ids = [(await nominate(services, 1, n)).entry.nominee.participation_id for n in ("A", "B")]
    await agree(services, ids[0])
    by_proposer = await services.panellists.set_status(PROPOSER, ids[0], "withdrawn")
    assert seen == ["confirmed"] and by_proposer.effect is None
    by_secretariat = await agree(services, ids[1], accept=False)
    assert by_secretariat.effect == "Gender: Non-binary 0% → 100%"

"""Screening: each rule of DOMAIN.md, each a guild setting, and applying the results."""

from __future__ import annotations

import pytest

from bot.errors import ConfirmationNeeded, Conflict, NotFound, PermissionDenied
from bot.services.registry import Services
from storage.audit import recent_events
from storage.database import Database
from storage.proposals import get_proposal
from tests.services.factories import (
    ADMIN,
    GUILD,
    MAG,
    PROPOSER,
    SECOND_PROPOSER,
    SECRETARIAT,
    agree,
    eligible_panel,
    mag,
    nominate,
    profile,
    submit,
)


@pytest.fixture
def services(db: Database, clock) -> Services:
    return Services.create(db, clock)


def rules_failed(report, number: int = 1) -> set[str]:
    (result,) = [r for r in report.results if r.number == number]
    return {f.rule for f in result.failures}


async def confirm(services: Services, nomination) -> None:
    await agree(services, nomination.entry.nominee.participation_id)


async def test_a_complete_panel_passes(services: Services) -> None:
    await submit(services)
    await eligible_panel(services, 1)
    report = await services.screening.screen(SECRETARIAT, 1)
    assert report.passed == 1 and report.results[0].failures == []
    detail = await services.proposals.view(SECRETARIAT, 1)
    assert detail.screening == () and detail.screened


async def test_an_empty_proposal_fails_with_every_reason(services: Services) -> None:
    await submit(services)
    report = await services.screening.screen(SECRETARIAT, 1)
    assert rules_failed(report) == {
        "min_speakers_agreed",
        "gender_diversity",
        "min_onsite_moderators",
        "min_onsite_speakers",
    }
    reasons = " ".join(f.reason for f in report.results[0].failures)
    assert "0 speakers agreed in principle; at least 3 needed" in reasons
    assert "No speakers yet" in reasons


async def test_only_speakers_who_agreed_count(services: Services) -> None:
    await submit(services)
    ids = await eligible_panel(services, 1)
    # Dana (the moderator) is not a speaker; Chen declines; a new speaker only nominated.
    await agree(services, ids[2], accept=False)
    await nominate(services, 1, "Eve", gender="Male")
    report = await services.screening.screen(SECRETARIAT, 1)
    assert rules_failed(report) == {"min_speakers_agreed"}
    assert "2 speakers agreed" in report.results[0].failures[0].reason


async def test_gender_diversity_never_guesses(services: Services) -> None:
    await submit(services)
    for name, gender in [("A", "Female"), ("B", "Female"), ("C", "Prefer not to say")]:
        await confirm(services, await nominate(services, 1, name, gender=gender))
    await confirm(services, await nominate(services, 1, "M", role="onsite moderator"))
    report = await services.screening.screen(SECRETARIAT, 1)
    assert rules_failed(report) == {"gender_diversity"}
    reason = report.results[0].failures[0].reason
    assert "Gender diversity not met: fewer than 2 genders among the speakers" in reason
    # Counting those who preferred not to say would tell who they are: it is not said.
    assert "not to say" not in reason and "stated" not in reason
    # A panel where nobody stated a gender reads exactly the same: telling the
    # two apart would say that someone preferred not to.
    await submit(services, title="Second")
    for name in ("E", "F"):
        await confirm(services, await nominate(services, 2, name, gender="Prefer not to say"))
    second = await services.screening.screen(SECRETARIAT, 2)
    assert [f.reason for f in second.results[0].failures if "Gender" in f.reason] == [reason]
    await confirm(services, await nominate(services, 1, "D", gender="Non-binary"))
    assert rules_failed(await services.screening.screen(SECRETARIAT, 1)) == set()


async def test_onsite_moderator_and_speakers(services: Services) -> None:
    await submit(services)
    for name, gender in [("A", "Female"), ("B", "Male")]:
        await confirm(services, await nominate(services, 1, name, gender=gender))
    await confirm(services, await nominate(services, 1, "C", gender="Male", attendance="online"))
    await confirm(
        services, await nominate(services, 1, "M", role="online moderator", attendance="online")
    )
    report = await services.screening.screen(SECRETARIAT, 1)
    assert rules_failed(report) == {"min_onsite_moderators"}
    await services.config.set_rule(ADMIN, "screening.min_onsite_speakers", 3)
    report = await services.screening.screen(SECRETARIAT, 1)
    assert rules_failed(report) == {"min_onsite_moderators", "min_onsite_speakers"}
    assert "2 speakers onsite; at least 3 needed." in {f.reason for f in report.results[0].failures}


async def test_a_mag_proposer_fails(services: Services) -> None:
    await services.config.set_rule(ADMIN, "proposals.mag_may_submit", True)
    await submit(services, MAG)
    await eligible_panel(services, 1)
    report = await services.screening.screen(SECRETARIAT)
    assert rules_failed(report, 1) == {"proposer_not_mag"}
    assert report.results[0].failures[0].reason == "The proposer is a MAG member."


async def test_a_mag_profile_makes_a_proposer_a_mag_member(services: Services) -> None:
    await submit(services)
    await eligible_panel(services, 1)
    # A proposer who got a MAG profile after submitting is caught as well.
    await profile(services, mag(PROPOSER.user_id))
    assert rules_failed(await services.screening.screen(SECRETARIAT, 1)) == {"proposer_not_mag"}
    await services.config.set_rule(ADMIN, "screening.proposer_not_mag", False)
    assert rules_failed(await services.screening.screen(SECRETARIAT, 1)) == set()


async def test_proposals_per_proposer(services: Services) -> None:
    await services.config.set_rule(ADMIN, "proposals.max_per_proposer", 0)
    for i in range(4):
        await submit(services, title=f"T{i}")
        await eligible_panel(services, i + 1, prefix=f"{i}")
    report = await services.screening.screen(SECRETARIAT)
    assert [rules_failed(report, n) for n in (1, 2, 3)] == [set(), set(), set()]
    assert rules_failed(report, 4) == {"max_proposals_per_proposer"}
    # A withdrawn proposal no longer counts.
    await services.proposals.withdraw(PROPOSER, 1)
    assert rules_failed(await services.screening.screen(SECRETARIAT, 4), 4) == set()


async def test_sessions_per_speaker(services: Services) -> None:
    await services.config.set_rule(ADMIN, "proposals.max_per_proposer", 0)
    await services.config.set_rule(ADMIN, "screening.max_proposals_per_proposer", 0)
    for i in range(4):
        await submit(services, title=f"T{i}")
        await eligible_panel(services, i + 1, prefix=f"{i}")
        # The same busy speaker (matched ignoring case and accents) everywhere.
        name = "jose  RAMOS" if i % 2 else "José Ramos"
        await nominate(services, i + 1, name, gender="Male", affiliation="ISOC")
    report = await services.screening.screen(SECRETARIAT)
    for number in (1, 2, 3, 4):
        assert rules_failed(report, number) == {"max_sessions_per_speaker"}
    assert report.results[0].failures[0].reason == "1 speaker is in more than 3 sessions."
    await services.config.set_rule(ADMIN, "screening.max_sessions_per_speaker", 4)
    assert (await services.screening.screen(SECRETARIAT)).passed == 4


async def test_stored_reasons_name_no_person_and_no_gender(
    services: Services, db: Database
) -> None:
    # The reasons are shown to everyone by `/proposal view` and outlive `/panellist forget`.
    await services.config.set_rule(ADMIN, "proposals.max_per_proposer", 0)
    await services.config.set_rule(ADMIN, "screening.max_proposals_per_proposer", 0)
    for i in range(4):
        await submit(services, title=f"T{i}")
        await nominate(services, i + 1, "Zorro Busy", gender="Male", affiliation="ISOC")
    await services.screening.screen(SECRETARIAT, apply=True, confirmed=True)
    async with db.read() as session:
        proposal = await get_proposal(session, guild_id=GUILD, number=1)
    assert proposal is not None and proposal.screening is not None
    shown = await services.proposals.view(PROPOSER, 1)
    assert shown.screening  # as it stands now, for everyone to read
    rules = {f["rule"] for f in proposal.screening["failures"]}
    assert {"gender_diversity", "max_sessions_per_speaker"} <= rules
    async with db.read() as session:
        events = await recent_events(session, guild_id=GUILD, target="proposal:1")
    notes = [e.note or "" for e in events]
    stored = " ".join(
        [
            *(f["reason"] for f in proposal.screening["failures"]),
            *shown.screening,
            proposal.status_reason or "",
            *notes,
        ]
    ).lower()
    assert "fewer than 2 genders" in stored and "1 speaker is in more than 3 sessions" in stored
    for word in ("zorro", "busy", "male", "female", "non-binary", "woman", "man "):
        assert word not in stored


async def test_optional_group_and_region_minimums(services: Services) -> None:
    await submit(services)
    for name, gender in [("A", "Female"), ("B", "Male"), ("C", "Female")]:
        await confirm(services, await nominate(services, 1, name, gender=gender))
    await confirm(services, await nominate(services, 1, "M", role="onsite moderator"))
    assert rules_failed(await services.screening.screen(SECRETARIAT, 1)) == set()
    await services.config.set_rule(ADMIN, "screening.min_stakeholder_groups", 3)
    await services.config.set_rule(ADMIN, "screening.min_regions", 2)
    report = await services.screening.screen(SECRETARIAT, 1)
    assert rules_failed(report) == {"min_stakeholder_groups", "min_regions"}
    assert "1 stakeholder group among the people; at least 3 needed." in {
        f.reason for f in report.results[0].failures
    }


async def test_every_rule_can_be_turned_off(services: Services) -> None:
    for name, value in [
        ("screening.min_speakers_agreed", 0),
        ("screening.gender_diversity", False),
        ("screening.min_onsite_moderators", 0),
        ("screening.min_onsite_speakers", 0),
    ]:
        await services.config.set_rule(ADMIN, name, value)
    await submit(services)
    assert (await services.screening.screen(SECRETARIAT, 1)).passed == 1


async def test_applying_moves_proposals_and_tells_the_proposers(
    services: Services, db: Database
) -> None:
    await submit(services)
    await eligible_panel(services, 1)
    await submit(services, SECOND_PROPOSER)
    with pytest.raises(ConfirmationNeeded, match="will move 2: 1 under review, 1 screened out"):
        await services.screening.screen(SECRETARIAT, apply=True)
    assert (await services.proposals.view(SECRETARIAT, 1)).proposal.ref.status == "submitted"
    report = await services.screening.screen(SECRETARIAT, apply=True, confirmed=True)
    assert [(r.number, r.moved_to, r.proposer_id) for r in report.results] == [
        (1, "under_review", PROPOSER.user_id),
        (2, "screened_out", SECOND_PROPOSER.user_id),
    ]
    second = (await services.proposals.view(SECRETARIAT, 2)).proposal
    assert second.ref.status == "screened_out" and second.status_reason.startswith("Screening: ")
    # Fixed after an appeal: screening again moves it on.
    await eligible_panel(services, 2, prefix="y")
    report = await services.screening.screen(SECRETARIAT, apply=True, confirmed=True)
    assert [(r.number, r.moved_to) for r in report.results] == [(2, "under_review")]
    async with db.read() as session:
        events = await recent_events(session, guild_id=GUILD, target="proposal:2")
    statuses = [e.after["status"] for e in events if e.action == "proposal.status"]
    assert statuses == ["under_review", "screened_out"]
    with pytest.raises(Conflict, match="No proposal is waiting"):
        await services.screening.screen(SECRETARIAT)


async def test_screening_without_applying_changes_no_status(services: Services) -> None:
    await submit(services)
    report = await services.screening.screen(SECRETARIAT)
    assert report.results[0].moved_to is None and not report.applied
    assert (await services.proposals.view(SECRETARIAT, 1)).proposal.ref.status == "submitted"


async def test_only_the_secretariat_screens(services: Services) -> None:
    await submit(services)
    for actor in (PROPOSER, MAG):
        with pytest.raises(PermissionDenied):
            await services.screening.screen(actor)
    with pytest.raises(NotFound):
        await services.screening.screen(SECRETARIAT, 7)

"""Proposals: submission rules, numbering under concurrency, views, edits, statuses."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime

import pytest

from bot.errors import ConfirmationNeeded, Conflict, InvalidInput, NotFound, PermissionDenied
from bot.services.auth import Actor
from bot.services.proposals import (
    TRANSITIONS,
    ProposalService,
    deadlines_from_storage,
    no_deadlines,
)
from bot.services.registry import Services
from bot.services.taxonomy import PROPOSAL_STATUSES
from storage.audit import recent_events
from storage.database import Database
from storage.proposals import get_proposal
from tests.services.factories import (
    ADMIN,
    GUILD,
    MAG,
    MAG2,
    NOBODY,
    OTHER_GUILD,
    PROPOSER,
    SECOND_PROPOSER,
    SECRETARIAT,
    eligible_panel,
    form,
    nominate,
    profile,
    submit,
)


@pytest.fixture
def services(db: Database, clock) -> Services:
    return Services.create(db, clock)


async def test_submission_numbers_per_guild_and_is_audited(services: Services, db) -> None:
    first = await submit(services)
    second = await submit(services, SECOND_PROPOSER, title="Second")
    elsewhere = await submit(services, Actor(guild_id=OTHER_GUILD, user_id=500))
    assert (first.number, second.number, elsewhere.number) == (1, 2, 1)
    assert first.status == "submitted" and first.kind == "workshop"
    assert first.proposer_id == PROPOSER.user_id and first.proposer_name == "Pat Proposer"
    async with db.read() as session:
        (event,) = await recent_events(session, guild_id=GUILD, target="proposal:1")
    assert event.action == "proposal.submit" and event.after["title"] == "Data flows with trust"
    assert event.actor_id == PROPOSER.user_id


async def test_text_is_tidied(services: Services) -> None:
    proposal = await submit(
        services,
        title="  Data\n flows\t with   trust ",
        description="Line one.   \n\n\n\nLine two.  ",
    )
    assert proposal.title == "Data flows with trust"
    assert proposal.description == "Line one.\n\nLine two."


@pytest.mark.parametrize(
    "field", ["title", "description", "policy_questions", "expected_outcomes", "hybrid_plan"]
)
async def test_an_empty_field_is_refused(services: Services, field: str) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        await submit(services, **{field: "   \n "})


async def test_limits_come_from_the_guild_settings(services: Services) -> None:
    with pytest.raises(InvalidInput, match=r"at most 60 characters \(yours has 61"):
        await submit(services, title="x" * 61)
    await services.config.set_rule(ADMIN, "limits.title_max", 80)
    assert (await submit(services, title="x" * 70)).title == "x" * 70
    with pytest.raises(InvalidInput, match="Description can be at most 2000"):
        await submit(services, description="y" * 2001)


async def test_mag_members_may_not_submit_unless_the_guild_allows_it(services: Services) -> None:
    with pytest.raises(PermissionDenied, match="MAG members may not submit"):
        await submit(services, MAG)
    with pytest.raises(PermissionDenied):
        await services.proposals.check_can_submit(
            MAG, kind="workshop", fmt="Panel", duration=60, subtheme="Data Governance & Trust"
        )
    await services.config.set_rule(ADMIN, "proposals.mag_may_submit", True)
    proposal = await submit(services, MAG)
    assert proposal.proposer_is_mag


async def test_a_proposer_has_at_most_three_live_proposals(services: Services) -> None:
    for i in range(3):
        await submit(services, title=f"P{i}")
    with pytest.raises(Conflict, match="already have 3 proposals and the limit is 3"):
        await submit(services, title="P4")
    with pytest.raises(Conflict):
        await services.proposals.check_can_submit(
            PROPOSER, kind="workshop", fmt="Panel", duration=60, subtheme="AI"
        )
    await services.proposals.withdraw(PROPOSER, 1)
    assert (await submit(services, title="P4")).number == 4
    await services.config.set_rule(ADMIN, "proposals.max_per_proposer", 0)  # 0: no limit
    assert (await submit(services, title="P5")).number == 5


async def test_submission_after_the_proposals_deadline_is_refused(db: Database, clock) -> None:
    seen: list[tuple[int, str, datetime]] = []

    async def passed(guild_id: int, kind: str, now: datetime) -> bool:
        seen.append((guild_id, kind, now))
        return kind == "proposals"

    services = Services.create(db, clock)
    services.proposals = ProposalService(db, clock, services.config, passed)
    with pytest.raises(Conflict, match="deadline for proposals has passed"):
        await submit(services)
    assert seen == [(GUILD, "proposals", clock.now)]
    async with db.read() as session:
        assert await get_proposal(session, guild_id=GUILD, number=1) is None


async def test_the_latest_deadline_of_the_kind_decides(db: Database, clock) -> None:
    from storage.deadlines import Deadline

    check = deadlines_from_storage(db)
    assert await check(GUILD, "proposals", clock.now) is False  # no deadline: open
    async with db.write() as session:
        for number, (kind, due) in enumerate(
            [("proposals", datetime(2027, 2, 1, 23, 59, tzinfo=UTC)), ("reviews", None)], 1
        ):
            session.add(
                Deadline(
                    guild_id=GUILD,
                    number=number,
                    title=kind,
                    kind=kind,
                    timezone="UTC",
                    first_local="2027-02-01 23:59",
                    offsets=[],
                    due_at=due or datetime(2027, 4, 1, 23, 59, tzinfo=UTC),
                )
            )
    assert await check(GUILD, "proposals", clock.now) is True
    assert await check(GUILD, "reviews", clock.now) is False
    assert await check(OTHER_GUILD, "proposals", clock.now) is False
    assert await no_deadlines(GUILD, "proposals", clock.now) is False


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"fmt": "Lecture"}, "not a format"),
        ({"duration": 45}, "30, 60, 90 minutes"),
        ({"subtheme": "Space travel"}, "not a subtheme"),
        ({"kind": "keynote"}, "not a session kind"),
    ],
)
async def test_choices_are_checked(services: Services, changes, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        await submit(services, **changes)


async def test_choices_match_ignoring_case_and_accents(services: Services) -> None:
    proposal = await submit(
        services, fmt="birds of a FEATHER", subtheme="data governance", kind="Open Forum"
    )
    assert (proposal.format, proposal.subtheme, proposal.kind) == (
        "Birds of a Feather",
        "Data Governance & Trust",
        "open_forum",
    )


async def test_concurrent_submissions_get_distinct_numbers(services: Services) -> None:
    actors = [Actor(guild_id=GUILD, user_id=1000 + i) for i in range(20)]
    proposals = await asyncio.gather(*(submit(services, a) for a in actors))
    assert sorted(p.number for p in proposals) == list(range(1, 21))


async def test_concurrent_submissions_respect_the_per_proposer_limit(services: Services) -> None:
    results = await asyncio.gather(
        *(submit(services, title=f"T{i}") for i in range(6)), return_exceptions=True
    )
    made = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert (len(made), len(refused)) == (3, 3)
    assert sorted(p.number for p in made) == [1, 2, 3]


async def test_view_shows_scores_only_to_the_secretariat(services: Services) -> None:
    await submit(services)
    await nominate(services, 1, "Amina", contact="amina@example.org")
    public = await services.proposals.view(NOBODY, 1)
    assert public.scores is None and not public.private
    # Who is nominated is for the proposer, MAG and secretariat: others see how many.
    assert public.people is None and public.people_count == 1
    assert public.label == "WS #1" and public.review_count == 0
    for reader in (PROPOSER, MAG):
        detail = await services.proposals.view(reader, 1)
        assert detail.people is not None
        assert [(n.name, n.gender, n.contact_claim) for n in detail.people] == [
            ("Amina", None, None)
        ]
    secretariat = await services.proposals.view(SECRETARIAT, 1)
    assert secretariat.private and secretariat.scores is not None
    assert secretariat.scores.count == 0
    assert secretariat.people is not None and secretariat.people[0].gender == "Female"


async def test_proposals_of_another_guild_are_invisible(services: Services) -> None:
    await submit(services)
    with pytest.raises(NotFound, match="no proposal #1"):
        await services.proposals.view(Actor(guild_id=OTHER_GUILD, user_id=1), 1)


async def test_list_pages_and_filters(services: Services) -> None:
    await services.config.set_rule(ADMIN, "proposals.max_per_proposer", 0)
    for i in range(23):
        await submit(services, title=f"T{i}", subtheme="AI" if i % 2 else "Data Governance")
    await submit(services, SECOND_PROPOSER)
    await services.proposals.set_status(SECRETARIAT, 2, "under_review")

    first = await services.proposals.list_page(NOBODY)
    assert (first.total, first.pages, first.page) == (24, 3, 0)
    assert [p.number for p in first.items] == list(range(1, 11))
    last = await services.proposals.list_page(NOBODY, page=99)
    assert last.page == 2 and [p.number for p in last.items] == [21, 22, 23, 24]

    ai = await services.proposals.list_page(NOBODY, subtheme="ai & emerging")
    assert ai.total == 11 and all(p.subtheme.startswith("AI") for p in ai.items)
    reviewing = await services.proposals.list_page(NOBODY, status="under review")
    assert [p.number for p in reviewing.items] == [2]
    mine = await services.proposals.list_page(SECOND_PROPOSER, mine=True)
    assert [p.number for p in mine.items] == [24]
    with pytest.raises(InvalidInput, match="not a status"):
        await services.proposals.list_page(NOBODY, status="pending")


async def test_edit_by_the_proposer_while_submitted(services: Services, db) -> None:
    await submit(services)
    assert (await services.proposals.editable(PROPOSER, 1))[0].ref.number == 1
    edited = await services.proposals.edit(
        PROPOSER, 1, form(title="Better title"), duration=90, subtheme="AI"
    )
    assert (edited.ref.title, edited.duration, edited.ref.subtheme) == (
        "Better title",
        90,
        "AI & Emerging Technologies",
    )
    async with db.read() as session:
        event = (await recent_events(session, guild_id=GUILD, target="proposal:1"))[0]
    assert event.action == "proposal.edit"
    assert event.before == {
        "title": "Data flows with trust",
        "duration": 60,
        "subtheme": "Data Governance & Trust",
    }
    # The same form again changes nothing and records nothing.
    await services.proposals.edit(PROPOSER, 1, form(title="Better title"))
    async with db.read() as session:
        assert len(await recent_events(session, guild_id=GUILD, target="proposal:1")) == 2


async def test_edit_keeps_a_removed_subtheme_unless_a_new_one_is_given(
    services: Services,
) -> None:
    await submit(services)
    await services.config.remove_subtheme(ADMIN, "Data Governance & Trust")
    # Editing only the text checks no stored choice: the removed subtheme stays.
    edited = await services.proposals.edit(PROPOSER, 1, form(title="Only the text"))
    assert (edited.ref.title, edited.ref.subtheme) == ("Only the text", "Data Governance & Trust")
    # A new format or duration does not re-check the stored subtheme either.
    edited = await services.proposals.edit(PROPOSER, 1, form(title="Only the text"), duration=90)
    assert (edited.duration, edited.ref.subtheme) == (90, "Data Governance & Trust")
    # A new subtheme is checked against the current list.
    with pytest.raises(InvalidInput, match="not a subtheme"):
        await services.proposals.edit(
            PROPOSER, 1, form(title="Only the text"), subtheme="Data Governance & Trust"
        )
    edited = await services.proposals.edit(PROPOSER, 1, form(title="Only the text"), subtheme="AI")
    assert edited.ref.subtheme == "AI & Emerging Technologies"


async def test_edit_permissions(services: Services) -> None:
    await submit(services)
    with pytest.raises(PermissionDenied, match="Only the proposer"):
        await services.proposals.editable(NOBODY, 1)
    with pytest.raises(PermissionDenied):
        await services.proposals.edit(MAG, 1, form(title="Hijack"))
    await services.proposals.set_status(SECRETARIAT, 1, "under_review")
    with pytest.raises(Conflict, match="only the secretariat can edit"):
        await services.proposals.edit(PROPOSER, 1, form(title="Late change"))
    edited = await services.proposals.edit(SECRETARIAT, 1, form(title="Secretariat fix"))
    assert edited.ref.title == "Secretariat fix"
    with pytest.raises(InvalidInput, match="Title can be at most 60"):
        await services.proposals.edit(SECRETARIAT, 1, form(title="z" * 61))


async def test_withdraw(services: Services) -> None:
    await submit(services)
    await submit(services, SECOND_PROPOSER)
    with pytest.raises(PermissionDenied, match="Only the proposer"):
        await services.proposals.withdraw(NOBODY, 1)
    own = await services.proposals.withdraw(PROPOSER, 1, "Merged with a partner's session")
    assert (own.before, own.after, own.notify_user_id) == ("submitted", "withdrawn", None)
    assert own.reason == "Merged with a partner's session"
    with pytest.raises(Conflict, match="already withdrawn"):
        await services.proposals.withdraw(PROPOSER, 1)
    by_secretariat = await services.proposals.withdraw(SECRETARIAT, 2)
    assert by_secretariat.notify_user_id == SECOND_PROPOSER.user_id


async def _force_status(db: Database, number: int, status: str) -> None:
    async with db.write() as session:
        proposal = await get_proposal(session, guild_id=GUILD, number=number)
        assert proposal is not None
        proposal.status = status


async def test_every_status_transition(services: Services, db: Database) -> None:
    await services.config.set_rule(ADMIN, "proposals.max_per_proposer", 0)
    pairs = list(itertools.product(PROPOSAL_STATUSES, PROPOSAL_STATUSES))
    for number, _ in enumerate(pairs, start=1):
        await submit(services, title=f"T{number}")
    for number, (before, after) in enumerate(pairs, start=1):
        await _force_status(db, number, before)
        if after == "conditional" or (before, after) == ("conditional", "accepted"):
            # These go through /decision (conditions to state, or to check off).
            with pytest.raises(InvalidInput, match="/decision"):
                await services.proposals.set_status(SECRETARIAT, number, after, confirmed=True)
        elif after in TRANSITIONS[before]:
            merged_into = (len(pairs) if number != len(pairs) else 1) if after == "merged" else None
            if merged_into is not None:
                await _force_status(db, merged_into, "under_review")
            change = await services.proposals.set_status(
                SECRETARIAT, number, after, "why", merged_into=merged_into, confirmed=True
            )
            assert (change.before, change.after) == (before, after)
            assert change.notify_user_id == PROPOSER.user_id
        else:
            with pytest.raises(Conflict):
                await services.proposals.set_status(SECRETARIAT, number, after, confirmed=True)


async def test_status_changes_need_the_secretariat(services: Services, db: Database) -> None:
    await submit(services)
    for actor in (PROPOSER, MAG, NOBODY):
        with pytest.raises(PermissionDenied, match="Only the secretariat"):
            await services.proposals.set_status(actor, 1, "under_review")
    change = await services.proposals.set_status(ADMIN, 1, "under_review")
    assert change.after == "under_review"
    with pytest.raises(InvalidInput, match="not a status"):
        await services.proposals.set_status(SECRETARIAT, 1, "approved")
    async with db.read() as session:
        event = (await recent_events(session, guild_id=GUILD, target="proposal:1"))[0]
    assert (event.before, event.after["status"]) == ({"status": "submitted"}, "under_review")


async def test_merging_names_the_target(services: Services) -> None:
    await submit(services)
    await submit(services, SECOND_PROPOSER)
    change = await services.proposals.set_status(SECRETARIAT, 1, "merged", merged_into=2)
    assert change.after == "merged" and change.reason == "Merged into WS #2."
    # A merge goes into a live proposal only, so merges never make a cycle.
    with pytest.raises(Conflict, match="only be merged into a live one"):
        await services.proposals.set_status(SECRETARIAT, 2, "merged", merged_into=1)
    with pytest.raises(InvalidInput, match="Say which proposal"):
        await services.proposals.set_status(SECRETARIAT, 2, "merged")
    with pytest.raises(InvalidInput, match="itself"):
        await services.proposals.set_status(SECRETARIAT, 2, "merged", merged_into=2)
    with pytest.raises(NotFound):
        await services.proposals.set_status(SECRETARIAT, 2, "merged", merged_into=99)
    with pytest.raises(InvalidInput, match="merged only"):
        await services.proposals.set_status(SECRETARIAT, 2, "under_review", merged_into=1)


async def test_a_title_never_outgrows_an_embed(services: Services) -> None:
    await services.config.set_rule(ADMIN, "limits.title_max", 10_000)
    assert (await services.proposals.form_limits(GUILD))["title"] == 200
    with pytest.raises(InvalidInput, match="at most 200"):
        await submit(services, title="t" * 201)


async def test_a_form_sent_twice_makes_one_proposal(services: Services) -> None:
    async def send() -> object:
        return await services.proposals.submit(
            PROPOSER,
            fmt="Panel",
            duration=60,
            subtheme="AI",
            form=form(),
            submission_key="same-form",
        )

    first, second = await asyncio.gather(send(), send())
    third = await send()
    numbers = {r.proposal.ref.number for r in (first, second, third)}  # type: ignore[attr-defined]
    assert numbers == {1}
    assert sorted(r.again for r in (first, second, third)) == [False, True, True]  # type: ignore[attr-defined]
    assert (await services.proposals.list_page(NOBODY)).total == 1


async def test_heavy_and_premature_decisions_ask_first(services: Services, clock) -> None:
    await submit(services)
    await services.proposals.set_status(SECRETARIAT, 1, "under_review")
    # Rejecting always asks: the proposer will be told.
    with pytest.raises(ConfirmationNeeded, match="will become rejected"):
        await services.proposals.set_status(SECRETARIAT, 1, "rejected")
    # Accepting with reviewers who have not scored, before the review deadline,
    # and never screened: each reason is named.
    for member in (MAG, MAG2):
        await profile(services, member)
    await services.reviews.assign(SECRETARIAT, 2, confirmed=True)
    await services.deadlines.add(
        SECRETARIAT, title="Scoring closes", due="2027-03-20 23:59", kind="reviews", channel_id=1
    )
    with pytest.raises(ConfirmationNeeded) as asked:
        await services.proposals.set_status(SECRETARIAT, 1, "accepted")
    text = " ".join(asked.value.warnings)
    assert "2 assigned reviewers have not scored" in text
    assert "review deadline has not passed" in text and "never screened" in text
    assert (await services.proposals.view(SECRETARIAT, 1)).proposal.ref.status == "under_review"
    accepted = await services.proposals.set_status(SECRETARIAT, 1, "accepted", confirmed=True)
    assert accepted.after == "accepted"
    # Withdrawing an accepted proposal asks too, even its proposer.
    with pytest.raises(ConfirmationNeeded, match="will become withdrawn"):
        await services.proposals.withdraw(PROPOSER, 1)
    assert (await services.proposals.withdraw(PROPOSER, 1, confirmed=True)).after == "withdrawn"


async def test_the_view_shows_screening_as_it_stands_now(services: Services) -> None:
    await submit(services)
    report = await services.screening.screen(SECRETARIAT, 1)
    assert not report.results[0].passed
    before = await services.proposals.view(NOBODY, 1)
    assert before.screening and any("speakers agreed" in r for r in before.screening)
    await eligible_panel(services, 1)
    after = await services.proposals.view(NOBODY, 1)
    assert after.screening == ()  # passes now, though the stored run said it failed

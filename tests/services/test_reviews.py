"""MAG evaluation: scoring rules, conflicts (declared and automatic), assignment, results."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.errors import ConfirmationNeeded, Conflict, InvalidInput, PermissionDenied
from bot.services.registry import Services
from bot.services.reviews import ReviewService
from bot.services.scoring import ScoreSummary, ranking_key, summaries
from storage.audit import recent_events
from storage.database import Database
from storage.outbox import OutboxItem
from storage.proposals import Proposal
from storage.reviews import list_assignments
from tests.services.factories import (
    ADMIN,
    GUILD,
    MAG,
    MAG2,
    NOBODY,
    PROPOSER,
    SECOND_PROPOSER,
    SECRETARIAT,
    mag,
    nominate,
    profile,
    submit,
)


async def assigned_rows(db: Database) -> list[OutboxItem]:
    async with db.read() as session:
        rows = (await session.exec(select(OutboxItem))).all()
    return [r for r in rows if r.kind == "review-assigned"]


@pytest.fixture
def services(db: Database, clock) -> Services:
    return Services.create(db, clock)


async def test_a_score_is_stored_and_replaced(services: Services, db: Database) -> None:
    await submit(services)
    first = await services.reviews.score(MAG, 1, 4)
    assert first.replaced_score is None and first.score == 4 and first.label == "WS #1"
    second = await services.reviews.score(MAG, 1, 2, "Speakers not confirmed", merge=True)
    assert second.replaced_score == 4
    assert (second.score, second.merge) == (2, True)
    detail = await services.proposals.view(SECRETARIAT, 1)
    assert detail.review_count == 1 and detail.scores.mean == 2.0 and detail.scores.merges == 1
    async with db.read() as session:
        events = await recent_events(session, guild_id=GUILD, target="proposal:1")
    scored = [e for e in events if e.action == "review.score"]
    assert [e.after["score"] for e in scored] == [2, 4]
    assert scored[0].before == {"score": 4, "comment": None, "merge": False}


async def test_concurrent_scores_of_one_member_make_one_review(services: Services) -> None:
    await submit(services)
    await asyncio.gather(*(services.reviews.score(MAG, 1, s) for s in (4, 5, 4, 5)))
    assert (await services.proposals.view(SECRETARIAT, 1)).review_count == 1


@pytest.mark.parametrize(
    ("score", "comment", "message"),
    [
        (0, "x", "from 1 to 5"),
        (6, None, "from 1 to 5"),
        (3, None, "needs a comment"),
        (1, "  \n ", "needs a comment"),
        (5, "c" * 2001, "at most 2000"),
    ],
)
async def test_bad_scores_are_refused(services: Services, score, comment, message) -> None:
    await submit(services)
    with pytest.raises(InvalidInput, match=message):
        await services.reviews.score(MAG, 1, score, comment)


async def test_the_comment_threshold_is_a_setting(services: Services) -> None:
    await submit(services)
    await services.config.set_rule(ADMIN, "reviews.comment_required_max_score", 1)
    assert (await services.reviews.score(MAG, 1, 2)).comment is None
    with pytest.raises(InvalidInput, match="score of 1 or less"):
        await services.reviews.score(MAG, 1, 1)


async def test_only_mag_members_score(services: Services) -> None:
    await submit(services)
    for actor in (SECRETARIAT, PROPOSER, NOBODY, ADMIN):
        with pytest.raises(PermissionDenied, match="Only MAG members"):
            await services.reviews.score(actor, 1, 4)


@pytest.mark.parametrize("status", ["withdrawn", "screened_out"])
async def test_closed_proposals_are_not_scored(services: Services, status: str) -> None:
    await submit(services)
    await services.proposals.set_status(SECRETARIAT, 1, status)
    with pytest.raises(Conflict, match="it is not scored"):
        await services.reviews.score(MAG, 1, 4)


async def test_only_workshops_are_scored(services: Services) -> None:
    await submit(services, kind="open_forum")
    with pytest.raises(Conflict, match="OF #1 is not a workshop"):
        await services.reviews.score(MAG, 1, 4)


async def test_scores_after_the_review_deadline_are_refused(db: Database, clock) -> None:
    async def passed(guild_id: int, kind: str, now: datetime) -> bool:
        return kind == "reviews"

    services = Services.create(db, clock)
    services.reviews = ReviewService(db, clock, services.config, passed)
    await submit(services)
    with pytest.raises(Conflict, match="review deadline has passed"):
        await services.reviews.score(MAG, 1, 4)


async def test_a_declared_conflict(services: Services, db: Database) -> None:
    await submit(services)
    await services.reviews.score(MAG, 1, 5)
    await services.reviews.score(MAG2, 1, 2, "Weak")
    result = await services.reviews.declare_conflict(MAG, 1, "My employer organises it")
    assert result.score_excluded and not result.unassigned
    with pytest.raises(Conflict, match="already declared"):
        await services.reviews.declare_conflict(MAG, 1)
    with pytest.raises(Conflict, match="you declared a conflict"):
        await services.reviews.score(MAG, 1, 4)
    (row,) = (await services.reviews.results(SECRETARIAT)).rows
    assert (row.summary.count, row.summary.mean, row.summary.excluded) == (1, 2.0, 1)
    detail = await services.proposals.view(SECRETARIAT, 1)
    assert detail.review_count == 2 and detail.scores.count == 1
    async with db.read() as session:
        (event,) = [
            e
            for e in await recent_events(session, guild_id=GUILD, target="proposal:1")
            if e.action == "review.conflict"
        ]
    assert event.note == "My employer organises it" and event.after["score_excluded"]


async def test_conflict_counts_when_the_member_agreed_to_be_on_it(services: Services) -> None:
    await submit(services)
    await profile(services, MAG)
    pid = (
        await nominate(services, 1, "Mia Mag", member_id=MAG.user_id)
    ).entry.nominee.participation_id
    # Named by someone else: only suspected; the member may still score.
    scored = await services.reviews.score(MAG, 1, 4)
    assert scored.suspected == ("were nominated to it",)
    change = await services.panellists.respond(
        guild_id=GUILD, user_id=MAG.user_id, participation_id=pid, accept=True
    )
    assert change.conflict_note  # their own Confirm: the conflict now counts, they are told
    with pytest.raises(Conflict, match="you are on it"):
        await services.reviews.score(MAG, 1, 4)
    assert (await services.proposals.view(SECRETARIAT, 1)).scores.excluded == 1
    # Once they are off it, the conflict is gone.
    await services.panellists.set_status(SECRETARIAT, pid, "withdrawn")
    assert (await services.reviews.score(MAG, 1, 4)).score == 4


async def test_what_a_proposer_types_never_voids_chosen_scores(services: Services) -> None:
    # The outside review's reproduction: scores 1, 2, 5 (mean 2.67); the proposer then
    # names a decoy as the first member and an organizer with the second's affiliation.
    await submit(services)
    await profile(services, MAG, affiliation="Org A")
    await profile(services, MAG2, affiliation="Org B")
    third = mag(102)
    await services.reviews.score(MAG, 1, 1, "Weak")
    await services.reviews.score(MAG2, 1, 2, "Thin")
    await services.reviews.score(third, 1, 5)
    await nominate(services, 1, "Decoy", actor=PROPOSER, member_id=MAG.user_id)
    await nominate(services, 1, "Olu", actor=PROPOSER, role="organizer", affiliation="org b")
    (row,) = (await services.reviews.results(SECRETARIAT)).rows
    assert row.summary.mean == pytest.approx(8 / 3) and row.summary.excluded == 0
    # The first member can still score; both see why a conflict is suspected.
    assert (await services.reviews.score(MAG, 1, 1, "Still weak")).suspected
    suspected = await services.reviews.suspected(SECRETARIAT)
    assert {(s.member_id, s.reasons, s.score) for s in suspected} == {
        (MAG.user_id, ("was nominated to it",), 1),
        (MAG2.user_id, ("shares an affiliation with its organizers",), 2),
    }
    # The secretariat decides, with a reason, audited.
    with pytest.raises(InvalidInput, match="Say why"):
        await services.reviews.decide_conflict(
            SECRETARIAT, 1, MAG.user_id, conflict=False, reason=""
        )
    with pytest.raises(PermissionDenied):
        await services.reviews.decide_conflict(PROPOSER, 1, MAG.user_id, conflict=True, reason="x")
    await services.reviews.decide_conflict(
        SECRETARIAT, 1, MAG.user_id, conflict=False, reason="The decoy is not her"
    )
    confirmed = await services.reviews.decide_conflict(
        SECRETARIAT, 1, MAG2.user_id, conflict=True, reason="Her employer organises it"
    )
    assert confirmed.score_excluded
    assert await services.reviews.suspected(SECRETARIAT) == []
    (row,) = (await services.reviews.results(SECRETARIAT)).rows
    assert row.summary.mean == pytest.approx(3.0) and row.summary.excluded == 1
    with pytest.raises(Conflict, match="already"):
        await services.reviews.decide_conflict(
            SECRETARIAT, 1, MAG2.user_id, conflict=True, reason="again"
        )


async def test_an_affiliation_shared_with_the_proposer_is_suspected(services: Services) -> None:
    await submit(services)
    # The proposer is known as a person confirmed as their account, on another proposal.
    await submit(services, SECOND_PROPOSER)
    pid = (
        await nominate(services, 2, "Pat", affiliation="Université X", member_id=PROPOSER.user_id)
    ).entry.nominee.participation_id
    await services.panellists.respond(
        guild_id=GUILD, user_id=PROPOSER.user_id, participation_id=pid, accept=True
    )
    await profile(services, MAG, affiliation="universite x")
    assert (await services.reviews.score(MAG, 1, 4)).suspected == (
        "share an affiliation with its proposer",
    )
    (item,) = await services.reviews.suspected(SECRETARIAT)
    assert (item.proposal.number, item.member_id, item.score) == (1, MAG.user_id, 4)


async def test_conflict_when_the_member_submitted_it(services: Services) -> None:
    await services.config.set_rule(ADMIN, "proposals.mag_may_submit", True)
    await submit(services, MAG)
    with pytest.raises(Conflict, match="you submitted it"):
        await services.reviews.score(MAG, 1, 5)


async def _scores(services: Services, number: int, scores: list[int]) -> None:
    for i, score in enumerate(scores):
        await services.reviews.score(mag(200 + i), number, score, "why" if score <= 3 else None)


async def test_results_rank_deterministically(services: Services) -> None:
    await services.config.set_rule(ADMIN, "proposals.max_per_proposer", 0)
    for i in range(6):
        await submit(services, title=f"T{i}", subtheme="AI" if i == 5 else "Data Governance")
    await _scores(services, 1, [4, 4])  # mean 4, median 4, n 2
    await _scores(services, 2, [5, 3])  # mean 4, median 4, n 2: tie with #1, number decides
    await _scores(services, 3, [3, 4, 5])  # mean 4, median 4, n 3: more reviews first
    await _scores(services, 4, [5, 5, 2])  # mean 4, median 5: higher median first
    await _scores(services, 5, [5])  # mean 5
    # Proposal 6 has no score: last.
    rows = (await services.reviews.results(SECRETARIAT)).rows
    assert [r.proposal.number for r in rows] == [5, 4, 3, 1, 2, 6]
    assert [r.rank for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[1].summary.median == 5 and rows[1].summary.spread == pytest.approx(1.414, 0.01)
    assert rows[-1].summary.count == 0 and rows[-1].summary.mean is None
    ai = (await services.reviews.results(SECRETARIAT, subtheme="AI")).rows
    assert [r.proposal.number for r in ai] == [6]
    await services.proposals.set_status(SECRETARIAT, 4, "under_review")
    reviewing = (await services.reviews.results(SECRETARIAT, status="under_review")).rows
    assert [r.proposal.number for r in reviewing] == [4]
    second = await services.reviews.results(SECRETARIAT, page=1, page_size=4)
    assert (second.total, second.pages, [r.rank for r in second.rows]) == (6, 2, [5, 6])
    assert [r.proposal.number for r in second.rows] == [2, 6]
    beyond = await services.reviews.results(SECRETARIAT, page=9, page_size=4)
    assert beyond.page == 1 and [r.proposal.number for r in beyond.rows] == [2, 6]
    with pytest.raises(PermissionDenied):
        await services.reviews.results(MAG)


async def test_results_leave_out_withdrawn_proposals(services: Services) -> None:
    await submit(services)
    await submit(services, SECOND_PROPOSER)
    await services.proposals.withdraw(PROPOSER, 1)
    rows = (await services.reviews.results(SECRETARIAT)).rows
    assert [r.proposal.number for r in rows] == [2]


async def test_assignment_end_to_end(services: Services, db: Database) -> None:
    with pytest.raises(Conflict, match="No workshop"):
        await services.reviews.assign(SECRETARIAT, 3)
    await services.config.set_rule(ADMIN, "proposals.max_per_proposer", 0)
    for i in range(10):
        await submit(services, title=f"T{i}")
    await submit(services, kind="town_hall")  # not scored, so not assigned
    with pytest.raises(Conflict, match="No MAG member with the MAG role has a profile"):
        await services.reviews.assign(SECRETARIAT, 3)
    groups = ["Government", "Civil Society", "Technical Community", "Private Sector"]
    members = [mag(300 + i) for i in range(8)]
    for i, member in enumerate(members):
        await profile(services, member, group=groups[i % 4], affiliation=f"Org {i}")
    # A conflict that counts: member 300 declared one on proposal 1.
    await services.reviews.declare_conflict(members[0], 1)
    with pytest.raises(PermissionDenied):
        await services.reviews.assign(MAG, 3)

    with pytest.raises(ConfirmationNeeded, match="will add 30 assignment"):
        await services.reviews.assign(SECRETARIAT, 3)
    result = await services.reviews.assign(SECRETARIAT, 3, confirmed=True)
    plan = result.plan
    assert (result.proposals, result.members) == (10, 8)
    assert len(plan.assignments) == 30 and result.load_range == (3, 4)
    assert not plan.few_groups
    proposal_ids = {p: pid for pid, p in result.labels.items()}
    assert (proposal_ids["WS #1"], 300) not in plan.assignments
    # Each of the 8 reviewers is told once, by DM through the outbox, of what this run gave them.
    notices = await assigned_rows(db)
    assert len(notices) == 8 and sorted(r.lane for r in notices) == sorted(
        f"u:{m.user_id}" for m in members
    )
    assert sum(r.payload["added"] for r in notices) == 30

    # Queues: assigned and unscored; scoring one removes it; a conflict too.
    queue = await services.reviews.queue(members[1])
    assert queue and all(item.proposal.kind == "workshop" for item in queue)
    first = queue[0].proposal.number
    await services.reviews.score(members[1], first, 4)
    after = await services.reviews.queue(members[1])
    assert first not in [item.proposal.number for item in after]
    if after:
        declared = await services.reviews.declare_conflict(members[1], after[0].proposal.number)
        assert declared.unassigned
        left = await services.reviews.queue(members[1])
        assert after[0].proposal.number not in [item.proposal.number for item in left]

    # Re-running keeps what still holds and fills the gap the conflict left.
    again = await services.reviews.assign(SECRETARIAT, 3, confirmed=True)
    assert len(again.plan.assignments) == 30
    # Only those this run gave new proposals to hear of it again.
    assert len(await assigned_rows(db)) == 8 + len({m for _p, m in again.plan.added})
    assert len(again.plan.kept) >= 28
    async with db.read() as session:
        stored = await list_assignments(session, guild_id=GUILD)
        events = await recent_events(session, guild_id=GUILD, target="reviews")
    assert stored == set(again.plan.assignments)
    assert [e.action for e in events] == ["review.assign", "review.assign"]
    with pytest.raises(InvalidInput):
        await services.reviews.assign(SECRETARIAT, 0)


async def test_what_a_proposer_types_does_not_choose_their_reviewers(
    services: Services, db: Database
) -> None:
    # A proposer names one MAG member's account and another's organisation on
    # their proposal: both are only suspected conflicts, so assignment still
    # gives the proposal to every member (three members, three reviewers).
    await submit(services)
    members = [mag(310 + i) for i in range(3)]
    for i, member in enumerate(members):
        await profile(services, member, affiliation=f"Org {i}")
    await nominate(services, 1, "Olu", role="organizer", affiliation="Org 0")
    await nominate(services, 1, "Ada", member_id=members[1].user_id)
    result = await services.reviews.assign(SECRETARIAT, 3, confirmed=True)
    assert {m for _, m in result.plan.assignments} == {m.user_id for m in members}
    # The suspicion is shown to the member, and a score keeps counting.
    queue = await services.reviews.queue(members[0])
    assert [item.proposal.number for item in queue] == [1]


async def test_the_queue_is_for_mag_members(services: Services) -> None:
    with pytest.raises(PermissionDenied):
        await services.reviews.queue(NOBODY)
    assert await services.reviews.queue(MAG) == []


async def test_the_ranking_in_sql_matches_the_summaries(services: Services, db: Database) -> None:
    """The SQL ranking orders exactly as the Python summaries would, conflicts left out."""
    rnd = random.Random(11)
    await services.config.set_rule(ADMIN, "proposals.max_per_proposer", 0)
    members = [mag(400 + i) for i in range(9)]
    for i in range(30):
        await submit(services, title=f"T{i}")
    for number in range(1, 31):
        for member in rnd.sample(members, rnd.randint(0, 6)):
            score = rnd.randint(1, 5)
            await services.reviews.score(
                member, number, score, "why" if score <= 3 else None, merge=rnd.random() < 0.2
            )
    for number in rnd.sample(range(1, 31), 8):  # some scores stop counting
        await services.reviews.declare_conflict(rnd.choice(members), number)
    await profile(services, members[0], affiliation="Org A")
    await nominate(services, 3, "Olu", role="organizer", affiliation="org a")
    ranked = []
    for page in range(3):
        ranked += (await services.reviews.results(SECRETARIAT, page=page, page_size=12)).rows
    async with db.read() as session:
        expected = await summaries(session, guild_id=GUILD)
    empty = ScoreSummary.of([])
    order = sorted(range(1, 31), key=lambda n: ranking_key(n, expected.get(n, empty)))
    assert [r.proposal.number for r in ranked] == order
    for row in ranked:
        assert row.summary == expected.get(row.proposal.id, empty)


async def test_progress_counts_scored_set_aside_and_not_started(
    services: Services, db: Database
) -> None:
    from storage.reviews import add_assignments

    for _ in range(3):
        await submit(services)
    await profile(services, MAG)  # MAG2 has no profile
    async with db.write() as session:
        await add_assignments(
            session,
            guild_id=GUILD,
            pairs=[(p, m.user_id) for p in (1, 2, 3) for m in (MAG, MAG2)],
            at=datetime(2027, 3, 1, tzinfo=UTC),
        )
    await services.reviews.score(MAG, 1, 4)
    # A declared conflict takes the proposal out of the member's assignments.
    await services.reviews.declare_conflict(MAG, 2, "my employer organises it")
    report = await services.reviews.progress(SECRETARIAT)
    rows = {r.member_id: r for r in report.reviewers}
    first, second = rows[MAG.user_id], rows[MAG2.user_id]
    assert (first.assigned, first.scored, first.to_score) == (2, 1, 1)
    assert (second.assigned, second.scored, second.to_score) == (3, 0, 3)
    assert [r.member_id for r in report.not_started] == [MAG2.user_id]
    assert [r.member_id for r in report.without_profile] == [MAG2.user_id]
    assert (report.assigned, report.scored) == (5, 1)
    mine, _closes = await services.reviews.my_progress(MAG)
    assert mine is not None and (mine.scored, mine.assigned) == (1, 2)
    with pytest.raises(PermissionDenied):
        await services.reviews.progress(MAG)


def test_normalisation_puts_a_harsh_and_a_lenient_reviewer_on_one_scale() -> None:
    from bot.services.scoring import borderline, normalised_means, standings

    # Reviewer 1 is harsh (1–3), reviewer 2 lenient (3–5); each ranks their own pair the same way.
    scores = [(10, 1, 3), (11, 1, 1), (12, 2, 5), (13, 2, 3)]
    z = normalised_means(scores)
    assert z[10] == pytest.approx(1.0) and z[12] == pytest.approx(1.0)
    assert z[11] == pytest.approx(-1.0) and z[13] == pytest.approx(-1.0)
    # One score, or the same score everywhere, says nothing about a scale: 0.
    assert normalised_means([(20, 3, 4)]) == {20: 0.0}
    ranked = standings({10: 1, 11: 2, 12: 3, 13: 4, 14: 5}, scores)
    assert [s.number for s in ranked] == [3, 1, 4, 2, 5]  # raw: lenient reviewer's first
    by = {s.number: s for s in ranked}
    assert by[1].z_rank <= 2 and by[3].z_rank <= 2  # normalised: the two best of each
    assert by[5].summary.count == 0 and by[5].z is None and by[5].rank == 5
    # Two places: #1 (raw 3.0, third) is in when normalised, out by raw mean.
    cut, near = borderline(ranked, 2, 0.0)
    assert cut == 3.0
    assert {s.number for s in near} >= {1, 4}


async def test_borderline_lists_the_band_and_refuses_bad_asks(
    services: Services, db: Database
) -> None:
    await services.config.set_rule(ADMIN, "proposals.max_per_proposer", 0)
    for i in range(4):
        await submit(services, title=f"T{i}")
    reviewers = [mag(400 + i) for i in range(2)]
    for proposal, member, score in [(1, 0, 5), (2, 0, 4), (3, 1, 4), (4, 1, 2)]:
        await services.reviews.score(
            reviewers[member], proposal, score, comment="why" if score <= 3 else None
        )
    report = await services.reviews.borderline(SECRETARIAT, 2)
    assert report.ranked == 4 and report.cut == 4.0 and report.points == 0.5
    listed = {row.label for row in report.rows}
    assert {"WS #2", "WS #3"} <= listed and "WS #4" not in listed
    with pytest.raises(PermissionDenied):
        await services.reviews.borderline(MAG, 2)
    with pytest.raises(InvalidInput):
        await services.reviews.borderline(SECRETARIAT, 0)


async def test_a_member_withdraws_their_score_or_their_conflict(
    services: Services, db: Database
) -> None:
    await services.config.set_rule(ADMIN, "proposals.max_per_proposer", 0)
    await submit(services)
    await submit(services)
    await services.reviews.score(MAG, 1, 4)
    await services.reviews.score(MAG2, 1, 2, "Too few speakers")
    assert (await services.proposals.view(SECRETARIAT, 1)).scores.mean == 3.0
    assert await services.reviews.withdraw(MAG2, 1, "score") == "WS #1"
    detail = await services.proposals.view(SECRETARIAT, 1)
    assert (detail.review_count, detail.scores.mean) == (1, 4.0)  # the tally follows
    with pytest.raises(Conflict, match="not scored"):
        await services.reviews.withdraw(MAG2, 1, "score")
    await services.reviews.declare_conflict(MAG, 2, "my employer")
    with pytest.raises(Conflict, match="conflict of interest"):
        await services.reviews.score(MAG, 2, 4)
    await services.reviews.withdraw(MAG, 2, "conflict")
    assert (await services.reviews.score(MAG, 2, 4)).score == 4  # no conflict now
    with pytest.raises(Conflict, match="no conflict"):
        await services.reviews.withdraw(MAG, 2, "conflict")
    async with db.read() as session:
        events = await recent_events(session, guild_id=GUILD, target="proposal:1")
    assert any(e.action == "review.withdraw_score" for e in events)
    with pytest.raises(PermissionDenied):
        await services.reviews.withdraw(NOBODY, 1, "score")


async def test_a_second_round_reopens_the_borderline_proposals_only(
    services: Services, db: Database, clock
) -> None:
    from datetime import timedelta

    from bot.services.reminders import ChaseContext, chase_reviews
    from storage.reviews import add_assignments

    await services.config.set_rule(ADMIN, "proposals.max_per_proposer", 0)
    await services.config.set_channel(ADMIN, "reminders", 9001)
    for i in range(4):
        await submit(services, title=f"T{i}")
    reviewers = [mag(400 + i) for i in range(2)]
    plan = [(1, 0, 5), (2, 0, 4), (3, 1, 4), (4, 1, 2)]
    async with db.write() as session:
        ids = {
            p.number: p.id
            for p in (await session.exec(select(Proposal).where(Proposal.guild_id == GUILD))).all()
        }
        await add_assignments(
            session,
            guild_id=GUILD,
            pairs=[(ids[n], reviewers[m].user_id) for n, m, _s in plan],
            at=clock.now,
        )
    for number, member, score in plan:
        await services.reviews.score(
            reviewers[member], number, score, comment="why" if score <= 3 else None
        )
    with pytest.raises(InvalidInput, match="passed"):
        await services.rounds.open(SECRETARIAT, 2, "2020-01-01 10:00")
    with pytest.raises(PermissionDenied):
        await services.rounds.open(MAG, 2, "2027-03-08 17:00")
    with pytest.raises(ConfirmationNeeded, match="Round 2 will reopen scoring of WS #2, WS #3"):
        await services.rounds.open(SECRETARIAT, 2, "2027-03-08 17:00")
    clock.now += timedelta(minutes=1)
    opened = await services.rounds.open(SECRETARIAT, 2, "2027-03-08 17:00", confirmed=True)
    assert (opened.number, opened.proposals, opened.reviewers) == (2, ("WS #2", "WS #3"), 2)
    with pytest.raises(Conflict, match="open already"):
        await services.rounds.open(SECRETARIAT, 2, "2027-03-09 17:00", confirmed=True)
    async with db.read() as session:
        rows = (await session.exec(select(OutboxItem))).all()
    assert sorted(r.lane for r in rows if r.kind == "review-round") == [
        f"u:{r.user_id}" for r in reviewers
    ]
    # Only the round's proposals may be scored; each member's queue has what is left.
    with pytest.raises(Conflict, match="Round 2"):
        await services.reviews.score(reviewers[0], 1, 4)
    assert [q.proposal.number for q in await services.reviews.queue(reviewers[0])] == [2]
    clock.now += timedelta(minutes=1)
    await services.reviews.score(reviewers[0], 2, 5)
    assert await services.reviews.queue(reviewers[0]) == []
    settings = await services.config.get(GUILD)
    context = ChaseContext(
        GUILD, opened.deadline_number or 0, "round", "reviews", clock.now, settings
    )
    async with db.read() as session:
        chase = await chase_reviews(session, context)
    assert chase is not None and chase.direct == ((reviewers[1].user_id, 1),)
    results = await services.reviews.results(SECRETARIAT)
    assert results.rows[0].proposal.number in (1, 2)  # the new score counts


async def test_a_round_waits_for_the_reviews_and_follows_its_deadline(
    services: Services, db: Database, clock
) -> None:
    from datetime import timedelta

    from storage.reviews import add_assignments

    await services.config.set_rule(ADMIN, "proposals.max_per_proposer", 0)
    await services.config.set_channel(ADMIN, "reminders", 9001)
    for i in range(3):
        await submit(services, title=f"T{i}")
    member = mag(400)
    async with db.write() as session:
        ids = [
            p.id
            for p in (await session.exec(select(Proposal).where(Proposal.guild_id == GUILD))).all()
        ]
        await add_assignments(
            session, guild_id=GUILD, pairs=[(i, member.user_id) for i in ids], at=clock.now
        )
    for number, score in ((1, 5), (2, 4), (3, 4)):
        await services.reviews.score(member, number, score)
    await services.deadlines.add(
        SECRETARIAT, title="Reviews close", due="2027-03-02 12:00", kind="reviews"
    )
    with pytest.raises(Conflict, match="a second round opens after they close"):
        await services.rounds.open(SECRETARIAT, 1, "2027-03-09 12:00", confirmed=True)
    clock.now += timedelta(days=2)
    opened = await services.rounds.open(SECRETARIAT, 2, "2027-03-09 12:00", confirmed=True)
    assert set(opened.proposals) == {"WS #2", "WS #3"}
    # Outside the band nothing changes, withdrawing included.
    with pytest.raises(Conflict, match="Round 2"):
        await services.reviews.withdraw(member, 1, "score")
    mine, closes = await services.reviews.my_progress(member)
    assert mine is not None and (mine.assigned, mine.scored) == (2, 0)
    clock.now += timedelta(minutes=1)
    await services.reviews.score(member, 2, 3, comment="on a second look")
    report = await services.reviews.progress(SECRETARIAT)
    assert [(r.assigned, r.scored) for r in report.reviewers] == [(2, 1)]
    # Moving the round's deadline moves the round.
    assert opened.deadline_number is not None
    await services.deadlines.edit(SECRETARIAT, opened.deadline_number, due="2027-03-12 12:00")
    clock.now = closes + timedelta(hours=1)  # past the first close, before the new one
    with pytest.raises(Conflict, match="Round 2"):
        await services.reviews.score(member, 1, 4)

"""Decisions in a batch: drafts, the balance effect, publishing once, feedback, the confirm loop."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.errors import ConfirmationNeeded, Conflict, InvalidInput, NotFound, PermissionDenied
from bot.services.decisions import chase_confirmations
from bot.services.outbox import AdminNotice, DecisionNotice, PostResult
from bot.services.registry import Services
from bot.services.reminders import ChaseContext
from bot.services.sending import Sender
from storage.audit import recent_events
from storage.database import Database
from storage.deadlines import Deadline
from storage.decisions import ProposalDecision
from storage.outbox import OutboxItem
from tests.services.delivery_fakes import FakeDiscord, ProcessOutbox
from tests.services.factories import (
    ADMIN,
    GUILD,
    MAG,
    MAG2,
    PROPOSER,
    SECOND_PROPOSER,
    SECRETARIAT,
    submit,
)

REMINDERS = 7001
LOG = 7002


@pytest.fixture
def services(db: Database, clock) -> Services:
    return Services.create(db, clock)


async def under_review(services: Services, count: int = 3) -> list[int]:
    numbers = []
    for index in range(count):
        actor = PROPOSER if index % 2 == 0 else SECOND_PROPOSER
        proposal = await submit(services, actor, title=f"Workshop {index}")
        await services.proposals.set_status(
            SECRETARIAT, proposal.number, "under_review", confirmed=True
        )
        numbers.append(proposal.number)
    return numbers


async def decision_rows(db: Database) -> list[OutboxItem]:
    async with db.read() as session:
        rows = (await session.exec(select(OutboxItem))).all()
    return [r for r in rows if r.kind == "decision"]


async def status_of(services: Services, number: int) -> str:
    view = await services.proposals.view(SECRETARIAT, number)
    return view.proposal.ref.status


@pytest.mark.parametrize(
    ("outcome", "changes", "error", "says"),
    [
        ("approved", {}, InvalidInput, "is not a decision"),
        ("conditional", {}, InvalidInput, "conditions:"),
        ("accepted", {"conditions": "Add a speaker"}, InvalidInput, "conditional acceptance"),
        (
            "conditional",
            {"conditions": "x", "conditions_due": "2020-01-01 10:00"},
            InvalidInput,
            "passed",
        ),
        ("conditional", {"conditions": "x", "conditions_due": "soon"}, InvalidInput, "YYYY-MM-DD"),
        ("accepted", {"reason": "x" * 1001}, InvalidInput, "at most 1000"),
    ],
)
async def test_bad_drafts_are_refused_and_store_nothing(
    services: Services, db: Database, outcome, changes, error, says
) -> None:
    (number,) = await under_review(services, 1)
    with pytest.raises(error, match=says):
        await services.decisions.draft(SECRETARIAT, number, outcome, **changes)
    async with db.read() as session:
        assert (await session.exec(select(ProposalDecision))).all() == []


async def test_only_the_secretariat_drafts_and_only_what_can_be_decided(
    services: Services,
) -> None:
    (number,) = await under_review(services, 1)
    with pytest.raises(PermissionDenied):
        await services.decisions.draft(MAG, number, "accepted")
    fresh = await submit(services, PROPOSER, title="Not reviewed yet")
    with pytest.raises(Conflict, match="under review first"):
        await services.decisions.draft(SECRETARIAT, fresh.number, "accepted")
    with pytest.raises(NotFound):
        await services.decisions.draft(SECRETARIAT, 999, "accepted")


async def test_a_redraft_replaces_the_draft_and_nobody_is_told(
    services: Services, db: Database
) -> None:
    (number,) = await under_review(services, 1)
    await services.decisions.draft(SECRETARIAT, number, "waitlisted")
    view = await services.decisions.draft(SECRETARIAT, number, "accepted", "Strong panel")
    assert view.outcome == "accepted"
    report = await services.decisions.drafts(SECRETARIAT)
    assert [(d.proposal.number, d.outcome) for d in report.drafts] == [(number, "accepted")]
    assert await status_of(services, number) == "under_review"
    assert await decision_rows(db) == []


async def test_publish_asks_then_decides_every_draft_and_queues_one_notice_each(
    services: Services, db: Database, clock
) -> None:
    numbers = await under_review(services, 4)
    await services.config.set_channel(ADMIN, "reminders", REMINDERS)
    await services.decisions.draft(SECRETARIAT, numbers[0], "accepted", "Strong")
    await services.decisions.draft(
        SECRETARIAT,
        numbers[1],
        "conditional",
        conditions="Add a speaker from government",
        conditions_due="2027-04-01 12:00",
    )
    await services.decisions.draft(SECRETARIAT, numbers[2], "waitlisted")
    await services.decisions.draft(SECRETARIAT, numbers[3], "rejected", "Out of scope")
    with pytest.raises(ConfirmationNeeded, match="4 decisions will be published"):
        await services.decisions.publish(SECRETARIAT)
    assert await decision_rows(db) == []  # asking changed nothing
    result = await services.decisions.publish(SECRETARIAT, "2027-03-20 17:00", confirmed=True)
    assert result.total == 4
    assert dict(result.published) == {
        "accepted": 1,
        "conditional": 1,
        "waitlisted": 1,
        "rejected": 1,
    }
    assert [await status_of(services, n) for n in numbers] == [
        "accepted",
        "conditional",
        "waitlisted",
        "rejected",
    ]
    rows = await decision_rows(db)
    assert len(rows) == 4 and len({r.key for r in rows}) == 4
    assert {r.lane for r in rows} == {f"u:{PROPOSER.user_id}", f"u:{SECOND_PROPOSER.user_id}"}
    # The confirmations deadline reminds only those who have not confirmed.
    async with db.read() as session:
        deadlines = (await session.exec(select(Deadline))).all()
    assert [(d.kind, d.number) for d in deadlines] == [("confirmations", result.deadline_number)]
    # Nothing is left to publish: a second publish changes nothing and tells nobody again.
    with pytest.raises(Conflict, match="no draft decisions"):
        await services.decisions.publish(SECRETARIAT, confirmed=True)
    assert len(await decision_rows(db)) == 4
    async with db.read() as session:
        events = await recent_events(session, guild_id=GUILD, limit=100)
    assert sum(e.action == "proposal.status" and "decision" in e.after for e in events) == 4


async def test_drafts_that_no_longer_fit_stay_drafts(services: Services) -> None:
    numbers = await under_review(services, 2)
    await services.decisions.draft(SECRETARIAT, numbers[0], "accepted")
    await services.decisions.draft(SECRETARIAT, numbers[1], "accepted")
    await services.proposals.withdraw(PROPOSER, numbers[0], confirmed=True)
    report = await services.decisions.drafts(SECRETARIAT)
    assert report.drafts[0].problem and "withdrawn" in report.drafts[0].problem
    result = await services.decisions.publish(SECRETARIAT, confirmed=True)
    assert result.total == 1 and [label for label, _why in result.skipped] == ["WS #1"]
    assert [d.proposal.number for d in (await services.decisions.drafts(SECRETARIAT)).drafts] == [
        numbers[0]
    ]


async def test_feedback_released_by_letter_reaches_the_proposer_only_then(
    services: Services, db: Database, clock
) -> None:
    (number,) = await under_review(services, 1)
    await services.reviews.score(MAG, number, 2, "The panel lacks a government voice")
    await services.reviews.score(MAG2, number, 4, "Timely and well framed")
    await services.decisions.draft(SECRETARIAT, number, "accepted")
    shown = await services.decisions.feedback(SECRETARIAT, number)
    assert [(c.letter, c.released) for c in shown.choices] == [("A", False), ("B", False)]
    with pytest.raises(InvalidInput, match="no comment by reviewer"):
        await services.decisions.feedback(SECRETARIAT, number, "C")
    chosen = await services.decisions.feedback(SECRETARIAT, number, "b")
    assert [c.letter for c in chosen.choices if c.released] == ["B"]
    await services.decisions.publish(SECRETARIAT, confirmed=True)
    discord = FakeDiscord()
    await Sender(services.outbox, ProcessOutbox(discord)).run_once()
    notices = [m.post for m in discord.messages if isinstance(m.post, DecisionNotice)]
    assert len(notices) == 1
    (notice,) = notices
    assert notice.user_id == PROPOSER.user_id and notice.outcome == "accepted"
    assert [(f.comment, f.member_id) for f in notice.feedback] == [("Timely and well framed", None)]
    assert notice.confirm_by == clock.now + timedelta(days=14)
    # Sending again (a restart) tells nobody twice.
    await Sender(services.outbox, ProcessOutbox(discord)).run_once()
    assert len([m for m in discord.messages if isinstance(m.post, DecisionNotice)]) == 1


async def test_named_feedback_when_not_anonymised(services: Services) -> None:
    (number,) = await under_review(services, 1)
    await services.reviews.score(MAG, number, 4, "Good")
    await services.decisions.draft(SECRETARIAT, number, "rejected")
    await services.decisions.feedback(SECRETARIAT, number, "all", anonymise=False)
    await services.decisions.publish(SECRETARIAT, confirmed=True)
    discord = FakeDiscord()
    await Sender(services.outbox, ProcessOutbox(discord)).run_once()
    (notice,) = [m.post for m in discord.messages if isinstance(m.post, DecisionNotice)]
    assert [(f.member_id, f.comment) for f in notice.feedback] == [(MAG.user_id, "Good")]
    assert notice.confirm_by is None  # nothing to confirm on a rejection


async def test_a_refused_dm_is_recorded_and_the_secretariat_told_once(
    services: Services,
) -> None:
    (number,) = await under_review(services, 1)
    await services.config.set_channel(ADMIN, "log", LOG)
    await services.decisions.draft(SECRETARIAT, number, "accepted")
    await services.decisions.publish(SECRETARIAT, confirmed=True)
    discord = FakeDiscord()
    closed = ProcessOutbox(
        discord, faults={PROPOSER.user_id: PostResult.failed("50007 Cannot send", 403)}
    )
    await Sender(services.outbox, closed).run_once()
    await Sender(services.outbox, ProcessOutbox(discord)).run_once()
    notices = [m.post for m in discord.messages if isinstance(m.post, AdminNotice)]
    assert len(notices) == 1 and f"<@{PROPOSER.user_id}>" in notices[0].text
    assert not [m for m in discord.messages if isinstance(m.post, DecisionNotice)]
    status = await services.decisions.status(SECRETARIAT)
    assert [(ref.number, "50007" in why) for ref, why in status.unreached] == [(number, True)]


async def test_the_proposer_confirms_and_the_chase_names_only_those_waited_on(
    services: Services, db: Database, clock
) -> None:
    numbers = await under_review(services, 3)
    await services.config.set_channel(ADMIN, "reminders", REMINDERS)
    await services.decisions.draft(SECRETARIAT, numbers[0], "accepted")
    await services.decisions.draft(
        SECRETARIAT, numbers[1], "conditional", conditions="Add a moderator"
    )
    await services.decisions.draft(SECRETARIAT, numbers[2], "rejected")
    published = await services.decisions.publish(SECRETARIAT, confirmed=True)
    assert published.deadline_number is not None
    async with db.read() as session:
        rows = {d.proposal_id: d for d in (await session.exec(select(ProposalDecision))).all()}
    first = next(d for d in rows.values() if d.outcome == "accepted")
    with pytest.raises(PermissionDenied):
        await services.decisions.confirm_slot(
            guild_id=GUILD, user_id=SECOND_PROPOSER.user_id, decision_id=first.id
        )
    answer = await services.decisions.confirm_slot(
        guild_id=GUILD, user_id=PROPOSER.user_id, decision_id=first.id
    )
    assert not answer.already
    again = await services.decisions.confirm_mine(PROPOSER, numbers[0])
    assert again.already
    with pytest.raises(Conflict, match="no slot to confirm"):
        await services.decisions.confirm_mine(PROPOSER, numbers[2])

    settings = await services.config.get(GUILD)
    context = ChaseContext(
        GUILD, published.deadline_number, "Slot confirmations", "confirmations", clock.now, settings
    )
    other = ChaseContext(GUILD, 99, "Another batch", "confirmations", clock.now, settings)
    async with db.read() as session:
        assert (await chase_confirmations(session, other)).lines == ()  # not this batch
    async with db.read() as session:
        chase = await chase_confirmations(session, context)
    assert chase is not None
    assert [str(line) for line in chase.lines] == [
        f"WS #{numbers[1]}: slot not confirmed, conditions not met"
    ]
    assert chase.direct == ((SECOND_PROPOSER.user_id, 1),)

    # The conditions met: accepted, told once more; confirmed, nobody is waited on.
    await services.decisions.conditions_met(SECRETARIAT, numbers[1], "Thanks")
    assert await status_of(services, numbers[1]) == "accepted"
    with pytest.raises(Conflict, match="not accepted on conditions"):
        await services.decisions.conditions_met(SECRETARIAT, numbers[1])
    await services.decisions.confirm_mine(SECOND_PROPOSER, numbers[1])
    async with db.read() as session:
        chase = await chase_confirmations(session, context)
    assert chase is not None and chase.lines == () and "Every accepted" in chase.summary
    assert len(await decision_rows(db)) == 4


async def test_the_batch_effect_counts_the_drafts_as_decided(services: Services) -> None:
    numbers = await under_review(services, 2)
    from tests.services.factories import eligible_panel

    for number in numbers:
        await eligible_panel(services, number, prefix=f"p{number}")
    await services.decisions.draft(SECRETARIAT, numbers[0], "accepted")
    await services.decisions.draft(SECRETARIAT, numbers[1], "conditional", conditions="x")
    report = await services.decisions.drafts(SECRETARIAT)
    assert report.effect is not None
    assert (report.effect.seats_before, report.effect.seats_after) == (0, 8)


async def test_discarding_every_draft_asks_first(services: Services) -> None:
    numbers = await under_review(services, 2)
    for number in numbers:
        await services.decisions.draft(SECRETARIAT, number, "accepted")
    with pytest.raises(ConfirmationNeeded):
        await services.decisions.discard(SECRETARIAT)
    assert await services.decisions.discard(SECRETARIAT, numbers[0]) == 1
    with pytest.raises(NotFound):
        await services.decisions.discard(SECRETARIAT, numbers[0])
    assert await services.decisions.discard(SECRETARIAT, confirmed=True) == 1


async def test_blind_review_hides_who_from_mag_members_only(services: Services) -> None:
    from tests.services.factories import nominate

    (number,) = await under_review(services, 1)
    await nominate(services, number, "Amina Diallo", affiliation="Open Data Africa")
    open_view = await services.proposals.view(MAG, number)
    assert open_view.people is not None and not open_view.blind
    await services.config.set_rule(ADMIN, "reviews.blind", True)
    blind = await services.proposals.view(MAG, number)
    assert blind.blind and blind.people is None and blind.people_count == 1
    assert await services.panellists.list_entries(MAG, proposal_number=number) == []
    for reader in (SECRETARIAT, PROPOSER):
        seen = await services.proposals.view(reader, number)
        assert not seen.blind and seen.people is not None
        assert [e.nominee.name for e in await services.panellists.list_entries(reader)] == [
            "Amina Diallo"
        ]


async def test_the_secretariat_export_carries_comments_and_the_decision(
    services: Services,
) -> None:
    import json

    (number,) = await under_review(services, 1)
    await services.reviews.score(MAG, number, 2, "Needs a government voice")
    await services.decisions.draft(SECRETARIAT, number, "rejected", "Out of scope")
    await services.decisions.publish(SECRETARIAT, confirmed=True)
    exported = json.loads((await services.export.export(SECRETARIAT, "json")).content)
    (item,) = exported["proposals"]
    assert item["reviews"] == [
        {
            "reviewer": str(MAG.user_id),
            "score": 2,
            "comment": "Needs a government voice",
            "merge": False,
        }
    ]
    assert (
        item["decision"]["outcome"] == "rejected" and item["decision"]["reason"] == "Out of scope"
    )
    await services.config.set_rule(ADMIN, "reviews.name_reviewers", False)
    unnamed = json.loads((await services.export.export(SECRETARIAT, "json")).content)
    assert unnamed["proposals"][0]["reviews"][0]["reviewer"] == "Reviewer A"
    member = json.loads((await services.export.export(MAG, "json")).content)
    assert "reviews" not in member["proposals"][0] and "decision" not in member["proposals"][0]


async def test_blind_review_reaches_the_mag_export(services: Services) -> None:
    import json

    from tests.services.factories import nominate

    (number,) = await under_review(services, 1)
    await nominate(services, number, "Amina Diallo", affiliation="Open Data Africa")
    await services.config.set_rule(ADMIN, "reviews.blind", True)
    member = (await services.export.export(MAG, "json")).content.decode()
    assert "Amina" not in member and "Pat Proposer" not in member
    assert json.loads(member)["proposals"][0]["proposer_id"] == ""
    assert "Open Data Africa" not in (await services.export.export(MAG, "csv")).content.decode()
    secretariat = (await services.export.export(SECRETARIAT, "json")).content.decode()
    assert "Amina Diallo" in secretariat and "Pat Proposer" in secretariat


async def test_a_confirm_after_the_drafts_changed_publishes_nothing(services: Services) -> None:
    numbers = await under_review(services, 2)
    await services.decisions.draft(SECRETARIAT, numbers[0], "accepted")
    asked = await services.decisions.fingerprint(SECRETARIAT)
    await services.decisions.draft(SECRETARIAT, numbers[1], "rejected")  # meanwhile
    with pytest.raises(Conflict, match="changed since you were asked"):
        await services.decisions.publish(SECRETARIAT, fingerprint=asked, confirmed=True)
    assert await status_of(services, numbers[0]) == "under_review"
    now = await services.decisions.fingerprint(SECRETARIAT)
    result = await services.decisions.publish(SECRETARIAT, fingerprint=now, confirmed=True)
    assert result.total == 2


async def test_only_stuck_drafts_publish_nothing_and_say_why(services: Services) -> None:
    (number,) = await under_review(services, 1)
    await services.decisions.draft(SECRETARIAT, number, "accepted")
    await services.proposals.withdraw(PROPOSER, number, confirmed=True)
    for confirmed in (False, True):
        with pytest.raises(Conflict, match="None of the drafts can be published"):
            await services.decisions.publish(SECRETARIAT, confirmed=confirmed)


async def test_released_feedback_is_what_the_secretariat_read(services: Services) -> None:
    (number,) = await under_review(services, 1)
    await services.reviews.score(MAG, number, 4, "Timely")
    await services.decisions.draft(SECRETARIAT, number, "accepted")
    await services.decisions.feedback(SECRETARIAT, number, "A", anonymise=False)
    await services.reviews.score(MAG, number, 4, "Edited after release: call me, Dr X")
    await services.config.set_rule(ADMIN, "reviews.name_reviewers", False)
    with pytest.raises(InvalidInput, match="unnamed"):
        await services.decisions.feedback(SECRETARIAT, number, anonymise=False)
    await services.decisions.publish(SECRETARIAT, confirmed=True)
    discord = FakeDiscord()
    await Sender(services.outbox, ProcessOutbox(discord)).run_once()
    (notice,) = [m.post for m in discord.messages if isinstance(m.post, DecisionNotice)]
    # The text as released; and a server that hides reviewers never names one.
    assert [(f.comment, f.member_id) for f in notice.feedback] == [("Timely", None)]


def test_a_long_decision_dm_fits_discord_and_keeps_what_to_do() -> None:
    from datetime import UTC, datetime

    from bot.render.decisions import decision_embed
    from bot.render.embeds import fit_embed
    from bot.services.outbox import Feedback

    post = DecisionNotice(
        guild_id=GUILD,
        user_id=1,
        nonce="n",
        ref="1-ab",
        decision_id=1,
        label="WS #1",
        title="T" * 200,
        outcome="conditional",
        reason="r" * 1000,
        conditions="c" * 1000,
        conditions_due=None,
        confirm_by=datetime(2027, 4, 1, tzinfo=UTC),
        confirmed=False,
        feedback=tuple(Feedback(chr(65 + i), None, "x" * 1000) for i in range(10)),
    )
    embed = fit_embed(decision_embed(post))
    assert len(embed) <= 6000
    assert "Confirm my slot" in (embed.fields[0].value or "")

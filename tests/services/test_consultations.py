"""Consultations: opening, inputs and their rules, the summary against a hand count, the close."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from bot.services.auth import Actor
from bot.services.config import ConfigService
from bot.services.consultations import ConsultationService, chase_consultation
from bot.services.deadlines import DeadlineService
from bot.services.reminders import ChaseContext
from bot.services.sending import OutboxService
from bot.services.text import Typed, plain_line
from storage.consultations import input_counts
from storage.database import Database
from storage.outbox import OutboxItem
from tests.conftest import FakeClock

GUILD = 111111111111111111
REMINDERS = 222222222222222222
AUDIENCE = 333333333333333333
ADMIN = Actor(guild_id=GUILD, user_id=1, is_admin=True)
SECRETARIAT = Actor(guild_id=GUILD, user_id=2, is_secretariat=True)
FIXTURE = Path(__file__).parents[1] / "fixtures" / "consultation_call.json"


def member(user_id: int) -> Actor:
    return Actor(guild_id=GUILD, user_id=user_id)


@pytest.fixture
async def config(db: Database, clock: FakeClock) -> ConfigService:
    service = ConfigService(db, clock)
    await service.set_channel(ADMIN, "reminders", REMINDERS)
    return service


@pytest.fixture
def consultations(db: Database, clock: FakeClock, config: ConfigService) -> ConsultationService:
    deadlines = DeadlineService(db, clock, config)
    return ConsultationService(
        db, clock, config, deadlines, OutboxService(db, clock, config, claimer="test")
    )


async def open_one(consultations: ConsultationService, **options) -> int:
    view = await consultations.open(
        SECRETARIAT,
        title="Call for issues, IGF 2027",
        questions=["Which issues should the IGF 2027 address?", "Why now?"],
        closes="2027-03-20 23:59",
        **options,
    )
    return view.number


async def give(consultations: ConsultationService, user_id: int, number: int = 1, **fields):
    values = {
        "answers": ["Data governance.", ""],
        "stakeholder_group": "Civil Society",
        "region": "African Group",
    } | fields
    return await consultations.submit(member(user_id), number, **values)


async def test_open_creates_the_closing_deadline_with_its_reminders(
    consultations: ConsultationService, db: Database
) -> None:
    view = await consultations.open(
        SECRETARIAT,
        title="Call for issues",
        questions=["Which issues?", None, " "],
        closes="2027-03-20 23:59",
        offsets="7d,1d",
    )
    assert (view.number, view.questions, view.deadline_number) == (1, ("Which issues?",), 1)
    assert view.closes_at == datetime(2027, 3, 20, 23, 59, tzinfo=UTC)
    assert view.is_open(datetime(2027, 3, 1, 12, tzinfo=UTC))
    from storage.deadlines import list_deadlines, reminders_of

    async with db.read() as session:
        (deadline,) = await list_deadlines(session, guild_id=GUILD)
        reminders = await reminders_of(session, guild_id=GUILD, deadline_ids=[deadline.id])
    assert deadline.kind == "consultation" and len(reminders) == 2


@pytest.mark.parametrize(
    ("options", "refusal"),
    [
        ({"questions": []}, "at least one question"),
        ({"questions": ["a", "b", "c", "d"]}, "at most three"),
        ({"questions": ["x" * 101]}, "at most 100"),
        ({"closes": "2027-02-01 10:00"}, "has passed"),
        ({"closes": "tomorrow"}, "not a date"),
        ({"opens": "2027-03-25 10:00"}, "open before it closes"),
        ({"visibility": "secret"}, "Visibility must be"),
        ({"title": "  "}, "a title"),
    ],
)
async def test_a_bad_opening_is_refused_and_nothing_is_stored(
    consultations: ConsultationService, options: dict, refusal: str
) -> None:
    values = {"title": "Call", "questions": ["Q?"], "closes": "2027-03-20 23:59"} | options
    with pytest.raises(InvalidInput, match=refusal):
        await consultations.open(SECRETARIAT, **values)
    assert await consultations.listed(SECRETARIAT) == []


async def test_only_the_secretariat_opens(consultations: ConsultationService) -> None:
    with pytest.raises(PermissionDenied):
        await open_one_as(consultations, member(5))


async def open_one_as(consultations: ConsultationService, actor: Actor) -> None:
    await consultations.open(actor, title="Call", questions=["Q?"], closes="2027-03-20 23:59")


async def test_one_input_per_person_edit_and_withdraw(
    consultations: ConsultationService, clock: FakeClock
) -> None:
    await open_one(consultations)
    first = await give(consultations, 10, organisation="Digital Rights Lab")
    assert (first.number, first.who, first.organisation) == (1, "<@10>", "Digital Rights Lab")
    with pytest.raises(Conflict, match="input 1"):
        await give(consultations, 10)
    with pytest.raises(Conflict, match="already"):
        await consultations.check_open(member(10), 1)
    # The same form sent twice is the same input, not a refusal.
    keyed = await give(consultations, 11, submission_key="abc")
    assert (await give(consultations, 11, submission_key="abc")).number == keyed.number
    edited = await consultations.edit(member(10), 1, answers=["Trust.", "Because."])
    assert edited.answers == ("Trust.", "Because.")
    with pytest.raises(PermissionDenied):
        await consultations.edit(member(11), 1, answers=["x"], input_number=1)
    await consultations.withdraw(member(10), 1)
    assert (await consultations.summary(SECRETARIAT, 1)).consultation.inputs == 1
    again = await give(consultations, 10)  # withdrawn: they may give a new one
    assert again.number == 3
    clock.now = datetime(2027, 3, 21, tzinfo=UTC)
    with pytest.raises(Conflict, match="closed"):
        await give(consultations, 12)
    with pytest.raises(Conflict, match="closed"):  # before the edit form opens
        await consultations.current(member(10), 1)
    with pytest.raises(Conflict, match="closed"):
        await consultations.withdraw(member(10), 1)


async def test_inputs_are_checked_and_nothing_half_written(
    consultations: ConsultationService,
) -> None:
    await open_one(consultations, audience_role_id=AUDIENCE)
    with pytest.raises(PermissionDenied, match="<@&333333333333333333>"):
        await give(consultations, 10)
    roles = {AUDIENCE}
    with pytest.raises(InvalidInput, match="stakeholder group"):
        await give(consultations, 10, roles=roles, stakeholder_group="Academia")
    with pytest.raises(InvalidInput, match="at least one question"):
        await give(consultations, 10, roles=roles, answers=["", "  "])
    with pytest.raises(NotFound, match="no consultation #9"):
        await give(consultations, 10, 9, roles=roles)
    assert (await give(consultations, 10, roles=roles, stakeholder_group="civil")).number == 1
    assert (await consultations.summary(SECRETARIAT, 1)).consultation.inputs == 1


async def test_the_secretariat_enters_inputs_for_people_outside_discord(
    consultations: ConsultationService,
) -> None:
    await open_one(consultations)
    entered = await consultations.submit(
        SECRETARIAT,
        1,
        answers=["By email."],
        stakeholder_group="Government",
        region="Eastern European Group",
        on_behalf_of="Ministry of Digital Affairs",
    )
    assert entered.on_behalf and entered.who == "Ministry of Digital Affairs"
    # Several people outside Discord, each their own submitter.
    await consultations.submit(
        SECRETARIAT,
        1,
        answers=["By post."],
        stakeholder_group="Government",
        region="African Group",
        on_behalf_of="Another ministry",
    )
    summary = await consultations.summary(SECRETARIAT, 1)
    assert (summary.consultation.inputs, summary.submitters) == (2, 2)
    # The same person entered again is the same submitter: one input, as for anyone.
    with pytest.raises(Conflict, match="Ministry of Digital Affairs"):
        await consultations.submit(
            SECRETARIAT, 1, answers=["Again."], stakeholder_group="Government",
            region="Eastern European Group", on_behalf_of=" ministry of digital affairs ",
        )  # fmt: skip
    with pytest.raises(PermissionDenied):
        await consultations.submit(
            member(5), 1, answers=["x"], stakeholder_group="Government",
            region="African Group", on_behalf_of="Someone",
        )  # fmt: skip


async def test_who_reads_the_texts_follows_the_visibility(
    consultations: ConsultationService,
) -> None:
    for visibility in ("public", "anonymised", "secretariat"):
        number = await open_one(consultations, visibility=visibility)
        await give(consultations, 10, number)
        others = await consultations.summary(member(99), number)
        secretariat = await consultations.summary(SECRETARIAT, number)
        assert secretariat.inputs[0].who == "<@10>"
        if visibility == "public":
            assert others.inputs[0].who == "<@10>"
        elif visibility == "anonymised":
            assert others.inputs[0].who is None and others.inputs[0].answers
        else:
            assert not others.texts_shown and others.inputs == ()
        assert others.consultation.inputs == 1  # the counts are everyone's


async def test_the_summary_agrees_with_a_count_by_hand(
    consultations: ConsultationService,
) -> None:
    call = json.loads(FIXTURE.read_text())["inputs"]
    await open_one(consultations)
    for item in call:
        await consultations.submit(
            member(1000 + item["submitter"]),
            1,
            answers=item["answers"],
            stakeholder_group=item["stakeholder_group"],
            region=item["region"],
            organisation=item["organisation"],
            gender=item["gender"],
            developing_country=item["developing_country"],
            youth=item["youth"],
        )
    summary = await consultations.summary(SECRETARIAT, 1)
    report = summary.report
    assert (report.seats, summary.submitters) == (len(call), len(call))

    def yes_no(value: bool | None) -> str | None:
        return None if value is None else ("yes" if value else "no")

    by_hand = {
        "stakeholder_group": Counter(i["stakeholder_group"] for i in call),
        "region": Counter(i["region"] for i in call),
        "gender": Counter(i["gender"] for i in call),
        "developing_country": Counter(yes_no(i["developing_country"]) for i in call),
        "youth": Counter(yes_no(i["youth"]) for i in call),
    }
    assert by_hand["gender"][None] > 0 and by_hand["youth"][None] > 0  # some "not stated"
    for dimension in report.dimensions:
        hand = by_hand[dimension.key]
        shown = {c.name: c.seats for c in dimension.categories if c.seats}
        total = sum(hand.values())
        assert sum(shown.values()) == total == len(call), dimension.key
        # Every category's count and share, whatever name the report gives "not stated".
        assert sorted(shown.values()) == sorted(hand.values()), dimension.key
        for category in dimension.categories:
            if category.seats:
                assert category.share == pytest.approx(category.seats / total)
    groups = next(d for d in report.dimensions if d.key == "stakeholder_group")
    assert {c.name: c.seats for c in groups.categories if c.seats} == dict(
        by_hand["stakeholder_group"]
    )
    regions = next(d for d in report.dimensions if d.key == "region")
    assert {c.name: c.seats for c in regions.categories if c.seats} == dict(by_hand["region"])
    assert summary.unheard_groups == () and summary.unheard_regions == ()
    # The export has every input, one row each, with the count by hand again.
    _name, body = await consultations.export(SECRETARIAT, 1, "csv")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == len(call)
    assert Counter(r["stakeholder_group"] for r in rows) == by_hand["stakeholder_group"]


async def test_an_unheard_group_is_warned_about_and_chased(
    consultations: ConsultationService, db: Database, config: ConfigService
) -> None:
    await open_one(consultations)
    for user_id, group in enumerate(["Civil Society"] * 8 + ["Government"] * 4, 10):
        await give(consultations, user_id, stakeholder_group=group)
    summary = await consultations.summary(member(99), 1)
    assert "Private Sector" in summary.unheard_groups
    warnings = [w.category for w in summary.report.warnings]
    assert "Private Sector" in warnings
    settings = await config.get(GUILD)
    async with db.read() as session:
        chase = await chase_consultation(
            session,
            ChaseContext(
                guild_id=GUILD,
                deadline_number=1,
                title="t",
                kind="consultation",
                deadline_at=datetime(2027, 3, 20, tzinfo=UTC),
                settings=settings,
            ),
        )
    assert chase is not None and "12 inputs so far to consultation #1" in chase.summary
    assert any("Private Sector" in plain_line(line) for line in chase.lines)
    # The group names may be a server's own, typed: they stay a part the renderer escapes.
    assert any(isinstance(part, Typed) for line in chase.lines for part in line)


async def test_the_close_happens_once_by_the_clock_also_after_downtime(
    consultations: ConsultationService, db: Database, clock: FakeClock
) -> None:
    await open_one(consultations)
    await give(consultations, 10)
    assert await consultations.tick(datetime(2027, 3, 20, 23, 58, tzinfo=UTC)) == 0
    # The bot was down at the close: the first tick after it closes it, once.
    later = datetime(2027, 3, 22, 8, 0, tzinfo=UTC)
    assert await consultations.tick(later) == 1
    assert await consultations.tick(later + timedelta(minutes=1)) == 0
    from sqlmodel import select

    async with db.read() as session:
        posts = (await session.exec(select(OutboxItem))).all()
        counts = await input_counts(session, consultation_id=1)
    closing = [p for p in posts if p.key.startswith("consultation-close:")]
    text = closing[0].payload["text"]
    assert len(closing) == 1 and "is closed: 1 input from 1 submitter" in text
    assert "(`Call for issues, IGF 2027`)" in text  # typed text in a public post: a code span
    assert counts.total.seats == 1
    assert (await consultations.get(SECRETARIAT, 1)).closed
    clock.now = later
    with pytest.raises(Conflict, match="closed"):
        await give(consultations, 11)

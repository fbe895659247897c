"""Reminder delivery through the outbox: once, whatever crashes, with Discord forgetting nonces.

Time is injected: each tick is given its ``now``; nothing sleeps on a schedule.
The fake Discord forgets nonces (as Discord does after a few minutes), so
every "exactly once" below holds without them.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.services.auth import Actor
from bot.services.config import ConfigService
from bot.services.deadlines import DeadlineService
from bot.services.languages import LanguageService
from bot.services.outbox import Post, PostResult, ReminderBatch, ReminderPost
from bot.services.sending import LEASE, MAX_ATTEMPTS, backoff
from storage.config import GuildConfig
from storage.database import Database
from storage.deadlines import Deadline, Reminder, count_by_status
from storage.delivery import ChannelBlock, Shards
from storage.outbox import OutboxItem
from storage.panellists import Participation, Person
from storage.proposals import Proposal
from storage.reviews import ConflictDeclaration, Review, ReviewAssignment
from tests.conftest import FakeClock
from tests.services.delivery_fakes import Bot, Crash, FakeDiscord, ProcessOutbox

GUILD = 111111111111111111
REMINDERS = 222222222222222222
OTHER = 222222222222222223
LOG = 333333333333333333
MAG_ROLE = 444444444444444444
ADMIN = Actor(guild_id=GUILD, user_id=1, is_admin=True)
DUE = "2027-03-10 23:59"
DUE_AT = datetime(2027, 3, 10, 23, 59, tzinfo=UTC)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
async def config(db: Database, clock: FakeClock) -> ConfigService:
    service = ConfigService(db, clock)
    await service.set_channel(ADMIN, "reminders", REMINDERS)
    await service.set_channel(ADMIN, "log", LOG)
    return service


@pytest.fixture
def deadlines(db: Database, clock: FakeClock, config: ConfigService) -> DeadlineService:
    return DeadlineService(db, clock, config)


@pytest.fixture
def discord() -> FakeDiscord:
    return FakeDiscord()


@pytest.fixture
def process(db: Database, clock: FakeClock, config: ConfigService, discord: FakeDiscord):
    """Return a factory of bot processes sharing the database and the fake Discord."""

    def make(name: str = "p1", *, shards: Shards | None = None, **outbox_options) -> Bot:
        return Bot(db, clock, config, ProcessOutbox(discord, name, **outbox_options), shards=shards)

    return make


async def ledger(db: Database) -> list[Reminder]:
    async with db.read() as session:
        query = select(Reminder).order_by(Reminder.deadline_id, Reminder.due_at)  # type: ignore[arg-type]
        return list((await session.exec(query)).all())


async def outbox_rows(db: Database) -> list[OutboxItem]:
    async with db.read() as session:
        return list((await session.exec(select(OutboxItem).order_by(OutboxItem.id))).all())  # type: ignore[arg-type]


async def test_a_reminder_is_sent_once_when_due(deadlines, process, discord, db) -> None:
    await deadlines.add(ADMIN, title="Call for inputs", due=DUE, offsets="1d", link="https://x.org")
    bot = process()
    assert not (await bot.tick(at(2027, 3, 9, 23, 58))).sent
    report = await bot.tick(at(2027, 3, 9, 23, 59, 20))
    assert (report.queued, report.claimed, report.sent, report.late) == (1, 1, 1, 0)
    (post,) = discord.reminders
    assert (post.channel_id, post.title, post.link, post.deadline_at) == (
        REMINDERS,
        "Call for inputs",
        "https://x.org",
        DUE_AT,
    )
    (item,) = await outbox_rows(db)
    assert post.ref == f"{item.id}-{item.marker}" and post.nonce.startswith(f"mag-o-{item.id}-")
    assert (post.offset_minutes, post.late, post.mention_role_id) == (1440, False, None)
    for minutes in (1, 60, 600):
        assert not (await bot.tick(at(2027, 3, 9, 23, 59) + timedelta(minutes=minutes))).claimed
    (row,) = await ledger(db)
    assert (row.status, row.message_id) == ("sent", discord.messages[0].message_id)
    assert row.sent_at == at(2027, 3, 9, 23, 59, 20)
    assert (item.status, item.attempts, item.claimed_by) == ("sent", 0, None)


async def test_a_crash_after_posting_is_found_not_posted_again(
    deadlines, process, discord, db
) -> None:
    await deadlines.add(ADMIN, title="Call", due=DUE, offsets="1d")
    now = at(2027, 3, 9, 23, 59, 30)
    with pytest.raises(Crash):
        await process("p1", crash_after_post=True).tick(now)
    assert len(discord.messages) == 1
    (item,) = await outbox_rows(db)
    assert (item.status, item.claimed_by, item.attempted_at) == ("sending", "p1", now)
    # Within the lease nobody takes it; after it, the taker looks and finds the message.
    other = process("p2")
    assert not (await other.tick(now + LEASE - timedelta(seconds=1))).claimed
    report = await other.tick(now + LEASE + timedelta(seconds=1))
    assert (report.found, report.sent) == (1, 1)
    assert len(discord.messages) == 1  # Discord forgot the nonce: the look-up saved it
    (row,) = await ledger(db)
    assert (row.status, row.message_id) == ("sent", discord.messages[0].message_id)


async def test_a_crash_before_posting_gives_one_message_not_zero(
    deadlines, process, discord, db
) -> None:
    await deadlines.add(ADMIN, title="Call", due=DUE, offsets="1d")
    now = at(2027, 3, 9, 23, 59, 30)
    with pytest.raises(Crash):
        await process("p1", crash_after_post=False).tick(now)
    assert discord.messages == []
    report = await process("p2").tick(now + LEASE + timedelta(seconds=1))
    assert (report.found, report.sent) == (0, 1)
    assert len(discord.messages) == 1
    assert [r.status for r in await ledger(db)] == ["sent"]


async def test_a_taker_that_cannot_read_the_channel_waits_rather_than_repost(
    deadlines, process, discord, db
) -> None:
    await deadlines.add(ADMIN, title="Call", due=DUE, offsets="1d")
    now = at(2027, 3, 9, 23, 59, 30)
    with pytest.raises(Crash):
        await process("p1", crash_after_post=True).tick(now)
    discord.readable = False
    later = now + LEASE + timedelta(seconds=1)
    assert (await process("p2").tick(later)).retried == 1
    assert len(discord.messages) == 1
    discord.readable = True
    report = await process("p3").tick(later + backoff(1) + timedelta(seconds=1))
    assert report.found == 1 and len(discord.messages) == 1


async def test_a_slow_sender_keeps_its_lease_and_is_not_taken_over(
    deadlines, process, discord, db, clock
) -> None:
    await deadlines.add(ADMIN, title="Call", due=DUE, offsets="1d")
    now = at(2027, 3, 9, 23, 59, 30)
    stalled = asyncio.Event()
    resume = asyncio.Event()

    async def stall(_: Post) -> None:
        stalled.set()
        await resume.wait()

    slow = process("slow", before=stall)
    sending = asyncio.create_task(slow.tick(now))
    await stalled.wait()
    # The slow process renews its lease while it lives: another one does not take over.
    for step in range(1, 6):
        clock.now = now + LEASE * step / 2
        await slow.sender.renew()
        assert not (await process("fast").tick(clock.now)).claimed
    resume.set()
    await sending
    assert len(discord.messages) == 1 and discord.messages[0].process == "slow"
    (row,) = await ledger(db)
    assert (row.status, row.message_id) == ("sent", discord.messages[0].message_id)


async def test_after_downtime_one_late_reminder_and_passed_deadlines_are_skipped(
    deadlines, process, discord, db
) -> None:
    await deadlines.add(ADMIN, title="Still ahead", due=DUE, offsets="2d,1d,1h")
    await deadlines.add(ADMIN, title="Already passed", due="2027-03-05 12:00", offsets="1d")
    # The bot was down from 1 March until half an hour before the first deadline.
    report = await process().tick(at(2027, 3, 10, 23, 30))
    assert (report.sent, report.late, report.skipped_passed, report.skipped_superseded) == (
        1,
        1,
        1,
        2,
    )
    (post,) = discord.reminders
    assert (post.title, post.late, post.offset_minutes) == ("Still ahead", True, 60)
    rows = await ledger(db)
    assert [(r.offset_minutes, r.status, r.late) for r in rows] == [
        (2880, "skipped", False),
        (1440, "skipped", False),
        (60, "sent", True),
        (1440, "skipped", False),
    ]
    assert rows[0].detail == "superseded by a later reminder"
    assert rows[3].detail == "deadline passed"


async def test_late_is_decided_when_it_is_posted(deadlines, process, discord, db) -> None:
    await deadlines.add(ADMIN, title="Call", due=DUE, offsets="1h")
    bot = process()
    await bot.tick(at(2027, 3, 10, 22, 59, 10), send=False)  # queued on time...
    bot.clock.now = at(2027, 3, 10, 23, 6)  # ...posted seven minutes later
    await bot.send()
    assert discord.reminders[0].late
    (row,) = await ledger(db)
    assert row.late and row.sent_at == at(2027, 3, 10, 23, 6)


async def test_a_reminder_a_minute_late_is_not_called_late(deadlines, process, discord) -> None:
    await deadlines.add(ADMIN, title="Call", due=DUE, offsets="1h")
    await process().tick(at(2027, 3, 10, 23, 0, 40))
    assert not discord.reminders[0].late


async def test_a_queued_reminder_whose_deadline_passes_expires(
    deadlines, process, discord, db
) -> None:
    await deadlines.add(ADMIN, title="Call", due=DUE, offsets="1h")
    bot = process()
    await bot.tick(at(2027, 3, 10, 22, 59, 10), send=False)
    bot.clock.now = DUE_AT + timedelta(seconds=1)
    report = await bot.send()
    assert (report.expired, report.sent) == (1, 0) and discord.messages == []
    (row,) = await ledger(db)
    assert row.status == "skipped"


async def test_edit_and_remove_while_reminders_are_queued_or_sending(
    deadlines, process, discord, db, clock
) -> None:
    await deadlines.add(ADMIN, title="A", due=DUE, offsets="1d,1h")
    await deadlines.add(ADMIN, title="B", due=DUE, offsets="1d,1h", channel_id=OTHER)
    await deadlines.add(ADMIN, title="C", due=DUE, offsets="1h")
    in_flight = asyncio.Event()
    release = asyncio.Event()

    async def hold(post: Post) -> None:
        if isinstance(post, ReminderPost) and post.title == "A":
            in_flight.set()
            await release.wait()

    now = at(2027, 3, 9, 23, 59, 30)
    bot = process(before=hold)
    await bot.tick(now, send=False)
    sending = asyncio.create_task(bot.send())
    await in_flight.wait()
    await asyncio.sleep(0.05)  # B's lane goes ahead on its own meanwhile
    assert [p.title for p in discord.reminders] == ["B"]
    # While A's 1d reminder is being posted: A is extended by a week,
    # B and C are removed.
    await deadlines.edit(ADMIN, 1, due="2027-03-17 23:59")
    await deadlines.remove(ADMIN, 2)
    await deadlines.remove(ADMIN, 3)
    release.set()
    await sending
    assert sorted(p.title for p in discord.reminders) == ["A", "B"]
    statuses = {(r.deadline_id, r.offset_minutes): (r.status, r.due_at) for r in await ledger(db)}
    assert statuses[(1, 1440)][0] == "sent"
    assert statuses[(1, 60)] == ("pending", at(2027, 3, 17, 22, 59))
    assert statuses[(2, 1440)][0] == "sent"
    assert statuses[(2, 60)][0] == "cancelled"
    assert statuses[(3, 60)][0] == "cancelled"
    later = process("p2")
    assert not (await later.tick(at(2027, 3, 10, 23, 0))).claimed
    assert (await later.tick(at(2027, 3, 17, 22, 59, 10))).sent == 1
    assert [p.title for p in discord.reminders][-1] == "A"
    assert discord.reminders[-1].deadline_at == at(2027, 3, 17, 23, 59)


async def test_one_slow_channel_holds_up_only_itself(deadlines, process, discord, clock) -> None:
    for n, channel in enumerate((REMINDERS, OTHER, OTHER + 1, OTHER + 2)):
        await deadlines.add(ADMIN, title=f"D{n}", due=DUE, offsets="1h", channel_id=channel)
    blocked = asyncio.Event()

    async def slow(post: Post) -> None:
        if post.channel_id == REMINDERS:  # type: ignore[union-attr]
            await blocked.wait()

    bot = process(before=slow)
    await bot.tick(at(2027, 3, 10, 22, 59, 10), send=False)
    sending = asyncio.create_task(bot.send())
    for _ in range(50):
        if len(discord.reminders) == 3:
            break
        await asyncio.sleep(0.01)
    assert sorted(p.title for p in discord.reminders) == ["D1", "D2", "D3"]
    blocked.set()
    await sending
    assert len(discord.reminders) == 4


async def test_reminders_due_together_in_a_channel_go_as_one_message(
    deadlines, process, discord, db
) -> None:
    for n in range(12):
        await deadlines.add(ADMIN, title=f"D{n}", due=DUE, offsets="1h")
    report = await process().tick(at(2027, 3, 10, 22, 59, 10))
    assert report.sent == 12
    batches = [m.post for m in discord.messages]
    assert [len(b.reminders) if isinstance(b, ReminderBatch) else 1 for b in batches] == [10, 2]
    rows = await ledger(db)
    assert len({r.message_id for r in rows}) == 2 and {r.status for r in rows} == {"sent"}


async def test_a_refused_channel_fails_the_reminder_and_tells_the_admins_once(
    deadlines, process, discord, db, config
) -> None:
    await deadlines.add(ADMIN, title="A", due=DUE, offsets="1d,1h")
    await deadlines.add(ADMIN, title="B", due=DUE, offsets="1d,1h")
    refused = PostResult.failed("Missing Permissions", 403)
    bot = process(faults={REMINDERS: refused})
    report = await bot.tick(at(2027, 3, 9, 23, 59, 30))
    assert (report.failed, report.sent) == (2, 1)  # the two reminders; the notice is sent
    (notice,) = discord.notices
    assert notice.channel_id == LOG and f"<#{REMINDERS}>" in notice.text
    calls = len(bot.outbox.calls)
    # Within the hour, posts to the blocked channel fail without trying Discord.
    await deadlines.add(ADMIN, title="C", due="2027-03-10 00:30", offsets="30m")
    assert (await bot.tick(at(2027, 3, 10, 0, 0, 10))).failed == 1
    assert len(bot.outbox.calls) == calls
    # After the hour, one probe; still refused: failed again, but no second notice.
    assert (await bot.tick(at(2027, 3, 10, 22, 59, 10))).failed == 2
    assert len(discord.notices) == 1
    rows = await ledger(db)
    assert {r.status for r in rows} == {"failed"}
    assert "403" in (rows[0].detail or "") or "Missing" in (rows[0].detail or "")
    # The admin fixes the permissions and chooses the same channel again: unblocked at once.
    bot.outbox.faults.clear()
    await config.set_channel(ADMIN, "reminders", REMINDERS)
    async with db.read() as session:
        assert (await session.exec(select(ChannelBlock))).all() == []
    await deadlines.add(ADMIN, title="D", due="2027-03-11 00:00", offsets="30m")
    assert (await bot.tick(at(2027, 3, 10, 23, 30, 5))).sent == 1


async def test_the_admins_notice_is_retried_until_it_is_posted(
    deadlines, process, discord, db
) -> None:
    await deadlines.add(ADMIN, title="A", due=DUE, offsets="1d")
    faults = {
        REMINDERS: PostResult.failed("Missing Permissions", 403),
        LOG: PostResult.retry("502 Bad Gateway", 502),
    }
    bot = process(faults=faults)
    now = at(2027, 3, 9, 23, 59, 30)
    report = await bot.tick(now)
    assert (report.failed, report.retried) == (1, 1) and discord.notices == []
    del bot.outbox.faults[LOG]
    assert (await bot.tick(now + backoff(1) + timedelta(seconds=1))).sent == 1
    assert len(discord.notices) == 1
    assert (await bot.tick(now + timedelta(hours=1))).sent == 0  # once


async def test_rate_limits_wait_and_server_errors_retry_with_a_growing_wait(
    deadlines, process, discord, db
) -> None:
    await deadlines.add(ADMIN, title="A", due=DUE, offsets="1d")
    bot = process(faults={REMINDERS: PostResult.retry("rate limited", 429, retry_after=12.5)})
    now = at(2027, 3, 9, 23, 59, 30)
    assert (await bot.tick(now)).retried == 1
    (item,) = await outbox_rows(db)
    assert (item.status, item.attempts) == ("queued", 0)  # a rate limit is not a failure
    assert item.due_at == now + timedelta(seconds=12.5)
    bot.outbox.faults[REMINDERS] = PostResult.retry("503 Service Unavailable", 503)
    later = now + timedelta(seconds=13)
    assert (await bot.tick(later)).retried == 1
    (item,) = await outbox_rows(db)
    assert (item.attempts, item.due_at) == (1, later + backoff(1))
    assert not (await bot.tick(later + timedelta(seconds=10))).claimed
    bot.outbox.faults.clear()
    assert (await bot.tick(later + backoff(1) + timedelta(seconds=1))).sent == 1
    (row,) = await ledger(db)
    assert row.status == "sent"


async def test_retries_give_up_after_max_attempts_of_discords_answers(
    deadlines, process, db
) -> None:
    await deadlines.add(ADMIN, title="A", due="2027-03-12 10:00", offsets="2d")
    now = at(2027, 3, 10, 10, 0, 5)
    # Crashes do not spend the budget: only Discord's answers do.
    with pytest.raises(Crash):
        await process("dies", crash_after_post=False).tick(now)
    now += LEASE + timedelta(seconds=1)
    bot = process(faults={REMINDERS: PostResult.retry("500 Internal Server Error", 500)})
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = await bot.tick(now)
        assert report.claimed == 1
        now += backoff(attempt) + timedelta(seconds=1)
    (row,) = await ledger(db)
    assert row.status == "failed"
    assert row.detail is not None and row.detail.startswith(f"gave up after {MAX_ATTEMPTS}")


async def test_a_failed_write_after_posting_is_found_after_the_lease(
    deadlines, process, discord, db
) -> None:
    await deadlines.add(ADMIN, title="A", due=DUE, offsets="1d")
    bot = process()
    real = bot.service.record
    calls = 0

    async def fails_once(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("database or disk is full")
        return await real(*args, **kwargs)

    bot.service.record = fails_once  # type: ignore[method-assign]
    now = at(2027, 3, 9, 23, 59, 30)
    report = await bot.tick(now)
    assert (report.sent, report.errors) == (0, 1) and len(discord.messages) == 1
    report = await bot.tick(now + LEASE + timedelta(seconds=1))
    assert (report.found, report.sent) == (1, 1) and len(discord.messages) == 1


async def test_the_ticker_survives_a_raising_outbox_and_a_broken_deadline(
    deadlines, process, discord, db
) -> None:
    await deadlines.add(ADMIN, title="Weekly", due=DUE, offsets="1d", repeat="weekly")
    await deadlines.add(ADMIN, title="Fine", due=DUE, offsets="1h", channel_id=OTHER)
    async with db.write() as session:
        weekly = (await session.exec(select(Deadline).where(Deadline.number == 1))).one()
        weekly.timezone = "Mars/Olympus_Mons"  # cannot be planned any more
        weekly.roll_at = at(2027, 3, 1)

    def explode(post: Post) -> None:
        if isinstance(post, ReminderPost) and post.title == "Weekly":
            raise RuntimeError("boom")

    bot = process(before=explode)
    report = await bot.tick(at(2027, 3, 9, 23, 59, 30))
    assert report.retried == 1
    report = await bot.tick(at(2027, 3, 10, 22, 59, 30))
    assert report.sent == 1
    assert [p.title for p in discord.reminders] == ["Fine"]
    async with db.read() as session:
        weekly = (await session.exec(select(Deadline).where(Deadline.number == 1))).one()
    assert weekly.roll_at is None  # given up on, logged, not retried every tick


async def test_a_reused_id_never_reuses_a_nonce(db: Database, clock: FakeClock, config) -> None:
    from storage.outbox import NewItem, enqueue

    made = []
    for _ in range(2):
        async with db.write() as session:
            await enqueue(
                session,
                items=[
                    NewItem(
                        guild_id=GUILD,
                        key="notice:x",
                        kind="notice",
                        lane="c:1",
                        due_at=clock.now,
                        payload={"text": "x"},
                    )
                ],
                now=clock.now,
            )
            row = (await session.exec(select(OutboxItem))).one()
            made.append((row.id, row.marker))
            await session.delete(row)
    assert made[0][1] != made[1][1]  # same id on SQLite, another marker, another nonce


@pytest.mark.parametrize(
    ("zone", "first", "spring"),
    [
        ("Europe/Zurich", "2027-03-15 09:00", 3),  # Europe changes on 28 March
        ("America/New_York", "2027-03-01 09:00", 2),  # the US on 14 March
    ],
)
async def test_a_weekly_call_is_reminded_at_the_same_wall_time_across_dst(
    deadlines, process, discord, zone, first, spring
) -> None:
    await deadlines.add(
        ADMIN, title="WG call", due=first, timezone=zone, offsets="1h", repeat="weekly"
    )
    bot = process()
    moment = at(2027, 3, 1, 12, 1)
    for _ in range(80):
        nxt = await bot.next_due()
        if nxt is None or nxt > at(2027, 4, 20):
            break
        moment = max(moment, nxt)
        await bot.tick(moment)
    posts = discord.reminders
    assert len(posts) >= 5
    local = [p.deadline_at.astimezone(ZoneInfo(zone)) for p in posts]
    assert {(t.hour, t.minute, t.weekday()) for t in local} == {(9, 0, 0)}
    assert len({t.date() for t in local}) == len(local)  # once per week
    offsets = {t.utcoffset() for t in local}
    assert len(offsets) == 2  # winter and summer time both seen
    assert not any(p.late for p in posts)


async def test_the_mag_role_is_mentioned_only_when_the_guild_chose_it(
    deadlines, process, discord, config
) -> None:
    await config.set_role(ADMIN, "mag", MAG_ROLE)
    await deadlines.add(ADMIN, title="A", due=DUE, offsets="1d,1h")
    bot = process()
    await bot.tick(at(2027, 3, 9, 23, 59, 30))
    await config.set_rule(ADMIN, "reminders.mention_mag", True)
    await bot.tick(at(2027, 3, 10, 22, 59, 30))
    assert [p.mention_role_id for p in discord.reminders] == [None, MAG_ROLE]


async def add_proposal(session, number: int, status: str = "under_review") -> Proposal:
    proposal = Proposal(
        guild_id=GUILD,
        number=number,
        status=status,
        title=f"Workshop {number}",
        description="d",
        policy_questions="q",
        expected_outcomes="o",
        hybrid_plan="h",
        format="Roundtable",
        duration=60,
        subtheme="Data Governance & Trust",
        proposer_id=900 + number,
    )
    session.add(proposal)
    await session.flush()
    return proposal


async def test_a_reviews_reminder_names_only_members_with_unfinished_reviews(
    deadlines, process, discord, config, db
) -> None:
    async with db.write() as session:
        p1, p2, p3 = [await add_proposal(session, n) for n in (1, 2, 3)]
        withdrawn = await add_proposal(session, 4, status="withdrawn")
        pairs = [(p1, 501), (p2, 501), (p3, 501), (withdrawn, 501), (p1, 502), (p2, 502)]
        pairs += [(p1, 503)]
        for proposal, member in pairs:
            session.add(ReviewAssignment(guild_id=GUILD, proposal_id=proposal.id, member_id=member))
        for proposal, member in [(p1, 502), (p1, 503)]:
            session.add(Review(guild_id=GUILD, proposal_id=proposal.id, member_id=member, score=4))
        session.add(ConflictDeclaration(guild_id=GUILD, proposal_id=p3.id, member_id=501))
    await deadlines.add(ADMIN, title="Scores due", due=DUE, kind="reviews", offsets="1d,1h")
    bot = process()
    await bot.tick(at(2027, 3, 9, 23, 59, 30))
    chase = discord.reminders[0].chase
    assert chase is not None
    assert chase.summary == "3 reviews still unfinished, by 2 MAG members:"
    assert chase.lines == ("<@501>: 2 reviews to finish", "<@502>: 1 review to finish")
    assert chase.user_ids == (501, 502)
    assert not discord.reminders[0].chased_directly and discord.directs == []
    # The guild prefers direct messages: each member is told privately, once.
    await config.set_rule(ADMIN, "reminders.dm_reviewers", True)
    await bot.tick(at(2027, 3, 10, 22, 59, 30))
    assert discord.reminders[1].chased_directly
    assert sorted(d.user_id for d in discord.directs) == [501, 502]
    assert next(d.open_reviews for d in discord.directs if d.user_id == 501) == 2


async def test_a_proposals_reminder_counts_proposals_short_of_confirmed_speakers(
    deadlines, process, discord, db
) -> None:
    async with db.write() as session:
        full, short, _empty = [await add_proposal(session, n, "submitted") for n in (1, 2, 3)]
        for i in range(4):
            person = Person(
                guild_id=GUILD,
                key=f"p{i}",
                name=f"Speaker {i}",
                stakeholder_group="Civil Society",
                region="African Group",
                gender="woman",
            )
            session.add(person)
            await session.flush()
            for proposal, status in [
                (full, "confirmed"),
                (short, "nominated" if i else "confirmed"),
            ]:
                session.add(
                    Participation(
                        guild_id=GUILD,
                        proposal_id=proposal.id,
                        person_id=person.id,
                        role="speaker",
                        attendance="onsite",
                        status=status,
                    )
                )
    await deadlines.add(ADMIN, title="Proposals due", due=DUE, kind="proposals", offsets="1d")
    await process().tick(at(2027, 3, 9, 23, 59, 30))
    chase = discord.reminders[0].chase
    assert chase is not None
    assert chase.summary == "2 proposals still lack 3 confirmed speakers:"
    assert chase.lines == ("#2: 1 of 3 confirmed", "#3: 0 of 3 confirmed")


# --- two processes, shards --------------------------------------------------

SNOWFLAKE_BASE = 1_300_000_000_000_000_000 >> 22


def guild_on_shard(i: int) -> int:
    """Return a realistic guild id; consecutive ``i`` alternate between shards 0 and 1."""
    return ((SNOWFLAKE_BASE + i) << 22) | 4242


async def seed_due_reminders(db: Database, now: datetime, *, guilds: int, per_guild: int) -> None:
    """Store ``guilds * per_guild`` reminders due just before ``now`` (one per deadline)."""
    async with db.write() as session:
        for g in range(guilds):
            guild_id = guild_on_shard(g)
            session.add(GuildConfig(guild_id=guild_id, reminders_channel_id=guild_id + 1, rules={}))
            for n in range(per_guild):
                session.add(
                    Deadline(
                        guild_id=guild_id,
                        number=n + 1,
                        title=f"Deadline {n + 1}",
                        timezone="UTC",
                        first_local="2027-03-10 23:59",
                        offsets=[60],
                        due_at=now + timedelta(hours=1),
                    )
                )
        await session.flush()
        deadlines = (await session.exec(select(Deadline))).all()
        for deadline in deadlines:
            session.add(
                Reminder(
                    guild_id=deadline.guild_id,
                    deadline_id=deadline.id,
                    occurrence=0,
                    offset_minutes=60,
                    due_at=now - timedelta(seconds=5),
                    deadline_at=deadline.due_at,
                )
            )


async def test_two_processes_share_1000_due_reminders_by_shard(
    db: Database, clock: FakeClock, discord: FakeDiscord
) -> None:
    now = at(2027, 3, 10, 9, 0)
    await seed_due_reminders(db, now, guilds=50, per_guild=20)
    config = ConfigService(db, clock)

    def bot(name: str, shard: int) -> Bot:
        return Bot(
            db, clock, config, ProcessOutbox(discord, name), shards=Shards(2, frozenset({shard}))
        )

    zero, one = bot("shard-0", 0), bot("shard-1", 1)
    await asyncio.gather(zero.tick(now), one.tick(now), zero.tick(now), one.tick(now))
    assert len(discord.reminders) == 1000
    assert len({r.ref for r in discord.reminders}) == 1000
    for message in discord.messages:
        shard = (message.post.guild_id >> 22) % 2
        assert message.process == f"shard-{shard}"
    async with db.read() as session:
        assert await count_by_status(session) == {"sent": 1000}


async def test_overlapping_processes_on_the_same_shards_never_double_send(
    db: Database, clock: FakeClock, discord: FakeDiscord
) -> None:
    """A rolling deploy: old and new process both own every shard for a while."""
    now = at(2027, 3, 10, 9, 0)
    await seed_due_reminders(db, now, guilds=10, per_guild=30)
    config = ConfigService(db, clock)
    bots = [Bot(db, clock, config, ProcessOutbox(discord, f"p{i}")) for i in range(3)]
    await asyncio.gather(*(b.tick(now) for b in bots))
    assert len(discord.reminders) == 300
    assert len({r.ref for r in discord.reminders}) == 300


async def test_posts_are_written_in_the_servers_language_and_dms_in_the_members(
    deadlines, discord, config, db, clock
) -> None:
    languages = LanguageService(db, config)
    await config.set_language(ADMIN, "fr")
    await languages.choose(501, "es")  # 502 chose nothing and was never seen: the server's
    async with db.write() as session:
        p1 = await add_proposal(session, 1)
        for member in (501, 502):
            session.add(ReviewAssignment(guild_id=GUILD, proposal_id=p1.id, member_id=member))
    await config.set_rule(ADMIN, "reminders.dm_reviewers", True)
    await deadlines.add(ADMIN, title="Scores due", due=DUE, kind="reviews", offsets="1d")

    async def person_language(user_id: int, guild_id: int) -> str:
        return await languages.person(user_id, guild_id=guild_id)

    bot = Bot(db, clock, config, ProcessOutbox(discord, "p1"), person_language=person_language)
    await bot.tick(at(2027, 3, 9, 23, 59, 30))
    (post,) = discord.reminders
    assert post.language == "fr"
    assert {d.user_id: d.language for d in discord.directs} == {501: "es", 502: "fr"}

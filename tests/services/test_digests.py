"""The secretariat digest: schedule on the wall clock, sections, once per period."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.errors import InvalidInput, PermissionDenied
from bot.render.text import render_line
from bot.services.auth import Actor
from bot.services.config import ConfigService
from bot.services.deadlines import DeadlineService
from bot.services.outbox import DigestSection, PostResult
from bot.services.sending import LEASE
from storage.audit import record_event
from storage.config import GuildConfig
from storage.database import Database
from storage.digests import DigestRun, runs_of
from tests.conftest import FakeClock
from tests.services.delivery_fakes import Bot, Crash, FakeDiscord, ProcessOutbox

GUILD = 111111111111111111
DIGEST = 555555555555555555
LOG = 333333333333333333
ADMIN = Actor(guild_id=GUILD, user_id=1, is_admin=True)
MAG = Actor(guild_id=GUILD, user_id=2, is_mag=True)
ZURICH = ZoneInfo("Europe/Zurich")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def discord() -> FakeDiscord:
    return FakeDiscord()


@pytest.fixture
def config(db: Database, clock: FakeClock) -> ConfigService:
    return ConfigService(db, clock)


@pytest.fixture
def process(db: Database, clock: FakeClock, config: ConfigService, discord: FakeDiscord):
    """Return a factory of digest services (one per "process"), hooked into the config."""

    def make(name: str = "p1", **outbox_options) -> Bot:
        bot = Bot(db, clock, config, ProcessOutbox(discord, name, **outbox_options))
        if not config.change_hooks:
            config.change_hooks.append(bot.digests.on_config_change)
        return bot

    return make


@pytest.fixture
async def digests(process, config: ConfigService) -> Bot:
    """A guild in Zurich with a weekly Monday 09:00 digest (the clock: Mon 1 March, 12:00 UTC)."""
    service = process()
    await config.set_timezone(ADMIN, "Europe/Zurich")
    await config.set_channel(ADMIN, "digest", DIGEST)
    await config.set_channel(ADMIN, "log", LOG)
    return service


async def next_digest_at(db: Database) -> datetime | None:
    async with db.read() as session:
        row = await session.get(GuildConfig, GUILD, populate_existing=True)
    return row.next_digest_at if row else None


async def event(db: Database, action: str, when: datetime, **fields) -> None:
    async with db.write() as session:
        await record_event(session, guild_id=GUILD, actor_id=7, action=action, at=when, **fields)


async def test_the_schedule_follows_the_configuration(digests, config, db) -> None:
    # Default weekly on Monday 09:00 in Zurich: the next is 8 March, 08:00 UTC (winter).
    assert await next_digest_at(db) == at(2027, 3, 8, 8, 0)
    await config.set_digest(ADMIN, "daily", "17:05", None)
    assert await next_digest_at(db) == at(2027, 3, 1, 16, 5)
    await config.set_timezone(ADMIN, "America/New_York")
    assert await next_digest_at(db) == at(2027, 3, 1, 22, 5)
    await config.set_digest(ADMIN, "off", None, None)
    assert await next_digest_at(db) is None
    await config.set_digest(ADMIN, "weekly", "09:00", "friday")
    assert await next_digest_at(db) == at(2027, 3, 5, 14, 0)
    await config.set_channel(ADMIN, "digest", None)
    assert await next_digest_at(db) is None


async def test_a_digest_reports_what_changed_and_posts_once(digests, db, discord, process) -> None:
    day = at(2027, 3, 3, 10)
    await event(db, "proposal.submit", day, target="proposal:12", after={"title": "Data flows"})
    await event(db, "proposal.submit", day, target="proposal:13", after={"title": "AI & jobs"})
    moved = {"before": {"status": "submitted"}, "after": {"status": "under_review"}}
    await event(db, "proposal.status", day, target="proposal:12", **moved)
    await event(db, "panellist.nominate", day, target="proposal:12", after={"status": "nominated"})
    await event(db, "panellist.respond", day, target="proposal:12", after={"status": "confirmed"})
    await event(db, "panellist.status", day, target="proposal:13", after={"status": "declined"})
    await event(db, "review.score", day, target="proposal:12", after={"score": 4})
    await event(db, "review.score", day, target="proposal:12", before={"score": 3}, after={})
    await event(db, "config.timezone", day, target="config")  # not digest material
    out = {"before": {"status": "submitted"}, "after": {"status": "screened_out"}}
    await event(db, "proposal.status", day, target="proposal:14", note="Only 2 speakers.", **out)

    monday = at(2027, 3, 8, 8, 0)
    assert (await digests.tick(monday - timedelta(seconds=1))).digests_queued == 0
    report = await digests.tick(monday)
    assert (report.digests_queued, report.sent) == (1, 1)
    (post,) = discord.digests
    assert post.channel_id == DIGEST and post.nonce.startswith("mag-o-")
    digest = post.digest
    assert (digest.since, digest.until, digest.zone) == (at(2027, 3, 1, 8), monday, "Europe/Zurich")
    (changes,) = digest.sections
    assert changes.title == "What changed"
    assert tuple(render_line(line) for line in changes.lines) == (
        "**New proposals** (2): #12 Data flows, #13 AI & jobs",
        "**Status changes** (2): #12 submitted → under review, #14 submitted → screened out",
        "**Nominations** (1): on #12",
        "**Confirmations** (1): on #12",
        "**Declines** (1): on #13",
        "**Reviews completed**: 1 (1 scores changed)",
    )
    # The same period never posts again; the next is a week later.
    assert (await digests.tick(monday + timedelta(minutes=5))).digests_queued == 0
    assert await next_digest_at(db) == at(2027, 3, 15, 8, 0)
    assert len(discord.digests) == 1


async def test_an_empty_digest_is_not_posted_but_its_period_is_over(digests, db, discord) -> None:
    report = await digests.tick(at(2027, 3, 8, 8, 0))
    assert (report.digests_empty, report.sent) == (1, 0)
    assert discord.messages == []
    await event(db, "proposal.submit", at(2027, 3, 9), target="proposal:1", after={"title": "T"})
    await digests.tick(at(2027, 3, 15, 8, 0))
    (post,) = discord.digests
    assert post.digest.since == at(2027, 3, 8, 8, 0)  # where the empty one ended
    async with db.read() as session:
        assert [r.status for r in await runs_of(session, guild_id=GUILD)] == ["empty", "sent"]


async def test_two_processes_claiming_the_same_digest_post_it_once(
    digests, process, db, discord
) -> None:
    await event(db, "proposal.submit", at(2027, 3, 2), target="proposal:1", after={"title": "T"})
    monday = at(2027, 3, 8, 8, 0, 10)
    reports = await asyncio.gather(
        *(p.tick(monday) for p in (digests, process("p2"), process("p3")))
    )
    assert sum(r.digests_queued for r in reports) == 1
    assert len(discord.digests) == 1
    async with db.read() as session:
        assert len(await runs_of(session, guild_id=GUILD)) == 1


async def test_a_crash_after_posting_a_digest_gives_one_message(
    digests, process, db, discord
) -> None:
    await event(db, "proposal.submit", at(2027, 3, 2), target="proposal:1", after={"title": "T"})
    monday = at(2027, 3, 8, 8, 0)
    with pytest.raises(Crash):
        await process("dying", crash_after_post=True).tick(monday)
    assert len(discord.digests) == 1
    survivor = process("p2")
    assert (await survivor.tick(monday + LEASE - timedelta(seconds=1))).claimed == 0
    report = await survivor.tick(monday + LEASE + timedelta(seconds=1))
    assert (report.claimed, report.found, report.sent) == (1, 1, 1)
    assert len(discord.digests) == 1  # found by its ref: not posted again
    async with db.read() as session:
        (run,) = await runs_of(session, guild_id=GUILD)
    assert (run.status, run.message_id) == ("sent", discord.messages[0].message_id)


async def test_after_downtime_one_digest_covers_the_missed_periods(digests, db, discord) -> None:
    await event(db, "proposal.submit", at(2027, 3, 2), target="proposal:1", after={"title": "A"})
    await event(db, "proposal.submit", at(2027, 3, 10), target="proposal:2", after={"title": "B"})
    back = at(2027, 3, 17, 11, 0)  # Wednesday, after missing two Mondays
    report = await digests.tick(back)
    assert report.sent == 1
    (post,) = discord.digests
    assert "#1 A, #2 B" in render_line(post.digest.sections[0].lines[0])
    assert await next_digest_at(db) == at(2027, 3, 22, 8, 0)
    assert (await digests.tick(back + timedelta(hours=1))).digests_queued == 0


@pytest.mark.parametrize(
    ("zone", "first", "change_gap"),
    [
        ("Europe/Zurich", at(2027, 3, 26, 8, 0), timedelta(hours=23)),  # spring: 28 March
        ("Europe/Zurich", at(2027, 10, 29, 7, 0), timedelta(hours=25)),  # fall: 31 October
        ("America/New_York", at(2027, 3, 12, 14, 0), timedelta(hours=23)),  # 14 March
        ("America/New_York", at(2027, 11, 5, 13, 0), timedelta(hours=25)),  # 7 November
    ],
)
async def test_a_daily_digest_stays_at_0900_across_dst(
    digests, config, db, discord, clock, zone, first, change_gap
) -> None:
    clock.now = first - timedelta(days=1)
    await config.set_timezone(ADMIN, zone)
    await config.set_digest(ADMIN, "daily", "09:00", None)
    assert await next_digest_at(db) == first
    fired: list[datetime] = []
    for day in range(5):
        when = await next_digest_at(db)
        assert when is not None
        await event(db, "proposal.submit", when - timedelta(hours=1), target=f"proposal:{day}")
        assert (await digests.tick(when)).sent == 1
        fired.append(when)
    local = [f.astimezone(ZoneInfo(zone)) for f in fired]
    assert {(t.hour, t.minute) for t in local} == {(9, 0)}
    assert [t.date() for t in local] == [local[0].date() + timedelta(days=n) for n in range(5)]
    gaps = [b - a for a, b in itertools.pairwise(fired)]
    assert sorted(gaps) == sorted([timedelta(days=1)] * 3 + [change_gap])
    assert len(discord.digests) == 5


async def test_preview_and_send_now(digests, db, discord, clock) -> None:
    with pytest.raises(PermissionDenied):
        await digests.preview(MAG)
    with pytest.raises(PermissionDenied):
        await digests.send_now(MAG)
    await event(
        db, "proposal.submit", at(2027, 3, 1, 11), target="proposal:1", after={"title": "A"}
    )
    preview = await digests.preview(ADMIN)
    assert not preview.empty and discord.messages == []
    result = await digests.send_now(ADMIN)
    assert result.status == "queued" and len(discord.digests) == 1
    clock.now += timedelta(minutes=1)
    again = await digests.send_now(ADMIN)
    assert again.status == "empty" and len(discord.digests) == 1
    # The scheduled digest starts where the manual one ended: nothing is told twice.
    await digests.tick(at(2027, 3, 8, 8, 0))
    async with db.read() as session:
        runs = await runs_of(session, guild_id=GUILD)
    assert [(r.kind, r.status) for r in runs] == [
        ("manual", "sent"),
        ("manual", "empty"),
        ("scheduled", "empty"),
    ]
    assert runs[2].period_start == runs[1].period_end


async def test_send_now_needs_a_digest_channel(process, config) -> None:
    service = process()
    with pytest.raises(InvalidInput, match="digest channel"):
        await service.send_now(ADMIN)


async def test_sections_are_pluggable_and_a_failing_one_is_left_out(digests, discord) -> None:
    async def balance(session, guild_id, since, until, settings) -> DigestSection | None:
        return DigestSection("balance", "Balance warnings", ("Only 8% Government",), order=40)

    async def broken(session, guild_id, since, until, settings) -> DigestSection | None:
        raise RuntimeError("boom")

    digests.add_section("balance", balance, order=40)
    digests.add_section("broken", broken, order=5)
    await digests.tick(at(2027, 3, 8, 8, 0))
    (post,) = discord.digests
    assert [s.title for s in post.digest.sections] == ["Balance warnings"]


async def test_deadlines_of_the_next_14_days_are_listed(
    digests, config, db, discord, clock
) -> None:
    await config.set_channel(ADMIN, "reminders", 9)
    deadlines = DeadlineService(db, clock, config)
    await deadlines.add(ADMIN, title="Scores due", due="2027-03-12 23:59", timezone="UTC")
    await deadlines.add(ADMIN, title="Far away", due="2027-06-12 23:59")
    await deadlines.add(ADMIN, title="WG call", due="2027-03-10 15:00", repeat="weekly")
    await digests.tick(at(2027, 3, 8, 8, 0))
    (post,) = discord.digests
    (section,) = [s for s in post.digest.sections if s.name == "deadlines"]
    lines = [render_line(line) for line in section.lines]
    titles = [line.split(" · ", 1)[1] for line in lines]
    assert titles == ["#3 WG call", "#1 Scores due", "#3 WG call"]
    assert lines[1].startswith(f"<t:{int(at(2027, 3, 12, 23, 59).timestamp())}:F>")


async def test_a_refused_digest_channel_fails_and_tells_the_admins(
    process, config, db, discord
) -> None:
    service = process(faults={DIGEST: PostResult.failed("Unknown Channel", 404)})
    await config.set_channel(ADMIN, "digest", DIGEST)
    await config.set_channel(ADMIN, "log", LOG)
    await event(db, "proposal.submit", at(2027, 3, 2), target="proposal:1", after={"title": "T"})
    report = await service.tick(at(2027, 3, 8, 9, 0))
    assert report.failed == 1
    (notice,) = discord.notices
    assert "no longer exists" in notice.text
    async with db.read() as session:
        (run,) = (await session.exec(select(DigestRun))).all()
    assert run.status == "failed"


async def test_guilds_configured_before_digests_existed_get_a_schedule(
    process, db, discord
) -> None:
    async with db.write() as session:
        session.add(GuildConfig(guild_id=GUILD, digest_channel_id=DIGEST, rules={}))
        session.add(GuildConfig(guild_id=GUILD + 1, rules={}))  # no digest channel
        off = GuildConfig(guild_id=GUILD + 2, digest_channel_id=DIGEST, rules={})
        off.digest_frequency = "off"
        session.add(off)
    service = process()
    await service.tick(at(2027, 3, 1, 12, 0))
    async with db.read() as session:
        rows = {
            row.guild_id: row.next_digest_at
            for row in (await session.exec(select(GuildConfig))).all()
        }
    # The default: weekly on Monday at 09:00 UTC.
    assert rows == {GUILD: at(2027, 3, 8, 9, 0), GUILD + 1: None, GUILD + 2: None}

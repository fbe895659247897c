"""DiscordOutbox against the fake Discord: nonces, and Discord's answers mapped for the services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import discord
import pytest

from bot.delivery import DiscordOutbox, shards_of
from bot.render.digests import digest_embed
from bot.render.reminders import reminder_content, reminder_embed, reminder_mentions
from bot.sandbox.fakediscord import FakeDiscord
from bot.services.outbox import (
    AdminNotice,
    Chase,
    Digest,
    DigestPost,
    DigestSection,
    DirectPost,
    PostStatus,
    ReminderPost,
)
from bot.settings import load_settings

GUILD = 900000000000000777
CHANNEL = 900000000000000778
USER = 900000000000000779
ROLE = 900000000000000780
DUE = datetime(2027, 3, 10, 23, 59, tzinfo=UTC)


def reminder(**overrides) -> ReminderPost:
    values = {
        "guild_id": GUILD,
        "channel_id": CHANNEL,
        "nonce": "mag-r-1",
        "ref": "r1-1",
        "deadline_number": 3,
        "title": "Call for inputs @everyone",
        "kind": "consultation",
        "link": "https://intgovforum.org",
        "deadline_at": DUE,
        "zone": "Europe/Zurich",
        "offset_minutes": 1440,
        "repeat": "none",
    }
    return ReminderPost(**{**values, **overrides})


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord()
    await fake.start()
    guild = fake.add_guild(GUILD, "Test")
    guild.add_channel(CHANNEL, "reminders")
    fake.add_user(USER, "reviewer")
    guild.add_member(USER, "reviewer")
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def outbox(fake: FakeDiscord) -> AsyncIterator[DiscordOutbox]:
    with fake.patch_discord():
        client = discord.Client(
            intents=discord.Intents.none(), allowed_mentions=discord.AllowedMentions.none()
        )
        await client.login(fake.token)
        try:
            yield DiscordOutbox(client)
        finally:
            await client.close()


async def test_a_repeated_nonce_gives_back_the_same_message(outbox, fake) -> None:
    first = await outbox.post(reminder())
    again = await outbox.post(reminder())
    assert first.status is again.status is PostStatus.SENT
    assert first.message_id == again.message_id
    (message,) = fake.channel_messages(CHANNEL)
    assert message.nonce == "mag-r-1"
    assert message.raw.get("enforce_nonce") is True
    assert message.allowed_mentions == {"parse": []}
    assert "Call for inputs" in message.embed_text()


@pytest.mark.parametrize(("status", "expected"), [(403, 403), (404, 404)])
async def test_a_refused_channel_is_a_permanent_failure(outbox, fake, status, expected) -> None:
    fake.fail_channel(CHANNEL, status)
    result = await outbox.post(reminder())
    assert result.status is PostStatus.FAILED and result.http_status == expected
    assert result.channel_refused
    assert fake.channel_messages(CHANNEL) == []


async def test_a_short_rate_limit_is_waited_out_by_discord_py(outbox, fake) -> None:
    fake.fail_channel(CHANNEL, 429, times=1, retry_after=0.05)
    result = await outbox.post(reminder())
    assert result.status is PostStatus.SENT
    assert len(fake.channel_messages(CHANNEL)) == 1


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (discord.DiscordServerError(SimpleNamespace(status=503, reason="x"), "busy"), 503),
        (discord.HTTPException(SimpleNamespace(status=429, reason="x"), "slow down"), 429),
        (TimeoutError("timed out"), None),
        (OSError("connection reset"), None),
    ],
)
async def test_server_errors_and_network_errors_are_retried(outbox, error, status) -> None:
    async def fail(post):
        raise error

    outbox._send = fail  # type: ignore[method-assign]
    result = await outbox.post(reminder())
    assert result.status is PostStatus.RETRY and result.http_status == status
    assert not result.channel_refused


async def test_a_bad_request_is_not_retried(outbox) -> None:
    async def fail(post):
        raise discord.HTTPException(SimpleNamespace(status=400, reason="Bad"), "invalid")

    outbox._send = fail  # type: ignore[method-assign]
    result = await outbox.post(reminder())
    assert result.status is PostStatus.FAILED and not result.channel_refused


async def test_direct_messages_digests_and_notices(outbox, fake) -> None:
    direct = DirectPost(
        guild_id=GUILD,
        user_id=USER,
        nonce="mag-r-1-u",
        ref="r1-u-1",
        open_reviews=2,
        reminder=reminder(),
    )
    assert (await outbox.post(direct)).status is PostStatus.SENT
    assert "2 assigned reviews still to score" in fake.dm_messages(USER)[0].content
    fake.close_dms(USER)
    refused = await outbox.post(DirectPost(**{**vars(direct), "nonce": "other"}))
    assert refused.status is PostStatus.FAILED and refused.http_status == 403
    digest = Digest(
        guild_id=GUILD,
        since=DUE,
        until=DUE,
        zone="UTC",
        cycle_name="IGF 2027",
        sections=(DigestSection("changes", "What changed", ("**New proposals** (1): #1 A",)),),
    )
    posted = await outbox.post(DigestPost(GUILD, CHANNEL, "mag-d-1", "d1-1", digest))
    notice = await outbox.post(AdminNotice(GUILD, CHANNEL, "mag-b-1", "n1-1", "I could not post…"))
    assert posted.status is notice.status is PostStatus.SENT
    texts = [m.embed_text() + m.content for m in fake.channel_messages(CHANNEL)]
    assert "IGF 2027" in texts[0] and "I could not post" in texts[1]


def test_only_the_chosen_role_and_the_chased_members_may_be_pinged() -> None:
    quiet = reminder_mentions(reminder()).to_dict()
    assert quiet == {"parse": []}
    chase = Chase(summary="2 reviews", lines=("<@1>: 2",), user_ids=(1,), direct=((1, "x"),))
    loud = reminder(mention_role_id=ROLE, chase=chase)
    assert reminder_mentions(loud).to_dict() == {
        "parse": [],
        "users": [1],
        "roles": [ROLE],
    }
    assert reminder_content(loud).startswith(f"<@&{ROLE}> <@1> Reminder:")
    direct = reminder(chase=chase, chased_directly=True)
    assert reminder_mentions(direct).to_dict() == quiet
    assert "<@1>" not in reminder_content(direct)


def test_a_late_reminder_says_so_and_long_text_fits() -> None:
    embed = reminder_embed(reminder(late=True, title="x" * 300, link="https://x.org/" + "y" * 480))
    assert "late" in (embed.description or "")
    assert len(embed.title or "") <= 256 and len(embed) <= 6000
    lines = tuple(f"line {n} " + "z" * 200 for n in range(200))
    digest = Digest(GUILD, DUE, DUE, "UTC", "", (DigestSection("big", "Big", lines),))
    big = digest_embed(digest)
    assert len(big) <= 6000 and all(len(f.value or "") <= 1024 for f in big.fields)


def test_shards_come_from_the_settings() -> None:
    assert shards_of(load_settings({})) is None
    both = shards_of(load_settings({"SHARD_COUNT": "2"}))
    assert both is not None and both.ids == {0, 1}
    one = shards_of(load_settings({"SHARD_COUNT": "4", "SHARD_IDS": "1,3"}))
    assert one is not None and one.ids == {1, 3} and one.count == 4


async def test_find_recognises_the_bots_own_messages_by_their_exact_ref(outbox, fake) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    sent = await outbox.post(reminder(ref="1-abc"))
    await outbox.post(reminder(ref="11-abc", nonce="mag-r-11"))
    assert await outbox.find(reminder(ref="1-abc"), since) == {"1-abc": sent.message_id}
    assert await outbox.find(reminder(ref="1-ab"), since) == {}
    assert await outbox.find(reminder(ref="1-abc"), datetime.now(UTC) + timedelta(minutes=1)) == {}

"""Nonces: remembered for ``nonce_memory`` seconds, at most 25 characters, never fetched back."""

from __future__ import annotations

import discord
import pytest

from bot.sandbox.fakediscord import DEFAULT_NONCE_MEMORY, FakeDiscord, ManualClock

from .conftest import OTHER_TEXT_ID, TEXT_ID, build_guild, rest_client, running


async def test_a_nonce_is_remembered_a_few_minutes(clock: ManualClock) -> None:
    fake = FakeDiscord(clock=clock)
    build_guild(fake)
    async with running(fake), rest_client(fake) as client:
        channel = client.get_partial_messageable(TEXT_ID)
        first = await channel.send("reminder", nonce="mag-r-1")
        again = await channel.send("reminder", nonce="mag-r-1")  # a retry: the same message
        elsewhere = await client.get_partial_messageable(OTHER_TEXT_ID).send("x", nonce="mag-r-1")
        clock.advance(DEFAULT_NONCE_MEMORY + 1)
        later = await channel.send("reminder", nonce="mag-r-1")  # Discord has forgotten
    assert first.id == again.id and first.nonce == "mag-r-1"
    assert elsewhere.id != first.id
    assert later.id != first.id
    assert len(fake.channel_messages(TEXT_ID)) == 2
    assert fake.message(first.id).raw["enforce_nonce"] is True  # discord.py asks for it


@pytest.mark.parametrize("memory", [None, 0])
async def test_a_discord_that_forgets_posts_every_retry(memory: float | None) -> None:
    fake = FakeDiscord(nonce_memory=memory)
    build_guild(fake)
    async with running(fake), rest_client(fake) as client:
        channel = client.get_partial_messageable(TEXT_ID)
        ids = {(await channel.send("reminder", nonce="mag-r-1")).id for _ in range(3)}
    assert len(ids) == 3 and fake.nonce_memory == memory


async def test_the_memory_can_change_mid_test() -> None:
    fake = FakeDiscord()
    build_guild(fake)
    async with running(fake), rest_client(fake) as client:
        channel = client.get_partial_messageable(TEXT_ID)
        fake.nonce_memory = None
        one = await channel.send("a", nonce="n-1")
        two = await channel.send("a", nonce="n-1")
        fake.nonce_memory = 300
        three = await channel.send("a", nonce="n-1")
        four = await channel.send("a", nonce="n-1")
    assert len({one.id, two.id, three.id}) == 3 and four.id == three.id


async def test_a_deleted_message_is_not_posted_again() -> None:
    """Discord's own answer (discord-api-docs#6647): the retry gets Unknown Message."""
    fake = FakeDiscord()
    build_guild(fake)
    async with running(fake), rest_client(fake) as client:
        channel = client.get_partial_messageable(TEXT_ID)
        first = await channel.send("reminder", nonce="mag-r-2")
        await first.delete()
        with pytest.raises(discord.NotFound) as gone:
            await channel.send("reminder", nonce="mag-r-2")
    assert gone.value.code == 10008
    assert fake.channel_messages(TEXT_ID) == []


async def test_a_nonce_is_at_most_25_characters() -> None:
    fake = FakeDiscord()
    build_guild(fake)
    async with running(fake), rest_client(fake) as client:
        channel = client.get_partial_messageable(TEXT_ID)
        await channel.send("fits", nonce="n" * 25)
        with pytest.raises(discord.HTTPException) as too_long:
            await channel.send("does not fit", nonce="n" * 26)
        await channel.send("an integer nonce", nonce=2**62)
    assert (too_long.value.status, too_long.value.code) == (400, 50035)
    assert "nonce" in too_long.value.text and "25 or fewer" in too_long.value.text
    assert [m.content for m in fake.channel_messages(TEXT_ID)] == ["fits", "an integer nonce"]
    assert [e.kind for e in fake.protocol_errors] == ["invalid_form_body"]


async def test_fetched_messages_carry_no_nonce() -> None:
    fake = FakeDiscord()
    build_guild(fake)
    async with running(fake), rest_client(fake) as client:
        channel = client.get_partial_messageable(TEXT_ID)
        sent = await channel.send("reminder", nonce="mag-r-3")
        fetched = await channel.fetch_message(sent.id)
        history = [m async for m in channel.history(limit=5)]
    assert sent.nonce == "mag-r-3"
    assert fetched.nonce is None and [m.nonce for m in history] == [None]

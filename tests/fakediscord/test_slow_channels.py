"""A slow channel answers late; the others keep answering at once."""

from __future__ import annotations

import asyncio

import pytest

from bot.sandbox.fakediscord import FakeDiscord

from .conftest import OTHER_TEXT_ID, TEXT_ID, build_guild, rest_client, running

DELAY = 0.4


async def test_one_slow_channel_delays_only_itself() -> None:
    fake = FakeDiscord()
    build_guild(fake)
    fake.slow_channel(TEXT_ID, DELAY)
    async with running(fake), rest_client(fake) as client:
        loop = asyncio.get_running_loop()
        started = loop.time()
        slow = asyncio.create_task(client.get_partial_messageable(TEXT_ID).send("slow"))
        quick = await client.get_partial_messageable(OTHER_TEXT_ID).send("quick")
        quick_took = loop.time() - started
        assert quick.content == "quick" and not slow.done()
        assert fake.channel_messages(TEXT_ID) == []  # not handled yet
        assert (await slow).content == "slow"
        slow_took = loop.time() - started

        fake.slow_channel(TEXT_ID, 0)
        started = loop.time()
        await client.get_partial_messageable(TEXT_ID).send("on time again")
        again_took = loop.time() - started
    assert quick_took < DELAY / 2 <= DELAY <= slow_took
    assert again_took < DELAY / 2


def test_a_delay_cannot_be_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        FakeDiscord().slow_channel(TEXT_ID, -1)

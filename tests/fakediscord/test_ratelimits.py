"""Rate limits: the global limit, per-channel message buckets, 429s as Discord sends them.

Raw HTTP checks the wire format on a hand-moved clock; real discord.py clients
prove that discord.py waits on the fake's 429s and retries them, and raises
``discord.RateLimited`` when ``max_ratelimit_timeout`` is shorter than the wait.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import discord
import pytest

from bot.sandbox.fakediscord import Bucket, FakeDiscord, ManualClock, RateLimits

from .conftest import MEMBER_ID, OTHER_TEXT_ID, TEXT_ID, build_guild, rest_client, running

ROUTE_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-RateLimit-Reset-After",
    "X-RateLimit-Bucket",
)


async def post(
    http: aiohttp.ClientSession, fake: FakeDiscord, channel_id: int, text: str = "hello"
) -> tuple[int, dict[str, str], Any]:
    url = f"{fake.api_base}/channels/{channel_id}/messages"
    async with http.post(url, json={"content": text}) as response:
        return response.status, dict(response.headers), await response.json()


def bot_session(fake: FakeDiscord) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(headers={"Authorization": f"Bot {fake.token}"})


async def test_a_channel_takes_five_messages_per_five_seconds(clock: ManualClock) -> None:
    fake = FakeDiscord(clock=clock)
    build_guild(fake)
    async with running(fake), bot_session(fake) as http:
        answers = [await post(http, fake, TEXT_ID) for _ in range(6)]
        for status, headers, _ in answers[:5]:
            assert status == 200 and all(h in headers for h in ROUTE_HEADERS)
        assert [h["X-RateLimit-Remaining"] for _, h, _ in answers] == ["4", "3", "2", "1", "0", "0"]
        assert {h["X-RateLimit-Bucket"] for _, h, _ in answers} == {
            answers[0][1]["X-RateLimit-Bucket"]
        }
        status, headers, body = answers[5]
        assert status == 429
        assert body == {
            "message": "You are being rate limited.",
            "retry_after": 5.0,
            "global": False,
        }
        assert headers["Retry-After"] == "5" and headers["X-RateLimit-Scope"] == "user"
        assert headers["Via"] and headers["Content-Type"] == "application/json"
        assert headers["X-RateLimit-Reset-After"] == "5.000"
        assert len(fake.channel_messages(TEXT_ID)) == 5  # the refused one was not posted

        # Another channel has a bucket of its own; the full one refills once its window ends.
        status, headers, _ = await post(http, fake, OTHER_TEXT_ID)
        assert status == 200 and headers["X-RateLimit-Remaining"] == "4"
        clock.advance(4.9)
        assert (await post(http, fake, TEXT_ID))[0] == 429
        clock.advance(0.1)
        status, headers, _ = await post(http, fake, TEXT_ID)
        assert status == 200 and headers["X-RateLimit-Remaining"] == "4"

    hit, again = fake.rate_limit_hits
    assert (hit.scope, hit.retry_after, hit.injected) == ("user", 5.0, False)
    assert again.retry_after == pytest.approx(0.1)
    assert hit.path == f"/api/v10/channels/{TEXT_ID}/messages" and hit.bucket is not None


async def test_dm_channels_are_limited_too(clock: ManualClock) -> None:
    fake = FakeDiscord(clock=clock)
    build_guild(fake)
    async with running(fake), bot_session(fake) as http:
        url = f"{fake.api_base}/users/@me/channels"
        async with http.post(url, json={"recipient_id": str(MEMBER_ID)}) as response:
            dm_id = int((await response.json())["id"])
        statuses = [(await post(http, fake, dm_id))[0] for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    assert len(fake.dm_messages(MEMBER_ID)) == 5


async def test_the_global_limit_spares_interaction_endpoints(clock: ManualClock) -> None:
    fake = FakeDiscord(clock=clock)
    async with running(fake), bot_session(fake) as http:
        me = f"{fake.api_base}/users/@me"
        statuses = []
        for _ in range(50):
            async with http.get(me) as response:
                statuses.append(response.status)
        assert statuses == [200] * 50
        async with http.get(me) as response:
            assert response.status == 429
            assert response.headers["X-RateLimit-Global"] == "true"
            assert response.headers["X-RateLimit-Scope"] == "global"
            assert "X-RateLimit-Bucket" not in response.headers
            body = await response.json()
        assert body["global"] is True and 0 < body["retry_after"] <= 1.0

        # Interaction endpoints are not bound to the global limit: they answer on their merits.
        webhook = f"{fake.api_base}/webhooks/{fake.app_id}/no-such-token"
        async with http.post(webhook, json={"content": "x"}) as response:
            assert response.status == 404 and (await response.json())["code"] == 10015
        callback = f"{fake.api_base}/interactions/1/no-such-token/callback"
        async with http.post(callback, json={"type": 4}) as response:
            assert response.status == 404 and (await response.json())["code"] == 10062

        clock.advance(1.0)
        async with http.get(me) as response:
            assert response.status == 200
    assert [h.scope for h in fake.rate_limit_hits] == ["global"]


async def test_limits_can_be_off_and_one_channel_limited(clock: ManualClock) -> None:
    fake = FakeDiscord(clock=clock, limits=RateLimits.off())
    build_guild(fake)
    async with running(fake), bot_session(fake) as http:
        answers = [await post(http, fake, TEXT_ID) for _ in range(12)]
        assert {status for status, _, _ in answers} == {200}
        assert "X-RateLimit-Limit" not in answers[0][1]

        fake.limit_channel(OTHER_TEXT_ID, 2, per=10.0, scope="shared")
        statuses = [(await post(http, fake, OTHER_TEXT_ID))[0] for _ in range(3)]
        assert statuses == [200, 200, 429]
        _, headers, body = await post(http, fake, OTHER_TEXT_ID)
        assert headers["X-RateLimit-Scope"] == "shared" and headers["X-RateLimit-Limit"] == "2"
        assert body["message"] == "The resource is being rate limited."
        assert (await post(http, fake, TEXT_ID))[0] == 200  # the healthy channel is not held up

        fake.limit_channel(OTHER_TEXT_ID, None)
        assert (await post(http, fake, OTHER_TEXT_ID))[0] == 200
    assert [h.scope for h in fake.rate_limit_hits] == ["shared", "shared"]


def test_buckets_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="limit >= 1"):
        Bucket(0, 5.0)
    with pytest.raises(ValueError, match="per > 0"):
        Bucket(5, 0)


async def test_an_injected_429_is_recorded_and_not_counted(clock: ManualClock) -> None:
    fake = FakeDiscord(clock=clock)
    build_guild(fake)
    fake.fail_channel(TEXT_ID, 429, times=3, retry_after=0.5)
    async with running(fake), bot_session(fake) as http:
        refused = [await post(http, fake, TEXT_ID) for _ in range(3)]
        assert {status for status, _, _ in refused} == {429}
        assert refused[0][1]["Via"] and refused[0][2]["retry_after"] == 0.5
        status, headers, _ = await post(http, fake, TEXT_ID)
    assert status == 200 and headers["X-RateLimit-Remaining"] == "4"
    assert [h.injected for h in fake.rate_limit_hits] == [True, True, True]


async def test_discord_py_waits_out_a_429_and_retries() -> None:
    """Two bot processes share a channel's bucket: the second one's request meets a 429."""
    fake = FakeDiscord()  # real clock: discord.py really sleeps retry_after
    build_guild(fake)
    fake.limit_channel(TEXT_ID, 1, per=0.3)
    async with running(fake), rest_client(fake) as first, rest_client(fake) as second:
        one = first.get_partial_messageable(TEXT_ID)
        two = second.get_partial_messageable(TEXT_ID)
        # The first send empties the bucket and then sleeps Reset-After inside discord.py.
        sending = asyncio.create_task(one.send("from the first process"))
        await fake.wait_for_message(TEXT_ID)
        loop = asyncio.get_running_loop()
        started = loop.time()
        message = await two.send("from the second process")
        waited = loop.time() - started
        await sending
    assert message.content == "from the second process"
    assert [m.content for m in fake.channel_messages(TEXT_ID)] == [
        "from the first process",
        "from the second process",
    ]
    (hit,) = fake.rate_limit_hits
    assert hit.scope == "user" and 0 < hit.retry_after <= 0.3
    assert waited >= hit.retry_after


async def test_discord_py_holds_every_request_during_a_global_429() -> None:
    fake = FakeDiscord(limits=RateLimits(global_limit=Bucket(3, 0.3, "global")))
    build_guild(fake)
    async with running(fake), rest_client(fake) as client:
        fake.rate_limit_hits.clear()  # login itself used two requests
        users = await asyncio.gather(*(client.fetch_user(MEMBER_ID) for _ in range(4)))
    assert {u.id for u in users} == {MEMBER_ID}
    assert fake.rate_limit_hits and all(h.is_global for h in fake.rate_limit_hits)


async def test_max_ratelimit_timeout_raises_rate_limited(clock: ManualClock) -> None:
    fake = FakeDiscord(clock=clock)
    build_guild(fake)
    fake.limit_channel(TEXT_ID, 1, per=3600.0)
    async with running(fake), rest_client(fake, max_ratelimit_timeout=30.0) as client:
        channel = client.get_partial_messageable(TEXT_ID)
        await channel.send("the hour's one message")
        with pytest.raises(discord.RateLimited) as refused:
            await channel.send("one too many")
    assert refused.value.retry_after == pytest.approx(3600.0)
    assert [m.content for m in fake.channel_messages(TEXT_ID)] == ["the hour's one message"]
    assert [h.retry_after for h in fake.rate_limit_hits] == [pytest.approx(3600.0)]

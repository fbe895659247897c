"""Channel history: pages of 1-100 messages, newest first, before/after/around."""

from __future__ import annotations

from typing import Any

import aiohttp
import discord
import pytest

from bot.sandbox.fakediscord import DEFAULT_BOT_PERMISSIONS, FakeDiscord, RateLimits

from .conftest import TEXT_ID, build_guild, rest_client, running

COUNT = 120


async def seed(fake: FakeDiscord, http: aiohttp.ClientSession, count: int = COUNT) -> list[int]:
    """Post ``count`` messages "m0".."m{count-1}"; return their ids, oldest first."""
    ids = []
    for n in range(count):
        url = f"{fake.api_base}/channels/{TEXT_ID}/messages"
        async with http.post(url, json={"content": f"m{n}"}) as response:
            ids.append(int((await response.json())["id"]))
    return ids


async def page(
    fake: FakeDiscord, http: aiohttp.ClientSession, **query: Any
) -> tuple[int, list[Any] | dict[str, Any]]:
    url = f"{fake.api_base}/channels/{TEXT_ID}/messages"
    async with http.get(url, params={k: str(v) for k, v in query.items()}) as response:
        return response.status, await response.json()


def contents(messages: Any) -> list[str]:
    return [m["content"] for m in messages]


@pytest.fixture
async def world() -> Any:
    fake = FakeDiscord(limits=RateLimits.off())  # 120 posts in a blink
    build_guild(fake)
    headers = {"Authorization": f"Bot {fake.token}"}
    async with running(fake), aiohttp.ClientSession(headers=headers) as http:
        ids = await seed(fake, http)
        yield fake, http, ids


async def test_pages_are_newest_first_and_cut_like_discords(world: Any) -> None:
    fake, http, ids = world
    status, default = await page(fake, http)
    assert status == 200 and contents(default) == [f"m{n}" for n in range(119, 69, -1)]
    _, five = await page(fake, http, limit=5, before=ids[10])
    assert contents(five) == ["m9", "m8", "m7", "m6", "m5"]
    # after: the messages right after the id (not the newest ones), still newest first
    _, after = await page(fake, http, limit=3, after=ids[10])
    assert contents(after) == ["m13", "m12", "m11"]
    _, around = await page(fake, http, limit=5, around=ids[50])
    assert contents(around) == ["m52", "m51", "m50", "m49", "m48"]
    _, alone = await page(fake, http, limit=1, around=ids[50])
    assert contents(alone) == ["m50"]
    _, everything = await page(fake, http, limit=100)
    assert len(everything) == 100 and everything[0]["content"] == "m119"
    assert all("nonce" not in m for m in everything)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"before": "yesterday"}, "before"),
        ({"before": 1, "after": 2}, "after"),
        ({"around": 1, "after": 2}, "around"),
    ],
)
async def test_bad_queries_are_refused(world: Any, query: dict[str, Any], field: str) -> None:
    fake, http, _ = world
    status, body = await page(fake, http, **query)
    assert status == 400 and isinstance(body, dict)
    assert body["code"] == 50035 and field in body["errors"]


async def test_discord_py_pages_through_the_whole_channel(world: Any) -> None:
    fake, _, ids = world
    async with rest_client(fake) as client:
        channel = client.get_partial_messageable(TEXT_ID)
        oldest_first = [m.content async for m in channel.history(limit=None, oldest_first=True)]
        newest_first = [m.content async for m in channel.history(limit=None)]
        after = [m.content async for m in channel.history(after=discord.Object(ids[99]))]
        around = [m.content async for m in channel.history(around=discord.Object(ids[60]), limit=3)]
    assert oldest_first == [f"m{n}" for n in range(COUNT)]
    assert newest_first == oldest_first[::-1]
    assert after == [f"m{n}" for n in range(100, COUNT)]  # oldest first when paging forward
    assert sorted(around) == ["m59", "m60", "m61"]


async def test_a_bot_finds_its_earlier_post_by_a_marker(world: Any) -> None:
    fake, _, _ = world
    async with rest_client(fake) as client:
        channel = client.get_partial_messageable(TEXT_ID)
        embed = discord.Embed(title="Digest").set_footer(text="IGF 2027 · mag-digest-7")
        view = discord.ui.View()
        view.add_item(discord.ui.Button(label="Open", custom_id="digest:7"))
        posted = await channel.send("This week", embed=embed, view=view)
        await channel.send("chatter after it")
        found = None
        async for message in channel.history(limit=200):
            footer = message.embeds[0].footer.text if message.embeds else None
            if message.author.id == client.user.id and footer and "mag-digest-7" in footer:
                found = message
                break
        assert found is not None and found.id == posted.id
        assert found.content == "This week" and found.embeds[0].title == "Digest"
        assert found.components[0].children[0].custom_id == "digest:7"  # type: ignore[union-attr]

        await found.delete()
        remaining = [m.id async for m in channel.history(limit=5)]
    assert posted.id not in remaining


async def test_history_needs_view_channel_and_read_message_history(world: Any) -> None:
    fake, http, _ = world
    guild = fake.guilds[next(iter(fake.guilds))]
    everyone = guild.everyone.permissions
    no_history = DEFAULT_BOT_PERMISSIONS & ~discord.Permissions(read_message_history=True).value
    guild.update_role(guild.id, permissions=0)
    guild.update_role(guild.bot_role.id, permissions=no_history)
    status, body = await page(fake, http)
    assert (status, body) == (200, [])
    guild.update_role(guild.bot_role.id, permissions=0)
    status, body = await page(fake, http)
    assert status == 403 and isinstance(body, dict) and body["code"] == 50001
    guild.update_role(guild.id, permissions=everyone)

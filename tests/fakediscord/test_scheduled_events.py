"""Guild scheduled events: Discord's checks, permissions, the cap, and the gateway events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import discord
import pytest

from bot.sandbox.fakediscord import (
    CREATE_EVENTS,
    DEFAULT_BOT_PERMISSIONS,
    MANAGE_EVENTS,
    FakeDiscord,
    FakeGuild,
    ManualClock,
    RateLimits,
)

from .conftest import GUILD_ID, STAGE_ID, TEXT_ID, VOICE_ID, build_guild, rest_client, running

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
START = NOW + timedelta(days=7)
END = START + timedelta(hours=2)
EVENT_PERMISSIONS = (
    DEFAULT_BOT_PERMISSIONS
    | CREATE_EVENTS
    | MANAGE_EVENTS
    | discord.Permissions(
        connect=True, manage_channels=True, mute_members=True, move_members=True
    ).value
)


def external(**overrides: Any) -> dict[str, Any]:
    body = {
        "name": "IGF 2027 open consultation",
        "description": "Inputs on the programme",
        "privacy_level": 2,
        "entity_type": 3,
        "scheduled_start_time": START.isoformat(),
        "scheduled_end_time": END.isoformat(),
        "entity_metadata": {"location": "Palais des Nations, Geneva"},
    }
    return {**body, **overrides}


def voice(**overrides: Any) -> dict[str, Any]:
    body = {
        "name": "MAG call",
        "privacy_level": 2,
        "entity_type": 2,
        "channel_id": str(VOICE_ID),
        "scheduled_start_time": START.isoformat(),
    }
    return {**body, **overrides}


@dataclass
class World:
    fake: FakeDiscord
    guild: FakeGuild
    http: aiohttp.ClientSession

    @property
    def events_url(self) -> str:
        return f"{self.fake.api_base}/guilds/{GUILD_ID}/scheduled-events"

    async def call(self, method: str, url: str, body: Any = None) -> tuple[int, Any]:
        async with self.http.request(method, url, json=body) as response:
            text = await response.text()
            return response.status, (json.loads(text) if text else None)

    async def create(self, body: dict[str, Any]) -> tuple[int, Any]:
        return await self.call("POST", self.events_url, body)

    async def patch(self, event_id: str, body: dict[str, Any]) -> tuple[int, Any]:
        return await self.call("PATCH", f"{self.events_url}/{event_id}", body)


@pytest.fixture
async def world() -> AsyncIterator[World]:
    fake = FakeDiscord(limits=RateLimits.off(), wall_clock=ManualClock(NOW.timestamp()))
    guild = build_guild(fake)
    guild.update_role(guild.bot_role.id, permissions=EVENT_PERMISSIONS)
    headers = {"Authorization": f"Bot {fake.token}"}
    async with running(fake), aiohttp.ClientSession(headers=headers) as http:
        yield World(fake, guild, http)


async def test_create_get_list_patch_delete(world: World) -> None:
    status, created = await world.create(external())
    assert status == 200 and created["status"] == 1 and created["guild_id"] == str(GUILD_ID)
    assert created["entity_metadata"] == {"location": "Palais des Nations, Geneva"}
    assert created["creator_id"] == str(world.fake.bot_user.id) and created["channel_id"] is None
    event_id = created["id"]
    status, fetched = await world.call("GET", f"{world.events_url}/{event_id}?with_user_count=1")
    assert status == 200 and fetched["name"] == created["name"] and fetched["user_count"] == 0
    status, listed = await world.call("GET", world.events_url)
    assert [e["id"] for e in listed] == [event_id]

    status, edited = await world.patch(event_id, {"name": "Open consultation, day 1"})
    assert status == 200 and edited["name"] == "Open consultation, day 1"
    (stored,) = world.fake.scheduled_events(GUILD_ID)
    assert stored.name == "Open consultation, day 1" and stored.edits == [
        {"name": "Open consultation, day 1"}
    ]

    assert (await world.call("DELETE", f"{world.events_url}/{event_id}"))[0] == 204
    assert world.fake.scheduled_events(GUILD_ID) == []
    status, gone = await world.call("GET", f"{world.events_url}/{event_id}")
    assert status == 404 and gone["code"] == 10070


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (external(name=""), "name"),
        (external(name="x" * 101), "name"),
        (external(description="x" * 1001), "description"),
        ({k: v for k, v in external().items() if k != "privacy_level"}, "privacy_level"),
        (external(privacy_level=1), "privacy_level"),
        ({k: v for k, v in external().items() if k != "entity_type"}, "entity_type"),
        (external(entity_type=4), "entity_type"),
        (external(scheduled_start_time=(NOW - timedelta(minutes=1)).isoformat()), None),
        (external(scheduled_start_time="next Tuesday"), "scheduled_start_time"),
        (external(scheduled_end_time=(START - timedelta(hours=1)).isoformat()), None),
        (external(scheduled_end_time=None), "scheduled_end_time"),
        (external(entity_metadata=None), "entity_metadata"),
        (external(entity_metadata={"location": "x" * 101}), "entity_metadata"),
        (external(channel_id=str(VOICE_ID)), "channel_id"),
        ({k: v for k, v in voice().items() if k != "channel_id"}, "channel_id"),
        (voice(channel_id=str(TEXT_ID)), "channel_id"),
        (voice(channel_id=str(STAGE_ID)), "channel_id"),
        (voice(entity_type=1), "channel_id"),
        (voice(entity_metadata={"location": "here"}), "entity_metadata"),
    ],
)
async def test_invalid_events_are_refused(
    world: World, body: dict[str, Any], field: str | None
) -> None:
    status, error = await world.create(body)
    assert status == 400 and error["code"] == 50035 and error["message"] == "Invalid Form Body"
    errors = error["errors"]
    if field is not None:
        assert field in errors, errors
    else:
        assert {"scheduled_start_time", "scheduled_end_time"} & set(errors), errors
    assert world.fake.scheduled_events(GUILD_ID) == []


async def test_voice_and_stage_events_need_their_channel(world: World) -> None:
    status, made = await world.create(voice())
    assert status == 200 and made["channel_id"] == str(VOICE_ID) and made["entity_metadata"] is None
    status, stage = await world.create(voice(entity_type=1, channel_id=str(STAGE_ID)))
    assert status == 200 and stage["entity_type"] == 1
    # PATCH drops entity_metadata of a non-external event instead of refusing it.
    status, edited = await world.patch(made["id"], {"entity_metadata": {"location": "x"}})
    assert status == 200 and edited["entity_metadata"] is None
    # Moving to external needs channel_id null, a location and an end time.
    status, error = await world.patch(made["id"], {"entity_type": 3})
    assert status == 400 and {"channel_id", "entity_metadata", "scheduled_end_time"} <= set(
        error["errors"]
    )
    status, moved = await world.patch(
        made["id"],
        {
            "entity_type": 3,
            "channel_id": None,
            "entity_metadata": {"location": "Online"},
            "scheduled_end_time": END.isoformat(),
        },
    )
    assert (
        status == 200
        and moved["channel_id"] is None
        and moved["entity_metadata"] == {"location": "Online"}
    )


async def test_status_moves_only_as_discord_allows(world: World) -> None:
    _, one = await world.create(external())
    _, two = await world.create(external())
    assert (await world.patch(one["id"], {"status": 3}))[0] == 400  # scheduled -> completed
    assert (await world.patch(one["id"], {"status": 2}))[1]["status"] == 2
    assert (await world.patch(one["id"], {"status": 1}))[0] == 400  # active -> scheduled
    assert (await world.patch(one["id"], {"status": 4}))[0] == 400  # active -> canceled
    assert (await world.patch(one["id"], {"status": 3}))[1]["status"] == 3
    assert (await world.patch(one["id"], {"status": 2}))[0] == 400  # completed is final
    assert (await world.patch(two["id"], {"status": 4}))[1]["status"] == 4
    status, error = await world.patch(two["id"], {"status": 1})  # canceled is final
    assert status == 400 and "status" in error["errors"]


async def test_at_most_100_upcoming_events(world: World) -> None:
    made = [(await world.create(external(name=f"Session {n}")))[1] for n in range(100)]
    status, error = await world.create(external(name="one too many"))
    assert status == 400 and error["code"] == 30038
    assert error["message"] == "Maximum number of uncompleted guild scheduled events reached (100)"
    assert (await world.patch(made[0]["id"], {"status": 4}))[0] == 200  # canceled: not upcoming
    assert (await world.create(external(name="now it fits")))[0] == 200


async def test_the_bot_needs_the_events_permissions(world: World) -> None:
    guild, bot_role = world.guild, world.guild.bot_role.id
    guild.update_role(bot_role, permissions=DEFAULT_BOT_PERMISSIONS)
    status, error = await world.create(external())
    assert (status, error["code"], error["message"]) == (403, 50013, "Missing Permissions")

    # Since 2026-02-23 Manage Events alone no longer lets a bot create events...
    guild.update_role(bot_role, permissions=DEFAULT_BOT_PERMISSIONS | MANAGE_EVENTS)
    assert (await world.create(external()))[0] == 403
    # ...Create Events does, and lets it edit and delete the events it created.
    guild.update_role(bot_role, permissions=DEFAULT_BOT_PERMISSIONS | CREATE_EVENTS)
    status, own = await world.create(external())
    assert status == 200
    assert (await world.patch(own["id"], {"name": "renamed"}))[0] == 200
    # A stage event also needs Manage Channels, Mute and Move Members.
    assert (await world.create(voice(entity_type=1, channel_id=str(STAGE_ID))))[0] == 403
    guild.update_role(bot_role, permissions=0)
    assert (await world.patch(own["id"], {"name": "again"}))[0] == 403
    assert (await world.call("DELETE", f"{world.events_url}/{own['id']}"))[0] == 403


async def test_discord_py_creates_starts_and_ends_an_event(world: World) -> None:
    async with rest_client(world.fake) as client:
        guild = await client.fetch_guild(GUILD_ID)
        with pytest.raises(discord.HTTPException) as refused:
            # discord.py sends neither privacy_level nor entity_type here: Discord wants both.
            await guild.create_scheduled_event(
                name="Consultation", start_time=START, end_time=END, location="Geneva"
            )
        event = await guild.create_scheduled_event(
            name="Consultation",
            start_time=START,
            end_time=END,
            location="Geneva",
            privacy_level=discord.PrivacyLevel.guild_only,
            entity_type=discord.EntityType.external,
        )
        channel = await client.fetch_channel(VOICE_ID)
        assert isinstance(channel, discord.VoiceChannel)
        call = await guild.create_scheduled_event(
            name="MAG call",
            start_time=START,
            channel=channel,
            privacy_level=discord.PrivacyLevel.guild_only,
        )
        started = await event.start()
        ended = await started.end()
        fetched = await guild.fetch_scheduled_events()
        await call.delete()
    assert refused.value.code == 50035
    assert "privacy_level" in refused.value.text and "entity_type" in refused.value.text
    assert event.location == "Geneva" and event.status is discord.EventStatus.scheduled
    assert call.entity_type is discord.EntityType.voice and call.channel_id == VOICE_ID
    assert started.status is discord.EventStatus.active
    assert ended.status is discord.EventStatus.completed
    assert {e.name for e in fetched} == {"Consultation", "MAG call"}
    assert [e.name for e in world.fake.scheduled_events(GUILD_ID)] == ["Consultation"]


async def _frames_until(ws: aiohttp.ClientWebSocketResponse, event: str) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    while True:
        frame = json.loads((await ws.receive(timeout=5)).data)
        frames.append(frame)
        if frame.get("t") == event:
            return frames


async def test_gateway_events_go_only_to_sessions_with_the_intent(world: World) -> None:
    sockets = {}
    for name, intents in (("plain", 1), ("events", 1 | 1 << 16)):
        ws = await world.http.ws_connect(world.fake.gateway_url)
        await ws.receive_json()  # HELLO
        await ws.send_json({"op": 2, "d": {"token": world.fake.token, "intents": intents}})
        await _frames_until(ws, "GUILD_CREATE")
        sockets[name] = ws
    try:
        _, made = await world.create(external())
        await world.patch(made["id"], {"status": 2})
        await world.call("DELETE", f"{world.events_url}/{made['id']}")
        world.guild.add_channel(TEXT_ID + 100, "after-the-events")  # both sessions get this
        seen = {
            name: [f["t"] for f in await _frames_until(ws, "CHANNEL_CREATE")]
            for name, ws in sockets.items()
        }
    finally:
        for ws in sockets.values():
            await ws.close()
    assert seen["plain"] == ["CHANNEL_CREATE"]
    assert seen["events"] == [
        "GUILD_SCHEDULED_EVENT_CREATE",
        "GUILD_SCHEDULED_EVENT_UPDATE",
        "GUILD_SCHEDULED_EVENT_DELETE",
        "CHANNEL_CREATE",
    ]


async def test_a_discord_py_client_keeps_the_events_in_its_cache(world: World) -> None:
    _, before = await world.create(external(name="Known at login"))
    created: list[discord.ScheduledEvent] = []
    updated: list[tuple[discord.ScheduledEvent, discord.ScheduledEvent]] = []
    deleted: list[discord.ScheduledEvent] = []
    intents = discord.Intents(guilds=True, guild_scheduled_events=True)
    with world.fake.patch_discord():
        client = discord.Client(intents=intents)
        client.event(_recorder("on_scheduled_event_create", created.append))
        client.event(_recorder("on_scheduled_event_update", lambda *a: updated.append(a)))
        client.event(_recorder("on_scheduled_event_delete", deleted.append))
        task = asyncio.create_task(client.start(world.fake.token))
        try:
            await world.fake.wait_connected()
            await world.fake.flush_gateway()
            guild = client.get_guild(GUILD_ID)
            assert guild is not None
            assert [e.name for e in guild.scheduled_events] == ["Known at login"]  # GUILD_CREATE
            _, made = await world.create(voice())
            await world.patch(made["id"], {"status": 2})
            await world.call("DELETE", f"{world.events_url}/{before['id']}")
            await world.fake.flush_gateway()
            cached = guild.get_scheduled_event(int(made["id"]))
        finally:
            await client.close()
            await asyncio.wait_for(task, 5)
    assert [e.name for e in created] == ["MAG call"]
    assert [(old.status, new.status) for old, new in updated] == [
        (discord.EventStatus.scheduled, discord.EventStatus.active)
    ]
    assert [e.name for e in deleted] == ["Known at login"]
    assert cached is not None and cached.channel_id == VOICE_ID
    assert cached.status is discord.EventStatus.active


def _recorder(name: str, record: Any) -> Any:
    async def handler(*args: Any) -> None:
        record(*args)

    handler.__name__ = name
    return handler

"""/digest end to end: preview privately, send once, the wrong role, a refused channel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.conftest import World

pytestmark = pytest.mark.asyncio(loop_scope="module")


def _soon() -> str:
    return (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%d %H:%M")


def digests(world: World) -> list:
    return [
        m
        for m in world.fake.channel_messages(world.channels["digest"])
        if "Secretariat digest" in m.embed_text()
    ]


async def test_setup(world: World) -> None:
    w = world
    await w.run("admin", "config channel", purpose="digest", channel=w.channels["digest"])
    await w.run("admin", "config channel", purpose="reminders", channel=w.channels["reminders"])
    await w.run("admin", "config channel", purpose="log", channel=w.channels["mag-log"])
    await w.run("admin", "config role", purpose="secretariat", role=w.roles["secretariat"])
    await w.run("admin", "config role", purpose="mag", role=w.roles["mag"])
    await w.run("admin", "config cycle", name="IGF 2030")


async def test_preview_is_private_and_posts_nothing(world: World) -> None:
    await world.run(
        "secretariat", "deadline add", title="Second open consultations", due="2099-01-01 10:00"
    )
    # Far ahead: not in the next 14 days, and adding a deadline is not news. Nothing to report.
    reply = await world.run("secretariat", "digest preview")
    assert reply.ephemeral and "nothing to report" in reply.content
    assert digests(world) == []


async def test_send_posts_once_in_the_digest_channel(world: World) -> None:
    await world.run("secretariat", "deadline add", title="MAG call", due="2099-01-02 10:00")
    await world.run("secretariat", "deadline add", title="Scores due", due=_soon(), kind="reviews")
    preview = await world.run("secretariat", "digest preview")
    assert "Deadlines in the next 14 days" in preview.embed_text()
    assert "Scores due" in preview.embed_text()
    answer = await world.run("secretariat", "digest send")
    assert answer.ephemeral and "Digest posted" in answer.content
    (message,) = digests(world)
    text = message.embed_text()
    assert "IGF 2030" in text and "Scores due" in text
    assert message.nonce is not None and str(message.nonce).startswith("mag-o-")


async def test_only_the_secretariat_sends_digests(world: World) -> None:
    for user in ("mag1", "outsider"):
        reply = await world.run(user, "digest send")
        assert reply.ephemeral and "secretariat" in reply.content
    assert len(digests(world)) == 1


async def test_a_refused_digest_channel_is_reported_to_the_admins_once(world: World) -> None:
    world.fake.fail_channel(world.channels["digest"], 403, times=2)
    first = await world.run("secretariat", "digest send")
    assert "could not be posted" in first.content
    notices = [
        m
        for m in world.fake.channel_messages(world.channels["mag-log"])
        if "could not post digest" in m.content
    ]
    assert len(notices) == 1
    assert len(digests(world)) == 1

"""The one error path, end to end: refusals, and unexpected errors with an id."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import World

pytestmark = pytest.mark.asyncio(loop_scope="module")

BOT_ENV = {"EXTRA_COGS": "tests.e2e.faulty_cog"}


async def test_a_non_admin_is_refused_and_nothing_changes(world: World) -> None:
    # Discord hides /config from non-admins, but a server admin can open it
    # (Server Settings -> Integrations): the bot must check again.
    world.fake.open_command(world.guild_id, "config")
    for user in ("mag1", "secretariat", "outsider"):
        reply = await world.run(user, "config timezone", name="Asia/Tokyo")
        assert reply.ephemeral
        assert "Only server admins" in reply.content
    assert "Asia/Tokyo" not in (await world.run("admin", "config show")).embed_text()
    refused = await world.run("outsider", "config show")
    assert refused.ephemeral and not refused.embeds


@pytest.mark.parametrize("deferred", [False, True])
async def test_an_unexpected_error_gets_an_id_and_a_logged_traceback(
    world: World, deferred: bool
) -> None:
    start = len(world.bot.lines)
    interaction = await world.invoke("mag1", "explode", deferred=deferred)
    reply = await interaction.wait_reply()
    assert reply.ephemeral
    match = re.search(r"error id `([0-9a-f]{8})`", reply.content)
    assert match, reply.content
    error_id = match.group(1)
    world.bot.expected_errors.append(error_id)
    logged = await world.bot.wait_for_line(rf"unexpected error {error_id} in explode", after=start)
    assert "ERROR" in logged
    await world.bot.wait_for_line("RuntimeError: the database caught fire", after=start)
    if deferred:
        # The public "thinking…" placeholder is removed so the error stays private.
        assert not world.fake.channel_messages(world.channels["general"])


async def test_a_locked_database_gets_a_clear_answer_and_then_works_again(world: World) -> None:
    import sqlite3
    import time

    path = world.bot.workdir / "magbot.db"
    holder = sqlite3.connect(path, isolation_level=None)
    start = len(world.bot.lines)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the file
        began = time.monotonic()
        reply = await world.run("admin", "config timezone", name="America/Bogota")
        waited = time.monotonic() - began
        assert reply.ephemeral
        assert "database is unavailable right now" in reply.content
        assert "Try again in a moment" in reply.content
        assert waited < 3.0, "Discord gives an interaction 3 s for its first answer"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    logged = await world.bot.wait_for_line("database unavailable in config timezone", after=start)
    assert "WARNING" in logged
    reply = await world.run("admin", "config timezone", name="America/Bogota")
    assert "unavailable" not in reply.content
    assert "America/Bogota" in (await world.run("admin", "config show")).embed_text()


@pytest.mark.parametrize("seconds", [0, 1.6])
async def test_a_quick_answer_takes_one_callback_and_a_slow_one_is_deferred_first(
    world: World, seconds: float
) -> None:
    interaction = await world.invoke("mag1", "nap", seconds=seconds)
    reply = await interaction.wait_reply()
    assert reply.ephemeral and reply.content == f"Rested {seconds:g} s."
    callback = await interaction.wait_callback()
    # 4: the message itself, in the one round trip; 5: "thinking…", then a followup.
    assert callback.type == (4 if seconds == 0 else 5)
    assert [r.kind for r in interaction.responses] == (
        ["callback"] if seconds == 0 else ["callback", "followup"]
    )
    assert all(r.accepted for r in interaction.responses)

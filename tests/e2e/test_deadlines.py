"""/deadline end to end: the reminder arrives once, across a restart; the calendar imports.

These tests wait on the real clock (a reminder a few seconds ahead): the bot
is a real process with a real clock. They wait for the message or a log
line, never for a fixed time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from tests.e2e.conftest import World, due_in, titled

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_setup_the_channels_and_roles(world: World) -> None:
    w = world
    await w.run("admin", "config channel", purpose="reminders", channel=w.channels["reminders"])
    await w.run("admin", "config channel", purpose="log", channel=w.channels["mag-log"])
    await w.run("admin", "config role", purpose="secretariat", role=w.roles["secretariat"])
    await w.run("admin", "config role", purpose="mag", role=w.roles["mag"])


async def test_a_reminder_a_few_seconds_ahead_arrives_once(world: World) -> None:
    reply = await world.run(
        "secretariat",
        "deadline add",
        title="Call for inputs",
        due=due_in(66),
        timezone="UTC",
        offsets="1m",
        link="https://intgovforum.org/call",
    )
    assert reply.ephemeral
    text = reply.embed_text()
    assert "Deadline #1 added" in text and "<t:" in text and "1m before" in text
    message = await world.fake.wait_for_message(
        world.channels["reminders"], lambda m: "Call for inputs" in m.embed_text(), timeout=30
    )
    assert message.nonce.startswith("mag-o-")
    assert "is due <t:" in message.content
    assert message.allowed_mentions == {"parse": []}  # nobody is pinged by default
    await world.bot.wait_for_line(r"outbox: reminder \S+ ×1 in c:\d+: sent", timeout=5)
    assert len(titled(world, "reminders", "Call for inputs")) == 1


async def test_a_reminder_due_while_the_bot_restarts_arrives_once(world: World) -> None:
    await world.run("secretariat", "deadline add", title="Scores due", due=due_in(64), offsets="1m")
    # Down while the reminder falls due: it goes out once after the restart.
    status = await world.bot.stop()
    assert status == 0
    await world.bot.start()
    message = await world.fake.wait_for_message(
        world.channels["reminders"], lambda m: "Scores due" in m.embed_text(), timeout=40
    )
    assert message.nonce.startswith("mag-o-")
    await world.bot.alive_while(world.fake.wait_connected(timeout=30, identifies=2))
    # Restart once more: nothing is sent twice.
    await world.restart_bot()
    await world.bot.wait_for_line(r"connected as", timeout=30)
    assert len(titled(world, "reminders", "Scores due")) == 1
    assert len(titled(world, "reminders", "Call for inputs")) == 1


async def test_bad_input_is_refused_and_nothing_is_stored(world: World) -> None:
    for options, hint in (
        ({"due": "2020-01-01 10:00"}, "in the past"),
        ({"due": "tomorrow"}, "YYYY-MM-DD HH:MM"),
        ({"due": "2030-01-01 10:00", "timezone": "Europe/Geneva"}, "Europe/Zurich"),
        ({"due": "2030-01-01 10:00", "offsets": "soon"}, "not an offset"),
    ):
        reply = await world.run("secretariat", "deadline add", title="Nope", **options)
        assert reply.ephemeral and hint in reply.content, reply.content
    refused = await world.run("mag1", "deadline add", title="Nope", due="2030-01-01 10:00")
    assert "secretariat" in refused.content
    listing = await world.run("mag1", "deadline list", include_past=True)
    assert "Nope" not in listing.embed_text()


async def test_list_edit_remove_and_the_calendar(world: World) -> None:
    w = world
    added = await w.run(
        "secretariat",
        "deadline add",
        title="Workshop proposals",
        due="2030-04-15 23:59",
        kind="proposals",
        offsets="7d,1d",
    )
    number = int(added.embed_text().split("Deadline #", 1)[1].split(" ", 1)[0])
    await w.run(
        "secretariat",
        "deadline add",
        title="WG call",
        due="2030-03-04 09:00",
        timezone="Europe/Zurich",
        repeat="weekly",
        offsets="1h",
        kind="meeting",
    )
    edited = await w.run("secretariat", "deadline edit", number=number, due="2030-04-22 23:59")
    assert "changed" in edited.embed_text()
    listing = (await w.run("mag2", "deadline list")).embed_text()
    assert "Workshop proposals" in listing and "WG call" in listing
    reply = await w.run("mag2", "deadline calendar")
    ((filename, data),) = reply.attachments
    assert filename == "deadlines.ics"
    calendar = Calendar.from_ical(data)
    events = {str(e["summary"]): e for e in calendar.walk("VEVENT")}
    proposals = events["Proposals: Workshop proposals"]
    assert proposals["dtstart"].dt == datetime(2030, 4, 22, 23, 59, tzinfo=UTC)
    triggers = sorted(a["trigger"].dt for a in proposals.walk("VALARM"))
    assert triggers == [timedelta(days=-7), timedelta(days=-1)]
    call = events["Meeting: WG call"]
    assert call["dtstart"].dt.tzinfo is not None and call["dtstart"].dt.hour == 9
    assert str(call["dtstart"].params.get("TZID")) == "Europe/Zurich"
    assert call["rrule"]["FREQ"] == ["WEEKLY"]
    assert "Europe/Zurich" in {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")}
    removed = await w.run("secretariat", "deadline remove", number=number)
    assert "removed" in removed.content and "2 pending reminders cancelled" in removed.content
    assert "Workshop proposals" not in (await w.run("mag2", "deadline list")).embed_text()


async def test_a_refused_channel_fails_the_reminder_and_tells_the_admins(world: World) -> None:
    world.fake.fail_channel(world.channels["reminders"], 403, times=1)
    await world.run("secretariat", "deadline add", title="Refused", due=due_in(63), offsets="1m")
    notice = await world.fake.wait_for_message(
        world.channels["mag-log"], lambda m: "could not post reminders" in m.content, timeout=30
    )
    assert f"<#{world.channels['reminders']}>" in notice.content
    assert titled(world, "reminders", "Refused") == []
    await world.bot.wait_for_line(r"refused a reminder", timeout=5)

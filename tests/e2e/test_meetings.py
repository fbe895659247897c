"""MAG meetings end to end: the real bot against the fake Discord and its scheduled events.

One story, in order: without the events permissions the bot keeps the
meeting and says so, once; given them, the next change creates the event.
A meeting that starts a few seconds later gets its scheduled event (checked
in the fake's store), follows an edit, an agenda with a proposal accepted;
the MAG is reminded before it (once); when it starts, the event becomes
active and the "I'm here" button is posted and answered across a restart;
minutes are recorded through the form and listed in the digest; another
meeting is cancelled with its event. Last, ``/meeting plan`` on members in
five time zones gives the rotation of docs/meetings.md.
"""

from __future__ import annotations

import discord
import pytest

from bot.sandbox.fakediscord.scheduled_events import ACTIVE, CANCELED, EXTERNAL, SCHEDULED
from tests.e2e.conftest import World, due_in

pytestmark = pytest.mark.asyncio(loop_scope="module")

STARTS_IN = 70  # seconds: the story before the start runs in less; its reminder at 1m
EVENTS = discord.Permissions(manage_events=True, create_events=True).value


async def test_setup(world: World) -> None:
    w = world
    await w.run("admin", "config channel", purpose="reminders", channel=w.channels["reminders"])
    await w.run("admin", "config channel", purpose="digest", channel=w.channels["digest"])
    await w.run("admin", "config role", purpose="secretariat", role=w.roles["secretariat"])
    await w.run("admin", "config role", purpose="mag", role=w.roles["mag"])


async def test_without_manage_events_the_meeting_is_kept_and_the_secretariat_told(
    world: World,
) -> None:
    refused = await world.run("mag1", "meeting schedule", starts="2030-01-01 10:00")
    assert refused.ephemeral and "Only the secretariat" in refused.content
    reply = await world.run(
        "secretariat", "meeting schedule", starts="2030-06-01 11:00", timezone="UTC"
    )
    assert reply.ephemeral and "Meeting #1 is scheduled" in reply.content
    assert "lacks the Manage Events permission" in reply.content
    assert "try again by myself" in reply.content
    assert world.fake.scheduled_events(world.guild_id) == []
    kept = await world.run("mag2", "meeting view", number=1)
    assert "Virtual Meeting I" in kept.embed_text() and "Missing Permissions" in kept.embed_text()
    # Meetings are the MAG's and the secretariat's: anyone else is told, privately.
    for command, options in (("meeting view", {"number": 1}), ("meeting list", {})):
        hidden = await world.run("outsider", command, **options)
        assert hidden.ephemeral and not hidden.embeds
        assert "Only MAG members and the secretariat can see meetings" in hidden.content
    # A time zone alone would change nothing: said, not ignored.
    zone_only = await world.run("secretariat", "meeting edit", number=1, timezone="Asia/Tokyo")
    assert zone_only.ephemeral and "applies only to a new start" in zone_only.content
    # Its attendance cannot be taken yet: the button is not posted before it.
    early = await world.run("secretariat", "meeting attendance", number=1)
    assert early.ephemeral and "from 15 minutes before" in early.content
    # An admin gives the permissions; the next change brings the event into Discord.
    world.guild.bot_role.permissions |= EVENTS
    edited = await world.run("secretariat", "meeting edit", number=1, location="Geneva, Room XX")
    assert "Its Discord event is up to date" in edited.content
    (event,) = world.fake.scheduled_events(world.guild_id)
    assert event.name == "Virtual Meeting I" and event.location == "Geneva, Room XX"


async def test_schedule_creates_the_event_and_an_edit_follows(world: World) -> None:
    reply = await world.run(
        "secretariat",
        "meeting schedule",
        starts=due_in(STARTS_IN),
        timezone="UTC",
        length=15,
        description="Open consultations and workshop selection.",
        offsets="1m",
    )
    assert "Meeting #2 is scheduled" in reply.content and "up to date" in reply.content
    event = world.fake.scheduled_events(world.guild_id)[-1]
    assert event.name == "Virtual Meeting II" and event.entity_type == EXTERNAL
    assert event.location == "Online" and event.status == SCHEDULED
    assert event.description == "Open consultations and workshop selection."
    assert event.scheduled_end_time is not None
    assert (event.scheduled_end_time - event.scheduled_start_time).total_seconds() == 15 * 60
    changed = await world.run(
        "secretariat", "meeting edit", number=2, title="Virtual Meeting XI", location="Zoom"
    )
    assert "Meeting #2 is changed" in changed.content
    assert event.name == "Virtual Meeting XI" and event.location == "Zoom"
    listed = await world.run("mag3", "meeting list")
    assert "Virtual Meeting XI" in listed.embed_text()


async def test_agenda_proposals(world: World) -> None:
    added = await world.run(
        "secretariat", "meeting agenda add", number=2, item="Adoption of the agenda"
    )
    assert "Item 1 is on the agenda" in added.content
    proposed = await world.run("mag1", "meeting agenda add", number=2, item="Hybrid participation")
    assert "Item 2 is proposed" in proposed.content
    outsider = await world.run("outsider", "meeting agenda add", number=2, item="Me")
    assert outsider.ephemeral and "Only MAG members and the secretariat" in outsider.content
    before = await world.run("mag2", "meeting view", number=2)
    assert "Hybrid participation (proposed)" in before.embed_text()
    refused = await world.run("mag1", "meeting agenda decide", number=2, item=2, approve=True)
    assert "Only the secretariat" in refused.content
    await world.run("secretariat", "meeting agenda decide", number=2, item=2, approve=True)
    after = await world.run("mag2", "meeting view", number=2)
    text = after.embed_text()
    assert "1. Adoption of the agenda" in text and "2. Hybrid participation" in text
    assert "(proposed)" not in text


async def test_the_start_activates_the_event_and_takes_attendance_across_a_restart(
    world: World,
) -> None:
    reminder = await world.fake.wait_for_message(
        world.channels["reminders"],
        lambda m: "Virtual Meeting XI starts" in m.text(),
        timeout=STARTS_IN,
    )
    assert "Reminder" in reminder.text()
    post = await world.fake.wait_for_message(
        world.channels["reminders"], lambda m: "has started" in m.content, timeout=STARTS_IN + 30
    )
    assert "Meeting #2" in post.content
    here = await (await world.fake.click(post, "I'm here", world.users["mag1"])).wait_reply()
    assert here.ephemeral and "counted present" in here.content
    await world.restart_bot()
    after = await (await world.fake.click(post, "I'm here", world.users["mag2"])).wait_reply()
    assert "counted present at meeting #2" in after.content
    again = await (await world.fake.click(post, "I'm here", world.users["mag2"])).wait_reply()
    assert "already" in again.content
    view = await world.run("secretariat", "meeting view", number=2)
    assert "2 present" in view.embed_text()
    event = world.fake.scheduled_events(world.guild_id)[-1]
    for _ in range(30):  # the clock's next tick (every 10 s) starts the event
        if event.status == ACTIVE:
            break
        await world.fake.changed(timeout=1)
    assert event.status == ACTIVE
    starts = [m for m in world.fake.channel_messages(world.channels["reminders"])
              if "has started" in m.content]  # fmt: skip
    assert len(starts) == 1
    reminders = [m for m in world.fake.channel_messages(world.channels["reminders"])
                 if "Virtual Meeting XI starts" in m.text()]  # fmt: skip
    assert len(reminders) == 1  # once, across the restart too


async def test_minutes_through_the_form_and_in_the_digest(world: World) -> None:
    ix = await world.invoke("secretariat", "meeting minutes", number=2)
    await ix.wait_callback()
    assert ix.modal is not None, ix.describe()
    done = await (
        await world.fake.submit_modal(
            ix,
            {
                "minutes": "The MAG reviewed the consultation inputs.",
                "decisions": "Three main themes for IGF 2027.",
            },
        )
    ).wait_reply()
    assert "minutes are recorded" in done.content
    assert "Three main themes for IGF 2027." in done.embed_text()
    preview = await world.run("secretariat", "digest preview")
    text = preview.embed_text()
    assert "Meeting minutes" in text
    assert "Virtual Meeting XI" in text and "Three main themes for IGF 2027." in text
    refused = await world.invoke("mag1", "meeting minutes", number=2)
    assert refused.modal is None
    assert "Only the secretariat" in (await refused.wait_reply()).content
    # Long minutes (4,000 characters) are read in full: a field shows their start, and the
    # whole text comes as a file.
    long = "".join(f"Item {i}: the MAG heard the *report* of session {i}.\n" for i in range(90))
    long = long[:4000].strip()
    ix = await world.invoke("secretariat", "meeting minutes", number=2)
    await ix.wait_callback()
    assert ix.modal is not None, ix.describe()
    await (
        await world.fake.submit_modal(
            ix, {"minutes": long, "decisions": "Three main themes for IGF 2027."}
        )
    ).wait_reply()
    shown = await world.run("mag3", "meeting view", number=2)
    assert "In full in the attached file" in shown.embed_text()
    ((name, data),) = shown.attachments
    assert name == "meeting-2-minutes.txt" and long in data.decode("utf-8")


async def test_cancel_cancels_the_event(world: World) -> None:
    await world.run("secretariat", "meeting schedule", starts="2031-02-01 09:00", timezone="UTC")
    event = world.fake.scheduled_events(world.guild_id)[-1]
    assert event.status == SCHEDULED
    cancelled = await world.run("secretariat", "meeting cancel", number=3)
    assert "Meeting #3 is cancelled" in cancelled.content and "up to date" in cancelled.content
    assert event.status == CANCELED
    again = await world.run("secretariat", "meeting cancel", number=3)
    assert again.ephemeral and "is cancelled" in again.content


async def test_fair_hours_for_five_time_zones(world: World) -> None:
    # The secretariat member also sits on the MAG here: a fifth time zone.
    world.guild.members[world.users["secretariat"]].roles.append(world.roles["mag"])
    members = [
        ("mag1", "America/Los_Angeles", "Western European and Others Group (WEOG)"),
        ("mag2", "America/Sao_Paulo", "Latin American and Caribbean Group (GRULAC)"),
        ("mag3", "Europe/Zurich", "Western European and Others Group (WEOG)"),
        ("mag4", "Africa/Nairobi", "African Group"),
        ("secretariat", "Asia/Tokyo", "Asia-Pacific Group"),
    ]
    for user, zone, region in members:
        await world.run(
            user, "profile set", stakeholder="Civil Society", region=region, gender="Female"
        )
        set_zone = await world.run(user, "profile timezone", zone=zone)
        assert f"Your time zone is {zone}" in set_zone.content
    bad = await world.run("mag1", "profile timezone", zone="Europe/Geneva")
    assert bad.ephemeral and "Europe/Zurich" in bad.content
    # Another member's time zone is theirs and the secretariat's to see.
    shown = (await world.run("mag2", "profile show", member=world.users["mag1"])).embed_text()
    assert "America/Los" not in shown
    seen = await world.run("secretariat", "profile show", member=world.users["mag1"])
    assert "America/Los\\_Angeles" in seen.embed_text()  # shown as typed (Markdown escaped)
    reply = await world.run(
        "mag1", "meeting plan", first="2027-01-12", count=6, every=14, hours="5,13,21"
    )
    text = reply.embed_text()
    for line in (
        "1. 2027-01-12 13:00 UTC",
        "2. 2027-01-26 05:00 UTC",
        "3. 2027-02-09 21:00 UTC",
        "4. 2027-02-23 13:00 UTC",
        "5. 2027-03-09 05:00 UTC",
        "6. 2027-03-23 21:00 UTC",
    ):
        assert line in text, text
    # Each member's count: a MAG member sees the others' regions and only their own zone
    # (zone names shown as typed text: underscores escaped).
    assert "Mina Rahman (America/Los\\_Angeles): **4**" in text, text
    assert "Kofi Mensah (Latin American and Caribbean Group \\(GRULAC\\)): **2**" in text
    assert "Sam Secretariat (Asia-Pacific Group): **4**" in text
    assert "Sao\\_Paulo" not in text and "Asia/Tokyo" not in text
    zones = (
        await world.run("secretariat", "meeting plan", first="2027-01-12", count=6, every=14,
                        hours="5,13,21")
    ).embed_text()  # fmt: skip
    assert "Kofi Mensah (America/Sao\\_Paulo): **2**" in zones
    assert "Sam Secretariat (Asia/Tokyo): **4**" in zones
    assert "13:00 · 2 outside 07-22: Sam Secretariat, Mina Rahman" in text
    assert "at most 4 unsocial meetings per member" in text and "would give 6" in text

"""Open consultations end to end: the real bot against the fake Discord.

One story, in order: the secretariat opens a consultation that closes a few
seconds later; members of several roles give inputs through the form (one
across a bot restart), one changes and one withdraws theirs; the summary counts who was heard and
warns that the Private Sector was not; the clock closes it once and says so
in the channel; the secretariat exports the inputs; a late input is refused.
"""

from __future__ import annotations

import csv
import io

import pytest

from tests.e2e.conftest import World, due_in

pytestmark = pytest.mark.asyncio(loop_scope="module")

CLOSES_IN = 30  # seconds: the story runs before it, the close is awaited after


async def give(world: World, user: str, answers: dict[str, str], **options):
    """Run /consultation submit, fill in the form, return the bot's answer."""
    ix = await world.invoke(user, "consultation submit", number=1, **options)
    await ix.wait_callback()
    assert ix.modal is not None, ix.describe()
    submitted = await world.fake.submit_modal(ix, answers)
    return await submitted.wait_reply()


async def test_setup(world: World) -> None:
    w = world
    await w.run("admin", "config channel", purpose="reminders", channel=w.channels["reminders"])
    await w.run("admin", "config role", purpose="secretariat", role=w.roles["secretariat"])
    await w.run("admin", "config role", purpose="mag", role=w.roles["mag"])
    # A handful of inputs is enough to judge in this story.
    await w.run("admin", "config rule", name="balance.min_seats", value="3")


async def test_open_and_refusals(world: World) -> None:
    refused = await world.run(
        "mag1", "consultation open", title="Call", question="Q?", closes="2030-01-01 10:00"
    )
    assert refused.ephemeral and "Only the secretariat" in refused.content
    bad = await world.run(
        "secretariat", "consultation open", title="Call", question="Q?", closes="soon"
    )
    assert bad.ephemeral and "not a date and time" in bad.text()
    opened = await world.run(
        "secretariat",
        "consultation open",
        title="Call for issues, IGF 2027",
        question="Which issues should IGF 2027 address?",
        question2="Why now?",
        closes=due_in(CLOSES_IN),
        timezone="UTC",
    )
    assert "Consultation #1 is open" in opened.content
    assert "Which issues should IGF 2027 address?" in opened.embed_text()
    listed = await world.run("outsider", "consultation list")
    assert "Call for issues, IGF 2027" in listed.embed_text()


async def test_inputs_from_several_roles(world: World) -> None:
    first = await give(
        world,
        "outsider",
        {"a1": "Meaningful access.", "a2": "Half the world is offline."},
        stakeholder="Civil Society",
        region="African Group",
        organisation="Digital Rights Lab",
    )
    assert first.ephemeral and "your input is in" in first.embed_text()
    await give(world, "mag1", {"a1": "AI governance."}, stakeholder="Civil Society",
               region="Asia-Pacific Group")  # fmt: skip
    await give(world, "mag2", {"a1": "Routing security."}, stakeholder="Technical Community",
               region="African Group")  # fmt: skip
    await give(world, "mag3", {"a1": "Digital public goods."}, stakeholder="Government",
               region="Latin American and Caribbean Group (GRULAC)")  # fmt: skip
    await give(world, "guest", {"a1": "To be withdrawn."}, stakeholder="Civil Society",
               region="Eastern European Group")  # fmt: skip
    # Someone outside Discord, by email: the secretariat enters it, marked so.
    ix = await world.invoke(
        "secretariat", "consultation enter", number=1, name="Ministry of ICT",
        stakeholder="Government", region="Eastern European Group",
    )  # fmt: skip
    await ix.wait_callback()
    entered = await (await world.fake.submit_modal(ix, {"a1": "Sent by email."})).wait_reply()
    assert "entered by the secretariat" in entered.embed_text()
    # One input per person: a second is refused before the form opens.
    again = await world.invoke(
        "outsider", "consultation submit", number=1, stakeholder="Civil Society",
        region="African Group",
    )  # fmt: skip
    refused = await again.wait_reply()
    assert again.modal is None and refused.ephemeral
    assert "already" in refused.content and "/consultation edit" in refused.content


async def test_a_form_open_across_a_restart_is_still_taken(world: World) -> None:
    ix = await world.invoke(
        "admin", "consultation submit", number=1, stakeholder="Civil Society",
        region="African Group",
    )  # fmt: skip
    await ix.wait_callback()
    assert ix.modal is not None
    await world.restart_bot()
    taken = await (
        await world.fake.submit_modal(ix, {"a1": "Typed across a restart."})
    ).wait_reply()
    assert "your input is in" in taken.embed_text()


async def test_edit_and_withdraw(world: World) -> None:
    ix = await world.invoke("outsider", "consultation edit", number=1)
    await ix.wait_callback()
    assert ix.modal is not None
    fields = {
        c["custom_id"]: c
        for row in ix.modal["components"]
        for c in (row.get("components") or [row.get("component")])
        if c and "custom_id" in c
    }
    assert fields["a1"]["value"] == "Meaningful access."  # the form comes back filled in
    changed = await (
        await world.fake.submit_modal(ix, {"a1": "Meaningful and affordable access.", "a2": ""})
    ).wait_reply()
    assert "Meaningful and affordable access." in changed.embed_text()
    gone = await world.run("guest", "consultation withdraw", number=1)
    assert "withdrawn" in gone.content


async def test_the_summary_says_who_was_heard_and_who_was_not(world: World) -> None:
    summary = await world.run("mag4", "consultation summary", number=1)
    text = summary.embed_text()
    assert "**6** inputs from 6 submitters" in text
    assert "No input yet from: **Intergovernmental Organization, Private Sector**" in text
    assert "No input from the Private Sector" in text  # the balance module's warning
    assert "these regions: Western European and Others Group (WEOG)" in text
    assert summary.attachments and summary.attachments[0][0].endswith(".png")
    # Public inputs: the texts and who wrote them; the withdrawn one is gone.
    assert "Meaningful and affordable access." in text and "To be withdrawn." not in text


async def test_its_closing_deadline_moves_only_with_it(world: World) -> None:
    refused = await world.run("secretariat", "deadline remove", number=1)
    assert refused.ephemeral and "when consultation #1 closes" in refused.content
    moved = await world.run("secretariat", "deadline edit", number=1, due="2030-01-01 10:00")
    assert moved.ephemeral and "cannot change here" in moved.content
    # Its title can change: only the time is the consultation's.
    renamed = await world.run("secretariat", "deadline edit", number=1, title="Call renamed")
    assert "Call renamed" in renamed.embed_text()


async def test_the_clock_closes_it_once_then_export(world: World) -> None:
    closing = await world.fake.wait_for_message(
        world.channels["reminders"], lambda m: "is closed" in m.content, timeout=CLOSES_IN + 20
    )
    assert "Consultation #1" in closing.content and "6 inputs from 6 submitters" in closing.content
    late = await world.invoke(
        "mag4", "consultation submit", number=1, stakeholder="Private Sector",
        region="Western European and Others Group (WEOG)",
    )  # fmt: skip
    refused = await late.wait_reply()
    assert late.modal is None and "is closed" in refused.content
    exported = await world.run("secretariat", "consultation export", number=1, format="csv")
    ((name, data),) = exported.attachments
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert name == "consultation-1-inputs.csv" and len(rows) == 6
    assert {r["on_behalf_of"] for r in rows} >= {"Ministry of ICT"}
    posts = world.fake.channel_messages(world.channels["reminders"])
    assert len([m for m in posts if "is closed" in m.content]) == 1
    assert not (await world.run("mag1", "consultation export", number=1)).attachments

"""/balance end to end: every command answers with an embed and a PNG that opens.

The story: WS #1 is accepted with ten confirmed panellists, Private Sector at
exactly its 40% ceiling; every /balance command answers; then confirming an
eleventh Private Sector panellist breaches the ceiling, and both the decision's
answer and /balance programme say so.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bot.sandbox.fakediscord import FakeMessage
from tests.e2e.conftest import World

pytestmark = pytest.mark.asyncio(loop_scope="module")

FORM = {
    "title": "Balanced panels for data governance",
    "description": "Who speaks for whom when data crosses borders.",
    "policy_questions": "Which rules help? Who enforces them?",
    "expected_outcomes": "A list of practices that work.",
    "hybrid_plan": "Online speakers join by video; an online moderator takes questions.",
}
WEOG = "Western European and Others Group (WEOG)"
GRULAC = "Latin American and Caribbean Group (GRULAC)"
# Ten panellists: Private Sector 4 of 10 (its 40% ceiling), every region twice,
# five women and five men. The eleventh tips Private Sector over.
PANEL = [
    ("Ana Private", "Private Sector", "African Group", "Female"),
    ("Ben Private", "Private Sector", "Asia-Pacific Group", "Male"),
    ("Cleo Private", "Private Sector", "Eastern European Group", "Female"),
    ("Dev Private", "Private Sector", GRULAC, "Male"),
    ("Eva Civil", "Civil Society", WEOG, "Female"),
    ("Femi Civil", "Civil Society", "African Group", "Male"),
    ("Gia Government", "Government", "Asia-Pacific Group", "Female"),
    ("Hugo Government", "Government", "Eastern European Group", "Male"),
    ("Ines Technical", "Technical Community", GRULAC, "Female"),
    ("Jon Technical", "Technical Community", WEOG, "Male"),
]
ELEVENTH = ("Kim Private", "Private Sector", GRULAC, "Female")
BREACH = "Private Sector holds 45% of confirmed seats on accepted proposals (target at most 40%)"


def chart_of(reply: FakeMessage) -> Image.Image:
    """Return the reply's attached chart, checked to be a whole, valid PNG."""
    assert [name for name, _ in reply.attachments] == ["balance.png"], reply.attachments
    data = reply.attachments[0][1]
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    Image.open(io.BytesIO(data)).verify()  # raises on a truncated or corrupt file
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.width >= 600 and image.height >= 400
    embed = reply.embeds[0]
    assert embed["image"]["url"] == "attachment://balance.png"
    alt = reply.attachment_payloads[0]["description"]  # what a screen reader says
    assert alt.startswith(("One panel of horizontal bars", "Two rows of panels")), alt
    assert "\\" not in alt and len(alt) <= 1024
    return image


async def test_setup_an_accepted_programme(world: World) -> None:
    await world.run("admin", "config role", purpose="mag", role=world.roles["mag"])
    await world.run("admin", "config role", purpose="secretariat", role=world.roles["secretariat"])
    ix = await world.invoke(
        "outsider",
        "proposal submit",
        format="Panel",
        duration=90,
        subtheme="Data Governance & Trust",
    )
    await ix.wait_callback()
    submitted = await (await world.fake.submit_modal(ix, FORM)).wait_reply()
    assert "WS #1" in submitted.embed_text()
    for name, group, region, gender in [*PANEL, ELEVENTH]:
        reply = await world.run(
            "secretariat", "panellist nominate", proposal=1, name=name, stakeholder=group,
            region=region, gender=gender,
        )  # fmt: skip
        assert "Nominated" in reply.embed_text(), reply.text()
    for nomination in range(1, len(PANEL) + 1):
        await world.run(
            "secretariat", "panellist answer", id=nomination, answer="confirmed", note="by email"
        )
    for status in ("under_review", "accepted"):
        await world.run_confirmed("secretariat", "proposal status", number=1, status=status)


async def test_programme(world: World) -> None:
    reply = await world.run("mag1", "balance programme")
    assert reply.ephemeral
    text = reply.embed_text()
    assert "Programme: confirmed seats on accepted proposals" in text
    assert "**10** seats, one per person" in text
    assert "Every balance target is met." in text
    assert "Private Sector: 4 (40%)" in text
    assert "The chart in words" in text
    chart_of(reply)


async def test_programme_with_a_status_and_a_kind(world: World) -> None:
    reply = await world.run("mag2", "balance programme", status="all", kind="open_forum")
    assert "Nobody is counted yet" in reply.embed_text()
    chart_of(reply)


async def test_one_proposal_names_people_for_the_secretariat_only(world: World) -> None:
    for_secretariat = await world.run("secretariat", "balance proposal", number=1)
    assert "WS #1: everyone on the session" in for_secretariat.embed_text()
    assert "Ana Private" in for_secretariat.embed_text()
    chart_of(for_secretariat)
    for_mag = await world.run("mag1", "balance proposal", number=1)
    assert "**11** seats" in for_mag.embed_text()
    assert "Ana Private" not in for_mag.text()
    chart_of(for_mag)


async def test_panellists(world: World) -> None:
    everyone = await world.run("mag1", "balance panellists")
    assert "Nominations: every status" in everyone.embed_text()
    chart_of(everyone)
    open_ = await world.run("mag1", "balance panellists", status="nominated")
    assert "**1** seat, one per person" in open_.embed_text()
    chart_of(open_)


async def test_mag_composition(world: World) -> None:
    for user, group, region in [
        ("mag1", "Civil Society", "Asia-Pacific Group"),
        ("mag2", "Technical Community", "African Group"),
        ("mag3", "Government", GRULAC),
        ("mag4", "Private Sector", WEOG),
    ]:
        await world.run(user, "profile set", stakeholder=group, region=region, gender="Female")
    reply = await world.run("mag3", "balance mag")
    text = reply.embed_text()
    assert "MAG composition" in text and "**4** seats" in text
    assert "Government: 1 (25%)" in text
    chart_of(reply)


async def test_funnel(world: World) -> None:
    reply = await world.run("secretariat", "balance funnel")
    text = reply.embed_text()
    assert "Nominations: Nominated 11 → Invited 10 → Confirmed 10 seats" in text
    assert "Selection: Submitted 11 → Accepted 11 seats" in text
    chart_of(reply)


async def test_outsiders_see_no_statistics(world: World) -> None:
    reply = await world.run("outsider", "balance programme")
    assert reply.ephemeral and not reply.attachments
    assert "Only MAG members and the secretariat" in reply.content


async def test_a_confirmation_that_breaches_a_target_warns(world: World) -> None:
    refused = await world.run(
        "secretariat", "panellist status", id=len(PANEL) + 1, status="confirmed"
    )
    assert "Only the nominee answers for themselves" in refused.content
    reply = await world.run(
        "secretariat", "panellist answer", id=len(PANEL) + 1, answer="confirmed", note="by phone"
    )
    assert BREACH in reply.text()


async def test_the_breach_shows_in_the_programme(world: World) -> None:
    reply = await world.run("mag1", "balance programme")
    text = reply.embed_text()
    assert "**11** seats" in text
    assert BREACH in text
    chart_of(reply)

"""Proposals, nominations and MAG scoring end to end: the real bot against the fake Discord.

One story, in order: a proposal submitted through the modal, a panellist
nominated who confirms with the button in their DM (after a bot restart),
MAG scores, the secretariat's results and CSV export, and the refusals each
role meets on the way.
"""

from __future__ import annotations

import csv
import io

import pytest

from tests.e2e.conftest import World

pytestmark = pytest.mark.asyncio(loop_scope="module")

FORM = {
    "title": "Data flows with trust",
    "description": "How data can cross borders while keeping people's trust.",
    "policy_questions": "Which rules help? Who enforces them?",
    "expected_outcomes": "A list of practices that work.",
    "hybrid_plan": "Online speakers join by video; an online moderator takes questions.",
}


async def submit(world: World, user: str, **form: str):
    """Run /proposal submit, fill in the modal, and return the bot's answer."""
    ix = await world.invoke(
        user,
        "proposal submit",
        format="Roundtable",
        duration=60,
        subtheme="Data Governance & Trust",
    )
    await ix.wait_callback()
    assert ix.modal is not None, ix.describe()
    submitted = await world.fake.submit_modal(ix, {**FORM, **form})
    return await submitted.wait_reply()


async def test_setup_the_roles(world: World) -> None:
    await world.run("admin", "config role", purpose="mag", role=world.roles["mag"])
    await world.run("admin", "config role", purpose="secretariat", role=world.roles["secretariat"])


async def test_submit_through_the_modal(world: World) -> None:
    ix = await world.invoke(
        "outsider",
        "proposal submit",
        format="Roundtable",
        duration=60,
        subtheme="Data Governance & Trust",
    )
    await ix.wait_callback()
    modal = ix.modal
    assert modal is not None
    fields = {
        c["custom_id"]: c
        for row in modal["components"]
        for c in (row.get("components") or [row.get("component")])
        if c and "custom_id" in c
    }
    assert list(fields) == list(FORM)
    assert fields["title"]["max_length"] == 60  # the guild's limit, enforced as you type
    reply = await (await world.fake.submit_modal(ix, FORM)).wait_reply()
    assert reply.ephemeral
    assert "Submitted: WS #1 · Data flows with trust" in reply.embed_text()


async def test_hostile_text_is_shown_as_typed_and_pings_nobody(world: World) -> None:
    everyone = "@everyone **bold** <@&1> # x"
    reply = await submit(world, "guest", title=everyone, description="> quote\n# heading " * 100)
    assert "WS #2" in reply.embed_text()
    view = await world.run("outsider", "proposal view", number=2)
    text = view.embed_text()
    assert "\\*\\*bold\\*\\*" in text and "\\@everyone" in text
    for embed in view.embeds:
        assert len(embed.get("description") or "") <= 4096
    assert not (view.allowed_mentions or {}).get("parse")


async def test_a_mag_member_is_refused_before_the_form(world: World) -> None:
    ix = await world.invoke(
        "mag1", "proposal submit", format="Panel", duration=90, subtheme="Data Governance & Trust"
    )
    reply = await ix.wait_reply()
    assert ix.modal is None and reply.ephemeral
    assert "MAG members may not submit proposals" in reply.content


async def test_nominee_confirms_with_the_button_even_after_a_restart(world: World) -> None:
    guest = world.users["guest"]
    reply = await world.run(
        "outsider",
        "panellist nominate",
        proposal=1,
        name="Priya Nair",
        stakeholder="Civil Society",
        region="Asia-Pacific Group",
        gender="Female",
        affiliation="Digital Rights Lab",
        member=guest,
        contact="priya@example.org",
        rationale="Leads the data trust work",
    )
    assert reply.ephemeral and "Nominated #1 on WS #1" in reply.embed_text()
    assert "direct message to confirm" in reply.content
    # The proposer is not the secretariat: no contact details in the answer.
    assert "priya@example.org" not in reply.text()
    invitation = await world.fake.wait_for_dm(guest, timeout=10)
    assert "You are invited to WS #1" in invitation.embed_text()

    await world.restart_bot()  # the buttons must survive it
    clicked = await world.fake.click(invitation, "Confirm", guest)
    await clicked.wait_callback()
    answered = world.fake.message(invitation.id)
    assert "You confirmed" in answered.embed_text() and not answered.components
    told = await world.fake.wait_for_dm(
        world.users["outsider"], lambda m: "is now **confirmed**" in m.text(), timeout=10
    )
    # The proposer is told which nomination, never whom (a DM outlives a forget).
    assert "Nomination #1 on WS #1" in told.text() and "Priya Nair" not in told.text()

    view = (await world.run("secretariat", "proposal view", number=1)).embed_text()
    assert "Priya Nair" in view and "confirmed" in view and "priya\\@example.org" in view


async def test_someone_else_cannot_answer_for_the_nominee(world: World) -> None:
    guest = world.users["guest"]
    invitation = world.fake.dm_messages(guest)[0]
    # A second nomination of the same person (same name and affiliation, other case).
    reply = await world.run(
        "secretariat",
        "panellist nominate",
        proposal=2,
        name="PRIYA NAIR",
        stakeholder="Civil Society",
        region="Asia-Pacific Group",
        gender="Female",
        affiliation="digital rights lab",
    )
    assert "already known here" in reply.embed_text()
    # Her Confirm linked her account for that nomination only: a nomination
    # naming no account invites nobody (the secretariat links her to route it).
    assert "no Discord account is known" in reply.content
    assert [m.id for m in world.fake.dm_messages(guest)] == [invitation.id]
    reply = await world.run(
        "secretariat",
        "panellist nominate",
        proposal=2,
        name="PRIYA NAIR",
        stakeholder="Civil Society",
        region="Asia-Pacific Group",
        gender="Female",
        affiliation="digital rights lab",
        role="rapporteur",
        member=guest,
    )
    second = await world.fake.wait_for_dm(guest, lambda m: m.id != invitation.id, timeout=10)
    clicked = await world.fake.click(second, "Decline", world.users["outsider"], guild_id=None)
    answer = await clicked.wait_reply()
    assert answer.ephemeral and "addressed to someone else" in answer.content


async def test_scores_and_results(world: World) -> None:
    scored = await world.run("mag1", "review score", proposal=1, score=4)
    assert "Scored WS #1" in scored.embed_text()
    refused = await world.run("mag2", "review score", proposal=1, score=2)
    assert "needs a comment" in refused.content
    await world.run("mag2", "review score", proposal=1, score=2, comment="Too few speakers")
    await world.run("mag3", "review score", proposal=2, score=5, merge=True)
    results = await world.run("secretariat", "review results")
    text = results.embed_text()
    assert text.index("WS #2") < text.index("WS #1")
    assert "**3.00** (median 3, 2 scores" in text and "merge flag" in text
    # Scores are for the secretariat only, and so are the comments, with who wrote them.
    public = (await world.run("outsider", "proposal view", number=1)).embed_text()
    assert "2 reviews" in public and "3.00" not in public and "Too few speakers" not in public
    view = (await world.run("secretariat", "proposal view", number=1)).embed_text()
    assert "Scores and comments (secretariat only)" in view
    assert f"<@{world.users['mag2']}> · **2**" in view and "> Too few speakers" in view
    # A server that keeps reviewers unnamed: "Reviewer A", "B", in the order they scored.
    await world.run("admin", "config rule", name="reviews.name_reviewers", value="false")
    unnamed = (await world.run("secretariat", "proposal view", number=1)).embed_text()
    assert "Reviewer A · **4**" in unnamed and "Reviewer B · **2**" in unnamed
    assert f"<@{world.users['mag2']}>" not in unnamed
    audit = (await world.run("secretariat", "audit", proposal=1)).embed_text()
    assert "a reviewer" in audit and f"<@{world.users['mag2']}>" not in audit
    await world.run("admin", "config rule", name="reviews.name_reviewers", value="default")
    # The cut for one workshop, and who is near it, raw and normalised side by side.
    band = (await world.run("secretariat", "review borderline", accept=1)).embed_text()
    assert "The cut for **1** of 2 ranked workshops falls at a mean of **5.00**" in band
    assert "`WS #2`" in band and "normalised" in band
    everything = (await world.run("secretariat", "review borderline", accept=5)).embed_text()
    assert "All 2 ranked workshops fit in 5: there is no cut." in everything


async def test_export_csv_is_parsed(world: World) -> None:
    reply = await world.run("secretariat", "proposal export", format="csv")
    ((name, data),) = reply.attachments
    assert name.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    first = [r for r in rows if r["number"] == "1"]
    assert [(r["name"], r["participation_status"], r["contact"]) for r in first] == [
        ("Priya Nair", "confirmed", "priya@example.org")
    ]
    assert first[0]["mean"] == "3.0" and first[0]["review_count"] == "2"
    mag = await world.run("mag1", "proposal export", format="csv")
    ((_, public),) = mag.attachments
    assert b"priya@example.org" not in public and b"contact" not in public


@pytest.mark.parametrize(
    ("user", "path", "options", "hint"),
    [
        (
            "outsider",
            "proposal status",
            {"number": 1, "status": "accepted"},
            "Only the secretariat",
        ),
        ("mag1", "proposal screen", {}, "Only the secretariat"),
        ("outsider", "proposal export", {"format": "csv"}, "Only the secretariat and MAG"),
        ("outsider", "review score", {"proposal": 1, "score": 5}, "Only MAG members"),
        ("secretariat", "review score", {"proposal": 1, "score": 5}, "Only MAG members"),
        ("mag1", "review results", {}, "Only the secretariat"),
        ("mag1", "review assign", {"per_proposal": 2}, "Only the secretariat"),
        ("guest", "panellist status", {"id": 1, "status": "invited"}, "Only the proposer"),
        ("mag1", "panellist forget", {"person": 1}, "Only the secretariat"),
        (
            "outsider",
            "profile set",
            {"stakeholder": "Government", "region": "African Group", "gender": "Male"},
            "Only MAG members",
        ),
        ("mag1", "audit", {}, "Only the secretariat"),
        ("guest", "proposal edit", {"number": 1}, "Only the proposer"),
    ],
)
async def test_the_wrong_role_is_refused(world: World, user, path, options, hint) -> None:
    reply = await world.run(user, path, **options)
    assert reply.ephemeral and hint in reply.content, reply.content


async def test_status_change_tells_the_proposer_and_is_audited(world: World) -> None:
    reply = await world.run(
        "secretariat", "proposal status", number=1, status="under_review", reason="Passed"
    )
    assert "WS #1 is now under review. The proposer was told." in reply.content
    dm = await world.fake.wait_for_dm(
        world.users["outsider"], lambda m: "under review" in m.embed_text(), timeout=10
    )
    assert "Passed" in dm.embed_text()
    audit = (await world.run("secretariat", "audit", proposal=1)).embed_text()
    for action in ("proposal.submit", "panellist.nominate", "panellist.respond", "review.score"):
        assert action in audit
    assert "priya@example.org" not in audit


async def test_profiles_assignment_and_queue(world: World) -> None:
    groups = {
        "mag1": "Civil Society",
        "mag2": "Technical Community",
        "mag3": "Government",
        "mag4": "Private Sector",
    }
    for user, group in groups.items():
        reply = await world.run(
            user, "profile set", stakeholder=group, region="African Group", gender="Female"
        )
        assert "Profile saved" in reply.content
    shown = (await world.run("mag2", "profile show", member=world.users["mag1"])).embed_text()
    assert "Civil Society" in shown and "Female" not in shown
    asked = await world.run("secretariat", "review assign", per_proposal=3)
    assert "will add" in asked.embed_text()
    assigned = await world.confirm("secretariat", asked)
    assert "Each member has" in assigned.embed_text()
    # Each reviewer is told privately, once, where their queue is.
    told = await world.fake.wait_for_dm(
        world.users["mag4"], lambda m: "to review" in m.text(), timeout=10
    )
    assert "/review queue" in told.content and "ref " in told.content
    again = await world.run("secretariat", "review assign", per_proposal=3)  # nothing to add
    assert again.ephemeral
    dms = [m for m in world.fake.dm_messages(world.users["mag4"]) if "to review" in m.text()]
    assert len(dms) == 1
    queue = (await world.run("mag4", "review queue")).embed_text()
    assert "WS #" in queue or "Nothing left" in queue
    assert "assigned proposal" in queue and "scored" in queue  # "0 of 3 … scored"
    progress = (await world.run("secretariat", "review progress")).embed_text()
    assert "Reviewers, most behind first" in progress and "to score" in progress
    assert f"<@{world.users['mag4']}>" in progress
    refused = await world.run("mag1", "review progress")
    assert refused.ephemeral and "Only the secretariat" in refused.content


async def test_list_pages_with_buttons(world: World) -> None:
    for user in ("admin", "secretariat"):
        for i in range(3):
            await submit(world, user, title=f"{user} {i}")
    for i in range(2):
        await submit(world, "outsider", title=f"more {i}")
    await submit(world, "guest", title="the eleventh")
    listing = await world.run("outsider", "proposal list")
    assert "Page 1 of 2" in listing.embed_text() and "WS #1" in listing.embed_text()
    clicked = await world.fake.click(listing, "Next", world.users["outsider"])
    await clicked.wait_callback()
    page_two = world.fake.message(listing.id).embed_text()
    assert "Page 2 of 2" in page_two and "WS #11" in page_two
    mine = (await world.run("outsider", "proposal list", mine=True)).embed_text()
    assert "WS #1 " in mine.replace("`", " ") and "admin 0" not in mine


async def test_a_member_withdraws_a_score(world: World) -> None:
    before = (await world.run("secretariat", "proposal view", number=2)).embed_text()
    assert "1 review" in before
    done = await world.run("mag3", "review withdraw", proposal=2, what="score")
    assert done.ephemeral and "withdrawn" in done.content
    after = (await world.run("secretariat", "proposal view", number=2)).embed_text()
    assert "0 reviews" in after
    again = await world.run("mag3", "review withdraw", proposal=2, what="score")
    assert again.ephemeral and "You have not scored WS #2" in again.content

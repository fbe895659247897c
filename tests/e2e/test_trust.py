"""Forms, buttons and confirmations that survive restarts; identity claims; the error path.

One story against the real bot process: a proposal form opened before a
restart and sent after it (twice: one proposal), a form refused at submit
because the submitter's roles changed (the text comes back, and the form
reopens filled in), a pager and a confirmation clicked after a restart, a
button and a form from an older version answered privately, the nominee's
own buttons, the roles that cannot be MAG or secretariat, and an error after
a change was saved that says so.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import World

pytestmark = pytest.mark.asyncio(loop_scope="module")

BOT_ENV = {"EXTRA_COGS": "tests.e2e.faulty_cog"}
FORM = {
    "title": "Trust by design",
    "description": "How systems earn trust.",
    "policy_questions": "Which rules help?",
    "expected_outcomes": "Practices that work.",
    "hybrid_plan": "Online speakers join by video.",
}


async def open_form(world: World, user: str):
    ix = await world.invoke(
        user, "proposal submit", format="Panel", duration=60, subtheme="Data Governance & Trust"
    )
    await ix.wait_callback()
    assert ix.modal is not None, ix.describe()
    return ix


async def test_setup(world: World) -> None:
    await world.run("admin", "config role", purpose="mag", role=world.roles["mag"])
    await world.run("admin", "config role", purpose="secretariat", role=world.roles["secretariat"])


async def test_everyone_and_managed_roles_are_refused(world: World) -> None:
    everyone = await world.run("admin", "config role", purpose="mag", role=world.guild_id)
    assert everyone.ephemeral and "@everyone cannot be the mag role" in everyone.content
    managed = await world.run(
        "admin", "config role", purpose="secretariat", role=world.guild.bot_role.id
    )
    assert "managed by an integration" in managed.content
    shown = (await world.run("admin", "config show")).embed_text()
    assert f"<@&{world.roles['mag']}>" in shown  # the earlier choice stands


async def test_a_form_open_across_a_restart_is_taken_once(world: World) -> None:
    ix = await open_form(world, "outsider")
    await world.restart_bot()
    first = await (await world.fake.submit_modal(ix, FORM)).wait_reply()
    assert "Submitted: WS #1" in first.embed_text()
    again = await (await world.fake.submit_modal(ix, FORM)).wait_reply()
    assert "Already submitted: WS #1" in again.embed_text()
    listing = (await world.run("outsider", "proposal list")).embed_text()
    assert listing.count("Trust by design") == 1


async def test_roles_are_checked_at_submit_and_the_text_comes_back(world: World) -> None:
    ix = await open_form(world, "guest")
    member = world.guild.members[world.users["guest"]]
    member.roles.append(world.roles["mag"])  # made a MAG member while the form was open
    try:
        typed = {**FORM, "title": "Typed with care"}
        reply = await (await world.fake.submit_modal(ix, typed)).wait_reply()
        assert reply.ephemeral and "MAG members may not submit" in reply.embed_text()
        ((name, data),) = reply.attachments
        assert name == "what-you-typed.txt" and b"Typed with care" in data
        reopened = await world.fake.click(reply, "Open the form again", world.users["guest"])
        await reopened.wait_callback()
        assert reopened.modal is not None
        defaults = {
            c["custom_id"]: c.get("value")
            for row in reopened.modal["components"]
            for c in (row.get("components") or [row.get("component")])
            if c
        }
        assert defaults["title"] == "Typed with care"
    finally:
        member.roles.remove(world.roles["mag"])
    sent = await (await world.fake.submit_modal(reopened, typed)).wait_reply()
    assert "Submitted: WS #2 · Typed with care" in sent.embed_text()


async def test_a_pager_works_after_a_restart(world: World) -> None:
    await world.run("admin", "config rule", name="proposals.max_per_proposer", value="0")
    for i in range(9):
        ix = await open_form(world, "secretariat")
        await (await world.fake.submit_modal(ix, {**FORM, "title": f"Page {i}"})).wait_reply()
    listing = await world.run("outsider", "proposal list")
    assert "Page 1 of 2" in listing.embed_text()
    await world.restart_bot()
    clicked = await world.fake.click(listing, "Next", world.users["outsider"])
    await clicked.wait_callback()
    assert "Page 2 of 2" in world.fake.message(listing.id).embed_text()


async def test_a_confirmation_works_after_a_restart_and_only_once(world: World) -> None:
    await world.run("secretariat", "proposal status", number=1, status="under_review")
    asked = await world.run("secretariat", "proposal status", number=1, status="rejected")
    assert "Please confirm" in asked.embed_text() and "will become rejected" in asked.embed_text()
    still = await world.run("outsider", "proposal list", status="under_review")
    assert "WS #1" in still.embed_text()  # nothing changed before the Confirm
    await world.restart_bot()
    done = await world.confirm("secretariat", asked)
    assert "WS #1 is now rejected" in done.content
    told = await world.fake.wait_for_dm(
        world.users["outsider"], lambda m: "rejected" in m.embed_text(), timeout=10
    )
    assert "WS #1" in told.embed_text()
    await world.run(
        "secretariat",
        "panellist nominate",
        proposal=3,
        name="Zed Kept",
        stakeholder="Government",
        region="African Group",
        gender="Male",
    )
    asked_again = await world.run("secretariat", "panellist forget", person=1)
    assert "will be erased for good" in asked_again.embed_text()
    cancelled = await world.confirm("secretariat", asked_again, "Cancel")
    assert "Cancelled: nothing was changed" in cancelled.content
    assert "Zed Kept" in (await world.run("secretariat", "panellist view", id=1)).embed_text()


async def test_a_button_and_a_form_of_an_older_version_are_answered(world: World) -> None:
    listing = await world.run("outsider", "proposal list")
    for component in listing.iter_components():
        if component.get("label") == "Next":
            component["custom_id"] = "3f9a0c1e0d2b4c6a8e7f5a3c1b2d4e6f"  # discord.py's random kind
    clicked = await world.fake.click(listing, "Next", world.users["outsider"])
    answer = await clicked.wait_reply()
    assert answer.ephemeral and "older version" in answer.content
    ix = await open_form(world, "outsider")
    assert ix.modal is not None
    ix.modal["custom_id"] = "0af1c2e3d4b5a6978877665544332211"
    echo = await (await world.fake.submit_modal(ix, {**FORM, "title": "Old form"})).wait_reply()
    assert echo.ephemeral and "can no longer be sent" in echo.embed_text()
    assert b"Old form" in echo.attachments[0][1]


async def test_the_nominee_can_dispute_details_and_stop_invitations(world: World) -> None:
    guest = world.users["guest"]
    nominated = await world.run(
        "secretariat",
        "panellist nominate",
        proposal=3,
        name="Guest Speaker",
        stakeholder="Civil Society",
        region="African Group",
        gender="Female",
        member=guest,
    )
    assert "direct message" in nominated.content
    invitation = await world.fake.wait_for_dm(
        guest, lambda m: "Guest Speaker" in m.embed_text(), timeout=10
    )
    assert "As stated by the nominator" in invitation.embed_text()
    await world.restart_bot()
    wrong = await (await world.fake.click(invitation, "Details are wrong", guest)).wait_reply()
    assert "secretariat was asked to check" in wrong.content
    flags = (await world.run("secretariat", "person flags")).embed_text()
    assert "the person says the details are wrong" in flags
    stop = await (await world.fake.click(invitation, "Stop invitations", guest)).wait_reply()
    assert "no more invitations" in stop.content
    again = await world.run(
        "secretariat",
        "panellist nominate",
        proposal=3,
        name="Guest Speaker",
        role="rapporteur",
        stakeholder="Civil Society",
        region="African Group",
        gender="Female",
        member=guest,
    )
    assert "asked this server not to send them invitations" in again.content
    # Only the nominee answers: the organisers cannot confirm for them.
    refused = await world.run("secretariat", "panellist status", id=2, status="confirmed")
    assert "Only the nominee answers for themselves" in refused.content


async def test_an_error_after_a_saved_change_says_it_was_saved(world: World) -> None:
    start = len(world.bot.lines)
    reply = await world.run("admin", "explode_after_saving")
    assert reply.ephemeral and "Your change was saved" in reply.content
    error_id = re.search(r"error id `([0-9a-f]{8})`", reply.content)
    assert error_id
    world.bot.expected_errors.append(error_id.group(1))
    await world.bot.wait_for_line(rf"unexpected error {error_id.group(1)}", after=start)
    assert "Saved cycle" in (await world.run("admin", "config show")).embed_text()


async def test_a_long_answer_is_clipped_not_lost(world: World) -> None:
    groups = "; ".join(f"Group {i:02d} " + "x" * 80 for i in range(25))
    reply = await world.run(
        "admin", "config rule", name="taxonomy.extra_stakeholder_groups", value=groups
    )
    assert reply.ephemeral and len(reply.content) <= 2000
    assert "nothing was changed" not in reply.content
    superscript = await world.run("admin", "config rule", name="limits.title_max", value="²")
    assert "takes a whole number" in superscript.content

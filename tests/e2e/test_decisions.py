"""The evaluation loop end to end: blind review, batch decisions, notices once, slot confirmation.

One story, in order, through the real bot and the fake Discord: proposals
under review are scored with comments under blind review, decisions are
drafted with their balance effect, feedback chosen, the batch published
with a confirmation button, each proposer told once by DM (not again after a
restart, not on a second publish), a proposer with closed DMs named to the
secretariat, the slot confirmed with the DM's button after a restart, and
the confirmation reminder chasing only those who have not confirmed.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import World, due_in
from tests.e2e.test_proposals import submit

pytestmark = pytest.mark.asyncio(loop_scope="module")


def decision_dms(world: World, user: str) -> list:
    return [m for m in world.fake.dm_messages(world.users[user]) if "ref " in m.embed_text()]


async def test_setup_proposals_under_review(world: World) -> None:
    await world.run("admin", "config role", purpose="mag", role=world.roles["mag"])
    await world.run("admin", "config role", purpose="secretariat", role=world.roles["secretariat"])
    await world.run(
        "admin", "config channel", purpose="reminders", channel=world.channels["reminders"]
    )
    await world.run("admin", "config channel", purpose="log", channel=world.channels["mag-log"])
    await submit(world, "outsider", title="Data flows with trust")
    await submit(world, "guest", title="Community networks")
    await submit(world, "outsider", title="Green data centres")
    for number in (1, 2, 3):
        await world.run_confirmed(
            "secretariat", "proposal status", number=number, status="under_review"
        )
    await world.run(
        "secretariat",
        "panellist nominate",
        proposal=1,
        name="Amina Diallo",
        stakeholder="Civil Society",
        region="African Group",
        gender="Female",
    )


async def test_blind_review_hides_names_from_the_mag_only(world: World) -> None:
    await world.run("admin", "config rule", name="reviews.blind", value="true")
    seen = (await world.run("mag1", "proposal view", number=1)).embed_text()
    assert "hidden (blind review)" in seen and "Amina Diallo" not in seen
    assert f"<@{world.users['outsider']}>" not in seen
    assert "1 nominated" in seen  # the counts stay
    secretariat = (await world.run("secretariat", "proposal view", number=1)).embed_text()
    assert "Amina Diallo" in secretariat and f"<@{world.users['outsider']}>" in secretariat
    await world.run("mag1", "review score", proposal=1, score=4, comment="Timely and focused")
    await world.run("mag2", "review score", proposal=1, score=2, comment="Needs a government voice")
    await world.run("mag1", "review score", proposal=2, score=5)
    await world.run("admin", "config rule", name="reviews.blind", value="default")


async def test_a_second_round_reopens_only_the_proposals_near_the_cut(world: World) -> None:
    asked = await world.run("secretariat", "review round", accept=1, closes=due_in(7200)[:16])
    assert "Round 2 will reopen scoring of WS #2" in asked.embed_text()
    opened = await world.confirm("secretariat", asked)
    assert "Round 2 is open until" in opened.text()
    refused = await world.run("mag2", "review score", proposal=1, score=3, comment="Again")
    assert (
        refused.ephemeral and "Round 2" in refused.content and "not one of them" in refused.content
    )
    again = await world.run("mag1", "review score", proposal=2, score=4)
    assert "Scored WS #2" in again.embed_text()


async def test_drafts_are_checked_and_tell_nobody(world: World) -> None:
    refused = await world.run("secretariat", "decision draft", proposal=1, outcome="conditional")
    assert refused.ephemeral and "conditions:" in refused.content
    member = await world.run("mag1", "decision draft", proposal=1, outcome="accepted")
    assert member.ephemeral and "secretariat" in member.content
    drafted = await world.run(
        "secretariat", "decision draft", proposal=1, outcome="accepted", reason="Strong panel"
    )
    assert "Nobody is told until" in drafted.embed_text()
    await world.run("secretariat", "decision draft", proposal=2, outcome="rejected")
    await world.run(
        "secretariat",
        "decision draft",
        proposal=3,
        outcome="conditional",
        conditions="Add a speaker from government",
    )
    comments = (await world.run("secretariat", "decision feedback", proposal=1)).embed_text()
    assert "Reviewer A" in comments and "Reviewer B" in comments
    bad = await world.run("secretariat", "decision feedback", proposal=1, release="Z")
    assert bad.ephemeral and "no comment by reviewer" in bad.content
    chosen = await world.run("secretariat", "decision feedback", proposal=1, release="A")
    assert "1 comment, anonymised" in chosen.embed_text()
    listed = (await world.run("secretariat", "decision list")).embed_text()
    assert "WS #1" in listed and "WS #3" in listed and "Publish them all" in listed
    assert decision_dms(world, "outsider") == []


async def test_publish_tells_each_proposer_once_even_across_a_restart(world: World) -> None:
    world.fake.close_dms(world.users["guest"])
    asked = await world.run("secretariat", "decision publish", confirm_by=due_in(3600)[:16])
    assert "3 decisions will be published" in asked.embed_text()
    published = await world.confirm("secretariat", asked)
    assert "Published 3 decisions" in published.text()
    found = re.search(r"Deadline #(\d+) reminds", published.text())
    assert found is not None, published.text()
    world.extra["confirmations"] = int(found[1])
    told = await world.fake.wait_for_dm(
        world.users["outsider"],
        lambda m: "WS #1" in m.embed_text() and "ref " in m.embed_text(),
        timeout=15,
    )
    text = told.embed_text()
    assert "accepted" in text and "Timely and focused" in text
    assert "Needs a government voice" not in text  # not released
    assert "A reviewer" in text and f"<@{world.users['mag1']}>" not in text
    assert any(c.get("label") == "Confirm my slot" for c in told.iter_components())
    await world.fake.wait_for_dm(
        world.users["outsider"],
        lambda m: "WS #3" in m.embed_text() and "ref " in m.embed_text(),
        timeout=15,
    )
    # The secretariat is told who could not be reached (DMs closed), once.
    notice = await world.fake.wait_for_message(
        world.channels["mag-log"], lambda m: "could not tell" in m.text(), timeout=15
    )
    assert f"<@{world.users['guest']}>" in notice.text()
    again = await world.run("secretariat", "decision publish")
    assert again.ephemeral and "no draft decisions" in again.content
    await world.restart_bot()
    status = (await world.run("secretariat", "decision list")).embed_text()
    assert "Could not be told" in status and "WS #2" in status
    assert len(decision_dms(world, "outsider")) == 2


async def test_the_slot_is_confirmed_with_the_dm_button_after_a_restart(world: World) -> None:
    (first,) = [m for m in decision_dms(world, "outsider") if "WS #1" in m.embed_text()]
    someone = world.fake.click(first, "Confirm my slot", world.users["guest"], guild_id=None)
    refused = await (await someone).wait_reply()
    assert "Only the proposer" in refused.text()
    clicked = await world.fake.click(first, "Confirm my slot", world.users["outsider"])
    edited = await clicked.wait_reply()  # the DM keeps the decision; its button goes
    assert "accepted" in edited.embed_text() and not list(edited.iter_components())
    assert "your slot is confirmed" in edited.embed_text()
    assert "Press **Confirm my slot**" not in edited.embed_text()
    await clicked.wait_for(lambda ix: bool(ix.followups))
    assert "is confirmed" in clicked.followups[0].text()
    again = await world.run("outsider", "proposal confirm", number=1)
    assert "already" in again.content
    status = (await world.run("secretariat", "decision list")).embed_text()
    assert "1 of 2 accepted confirmed" in status
    assert "WS #3" in status and "slot not confirmed" in status


async def test_the_reminder_chases_only_proposers_who_have_not_confirmed(world: World) -> None:
    # The confirmations deadline moved to an hour from now: its 1-hour reminder is due.
    number = world.extra["confirmations"]
    await world.run("secretariat", "deadline edit", number=number, due=due_in(3603))
    reminder = await world.fake.wait_for_message(
        world.channels["reminders"], lambda m: "confirm their slots" in m.embed_text(), timeout=30
    )
    text = reminder.text()
    assert "1 accepted proposal is still waiting on its proposer" in text
    assert "Each of them got a direct message" in text
    chased = await world.fake.wait_for_dm(
        world.users["outsider"], lambda m: "still waiting on you" in m.text(), timeout=15
    )
    assert "/proposal confirm" in chased.text() and "1 of your accepted proposals" in chased.text()


async def test_conditions_met_accepts_and_tells_the_proposer(world: World) -> None:
    reply = await world.run("secretariat", "decision conditions", proposal=3, note="Thanks")
    assert "accepted" in reply.content
    told = await world.fake.wait_for_dm(
        world.users["outsider"],
        lambda m: "WS #3" in m.embed_text() and "Thanks" in m.embed_text(),
        timeout=15,
    )
    assert "**accepted** into the programme" in told.embed_text()
    view = (await world.run("outsider", "proposal view", number=3)).embed_text()
    assert "accepted" in view

"""Merge suggestions end to end: the real bot against the fake Discord.

Three proposals submitted through the modal, two of them the same session
in other words; `/review similar` lists that pair to the secretariat and to
a MAG member (not the third proposal), refuses anyone else privately, and
forgets the pair once the secretariat merges one into the other with the
command it points to.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import World

pytestmark = pytest.mark.asyncio(loop_scope="module")

AI = {
    "title": "AI governance in Africa",
    "description": "How African states can govern artificial intelligence together with civil "
    "society, universities and business, and what the continental strategy asks of each.",
    "policy_questions": "Which rules should apply to public sector algorithms? Who audits them?",
    "expected_outcomes": "A list of practices that work.",
    "hybrid_plan": "Online speakers join by video; an online moderator takes questions.",
}
AI_AGAIN = {
    **AI,
    "title": "Africa: the governance of AI",
    "description": "How African states can govern artificial intelligence with civil society, "
    "universities and business, and what the continental strategy asks of each one.",
    "policy_questions": "Who audits public sector algorithms? Which rules should apply to them?",
}
ISLANDS = {
    **AI,
    "title": "Ransomware and small island states",
    "description": "Protecting hospitals, ports and power grids of Pacific island nations from "
    "ransomware gangs, with regional incident response teams.",
    "policy_questions": "What capacity building works for a national CERT of five people?",
}


async def submit(world: World, user: str, form: dict[str, str]) -> str:
    ix = await world.invoke(
        user,
        "proposal submit",
        format="Roundtable",
        duration=60,
        subtheme="AI & Emerging Technologies",
    )
    await ix.wait_callback()
    assert ix.modal is not None, ix.describe()
    reply = await (await world.fake.submit_modal(ix, form)).wait_reply()
    return reply.embed_text()


async def test_setup_roles_and_proposals(world: World) -> None:
    await world.run("admin", "config role", purpose="mag", role=world.roles["mag"])
    await world.run("admin", "config role", purpose="secretariat", role=world.roles["secretariat"])
    assert "WS #1" in await submit(world, "outsider", AI)
    assert "WS #2" in await submit(world, "guest", ISLANDS)
    assert "WS #3" in await submit(world, "outsider", AI_AGAIN)


@pytest.mark.parametrize("user", ["secretariat", "mag1"])
async def test_the_near_duplicates_are_suggested(world: World, user: str) -> None:
    reply = await world.run(user, "review similar")
    assert reply.ephemeral
    text = reply.embed_text()
    assert "Merge suggestions" in text
    assert "1 pair of the 3 proposals compared is at least 70% alike" in text
    assert "`WS #1` ↔ `WS #3`" in text and "title, description, policy questions" in text
    assert "AI governance in Africa ↔ Africa: the governance of AI" in text
    assert "WS #2" not in text and "Ransomware" not in text
    assert "/proposal status number:3 status:merged merged_into:1" in text


async def test_the_threshold_and_the_subtheme_narrow_it(world: World) -> None:
    none = await world.run("mag1", "review similar", threshold=100)
    assert "No two of the 3 proposals compared are at least 100% alike" in none.embed_text()
    elsewhere = await world.run("mag1", "review similar", subtheme="Human Rights & Freedoms")
    assert "No two of the 0 proposals compared" in elsewhere.embed_text()
    assert "Human Rights & Freedoms" in elsewhere.embed_text()


async def test_anyone_else_is_refused_privately(world: World) -> None:
    reply = await world.run("outsider", "review similar")
    assert reply.ephemeral and not reply.embeds
    assert "Only MAG members and the secretariat can see merge suggestions" in reply.content


async def test_a_merge_removes_the_suggestion(world: World) -> None:
    merged = await world.run_confirmed(
        "secretariat",
        "proposal status",
        number=3,
        status="merged",
        merged_into=1,
        reason="The same session as WS #1",
    )
    assert "WS #3 is now merged" in merged.text()
    reply = await world.run("secretariat", "review similar")
    assert "No two of the 2 proposals compared are at least 70% alike" in reply.embed_text()

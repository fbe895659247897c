"""The story in French: a server in Dakar whose members' Discord apps are in French."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import World
from tests.e2e.language_story import Texts, english_in, seen, story

pytestmark = pytest.mark.asyncio(loop_scope="module")

LOCALE = "fr"

TEXTS = Texts(
    title="Des données qui circulent en confiance",
    description="Comment les données franchissent les frontières sans perdre la confiance.",
    questions="Quelles règles aident ? Qui les fait respecter ?",
    outcomes="Une liste de pratiques qui fonctionnent.",
    hybrid="Les intervenants en ligne se joignent par vidéo.",
    rationale="Dirige les travaux sur la confiance dans les données",
    deadline="Appel à contributions",
)


async def test_the_detector_finds_english_and_only_english() -> None:
    text = (
        "Invitation à participer à WS #1\nYou are invited to WS #1\nPriya Nair · Digital Rights Lab"
    )
    assert english_in("fr", text) == ["You are invited to WS #1"]


async def test_the_story_is_told_in_french(world: World) -> None:
    told = await story(world, "fr", TEXTS)
    assert not told.leaks(), "English left:\n" + "\n".join(told.leaks())
    shown = "\n".join(text for _where, text in told.shown)
    assert "Forum sur la gouvernance de l'Internet" in shown or "GCM" in shown
    assert "Société civile" in shown  # the stakeholder group, as the UN writes it


async def test_a_dm_button_answers_in_the_servers_language(world: World) -> None:
    # Mina's Discord app is in German, which the bot does not speak: the
    # server's French is the fallback, in the invitation and after her click.
    mina = world.users["mag1"]
    world.fake.users[mina].locale = "de"
    nominated = await world.run(
        "outsider", "panellist nominate", proposal=1, name="Mina Rahman",
        stakeholder="Civil Society", region="Asia-Pacific Group", gender="Female", member=mina,
    )  # fmt: skip
    assert nominated.ephemeral
    invitation = await world.fake.wait_for_dm(mina, timeout=10)
    assert not english_in("fr", seen(invitation))
    clicked = await world.fake.click(invitation, "Confirmer", mina)
    await clicked.wait_callback()
    answered = seen(world.fake.message(invitation.id))
    assert answered and "You confirmed" not in answered and not english_in("fr", answered)
    # Her nomination's status is written in French wherever it is shown.
    listed = seen(await world.run("outsider", "panellist list", proposal=1))
    assert "confirmed" not in listed and not english_in("fr", listed)

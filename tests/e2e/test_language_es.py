"""The story in Spanish: a server in Bogotá whose members' apps are in Latin American Spanish."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import World
from tests.e2e.language_story import Texts, story

pytestmark = pytest.mark.asyncio(loop_scope="module")

LOCALE = "es-419"

TEXTS = Texts(
    title="Datos que circulan con confianza",
    description="Cómo los datos cruzan fronteras sin perder la confianza de las personas.",
    questions="¿Qué normas ayudan? ¿Quién las hace cumplir?",
    outcomes="Una lista de prácticas que funcionan.",
    hybrid="Los ponentes en línea se conectan por video.",
    rationale="Dirige el trabajo sobre la confianza en los datos",
    deadline="Convocatoria de aportes",
)


async def test_the_story_is_told_in_spanish(world: World) -> None:
    told = await story(world, "es", TEXTS)
    assert not told.leaks(), "English left:\n" + "\n".join(told.leaks())
    shown = "\n".join(text for _where, text in told.shown)
    assert "Sociedad civil" in shown  # Civil Society, as the UN writes it in Spanish

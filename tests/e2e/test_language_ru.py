"""The story in Russian: a server in Moscow whose members' apps are in Russian."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import World
from tests.e2e.language_story import Texts, story

pytestmark = pytest.mark.asyncio(loop_scope="module")

LOCALE = "ru"

TEXTS = Texts(
    title="Потоки данных с доверием",
    description="Как данные пересекают границы, сохраняя доверие людей.",
    questions="Какие правила помогают? Кто следит за их соблюдением?",
    outcomes="Список работающих практик.",
    hybrid="Выступающие онлайн подключаются по видеосвязи.",
    rationale="Руководит работой по доверию к данным",
    deadline="Приём предложений",
)


async def test_the_story_is_told_in_russian(world: World) -> None:
    told = await story(world, "ru", TEXTS)
    assert not told.leaks(), "English left:\n" + "\n".join(told.leaks())
    shown = "\n".join(text for _where, text in told.shown)
    assert "Гражданское общество" in shown  # Civil Society, as the UN writes it in Russian

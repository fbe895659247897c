"""The story in Arabic: Discord's app has no Arabic, so each person and the server choose it."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import World
from tests.e2e.language_story import Texts, english_in, seen, story

pytestmark = pytest.mark.asyncio(loop_scope="module")

TEXTS = Texts(
    title="تدفق البيانات بثقة",
    description="كيف تعبر البيانات الحدود مع الحفاظ على ثقة الناس.",
    questions="ما القواعد التي تساعد؟ ومن يطبقها؟",
    outcomes="قائمة بالممارسات الناجحة.",
    hybrid="ينضم المتحدثون عبر الإنترنت بالفيديو.",
    rationale="تقود العمل المتعلق بالثقة في البيانات",
    deadline="الدعوة إلى تقديم المساهمات",
)


async def test_each_person_chooses_arabic(world: World) -> None:
    for person in ("admin", "secretariat", "outsider", "guest"):
        chosen = await world.run(person, "profile language", language="ar")
        assert chosen.ephemeral and "العربية" in chosen.content
        assert not english_in("ar", seen(chosen)), seen(chosen)


async def test_the_story_is_told_in_arabic(world: World) -> None:
    told = await story(world, "ar", TEXTS)
    assert not told.leaks(), "English left:\n" + "\n".join(told.leaks())
    shown = "\n".join(text for _where, text in told.shown)
    assert "المجتمع المدني" in shown  # Civil Society, as the UN writes it in Arabic
    # Discord shows Arabic readers the English command names: the texts use them too.
    assert "/proposal" in shown

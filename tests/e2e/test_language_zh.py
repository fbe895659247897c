"""The story in Simplified Chinese: a server in Beijing whose members' apps are in Chinese."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import World
from tests.e2e.language_story import Texts, story

pytestmark = pytest.mark.asyncio(loop_scope="module")

LOCALE = "zh-CN"

TEXTS = Texts(
    title="可信的数据跨境流动",
    description="数据如何在跨越国界的同时保持人们的信任。",
    questions="哪些规则有帮助？由谁来执行？",
    outcomes="一份行之有效的做法清单。",
    hybrid="线上发言人通过视频参加，线上主持人负责提问。",
    rationale="负责数据信任方面的工作",
    deadline="征集意见",
)


async def test_the_story_is_told_in_chinese(world: World) -> None:
    told = await story(world, "zh_Hans", TEXTS)
    assert not told.leaks(), "English left:\n" + "\n".join(told.leaks())
    shown = "\n".join(text for _where, text in told.shown)
    assert "民间社会" in shown  # Civil Society, as the UN writes it in Chinese

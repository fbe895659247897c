"""A modal asked field by field: limits checked, asked again, closed with :cancel."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.sandbox.fakediscord import FakeDiscord
from bot.sandbox.forms import Cancelled, FormFiller
from bot.sandbox.slash import Directory
from bot.sandbox.world import build_demo_world

MODAL: dict[str, Any] = {
    "custom_id": "proposal",
    "title": "Propose a workshop",
    "components": [
        {
            "type": 1,
            "components": [
                {"type": 4, "custom_id": "title", "label": "Title", "style": 1, "max_length": 10}
            ],
        },
        {
            "type": 1,
            "components": [
                {
                    "type": 4,
                    "custom_id": "notes",
                    "label": "Notes",
                    "style": 2,
                    "required": False,
                }
            ],
        },
        {"type": 10, "content": "Who takes part?"},
        {
            "type": 18,
            "label": "Format",
            "component": {
                "type": 3,
                "custom_id": "format",
                "options": [
                    {"label": "Roundtable", "value": "roundtable"},
                    {"label": "Panel", "value": "panel"},
                ],
            },
        },
        {"type": 18, "label": "Moderator", "component": {"type": 5, "custom_id": "moderator"}},
        {"type": 18, "label": "Online", "component": {"type": 23, "custom_id": "online"}},
    ],
}


def filler(answers: list[str | None]) -> tuple[FormFiller, list[str]]:
    fake = FakeDiscord()
    shown: list[str] = []
    replies: Iterator[str | None] = iter(answers)

    async def read(prompt: str) -> str | None:
        shown.append(prompt)
        return next(replies)

    directory = Directory(fake, build_demo_world(fake))
    form = FormFiller(
        directory, read=read, write=shown.append, error=lambda t: shown.append("✗ " + t), plain=str
    )
    return form, shown


async def test_each_field_is_asked_checked_and_asked_again_when_wrong() -> None:
    form, shown = filler(
        ["", "Much too long", "Data", r"line one\nline two", "3", "Panel", "@Mina", "maybe", "y"]
    )
    values = await form.fill(MODAL)
    assert values == {
        "title": "Data",
        "notes": "line one\nline two",
        "format": ["panel"],
        "moderator": [form._directory.world.users["mag1"]],
        "online": True,
    }
    assert "✗ This field is required." in shown
    assert "✗ Give 0 to 10 characters (that was 13)." in shown
    assert any(line.startswith("✗ '3' is not one of") for line in shown)
    assert "✗ Answer yes or no." in shown
    assert "  Who takes part?" in shown


@pytest.mark.parametrize("answers", [[":cancel"], ["Data", None]])
async def test_cancel_or_end_of_input_closes_the_form(answers: list[str | None]) -> None:
    form, _ = filler(answers)
    with pytest.raises(Cancelled):
        await form.fill(MODAL)

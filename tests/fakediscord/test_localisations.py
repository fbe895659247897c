"""The local Discord refuses command localisations Discord would refuse."""

from __future__ import annotations

from typing import Any

from bot.sandbox.fakediscord.validation import command_problems


def command(**extra: Any) -> dict[str, Any]:
    return {
        "name": "proposal",
        "description": "Proposals",
        "type": 1,
        "options": [
            {
                "type": 1,
                "name": "view",
                "description": "Show one",
                "options": [{"type": 4, "name": "number", "description": "Which"}],
            },
            {"type": 1, "name": "list", "description": "List them"},
        ],
        **extra,
    }


def test_valid_localisations_pass() -> None:
    body = command(name_localizations={"fr": "proposition", "zh-CN": "提案"})
    body["options"][0]["name_localizations"] = {"fr": "voir"}
    body["options"][1]["name_localizations"] = {"fr": "liste"}
    assert command_problems([body]) == []


def test_bad_names_locales_and_lengths_are_refused() -> None:
    for localisations, problem in (
        ({"fr": "Proposition"}, "Invalid name"),
        ({"fr": "une proposition"}, "Invalid name"),
        ({"fr": "p" * 33}, "between 1 and 32"),
        ({"ar": "مقترح"}, "Invalid locale"),
    ):
        found = command_problems([command(name_localizations=localisations)])
        assert any(problem in text for _, text in found), (localisations, found)
    long = command(description_localizations={"fr": "d" * 101})
    assert any("between 1 and 100" in text for _, text in command_problems([long]))


def test_siblings_must_stay_distinct_in_every_locale() -> None:
    body = command()
    body["options"][0]["name_localizations"] = {"fr": "liste"}
    body["options"][1]["name_localizations"] = {"fr": "liste"}
    assert any("Duplicate localised names" in text for _, text in command_problems([body]))
    # A localised name may not take an English sibling's name either.
    body["options"][1]["name_localizations"] = {}
    body["options"][0]["name_localizations"] = {"fr": "list"}
    assert any("Duplicate localised names" in text for _, text in command_problems([body]))

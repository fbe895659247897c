"""The proposal form modal, checked against the fake Discord's modal rules."""

from __future__ import annotations

from bot.sandbox.fakediscord.validation import modal_problems
from bot.services.proposals import FormLimits, ProposalForm
from cogs.proposals import proposal_form

FIELDS = ("title", "description", "policy_questions", "expected_outcomes", "hybrid_plan")


async def test_edit_form_fits_text_stored_before_the_limit_was_lowered() -> None:
    # Stored under a limit of 3000; an admin has since lowered the limits to 100.
    current = ProposalForm(**{name: "x" * 3000 for name in FIELDS})
    modal = proposal_form(
        "mag:form:edit:1:-:-:-", "Edit proposal 1", FormLimits(dict.fromkeys(FIELDS, 100)), current
    )
    payload = modal.to_dict()
    assert modal_problems(payload) == []
    for item in modal.children:
        assert item.max_length is not None and item.max_length >= len(item.default or "")


async def test_new_form_keeps_the_guild_limit_and_discords_cap() -> None:
    limits = FormLimits({**dict.fromkeys(FIELDS, 100), "description": 9000})
    modal = proposal_form("mag:form:submit:0:0:60:abcdef12:key", "New proposal", limits)
    assert modal_problems(modal.to_dict()) == []
    assert [item.max_length for item in modal.children] == [100, 4000, 100, 100, 100]


def test_fake_discord_refuses_a_value_longer_than_max_length() -> None:
    text_input = {"type": 4, "custom_id": "t", "label": "T", "style": 1}
    row = {"type": 1, "components": [{**text_input, "value": "abc", "max_length": 2}]}
    payload = {"custom_id": "m", "title": "M", "components": [row]}
    assert modal_problems(payload) == [
        ("data.components", "Text input value is longer than its max_length.")
    ]

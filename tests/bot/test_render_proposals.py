"""Proposal, nomination and review embeds: hostile text shows as typed, inside the limits."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import discord
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.render import embeds
from bot.render.embeds import fit_embed
from bot.render.panellists import entries_embed, entry_embed, invitation_embed, profile_embed
from bot.render.proposals import proposal_embed, proposal_list_embed, safe
from bot.render.reviews import results_embed
from bot.services.panellists import PanellistEntry
from bot.services.profiles import ProfileView
from bot.services.proposals import ProposalDetail, ProposalPage
from bot.services.reviews import ResultRow, ResultsPage
from bot.services.scoring import ScoreSummary
from storage.panellists import Participation, Person
from storage.profiles import MagMember
from storage.proposals import Proposal, ProposalBrief

NOW = datetime(2027, 3, 1, tzinfo=UTC)
hostile = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=4500
) | st.sampled_from(["@everyone", "<@&123456789012345678>", "# Heading", "> quote", "`" * 900])
# A mention Discord would render (and, in content, ping): an id of 17 to 20 digits.
LIVE_MENTION = re.compile(r"(?<!\u200b)@(?:everyone|here)|<@[!&]?\d{17,20}>")


def _size(embed: discord.Embed) -> int:
    return (
        len(embed.title or "")
        + len(embed.description or "")
        + sum(len(f.name or "") + len(f.value or "") for f in embed.fields)
        + len(embed.footer.text or "")
    )


def _check(embed: discord.Embed, typed: list[str]) -> None:
    fitted = fit_embed(embed)
    assert _size(fitted) <= embeds.TOTAL
    assert len(fitted.title or "") <= embeds.TITLE
    assert all(len(f.value or "") <= embeds.FIELD_VALUE for f in fitted.fields)
    fitted.to_dict()
    text = "\n".join(
        [fitted.title or "", fitted.description or ""]
        + [f"{f.name}\n{f.value}" for f in fitted.fields]
    )
    # Nothing typed becomes a live mention (the proposer's id here is too short to match).
    assert not LIVE_MENTION.findall(text)


def _proposal(title: str, text: str) -> Proposal:
    return Proposal(
        id=1,
        guild_id=1,
        number=12,
        title=title,
        description=text,
        policy_questions=text,
        expected_outcomes=text,
        hybrid_plan=text,
        format="Panel",
        duration=60,
        subtheme="AI",
        proposer_id=5,
        status_reason=text,
        screening={"passed": False, "failures": [{"rule": "x", "reason": text}]},
        created_at=NOW,
    )


def _person(name: str, text: str) -> tuple[Participation, Person]:
    return (
        Participation(
            id=3,
            guild_id=1,
            proposal_id=1,
            person_id=4,
            role="speaker",
            attendance="onsite",
            rationale=text,
            consent="given",
        ),
        Person(
            id=4,
            guild_id=1,
            key="k",
            name=name,
            affiliation=text,
            stakeholder_group="Civil Society",
            region="African Group",
            gender="Female",
            contact=text,
            country=text,
        ),
    )


@settings(max_examples=40, deadline=None)
@given(title=hostile, text=hostile, names=st.lists(hostile, max_size=30))
def test_a_proposal_embed_always_fits(title: str, text: str, names: list[str]) -> None:
    proposal = _proposal(title, text)
    people = [_person(n, text) for n in names]
    summary = ScoreSummary.of([1, 5, 3], merges=2, excluded=1)
    for private in (True, False):
        _check(proposal_embed(ProposalDetail(proposal, people, 3, summary, private)), [title])
    _check(proposal_list_embed(ProposalPage([proposal] * 10, 10, 0, 1, {"subtheme": text})), [])
    entries = [PanellistEntry(pa, pe, proposal, True) for pa, pe in people]
    _check(entries_embed(entries), [])
    for entry in entries[:2]:
        _check(entry_embed(entry), [])
        _check(invitation_embed(entry, text), [])
    brief = ProposalBrief(1, 12, "workshop", title, "accepted", "AI")
    rows = [ResultRow(i + 1, brief, summary) for i in range(15)]
    _check(results_embed(ResultsPage(rows, 40, 0, 3)), [])
    member = MagMember(
        guild_id=1,
        user_id=5,
        display_name=title,
        stakeholder_group="Government",
        region="African Group",
        gender="Male",
        affiliation=text,
    )
    _check(profile_embed(ProfileView(member, True)), [])


def test_safe_neutralises_markdown_and_mentions() -> None:
    shown = safe("**bold** @everyone <@123456789012345678>\n# big\n> quote")
    assert "\\*\\*bold\\*\\*" in shown and "@\u200beveryone" in shown
    assert "<@123456789012345678>" not in shown
    assert "\n\\# big" in shown and "\n\\> quote" in shown
    assert len(safe("x" * 5000, 100)) == 100

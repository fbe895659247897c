"""Every free-text field through every renderer: shown as typed, never as markup, within limits.

Hostile text (random Unicode, masked links, mentions, headings, invisible
characters) is put into every field a person can type, then each embed and
message is read with a model of Discord's markdown (``tests.support.markup``):
nothing typed may form a link, a mention, a heading or hidden text.
"""

from __future__ import annotations

from datetime import UTC, datetime

import discord
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.render import embeds
from bot.render.balance import balance_embed
from bot.render.config import config_embed, rule_line
from bot.render.confirm import confirm_embed
from bot.render.deadlines import deadline_embed, deadlines_embed
from bot.render.digests import digest_embed
from bot.render.embeds import fit_embed
from bot.render.panellists import (
    answered_embed,
    change_text,
    entries_embed,
    entry_embed,
    invitation_embed,
    nomination_embed,
    profile_embed,
)
from bot.render.people import flags_embed, person_embed
from bot.render.proposals import (
    proposal_embed,
    proposal_list_embed,
    screened_embed,
    screening_embed,
    status_change_embed,
    submitted_embed,
)
from bot.render.reminders import direct_content, reminder_content, reminder_embed
from bot.render.reviews import audit_embed, queue_embed, results_embed, score_embed
from bot.render.text import one_line, plain, safe
from bot.services.audit import AuditEntry
from bot.services.balance import (
    BalanceReport,
    Category,
    Dimension,
    NamedSeat,
    Scope,
)
from bot.services.config import settings_from_row
from bot.services.deadlines import DeadlineView
from bot.services.outbox import Chase, Digest, DigestSection, DirectPost, ReminderPost
from bot.services.panellists import Invitation, Nomination, PanellistEntry, ParticipationChange
from bot.services.people import FlagView, PersonView, SeatView
from bot.services.profiles import ProfileView
from bot.services.proposals import (
    ProposalDetail,
    ProposalPage,
    ProposalRef,
    ProposalView,
    StatusChange,
    Submitted,
)
from bot.services.reviews import QueueItem, ResultRow, ResultsPage, ScoreResult
from bot.services.scoring import ScoreSummary
from bot.services.screening import Failure, ScreeningReport, ScreeningResult
from bot.services.text import Typed, quoted
from bot.services.visibility import Answer, Nominee
from storage.config import GuildConfig
from storage.proposals import ProposalBrief
from tests.support.markup import live_markup

NOW = datetime(2027, 3, 1, tzinfo=UTC)
PAYLOADS = (
    "[click here](https://evil.example/steal)",
    "[a](<https://evil.example/a>) and [b](https://evil.example/b)",
    "https://evil.example/bare",
    "<@666666666666666666> <@&666666666666666666> <#666666666666666666>",
    "@everyone @here",
    "\n# Heading\n## Two\n-# subtext",
    "> quote\n>>> block",
    "```code``` `x` **bold** __under__ ~~strike~~ ||spoiler||",
    "\u202eevil\u202c \u200b\u2066x\u2069 \x00\x07\x1b[31m",
    "\\[escaped?](https://evil.example/x) \\\\",
)
hostile = st.lists(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
    | st.sampled_from(PAYLOADS),
    min_size=1,
    max_size=6,
).map("".join)


def _texts(embed: discord.Embed) -> list[str]:
    """Return every markdown place of an embed (title, description, fields)."""
    data = fit_embed(embed)
    assert len(data.title or "") <= embeds.TITLE
    assert all(len(f.value or "") <= embeds.FIELD_VALUE for f in data.fields)
    assert len(data.description or "") <= embeds.DESCRIPTION
    data.to_dict()
    return [
        data.title or "",
        data.description or "",
        *(part for f in data.fields for part in (f.name or "", f.value or "")),
    ]


def _inert(*items: discord.Embed | str) -> None:
    for item in items:
        for text in _texts(item) if isinstance(item, discord.Embed) else [item]:
            problems = live_markup(text, own=True)
            assert not problems, (problems, text[:500])


def _ref(title: str, subtheme: str = "AI") -> ProposalRef:
    return ProposalRef(1, 9, 12, "workshop", title, "under_review", 5, subtheme)


def _nominee(text: str, *, private: bool) -> Nominee:
    return Nominee(
        participation_id=3,
        person_id=4,
        proposal_id=1,
        name=text,
        affiliation=text,
        stakeholder_group=text,
        region=text,
        country=text,
        role="speaker",
        attendance=None,
        status="confirmed",
        agreed=True,
        answer=Answer(True, None, "secretariat", text, NOW),
        invitee_id=7,
        linked_user_id=8,
        nominated_by=5,
        rationale=text,
        gender="Female" if private else None,
        contact=text if private else None,
        contact_claim=text if private else None,
        details_source="nominator" if private else None,
        open_flags=2 if private else None,
    )


@settings(max_examples=25, deadline=None)
@given(text=hostile, title=hostile)
def test_proposals_nominations_and_reviews_show_typed_text_inert(text: str, title: str) -> None:
    ref = _ref(title, text)
    view = ProposalView(ref, text, text, text, text, "Panel", 60, text, None, NOW)
    summary = ScoreSummary.of([1, 5, 3], merges=2, excluded=1)
    for private in (True, False):
        people = tuple(_nominee(text, private=private) for _ in range(8))
        detail = ProposalDetail(view, people, 8, 3, summary, private, (text, text), True)
        hidden = ProposalDetail(view, None, 8, 3, None, False, (), True)
        entry = PanellistEntry(people[0], ref)
        change = ParticipationChange(entry, "invited", "confirmed", None, 5, None, True)
        _inert(
            proposal_embed(detail),
            proposal_embed(hidden),
            entries_embed([entry] * 5),
            entry_embed(entry),
            invitation_embed(entry, text),
            nomination_embed(Nomination(entry, True, Invitation(None, "no account"), 1)),
            answered_embed(change),
            change_text(change),
        )
    _inert(
        proposal_list_embed(ProposalPage([ref] * 10, 10, 0, 1, {"subtheme": text})),
        submitted_embed(Submitted(view, again=True)),
        status_change_embed(StatusChange(ref, "submitted", "rejected", text, 5), text),
    )
    result = ScreeningResult(
        12, "WS #12", title, [Failure("x", text)], "screened_out", "submitted", 5
    )
    _inert(screened_embed(result, text), screening_embed(ScreeningReport([result] * 3, True)))
    brief = ProposalBrief(1, 12, "workshop", title, "accepted", text)
    _inert(
        results_embed(ResultsPage([ResultRow(i + 1, brief, summary) for i in range(15)], 40, 0, 3)),
        score_embed(ScoreResult(ref, 2, text, True, 4, ("you share an affiliation",))),
        queue_embed([QueueItem(ref, ("you were nominated to it",))] * 3),
        audit_embed([AuditEntry(NOW, 5, text, text, {"t": text}, [text], text)] * 3, "Audit"),
        profile_embed(ProfileView(5, text, text, text, text, "Male", False)),
        confirm_embed(f"{quoted(text)} will be merged", [f"{quoted(text, 20)} is late"]),
    )
    seat = SeatView(3, "WS #12", "speaker", "invited", 5, 7, None, None, text)
    flag = FlagView(1, 4, text, "details", {"gender": text, "region": text}, 5, 3, NOW)
    person = PersonView(
        4, text, text, text, text, "Female", text, 8, "own", text, "nominator", (seat,), (flag,)
    )
    _inert(person_embed(person), flags_embed([flag] * 4))


@settings(max_examples=25, deadline=None)
@given(text=hostile)
def test_deadlines_reminders_digests_config_and_balance_show_typed_text_inert(text: str) -> None:
    deadline = DeadlineView(
        3, text, "proposals", None, "UTC", "2027-04-01 23:59", "none", (60,), None, NOW, False
    )
    post = ReminderPost(
        guild_id=9,
        channel_id=1,
        nonce="n",
        ref="1-a",
        deadline_number=3,
        title=text,
        kind="reviews",
        link=None,
        deadline_at=NOW,
        zone="UTC",
        offset_minutes=60,
        repeat="none",
        chase=Chase("2 reviews still unfinished", (("#1 ", Typed(text)),), (7,), ((7, 2),)),
    )
    digest = Digest(
        9,
        NOW,
        NOW,
        "UTC",
        text,
        (DigestSection("changes", "What changed", (("**New** ", Typed(text, 60)), "plain")),),
    )
    _inert(
        deadline_embed(deadline),
        deadlines_embed([deadline] * 3, include_past=False),
        reminder_embed(post),
        reminder_content(post),
        direct_content(DirectPost(9, 7, "n", "2-b", 2, post)),
        digest_embed(digest),
    )
    row = GuildConfig(
        guild_id=9,
        cycle_name=text,
        subthemes=[text, text + "x"],
        rules={"taxonomy.extra_stakeholder_groups": [text]},
    )
    settings_ = settings_from_row(9, row)
    _inert(config_embed(settings_), rule_line(settings_, "taxonomy.extra_stakeholder_groups"))
    category = Category(text, 3, 3, 0.5)
    report = BalanceReport(
        scope=Scope("proposal", "WS #1", "seats", "one"),
        seats=6,
        people=6,
        dimensions=(Dimension("stakeholder_group", "Stakeholder group", (category,), 6, 6),),
        warnings=(),
        targets=(),
        names=(NamedSeat(text, "Speaker", "confirmed", text, text, "Female"),),
    )
    _inert(balance_embed(report))


@settings(max_examples=200, deadline=None)
@given(text=hostile)
def test_safe_leaves_no_markup_at_all(text: str) -> None:
    for shown in (safe(text), one_line(text), safe(text, 50), one_line(text, 7)):
        assert not live_markup(shown), shown
        assert not shown.endswith("\\") or shown.endswith("\\\\")
    assert len(safe(text, 50)) <= 50 and "\n" not in one_line(text)
    assert len(plain(text, 30)) <= 30 and "\n" not in plain(text)


@settings(max_examples=300, deadline=None)
@given(text=hostile, limit=st.integers(min_value=1, max_value=60))
def test_a_cut_keeps_all_that_fits_and_no_half_escape(text: str, limit: int) -> None:
    whole, shown = safe(text, 10_000), safe(text, limit)
    if len(whole) <= limit:
        assert shown == whole
        return
    kept = shown.removesuffix("…")
    # The start of the whole, as long as fits: one character shorter only to keep an escape whole.
    assert whole.startswith(kept) and limit - 2 <= len(kept) <= limit - 1
    assert (len(kept) - len(kept.rstrip("\\"))) % 2 == 0


def test_the_model_catches_what_discord_py_misses() -> None:
    # escape_markdown escapes only the first masked link of a line: the second stays live.
    two = "[a](https://evil.example/a) [b](https://evil.example/b)"
    assert "masked link" in live_markup(discord.utils.escape_markdown(two))
    assert live_markup("<@666666666666666666>") and live_markup("# title")
    assert not live_markup(safe(two)) and not live_markup(safe("# title\n> q"))


def test_safe_keeps_what_people_read() -> None:
    assert safe("Café — 3 (onsite)") == "Café — 3 \\(onsite\\)"
    assert one_line("a\n b\u200b\u202ec") == "a bc"
    assert safe("x" * 5000, 100).endswith("…") and len(safe("x" * 5000, 100)) == 100
    # An escape is never cut in half: the ellipsis follows whole characters.
    assert safe("*" * 60, 11) == "\\*" * 5 + "…"
    assert safe("a" + "*" * 60, 11) == "a" + "\\*" * 4 + "…"
    assert safe("\\" * 7, 6) == "\\" * 4 + "…" and safe("see http://x", 10) == "see http…"
    assert safe("مرحبا\u200f 12") == "مرحبا\u200f 12"  # right-to-left marks stay

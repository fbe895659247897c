"""Merge suggestions as shown: typed titles inert, within limits, in the reader's language."""

from __future__ import annotations

from hypothesis import given, settings

from bot.i18n import speaking
from bot.render.similarity import similar_embed
from bot.services.similarity import SimilarPair, SimilarReport
from storage.proposals import ProposalBrief
from tests.bot.test_render_proposals import _inert, _texts, hostile


def _brief(number: int, title: str, kind: str = "workshop") -> ProposalBrief:
    return ProposalBrief(number * 10, number, kind, title, "under_review", "AI")


def _report(pairs: int, total: int, title: str = "AI governance", **options) -> SimilarReport:
    return SimilarReport(
        pairs=tuple(
            SimilarPair(
                _brief(n, title), _brief(n + 100, title + " again"), 90 - n % 10, ("title",)
            )
            for n in range(1, pairs + 1)
        ),
        total=total,
        compared=2000,
        threshold=70,
        **options,
    )


def test_a_pair_reads_numbers_score_fields_and_titles() -> None:
    pair = SimilarPair(
        _brief(12, "AI governance in Africa"),
        _brief(40, "Africa: the governance of AI"),
        87,
        ("title", "policy_questions"),
    )
    embed = similar_embed(SimilarReport((pair,), 1, 200, 70))
    text = "\n".join(_texts(embed))
    assert "`WS #12` ↔ `WS #40` · **87%** · title, policy questions" in text
    assert "AI governance in Africa ↔ Africa: the governance of AI" in text
    assert "1 pair of the 200 proposals compared is at least 70% alike" in text
    assert "`/proposal status number:40 status:merged merged_into:12`" in text
    assert "title 30%, description 40%, policy questions 30%" in (embed.footer.text or "")


def test_more_pairs_than_shown_are_counted() -> None:
    text = "\n".join(_texts(similar_embed(_report(15, 42))))
    assert "42 pairs of the 2000 proposals compared" in text
    assert "…and 27 more pairs: raise `threshold:` or choose a `subtheme:`." in text
    assert "…and" not in "\n".join(_texts(similar_embed(_report(3, 3))))


def test_nothing_alike_says_so() -> None:
    embed = similar_embed(SimilarReport((), 0, 12, 95, subtheme="Data & Trust"))
    text = "\n".join(_texts(embed))
    assert "No two of the 12 proposals compared are at least 95% alike." in text
    assert "merged_into" not in text and "Data & Trust" in text


def test_the_reader_language_names_fields_numbers_and_the_command() -> None:
    with speaking("fr"):
        embed = similar_embed(_report(1, 1))
    text = "\n".join(_texts(embed))
    assert "Suggestions de fusion" in text and "89\xa0%" in text and "titre" in text
    assert "`/proposition statut numéro:101 statut:merged fusionnée_dans:1`" in text


@settings(max_examples=60, deadline=None)
@given(hostile, hostile)
def test_typed_titles_and_subthemes_stay_inert_and_fit(title: str, subtheme: str) -> None:
    long = title * 5
    _inert(similar_embed(_report(15, 500, title=long, subtheme=subtheme)))
    _inert(similar_embed(SimilarReport((), 0, 3, 70, subtheme=subtheme)))

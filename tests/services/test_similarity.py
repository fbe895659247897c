"""Merge suggestions: the pure comparison (many cases) and the service around it."""

from __future__ import annotations

import random
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bot.services.similarity as similarity
from bot.errors import InvalidInput, PermissionDenied
from bot.services.auth import Actor
from bot.services.registry import Services
from bot.services.similarity import (
    ProposalText,
    Similarity,
    fold,
    similar_pairs,
    sketch,
    title_key,
    words,
)
from tests.services.factories import (
    ADMIN,
    MAG,
    NOBODY,
    PROPOSER,
    SECOND_PROPOSER,
    SECRETARIAT,
    mag,
    submit,
)

AI = ProposalText(
    1,
    "AI governance in Africa",
    "How African states can govern artificial intelligence together with civil society, "
    "universities and business, and what the continental strategy asks of each of them.",
    "Which rules should apply to public sector algorithms? Who audits them across borders?",
)
AI_AGAIN = ProposalText(
    2,
    "Africa: the governance of AI",
    "How African states can govern artificial intelligence with civil society, universities "
    "and business, and what the continental strategy asks of each one of them.",
    "Who audits public sector algorithms across borders? Which rules should apply to them?",
)
ISLANDS = ProposalText(
    3,
    "Ransomware and small island states",
    "Protecting hospitals, ports and power grids of Pacific island nations from ransomware "
    "gangs, with regional incident response teams and shared threat intelligence.",
    "What capacity building works for a national CERT of five people? Who pays for it?",
)
SPECTRUM = ProposalText(
    4,
    "Community networks and spectrum",
    "Rural communities build their own networks when operators will not; licensing of "
    "unused spectrum and backhaul costs decide whether they survive.",
    "Should regulators set aside spectrum for community networks? How is backhaul funded?",
)


def pairs_of(found: tuple[Similarity, ...]) -> set[tuple[int, int]]:
    return {(p.first, p.second) for p in found}


def score_of(a: ProposalText, b: ProposalText) -> Similarity:
    """Return the pair's similarity (the lowest threshold lists every pair)."""
    found = similar_pairs([a, b], 0)
    assert len(found.pairs) == 1
    return found.pairs[0]


# --- the words compared ---------------------------------------------------------------


def test_words_are_folded_without_punctuation_or_common_words() -> None:
    assert words("L'Internet: gouvernance des DONNÉES, à l'ère de l'IA !") == [
        "internet",
        "gouvernance",
        "donnees",
        "ere",
        "ia",
    ]
    assert words("The future of the Internet — and of AI?") == ["future", "internet", "ai"]
    assert words("¿Qué es la gobernanza de datos?") == ["gobernanza", "datos"]
    assert words("snake_case and 5G") == ["snake", "case", "5g"]


def test_chinese_and_japanese_are_read_as_pairs_of_characters() -> None:
    assert words("互联网治理") == ["互联", "联网", "网治", "治理"]
    assert words("人 AI治理") == ["人", "ai", "治理"]
    assert words("データ") == ["テー", "ータ"]  # the voicing mark folds away, as accents do


def test_accents_and_case_fold_away_in_every_script() -> None:
    assert fold("Ÿvette ÉCOLE Ёлка") == fold("yvette ecole елка")
    assert title_key("Gouvernance des données") == title_key("GOUVERNANCE DES DONNEES")


def test_a_title_is_its_words_in_any_order() -> None:
    assert title_key("AI governance in Africa") == title_key("Africa: the governance of AI")
    assert title_key("Data, data and more data") == "data"


def test_a_sketch_is_small_sorted_and_the_same_for_the_same_words() -> None:
    long = " ".join(f"word{i}" for i in range(500))
    assert len(sketch(long, 48)) == 48
    assert sketch(long, 48) == sorted(sketch(long, 48))
    assert sketch("b a c", 8) == sketch("c, B; a", 8)
    assert sketch("", 8) == []


# --- which pairs are suggested ----------------------------------------------------------


def test_near_duplicates_in_another_word_order_are_suggested() -> None:
    found = similar_pairs([AI, ISLANDS, AI_AGAIN, SPECTRUM], 70)
    assert pairs_of(found.pairs) == {(1, 2)}
    pair = found.pairs[0]
    assert pair.fields == ("title", "description", "policy_questions")
    assert pair.field_scores[0] == 100  # the same words in another order
    assert 85 <= pair.score <= 100 and found.total == 1 and found.compared == 4


def test_unrelated_proposals_are_not_suggested() -> None:
    proposals = [AI, ISLANDS, SPECTRUM]
    assert similar_pairs(proposals, 50).pairs == ()
    for a, b in ((AI, ISLANDS), (AI, SPECTRUM), (ISLANDS, SPECTRUM)):
        assert score_of(a, b).score < 35


def test_accents_left_out_or_in_capitals_change_nothing() -> None:
    french = ProposalText(
        5,
        "Données et confiance à l'ère numérique",
        "Comment les États peuvent-ils partager des données de santé sans perdre la confiance "
        "des citoyens ? Expériences du Sénégal, du Québec et de la Côte d'Ivoire.",
        "Quelles garanties ? Qui contrôle les accès ?",
    )
    plain = ProposalText(
        6,
        "DONNEES ET CONFIANCE A L'ERE NUMERIQUE",
        "Comment les Etats peuvent-ils partager des donnees de sante sans perdre la confiance "
        "des citoyens ? Experiences du Senegal, du Quebec et de la Cote d'Ivoire.",
        "Quelles garanties ? Qui controle les acces ?",
    )
    assert score_of(french, plain).score == 100


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (  # Spanish, lightly edited
            (
                "Gobernanza de datos en América Latina",
                "Los gobiernos de la región comparten "
                "datos abiertos de salud, transporte y clima con universidades y empresas.",
                "¿Quién paga la infraestructura? ¿Qué licencias usar?",
            ),
            (
                "Datos abiertos y gobernanza en América Latina",
                "Los gobiernos de la región "
                "comparten datos abiertos de salud y clima con universidades y empresas locales.",
                "¿Qué licencias usar? ¿Quién paga la infraestructura?",
            ),
        ),
        (  # Russian
            (
                "Кибербезопасность критической инфраструктуры",
                "Как защитить больницы, "
                "электростанции и порты от атак программ-вымогателей в странах Центральной Азии.",
                "Кто отвечает за реагирование на инциденты?",
            ),
            (
                "Критическая инфраструктура и кибербезопасность",
                "Как защитить больницы, "
                "электростанции и порты от атак вымогателей в странах Центральной Азии.",
                "Кто отвечает за реагирование на инциденты? Кто платит?",
            ),
        ),
        (  # Chinese, written without spaces
            (
                "人工智能治理与发展中国家",
                "发展中国家如何参与人工智能规则的制定，以及如何在数据保护和创新之间取得平衡。",
                "谁来制定规则？如何监督算法？",
            ),
            (
                "发展中国家与人工智能治理",
                "发展中国家如何参与人工智能规则的制定，并且如何在数据保护与创新之间取得平衡。",
                "如何监督算法？谁来制定规则？",
            ),
        ),
        (  # Arabic
            (
                "حوكمة الإنترنت في المنطقة العربية",
                "كيف يمكن للحكومات والمجتمع المدني "
                "والقطاع الخاص العمل معا على سياسات الإنترنت في المنطقة العربية.",
                "من يضع القواعد؟ كيف نحمي البيانات؟",
            ),
            (
                "المنطقة العربية وحوكمة الإنترنت",
                "كيف يمكن للحكومات والمجتمع المدني "
                "والقطاع الخاص العمل معا على سياسات الإنترنت في المنطقة العربية اليوم.",
                "كيف نحمي البيانات؟ من يضع القواعد؟",
            ),
        ),
    ],
    ids=["spanish", "russian", "chinese", "arabic"],
)
def test_near_duplicates_are_found_in_other_languages(
    first: tuple[str, str, str], second: tuple[str, str, str]
) -> None:
    a, b = ProposalText(1, *first), ProposalText(2, *second)
    found = similar_pairs([a, b, ISLANDS, SPECTRUM], 70)
    assert pairs_of(found.pairs) == {(1, 2)}, score_of(a, b)


def test_a_translation_is_not_recognised() -> None:
    # Words are compared, not meanings: the same proposal in French is another text.
    french = ProposalText(
        7,
        "La gouvernance de l'IA en Afrique",
        "Comment les États africains peuvent gouverner l'intelligence artificielle avec la "
        "société civile, les universités et les entreprises.",
        "Quelles règles pour les algorithmes publics ? Qui les contrôle ?",
    )
    assert score_of(AI, french).score < 50


def test_the_threshold_is_inclusive_at_its_edge() -> None:
    edited = ProposalText(
        8,
        "Artificial intelligence rules for African states",
        AI.description.replace("universities", "academia").replace("business", "industry"),
        "Which rules for algorithms in the public sector?",
    )
    score = score_of(AI, edited).score
    assert 50 < score < 100
    assert pairs_of(similar_pairs([AI, edited], score).pairs) == {(1, 8)}
    assert similar_pairs([AI, edited], score + 1).pairs == ()
    close = score_of(AI, edited)
    at_edge = similar_pairs([AI, edited], score).pairs[0]
    # A field is close when its own score reaches the threshold.
    assert at_edge.fields == tuple(
        f for f, s in zip(similarity.FIELDS, close.field_scores, strict=True) if s >= score
    )


def test_the_fields_named_are_those_that_are_close() -> None:
    same_text = ProposalText(9, "Something else entirely", AI.description, "Nothing alike here?")
    pair = score_of(AI, same_text)
    assert pair.field_scores[1] == 100
    # The description weighs four tenths: copied under another title and other
    # questions, a proposal is about half alike.
    assert 40 <= pair.score < 60
    found = similar_pairs([AI, same_text], pair.score)
    assert found.pairs and found.pairs[0].fields == ("description",)


@pytest.mark.parametrize("status", ["merged", "withdrawn", "screened_out", "rejected"])
def test_proposals_no_merge_can_involve_are_left_out(status: str) -> None:
    gone = ProposalText(2, AI_AGAIN.title, AI_AGAIN.description, AI_AGAIN.policy_questions,
                        status=status)  # fmt: skip
    found = similar_pairs([AI, gone, ISLANDS], 50)
    assert found.pairs == () and found.compared == 2


@pytest.mark.parametrize("status", ["submitted", "under_review", "accepted"])
def test_live_proposals_are_compared(status: str) -> None:
    live = ProposalText(2, AI_AGAIN.title, AI_AGAIN.description, AI_AGAIN.policy_questions,
                        status=status)  # fmt: skip
    assert pairs_of(similar_pairs([AI, live], 70).pairs) == {(1, 2)}


def test_two_kinds_of_session_are_not_paired() -> None:
    forum = ProposalText(2, AI.title, AI.description, AI.policy_questions, kind="open_forum")
    assert similar_pairs([AI, forum], 50).pairs == ()
    forum_again = ProposalText(3, AI.title, AI.description, AI.policy_questions, "open_forum")
    assert pairs_of(similar_pairs([AI, forum, forum_again], 50).pairs) == {(2, 3)}


def test_an_empty_field_is_never_close() -> None:
    a = ProposalText(1, "Data trust", "", "")
    b = ProposalText(2, "Data trust", "", "")
    pair = score_of(a, b)
    assert pair.field_scores == (100, 0, 0) and pair.score == 30
    assert similar_pairs([a, b], 50).pairs == ()


def test_the_most_alike_come_first_and_the_rest_are_counted() -> None:
    copies = [ProposalText(n, AI.title, AI.description, AI.policy_questions) for n in (1, 2, 3)]
    found = similar_pairs([*copies, AI_AGAIN], 70, limit=3)
    assert found.total == 6 and len(found.pairs) == 3
    assert [(p.first, p.second, p.score) for p in found.pairs] == [
        (1, 2, 100),
        (1, 3, 100),
        (2, 3, 100),
    ]
    assert similar_pairs([*copies, AI_AGAIN], 70, limit=0).pairs == ()
    assert similar_pairs([AI], 50) == similarity.Found((), 0, 1)


def test_planted_duplicates_are_found_among_hundreds() -> None:
    rnd = random.Random(13)
    vocabulary = [f"{rnd.choice('bcdfghklmnprst')}{rnd.choice('aeiou')}" * 3 + str(i)
                  for i in range(3000)]  # fmt: skip

    def text(n: int) -> str:
        return " ".join(rnd.choice(vocabulary) for _ in range(n))

    proposals = [ProposalText(n, text(6), text(120), text(40)) for n in range(400)]
    twins = set()
    for n in range(400, 410):
        original = proposals[n - 400]
        desc = original.description.split()
        desc[::10] = [rnd.choice(vocabulary) for _ in desc[::10]]  # a tenth of the words edited
        proposals.append(
            ProposalText(
                n,
                " ".join(reversed(original.title.split())),
                " ".join(desc),
                original.policy_questions,
            )
        )
        twins.add((original.key, n))
    found = similar_pairs(proposals, 70, workers=2)
    assert pairs_of(found.pairs) == set(twins) and found.total == 10


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(max_size=30),
            st.text(max_size=120),
            st.text(max_size=60),
            st.sampled_from(["submitted", "merged", "accepted"]),
        ),
        max_size=12,
    ),
    st.integers(0, 100),
)
def test_any_text_gives_pairs_within_the_rules(
    rows: list[tuple[str, str, str, str]], threshold: int
) -> None:
    proposals = [ProposalText(i, t, d, q, status=s) for i, (t, d, q, s) in enumerate(rows)]
    found = similar_pairs(proposals, threshold)
    live = {p.key for p in proposals if p.status != "merged"}
    assert found.total == len(found.pairs) and found.compared == len(live)
    for pair in found.pairs:
        assert pair.first < pair.second and {pair.first, pair.second} <= live
        assert threshold <= pair.score <= 100 and pair.fields
        assert all(0 <= s <= 100 for s in pair.field_scores)
    # The same pairs, whatever the order the proposals come in.
    again = similar_pairs(list(reversed(proposals)), threshold)
    assert {tuple(sorted((p.first, p.second))) for p in again.pairs} == pairs_of(found.pairs)


# --- the service ------------------------------------------------------------------------


@pytest.fixture
def services(db, clock) -> Services:
    return Services.create(db, clock)


async def submit_text(services: Services, actor, text: ProposalText, **options) -> int:
    stored = await submit(
        services,
        actor,
        title=text.title,
        description=text.description,
        policy_questions=text.policy_questions,
        **options,
    )
    return stored.number


async def test_the_mag_and_the_secretariat_see_the_pairs(services: Services) -> None:
    await services.config.set_rule(ADMIN, "proposals.max_per_proposer", 0)
    assert await submit_text(services, PROPOSER, AI) == 1
    await submit_text(services, PROPOSER, ISLANDS)
    await submit_text(services, SECOND_PROPOSER, AI_AGAIN)
    for actor in (MAG, SECRETARIAT, ADMIN):
        report = await services.similarity.similar(actor)
        assert report.threshold == 70 and report.compared == 3 and report.total == 1
        (pair,) = report.pairs
        assert pair.labels == ("WS #1", "WS #3") and pair.score >= 85
        assert pair.first.title == AI.title and pair.second.title == AI_AGAIN.title
        assert report.more == 0


async def test_anyone_else_is_refused(services: Services) -> None:
    with pytest.raises(PermissionDenied, match="MAG members and the secretariat"):
        await services.similarity.similar(NOBODY)
    with pytest.raises(PermissionDenied):
        await services.similarity.similar(PROPOSER)


async def test_the_threshold_comes_from_the_rule_and_is_checked(services: Services) -> None:
    await services.config.set_rule(ADMIN, "proposals.max_per_proposer", 0)
    await submit_text(services, PROPOSER, AI)
    await submit_text(services, PROPOSER, AI_AGAIN)
    await services.config.set_rule(ADMIN, "reviews.similar_threshold", 100)
    report = await services.similarity.similar(MAG)
    assert report.threshold == 100 and report.pairs == ()
    assert (await services.similarity.similar(MAG, threshold=80)).total == 1
    # A rule set out of range is held within it.
    await services.config.set_rule(ADMIN, "reviews.similar_threshold", 10)
    assert (await services.similarity.similar(MAG)).threshold == 50
    for wrong in (49, 101, 0):
        with pytest.raises(InvalidInput, match="from 50 to 100"):
            await services.similarity.similar(MAG, threshold=wrong)


async def test_a_subtheme_narrows_the_comparison(services: Services) -> None:
    await services.config.set_rule(ADMIN, "proposals.max_per_proposer", 0)
    await submit_text(services, PROPOSER, AI, subtheme="AI & Emerging Technologies")
    await submit_text(services, PROPOSER, AI_AGAIN, subtheme="Data Governance & Trust")
    await submit_text(services, SECOND_PROPOSER, AI, subtheme="Data Governance & Trust")
    report = await services.similarity.similar(MAG, subtheme="data governance & trust")
    assert report.subtheme == "Data Governance & Trust" and report.compared == 2
    assert [p.labels for p in report.pairs] == [("WS #2", "WS #3")]
    assert (await services.similarity.similar(MAG)).total == 3
    with pytest.raises(InvalidInput):
        await services.similarity.similar(MAG, subtheme="Underwater basket weaving")


async def test_a_merged_or_withdrawn_proposal_leaves_the_suggestions(services: Services) -> None:
    await services.config.set_rule(ADMIN, "proposals.max_per_proposer", 0)
    for text in (AI, AI_AGAIN, AI):
        await submit_text(services, PROPOSER, text)
    assert (await services.similarity.similar(MAG)).total == 3
    await services.proposals.set_status(SECRETARIAT, 2, "merged", "Same session", merged_into=1)
    report = await services.similarity.similar(MAG)
    assert [p.labels for p in report.pairs] == [("WS #1", "WS #3")]
    await services.proposals.withdraw(PROPOSER, 3, "Duplicate")
    assert (await services.similarity.similar(MAG)).pairs == ()


async def test_other_servers_proposals_are_not_compared(services: Services) -> None:
    await submit_text(services, PROPOSER, AI)
    elsewhere = Actor(guild_id=PROPOSER.guild_id + 1, user_id=PROPOSER.user_id)
    await submit_text(services, elsewhere, AI_AGAIN)
    assert (await services.similarity.similar(MAG)).compared == 1
    assert (await services.similarity.similar(mag(100, elsewhere.guild_id))).compared == 1


async def test_the_comparison_runs_off_the_event_loop(services: Services, monkeypatch) -> None:
    await submit_text(services, PROPOSER, AI)
    seen: list[threading.Thread] = []
    real = similarity.similar_pairs

    def spy(*args, **kwargs):
        seen.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(similarity, "similar_pairs", spy)
    await services.similarity.similar(MAG)
    assert seen and seen[0] is not threading.main_thread()

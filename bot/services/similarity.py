"""Merge suggestions: pairs of proposals whose titles, descriptions and policy questions are close.

``similar_pairs`` is a pure function (texts in, pairs out) that the service
runs in a worker thread: rapidfuzz's ``process.cdist`` compares every
proposal with every other in C++, without the GIL, on every core, and only
half the matrix (the scorer is symmetric), so 2,000 proposals take well under
a second (``bench/similarity.py``: 0.55-0.85 s on a shared 2-core machine)
and the event loop never waits for it.

How two proposals are compared, field by field, each 0-100:

- **title**: ``fuzz.ratio`` (Indel similarity, character by character) of the
  titles folded (case, accents, punctuation, common words out) with their
  words sorted, so "AI governance in Africa" and "Africa: the governance of
  AI" are the same title and a typo costs little;
- **description** and **policy questions**: the share of words the two have
  in common (Dice, 2|A∩B| / (|A|+|B|), which is what ``fuzz.ratio`` gives on
  two sorted lists of distinct words), on a sketch of each text: the
  ``SKETCH`` words of smallest hash (a bottom-k sketch, the near-duplicate
  test of search engines), so a long text costs what a short one does and
  two texts that share most of their words share most of their sketch.
  Chinese and Japanese, written without spaces, are compared by pairs of
  characters.

The pair's similarity is the weighted mean (``WEIGHTS``: the description
counts most, a title alone is too short to tell), and a field is named
"close" when its own score reaches the threshold. An empty field is never
close. Only proposals a merge can still involve are compared (``COMPARED``),
and only with proposals of the same kind.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Final

from bot.errors import InvalidInput, PermissionDenied
from bot.i18n import _
from bot.services.auth import Actor
from bot.services.config import ConfigService
from bot.services.proposals import MERGE_TARGETS
from bot.services.taxonomy import match, proposal_label
from storage.database import Database

if TYPE_CHECKING:
    import numpy as np
from storage.proposals import ProposalBrief
from storage.similarity import proposal_texts

FIELDS: Final = ("title", "description", "policy_questions")
# Tenths of the similarity each field carries (they add up to ten).
WEIGHTS: Final = {"title": 3, "description": 4, "policy_questions": 3}
# Proposals a merge can still involve: withdrawn, screened-out, rejected and
# already merged ones are left out (``bot.services.proposals.MERGE_TARGETS``).
COMPARED: Final = MERGE_TARGETS
THRESHOLD_RULE: Final = "reviews.similar_threshold"
MIN_THRESHOLD: Final = 50
MAX_THRESHOLD: Final = 100
# Words of a description or of the policy questions that stand for it (bottom-k sketch).
SKETCH: Final = {"description": 32, "policy_questions": 32}
SHOWN: Final = 15  # pairs listed in one answer


@cache
def _marks() -> dict[int, None]:
    """Return the combining marks (accents, vowel signs, voicing marks) to delete, as a table."""
    return {code: None for code in range(0x10000) if unicodedata.combining(chr(code))}


def fold(text: str) -> str:
    """Return ``text`` case-folded, without accents or other marks."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKD", text.casefold()).translate(_marks())


# Words that say nothing about what a proposal is about, in the languages whose
# words are separated by spaces and that proposals are most often written in
# (folded as the words they are checked against).
_STOP_WORDS = """
    a an and are as at be been but by can do does for from has have how in into is it its
    of on or our should that the their them these they this those to was we were what when
    where which who whom why will with within without would your you about across among
    between through under upon more most other such than then there also not no nor so
    au aux avec ce ces comme dans de des du elle en est et eux il ils la le les leur leurs
    lui mais même ne nos notre nous ou où par pas pour qu que qui quoi sa se ses son sur ta
    te tes toi ton tu un une vos votre vous y d l n s c j m t
    al como con cual cuales cuando del el ella ellas ellos entre es esta este esto estos
    hay las lo los más mi muy nuestra nuestro o para pero por qué se ser sin sobre su sus
    también tu una uno unos unas y ya
"""
STOP_WORDS: Final = frozenset(fold(word) for word in _STOP_WORDS.split())
# Scripts written without spaces between words: compared by pairs of characters.
_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_UNSPACED}]+|(?:(?![{_UNSPACED}])[^\W_])+")
_UNSPACED_CHAR = re.compile(f"[{_UNSPACED}]")
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class ProposalText:
    """What one proposal brings to the comparison (``key`` is returned in the pairs)."""

    key: int
    title: str
    description: str
    policy_questions: str
    kind: str = "workshop"
    status: str = "submitted"


@dataclass(frozen=True, slots=True)
class Similarity:
    """Two proposals (``first`` < ``second`` in input order) and how alike they are, 0-100."""

    first: int  # key
    second: int  # key
    score: int
    fields: tuple[str, ...]  # the fields whose own score reaches the threshold, in FIELDS order
    field_scores: tuple[int, int, int]  # title, description, policy questions


@dataclass(frozen=True)
class Found:
    """The pairs at or above the threshold (most alike first, at most ``limit``) and how many."""

    pairs: tuple[Similarity, ...]
    total: int
    compared: int


def words(text: str) -> list[str]:
    """Return the words of ``text`` that tell what it is about, folded, in order.

    Punctuation and ``STOP_WORDS`` go; a run of Chinese or Japanese characters
    gives its pairs of characters (a lone character stays itself).
    """
    folded = fold(text)
    if _UNSPACED_CHAR.search(folded) is None:  # the usual case, and the quick one
        return [word for word in _WORD.findall(folded) if word not in STOP_WORDS]
    out: list[str] = []
    for token in _TOKEN.findall(folded):
        if token in STOP_WORDS:
            continue
        if len(token) > 1 and _UNSPACED_CHAR.match(token):
            out.extend(token[i : i + 2] for i in range(len(token) - 1))
        else:
            out.append(token)
    return out


def title_key(title: str) -> str:
    """Return a title as it is compared: its words folded, distinct and sorted."""
    return " ".join(sorted(set(words(title))))


def sketch(text: str, size: int) -> list[int]:
    """Return the ``size`` smallest hashes of the distinct words of ``text``, sorted."""
    hashes = {zlib.crc32(word.encode()) for word in set(words(text))}
    return sorted(hashes)[:size]


def dense(sketches: Sequence[list[int]]) -> list[list[int]]:
    """Return the sketches with each hash replaced by its rank among all of them.

    The order and the pairs in common are the same; small numbers make
    rapidfuzz's comparison about a third faster than 32-bit hashes.
    """
    ranks = {h: i for i, h in enumerate(sorted({h for s in sketches for h in s}))}
    return [[ranks[h] for h in s] for s in sketches]


def _matrix(values: Sequence[str] | Sequence[list[int]], workers: int) -> np.ndarray:
    """Return every pair's ``fuzz.ratio`` (0-100), an empty value counting 0."""
    import numpy as np
    from rapidfuzz import fuzz, process

    scores = process.cdist(values, values, scorer=fuzz.ratio, dtype=np.uint8, workers=workers)
    empty = np.array([len(v) == 0 for v in values])
    if empty.any():
        scores[empty, :] = 0
        scores[:, empty] = 0
    return scores


def similar_pairs(
    proposals: Sequence[ProposalText],
    threshold: int,
    *,
    limit: int | None = None,
    workers: int = -1,
) -> Found:
    """Return the pairs of ``proposals`` whose similarity is at least ``threshold`` (0-100).

    Pure and CPU-bound: run it in a thread. Proposals outside ``COMPARED``
    are left out, and so is a pair of two different kinds. ``workers`` is
    passed to ``cdist`` (-1: every core).
    """
    # numpy and rapidfuzz (20 MB resident) only once someone asks for suggestions.
    import numpy as np

    kept = [p for p in proposals if p.status in COMPARED]
    if len(kept) < 2:
        return Found((), 0, len(kept))
    titles = [title_key(p.title) for p in kept]
    descriptions = dense([sketch(p.description, SKETCH["description"]) for p in kept])
    questions = dense([sketch(p.policy_questions, SKETCH["policy_questions"]) for p in kept])
    matrices = [_matrix(values, workers) for values in (titles, descriptions, questions)]
    total = np.zeros(matrices[0].shape, dtype=np.uint16)
    for name, matrix in zip(FIELDS, matrices, strict=True):
        total += matrix.astype(np.uint16) * WEIGHTS[name]
    # The score is the weighted mean rounded to a whole number: at least the
    # threshold when ten times it, plus five, reaches ten times the threshold.
    cut = max(0, 10 * threshold - 5)
    rows, cols = np.nonzero(total >= cut)
    upper = rows < cols  # each pair once, and no proposal with itself
    rows, cols = rows[upper], cols[upper]
    kinds = {kind: index for index, kind in enumerate(sorted({p.kind for p in kept}))}
    kind_of = np.array([kinds[p.kind] for p in kept])
    same = kind_of[rows] == kind_of[cols]
    rows, cols = rows[same], cols[same]
    scores = (total[rows, cols].astype(np.int32) + 5) // 10
    # Most alike first, then by position (proposals come by number).
    order = np.lexsort((cols, rows, -scores))
    if limit is not None:
        order = order[: max(0, limit)]
    pairs = []
    for index in order:
        i, j = int(rows[index]), int(cols[index])
        field_scores = (int(matrices[0][i, j]), int(matrices[1][i, j]), int(matrices[2][i, j]))
        pairs.append(
            Similarity(
                first=kept[i].key,
                second=kept[j].key,
                score=int(scores[index]),
                fields=tuple(
                    f for f, s in zip(FIELDS, field_scores, strict=True) if s >= threshold
                ),
                field_scores=field_scores,
            )
        )
    return Found(tuple(pairs), len(scores), len(kept))


@dataclass(frozen=True, slots=True)
class SimilarPair:
    """Two proposals that may be one, as ``/review similar`` lists them."""

    first: ProposalBrief
    second: ProposalBrief
    score: int
    fields: tuple[str, ...]

    @property
    def labels(self) -> tuple[str, str]:
        """Return the display numbers of both, such as ``("WS #12", "WS #40")``."""
        return (
            proposal_label(self.first.kind, self.first.number),
            proposal_label(self.second.kind, self.second.number),
        )


@dataclass(frozen=True)
class SimilarReport:
    """Merge suggestions for the MAG: the most alike pairs first, and how many there are."""

    pairs: tuple[SimilarPair, ...]
    total: int
    compared: int
    threshold: int
    subtheme: str | None = None

    @property
    def more(self) -> int:
        """Return how many pairs there are beyond those listed."""
        return self.total - len(self.pairs)


def require_evaluator(actor: Actor) -> None:
    """Refuse unless the actor is a MAG member or the secretariat (or an admin)."""
    if not (actor.is_mag or actor.can_act_as_secretariat):
        raise PermissionDenied(
            _(
                "Only MAG members and the secretariat can see merge suggestions. "
                "Ask an admin for the MAG role."
            )
        )


class SimilarityService:
    """Merge suggestions for the MAG's evaluation."""

    def __init__(self, db: Database, config: ConfigService) -> None:
        self._db = db
        self._config = config
        # One comparison at a time per process: it takes every core while it runs.
        self._running = asyncio.Lock()

    async def similar(
        self,
        actor: Actor,
        *,
        threshold: int | None = None,
        subtheme: str | None = None,
        limit: int = SHOWN,
    ) -> SimilarReport:
        """Return the pairs of live proposals at least ``threshold`` alike (MAG, secretariat).

        The threshold defaults to the guild's ``reviews.similar_threshold``;
        with ``subtheme``, only proposals of that subtheme are compared.
        """
        require_evaluator(actor)
        settings = await self._config.get(actor.guild_id)
        if threshold is None:
            # An admin may set the rule to anything from 0: it is held within the range.
            rule = int(settings.rule(THRESHOLD_RULE))
            threshold = min(MAX_THRESHOLD, max(MIN_THRESHOLD, rule))
        if not MIN_THRESHOLD <= threshold <= MAX_THRESHOLD:
            raise InvalidInput(
                _(
                    "The threshold goes from {lowest} to {highest} (percent alike).",
                    lowest=MIN_THRESHOLD,
                    highest=MAX_THRESHOLD,
                )
            )
        if subtheme:
            subtheme = match(subtheme, settings.subthemes, _("subtheme of this server"))
        async with self._db.read() as session:
            rows = await proposal_texts(
                session, guild_id=actor.guild_id, statuses=COMPARED, subtheme=subtheme or None
            )
        texts = [
            ProposalText(r.id, r.title, r.description, r.policy_questions, r.kind, r.status)
            for r in rows
        ]
        async with self._running:
            found = await asyncio.to_thread(similar_pairs, texts, threshold, limit=limit)
        briefs = {
            r.id: ProposalBrief(r.id, r.number, r.kind, r.title, r.status, r.subtheme) for r in rows
        }
        return SimilarReport(
            pairs=tuple(
                SimilarPair(briefs[s.first], briefs[s.second], s.score, s.fields)
                for s in found.pairs
            ),
            total=found.total,
            compared=found.compared,
            threshold=threshold,
            subtheme=subtheme or None,
        )

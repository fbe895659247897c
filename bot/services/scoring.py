"""Conflicts of interest and score summaries, shared by proposals, reviews and export.

One definition of "conflicted" for the whole bot, in two kinds:

- a conflict that *counts*: the member declared it, the secretariat confirmed
  it, the member submitted the proposal, or the member's own account agreed
  to be on it. Such a member's score never counts.
- a *suspected* conflict: what others typed suggests one (a nomination named
  the member's account, a person confirmed as them is on it, an organizer or
  the proposer shares their affiliation). It is shown to the member and the
  secretariat and avoided by assignment, but a score keeps counting until the
  member declares it or the secretariat decides (audited).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.services.taxonomy import ACTIVE_PARTICIPATION
from storage.reviews import (
    SCORES,
    Histogram,
    Pair,
    find_conflict_pairs,
    find_suspected_pairs,
    score_histograms,
    scores_for_pairs,
)


async def find_conflicts(
    session: AsyncSession,
    *,
    guild_id: int,
    proposal_ids: Collection[int] | None = None,
    member_ids: Collection[int] | None = None,
    include_own: bool = True,
) -> dict[Pair, str]:
    """Return every conflicted (proposal id, member id) pair with its reason."""
    return await find_conflict_pairs(
        session,
        guild_id=guild_id,
        active=ACTIVE_PARTICIPATION,
        proposal_ids=proposal_ids,
        member_ids=member_ids,
        include_own=include_own,
    )


async def find_suspected(
    session: AsyncSession,
    *,
    guild_id: int,
    member_ids: Collection[int] | None = None,
    proposal_ids: Collection[int] | None = None,
) -> dict[Pair, tuple[str, ...]]:
    """Return the conflicts the data suggests and nobody settled, with their reasons.

    Their scores keep counting: what someone else typed (a nomination naming
    the member, an organizer's affiliation) never silently voids a MAG
    member's score. The member declares it, or the secretariat decides.
    """
    return await find_suspected_pairs(
        session,
        guild_id=guild_id,
        active=ACTIVE_PARTICIPATION,
        member_ids=member_ids,
        proposal_ids=proposal_ids,
    )


@dataclass(frozen=True, slots=True)
class ScoreSummary:
    """What the scores of one proposal say, conflicted scores left out."""

    count: int
    mean: float | None
    median: float | None
    spread: float | None  # population standard deviation
    low: int | None
    high: int | None
    merges: int
    excluded: int = 0  # conflicted scores left out

    @classmethod
    def of(cls, scores: Iterable[int], merges: int = 0, excluded: int = 0) -> ScoreSummary:
        """Return the summary of a list of scores."""
        values = sorted(scores)
        n = len(values)
        if n == 0:
            return cls(0, None, None, None, None, None, merges, excluded)
        mean = sum(values) / n
        middle = n // 2
        median = values[middle] if n % 2 else (values[middle - 1] + values[middle]) / 2
        spread = math.sqrt(sum((v - mean) ** 2 for v in values) / n)
        return cls(n, mean, float(median), spread, values[0], values[-1], merges, excluded)

    @classmethod
    def from_histogram(cls, histogram: Histogram, excluded: int = 0) -> ScoreSummary:
        """Return the summary of a histogram of scores (the same as ``of`` its scores).

        Plain arithmetic on the five counts: it runs for every proposal of a ranking.
        """
        c = histogram.counts
        c1, c2, c3, c4, c5 = c.get(1, 0), c.get(2, 0), c.get(3, 0), c.get(4, 0), c.get(5, 0)
        n = c1 + c2 + c3 + c4 + c5
        if n <= 0:
            return cls(0, None, None, None, None, None, histogram.merges, excluded)
        mean = (c1 + 2 * c2 + 3 * c3 + 4 * c4 + 5 * c5) / n
        square = (c1 + 4 * c2 + 9 * c3 + 16 * c4 + 25 * c5) / n
        spread = math.sqrt(max(0.0, square - mean * mean))
        cumulative = (c1, c1 + c2, c1 + c2 + c3, c1 + c2 + c3 + c4, n)

        def nth(k: int) -> int:  # the k-th smallest score, counting from 0
            for score, upto in enumerate(cumulative, start=1):
                if k < upto:
                    return score
            return 5

        median = float(nth(n // 2)) if n % 2 else (nth(n // 2 - 1) + nth(n // 2)) / 2
        low = next(s for s, k in zip(SCORES, (c1, c2, c3, c4, c5), strict=True) if k)
        high = next(s for s, k in zip((5, 4, 3, 2, 1), (c5, c4, c3, c2, c1), strict=True) if k)
        return cls(n, mean, median, spread, low, high, histogram.merges, excluded)


def ranking_key(number: int, summary: ScoreSummary) -> tuple[float, float, int, int]:
    """Return the sort key of the results: mean, median, count (all desc), then number.

    Unscored proposals come last. The same data always gives the same order.
    """
    mean = summary.mean if summary.mean is not None else -1.0
    median = summary.median if summary.median is not None else -1.0
    return (-mean, -median, -summary.count, number)


async def summaries(
    session: AsyncSession,
    *,
    guild_id: int,
    proposal_ids: Collection[int] | None = None,
    histograms: dict[int, Histogram] | None = None,
) -> dict[int, ScoreSummary]:
    """Return the score summary of each reviewed proposal, conflicted scores left out.

    The histograms come from the tally kept with the reviews; conflicts are
    few, so their scores are fetched by pair and subtracted. A proposer's
    score of their own proposal cannot exist (``score`` refuses it, and a
    proposal's proposer never changes), so that kind is not searched for.
    """
    if histograms is None:
        histograms = await score_histograms(session, guild_id=guild_id, proposal_ids=proposal_ids)
    else:  # the caller's tally, read in this session: not to be changed under them
        histograms = {pid: Histogram(dict(h.counts), h.merges) for pid, h in histograms.items()}
    if not histograms:
        return {}
    conflicted = await find_conflicts(
        session, guild_id=guild_id, proposal_ids=proposal_ids, include_own=False
    )
    excluded: dict[int, int] = {}
    for proposal_id, _member, score, merge in await scores_for_pairs(
        session, guild_id=guild_id, pairs=conflicted.keys()
    ):
        histogram = histograms.get(proposal_id)
        if histogram is None:
            continue
        histogram.counts[score] -= 1
        histogram.merges -= int(merge)
        excluded[proposal_id] = excluded.get(proposal_id, 0) + 1
    return {
        pid: ScoreSummary.from_histogram(h, excluded.get(pid, 0))
        for pid, h in histograms.items()
        if h.total or excluded.get(pid)
    }


# --- normalisation and the borderline band (issue 13) ------------------------


def normalised_means(scores: Iterable[tuple[int, int, int]]) -> dict[int, float]:
    """Return each proposal's mean z-score: every reviewer's scores put on one scale.

    ``scores`` are (proposal, member, score), conflicted ones left out. A
    reviewer's score becomes ``(score - their mean) / their spread``, so a
    harsh and a lenient reviewer weigh the same; a reviewer who gave one
    score, or the same score to everything, says nothing about their scale
    and counts 0 (the middle).
    """
    rows = list(scores)
    by_member: dict[int, list[int]] = {}
    for _proposal, member, score in rows:
        by_member.setdefault(member, []).append(score)
    scale = {}
    for member, given in by_member.items():
        mean = sum(given) / len(given)
        spread = math.sqrt(sum((s - mean) ** 2 for s in given) / len(given))
        scale[member] = (mean, spread)
    z_by_proposal: dict[int, list[float]] = {}
    for proposal, member, score in rows:
        mean, spread = scale[member]
        z_by_proposal.setdefault(proposal, []).append((score - mean) / spread if spread else 0.0)
    return {p: sum(zs) / len(zs) for p, zs in z_by_proposal.items()}


@dataclass(frozen=True, slots=True)
class Standing:
    """One proposal's place in the ranking, raw and normalised."""

    proposal_id: int
    number: int
    summary: ScoreSummary
    z: float | None  # mean z-score (None: no score)
    rank: int  # by raw mean (1 is the best)
    z_rank: int  # by mean z-score


def standings(numbers: dict[int, int], scores: Iterable[tuple[int, int, int]]) -> list[Standing]:
    """Return every proposal (id -> number) ranked by raw mean and by normalised mean.

    Raw ties are broken as ``ranking_key`` does; normalised ties by the raw rank.
    """
    rows = list(scores)
    per_proposal: dict[int, list[int]] = {p: [] for p in numbers}
    for proposal, _member, score in rows:
        if proposal in per_proposal:
            per_proposal[proposal].append(score)
    z = normalised_means(r for r in rows if r[0] in numbers)
    summaries_ = {p: ScoreSummary.of(s) for p, s in per_proposal.items()}
    raw = sorted(numbers, key=lambda p: ranking_key(numbers[p], summaries_[p]))
    raw_rank = {p: i for i, p in enumerate(raw, 1)}
    by_z = sorted(numbers, key=lambda p: (-(z[p]) if p in z else math.inf, raw_rank[p]))
    z_rank = {p: i for i, p in enumerate(by_z, 1)}
    return [Standing(p, numbers[p], summaries_[p], z.get(p), raw_rank[p], z_rank[p]) for p in raw]


def borderline(
    ranked: list[Standing], accept: int, points: float
) -> tuple[float | None, list[Standing]]:
    """Return the cut (the raw mean of the ``accept``-th) and the proposals near it.

    Near: a raw mean within ``points`` of the cut, or a place that crosses the
    cut when the scores are normalised (in by one ranking, out by the other).
    """
    if not ranked or accept < 1:
        return None, []
    cut_at = ranked[min(accept, len(ranked)) - 1].summary.mean
    if cut_at is None:
        return None, []
    near = [
        s
        for s in ranked
        if s.summary.mean is not None
        and (abs(s.summary.mean - cut_at) <= points or (s.rank <= accept) != (s.z_rank <= accept))
    ]
    return cut_at, near

"""The reviewer assignment, a pure function: properties checked with hypothesis."""

from __future__ import annotations

import itertools
import random
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.services.assignment import Reviewer, assign_reviewers, load_spread
from bot.services.taxonomy import STAKEHOLDER_GROUPS


@st.composite
def instances(draw, max_proposals: int = 4, max_members: int = 4, max_per: int = 3):
    proposals = list(range(1, draw(st.integers(1, max_proposals)) + 1))
    members = [
        Reviewer(100 + i, draw(st.sampled_from(STAKEHOLDER_GROUPS[:3])))
        for i in range(draw(st.integers(1, max_members)))
    ]
    pairs = [(p, m.user_id) for p in proposals for m in members]
    conflicts = draw(st.sets(st.sampled_from(pairs))) if pairs else set()
    existing = draw(st.sets(st.sampled_from(pairs))) if pairs else set()
    per = draw(st.integers(0, max_per))
    return proposals, members, conflicts, existing, per


def best_spread(proposals, members, conflicts, per) -> tuple[int, int]:
    """Return the smallest achievable (max load, spread), by trying every assignment."""
    ids = [m.user_id for m in members]
    options = []
    for p in proposals:
        eligible = [m for m in ids if (p, m) not in conflicts]
        options.append(list(itertools.combinations(eligible, min(per, len(eligible)))))
    best_max, best_spread_ = 10**9, 10**9
    for choice in itertools.product(*options):
        loads = Counter(m for chosen in choice for m in chosen)
        values = [loads.get(m, 0) for m in ids]
        best_max = min(best_max, max(values))
        best_spread_ = min(best_spread_, max(values) - min(values))
    return best_max, best_spread_


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_the_assignment_is_valid_and_as_even_as_possible(instance) -> None:
    proposals, members, conflicts, existing, per = instance
    plan = assign_reviewers(proposals, members, conflicts, existing, per)
    ids = [m.user_id for m in members]
    # Never a conflicted reviewer; each proposal gets as many as it can.
    assert not plan.assignments & set(conflicts)
    for p in proposals:
        eligible = sum(1 for m in ids if (p, m) not in conflicts)
        assert sum(1 for q, _ in plan.assignments if q == p) == min(per, eligible)
    # The loads are the most even achievable (brute force over every assignment).
    loads = plan.loads(ids).values()
    best_max, best = best_spread(proposals, members, conflicts, per)
    assert max(loads) == best_max
    assert load_spread(plan, ids) == best
    assert plan.kept == plan.assignments & frozenset(existing)
    assert plan.dropped == frozenset(existing) - plan.assignments


@settings(max_examples=150, deadline=None)
@given(instances(max_proposals=12, max_members=8, max_per=5), st.randoms())
def test_the_assignment_is_deterministic_and_stable(instance, rnd: random.Random) -> None:
    proposals, members, conflicts, existing, per = instance
    plan = assign_reviewers(proposals, members, conflicts, existing, per)
    shuffled = [list(x) for x in (proposals, members, conflicts, existing)]
    for items in shuffled:
        rnd.shuffle(items)
    again = assign_reviewers(*shuffled, per)  # type: ignore[arg-type]
    assert again.assignments == plan.assignments
    # Re-running on its own result changes nothing.
    rerun = assign_reviewers(proposals, members, conflicts, plan.assignments, per)
    assert rerun.assignments == plan.assignments and not rerun.added and not rerun.dropped


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 60),
    st.lists(st.sampled_from(STAKEHOLDER_GROUPS), min_size=1, max_size=30),
    st.integers(1, 8),
)
def test_without_conflicts_the_spread_is_at_most_one(proposals, groups, per) -> None:
    members = [Reviewer(100 + i, g) for i, g in enumerate(groups)]
    plan = assign_reviewers(range(1, proposals + 1), members, (), (), per)
    assert load_spread(plan, [m.user_id for m in members]) <= 1


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 40), st.integers(2, 6), st.integers(3, 6), st.randoms())
def test_three_groups_per_proposal_when_the_mag_allows(
    proposals, per_group, per, rnd: random.Random
) -> None:
    members = [
        Reviewer(100 + i * 10 + j, group)
        for i, group in enumerate(STAKEHOLDER_GROUPS)
        for j in range(per_group)
    ]
    # Some conflicts, but every proposal keeps reviewers from every group.
    conflicts = {
        (p, 100 + i * 10) for p in range(1, proposals + 1) for i in range(5) if rnd.random() < 0.3
    }
    plan = assign_reviewers(range(1, proposals + 1), members, conflicts, (), per)
    group_of = {m.user_id: m.group for m in members}
    for p in range(1, proposals + 1):
        groups = {group_of[m] for q, m in plan.assignments if q == p}
        assert len(groups) >= 3, (p, groups)
    assert not plan.few_groups
    # Nobody has more than one review above a member who could take any proposal.
    loads = plan.loads([m.user_id for m in members])
    free = [m for m in loads if not any(c == m for _, c in conflicts)]
    assert all(loads[m] <= loads[f] + 1 for m in loads for f in free)


def test_existing_assignments_are_kept_when_they_still_hold() -> None:
    members = [Reviewer(100 + i, g) for i, g in enumerate(STAKEHOLDER_GROUPS)]
    first = assign_reviewers(range(1, 11), members, (), (), 3)
    # A member declares a conflict on one of theirs; a proposal is withdrawn.
    p, m = min(first.assignments)
    conflicts = {(p, m)}
    second = assign_reviewers(range(1, 10), members, conflicts, first.assignments, 3)
    assert (p, m) in second.dropped and not second.assignments & conflicts
    assert {(10, m2) for q, m2 in first.assignments if q == 10} <= second.dropped
    assert len(second.kept) >= len(first.assignments) - 3 - 1 - 2
    assert load_spread(second, [r.user_id for r in members]) <= 1


def test_too_few_members_are_reported() -> None:
    members = [Reviewer(1, "Government"), Reviewer(2, "Government")]
    plan = assign_reviewers([1, 2], members, {(2, 1)}, (), 3)
    assert plan.short == {1: 1, 2: 2}
    assert plan.few_groups == {1: 1}  # proposal 2 has one reviewer: one group is all it can have
    assert plan.assignments == {(1, 1), (1, 2), (2, 2)}


def test_nothing_to_do() -> None:
    plan = assign_reviewers([], [], (), {(1, 1)}, 3)
    assert plan.assignments == frozenset() and plan.dropped == {(1, 1)}


def test_a_realistic_cycle_is_fast_and_even() -> None:
    rnd = random.Random(7)
    members = [Reviewer(1000 + i, STAKEHOLDER_GROUPS[i % 5]) for i in range(45)]
    proposals = list(range(1, 401))
    conflicts = {(p, rnd.choice(members).user_id) for p in proposals for _ in range(2)}
    plan = assign_reviewers(proposals, members, conflicts, (), 8)
    assert len(plan.assignments) == 400 * 8
    assert load_spread(plan, [m.user_id for m in members]) <= 1
    assert not plan.few_groups

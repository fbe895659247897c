"""Who reviews what: a pure, deterministic assignment of MAG reviewers to proposals.

``assign_reviewers`` never gives a proposal to a conflicted member, gives each
proposal ``per_proposal`` reviewers (or every eligible member when there are
fewer), balances the load, prefers reviewers from at least ``min_groups``
stakeholder groups per proposal, and keeps the existing assignments that
still hold.

How the load is balanced: a greedy pass gives each proposal its least-loaded
eligible members, then a repair pass moves one review at a time along an
alternating path (proposal p goes from member u to w, w gives up q to x, ...)
from a member with load L to one with load L - 2 or less, until no such path
exists. The achievable load vectors form an M-convex set, in which a vector
with no such exchange is the most even one possible (Frank and Murota,
"decreasingly minimal" bases): when loads differing by at most one can be
reached at all, this reaches them. Stakeholder-group swaps afterwards only
exchange equal loads, so they never undo the balance.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

Pair = tuple[int, int]  # (proposal id, member user id)


@dataclass(frozen=True, order=True)
class Reviewer:
    """A MAG member who can be given proposals, with their stakeholder group."""

    user_id: int
    group: str = ""


@dataclass(frozen=True)
class AssignmentPlan:
    """The result: every assignment, and how it differs from what existed."""

    assignments: frozenset[Pair]
    kept: frozenset[Pair]
    added: frozenset[Pair]
    dropped: frozenset[Pair]
    # Proposals that got fewer than asked (too few members without a conflict).
    short: dict[int, int]
    # Proposals whose reviewers come from fewer stakeholder groups than wanted.
    few_groups: dict[int, int]

    def loads(self, members: Iterable[int]) -> dict[int, int]:
        """Return how many proposals each member has."""
        counts = Counter(m for _, m in self.assignments)
        return {m: counts.get(m, 0) for m in members}


class _State:
    """Assignments under construction, with loads and group counts kept in step."""

    def __init__(self, reviewers: list[Reviewer], proposals: list[int]) -> None:
        self.group = {r.user_id: r.group for r in reviewers}
        self.load = {r.user_id: 0 for r in reviewers}
        self.on: dict[int, set[int]] = {p: set() for p in proposals}  # proposal -> members
        self.has: dict[int, set[int]] = {r.user_id: set() for r in reviewers}  # member -> proposals
        self.groups: dict[int, Counter[str]] = {p: Counter() for p in proposals}
        self.kept: set[Pair] = set()
        self.order = sorted(self.load)

    def add(self, p: int, m: int) -> None:
        self.on[p].add(m)
        self.has[m].add(p)
        self.load[m] += 1
        self.groups[p][self.group[m]] += 1

    def remove(self, p: int, m: int) -> None:
        self.on[p].discard(m)
        self.has[m].discard(p)
        self.load[m] -= 1
        self.groups[p][self.group[m]] -= 1
        if not self.groups[p][self.group[m]]:
            del self.groups[p][self.group[m]]

    def move(self, p: int, src: int, dst: int) -> None:
        self.remove(p, src)
        self.add(p, dst)
        self.kept.discard((p, src))


def assign_reviewers(
    proposals: Collection[int],
    members: Collection[Reviewer],
    conflicts: Collection[Pair],
    existing: Collection[Pair],
    per_proposal: int,
    *,
    min_groups: int = 3,
) -> AssignmentPlan:
    """Return the assignment of ``members`` to ``proposals`` (pure; same input, same output)."""
    if per_proposal < 0:
        raise ValueError("per_proposal must be 0 or more")
    reviewers = sorted({r.user_id: r for r in members}.values())
    props = sorted(set(proposals))
    member_ids = {r.user_id for r in reviewers}
    conflicted = set(conflicts)
    state = _State(reviewers, props)
    eligible = {
        p: [r.user_id for r in reviewers if (p, r.user_id) not in conflicted] for p in props
    }
    demand = {p: min(per_proposal, len(eligible[p])) for p in props}
    reachable_groups = {p: len({state.group[m] for m in eligible[p]}) for p in props}
    want_groups = {p: min(min_groups, reachable_groups[p], demand[p]) for p in props}

    # 1. Keep what still holds: a live proposal, a member, no conflict, room left.
    for p, m in sorted(set(existing)):
        holds = p in state.on and m in member_ids and (p, m) not in conflicted
        if holds and len(state.on[p]) < demand[p]:
            state.add(p, m)
            state.kept.add((p, m))

    # 2. Greedy: the most constrained proposals first, each to its least-loaded members.
    for p in sorted(props, key=lambda p: (len(eligible[p]), p)):
        while len(state.on[p]) < demand[p]:
            best = min(
                (m for m in eligible[p] if m not in state.on[p]),
                key=lambda m: (state.load[m], state.group[m] in state.groups[p], m),
            )
            state.add(p, best)

    # 3. Even out the loads along alternating paths.
    _balance(state, eligible, conflicted)

    # 4. More stakeholder groups per proposal, by moves that keep the loads.
    _diversify(state, props, eligible, conflicted, want_groups)

    final = frozenset((p, m) for p in props for m in state.on[p])
    before = frozenset(existing)
    return AssignmentPlan(
        assignments=final,
        kept=frozenset(final & before),
        added=frozenset(final - before),
        dropped=frozenset(before - final),
        short={p: per_proposal - demand[p] for p in props if demand[p] < per_proposal},
        few_groups={
            p: len(state.groups[p])
            for p in props
            if len(state.groups[p]) < min(min_groups, demand[p])
        },
    )


def _path(
    state: _State, source: int, conflicted: set[Pair], allow_kept: bool
) -> list[tuple[int, int, int]] | None:
    """Return moves (proposal, from, to) taking one review from ``source`` to a member
    with a load at least two lower, or None."""
    limit = state.load[source] - 2
    parent: dict[int, tuple[int, int]] = {}  # member -> (previous member, proposal)
    seen = {source}
    queue = deque([source])
    found: int | None = None
    while queue:
        u = queue.popleft()
        for p in sorted(state.has[u]):
            if not allow_kept and (p, u) in state.kept:
                continue
            for w in state.order:
                if w in seen or w in state.on[p] or (p, w) in conflicted:
                    continue
                seen.add(w)
                parent[w] = (u, p)
                if state.load[w] <= limit and (
                    found is None or (state.load[w], w) < (state.load[found], found)
                ):
                    found = w
                queue.append(w)
    if found is None:
        return None
    moves = []
    w = found
    while w != source:
        u, p = parent[w]
        moves.append((p, u, w))
        w = u
    return list(reversed(moves))


def _balance(state: _State, eligible: dict[int, list[int]], conflicted: set[Pair]) -> None:
    if not state.load:
        return
    while max(state.load.values()) - min(state.load.values()) > 1:
        improved = False
        for source in sorted(state.load, key=lambda m: (-state.load[m], m)):
            if state.load[source] - min(state.load.values()) < 2:
                break
            moves = _path(state, source, conflicted, allow_kept=False) or _path(
                state, source, conflicted, allow_kept=True
            )
            if moves:
                for p, src, dst in moves:
                    state.move(p, src, dst)
                improved = True
                break
        if not improved:
            return


def _diversify(
    state: _State,
    props: list[int],
    eligible: dict[int, list[int]],
    conflicted: set[Pair],
    want: dict[int, int],
) -> None:
    def deficit(p: int) -> int:
        return max(0, want[p] - len(state.groups[p]))

    changed = True
    while changed:
        changed = False
        for p in props:
            if not deficit(p):
                continue
            if _add_group(state, p, eligible, conflicted, deficit):
                changed = True


def _add_group(
    state: _State,
    p: int,
    eligible: dict[int, list[int]],
    conflicted: set[Pair],
    deficit: Callable[[int], int],
) -> bool:
    """Bring one more stakeholder group onto ``p`` without changing the loads; say if done."""
    present = state.groups[p]
    # Members whose group is on p more than once can leave without losing a group.
    spare = sorted(
        (m for m in state.on[p] if present[state.group[m]] > 1),
        key=lambda m: ((p, m) in state.kept, -state.load[m], m),
    )
    newcomers = sorted(
        (m for m in eligible[p] if m not in state.on[p] and state.group[m] not in present),
        key=lambda m: (state.load[m], m),
    )
    for b in newcomers:
        for a in spare:
            if state.load[a] == state.load[b] + 1:
                state.move(p, a, b)  # the two loads swap: the same multiset
                return True
            # Otherwise swap: b hands one of theirs (q) to a, a hands p to b.
            for q in sorted(state.has[b]):
                if q == p or a in state.on[q] or (q, a) in conflicted:
                    continue
                before = deficit(q)
                was_kept = (q, b) in state.kept
                state.move(q, b, a)
                if deficit(q) <= before:
                    state.move(p, a, b)
                    return True
                state.move(q, a, b)  # undo
                if was_kept:
                    state.kept.add((q, b))
    return False


def load_spread(plan: AssignmentPlan, members: Iterable[int]) -> int:
    """Return the difference between the most and the least loaded member."""
    loads = list(plan.loads(members).values())
    return max(loads) - min(loads) if loads else 0

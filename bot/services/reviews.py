"""MAG evaluation: scores, conflicts of interest, reviewer assignment, queue and results."""

from __future__ import annotations

import math
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import ConfirmationNeeded, Conflict, InvalidInput, PermissionDenied
from bot.i18n import N_, SOURCE, _, current, ngettext
from bot.services.assignment import AssignmentPlan, Reviewer, assign_reviewers
from bot.services.auth import Actor, require_mag, require_secretariat
from bot.services.config import ConfigService
from bot.services.outbox import AssignedNotice, Post
from bot.services.proposals import (
    EVALUATION_TABLES,
    STATUS_LABELS,
    DeadlinePassed,
    ProposalRef,
    check_status,
    label_of,
    load_proposal,
    no_deadlines,
    ref_of,
    target_of,
)
from bot.services.scoring import (
    ScoreSummary,
    Standing,
    borderline,
    find_conflicts,
    find_suspected,
    standings,
)
from bot.services.sending import OutboxService, nonce_of
from bot.services.sending import ref_of as outbox_ref
from bot.services.taxonomy import (
    ACTIVE_PARTICIPATION,
    CLOSED_TO_REVIEW,
    SCORED_KINDS,
    match,
    proposal_label,
    tidy_block,
)
from storage.audit import record_event
from storage.database import Database
from storage.deadlines import latest_due
from storage.outbox import NewItem, OutboxItem, enqueue, user_lane
from storage.profiles import list_members
from storage.proposals import Proposal, ProposalBrief, list_proposals, proposals_by_ids
from storage.reviews import (
    DECLARED,
    LINKED_ON_IT,
    NOMINATED,
    ON_IT,
    SAME_AS_ORGANIZER,
    SAME_AS_PROPOSER,
    SUBMITTED_IT,
    add_assignments,
    add_conflict,
    assigned_unreviewed,
    conflict_of,
    delete_review,
    dismiss_conflict,
    list_assignments,
    open_round,
    ranked_page,
    ranked_scores,
    remove_assignments,
    review_progress,
    reviewed_pairs,
    round_pairs,
    save_review,
    scores_for_pairs,
    withdraw_conflict,
)

MIN_SCORE: Final = 1
MAX_SCORE: Final = 5
MAX_COMMENT: Final = 2000
MAX_PER_PROPOSAL: Final = 25
RESULTS_PAGE_SIZE: Final = 15
# A score of these proposals is refused.
CLOSED: Final = frozenset({"withdrawn", "screened_out"})
ASSIGNED: Final = "review-assigned"  # the outbox kind of a reviewer's assignment DM
# The language a member reads their direct messages in: (user_id, guild_id) -> code.
PersonLanguage = Callable[[int, int], Awaitable[str]]
# Proposals that get reviewers and appear in the results by default.
REVIEWABLE: Final = ("submitted", "under_review")
RANKED: Final = (
    "submitted",
    "under_review",
    "accepted",
    "conditional",
    "waitlisted",
    "rejected",
    "merged",
)
SCORE_LABELS: Final = {
    1: N_("serious problems"),
    2: N_("should not be accepted"),
    3: N_("borderline"),
    4: N_("could be accepted"),
    5: N_("must be accepted"),
}
# A conflict's reason (as ``storage.reviews`` names it), addressed to the member:
# "you ..." is said around it.
_REASONS_TO_YOU: Final = {
    DECLARED: N_("declared"),
    SUBMITTED_IT: N_("submitted it"),
    ON_IT: N_("are on it"),
    NOMINATED: N_("were nominated to it"),
    LINKED_ON_IT: N_("are linked to a person on it"),
    SAME_AS_ORGANIZER: N_("share an affiliation with its organizers"),
    SAME_AS_PROPOSER: N_("share an affiliation with its proposer"),
}


@dataclass(frozen=True)
class ScoreResult:
    """A stored score, the one it replaced, and any conflict the data suggests."""

    proposal: ProposalRef
    score: int
    comment: str | None
    merge: bool
    replaced_score: int | None
    # Why the data suggests a conflict nobody confirmed (the score counts meanwhile).
    suspected: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """Return the proposal's display number."""
        return self.proposal.label


@dataclass(frozen=True)
class ConflictResult:
    """A declared conflict and what it changed."""

    proposal: ProposalRef
    unassigned: bool
    score_excluded: bool


@dataclass(frozen=True)
class QueueItem:
    """A proposal in a member's queue, with any conflict the data suggests."""

    proposal: ProposalRef
    suspected: tuple[str, ...] = ()


@dataclass(frozen=True)
class SuspectedConflict:
    """A conflict the data suggests, waiting for the member or the secretariat."""

    proposal: ProposalRef
    member_id: int
    reasons: tuple[str, ...]
    score: int | None  # their score, which counts until the conflict is confirmed


@dataclass(frozen=True)
class ConflictDecision:
    """What the secretariat decided about a suspected conflict."""

    proposal: ProposalRef
    member_id: int
    conflict: bool
    score_excluded: bool


@dataclass(frozen=True)
class AssignResult:
    """What ``/review assign`` did."""

    plan: AssignmentPlan
    proposals: int
    members: int
    per_proposal: int
    labels: dict[int, str]  # proposal id -> display number, for messages

    @property
    def load_range(self) -> tuple[int, int]:
        """Return the smallest and largest number of proposals a member has."""
        loads = list(self.plan.loads({m for _proposal, m in self.plan.assignments}).values())
        if self.members > len(loads):
            loads.append(0)
        return (min(loads), max(loads)) if loads else (0, 0)


@dataclass(frozen=True)
class ReviewerProgress:
    """One reviewer's progress on their open assignments, for the secretariat."""

    member_id: int
    assigned: int
    scored: int
    conflicted: int
    has_profile: bool

    @property
    def to_score(self) -> int:
        return max(0, self.assigned - self.scored - self.conflicted)

    @property
    def started(self) -> bool:
        return self.scored > 0


@dataclass(frozen=True)
class ProgressReport:
    """Every reviewer's progress, and when the reviews close (None: no reviews deadline)."""

    reviewers: tuple[ReviewerProgress, ...]
    closes_at: datetime | None

    @property
    def assigned(self) -> int:
        return sum(r.assigned for r in self.reviewers)

    @property
    def scored(self) -> int:
        return sum(r.scored for r in self.reviewers)

    @property
    def not_started(self) -> tuple[ReviewerProgress, ...]:
        return tuple(r for r in self.reviewers if not r.started and r.to_score)

    @property
    def without_profile(self) -> tuple[ReviewerProgress, ...]:
        return tuple(r for r in self.reviewers if not r.has_profile)


@dataclass(frozen=True)
class BorderRow:
    """A proposal near the cut: raw and normalised standing side by side."""

    proposal: ProposalBrief
    standing: Standing

    @property
    def label(self) -> str:
        return proposal_label(self.proposal.kind, self.proposal.number)


@dataclass(frozen=True)
class BorderlineReport:
    """The cut for ``accept`` workshops and the proposals close to it, for the MAG meeting."""

    accept: int
    ranked: int  # workshops ranked
    cut: float | None  # the raw mean of the accept-th (None: not enough scores)
    points: float  # the band's half width, in points of the raw mean
    rows: tuple[BorderRow, ...]


@dataclass(frozen=True)
class ResultsPage:
    """One page of the ranking."""

    rows: list[ResultRow]
    total: int
    page: int  # from 0
    pages: int
    subtheme: str | None = None  # the subtheme filter, as the server spells it


@dataclass(frozen=True)
class ResultRow:
    """One line of the results: a proposal and its scores."""

    rank: int
    proposal: ProposalBrief
    summary: ScoreSummary

    @property
    def label(self) -> str:
        """Return the proposal's display number."""
        return proposal_label(self.proposal.kind, self.proposal.number)


class ReviewService:
    """Scores, conflicts, assignments, queues and results."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        config: ConfigService,
        deadline_passed: DeadlinePassed = no_deadlines,
        *,
        outbox: OutboxService | None = None,
        person_language: PersonLanguage | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._config = config
        self.outbox = outbox
        self._person_language = person_language
        if outbox is not None:
            outbox.register(ASSIGNED, self._prepare_assigned)
        self._deadline_passed = deadline_passed

    async def score(
        self,
        actor: Actor,
        number: int,
        score: int,
        comment: str | None = None,
        *,
        merge: bool = False,
    ) -> ScoreResult:
        """Store the member's score of a proposal, replacing their earlier one."""
        require_mag(actor)
        if not MIN_SCORE <= score <= MAX_SCORE:
            raise InvalidInput(
                _("A score goes from {lowest} to {highest}.", lowest=MIN_SCORE, highest=MAX_SCORE)
            )
        settings = await self._config.get(actor.guild_id)
        text = tidy_block(comment) or None
        if text is not None and len(text) > MAX_COMMENT:
            raise InvalidInput(
                ngettext(
                    "A comment can be at most {n} character (yours has {length}).",
                    "A comment can be at most {n} characters (yours has {length}).",
                    MAX_COMMENT,
                    length=len(text),
                )
            )
        needs_comment = int(settings.rule("reviews.comment_required_max_score"))
        if text is None and score <= needs_comment:
            raise InvalidInput(
                _(
                    "A score of {score} or less needs a comment saying why. "
                    "Add `comment:` and score again.",
                    score=needs_comment,
                )
            )
        now = self._clock()
        if await self._deadline_passed(actor.guild_id, "reviews", now):
            raise Conflict(_("The review deadline has passed: scores can no longer be changed."))
        async with self._db.write() as session:
            proposal = await load_proposal(session, actor.guild_id, number)
            assert proposal.id is not None
            if proposal.kind not in SCORED_KINDS:
                raise Conflict(
                    _(
                        "{proposal} is not a workshop: the MAG scores workshops.",
                        proposal=label_of(proposal),
                    )
                )
            if proposal.status in CLOSED:
                raise Conflict(
                    _(
                        "{proposal} is {status}: it is not scored.",
                        proposal=label_of(proposal),
                        status=_(STATUS_LABELS[proposal.status]),
                    )
                )
            await _check_round(session, proposal, now)
            conflicts = await find_conflicts(
                session,
                guild_id=actor.guild_id,
                proposal_ids=[proposal.id],
                member_ids=[actor.user_id],
            )
            reason = conflicts.get((proposal.id, actor.user_id))
            if reason is not None:
                why = (
                    _("you declared a conflict")
                    if reason == DECLARED
                    else _("you {reason}", reason=_you(reason))
                )
                raise Conflict(
                    _(
                        "You have a conflict of interest on {proposal} ({why}): "
                        "your score would not count, so it is not taken.",
                        proposal=label_of(proposal),
                        why=why,
                    )
                )
            suspected = await find_suspected(
                session, guild_id=actor.guild_id, member_ids=[actor.user_id]
            )
            review, replaced = await save_review(
                session,
                guild_id=actor.guild_id,
                proposal_id=proposal.id,
                member_id=actor.user_id,
                score=score,
                comment=text,
                merge=merge,
                at=now,
            )
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="review.score",
                target=target_of(proposal),
                before=replaced,
                after={"score": score, "comment": text, "merge": merge},
                at=now,
            )
        return ScoreResult(
            proposal=ref_of(proposal),
            score=review.score,
            comment=review.comment,
            merge=review.merge,
            replaced_score=None if replaced is None else int(replaced["score"]),
            suspected=tuple(_you(r) for r in suspected.get((proposal.id, actor.user_id), ())),
        )

    async def withdraw(self, actor: Actor, number: int, what: str) -> str:
        """Withdraw the member's own score, or the conflict they declared, while reviews are open.

        ``what`` is ``score`` or ``conflict``. Audited. A conflict the
        secretariat decided stays (it is theirs to change); withdrawing a
        declared conflict does not assign the proposal again: the next
        ``/review assign`` may.
        """
        require_mag(actor)
        if what not in ("score", "conflict"):
            raise InvalidInput(_("Say what to withdraw: your score or your conflict."))
        now = self._clock()
        if await self._deadline_passed(actor.guild_id, "reviews", now):
            raise Conflict(_("The review deadline has passed: scores can no longer be changed."))
        async with self._db.write() as session:
            proposal = await load_proposal(session, actor.guild_id, number)
            assert proposal.id is not None
            await _check_round(session, proposal, now)
            if what == "score":
                removed = await delete_review(
                    session,
                    guild_id=actor.guild_id,
                    proposal_id=proposal.id,
                    member_id=actor.user_id,
                )
                if removed is None:
                    raise Conflict(
                        _("You have not scored {proposal}.", proposal=label_of(proposal))
                    )
                before: dict[str, object] = {"score": removed.score, "comment": removed.comment}
            else:
                declared = await conflict_of(
                    session,
                    guild_id=actor.guild_id,
                    proposal_id=proposal.id,
                    member_id=actor.user_id,
                )
                if declared is None:
                    raise Conflict(
                        _(
                            "You declared no conflict on {proposal}.",
                            proposal=label_of(proposal),
                        )
                    )
                if declared.source != "member":
                    raise PermissionDenied(
                        _(
                            "The secretariat decided this conflict: ask them to change it.",
                        )
                    )
                await withdraw_conflict(
                    session,
                    guild_id=actor.guild_id,
                    proposal_id=proposal.id,
                    member_id=actor.user_id,
                )
                before = {"conflict": declared.reason}
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action=f"review.withdraw_{what}",
                target=target_of(proposal),
                before=before,
                at=now,
            )
        return label_of(proposal)

    async def declare_conflict(
        self, actor: Actor, number: int, reason: str | None = None
    ) -> ConflictResult:
        """Declare a conflict of interest: off the member's queue, their score stops counting."""
        require_mag(actor)
        text = tidy_block(reason)[:500] or None
        now = self._clock()
        async with self._db.write() as session:
            proposal = await load_proposal(session, actor.guild_id, number)
            assert proposal.id is not None
            added = await add_conflict(
                session,
                guild_id=actor.guild_id,
                proposal_id=proposal.id,
                member_id=actor.user_id,
                reason=text,
                at=now,
            )
            if not added:
                raise Conflict(
                    _(
                        "You already declared a conflict on {proposal}.",
                        proposal=label_of(proposal),
                    )
                )
            pair = (proposal.id, actor.user_id)
            unassigned = await remove_assignments(session, guild_id=actor.guild_id, pairs=[pair])
            scored = pair in await reviewed_pairs(
                session, guild_id=actor.guild_id, member_id=actor.user_id
            )
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="review.conflict",
                target=target_of(proposal),
                after={"unassigned": bool(unassigned), "score_excluded": scored},
                note=text,
                at=now,
            )
        return ConflictResult(ref_of(proposal), bool(unassigned), scored)

    async def assign(
        self, actor: Actor, per_proposal: int, *, confirmed: bool = False
    ) -> AssignResult:
        """Give each reviewable workshop ``per_proposal`` reviewers (see ``assign_reviewers``).

        A bulk change: unless ``confirmed``, a plan that adds or removes
        assignments raises ``ConfirmationNeeded`` with its counts.
        """
        require_secretariat(actor)
        if not 1 <= per_proposal <= MAX_PER_PROPOSAL:
            raise InvalidInput(
                ngettext(
                    "Give between 1 and {n} reviewer per proposal.",
                    "Give between 1 and {n} reviewers per proposal.",
                    MAX_PER_PROPOSAL,
                )
            )
        settings = await self._config.get(actor.guild_id)
        now = self._clock()
        async with self._db.write() as session:
            proposals = await list_proposals(
                session, guild_id=actor.guild_id, statuses=REVIEWABLE, kinds=SCORED_KINDS
            )
            if not proposals:
                raise Conflict(_("No workshop is submitted or under review: nothing to assign."))
            members = await list_members(session, guild_id=actor.guild_id, current_only=True)
            if not members:
                raise Conflict(
                    _(
                        "No MAG member with the MAG role has a profile yet, so nobody can be "
                        "assigned. Ask MAG members to run `/profile set`."
                    )
                )
            # Conflicts that count are avoided, and a person confirmed as the
            # member being on it; not what a proposer typed (a named account,
            # an affiliation): typing a MAG member's name must not choose who
            # reviews one's proposal.
            suspected = await find_suspected(session, guild_id=actor.guild_id)
            conflicts = {
                **await find_conflicts(session, guild_id=actor.guild_id),
                **{pair: why for pair, why in suspected.items() if LINKED_ON_IT in why},
            }
            existing = await list_assignments(session, guild_id=actor.guild_id)
            plan = assign_reviewers(
                [p.id for p in proposals if p.id is not None],
                [Reviewer(m.user_id, m.stakeholder_group) for m in members],
                conflicts.keys(),
                existing,
                per_proposal,
                min_groups=int(settings.rule("reviews.min_stakeholder_groups")),
            )
            if not confirmed and (plan.added or plan.dropped):
                raise ConfirmationNeeded(
                    _(
                        "Assigning {per_proposal} reviewer(s) to each of {proposals} workshops "
                        "among {members} MAG members will add {added} assignment(s), "
                        "remove {dropped} and keep {kept}.",
                        per_proposal=per_proposal,
                        proposals=len(proposals),
                        members=len(members),
                        added=len(plan.added),
                        dropped=len(plan.dropped),
                        kept=len(plan.kept),
                    )
                )
            await remove_assignments(session, guild_id=actor.guild_id, pairs=plan.dropped)
            await add_assignments(session, guild_id=actor.guild_id, pairs=plan.added, at=now)
            notified = await self._notify_assigned(session, actor.guild_id, plan.added, now)
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="review.assign",
                target="reviews",
                after={
                    "per_proposal": per_proposal,
                    "proposals": len(proposals),
                    "members": len(members),
                    "kept": len(plan.kept),
                    "added": len(plan.added),
                    "dropped": len(plan.dropped),
                },
                at=now,
            )
        if notified and self.outbox is not None:
            self.outbox.queued(now)
        labels = {p.id: label_of(p) for p in proposals if p.id is not None}
        return AssignResult(plan, len(proposals), len(members), per_proposal, labels)

    async def _notify_assigned(
        self, session: AsyncSession, guild_id: int, added: Iterable[tuple[int, int]], now: datetime
    ) -> int:
        """Queue one DM per member this run gave proposals to: sent once, through the outbox."""
        if self.outbox is None:
            return 0
        per_member = Counter(member for _proposal, member in added)
        if not per_member:
            return 0
        closes_at = await latest_due(session, guild_id=guild_id, kind="reviews")
        # One key per run: the rows are written once, in the run's own transaction.
        run = secrets.token_hex(6)
        items = [
            NewItem(
                guild_id=guild_id,
                key=f"{ASSIGNED}:{guild_id}:{member}:{run}",
                kind=ASSIGNED,
                lane=user_lane(member),
                due_at=now,
                payload={
                    "added": count,
                    "closes_at": closes_at.isoformat() if closes_at else None,
                },
            )
            for member, count in sorted(per_member.items())
        ]
        return await enqueue(session, items=items, now=now)

    async def _prepare_assigned(self, items: Sequence[OutboxItem]) -> Post:
        item = items[0]
        user_id = int(item.lane[2:])
        async with self._db.read() as session:
            mine = await review_progress(
                session, guild_id=item.guild_id, closed=CLOSED, member_id=user_id
            )
        to_score = mine[0].to_score if mine else int(item.payload.get("added", 0))
        language = SOURCE
        if self._person_language is not None:
            language = await self._person_language(user_id, item.guild_id)
        closes = item.payload.get("closes_at")
        return AssignedNotice(
            guild_id=item.guild_id,
            user_id=user_id,
            nonce=nonce_of(item),
            ref=outbox_ref(item),
            added=int(item.payload.get("added", 0)),
            to_score=to_score,
            closes_at=datetime.fromisoformat(str(closes)) if closes else None,
            language=language,
        )

    async def queue(self, actor: Actor) -> list[QueueItem]:
        """Return the member's assigned proposals still to score (conflicted ones left out).

        A proposal the data suggests a conflict on stays, marked with why, so
        the member can declare it (or score: the secretariat decides).
        """
        require_mag(actor)
        key = ("review queue", actor.guild_id, current(), actor.user_id)
        now = self._clock()
        kept = self._db.reads.get(
            key, lambda: self._queue(actor, now), now=now, tables=EVALUATION_TABLES
        )
        return list(await kept)

    async def _queue(self, actor: Actor, now: datetime) -> tuple[QueueItem, ...]:
        async with self._db.read() as session:
            current = await open_round(session, guild_id=actor.guild_id, now=now)
            if current is not None:
                # A later round: what is left to score again, since it opened.
                pairs = await round_pairs(
                    session,
                    guild_id=actor.guild_id,
                    proposal_ids=current.proposal_ids,
                    since=current.opened_at,
                    closed=CLOSED_TO_REVIEW,
                    member_id=actor.user_id,
                )
                pending = [p for _m, p, done in pairs if not done]
                found = await proposals_by_ids(session, guild_id=actor.guild_id, ids=pending)
                return tuple(QueueItem(ref_of(found[p]), ()) for p in pending if p in found)
            assigned = await assigned_unreviewed(
                session, guild_id=actor.guild_id, member_id=actor.user_id
            )
            ids = [p.id for p in assigned if p.id is not None]
            conflicts = await find_conflicts(
                session, guild_id=actor.guild_id, proposal_ids=ids, member_ids=[actor.user_id]
            )
            suspected = await find_suspected(
                session, guild_id=actor.guild_id, member_ids=[actor.user_id], proposal_ids=ids
            )
        return tuple(
            QueueItem(
                ref_of(p), tuple(_you(r) for r in suspected.get((p.id or 0, actor.user_id), ()))
            )
            for p in assigned
            if p.status not in CLOSED and (p.id, actor.user_id) not in conflicts
        )

    async def progress(self, actor: Actor) -> ProgressReport:
        """Return every reviewer's progress (secretariat): scored, to score, not started."""
        require_secretariat(actor)
        async with self._db.read() as session:
            profiles = {m.user_id for m in await list_members(session, guild_id=actor.guild_id)}
            current = await open_round(session, guild_id=actor.guild_id, now=self._clock())
            if current is not None:
                # A later round: what each reviewer has scored again of theirs in it.
                pairs = await round_pairs(
                    session,
                    guild_id=actor.guild_id,
                    proposal_ids=current.proposal_ids,
                    since=current.opened_at,
                    closed=CLOSED_TO_REVIEW,
                )
                return ProgressReport(
                    reviewers=tuple(
                        ReviewerProgress(member, total, done, 0, member in profiles)
                        for member, total, done in _round_counts(pairs)
                    ),
                    closes_at=current.closes_at,
                )
            found = await review_progress(session, guild_id=actor.guild_id, closed=CLOSED)
            closes_at = await latest_due(session, guild_id=actor.guild_id, kind="reviews")
        return ProgressReport(
            reviewers=tuple(
                ReviewerProgress(
                    r.member_id, r.assigned, r.scored, r.conflicted, r.member_id in profiles
                )
                for r in found
            ),
            closes_at=closes_at,
        )

    async def my_progress(self, actor: Actor) -> tuple[ReviewerProgress | None, datetime | None]:
        """Return the member's own progress and when the reviews close (for their queue)."""
        require_mag(actor)
        key = ("review progress", actor.guild_id, current(), actor.user_id)
        now = self._clock()
        return await self._db.reads.get(
            key, lambda: self._my_progress(actor, now), now=now, tables=EVALUATION_TABLES
        )

    async def _my_progress(
        self, actor: Actor, now: datetime
    ) -> tuple[ReviewerProgress | None, datetime | None]:
        async with self._db.read() as session:
            current = await open_round(session, guild_id=actor.guild_id, now=now)
            if current is not None:
                pairs = await round_pairs(
                    session,
                    guild_id=actor.guild_id,
                    proposal_ids=current.proposal_ids,
                    since=current.opened_at,
                    closed=CLOSED_TO_REVIEW,
                    member_id=actor.user_id,
                )
                counts = _round_counts(pairs)
                if not counts:
                    return None, current.closes_at
                member, total, done = counts[0]
                return ReviewerProgress(member, total, done, 0, True), current.closes_at
            found = await review_progress(
                session, guild_id=actor.guild_id, closed=CLOSED, member_id=actor.user_id
            )
            closes_at = await latest_due(session, guild_id=actor.guild_id, kind="reviews")
        mine = next(iter(found), None)
        if mine is None:
            return None, closes_at
        own = ReviewerProgress(mine.member_id, mine.assigned, mine.scored, mine.conflicted, True)
        return own, closes_at

    async def borderline(
        self, actor: Actor, accept: int, *, subtheme: str | None = None
    ) -> BorderlineReport:
        """Return the cut for ``accept`` workshops and the band around it (secretariat).

        The band: proposals whose raw mean is within ``reviews.borderline_tenths``
        tenths of a point of the cut, and those that cross the cut when each reviewer's scores
        are normalised (z-scores). Conflicted scores are left out of both.
        """
        require_secretariat(actor)
        if accept < 1:
            raise InvalidInput(_("Say how many workshops the programme takes: 1 or more."))
        settings = await self._config.get(actor.guild_id)
        if subtheme:
            subtheme = match(subtheme, settings.subthemes, _("subtheme of this server"))
        async with self._db.read() as session:
            briefs, scores = await ranked_scores(
                session,
                guild_id=actor.guild_id,
                statuses=RANKED,
                kinds=SCORED_KINDS,
                subtheme=subtheme or None,
            )
            conflicts = await find_conflicts(
                session, guild_id=actor.guild_id, proposal_ids=list(briefs)
            )
        counted = [(p, m, score) for p, m, score in scores if (p, m) not in conflicts]
        ranked = standings({p: b.number for p, b in briefs.items()}, counted)
        points = int(settings.rule("reviews.borderline_tenths")) / 10
        cut, near = borderline(ranked, accept, points)
        return BorderlineReport(
            accept=accept,
            ranked=len(ranked),
            cut=cut,
            points=points,
            rows=tuple(BorderRow(briefs[s.proposal_id], s) for s in near),
        )

    async def suspected(self, actor: Actor) -> list[SuspectedConflict]:
        """Return the conflicts the data suggests and nobody settled yet (secretariat)."""
        require_secretariat(actor)
        async with self._db.read() as session:
            found = await find_suspected(session, guild_id=actor.guild_id)
            ids = sorted({p for p, _member in found})
            proposals = await proposals_by_ids(session, guild_id=actor.guild_id, ids=ids)
            scores = {
                (p, m): score
                for p, m, score, _merge in await scores_for_pairs(
                    session, guild_id=actor.guild_id, pairs=found.keys()
                )
            }
        return [
            SuspectedConflict(ref_of(proposals[p]), m, reasons, scores.get((p, m)))
            for (p, m), reasons in found.items()
            if p in proposals
        ]

    async def decide_conflict(
        self, actor: Actor, number: int, member_id: int, *, conflict: bool, reason: str | None
    ) -> ConflictDecision:
        """Settle a suspected conflict (secretariat): confirm it (their score stops counting)
        or dismiss it (no longer suspected). Audited with the reason."""
        require_secretariat(actor)
        text = tidy_block(reason)[:500] or None
        if text is None:
            raise InvalidInput(_("Say why in `reason:`: the decision is kept in the audit."))
        now = self._clock()
        async with self._db.write() as session:
            proposal = await load_proposal(session, actor.guild_id, number)
            assert proposal.id is not None
            pair = (proposal.id, member_id)
            if conflict:
                added = await add_conflict(
                    session,
                    guild_id=actor.guild_id,
                    proposal_id=proposal.id,
                    member_id=member_id,
                    reason=text,
                    at=now,
                    source="secretariat",
                    decided_by=actor.user_id,
                )
                if not added:
                    raise Conflict(
                        _(
                            "That conflict on {proposal} is already recorded.",
                            proposal=label_of(proposal),
                        )
                    )
                await remove_assignments(session, guild_id=actor.guild_id, pairs=[pair])
            else:
                counted = await find_conflicts(
                    session,
                    guild_id=actor.guild_id,
                    proposal_ids=[proposal.id],
                    member_ids=[member_id],
                )
                if pair in counted:
                    raise Conflict(
                        _(
                            "{member}'s conflict on {proposal} is their own doing "
                            "({reason}): it cannot be dismissed.",
                            member=f"<@{member_id}>",
                            proposal=label_of(proposal),
                            reason=_you(counted[pair]),
                        )
                    )
                added = await dismiss_conflict(
                    session,
                    guild_id=actor.guild_id,
                    proposal_id=proposal.id,
                    member_id=member_id,
                    reason=text,
                    decided_by=actor.user_id,
                    at=now,
                )
                if not added:
                    raise Conflict(
                        _(
                            "That suspected conflict on {proposal} is already dismissed.",
                            proposal=label_of(proposal),
                        )
                    )
            scored = pair in await reviewed_pairs(
                session, guild_id=actor.guild_id, member_id=member_id
            )
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="review.conflict_decided",
                target=target_of(proposal),
                after={"member": member_id, "conflict": conflict, "scored": scored},
                note=text,
                at=now,
            )
        return ConflictDecision(ref_of(proposal), member_id, conflict, conflict and scored)

    async def results(
        self,
        actor: Actor,
        *,
        subtheme: str | None = None,
        status: str | None = None,
        page: int = 0,
        page_size: int = RESULTS_PAGE_SIZE,
    ) -> ResultsPage:
        """Return one page of the ranking (see ``storage.reviews.ranked_page``).

        Ranked by mean, then median, then number of scores (all descending),
        then proposal number; unscored proposals last; conflicted scores out.
        """
        require_secretariat(actor)
        statuses = [check_status(status)] if status else list(RANKED)
        if subtheme:
            settings = await self._config.get(actor.guild_id)
            subtheme = match(subtheme, settings.subthemes, _("subtheme of this server"))
        page = max(0, page)
        async with self._db.read() as session:
            found, total = await ranked_page(
                session,
                guild_id=actor.guild_id,
                active=ACTIVE_PARTICIPATION,
                statuses=statuses,
                subtheme=subtheme or None,
                kinds=SCORED_KINDS,
                offset=page * page_size,
                limit=page_size,
            )
            pages = max(1, math.ceil(total / page_size))
            if page >= pages and total:
                page = pages - 1
                found, total = await ranked_page(
                    session,
                    guild_id=actor.guild_id,
                    active=ACTIVE_PARTICIPATION,
                    statuses=statuses,
                    subtheme=subtheme or None,
                    kinds=SCORED_KINDS,
                    offset=page * page_size,
                    limit=page_size,
                )
        rows = [
            ResultRow(
                page * page_size + i + 1,
                r.proposal,
                ScoreSummary.from_histogram(r.histogram, r.excluded),
            )
            for i, r in enumerate(found)
        ]
        return ResultsPage(
            rows=rows, total=total, page=page, pages=pages, subtheme=subtheme or None
        )


def _you(reason: str) -> str:
    """Return a conflict's reason, addressed to the member ("you ..."), in the current language."""
    known = _REASONS_TO_YOU.get(reason)
    if known is not None:
        return _(known)
    return (
        reason.replace("shares an affiliation", "share an affiliation")
        .replace("is on it", "are on it")
        .replace("was nominated", "were nominated")
        .replace("is linked", "are linked")
    )


def _round_counts(pairs: Iterable[tuple[int, int, bool]]) -> list[tuple[int, int, int]]:
    """Return (member, assigned in the round, scored again), most behind first."""
    totals: Counter[int] = Counter()
    done: Counter[int] = Counter()
    for member, _proposal, again in pairs:
        totals[member] += 1
        done[member] += again
    return sorted(((m, totals[m], done[m]) for m in totals), key=lambda r: (r[2] - r[1], r[0]))


async def _check_round(session: AsyncSession, proposal: Proposal, now: datetime) -> None:
    """Refuse a change to a proposal outside the review round that is open (if any)."""
    current = await open_round(session, guild_id=proposal.guild_id, now=now)
    if current is not None and proposal.id not in current.proposal_ids:
        raise Conflict(
            _(
                "Round {number} of the reviews is open for the proposals near the cut "
                "only, and {proposal} is not one of them: `/review queue` lists yours.",
                number=current.number,
                proposal=label_of(proposal),
            )
        )

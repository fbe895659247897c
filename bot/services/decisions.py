"""Decisions as a batch: draft, look at the whole, publish once, then the confirm loop.

The secretariat drafts a decision per proposal (accepted, conditionally
accepted, waitlisted, rejected), chooses which review comments the proposer
is shown (``feedback``), looks at the drafts and their effect on programme
balance as a whole, and publishes them together. Publishing is one
transaction: every proposal's status, every audit event, every proposer's
notice (an outbox row keyed by the decision, so a decision is told once
whatever happens after), and the deadline by which accepted proposers
confirm their slot. Its reminders chase only the proposers who have not
confirmed, or not met their conditions (``chase_confirmations``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import ConfirmationNeeded, Conflict, InvalidInput, NotFound, PermissionDenied
from bot.i18n import SOURCE, _, ngettext, speaking
from bot.services.auth import Actor, require_secretariat
from bot.services.balance.guardrails import BalanceEffect, compare, record_effect
from bot.services.balance.reports import make_report
from bot.services.balance.scopes import programme_scope, programme_selection
from bot.services.config import ConfigService
from bot.services.deadlines import DeadlineService, DeadlineView, NewDeadline, parse_due
from bot.services.outbox import Chase, DecisionNotice, Feedback, Post, PostResult, PostStatus
from bot.services.proposals import (
    DECIDED,
    NAME_REVIEWERS,
    TRANSITIONS,
    ProposalRef,
    label_of,
    load_proposal,
    ref_of,
    reviewer_letter,
    status_label,
    target_of,
)
from bot.services.recurrence import to_utc
from bot.services.reminders import ChaseContext, PersonLanguage
from bot.services.sending import NOTICE, OutboxService, nonce_of
from bot.services.sending import ref_of as outbox_ref
from bot.services.taxonomy import proposal_label, tidy_block
from bot.services.text import quoted
from storage import decisions as store
from storage.audit import AuditEvent, record_event
from storage.balance import seat_counts
from storage.database import Database
from storage.decisions import ProposalDecision
from storage.outbox import NewItem, OutboxItem, channel_lane, enqueue, user_lane
from storage.proposals import IMPORTED_PROPOSER, Proposal
from storage.reviews import assignment_order, reviews_of

log = logging.getLogger(__name__)

NOTIFY: Final = "decision"  # the outbox kind of a proposer's decision DM
CONFIRMATIONS: Final = "confirmations"  # the deadline kind of slot confirmations
ACCEPTING: Final = frozenset({"accepted", "conditional"})
MAX_REASON: Final = 1000
MAX_CONDITIONS: Final = 1000
CONFIRM_DAYS: Final = "decisions.confirm_days"
MAX_LISTED: Final = 25  # chase lines naming proposals
CHUNK: Final = 250  # drafts published per statement


def outcome_label(outcome: str) -> str:
    """Return an outcome as people read it, in the current language."""
    return status_label(outcome)


def check_outcome(value: str) -> str:
    """Return the outcome ``value`` names (a key or its label), or raise InvalidInput."""
    key = value.strip().lower().replace(" ", "_")
    if key in DECIDED:
        return key
    for outcome in DECIDED:
        if value.strip().casefold() == outcome_label(outcome).casefold():
            return outcome
    raise InvalidInput(
        _(
            "{value} is not a decision. Use one of: {outcomes}.",
            value=quoted(value, 30),
            outcomes=", ".join(outcome_label(o) for o in DECIDED),
        )
    )


@dataclass(frozen=True)
class DraftView:
    """One drafted decision, as the secretariat reviews it."""

    proposal: ProposalRef
    outcome: str
    reason: str | None
    conditions: str | None
    conditions_due: datetime | None
    released: int  # comments released as feedback
    anonymise: bool
    problem: str | None = None  # why it cannot be published as it stands


@dataclass(frozen=True)
class DraftsReport:
    """Every draft, how many of each outcome, and their effect on balance together."""

    drafts: tuple[DraftView, ...]
    effect: BalanceEffect | None

    def counts(self) -> Counter[str]:
        """Return how many drafts decide each outcome."""
        return Counter(d.outcome for d in self.drafts)


@dataclass(frozen=True)
class FeedbackChoice:
    """A review comment the secretariat may release to the proposer."""

    letter: str
    member_id: int
    score: int
    comment: str
    released: bool


@dataclass(frozen=True)
class FeedbackView:
    """The comments of one proposal, and which are released with its decision."""

    proposal: ProposalRef
    outcome: str
    choices: tuple[FeedbackChoice, ...]
    anonymise: bool


@dataclass(frozen=True)
class PublishResult:
    """What publishing did."""

    published: Counter[str]
    skipped: tuple[tuple[str, str], ...]  # (label, why)
    confirm_by: datetime | None
    deadline_number: int | None
    effect: BalanceEffect | None
    no_channel: bool  # accepted proposers are not chased: no reminders channel

    @property
    def total(self) -> int:
        return sum(self.published.values())


@dataclass(frozen=True)
class SlotAnswer:
    """A proposer's confirmation of their slot."""

    proposal: ProposalRef
    already: bool
    conditions: str | None  # still to meet


@dataclass(frozen=True)
class DecisionStatus:
    """Published decisions: how many, who confirmed, who is waited on, who was not reached."""

    published: Counter[str]
    confirmed: int
    waiting: tuple[tuple[ProposalRef, bool, bool], ...]  # (proposal, confirmed, conditions met)
    unreached: tuple[tuple[ProposalRef, str], ...]
    drafts: int


def _check_text(text: str | None, limit: int, what: str) -> str | None:
    value = tidy_block(text) or None
    if value is not None and len(value) > limit:
        raise InvalidInput(
            _(
                "{what} can be at most {limit} characters (yours has {count}).",
                what=what,
                limit=limit,
                count=len(value),
            )
        )
    return value


def _letters(text: str) -> list[str]:
    return [part.upper() for part in re.split(r"[\s,;]+", text.strip()) if part]


class DecisionService:
    """Draft, publish and follow up decisions on proposals (the secretariat's)."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        config: ConfigService,
        deadlines: DeadlineService,
        outbox: OutboxService,
        *,
        person_language: PersonLanguage | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._config = config
        self._deadlines = deadlines
        self.outbox = outbox
        self._person_language = person_language
        outbox.register(NOTIFY, self._prepare, self._settled)

    # -- drafting ------------------------------------------------------------------

    async def draft(
        self,
        actor: Actor,
        number: int,
        outcome: str,
        reason: str | None = None,
        *,
        conditions: str | None = None,
        conditions_due: str | None = None,
    ) -> DraftView:
        """Draft (or redraft) the decision on proposal ``number``; nobody is told yet."""
        require_secretariat(actor)
        outcome = check_outcome(outcome)
        reason = _check_text(reason, MAX_REASON, _("A reason"))
        conditions = _check_text(conditions, MAX_CONDITIONS, _("The conditions"))
        if outcome == "conditional" and conditions is None:
            raise InvalidInput(
                _("Say what the proposer must fix with `conditions:` (and by when with `due:`).")
            )
        if outcome != "conditional" and (conditions or conditions_due):
            raise InvalidInput(_("Conditions go with a conditional acceptance only."))
        settings = await self._config.get(actor.guild_id)
        now = self._clock()
        due_at = None
        if conditions_due:
            due_at = to_utc(parse_due(conditions_due), ZoneInfo(settings.timezone))
            if due_at <= now:
                raise InvalidInput(_("That date has passed already: give a later one."))
        try:
            return await self._draft_in(actor, number, outcome, reason, conditions, due_at, now)
        except IntegrityError:
            # Two drafts of the same proposal at the same moment: one was stored.
            raise Conflict(
                _(
                    "Someone drafted a decision on #{number} at the same moment: try again.",
                    number=number,
                )
            ) from None

    async def _draft_in(
        self,
        actor: Actor,
        number: int,
        outcome: str,
        reason: str | None,
        conditions: str | None,
        due_at: datetime | None,
        now: datetime,
    ) -> DraftView:
        async with self._db.write() as session:
            # Locked: a publish at the same moment waits (it locks the same proposals).
            proposal = await load_proposal(session, actor.guild_id, number, for_update=True)
            assert proposal.id is not None
            problem = _transition_problem(proposal.status, outcome, proposal.kind, proposal.number)
            if problem is not None:
                raise Conflict(problem)
            row = await store.draft_for(session, guild_id=actor.guild_id, proposal_id=proposal.id)
            before = None if row is None else {"outcome": row.outcome}
            if row is None:
                row = ProposalDecision(
                    guild_id=actor.guild_id,
                    proposal_id=proposal.id,
                    draft_of=proposal.id,
                    outcome=outcome,
                    drafted_by=actor.user_id,
                    drafted_at=now,
                )
            row.outcome = outcome
            row.reason = reason
            row.conditions = conditions
            row.conditions_due = due_at
            row.drafted_by = actor.user_id
            row.drafted_at = now
            session.add(row)
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="decision.draft",
                target=target_of(proposal),
                before=before,
                after={"outcome": outcome, "conditions": conditions},
                note=reason[:500] if reason else None,
                at=now,
            )
            await session.flush()
            return DraftView(
                proposal=ref_of(proposal),
                outcome=row.outcome,
                reason=row.reason,
                conditions=row.conditions,
                conditions_due=row.conditions_due,
                released=len(row.released or ()),
                anonymise=row.anonymise,
            )

    async def discard(
        self, actor: Actor, number: int | None = None, *, confirmed: bool = False
    ) -> int:
        """Discard the draft on ``number`` (None: every draft, asked first); return how many."""
        require_secretariat(actor)
        if number is None and not confirmed:
            async with self._db.read() as session:
                count = await store.count_drafts(session, guild_id=actor.guild_id)
            if count:
                raise ConfirmationNeeded(
                    ngettext(
                        "{n} draft decision will be discarded.",
                        "All {n} draft decisions will be discarded.",
                        count,
                    )
                )
        async with self._db.write() as session:
            ids = None
            target = "decisions"
            if number is not None:
                proposal = await load_proposal(session, actor.guild_id, number)
                assert proposal.id is not None
                ids = [proposal.id]
                target = target_of(proposal)
            count = await store.discard_drafts(session, guild_id=actor.guild_id, proposal_ids=ids)
            if number is not None and count == 0:
                raise NotFound(
                    _(
                        "There is no draft decision on #{number}. `/decision list` shows the "
                        "drafts.",
                        number=number,
                    )
                )
            if count:
                await record_event(
                    session,
                    guild_id=actor.guild_id,
                    actor_id=actor.user_id,
                    action="decision.discard",
                    target=target,
                    after={"discarded": count},
                    at=self._clock(),
                )
        return count

    async def feedback(
        self,
        actor: Actor,
        number: int,
        release: str | None = None,
        anonymise: bool | None = None,
    ) -> FeedbackView:
        """Show the comments of a drafted decision's proposal; with ``release``, choose them.

        ``release``: reviewer letters ("A C"), ``all`` or ``none``. Letters
        follow the assignments, as in ``/proposal view``.
        """
        require_secretariat(actor)
        settings = await self._config.get(actor.guild_id)
        if anonymise is False and not settings.rules.get(NAME_REVIEWERS, True):
            raise InvalidInput(
                _(
                    "This server keeps reviewers unnamed (rule `reviews.name_reviewers`): "
                    "comments are released anonymised."
                )
            )
        async with self._db.write() as session:
            # Locked: a publish at the same moment waits, so a published decision is never
            # changed here (publishing locks the same proposals).
            proposal = await load_proposal(session, actor.guild_id, number, for_update=True)
            assert proposal.id is not None
            row = await store.draft_for(session, guild_id=actor.guild_id, proposal_id=proposal.id)
            if row is None:
                raise NotFound(
                    _(
                        "Draft the decision on {label} first: `/decision draft proposal:{number}`.",
                        label=label_of(proposal),
                        number=number,
                    )
                )
            choices = await _comments(session, proposal, set(row.released or ()))
            if release is not None or anonymise is not None:
                if release is not None:
                    row.released = _chosen(release, choices, label_of(proposal))
                    # What the secretariat read is what the proposer will read.
                    row.feedback = [
                        {"letter": c.letter, "member_id": c.member_id, "comment": c.comment}
                        for c in choices
                        if c.member_id in row.released
                    ]
                if anonymise is not None:
                    row.anonymise = anonymise
                session.add(row)
                await record_event(
                    session,
                    guild_id=actor.guild_id,
                    actor_id=actor.user_id,
                    action="decision.feedback",
                    target=target_of(proposal),
                    after={"released": len(row.released), "anonymise": row.anonymise},
                    at=self._clock(),
                )
                choices = await _comments(session, proposal, set(row.released))
            return FeedbackView(ref_of(proposal), row.outcome, tuple(choices), row.anonymise)

    async def drafts(self, actor: Actor) -> DraftsReport:
        """Return every draft with its problems, and the balance effect of all of them."""
        require_secretariat(actor)
        settings = await self._config.get(actor.guild_id)
        async with self._db.read() as session:
            found = await store.draft_rows(session, guild_id=actor.guild_id)
            effect = await _batch_effect(session, actor.guild_id, settings.rules) if found else None
        return DraftsReport(tuple(_draft_view(row) for row in found), effect)

    # -- publishing ----------------------------------------------------------------

    async def fingerprint(self, actor: Actor) -> str:
        """Return what the drafts are now, to check at Confirm that they did not change."""
        require_secretariat(actor)
        async with self._db.read() as session:
            return _fingerprint(await store.draft_transitions(session, guild_id=actor.guild_id))

    async def publish(
        self,
        actor: Actor,
        confirm_by: str | None = None,
        *,
        fingerprint: str | None = None,
        confirmed: bool = False,
    ) -> PublishResult:
        """Publish every draft at once and tell each proposer (asks to confirm first).

        ``fingerprint`` (from ``fingerprint`` when the question was asked): a
        Confirm is refused if the drafts changed since, so nothing is published
        that was not shown.
        """
        require_secretariat(actor)
        settings = await self._config.get(actor.guild_id)
        now = self._clock()
        zone = ZoneInfo(settings.timezone)
        if confirm_by:
            wall = parse_due(confirm_by)
            until = to_utc(wall, zone)
            if until <= now:
                raise InvalidInput(_("That date has passed already: give a later one."))
        else:
            days = max(1, int(settings.rule(CONFIRM_DAYS)))
            until = now + timedelta(days=days)
            wall = until.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0)
        async with self._db.read() as session:
            pairs = await store.draft_transitions(session, guild_id=actor.guild_id)
            effect = None
            if pairs and not confirmed:
                effect = await _batch_effect(session, actor.guild_id, settings.rules)
        if not pairs:
            raise Conflict(
                _("There are no draft decisions. Draft them first with `/decision draft`.")
            )
        counts: Counter[str] = Counter()
        stuck = 0
        for (status, outcome), n in pairs.items():
            if _transition_problem(status, outcome) is None:
                counts[outcome] += n
            else:
                stuck += n
        if not counts:
            raise Conflict(
                _("None of the drafts can be published as they stand: `/decision list` says why.")
            )
        if confirmed and fingerprint is not None and fingerprint != _fingerprint(pairs):
            raise Conflict(
                _(
                    "The drafts changed since you were asked (someone drafted or discarded "
                    "one): run `/decision publish` again to see them."
                )
            )
        accepting = any(counts[o] for o in ACCEPTING)
        if not confirmed:
            warnings = [w.text for w in effect.new_warnings] if effect else []
            if stuck:
                warnings.append(
                    ngettext(
                        "{n} draft cannot be published as it stands and will stay a draft "
                        "(`/decision list` says why).",
                        "{n} drafts cannot be published as they stand and will stay drafts "
                        "(`/decision list` says why).",
                        stuck,
                    )
                )
            total = sum(counts.values())
            raise ConfirmationNeeded(
                ngettext(
                    "{n} decision will be published and its proposer told: {counts}.",
                    "{n} decisions will be published and their proposers told: {counts}.",
                    total,
                    counts=_counts_text(counts),
                ),
                warnings,
            )
        new: NewDeadline | None = None
        no_channel = False
        if accepting:
            try:
                new = await self._deadlines.prepare(
                    actor,
                    title=_("Accepted proposers confirm their slots"),
                    due=wall.isoformat(sep=" ", timespec="minutes"),
                    kind=CONFIRMATIONS,
                )
            except InvalidInput:
                no_channel = True  # no reminders channel: nobody is chased, say so
        async with self._db.write() as session:
            result, deadline = await self._publish_in(
                session, actor, until, now, settings.rules, new
            )
        accepting = any(result.published[o] for o in ACCEPTING)
        if result.total:
            self.outbox.queued(now)
        if deadline is not None:
            self._deadlines.planned(deadline)
        return dataclasses.replace(
            result,
            confirm_by=until if accepting else None,
            deadline_number=deadline.number if deadline else None,
            no_channel=no_channel and accepting,
        )

    async def _publish_in(
        self,
        session: AsyncSession,
        actor: Actor,
        until: datetime,
        now: datetime,
        rules: Any,
        new: NewDeadline | None,
    ) -> tuple[PublishResult, DeadlineView | None]:
        """Publish the drafts in the caller's transaction, ``CHUNK`` rows per statement.

        Each chunk is one statement per table (statuses, decisions, audit,
        outbox), so 2,000 decisions take a few dozen round trips, and the loop
        is handed back between chunks: the Python side of a statement
        (parameters, rows) never holds it for long.
        """
        # Locked: a second publish at the same time waits, then finds nothing left.
        found = await store.draft_rows(session, guild_id=actor.guild_id, for_update=True)
        effect = await _batch_effect(session, actor.guild_id, rules) if found else None
        published: Counter[str] = Counter()
        skipped: list[tuple[str, str]] = []
        ready = []
        for row in found:
            why = _transition_problem(row.status, row.outcome, row.kind, row.number)
            if why is None:
                ready.append(row)
                published[row.outcome] += 1
            else:
                skipped.append((proposal_label(row.kind, row.number), why))
        if not ready:
            raise Conflict(
                _("None of the drafts can be published as they stand: `/decision list` says why.")
            )
        # The acceptances' own deadline: its reminders chase these proposers only.
        deadline = None
        if new is not None and any(published[o] for o in ACCEPTING):
            deadline = await self._deadlines.create_in(session, actor, new)
        table = Proposal.__table__  # type: ignore[attr-defined]
        set_status = (
            update(table)
            .where(table.c.id == bindparam("pid"))
            .values(
                status=bindparam("new_status"),
                status_reason=bindparam("reason"),
                merged_into=None,
                updated_at=now,
            )
        )
        audit = insert(AuditEvent.__table__)  # type: ignore[attr-defined]
        connection = await session.connection()
        for start in range(0, len(ready), CHUNK):
            chunk = ready[start : start + CHUNK]
            await connection.execute(
                set_status,
                [
                    {"pid": r.proposal_id, "new_status": r.outcome, "reason": r.reason}
                    for r in chunk
                ],
            )
            await store.publish_rows(
                session,
                rows=[
                    {
                        "id": r.decision_id,
                        "confirm_by": until if r.outcome in ACCEPTING else None,
                        "confirm_deadline": deadline.number
                        if deadline is not None and r.outcome in ACCEPTING
                        else None,
                    }
                    for r in chunk
                ],
                by=actor.user_id,
                at=now,
            )
            await connection.execute(
                audit,
                [
                    {
                        "guild_id": actor.guild_id,
                        "actor_id": actor.user_id,
                        "action": "proposal.status",
                        "target": f"proposal:{r.number}",
                        "before": {"status": r.status},
                        "after": {"status": r.outcome, "decision": r.decision_id},
                        "note": r.reason[:500] if r.reason else None,
                        "created_at": now,
                    }
                    for r in chunk
                ],
            )
            await enqueue(
                session,
                items=[
                    _notice_item(actor.guild_id, r.decision_id, r.proposer_id, now)
                    for r in chunk
                    if r.proposer_id != IMPORTED_PROPOSER  # imported: nobody to message
                ],
                now=now,
            )
            await asyncio.sleep(0)
        if ready and effect is not None:
            await record_effect(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                target="decisions",
                effect=effect,
                at=now,
            )
        # Drafts that could not be published stay drafts: the list says why.
        return PublishResult(published, tuple(skipped), until, None, effect, False), deadline

    # -- after publishing ----------------------------------------------------------

    async def confirm_slot(self, *, guild_id: int, user_id: int, decision_id: int) -> SlotAnswer:
        """The proposer confirms the slot of an accepted proposal (their DM's button)."""
        async with self._db.write() as session:
            row = await store.get_decision(
                session, guild_id=guild_id, decision_id=decision_id, for_update=True
            )
            if row is None or row.published_at is None:
                raise NotFound(_("This decision no longer exists."))
            proposal = await session.get(Proposal, row.proposal_id)
            assert proposal is not None
            return await self._confirm(session, row, proposal, user_id)

    async def confirm_mine(self, actor: Actor, number: int) -> SlotAnswer:
        """The proposer confirms the slot of their accepted proposal ``number``."""
        async with self._db.write() as session:
            proposal = await load_proposal(session, actor.guild_id, number)
            assert proposal.id is not None
            latest = await store.latest_published(
                session, guild_id=actor.guild_id, proposal_ids=[proposal.id]
            )
            row = latest.get(proposal.id)
            if row is None:
                raise Conflict(
                    _(
                        "{label} has no published decision: there is no slot to confirm yet.",
                        label=label_of(proposal),
                    )
                )
            return await self._confirm(session, row, proposal, actor.user_id)

    async def _confirm(
        self, session: AsyncSession, row: ProposalDecision, proposal: Proposal, user_id: int
    ) -> SlotAnswer:
        if proposal.proposer_id != user_id:
            raise PermissionDenied(
                _(
                    "Only the proposer of {label} can confirm its slot.",
                    label=label_of(proposal),
                )
            )
        latest = await store.latest_published(
            session, guild_id=row.guild_id, proposal_ids=[proposal.id or 0]
        )
        current = latest.get(proposal.id or 0)
        if (
            current is not None
            and current.id != row.id
            and row.outcome in ACCEPTING
            and current.outcome in ACCEPTING
        ):
            # The conditions were met since (a newer acceptance): confirm that one.
            row = (
                await store.get_decision(
                    session, guild_id=row.guild_id, decision_id=current.id or 0, for_update=True
                )
                or current
            )
            current = row
        if current is None or current.id != row.id or proposal.status != row.outcome:
            raise Conflict(
                _(
                    "{label} is {status} now: this decision is no longer the current one.",
                    label=label_of(proposal),
                    status=status_label(proposal.status),
                )
            )
        if row.outcome not in ACCEPTING:
            raise Conflict(
                _(
                    "{label} is {status}: there is no slot to confirm.",
                    label=label_of(proposal),
                    status=status_label(proposal.status),
                )
            )
        pending = row.conditions if row.outcome == "conditional" else None
        if row.confirmed_at is not None:
            return SlotAnswer(ref_of(proposal), True, pending)
        now = self._clock()
        row.confirmed_at = now
        session.add(row)
        await record_event(
            session,
            guild_id=row.guild_id,
            actor_id=user_id,
            action="decision.confirm",
            target=target_of(proposal),
            after={"decision": row.id},
            at=now,
        )
        return SlotAnswer(ref_of(proposal), False, pending)

    async def conditions_met(self, actor: Actor, number: int, note: str | None = None) -> int:
        """Record that a conditionally accepted proposal met its conditions: it is accepted.

        The proposer is told, once, as for any decision; returns the new decision's id.
        """
        require_secretariat(actor)
        note = _check_text(note, MAX_REASON, _("A note"))
        now = self._clock()
        async with self._db.write() as session:
            proposal = await load_proposal(session, actor.guild_id, number, for_update=True)
            assert proposal.id is not None
            latest = await store.latest_published(
                session, guild_id=actor.guild_id, proposal_ids=[proposal.id]
            )
            row = latest.get(proposal.id)
            if row is not None:
                # Locked: a confirmation at the same moment is carried over, not lost.
                row = await store.get_decision(
                    session, guild_id=actor.guild_id, decision_id=row.id or 0, for_update=True
                )
            if proposal.status != "conditional" or row is None or row.outcome != "conditional":
                raise Conflict(
                    _(
                        "{label} was not accepted on conditions with `/decision publish`: there "
                        "are no conditions to check off.",
                        label=label_of(proposal),
                    )
                )
            row.conditions_met_at = now
            session.add(row)
            accepted = ProposalDecision(
                guild_id=actor.guild_id,
                proposal_id=proposal.id,
                outcome="accepted",
                reason=note or _("The conditions are met."),
                released=[],
                drafted_by=actor.user_id,
                drafted_at=now,
                published_by=actor.user_id,
                published_at=now,
                confirm_by=row.confirm_by,
                confirm_deadline=row.confirm_deadline,
                confirmed_at=row.confirmed_at,
                conditions_met_at=now,
            )
            session.add(accepted)
            await session.flush()
            assert accepted.id is not None
            before = proposal.status
            proposal.status = "accepted"
            proposal.status_reason = accepted.reason
            proposal.updated_at = now
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="proposal.status",
                target=target_of(proposal),
                before={"status": before},
                after={"status": "accepted", "decision": accepted.id, "conditions_met": True},
                note=note[:500] if note else None,
                at=now,
            )
            if proposal.proposer_id != IMPORTED_PROPOSER:  # imported: nobody to message
                await enqueue(
                    session,
                    items=[_notice_item(actor.guild_id, accepted.id, proposal.proposer_id, now)],
                    now=now,
                )
        self.outbox.queued(now)
        return accepted.id

    async def status(self, actor: Actor) -> DecisionStatus:
        """Return the published decisions' follow-up (secretariat)."""
        require_secretariat(actor)
        async with self._db.read() as session:
            counts = await store.published_counts(session, guild_id=actor.guild_id)
            confirmed = await store.confirmed_count(session, guild_id=actor.guild_id)
            waiting = await store.waiting_on_proposers(session, guild_id=actor.guild_id)
            unreached = await store.unreached(session, guild_id=actor.guild_id)
            drafts = await store.count_drafts(session, guild_id=actor.guild_id)
        return DecisionStatus(
            published=Counter(counts),
            confirmed=confirmed,
            waiting=tuple(
                (
                    ref_of(p),
                    d.confirmed_at is not None,
                    d.outcome != "conditional" or d.conditions_met_at is not None,
                )
                for d, p in waiting
            ),
            unreached=tuple(
                (ref_of(p), (d.notice or "").removeprefix("failed: ")) for d, p in unreached
            ),
            drafts=drafts,
        )

    # -- the outbox's side ---------------------------------------------------------

    async def _prepare(self, items: Sequence[OutboxItem]) -> Post | None:
        item = items[0]
        decision_id = int(item.payload["decision"])
        async with self._db.read() as session:
            row = await store.get_decision(session, guild_id=item.guild_id, decision_id=decision_id)
            if row is None:
                return None  # the proposal was deleted since: nothing to tell
            proposal = await session.get(Proposal, row.proposal_id)
            if proposal is None:
                return None
        settings = await self._config.get(item.guild_id)
        # A server that keeps reviewers unnamed never names them to a proposer.
        anonymous = row.anonymise or not settings.rules.get(NAME_REVIEWERS, True)
        user_id = int(item.lane[2:])
        language = SOURCE
        if self._person_language is not None:
            language = await self._person_language(user_id, item.guild_id)
        feedback = tuple(
            Feedback(
                letter=str(c.get("letter", "")),
                member_id=None if anonymous else int(c["member_id"]),
                comment=str(c.get("comment") or ""),
            )
            for c in row.feedback or ()
            if c.get("comment")
        )
        return DecisionNotice(
            guild_id=item.guild_id,
            user_id=user_id,
            nonce=nonce_of(item),
            ref=outbox_ref(item),
            decision_id=decision_id,
            label=label_of(proposal),
            title=proposal.title,
            outcome=row.outcome,
            reason=row.reason,
            conditions=row.conditions,
            conditions_due=row.conditions_due,
            confirm_by=row.confirm_by if row.outcome in ACCEPTING else None,
            confirmed=row.confirmed_at is not None,
            feedback=feedback,
            language=language,
        )

    async def _settled(
        self, session: AsyncSession, items: Sequence[OutboxItem], result: PostResult | None
    ) -> None:
        """Record on each decision how telling its proposer went; name the unreached to admins."""
        ids = [int(i.payload["decision"]) for i in items]
        if result is not None and result.status is PostStatus.SENT:
            await store.set_notice(session, ids=ids, notice="sent")
            return
        detail = "expired" if result is None else (items[0].detail or result.detail or "refused")
        await store.set_notice(session, ids=ids, notice=f"failed: {detail}")
        settings = await self._config.get_in(session, items[0].guild_id)
        log_channel = settings.channels["log"]
        if log_channel is None:
            return  # `/decision list` still names them
        language = self._config.public_language(settings)
        notices = []
        for item, decision_id in zip(items, ids, strict=True):
            row = await store.get_decision(session, guild_id=item.guild_id, decision_id=decision_id)
            proposal = await session.get(Proposal, row.proposal_id) if row else None
            if proposal is None:
                continue
            with speaking(language):
                text = _(
                    "I could not tell {user} about the decision on {label} ({detail}). Tell "
                    "them another way; `/decision list` names everyone not reached.",
                    user=f"<@{proposal.proposer_id}>",
                    label=label_of(proposal),
                    detail=detail[:100],
                )
            notices.append(
                NewItem(
                    guild_id=item.guild_id,
                    key=f"notice:decision:{decision_id}",
                    kind=NOTICE,
                    lane=channel_lane(log_channel),
                    due_at=self._clock(),
                    payload={"text": text, "language": language},
                )
            )
        await enqueue(session, items=notices, now=self._clock())


def _fingerprint(pairs: dict[tuple[str, str], int]) -> str:
    """Return a short digest of the drafts' counts by (status, outcome)."""
    text = ";".join(f"{s}>{o}={n}" for (s, o), n in sorted(pairs.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _notice_item(guild_id: int, decision_id: int, proposer_id: int, now: datetime) -> NewItem:
    """Return the outbox row that tells a proposer of a decision: one per decision, ever."""
    return NewItem(
        guild_id=guild_id,
        key=f"{NOTIFY}:{decision_id}",
        kind=NOTIFY,
        lane=user_lane(proposer_id),
        due_at=now,
        payload={"decision": decision_id},
    )


def _transition_problem(
    status: str, outcome: str, kind: str = "workshop", number: int = 0
) -> str | None:
    """Return why a proposal in ``status`` cannot be decided ``outcome`` now (None: it can)."""
    label = proposal_label(kind, number)
    if outcome == status:
        return _("{label} is {status} already.", label=label, status=status_label(outcome))
    if outcome not in TRANSITIONS.get(status, frozenset()):
        return _(
            "{label} is {status}: it cannot become {outcome}. Put it under review first "
            "(`/proposal status`).",
            label=label,
            status=status_label(status),
            outcome=status_label(outcome),
        )
    return None


def _draft_view(row: Any) -> DraftView:
    """Return a draft as listed, from a row of ``storage.decisions.DRAFT_COLUMNS``."""
    ref = ProposalRef(
        id=row.proposal_id,
        guild_id=row.guild_id,
        number=row.number,
        kind=row.kind,
        title=row.title,
        status=row.status,
        proposer_id=row.proposer_id,
        subtheme=row.subtheme,
    )
    return DraftView(
        proposal=ref,
        outcome=row.outcome,
        reason=row.reason,
        conditions=row.conditions,
        conditions_due=row.conditions_due,
        released=len(row.released or ()),
        anonymise=row.anonymise,
        problem=_transition_problem(row.status, row.outcome, row.kind, row.number),
    )


def _counts_text(counts: Counter[str]) -> str:
    return ", ".join(
        f"{counts[outcome]} {outcome_label(outcome)}" for outcome in DECIDED if counts[outcome]
    )


async def _comments(
    session: AsyncSession, proposal: Proposal, released: set[int]
) -> list[FeedbackChoice]:
    """Return the proposal's commented reviews, lettered in assignment order."""
    assert proposal.id is not None
    reviews = await reviews_of(session, guild_id=proposal.guild_id, proposal_id=proposal.id)
    order = await assignment_order(session, guild_id=proposal.guild_id, proposal_id=proposal.id)
    reviews = sorted(reviews, key=lambda r: (order.get(r.member_id, len(order)), r.id))
    return [
        FeedbackChoice(
            reviewer_letter(index), r.member_id, r.score, r.comment, r.member_id in released
        )
        for index, r in enumerate(reviews)
        if r.comment
    ]


def _chosen(release: str, choices: Sequence[FeedbackChoice], label: str) -> list[int]:
    """Return the member ids ``release`` names, or raise InvalidInput."""
    value = release.strip().casefold()
    if value in ("all", _("all").casefold()):
        return [c.member_id for c in choices]
    if value in ("none", _("none").casefold(), "-"):
        return []
    by_letter = {c.letter: c.member_id for c in choices}
    wanted = _letters(release)
    unknown = [letter for letter in wanted if letter not in by_letter]
    if unknown:
        if not by_letter:
            raise InvalidInput(_("{label} has no review comments to release.", label=label))
        raise InvalidInput(
            _(
                "{label} has no comment by reviewer {letters}. Its comments are by {known}: "
                "give their letters, `all` or `none`.",
                label=label,
                letters=", ".join(quoted(u, 5) for u in unknown),
                known=", ".join(by_letter),
            )
        )
    return [by_letter[letter] for letter in dict.fromkeys(wanted)]


async def _batch_effect(session: AsyncSession, guild_id: int, rules: Any) -> BalanceEffect:
    """Return the programme's balance now and as every draft would leave it."""
    base = programme_selection()
    before, after = await seat_counts(
        session, guild_id=guild_id, selections=[base, replace(base, with_drafts=True)]
    )
    scope = programme_scope()
    return compare(make_report(before, scope, rules), make_report(after, scope, rules))


async def chase_confirmations(session: AsyncSession, context: ChaseContext) -> Chase | None:
    """Name the accepted proposals whose proposer has not confirmed or met the conditions."""
    rows = await store.waiting_on_proposers(
        session, guild_id=context.guild_id, deadline_number=context.deadline_number
    )
    if not rows:
        return Chase(summary=_("Every accepted proposal is confirmed. Thank you!"))
    lines = []
    for decision, proposal in rows[:MAX_LISTED]:
        missing = []
        if decision.confirmed_at is None:
            missing.append(_("slot not confirmed"))
        if decision.outcome == "conditional" and decision.conditions_met_at is None:
            missing.append(_("conditions not met"))
        # Not naming the proposer: the channel is read by the MAG, blind review or not
        # (each proposer is messaged directly).
        lines.append(_("{label}: {missing}", label=label_of(proposal), missing=", ".join(missing)))
    if len(rows) > MAX_LISTED:
        lines.append(_("…and {count} more", count=len(rows) - MAX_LISTED))
    # An imported proposal has nobody on Discord to chase (the secretariat does, by list).
    per_proposer = Counter(p.proposer_id for _d, p in rows if p.proposer_id != IMPORTED_PROPOSER)
    return Chase(
        summary=ngettext(
            "{n} accepted proposal is still waiting on its proposer:",
            "{n} accepted proposals are still waiting on their proposers:",
            len(rows),
        ),
        lines=tuple(lines),
        direct=tuple(sorted(per_proposer.items())),
    )

"""Session proposals: submit, view, list, edit, withdraw and move through statuses.

Statuses follow ``TRANSITIONS`` and nothing else. A proposal's number is per
guild and allocated inside the submitting transaction (see
``storage.proposals.allocate_number``), which also serialises the check of
how many proposals one person has.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from bot.services.auth import Actor, require_secretariat
from bot.services.config import ConfigService, GuildSettings
from bot.services.scoring import ScoreSummary, summaries
from bot.services.taxonomy import (
    DURATIONS,
    FORMATS,
    KINDS,
    PROPOSAL_STATUSES,
    match,
    match_key,
    proposal_label,
    tidy,
    tidy_block,
)
from storage.audit import record_event
from storage.database import Database
from storage.deadlines import latest_due
from storage.panellists import Participation, Person, people_on
from storage.proposals import (
    Proposal,
    add_proposal,
    allocate_number,
    count_by_proposer,
    count_proposals,
    get_proposal,
    list_proposals,
    search_proposals,
)
from storage.reviews import score_histograms

log = logging.getLogger(__name__)

PAGE_SIZE: Final = 10

# Where each status may go next. The secretariat moves proposals along these
# edges; anyone else only withdraws their own.
TRANSITIONS: Final[Mapping[str, frozenset[str]]] = {
    "submitted": frozenset({"screened_out", "under_review", "merged", "withdrawn"}),
    "screened_out": frozenset({"submitted", "under_review", "withdrawn"}),
    "under_review": frozenset({"screened_out", "accepted", "rejected", "merged", "withdrawn"}),
    "accepted": frozenset({"under_review", "rejected", "merged", "withdrawn"}),
    "rejected": frozenset({"under_review", "accepted"}),
    "merged": frozenset({"under_review"}),
    "withdrawn": frozenset({"submitted"}),
}
STATUS_LABELS: Final[Mapping[str, str]] = {
    "submitted": "submitted",
    "screened_out": "screened out",
    "under_review": "under review",
    "accepted": "accepted",
    "rejected": "rejected",
    "merged": "merged",
    "withdrawn": "withdrawn",
}
# Whatever a guild sets, a title fits an embed title (256) with its "WS #12 · "
# and stays small in the index that covers rankings; other fields fit the form.
HARD_LIMITS: Final[Mapping[str, int]] = {"title": 200}
FORM_MAX: Final = 4000
# Statuses that count towards the per-proposer maximum.
COUNTED: Final = frozenset(PROPOSAL_STATUSES) - {"withdrawn"}
# Fields of the submission form, in order, with the rule that limits each.
FORM_FIELDS: Final = (
    ("title", "Title", "limits.title_max"),
    ("description", "Description", "limits.description_max"),
    ("policy_questions", "Policy questions", "limits.policy_questions_max"),
    ("expected_outcomes", "Expected outcomes", "limits.expected_outcomes_max"),
    ("hybrid_plan", "Hybrid plan", "limits.hybrid_plan_max"),
)


class DeadlinePassed(Protocol):
    """Answers whether the guild's deadline of ``kind`` (proposals, reviews) has passed."""

    async def __call__(self, guild_id: int, kind: str, now: datetime) -> bool: ...


async def no_deadlines(guild_id: int, kind: str, now: datetime) -> bool:
    """Never passed: the default until deadlines exist."""
    return False


def deadlines_from_storage(db: Database) -> DeadlinePassed:
    """Return the check that reads the guild's deadlines (``storage.deadlines``, issue 4).

    A kind's deadline has passed when the latest one-off deadline of that kind
    is due at or before ``now``; an extension moves it back into the future.
    The check opens its own read session: call it before, never inside, a
    write transaction (a second connection from inside one can deadlock a
    full pool on SQLite).
    """

    async def passed(guild_id: int, kind: str, now: datetime) -> bool:
        async with db.read() as session:
            due = await latest_due(session, guild_id=guild_id, kind=kind)
        return due is not None and due <= now

    return passed


@dataclass(frozen=True)
class Decision:
    """A decision the balance guardrails weigh: a proposal or a participation changing status."""

    subject: Literal["proposal", "participation"]
    id: int
    before: str
    after: str
    guild_id: int
    actor_id: int | None
    target: str  # the audit target, for the warning the hook may record
    at: datetime


class DecisionHook(Protocol):
    """Called inside the decision's transaction; returns what to show (None: nothing)."""

    async def __call__(self, session: AsyncSession, decision: Decision) -> object | None: ...


# The decisions the guardrails look at.
PROPOSAL_DECISIONS: Final = frozenset({"accepted", "rejected"})
PARTICIPATION_DECISIONS: Final = frozenset({"confirmed", "declined"})


def _check_duration(duration: int) -> int:
    if duration not in DURATIONS:
        raise InvalidInput(
            f"A session lasts {', '.join(str(d) for d in DURATIONS)} minutes, not {duration}."
        )
    return duration


def _check_subtheme(settings: GuildSettings, subtheme: str) -> str:
    if not settings.subthemes:
        raise InvalidInput("This server has no subthemes yet. Ask an admin to add some.")
    return match(subtheme, settings.subthemes, "subtheme of this server")


@dataclass(frozen=True)
class ProposalForm:
    """The free-text fields of a proposal, as typed in the modal."""

    title: str
    description: str
    policy_questions: str
    expected_outcomes: str
    hybrid_plan: str

    def cleaned(self) -> ProposalForm:
        """Return the form with spaces tidied (the title on one line)."""
        return ProposalForm(
            title=tidy(self.title),
            description=tidy_block(self.description),
            policy_questions=tidy_block(self.policy_questions),
            expected_outcomes=tidy_block(self.expected_outcomes),
            hybrid_plan=tidy_block(self.hybrid_plan),
        )


@dataclass(frozen=True)
class FormLimits:
    """The guild's maximum length of each form field, by field name."""

    limits: Mapping[str, int]

    def __getitem__(self, name: str) -> int:
        return self.limits[name]


@dataclass(frozen=True)
class ProposalDetail:
    """One proposal as ``/proposal view`` shows it to this actor."""

    proposal: Proposal
    people: list[tuple[Participation, Person]]
    review_count: int
    scores: ScoreSummary | None  # only for the secretariat
    private: bool  # personal data (gender, contact) may be shown

    @property
    def label(self) -> str:
        """Return the display number, such as ``WS #12``."""
        return proposal_label(self.proposal.kind, self.proposal.number)


@dataclass(frozen=True)
class ProposalPage:
    """One page of ``/proposal list``."""

    items: list[Proposal]
    total: int
    page: int  # from 0
    pages: int
    filters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StatusChange:
    """A proposal that changed status, and who should be told."""

    proposal: Proposal
    before: str
    after: str
    reason: str | None
    notify_user_id: int | None  # the proposer, unless they made the change
    effect: object | None = None  # what the decision hook said (balance before -> after)

    @property
    def label(self) -> str:
        """Return the display number, such as ``WS #12``."""
        return proposal_label(self.proposal.kind, self.proposal.number)


def _limit(settings: GuildSettings, name: str, rule: str) -> int:
    """Return a field's maximum length: the guild's rule within the hard limits."""
    return max(1, min(int(settings.rule(rule)), HARD_LIMITS.get(name, FORM_MAX)))


def label_of(proposal: Proposal) -> str:
    """Return a proposal's display number, such as ``WS #12``."""
    return proposal_label(proposal.kind, proposal.number)


def target_of(proposal: Proposal) -> str:
    """Return the audit target of a proposal (``/audit proposal`` filters on it)."""
    return f"proposal:{proposal.number}"


def snapshot(proposal: Proposal) -> dict[str, Any]:
    """Return the fields an audit event keeps of a proposal."""
    return {
        "number": proposal.number,
        "kind": proposal.kind,
        "status": proposal.status,
        "title": proposal.title,
        "format": proposal.format,
        "duration": proposal.duration,
        "subtheme": proposal.subtheme,
    }


def check_status(status: str) -> str:
    """Return ``status`` if it is a proposal status, or raise InvalidInput."""
    key = status.strip().lower().replace(" ", "_")
    if key not in PROPOSAL_STATUSES:
        raise InvalidInput(
            f"`{tidy(status)[:30]}` is not a status. Use one of: {', '.join(PROPOSAL_STATUSES)}."
        )
    return key


def check_transition(proposal: Proposal, status: str) -> None:
    """Refuse a status change that ``TRANSITIONS`` does not allow."""
    label = label_of(proposal)
    if proposal.status == status:
        raise Conflict(f"{label} is already {STATUS_LABELS[status]}.")
    allowed = TRANSITIONS[proposal.status]
    if status not in allowed:
        options = ", ".join(sorted(STATUS_LABELS[s] for s in allowed)) or "nothing"
        raise Conflict(
            f"{label} is {STATUS_LABELS[proposal.status]}: it can only become {options}."
        )


async def load_proposal(
    session: AsyncSession, guild_id: int, number: int, *, for_update: bool = False
) -> Proposal:
    """Return the guild's proposal ``number`` or raise NotFound."""
    proposal = await get_proposal(session, guild_id=guild_id, number=number, for_update=for_update)
    if proposal is None:
        raise NotFound(f"There is no proposal #{number} here. `/proposal list` shows them all.")
    return proposal


class ProposalService:
    """Submission and life cycle of proposals."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        config: ConfigService,
        deadline_passed: DeadlinePassed = no_deadlines,
        on_decision: DecisionHook | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._config = config
        self._deadline_passed = deadline_passed
        self.on_decision = on_decision

    async def form_limits(self, guild_id: int) -> FormLimits:
        """Return the guild's field limits (the modal enforces them as you type)."""
        settings = await self._config.get(guild_id)
        return FormLimits({name: _limit(settings, name, rule) for name, _, rule in FORM_FIELDS})

    def _check_choices(
        self, settings: GuildSettings, kind: str, fmt: str, duration: int, subtheme: str
    ) -> tuple[str, str, int, str]:
        kind_key = match_key(kind, KINDS, "session kind")
        fmt = match(fmt, FORMATS, "format")
        _check_duration(duration)
        return kind_key, fmt, duration, _check_subtheme(settings, subtheme)

    def _check_form(self, settings: GuildSettings, form: ProposalForm) -> ProposalForm:
        form = form.cleaned()
        for name, label, rule in FORM_FIELDS:
            value = getattr(form, name)
            limit = _limit(settings, name, rule)
            if not value:
                raise InvalidInput(f"{label} is empty. Every field of the form is required.")
            if len(value) > limit:
                raise InvalidInput(
                    f"{label} can be at most {limit} characters (yours has {len(value)}). "
                    "Shorten it and try again."
                )
        return form

    async def _check_deadline(self, actor: Actor) -> None:
        # Outside any write transaction: the check opens a session of its own.
        if await self._deadline_passed(actor.guild_id, "proposals", self._clock()):
            raise Conflict("The deadline for proposals has passed: no new proposals are accepted.")

    async def _check_proposer(
        self, session: AsyncSession, actor: Actor, settings: GuildSettings
    ) -> None:
        if actor.is_mag and not settings.rule("proposals.mag_may_submit"):
            raise PermissionDenied(
                "MAG members may not submit proposals in this server: MAG members evaluate them."
            )
        limit = int(settings.rule("proposals.max_per_proposer"))
        mine = await count_by_proposer(
            session,
            guild_id=actor.guild_id,
            proposer_id=actor.user_id,
            excluding=set(PROPOSAL_STATUSES) - COUNTED,
        )
        if limit and mine >= limit:
            raise Conflict(
                f"You already have {mine} proposals and the limit is {limit}. "
                "Withdraw one (`/proposal withdraw`) to submit another."
            )

    async def check_can_submit(
        self, actor: Actor, *, kind: str, fmt: str, duration: int, subtheme: str
    ) -> None:
        """Refuse before the form is shown, so nobody fills it in for nothing."""
        settings = await self._config.get(actor.guild_id)
        self._check_choices(settings, kind, fmt, duration, subtheme)
        await self._check_deadline(actor)
        async with self._db.read() as session:
            await self._check_proposer(session, actor, settings)

    async def submit(
        self,
        actor: Actor,
        *,
        kind: str = "workshop",
        fmt: str,
        duration: int,
        subtheme: str,
        form: ProposalForm,
    ) -> Proposal:
        """Store a new proposal with the guild's next number and return it."""
        settings = await self._config.get(actor.guild_id)
        kind, fmt, duration, subtheme = self._check_choices(settings, kind, fmt, duration, subtheme)
        form = self._check_form(settings, form)
        await self._check_deadline(actor)
        now = self._clock()
        async with self._db.write() as session:
            # The counter row stays locked until commit: concurrent submissions
            # in this guild wait here, so the count below cannot go stale.
            number = await allocate_number(session, guild_id=actor.guild_id)
            await self._check_proposer(session, actor, settings)
            proposal = await add_proposal(
                session,
                proposal=Proposal(
                    guild_id=actor.guild_id,
                    number=number,
                    kind=kind,
                    status="submitted",
                    format=fmt,
                    duration=duration,
                    subtheme=subtheme,
                    proposer_id=actor.user_id,
                    proposer_name=tidy(actor.display_name)[:100],
                    proposer_is_mag=actor.is_mag,
                    created_at=now,
                    updated_at=now,
                    **vars(form),
                ),
            )
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="proposal.submit",
                target=target_of(proposal),
                after=snapshot(proposal),
                at=now,
            )
        return proposal

    async def view(self, actor: Actor, number: int) -> ProposalDetail:
        """Return one proposal with its people and reviews, as this actor may see it."""
        async with self._db.read() as session:
            proposal = await load_proposal(session, actor.guild_id, number)
            assert proposal.id is not None
            people = await people_on(session, guild_id=actor.guild_id, proposal_ids=[proposal.id])
            # The tally counts every review, conflicted ones too: that is the review count.
            tally = await score_histograms(
                session, guild_id=actor.guild_id, proposal_ids=[proposal.id]
            )
            review_count = tally[proposal.id].total if proposal.id in tally else 0
            scores = None
            if actor.can_act_as_secretariat:
                found = await summaries(
                    session, guild_id=actor.guild_id, proposal_ids=[proposal.id], histograms=tally
                )
                scores = found.get(proposal.id, ScoreSummary.of([]))
        return ProposalDetail(
            proposal=proposal,
            people=people,
            review_count=review_count,
            scores=scores,
            private=actor.can_act_as_secretariat,
        )

    async def list_page(
        self,
        actor: Actor,
        *,
        status: str | None = None,
        subtheme: str | None = None,
        mine: bool = False,
        page: int = 0,
        page_size: int = PAGE_SIZE,
    ) -> ProposalPage:
        """Return one page of the guild's proposals, by number, with the filters applied."""
        statuses = [check_status(status)] if status else None
        if subtheme:
            settings = await self._config.get(actor.guild_id)
            subtheme = match(subtheme, settings.subthemes, "subtheme of this server")
        proposer = actor.user_id if mine else None
        async with self._db.read() as session:
            total = await count_proposals(
                session,
                guild_id=actor.guild_id,
                statuses=statuses,
                subtheme=subtheme or None,
                proposer_id=proposer,
            )
            pages = max(1, math.ceil(total / page_size))
            page = min(max(0, page), pages - 1)
            items = await list_proposals(
                session,
                guild_id=actor.guild_id,
                statuses=statuses,
                subtheme=subtheme or None,
                proposer_id=proposer,
                offset=page * page_size,
                limit=page_size,
            )
        filters = {"status": statuses[0] if statuses else None, "subtheme": subtheme, "mine": mine}
        return ProposalPage(items=items, total=total, page=page, pages=pages, filters=filters)

    async def suggest(self, guild_id: int, text: str) -> list[Proposal]:
        """Return up to 25 proposals for autocomplete: by number, else by title."""
        async with self._db.read() as session:
            return await search_proposals(session, guild_id=guild_id, text=tidy(text)[:100])

    def _check_editor(self, actor: Actor, proposal: Proposal) -> None:
        if actor.can_act_as_secretariat:
            return
        if proposal.proposer_id != actor.user_id:
            raise PermissionDenied(
                f"Only the proposer of {label_of(proposal)} or the secretariat can edit it."
            )
        if proposal.status != "submitted":
            raise Conflict(
                f"{label_of(proposal)} is {STATUS_LABELS[proposal.status]}: only the "
                "secretariat can edit it now."
            )

    async def editable(self, actor: Actor, number: int) -> Proposal:
        """Return the proposal for the edit form, if this actor may edit it."""
        async with self._db.read() as session:
            proposal = await load_proposal(session, actor.guild_id, number)
        self._check_editor(actor, proposal)
        return proposal

    async def edit(
        self,
        actor: Actor,
        number: int,
        form: ProposalForm,
        *,
        fmt: str | None = None,
        duration: int | None = None,
        subtheme: str | None = None,
    ) -> Proposal:
        """Change a proposal's form (and optionally format, duration, subtheme)."""
        settings = await self._config.get(actor.guild_id)
        form = self._check_form(settings, form)
        now = self._clock()
        async with self._db.write() as session:
            proposal = await load_proposal(session, actor.guild_id, number, for_update=True)
            self._check_editor(actor, proposal)
            # Only new choices are checked: a stored subtheme an admin has since
            # removed must not block editing the text.
            changes: dict[str, Any] = vars(form).copy()
            if fmt:
                changes["format"] = match(fmt, FORMATS, "format")
            if duration:
                changes["duration"] = _check_duration(duration)
            if subtheme:
                changes["subtheme"] = _check_subtheme(settings, subtheme)
            before = {
                k: getattr(proposal, k) for k, v in changes.items() if getattr(proposal, k) != v
            }
            if not before:
                return proposal
            for name in before:
                setattr(proposal, name, changes[name])
            proposal.updated_at = now
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="proposal.edit",
                target=target_of(proposal),
                before=before,
                after={k: changes[k] for k in before},
                at=now,
            )
        return proposal

    async def _move(
        self,
        actor: Actor,
        number: int,
        status: str,
        reason: str | None,
        *,
        check: Callable[[Proposal], None],
        merged_into: int | None = None,
    ) -> StatusChange:
        reason = tidy(reason)[:1000] or None
        now = self._clock()
        async with self._db.write() as session:
            proposal = await load_proposal(session, actor.guild_id, number, for_update=True)
            check(proposal)
            check_transition(proposal, status)
            if merged_into is not None:
                if status != "merged":
                    raise InvalidInput("`merged_into` goes with the status merged only.")
                if merged_into == number:
                    raise InvalidInput("A proposal cannot be merged into itself.")
                target = await load_proposal(session, actor.guild_id, merged_into)
                reason = reason or f"Merged into {label_of(target)}."
            before = proposal.status
            proposal.status = status
            proposal.status_reason = reason
            proposal.merged_into = merged_into if status == "merged" else None
            proposal.updated_at = now
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="proposal.status",
                target=target_of(proposal),
                before={"status": before},
                after={"status": status, "merged_into": proposal.merged_into},
                note=reason[:500] if reason else None,
                at=now,
            )
            effect = None
            if self.on_decision is not None and status in PROPOSAL_DECISIONS:
                assert proposal.id is not None
                decision = Decision(
                    "proposal",
                    proposal.id,
                    before,
                    status,
                    actor.guild_id,
                    actor.user_id,
                    target_of(proposal),
                    now,
                )
                effect = await self.on_decision(session, decision)
        notify = None if proposal.proposer_id == actor.user_id else proposal.proposer_id
        return StatusChange(proposal, before, status, reason, notify, effect)

    async def withdraw(self, actor: Actor, number: int, reason: str | None = None) -> StatusChange:
        """Withdraw a proposal (its proposer, or the secretariat)."""

        def check(proposal: Proposal) -> None:
            if proposal.proposer_id != actor.user_id and not actor.can_act_as_secretariat:
                raise PermissionDenied(
                    f"Only the proposer of {label_of(proposal)} or the secretariat can withdraw it."
                )

        return await self._move(actor, number, "withdrawn", reason, check=check)

    async def set_status(
        self,
        actor: Actor,
        number: int,
        status: str,
        reason: str | None = None,
        *,
        merged_into: int | None = None,
    ) -> StatusChange:
        """Move a proposal to another status along ``TRANSITIONS`` (secretariat)."""
        require_secretariat(actor)
        return await self._move(
            actor,
            number,
            check_status(status),
            reason,
            check=lambda _: None,
            merged_into=merged_into,
        )

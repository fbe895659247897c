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

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import ConfirmationNeeded, Conflict, InvalidInput, NotFound, PermissionDenied
from bot.i18n import N_, _, current, ngettext, pgettext
from bot.services.auth import Actor, require_secretariat
from bot.services.config import ConfigService, GuildSettings
from bot.services.scoring import ScoreSummary, find_conflicts, summaries
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
from bot.services.text import quoted
from bot.services.visibility import (
    Nominee,
    nominee,
    reviews_blind,
    sees_people,
    sees_personal,
    sees_scores,
)
from storage.audit import record_event
from storage.database import Database
from storage.deadlines import latest_due
from storage.panellists import Participation, Person, people_on
from storage.proposals import (
    IMPORTED_PROPOSER,
    Proposal,
    add_proposal,
    allocate_number,
    count_by_proposer,
    count_proposals,
    get_by_submission_key,
    get_proposal,
    list_proposals,
    search_proposals,
)
from storage.reviews import assignment_order, open_assignments, reviews_of, score_histograms

log = logging.getLogger(__name__)

# The guild rule: the secretariat sees who wrote each review (False: "Reviewer A", "B"…).
NAME_REVIEWERS: Final = "reviews.name_reviewers"

PAGE_SIZE: Final = 10

# The decisions the IGF takes on a proposal after review.
DECIDED: Final = ("accepted", "conditional", "waitlisted", "rejected")
# Where each status may go next. The secretariat moves proposals along these
# edges; anyone else only withdraws their own.
TRANSITIONS: Final[Mapping[str, frozenset[str]]] = {
    "submitted": frozenset({"screened_out", "under_review", "merged", "withdrawn"}),
    "screened_out": frozenset({"submitted", "under_review", "withdrawn"}),
    "under_review": frozenset({"screened_out", *DECIDED, "merged", "withdrawn"}),
    "accepted": frozenset({"under_review", *DECIDED, "merged", "withdrawn"} - {"accepted"}),
    # Conditions met (or not): accepted, or another decision.
    "conditional": frozenset({"under_review", *DECIDED, "merged", "withdrawn"} - {"conditional"}),
    "waitlisted": frozenset({"under_review", *DECIDED, "withdrawn"} - {"waitlisted"}),
    "rejected": frozenset({"under_review", *DECIDED} - {"rejected"}),
    "merged": frozenset({"under_review"}),
    "withdrawn": frozenset({"submitted"}),
}
# The statuses as English reads them; ``status_label`` gives them in the
# reader's language (translated with the context "proposal status").
STATUS_LABELS: Final[Mapping[str, str]] = {
    "submitted": N_("submitted"),
    "screened_out": N_("screened out"),
    "under_review": N_("under review"),
    "accepted": N_("accepted"),
    "conditional": N_("conditionally accepted"),
    "waitlisted": N_("waitlisted"),
    "rejected": N_("rejected"),
    "merged": N_("merged"),
    "withdrawn": N_("withdrawn"),
}
# Whatever a guild sets, a title fits an embed title (256) with its "WS #12 · "
# and stays small in the index that covers rankings; other fields fit the form.
HARD_LIMITS: Final[Mapping[str, int]] = {"title": 200}
FORM_MAX: Final = 4000
# Statuses that count towards the per-proposer maximum.
COUNTED: Final = frozenset(PROPOSAL_STATUSES) - {"withdrawn"}
# Fields of the submission form, in order, with the rule that limits each.
FORM_FIELDS: Final = (
    ("title", N_("Title"), "limits.title_max"),
    ("description", N_("Description"), "limits.description_max"),
    ("policy_questions", N_("Policy questions"), "limits.policy_questions_max"),
    ("expected_outcomes", N_("Expected outcomes"), "limits.expected_outcomes_max"),
    ("hybrid_plan", N_("Hybrid plan"), "limits.hybrid_plan_max"),
)


# Proposals a merge may go into: live ones (so merges never form a cycle).
MERGE_TARGETS: Final = frozenset(
    {"submitted", "under_review", "accepted", "conditional", "waitlisted"}
)
# Decisions asked to be confirmed with a button, always.
HEAVY: Final = frozenset({"rejected"})


def status_label(status: str) -> str:
    """Return a proposal status as people read it ("under review"), in the current language."""
    labels = {
        "submitted": pgettext("proposal status", "submitted"),
        "screened_out": pgettext("proposal status", "screened out"),
        "under_review": pgettext("proposal status", "under review"),
        "accepted": pgettext("proposal status", "accepted"),
        "conditional": pgettext("proposal status", "conditionally accepted"),
        "waitlisted": pgettext("proposal status", "waitlisted"),
        "rejected": pgettext("proposal status", "rejected"),
        "merged": pgettext("proposal status", "merged"),
        "withdrawn": pgettext("proposal status", "withdrawn"),
    }
    return labels.get(status, status.replace("_", " "))


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


class ScreenNow(Protocol):
    """Returns the screening rules a proposal fails now (``bot.services.screening``)."""

    async def __call__(
        self, session: AsyncSession, proposal: Proposal, rules: Mapping[str, Any]
    ) -> list[dict[str, str]]: ...


# The decisions the guardrails look at.
PROPOSAL_DECISIONS: Final = frozenset(DECIDED)
PARTICIPATION_DECISIONS: Final = frozenset({"confirmed", "declined"})


def _check_duration(duration: int) -> int:
    if duration not in DURATIONS:
        raise InvalidInput(
            _(
                "A session lasts {durations} minutes, not {duration}.",
                durations=", ".join(str(d) for d in DURATIONS),
                duration=duration,
            )
        )
    return duration


def _check_subtheme(settings: GuildSettings, subtheme: str) -> str:
    if not settings.subthemes:
        raise InvalidInput(_("This server has no subthemes yet. Ask an admin to add some."))
    return match(subtheme, settings.subthemes, N_("subtheme of this server"))


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


@dataclass(frozen=True, slots=True)
class ProposalRef:
    """What names a proposal in a message: its number, kind, title and status."""

    id: int
    guild_id: int
    number: int
    kind: str
    title: str
    status: str
    proposer_id: int
    subtheme: str = ""

    @property
    def label(self) -> str:
        """Return the display number, such as ``WS #12``."""
        return proposal_label(self.kind, self.number)


def ref_of(proposal: Proposal) -> ProposalRef:
    """Return the reference of a stored proposal."""
    assert proposal.id is not None
    return ProposalRef(
        proposal.id,
        proposal.guild_id,
        proposal.number,
        proposal.kind,
        proposal.title,
        proposal.status,
        proposal.proposer_id,
        proposal.subtheme,
    )


@dataclass(frozen=True, slots=True)
class ProposalView:
    """A proposal's form and state, as shown (no people: see ``ProposalDetail``)."""

    ref: ProposalRef
    description: str
    policy_questions: str
    expected_outcomes: str
    hybrid_plan: str
    format: str
    duration: int
    status_reason: str | None
    merged_into: int | None
    created_at: datetime
    # An imported proposal: where from, and its proposer's name (no Discord account).
    source: str | None = None
    proposer_name: str = ""

    @property
    def label(self) -> str:
        """Return the display number, such as ``WS #12``."""
        return self.ref.label


def view_of(proposal: Proposal) -> ProposalView:
    """Return how a stored proposal is shown."""
    return ProposalView(
        ref=ref_of(proposal),
        description=proposal.description,
        policy_questions=proposal.policy_questions,
        expected_outcomes=proposal.expected_outcomes,
        hybrid_plan=proposal.hybrid_plan,
        format=proposal.format,
        duration=proposal.duration,
        status_reason=proposal.status_reason,
        merged_into=proposal.merged_into,
        created_at=proposal.created_at,
        source=proposal.source,
        proposer_name=proposal.proposer_name,
    )


@dataclass(frozen=True)
class ReviewNote:
    """One review as the secretariat reads it on a proposal: who, the score, the comment."""

    reviewer: str  # "<@id>", or "Reviewer A" where the server keeps reviewers unnamed
    score: int
    comment: str | None
    merge: bool
    conflicted: bool  # left out of the scores (a conflict of interest)


def reviewer_letter(index: int) -> str:
    """Return the label of the ``index``-th reviewer of a proposal: A, B, … Z, AA, AB…"""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


@dataclass(frozen=True)
class ProposalDetail:
    """One proposal as ``/proposal view`` shows it to this actor."""

    proposal: ProposalView
    people: tuple[Nominee, ...] | None  # None: this reader sees how many, not who
    people_count: int
    review_count: int
    scores: ScoreSummary | None  # only for the secretariat
    private: bool  # personal data (gender, contact) is shown
    # The screening rules it fails now (None: never screened, and nobody asked).
    screening: tuple[str, ...] | None
    screened: bool  # the secretariat ran screening on it
    reviews: tuple[ReviewNote, ...] | None = None  # only for the secretariat
    # Blind review: this reader is not shown who proposed it or who is on it.
    blind: bool = False

    @property
    def label(self) -> str:
        """Return the display number, such as ``WS #12``."""
        return self.proposal.label


# What a reviewer's queue and progress are read from: a write to any of
# these ends their kept answers (storage/readcache.py).
EVALUATION_TABLES: Final = (
    "proposal",
    "proposal_decision",
    "participation",
    "person",
    "identity_flag",
    "mag_member",
    "deadline",
    "review",
    "review_assignment",
    "review_tally",
    "review_round",
    "conflict_declaration",
    "conflict_dismissal",
)


@dataclass(frozen=True, slots=True)
class _ProposalRead:
    """What ``ProposalService.view`` reads, before who asks is applied (kept briefly)."""

    proposal: Proposal
    rows: tuple[tuple[Participation, Person], ...]
    review_count: int
    scores: ScoreSummary | None
    notes: tuple[ReviewNote, ...] | None
    screening: tuple[str, ...] | None


@dataclass(frozen=True)
class ProposalPage:
    """One page of ``/proposal list``."""

    items: list[ProposalRef]
    total: int
    page: int  # from 0
    pages: int
    filters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StatusChange:
    """A proposal that changed status, and who should be told."""

    proposal: ProposalRef
    before: str
    after: str
    reason: str | None
    notify_user_id: int | None  # the proposer, unless they made the change
    effect: object | None = None  # what the decision hook said (balance before -> after)

    @property
    def label(self) -> str:
        """Return the display number, such as ``WS #12``."""
        return self.proposal.label


@dataclass(frozen=True)
class Submitted:
    """A stored proposal, and whether this form had already submitted it."""

    proposal: ProposalView
    again: bool = False


def _limit(settings: GuildSettings, name: str, rule: str) -> int:
    """Return a field's maximum length: the guild's rule within the hard limits."""
    return max(1, min(int(settings.rule(rule)), HARD_LIMITS.get(name, FORM_MAX)))


def label_of(proposal: Proposal) -> str:
    """Return a proposal's display number, such as ``WS #12``."""
    return proposal_label(proposal.kind, proposal.number)


def proposer_to_tell(proposal: Proposal, actor_id: int | None) -> int | None:
    """Return the proposer to message about a change by ``actor_id`` (None: nobody).

    Nobody when the proposer made the change, or when the proposal was
    imported (``IMPORTED_PROPOSER``: there is no Discord account to message).
    """
    if proposal.proposer_id in (actor_id, IMPORTED_PROPOSER):
        return None
    return proposal.proposer_id


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
            _(
                "{status} is not a status. Use one of: {statuses}.",
                status=quoted(status, 30),
                statuses=", ".join(PROPOSAL_STATUSES),
            )
        )
    return key


def check_transition(proposal: Proposal, status: str) -> None:
    """Refuse a status change that ``TRANSITIONS`` does not allow."""
    label = label_of(proposal)
    if proposal.status == status:
        raise Conflict(_("{label} is already {status}.", label=label, status=status_label(status)))
    allowed = TRANSITIONS[proposal.status]
    if status not in allowed:
        state = status_label(proposal.status)
        if not allowed:
            raise Conflict(
                _("{label} is {status}: it can only become nothing.", label=label, status=state)
            )
        raise Conflict(
            _(
                "{label} is {status}: it can only become {options}.",
                label=label,
                status=state,
                options=", ".join(sorted(status_label(s) for s in allowed)),
            )
        )


async def load_proposal(
    session: AsyncSession, guild_id: int, number: int, *, for_update: bool = False
) -> Proposal:
    """Return the guild's proposal ``number`` or raise NotFound."""
    proposal = await get_proposal(session, guild_id=guild_id, number=number, for_update=for_update)
    if proposal is None:
        raise NotFound(
            _(
                "There is no proposal #{number} here. `/proposal list` shows them all.",
                number=number,
            )
        )
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
        screen_now: ScreenNow | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._config = config
        self._deadline_passed = deadline_passed
        self.on_decision = on_decision
        self.screen_now = screen_now

    async def form_limits(self, guild_id: int) -> FormLimits:
        """Return the guild's field limits (the modal enforces them as you type)."""
        settings = await self._config.get(guild_id)
        return FormLimits({name: _limit(settings, name, rule) for name, _, rule in FORM_FIELDS})

    def _check_choices(
        self, settings: GuildSettings, kind: str, fmt: str, duration: int, subtheme: str
    ) -> tuple[str, str, int, str]:
        kind_key = match_key(kind, KINDS, N_("session kind"))
        fmt = match(fmt, FORMATS, N_("format"))
        _check_duration(duration)
        return kind_key, fmt, duration, _check_subtheme(settings, subtheme)

    def _check_form(self, settings: GuildSettings, form: ProposalForm) -> ProposalForm:
        form = form.cleaned()
        for name, label, rule in FORM_FIELDS:
            value = getattr(form, name)
            limit = _limit(settings, name, rule)
            if not value:
                raise InvalidInput(
                    _("{field} is empty. Every field of the form is required.", field=_(label))
                )
            if len(value) > limit:
                raise InvalidInput(
                    _(
                        "{field} can be at most {limit} characters (yours has {count}). "
                        "Shorten it and try again.",
                        field=_(label),
                        limit=limit,
                        count=len(value),
                    )
                )
        return form

    async def _check_deadline(self, actor: Actor) -> None:
        # Outside any write transaction: the check opens a session of its own.
        if await self._deadline_passed(actor.guild_id, "proposals", self._clock()):
            raise Conflict(
                _("The deadline for proposals has passed: no new proposals are accepted.")
            )

    async def _check_proposer(
        self, session: AsyncSession, actor: Actor, settings: GuildSettings
    ) -> None:
        if actor.is_mag and not settings.rule("proposals.mag_may_submit"):
            raise PermissionDenied(
                _("MAG members may not submit proposals in this server: MAG members evaluate them.")
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
                ngettext(
                    "You already have {n} proposals and the limit is {limit}. "
                    "Withdraw one (`/proposal withdraw`) to submit another.",
                    "You already have {n} proposals and the limit is {limit}. "
                    "Withdraw one (`/proposal withdraw`) to submit another.",
                    mine,
                    limit=limit,
                )
            )

    async def check_can_submit(
        self, actor: Actor, *, kind: str, fmt: str, duration: int, subtheme: str
    ) -> tuple[str, str, int, str]:
        """Refuse before the form is shown, so nobody fills it in for nothing.

        Returns the choices as stored: (kind key, format, duration, subtheme).
        """
        settings = await self._config.get(actor.guild_id)
        choices = self._check_choices(settings, kind, fmt, duration, subtheme)
        await self._check_deadline(actor)
        async with self._db.read() as session:
            await self._check_proposer(session, actor, settings)
        return choices

    async def edit_choices(
        self, guild_id: int, *, fmt: str | None, duration: int | None, subtheme: str | None
    ) -> tuple[str | None, int | None, str | None]:
        """Return the new format, duration and subtheme an edit asks for, as stored."""
        settings = await self._config.get(guild_id)
        return (
            match(fmt, FORMATS, N_("format")) if fmt else None,
            _check_duration(duration) if duration else None,
            _check_subtheme(settings, subtheme) if subtheme else None,
        )

    async def submit(
        self,
        actor: Actor,
        *,
        kind: str = "workshop",
        fmt: str,
        duration: int,
        subtheme: str,
        form: ProposalForm,
        submission_key: str | None = None,
    ) -> Submitted:
        """Store a new proposal with the guild's next number and return it.

        Every rule is checked again here, at submit: the form may have been
        open for an hour, or across a restart, and the submitter's roles may
        have changed. A form submitted twice (same ``submission_key``) stores
        one proposal: the second answer says so.
        """
        settings = await self._config.get(actor.guild_id)
        kind, fmt, duration, subtheme = self._check_choices(settings, kind, fmt, duration, subtheme)
        form = self._check_form(settings, form)
        if submission_key is not None:
            async with self._db.read() as session:
                done = await get_by_submission_key(
                    session, guild_id=actor.guild_id, key=submission_key
                )
            if done is not None:
                return Submitted(view_of(done), again=True)
        await self._check_deadline(actor)
        now = self._clock()
        try:
            async with self._db.write() as session:
                if submission_key is not None:
                    done = await get_by_submission_key(
                        session, guild_id=actor.guild_id, key=submission_key
                    )
                    if done is not None:
                        return Submitted(view_of(done), again=True)
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
                        submission_key=submission_key,
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
        except IntegrityError:
            if submission_key is None:
                raise
            # The same form, submitted twice at once: the other submission won.
            async with self._db.read() as session:
                done = await get_by_submission_key(
                    session, guild_id=actor.guild_id, key=submission_key
                )
            if done is None:
                raise
            return Submitted(view_of(done), again=True)
        return Submitted(view_of(proposal))

    async def view(self, actor: Actor, number: int) -> ProposalDetail:
        """Return one proposal with its people and reviews, as this actor may see it."""
        settings = await self._config.get(actor.guild_id)
        with_scores = sees_scores(actor)

        async def load() -> _ProposalRead:
            async with self._db.read() as session:
                proposal = await load_proposal(session, actor.guild_id, number)
                assert proposal.id is not None
                rows = await people_on(session, guild_id=actor.guild_id, proposal_ids=[proposal.id])
                # The tally counts every review, conflicted ones too: that is the review count.
                tally = await score_histograms(
                    session, guild_id=actor.guild_id, proposal_ids=[proposal.id]
                )
                review_count = tally[proposal.id].total if proposal.id in tally else 0
                scores = None
                notes = None
                if with_scores:
                    found = await summaries(
                        session,
                        guild_id=actor.guild_id,
                        proposal_ids=[proposal.id],
                        histograms=tally,
                    )
                    scores = found.get(proposal.id, ScoreSummary.of([]))
                    notes = await self._review_notes(session, actor.guild_id, proposal.id, settings)
                screening = await self._screening_now(session, proposal, settings)
            return _ProposalRead(proposal, tuple(rows), review_count, scores, notes, screening)

        key = ("proposal", actor.guild_id, current(), number, with_scores)
        # The server's rules decide the screening and how reviewers are named.
        tables = (*EVALUATION_TABLES, "guild_config")
        found = await self._db.reads.get(key, load, now=self._clock(), tables=tables)
        proposal, rows, review_count = found.proposal, found.rows, found.review_count
        scores, notes, screening = found.scores, found.notes, found.screening
        people = None
        blind = reviews_blind(actor, settings.rules, proposer_id=proposal.proposer_id)
        if sees_people(actor, proposer_id=proposal.proposer_id, blind=blind):
            people = tuple(nominee(actor, pa, pe) for pa, pe in rows)
        return ProposalDetail(
            proposal=view_of(proposal),
            people=people,
            people_count=len(rows),
            review_count=review_count,
            scores=scores,
            private=sees_personal(actor),
            screening=screening,
            screened=proposal.screened_at is not None,
            reviews=notes,
            blind=blind,
        )

    @staticmethod
    async def _review_notes(
        session: AsyncSession, guild_id: int, proposal_id: int, settings: GuildSettings
    ) -> tuple[ReviewNote, ...]:
        """Return a proposal's reviews for the secretariat, reviewers named per the rule."""
        reviews = await reviews_of(session, guild_id=guild_id, proposal_id=proposal_id)
        conflicts = await find_conflicts(
            session,
            guild_id=guild_id,
            proposal_ids=[proposal_id],
            member_ids=[r.member_id for r in reviews],
        )
        named = bool(settings.rules.get(NAME_REVIEWERS, True))
        if not named:
            # Letters follow the assignments, which outlive a withdrawn or changed score,
            # so "Reviewer B" stays B; reviewers without an assignment come after.
            order = await assignment_order(session, guild_id=guild_id, proposal_id=proposal_id)
            reviews = sorted(reviews, key=lambda r: (order.get(r.member_id, len(order)), r.id))
        return tuple(
            ReviewNote(
                reviewer=f"<@{r.member_id}>"
                if named
                else _("Reviewer {letter}", letter=reviewer_letter(index)),
                score=r.score,
                comment=r.comment,
                merge=r.merge,
                conflicted=(proposal_id, r.member_id) in conflicts,
            )
            for index, r in enumerate(reviews)
        )

    async def _screening_now(
        self, session: AsyncSession, proposal: Proposal, settings: GuildSettings
    ) -> tuple[str, ...] | None:
        """Return the reasons it fails screening now (None: never screened, no screener)."""
        if self.screen_now is None or proposal.screened_at is None:
            return None
        failures = await self.screen_now(session, proposal, settings.rules)
        return tuple(f["reason"] for f in failures)

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
            subtheme = match(subtheme, settings.subthemes, N_("subtheme of this server"))
        proposer = actor.user_id if mine else None

        async def load() -> tuple[tuple[ProposalRef, ...], int, int, int]:
            async with self._db.read() as session:
                total = await count_proposals(
                    session,
                    guild_id=actor.guild_id,
                    statuses=statuses,
                    subtheme=subtheme or None,
                    proposer_id=proposer,
                )
                pages = max(1, math.ceil(total / page_size))
                shown = min(max(0, page), pages - 1)
                items = await list_proposals(
                    session,
                    guild_id=actor.guild_id,
                    statuses=statuses,
                    subtheme=subtheme or None,
                    proposer_id=proposer,
                    offset=shown * page_size,
                    limit=page_size,
                )
            return tuple(ref_of(p) for p in items), total, shown, pages

        key = (
            "proposals",
            actor.guild_id,
            tuple(statuses or ()),
            subtheme,
            proposer,
            page,
            page_size,
        )
        refs, total, page, pages = await self._db.reads.get(
            key, load, now=self._clock(), tables=("proposal",)
        )
        filters = {"status": statuses[0] if statuses else None, "subtheme": subtheme, "mine": mine}
        return ProposalPage(items=list(refs), total=total, page=page, pages=pages, filters=filters)

    async def suggest(self, guild_id: int, text: str) -> list[ProposalRef]:
        """Return up to 25 proposals for autocomplete: by number, else by title."""
        async with self._db.read() as session:
            found = await search_proposals(session, guild_id=guild_id, text=tidy(text)[:100])
        return [ref_of(p) for p in found]

    def _check_editor(self, actor: Actor, proposal: Proposal) -> None:
        if actor.can_act_as_secretariat:
            return
        if proposal.proposer_id != actor.user_id:
            raise PermissionDenied(
                _(
                    "Only the proposer of {label} or the secretariat can edit it.",
                    label=label_of(proposal),
                )
            )
        if proposal.status != "submitted":
            raise Conflict(
                _(
                    "{label} is {status}: only the secretariat can edit it now.",
                    label=label_of(proposal),
                    status=status_label(proposal.status),
                )
            )

    async def editable(self, actor: Actor, number: int) -> tuple[ProposalView, ProposalForm]:
        """Return the proposal and its current form, if this actor may edit it."""
        async with self._db.read() as session:
            proposal = await load_proposal(session, actor.guild_id, number)
        self._check_editor(actor, proposal)
        form = ProposalForm(
            title=proposal.title,
            description=proposal.description,
            policy_questions=proposal.policy_questions,
            expected_outcomes=proposal.expected_outcomes,
            hybrid_plan=proposal.hybrid_plan,
        )
        return view_of(proposal), form

    async def edit(
        self,
        actor: Actor,
        number: int,
        form: ProposalForm,
        *,
        fmt: str | None = None,
        duration: int | None = None,
        subtheme: str | None = None,
    ) -> ProposalView:
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
                changes["format"] = match(fmt, FORMATS, N_("format"))
            if duration:
                changes["duration"] = _check_duration(duration)
            if subtheme:
                changes["subtheme"] = _check_subtheme(settings, subtheme)
            before = {
                k: getattr(proposal, k) for k, v in changes.items() if getattr(proposal, k) != v
            }
            if not before:
                return view_of(proposal)
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
        return view_of(proposal)

    async def _warnings(
        self, session: AsyncSession, proposal: Proposal, status: str, settings: GuildSettings
    ) -> list[str]:
        """Return why deciding ``status`` now deserves a second look (empty: nothing)."""
        warnings: list[str] = []
        if status == "withdrawn" and proposal.status == "accepted":
            warnings.append(_("It is accepted: withdrawing takes it out of the programme."))
        if status not in PROPOSAL_DECISIONS:
            return warnings
        assert proposal.id is not None
        missing = await open_assignments(
            session, guild_id=proposal.guild_id, proposal_id=proposal.id
        )
        if missing:
            warnings.append(
                ngettext(
                    "{n} assigned reviewer has not scored it yet.",
                    "{n} assigned reviewers have not scored it yet.",
                    missing,
                )
            )
        due = await latest_due(session, guild_id=proposal.guild_id, kind="reviews")
        if due is not None and due > self._clock():
            warnings.append(
                _(
                    "The review deadline has not passed ({when}).",
                    when=f"<t:{int(due.timestamp())}:R>",
                )
            )
        if self.screen_now is not None:
            failures = await self.screen_now(session, proposal, settings.rules)
            stored = (proposal.screening or {}).get("failures") if proposal.screening else None
            if proposal.screened_at is None:
                warnings.append(_("It was never screened."))
            elif stored is None or {f["rule"] for f in failures} != {f.get("rule") for f in stored}:
                warnings.append(
                    _(
                        "Its screening is out of date: the people or the text changed since "
                        "(`/proposal screen number:` to run it again)."
                    )
                )
            elif failures and status == "accepted":
                warnings.append(
                    ngettext(
                        "It fails {n} screening rule(s).",
                        "It fails {n} screening rule(s).",
                        len(failures),
                    )
                )
        return warnings

    async def _move(
        self,
        actor: Actor,
        number: int,
        status: str,
        reason: str | None,
        *,
        check: Callable[[Proposal], None],
        merged_into: int | None = None,
        confirmed: bool = False,
    ) -> StatusChange:
        reason = tidy(reason)[:1000] or None
        settings = await self._config.get(actor.guild_id)
        now = self._clock()
        async with self._db.write() as session:
            proposal = await load_proposal(session, actor.guild_id, number, for_update=True)
            check(proposal)
            check_transition(proposal, status)
            if merged_into is not None and status != "merged":
                raise InvalidInput(_("`merged_into` goes with the status merged only."))
            if status == "merged":
                if merged_into is None:
                    raise InvalidInput(
                        _("Say which proposal it was merged into with `merged_into:`.")
                    )
                if merged_into == number:
                    raise InvalidInput(_("A proposal cannot be merged into itself."))
                target = await load_proposal(session, actor.guild_id, merged_into)
                if target.status not in MERGE_TARGETS:
                    raise Conflict(
                        _(
                            "{label} is {status}: a proposal can only be merged into a live one "
                            "(submitted, under review or accepted).",
                            label=label_of(target),
                            status=status_label(target.status),
                        )
                    )
                # Stored as the status reason: in the language of whoever merged it.
                reason = reason or _("Merged into {label}.", label=label_of(target))
            if not confirmed:
                warnings = await self._warnings(session, proposal, status, settings)
                if warnings or status in HEAVY:
                    if status == "withdrawn":
                        question = _(
                            "{label} will become {status}.",
                            label=label_of(proposal),
                            status=status_label(status),
                        )
                    else:
                        question = _(
                            "{label} will become {status} and its proposer will be told.",
                            label=label_of(proposal),
                            status=status_label(status),
                        )
                    raise ConfirmationNeeded(question, warnings)
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
        return StatusChange(ref_of(proposal), before, status, reason, notify, effect)

    async def withdraw(
        self, actor: Actor, number: int, reason: str | None = None, *, confirmed: bool = False
    ) -> StatusChange:
        """Withdraw a proposal (its proposer, or the secretariat); accepted ones ask first."""

        def check(proposal: Proposal) -> None:
            if proposal.proposer_id != actor.user_id and not actor.can_act_as_secretariat:
                raise PermissionDenied(
                    _(
                        "Only the proposer of {label} or the secretariat can withdraw it.",
                        label=label_of(proposal),
                    )
                )

        return await self._move(
            actor, number, "withdrawn", reason, check=check, confirmed=confirmed
        )

    async def set_status(
        self,
        actor: Actor,
        number: int,
        status: str,
        reason: str | None = None,
        *,
        merged_into: int | None = None,
        confirmed: bool = False,
    ) -> StatusChange:
        """Move a proposal along ``TRANSITIONS`` (secretariat).

        Rejecting always asks for confirmation; accepting or rejecting with
        scores missing, before the review deadline or with stale screening
        says so and asks too (``ConfirmationNeeded``); ``confirmed`` goes ahead.
        """
        require_secretariat(actor)
        status = check_status(status)
        if status == "conditional":
            raise InvalidInput(
                _(
                    "A conditional acceptance needs its conditions: draft it with `/decision "
                    "draft outcome:conditional conditions:…`, then `/decision publish`."
                )
            )
        if status == "accepted":
            async with self._db.read() as session:
                proposal = await load_proposal(session, actor.guild_id, number)
                if proposal.status == "conditional":
                    raise InvalidInput(
                        _(
                            "{label} is accepted on conditions: once they are met, record it "
                            "with `/decision conditions proposal:{number}` (its proposer is "
                            "told and keeps their slot).",
                            label=label_of(proposal),
                            number=number,
                        )
                    )
        return await self._move(
            actor,
            number,
            status,
            reason,
            check=lambda _: None,
            merged_into=merged_into,
            confirmed=confirmed,
        )

"""Screening by the secretariat: the IGF's eligibility rules, each a guild setting.

``evaluate`` is pure: it takes one proposal, the people on it and a few facts
about the rest of the guild, and returns every failing rule with its reason.
``ScreeningService.screen`` gathers those facts in a handful of queries,
stores each result on its proposal and, when asked, moves proposals on.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import ConfirmationNeeded, Conflict
from bot.i18n import _, ngettext
from bot.services.auth import Actor, require_secretariat
from bot.services.config import ConfigService
from bot.services.digests import SectionProvider
from bot.services.outbox import DigestSection
from bot.services.proposals import (
    FORM_FIELDS,
    label_of,
    load_proposal,
    target_of,
)
from bot.services.taxonomy import ACTIVE_PARTICIPATION, PREFER_NOT_TO_SAY
from bot.services.text import Line, Typed, parted, slot
from storage.audit import record_event
from storage.database import Database
from storage.digests import events_between
from storage.panellists import Participation, Person, people_on, sessions_per_person
from storage.profiles import list_members
from storage.proposals import Proposal, list_proposals

# What ``/proposal screen`` looks at without a number.
SCREENED_STATUSES: Final = ("submitted", "screened_out")
# Proposals that still count against a proposer's or a speaker's maximum.
LIVE_STATUSES: Final = (
    "submitted",
    "under_review",
    "accepted",
    "conditional",
    "waitlisted",
)
SPEAKER_ROLES: Final = ("speaker",)
MODERATOR_ROLES: Final = ("onsite_moderator",)

RULE_NAMES: Final = (
    "screening.complete_fields",
    "screening.min_speakers_agreed",
    "screening.gender_diversity",
    "screening.min_onsite_moderators",
    "screening.min_onsite_speakers",
    "screening.proposer_not_mag",
    "screening.max_proposals_per_proposer",
    "screening.max_sessions_per_speaker",
    "screening.min_stakeholder_groups",
    "screening.min_regions",
)


@dataclass(frozen=True)
class Failure:
    """One screening rule a proposal does not meet, and why."""

    rule: str
    reason: str


@dataclass(frozen=True)
class Facts:
    """What screening one proposal needs to know beyond its own people."""

    proposer_is_mag: bool = False
    # 1 for the proposer's earliest live proposal, 2 for the next...
    proposer_rank: int = 1
    # Live sessions each person speaks in, by person id.
    sessions: Mapping[int, int] = field(default_factory=dict)


def _agreed(participation: Participation) -> bool:
    """Return whether the person agreed to take part (their own answer, or recorded)."""
    return participation.agreed_in_principle or participation.status == "confirmed"


def evaluate(
    proposal: Proposal,
    people: Sequence[tuple[Participation, Person]],
    rules: Mapping[str, Any],
    facts: Facts,
) -> list[Failure]:
    """Return every screening rule ``proposal`` fails (empty: it passes)."""
    failures: list[Failure] = []

    def fail(rule: str, reason: str) -> None:
        failures.append(Failure(rule.removeprefix("screening."), reason))

    active = [(pa, pe) for pa, pe in people if pa.status in ACTIVE_PARTICIPATION]
    speakers = [(pa, pe) for pa, pe in active if pa.role in SPEAKER_ROLES]

    if rules.get("screening.complete_fields"):
        empty = [
            _(label) for name, label, _rule in FORM_FIELDS if not getattr(proposal, name).strip()
        ]
        if empty:
            fail("screening.complete_fields", _("Empty: {fields}.", fields=", ".join(empty)))

    needed = int(rules.get("screening.min_speakers_agreed") or 0)
    if needed:
        agreed = sum(1 for pa, _pe in speakers if _agreed(pa))
        if agreed < needed:
            fail(
                "screening.min_speakers_agreed",
                ngettext(
                    "{n} speaker agreed in principle; at least {needed} needed.",
                    "{n} speakers agreed in principle; at least {needed} needed.",
                    agreed,
                    needed=needed,
                ),
            )

    if rules.get("screening.gender_diversity"):
        stated = {pe.gender for _pa, pe in speakers if pe.gender != PREFER_NOT_TO_SAY}
        if len(stated) < 2:
            # The reason is shown to everyone and kept: it names no gender,
            # counts nobody (a count of one tells who) and says nothing of who
            # preferred not to say (which telling "nobody stated one" apart
            # from "one gender among those who did" would).
            if not speakers:
                reason = _("No speakers yet, so no gender diversity.")
            else:
                reason = _(
                    "Gender diversity not met: fewer than 2 genders among the speakers "
                    "(the secretariat sees the details)."
                )
            fail("screening.gender_diversity", reason)

    needed = int(rules.get("screening.min_onsite_moderators") or 0)
    if needed:
        # Only people who agreed count: a moderator nobody asked yet is no moderator.
        onsite = sum(
            1
            for pa, _pe in active
            if pa.role in MODERATOR_ROLES and pa.attendance == "onsite" and _agreed(pa)
        )
        if onsite < needed:
            fail(
                "screening.min_onsite_moderators",
                ngettext(
                    "{n} moderator onsite; at least {needed} needed.",
                    "{n} moderators onsite; at least {needed} needed.",
                    onsite,
                    needed=needed,
                ),
            )

    needed = int(rules.get("screening.min_onsite_speakers") or 0)
    if needed:
        onsite = sum(1 for pa, _pe in speakers if pa.attendance == "onsite" and _agreed(pa))
        if onsite < needed:
            fail(
                "screening.min_onsite_speakers",
                ngettext(
                    "{n} speaker onsite; at least {needed} needed.",
                    "{n} speakers onsite; at least {needed} needed.",
                    onsite,
                    needed=needed,
                ),
            )

    if rules.get("screening.proposer_not_mag") and facts.proposer_is_mag:
        fail("screening.proposer_not_mag", _("The proposer is a MAG member."))

    limit = int(rules.get("screening.max_proposals_per_proposer") or 0)
    if limit and facts.proposer_rank > limit:
        fail(
            "screening.max_proposals_per_proposer",
            _(
                "The proposer's proposal number {rank}; at most {limit} allowed.",
                rank=facts.proposer_rank,
                limit=limit,
            ),
        )

    limit = int(rules.get("screening.max_sessions_per_speaker") or 0)
    if limit:
        # A count, not names: the reason is shown to everyone and outlives ``forget``.
        busy = len(
            {
                pe.id
                for _pa, pe in speakers
                if pe.id is not None and facts.sessions.get(pe.id, 0) > limit
            }
        )
        if busy:
            # Two counts: the sessions go in as a phrase of their own.
            sessions = ngettext("{n} session", "{n} sessions", limit)
            fail(
                "screening.max_sessions_per_speaker",
                ngettext(
                    "{n} speaker is in more than {sessions}.",
                    "{n} speakers are in more than {sessions}.",
                    busy,
                    sessions=sessions,
                ),
            )

    needed = int(rules.get("screening.min_stakeholder_groups") or 0)
    if needed:
        groups = {pe.stakeholder_group for _pa, pe in active}
        if len(groups) < needed:
            fail(
                "screening.min_stakeholder_groups",
                ngettext(
                    "{n} stakeholder group among the people; at least {needed} needed.",
                    "{n} stakeholder groups among the people; at least {needed} needed.",
                    len(groups),
                    needed=needed,
                ),
            )

    needed = int(rules.get("screening.min_regions") or 0)
    if needed:
        regions = {pe.region for _pa, pe in active}
        if len(regions) < needed:
            fail(
                "screening.min_regions",
                ngettext(
                    "{n} region among the people; at least {needed} needed.",
                    "{n} regions among the people; at least {needed} needed.",
                    len(regions),
                    needed=needed,
                ),
            )
    return failures


@dataclass(frozen=True)
class ScreeningResult:
    """The outcome of screening one proposal."""

    number: int
    label: str
    title: str
    failures: list[Failure]
    moved_to: str | None = None  # the new status when the result was applied
    moved_from: str | None = None
    proposer_id: int | None = None
    # The same failures, written again in the current language (for the
    # proposer's DM, in their language rather than the screener's).
    explain: Callable[[], list[Failure]] | None = field(default=None, compare=False, repr=False)

    def in_current_language(self) -> ScreeningResult:
        """Return this result with its reasons written in the current language."""
        if self.explain is None:
            return self
        return dataclasses.replace(self, failures=self.explain())

    @property
    def passed(self) -> bool:
        """Return whether every rule is met."""
        return not self.failures


@dataclass(frozen=True)
class ScreeningReport:
    """Every result of one ``/proposal screen`` run."""

    results: list[ScreeningResult]
    applied: bool

    @property
    def passed(self) -> int:
        """Return how many proposals passed."""
        return sum(1 for r in self.results if r.passed)


class ScreeningService:
    """Screen proposals against the guild's rules."""

    def __init__(self, db: Database, clock: Callable[[], datetime], config: ConfigService) -> None:
        self._db = db
        self._clock = clock
        self._config = config

    async def _facts(
        self,
        session: AsyncSession,
        guild_id: int,
        proposals: Sequence[Proposal],
        people: Mapping[int, list[tuple[Participation, Person]]],
    ) -> dict[int, Facts]:
        proposers = {p.proposer_id for p in proposals}
        mag = {m.user_id for m in await list_members(session, guild_id=guild_id)}
        # Rank each proposal among its proposer's live ones, by number.
        live = await list_proposals(session, guild_id=guild_id, statuses=LIVE_STATUSES)
        order: dict[int, list[int]] = defaultdict(list)
        for p in live:
            if p.proposer_id in proposers:
                order[p.proposer_id].append(p.number)
        person_ids = {pe.id for rows in people.values() for _, pe in rows if pe.id is not None}
        sessions = await sessions_per_person(
            session,
            guild_id=guild_id,
            person_ids=person_ids,
            roles=SPEAKER_ROLES,
            active=ACTIVE_PARTICIPATION,
            proposal_statuses=LIVE_STATUSES,
        )
        facts = {}
        for p in proposals:
            numbers = order.get(p.proposer_id, [])
            rank = numbers.index(p.number) + 1 if p.number in numbers else len(numbers) + 1
            facts[p.number] = Facts(
                proposer_is_mag=p.proposer_is_mag or p.proposer_id in mag,
                proposer_rank=rank,
                sessions=sessions,
            )
        return facts

    async def failures_now(
        self, session: AsyncSession, proposal: Proposal, rules: Mapping[str, Any]
    ) -> list[dict[str, str]]:
        """Return the rules ``proposal`` fails now, read in the caller's session.

        The proposals feature asks this for ``/proposal view`` and before a
        decision, so a proposal whose people changed since it was screened
        shows where it stands today, not what the last screening run said.
        """
        assert proposal.id is not None
        people = await people_on(session, guild_id=proposal.guild_id, proposal_ids=[proposal.id])
        facts = await self._facts(session, proposal.guild_id, [proposal], {proposal.id: people})
        failures = evaluate(proposal, people, rules, facts[proposal.number])
        return [{"rule": f.rule, "reason": f.reason} for f in failures]

    async def _evaluate(
        self, session: AsyncSession, actor: Actor, number: int | None, rules: Mapping[str, Any]
    ) -> list[tuple[Proposal, list[Failure], list[tuple[Participation, Person]], dict[int, Facts]]]:
        """Return each proposal screened: its failures, and the people and facts they came from."""
        if number is not None:
            proposals = [await load_proposal(session, actor.guild_id, number, for_update=True)]
        else:
            proposals = await list_proposals(
                session, guild_id=actor.guild_id, statuses=SCREENED_STATUSES
            )
        if not proposals:
            raise Conflict(_("No proposal is waiting for screening (submitted or screened out)."))
        ids = [p.id for p in proposals if p.id is not None]
        people: dict[int, list[tuple[Participation, Person]]] = defaultdict(list)
        for pa, pe in await people_on(session, guild_id=actor.guild_id, proposal_ids=ids):
            people[pa.proposal_id].append((pa, pe))
        facts = await self._facts(session, actor.guild_id, proposals, people)
        return [
            (p, evaluate(p, people[p.id or 0], rules, facts[p.number]), people[p.id or 0], facts)
            for p in proposals
        ]

    async def screen(
        self,
        actor: Actor,
        number: int | None = None,
        *,
        apply: bool = False,
        confirmed: bool = False,
    ) -> ScreeningReport:
        """Screen one proposal, or every submitted and screened-out one; store the results.

        With ``apply``, a submitted proposal that fails becomes screened out and
        one that passes goes under review (a screened-out one that now passes
        too). Applying is a bulk change: unless ``confirmed``, it raises
        ``ConfirmationNeeded`` saying how many proposals would move.
        """
        require_secretariat(actor)
        settings = await self._config.get(actor.guild_id)
        if apply and not confirmed:
            async with self._db.read() as session:
                evaluated = await self._evaluate(session, actor, number, settings.rules)
            moves = [_applied_status(p.status, passed=not f) for p, f, _pe, _fa in evaluated]
            review = moves.count("under_review")
            out = moves.count("screened_out")
            if review or out:
                raise ConfirmationNeeded(
                    ngettext(
                        "Screening {n} proposal(s) will move {moved}: {review} under review, "
                        "{out} screened out. Each of their proposers will get a direct message.",
                        "Screening {n} proposal(s) will move {moved}: {review} under review, "
                        "{out} screened out. Each of their proposers will get a direct message.",
                        len(evaluated),
                        moved=review + out,
                        review=review,
                        out=out,
                    )
                )
        now = self._clock()
        results: list[ScreeningResult] = []
        async with self._db.write() as session:
            evaluated = await self._evaluate(session, actor, number, settings.rules)
            moved = 0
            for proposal, failures, on_it, facts in evaluated:
                # Stored (the reasons too): in the language of whoever screened.
                proposal.screening = {
                    "passed": not failures,
                    "failures": [{"rule": f.rule, "reason": f.reason} for f in failures],
                }
                proposal.screened_at = now
                new_status = (
                    _applied_status(proposal.status, passed=not failures) if apply else None
                )
                old_status = proposal.status
                if new_status is not None:
                    before = proposal.status
                    proposal.status = new_status
                    proposal.status_reason = (
                        _("Screening: {reasons}", reasons=" ".join(f.reason for f in failures))
                        if failures
                        else None
                    )
                    proposal.updated_at = now
                    moved += 1
                    await record_event(
                        session,
                        guild_id=actor.guild_id,
                        actor_id=actor.user_id,
                        action="proposal.status",
                        target=target_of(proposal),
                        before={"status": before},
                        after={"status": new_status},
                        note=(proposal.status_reason or _("Passed screening."))[:500],
                        at=now,
                    )
                results.append(
                    ScreeningResult(
                        number=proposal.number,
                        label=label_of(proposal),
                        title=proposal.title,
                        failures=failures,
                        moved_to=new_status,
                        moved_from=old_status if new_status else None,
                        proposer_id=proposal.proposer_id or None,  # 0: imported, nobody
                        explain=functools.partial(
                            evaluate, proposal, on_it, settings.rules, facts[proposal.number]
                        ),
                    )
                )
            passed = sum(1 for r in results if r.passed)
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="proposal.screen",
                target=target_of(evaluated[0][0]) if number is not None else "screening",
                after={"screened": len(results), "passed": passed, "moved": moved},
                at=now,
            )
        return ScreeningReport(results=results, applied=apply)


def screening_section_for(service: ScreeningService) -> SectionProvider:
    """Return the digest section of proposals screened out in the period, as they stand now.

    A proposal screened out and since put right (its people confirmed) is
    listed as passing now, so the digest never shows a stale failure; one no
    longer screened out is left out.
    """

    async def section(
        session: AsyncSession, guild_id: int, since: datetime, until: datetime, settings: Any
    ) -> DigestSection | None:
        events = await events_between(
            session, guild_id=guild_id, since=since, until=until, actions=("proposal.status",)
        )
        numbers = list(
            dict.fromkeys(
                int(e.target.split(":", 1)[1])
                for e in events
                if isinstance(e.after, dict)
                and e.after.get("status") == "screened_out"
                and (e.target or "").startswith("proposal:")
            )
        )
        if not numbers:
            return None
        found = await list_proposals(session, guild_id=guild_id, statuses=("screened_out",))
        still = [p for p in found if p.number in set(numbers)]
        if not still:
            return None
        lines: list[Line] = []
        for proposal in still[:15]:
            failures = await service.failures_now(session, proposal, settings.rules)
            if failures:
                reasons = " ".join(f["reason"] for f in failures)
                lines.append(
                    parted(
                        _(
                            "{label}: {reasons}",
                            label=label_of(proposal),
                            reasons=slot("reasons"),
                        ),
                        reasons=Typed(reasons, 200),
                    )
                )
            else:
                lines.append(
                    (
                        _(
                            "{label}: passes now; `/proposal screen number:{number} apply:true` "
                            "moves it under review",
                            label=label_of(proposal),
                            number=proposal.number,
                        ),
                    )
                )
        if len(still) > 15:
            lines.append(
                (
                    _(
                        "…and {count} more (`/proposal list status:screened_out`)",
                        count=len(still) - 15,
                    ),
                )
            )
        return DigestSection(
            name="screening",
            title=_("Screened out ({count})", count=len(still)),
            lines=tuple(lines),
            order=20,
        )

    return section


def _applied_status(status: str, *, passed: bool) -> str | None:
    """Return where applying a screening result moves a proposal (None: it stays)."""
    if status == "submitted":
        return "under_review" if passed else "screened_out"
    if status == "screened_out" and passed:
        return "under_review"
    return None

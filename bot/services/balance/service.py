"""The balance service behind ``/balance`` and the decision guardrails."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from bot.errors import InvalidInput, NotFound
from bot.i18n import _, pgettext
from bot.services.auth import Actor
from bot.services.balance.judgement import Scope, Targets
from bot.services.balance.metrics import PROGRAMME_STATUSES
from bot.services.balance.reports import (
    BalanceReport,
    FunnelReport,
    FunnelStage,
    NamedSeat,
    funnel_flags,
    make_report,
    redact,
)
from bot.services.balance.scopes import (
    check_kind,
    check_nomination_status,
    check_proposal_status,
    mag_scope,
    panellists_scope,
    programme_scope,
    programme_selection,
    require_viewer,
)
from bot.services.config import ConfigService, GuildSettings
from bot.services.taxonomy import (
    ACTIVE_PARTICIPATION,
    ROLES,
    proposal_label,
)
from bot.services.visibility import hides_small_counts, min_count
from storage.balance import (
    SeatCounts,
    Selection,
    member_counts,
    seat_counts,
)
from storage.database import Database
from storage.panellists import people_on
from storage.proposals import get_proposal


class BalanceService:
    """Counts, shares and warnings for ``/balance``: aggregates, names for the secretariat only."""

    def __init__(self, db: Database, clock: Callable[[], datetime], config: ConfigService) -> None:
        self._db = db
        self._clock = clock
        self._config = config

    @staticmethod
    def _for(actor: Actor, report: BalanceReport, settings: GuildSettings) -> BalanceReport:
        """Return the report as ``actor`` may see it (small sensitive groups: secretariat only)."""
        if not hides_small_counts(actor):
            return report
        return redact(report, min_count(settings.rules))

    async def _count(self, guild_id: int, selections: Sequence[Selection]) -> list[SeatCounts]:
        async with self._db.read() as session:
            return await seat_counts(session, guild_id=guild_id, selections=selections)

    async def proposal(self, actor: Actor, number: int) -> BalanceReport:
        """Return the balance of everyone active on one session (names for the secretariat)."""
        require_viewer(actor)
        if number < 1:
            raise InvalidInput(_("Proposal numbers start at 1."))
        settings = await self._config.get(actor.guild_id)
        async with self._db.read() as session:
            proposal = await get_proposal(session, guild_id=actor.guild_id, number=number)
            if proposal is None or proposal.id is None:
                raise NotFound(
                    _(
                        "There is no proposal #{number} here. `/proposal list` shows them.",
                        number=number,
                    )
                )
            (counts,) = await seat_counts(
                session,
                guild_id=actor.guild_id,
                selections=[
                    Selection(participation_statuses=ACTIVE_PARTICIPATION, proposal_id=proposal.id)
                ],
            )
            names = None
            if actor.can_act_as_secretariat:
                rows = await people_on(session, guild_id=actor.guild_id, proposal_ids=[proposal.id])
                names = tuple(
                    NamedSeat(
                        name=pe.name,
                        role=_(ROLES.get(pa.role, pa.role)),
                        status=pa.status,
                        stakeholder_group=pe.stakeholder_group,
                        region=pe.region,
                        gender=pe.gender,
                    )
                    for pa, pe in rows
                    if pa.status in ACTIVE_PARTICIPATION
                )
        label = proposal_label(proposal.kind, proposal.number)
        scope = Scope(
            kind="proposal",
            title=_("{proposal}: everyone on the session", proposal=label),
            seats_phrase=_("seats on {proposal}", proposal=label),
            who=pgettext("nobody from", "one"),
            where=" " + _("on {proposal}", proposal=label),
        )
        return self._for(actor, make_report(counts, scope, settings.rules, names=names), settings)

    async def programme(
        self, actor: Actor, status: str | None = None, kind: str | None = None
    ) -> BalanceReport:
        """Return the balance of confirmed seats on proposals with ``status`` (default accepted)."""
        require_viewer(actor)
        proposal_status = check_proposal_status(status)
        kind_key = check_kind(kind)
        settings = await self._config.get(actor.guild_id)
        (counts,) = await self._count(
            actor.guild_id, [programme_selection(proposal_status, kind_key)]
        )
        report = make_report(counts, programme_scope(proposal_status, kind_key), settings.rules)
        return self._for(actor, report, settings)

    async def panellists(self, actor: Actor, status: str | None = None) -> BalanceReport:
        """Return the balance of nominations with ``status`` (None: every nomination)."""
        require_viewer(actor)
        key = check_nomination_status(status)
        settings = await self._config.get(actor.guild_id)
        selection = Selection(participation_statuses=None if key is None else (key,))
        (counts,) = await self._count(actor.guild_id, [selection])
        return self._for(
            actor, make_report(counts, panellists_scope(key), settings.rules), settings
        )

    async def mag(self, actor: Actor) -> BalanceReport:
        """Return the MAG's composition from member profiles, against the MAG seat rule."""
        require_viewer(actor)
        settings = await self._config.get(actor.guild_id)
        async with self._db.read() as session:
            counts = await member_counts(session, guild_id=actor.guild_id)
        report = make_report(
            counts,
            mag_scope(),
            settings.rules,
            dimensions=("stakeholder_group", "region", "gender"),
        )
        return self._for(actor, report, settings)

    async def funnel(self, actor: Actor) -> FunnelReport:
        """Return shares at nominated, invited, confirmed, and at submitted, accepted."""
        require_viewer(actor)
        settings = await self._config.get(actor.guild_id)
        rules = settings.rules
        one = pgettext("nobody from", "one")
        labels = (
            pgettext("funnel stage", "Nominated"),
            pgettext("funnel stage", "Invited"),
            pgettext("funnel stage", "Confirmed"),
            pgettext("funnel stage", "Submitted"),
            pgettext("funnel stage", "Accepted"),
        )
        stages: list[tuple[Selection, Scope]] = [
            (
                Selection(),
                Scope("funnel", labels[0], _("nominations"), pgettext("nobody from", "nominee")),
            ),
            (
                Selection(participation_statuses=("invited", "confirmed")),
                Scope(
                    "funnel",
                    labels[1],
                    _("invited or confirmed seats"),
                    pgettext("nobody from", "invited panellist"),
                ),
            ),
            (
                Selection(participation_statuses=("confirmed",)),
                Scope(
                    "funnel",
                    labels[2],
                    _("confirmed seats"),
                    pgettext("nobody from", "confirmed panellist"),
                ),
            ),
            (
                Selection(participation_statuses=ACTIVE_PARTICIPATION),
                Scope("funnel", labels[3], _("seats on all proposals"), one),
            ),
            (
                Selection(
                    participation_statuses=ACTIVE_PARTICIPATION,
                    proposal_statuses=PROGRAMME_STATUSES,
                ),
                Scope("funnel", labels[4], _("seats on accepted proposals"), one),
            ),
        ]
        counts = await self._count(actor.guild_id, [selection for selection, _scope in stages])
        built = [
            FunnelStage(scope.title, make_report(c, scope, rules))
            for (_selection, scope), c in zip(stages, counts, strict=True)
        ]
        targets = Targets.from_rules(rules)
        drop, least = targets.funnel_drop_points, targets.min_seats
        # Drops are found on the full counts, then shown as the reader may see them.
        flags = [
            funnel_flags(built[:3], drop, least),
            funnel_flags(built[3:], drop, least),
        ]
        shown = [FunnelStage(s.label, self._for(actor, s.report, settings)) for s in built]
        # A dimension hidden at one stage is hidden at all: stages are compared side by side.
        common = set.intersection(*({d.key for d in s.report.dimensions} for s in shown))
        shown = [
            FunnelStage(
                s.label,
                replace(
                    s.report,
                    dimensions=tuple(d for d in s.report.dimensions if d.key in common),
                ),
            )
            for s in shown
        ]
        if hides_small_counts(actor):
            # Flags of a dimension left out (``redact``) would tell what it hides.
            visible = {d.key for d in shown[0].report.dimensions}
            flags = [[f for f in group if f.dimension in visible] for group in flags]
        scope = Scope("funnel", _("Funnel: nominations and selection"), _("seats"), one)
        return FunnelReport(
            scope, tuple(shown[:3]), tuple(shown[3:]), tuple(flags[0]), tuple(flags[1]), drop
        )

"""Guardrails at decision time: the programme's balance before and after one decision."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import _
from bot.services.balance.judgement import BalanceWarning, Scope
from bot.services.balance.reports import BalanceReport, make_report
from bot.services.balance.scopes import programme_scope, programme_selection
from bot.services.config import settings_from_row
from bot.services.proposals import Decision
from bot.services.visibility import SENSITIVE_DIMENSIONS
from storage.audit import record_event
from storage.balance import (
    Selection,
    seat_counts,
)
from storage.config import get_guild_config


@dataclass(frozen=True)
class DecisionChange:
    """One decision: a participation or a proposal moving from one status to another."""

    subject: Literal["participation", "proposal"]
    id: int
    before: str
    after: str


@dataclass(frozen=True)
class ShareShift:
    """How one category's share of the programme moves with a decision."""

    dimension: str  # label
    category: str
    before: float
    after: float
    key: str = ""  # the dimension's key


@dataclass(frozen=True)
class BalanceEffect:
    """The programme's balance before and after one decision."""

    scope: Scope
    seats_before: int
    seats_after: int
    people_before: int
    people_after: int
    shifts: tuple[ShareShift, ...]
    new_warnings: tuple[BalanceWarning, ...]  # breached by this decision
    resolved: tuple[BalanceWarning, ...]  # met again thanks to it
    still: tuple[BalanceWarning, ...]  # breached before and after

    @property
    def changed(self) -> bool:
        """Return whether the decision changes the programme at all."""
        return (self.seats_before, self.people_before) != (self.seats_after, self.people_after)

    @property
    def breached(self) -> bool:
        """Return whether the decision breaches a target that was met before."""
        return bool(self.new_warnings)

    def without_sensitive(self) -> BalanceEffect:
        """Return the effect without gender and youth (for all but the secretariat).

        One decision moves one person: a shift or a new warning in a
        sensitive dimension would tell that person's gender.
        """

        def keep(w: BalanceWarning) -> bool:
            return w.dimension not in SENSITIVE_DIMENSIONS

        return replace(
            self,
            shifts=tuple(s for s in self.shifts if s.key not in SENSITIVE_DIMENSIONS),
            new_warnings=tuple(filter(keep, self.new_warnings)),
            resolved=tuple(filter(keep, self.resolved)),
            still=tuple(filter(keep, self.still)),
        )


def _with_override(selection: Selection, change: DecisionChange, status: str) -> Selection:
    if change.subject == "participation":
        return replace(selection, participation_override=(change.id, status))
    return replace(selection, proposal_override=(change.id, status))


def compare(before: BalanceReport, after: BalanceReport) -> BalanceEffect:
    """Return the effect of going from ``before`` to ``after``."""
    shifts = []
    for dimension in after.dimensions:
        old = before.dimension(dimension.key)
        moves = [
            (abs(c.share - old.share_of(c.name)), c.name, old.share_of(c.name), c.share)
            for c in dimension.categories
            if c.seats != old.seats_of(c.name)
        ]
        if moves:
            _gap, name, was, now = max(moves, key=lambda m: m[0])
            shifts.append(ShareShift(dimension.label, name, was, now, dimension.key))
    old_keys = {w.key for w in before.warnings}
    new_keys = {w.key for w in after.warnings}
    # A warning that disappears because the count fell below the targets' reach
    # was not met: only a judged count can say so.
    resolved = tuple(w for w in before.warnings if w.key not in new_keys) if after.judged else ()
    return BalanceEffect(
        scope=after.scope,
        seats_before=before.seats,
        seats_after=after.seats,
        people_before=before.people,
        people_after=after.people,
        shifts=tuple(shifts),
        new_warnings=tuple(w for w in after.warnings if w.key not in old_keys),
        resolved=resolved,
        still=tuple(w for w in after.warnings if w.key in old_keys),
    )


async def effect_of(
    session: AsyncSession, *, guild_id: int, change: DecisionChange, rules: Mapping[str, Any]
) -> BalanceEffect:
    """Return the decision's effect on the programme (confirmed seats on accepted proposals).

    Call it inside the decision's transaction, before or after the status is
    written: both counts override the changed row's status, so the answer is
    the same either way. One query counts both.
    """
    base = programme_selection()
    before, after = await seat_counts(
        session,
        guild_id=guild_id,
        selections=[
            _with_override(base, change, change.before),
            _with_override(base, change, change.after),
        ],
    )
    scope = programme_scope()
    return compare(make_report(before, scope, rules), make_report(after, scope, rules))


async def record_effect(
    session: AsyncSession,
    *,
    guild_id: int,
    actor_id: int | None,
    target: str,
    effect: BalanceEffect,
    at: datetime | None = None,
) -> None:
    """Audit the targets a decision breached (nothing when it breached none)."""
    if not effect.new_warnings:
        return
    await record_event(
        session,
        guild_id=guild_id,
        actor_id=actor_id,
        action="balance.warning",
        target=target,
        after={
            "warnings": [w.text for w in effect.new_warnings],
            "rules": sorted({w.rule for w in effect.new_warnings}),
        },
        note=_("Decision made despite the balance warning(s)."),
        at=at,
    )


async def guard_decision(
    session: AsyncSession,
    *,
    guild_id: int,
    actor_id: int | None,
    target: str,
    change: DecisionChange,
    rules: Mapping[str, Any],
    at: datetime | None = None,
) -> BalanceEffect:
    """Return the decision's effect on the programme, auditing any target it breaches."""
    effect = await effect_of(session, guild_id=guild_id, change=change, rules=rules)
    await record_effect(
        session, guild_id=guild_id, actor_id=actor_id, target=target, effect=effect, at=at
    )
    return effect


async def balance_decision_hook(session: AsyncSession, decision: Decision) -> BalanceEffect:
    """Weigh a decision on programme balance: the ``on_decision`` hook of proposals and panellists.

    Runs inside the decision's transaction and reads the guild's rules with
    the same session (a second connection from inside a write transaction can
    deadlock a full pool on SQLite); audits any target the decision breaches.
    """
    rules = settings_from_row(
        decision.guild_id, await get_guild_config(session, decision.guild_id)
    ).rules
    return await guard_decision(
        session,
        guild_id=decision.guild_id,
        actor_id=decision.actor_id,
        target=decision.target,
        change=DecisionChange(decision.subject, decision.id, decision.before, decision.after),
        rules=rules,
        at=decision.at,
    )

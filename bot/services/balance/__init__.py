"""Stakeholder balance: who holds the seats, measured against the guild's targets.

A *seat* is a participation (a person on a proposal in one role); a person on
three sessions is one person and three seats. Every count comes from one SQL
query (``storage.balance``); this module turns counts into shares, empty
categories, the largest share and evenness, checks them against the targets
(``balance.*`` rules, defaults in ``bot.services.config``) and words the
warnings.

"Prefer not to say" and "Not stated" are categories of their own: they are
counted and shown, never guessed, and never judged (no target applies to
them, and evenness is computed over the categories people did state).

Scopes:

- ``proposal``: everyone active (nominated, invited, confirmed) on one session;
- ``programme``: confirmed seats on the proposals with one status (accepted);
- ``panellists``: nominations (any proposal) with one status, or all;
- ``mag``: the MAG's own composition, from member profiles, against the MAG
  seat rule (Government up to 40%, the rest shared equally among Civil
  Society, Private Sector and Technical Community; IGOs are observers);
- ``funnel``: shares at nominated, invited, confirmed, and at submitted,
  accepted; a category whose share falls more than the set number of points
  from the first stage to the last is flagged.

The package, in the order a count flows through it: ``metrics`` (shares,
evenness), ``judgement`` (targets, the MAG seat rule, warnings), ``reports``
(one scope's report, its privacy, the funnel), ``scopes`` (what each
``/balance`` command counts), ``guardrails`` (a decision's effect),
``digest`` (the digest's section) and ``service`` (``BalanceService``).
Everything other layers use is imported from here.

Guardrails: ``effect_of`` counts the programme before and after one decision
(a panellist confirmed or declined, a proposal accepted or rejected) inside the
decision's own transaction; ``record_effect`` audits the targets it breaches.
"""

from bot.services.balance.digest import balance_digest_section
from bot.services.balance.guardrails import (
    BalanceEffect,
    DecisionChange,
    ShareShift,
    balance_decision_hook,
    compare,
    effect_of,
    guard_decision,
)
from bot.services.balance.judgement import BalanceWarning, Scope, TargetLine, Targets, pct
from bot.services.balance.metrics import (
    LABELS,
    NOT_STATED,
    Category,
    Dimension,
    build_dimension,
    evenness,
    shares,
)
from bot.services.balance.reports import (
    BalanceReport,
    FunnelReport,
    FunnelStage,
    NamedSeat,
    funnel_flags,
    make_report,
)
from bot.services.balance.scopes import (
    MAG_SCOPE,
    panellists_scope,
    programme_scope,
    programme_selection,
)
from bot.services.balance.service import BalanceService

__all__ = [
    "LABELS",
    "MAG_SCOPE",
    "NOT_STATED",
    "BalanceEffect",
    "BalanceReport",
    "BalanceService",
    "BalanceWarning",
    "Category",
    "DecisionChange",
    "Dimension",
    "FunnelReport",
    "FunnelStage",
    "NamedSeat",
    "Scope",
    "ShareShift",
    "TargetLine",
    "Targets",
    "balance_decision_hook",
    "balance_digest_section",
    "build_dimension",
    "compare",
    "effect_of",
    "evenness",
    "funnel_flags",
    "guard_decision",
    "make_report",
    "panellists_scope",
    "pct",
    "programme_scope",
    "programme_selection",
    "shares",
]

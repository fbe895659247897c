"""The targets (``balance.*`` rules), the MAG seat rule, and the warnings in plain words."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from bot.i18n import N_, _, formats, ngettext
from bot.services.balance.metrics import (
    ARTICLES,
    GOVERNMENT,
    IGO,
    MAG_SHARED_GROUPS,
    YES_NO,
    Dimension,
)
from bot.services.config import DEFAULTS
from bot.services.taxonomy import (
    UN_REGIONS,
    stakeholder_groups,
)
from bot.services.text import Line, Link, Typed, plain_line


@dataclass(frozen=True)
class Targets:
    """The guild's balance targets (``balance.*`` rules); shares in percent, 0 is off."""

    min_seats: int
    group_share_max: float
    group_share_min: float
    every_group: bool
    region_share_max: float
    every_region: bool
    gender_share_max: float
    developing_share_min: float
    first_time_share_min: float
    youth_share_min: float
    funnel_drop_points: float
    mag_government_max: float
    mag_tolerance_points: float

    @classmethod
    def from_rules(cls, rules: Mapping[str, Any]) -> Targets:
        """Return the targets in ``rules``; a value that is not usable falls back to the default."""
        values: dict[str, Any] = {}
        for name, kind in cls.__annotations__.items():
            key = f"balance.{name}"
            default = DEFAULTS.rules[key]
            value = rules.get(key, default)
            values[name] = _coerce(value, default, kind)
        return cls(**values)


def _coerce(value: Any, default: Any, kind: str) -> Any:
    if kind == "bool":
        return value if isinstance(value, bool) else bool(default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float(default)
    if not math.isfinite(number) or number < 0:
        number = float(default)
    if kind == "int":
        return int(number)
    return min(number, 100.0)


@dataclass(frozen=True)
class BalanceWarning:
    """A target that is not met, in plain words.

    ``line`` marks the category names as ``Typed``: an admin may add a
    stakeholder group called anything, and it must reach Discord as text,
    never as a link or a mention (``bot.render.text.render_line``).
    """

    rule: str  # the rule's name, e.g. balance.group_share_max
    dimension: str
    category: str
    line: Line

    @property
    def text(self) -> str:
        """Return the warning as plain text (audit, logs; never shown as markdown)."""
        return plain_line(self.line)

    @property
    def key(self) -> tuple[str, str, str]:
        """Return what identifies the warning across two counts (before and after)."""
        return (self.rule, self.dimension, self.category)

    @property
    def ceiling(self) -> bool:
        """Return whether a share is over its ceiling ("at most"; the chart crosses its bar)."""
        return self.rule.endswith("_max")


@dataclass(frozen=True)
class TargetLine:
    """A target drawn on the chart: a ceiling, a floor or an expected share."""

    dimension: str
    share: float  # 0 to 1
    kind: Literal["max", "min", "equal"]
    category: str | None = None  # None: every category of the dimension
    label: str = ""


@dataclass(frozen=True)
class Scope:
    """What was counted, worded for titles and warnings."""

    # Texts in the language of whoever asked (built when the count is made):
    kind: str  # proposal | programme | panellists | mag | funnel
    title: str
    seats_phrase: str  # "confirmed seats on accepted proposals"
    who: str  # "confirmed panellist": "No confirmed panellist from ..."
    where: str = ""  # " on accepted proposals"
    judged: bool = True  # False: counted and shown, no target applies (declined nominations)


_SLOT: Final = "\x00"


def line_of(text: str, /, **values: object) -> Line:
    """Return ``text`` in the current language as a line, its ``{placeholders}`` filled.

    The sentence is translated whole; a value that came from people
    (``Typed``, ``Link``) or that is a line itself stays a part of its own,
    which the renderer shows safely.
    """
    spliced: list[tuple[str | Typed | Link, ...]] = []
    filled: dict[str, object] = {}
    for key, value in values.items():
        if isinstance(value, Typed | Link):
            value = (value,)
        if isinstance(value, tuple):
            filled[key] = f"{_SLOT}{len(spliced)}{_SLOT}"
            spliced.append(value)
        else:
            filled[key] = value
    sentence = _(text, **filled).strip()  # a leading " {where}" in some word orders
    if not spliced:
        return sentence
    parts: list[str | Typed | Link] = []
    for i, piece in enumerate(sentence.split(_SLOT)):
        if i % 2 and piece.isdigit() and int(piece) < len(spliced):
            parts += spliced[int(piece)]
        elif piece:
            parts.append(piece)
    return tuple(parts)


def _name(name: str) -> Typed:
    """Return a category's name for a line: in the current language, shown as typed."""
    return Typed(_(name), 100)


# "No confirmed panellist from the African Group": by the article English
# puts before the name (``ARTICLES``).
_NOBODY_FROM: Final = {
    "the": N_("No {who} from the {group}{where}"),
    "an": N_("No {who} from an {group}{where}"),
    "": N_("No {who} from {group}{where}"),
}


def _nobody_from(name: str, scope: Scope) -> Line:
    """Return the warning that nobody counted comes from group or region ``name``."""
    known = ARTICLES.get(name)
    if known is None:
        return line_of(_NOBODY_FROM[""], who=scope.who, group=_name(name), where=scope.where)
    article = known.split(" ", 1)[0]
    return line_of(
        _NOBODY_FROM.get(article, _NOBODY_FROM[""]),
        who=scope.who,
        group=_(name),
        where=scope.where,
    )


def pct(share: float, *, against: float | None = None) -> str:
    """Return a share in percent; with a decimal when rounding would hide a breach."""
    value = share * 100
    if 0 < value < 0.5:
        return _("<{share}", share=formats.percent(0.01))
    # Rounded here as before ("57.5" is "57"), then written in the current language.
    if against is not None and round(value) == round(against) and value != against:
        return formats.percent(float(f"{value:.1f}") / 100, decimals=1)
    return formats.percent(float(f"{value:.0f}") / 100)


def _target(limit: float) -> str:
    """Return a target in percent as the rules give it ("40%", "12.5%")."""
    text = f"{limit:g}"
    decimals = len(text.partition(".")[2]) if "e" not in text else 0
    return formats.percent(limit / 100, decimals=decimals)


def over(part: float, whole: float, limit: float) -> bool:
    """Return whether ``part`` is more than ``limit`` percent of ``whole``.

    Compared on counts, not on rounded shares: 0.4 * 100 is 40.00000000000001
    in floating point, and 40% must not breach "at most 40%".
    """
    return part * 100 > limit * whole


def under(part: float, whole: float, limit: float) -> bool:
    """Return whether ``part`` is less than ``limit`` percent of ``whole`` (on counts)."""
    return part * 100 < limit * whole


def _share_max(
    dimension: Dimension, limit: float, rule: str, scope: Scope, lines: list[TargetLine]
) -> list[BalanceWarning]:
    if not 0 < limit < 100:
        return []
    lines.append(
        TargetLine(
            dimension.key, limit / 100, "max", label=_("at most {limit}", limit=_target(limit))
        )
    )
    return [
        BalanceWarning(
            rule,
            dimension.key,
            c.name,
            line_of(
                "{name} holds {share} of {seats} (target at most {limit})",
                name=_name(c.name),
                share=pct(c.share, against=limit),
                seats=scope.seats_phrase,
                limit=_target(limit),
            ),
        )
        for c in dimension.categories
        if c.stated and over(c.seats, dimension.seats, limit)
    ]


def _share_min(
    dimension: Dimension,
    names: Sequence[str],
    limit: float,
    rule: str,
    scope: Scope,
    lines: list[TargetLine],
    *,
    skip_empty: bool = False,
) -> list[BalanceWarning]:
    if not 0 < limit < 100:
        return []
    only_one = len(names) == 1
    lines.append(
        TargetLine(
            dimension.key,
            limit / 100,
            "min",
            category=names[0] if only_one else None,
            label=_("at least {limit}", limit=_target(limit)),
        )
    )
    unstated = sum(c.seats for c in dimension.categories if not c.stated)
    warnings = []
    for name in names:
        share = dimension.share_of(name)
        held = dimension.seats_of(name)
        if not under(held, dimension.seats, limit) or (skip_empty and held == 0):
            continue
        values = {
            "name": _name(name),
            "share": pct(share, against=limit),
            "seats": scope.seats_phrase,
            "limit": _target(limit),
        }
        line = (
            line_of(
                "{name} holds only {share} of {seats} (target at least {limit}; "
                "{unstated} not stated)",
                unstated=unstated,
                **values,
            )
            if unstated
            else line_of("{name} holds only {share} of {seats} (target at least {limit})", **values)
        )
        warnings.append(BalanceWarning(rule, dimension.key, name, line))
    return warnings


def _every(
    dimension: Dimension, names: Sequence[str], rule: str, scope: Scope
) -> list[BalanceWarning]:
    return [
        BalanceWarning(rule, dimension.key, name, _nobody_from(name, scope))
        for name in names
        if dimension.share_of(name) == 0
    ]


def required_groups(rules: Mapping[str, Any]) -> tuple[str, ...]:
    """Return the stakeholder groups every count should include (IGOs are often absent)."""
    return tuple(g for g in stakeholder_groups(rules) if g != IGO)


@dataclass(frozen=True)
class Judgement:
    """The warnings of one count, what the chart draws, and notes.

    ``judged`` is False when no target was weighed (nobody counted, a scope
    targets don't apply to, fewer seats than ``balance.min_seats``): then the
    absence of warnings means nothing, and nothing may say "met".
    """

    warnings: tuple[BalanceWarning, ...]
    lines: tuple[TargetLine, ...]
    notes: tuple[str, ...]
    judged: bool = True


def judge(
    dimensions: Mapping[str, Dimension],
    seats: int,
    scope: Scope,
    targets: Targets,
    rules: Mapping[str, Any],
) -> Judgement:
    """Return the warnings for a count against the targets (none below ``min_seats``)."""
    lines: list[TargetLine] = []
    warnings: list[BalanceWarning] = []
    notes: list[str] = []
    if seats == 0:
        note = _("Nobody is counted yet: no {seats}.", seats=scope.seats_phrase)
        return Judgement((), (), (note,), False)
    if not scope.judged:
        note = _("Targets do not apply to {seats}.", seats=scope.seats_phrase)
        return Judgement((), (), (note,), False)
    small = seats < targets.min_seats
    group = dimensions.get("stakeholder_group")
    region = dimensions.get("region")
    gender = dimensions.get("gender")
    if group is not None and scope.kind == "mag":
        warnings += _mag_rule(group, targets, lines, notes)
    elif group is not None:
        required = required_groups(rules)
        warnings += _share_max(
            group, targets.group_share_max, "balance.group_share_max", scope, lines
        )
        warnings += _share_min(
            group,
            required,
            targets.group_share_min,
            "balance.group_share_min",
            scope,
            lines,
            skip_empty=targets.every_group,
        )
        if targets.every_group:
            warnings += _every(group, required, "balance.every_group", scope)
    if region is not None:
        if targets.every_region:
            warnings += _every(region, UN_REGIONS, "balance.every_region", scope)
        warnings += _share_max(
            region, targets.region_share_max, "balance.region_share_max", scope, lines
        )
    if gender is not None:
        warnings += _share_max(
            gender, targets.gender_share_max, "balance.gender_share_max", scope, lines
        )
    for key, limit, rule in (
        ("developing_country", targets.developing_share_min, "balance.developing_share_min"),
        ("first_time", targets.first_time_share_min, "balance.first_time_share_min"),
        ("youth", targets.youth_share_min, "balance.youth_share_min"),
    ):
        if key in dimensions:
            name = YES_NO[key][0]
            warnings += _share_min(dimensions[key], [name], limit, rule, scope, lines)
    if small:
        notes.append(
            ngettext(
                "Targets apply from {n} seat; this counts {seats}, so no target is judged yet.",
                "Targets apply from {n} seats; this counts {seats}, so no target is judged yet.",
                targets.min_seats,
                seats=seats,
            )
        )
        return Judgement((), tuple(lines), tuple(notes), False)
    return Judgement(tuple(warnings), tuple(lines), tuple(notes))


def _mag_rule(
    group: Dimension, targets: Targets, lines: list[TargetLine], notes: list[str]
) -> list[BalanceWarning]:
    """Check the MAG seat rule over voting seats (IGO members are observers)."""
    observers = group.get(IGO)
    voting = group.seats - (observers.seats if observers else 0)
    if observers and observers.seats:
        # English says "member(s) hold" for any number (as it always has).
        notes.append(
            ngettext(
                "{n} Intergovernmental Organization member(s) hold observer seats "
                "and are not counted in the MAG seat rule.",
                "{n} Intergovernmental Organization member(s) hold observer seats "
                "and are not counted in the MAG seat rule.",
                observers.seats,
            )
        )
    if voting <= 0:
        return []
    warnings: list[BalanceWarning] = []
    government = group.get(GOVERNMENT)
    gov_seats = government.seats if government else 0
    limit = targets.mag_government_max
    phrase = _("voting MAG seats")
    # The bars are shares of every member: the rule's lines are drawn in those terms.
    drawn = voting / group.seats
    if 0 < limit < 100:
        lines.append(
            TargetLine(
                "stakeholder_group",
                limit / 100 * drawn,
                "max",
                GOVERNMENT,
                _("at most {limit}", limit=_target(limit)),
            )
        )
        gov_share = gov_seats / voting
        if over(gov_seats, voting, limit):
            warnings.append(
                BalanceWarning(
                    "balance.mag_government_max",
                    "stakeholder_group",
                    GOVERNMENT,
                    _(
                        "Government holds {share} of {seats} (rule: at most {limit})",
                        share=pct(gov_share, against=limit),
                        seats=phrase,
                        limit=_target(limit),
                    ),
                )
            )
    equal = (voting - gov_seats) / len(MAG_SHARED_GROUPS) / voting
    tolerance = targets.mag_tolerance_points
    for name in MAG_SHARED_GROUPS:
        category = group.get(name)
        held = category.seats if category else 0
        share = held / voting
        lines.append(
            TargetLine(
                "stakeholder_group",
                equal * drawn,
                "equal",
                name,
                _("equal share {share}", share=pct(equal)),
            )
        )
        # |seats - rest/3| against tolerance% of voting, times 3 to stay in whole numbers.
        if over(abs(3 * held - (voting - gov_seats)), 3 * voting, tolerance):
            warnings.append(
                BalanceWarning(
                    "balance.mag_tolerance_points",
                    "stakeholder_group",
                    name,
                    line_of(
                        "{name} holds {share} of {seats}; an equal share of the "
                        "non-government seats would be {equal} (within {points} points)",
                        name=_name(name),
                        share=pct(share),
                        seats=phrase,
                        equal=pct(equal),
                        points=f"{tolerance:g}",
                    ),
                )
            )
    return warnings

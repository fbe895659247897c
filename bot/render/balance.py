"""The `/balance` embeds: the numbers, the warnings, and the chart in words.

Every number the chart draws is also in the embed's fields, and a field
describes the chart for people who can't see it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import discord

from bot.i18n import N_, _, formats, ngettext
from bot.render.embeds import FIELD_VALUE, INFO, OK, WARN, clip
from bot.render.text import one_line, plain, render_line
from bot.services.balance import (
    LABELS,
    BalanceEffect,
    BalanceReport,
    BalanceWarning,
    Dimension,
    FunnelReport,
    FunnelStage,
    TargetLine,
    pct,
)
from bot.services.taxonomy import participation_label, role_label

CHART_FILE: Final = "balance.png"
ALT_TEXT: Final = 1024  # Discord's limit on an attachment's description
MAX_WARNINGS: Final = 12
FOOTER: Final = N_(
    "Shares are of seats: a person on three sessions holds three seats. "
    "Targets are the balance.* rules in /config show."
)
FUNNEL_DIMENSIONS: Final = ("stakeholder_group", "region", "gender")


def warning_lines(warnings: Sequence[BalanceWarning], mark: str = "⚠️") -> list[str]:
    lines = [f"{mark} {render_line(w.line)}" for w in warnings[:MAX_WARNINGS]]
    if len(warnings) > MAX_WARNINGS:
        more = len(warnings) - MAX_WARNINGS
        lines.append(ngettext("… and {n} more", "… and {n} more", more))
    return lines


def _label(dimension: str) -> str:
    """Return a dimension's name (``stakeholder_group``) as people say it, translated."""
    return _(LABELS.get(dimension, dimension))


def _holds(alt: bool) -> str:
    """Return where every number of the chart is: the embed's fields, or the message."""
    if alt:
        return _("The message holds every number the chart shows.")
    return _("The fields above hold every number the chart shows.")


def category_line(name: str, seats: int, people: int | None, share: float) -> str:
    """Return one category as a line: ``Civil Society: 12 seats, 10 people (30%)``."""
    name = one_line(_(name), 100)
    if seats == 0:
        return _("{name}: nobody", name=name)
    if people is not None and people != seats:
        return _(
            "{name}: {seats} seats, {people} people ({share})",
            name=name,
            seats=seats,
            people=people,
            share=pct(share),
        )
    return f"{name}: {seats} ({pct(share)})"


def dimension_field(dimension: Dimension) -> tuple[str, str]:
    """Return a dimension's field: every category with nobody, then the largest and evenness."""
    evenness = dimension.evenness
    shown = "—" if evenness is None else formats.decimal(evenness, 2)
    measure = _("evenness {evenness}", evenness=shown)
    name = f"{_(dimension.label)} · {measure}"
    lines = [
        category_line(c.name, c.seats, c.people, c.share) for c in dimension.categories if c.seats
    ]
    if dimension.empty:
        names = formats.joined([one_line(_(n), 100) for n in dimension.empty])
        lines.append(_("Nobody: {names}", names=names))
    largest = dimension.largest
    if largest is not None and dimension.seats:
        lines.append(
            _(
                "Largest share: {name} ({share})",
                name=one_line(_(largest.name), 100),
                share=pct(largest.share),
            )
        )
    return name, clip("\n".join(lines) or _("nobody"), FIELD_VALUE)


# How the chart draws each kind of target, in a sentence: "{targets}" lists them.
TARGET_STYLES: Final = {
    "max": N_("Dashed lines mark ceilings: {targets}."),
    "min": N_("Dotted lines mark floors: {targets}."),
    "equal": N_("Dash-dot lines mark equal shares: {targets}."),
}


def _targets_in_words(targets: Sequence[TargetLine]) -> str:
    parts = []
    for kind in ("max", "min", "equal"):
        lines = [t for t in targets if t.kind == kind]
        if not lines:
            continue
        where = sorted(
            {f"{_label(t.dimension).lower()}"
             + (f" ({_(t.category)})" if t.category else "") + f" {t.label}" for t in lines}
        )  # fmt: skip
        parts.append(_(TARGET_STYLES[kind], targets="; ".join(where)))
    return " ".join(parts)


def describe_chart(report: BalanceReport, *, markdown: bool = True, alt: bool = False) -> str:
    """Return the chart in words, for people who can't see the image.

    ``markdown``: for an embed (names made safe); False for alt text, which
    Discord shows verbatim. ``alt``: said of the attachment, not in the embed.
    """
    name_of = one_line if markdown else plain
    labels = formats.joined([_(d.label).lower() for d in report.dimensions])
    first = (
        ngettext(
            "One panel of horizontal bars per dimension ({dimensions}); each bar is a "
            "category's share of the {n} input, labelled with its share and count.",
            "One panel of horizontal bars per dimension ({dimensions}); each bar is a "
            "category's share of the {n} inputs, labelled with its share and count.",
            report.seats,
            dimensions=labels,
        )
        if report.scope.kind == "consultation"
        else None
    )
    text = [
        first
        or ngettext(
            "One panel of horizontal bars per dimension ({dimensions}); each bar is a "
            "category's share of the {n} seats, labelled with its share and count.",
            "One panel of horizontal bars per dimension ({dimensions}); each bar is a "
            "category's share of the {n} seats, labelled with its share and count.",
            report.seats,
            dimensions=labels,
        )
    ]
    if report.targets:
        text.append(_targets_in_words(report.targets))
    # Ceilings crossed: the *_max rules (groups, regions, genders, the MAG's government seats).
    over = [w for w in report.warnings if w.rule.endswith("_max")]
    if over:
        crossed = sorted({w.category for w in over})
        names = formats.joined([name_of(_(name), 100) for name in crossed])
        text.append(_("Crossed bars are over their ceiling: {names}.", names=names))
    text.append(_("Grey striped bars are people who did not say (never guessed)."))
    text.append(_holds(alt))
    return " ".join(text)


def balance_embed(report: BalanceReport, *, chart: str | None = CHART_FILE) -> discord.Embed:
    """Return the embed of one balance report, pointing at the attached chart."""
    colour = WARN if report.warnings else (OK if report.seats else INFO)
    people = (
        ngettext(
            "**{n}** seat held by **{people}** people",
            "**{n}** seats held by **{people}** people",
            report.seats,
            people=report.people,
        )
        if report.people != report.seats
        else ngettext("**{n}** seat, one per person", "**{n}** seats, one per person", report.seats)
    )
    lines = [people]
    if report.warnings:
        lines += ["", _("**Warnings**"), *warning_lines(report.warnings)]
    elif report.judged:
        lines += ["", _("Every balance target is met.")]
    lines += [f"*{note}*" for note in report.notes]
    embed = discord.Embed(title=report.scope.title, description="\n".join(lines), colour=colour)
    for dimension in report.dimensions:
        name, value = dimension_field(dimension)
        embed.add_field(name=name, value=value, inline=True)
    if report.names is not None:
        people_lines = [
            f"{one_line(n.name, 80)} — {role_label(n.role)} ({participation_label(n.status)}) · "
            f"{one_line(_(n.stakeholder_group), 60)} · {one_line(_(n.region), 60)} · {_(n.gender)}"
            for n in report.names
        ]
        embed.add_field(
            name=_("People (shown to the secretariat only)"),
            value=clip("\n".join(people_lines) or _("nobody"), FIELD_VALUE),
            inline=False,
        )
    if chart is not None:
        embed.add_field(name=_("The chart in words"), value=describe_chart(report), inline=False)
        embed.set_image(url=f"attachment://{chart}")
    embed.set_footer(text=_(FOOTER))
    return embed


def _stage_line(name: str, key: str, stages: Sequence[FunnelStage]) -> str:
    def one(stage: FunnelStage) -> str:
        return pct(stage.report.dimension(key).share_of(name))

    return f"{one_line(_(name), 100)}: {' → '.join(one(s) for s in stages)}"


def describe_funnel(funnel: FunnelReport, *, alt: bool = False) -> str:
    """Return the funnel chart in words, for people who can't see the image."""
    drawn = _(
        "Two rows of panels (nominations above, selection below), one panel each for "
        "stakeholder group, region and gender; within a panel each category has one "
        "bar per stage, in stage order, labelled with its share. Categories whose "
        "share falls more than {points} points are marked with ▼.",
        points=f"{funnel.drop_points:g}",
    )
    return f"{drawn} {_holds(alt)}"


def chart_alt_text(report: BalanceReport | FunnelReport) -> str:
    """Return the chart's alt text (an attachment's description: at most 1,024 characters)."""
    if isinstance(report, FunnelReport):
        text = describe_funnel(report, alt=True)
    else:
        text = describe_chart(report, markdown=False, alt=True)
    return plain(text, ALT_TEXT)


def funnel_embed(funnel: FunnelReport, *, chart: str | None = CHART_FILE) -> discord.Embed:
    """Return the funnel's embed: shares per stage, drops flagged."""
    points = f"{funnel.drop_points:g}"
    lines = []
    for title, stages in (
        (N_("Nominations: {counts} seats"), funnel.nominations),
        (N_("Selection: {counts} seats"), funnel.selection),
    ):
        counts = " → ".join(f"{_(s.label)} {s.report.seats}" for s in stages)
        lines.append(_(title, counts=counts))
    if funnel.flags:
        lines += ["", _("**Drops of more than {points} points**", points=points)]
        lines += warning_lines(funnel.flags, "▼")
    else:
        lines += ["", _("No share falls more than {points} points.", points=points)]
    # A stage nobody is in says so ("Nobody is counted yet…", its only note).
    stages = (*funnel.nominations, *funnel.selection)
    notes = {n for s in stages if not s.report.seats for n in s.report.notes}
    lines += [f"*{n}*" for n in sorted(notes)]
    embed = discord.Embed(
        title=funnel.scope.title,
        description="\n".join(lines),
        colour=WARN if funnel.flags else INFO,
    )
    for title, stages in (
        (_("Nominated → Invited → Confirmed"), funnel.nominations),
        (_("Submitted → Accepted"), funnel.selection),
    ):
        present = {d.key for d in stages[0].report.dimensions}
        for key in (k for k in FUNNEL_DIMENSIONS if k in present):
            first = stages[0].report.dimension(key)
            value = "\n".join(
                _stage_line(c.name, key, stages)
                for c in first.categories
                if any(s.report.dimension(key).share_of(c.name) for s in stages)
            )
            embed.add_field(
                name=f"{_label(key)}: {title}", value=clip(value or _("nobody"), FIELD_VALUE)
            )
    if chart is not None:
        embed.add_field(name=_("The chart in words"), value=describe_funnel(funnel), inline=False)
        embed.set_image(url=f"attachment://{chart}")
    embed.set_footer(text=_(FOOTER))
    return embed


def effect_lines(effect: BalanceEffect) -> list[str]:
    """Return a decision's effect on programme balance, before -> after, in lines."""
    where = effect.scope.seats_phrase
    if not effect.changed:
        return [_("No change to programme balance ({where}).", where=where)]
    lines = [
        _(
            "Programme balance ({where}): {seats_before} → {seats_after} seats, "
            "{people_before} → {people_after} people.",
            where=where,
            seats_before=effect.seats_before,
            seats_after=effect.seats_after,
            people_before=effect.people_before,
            people_after=effect.people_after,
        )
    ]
    lines += [
        f"{_(s.dimension)}: {_(s.category)} {pct(s.before)} → {pct(s.after)}" for s in effect.shifts
    ]
    lines += warning_lines(effect.new_warnings)
    lines += warning_lines(effect.resolved, _("✅ Now met:"))
    if effect.still:
        lines.append(
            ngettext(
                "{n} target(s) were already missed; see `/balance programme`.",
                "{n} target(s) were already missed; see `/balance programme`.",
                len(effect.still),
            )
        )
    return lines


def effect_embed(effect: BalanceEffect) -> discord.Embed:
    """Return an embed for a decision's reply: its effect on the programme and any warning."""
    return discord.Embed(
        title=_("Balance warning") if effect.breached else _("Effect on programme balance"),
        description=clip("\n".join(effect_lines(effect)), 4096),
        colour=WARN if effect.breached else INFO,
    )


def effect_embed_of(effect: object | None) -> discord.Embed | None:
    """Return the embed for a decision hook's answer, or None when there is nothing to show.

    The proposal and panellist services carry the hook's answer as an opaque
    ``effect``; their cogs pass it here as it is.
    """
    if not isinstance(effect, BalanceEffect) or not effect.changed:
        return None
    return effect_embed(effect)

"""The `/balance` embeds: the numbers, the warnings, and the chart in words.

Every number the chart draws is also in the embed's fields, and a field
describes the chart for people who can't see it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import discord

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

CHART_FILE: Final = "balance.png"
ALT_TEXT: Final = 1024  # Discord's limit on an attachment's description
MAX_WARNINGS: Final = 12
FOOTER: Final = (
    "Shares are of seats: a person on three sessions holds three seats. "
    "Targets are the balance.* rules in /config show."
)
FUNNEL_DIMENSIONS: Final = ("stakeholder_group", "region", "gender")


def _warning_lines(warnings: Sequence[BalanceWarning], mark: str = "⚠️") -> list[str]:
    lines = [f"{mark} {render_line(w.line)}" for w in warnings[:MAX_WARNINGS]]
    if len(warnings) > MAX_WARNINGS:
        lines.append(f"… and {len(warnings) - MAX_WARNINGS} more")
    return lines


def category_line(name: str, seats: int, people: int | None, share: float) -> str:
    """Return one category as a line: ``Civil Society: 12 seats, 10 people (30%)``."""
    name = one_line(name, 100)
    if seats == 0:
        return f"{name}: nobody"
    differ = people is not None and people != seats
    who = f"{seats} seats, {people} people" if differ else f"{seats}"
    return f"{name}: {who} ({pct(share)})"


def dimension_field(dimension: Dimension) -> tuple[str, str]:
    """Return a dimension's field: every category with nobody, then the largest and evenness."""
    evenness = dimension.evenness
    name = f"{dimension.label} · evenness {'–' if evenness is None else f'{evenness:.2f}'}"
    lines = [
        category_line(c.name, c.seats, c.people, c.share) for c in dimension.categories if c.seats
    ]
    if dimension.empty:
        lines.append(f"Nobody: {', '.join(one_line(n, 100) for n in dimension.empty)}")
    largest = dimension.largest
    if largest is not None and dimension.seats:
        lines.append(f"Largest share: {one_line(largest.name, 100)} ({pct(largest.share)})")
    return name, clip("\n".join(lines) or "nobody", FIELD_VALUE)


def _targets_in_words(targets: Sequence[TargetLine]) -> str:
    styles = {"max": "Dashed lines", "min": "Dotted lines", "equal": "Dash-dot lines"}
    meanings = {"max": "ceilings", "min": "floors", "equal": "equal shares"}
    parts = []
    for kind in ("max", "min", "equal"):
        lines = [t for t in targets if t.kind == kind]
        if not lines:
            continue
        where = sorted(
            {f"{LABELS.get(t.dimension, t.dimension).lower()}"
             + (f" ({t.category})" if t.category else "") + f" {t.label}" for t in lines}
        )  # fmt: skip
        parts.append(f"{styles[kind]} mark {meanings[kind]}: {'; '.join(where)}.")
    return " ".join(parts)


def describe_chart(report: BalanceReport, *, markdown: bool = True) -> str:
    """Return the chart in words, for people who can't see the image.

    ``markdown``: for an embed (names made safe); False for alt text, which
    Discord shows verbatim.
    """
    name_of = one_line if markdown else plain
    labels = ", ".join(d.label.lower() for d in report.dimensions)
    text = [
        f"One panel of horizontal bars per dimension ({labels}); each bar is a category's "
        f"share of the {report.seats} seats, labelled with its share and count."
    ]
    if report.targets:
        text.append(_targets_in_words(report.targets))
    over = [w for w in report.warnings if "at most" in w.text or "rule:" in w.text]
    if over:
        names = ", ".join(name_of(name, 100) for name in sorted({w.category for w in over}))
        text.append(f"Crossed bars are over their ceiling: {names}.")
    text.append("Grey striped bars are people who did not say (never guessed).")
    text.append("The fields above hold every number the chart shows.")
    return " ".join(text)


def balance_embed(report: BalanceReport, *, chart: str | None = CHART_FILE) -> discord.Embed:
    """Return the embed of one balance report, pointing at the attached chart."""
    colour = WARN if report.warnings else (OK if report.seats else INFO)
    seats = f"**{report.seats}** seat{'' if report.seats == 1 else 's'}"
    people = (
        f"{seats} held by **{report.people}** people"
        if report.people != report.seats
        else f"{seats}, one per person"
    )
    lines = [people]
    if report.warnings:
        lines += ["", "**Warnings**", *_warning_lines(report.warnings)]
    elif report.judged:
        lines += ["", "Every balance target is met."]
    lines += [f"*{note}*" for note in report.notes]
    embed = discord.Embed(title=report.scope.title, description="\n".join(lines), colour=colour)
    for dimension in report.dimensions:
        name, value = dimension_field(dimension)
        embed.add_field(name=name, value=value, inline=True)
    if report.names is not None:
        people_lines = [
            f"{one_line(n.name, 80)} — {n.role} ({n.status}) · {one_line(n.stakeholder_group, 60)}"
            f" · {one_line(n.region, 60)} · {n.gender}"
            for n in report.names
        ]
        embed.add_field(
            name="People (shown to the secretariat only)",
            value=clip("\n".join(people_lines) or "nobody", FIELD_VALUE),
            inline=False,
        )
    if chart is not None:
        embed.add_field(name="The chart in words", value=describe_chart(report), inline=False)
        embed.set_image(url=f"attachment://{chart}")
    embed.set_footer(text=FOOTER)
    return embed


def _stage_line(name: str, key: str, stages: Sequence[FunnelStage]) -> str:
    def one(stage: FunnelStage) -> str:
        return pct(stage.report.dimension(key).share_of(name))

    return f"{one_line(name, 100)}: {' → '.join(one(s) for s in stages)}"


def describe_funnel(funnel: FunnelReport) -> str:
    """Return the funnel chart in words, for people who can't see the image."""
    return (
        "Two rows of panels (nominations above, selection below), one panel each for "
        "stakeholder group, region and gender; within a panel each category has one "
        "bar per stage, in stage order, labelled with its share. Categories whose "
        f"share falls more than {funnel.drop_points:g} points are marked with ▼. "
        "The fields above hold every number the chart shows."
    )


def chart_alt_text(report: BalanceReport | FunnelReport) -> str:
    """Return the chart's alt text (an attachment's description: at most 1,024 characters)."""
    if isinstance(report, FunnelReport):
        text = describe_funnel(report)
    else:
        text = describe_chart(report, markdown=False)
    return plain(text.replace("The fields above hold", "The message holds"), ALT_TEXT)


def funnel_embed(funnel: FunnelReport, *, chart: str | None = CHART_FILE) -> discord.Embed:
    """Return the funnel's embed: shares per stage, drops flagged."""
    lines = []
    for title, stages in (
        ("Nominations", funnel.nominations),
        ("Selection", funnel.selection),
    ):
        counts = " → ".join(f"{s.label} {s.report.seats}" for s in stages)
        lines.append(f"{title}: {counts} seats")
    if funnel.flags:
        lines += ["", f"**Drops of more than {funnel.drop_points:g} points**"]
        lines += _warning_lines(funnel.flags, "▼")
    else:
        lines += ["", f"No share falls more than {funnel.drop_points:g} points."]
    notes = {n for s in (*funnel.nominations, *funnel.selection) for n in s.report.notes}
    lines += [f"*{n}*" for n in sorted(notes) if n.startswith("Nobody")]
    embed = discord.Embed(
        title=funnel.scope.title,
        description="\n".join(lines),
        colour=WARN if funnel.flags else INFO,
    )
    for title, stages in (
        ("Nominated → Invited → Confirmed", funnel.nominations),
        ("Submitted → Accepted", funnel.selection),
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
                name=f"{LABELS[key]}: {title}", value=clip(value or "nobody", FIELD_VALUE)
            )
    if chart is not None:
        embed.add_field(name="The chart in words", value=describe_funnel(funnel), inline=False)
        embed.set_image(url=f"attachment://{chart}")
    embed.set_footer(text=FOOTER)
    return embed


def effect_lines(effect: BalanceEffect) -> list[str]:
    """Return a decision's effect on programme balance, before -> after, in lines."""
    where = effect.scope.seats_phrase
    if not effect.changed:
        return [f"No change to programme balance ({where})."]
    lines = [
        f"Programme balance ({where}): {effect.seats_before} → {effect.seats_after} seats, "
        f"{effect.people_before} → {effect.people_after} people."
    ]
    lines += [
        f"{s.dimension}: {s.category} {pct(s.before)} → {pct(s.after)}" for s in effect.shifts
    ]
    lines += _warning_lines(effect.new_warnings)
    lines += _warning_lines(effect.resolved, "✅ Now met:")
    if effect.still:
        lines.append(
            f"{len(effect.still)} target(s) were already missed; see `/balance programme`."
        )
    return lines


def effect_embed(effect: BalanceEffect) -> discord.Embed:
    """Return an embed for a decision's reply: its effect on the programme and any warning."""
    return discord.Embed(
        title="Balance warning" if effect.breached else "Effect on programme balance",
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

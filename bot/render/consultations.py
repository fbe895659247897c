"""Consultations as Discord shows them: the call, an input, the list, who has been heard."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.i18n import _, formats, ngettext
from bot.render.balance import CHART_FILE, describe_chart, warning_lines
from bot.render.embeds import FIELD_VALUE, INFO, OK, WARN, clip, timestamp
from bot.render.text import one_line, safe
from bot.services.balance import Dimension, pct
from bot.services.consultations import (
    VISIBILITY_LABELS,
    ConsultationView,
    InputView,
    Summary,
)

ANSWER_SHOWN = 300  # characters of each answer in a summary (the export has them whole)


def heading(view: ConsultationView) -> str:
    return _("Consultation #{number}: {title}", number=view.number, title=one_line(view.title, 180))


def state_line(view: ConsultationView, now_open: bool) -> str:
    closes = timestamp(view.closes_at, "F")
    if view.closed:
        return _("Closed {when}.", when=closes)
    if now_open:
        return _(
            "Open until {when} ({relative}).", when=closes, relative=timestamp(view.closes_at, "R")
        )
    return _("Opens {opens}, closes {closes}.", opens=timestamp(view.opens_at, "F"), closes=closes)


def consultation_embed(view: ConsultationView, *, now_open: bool) -> discord.Embed:
    """Return a consultation: its questions, its window, who may answer and who reads."""
    questions = "\n".join(
        f"{index}. {safe(question, 300)}" for index, question in enumerate(view.questions, 1)
    )
    embed = discord.Embed(title=heading(view), description=questions, colour=INFO)
    embed.add_field(name=_("When"), value=state_line(view, now_open), inline=False)
    embed.add_field(
        name=_("Who may answer"),
        value=_("Members with <@&{role}>", role=view.audience_role_id)
        if view.audience_role_id
        else _("Anyone on this server"),
        inline=True,
    )
    embed.add_field(name=_("Inputs"), value=_(VISIBILITY_LABELS[view.visibility]), inline=True)
    embed.add_field(
        name=_("So far"),
        value=ngettext("{n} input", "{n} inputs", view.inputs),
        inline=True,
    )
    how = (
        _("Several inputs per person.")
        if view.several
        else _("One input per person; it can be changed until the close.")
    )
    embed.set_footer(text=how)
    return embed


def list_embed(views: Sequence[ConsultationView], now_open: Sequence[bool]) -> discord.Embed:
    """Return the server's consultations, latest first."""
    embed = discord.Embed(title=_("Consultations"), colour=INFO)
    if not views:
        embed.description = _(
            "No consultation yet. The secretariat opens one with `/consultation open`."
        )
        return embed
    lines = [
        f"**#{v.number}** {one_line(v.title, 100)} · "
        + ngettext("{n} input", "{n} inputs", v.inputs)
        + " · "
        + state_line(v, is_open)
        for v, is_open in zip(views, now_open, strict=True)
    ]
    embed.description = clip("\n".join(lines), 4000)
    return embed


def _who(entry: InputView) -> str:
    """Return who gave an input: a mention (ours), or a name as typed (made safe)."""
    if entry.who is None:
        who = _("Anonymous")
    elif entry.on_behalf:
        who = _("{name} (entered by the secretariat)", name=one_line(entry.who, 100))
    else:
        who = entry.who  # "<@id>": written by the bot, shown as a mention
    if entry.organisation:
        who += f" · {one_line(entry.organisation, 100)}"
    return who


def input_embed(view: ConsultationView, entry: InputView, title: str) -> discord.Embed:
    """Return one input as its author (or the secretariat) sees it after a change."""
    embed = discord.Embed(title=title, colour=OK)
    groups = f"{_(entry.stakeholder_group)} · {_(entry.region)}"
    embed.description = f"{heading(view)}\n{_who(entry)} · {groups}"
    for question, answer in zip(view.questions, entry.answers, strict=False):
        embed.add_field(
            name=one_line(question, 250),
            value=safe(answer, FIELD_VALUE) if answer else _("(no answer)"),
            inline=False,
        )
    return embed


def _field(dimension: Dimension) -> tuple[str, str]:
    lines = []
    for category in dimension.categories:
        if not category.seats:
            continue
        name = one_line(_(category.name), 100)
        if category.people is not None and category.people != category.seats:
            lines.append(
                _(
                    "{name}: {inputs} inputs from {people} ({share})",
                    name=name,
                    inputs=category.seats,
                    people=category.people,
                    share=pct(category.share),
                )
            )
        else:
            lines.append(f"{name}: {category.seats} ({pct(category.share)})")
    if dimension.empty:
        names = formats.joined([one_line(_(n), 100) for n in dimension.empty])
        lines.append(_("Not heard: {names}", names=names))
    evenness = dimension.evenness
    shown = "—" if evenness is None else formats.decimal(evenness, 2)
    measure = _("evenness {evenness}", evenness=shown)
    name = f"{_(dimension.label)} · {measure}"
    return name, clip("\n".join(lines) or _("nobody"), FIELD_VALUE)


def summary_embeds(summary: Summary, *, chart: str | None = CHART_FILE) -> list[discord.Embed]:
    """Return who has been heard (numbers, warnings, the chart) and the latest inputs."""
    view, report = summary.consultation, summary.report
    colour = WARN if report.warnings else OK
    lines = [
        ngettext(
            "**{n}** input from {submitters}",
            "**{n}** inputs from {submitters}",
            report.seats,
            submitters=ngettext("{n} submitter", "{n} submitters", summary.submitters),
        )
    ]
    if summary.unheard_groups:
        names = formats.joined([_(g) for g in summary.unheard_groups])
        lines.append(_("No input yet from: **{names}**", names=names))
    if summary.unheard_regions:
        names = formats.joined([_(r) for r in summary.unheard_regions])
        lines.append(_("No input yet from these regions: {names}", names=names))
    if report.warnings:
        lines += ["", _("**Warnings**"), *warning_lines(report.warnings)]
    first = discord.Embed(title=heading(view), description="\n".join(lines), colour=colour)
    for dimension in report.dimensions:
        name, value = _field(dimension)
        first.add_field(name=name, value=value, inline=True)
    if chart is not None and report.seats:
        first.add_field(name=_("The chart in words"), value=describe_chart(report), inline=False)
        first.set_image(url=f"attachment://{chart}")
    embeds = [first]
    if not summary.texts_shown:
        first.set_footer(text=_("The inputs' texts are for the secretariat only."))
        return embeds
    if summary.inputs:
        latest = discord.Embed(title=_("Latest inputs"), colour=INFO)
        for entry in summary.inputs:
            answers = "\n".join(
                f"{index}. {safe(answer, ANSWER_SHOWN)}"
                for index, answer in enumerate(entry.answers, 1)
                if answer
            )
            latest.add_field(
                name=clip(
                    _("Input {number}", number=entry.number)
                    + f" · {_(entry.stakeholder_group)} · {_(entry.region)}",
                    250,
                ),
                value=clip(f"{_who(entry)}\n{answers}", FIELD_VALUE),
                inline=False,
            )
        latest.set_footer(
            text=_("The secretariat downloads every input with `/consultation export`.")
        )
        embeds.append(latest)
    return embeds

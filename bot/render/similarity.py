"""The merge suggestions of ``/review similar``: pairs of proposals, how alike, in which fields."""

from __future__ import annotations

import discord

from bot.i18n import _, formats, ngettext, pgettext
from bot.render.embeds import INFO, clip
from bot.render.text import one_line
from bot.services.similarity import WEIGHTS, SimilarPair, SimilarReport


def field_name(name: str) -> str:
    """Return a compared field's name as the reader reads it, in lower case."""
    names = {
        "title": pgettext("proposal field", "title"),
        "description": pgettext("proposal field", "description"),
        "policy_questions": pgettext("proposal field", "policy questions"),
    }
    return names.get(name, name)


def pair_line(pair: SimilarPair) -> str:
    """Return one suggestion: ``WS #12 ↔ WS #40 · 87 % · title, policy questions`` and titles."""
    first, second = pair.labels
    fields = formats.joined([field_name(f) for f in pair.fields])
    return (
        f"`{first}` ↔ `{second}` · **{formats.percent(pair.score / 100)}** · {fields}\n"
        f"{one_line(pair.first.title, 50)} ↔ {one_line(pair.second.title, 50)}"
    )


def similar_embed(report: SimilarReport) -> discord.Embed:
    """Return the merge suggestions, most alike first, with how to act on one."""
    embed = discord.Embed(title=_("Merge suggestions"), colour=INFO)
    threshold = formats.percent(report.threshold / 100)
    if not report.pairs:
        embed.description = ngettext(
            "No two of the {n} proposal compared are at least {threshold} alike.",
            "No two of the {n} proposals compared are at least {threshold} alike.",
            report.compared,
            threshold=threshold,
        )
    else:
        lines = [pair_line(pair) for pair in report.pairs]
        if report.more:
            lines.append(
                ngettext(
                    "…and {n} more pair: raise `threshold:` or choose a `subtheme:`.",
                    "…and {n} more pairs: raise `threshold:` or choose a `subtheme:`.",
                    report.more,
                )
            )
        heading = ngettext(
            "{n} pair of the {compared} proposals compared is at least {threshold} alike:",
            "{n} pairs of the {compared} proposals compared are at least {threshold} alike:",
            report.total,
            compared=report.compared,
            threshold=threshold,
        )
        embed.description = clip(heading + "\n\n" + "\n".join(lines), 4000)
        example = report.pairs[0]
        embed.add_field(
            name=_("To merge one into the other"),
            value=_(
                "A suggestion for the MAG to consider; the secretariat decides: "
                "`/proposal status number:{number} status:merged merged_into:{into}`",
                number=example.second.number,
                into=example.first.number,
            ),
            inline=False,
        )
    if report.subtheme:
        embed.add_field(name=_("Subtheme"), value=one_line(report.subtheme, 100), inline=False)
    embed.set_footer(
        text=_(
            "Alike: title {title}, description {description}, policy questions {questions}, "
            "whatever the word order, case and accents. Withdrawn, screened-out, rejected and "
            "merged proposals are left out.",
            title=formats.percent(WEIGHTS["title"] / 10),
            description=formats.percent(WEIGHTS["description"] / 10),
            questions=formats.percent(WEIGHTS["policy_questions"] / 10),
        )
    )
    return embed

"""Embeds for MAG evaluation: a stored score, the queue, the assignment, the results; and audit."""

from __future__ import annotations

import json
from collections.abc import Sequence

import discord

from bot.render.embeds import INFO, OK, WARN, clip, timestamp
from bot.render.proposals import heading, score_text, status_text
from bot.render.text import one_line, safe
from bot.services.audit import AuditEntry
from bot.services.reviews import (
    SCORE_LABELS,
    AssignResult,
    ConflictDecision,
    ConflictResult,
    QueueItem,
    ResultsPage,
    ScoreResult,
    SuspectedConflict,
)


def score_embed(result: ScoreResult) -> discord.Embed:
    """Return the confirmation of a score."""
    embed = discord.Embed(
        title=f"Scored {heading(result.proposal)}",
        description=f"**{result.score}** — {SCORE_LABELS[result.score]}"
        + (" · 🔗 merge candidate" if result.merge else ""),
        colour=WARN if result.suspected else OK,
    )
    if result.comment:
        embed.add_field(name="Comment", value=safe(result.comment, 1000), inline=False)
    if result.suspected:
        embed.add_field(
            name="A possible conflict of interest",
            value=clip(
                "The data suggests you "
                + "; ".join(r.removeprefix("you ") for r in result.suspected)
                + ". Your score counts unless you declare a conflict "
                f"(`/review conflict proposal:{result.proposal.number}`) or the secretariat "
                "decides there is one.",
                1024,
            ),
            inline=False,
        )
    if result.replaced_score is not None:
        embed.set_footer(text=f"This replaces your earlier score of {result.replaced_score}.")
    return embed


def conflict_text(result: ConflictResult) -> str:
    """Return what a declared conflict changed."""
    label = result.proposal.label
    parts = [f"Conflict of interest on {label} recorded."]
    if result.unassigned:
        parts.append("It left your queue.")
    if result.score_excluded:
        parts.append("Your score of it no longer counts.")
    return " ".join(parts)


def queue_embed(items: Sequence[QueueItem]) -> discord.Embed:
    """Return a member's proposals still to score, possible conflicts marked."""
    embed = discord.Embed(title="Your review queue", colour=INFO)
    if not items:
        embed.description = "Nothing left to score. Thank you!"
        return embed
    lines = []
    for item in items:
        line = f"{heading(item.proposal, 120)} — {status_text(item.proposal.status)}"
        if item.suspected:
            line += f"\n  ⚠️ possible conflict: you {'; '.join(item.suspected)}"
        lines.append(line)
    embed.description = clip("\n".join(lines), 4000)
    embed.set_footer(
        text=f"{len(items)} to score · /review score proposal score · "
        "/review conflict if you have a conflict of interest"
    )
    return embed


def suspected_embed(found: Sequence[SuspectedConflict]) -> discord.Embed:
    """Return the conflicts the data suggests, for the secretariat to decide."""
    embed = discord.Embed(title="Possible conflicts of interest to decide", colour=INFO)
    if not found:
        embed.description = "None: every possible conflict is settled."
        return embed
    lines = []
    for item in found[:40]:
        scored = (
            f"scored {item.score} (counts until decided)"
            if item.score is not None
            else "not scored"
        )
        lines.append(
            f"`{item.proposal.label}` <@{item.member_id}>: {'; '.join(item.reasons)} · {scored}"
        )
    embed.description = clip("\n".join(lines), 4000)
    embed.set_footer(
        text=f"{len(found)} to decide · /review decide proposal member conflict reason"
    )
    return embed


def decision_text(result: ConflictDecision) -> str:
    """Return what deciding a suspected conflict did."""
    who = f"<@{result.member_id}>"
    if result.conflict:
        extra = " Their score no longer counts." if result.score_excluded else ""
        return f"Recorded: {who} has a conflict of interest on {result.proposal.label}.{extra}"
    return f"Recorded: {who} has no conflict of interest on {result.proposal.label}."


def assign_embed(result: AssignResult) -> discord.Embed:
    """Return what an assignment run did."""
    plan = result.plan
    low, high = result.load_range
    embed = discord.Embed(
        title="Reviewers assigned",
        description=(
            f"{result.proposals} workshops × {result.per_proposal} reviewers among "
            f"{result.members} MAG members with a profile.\n"
            f"Each member has {low}–{high} proposals. Kept {len(plan.kept)}, "
            f"added {len(plan.added)}, removed {len(plan.dropped)}."
        ),
        colour=OK if not plan.short else WARN,
    )
    if plan.short:
        labels = [result.labels.get(p, str(p)) for p in sorted(plan.short)]
        embed.add_field(
            name="Fewer reviewers than asked (conflicts)",
            value=clip(", ".join(labels), 1024),
            inline=False,
        )
    if plan.few_groups:
        labels = [result.labels.get(p, str(p)) for p in sorted(plan.few_groups)]
        embed.add_field(
            name="Reviewers from fewer than 3 stakeholder groups",
            value=clip(", ".join(labels), 1024),
            inline=False,
        )
    embed.set_footer(text="Members see their proposals with /review queue.")
    return embed


def results_embed(page: ResultsPage) -> discord.Embed:
    """Return one page of the ranking."""
    embed = discord.Embed(title="Results", colour=INFO)
    if not page.rows:
        embed.description = "No workshop matches."
        return embed
    embed.description = clip(
        "\n".join(
            f"**{r.rank}.** `{r.label}` {one_line(r.proposal.title, 60)} — {score_text(r.summary)}"
            for r in page.rows
        ),
        4000,
    )
    embed.set_footer(
        text=f"Page {page.page + 1} of {page.pages} · {page.total} workshops · ranked by mean, "
        "then median, then number of scores, then proposal number · conflicted scores left out"
    )
    return embed


def _brief(value: object) -> str:
    if value is None:
        return ""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return one_line(text, 150)


def audit_embed(events: Sequence[AuditEntry], title: str) -> discord.Embed:
    """Return recent audit events, newest first."""
    embed = discord.Embed(title=title, colour=INFO)
    if not events:
        embed.description = "Nothing recorded yet."
        return embed
    lines = []
    for e in events:
        who = f"<@{e.actor_id}>" if e.actor_id else "the bot"
        line = f"{timestamp(e.at, 'f')} {who} `{one_line(e.action, 40)}` {one_line(e.target, 40)}"
        change = " → ".join(x for x in (_brief(e.before), _brief(e.after)) if x)
        if change:
            line += f"\n  {change}"
        if e.note:
            line += f"\n  {one_line(e.note, 150)}"
        lines.append(line)
    embed.description = clip("\n".join(lines), 4000)
    embed.set_footer(text=f"{len(events)} most recent events")
    return embed

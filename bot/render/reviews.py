"""Embeds for MAG evaluation: a stored score, the queue, the assignment, the results; and audit."""

from __future__ import annotations

import json
from collections.abc import Sequence

import discord

from bot.render.embeds import INFO, OK, WARN, clip, timestamp
from bot.render.proposals import heading, one_line, safe, score_text, status_text
from bot.services.reviews import (
    SCORE_LABELS,
    AssignResult,
    ConflictResult,
    ResultsPage,
    ScoreResult,
)
from bot.services.taxonomy import proposal_label
from storage.audit import AuditEvent
from storage.proposals import Proposal


def score_embed(result: ScoreResult) -> discord.Embed:
    """Return the confirmation of a score."""
    review = result.review
    embed = discord.Embed(
        title=f"Scored {heading(result.proposal)}",
        description=f"**{review.score}** — {SCORE_LABELS[review.score]}"
        + (" · 🔗 merge candidate" if review.merge else ""),
        colour=OK,
    )
    if review.comment:
        embed.add_field(name="Comment", value=safe(review.comment, 1000), inline=False)
    if result.replaced is not None:
        embed.set_footer(text=f"This replaces your earlier score of {result.replaced['score']}.")
    return embed


def conflict_text(result: ConflictResult) -> str:
    """Return what a declared conflict changed."""
    label = proposal_label(result.proposal.kind, result.proposal.number)
    parts = [f"Conflict of interest on {label} recorded."]
    if result.unassigned:
        parts.append("It left your queue.")
    if result.score_excluded:
        parts.append("Your score of it no longer counts.")
    return " ".join(parts)


def queue_embed(proposals: Sequence[Proposal]) -> discord.Embed:
    """Return a member's proposals still to score."""
    embed = discord.Embed(title="Your review queue", colour=INFO)
    if not proposals:
        embed.description = "Nothing left to score. Thank you!"
        return embed
    embed.description = clip(
        "\n".join(f"{heading(p, 120)} — {status_text(p.status)}" for p in proposals), 4000
    )
    embed.set_footer(
        text=f"{len(proposals)} to score · /review score proposal score · "
        "/review conflict if you have a conflict of interest"
    )
    return embed


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


def audit_embed(events: Sequence[AuditEvent], title: str) -> discord.Embed:
    """Return recent audit events, newest first."""
    embed = discord.Embed(title=title, colour=INFO)
    if not events:
        embed.description = "Nothing recorded yet."
        return embed
    lines = []
    for e in events:
        who = f"<@{e.actor_id}>" if e.actor_id else "the bot"
        line = f"{timestamp(e.created_at, 'f')} {who} `{e.action}` {one_line(e.target, 40)}"
        change = " → ".join(x for x in (_brief(e.before), _brief(e.after)) if x)
        if change:
            line += f"\n  {change}"
        if e.note:
            line += f"\n  {one_line(e.note, 150)}"
        lines.append(line)
    embed.description = clip("\n".join(lines), 4000)
    embed.set_footer(text=f"{len(events)} most recent events")
    return embed

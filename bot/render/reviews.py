"""Embeds for MAG evaluation: a stored score, the queue, the assignment, the results; and audit."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import discord

from bot.i18n import _, formats, ngettext
from bot.render.embeds import INFO, OK, WARN, clip, timestamp
from bot.render.proposals import heading, score_text, status_text
from bot.render.reminders import ref_text
from bot.render.text import one_line, safe
from bot.services.audit import AuditEntry
from bot.services.outbox import AssignedNotice, RoundNotice
from bot.services.reviews import (
    SCORE_LABELS,
    AssignResult,
    BorderlineReport,
    ConflictDecision,
    ConflictResult,
    ProgressReport,
    QueueItem,
    ResultsPage,
    ReviewerProgress,
    ScoreResult,
    SuspectedConflict,
)
from bot.services.rounds import RoundView


def score_embed(result: ScoreResult) -> discord.Embed:
    """Return the confirmation of a score."""
    label = _(SCORE_LABELS[result.score])
    embed = discord.Embed(
        title=_("Scored {proposal}", proposal=heading(result.proposal)),
        description=_("**{score}** — {label} · 🔗 merge candidate", score=result.score, label=label)
        if result.merge
        else _("**{score}** — {label}", score=result.score, label=label),
        colour=WARN if result.suspected else OK,
    )
    if result.comment:
        embed.add_field(name=_("Comment"), value=safe(result.comment, 1000), inline=False)
    if result.suspected:
        embed.add_field(
            name=_("A possible conflict of interest"),
            value=clip(
                _(
                    "The data suggests you {reasons}. Your score counts unless you declare "
                    "a conflict (`/review conflict proposal:{number}`) or the secretariat "
                    "decides there is one.",
                    reasons="; ".join(r.removeprefix("you ") for r in result.suspected),
                    number=result.proposal.number,
                ),
                1024,
            ),
            inline=False,
        )
    if result.replaced_score is not None:
        embed.set_footer(
            text=_("This replaces your earlier score of {score}.", score=result.replaced_score)
        )
    return embed


def conflict_text(result: ConflictResult) -> str:
    """Return what a declared conflict changed."""
    label = result.proposal.label
    parts = [_("Conflict of interest on {proposal} recorded.", proposal=label)]
    if result.unassigned:
        parts.append(_("It left your queue."))
    if result.score_excluded:
        parts.append(_("Your score of it no longer counts."))
    return " ".join(parts)


def progress_line(progress: ReviewerProgress | None, closes_at: datetime | None) -> str | None:
    """Return "7 of 12 scored, closes in 3 days" for a member's queue (None: nothing assigned)."""
    if progress is None or not progress.assigned:
        return None
    line = ngettext(
        "**{scored}** of **{n}** assigned proposal scored",
        "**{scored}** of **{n}** assigned proposals scored",
        progress.assigned,
        scored=progress.scored,
    )
    if closes_at is not None:
        line += " · " + _("the reviews close {when}", when=timestamp(closes_at, "R"))
    return line


def queue_embed(
    items: Sequence[QueueItem],
    progress: ReviewerProgress | None = None,
    closes_at: datetime | None = None,
) -> discord.Embed:
    """Return a member's proposals still to score, possible conflicts marked, and progress."""
    embed = discord.Embed(title=_("Your review queue"), colour=INFO)
    where = progress_line(progress, closes_at)
    if where is not None:
        embed.add_field(name=_("Progress"), value=where, inline=False)
    if not items:
        embed.description = _("Nothing left to score. Thank you!")
        return embed
    lines = []
    for item in items:
        line = f"{heading(item.proposal, 120)} — {status_text(item.proposal.status)}"
        if item.suspected:
            line += "\n  " + _(
                "⚠️ possible conflict: you {reasons}", reasons="; ".join(item.suspected)
            )
        lines.append(line)
    embed.description = clip("\n".join(lines), 4000)
    embed.set_footer(
        text=ngettext(
            "{n} to score · /review score proposal score · "
            "/review conflict if you have a conflict of interest",
            "{n} to score · /review score proposal score · "
            "/review conflict if you have a conflict of interest",
            len(items),
        )
    )
    return embed


def suspected_embed(found: Sequence[SuspectedConflict]) -> discord.Embed:
    """Return the conflicts the data suggests, for the secretariat to decide."""
    embed = discord.Embed(title=_("Possible conflicts of interest to decide"), colour=INFO)
    if not found:
        embed.description = _("None: every possible conflict is settled.")
        return embed
    lines = []
    for item in found[:40]:
        scored = (
            _("scored {score} (counts until decided)", score=item.score)
            if item.score is not None
            else _("not scored")
        )
        lines.append(
            f"`{item.proposal.label}` <@{item.member_id}>: {'; '.join(item.reasons)} · {scored}"
        )
    embed.description = clip("\n".join(lines), 4000)
    embed.set_footer(
        text=ngettext(
            "{n} to decide · /review decide proposal member conflict reason",
            "{n} to decide · /review decide proposal member conflict reason",
            len(found),
        )
    )
    return embed


def decision_text(result: ConflictDecision) -> str:
    """Return what deciding a suspected conflict did."""
    who = f"<@{result.member_id}>"
    label = result.proposal.label
    if result.conflict:
        text = _(
            "Recorded: {member} has a conflict of interest on {proposal}.",
            member=who,
            proposal=label,
        )
        if result.score_excluded:
            text += " " + _("Their score no longer counts.")
        return text
    return _(
        "Recorded: {member} has no conflict of interest on {proposal}.",
        member=who,
        proposal=label,
    )


def assign_embed(result: AssignResult) -> discord.Embed:
    """Return what an assignment run did."""
    plan = result.plan
    low, high = result.load_range
    embed = discord.Embed(
        title=_("Reviewers assigned"),
        description=ngettext(
            "{n} workshops × {per_proposal} reviewers among {members} MAG members with a profile.",
            "{n} workshops × {per_proposal} reviewers among {members} MAG members with a profile.",
            result.proposals,
            per_proposal=result.per_proposal,
            members=result.members,
        )
        + "\n"
        + _(
            "Each member has {low}–{high} proposals. Kept {kept}, "
            "added {added}, removed {removed}.",
            low=low,
            high=high,
            kept=len(plan.kept),
            added=len(plan.added),
            removed=len(plan.dropped),
        ),
        colour=OK if not plan.short else WARN,
    )
    if plan.short:
        labels = [result.labels.get(p, str(p)) for p in sorted(plan.short)]
        embed.add_field(
            name=_("Fewer reviewers than asked (conflicts)"),
            value=clip(", ".join(labels), 1024),
            inline=False,
        )
    if plan.few_groups:
        labels = [result.labels.get(p, str(p)) for p in sorted(plan.few_groups)]
        embed.add_field(
            name=_("Reviewers from fewer than 3 stakeholder groups"),
            value=clip(", ".join(labels), 1024),
            inline=False,
        )
    embed.set_footer(text=_("Members see their proposals with /review queue."))
    return embed


def assigned_content(post: AssignedNotice) -> str:
    """Return a reviewer's DM: proposals were assigned to them, where to find them, by when."""
    text = ngettext(
        "You have {n} new workshop proposal to review ({left} to score in all). "
        "Run `/review queue` in the server to see them.",
        "You have {n} new workshop proposals to review ({left} to score in all). "
        "Run `/review queue` in the server to see them.",
        post.added,
        left=post.to_score,
    )
    if post.closes_at is not None:
        text += " " + _("The reviews close {when}.", when=timestamp(post.closes_at, "F"))
    return clip(f"{text} ({ref_text(post.ref)})", 2000)


def round_content(post: RoundNotice) -> str:
    """Return a reviewer's DM: a later round reopened some of their proposals, until when."""
    text = ngettext(
        "Round {number} of the reviews is open: {n} of your workshop proposals is near the cut "
        "and may be scored again ({left} still to do). Run `/review queue` in the server to see "
        "it.",
        "Round {number} of the reviews is open: {n} of your workshop proposals are near the cut "
        "and may be scored again ({left} still to do). Run `/review queue` in the server to see "
        "them.",
        post.count,
        number=post.number,
        left=post.left,
    )
    if post.closes_at is not None:
        text += " " + _("The round closes {when}.", when=timestamp(post.closes_at, "F"))
    return clip(f"{text} ({ref_text(post.ref)})", 2000)


def round_text(view: RoundView) -> str:
    """Return the answer to ``/review round``."""
    text = ngettext(
        "Round {number} is open until {when} for {labels}: {n} reviewer was told.",
        "Round {number} is open until {when} for {labels}: {n} reviewers were told.",
        view.reviewers,
        number=view.number,
        when=timestamp(view.closes_at, "F"),
        labels=", ".join(view.proposals),
    )
    if view.deadline_number is not None:
        text += " " + _(
            "Deadline #{number} reminds those who have not scored them again.",
            number=view.deadline_number,
        )
    return clip(text, 2000)


def progress_embed(report: ProgressReport) -> discord.Embed:
    """Return every reviewer's progress for the secretariat: who is behind, who has no profile."""
    embed = discord.Embed(title=_("Review progress"), colour=INFO)
    if not report.reviewers:
        embed.description = _(
            "Nobody is assigned yet. Assign reviewers with `/review assign per_proposal:5`."
        )
        return embed
    head = ngettext(
        "**{scored}** of **{n}** assigned review done",
        "**{scored}** of **{n}** assigned reviews done",
        report.assigned,
        scored=report.scored,
    )
    if report.closes_at is not None:
        head += " · " + _("the reviews close {when}", when=timestamp(report.closes_at, "R"))
    embed.description = head
    ordered = sorted(report.reviewers, key=lambda r: (-r.to_score, r.member_id))
    lines = [
        _(
            "<@{member}>: {scored} of {assigned} scored, {left} to score",
            member=r.member_id,
            scored=r.scored,
            assigned=r.assigned,
            left=r.to_score,
        )
        + (" · " + _("{n} set aside (conflict)", n=r.conflicted) if r.conflicted else "")
        for r in ordered
    ]
    embed.add_field(name=_("Reviewers, most behind first"), value=clip("\n".join(lines), 1024))
    if report.not_started:
        names = formats.joined([f"<@{r.member_id}>" for r in report.not_started])
        embed.add_field(name=_("Not started yet"), value=clip(names, 1024), inline=False)
    if report.without_profile:
        names = formats.joined([f"<@{r.member_id}>" for r in report.without_profile])
        embed.add_field(
            name=_("No MAG profile yet (ask them to run `/profile set`)"),
            value=clip(names, 1024),
            inline=False,
        )
    embed.set_footer(text=_("Reminders of the reviews deadline chase only those behind."))
    return embed


def _z(value: float | None) -> str:
    if value is None:
        return "—"
    sign = "+" if value >= 0 else "−"
    return sign + formats.decimal(abs(value), 2)


def borderline_embed(report: BorderlineReport) -> discord.Embed:
    """Return the cut and the proposals near it, raw and normalised side by side."""
    embed = discord.Embed(title=_("Borderline workshops"), colour=INFO)
    if report.cut is None:
        embed.description = _(
            "Not enough scores yet to place a cut at {accept} workshops.", accept=report.accept
        )
        return embed
    if report.accept >= report.ranked:
        embed.description = ngettext(
            "The {n} ranked workshop fits in {accept}: there is no cut.",
            "All {n} ranked workshops fit in {accept}: there is no cut.",
            report.ranked,
            accept=report.accept,
        )
        return embed
    embed.description = _(
        "The cut for **{accept}** of {ranked} ranked workshops falls at a mean of **{cut}**. "
        "Listed: means within {points} of it, and proposals that cross it when each "
        "reviewer's scores are normalised.",
        accept=report.accept,
        ranked=report.ranked,
        cut=formats.decimal(report.cut, 2),
        points=formats.decimal(report.points, 1),
    )
    lines = []
    for row in report.rows:
        standing = row.standing
        side = "✅" if standing.rank <= report.accept else "▫️"
        moves = ""
        if (standing.rank <= report.accept) != (standing.z_rank <= report.accept):
            moves = " · " + _("crosses the cut when normalised")
        lines.append(
            f"{side} **{standing.rank}.** `{row.label}` {one_line(row.proposal.title, 50)} — "
            + _(
                "mean {mean} · normalised {z} (place {z_rank}) · {n} scores",
                mean=formats.decimal(standing.summary.mean or 0, 2),
                z=_z(standing.z),
                z_rank=standing.z_rank,
                n=standing.summary.count,
            )
            + moves
        )
    embed.add_field(
        name=_("Near the cut"), value=clip("\n".join(lines) or _("nobody"), 1024), inline=False
    )
    embed.set_footer(
        text=_(
            "Normalised: each reviewer's scores as z-scores (their own mean 0, spread 1), so a "
            "harsh and a lenient reviewer weigh the same. Conflicted scores are left out."
        )
    )
    return embed


def results_embed(page: ResultsPage) -> discord.Embed:
    """Return one page of the ranking."""
    embed = discord.Embed(title=_("Results"), colour=INFO)
    if not page.rows:
        embed.description = _("No workshop matches.")
        return embed
    embed.description = clip(
        "\n".join(
            f"**{r.rank}.** `{r.label}` {one_line(r.proposal.title, 60)} — {score_text(r.summary)}"
            for r in page.rows
        ),
        4000,
    )
    embed.set_footer(
        text=ngettext(
            "Page {page} of {pages} · {n} workshops · ranked by mean, then median, then "
            "number of scores, then proposal number · conflicted scores left out",
            "Page {page} of {pages} · {n} workshops · ranked by mean, then median, then "
            "number of scores, then proposal number · conflicted scores left out",
            page.total,
            page=page.page + 1,
            pages=page.pages,
        )
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
        embed.description = _("Nothing recorded yet.")
        return embed
    lines = []
    for e in events:
        if e.hidden_actor:
            who = _("a reviewer")
        else:
            who = f"<@{e.actor_id}>" if e.actor_id else _("the bot")
        line = f"{timestamp(e.at, 'f')} {who} `{one_line(e.action, 40)}` {one_line(e.target, 40)}"
        change = " → ".join(x for x in (_brief(e.before), _brief(e.after)) if x)
        if change:
            line += f"\n  {change}"
        if e.note:
            line += f"\n  {one_line(e.note, 150)}"
        lines.append(line)
    embed.description = clip("\n".join(lines), 4000)
    embed.set_footer(text=ngettext("{n} most recent events", "{n} most recent events", len(events)))
    return embed

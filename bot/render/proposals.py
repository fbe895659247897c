"""Embeds for proposals: one proposal, a page of them, screening results, the DM to a proposer.

Everything a user typed goes through ``bot.render.text`` (shown as typed,
never as markup, cut to the room available); ``fit_embed`` then enforces
Discord's limits on the whole embed.
"""

from __future__ import annotations

from typing import Protocol

import discord

from bot.render.embeds import FIELD_VALUE, INFO, OK, WARN, clip, timestamp
from bot.render.text import one_line, plain, safe
from bot.services.proposals import (
    STATUS_LABELS,
    ProposalDetail,
    ProposalPage,
    StatusChange,
    Submitted,
)
from bot.services.scoring import ScoreSummary
from bot.services.screening import ScreeningReport, ScreeningResult
from bot.services.taxonomy import ATTENDANCE, ROLES, kind_label, proposal_label
from bot.services.visibility import Nominee

STATUS_ICONS = {
    "submitted": "📝",
    "screened_out": "⛔",
    "under_review": "🔎",
    "accepted": "✅",
    "rejected": "✖️",
    "merged": "🔗",
    "withdrawn": "↩️",
}
PARTICIPATION_ICONS = {
    "nominated": "•",
    "invited": "✉️",
    "confirmed": "✅",
    "declined": "✖️",
    "withdrawn": "↩️",
}


def status_text(status: str) -> str:
    """Return a proposal status with its icon: ``🔎 under review``."""
    return f"{STATUS_ICONS.get(status, '')} {STATUS_LABELS.get(status, status)}".strip()


class Named(Protocol):
    """Anything with a proposal's kind, number and title (a reference, a brief, a result)."""

    @property
    def kind(self) -> str: ...
    @property
    def number(self) -> int: ...
    @property
    def title(self) -> str: ...


def heading(proposal: Named, limit: int = 256) -> str:
    """Return ``WS #12 · Title`` for a proposal."""
    label = proposal_label(proposal.kind, proposal.number)
    return clip(f"{label} · {one_line(proposal.title, limit)}", limit)


def attendance_text(attendance: str | None) -> str:
    """Return how someone attends, or that nobody said."""
    if attendance is None:
        return "attendance not stated"
    return ATTENDANCE.get(attendance, attendance).lower()


def answer_text(nominee: Nominee) -> str | None:
    """Return who answered a nomination and how, or None when nobody did."""
    answer = nominee.answer
    if answer is None:
        return None
    said = "agreed" if answer.agreed else "refused"
    if answer.source == "secretariat":
        note = f": {one_line(answer.note, 120)}" if answer.note else ""
        return f"{said}, recorded by the secretariat (outside Discord{note})"
    if answer.by_user_id is not None:
        return f"{said} by <@{answer.by_user_id}>"
    return said


def person_line(nominee: Nominee) -> str:
    """Return one person on a proposal, with what this reader may see of them."""
    name = f"**{one_line(nominee.name, 80)}**"
    if nominee.affiliation:
        name += f" ({one_line(nominee.affiliation, 80)})"
    bits = [
        ROLES.get(nominee.role, nominee.role),
        attendance_text(nominee.attendance),
        f"{PARTICIPATION_ICONS.get(nominee.status, '')} {nominee.status}".strip(),
    ]
    line = (
        f"{name} — {', '.join(bits)} · {one_line(nominee.stakeholder_group, 60)}, "
        f"{one_line(nominee.region, 60)}"
    )
    if nominee.gender is not None:
        line += f" · {nominee.gender}"
    if nominee.contact:
        line += f" · {one_line(nominee.contact, 80)}"
    elif nominee.contact_claim:
        line += f" · {one_line(nominee.contact_claim, 80)} (given by the nominator)"
    if nominee.open_flags:
        line += f" · ⚠️ {nominee.open_flags} identity flag(s)"
    return f"`#{nominee.participation_id}` {line}"


def score_text(summary: ScoreSummary) -> str:
    """Return a score summary on one line: ``3.80 (median 4, 5 scores, spread 0.75)``."""
    if not summary.count or summary.mean is None:
        text = "no scores yet"
    else:
        text = (
            f"**{summary.mean:.2f}** (median {summary.median:g}, {summary.count} "
            f"score{'s' if summary.count != 1 else ''}, spread {summary.spread:.2f}, "
            f"{summary.low}–{summary.high})"
        )
    if summary.merges:
        text += f" · 🔗 {summary.merges} merge flag{'s' if summary.merges != 1 else ''}"
    if summary.excluded:
        text += f" · {summary.excluded} conflicted left out"
    return text


def proposal_embed(detail: ProposalDetail) -> discord.Embed:
    """Return everything about one proposal, as this reader may see it."""
    p = detail.proposal
    embed = discord.Embed(title=heading(p.ref), description=safe(p.description, 2000), colour=INFO)
    status = status_text(p.ref.status)
    if p.status_reason:
        status += f"\n{safe(p.status_reason, 300)}"
    embed.add_field(name="Status", value=status, inline=True)
    embed.add_field(
        name="Session",
        value=f"{kind_label(p.ref.kind)} · {p.format} · {p.duration} min\n"
        f"{safe(p.ref.subtheme, 100)}",
        inline=True,
    )
    embed.add_field(
        name="Proposer",
        value=f"<@{p.ref.proposer_id}>\nsubmitted {timestamp(p.created_at, 'D')}",
        inline=True,
    )
    embed.add_field(name="Policy questions", value=safe(p.policy_questions, 1000), inline=False)
    embed.add_field(name="Expected outcomes", value=safe(p.expected_outcomes, 1000), inline=False)
    embed.add_field(name="Hybrid plan", value=safe(p.hybrid_plan, 1000), inline=False)
    if detail.people is None:
        value = (
            f"{detail.people_count} nominated. Names are shown to the proposer, MAG members "
            "and the secretariat."
            if detail.people_count
            else "Nobody yet."
        )
    else:
        lines = [person_line(n) for n in detail.people]
        value = (
            clip("\n".join(lines), FIELD_VALUE) if lines else "Nobody yet: `/panellist nominate`."
        )
    embed.add_field(name=f"People ({detail.people_count})", value=value, inline=False)
    if detail.screening is not None:
        value = (
            "✅ passes now"
            if not detail.screening
            else "\n".join(f"⛔ {safe(reason, 200)}" for reason in detail.screening)
        )
        embed.add_field(name="Screening (as it stands now)", value=value, inline=False)
    reviews = f"{detail.review_count} review{'s' if detail.review_count != 1 else ''}"
    if detail.scores is not None:
        reviews += f"\n{score_text(detail.scores)}"
    embed.add_field(name="Reviews", value=reviews, inline=False)
    if detail.private:
        embed.set_footer(text="Gender and contact details are shown to the secretariat only.")
    return embed


def proposal_list_embed(page: ProposalPage) -> discord.Embed:
    """Return one page of proposals, one line each."""
    filters = [
        STATUS_LABELS.get(page.filters.get("status") or "", ""),
        one_line(page.filters.get("subtheme") or "", 60),
        "mine" if page.filters.get("mine") else "",
    ]
    shown = ", ".join(f for f in filters if f)
    embed = discord.Embed(title=f"Proposals{f' ({shown})' if shown else ''}", colour=INFO)
    if not page.items:
        embed.description = "No proposal matches. Submit one with `/proposal submit`."
        return embed
    embed.description = "\n".join(
        f"`{p.label}` {one_line(p.title, 80)} — {status_text(p.status)} · "
        f"{one_line(p.subtheme, 40)}"
        for p in page.items
    )
    embed.set_footer(
        text=f"Page {page.page + 1} of {page.pages} · {page.total} proposals · "
        "/proposal view number for details"
    )
    return embed


def submitted_embed(submitted: Submitted) -> discord.Embed:
    """Return the confirmation shown to the proposer (also when the form came twice)."""
    proposal = submitted.proposal
    again = "Already submitted" if submitted.again else "Submitted"
    embed = discord.Embed(
        title=f"{again}: {heading(proposal.ref)}",
        description=(
            "Next: add your organizers and speakers with `/panellist nominate "
            f"proposal:{proposal.ref.number}`. Speakers must agree (confirm) before screening; "
            "you can edit the text with `/proposal edit` while it is submitted."
        ),
        colour=OK,
    )
    if submitted.again:
        embed.description = "This form had already been sent: the proposal is stored once. " + (
            embed.description or ""
        )
    embed.add_field(
        name="Session",
        value=f"{kind_label(proposal.ref.kind)} · {proposal.format} · {proposal.duration} min · "
        f"{safe(proposal.ref.subtheme, 100)}",
    )
    return embed


def status_change_embed(change: StatusChange, guild_name: str) -> discord.Embed:
    """Return the direct message telling a proposer their proposal's new status."""
    embed = discord.Embed(
        title=heading(change.proposal),
        description=(
            f"Your proposal in **{one_line(guild_name, 100)}** is now "
            f"**{status_text(change.after)}** (was {STATUS_LABELS[change.before]})."
        ),
        colour=OK if change.after in ("accepted", "under_review") else WARN,
    )
    if change.reason:
        embed.add_field(name="Reason", value=safe(change.reason, 1000), inline=False)
    return embed


def screened_embed(result: ScreeningResult, guild_name: str) -> discord.Embed:
    """Return the direct message telling a proposer the outcome of screening."""
    passed = result.passed
    embed = discord.Embed(
        title=clip(f"{result.label} · {one_line(result.title, 200)}", 256),
        description=(
            f"Your proposal in **{one_line(guild_name, 100)}** "
            + (
                "passed screening and is now **under review** by the MAG."
                if passed
                else "did not pass screening and is now **screened out**."
            )
        ),
        colour=OK if passed else WARN,
    )
    if not passed:
        embed.add_field(
            name="Why",
            value=clip("\n".join(f"⛔ {safe(f.reason, 250)}" for f in result.failures), 1024),
            inline=False,
        )
    return embed


def screening_embed(report: ScreeningReport, limit: int = 20) -> discord.Embed:
    """Return a screening run: the totals, then the failing proposals with their reasons."""
    total = len(report.results)
    failed = [r for r in report.results if not r.passed]
    embed = discord.Embed(
        title="Screening",
        description=f"{report.passed} of {total} passed, {len(failed)} failed."
        + (" Statuses updated and proposers told." if report.applied else ""),
        colour=OK if not failed else WARN,
    )
    for result in failed[:limit]:
        reasons = "\n".join(f"⛔ {safe(f.reason, 250)}" for f in result.failures)
        moved = f"\n→ {status_text(result.moved_to)}" if result.moved_to else ""
        embed.add_field(
            name=clip(f"{result.label} · {one_line(result.title, 80)}", 256),
            value=clip(reasons + moved, FIELD_VALUE),
            inline=False,
        )
    passed = [r.label for r in report.results if r.passed]
    if passed:
        embed.add_field(name="Passed", value=clip(", ".join(passed), FIELD_VALUE), inline=False)
    if len(failed) > limit:
        embed.set_footer(text=f"{len(failed) - limit} more failing: see the attached file.")
    return embed


def screening_text(report: ScreeningReport) -> str:
    """Return every screening result as plain text (attached when the embed is full)."""
    lines = []
    for r in report.results:
        lines.append(f"{r.label}  {plain(r.title, 300)}")
        lines.extend(f"    FAIL {f.rule}: {f.reason}" for f in r.failures)
        if r.passed:
            lines.append("    pass")
        if r.moved_to:
            lines.append(f"    -> {r.moved_to}")
    return "\n".join(lines) + "\n"

"""Embeds for proposals: one proposal, a page of them, screening results, the DM to a proposer.

Everything a user typed goes through ``bot.render.text`` (shown as typed,
never as markup, cut to the room available); ``fit_embed`` then enforces
Discord's limits on the whole embed.
"""

from __future__ import annotations

from typing import Protocol

import discord

from bot.i18n import _, formats, ngettext, pgettext
from bot.render.embeds import FIELD_VALUE, INFO, OK, WARN, clip, timestamp
from bot.render.text import one_line, plain, safe
from bot.services.imports import source_name
from bot.services.proposals import (
    STATUS_LABELS,
    ProposalDetail,
    ProposalPage,
    ProposalView,
    ReviewNote,
    StatusChange,
    Submitted,
)
from bot.services.scoring import ScoreSummary
from bot.services.screening import ScreeningReport, ScreeningResult
from bot.services.taxonomy import (
    ATTENDANCE,
    ROLES,
    kind_label,
    participation_label,
    proposal_label,
)
from bot.services.visibility import Nominee

STATUS_ICONS = {
    "submitted": "📝",
    "screened_out": "⛔",
    "under_review": "🔎",
    "accepted": "✅",
    "conditional": "☑️",
    "waitlisted": "⏳",
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


def proposer_text(p: ProposalView) -> str:
    """Return the proposer as shown: a mention, or an imported proposal's name and source."""
    if p.source is not None and p.ref.proposer_id == 0:
        return _(
            "{name} (imported from {source}, not on Discord)",
            name=safe(p.proposer_name or "?", 100),
            source=source_name(p.source),
        )
    return f"<@{p.ref.proposer_id}>"


def status_text(status: str) -> str:
    """Return a proposal status with its icon: ``🔎 under review``."""
    return f"{STATUS_ICONS.get(status, '')} {_(STATUS_LABELS.get(status, status))}".strip()


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


def minutes_text(minutes: int) -> str:
    """Return a session's length: ``90 min``."""
    return _("{minutes} min", minutes=minutes)


def attendance_text(attendance: str | None) -> str:
    """Return how someone attends, or that nobody said."""
    if attendance is None:
        return _("attendance not stated")
    return _(ATTENDANCE.get(attendance, attendance)).lower()


def answer_text(nominee: Nominee) -> str | None:
    """Return who answered a nomination and how, or None when nobody did."""
    answer = nominee.answer
    if answer is None:
        return None
    if answer.source == "secretariat":
        if answer.note:
            note = one_line(answer.note, 120)
            if answer.agreed:
                return _("agreed, recorded by the secretariat (outside Discord: {note})", note=note)
            return _("refused, recorded by the secretariat (outside Discord: {note})", note=note)
        if answer.agreed:
            return _("agreed, recorded by the secretariat (outside Discord)")
        return _("refused, recorded by the secretariat (outside Discord)")
    if answer.source == "email":
        return (
            _("agreed by the nominee, by email")
            if answer.agreed
            else _("refused by the nominee, by email")
        )
    if answer.by_user_id is not None:
        who = f"<@{answer.by_user_id}>"
        return _("agreed by {who}", who=who) if answer.agreed else _("refused by {who}", who=who)
    return _("agreed") if answer.agreed else _("refused")


def person_line(nominee: Nominee) -> str:
    """Return one person on a proposal, with what this reader may see of them."""
    name = f"**{one_line(nominee.name, 80)}**"
    if nominee.affiliation:
        name += f" ({one_line(nominee.affiliation, 80)})"
    bits = [
        _(ROLES.get(nominee.role, nominee.role)),
        attendance_text(nominee.attendance),
        f"{PARTICIPATION_ICONS.get(nominee.status, '')} "
        f"{participation_label(nominee.status)}".strip(),
    ]
    line = (
        f"{name} — {', '.join(bits)} · {one_line(_(nominee.stakeholder_group), 60)}, "
        f"{one_line(_(nominee.region), 60)}"
    )
    if nominee.gender is not None:
        line += f" · {_(nominee.gender)}"
    if nominee.contact:
        line += f" · {one_line(nominee.contact, 80)}"
    elif nominee.contact_claim:
        claim = one_line(nominee.contact_claim, 80)
        line += " · " + _("{contact} (given by the nominator)", contact=claim)
    if nominee.open_flags:
        line += " · " + ngettext(
            "⚠️ {n} identity flag(s)", "⚠️ {n} identity flag(s)", nominee.open_flags
        )
    return f"`#{nominee.participation_id}` {line}"


def score_text(summary: ScoreSummary) -> str:
    """Return a score summary on one line: ``3.80 (median 4, 5 scores, spread 0.75)``."""
    if not summary.count or summary.mean is None:
        text = _("no scores yet")
    else:
        text = ngettext(
            "**{mean}** (median {median}, {n} score, spread {spread}, {low}–{high})",
            "**{mean}** (median {median}, {n} scores, spread {spread}, {low}–{high})",
            summary.count,
            mean=formats.decimal(summary.mean, 2),
            median=formats.number(summary.median or 0),
            spread=formats.decimal(summary.spread or 0, 2),
            low=summary.low,
            high=summary.high,
        )
    if summary.merges:
        text += " · " + ngettext("🔗 {n} merge flag", "🔗 {n} merge flags", summary.merges)
    if summary.excluded:
        text += " · " + ngettext(
            "{n} conflicted left out", "{n} conflicted left out", summary.excluded
        )
    return text


def proposal_embed(detail: ProposalDetail) -> discord.Embed:
    """Return everything about one proposal, as this reader may see it."""
    p = detail.proposal
    embed = discord.Embed(title=heading(p.ref), description=safe(p.description, 2000), colour=INFO)
    status = status_text(p.ref.status)
    if p.status_reason:
        status += f"\n{safe(p.status_reason, 300)}"
    embed.add_field(name=_("Status"), value=status, inline=True)
    embed.add_field(
        name=_("Session"),
        value=f"{_(kind_label(p.ref.kind))} · {_(p.format)} · {minutes_text(p.duration)}\n"
        f"{safe(p.ref.subtheme, 100)}",
        inline=True,
    )
    embed.add_field(
        name=_("Proposer"),
        value=_(
            "{proposer}\nsubmitted {date}",
            proposer=_("hidden (blind review)") if detail.blind else proposer_text(p),
            date=timestamp(p.created_at, "D"),
        ),
        inline=True,
    )
    embed.add_field(name=_("Policy questions"), value=safe(p.policy_questions, 1000), inline=False)
    embed.add_field(
        name=_("Expected outcomes"), value=safe(p.expected_outcomes, 1000), inline=False
    )
    embed.add_field(name=_("Hybrid plan"), value=safe(p.hybrid_plan, 1000), inline=False)
    if detail.people is None and detail.blind:
        value = ngettext(
            "{n} nominated. Names and affiliations are hidden during blind review; "
            "`/balance proposal` gives the counts.",
            "{n} nominated. Names and affiliations are hidden during blind review; "
            "`/balance proposal` gives the counts.",
            detail.people_count,
        )
    elif detail.people is None:
        value = (
            ngettext(
                "{n} nominated. Names are shown to the proposer, MAG members and the secretariat.",
                "{n} nominated. Names are shown to the proposer, MAG members and the secretariat.",
                detail.people_count,
            )
            if detail.people_count
            else _("Nobody yet.")
        )
    else:
        lines = [person_line(n) for n in detail.people]
        value = (
            clip("\n".join(lines), FIELD_VALUE)
            if lines
            else _("Nobody yet: `/panellist nominate`.")
        )
    embed.add_field(
        name=_("People ({count})", count=detail.people_count), value=value, inline=False
    )
    if detail.screening is not None:
        value = (
            _("✅ passes now")
            if not detail.screening
            else "\n".join(f"⛔ {safe(reason, 200)}" for reason in detail.screening)
        )
        embed.add_field(name=_("Screening (as it stands now)"), value=value, inline=False)
    reviews = ngettext("{n} review", "{n} reviews", detail.review_count)
    if detail.scores is not None:
        reviews += f"\n{score_text(detail.scores)}"
    embed.add_field(name=_("Reviews"), value=reviews, inline=False)
    if detail.reviews:
        embed.add_field(
            name=_("Scores and comments (secretariat only)"),
            value=clip("\n".join(review_note_line(n) for n in detail.reviews), 1024),
            inline=False,
        )
    if detail.private:
        embed.set_footer(text=_("Gender and contact details are shown to the secretariat only."))
    return embed


def review_note_line(note: ReviewNote) -> str:
    """Return one review for the secretariat: who, the score, the comment (as typed)."""
    line = f"{note.reviewer} · **{note.score}**"
    if note.merge:
        line += " · " + _("suggests a merge")
    if note.conflicted:
        line += " · " + _("conflict of interest: left out of the scores")
    if note.comment:
        line += f"\n> {one_line(note.comment, 300)}"
    return line


def proposal_list_embed(page: ProposalPage) -> discord.Embed:
    """Return one page of proposals, one line each."""
    filters = [
        _(STATUS_LABELS.get(page.filters.get("status") or "", "")),
        one_line(page.filters.get("subtheme") or "", 60),
        _("mine") if page.filters.get("mine") else "",
    ]
    shown = ", ".join(f for f in filters if f)
    embed = discord.Embed(
        title=_("Proposals ({filters})", filters=shown) if shown else _("Proposals"),
        colour=INFO,
    )
    if not page.items:
        embed.description = _("No proposal matches. Submit one with `/proposal submit`.")
        return embed
    embed.description = "\n".join(
        f"`{p.label}` {one_line(p.title, 80)} — {status_text(p.status)} · "
        f"{one_line(p.subtheme, 40)}"
        for p in page.items
    )
    embed.set_footer(
        text=ngettext(
            "Page {page} of {pages} · {n} proposals · /proposal view number for details",
            "Page {page} of {pages} · {n} proposals · /proposal view number for details",
            page.total,
            page=page.page + 1,
            pages=page.pages,
        )
    )
    return embed


def submitted_embed(submitted: Submitted) -> discord.Embed:
    """Return the confirmation shown to the proposer (also when the form came twice)."""
    proposal = submitted.proposal
    title = heading(proposal.ref)
    next_steps = _(
        "Next: add your organizers and speakers with `/panellist nominate "
        "proposal:{number}`. Speakers must agree (confirm) before screening; "
        "you can edit the text with `/proposal edit` while it is submitted.",
        number=proposal.ref.number,
    )
    embed = discord.Embed(
        title=_("Already submitted: {proposal}", proposal=title)
        if submitted.again
        else _("Submitted: {proposal}", proposal=title),
        description=next_steps,
        colour=OK,
    )
    if submitted.again:
        embed.description = " ".join(
            (_("This form had already been sent: the proposal is stored once."), next_steps)
        )
    embed.add_field(
        name=_("Session"),
        value=f"{_(kind_label(proposal.ref.kind))} · {_(proposal.format)} · "
        f"{minutes_text(proposal.duration)} · {safe(proposal.ref.subtheme, 100)}",
    )
    return embed


def status_change_embed(change: StatusChange, guild_name: str) -> discord.Embed:
    """Return the direct message telling a proposer their proposal's new status."""
    embed = discord.Embed(
        title=heading(change.proposal),
        description=_(
            "Your proposal in **{server}** is now **{status}** (was {before}).",
            server=one_line(guild_name, 100),
            status=status_text(change.after),
            before=_(STATUS_LABELS[change.before]),
        ),
        colour=OK if change.after in ("accepted", "under_review") else WARN,
    )
    if change.reason:
        embed.add_field(name=_("Reason"), value=safe(change.reason, 1000), inline=False)
    return embed


def screened_embed(result: ScreeningResult, guild_name: str) -> discord.Embed:
    """Return the direct message telling a proposer the outcome of screening."""
    passed = result.passed
    embed = discord.Embed(
        title=clip(f"{result.label} · {one_line(result.title, 200)}", 256),
        description=_(
            "Your proposal in **{server}** passed screening and is now **under review** "
            "by the MAG.",
            server=one_line(guild_name, 100),
        )
        if passed
        else _(
            "Your proposal in **{server}** did not pass screening and is now **screened out**.",
            server=one_line(guild_name, 100),
        ),
        colour=OK if passed else WARN,
    )
    if not passed:
        embed.add_field(
            name=_("Why"),
            value=clip("\n".join(f"⛔ {safe(f.reason, 250)}" for f in result.failures), 1024),
            inline=False,
        )
    return embed


def screening_embed(report: ScreeningReport, limit: int = 20) -> discord.Embed:
    """Return a screening run: the totals, then the failing proposals with their reasons."""
    total = len(report.results)
    failed = [r for r in report.results if not r.passed]
    embed = discord.Embed(
        title=_("Screening"),
        description=" ".join(
            (
                _(
                    "{passed} of {total} passed, {failed} failed.",
                    passed=report.passed,
                    total=total,
                    failed=len(failed),
                ),
                *((_("Statuses updated and proposers told."),) if report.applied else ()),
            )
        ),
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
        embed.add_field(name=_("Passed"), value=clip(", ".join(passed), FIELD_VALUE), inline=False)
    if len(failed) > limit:
        embed.set_footer(
            text=ngettext(
                "{n} more failing: see the attached file.",
                "{n} more failing: see the attached file.",
                len(failed) - limit,
            )
        )
    return embed


def screening_text(report: ScreeningReport) -> str:
    """Return every screening result as plain text (attached when the embed is full)."""
    lines = []
    for r in report.results:
        lines.append(f"{r.label}  {plain(r.title, 300)}")
        lines.extend(
            "    " + _("FAIL {rule}: {reason}", rule=f.rule, reason=f.reason) for f in r.failures
        )
        if r.passed:
            lines.append("    " + pgettext("screening", "pass"))
        if r.moved_to:
            lines.append(f"    -> {r.moved_to}")
    return "\n".join(lines) + "\n"

"""Decisions: drafts, the batch's balance effect, publishing, feedback, the proposer's DM."""

from __future__ import annotations

from typing import Final

import discord

from bot.i18n import _, ngettext, pgettext
from bot.render.balance import effect_lines
from bot.render.embeds import INFO, OK, WARN, clip, timestamp
from bot.render.proposals import heading, status_text
from bot.render.reminders import ref_text
from bot.render.text import one_line, safe
from bot.services.decisions import (
    DecisionStatus,
    DraftsReport,
    DraftView,
    FeedbackView,
    PublishResult,
    SlotAnswer,
)
from bot.services.outbox import DecisionNotice
from bot.services.proposals import DECIDED

# The proposer's button in the decision DM; ``cogs.decisions`` answers it, after any restart.
SLOT: Final = "mag:slot:{guild}:{decision}"
MAX_LINES: Final = 40


def slot_custom_id(guild_id: int, decision_id: int) -> str:
    """Return the custom id of the "Confirm my slot" button of one decision."""
    return SLOT.format(guild=guild_id, decision=decision_id)


def slot_label() -> str:
    """Return the label of the proposer's confirm button, in the current language."""
    return pgettext("button", "Confirm my slot")


def _draft_line(draft: DraftView) -> str:
    line = f"**{heading(draft.proposal, 80)}** → {status_text(draft.outcome)}"
    if draft.released:
        line += " · " + ngettext("{n} comment released", "{n} comments released", draft.released)
    if draft.problem:
        line += f"\n⚠️ {draft.problem}"
    return line


def draft_embed(draft: DraftView) -> discord.Embed:
    """Return the answer to ``/decision draft``: what is drafted, and that nobody is told yet."""
    embed = discord.Embed(
        title=_("Drafted: {proposal}", proposal=heading(draft.proposal)),
        description=_(
            "{status}. Nobody is told until `/decision publish`.",
            status=status_text(draft.outcome),
        ),
        colour=INFO,
    )
    if draft.reason:
        embed.add_field(name=_("Reason"), value=safe(draft.reason, 1000), inline=False)
    if draft.conditions:
        value = safe(draft.conditions, 1000)
        if draft.conditions_due:
            value += "\n" + _("By {when}", when=timestamp(draft.conditions_due, "F"))
        embed.add_field(name=_("Conditions"), value=clip(value, 1024), inline=False)
    embed.set_footer(text=_("Choose the comments the proposer sees with /decision feedback."))
    return embed


def counts_line(counts: dict[str, int]) -> str:
    """Return "3 accepted · 1 waitlisted" for counts by outcome."""
    return " · ".join(f"{counts[o]} {status_text(o)}" for o in DECIDED if counts.get(o))


def drafts_embed(report: DraftsReport) -> discord.Embed:
    """Return the drafts as a whole: each, the counts, and the balance effect of all of them."""
    embed = discord.Embed(title=_("Draft decisions"), colour=INFO)
    if not report.drafts:
        embed.description = _("There are no drafts. Draft one with `/decision draft`.")
        return embed
    lines = [_draft_line(d) for d in report.drafts[:MAX_LINES]]
    if len(report.drafts) > MAX_LINES:
        lines.append(_("…and {count} more", count=len(report.drafts) - MAX_LINES))
    embed.description = clip("\n".join(lines), 4000)
    embed.add_field(
        name=_("In all"), value=clip(counts_line(dict(report.counts())), 1024), inline=False
    )
    if report.effect is not None and report.effect.changed:
        embed.add_field(
            name=_("Effect on programme balance"),
            value=clip("\n".join(effect_lines(report.effect)), 1024),
            inline=False,
        )
        if report.effect.breached:
            embed.colour = WARN
    embed.set_footer(text=_("Publish them all with /decision publish."))
    return embed


def published_text(result: PublishResult) -> str:
    """Return the answer to ``/decision publish``."""
    parts = [
        ngettext(
            "Published {n} decision ({counts}); its proposer will be told by direct message.",
            "Published {n} decisions ({counts}); their proposers will be told by direct message.",
            result.total,
            counts=counts_line(dict(result.published)),
        )
    ]
    if result.confirm_by is not None:
        parts.append(
            _(
                "Accepted proposers confirm their slot by {when}.",
                when=timestamp(result.confirm_by, "F"),
            )
        )
        if result.deadline_number is not None:
            parts.append(
                _(
                    "Deadline #{number} reminds the proposers who have not.",
                    number=result.deadline_number,
                )
            )
        elif result.no_channel:
            parts.append(
                _(
                    "No reminders channel is set, so nobody is chased: ask an admin to run "
                    "`/config channel reminders`."
                )
            )
    if result.skipped:
        skipped = "; ".join(f"{label}: {why}" for label, why in result.skipped[:5])
        parts.append(
            ngettext(
                "{n} draft was not published and stays a draft: {which}",
                "{n} drafts were not published and stay drafts: {which}",
                len(result.skipped),
                which=skipped,
            )
        )
    return clip(" ".join(parts), 2000)


def feedback_embed(view: FeedbackView) -> discord.Embed:
    """Return the comments of a drafted decision, marked released or not."""
    embed = discord.Embed(
        title=_("Feedback for {proposal}", proposal=heading(view.proposal)),
        colour=INFO,
    )
    if not view.choices:
        embed.description = _("Nobody wrote a comment on it: there is nothing to release.")
        return embed
    lines = []
    for choice in view.choices:
        mark = "✅" if choice.released else "▫️"
        lines.append(
            f"{mark} **{_('Reviewer {letter}', letter=choice.letter)}** ({choice.score}): "
            f"{safe(choice.comment, 300)}"
        )
    embed.description = clip("\n".join(lines), 4000)
    released = sum(c.released for c in view.choices)
    how = _('anonymised ("a reviewer")') if view.anonymise else _("with the reviewers' names")
    embed.add_field(
        name=_("Released"),
        value=ngettext("{n} comment, {how}.", "{n} comments, {how}.", released, how=how),
        inline=False,
    )
    embed.set_footer(text=_('Choose with release: "A C", all or none; anonymise: True or False.'))
    return embed


def slot_text(answer: SlotAnswer) -> str:
    """Return the answer to a proposer confirming their slot."""
    if answer.already:
        text = _(
            "You had confirmed the slot of {proposal} already.", proposal=heading(answer.proposal)
        )
    else:
        text = _(
            "Thank you: the slot of {proposal} is confirmed.", proposal=heading(answer.proposal)
        )
    if answer.conditions:
        text += " " + _(
            "The conditions still need to be met: {conditions}",
            conditions=safe(answer.conditions, 500),
        )
    return clip(text, 2000)


def status_embed(status: DecisionStatus) -> discord.Embed:
    """Return the follow-up of published decisions: confirmations, waits, people not reached."""
    embed = discord.Embed(title=_("Decisions"), colour=INFO)
    total = sum(status.published.values())
    if not total:
        embed.description = _("Nothing is published yet.")
    else:
        embed.description = _(
            "{counts}. {confirmed} of {accepted} accepted confirmed their slot.",
            counts=counts_line(dict(status.published)),
            confirmed=status.confirmed,
            accepted=status.published.get("accepted", 0) + status.published.get("conditional", 0),
        )
    if status.drafts:
        embed.description += "\n" + ngettext(
            "{n} draft waits for `/decision publish`.",
            "{n} drafts wait for `/decision publish`.",
            status.drafts,
        )
    if status.waiting:
        lines = []
        for ref, confirmed, met in status.waiting[:20]:
            missing = []
            if not confirmed:
                missing.append(_("slot not confirmed"))
            if not met:
                missing.append(_("conditions not met"))
            lines.append(f"{heading(ref, 60)}: {', '.join(missing)}")
        if len(status.waiting) > 20:
            lines.append(_("…and {count} more", count=len(status.waiting) - 20))
        embed.add_field(
            name=_("Waiting on the proposer"), value=clip("\n".join(lines), 1024), inline=False
        )
    if status.unreached:
        lines = [
            f"{heading(ref, 60)} · <@{ref.proposer_id}>: {one_line(why, 80)}"
            for ref, why in status.unreached[:20]
        ]
        if len(status.unreached) > 20:
            lines.append(_("…and {count} more", count=len(status.unreached) - 20))
        embed.add_field(
            name=_("Could not be told (tell them another way)"),
            value=clip("\n".join(lines), 1024),
            inline=False,
        )
        embed.colour = WARN
    return embed


_OPENING: Final = {
    "accepted": "🎉",
    "conditional": "☑️",
    "waitlisted": "⏳",
    "rejected": "",
}


def decision_embed(post: DecisionNotice) -> discord.Embed:
    """Return the proposer's DM: the decision, why, released comments, what to do next."""
    outcome = status_text(post.outcome)
    if post.outcome == "accepted":
        text = _("Your proposal is **accepted** into the programme.")
    elif post.outcome == "conditional":
        text = _("Your proposal is **accepted on conditions**: fix what is asked below.")
    elif post.outcome == "waitlisted":
        text = _(
            "Your proposal is **waitlisted**: it may still enter the programme if a slot frees up."
        )
    else:
        text = _("Your proposal was **not accepted** this year. Thank you for proposing it.")
    embed = discord.Embed(
        title=clip(f"{post.label} · {one_line(post.title, 200)}", 256),
        description=f"{_OPENING.get(post.outcome, '')} {text}".strip(),
        colour=OK if post.outcome in ("accepted", "conditional") else WARN,
    )
    # What to do comes first: the fields at the end are the ones cut to fit Discord's limits.
    if post.confirm_by is not None and not post.confirmed:
        embed.add_field(
            name=_("Confirm your slot"),
            value=_(
                "Press **{button}** by {when}, or run `/proposal confirm number:{number}` in the "
                "server. If you cannot hold the session, withdraw it with `/proposal withdraw`.",
                button=slot_label(),
                when=timestamp(post.confirm_by, "F"),
                number=post.label.rsplit("#", 1)[-1],
            ),
            inline=False,
        )
    if post.reason:
        embed.add_field(name=_("Reason"), value=safe(post.reason, 1000), inline=False)
    if post.conditions:
        value = safe(post.conditions, 900)
        if post.conditions_due:
            value += "\n" + _("By {when}", when=timestamp(post.conditions_due, "F"))
        embed.add_field(name=_("Conditions"), value=clip(value, 1024), inline=False)
    for item in post.feedback[:10]:
        who = (
            _("A reviewer")
            if item.member_id is None
            else _("Reviewer {name}", name=f"<@{item.member_id}>")
        )
        embed.add_field(name=clip(who, 256), value=safe(item.comment, 1000), inline=False)
    embed.set_footer(text=f"{outcome} · {ref_text(post.ref)}")
    return embed


def confirmed_embed(embed: discord.Embed) -> discord.Embed:
    """Return a decision DM once its slot is confirmed: the "confirm" part says it is done.

    The confirm field is always the first one of the DM (``decision_embed``).
    """
    done = embed.copy()
    if done.fields:
        done.remove_field(0)
    done.insert_field_at(
        0, name=_("Slot confirmed"), value=_("✅ Thank you: your slot is confirmed."), inline=False
    )
    return done


def decision_view(post: DecisionNotice) -> discord.ui.View | None:
    """Return the DM's "Confirm my slot" button (None: nothing to confirm)."""
    if post.confirm_by is None or post.confirmed:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(
        discord.ui.Button(
            label=slot_label(),
            style=discord.ButtonStyle.success,
            custom_id=slot_custom_id(post.guild_id, post.decision_id),
        )
    )
    return view

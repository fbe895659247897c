"""What a reminder, a chasing direct message and an admins' notice look like on Discord."""

from __future__ import annotations

import discord

from bot.i18n import N_, _, ngettext
from bot.render.embeds import INFO, WARN, clip, fit_embed, timestamp, when
from bot.render.text import link_text, one_line, render_line
from bot.services.deadlines import KIND_LABELS
from bot.services.durations import format_offset
from bot.services.outbox import AdminNotice, DirectPost, ReminderBatch, ReminderPost
from bot.services.recurrence import REPEAT_LABELS
from bot.services.text import web_link

LATE_NOTE = N_("⚠️ This reminder is late: the bot was offline when it was due.")


def reminder_embed(post: ReminderPost) -> discord.Embed:
    """Return the embed of a reminder: title, absolute and relative time, link, chase list."""
    kind = _(KIND_LABELS.get(post.kind, "Deadline"))
    title = _(
        "{kind} #{number}: {title}",
        kind=kind,
        number=post.deadline_number,
        title=one_line(post.title, 200),
    )
    embed = discord.Embed(
        title=clip(f"⏰ {title}", 256),
        url=web_link(post.link),
        colour=WARN if post.late else INFO,
    )
    lines = [_("Due {when}", when=when(post.deadline_at, post.zone))]
    if post.repeat != "none":
        lines.append(_("Repeats {repeat}.", repeat=_(REPEAT_LABELS.get(post.repeat, post.repeat))))
    if post.link:
        lines.append(_("Link: {link}", link=link_text(post.link)))
    if post.late:
        lines.append(_(LATE_NOTE))
    embed.description = "\n".join(lines)
    chase = post.chase
    if chase is not None:
        if post.chased_directly:
            value = (
                _("{summary}\nEach of them got a direct message.", summary=chase.summary)
                if chase.lines
                else ""
            )
            embed.add_field(name=_("Still to act"), value=value or chase.summary, inline=False)
        else:
            body = "\n".join((chase.summary, *(render_line(line) for line in chase.lines)))
            embed.add_field(name=_("Still to act"), value=clip(body, 1024), inline=False)
    embed.set_footer(
        text=_(
            "Reminder {offset} before · /deadline list · {ref}",
            offset=format_offset(post.offset_minutes),
            ref=ref_text(post.ref),
        )
    )
    return fit_embed(embed)


def _pings(post: ReminderPost) -> list[str]:
    """Return the mentions a reminder's text starts with (the MAG role, chased members)."""
    pings: list[str] = []
    if post.mention_role_id is not None:
        pings.append(f"<@&{post.mention_role_id}>")
    if post.chase is not None and not post.chased_directly:
        pings.extend(f"<@{user_id}>" for user_id in post.chase.user_ids)
    return pings


def reminder_content(post: ReminderPost) -> str:
    """Return the message text: who is pinged (if anyone) and the short version."""
    pings = _pings(post)
    title = one_line(post.title, 200)
    due = timestamp(post.deadline_at, "R")
    text = (
        _("Reminder (late): **{title}** is due {due}.", title=title, due=due)
        if post.late
        else _("Reminder: **{title}** is due {due}.", title=title, due=due)
    )
    return clip(" ".join([*pings, text]), 2000)


def reminder_mentions(post: ReminderPost | ReminderBatch) -> discord.AllowedMentions:
    """Return who may be pinged: the MAG role when chosen, the chased members; no one else."""
    posts = post.reminders if isinstance(post, ReminderBatch) else (post,)
    users = sorted(
        {
            user_id
            for p in posts
            if p.chase is not None and not p.chased_directly
            for user_id in p.chase.user_ids
        }
    )[:100]
    roles = sorted({p.mention_role_id for p in posts if p.mention_role_id})[:100]
    return discord.AllowedMentions(
        everyone=False,
        users=[discord.Object(id=u) for u in users] or False,
        roles=[discord.Object(id=r) for r in roles] or False,
        replied_user=False,
    )


def _batch_line(post: ReminderPost) -> str:
    title = one_line(post.title, 120)
    due = timestamp(post.deadline_at, "R")
    if post.late:
        return _("• **{title}** is due {due} (late)", title=title, due=due)
    return _("• **{title}** is due {due}", title=title, due=due)


def batch_content(batch: ReminderBatch) -> str:
    """Return the text of reminders sent together: who is pinged, then one line each."""
    pings = list(dict.fromkeys(ping for post in batch.reminders for ping in _pings(post)))
    lines = [_batch_line(p) for p in batch.reminders]
    head = " ".join(pings)
    text = f"{head}\n" if head else ""
    # A batch holds two reminders or more.
    count = ngettext("{n} reminder:", "{n} reminders:", len(lines))
    return clip(f"{text}{count}\n" + "\n".join(lines), 2000)


def ref_text(ref: str) -> str:
    """Return how a message names its outbox row (support can quote it; a crash looks it up).

    Never translated: ``bot.delivery`` finds the bot's messages by it, in any language.
    """
    return f"ref {ref}"


def direct_content(post: DirectPost) -> str:
    """Return the text of a chasing direct message."""
    if post.reminder.kind == "confirmations":
        return clip(
            ngettext(
                "{n} of your accepted proposals is still waiting on you before {when}: "
                "confirm its slot (`/proposal confirm`), and meet its conditions if it has "
                "any. ({ref})",
                "{n} of your accepted proposals are still waiting on you before {when}: "
                "confirm their slots (`/proposal confirm`), and meet their conditions if they "
                "have any. ({ref})",
                post.open_reviews,
                when=timestamp(post.reminder.deadline_at, "F"),
                ref=ref_text(post.ref),
            ),
            2000,
        )
    return clip(
        ngettext(
            "You have {n} assigned review still to score before **{title}**. "
            "`/review queue` lists them. ({ref})",
            "You have {n} assigned reviews still to score before **{title}**. "
            "`/review queue` lists them. ({ref})",
            post.open_reviews,
            title=one_line(post.reminder.title, 200),
            ref=ref_text(post.ref),
        ),
        2000,
    )


def notice_content(notice: AdminNotice) -> str:
    """Return a notice as posted: the admins' (in the log channel) with a warning sign."""
    sign = "" if notice.plain else "⚠️ "
    return clip(f"{sign}{notice.text} ({ref_text(notice.ref)})", 2000)

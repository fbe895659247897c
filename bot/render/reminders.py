"""What a reminder, a chasing direct message and an admins' notice look like on Discord."""

from __future__ import annotations

import discord

from bot.render.embeds import INFO, WARN, clip, fit_embed, timestamp, when
from bot.render.text import link_text, one_line, render_line
from bot.services.deadlines import KIND_LABELS
from bot.services.durations import format_offset
from bot.services.outbox import AdminNotice, DirectPost, ReminderBatch, ReminderPost
from bot.services.recurrence import REPEAT_LABELS
from bot.services.text import web_link

LATE_NOTE = "⚠️ This reminder is late: the bot was offline when it was due."


def reminder_embed(post: ReminderPost) -> discord.Embed:
    """Return the embed of a reminder: title, absolute and relative time, link, chase list."""
    kind = KIND_LABELS.get(post.kind, "Deadline")
    embed = discord.Embed(
        title=clip(f"⏰ {kind} #{post.deadline_number}: {one_line(post.title, 200)}", 256),
        url=web_link(post.link),
        colour=WARN if post.late else INFO,
    )
    lines = [f"Due {when(post.deadline_at, post.zone)}"]
    if post.repeat != "none":
        lines.append(f"Repeats {REPEAT_LABELS.get(post.repeat, post.repeat)}.")
    if post.link:
        lines.append(f"Link: {link_text(post.link)}")
    if post.late:
        lines.append(LATE_NOTE)
    embed.description = "\n".join(lines)
    chase = post.chase
    if chase is not None:
        if post.chased_directly:
            value = f"{chase.summary}\nEach of them got a direct message." if chase.lines else ""
            embed.add_field(name="Still to act", value=value or chase.summary, inline=False)
        else:
            body = "\n".join((chase.summary, *(render_line(line) for line in chase.lines)))
            embed.add_field(name="Still to act", value=clip(body, 1024), inline=False)
    embed.set_footer(
        text=f"Reminder {format_offset(post.offset_minutes)} before · /deadline list · "
        f"{ref_text(post.ref)}"
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
    late = " (late)" if post.late else ""
    due = timestamp(post.deadline_at, "R")
    text = f"Reminder{late}: **{one_line(post.title, 200)}** is due {due}."
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


def batch_content(batch: ReminderBatch) -> str:
    """Return the text of reminders sent together: who is pinged, then one line each."""
    pings = list(dict.fromkeys(ping for post in batch.reminders for ping in _pings(post)))
    lines = [
        f"• **{one_line(p.title, 120)}** is due {timestamp(p.deadline_at, 'R')}"
        + (" (late)" if p.late else "")
        for p in batch.reminders
    ]
    head = " ".join(pings)
    text = f"{head}\n" if head else ""
    return clip(f"{text}{len(lines)} reminders:\n" + "\n".join(lines), 2000)


def ref_text(ref: str) -> str:
    """Return how a message names its outbox row (support can quote it; a crash looks it up)."""
    return f"ref {ref}"


def direct_content(post: DirectPost) -> str:
    """Return the text of a chasing direct message."""
    n = post.open_reviews
    reviews = "1 assigned review" if n == 1 else f"{n} assigned reviews"
    return clip(
        f"You have {reviews} still to score before **{one_line(post.reminder.title, 200)}**. "
        f"`/review queue` lists them. ({ref_text(post.ref)})",
        2000,
    )


def notice_content(notice: AdminNotice) -> str:
    """Return the admins' notice as posted in the log channel."""
    return clip(f"⚠️ {notice.text} ({ref_text(notice.ref)})", 2000)

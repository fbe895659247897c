"""Deadlines on Discord (the answers of `/deadline`) and in calendars (an .ics file)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import discord
from icalendar import Alarm, Calendar, Event, vRecur

from bot.i18n import N_, _, ngettext
from bot.render.embeds import INFO, OK, clip, fit_embed, timestamp, when
from bot.render.text import link_text, one_line, plain
from bot.services.deadlines import KIND_LABELS, DeadlineView, ReminderView
from bot.services.durations import format_offset
from bot.services.text import web_link

STATUS_MARKS = {
    "pending": "•",
    "sending": "…",
    "retry": "…",
    "sent": N_("✓ sent"),
    "failed": N_("✗ failed"),
    "skipped": N_("– skipped"),
    "cancelled": N_("– cancelled"),
}
SHOWN_REMINDERS = 12


def _reminder_line(reminder: ReminderView) -> str:
    mark = _(STATUS_MARKS.get(reminder.status, reminder.status))
    offset = format_offset(reminder.offset_minutes)
    moment = f"{timestamp(reminder.due_at, 'f')} ({timestamp(reminder.due_at, 'R')})"
    if reminder.status in ("pending", "sending", "retry"):
        return _("• {offset} before: {moment}", offset=offset, moment=moment)
    return _("{mark}: {offset} before, {moment}", mark=mark, offset=offset, moment=moment)


def _where(view: DeadlineView) -> str:
    return f"<#{view.channel_id}>" if view.channel_id else _("the reminders channel")


def deadline_embed(view: DeadlineView, *, heading: str = "") -> discord.Embed:
    """Return one deadline with its schedule and planned reminders."""
    kind = _(KIND_LABELS.get(view.kind, "Deadline"))
    title = _(
        "{kind} #{number}: {title}", kind=kind, number=view.number, title=one_line(view.title, 200)
    )
    embed = discord.Embed(
        title=clip(title, 256),
        url=web_link(view.link),
        colour=OK if heading else INFO,
    )
    lines = [heading] if heading else []
    lines.append(_("Due {when}", when=when(view.next_due_at, view.timezone)))
    if view.repeat != "none":
        lines.append(
            _(
                "Repeats {repeat} (on the {zone} wall clock).",
                repeat=view.repeat_label,
                zone=view.timezone,
            )
        )
    if view.link:
        lines.append(_("Link: {link}", link=link_text(view.link)))
    if view.removed:
        lines.append(_("Removed: its pending reminders are cancelled."))
    embed.description = "\n".join(lines)
    shown = [r for r in view.reminders if r.status != "cancelled" or view.removed]
    shown = [r for r in shown if r.status in ("pending", "sending", "retry")] or shown
    value = "\n".join(_reminder_line(r) for r in shown[:SHOWN_REMINDERS])
    if len(shown) > SHOWN_REMINDERS:
        more = len(shown) - SHOWN_REMINDERS
        value += "\n" + ngettext("…and {n} more", "…and {n} more", more)
    embed.add_field(
        name=_("Reminders in {channel}", channel=_where(view))
        if not view.removed
        else _("Reminders"),
        value=value or _("None planned: every offset is already past."),
        inline=False,
    )
    embed.set_footer(
        text=_("Offsets: {offsets} · kind: {kind}", offsets=view.offsets_text, kind=kind)
    )
    return fit_embed(embed)


def deadlines_embed(views: list[DeadlineView], *, include_past: bool) -> discord.Embed:
    """Return the list of deadlines, soonest first, one field each (25 at most)."""
    title = _("All deadlines") if include_past else _("Upcoming deadlines")
    embed = discord.Embed(title=title, colour=INFO)
    if not views:
        embed.description = _("No deadlines yet. The secretariat adds them with `/deadline add`.")
        return embed
    for view in views[:25]:
        pending = [r for r in view.reminders if r.status == "pending"]
        nxt = (
            _("next reminder {when}", when=timestamp(pending[0].due_at, "R"))
            if pending
            else _("no reminder left")
        )
        repeat = f" · {view.repeat_label}" if view.repeat != "none" else ""
        link = f"\n{link_text(view.link)}" if view.link else ""
        embed.add_field(
            name=clip(f"#{view.number} {one_line(view.title, 200)}", 256),
            value=f"{timestamp(view.next_due_at, 'F')} ({timestamp(view.next_due_at, 'R')})"
            f"{repeat} · {nxt}{link}",
            inline=False,
        )
    if len(views) > 25:
        more = len(views) - 25
        embed.set_footer(text=ngettext("{n} more not shown", "{n} more not shown", more))
    return fit_embed(embed)


def _monthly_rule(anchor_day: int) -> dict[str, object]:
    """Return the RRULE of "monthly on ``anchor_day``, or the month's last day"."""
    if anchor_day <= 28:
        return {"freq": "monthly", "bymonthday": anchor_day}
    return {"freq": "monthly", "bymonthday": list(range(28, anchor_day + 1)), "bysetpos": -1}


def calendar_ics(
    views: list[DeadlineView], *, guild_id: int, name: str, now: datetime | None = None
) -> bytes:
    """Return an iCalendar file of the deadlines, with an alarm for each reminder offset.

    Each deadline is an event at its due time in its own zone (with the
    zone's rules embedded, VTIMEZONE), recurring ones with an RRULE that
    calendar apps expand on the same wall clock as the bot does.
    """
    stamp = (now or datetime.now(UTC)).astimezone(UTC)
    calendar = Calendar()
    calendar.add("prodid", "-//magbot//deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", plain(name, 100))
    for view in views:
        zone = ZoneInfo(view.timezone)
        first = datetime.fromisoformat(view.first_local)
        event = Event()
        event.add("uid", f"deadline-{guild_id}-{view.number}@magbot")
        event.add("dtstamp", stamp)
        kind = _(KIND_LABELS.get(view.kind, "Deadline"))
        event.add("summary", _("{kind}: {title}", kind=kind, title=plain(view.title, 200)))
        if view.repeat == "none":
            event.add("dtstart", view.next_due_at.astimezone(zone))
        else:
            event.add("dtstart", first.replace(tzinfo=zone, fold=0))
            rule: dict[str, object] = {"freq": "weekly"}
            if view.repeat == "daily":
                rule = {"freq": "daily"}
            elif view.repeat == "biweekly":
                rule = {"freq": "weekly", "interval": 2}
            elif view.repeat == "monthly":
                rule = _monthly_rule(first.day)
            event.add("rrule", vRecur(rule))
        description = [f"#{view.number} {plain(view.title, 200)}"]
        if view.link:
            description.append(view.link)
            event.add("url", view.link)
        event.add("description", "\n".join(description))
        event.add("categories", [view.kind])
        for offset in view.offsets:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add(
                "description",
                _(
                    "{title} ({offset} before)",
                    title=plain(view.title, 200),
                    offset=format_offset(offset),
                ),
            )
            alarm.add("trigger", timedelta(minutes=-offset))
            event.add_component(alarm)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()

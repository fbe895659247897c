"""MAG meetings as Discord shows them: a meeting, the list, a sync's outcome, a fair-hours plan."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime

import discord

from bot.i18n import _, ngettext
from bot.render.embeds import INFO, OK, WARN, clip, timestamp, when
from bot.render.text import one_line, plain, safe
from bot.services.meetings import AGENDA_LABELS, MeetingView, PlannedSeries, SyncResult
from bot.services.text import clean_block

FIELD_MAX = 1024  # Discord: an embed field's value


def heading(view: MeetingView) -> str:
    return _("Meeting #{number}: {title}", number=view.number, title=one_line(view.title, 180))


def state_text(view: MeetingView, now: datetime) -> str:
    state = view.state(now)
    if state == "cancelled":
        return _("Cancelled.")
    if state == "over":
        return _("Over.")
    if state == "under way":
        return _("Under way until {end}.", end=timestamp(view.ends_at, "t"))
    return _(
        "{start} to {end}",
        start=when(view.starts_at, view.zone),
        end=timestamp(view.ends_at, "t"),
    )


def event_text(view: MeetingView) -> str:
    if view.event_synced:
        return _("Discord event up to date.") if view.event_id else _("No Discord event.")
    if view.event_error:
        return _(
            "Not in step with Discord yet ({error}); next try {when}.",
            error=one_line(view.event_error, 120),
            when=timestamp(view.event_next_try_at, "R") if view.event_next_try_at else "-",
        )
    return _("Being sent to Discord.")


def meeting_embed(view: MeetingView, now: datetime) -> discord.Embed:
    """Return a meeting: when and where, its agenda, attendance, minutes and decisions."""
    embed = discord.Embed(
        title=heading(view),
        description=safe(view.description, 1000) if view.description else None,
        colour=WARN if view.cancelled else INFO,
    )
    embed.add_field(name=_("When"), value=state_text(view, now), inline=False)
    embed.add_field(name=_("Where"), value=one_line(view.location, 100), inline=True)
    embed.add_field(name=_("Discord event"), value=event_text(view), inline=True)
    if view.agenda:
        lines = [
            f"{item.number}. {one_line(item.text, 200)}"
            + ("" if item.status == "accepted" else f" ({_(AGENDA_LABELS[item.status])})")
            for item in view.agenda
        ]
        embed.add_field(name=_("Agenda"), value=clip("\n".join(lines), 1024), inline=False)
    if view.attendees:
        embed.add_field(
            name=ngettext("{n} present", "{n} present", len(view.attendees)),
            value=clip(" ".join(f"<@{u}>" for u in view.attendees), 1024),
            inline=False,
        )
    if view.decisions:
        embed.add_field(name=_("Decisions"), value=_field_text(view.decisions), inline=False)
    if view.minutes:
        embed.add_field(name=_("Minutes"), value=_field_text(view.minutes), inline=False)
    return embed


def _fits(text: str) -> bool:
    return len(safe(text, FIELD_MAX + 1)) <= FIELD_MAX


def _field_text(text: str) -> str:
    """Return minutes or decisions for a field: whole, or their start and where the rest is."""
    if _fits(text):
        return safe(text, FIELD_MAX)
    note = _("(In full in the attached file.)")
    return safe(text, FIELD_MAX - len(note) - 1) + "\n" + note


def minutes_files(view: MeetingView) -> list[discord.File]:
    """Return the minutes and decisions in full as a text file, when a field cannot hold them.

    Stored minutes and decisions are up to 4,000 characters each; an embed
    field shows 1,024. The file is plain text, as typed (nothing in it is
    markdown), named by the meeting's number.
    """
    parts = [
        (n, t) for n, t in ((_("Decisions"), view.decisions), (_("Minutes"), view.minutes)) if t
    ]
    if all(_fits(text) for _name, text in parts):
        return []
    lines = [plain(heading_plain(view), 300), ""]
    for name, text in parts:
        lines += [name, "", clean_block(text), ""]
    body = "\n".join(lines).encode("utf-8")
    return [discord.File(io.BytesIO(body), filename=f"meeting-{view.number}-minutes.txt")]


def heading_plain(view: MeetingView) -> str:
    """The meeting's heading where Discord shows text verbatim (files, footers)."""
    return _("Meeting #{number}: {title}", number=view.number, title=plain(view.title, 180))


def list_embed(views: Sequence[MeetingView], now: datetime) -> discord.Embed:
    """Return the server's meetings still ahead or under way, soonest first."""
    embed = discord.Embed(title=_("Meetings"), colour=INFO)
    if not views:
        embed.description = _(
            "No meeting ahead. The secretariat schedules one with `/meeting schedule`."
        )
        return embed
    lines = [f"**#{v.number}** {one_line(v.title, 100)} · {state_text(v, now)}" for v in views]
    embed.description = clip("\n".join(lines), 4000)
    return embed


def sync_text(result: SyncResult) -> str:
    """Return what Discord did with the meeting's scheduled event (said once, in the answer)."""
    if result.synced:
        return _("Its Discord event is up to date.")
    retry = timestamp(result.next_try_at, "R") if result.next_try_at else "-"
    if result.missing_permission:
        return _(
            "Discord refused the scheduled event: the bot lacks the Manage Events permission "
            "(and Create Events, to create one). The meeting is kept here with its reminders, "
            "and I will try again by myself ({when}). An admin can give the bot the permission.",
            when=retry,
        )
    return _(
        "Discord did not take the scheduled event yet ({error}). The meeting is kept here, "
        "and I will try again by myself ({when}).",
        error=one_line(result.error or "?", 100),
        when=retry,
    )


def plan_embed(planned: PlannedSeries) -> discord.Embed:
    """Return the proposed series: one line per meeting, then each member's count."""
    plan = planned.plan
    embed = discord.Embed(title=_("Fair meeting hours"), colour=OK)
    rows = []
    for slot in plan.slots:
        who = ", ".join(one_line(planned.names.get(k) or str(k), 40) for k in slot.unsocial)
        rows.append(
            f"{slot.index}. {slot.starts_at:%Y-%m-%d} {slot.hour:02d}:00 UTC · "
            + (_("outside 07-22: {names}", names=who) if who else _("everyone in daytime"))
        )
    embed.description = clip("\n".join(rows), 4000)
    counts = sorted(plan.counts.items(), key=lambda kv: (-kv[1], planned.names.get(kv[0], "")))
    embed.add_field(
        name=_("Unsocial meetings per member"),
        value=clip(
            "\n".join(
                f"{one_line(planned.names.get(k) or str(k), 40)} "
                f"({one_line(planned.zones.get(k) or planned.regions.get(k) or '-', 60)}): **{n}**"
                for k, n in counts
            ),
            1024,
        ),
        inline=False,
    )
    candidates = [
        f"{c.hour:02d}:00 · "
        + ngettext("{n} outside 07-22", "{n} outside 07-22", len(c.unsocial))
        + (
            ": " + ", ".join(one_line(planned.names.get(k) or str(k), 40) for k in c.unsocial)
            if c.unsocial
            else ""
        )
        for c in plan.candidates
    ]
    embed.add_field(
        name=_("Candidate hours (first meeting)"),
        value=clip("\n".join(candidates), 1024),
        inline=False,
    )
    footer = _(
        "Rotation: at most {worst} unsocial meetings per member; one fixed hour "
        "({hour}:00 UTC) would give {fixed}.",
        worst=plan.worst,
        hour=f"{plan.fixed_hour or 0:02d}",
        fixed=plan.fixed_worst,
    )
    if planned.without_zone:
        footer += " " + ngettext(
            "{n} member has no time zone set (`/profile timezone`).",
            "{n} members have no time zone set (`/profile timezone`).",
            len(planned.without_zone),
        )
    embed.set_footer(text=footer)
    return embed

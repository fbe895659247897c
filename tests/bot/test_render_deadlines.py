"""Deadline embeds within Discord's limits, and a calendar file that parses back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar

from bot.errors import InvalidInput
from bot.render.deadlines import calendar_ics, deadline_embed, deadlines_embed
from bot.services.deadlines import DeadlineView, ReminderView, parse_due

DUE = datetime(2027, 3, 10, 23, 59, tzinfo=UTC)


def view(**overrides) -> DeadlineView:
    values = {
        "number": 1,
        "title": "Call for workshop proposals",
        "kind": "proposals",
        "link": "https://intgovforum.org",
        "timezone": "UTC",
        "first_local": "2027-03-10 23:59",
        "repeat": "none",
        "offsets": (10080, 1440),
        "channel_id": None,
        "next_due_at": DUE,
        "removed": False,
        "reminders": (
            ReminderView(0, 10080, DUE - timedelta(days=7), DUE, "sent"),
            ReminderView(0, 1440, DUE - timedelta(days=1), DUE, "pending"),
        ),
    }
    return DeadlineView(**{**values, **overrides})


def test_embeds_fit_however_long_the_input() -> None:
    long = view(title="T" * 200, link="https://x.org/" + "a" * 480)
    embed = deadline_embed(long, heading="Deadline #1 added.")
    assert len(embed) <= 6000 and len(embed.title or "") <= 256
    assert "1d before" in embed.fields[0].value  # type: ignore[operator]
    listing = deadlines_embed([view(number=n) for n in range(40)], include_past=False)
    assert len(listing.fields) == 25 and len(listing) <= 6000
    assert "No deadlines yet" in (deadlines_embed([], include_past=False).description or "")


def test_the_calendar_parses_back_with_alarms_and_wall_clock_rules() -> None:
    views = [
        view(),
        view(
            number=2,
            title="Month-end report",
            kind="other",
            timezone="America/New_York",
            first_local="2027-01-31 17:00",
            repeat="monthly",
            offsets=(60,),
        ),
        view(
            number=3,
            title="WG call",
            kind="meeting",
            timezone="Europe/Zurich",
            first_local="2027-03-15 09:00",
            repeat="biweekly",
            offsets=(60,),
        ),
    ]
    calendar = Calendar.from_ical(calendar_ics(views, guild_id=5, name="IGF MAG deadlines"))
    events = {int(str(e["uid"]).split("-")[2].split("@")[0]): e for e in calendar.walk("VEVENT")}
    assert events[1]["dtstart"].dt == DUE
    assert sorted(a["trigger"].dt for a in events[1].walk("VALARM")) == [
        timedelta(days=-7),
        timedelta(days=-1),
    ]
    # Expanding the monthly rule gives the 31st or the last day of shorter months.
    monthly = events[2]
    start = monthly["dtstart"].dt
    rule = rrulestr(monthly["rrule"].to_ical().decode(), dtstart=start)
    days = [d.date() for d in rule[:4]]
    assert days == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30)]
    # Every two weeks at 09:00 Zurich time, across the change to summer time.
    call = events[3]
    rule = rrulestr(call["rrule"].to_ical().decode(), dtstart=call["dtstart"].dt)
    zurich = [d.astimezone(ZoneInfo("Europe/Zurich")) for d in rule[:3]]
    assert [(d.day, d.hour) for d in zurich] == [(15, 9), (29, 9), (12, 9)]
    assert {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")} >= {
        "Europe/Zurich",
        "America/New_York",
    }


@given(st.text(max_size=30))
def test_the_due_parser_never_crashes(text: str) -> None:
    try:
        parsed = parse_due(text)
    except InvalidInput:
        return
    assert parsed.tzinfo is None

"""What the terminal shows: names for mentions, dates for timestamps, embeds and buttons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.sandbox.display import MessageView, Names, format_timestamp, plain, pressable, relative
from bot.sandbox.fakediscord import FakeMessage, FakeUser

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
DUE = datetime(2027, 3, 3, 14, 30, tzinfo=UTC)
NAMES = Names(
    channel={1000000000000000001: "digest"}.get,
    role={1000000000000000002: "MAG"}.get,
    user={1000000000000000003: "Mina Rahman"}.get,
)


def test_mentions_become_names_and_unknown_ones_say_so() -> None:
    text = (
        "<#1000000000000000001> <@&1000000000000000002> "
        "<@1000000000000000003> <@!1000000000000000003>"
    )
    assert plain(text, NAMES, NOW) == "#digest @MAG @Mina Rahman @Mina Rahman"
    assert plain("<#1000000000000000009>", NAMES, NOW) == "#unknown-channel"


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("t", "14:30"),
        ("T", "14:30:00"),
        ("d", "2027-03-03"),
        ("D", "3 March 2027"),
        ("f", "3 March 2027 14:30"),
        ("F", "Wednesday 3 March 2027 14:30"),
        ("R", "in 2 days"),
    ],
)
def test_discord_timestamps_read_as_dates(style: str, expected: str) -> None:
    stamp = f"<t:{int(DUE.timestamp())}:{style}>"
    assert plain(f"Due {stamp}", NAMES, NOW, UTC) == f"Due {expected}"


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=10), "in a few seconds"),
        (timedelta(minutes=-5), "5 minutes ago"),
        (timedelta(hours=1), "an hour"),
        (timedelta(hours=-30), "a day ago"),
        (timedelta(days=60), "in 2 months"),
        (timedelta(days=-800), "2 years ago"),
    ],
)
def test_relative_times_read_like_discord(delta: timedelta, expected: str) -> None:
    assert expected in relative(delta)


def test_the_zone_is_the_readers() -> None:
    from zoneinfo import ZoneInfo

    assert format_timestamp(DUE, "t", NOW, ZoneInfo("Europe/Zurich")) == "15:30"


def test_an_embed_with_fields_buttons_and_a_file_is_laid_out_line_by_line() -> None:
    message = FakeMessage(
        id=1,
        channel_id=1000000000000000001,
        guild_id=None,
        author=FakeUser(5, "MAG Bot", bot=True),
        content="**Heads up** <@&1000000000000000002>",
        embeds=[
            {
                "title": "Deadline #1",
                "description": "See [the call](https://igf.org/call)",
                "fields": [
                    {"name": "Due", "value": f"<t:{int(DUE.timestamp())}:D>"},
                    {"name": "Reminders", "value": "• 7d before\n• 1d before"},
                ],
                "footer": {"text": "kind: other"},
                "image": {"url": "attachment://chart.png"},
            }
        ],
        components=[
            {
                "type": 1,
                "components": [
                    {"type": 2, "style": 3, "label": "Confirm", "custom_id": "yes"},
                    {
                        "type": 2,
                        "style": 4,
                        "label": "Decline",
                        "custom_id": "no",
                        "disabled": True,
                    },
                    {"type": 2, "style": 5, "label": "Form", "url": "https://igf.org"},
                ],
            },
            {
                "type": 1,
                "components": [
                    {
                        "type": 3,
                        "custom_id": "pick",
                        "placeholder": "Choose a proposal",
                        "options": [
                            {"label": "WS #1", "value": "1", "description": "Data"},
                            {"label": "WS #2", "value": "2"},
                        ],
                    }
                ],
            },
        ],
        attachments=[("chart.png", b"\x89PNG" + bytes(2000))],
    )
    saved = {"chart.png": "data/sandbox/files/chart-1.png"}
    lines = MessageView(NAMES, NOW, UTC, saved).lines(message)
    assert lines[0] == "Heads up @MAG"
    assert "│ Deadline #1" in lines
    assert "│ See the call (https://igf.org/call)" in lines
    assert "│ Due: 3 March 2027" in lines
    assert "│ Reminders" in lines and "│   • 1d before" in lines
    assert "│ [image] chart.png" in lines
    assert "│ — kind: other" in lines
    assert "[1 Confirm] [2 Decline (disabled)] [Form -> https://igf.org]" in lines
    assert "▾ Choose a proposal" in lines and "    1) WS #1 — Data" in lines
    assert any("chart.png (2.0 KB), saved to data/sandbox/files/chart-1.png" in x for x in lines)
    assert [b["label"] for b in pressable(message)] == ["Confirm", "Decline"]

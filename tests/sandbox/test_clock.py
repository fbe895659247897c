"""The sandbox's clock: real time plus an offset that only grows, kept across runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.sandbox.clock import DurationError, SandboxClock, format_duration, parse_duration

START = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2d", timedelta(days=2)),
        ("36h", timedelta(hours=36)),
        ("1w 2d", timedelta(days=9)),
        ("90m", timedelta(minutes=90)),
        ("1D3H", timedelta(days=1, hours=3)),
    ],
)
def test_durations_are_read(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "2", "2 days", "-1d", "0d", "500d", "soon"])
def test_bad_durations_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(DurationError) as caught:
        parse_duration(text)
    assert str(caught.value)


def test_format_duration() -> None:
    assert format_duration(timedelta(days=1, hours=23, minutes=5)) == "1d 23h 5m"
    assert format_duration(timedelta()) == "0m"


def test_the_clock_moves_forward_only_and_remembers_its_offset(tmp_path) -> None:
    clock = SandboxClock(real=lambda: START)
    assert clock() == START
    assert clock.advance(timedelta(days=2)) == START + timedelta(days=2)
    with pytest.raises(DurationError):
        clock.advance(timedelta(hours=-1))
    path = tmp_path / "clock-offset"
    clock.save(path)
    again = SandboxClock.load(path)
    assert again.offset == timedelta(days=2)
    path.write_text("garbage")
    assert SandboxClock.load(path).offset == timedelta()
    assert SandboxClock.load(tmp_path / "missing").offset == timedelta()

"""What the metrics count: settled outbox rows, Discord's 429s, the loop's stalls."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

import discord
import pytest

from bot.delivery import count_settled
from bot.errors import NotFound
from bot.metrics import Metrics, RateLimitCounter, watch_loop_lag
from bot.services.reminders import REMINDER
from bot.settings import SettingsError, load_settings
from bot.tree import outcome_of
from storage.outbox import FAILED, QUEUED, SENT, OutboxItem

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def value(metrics: Metrics, name: str, **labels: str) -> float:
    found = metrics.registry.get_sample_value(name, labels)
    return 0.0 if found is None else found


def row(kind: str, status: str, late: float) -> OutboxItem:
    return OutboxItem(
        guild_id=1, key=f"{kind}:{late}", kind=kind, lane="c:1", status=status,
        due_at=NOW - timedelta(seconds=late),
    )  # fmt: skip


def test_settled_messages_and_their_reminders_are_counted() -> None:
    metrics = Metrics()
    observe = count_settled(metrics)
    # One message of two reminders, one of them more than 5 minutes late.
    observe([row(REMINDER, SENT, 2), row(REMINDER, SENT, 400)], NOW)
    observe([row(REMINDER, FAILED, 0)], NOW)
    observe([row(REMINDER, QUEUED, 0)], NOW)  # to be tried again: not an end
    observe([row("digest", SENT, 1)], NOW)
    assert value(metrics, "magbot_reminders_total", event="sent") == 2
    assert value(metrics, "magbot_reminders_total", event="late") == 1
    assert value(metrics, "magbot_reminders_total", event="failed") == 1
    assert value(metrics, "magbot_outbox_posts_total", kind=REMINDER, outcome="sent") == 1
    assert value(metrics, "magbot_outbox_posts_total", kind=REMINDER, outcome="retry") == 1
    assert value(metrics, "magbot_outbox_posts_total", kind="digest", outcome="sent") == 1
    assert value(metrics, "magbot_outbox_lateness_seconds_sum", kind=REMINDER) == 402
    assert value(metrics, "magbot_outbox_lateness_seconds_bucket", kind=REMINDER, le="5.0") == 1


def test_failed_commands_are_told_apart() -> None:
    assert outcome_of(NotFound("no such proposal")) == "refused"
    assert outcome_of(RuntimeError("a bug")) == "error"
    assert outcome_of(TimeoutError()) == "error"  # not raised in the database code
    assert outcome_of(discord.RateLimited(3.0)) == "unavailable"


def test_discord_429s_are_counted_from_discord_py_log_lines() -> None:
    metrics = Metrics()
    logger = logging.getLogger("discord.http")
    handler = RateLimitCounter(metrics)
    logger.addHandler(handler)
    try:
        # The lines discord.py 2.7 writes (discord/http.py, HTTPClient.request).
        logger.warning(
            "We are being rate limited. %s %s responded with 429. Retrying in %.2f seconds.",
            "POST", "https://discord.com/api/v10/channels/1/messages", 1.5,
        )  # fmt: skip
        logger.warning("Global rate limit has been hit. Retrying in %.2f seconds.", 0.2)
        logger.warning("A rate limit bucket (%s) has been exhausted.", "abc")
    finally:
        logger.removeHandler(handler)
    assert value(metrics, "magbot_discord_rate_limited_total") == 1
    assert value(metrics, "magbot_discord_global_rate_limited_total") == 1


async def test_the_lag_probe_sees_a_blocked_loop() -> None:
    metrics = Metrics()
    probe = asyncio.create_task(watch_loop_lag(metrics, interval=0.01))
    await asyncio.sleep(0.05)
    time.sleep(0.2)  # noqa: ASYNC251 - blocking the loop on purpose
    await asyncio.sleep(0.05)
    probe.cancel()
    assert metrics.max_lag >= 0.15
    assert value(metrics, "magbot_event_loop_lag_max_seconds") == metrics.max_lag


@pytest.mark.parametrize("raw", ["0", "70000", "abc", "-1", "²"])
def test_a_bad_metrics_port_is_named(raw: str) -> None:
    with pytest.raises(SettingsError, match="METRICS_PORT"):
        load_settings({"METRICS_PORT": raw})


def test_metrics_are_off_unless_a_port_is_set() -> None:
    assert load_settings({}).metrics_port is None
    settings = load_settings({"METRICS_PORT": "9464", "METRICS_HOST": "0.0.0.0"})
    assert (settings.metrics_port, settings.metrics_host) == (9464, "0.0.0.0")

"""The metrics endpoint of a running bot: /metrics for Prometheus, /healthz for a probe."""

from __future__ import annotations

import asyncio
import re
import socket

import aiohttp
import pytest

from tests.e2e.conftest import World

pytestmark = pytest.mark.asyncio(loop_scope="module")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


PORT = free_port()
BOT_ENV = {"METRICS_PORT": str(PORT)}
BASE = f"http://127.0.0.1:{PORT}"


async def fetch(path: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(BASE + path) as response:
        return response.status, response.headers["Content-Type"], await response.text()


def sample(text: str, name: str, **labels: str) -> float:
    """Return the value of one sample of ``name`` with exactly these labels."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)"
    found = re.search("^" + pattern + "$", text, re.MULTILINE)
    assert found, f"no sample {name}{{{wanted}}} in:\n{text[:3000]}"
    return float(found.group(1))


async def test_health_says_ready_and_the_database_answers(world: World) -> None:
    # Ready comes a moment after the gateway connects (the guilds arrive first).
    for _ in range(100):
        status, kind, body = await fetch("/healthz")
        if status == 200:
            break
        assert status == 503 and body == '{"ready": false, "database": true}', body
        await asyncio.sleep(0.1)
    assert status == 200 and kind.startswith("application/json")
    assert body == '{"ready": true, "database": true}'


async def test_commands_are_counted_by_name_and_outcome(world: World) -> None:
    _, _, before = await fetch("/metrics")
    assert "magbot_command_seconds_count" not in before or 'command="help"' not in before
    await world.run("mag1", "help")
    await world.run("mag1", "help")
    # A refusal (not an admin) is counted apart from the answers that worked.
    world.fake.open_command(world.guild_id, "config")  # as a server admin can
    await world.run("outsider", "config show")
    status, kind, text = await fetch("/metrics")
    assert status == 200 and kind.startswith("text/plain")
    assert sample(text, "magbot_command_seconds_count", command="help", outcome="ok") == 2
    assert (
        sample(text, "magbot_command_seconds_count", command="config show", outcome="refused") == 1
    )
    # Every answer took less than the largest bucket, and some time at all.
    assert (
        sample(text, "magbot_command_seconds_bucket", command="help", outcome="ok", le="10.0") == 2
    )
    assert sample(text, "magbot_command_seconds_sum", command="help", outcome="ok") > 0


async def test_loop_lag_readiness_and_the_queue_are_there(world: World) -> None:
    _, _, text = await fetch("/metrics")
    assert sample(text, "magbot_ready") == 1
    assert sample(text, "magbot_event_loop_lag_seconds_count") > 0
    assert sample(text, "magbot_event_loop_lag_max_seconds") >= 0
    assert sample(text, "magbot_discord_rate_limited_total") == 0
    assert sample(text, "process_resident_memory_bytes") > 10_000_000
    status, _, _ = await fetch("/nothing-here")
    assert status == 404

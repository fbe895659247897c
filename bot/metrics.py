"""What the bot measures about itself, and the optional HTTP endpoint serving it.

Off by default. With ``METRICS_PORT`` set, the bot serves on that port (host
``METRICS_HOST``, default 127.0.0.1):

- ``/metrics``: Prometheus' text format (``prometheus-client``), the metrics
  below plus the process's own (CPU, memory, open files);
- ``/healthz``: 200 ``{"ready": true, "database": true}`` when the bot is
  connected to Discord and the database answers, 503 with the same keys
  otherwise (for a container's liveness or a load balancer's check).

Every metric is registered on the bot's own ``CollectorRegistry``, so two
bots in one process (tests) never share counts, except the 429 counters: they
read discord.py's process-wide log, so each bot in a process counts all. The names follow
Prometheus' conventions (``_seconds``, ``_total``), so Grafana's defaults
read them; ``docs/operations.md`` lists them with example queries.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Final

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.process_collector import ProcessCollector

log = logging.getLogger(__name__)

# Seconds. Commands answer in milliseconds; the top buckets catch a stuck one.
LATENCY_BUCKETS: Final = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
LAG_BUCKETS: Final = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)
LATENESS_BUCKETS: Final = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
LAG_INTERVAL: Final = 0.1  # seconds between two looks of the loop-lag probe
HEALTH_TIMEOUT: Final = 2.0  # seconds the database may take to answer /healthz


class Metrics:
    """Every measurement the bot keeps, on one registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)
        self.command_seconds = Histogram(
            "magbot_command_seconds",
            "Time from a slash command's arrival to the end of its handler (answer sent).",
            ["command", "outcome"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.reminders = Counter(
            "magbot_reminders_total",
            "Reminders by what happened to them: queued (fell due), sent, late (sent more than "
            "5 minutes after their time), failed.",
            ["event"],
            registry=r,
        )
        self.posts = Counter(
            "magbot_outbox_posts_total",
            "Messages the outbox settled (one message may carry ten reminders), by kind and "
            "outcome (sent, retry, failed).",
            ["kind", "outcome"],
            registry=r,
        )
        self.lateness = Histogram(
            "magbot_outbox_lateness_seconds",
            "Time from an outbox row's due time to its message being on Discord.",
            ["kind"],
            buckets=LATENESS_BUCKETS,
            registry=r,
        )
        self.outbox_depth = Gauge(
            "magbot_outbox_rows",
            "Outbox rows by status: queued and sending are the queue (read when scraped).",
            ["status"],
            registry=r,
        )
        self.loop_lag = Histogram(
            "magbot_event_loop_lag_seconds",
            f"How late the event loop ran a task due {LAG_INTERVAL:g} s later (stalls).",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.loop_lag_max = Gauge(
            "magbot_event_loop_lag_max_seconds",
            "The longest event-loop stall seen since the bot started.",
            registry=r,
        )
        self.rate_limited = Counter(
            "magbot_discord_rate_limited_total",
            "429 answers from Discord (every scope).",
            registry=r,
        )
        self.global_rate_limited = Counter(
            "magbot_discord_global_rate_limited_total",
            "429 answers from Discord that held every request (global limit).",
            registry=r,
        )
        self.ready = Gauge(
            "magbot_ready", "1 while the bot is connected to Discord, else 0.", registry=r
        )
        self.max_lag = 0.0

    def observe_command(self, command: str, outcome: str, seconds: float) -> None:
        self.command_seconds.labels(command, outcome).observe(seconds)

    def observe_lag(self, seconds: float) -> None:
        self.loop_lag.observe(seconds)
        if seconds > self.max_lag:
            self.max_lag = seconds
            self.loop_lag_max.set(seconds)

    def set_depth(self, depth: Mapping[str, int]) -> None:
        self.outbox_depth.clear()
        for status, count in depth.items():
            self.outbox_depth.labels(status).set(count)

    def text(self) -> bytes:
        return generate_latest(self.registry)


async def watch_loop_lag(metrics: Metrics, interval: float = LAG_INTERVAL) -> None:
    """Measure how late the loop wakes a task, forever (cancel to stop).

    A handler that blocks the loop (sync I/O, a long computation) delays
    every other task: this probe is one of them and records by how much.
    """
    loop = asyncio.get_running_loop()
    while True:
        start = loop.time()
        await asyncio.sleep(interval)
        metrics.observe_lag(max(0.0, loop.time() - start - interval))


class RateLimitCounter(logging.Handler):
    """Counts Discord's 429s from discord.py's own log lines.

    discord.py handles 429s inside its HTTP client and tells nobody but its
    log ("We are being rate limited…", "Global rate limit has been hit…"), so
    the count is read there: the only place that sees every one.
    """

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(level=logging.DEBUG)
        self.metrics = metrics

    def emit(self, record: logging.LogRecord) -> None:
        message = str(record.msg)
        if message.startswith("We are being rate limited") and "429" in message:
            self.metrics.rate_limited.inc()
        elif message.startswith("Global rate limit has been hit"):
            self.metrics.global_rate_limited.inc()


Check = Callable[[], Awaitable[bool]]
Refresh = Callable[[], Awaitable[None]]


class MetricsServer:
    """``/metrics`` and ``/healthz`` on ``host:port`` (aiohttp, on the bot's loop)."""

    def __init__(
        self,
        metrics: Metrics,
        *,
        ready: Callable[[], bool],
        database: Check,
        refresh: Refresh | None = None,
    ) -> None:
        self.metrics = metrics
        self._ready = ready
        self._database = database
        self._refresh = refresh
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._health)
        return app

    async def start(self, host: str, port: int) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        addresses = self._runner.addresses  # the real port when ``port`` was 0
        self.port = int(addresses[0][1]) if addresses else port
        log.info("metrics on http://%s:%s/metrics and /healthz", host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, request: web.Request) -> web.Response:
        if self._refresh is not None:
            # A gauge read from the database (queue depth) must not fail the scrape.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._refresh(), HEALTH_TIMEOUT)
        self.metrics.ready.set(1 if self._ready() else 0)
        body = self.metrics.text()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _health(self, request: web.Request) -> web.Response:
        ready = self._ready()
        try:
            database = await asyncio.wait_for(self._database(), HEALTH_TIMEOUT)
        except Exception:
            database = False
        body = json.dumps({"ready": ready, "database": database})
        status = 200 if ready and database else 503
        return web.Response(text=body, status=status, content_type="application/json")

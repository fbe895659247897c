"""The clock: an APScheduler ``AsyncIOScheduler`` that only says when to look.

The database is the truth about what is due; the scheduler holds no state
worth keeping (in-memory job store, nothing pickled), so a restart loses
nothing. Jobs take ``now`` from ``Clock.now`` so that tests inject time.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from storage.types import utcnow

log = logging.getLogger(__name__)


class Clock:
    """Wall-clock time and periodic jobs for one bot process."""

    def __init__(self, now: Callable[[], datetime] = utcnow) -> None:
        self.now = now
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self._jobs: dict[str, Callable[[], Awaitable[None]]] = {}

    @property
    def running(self) -> bool:
        """Return whether the scheduler has been started and not shut down."""
        return bool(self.scheduler.running)

    def start(self) -> None:
        """Start the scheduler; call from inside the running event loop."""
        if not self.scheduler.running:
            self.scheduler.start()
            log.debug("clock started")

    def every(self, seconds: float, job: Callable[[], Awaitable[None]], *, name: str) -> None:
        """Run ``job`` every ``seconds``; never two at once, missed runs merged into one."""

        async def guarded() -> None:
            # A tick that raises must not stop the next one from running.
            try:
                await job()
            except Exception:
                log.exception("scheduled job %s failed", name)

        self._jobs[name] = guarded
        self.scheduler.add_job(
            guarded,
            IntervalTrigger(seconds=seconds),
            id=name,
            name=name,
            max_instances=1,
            coalesce=True,
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def run_jobs_now(self) -> None:
        """Run every periodic job once, now (the sandbox after moving time forward)."""
        for job in list(self._jobs.values()):
            await job()

    def shutdown(self) -> None:
        """Stop the scheduler without waiting for jobs (they are idempotent)."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
            log.debug("clock stopped")

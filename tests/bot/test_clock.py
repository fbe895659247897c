"""The clock keeps ticking whatever a job does."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from bot.clock import Clock


async def test_a_failing_job_is_logged_and_runs_again(caplog) -> None:
    calls: list[int] = []

    async def job() -> None:
        calls.append(1)
        raise RuntimeError("tick failed")

    clock = Clock(lambda: datetime(2027, 1, 1, tzinfo=UTC))
    clock.start()
    try:
        clock.every(3600, job, name="failing")
        with caplog.at_level(logging.ERROR):
            await clock.run_jobs_now()
            await clock.run_jobs_now()
        assert len(calls) == 2
        assert caplog.text.count("scheduled job failing failed") == 2
        job_row = clock.scheduler.get_job("failing")
        assert job_row is not None and job_row.max_instances == 1 and job_row.coalesce
    finally:
        clock.shutdown()
    await asyncio.sleep(0)  # APScheduler 3.11 stops on the loop's next turn
    assert not clock.running

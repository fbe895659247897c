"""Review of the read cache as users meet it (failing tests)."""

from __future__ import annotations

from bot.services.deadlines import DeadlineService
from bot.services.reminders import TickReport
from tests.conftest import FakeClock
from tests.services.test_reminders import (  # noqa: F401 (fixtures)
    ADMIN,
    DUE,
    at,
    config,
    deadlines,
    discord,
    process,
)


async def test_the_deadline_list_sees_a_reminder_queued_by_this_process(
    deadlines: DeadlineService,  # noqa: F811 (the fixture)
    process,  # noqa: F811
    clock: FakeClock,
) -> None:
    # A reviews deadline: queueing its reminder runs the chase list in a savepoint.
    await deadlines.add(ADMIN, title="Reviews close", due=DUE, kind="reviews", offsets="1d")
    due = at(2027, 3, 9, 23, 59, 20)
    clock.now = due
    (view,) = await deadlines.list(ADMIN)
    assert [r.status for r in view.reminders] == ["pending"]
    # The ticker's queue phase alone (its skip phase, before it, writes the table anyway).
    report = TickReport()
    await process().reminders._queue_phase(due, report)
    assert report.queued == 1
    (view,) = await deadlines.list(ADMIN)
    # This process wrote the reminder: "seen at once" (docs/operations.md), not "next reminder".
    assert [r.status for r in view.reminders] == ["queued"]

"""In-memory Discord and bot processes for the outbox, reminder and digest tests.

``FakeDiscord`` is shared by several "processes" in a test, like the real
Discord is shared by every process of a bot. By default it forgets nonces
(``remember_nonces=False``): Discord only remembers them for a few minutes,
and the bot must not rely on them. Each process gets its own
``ProcessOutbox`` view of it, which can be made to crash, fail or block, and
a ``Bot`` (the services and the sender of one process, on the shared clock).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.services.auth import Actor
from bot.services.config import ConfigService
from bot.services.digests import DigestService, SendResult
from bot.services.outbox import (
    AdminNotice,
    AssignedNotice,
    DecisionNotice,
    Digest,
    DigestPost,
    DirectPost,
    Post,
    PostResult,
    ReminderBatch,
    ReminderPost,
    RoundNotice,
    refs_of,
)
from bot.services.reminders import PersonLanguage, ReminderService
from bot.services.sending import OutboxService, Sender
from storage.database import Database
from storage.delivery import Shards
from tests.conftest import FakeClock


class Crash(BaseException):
    """The process died (not an ``Exception``: nothing in the bot catches it)."""


@dataclass
class Delivered:
    """A message Discord holds: what it was and which process posted it."""

    message_id: int
    post: Post
    process: str


def _target(post: Post) -> int:
    if isinstance(post, DirectPost | AssignedNotice | DecisionNotice | RoundNotice):
        return post.user_id
    return post.channel_id


@dataclass
class FakeDiscord:
    """Messages by target; nonces deduplicated only when ``remember_nonces``."""

    remember_nonces: bool = False
    messages: list[Delivered] = field(default_factory=list)
    by_nonce: dict[tuple[int, str], Delivered] = field(default_factory=dict)
    next_id: int = 1_000
    readable: bool = True  # False: reading a channel's history fails

    def deliver(self, post: Post, process: str) -> PostResult:
        existing = self.by_nonce.get((_target(post), post.nonce))
        if self.remember_nonces and existing is not None:
            return PostResult.sent(existing.message_id)
        self.next_id += 1
        delivered = Delivered(self.next_id, post, process)
        self.messages.append(delivered)
        self.by_nonce[(_target(post), post.nonce)] = delivered
        return PostResult.sent(delivered.message_id)

    def find(self, post: Post) -> dict[str, int] | None:
        if not self.readable:
            return None
        wanted = set(refs_of(post))
        found: dict[str, int] = {}
        for message in self.messages:
            if _target(message.post) == _target(post):
                for ref in set(refs_of(message.post)) & wanted:
                    found[ref] = message.message_id
        return found

    def of_type(self, kind: type) -> list[Delivered]:
        return [m for m in self.messages if isinstance(m.post, kind)]

    @property
    def reminders(self) -> list[ReminderPost]:
        found: list[ReminderPost] = []
        for m in self.messages:
            if isinstance(m.post, ReminderPost):
                found.append(m.post)
            elif isinstance(m.post, ReminderBatch):
                found.extend(m.post.reminders)
        return found

    @property
    def digests(self) -> list[DigestPost]:
        return [m.post for m in self.messages if isinstance(m.post, DigestPost)]

    @property
    def notices(self) -> list[AdminNotice]:
        return [m.post for m in self.messages if isinstance(m.post, AdminNotice)]

    @property
    def directs(self) -> list[DirectPost]:
        return [m.post for m in self.messages if isinstance(m.post, DirectPost)]


@dataclass
class ProcessOutbox:
    """One process's outbox onto the shared fake Discord, with faults on demand."""

    discord: FakeDiscord
    name: str = "p1"
    # Raise Crash after (True) or before (False) the post reaches Discord.
    crash_after_post: bool | None = None
    # Answer these channels (or users) with a fixed result instead of posting.
    faults: dict[int, PostResult] = field(default_factory=dict)
    # Called before each post (tests use it to block, or to act mid-send).
    before: Callable[[Post], object] | None = None
    calls: list[Post] = field(default_factory=list)
    crashed: bool = False

    async def post(self, post: Post) -> PostResult:
        self.calls.append(post)
        if self.before is not None:
            waited = self.before(post)
            if asyncio.iscoroutine(waited):
                await waited
        if _target(post) in self.faults:
            return self.faults[_target(post)]
        if self.crash_after_post is False:
            self.crashed = True
            raise Crash("died before posting")
        result = self.discord.deliver(post, self.name)
        if self.crash_after_post:
            self.crashed = True
            raise Crash("died after posting, before recording")
        await asyncio.sleep(0)
        return result

    async def find(self, post: Post, since: datetime) -> dict[str, int] | None:
        return self.discord.find(post)


@dataclass
class Report:
    """What one tick of a process did, planning and sending together."""

    queued: int = 0
    claimed: int = 0
    sent: int = 0
    found: int = 0
    late: int = 0
    failed: int = 0
    retried: int = 0
    expired: int = 0
    skipped_passed: int = 0
    skipped_superseded: int = 0
    errors: int = 0
    digests_queued: int = 0
    digests_empty: int = 0


class Bot:
    """One bot process: its outbox, reminder and digest services and sender."""

    def __init__(
        self,
        db: Database,
        clock: FakeClock,
        config: ConfigService,
        outbox: ProcessOutbox,
        *,
        shards: Shards | None = None,
        person_language: PersonLanguage | None = None,
    ) -> None:
        self.clock = clock
        self.outbox = outbox
        self.service = OutboxService(db, clock, config, claimer=outbox.name, shards=shards)
        self.reminders = ReminderService(
            db, clock, config, self.service, shards=shards, person_language=person_language
        )
        self.digests = DigestService(db, clock, config, self.service, shards=shards)
        self.sender = Sender(self.service, outbox)

    async def tick(self, now: datetime, *, send: bool = True) -> Report:
        """Plan and queue what is due at ``now``, then send everything due (unless not ``send``)."""
        self.clock.now = now
        planned = await self.reminders.tick(now)
        digests = await self.digests.tick(now)
        report = Report(
            queued=planned.queued,
            failed=planned.failed,
            skipped_passed=planned.skipped_passed,
            skipped_superseded=planned.skipped_superseded,
            errors=planned.errors + digests.errors,
            digests_queued=digests.queued,
            digests_empty=digests.empty,
        )
        if send:
            sent = await self.send()
            for name in ("claimed", "sent", "found", "failed", "retried", "expired", "late"):
                setattr(report, name, getattr(report, name) + getattr(sent, name))
            report.errors += sent.errors
        return report

    async def send(self) -> Report:
        """Send everything due now; raise Crash if the outbox 'died' meanwhile."""
        before = Report(**{k: getattr(self.sender.report, k, 0) for k in _COUNTED})
        lateness_before = len(self.sender.report.lateness)
        await self.sender.run_once()
        if self.outbox.crashed:
            raise Crash("the process died")
        after = self.sender.report
        report = Report(**{k: getattr(after, k) - getattr(before, k) for k in _COUNTED})
        report.late = sum(1 for s in after.lateness[lateness_before:] if s > 300)
        return report

    # The digest service's own commands, sending what they queue.
    def add_section(self, *args: Any, **kwargs: Any) -> None:
        self.digests.add_section(*args, **kwargs)

    async def preview(self, actor: Actor) -> Digest:
        return await self.digests.preview(actor)

    async def send_now(self, actor: Actor) -> SendResult:
        result = await self.digests.send_now(actor)
        await self.send()
        return result

    async def next_due(self) -> datetime | None:
        """Return when anything of this process is next due (planning or sending)."""
        found = [await self.reminders.next_due(), await self.service.next_due()]
        times = [t for t in found if t is not None]
        return min(times) if times else None


_COUNTED = ("claimed", "sent", "found", "failed", "retried", "expired", "errors")

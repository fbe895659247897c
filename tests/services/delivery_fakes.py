"""In-memory outboxes for the reminder and digest tests: a Discord that keeps nonces.

``FakeDiscord`` is shared by several "processes" (service instances) in a
test, like the real Discord is shared by every process of a bot: it answers a
repeated nonce with the message it already has, as ``enforce_nonce`` does.
Each process gets its own ``ProcessOutbox`` view of it, which can be made to
crash, fail or block.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.services.outbox import (
    AdminNotice,
    DigestPost,
    DirectPost,
    Post,
    PostResult,
    ReminderPost,
)


class Crash(BaseException):
    """The process died (not an ``Exception``: nothing in the bot catches it)."""


@dataclass
class Delivered:
    """A message Discord holds: what it was and which process posted it."""

    message_id: int
    post: Post
    process: str


@dataclass
class FakeDiscord:
    """Messages by target, deduplicated by nonce (as ``enforce_nonce`` does)."""

    messages: list[Delivered] = field(default_factory=list)
    by_nonce: dict[tuple[int, str], Delivered] = field(default_factory=dict)
    next_id: int = 1_000

    def deliver(self, post: Post, process: str) -> PostResult:
        target = post.user_id if isinstance(post, DirectPost) else post.channel_id
        existing = self.by_nonce.get((target, post.nonce))
        if existing is not None:
            return PostResult.sent(existing.message_id)
        self.next_id += 1
        delivered = Delivered(self.next_id, post, process)
        self.messages.append(delivered)
        self.by_nonce[(target, post.nonce)] = delivered
        return PostResult.sent(delivered.message_id)

    def of_type(self, kind: type) -> list[Delivered]:
        return [m for m in self.messages if isinstance(m.post, kind)]

    @property
    def reminders(self) -> list[ReminderPost]:
        return [m.post for m in self.messages if isinstance(m.post, ReminderPost)]

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
    # Answer these channels with a fixed result instead of posting.
    faults: dict[int, PostResult] = field(default_factory=dict)
    # Called before each post (tests use it to block, or to act mid-tick).
    before: Callable[[Post], object] | None = None
    calls: list[Post] = field(default_factory=list)

    async def post(self, post: Post) -> PostResult:
        self.calls.append(post)
        if self.before is not None:
            waited = self.before(post)
            if asyncio.iscoroutine(waited):
                await waited
        channel = getattr(post, "channel_id", None)
        if channel in self.faults:
            return self.faults[channel]
        if self.crash_after_post is False:
            raise Crash("died before posting")
        result = self.discord.deliver(post, self.name)
        if self.crash_after_post:
            raise Crash("died after posting, before recording")
        await asyncio.sleep(0)
        return result

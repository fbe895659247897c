"""What the services hand to Discord, and how Discord's answer comes back.

The services never import ``discord``: they describe each post as plain data
(a reminder, a digest, a notice to the admins, a direct message) and an
``Outbox`` posts it. ``bot.delivery.DiscordOutbox`` is the real one; tests
use in-memory ones. Each post carries its outbox row's ``ref`` (row id and
random marker), which the rendered message shows (a footer, or the end of
the text): after a crash, ``Outbox.find`` looks for it in the destination's
recent messages, so nothing is posted twice even though Discord forgets
nonces after a few minutes (``bot.services.sending``). The ``nonce`` is
still sent, as a second line of defence, and is never reused.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.i18n import SOURCE
from bot.services.text import Line

NONCE_MAX = 25  # Discord's limit


def make_nonce(*parts: object) -> str:
    """Return a nonce for a ledger row: readable when short, else a stable hash."""
    text = "-".join(str(p) for p in ("mag", *parts))
    if len(text) <= NONCE_MAX:
        return text
    return "mag-" + hashlib.sha256(text.encode()).hexdigest()[: NONCE_MAX - 4]


@dataclass(frozen=True)
class Chase:
    """Who has not acted yet, for a reminder of a reviews or proposals deadline."""

    summary: str
    lines: tuple[Line, ...] = ()
    # Members named in ``lines`` (they may be pinged, or messaged directly).
    user_ids: tuple[int, ...] = ()
    # Per member, how many of their reviews are open (their direct message, when
    # the guild chose DMs, says so).
    direct: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class ReminderPost:
    """A reminder of one occurrence of a deadline."""

    guild_id: int
    channel_id: int
    nonce: str
    ref: str
    deadline_number: int
    title: str
    kind: str
    link: str | None
    deadline_at: datetime
    zone: str
    offset_minutes: int
    repeat: str
    late: bool = False
    mention_role_id: int | None = None
    chase: Chase | None = None
    # True when the chased members got direct messages instead of a mention.
    chased_directly: bool = False
    # The language it is written in (the server's, when it was queued).
    language: str = SOURCE


@dataclass(frozen=True)
class DirectPost:
    """A direct message to one member (reviewers being chased)."""

    guild_id: int
    user_id: int
    nonce: str
    ref: str
    open_reviews: int
    reminder: ReminderPost
    language: str = SOURCE  # the member's


@dataclass(frozen=True)
class DigestSection:
    """One part of a digest: a heading and its lines (typed parts marked ``Typed``)."""

    name: str
    title: str
    lines: tuple[Line, ...]
    order: int = 100


@dataclass(frozen=True)
class Digest:
    """A digest's content for the period (since, until]."""

    guild_id: int
    since: datetime
    until: datetime
    zone: str
    cycle_name: str
    sections: tuple[DigestSection, ...] = ()

    @property
    def empty(self) -> bool:
        """Return whether there is nothing to say (such a digest is not posted)."""
        return not any(section.lines for section in self.sections)


@dataclass(frozen=True)
class DigestPost:
    """A digest to post in the digest channel."""

    guild_id: int
    channel_id: int
    nonce: str
    ref: str
    digest: Digest
    language: str = SOURCE


@dataclass(frozen=True)
class AdminNotice:
    """A short notice to the admins, in the log channel."""

    guild_id: int
    channel_id: int
    nonce: str
    ref: str
    text: str
    language: str = SOURCE
    plain: bool = False  # news for everyone (a consultation closed), not a warning to admins


@dataclass(frozen=True)
class AssignedNotice:
    """A direct message to a reviewer: proposals were assigned to them (once per assignment run)."""

    guild_id: int
    user_id: int
    nonce: str
    ref: str
    added: int  # proposals this run gave them
    to_score: int  # all they have to score now
    closes_at: datetime | None
    language: str = SOURCE


@dataclass(frozen=True)
class RoundNotice:
    """A direct message to a reviewer: a later round reopened some of their proposals."""

    guild_id: int
    user_id: int
    nonce: str
    ref: str
    number: int  # the round: 2, 3…
    count: int  # their proposals in it
    left: int  # still to score again now
    closes_at: datetime | None
    language: str = SOURCE


@dataclass(frozen=True)
class Feedback:
    """A review comment released to a proposer with the decision."""

    letter: str
    member_id: int | None  # None: anonymised ("a reviewer")
    comment: str


@dataclass(frozen=True)
class DecisionNotice:
    """A direct message to a proposer: the decision on their proposal (once per decision)."""

    guild_id: int
    user_id: int
    nonce: str
    ref: str
    decision_id: int
    label: str  # "WS #12"
    title: str  # typed by the proposer
    outcome: str
    reason: str | None  # typed by the secretariat
    conditions: str | None
    conditions_due: datetime | None
    confirm_by: datetime | None  # accepted: confirm the slot by then (a button)
    confirmed: bool
    feedback: tuple[Feedback, ...] = ()
    language: str = SOURCE


@dataclass(frozen=True)
class UserNotice:
    """A short direct message to one member (a proposer: their nominee answered by email)."""

    guild_id: int
    user_id: int
    nonce: str
    ref: str
    text: str  # already safe (typed parts quoted)
    language: str = SOURCE


@dataclass(frozen=True)
class EmailPost:
    """An email to someone who is not on Discord (a nominee's invitation); sent by SMTP."""

    guild_id: int
    to: str
    sender: str
    subject: str
    text: str
    nonce: str
    ref: str
    language: str = SOURCE


@dataclass(frozen=True)
class ReminderBatch:
    """Reminders due together in one channel, sent as one message (up to 10 embeds)."""

    guild_id: int
    channel_id: int
    nonce: str
    reminders: tuple[ReminderPost, ...]

    @property
    def language(self) -> str:
        """Return the language of the batch (its reminders were queued together)."""
        return self.reminders[0].language

    @property
    def ref(self) -> str:
        """Return the first reminder's ref (each embed shows its own)."""
        return self.reminders[0].ref


Post = (
    ReminderPost
    | ReminderBatch
    | DirectPost
    | DigestPost
    | AdminNotice
    | AssignedNotice
    | DecisionNotice
    | RoundNotice
    | UserNotice
    | EmailPost
)


def refs_of(post: Post) -> tuple[str, ...]:
    """Return every outbox ref a post carries (one per row it sends)."""
    if isinstance(post, ReminderBatch):
        return tuple(r.ref for r in post.reminders)
    return (post.ref,)


def channel_of(post: Post) -> int | None:
    """Return the channel a post goes to (None: a direct message)."""
    if isinstance(
        post, DirectPost | AssignedNotice | DecisionNotice | RoundNotice | UserNotice | EmailPost
    ):
        return None
    return post.channel_id


class PostStatus(enum.Enum):
    """How a post ended."""

    SENT = "sent"
    RETRY = "retry"  # 429, 5xx, network: try again later
    FAILED = "failed"  # 403, 404, bad request: do not try this again


@dataclass(frozen=True)
class PostResult:
    """Discord's answer to one post."""

    status: PostStatus
    message_id: int | None = None
    detail: str = ""
    http_status: int | None = None
    retry_after: float | None = None  # a rate limit: when to try again (not a failure)
    # The sending service itself refuses every message (an SMTP login or server
    # refused): not this message's fault, so it waits without counting towards giving up.
    unavailable: bool = False

    @classmethod
    def sent(cls, message_id: int | None) -> PostResult:
        return cls(PostStatus.SENT, message_id=message_id)

    @classmethod
    def retry(
        cls, detail: str, http_status: int | None = None, retry_after: float | None = None
    ) -> PostResult:
        return cls(
            PostStatus.RETRY, detail=detail, http_status=http_status, retry_after=retry_after
        )

    @classmethod
    def held(cls, detail: str, retry_after: float) -> PostResult:
        """Return a retry at ``retry_after`` seconds: the service is down, not the message."""
        return cls(PostStatus.RETRY, detail=detail, retry_after=retry_after, unavailable=True)

    @classmethod
    def failed(cls, detail: str, http_status: int | None = None) -> PostResult:
        return cls(PostStatus.FAILED, detail=detail, http_status=http_status)

    @property
    def channel_refused(self) -> bool:
        """Return whether Discord refused the channel itself (403/404): block it."""
        return self.status is PostStatus.FAILED and self.http_status in (403, 404)


class Outbox(Protocol):
    """Posts to Discord. ``post`` should not raise; if it does, the post is retried."""

    async def post(self, post: Post) -> PostResult: ...

    async def find(self, post: Post, since: datetime) -> dict[str, int] | None:
        """Return, by ref, the messages of ``post`` already in its destination since ``since``.

        None when the destination cannot be read (then the post is retried later).
        """
        ...

"""Discord's rate limits, as the fake enforces them.

What Discord documents (docs/topics/rate-limits.md in discord/discord-api-docs,
https://discord.com/developers/docs/topics/rate-limits):

- A **global** limit of 50 requests per second per bot token, across all
  routes. Interaction endpoints (``POST /interactions/{id}/{token}/callback``
  and the ``/webhooks/{app}/{token}`` followup and @original routes) "are not
  bound to the bot's Global Rate Limit" (docs/interactions/receiving-and-
  responding.mdx, "Endpoints"). A global 429 carries ``X-RateLimit-Global:
  true`` and ``X-RateLimit-Scope: global`` and no route headers.
- **Per-route** buckets, counted per top-level resource (channel, guild,
  webhook): every response of a limited route carries ``X-RateLimit-Limit``,
  ``-Remaining``, ``-Reset`` (epoch seconds), ``-Reset-After`` (seconds,
  float) and ``-Bucket`` (a hash that does not include the resource, so it is
  the same for every channel). Creating messages is limited per channel,
  DM channels included. Discord does not publish the numbers (limits
  "should not be hard coded"); 5 per 5 s per channel is what bots observe
  and what community tables of Discord's limits quote.
- A **429** has the JSON body ``{message, retry_after (float seconds),
  global}`` plus ``Retry-After`` (whole seconds) and ``X-RateLimit-Scope``:
  ``user`` (this bot's limit on the route), ``global`` or ``shared`` (a limit
  on the resource for everyone, "The resource is being rate limited.").

What discord.py 2.7 does with them (discord/http.py, ``HTTPClient.request``
and ``Ratelimit``): it keys its buckets by ``X-RateLimit-Bucket`` plus the
route's major parameters, and once ``Remaining`` hits 0 it sleeps
``Reset-After`` *inside the request that emptied the bucket* before the next
one goes out, so a bot that stays within a bucket never sees its 429. A 429
without a ``Via`` header (or with a non-JSON body) is taken for a Cloudflare
ban and raised as ``HTTPException``; with ``Via`` it sleeps ``retry_after``
and retries (5 tries in all), holding every request while a ``global`` one
lasts. With ``Client(max_ratelimit_timeout=...)`` (at least 30 s) a longer
wait raises ``discord.RateLimited`` instead. Nothing tracks the global limit
ahead of time: bursts above 50/s meet a 429.

The fake counts with fixed windows (a window opens at its first request and
lasts ``per`` seconds), on the fake's injectable clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web

from .clock import Clock
from .replies import json_reply

Scope = Literal["user", "global", "shared"]

#: The routes the fake limits, and the bucket hash each reports.
MESSAGE_CREATE = "message_create"
BUCKET_HASHES = {MESSAGE_CREATE: "fake80c17d2f91a6e5b3message"}

#: Real Discord answers through Google's front end; discord.py checks the header exists.
VIA = "1.1 google"


@dataclass(frozen=True)
class Bucket:
    """``limit`` requests per ``per`` seconds; ``scope`` is what a 429 on it reports."""

    limit: int
    per: float
    scope: Scope = "user"

    def __post_init__(self) -> None:
        if self.limit < 1 or self.per <= 0:
            raise ValueError(f"a bucket needs limit >= 1 and per > 0, not {self}")


@dataclass
class RateLimits:
    """The limits a ``FakeDiscord`` enforces; None turns one off.

    ``RateLimits()`` is Discord's: 50 requests/s globally, 5 messages per 5 s
    per channel. ``RateLimits.off()`` enforces nothing. ``channels`` overrides
    the message-create bucket of single channels (one slow, limited channel
    beside healthy ones); ``FakeDiscord.limit_channel`` fills it at run time
    and applies even when the defaults are off.
    """

    global_limit: Bucket | None = field(default_factory=lambda: Bucket(50, 1.0, "global"))
    message_create: Bucket | None = field(default_factory=lambda: Bucket(5, 5.0))
    channels: dict[int, Bucket] = field(default_factory=dict)

    @classmethod
    def off(cls) -> RateLimits:
        """Limits that never refuse (per-channel ones may still be added)."""
        return cls(global_limit=None, message_create=None)

    def bucket_for(self, route: str, resource: int) -> Bucket | None:
        """The bucket limiting ``route`` on ``resource`` (a channel id), if any."""
        if route == MESSAGE_CREATE:
            return self.channels.get(resource, self.message_create)
        return None


@dataclass(frozen=True)
class RateLimitHit:
    """One 429 the fake sent (``injected`` when it came from ``fail_channel``)."""

    method: str
    path: str
    scope: Scope
    retry_after: float
    bucket: str | None
    at: float
    injected: bool = False

    @property
    def is_global(self) -> bool:
        return self.scope == "global"


@dataclass
class _Window:
    """A fixed window: opens at its first request, ``used`` counts requests in it."""

    bucket: Bucket
    resets_at: float
    used: int = 0

    def roll(self, now: float) -> None:
        if now >= self.resets_at:
            self.used = 0
            self.resets_at = now + self.bucket.per

    def take(self, now: float) -> float | None:
        """Count one request; return the wait instead if the window is full."""
        self.roll(now)
        if self.used >= self.bucket.limit:
            return self.resets_at - now
        self.used += 1
        return None


@dataclass(frozen=True)
class RouteUse:
    """A request's place in its route bucket: the headers to send, or the 429's wait."""

    route: str
    bucket: Bucket
    remaining: int
    reset_after: float
    retry_after: float | None

    @property
    def bucket_hash(self) -> str:
        return BUCKET_HASHES[self.route]

    def headers(self, wall_now: float) -> dict[str, str]:
        """The full ``X-RateLimit-*`` set (discord.py reads all or none)."""
        return {
            "X-RateLimit-Limit": str(self.bucket.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": f"{wall_now + self.reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{self.reset_after:.3f}",
            "X-RateLimit-Bucket": self.bucket_hash,
        }


class RateLimiter:
    """Counts requests against ``limits`` on ``clock``; the server asks before each request."""

    def __init__(self, limits: RateLimits, clock: Clock) -> None:
        self.limits = limits
        self._clock = clock
        self._global: _Window | None = None
        self._windows: dict[tuple[str, int], _Window] = {}

    def take_global(self) -> float | None:
        """Count a request against the global limit; the wait if it is exhausted."""
        bucket = self.limits.global_limit
        if bucket is None:
            return None
        now = self._clock()
        if self._global is None or self._global.bucket != bucket:
            self._global = _Window(bucket, now + bucket.per)
        return self._global.take(now)

    def take(self, route: str, resource: int) -> RouteUse | None:
        """Count a request on ``route`` for ``resource``; None if the route is not limited."""
        bucket = self.limits.bucket_for(route, resource)
        if bucket is None:
            return None
        now = self._clock()
        key = (route, resource)
        window = self._windows.get(key)
        if window is None or window.bucket != bucket:
            window = self._windows[key] = _Window(bucket, now + bucket.per)
        retry_after = window.take(now)
        return RouteUse(
            route,
            bucket,
            remaining=bucket.limit - window.used,
            reset_after=max(0.0, window.resets_at - now),
            retry_after=retry_after,
        )

    def refund(self, route: str, resource: int) -> None:
        """Uncount a request that was refused with 429 after all (a 429 is never counted)."""
        window = self._windows.get((route, resource))
        if window is not None and window.used:
            window.used -= 1

    def forget(self, route: str, resource: int) -> None:
        """Start ``resource``'s window on ``route`` afresh (after its bucket changed)."""
        self._windows.pop((route, resource), None)


def too_many_requests(
    retry_after: float, scope: Scope, route_headers: dict[str, str] | None = None
) -> web.Response:
    """A 429 the way Discord sends it, ``Via`` included so discord.py retries it."""
    message = (
        "The resource is being rate limited."
        if scope == "shared"
        else "You are being rate limited."
    )
    headers = {
        **(route_headers or {}),
        "Retry-After": str(max(1, math.ceil(retry_after))),
        "X-RateLimit-Scope": scope,
        "Via": VIA,
    }
    if scope == "global":
        headers["X-RateLimit-Global"] = "true"
    body = {"message": message, "retry_after": round(retry_after, 3), "global": scope == "global"}
    return json_reply(body, 429, headers)

"""Discord's memory of message nonces, for ``enforce_nonce``.

Discord's Create Message docs: with ``enforce_nonce: true`` and a ``nonce``,
"it will be checked for uniqueness in the past few minutes. If another
message was created by the same author with the same nonce, that message
will be returned and no new message will be created." The engineer who
added it (discord/discord-api-docs#6647) adds that a message created with
the nonce and *deleted* since is not created again: the retry gets 404
Unknown Message. How long "a few minutes" is, Discord never says.

The fake remembers per (channel, nonce): the bot is the only author, and
whether Discord also matches the nonce across channels is undocumented.
"""

from __future__ import annotations

from dataclasses import dataclass

from .clock import Clock
from .models import FakeMessage

#: Seconds the fake remembers a nonce by default: the shortest reading of "a
#: few minutes", so that a bot which relies on a longer memory fails here
#: first (the bot's own claim lease is 90 s, well inside).
DEFAULT_NONCE_MEMORY = 120.0

#: Discord's limit on a string nonce (an integer nonce is an int64).
NONCE_MAX_LENGTH = 25


@dataclass
class _Remembered:
    message: FakeMessage
    at: float


class NonceMemory:
    """Messages by (channel, nonce) for ``seconds``; None or 0 forgets at once."""

    def __init__(self, seconds: float | None, clock: Clock) -> None:
        self.seconds = seconds
        self._clock = clock
        self._seen: dict[tuple[int, str], _Remembered] = {}

    @property
    def enabled(self) -> bool:
        return bool(self.seconds)

    def recall(self, channel_id: int, nonce: str | int) -> FakeMessage | None:
        """The message created with this nonce in the last ``seconds``, if any."""
        if not self.enabled:
            return None
        self._forget_old()
        entry = self._seen.get((channel_id, str(nonce)))
        return entry.message if entry is not None else None

    def remember(self, channel_id: int, nonce: str | int, message: FakeMessage) -> None:
        if self.enabled:
            key = (channel_id, str(nonce))
            self._seen.pop(key, None)  # re-inserted last: the dict stays oldest first
            self._seen[key] = _Remembered(message, self._clock())

    def _forget_old(self) -> None:
        assert self.seconds
        horizon = self._clock() - self.seconds
        while self._seen:
            key, entry = next(iter(self._seen.items()))
            if entry.at >= horizon:
                return
            del self._seen[key]


def nonce_problems(data: dict[str, object]) -> list[tuple[str, str]]:
    """Discord's checks on a message ``nonce``: a string of at most 25, or an int64."""
    nonce = data.get("nonce")
    if nonce is None:
        return []
    if isinstance(nonce, bool) or not isinstance(nonce, str | int):
        return [("nonce", "Must be a string or an integer.")]
    if isinstance(nonce, str) and len(nonce) > NONCE_MAX_LENGTH:
        return [("nonce", f"Must be {NONCE_MAX_LENGTH} or fewer in length.")]
    if isinstance(nonce, int) and not -(2**63) <= nonce < 2**63:
        return [("nonce", "Int64 value out of range.")]
    return []

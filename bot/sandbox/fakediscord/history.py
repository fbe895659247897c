"""Channel history pages, the way ``GET /channels/{id}/messages`` cuts them.

From Discord's Get Channel Messages docs and the OpenAPI spec
(discord/discord-api-spec, ``/channels/{channel_id}/messages``): ``limit``
1-100 (default 50); ``before``, ``after`` and ``around`` are message ids and
"mutually exclusive, only one may be passed at a time"; the answer is sorted
newest first. With ``after`` the page is the messages *right after* that id
(discord.py pages forward with ``after=data[0]["id"]``, the newest of the
page), with ``before`` the ones right before it, with ``around`` about half on
each side (the message itself counted on the newer side). Ephemeral and
deleted messages are not history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .models import FakeMessage

DEFAULT_LIMIT = 50
MAX_LIMIT = 100


def _snowflake(query: Mapping[str, str], key: str) -> int | None:
    value = query.get(key)
    if value is None:
        return None
    if not value.isdigit():
        raise ValueError(key, f'Value "{value}" is not snowflake.')
    return int(value)


def _limit(query: Mapping[str, str]) -> int:
    value = query.get("limit")
    if value is None:
        return DEFAULT_LIMIT
    if not value.lstrip("-").isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise ValueError("limit", f"Must be between 1 and {MAX_LIMIT}.")
    return int(value)


def history_page(messages: Sequence[FakeMessage], query: Mapping[str, str]) -> list[FakeMessage]:
    """One page of ``messages`` (oldest first) for ``query``, newest first.

    Raises ``ValueError(field, message)`` for what Discord answers with 400.
    """
    limit = _limit(query)
    anchors = {key: _snowflake(query, key) for key in ("before", "after", "around")}
    given = [key for key, value in anchors.items() if value is not None]
    if len(given) > 1:
        raise ValueError(given[1], "before, after and around are mutually exclusive.")
    before, after, around = anchors["before"], anchors["after"], anchors["around"]
    if after is not None:
        page = [m for m in messages if m.id > after][:limit]
    elif around is not None:
        older = [m for m in messages if m.id < around]
        newer = [m for m in messages if m.id >= around]
        page = older[max(0, len(older) - limit // 2) :] + newer[: limit - limit // 2]
    else:
        candidates = [m for m in messages if before is None or m.id < before]
        page = candidates[-limit:]
    return page[::-1]

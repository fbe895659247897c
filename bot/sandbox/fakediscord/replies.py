"""The shape of the fake's HTTP answers: JSON bodies and Discord's error objects.

discord.py parses a body as JSON only when ``Content-Type`` is exactly
``application/json`` (aiohttp's ``json_response`` adds ``; charset=utf-8``,
and discord.py then fails at login), so every reply is built here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web


def json_reply(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON reply with the exact content type discord.py insists on (no charset)."""
    return web.Response(
        status=status,
        body=json.dumps(data).encode(),
        content_type="application/json",
        headers=headers,
    )


def no_content() -> web.Response:
    return web.Response(status=204)


class ApiError(Exception):
    """A refusal in Discord's words; the server turns it into ``{message, code, errors?}``.

    ``kind`` names a protocol error to record (see ``ProtocolError``), or None
    for an answer a correct bot may get (a missing permission, a limit).
    """

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        errors: dict[str, Any] | None = None,
        kind: str | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.kind = kind

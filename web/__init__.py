"""The consent pages (issue 16): a second door beside ``cogs``, over ``bot.services``.

Loaded by the bot as an extension named ``web`` when ``WEB_BASE_URL`` and
``WEB_PORT`` are set; it never imports ``discord`` or ``cogs``.
"""

from __future__ import annotations

from typing import Any

from web.app import ConsentServer

_SERVERS: dict[int, ConsentServer] = {}


async def setup(bot: Any) -> None:
    """Serve the consent pages of ``bot``'s services (an extension's entry point)."""
    settings = bot.settings
    if not settings.web_enabled:
        return
    server = ConsentServer(bot.services.email, trusted_proxies=settings.web_trusted_proxies)
    await server.start(settings.web_host, settings.web_port)
    _SERVERS[id(bot)] = server


async def teardown(bot: Any) -> None:
    """Stop serving (the bot closes or unloads the extension)."""
    server = _SERVERS.pop(id(bot), None)
    if server is not None:
        await server.stop()

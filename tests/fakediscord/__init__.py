"""The local fake Discord, now at ``bot.sandbox.fakediscord`` (the sandbox runs it too).

This package keeps every test's ``from tests.fakediscord import ...`` working:
it re-exports the same public names, and ``tests.fakediscord.server`` (and
``models``, ``interactions``, ``validation``) are the moved modules themselves.
Its own test, ``test_fake.py``, stays here.
"""

import sys

from bot.sandbox.fakediscord import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    DEFAULT_APP_ID,
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    DEFAULT_OWNER_ID,
    DEFAULT_TOKEN,
    MANAGE_GUILD,
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeInteraction,
    FakeMember,
    FakeMessage,
    FakeRequest,
    FakeResponse,
    FakeRole,
    FakeUser,
    ProtocolError,
    interactions,
    models,
    server,
    validation,
)

for _module in (interactions, models, server, validation):
    sys.modules[f"{__name__}.{_module.__name__.rsplit('.', 1)[1]}"] = _module

__all__ = [
    "ADMINISTRATOR",
    "ALL_PERMISSIONS",
    "DEFAULT_APP_ID",
    "DEFAULT_BOT_PERMISSIONS",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "DEFAULT_OWNER_ID",
    "DEFAULT_TOKEN",
    "MANAGE_GUILD",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeInteraction",
    "FakeMember",
    "FakeMessage",
    "FakeRequest",
    "FakeResponse",
    "FakeRole",
    "FakeUser",
    "ProtocolError",
]

"""A local fake Discord (REST + gateway): the sandbox's Discord, and the e2e tests'.

It imports nothing from the bot (only discord.py, aiohttp and the standard
library), so it stays a stand-in for Discord itself. Tests start one
``FakeDiscord`` per module, build guilds on it, point the bot
at ``fake.url`` (``DISCORD_API_URL``) and drive it with ``run_command``,
``click``, ``submit_modal`` and ``autocomplete``; assert on what the bot
answered (``FakeInteraction.wait_reply``) or posted (``channel_messages``).
See ``server.py`` for the fake's scope.
"""

from .clock import ManualClock
from .interactions import FakeInteraction, FakeResponse, ProtocolError
from .models import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    MANAGE_GUILD,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
)
from .nonces import DEFAULT_NONCE_MEMORY
from .ratelimits import Bucket, RateLimitHit, RateLimits
from .scheduled_events import CREATE_EVENTS, MANAGE_EVENTS, FakeScheduledEvent
from .server import (
    DEFAULT_APP_ID,
    DEFAULT_OWNER_ID,
    DEFAULT_TOKEN,
    INTERACTION_TOKEN_LIFETIME,
    FakeDiscord,
    FakeRequest,
)

__all__ = [
    "ADMINISTRATOR",
    "ALL_PERMISSIONS",
    "CREATE_EVENTS",
    "DEFAULT_APP_ID",
    "DEFAULT_BOT_PERMISSIONS",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "DEFAULT_NONCE_MEMORY",
    "DEFAULT_OWNER_ID",
    "DEFAULT_TOKEN",
    "INTERACTION_TOKEN_LIFETIME",
    "MANAGE_EVENTS",
    "MANAGE_GUILD",
    "Bucket",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeInteraction",
    "FakeMember",
    "FakeMessage",
    "FakeRequest",
    "FakeResponse",
    "FakeRole",
    "FakeScheduledEvent",
    "FakeUser",
    "ManualClock",
    "ProtocolError",
    "RateLimitHit",
    "RateLimits",
]

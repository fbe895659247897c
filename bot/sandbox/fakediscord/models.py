"""The fake's world: users, guilds, roles, channels, members and messages.

Each entity renders itself as the JSON payload Discord would send, with the
keys discord.py reads (checked against discord.py 2.7's ``_from_data`` and
``__init__`` methods): a missing key there is a ``KeyError`` inside the
gateway reader, which kills the whole client rather than one command.

Snowflakes are ints here and strings on the wire, as on Discord.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import discord

if TYPE_CHECKING:
    from .scheduled_events import FakeScheduledEvent
    from .server import FakeDiscord

DISCORD_EPOCH_MS = 1_420_070_400_000

# Permission bits the fake reasons about (values from discord.Permissions).
ADMINISTRATOR = discord.Permissions(administrator=True).value
MANAGE_GUILD = discord.Permissions(manage_guild=True).value
VIEW_CHANNEL = discord.Permissions(view_channel=True).value
SEND_MESSAGES = discord.Permissions(send_messages=True).value
READ_MESSAGE_HISTORY = discord.Permissions(read_message_history=True).value
ALL_PERMISSIONS = discord.Permissions.all().value

#: What @everyone may do by default in a fresh guild (a typical community server).
DEFAULT_EVERYONE_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    read_message_history=True,
    embed_links=True,
    attach_files=True,
    add_reactions=True,
    use_application_commands=True,
    use_external_emojis=True,
    connect=True,
    speak=True,
).value

#: What the bot's managed role grants: what a message-posting bot is invited with.
DEFAULT_BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    read_message_history=True,
    embed_links=True,
    attach_files=True,
    add_reactions=True,
    use_application_commands=True,
    manage_messages=True,
).value

# Message flags.
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7

#: Channel types the fake can render, and whether messages can be posted in them.
TEXT_CHANNEL_TYPES = {0, 5}  # text, announcement
VOICE_CHANNEL, STAGE_CHANNEL = 2, 13
VOICE_CHANNEL_TYPES = {VOICE_CHANNEL, STAGE_CHANNEL}  # text-in-voice is allowed on both
CATEGORY = 4
DM = 1


def iso(ts: float) -> str:
    """Render a POSIX timestamp the way Discord does (ISO 8601, UTC offset)."""
    return datetime.fromtimestamp(ts, UTC).isoformat()


class SnowflakeFactory:
    """Hand out increasing snowflakes whose embedded timestamp is now.

    Real timestamps keep ``created_at`` sensible in the bot, and strictly
    increasing ids keep message ordering and uniqueness without a database.
    """

    def __init__(self) -> None:
        self._last = 0

    def __call__(self) -> int:
        candidate = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        if candidate <= self._last:
            candidate = self._last + 1
        self._last = candidate
        return candidate


def snowflake_of(value: Any) -> int:
    """Accept an int, a numeric string or anything with an ``id`` (fake or discord.py object)."""
    if isinstance(value, bool):
        raise TypeError(f"{value!r} is not a snowflake")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    ident = getattr(value, "id", None)
    if isinstance(ident, int):
        return ident
    raise TypeError(f"{value!r} is not a snowflake (int, digit string or object with .id)")


@dataclass
class FakeUser:
    """A Discord user (the bot itself is one, with ``bot=True``)."""

    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    # The language of their Discord client (what interactions carry as ``locale``).
    locale: str = "en-US"

    def payload(self) -> dict[str, Any]:
        """The user object (``BaseUser._update`` needs username, discriminator, avatar)."""
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "primary_guild": None,
            "collectibles": None,
        }


@dataclass
class FakeRole:
    """A guild role; ``tags`` marks the bot's managed role."""

    id: int
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False
    tags: dict[str, Any] | None = None

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.tags is not None:
            data["tags"] = self.tags
        return data


@dataclass
class FakeChannel:
    """A guild channel (text, announcement, voice, stage, category) or a DM channel."""

    id: int
    name: str
    type: int = 0
    guild_id: int | None = None
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    nsfw: bool = False
    recipients: list[FakeUser] = field(default_factory=list)

    @property
    def can_hold_messages(self) -> bool:
        return self.type in TEXT_CHANNEL_TYPES | VOICE_CHANNEL_TYPES | {DM}

    def payload(self) -> dict[str, Any]:
        """The channel object; voice channels need bitrate and user_limit in discord.py."""
        if self.type == DM:
            return {
                "id": str(self.id),
                "type": DM,
                "last_message_id": None,
                "flags": 0,
                "recipients": [u.payload() for u in self.recipients],
            }
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "permission_overwrites": [],
            "nsfw": self.nsfw,
            "flags": 0,
        }
        if self.type != CATEGORY:
            data["last_message_id"] = None
            data["rate_limit_per_user"] = 0
        if self.type in TEXT_CHANNEL_TYPES:
            data["topic"] = self.topic
            data["default_auto_archive_duration"] = 1440
        if self.type in VOICE_CHANNEL_TYPES:
            data["bitrate"] = 64000
            data["user_limit"] = 0
            data["rtc_region"] = None
            data["video_quality_mode"] = 1
            if self.type == STAGE_CHANNEL:
                data["topic"] = self.topic
        return data


@dataclass
class FakeMember:
    """A user's membership of one guild.

    ``permissions`` overrides the value computed from roles (what Discord puts
    in an interaction's ``member.permissions``); None means "compute it".
    """

    user: FakeUser
    guild: FakeGuild
    roles: list[int] = field(default_factory=list)
    permissions: int | None = None
    nick: str | None = None
    joined_at: float = field(default_factory=time.time)

    @property
    def id(self) -> int:
        return self.user.id

    def resolved_permissions(self) -> int:
        """Guild-level permissions: owner and ADMINISTRATOR get everything (no overwrites)."""
        if self.permissions is not None:
            return self.permissions
        return self.guild.compute_permissions(self.user.id, self.roles)

    def payload(self, *, with_user: bool = True, with_permissions: bool = False) -> dict[str, Any]:
        """The member object; interactions add ``permissions``, resolved data drops ``user``."""
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.roles],
            "joined_at": iso(self.joined_at),
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        if with_permissions:
            data["permissions"] = str(self.resolved_permissions())
        return data


class FakeGuild:
    """A guild: roles, channels and members, kept in sync with the connected bot.

    Changes made after the bot connected are announced on the gateway
    (GUILD_CREATE for the guild itself, CHANNEL_CREATE, GUILD_ROLE_CREATE),
    so tests may build the world before or after starting the bot.
    """

    def __init__(
        self,
        fake: FakeDiscord,
        guild_id: int,
        name: str,
        owner_id: int,
        *,
        everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
    ) -> None:
        self._fake = fake
        self.id = guild_id
        self.name = name
        self.owner_id = owner_id
        self.locale = "en-US"
        self.features: list[str] = []
        self.joined_at = time.time()
        self.roles: dict[int, FakeRole] = {
            guild_id: FakeRole(guild_id, "@everyone", everyone_permissions, position=0)
        }
        self.channels: dict[int, FakeChannel] = {}
        self.members: dict[int, FakeMember] = {}
        #: Scheduled events by id (the REST routes keep it; see scheduled_events.py).
        self.scheduled_events: dict[int, FakeScheduledEvent] = {}
        #: The managed role Discord creates for a bot invited with permissions.
        self.bot_role = FakeRole(
            fake.snowflake(),
            fake.bot_user.username,
            bot_permissions,
            position=1,
            managed=True,
            tags={"bot_id": str(fake.bot_user.id)},
        )
        self.roles[self.bot_role.id] = self.bot_role
        self.members[fake.bot_user.id] = FakeMember(
            fake.bot_user, self, roles=[self.bot_role.id], joined_at=self.joined_at
        )

    def __repr__(self) -> str:
        return f"<FakeGuild id={self.id} name={self.name!r}>"

    @property
    def everyone(self) -> FakeRole:
        return self.roles[self.id]

    def shard_id(self, shard_count: int) -> int:
        """The shard that owns this guild, by Discord's formula."""
        return (self.id >> 22) % shard_count

    # -- building the world -------------------------------------------------

    def add_role(
        self,
        role_id: int,
        name: str,
        permissions: int = 0,
        *,
        position: int | None = None,
        color: int = 0,
        hoist: bool = False,
        mentionable: bool = False,
    ) -> FakeRole:
        """Add (or replace) a role; announced (GUILD_ROLE_CREATE/UPDATE) when connected."""
        if position is None:
            position = max(r.position for r in self.roles.values()) + 1
        event = "GUILD_ROLE_UPDATE" if role_id in self.roles else "GUILD_ROLE_CREATE"
        role = FakeRole(
            role_id, name, permissions, position, color=color, hoist=hoist, mentionable=mentionable
        )
        self.roles[role_id] = role
        self._fake._guild_event(self, event, {"guild_id": str(self.id), "role": role.payload()})
        return role

    def update_role(
        self, role_id: int, *, permissions: int | None = None, name: str | None = None
    ) -> FakeRole:
        """Change a role in place (the bot's managed role too) and send GUILD_ROLE_UPDATE.

        E.g. ``g.update_role(g.bot_role.id, permissions=0)`` to test a bot that
        lost its permissions: channel posts then fail with 403 as on Discord.
        """
        role = self.roles[role_id]
        if permissions is not None:
            role.permissions = permissions
        if name is not None:
            role.name = name
        self._fake._guild_event(
            self, "GUILD_ROLE_UPDATE", {"guild_id": str(self.id), "role": role.payload()}
        )
        return role

    def add_channel(
        self,
        channel_id: int,
        name: str,
        type: int = 0,
        *,
        parent_id: int | None = None,
        topic: str | None = None,
        position: int | None = None,
    ) -> FakeChannel:
        """Add a text (0), announcement (5), voice (2), stage (13) or category (4) channel."""
        if type not in TEXT_CHANNEL_TYPES | VOICE_CHANNEL_TYPES | {CATEGORY}:
            raise ValueError(f"the fake does not model channel type {type}")
        parent = self.channels.get(parent_id) if parent_id is not None else None
        if parent_id is not None and (parent is None or parent.type != CATEGORY):
            raise ValueError(f"parent {parent_id} is not a category of {self!r}")
        if position is None:
            position = len(self.channels)
        channel = FakeChannel(
            channel_id,
            name,
            type,
            guild_id=self.id,
            position=position,
            parent_id=parent_id,
            topic=topic,
        )
        event = "CHANNEL_UPDATE" if channel_id in self.channels else "CHANNEL_CREATE"
        self.channels[channel_id] = channel
        self._fake._register_channel(channel)
        self._fake._guild_event(self, event, channel.payload())
        return channel

    def add_voice_channel(
        self, channel_id: int, name: str, *, parent_id: int | None = None
    ) -> FakeChannel:
        """Add a voice channel (type 2), e.g. to host a voice scheduled event."""
        return self.add_channel(channel_id, name, VOICE_CHANNEL, parent_id=parent_id)

    def add_stage_channel(
        self, channel_id: int, name: str, *, parent_id: int | None = None, topic: str | None = None
    ) -> FakeChannel:
        """Add a stage channel (type 13), e.g. to host a stage scheduled event."""
        return self.add_channel(channel_id, name, STAGE_CHANNEL, parent_id=parent_id, topic=topic)

    def add_member(
        self,
        user_id: int,
        name: str,
        roles: Iterable[int] = (),
        permissions: int | None = None,
        *,
        nick: str | None = None,
        bot: bool = False,
    ) -> FakeMember:
        """Add (or replace) a member; their user is created (or renamed) too.

        ``permissions`` None computes them from the roles, as Discord does for
        ``member.permissions`` in an interaction (no channel overwrites here).
        """
        role_ids = [snowflake_of(r) for r in roles]
        for role_id in role_ids:
            if role_id not in self.roles:
                raise ValueError(f"role {role_id} does not exist in {self!r}")
        user = self._fake.add_user(user_id, name, bot=bot)
        member = FakeMember(
            user,
            self,
            roles=[r for r in role_ids if r != self.id],
            permissions=permissions,
            nick=nick,
        )
        self.members[user_id] = member
        self._fake._guild_event(
            self,
            "GUILD_MEMBER_ADD",
            {"guild_id": str(self.id), **member.payload()},
            intent=discord.Intents(members=True).value,
        )
        return member

    # -- permissions ----------------------------------------------------------

    def compute_permissions(self, user_id: int, role_ids: Iterable[int]) -> int:
        """Base permissions the way Discord computes them before channel overwrites."""
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        value = self.everyone.permissions
        for role_id in role_ids:
            role = self.roles.get(role_id)
            if role is not None:
                value |= role.permissions
        if value & ADMINISTRATOR:
            return ALL_PERMISSIONS
        return value

    def permissions_of(self, user_id: int) -> int:
        """A member's permissions (0 for a non-member)."""
        member = self.members.get(user_id)
        return member.resolved_permissions() if member else 0

    @property
    def bot_permissions(self) -> int:
        """The bot's permissions here: what Discord sends as ``app_permissions``."""
        return self.permissions_of(self._fake.bot_user.id)

    # -- payloads -------------------------------------------------------------

    def partial_payload(self) -> dict[str, Any]:
        """The partial guild Discord attaches to interactions."""
        return {"id": str(self.id), "locale": self.locale, "features": list(self.features)}

    def payload(self) -> dict[str, Any]:
        """The full GUILD_CREATE payload (everything ``Guild._from_data`` reads)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": self.locale,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "widget_enabled": False,
            "application_id": None,
            "max_members": 500_000,
            "max_video_channel_users": 25,
            "incidents_data": None,
            "features": list(self.features),
            "roles": [r.payload() for r in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "channels": [c.payload() for c in self.channels.values()],
            "threads": [],
            "members": [m.payload() for m in self.members.values()],
            "member_count": len(self.members),
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [e.payload() for e in self.scheduled_events.values()],
            "soundboard_sounds": [],
            "joined_at": iso(self.joined_at),
            "large": len(self.members) >= 250,
            "unavailable": False,
            "lazy": True,
        }

    def resolved_channel(self, channel: FakeChannel, user_id: int) -> dict[str, Any]:
        """A channel as it appears in interaction ``resolved`` data (adds ``permissions``)."""
        data = channel.payload()
        data["permissions"] = str(self.permissions_of(user_id))
        return data


@dataclass
class FakeMessage:
    """A message as the fake stored it, kept current through edits and deletes.

    ``raw`` is the last payload the bot sent for it (creation, then each
    PATCH), before the fake filled in Discord's defaults.
    """

    id: int
    channel_id: int
    guild_id: int | None
    author: FakeUser
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[tuple[str, bytes]] = field(default_factory=list)
    attachment_payloads: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    allowed_mentions: dict[str, Any] | None = None
    nonce: str | int | None = None
    tts: bool = False
    type: int = 0
    message_reference: dict[str, Any] | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_id: int | None = None
    interaction_metadata: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    created_at: float = field(default_factory=time.time)
    edited_at: float | None = None
    edits: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def loading(self) -> bool:
        """True while this is a deferred "Bot is thinking…" placeholder."""
        return bool(self.flags & FLAG_LOADING)

    def embed_text(self) -> str:
        """All human-readable embed text, one piece a line, for easy ``in`` assertions."""
        parts: list[str] = []
        for embed in self.embeds:
            author = embed.get("author") or {}
            parts.extend(
                str(x)
                for x in (author.get("name"), embed.get("title"), embed.get("description"))
                if x
            )
            for f in embed.get("fields") or []:
                parts.extend(str(x) for x in (f.get("name"), f.get("value")) if x)
            footer = embed.get("footer") or {}
            if footer.get("text"):
                parts.append(str(footer["text"]))
        return "\n".join(parts)

    def text(self) -> str:
        """Content plus embed text: everything a reader sees."""
        return "\n".join(p for p in (self.content, self.embed_text()) if p)

    def iter_components(self) -> Iterator[dict[str, Any]]:
        """Every component, depth first (rows, sections, containers and labels opened)."""
        return iter_components(self.components)

    def payload(self, *, with_nonce: bool = True) -> dict[str, Any]:
        """The message object Discord returns and embeds in component interactions.

        The answer to a create and MESSAGE_CREATE carry the ``nonce``; fetched
        messages (history, GET) do not, so ``with_nonce=False`` for those.
        """
        data: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "author": self.author.payload(),
            "content": self.content,
            "timestamp": iso(self.created_at),
            "edited_timestamp": iso(self.edited_at) if self.edited_at else None,
            "tts": self.tts,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "mention_channels": [],
            "attachments": list(self.attachment_payloads),
            "embeds": list(self.embeds),
            "reactions": [],
            "pinned": False,
            "type": self.type,
            "flags": self.flags,
            "components": list(self.components),
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if with_nonce and self.nonce is not None:
            data["nonce"] = self.nonce
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            data["application_id"] = str(self.application_id)
        if self.message_reference is not None:
            data["message_reference"] = self.message_reference
        if self.interaction_metadata is not None:
            data["interaction_metadata"] = self.interaction_metadata
        return data

    def __repr__(self) -> str:
        flags = " ephemeral" if self.ephemeral else ""
        return (
            f"<FakeMessage id={self.id} channel={self.channel_id}{flags} content={self.content!r}>"
        )


def iter_components(components: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Walk message or modal components depth first, into every container kind."""
    for component in components:
        yield component
        children = list(component.get("components") or [])
        if component.get("accessory"):
            children.append(component["accessory"])
        if component.get("component"):
            children.append(component["component"])
        yield from iter_components(children)

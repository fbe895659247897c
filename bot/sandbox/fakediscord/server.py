"""``FakeDiscord``: an in-process Discord (REST + gateway) for the sandbox and the tests.

Scope: what a slash-command bot built on discord.py 2.7 touches. Login
(``/users/@me``, ``/oauth2/applications/@me``), ``/gateway/bot``, the gateway
(HELLO, IDENTIFY, READY, GUILD_CREATE, RESUME, heartbeats, sharding by
Discord's ``(guild_id >> 22) % shard_count``), command sync, interaction
callbacks and followup webhooks, channel messages (JSON and multipart),
channel history, DMs and guild scheduled events. Everything else is answered
404 and recorded in ``unexpected``, so a test notices when the bot starts
using a route the fake does not model.

The fake also behaves like Discord where a bot most often goes wrong, so tests
catch it: a callback after ``interaction_timeout`` seconds (3 s on Discord) or
a second callback is rejected with Discord's errors and recorded in
``protocol_errors``, and so is a followup or webhook edit after the token's
15 minutes (401, 50027); message, nonce, modal, autocomplete and
command-schema limits are enforced with 400 "Invalid Form Body"; the bot
needs View Channel and Send Messages to post; ``enforce_nonce`` returns the
earlier message only for ``nonce_memory`` seconds. Rate limits are Discord's
by default (``ratelimits.py``: 50 requests/s globally, interaction endpoints
exempt; 5 messages per 5 s per channel, DMs included; the full header set;
429s with ``Via`` so discord.py retries them), recorded in
``rate_limit_hits``; ``RateLimits.off()`` turns them off. Faults can be
injected per channel: ``fail_channel`` (403/404/429/500), ``limit_channel``
(a tighter bucket) and ``slow_channel`` (late answers). Every duration runs on
the injectable ``clock``.

The limit checks live in ``validation.py``, the entities in ``models.py``,
the interaction records and option building in ``interactions.py``, rate
limits in ``ratelimits.py``, nonces in ``nonces.py``, history pages in
``history.py``, scheduled events in ``scheduled_events.py``.

Not modelled: presences, voice, threads, reactions, channel permission
overwrites, per-route limits other than message
creation (webhooks, edits, deletes, scheduled events), the invalid-request
limit (10,000 per 10 minutes). Replies are JSON with ``Content-Type:
application/json`` exactly: discord.py only parses bodies whose content type
is exactly that string (``replies.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import re
import secrets
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from .clock import Clock
from .history import history_page
from .interactions import (
    ALLOWED_CALLBACKS,
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    AUTOCOMPLETE_RESULT,
    BUTTON,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    LINK_STYLE,
    MESSAGE_COMPONENT,
    MODAL,
    MODAL_SUBMIT,
    PREMIUM_STYLE,
    UPDATE_MESSAGE,
    FakeInteraction,
    FakeResponse,
    OptionBuilder,
    ProtocolError,
    check_choices,
    find_command,
    find_component,
    modal_submission,
    nest_options,
    select_values,
)
from .models import (
    ADMINISTRATOR,
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    DM,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    FakeChannel,
    FakeGuild,
    FakeMessage,
    FakeUser,
    SnowflakeFactory,
)
from .nonces import DEFAULT_NONCE_MEMORY, NonceMemory, nonce_problems
from .ratelimits import (
    MESSAGE_CREATE,
    Bucket,
    RateLimiter,
    RateLimitHit,
    RateLimits,
    Scope,
    too_many_requests,
)
from .replies import ApiError, json_reply, no_content
from .scheduled_events import FakeScheduledEvent, ScheduledEventRoutes
from .validation import command_problems, form_errors, message_errors, modal_problems

log = logging.getLogger(__name__)

DEFAULT_APP_ID = 1_310_000_000_000_000_001
DEFAULT_OWNER_ID = 1_310_000_000_000_000_002
DEFAULT_TOKEN = "fake-discord-bot-token"
API = "/api/v10"
HEARTBEAT_INTERVAL_MS = 41_250
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
#: Seconds an interaction token stays valid for followups and edits (Discord: 15 min).
INTERACTION_TOKEN_LIFETIME = 15 * 60.0

# Gateway intents the fake checks before sending an event.
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12

# Message flags a bot may set on creation, and may change on edit.
CREATE_FLAGS = (1 << 2) | (1 << 6) | (1 << 12) | (1 << 15)  # suppress embeds, ephemeral, silent, v2
EDIT_FLAGS = (1 << 2) | (1 << 15)

# Message types.
MSG_DEFAULT, MSG_REPLY, MSG_CHAT_INPUT = 0, 19, 20

Handler = Callable[..., Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class _Route:
    """A REST route: bot routes need ``Authorization: Bot``; ``bucket`` names a route limit.

    Routes without bot auth are the interaction endpoints (they carry their
    token in the path) and the attachment CDN: no global limit applies to them.
    """

    method: str
    pattern: re.Pattern[str]
    handler: Handler
    needs_auth: bool
    bucket: str | None = None


def _own_copy(limits: RateLimits | None) -> RateLimits:
    """The limits to enforce (Discord's when None), with a channel table of the fake's own."""
    if limits is None:
        return RateLimits()
    return dataclasses.replace(limits, channels=dict(limits.channels))


@dataclass
class FakeRequest:
    """One HTTP request the fake served (``status`` filled in once answered)."""

    method: str
    path: str
    query: dict[str, str]
    status: int = 0


@dataclass
class _Fault:
    status: int
    times: int
    retry_after: float


@dataclass(eq=False)
class _Connection:
    """One gateway websocket; frames go out through a queue to keep their order."""

    ws: web.WebSocketResponse
    outbox: asyncio.Queue[dict[str, Any] | None] = field(default_factory=asyncio.Queue)
    session: _Session | None = None
    server_closed: bool = False
    #: (sequence, future) pairs resolved once the client heartbeats that sequence.
    barriers: list[tuple[int, asyncio.Future[None]]] = field(default_factory=list)

    def send(self, frame: dict[str, Any]) -> None:
        self.outbox.put_nowait(frame)

    def heartbeat_received(self, seq: int | None) -> None:
        """A heartbeat carries the last sequence the client *processed*: release barriers."""
        pending = []
        for wanted, future in self.barriers:
            if seq is not None and seq >= wanted:
                if not future.done():
                    future.set_result(None)
            else:
                pending.append((wanted, future))
        self.barriers = pending

    async def write_loop(self) -> None:
        while (frame := await self.outbox.get()) is not None:
            try:
                await self.ws.send_str(json.dumps(frame))
            except (ConnectionError, RuntimeError):
                return


@dataclass(eq=False)
class _Session:
    """A gateway session: survives its socket so a RESUME can replay missed events."""

    id: str
    shard_id: int
    shard_count: int
    intents: int
    seq: int = 0
    conn: _Connection | None = None
    valid: bool = True
    history: list[dict[str, Any]] = field(default_factory=list)

    def covers(self, guild_id: int | None) -> bool:
        if guild_id is None:
            return self.shard_id == 0
        return (guild_id >> 22) % self.shard_count == self.shard_id

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        self.seq += 1
        frame = {"op": 0, "t": event, "s": self.seq, "d": data}
        self.history.append(frame)
        del self.history[:-1000]
        if self.conn is not None:
            self.conn.send(frame)


class FakeDiscord:
    """A local Discord for one test module; see the module docstring for its scope.

    ``limits`` are the rate limits enforced: Discord's (``RateLimits()``) by
    default, so a bot that bursts waits here as it would on Discord (the whole
    suite stays green with them, a few seconds slower); ``RateLimits.off()``
    for none, e.g. in a benchmark of the bot's own overhead. ``clock`` (monotonic seconds)
    times every duration Discord enforces and ``wall_clock`` (POSIX seconds)
    is "now" for timestamps; pass a ``ManualClock`` to move time by hand.
    ``nonce_memory`` is how many seconds a nonce is remembered for
    ``enforce_nonce`` (None or 0: never, a Discord that forgets).
    """

    def __init__(
        self,
        *,
        app_id: int = DEFAULT_APP_ID,
        bot_user_id: int | None = None,
        bot_name: str = "MAG Bot",
        token: str = DEFAULT_TOKEN,
        owner_id: int = DEFAULT_OWNER_ID,
        shard_count: int = 1,
        interaction_timeout: float = 3.0,
        interaction_token_lifetime: float = INTERACTION_TOKEN_LIFETIME,
        limits: RateLimits | None = None,
        nonce_memory: float | None = DEFAULT_NONCE_MEMORY,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        host: str = "127.0.0.1",
    ) -> None:
        self.snowflake = SnowflakeFactory()
        self.app_id = app_id
        self.token = token
        self.shard_count = shard_count
        self.clock = clock
        self.wall_clock = wall_clock
        #: Seconds within which the first callback must arrive (Discord: 3).
        self.interaction_timeout = interaction_timeout
        #: Seconds after which followups and webhook edits fail with 401 (Discord: 900).
        self.interaction_token_lifetime = interaction_token_lifetime
        self.rate_limiter = RateLimiter(_own_copy(limits), clock)
        #: Every 429 the fake sent (rate limits and injected ones), oldest first.
        self.rate_limit_hits: list[RateLimitHit] = []
        #: Seconds the waiting helpers wait by default (also for a bot connection).
        self.default_timeout = 10.0
        self.host = host
        self.port = 0
        self.bot_user = FakeUser(bot_user_id or app_id, bot_name, bot=True)
        self.owner = FakeUser(owner_id, "app-owner")
        self.users: dict[int, FakeUser] = {self.bot_user.id: self.bot_user, owner_id: self.owner}
        self.guilds: dict[int, FakeGuild] = {}
        self.interactions: list[FakeInteraction] = []
        #: (method, path) of every request to a route the fake does not implement.
        self.unexpected: list[tuple[str, str]] = []
        #: Everything the bot did that Discord would have rejected.
        self.protocol_errors: list[ProtocolError] = []
        self.requests: list[FakeRequest] = []
        #: The ``d`` of every IDENTIFY, and of every RESUME, in order.
        self.identifies: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self._channels: dict[int, FakeChannel] = {}
        self._dm_by_user: dict[int, int] = {}
        self._closed_dms: set[int] = set()
        self._messages: dict[int, FakeMessage] = {}
        self._channel_log: dict[int, list[FakeMessage]] = defaultdict(list)
        self._blobs: dict[int, tuple[str, bytes, str]] = {}
        self._nonces = NonceMemory(nonce_memory, clock)
        self._slow_channels: dict[int, float] = {}
        self._held_answers: dict[int, float] = {}
        self._commands: dict[int | None, list[dict[str, Any]]] = {}
        self._command_ids: dict[tuple[int | None, str, int], int] = {}
        self._ix_by_id: dict[int, FakeInteraction] = {}
        self._ix_by_token: dict[str, FakeInteraction] = {}
        self._sessions: list[_Session] = []
        self._connections: set[_Connection] = set()
        self._faults: dict[int, list[_Fault]] = defaultdict(list)
        self._event = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._scheduled_event_routes = ScheduledEventRoutes(self)
        self._routes = self._route_table()
        #: (guild id, command name) pairs a server admin opened to everyone.
        self.opened_commands: set[tuple[int, str]] = set()

    # == settings ===============================================================

    @property
    def limits(self) -> RateLimits:
        """The rate limits in force; assign new ones to change them mid-test."""
        return self.rate_limiter.limits

    @limits.setter
    def limits(self, limits: RateLimits) -> None:
        self.rate_limiter = RateLimiter(_own_copy(limits), self.clock)

    @property
    def nonce_memory(self) -> float | None:
        """Seconds a nonce is remembered for ``enforce_nonce``; None or 0 remembers none."""
        return self._nonces.seconds

    @nonce_memory.setter
    def nonce_memory(self, seconds: float | None) -> None:
        self._nonces.seconds = seconds

    # == lifecycle ==============================================================

    @property
    def url(self) -> str:
        """What the bot gets as ``DISCORD_API_URL``."""
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """What ``discord.http.Route.BASE`` must be."""
        return f"{self.url}{API}"

    @property
    def gateway_url(self) -> str:
        """What ``DiscordWebSocket.DEFAULT_GATEWAY`` must be (also READY's resume URL)."""
        return f"ws://{self.host}:{self.port}/gateway"

    @property
    def env(self) -> dict[str, str]:
        """Environment for a bot subprocess pointed at this fake."""
        return {"DISCORD_API_URL": self.url, "DISCORD_TOKEN": self.token}

    async def start(self) -> None:
        """Serve on ``host`` at a free port."""
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/{tail:.*}", self._dispatch_http)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, 0).start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Close every gateway socket (going away) and stop serving."""
        for conn in list(self._connections):
            conn.server_closed = True
            await conn.ws.close(code=1001, message=b"fake discord stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @contextlib.contextmanager
    def patch_discord(self) -> Iterator[None]:
        """Point discord.py (in this process) at the fake, restoring the real URLs after.

        A bot subprocess does the same from ``DISCORD_API_URL``; this is for
        in-process bots.
        """
        import discord.gateway
        import discord.http
        import yarl

        old_base = discord.http.Route.BASE
        old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = self.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            discord.http.Route.BASE = old_base
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    # == building the world ====================================================

    def add_user(self, user_id: int, name: str, *, bot: bool = False) -> FakeUser:
        """Create (or rename) a user who may not be in any guild (DM tests)."""
        user = self.users.get(user_id)
        if user is None:
            user = self.users[user_id] = FakeUser(user_id, name, bot=bot)
        else:
            user.username, user.bot = name, bot or user.bot
        return user

    def add_guild(
        self,
        guild_id: int,
        name: str = "MAG",
        owner_id: int | None = None,
        *,
        everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
        bot_permissions: int = DEFAULT_BOT_PERMISSIONS,
    ) -> FakeGuild:
        """Add a guild with @everyone, the bot (managed role) and its owner as members.

        Added while the bot is connected, it arrives as GUILD_CREATE (a join).
        """
        if guild_id in self.guilds:
            raise ValueError(f"guild {guild_id} already exists")
        owner_id = owner_id or self.owner.id
        guild = FakeGuild(
            self,
            guild_id,
            name,
            owner_id,
            everyone_permissions=everyone_permissions,
            bot_permissions=bot_permissions,
        )
        owner = self.users.get(owner_id)
        guild.add_member(owner_id, owner.username if owner else f"owner-{owner_id}")
        self.guilds[guild_id] = guild
        for session in self._sessions_for(guild_id):
            session.dispatch("GUILD_CREATE", guild.payload())
        return guild

    def open_command(self, guild_id: int, name: str) -> None:
        """Let everyone use ``/name`` in a guild, overriding its default permissions.

        Server admins can do this in Server Settings -> Integrations, so the
        bot must check permissions itself; this is how tests reach that check.
        """
        self.opened_commands.add((guild_id, name))

    def close_dms(self, user_id: int) -> None:
        """Make DMs to this user fail like a user who blocks DMs (403, code 50007)."""
        self._closed_dms.add(user_id)

    def fail_channel(
        self, channel_id: int, status: int = 403, times: int = 1, *, retry_after: float = 0.05
    ) -> None:
        """Make the next ``times`` message writes in a channel fail with ``status``.

        403: Missing Permissions (50013); 404: Unknown Channel (10003); 429: a
        per-route rate limit discord.py retries after ``retry_after`` (full
        header set, ``Via`` header); 500: Internal Server Error (discord.py
        retries after 1 s, 3 s…).
        """
        if status not in (403, 404, 429, 500):
            raise ValueError("status must be 403, 404, 429 or 500")
        self._faults[channel_id].append(_Fault(status, times, retry_after))

    def limit_channel(
        self, channel_id: int, limit: int | None, per: float = 5.0, *, scope: Scope = "user"
    ) -> None:
        """Limit message creation in one channel to ``limit`` per ``per`` seconds.

        Applies whatever the default limits are (also with ``RateLimits.off()``);
        ``scope="shared"`` answers as a limit on the channel for everyone.
        ``limit`` None gives the channel the default bucket back.
        """
        if limit is None:
            self.limits.channels.pop(channel_id, None)
        else:
            self.limits.channels[channel_id] = Bucket(limit, per, scope)
        self.rate_limiter.forget(MESSAGE_CREATE, channel_id)

    def slow_channel(self, channel_id: int, seconds: float) -> None:
        """Make message creation in one channel answer ``seconds`` late (0: on time again).

        The delay comes before the fake handles the request, like a slow
        Discord: the message exists only once the answer is on its way.
        """
        if seconds < 0:
            raise ValueError("a delay cannot be negative")
        if seconds:
            self._slow_channels[channel_id] = seconds
        else:
            self._slow_channels.pop(channel_id, None)

    def hold_answers(self, channel_id: int, seconds: float) -> None:
        """Make message creation in one channel answer ``seconds`` after the message exists.

        Unlike ``slow_channel`` the message is posted (and seen by everyone)
        first; a client that dies meanwhile never learns that it was: the
        window in which a sender crashes "between post and record".
        """
        if seconds < 0:
            raise ValueError("a delay cannot be negative")
        if seconds:
            self._held_answers[channel_id] = seconds
        else:
            self._held_answers.pop(channel_id, None)

    def _register_channel(self, channel: FakeChannel) -> None:
        self._channels[channel.id] = channel

    def _sessions_for(self, guild_id: int | None) -> list[_Session]:
        return [s for s in self._sessions if s.valid and s.covers(guild_id)]

    def _guild_event(
        self, guild: FakeGuild, event: str, data: dict[str, Any], *, intent: int = INTENT_GUILDS
    ) -> None:
        """Tell connected sessions about a change to a guild they already know."""
        if self.guilds.get(guild.id) is not guild:
            return  # still being built: its GUILD_CREATE will carry the change
        for session in self._sessions_for(guild.id):
            if session.intents & intent:
                session.dispatch(event, data)

    # == inspection and waiting ================================================

    def _changed(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def _wait_until(
        self,
        predicate: Callable[[], Any],
        timeout: float | None,
        what: str,
    ) -> Any:
        loop = asyncio.get_running_loop()
        timeout = self.default_timeout if timeout is None else timeout
        deadline = loop.time() + timeout
        while not (result := predicate()):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            event = self._event
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)
        return result

    def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """The registered command schema (global if ``guild_id`` is None)."""
        return list(self._commands.get(guild_id, []))

    async def wait_for_commands(
        self,
        guild_id: int | None = None,
        timeout: float = 20.0,
    ) -> list[dict[str, Any]]:
        """Wait until the bot bulk-overwrote the commands of that scope; return them."""
        scope = "global" if guild_id is None else f"guild {guild_id}"
        await self._wait_until(lambda: guild_id in self._commands, timeout, f"{scope} command sync")
        return self.commands(guild_id)

    async def wait_connected(self, timeout: float | None = None, *, identifies: int = 1) -> None:
        """Wait for ``identifies`` IDENTIFYs and a live session on every shard."""

        def ready() -> bool:
            if len(self.identifies) < identifies or not self._sessions:
                return False
            count = self._sessions[-1].shard_count
            live = {
                s.shard_id for s in self._sessions if s.valid and s.conn and s.shard_count == count
            }
            return live == set(range(count))

        await self._wait_until(ready, timeout, f"{identifies} IDENTIFY(s) and live shards")

    @property
    def sessions(self) -> list[dict[str, Any]]:
        """Gateway sessions so far: id, shard, valid, connected, seq."""
        return [
            {
                "id": s.id,
                "shard": [s.shard_id, s.shard_count],
                "valid": s.valid,
                "connected": s.conn is not None,
                "seq": s.seq,
            }
            for s in self._sessions
        ]

    def channel_messages(
        self, channel_id: int, *, include_ephemeral: bool = False
    ) -> list[FakeMessage]:
        """Messages currently in a channel, oldest first (deleted ones removed)."""
        return [
            m
            for m in self._channel_log.get(channel_id, [])
            if not m.deleted and (include_ephemeral or not m.ephemeral)
        ]

    def dm_messages(self, user_id: int) -> list[FakeMessage]:
        """Messages the bot sent to a user's DM channel, oldest first."""
        channel_id = self._dm_by_user.get(user_id)
        return [] if channel_id is None else self.channel_messages(channel_id)

    def message(self, message_id: int) -> FakeMessage:
        """Any message the fake stored (deleted ones too), by id."""
        return self._messages[message_id]

    def all_messages(self) -> list[FakeMessage]:
        """Every message the fake stored, in every channel and DM, oldest first.

        Ephemeral, deferred ("thinking…") and deleted ones included: a viewer
        such as the sandbox's terminal decides what a user would see.
        """
        return list(self._messages.values())

    def dm_recipient(self, channel_id: int) -> FakeUser | None:
        """The user a DM channel belongs to, or None for a guild channel."""
        channel = self._channels.get(channel_id)
        if channel is None or channel.type != DM or not channel.recipients:
            return None
        return channel.recipients[0]

    def scheduled_events(self, guild_id: int) -> list[FakeScheduledEvent]:
        """A guild's scheduled events (deleted ones gone), oldest first."""
        return list(self.guilds[guild_id].scheduled_events.values())

    async def changed(self, timeout: float | None = None) -> bool:
        """Wait until anything changes (a message, an answer, a connection); False on timeout."""
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def wait_for_message(
        self,
        channel_id: int,
        predicate: Callable[[FakeMessage], bool] | None = None,
        timeout: float | None = None,
    ) -> FakeMessage:
        """Wait for a (non-ephemeral) message in a channel matching ``predicate``."""
        return await self._wait_for_first(
            lambda: self.channel_messages(channel_id),
            predicate,
            timeout,
            f"a message in {channel_id}",
        )

    async def wait_for_dm(
        self,
        user_id: int,
        predicate: Callable[[FakeMessage], bool] | None = None,
        timeout: float | None = None,
    ) -> FakeMessage:
        """Wait for a DM to ``user_id`` matching ``predicate``."""
        return await self._wait_for_first(
            lambda: self.dm_messages(user_id), predicate, timeout, f"a DM to {user_id}"
        )

    async def _wait_for_first(
        self,
        messages: Callable[[], list[FakeMessage]],
        predicate: Callable[[FakeMessage], bool] | None,
        timeout: float | None,
        what: str,
    ) -> FakeMessage:
        """Wait until ``messages()`` holds one matching ``predicate``; return the first."""

        def find() -> FakeMessage | None:
            return next((m for m in messages() if predicate is None or predicate(m)), None)

        message: FakeMessage = await self._wait_until(find, timeout, what)
        return message

    def assert_clean(self) -> None:
        """Fail if the bot used an unimplemented route or broke Discord's protocol."""
        problems = [f"unexpected route {m} {p}" for m, p in self.unexpected]
        problems += [
            f"{e.kind}: {e.method} {e.path} -> {e.status} {e.message}" for e in self.protocol_errors
        ]
        if problems:
            raise AssertionError("the fake saw problems:\n" + "\n".join(problems))

    async def flush_gateway(self, timeout: float | None = None) -> None:
        """Wait until every connected client has processed every event sent so far.

        The fake asks for a heartbeat (op 1); discord.py answers with the last
        sequence it handled, and its event parsers run before that answer, so
        the bot's cache reflects e.g. a GUILD_CREATE or GUILD_ROLE_UPDATE after this.
        """
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[None]] = []
        for conn in list(self._connections):
            if conn.session is None or conn.session.conn is not conn or not conn.session.seq:
                continue
            future: asyncio.Future[None] = loop.create_future()
            conn.barriers.append((conn.session.seq, future))
            conn.send({"op": 1, "s": None, "t": None, "d": None})
            futures.append(future)
        if futures:
            timeout = self.default_timeout if timeout is None else timeout
            try:
                await asyncio.wait_for(asyncio.gather(*futures), timeout)
            except TimeoutError:
                raise AssertionError(
                    f"a gateway client did not catch up within {timeout}s"
                ) from None

    async def disconnect_all(self, code: int = 4000) -> int:
        """Close every gateway socket from the server side; sessions stay resumable.

        Returns how many sockets were closed. discord.py reconnects and RESUMEs.
        """
        conns = list(self._connections)
        for conn in conns:
            conn.server_closed = True
            if conn.session is not None and conn.session.conn is conn:
                conn.session.conn = None  # from now on events wait for the RESUME
        for conn in conns:
            await conn.ws.close(code=code, message=b"fake discord disconnect")
        self._changed()
        return len(conns)

    # == injecting interactions ================================================

    def _locate(
        self, guild_id: int | None, channel_id: int, user_id: int
    ) -> tuple[FakeGuild | None, FakeChannel]:
        if guild_id is None:
            channel = self._channels.get(channel_id)
            if channel is None or channel.type != DM:
                user = self.users.get(user_id)
                if user is None:
                    raise AssertionError(f"user {user_id} is unknown to the fake")
                channel = self._dm_channel(user)
            return None, channel
        guild = self.guilds.get(guild_id)
        if guild is None:
            raise AssertionError(f"guild {guild_id} does not exist in the fake")
        channel = guild.channels.get(channel_id)
        if channel is None or not channel.can_hold_messages:
            raise AssertionError(f"channel {channel_id} is not a text channel of {guild!r}")
        if user_id not in guild.members:
            raise AssertionError(f"user {user_id} is not a member of {guild!r}")
        return guild, channel

    def _dm_channel(self, user: FakeUser) -> FakeChannel:
        channel_id = self._dm_by_user.get(user.id)
        if channel_id is None:
            channel = FakeChannel(self.snowflake(), "", DM, recipients=[user])
            self._channels[channel.id] = channel
            self._dm_by_user[user.id] = channel.id
            return channel
        return self._channels[channel_id]

    def _interaction_payload(
        self,
        ix_id: int,
        token: str,
        type: int,
        guild: FakeGuild | None,
        channel: FakeChannel,
        user_id: int,
        data: dict[str, Any],
        message: FakeMessage | None,
    ) -> dict[str, Any]:
        """The INTERACTION_CREATE ``d``: every key discord.py's Interaction reads."""
        payload: dict[str, Any] = {
            "id": str(ix_id),
            "application_id": str(self.app_id),
            "type": type,
            "token": token,
            "version": 1,
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "data": data,
            "channel_id": str(channel.id),
            "locale": self.users[user_id].locale if user_id in self.users else "en-US",
            "entitlements": [],
            "entitlement_sku_ids": [],
        }
        if guild is not None:
            member = guild.members[user_id]
            payload.update(
                guild_id=str(guild.id),
                guild=guild.partial_payload(),
                guild_locale=guild.locale,
                member=member.payload(with_user=True, with_permissions=True),
                channel=guild.resolved_channel(channel, user_id),
                app_permissions=str(guild.bot_permissions),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
        else:
            payload.update(
                user=self.users[user_id].payload(),
                channel=channel.payload(),
                app_permissions=str(DEFAULT_BOT_PERMISSIONS),
                authorizing_integration_owners={"0": str(user_id)},
                context=1,
            )
        if message is not None:
            payload["message"] = message.payload()
        return payload

    async def _dispatch_interaction(
        self,
        type: int,
        guild: FakeGuild | None,
        channel: FakeChannel,
        user_id: int,
        data: dict[str, Any],
        *,
        name: str,
        message: FakeMessage | None = None,
        parent: FakeInteraction | None = None,
    ) -> FakeInteraction:
        """Send INTERACTION_CREATE to the newest session owning the guild's shard."""
        guild_id = guild.id if guild else None

        def newest() -> _Session | None:
            sessions = self._sessions_for(guild_id)
            return sessions[-1] if sessions else None

        session: _Session = await self._wait_until(
            newest, None, f"a gateway session for guild {guild_id}"
        )
        ix_id, token = self.snowflake(), "fake." + secrets.token_urlsafe(32)
        payload = self._interaction_payload(
            ix_id, token, type, guild, channel, user_id, data, message
        )
        ix = FakeInteraction(
            self,
            id=ix_id,
            token=token,
            type=type,
            guild_id=guild_id,
            channel_id=channel.id,
            user_id=user_id,
            name=name,
            payload=payload,
            message=message,
            parent=parent,
        )
        self.interactions.append(ix)
        self._ix_by_id[ix_id] = ix
        self._ix_by_token[token] = ix
        ix.created = self.clock()
        session.dispatch("INTERACTION_CREATE", payload)
        return ix

    def _check_can_use(
        self, command: dict[str, Any], guild: FakeGuild | None, user_id: int
    ) -> None:
        """Refuse invocations Discord's client would not offer (permissions, contexts)."""
        name = command["name"]
        contexts = command.get("contexts")
        if guild is None:
            if command.get("guild_id") or command.get("dm_permission") is False:
                raise AssertionError(f"/{name} is not available in DMs")
            if contexts is not None and 1 not in contexts:
                raise AssertionError(f"/{name} is not available in DMs (contexts {contexts})")
            return
        if contexts is not None and 0 not in contexts:
            raise AssertionError(f"/{name} is not available in guilds (contexts {contexts})")
        required = command.get("default_member_permissions")
        if required is not None and (guild.id, name) not in self.opened_commands:
            needed = int(required)
            have = guild.permissions_of(user_id)
            if not have & ADMINISTRATOR and have & needed != needed:
                raise AssertionError(
                    f"Discord hides /{name} from user {user_id}: it needs permissions "
                    f"{needed:#x}, the user has {have:#x}"
                )

    async def run_command(
        self, guild_id: int | None, channel_id: int, user_id: int, path: str, /, **options: Any
    ) -> FakeInteraction:
        """Invoke a slash command as ``user_id`` would, e.g. ``"config channel"``.

        Options are checked against the registered schema and sent the way
        Discord sends them (snowflakes as strings, subcommands nested, resolved
        users/members/channels/roles). ``guild_id`` None invokes it in the user's DM.
        """
        guild, channel = self._locate(guild_id, channel_id, user_id)
        top, chain, leaf = find_command(self._visible_commands(guild_id), path)
        self._check_can_use(top, guild, user_id)
        builder = OptionBuilder(self, guild, user_id, path)
        leaf_options = builder.build(leaf.get("options") or [], options)
        data: dict[str, Any] = {
            "id": top["id"],
            "name": top["name"],
            "type": 1,
            "options": nest_options(chain, leaf_options),
        }
        if "guild_id" in top:
            data["guild_id"] = top["guild_id"]
        if builder.resolved:
            data["resolved"] = builder.resolved
        return await self._dispatch_interaction(
            APPLICATION_COMMAND, guild, channel, user_id, data, name=path
        )

    async def autocomplete(
        self,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        path: str,
        /,
        *,
        focused: str,
        **options: Any,
    ) -> list[dict[str, Any]]:
        """Send an autocomplete (type 4) for option ``focused``; return the choices offered."""
        guild, channel = self._locate(guild_id, channel_id, user_id)
        top, chain, leaf = find_command(self._visible_commands(guild_id), path)
        self._check_can_use(top, guild, user_id)
        builder = OptionBuilder(self, guild, user_id, path)
        given = {focused: "", **options}
        leaf_options = builder.build(leaf.get("options") or [], given, focused=focused)
        data: dict[str, Any] = {
            "id": top["id"],
            "name": top["name"],
            "type": 1,
            "options": nest_options(chain, leaf_options),
        }
        if "guild_id" in top:
            data["guild_id"] = top["guild_id"]
        ix = await self._dispatch_interaction(
            AUTOCOMPLETE, guild, channel, user_id, data, name=path
        )
        response = await ix.wait_callback(self.default_timeout)
        if not response.accepted or ix.choices is None:
            raise AssertionError(f"autocomplete was not answered with choices:\n{ix.describe()}")
        return ix.choices

    def _visible_commands(self, guild_id: int | None) -> list[dict[str, Any]]:
        guild_commands = self._commands.get(guild_id, []) if guild_id is not None else []
        return [*guild_commands, *self._commands.get(None, [])]

    async def click(
        self,
        message: FakeMessage | int,
        label_or_custom_id: str,
        user_id: int,
        guild_id: int | None = None,
        *,
        values: Sequence[Any] | None = None,
    ) -> FakeInteraction:
        """Click a button (or choose ``values`` in a select) on a message the bot sent."""
        msg = self._messages[message] if isinstance(message, int) else message
        msg = self._messages.get(msg.id, msg)
        if msg.deleted:
            raise AssertionError(f"{msg!r} was deleted: nobody can click on it")
        if msg.ephemeral and msg.interaction_id is not None:
            owner = self._ix_by_id[msg.interaction_id].user_id
            if owner != user_id:
                raise AssertionError(f"{msg!r} is ephemeral: only user {owner} sees it")
        component = find_component(msg, label_or_custom_id)
        if component.get("disabled"):
            raise AssertionError(f"component {label_or_custom_id!r} is disabled")
        guild, channel = self._locate(
            guild_id if guild_id is not None else msg.guild_id, msg.channel_id, user_id
        )
        data: dict[str, Any] = {
            "custom_id": component.get("custom_id"),
            "component_type": component["type"],
        }
        if component["type"] == BUTTON:
            if component.get("style") in (LINK_STYLE, PREMIUM_STYLE) or not component.get(
                "custom_id"
            ):
                raise AssertionError(
                    f"button {label_or_custom_id!r} is a link: it sends no interaction"
                )
            if values is not None:
                raise AssertionError("values= is for select menus")
        else:
            builder = OptionBuilder(self, guild, user_id, component.get("custom_id", ""))
            data["values"] = select_values(component, values, builder)
            if builder.resolved:
                data["resolved"] = builder.resolved
        return await self._dispatch_interaction(
            MESSAGE_COMPONENT, guild, channel, user_id, data, name=data["custom_id"], message=msg
        )

    async def submit_modal(
        self, ix: FakeInteraction, values: Mapping[str, Any], user_id: int | None = None
    ) -> FakeInteraction:
        """Submit the modal ``ix`` was answered with; ``values`` maps field custom_id to value."""
        if ix.modal is None:
            raise AssertionError(f"the interaction was not answered with a modal:\n{ix.describe()}")
        user_id = user_id or ix.user_id
        guild, channel = self._locate(ix.guild_id, ix.channel_id, user_id)
        builder = OptionBuilder(self, guild, user_id, ix.modal.get("custom_id", ""))
        data: dict[str, Any] = {
            "custom_id": ix.modal["custom_id"],
            "components": modal_submission(ix.modal, values, builder),
        }
        if builder.resolved:
            data["resolved"] = builder.resolved
        return await self._dispatch_interaction(
            MODAL_SUBMIT,
            guild,
            channel,
            user_id,
            data,
            name=ix.modal["custom_id"],
            message=ix.message if ix.type == MESSAGE_COMPONENT else None,
            parent=ix,
        )

    # == gateway ===============================================================

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = _Connection(ws)
        self._connections.add(conn)
        writer = asyncio.create_task(conn.write_loop())
        conn.send(
            {"op": 10, "s": None, "t": None, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}}
        )
        try:
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.TEXT:
                    await self._on_frame(conn, json.loads(msg.data))
                else:
                    await ws.close(code=4002, message=b"decode error")
        finally:
            self._connections.discard(conn)
            session = conn.session
            if session is not None and session.conn is conn:
                session.conn = None
                # A client closing with 1000/1001 ends its session, as on Discord.
                if not conn.server_closed and ws.close_code in (1000, 1001):
                    session.valid = False
            conn.outbox.put_nowait(None)
            await writer
            self._changed()
        return ws

    async def _on_frame(self, conn: _Connection, frame: dict[str, Any]) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op == 1:
            conn.heartbeat_received(data if isinstance(data, int) else None)
            conn.send({"op": 11, "s": None, "t": None, "d": None})
        elif op == 2:
            if conn.session is not None:
                await conn.ws.close(code=4005, message=b"Already authenticated.")
                return
            self._identify(conn, data or {})
        elif op == 6:
            self._resume(conn, data or {})
        elif conn.session is None:
            await conn.ws.close(code=4003, message=b"Not authenticated.")
        elif op == 8:
            self._request_members(conn.session, data or {})
        elif op in (3, 4):
            pass  # presence and voice state updates: accepted, not modelled
        else:
            await conn.ws.close(code=4001, message=b"Unknown opcode.")

    def _identify(self, conn: _Connection, data: dict[str, Any]) -> None:
        self.identifies.append(data)
        shard_id, shard_count = data.get("shard") or [0, 1]
        session = _Session(
            secrets.token_hex(16), shard_id, shard_count, int(data.get("intents", 0))
        )
        self._sessions.append(session)
        session.conn, conn.session = conn, session
        guilds = [g for g in self.guilds.values() if session.covers(g.id)]
        session.dispatch(
            "READY",
            {
                "v": 10,
                "user": {**self.bot_user.payload(), "verified": True, "mfa_enabled": False},
                "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
                "session_id": session.id,
                "session_type": "normal",
                "resume_gateway_url": self.gateway_url,
                "shard": [shard_id, shard_count],
                "application": {"id": str(self.app_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "guild_join_requests": [],
                "geo_ordered_rtc_regions": [],
                "user_settings": {},
                "auth": {},
            },
        )
        for guild in guilds:
            session.dispatch("GUILD_CREATE", guild.payload())
        self._changed()

    def _resume(self, conn: _Connection, data: dict[str, Any]) -> None:
        self.resumes.append(data)
        session = next(
            (s for s in self._sessions if s.id == data.get("session_id") and s.valid), None
        )
        seen = data.get("seq") or 0
        if session is None or (session.history and seen < session.history[0]["s"] - 1):
            # Unknown, ended, or too far behind to replay: the client must IDENTIFY.
            conn.send({"op": 9, "s": None, "t": None, "d": False})
            return
        if session.conn is not None and session.conn is not conn:
            old = session.conn
            old.server_closed = True
            asyncio.get_running_loop().create_task(old.ws.close(code=4000))
        session.conn, conn.session = conn, session
        for frame in session.history:
            if frame["s"] > seen:
                conn.send(frame)
        session.dispatch("RESUMED", {})
        self._changed()

    def _request_members(self, session: _Session, data: dict[str, Any]) -> None:
        guild = self.guilds.get(int(data.get("guild_id", 0)))
        if guild is None:
            return
        query = (data.get("query") or "").lower()
        members = [
            m.payload()
            for m in guild.members.values()
            if m.user.username.lower().startswith(query)
            or int(m.id) in {int(u) for u in data.get("user_ids") or []}
        ]
        limit = data.get("limit") or 0
        chunk: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": members[:limit] if limit else members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        session.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    # == HTTP plumbing =========================================================

    def _route_table(self) -> list[_Route]:
        """Every REST route the fake serves; webhook and callback routes carry their token."""

        def sid(name: str) -> str:
            return rf"(?P<{name}>\d+)"

        app = f"/applications/{sid('app_id')}"
        guild = f"/guilds/{sid('guild_id')}"
        channel = f"/channels/{sid('channel_id')}"
        message = f"{channel}/messages/{sid('message_id')}"
        webhook = f"/webhooks/{sid('app_id')}/(?P<token>[^/]+)"
        webhook_message = rf"{webhook}/messages/(?P<ref>@original|\d+)"
        callback = f"/interactions/{sid('interaction_id')}/(?P<token>[^/]+)/callback"
        events = f"{guild}/scheduled-events"
        event = f"{events}/{sid('event_id')}"
        scheduled = self._scheduled_event_routes
        table: list[tuple[str, str, Handler, bool]] = [
            ("GET", "/gateway", self._get_gateway, True),
            ("GET", "/gateway/bot", self._get_gateway_bot, True),
            ("GET", "/users/@me", self._get_me, True),
            ("POST", "/users/@me/channels", self._create_dm, True),
            ("GET", f"/users/{sid('user_id')}", self._get_user, True),
            ("GET", "/oauth2/applications/@me", self._get_application, True),
            ("GET", "/applications/@me", self._get_application, True),
            ("GET", f"{app}/commands", self._get_commands, True),
            ("PUT", f"{app}/commands", self._put_commands, True),
            ("GET", f"{app}{guild}/commands", self._get_commands, True),
            ("PUT", f"{app}{guild}/commands", self._put_commands, True),
            ("POST", callback, self._callback, False),
            ("POST", webhook, self._followup, False),
            ("GET", webhook_message, self._webhook_get, False),
            ("PATCH", webhook_message, self._webhook_edit, False),
            ("DELETE", webhook_message, self._webhook_delete, False),
            ("GET", channel, self._get_channel, True),
            ("GET", f"{channel}/messages", self._get_channel_messages, True),
            ("POST", f"{channel}/messages", self._post_channel_message, True),
            ("GET", message, self._get_channel_message, True),
            ("PATCH", message, self._edit_channel_message, True),
            ("DELETE", message, self._delete_channel_message, True),
            ("GET", guild, self._get_guild, True),
            ("GET", f"{guild}/channels", self._get_guild_channels, True),
            ("GET", f"{guild}/roles", self._get_guild_roles, True),
            ("GET", f"{guild}/members/{sid('user_id')}", self._get_member, True),
            ("GET", events, scheduled.list_events, True),
            ("POST", events, scheduled.create_event, True),
            ("GET", event, scheduled.get_event, True),
            ("PATCH", event, scheduled.modify_event, True),
            ("DELETE", event, scheduled.delete_event, True),
        ]
        buckets = {("POST", f"{channel}/messages"): MESSAGE_CREATE}
        routes = [
            _Route(m, re.compile(f"{API}{p}"), h, auth, buckets.get((m, p)))
            for m, p, h, auth in table
        ]
        attachment = re.compile(r"/attachments/\d+/(?P<attachment_id>\d+)/[^/]+")
        routes.append(_Route("GET", attachment, self._get_attachment, False))
        return routes

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        record = FakeRequest(request.method, request.path, dict(request.query))
        self.requests.append(record)
        response = await handler(request)
        record.status = response.status
        return response

    async def _dispatch_http(self, request: web.Request) -> web.StreamResponse:
        for route in self._routes:
            match = route.pattern.fullmatch(request.path)
            if match is None or route.method != request.method:
                continue
            if route.needs_auth and not request.headers.get("Authorization", "").startswith("Bot "):
                return self._error(request, 401, 0, "401: Unauthorized", kind="unauthorized")
            return await self._call_limited(request, route, match.groupdict())
        self.unexpected.append((request.method, request.path))
        log.warning("fake discord: unexpected %s %s", request.method, request.path)
        return json_reply({"message": "404: Not Found", "code": 0}, 404)

    async def _call_limited(
        self, request: web.Request, route: _Route, params: dict[str, str]
    ) -> web.StreamResponse:
        """Run a route's handler within the global limit and the route's bucket.

        Bot routes count against the global limit; a route with a bucket
        counts per channel and carries the bucket's headers on every answer.
        A request refused with 429 (also an injected one) is not counted.
        """
        if route.needs_auth and (retry_after := self.rate_limiter.take_global()) is not None:
            return self._too_many_requests(request, retry_after, "global")
        use = None
        if route.bucket is not None:
            use = self.rate_limiter.take(route.bucket, int(params["channel_id"]))
        if use is not None and use.retry_after is not None:
            return self._too_many_requests(
                request,
                use.retry_after,
                use.bucket.scope,
                headers=use.headers(self.wall_clock()),
                bucket=use.bucket_hash,
            )
        try:
            response = await route.handler(request, **params)
        except ApiError as error:
            response = self._error(
                request,
                error.status,
                error.code,
                error.message,
                kind=error.kind,
                errors=error.errors,
            )
        if use is not None:
            if response.status == 429:
                self.rate_limiter.refund(use.route, int(params["channel_id"]))
            for name, value in use.headers(self.wall_clock()).items():
                response.headers.setdefault(name, value)
        return response

    def _too_many_requests(
        self,
        request: web.Request,
        retry_after: float,
        scope: Scope,
        *,
        headers: dict[str, str] | None = None,
        bucket: str | None = None,
        injected: bool = False,
    ) -> web.Response:
        """Answer 429 with the route's ``headers`` and record it in ``rate_limit_hits``."""
        self.rate_limit_hits.append(
            RateLimitHit(
                request.method, request.path, scope, retry_after, bucket, self.clock(), injected
            )
        )
        log.info(
            "fake discord: 429 (%s) on %s %s, retry after %.3f s",
            scope,
            request.method,
            request.path,
            retry_after,
        )
        return too_many_requests(retry_after, scope, headers)

    def _error(
        self,
        request: web.Request,
        status: int,
        code: int,
        message: str,
        *,
        kind: str | None = None,
        ix: FakeInteraction | None = None,
        errors: dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        """A Discord error body; with ``kind``, also a recorded protocol error."""
        if kind is not None:
            error = ProtocolError(
                kind, request.method, request.path, status, code, message, ix.id if ix else None
            )
            self.protocol_errors.append(error)
            if ix is not None:
                ix.protocol_errors.append(error)
            log.warning(
                "fake discord: %s on %s %s: %s", kind, request.method, request.path, message
            )
        body: dict[str, Any] = {"message": message, "code": code}
        if errors:
            body["errors"] = errors
        return json_reply(body, status, headers)

    @staticmethod
    async def _read_payload(
        request: web.Request,
    ) -> tuple[dict[str, Any], dict[int, tuple[str, bytes, str]]]:
        """The JSON body, or multipart ``payload_json`` plus ``files[n]`` parts."""
        files: dict[int, tuple[str, bytes, str]] = {}
        if request.content_type.startswith("multipart/"):
            payload: dict[str, Any] = {}
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, aiohttp.BodyPartReader):
                    continue
                name = part.name or ""
                if name == "payload_json":
                    payload = json.loads(await part.text())
                elif (m := re.fullmatch(r"files\[(\d+)\]", name)) is not None:
                    blob = bytes(await part.read(decode=False))
                    ctype = part.headers.get("Content-Type", "application/octet-stream")
                    files[int(m.group(1))] = (part.filename or f"file{m.group(1)}", blob, ctype)
            return payload, files
        body = await request.read()
        return (json.loads(body) if body else {}), files

    # == message storage =======================================================

    def _apply_message_data(
        self,
        msg: FakeMessage,
        data: dict[str, Any],
        files: dict[int, tuple[str, bytes, str]],
        *,
        creating: bool,
    ) -> None:
        """Apply a create or edit payload the way Discord merges it."""
        if "content" in data:
            msg.content = data["content"] or ""
        if "embeds" in data:
            msg.embeds = list(data["embeds"] or [])
        if "components" in data:
            msg.components = list(data["components"] or [])
        if "allowed_mentions" in data:
            msg.allowed_mentions = data["allowed_mentions"]
        if "flags" in data and data["flags"] is not None:
            mask = CREATE_FLAGS if creating else EDIT_FLAGS
            msg.flags = (msg.flags & ~mask) | (int(data["flags"]) & mask)
        if "attachments" in data or files:
            self._apply_attachments(msg, data.get("attachments"), files)
        msg.raw = data
        if not creating:
            msg.edits.append(data)
            msg.edited_at = time.time()

    def _apply_attachments(
        self,
        msg: FakeMessage,
        wanted: list[dict[str, Any]] | None,
        files: dict[int, tuple[str, bytes, str]],
    ) -> None:
        """Keep the listed existing attachments, add the uploaded ``files[n]``."""
        existing = {
            int(p["id"]): (p, pair)
            for p, pair in zip(msg.attachment_payloads, msg.attachments, strict=True)
        }
        payloads: list[dict[str, Any]] = []
        blobs: list[tuple[str, bytes]] = []
        if wanted is None:
            wanted = [*({"id": i} for i in existing), *({"id": i} for i in sorted(files))]
        for item in wanted:
            ident = int(item["id"])
            if ident in files:
                filename, blob, ctype = files[ident]
                filename = item.get("filename") or filename
                attachment_id = self.snowflake()
                self._blobs[attachment_id] = (filename, blob, ctype)
                url = f"{self.url}/attachments/{msg.channel_id}/{attachment_id}/{filename}"
                payload: dict[str, Any] = {
                    "id": str(attachment_id),
                    "filename": filename,
                    "size": len(blob),
                    "url": url,
                    "proxy_url": url,
                    "content_type": ctype,
                }
                if item.get("description"):
                    payload["description"] = item["description"]
                if msg.ephemeral:
                    payload["ephemeral"] = True
                payloads.append(payload)
                blobs.append((filename, blob))
            elif ident in existing:
                payloads.append(existing[ident][0])
                blobs.append(existing[ident][1])
        msg.attachment_payloads, msg.attachments = payloads, blobs

    def _create_message(
        self,
        channel: FakeChannel,
        data: dict[str, Any],
        files: dict[int, tuple[str, bytes, str]],
        *,
        type: int = MSG_DEFAULT,
        flags: int = 0,
        ix: FakeInteraction | None = None,
    ) -> FakeMessage:
        msg = FakeMessage(
            id=self.snowflake(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=self.bot_user,
            type=type,
            flags=flags,
            nonce=data.get("nonce"),
            tts=bool(data.get("tts")),
            message_reference=data.get("message_reference"),
        )
        if ix is not None:
            msg.webhook_id = msg.application_id = self.app_id
            msg.interaction_id = ix.id
            metadata: dict[str, Any] = {
                "id": str(ix.id),
                "type": ix.type,
                "user": self.users[ix.user_id].payload(),
                "authorizing_integration_owners": ix.payload.get(
                    "authorizing_integration_owners", {}
                ),
            }
            if ix.type == APPLICATION_COMMAND:
                metadata["name"] = ix.name
            if ix.message is not None:
                metadata["interacted_message_id"] = str(ix.message.id)
            msg.interaction_metadata = metadata
        self._apply_message_data(msg, data, files, creating=True)
        # Ephemeral and loading come from the callback, never from a channel post.
        msg.flags = (msg.flags & ~(FLAG_EPHEMERAL | FLAG_LOADING)) | flags
        self._messages[msg.id] = msg
        self._channel_log[channel.id].append(msg)
        self._announce_message(channel, msg)
        self._changed()
        return msg

    def _announce_message(self, channel: FakeChannel, msg: FakeMessage) -> None:
        """MESSAGE_CREATE, for sessions that asked for message intents."""
        if msg.ephemeral:
            return
        intent = INTENT_DIRECT_MESSAGES if channel.type == DM else INTENT_GUILD_MESSAGES
        for session in self._sessions_for(channel.guild_id):
            if session.intents & intent:
                session.dispatch("MESSAGE_CREATE", msg.payload())

    def _delete_message(self, msg: FakeMessage) -> None:
        msg.deleted = True
        log_ = self._channel_log.get(msg.channel_id, [])
        if msg in log_:
            log_.remove(msg)
        self._changed()

    # == REST: login, gateway, users, application ===============================

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return json_reply({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        return json_reply(
            {
                "url": self.gateway_url,
                "shards": self.shard_count,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    async def _get_me(self, request: web.Request) -> web.Response:
        return json_reply(
            {**self.bot_user.payload(), "verified": True, "mfa_enabled": False, "locale": "en-US"}
        )

    async def _get_user(self, request: web.Request, user_id: str) -> web.Response:
        user = self.users.get(int(user_id))
        if user is None:
            return self._error(request, 404, 10013, "Unknown User")
        return json_reply(user.payload())

    async def _get_application(self, request: web.Request) -> web.Response:
        return json_reply(
            {
                "id": str(self.app_id),
                "name": self.bot_user.username,
                "icon": None,
                "description": "A fake application served by bot.sandbox.fakediscord",
                "summary": "",
                "type": None,
                "rpc_origins": [],
                "bot_public": True,
                "bot_require_code_grant": False,
                "bot": self.bot_user.payload(),
                "owner": self.owner.payload(),
                "team": None,
                "verify_key": "0" * 64,
                "flags": 0,
                "hook": True,
                "tags": [],
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "role_connections_verification_url": None,
                "approximate_guild_count": len(self.guilds),
                "integration_types_config": {"0": {}},
            }
        )

    async def _create_dm(self, request: web.Request) -> web.Response:
        payload, _ = await self._read_payload(request)
        user = self.users.get(int(payload.get("recipient_id", 0)))
        if user is None:
            return self._error(request, 400, 50033, "Invalid Recipient(s)")
        return json_reply(self._dm_channel(user).payload())

    # == REST: commands ========================================================

    async def _get_commands(
        self, request: web.Request, app_id: str, guild_id: str | None = None
    ) -> web.Response:
        if int(app_id) != self.app_id:
            return self._error(request, 403, 50001, "Missing Access")
        return json_reply(self.commands(int(guild_id) if guild_id else None))

    async def _put_commands(
        self, request: web.Request, app_id: str, guild_id: str | None = None
    ) -> web.Response:
        """Bulk overwrite: keep ids stable per (scope, name, type), as Discord does."""
        if int(app_id) != self.app_id:
            return self._error(request, 403, 50001, "Missing Access")
        scope = int(guild_id) if guild_id else None
        if scope is not None and scope not in self.guilds:
            return self._error(request, 403, 50001, "Missing Access")
        body, _ = await self._read_payload(request)
        payload: list[dict[str, Any]] = body  # type: ignore[assignment]  # a list here
        problems = command_problems(payload)
        if problems:
            return self._error(
                request,
                400,
                50035,
                "Invalid Form Body",
                kind="invalid_command_schema",
                errors=form_errors(problems),
            )
        stored: list[dict[str, Any]] = []
        for command in payload:
            kind = command.get("type", 1)
            key = (scope, command["name"], kind)
            if key not in self._command_ids:
                self._command_ids[key] = self.snowflake()
            entry = {
                "description": "",
                "options": [],
                "default_member_permissions": None,
                "nsfw": False,
                "integration_types": [0],
                **command,
                "id": str(self._command_ids[key]),
                "application_id": str(self.app_id),
                "version": str(self.snowflake()),
                "type": kind,
            }
            if scope is not None:
                entry["guild_id"] = str(scope)
            stored.append(entry)
        self._commands[scope] = stored
        self._changed()
        return json_reply(stored)

    # == REST: interactions ====================================================

    def _record(
        self,
        ix: FakeInteraction,
        response: FakeResponse,
        files: Mapping[int, tuple[str, bytes, str]],
    ) -> None:
        response.files = [(name, blob) for name, blob, _ in files.values()]
        ix.responses.append(response)
        ix._changed()

    async def _callback(
        self, request: web.Request, interaction_id: str, token: str
    ) -> web.Response:
        payload, files = await self._read_payload(request)
        ix = self._ix_by_id.get(int(interaction_id))
        if ix is None or ix.token != token:
            return self._error(
                request, 404, 10062, "Unknown interaction", kind="unknown_interaction"
            )
        kind = payload.get("type")
        data = payload.get("data") or {}

        def reject(
            status: int, code: int, message: str, error_kind: str, **extra: Any
        ) -> web.Response:
            self._record(ix, FakeResponse("callback", kind, payload, status), files)
            return self._error(request, status, code, message, kind=error_kind, ix=ix, **extra)

        if ix.callback is not None:
            return reject(
                400, 40060, "Interaction has already been acknowledged.", "duplicate_callback"
            )
        if self.clock() - (ix.created or 0.0) > self.interaction_timeout:
            return reject(404, 10062, "Unknown interaction", "late_callback")
        if kind not in ALLOWED_CALLBACKS.get(ix.type, set()) or (
            kind == UPDATE_MESSAGE and ix.message is None
        ):
            return reject(
                400,
                50035,
                f"Invalid Form Body: callback type {kind} for interaction type {ix.type}",
                "invalid_callback",
            )
        if kind in (CHANNEL_MESSAGE, UPDATE_MESSAGE):
            error = message_errors(data, files, creating=kind == CHANNEL_MESSAGE)
            if error is not None:
                code, text, errors = error
                error_kind = "empty_message" if code == 50006 else "invalid_form_body"
                return reject(400, code, text, error_kind, errors=errors)
        elif kind == MODAL:
            problems = modal_problems(data)
            if problems:
                return reject(
                    400,
                    50035,
                    "Invalid Form Body",
                    "invalid_form_body",
                    errors=form_errors(problems),
                )
        elif kind == AUTOCOMPLETE_RESULT:
            problem = check_choices(data.get("choices") or [])
            if problem:
                return reject(400, 50035, f"Invalid Form Body: {problem}", "invalid_form_body")

        channel = self._channels[ix.channel_id]
        msg_type = MSG_CHAT_INPUT if ix.type == APPLICATION_COMMAND else MSG_DEFAULT
        message: FakeMessage | None = None
        if kind == CHANNEL_MESSAGE:
            flags = int(data.get("flags") or 0) & FLAG_EPHEMERAL
            message = self._create_message(channel, data, files, type=msg_type, flags=flags, ix=ix)
            ix.original = message
            ix._set_reply(message)
        elif kind == DEFERRED_CHANNEL_MESSAGE:
            flags = FLAG_LOADING | (int(data.get("flags") or 0) & FLAG_EPHEMERAL)
            message = self._create_message(channel, {}, {}, type=msg_type, flags=flags, ix=ix)
            ix.original = message
        elif kind == UPDATE_MESSAGE:
            assert ix.message is not None
            message = ix.message
            self._apply_message_data(message, data, files, creating=False)
            ix._set_reply(message)
        elif kind == AUTOCOMPLETE_RESULT:
            ix.choices = list(data.get("choices") or [])
        elif kind == MODAL:
            ix.modal = data
        elif kind == DEFERRED_UPDATE_MESSAGE:
            message = ix.message
        response = FakeResponse("callback", kind, payload, 200, message)
        ix.callback = response
        self._record(ix, response, files)
        self._changed()
        if request.query.get("with_response") not in ("1", "true", "True"):
            return no_content()
        info: dict[str, Any] = {"id": str(ix.id), "type": ix.type}
        if message is not None:
            info.update(
                response_message_id=str(message.id),
                response_message_loading=message.loading,
                response_message_ephemeral=message.ephemeral,
            )
        resource: dict[str, Any] = {"type": kind}
        if message is not None and kind != DEFERRED_UPDATE_MESSAGE:
            resource["message"] = message.payload()
        return json_reply({"interaction": info, "resource": resource})

    def _webhook_interaction(
        self, request: web.Request, app_id: str, token: str
    ) -> tuple[FakeInteraction | None, web.Response | None]:
        """The interaction a webhook token belongs to, or Discord's refusal.

        After ``interaction_token_lifetime`` (15 min) Discord answers 401, code
        50027 "Invalid Webhook Token", to followups, GET, PATCH and DELETE alike
        (discord/discord-api-docs#6851; the code is in the JSON error codes).
        """
        ix = self._ix_by_token.get(token)
        if ix is None or int(app_id) != self.app_id:
            return None, self._error(request, 404, 10015, "Unknown Webhook", kind="unknown_webhook")
        if self.clock() - (ix.created or 0.0) > self.interaction_token_lifetime:
            return None, self._error(
                request, 401, 50027, "Invalid Webhook Token", kind="expired_token", ix=ix
            )
        return ix, None

    async def _followup(self, request: web.Request, app_id: str, token: str) -> web.Response:
        payload, files = await self._read_payload(request)
        ix, error = self._webhook_interaction(request, app_id, token)
        if ix is None:
            assert error is not None
            return error
        if ix.callback is None:
            self._record(ix, FakeResponse("followup", None, payload, 404), files)
            return self._error(
                request,
                404,
                10015,
                "Unknown Webhook (followup before the callback)",
                kind="unknown_webhook",
                ix=ix,
            )
        problem = message_errors(payload, files, creating=True)
        if problem is not None:
            code, message, errors = problem
            self._record(ix, FakeResponse("followup", None, payload, 400), files)
            kind = "empty_message" if code == 50006 else "invalid_form_body"
            return self._error(request, 400, code, message, kind=kind, ix=ix, errors=errors)
        original = ix.original
        if original is not None and original.loading and not original.deleted:
            # The first followup after a deferral replaces the "thinking…" message,
            # which stays as ephemeral as the deferral made it.
            ephemeral = original.flags & FLAG_EPHEMERAL
            self._apply_message_data(original, payload, files, creating=True)
            original.flags = (original.flags & ~(FLAG_EPHEMERAL | FLAG_LOADING)) | ephemeral
            msg = original
            self._changed()
        else:
            flags = int(payload.get("flags") or 0) & FLAG_EPHEMERAL
            msg = self._create_message(
                self._channels[ix.channel_id], payload, files, flags=flags, ix=ix
            )
        ix.followups.append(msg)
        ix._set_reply(msg)
        self._record(ix, FakeResponse("followup", None, payload, 200, msg), files)
        if request.query.get("wait") in ("1", "true", "True"):
            return json_reply(msg.payload())
        return no_content()

    def _webhook_message(self, ix: FakeInteraction, ref: str) -> FakeMessage | None:
        if ref == "@original":
            msg = ix.original
        else:
            candidates = [*ix.followups, *([ix.original] if ix.original else [])]
            msg = next((m for m in candidates if m.id == int(ref)), None)
        return None if msg is None or msg.deleted else msg

    def _webhook_target(
        self,
        request: web.Request,
        app_id: str,
        token: str,
        ref: str,
        on_missing: Callable[[FakeInteraction], None] | None = None,
    ) -> tuple[FakeInteraction, FakeMessage] | web.Response:
        """Return the interaction and message a webhook URL names, or the error Discord sends."""
        ix, error = self._webhook_interaction(request, app_id, token)
        if ix is None:
            assert error is not None
            return error
        msg = self._webhook_message(ix, ref)
        if msg is None:
            if on_missing is not None:
                on_missing(ix)
            return self._error(
                request, 404, 10008, "Unknown Message", kind="unknown_message", ix=ix
            )
        return ix, msg

    async def _webhook_get(
        self, request: web.Request, app_id: str, token: str, ref: str
    ) -> web.Response:
        found = self._webhook_target(request, app_id, token, ref)
        if isinstance(found, web.Response):
            return found
        return json_reply(found[1].payload())

    async def _webhook_edit(
        self, request: web.Request, app_id: str, token: str, ref: str
    ) -> web.Response:
        payload, files = await self._read_payload(request)
        found = self._webhook_target(
            request,
            app_id,
            token,
            ref,
            on_missing=lambda ix: self._record(ix, FakeResponse("edit", None, payload, 404), files),
        )
        if isinstance(found, web.Response):
            return found
        ix, msg = found
        problem = message_errors(payload, files, creating=False)
        if problem is not None:
            code, message, errors = problem
            self._record(ix, FakeResponse("edit", None, payload, 400), files)
            return self._error(
                request, 400, code, message, kind="invalid_form_body", ix=ix, errors=errors
            )
        self._apply_message_data(msg, payload, files, creating=False)
        msg.flags &= ~FLAG_LOADING
        ix._set_reply(msg)
        self._record(ix, FakeResponse("edit", None, payload, 200, msg), files)
        self._changed()
        return json_reply(msg.payload())

    async def _webhook_delete(
        self, request: web.Request, app_id: str, token: str, ref: str
    ) -> web.Response:
        found = self._webhook_target(request, app_id, token, ref)
        if isinstance(found, web.Response):
            return found
        ix, msg = found
        self._delete_message(msg)
        self._record(ix, FakeResponse("delete", None, {}, 204, msg), {})
        return no_content()

    # == REST: channels, guilds ================================================

    def _take_fault(self, request: web.Request, channel_id: int) -> web.Response | None:
        """Consume one injected fault for this channel, if any, and build its reply."""
        faults = self._faults.get(channel_id)
        if not faults:
            return None
        fault = faults[0]
        fault.times -= 1
        if fault.times <= 0:
            faults.pop(0)
        if fault.status == 403:
            return self._error(request, 403, 50013, "Missing Permissions")
        if fault.status == 404:
            return self._error(request, 404, 10003, "Unknown Channel")
        if fault.status == 500:
            return json_reply({"message": "500: Internal Server Error", "code": 0}, 500)
        bucket = f"fake-channel-{channel_id}"
        headers = {
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{self.wall_clock() + fault.retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{fault.retry_after:.3f}",
            "X-RateLimit-Bucket": bucket,
        }
        return self._too_many_requests(
            request, fault.retry_after, "user", headers=headers, bucket=bucket, injected=True
        )

    def _channel_or_error(
        self, request: web.Request, channel_id: str
    ) -> tuple[FakeChannel | None, web.Response | None]:
        channel = self._channels.get(int(channel_id))
        if channel is None:
            return None, self._error(request, 404, 10003, "Unknown Channel")
        return channel, None

    def _write_denied(self, request: web.Request, channel: FakeChannel) -> web.Response | None:
        """Discord's refusals to post: closed DMs, non-text channels, missing permissions."""
        if channel.type == DM:
            if channel.recipients and channel.recipients[0].id in self._closed_dms:
                return self._error(request, 403, 50007, "Cannot send messages to this user")
            return None
        if not channel.can_hold_messages:
            return self._error(request, 400, 50008, "Cannot send messages in a non-text channel")
        assert channel.guild_id is not None
        perms = self.guilds[channel.guild_id].bot_permissions
        if not perms & VIEW_CHANNEL:
            return self._error(request, 403, 50001, "Missing Access")
        if not perms & SEND_MESSAGES:
            return self._error(request, 403, 50013, "Missing Permissions")
        return None

    async def _get_channel(self, request: web.Request, channel_id: str) -> web.Response:
        channel, error = self._channel_or_error(request, channel_id)
        return error or json_reply(channel.payload())  # type: ignore[union-attr]

    async def _post_channel_message(self, request: web.Request, channel_id: str) -> web.Response:
        payload, files = await self._read_payload(request)
        if (delay := self._slow_channels.get(int(channel_id))) is not None:
            await asyncio.sleep(delay)
        channel, error = self._channel_or_error(request, channel_id)
        if channel is None:
            return error  # type: ignore[return-value]
        denied = self._take_fault(request, channel.id) or self._write_denied(request, channel)
        if denied is not None:
            return denied
        if problems := nonce_problems(payload):
            return self._error(
                request,
                400,
                50035,
                "Invalid Form Body",
                kind="invalid_form_body",
                errors=form_errors(problems),
            )
        problem = message_errors(payload, files, creating=True)
        if problem is not None:
            code, message, errors = problem
            kind = "empty_message" if code == 50006 else "invalid_form_body"
            return self._error(request, 400, code, message, kind=kind, errors=errors)
        nonce = payload.get("nonce")
        if nonce is not None and payload.get("enforce_nonce"):
            existing = self._nonces.recall(channel.id, nonce)
            if existing is not None and existing.deleted:
                return self._error(request, 404, 10008, "Unknown Message")
            if existing is not None:
                return json_reply(existing.payload())
        flags = int(payload.get("flags") or 0) & (CREATE_FLAGS & ~FLAG_EPHEMERAL)
        msg_type = MSG_REPLY if payload.get("message_reference") else MSG_DEFAULT
        msg = self._create_message(channel, payload, files, type=msg_type, flags=flags)
        if nonce is not None:
            self._nonces.remember(channel.id, nonce, msg)
        if (hold := self._held_answers.get(channel.id)) is not None:
            await asyncio.sleep(hold)
        return json_reply(msg.payload())

    def _channel_message(self, channel_id: str, message_id: str) -> FakeMessage | None:
        msg = self._messages.get(int(message_id))
        if msg is None or msg.deleted or msg.channel_id != int(channel_id) or msg.ephemeral:
            return None
        return msg

    async def _get_channel_messages(self, request: web.Request, channel_id: str) -> web.Response:
        """A page of history, newest first (see ``history_page``), without nonces.

        Guild channels need View Channel (else 403, 50001); without Read
        Message History the answer is an empty list, as on Discord.
        """
        channel, error = self._channel_or_error(request, channel_id)
        if channel is None:
            return error  # type: ignore[return-value]
        if channel.guild_id is not None:
            perms = self.guilds[channel.guild_id].bot_permissions
            if not perms & VIEW_CHANNEL:
                return self._error(request, 403, 50001, "Missing Access")
            if not perms & READ_MESSAGE_HISTORY:
                return json_reply([])
        try:
            page = history_page(self.channel_messages(channel.id), request.query)
        except ValueError as problem:
            path, text = problem.args
            errors = form_errors([(path, text)])
            return self._error(request, 400, 50035, "Invalid Form Body", errors=errors)
        return json_reply([m.payload(with_nonce=False) for m in page])

    async def _get_channel_message(
        self, request: web.Request, channel_id: str, message_id: str
    ) -> web.Response:
        msg = self._channel_message(channel_id, message_id)
        if msg is None:
            return self._error(request, 404, 10008, "Unknown Message")
        return json_reply(msg.payload(with_nonce=False))

    async def _edit_channel_message(
        self, request: web.Request, channel_id: str, message_id: str
    ) -> web.Response:
        payload, files = await self._read_payload(request)
        fault = self._take_fault(request, int(channel_id))
        if fault is not None:
            return fault
        msg = self._channel_message(channel_id, message_id)
        if msg is None:
            return self._error(request, 404, 10008, "Unknown Message")
        if msg.author.id != self.bot_user.id:
            return self._error(
                request, 403, 50005, "Cannot edit a message authored by another user"
            )
        problem = message_errors(payload, files, creating=False)
        if problem is not None:
            code, message, errors = problem
            return self._error(request, 400, code, message, kind="invalid_form_body", errors=errors)
        self._apply_message_data(msg, payload, files, creating=False)
        self._changed()
        return json_reply(msg.payload())

    async def _delete_channel_message(
        self, request: web.Request, channel_id: str, message_id: str
    ) -> web.Response:
        fault = self._take_fault(request, int(channel_id))
        if fault is not None:
            return fault
        msg = self._channel_message(channel_id, message_id)
        if msg is None:
            return self._error(request, 404, 10008, "Unknown Message")
        self._delete_message(msg)
        return no_content()

    def _guild_or_error(
        self, request: web.Request, guild_id: str
    ) -> tuple[FakeGuild | None, web.Response | None]:
        guild = self.guilds.get(int(guild_id))
        if guild is None:
            return None, self._error(request, 404, 10004, "Unknown Guild")
        return guild, None

    async def _get_guild(self, request: web.Request, guild_id: str) -> web.Response:
        guild, error = self._guild_or_error(request, guild_id)
        if guild is None:
            return error  # type: ignore[return-value]
        data = guild.payload()
        for key in ("channels", "members", "threads", "voice_states", "presences", "joined_at"):
            data.pop(key, None)
        return json_reply(data)

    async def _get_guild_channels(self, request: web.Request, guild_id: str) -> web.Response:
        guild, error = self._guild_or_error(request, guild_id)
        if guild is None:
            return error  # type: ignore[return-value]
        return json_reply([c.payload() for c in guild.channels.values()])

    async def _get_guild_roles(self, request: web.Request, guild_id: str) -> web.Response:
        guild, error = self._guild_or_error(request, guild_id)
        if guild is None:
            return error  # type: ignore[return-value]
        return json_reply([r.payload() for r in guild.roles.values()])

    async def _get_member(self, request: web.Request, guild_id: str, user_id: str) -> web.Response:
        guild, error = self._guild_or_error(request, guild_id)
        if guild is None:
            return error  # type: ignore[return-value]
        member = guild.members.get(int(user_id))
        if member is None:
            return self._error(request, 404, 10007, "Unknown Member")
        return json_reply(member.payload())

    async def _get_attachment(self, request: web.Request, attachment_id: str) -> web.Response:
        blob = self._blobs.get(int(attachment_id))
        if blob is None:
            return web.Response(status=404)
        _, data, ctype = blob
        return web.Response(body=data, content_type=ctype)

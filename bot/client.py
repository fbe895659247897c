"""The Discord client: opens the database, loads the cogs, starts the clock."""

from __future__ import annotations

import asyncio
import gc
import importlib
import importlib.util
import logging
import pkgutil
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

import discord
import yarl
from discord.ext import commands

from bot.clock import Clock
from bot.delivery import start_deliveries
from bot.localisation import CatalogueTranslator
from bot.metrics import Metrics, MetricsServer, RateLimitCounter, watch_loop_lag
from bot.roster import refresh_roster
from bot.services.faults import log_failure
from bot.services.registry import Services
from bot.settings import Settings
from bot.tree import MagTree
from storage import migrate
from storage.database import Database
from storage.types import utcnow

log = logging.getLogger(__name__)

GC_THRESHOLDS: Final = (20_000, 50, 100)

ROSTER_SECONDS = 3600.0
MAX_RATELIMIT_WAIT = 5.0


def intents() -> discord.Intents:
    """Return the gateway intents the bot needs: guilds only, nothing privileged.

    Slash commands bring the member and their roles with each interaction, so
    neither the members nor the message content intent is needed.
    """
    return discord.Intents(guilds=True)


def use_api(url: str | None) -> None:
    """Point discord.py at another Discord API (the sandbox or the tests' fake).

    discord.py builds every REST route from ``Route.BASE`` and connects the
    gateway to ``DEFAULT_GATEWAY``; both are class attributes meant to be set.
    """
    if url is None:
        return
    discord.http.Route.BASE = f"{url}/api/v10"
    gateway = yarl.URL(url).with_scheme("wss" if url.startswith("https") else "ws")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway.with_path("/gateway")


COGS_PACKAGE = "cogs"
GUILD_READY_TIMEOUT = 0.25  # seconds without a new server before discord.py says ready


WEB_PACKAGE = "web"


def cog_modules(package: str = COGS_PACKAGE) -> list[str]:
    """Return every extension module of ``package`` (private modules excluded).

    Extensions are found and loaded by name, as discord.py does, so this layer
    never imports the cogs that sit above it.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or spec.submodule_search_locations is None:
        raise RuntimeError(f"extension package {package!r} not found")
    return sorted(
        f"{package}.{info.name}"
        for info in pkgutil.iter_modules(spec.submodule_search_locations)
        if not info.name.startswith("_")
    )


def _sharding(settings: Settings) -> dict[str, Any]:
    """Return the shard arguments: none (Discord's recommendation) or the configured set."""
    options: dict[str, Any] = {}
    if settings.shard_count is not None:
        options["shard_count"] = settings.shard_count
    if settings.shard_ids is not None:
        options["shard_ids"] = list(settings.shard_ids)
    return options


class MagBot(commands.AutoShardedBot):
    """The MAG coordination bot."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        sync_commands: bool = True,
        serve_metrics: bool = False,
        freeze_heap: bool = False,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(),
            # Text typed by users is shown back; it must never ping anyone.
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=MagTree,
            help_command=None,
            max_messages=None,
            # A longer rate limit raises instead of sleeping inside whatever awaited
            # the request: the outbox retries at the time Discord gives.
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT,
            # discord.py declares itself ready once no server has arrived for
            # this long (default 2 s, the whole of a start's idle wait). Servers
            # come in one burst per shard; a late one is still added when it
            # comes, and commands are answered before ready anyway.
            guild_ready_timeout=GUILD_READY_TIMEOUT,
            **_sharding(settings),
        )
        # The bot never joins voice: don't warn operators about voice libraries.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        self.settings = settings
        self.db = Database(settings.database_url, timeout=settings.database_timeout)
        self.services = Services.create(self.db, clock)
        self.clock = Clock(clock)
        self._sync_commands = sync_commands
        # Only `magbot run` serves METRICS_PORT (a sync beside the running bot
        # must not try to take its port) and freezes the start's heap.
        self._serve_metrics = serve_metrics
        self._freeze_heap = freeze_heap
        self.metrics = Metrics()
        self._rate_limits = RateLimitCounter(self.metrics)
        self._metrics_server: MetricsServer | None = None
        self._lag_probe: asyncio.Task[None] | None = None

    async def setup_hook(self) -> None:
        """Prepare everything before the gateway connects."""
        # Migrations may take longer than a command may wait: no timeout for them.
        schema = self.db.untimed()
        try:
            if await migrate.is_current(schema):
                pass  # nothing to do, and Alembic is not even imported
            elif self.settings.auto_migrate:
                gc.enable()  # a migration makes garbage that must not be frozen
                await migrate.upgrade(schema)
            else:
                current, head = await migrate.current_revision(schema), migrate.head_revision()
                if current != head:
                    log.warning(
                        "database schema is at %s but the code expects %s: run `magbot db upgrade`",
                        current,
                        head,
                    )
        finally:
            await schema.dispose()
        # Command names and descriptions in every language a catalogue has.
        await self.tree.set_translator(CatalogueTranslator())
        for name in [*cog_modules(), *self.settings.extra_cogs]:
            await self.load_extension(name)
        log.info("loaded %d cogs", len(self.extensions))
        if self.settings.web_enabled:  # the consent pages (issue 16), by name: web sits above bot
            await self.load_extension(WEB_PACKAGE)
        self.clock.start()
        self.clock.every(ROSTER_SECONDS, self._refresh_rosters, name="roster")
        # Reminders and digests (issue 4): a ticker on the clock, posting through Discord.
        self.deliveries = start_deliveries(
            self, self.services, self.clock, self.settings, self.metrics
        )
        await self._start_metrics()
        if self._freeze_heap:
            # What the start made lives as long as the process: move it out of
            # the collector's sight, so full collections (the longest event-loop
            # stalls under load) walk only what commands make. `magbot run`
            # disabled collection while starting; it runs again from here.
            gc.freeze()
            # Collect the young generation every 20,000 allocations, not 700:
            # an interaction allocates thousands of objects, and collections
            # every few of them added up to stalls over 50 ms at 200/s
            # (bench.load: 6 such stalls in 30 s before, none after). The older
            # generations follow every 50 and 100 of those (10 and 10 by default):
            # full collections about 1,400 times rarer; resident memory under
            # load stayed 180-203 MB either way.
            gc.set_threshold(*GC_THRESHOLDS)
            gc.enable()
        guild_id = self.settings.dev_guild_id
        if self._sync_commands and guild_id is not None:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to development guild %s", len(synced), guild_id)

    async def _start_metrics(self) -> None:
        """Measure loop lag and 429s always (cheap); serve them when METRICS_PORT is set."""
        self._lag_probe = asyncio.create_task(watch_loop_lag(self.metrics), name="loop-lag")
        logging.getLogger("discord.http").addHandler(self._rate_limits)
        port = self.settings.metrics_port
        if port is None or not self._serve_metrics:
            return
        self._metrics_server = MetricsServer(
            self.metrics,
            ready=self.connected,
            database=self.db.ping,
            refresh=self._refresh_gauges,
        )
        await self._metrics_server.start(self.settings.metrics_host, port)

    def connected(self) -> bool:
        """Return whether the bot is ready and every shard's gateway is open now.

        discord.py's ``is_ready`` stays true through a disconnection; the
        shards say whether they are connected this moment.
        """
        if not self.is_ready() or self.is_closed():
            return False
        return all(not shard.is_closed() for shard in self.shards.values())

    async def _refresh_gauges(self) -> None:
        self.metrics.set_depth(await self.services.outbox.open_depth())

    async def _refresh_rosters(self) -> None:
        """Check who still holds the MAG role in every guild (for the chasing reminders)."""
        for guild in list(self.guilds):
            try:
                await refresh_roster(self, guild.id, fresh=timedelta(seconds=ROSTER_SECONDS))
            except Exception as error:
                log_failure(log, f"checking the MAG roster of guild {guild.id}", error)

    async def on_ready(self) -> None:
        log.info("connected as %s to %d guilds", self.user, len(self.guilds))

    # A server's Discord language is its public posts' default (``/config language``).
    async def on_guild_available(self, guild: discord.Guild) -> None:
        self.services.config.note_locale(guild.id, guild.preferred_locale.value)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        self.services.config.note_locale(guild.id, guild.preferred_locale.value)

    async def on_guild_update(self, before: discord.Guild, after: discord.Guild) -> None:
        self.services.config.note_locale(after.id, after.preferred_locale.value)

    async def close(self) -> None:
        """Stop the clock, disconnect, then close the database."""
        if hasattr(self, "deliveries"):  # issue 4: let a tick in flight finish first
            await self.deliveries.stop()
        self.clock.shutdown()
        if self._metrics_server is not None:
            await self._metrics_server.stop()
        if self._lag_probe is not None:
            self._lag_probe.cancel()
        logging.getLogger("discord.http").removeHandler(self._rate_limits)
        if hasattr(self, "_AutoShardedClient__queue"):
            await super().close()
        else:
            # discord.py 2.7's AutoShardedClient.close() assumes the shards were
            # launched; after a bare login (`magbot sync`) or a failed start it
            # raises AttributeError. The plain Client.close() does the right thing.
            await discord.Client.close(self)
        await self.db.dispose()
        log.info("shut down cleanly")


async def command_list(settings: Settings) -> list[Any]:
    """Return the bot's slash commands, with every cog loaded, without connecting."""
    bot = MagBot(settings, sync_commands=False)
    try:
        for name in [*cog_modules(), *settings.extra_cogs]:
            await bot.load_extension(name)
        return list(bot.tree.get_commands())
    finally:
        await bot.db.dispose()

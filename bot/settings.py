"""Typed settings, read from the environment (and ``.env``) once, at start.

Nothing here runs at import time: ``load_settings()`` is called by the CLI,
so tests and tools can import the package without a token.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_network

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/magbot.db"

TOKEN_HELP = (
    "DISCORD_TOKEN is not set. Create a bot at https://discord.com/developers/applications "
    "(New Application -> Bot -> Reset Token), then put the token in a file named .env "
    "in this folder as DISCORD_TOKEN=your-token (see .env.example), or export it."
)


class SettingsError(Exception):
    """A setting is missing or malformed; the text names it and says what to do."""


class Secret:
    """A string that does not show itself in logs, reprs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get(self) -> str:
        """Return the secret value."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Settings:
    """Everything the process needs to know from outside."""

    discord_token: Secret | None
    database_url: str = DEFAULT_DATABASE_URL
    dev_guild_id: int | None = None
    log_level: str = "INFO"
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    auto_migrate: bool = True
    # Seconds: the longest any command waits on the database before saying
    # "unavailable, try again"; and how long ``magbot run`` waits for it at start.
    database_timeout: float = 1.5
    database_wait: float = 60.0
    # Where Discord's API lives; only the sandbox and the tests change it.
    discord_api_url: str | None = None
    extra_cogs: tuple[str, ...] = field(default_factory=tuple)
    # The Prometheus /metrics and /healthz endpoint (bot.metrics); None: off.
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    # Email to nominees who are not on Discord (bot.mail); None: invitations stay Discord-only.
    smtp_url: Secret | None = None  # smtp://user:password@host:port (the password is secret)
    smtp_sender: str | None = None  # the From: address
    smtp_tls: str = "starttls"  # starttls, tls (implicit, port 465) or none
    # The consent pages (web/): served only when both are set.
    web_base_url: str | None = None  # how nominees reach the pages, e.g. https://mag.example.org
    web_port: int | None = None
    web_host: str = "127.0.0.1"
    # The key the consent links are signed with (required when the web part is on).
    web_secret: Secret | None = None
    # Reverse proxies whose X-Forwarded-For names the client (the pages' rate limit).
    web_trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()

    @property
    def email_enabled(self) -> bool:
        """Return whether invitations may go by email (SMTP and the consent pages are set)."""
        return self.smtp_url is not None and self.web_enabled

    @property
    def web_enabled(self) -> bool:
        """Return whether the consent pages are served."""
        return self.web_base_url is not None and self.web_port is not None

    def require_token(self) -> Secret:
        """Return the token or raise the error that explains how to get one."""
        if self.discord_token is None:
            raise SettingsError(TOKEN_HELP)
        return self.discord_token


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _snowflake(name: str, raw: str) -> int:
    if not raw.isdigit() or not 15 <= len(raw) <= 21:
        raise SettingsError(
            f"{name}={raw!r} is not a Discord id. Enable Developer Mode in Discord, "
            "right-click the server and choose Copy Server ID."
        )
    return int(raw)


def _bool(name: str, raw: str) -> bool:
    low = raw.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise SettingsError(f"{name}={raw!r} must be true or false.")


def _database_url(raw: str) -> str:
    try:
        url = make_url(raw)
    except ArgumentError:
        raise SettingsError(
            f"DATABASE_URL={raw!r} is not a database URL. Use for example "
            "sqlite+aiosqlite:///data/magbot.db or postgresql+asyncpg://user@host/dbname."
        ) from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise SettingsError(
            f"DATABASE_URL names {url.get_backend_name()!r}: only SQLite and PostgreSQL "
            "are supported."
        )
    return raw


def _seconds(name: str, raw: str | None, default: float, *, low: float) -> float:
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not low <= value <= 3600:
        raise SettingsError(f"{name}={raw!r} must be a number of seconds from {low:g} to 3600.")
    return value


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Return settings read from ``environ`` (default: ``os.environ``).

    Raises ``SettingsError`` with one line naming the variable at fault.
    """
    env = os.environ if environ is None else environ

    def get(name: str) -> str | None:
        value = env.get(name)
        return value.strip() if value is not None and value.strip() else None

    token = get("DISCORD_TOKEN")
    if token is not None and (len(token) < 30 or any(c.isspace() for c in token)):
        raise SettingsError(
            "DISCORD_TOKEN does not look like a bot token (too short or has spaces). "
            "Copy it again from the Bot page of your application."
        )

    level = (get("LOG_LEVEL") or "INFO").upper()
    if level not in _LEVELS:
        raise SettingsError(f"LOG_LEVEL={level!r} must be one of {', '.join(_LEVELS)}.")

    shard_count: int | None = None
    raw_count = get("SHARD_COUNT")
    if raw_count is not None:
        if not raw_count.isdigit() or int(raw_count) < 1:
            raise SettingsError(f"SHARD_COUNT={raw_count!r} must be a whole number of 1 or more.")
        shard_count = int(raw_count)

    shard_ids: tuple[int, ...] | None = None
    raw_ids = get("SHARD_IDS")
    if raw_ids is not None:
        if shard_count is None:
            raise SettingsError("SHARD_IDS needs SHARD_COUNT too (the total number of shards).")
        parts = [p.strip() for p in raw_ids.split(",") if p.strip()]
        if not parts or not all(p.isdigit() for p in parts):
            raise SettingsError(f"SHARD_IDS={raw_ids!r} must list shard numbers, like 0,1.")
        shard_ids = tuple(sorted({int(p) for p in parts}))
        if shard_ids[-1] >= shard_count:
            raise SettingsError(
                f"SHARD_IDS={raw_ids!r} names a shard beyond SHARD_COUNT={shard_count} "
                "(shards are numbered from 0)."
            )

    dev_guild = get("DEV_GUILD_ID")
    api_url = get("DISCORD_API_URL")
    if api_url is not None and not api_url.startswith(("http://", "https://")):
        raise SettingsError(f"DISCORD_API_URL={api_url!r} must start with http:// or https://.")
    extra = get("EXTRA_COGS")
    extra_cogs = tuple(p.strip() for p in extra.split(",") if p.strip()) if extra else ()
    for name in extra_cogs:
        if not _module_exists(name):
            raise SettingsError(
                f"EXTRA_COGS names {name!r}, which Python cannot find. "
                "Give importable module names, separated by commas."
            )

    metrics_port: int | None = None
    raw_port = get("METRICS_PORT")
    if raw_port is not None:
        if not (raw_port.isascii() and raw_port.isdecimal()) or not 1 <= int(raw_port) <= 65535:
            raise SettingsError(
                f"METRICS_PORT={raw_port!r} must be a port number from 1 to 65535 "
                "(or unset, to serve no metrics)."
            )
        metrics_port = int(raw_port)

    web_port: int | None = None
    raw_web_port = get("WEB_PORT")
    if raw_web_port is not None:
        if (
            not (raw_web_port.isascii() and raw_web_port.isdecimal())
            or not 1 <= int(raw_web_port) <= 65535
        ):
            raise SettingsError(
                f"WEB_PORT={raw_web_port!r} must be a port number from 1 to 65535 "
                "(or unset, to serve no consent pages)."
            )
        web_port = int(raw_web_port)
    web_base_url = get("WEB_BASE_URL")
    if web_base_url is not None and not web_base_url.startswith(("http://", "https://")):
        raise SettingsError(
            f"WEB_BASE_URL={web_base_url!r} must start with https:// (or http:// for tests)."
        )
    web_secret = get("WEB_SECRET")
    if (
        web_base_url is not None
        and web_port is not None
        and (web_secret is None or len(web_secret) < 32)
    ):
        raise SettingsError(
            "WEB_SECRET must be set, at least 32 characters, when WEB_BASE_URL and "
            "WEB_PORT are: it signs the consent links. Make one with "
            "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`."
        )
    smtp_url = get("SMTP_URL")
    if smtp_url is not None and not smtp_url.startswith("smtp://"):
        raise SettingsError(
            "SMTP_URL must look like smtp://user:password@host:587 (or smtp://host:25)."
        )
    smtp_sender = get("SMTP_SENDER")
    if smtp_url is not None and (smtp_sender is None or "@" not in smtp_sender):
        raise SettingsError("SMTP_SENDER must be set to the From: address when SMTP_URL is.")
    smtp_tls = (get("SMTP_TLS") or "starttls").lower()
    if smtp_tls not in ("starttls", "tls", "none"):
        raise SettingsError(f"SMTP_TLS={smtp_tls!r} must be starttls, tls or none.")

    web_trusted_proxies = _networks("WEB_TRUSTED_PROXIES", get("WEB_TRUSTED_PROXIES") or "")

    database_timeout = _seconds("DATABASE_TIMEOUT", get("DATABASE_TIMEOUT"), 1.5, low=0.1)
    database_wait = _seconds("DATABASE_WAIT", get("DATABASE_WAIT"), 60.0, low=0.0)

    return Settings(
        database_timeout=database_timeout,
        database_wait=database_wait,
        discord_token=Secret(token) if token else None,
        database_url=_database_url(get("DATABASE_URL") or DEFAULT_DATABASE_URL),
        dev_guild_id=_snowflake("DEV_GUILD_ID", dev_guild) if dev_guild else None,
        log_level=level,
        shard_count=shard_count,
        shard_ids=shard_ids,
        auto_migrate=_bool("AUTO_MIGRATE", get("AUTO_MIGRATE") or "true"),
        discord_api_url=api_url.rstrip("/") if api_url else None,
        extra_cogs=extra_cogs,
        metrics_port=metrics_port,
        metrics_host=get("METRICS_HOST") or "127.0.0.1",
        smtp_url=Secret(smtp_url) if smtp_url else None,
        smtp_sender=smtp_sender,
        smtp_tls=smtp_tls,
        web_base_url=web_base_url.rstrip("/") if web_base_url else None,
        web_port=web_port,
        web_host=get("WEB_HOST") or "127.0.0.1",
        web_secret=Secret(web_secret) if web_secret else None,
        web_trusted_proxies=web_trusted_proxies,
    )


def _networks(name: str, raw: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """Return the addresses or networks of a comma-separated list (CIDR or plain)."""
    networks = []
    for part in raw.split(","):
        text = part.strip()
        if not text:
            continue
        try:
            networks.append(ip_network(text, strict=False))
        except ValueError:
            raise SettingsError(
                f"{name}: {text!r} is not an IP address or network. Give a comma-separated "
                "list of addresses or networks, e.g. 127.0.0.1,10.0.0.0/8,::1."
            ) from None
    return tuple(networks)


def setup_logging(level: str) -> None:
    """Configure logging once for the whole process; discord.py's chatter turned down."""
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-8s %(name)s: %(message)s",
    )
    logging.getLogger("discord").setLevel(max(logging.getLevelName(level), logging.INFO))
    logging.getLogger("discord.http").setLevel(logging.WARNING)
    logging.getLogger("discord.gateway").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)

"""``magbot`` (also ``python -m bot``): run the bot, sync commands, migrate, translations.

Without a ``DISCORD_TOKEN``, ``magbot run`` (also plain ``magbot``, and ``make
run``) starts the sandbox when standard input is a terminal: someone is there to
chat with it. Otherwise it exits with status 2 and says how to get a token,
because a server or a container without a token must fail loudly rather than
start a demo. ``magbot sandbox`` starts the sandbox in any case.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dotenv import load_dotenv

from bot.settings import TOKEN_HELP, Settings, SettingsError, load_settings, setup_logging

log = logging.getLogger("magbot")

EXIT_CONFIG = 2
EXIT_DATABASE = 3
SANDBOX_HINT = (
    "To try the bot without a Discord account, run `magbot sandbox` (`make sandbox` in a checkout)."
)


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="magbot", description="Discord bot for a multistakeholder advisory group."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser(
        "run",
        help="connect to Discord and serve commands (the default); without a token, "
        "in a terminal, start the sandbox",
    )
    sandbox = sub.add_parser(
        "sandbox", help="try the bot in this terminal against a local Discord (no account needed)"
    )
    sandbox.add_argument(
        "--reset", action="store_true", help="delete the sandbox's database and start over"
    )
    sandbox.add_argument(
        "--data-dir",
        type=Path,
        default=Path("data/sandbox"),
        help="where the sandbox keeps its database, files and log (default: data/sandbox)",
    )
    sandbox.add_argument(
        "--locale",
        type=_locale,
        help="the Discord app language of the server and everyone on it: fr, es-ES, es-419, "
        "ru, zh-CN, zh-TW (default: en-US)",
    )
    sync = sub.add_parser("sync", help="register the slash commands with Discord")
    sync.add_argument("--guild", type=int, help="only this server (instant); default: global")
    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", metavar="DB_COMMAND", required=True)
    db_sub.add_parser("upgrade", help="bring the schema up to date")
    db_sub.add_parser("current", help="print the schema revision")
    revision = db_sub.add_parser("revision", help="write a migration from the models (dev)")
    revision.add_argument("-m", "--message", required=True)
    messages = sub.add_parser(
        "messages",
        help="bring the translation catalogues up to date with the code (docs/languages.md)",
    )
    messages.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 if a catalogue lacks a text or keeps one the code dropped",
    )
    return parser


class DatabaseUnreachable(Exception):
    """The database could not be used at start; the message is one line for the operator."""


async def reach_database(settings: Settings, *, sleep: Any = asyncio.sleep) -> None:
    """Return once the database answers; wait for it up to ``DATABASE_WAIT`` seconds.

    Each failed attempt is one log line. A database that is away (refused,
    timed out, locked) is tried again with a growing pause; one that answers
    with an error that waiting cannot fix (bad password, no such database)
    ends the wait at once. Either way ``DatabaseUnreachable`` names
    ``DATABASE_URL`` in one line.
    """
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from bot.services.faults import outage
    from storage.database import Database, is_unavailable

    where = make_url(settings.database_url).render_as_string(hide_password=True)
    loop = asyncio.get_running_loop()
    give_up = loop.time() + settings.database_wait
    pause, attempt = 1.0, 0
    while True:
        attempt += 1
        db = Database(settings.database_url, timeout=max(settings.database_timeout, 3.0))
        try:
            async with db.read() as session:
                await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        except Exception as error:
            reason = outage(error)
            if not is_unavailable(error):
                raise DatabaseUnreachable(
                    f"the database at DATABASE_URL={where} refused to work: {reason}"
                ) from None
            left = give_up - loop.time()
            if left <= 0:
                raise DatabaseUnreachable(
                    f"the database at DATABASE_URL={where} did not answer within "
                    f"{settings.database_wait:g} s (DATABASE_WAIT): {reason}"
                ) from None
            wait = min(pause, left)
            log.warning(
                "database at %s not reachable (attempt %d: %s); trying again in %.0f s",
                where,
                attempt,
                reason,
                wait,
            )
            await sleep(wait)
            pause = min(pause * 2, 10.0)
        else:
            if attempt > 1:
                log.info("database at %s reachable after %d attempts", where, attempt)
            return
        finally:
            await db.dispose()


async def _run(settings: Settings) -> int:
    # The start makes a great many objects that live as long as the process
    # (classes, models, the command tree): collecting garbage among them only
    # slows the start (by about 15%). MagBot.setup_hook turns it back on.
    gc.disable()
    from bot.client import MagBot, use_api

    token = settings.require_token().get()
    await reach_database(settings)
    use_api(settings.discord_api_url)
    bot = MagBot(settings, serve_metrics=True, freeze_heap=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    async with bot:
        runner = asyncio.create_task(bot.start(token), name="discord")
        stopper = asyncio.create_task(stop.wait(), name="signals")
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if stopper in done:
            log.info("stop signal received, shutting down")
        else:
            stopper.cancel()
        await bot.close()
        if runner in done and runner.exception() is not None:
            raise runner.exception()  # type: ignore[misc]
        runner.cancel()
    return 0


async def _sync(settings: Settings, guild_id: int | None) -> int:
    import discord

    from bot.client import MagBot, use_api

    token = settings.require_token().get()
    await reach_database(settings)
    use_api(settings.discord_api_url)
    bot = MagBot(settings, sync_commands=False)
    async with bot:
        await bot.login(token)  # runs setup_hook: migrations and cogs
        guild = discord.Object(id=guild_id) if guild_id else None
        if guild is not None:
            bot.tree.copy_global_to(guild=guild)
        synced = await bot.tree.sync(guild=guild)
        where = f"server {guild_id}" if guild_id else "all servers (can take up to an hour)"
        print(f"Registered {len(synced)} commands for {where}.")
    return 0


async def _db(settings: Settings, args: argparse.Namespace) -> int:
    from storage import migrate
    from storage.database import Database

    await reach_database(settings)
    db = Database(settings.database_url)
    try:
        if args.db_command == "upgrade":
            await migrate.upgrade(db)
            print(f"Database is at revision {await migrate.current_revision(db)}.")
        elif args.db_command == "current":
            print(await migrate.current_revision(db) or "empty (run `magbot db upgrade`)")
        elif args.db_command == "revision":
            await migrate.make_revision(db, args.message)
    finally:
        await db.dispose()
    return 0


async def _messages(settings: Settings, *, check: bool) -> int:
    from bot.client import command_list
    from bot.localisation import catalogue_problems, template, update_catalogues

    pot = template(await command_list(settings))
    if check:
        problems = catalogue_problems(pot)
        for problem in problems:
            print(problem)
        print(f"{len(pot)} texts; {len(problems)} problems in the catalogues.")
        return 1 if problems else 0
    missing = update_catalogues(pot)
    print(f"{len(pot)} texts to translate.")
    for code, count in missing.items():
        print(f"{code}: {count} untranslated" if count else f"{code}: complete")
    return 0


def _locale(text: str) -> str:
    import bot.sandbox

    try:
        return bot.sandbox.sandbox_locale(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _sandbox(
    settings: Settings,
    data_dir: Path | None,
    *,
    reset: bool,
    no_token: bool,
    locale: str | None = None,
) -> int:
    import bot.sandbox

    folder = data_dir or bot.sandbox.DEFAULT_DATA_DIR
    return bot.sandbox.main(
        settings, data_dir=folder, reset=reset, no_token=no_token, locale=locale
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``magbot``; returns the exit status."""
    args = build_parser().parse_args(argv)
    load_dotenv(".env")
    try:
        settings = load_settings()
        command = args.command or "run"
        if command == "sandbox":
            return _sandbox(
                settings, args.data_dir, reset=args.reset, no_token=False, locale=args.locale
            )
        if command == "run" and settings.discord_token is None:
            if not sys.stdin.isatty():
                raise SettingsError(f"{TOKEN_HELP} {SANDBOX_HINT}")
            return _sandbox(settings, None, reset=False, no_token=True)
        setup_logging(settings.log_level)
        if command == "run":
            return asyncio.run(_run(settings))
        if command == "sync":
            return asyncio.run(_sync(settings, args.guild))
        if command == "messages":
            return asyncio.run(_messages(settings, check=args.check))
        return asyncio.run(_db(settings, args))
    except SettingsError as error:
        print(f"magbot: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except DatabaseUnreachable as error:
        print(f"magbot: {error}", file=sys.stderr)
        return EXIT_DATABASE
    except KeyboardInterrupt:
        return 0


def run() -> None:
    """Console-script wrapper: exit with ``main()``'s status."""
    sys.exit(main())

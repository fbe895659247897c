"""Run the sandbox: the local Discord, the demo server, the real bot, the terminal chat.

Everything runs in this one process and one event loop. The bot is
``MagBot`` exactly as ``magbot run`` builds it; only its settings differ
(a fixed fake token, the sandbox's own SQLite file, the demo server as the
development guild so that its commands are synced at start) and its clock,
which ``:advance`` moves. The bot's log goes to a file; an error it logs is
announced in the chat in one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TextIO

import discord

from bot.client import MagBot
from bot.sandbox.clock import SandboxClock
from bot.sandbox.fakediscord import FakeDiscord
from bot.sandbox.terminal import Terminal
from bot.sandbox.world import build_demo_world
from bot.settings import Secret, Settings, setup_logging

log = logging.getLogger(__name__)

#: Never sent anywhere but the local Discord, which only checks its "Bot " prefix.
SANDBOX_TOKEN = "sandbox.local-discord-only.not-a-real-discord-token"
DATABASE_FILE = "sandbox.db"
# Manage Events and Create Events: the bot keeps meetings' scheduled events in step.
EVENT_PERMISSIONS = discord.Permissions(manage_events=True, create_events=True).value
CLOCK_FILE = "clock-offset"
START_TIMEOUT = 60.0
FIRST_STEPS = """\
First time here? Set the demo server up as Ada, its admin (copy these lines):
  /config role purpose:mag role:@MAG
  /config role purpose:secretariat role:@Secretariat
  /config channel purpose:reminders channel:#reminders
  /config channel purpose:digest channel:#digest
Then act as others (:who, /as Olu) and try /proposal submit or /consultation list.
A tour: docs/sandbox.md."""


@dataclasses.dataclass(frozen=True)
class Paths:
    """Where the sandbox keeps its state, all under one folder."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / DATABASE_FILE

    @property
    def clock(self) -> Path:
        return self.root / CLOCK_FILE

    @property
    def files(self) -> Path:
        return self.root / "files"

    @property
    def log(self) -> Path:
        return self.root / "bot.log"

    @property
    def history(self) -> Path:
        return self.root / "history"

    def database_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.database.resolve()}"

    def reset(self) -> list[Path]:
        """Delete the database, the clock offset and the saved files; return what existed."""
        removed = []
        for path in (
            self.database,
            self.database.with_name(DATABASE_FILE + "-wal"),
            self.database.with_name(DATABASE_FILE + "-shm"),
            self.clock,
        ):
            if path.exists():
                path.unlink()
                removed.append(path)
        if self.files.is_dir():
            for item in self.files.iterdir():
                if item.is_file():
                    item.unlink()
            removed.append(self.files)
        return removed


def sandbox_settings(base: Settings, paths: Paths, *, guild_id: int, api_url: str) -> Settings:
    """Return the bot's settings in the sandbox: never the real token or database."""
    return dataclasses.replace(
        base,
        discord_token=Secret(SANDBOX_TOKEN),
        database_url=paths.database_url(),
        dev_guild_id=guild_id,
        shard_count=None,
        shard_ids=None,
        auto_migrate=True,
        discord_api_url=api_url,
        metrics_port=None,  # the production port may be in use by the real bot
    )


class TerminalNotices(logging.Handler):
    """Announce the bot's errors in the chat, one line each (the details stay in the log)."""

    def __init__(self, terminal: Terminal, log_path: str) -> None:
        super().__init__(logging.ERROR)
        self._terminal = terminal
        self._log_path = log_path

    def emit(self, record: logging.LogRecord) -> None:
        try:
            first = record.getMessage().strip().splitlines()[0][:200]
        except Exception:
            first = record.msg if isinstance(record.msg, str) else "an error"
        self._terminal.notice_threadsafe(f"The bot logged an error: {first} (see {self._log_path})")


@contextlib.contextmanager
def logging_to(path: Path, level: str) -> Iterator[logging.FileHandler]:
    """Send every log record to ``path`` (not the terminal) while the sandbox runs."""
    root = logging.getLogger()
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-8s %(name)s: %(message)s"))
    saved_level, saved_handlers = root.level, list(root.handlers)
    for existing in saved_handlers:
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    setup_logging(level)  # the root has a handler now: this only quiets discord.py & co.
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        handler.close()
        for existing in saved_handlers:
            root.addHandler(existing)
        root.setLevel(saved_level)


async def next_due(bot: MagBot) -> datetime | None:
    """Return when the bot next has something to deliver (a reminder, a digest), if known."""
    times = []
    for name in ("reminders", "digests", "consultations", "meetings"):
        finder = getattr(getattr(bot.services, name, None), "next_due", None)
        if finder is not None:
            moment = await finder()
            if moment is not None:
                times.append(moment)
    return min(times, default=None)


async def run_sandbox(
    base: Settings,
    *,
    data_dir: Path,
    reset: bool = False,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    interactive: bool | None = None,
    locale: str | None = None,
) -> int:
    """Run the sandbox until ``:quit``, end of input, SIGTERM or Ctrl-C; return the exit status.

    ``locale`` (a Discord locale such as ``fr``) is the language of the demo
    server and of everyone's Discord app on it; ``/as`` keeps each person's.
    """
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    if interactive is None:
        interactive = stdin is sys.stdin and stdin.isatty()
    paths = Paths(data_dir)
    paths.root.mkdir(parents=True, exist_ok=True)
    paths.files.mkdir(exist_ok=True)

    def say(text: str) -> None:
        stdout.write(text + "\n")
        stdout.flush()

    if reset and paths.reset():
        say(f"Started over: the sandbox's database in {_shown(paths.root)} was deleted.")
    fresh = not paths.database.exists()
    with logging_to(paths.log, base.log_level) as file_handler:
        log.info("sandbox starting in %s", paths.root)
        fake = FakeDiscord()
        await fake.start()
        clock = SandboxClock.load(paths.clock)
        world = build_demo_world(fake, locale=locale)
        # Invited with the events permissions, as the README says (issue 15: meetings).
        world.guild.bot_role.permissions |= EVENT_PERMISSIONS
        settings = sandbox_settings(base, paths, guild_id=world.guild.id, api_url=fake.url)
        bot = MagBot(settings, clock=clock)
        terminal = Terminal(
            fake,
            world,
            clock=clock,
            run_jobs=bot.clock.run_jobs_now,
            files_dir=paths.files,
            stdin=stdin,
            stdout=stdout,
            interactive=interactive,
            on_clock_moved=lambda: clock.save(paths.clock),
            next_due=lambda: next_due(bot),
            history=paths.history,
        )
        notices = TerminalNotices(terminal, _shown(paths.log))
        logging.getLogger().addHandler(notices)
        loop = asyncio.get_running_loop()
        signals = []
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, terminal.stop)
                signals.append(signum)
        try:
            with fake.patch_discord():
                async with bot:
                    runner = asyncio.create_task(bot.start(SANDBOX_TOKEN), name="discord")
                    try:
                        if not await _started(fake, world.guild.id, runner, say, paths):
                            return 1
                        count = len(fake.commands(world.guild.id))
                        say(
                            f"Ready: the bot is on the demo server {world.guild.name!r} "
                            f"with {count} commands."
                        )
                        say(
                            "You are Ada Admin (server admin) in #general. Type /help for the "
                            "bot's commands, :help for the sandbox's, :quit to leave."
                        )
                        if fresh:
                            say(FIRST_STEPS)
                        await terminal.run()
                    finally:
                        await bot.close()
                        with contextlib.suppress(asyncio.CancelledError, Exception):
                            await runner
        finally:
            for signum in signals:
                loop.remove_signal_handler(signum)
            logging.getLogger().removeHandler(notices)
            await fake.stop()
            log.info("sandbox stopped")
            file_handler.flush()
    say("Bye. The sandbox keeps its state for next time (--reset starts over).")
    return 0


async def _started(
    fake: FakeDiscord,
    guild_id: int,
    runner: asyncio.Task[None],
    say: Callable[[str], None],
    paths: Paths,
) -> bool:
    """Wait until the bot has synced its commands and connected; False if it failed."""

    async def ready() -> None:
        await fake.wait_for_commands(guild_id, timeout=START_TIMEOUT)
        await fake.wait_connected(timeout=START_TIMEOUT)

    waiting = asyncio.ensure_future(ready())
    done, _ = await asyncio.wait({waiting, runner}, return_when=asyncio.FIRST_COMPLETED)
    if waiting in done and waiting.exception() is None:
        return True
    waiting.cancel()
    if runner.done() and not runner.cancelled() and runner.exception() is not None:
        error = runner.exception()
        reason = f"{type(error).__name__}: {error}"
    elif waiting.done() and not waiting.cancelled() and waiting.exception() is not None:
        reason = str(waiting.exception())
    else:
        reason = "it stopped"
    log.warning("the bot did not start in the sandbox: %s", reason)
    say(f"✗ The bot could not start: {reason.splitlines()[0]} (details in {_shown(paths.log)}).")
    return False


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)

"""The real bot, as a separate process, against the local fake Discord.

``BotProcess`` runs ``python -m bot run`` exactly as an operator would, with
``DISCORD_API_URL`` pointing at the fake. Its log is kept so that a test can
wait for a line, and so that the suite can fail on any error the bot logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import Awaitable, Mapping
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "MTAxMDEwMTAxMDEwMTAxMDEwMQ.fake.e2e-token-not-secret-0123456789"
T = TypeVar("T")
LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
ERROR_LINE = re.compile(r"\b(ERROR|CRITICAL)\b|Traceback \(most recent call last\)")


class BotProcess:
    """One ``magbot run`` process; start, stop, restart, read its log."""

    def __init__(self, *, api_url: str, guild_id: int, workdir: Path, env: Mapping[str, str]):
        self.api_url = api_url
        self.guild_id = guild_id
        self.workdir = workdir
        self.extra_env = dict(env)
        self.lines: list[str] = []
        self.expected_errors: list[str] = []  # error ids a test provoked on purpose
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._new_line = asyncio.Event()
        self.starts = 0

    @property
    def pid(self) -> int:
        """Return the running process's id."""
        assert self._process is not None, "not running"
        return self._process.pid

    @property
    def log_path(self) -> Path:
        return self.workdir / "bot.log"

    def environment(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_"))}
        return {
            **keep,
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "DISCORD_TOKEN": TOKEN,
            "DISCORD_API_URL": self.api_url,
            "DEV_GUILD_ID": str(self.guild_id),
            "DATABASE_URL": f"sqlite+aiosqlite:///{self.workdir}/magbot.db",
            "LOG_LEVEL": "INFO",
            **self.extra_env,
        }

    async def start(self) -> None:
        """Start the process (``wait_until_serving`` tells when it answers)."""
        assert self._process is None, "already running"
        self.starts += 1
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=self.workdir,
            env=self.environment(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read(self._process))

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(f"--- start {self.starts} ---\n")
            async for raw in process.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self.lines.append(line)
                log.write(line + "\n")
                log.flush()
                self._new_line.set()

    async def wait_for_line(self, pattern: str, *, after: int = 0, timeout: float = 20) -> str:
        """Return the first log line (from index ``after``) matching ``pattern``."""
        regex = re.compile(pattern)

        async def scan() -> str:
            seen = after
            while True:
                for line in self.lines[seen:]:
                    if regex.search(line):
                        return line
                seen = len(self.lines)
                if self._process is not None and self._process.returncode is not None:
                    raise AssertionError(
                        f"bot exited while waiting for {pattern!r}:\n{self.tail()}"
                    )
                self._new_line.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new_line.wait(), 0.5)

        try:
            return await asyncio.wait_for(scan(), timeout)
        except TimeoutError:
            raise AssertionError(f"no log line matching {pattern!r}:\n{self.tail()}") from None

    async def alive_while(self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable``, failing at once (with the log) if the bot exits meanwhile."""
        process = self._process
        assert process is not None, "not running"
        waiting = asyncio.ensure_future(awaitable)
        exited = asyncio.ensure_future(process.wait())
        done, _ = await asyncio.wait({waiting, exited}, return_when=asyncio.FIRST_COMPLETED)
        if waiting in done:
            exited.cancel()
            return waiting.result()
        waiting.cancel()
        raise AssertionError(f"the bot exited with status {exited.result()}:\n{self.tail()}")

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        """Send ``sig`` and return the exit status."""
        process = self._process
        assert process is not None, "not running"
        if process.returncode is None:
            process.send_signal(sig)
        try:
            status = await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise AssertionError(f"bot ignored signal {sig}:\n{self.tail()}") from None
        if self._reader is not None:
            await self._reader
        self._process = None
        return status

    def unexpected_errors(self) -> list[str]:
        """Return error records of the log that no test asked for.

        A traceback belongs to the log record above it, so the traceback of an
        expected error (its id in ``expected_errors``) is expected too.
        """
        bad = []
        record_expected = False
        for line in self.lines:
            if LOG_RECORD.match(line):
                record_expected = any(eid in line for eid in self.expected_errors)
            if ERROR_LINE.search(line) and not record_expected:
                bad.append(line)
        return bad

    def tail(self, count: int = 40) -> str:
        return "\n".join(self.lines[-count:])

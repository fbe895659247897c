"""Lines from standard input without blocking the event loop.

One daemon thread does the blocking reads (``input()`` with readline on a
terminal, so that line editing, history and Tab completion work;
``readline()`` on a pipe) and hands each line to the loop. The loop asks for
one line at a time, so a prompt appears only once the previous command's
answer has been shown. A daemon thread never keeps the process alive when
the sandbox stops while a read is pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

Completer = Callable[[str, int], str | None]


class LineReader:
    """Read prompted lines in a thread; ``await read(prompt)`` returns a line or None at EOF."""

    def __init__(
        self,
        stdin: TextIO,
        *,
        interactive: bool,
        completer: Completer | None = None,
        history: Path | None = None,
    ) -> None:
        self._stdin = stdin
        self.interactive = interactive
        self.completer = completer
        self._history = history
        self._requests: queue.SimpleQueue[tuple[str, asyncio.Future[str | None]] | None] = (
            queue.SimpleQueue()
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._readline: ModuleType | None = None
        self._saved_tty: list[Any] | None = None
        #: True while the thread waits in ``input()`` (the prompt is on screen).
        self.waiting = False
        self.prompt = ""

    def start(self) -> None:
        """Start the reading thread (call from the event loop)."""
        self._loop = asyncio.get_running_loop()
        if self.interactive:
            self._setup_readline()
        self._thread = threading.Thread(target=self._run, name="sandbox-stdin", daemon=True)
        self._thread.start()

    async def read(self, prompt: str) -> str | None:
        """Return the next line (without its newline), or None at end of input."""
        assert self._loop is not None, "start() first"
        future: asyncio.Future[str | None] = self._loop.create_future()
        self._requests.put((prompt, future))
        return await future

    def stop(self) -> None:
        """Let the thread end after its current read; restore the terminal and save history."""
        self._requests.put(None)
        if self._readline is not None and self._history is not None:
            with contextlib.suppress(OSError):
                self._readline.write_history_file(str(self._history))
        if self._saved_tty is not None:
            import termios

            with contextlib.suppress(termios.error, OSError, ValueError):
                termios.tcsetattr(self._stdin.fileno(), termios.TCSADRAIN, self._saved_tty)

    def line_buffer(self) -> str:
        """Return what the user has typed so far at the prompt (terminal only)."""
        if self._readline is None:
            return ""
        return str(self._readline.get_line_buffer())

    def completion_context(self) -> tuple[str, int]:
        """Return the line being typed and where the word to complete begins."""
        if self._readline is None:
            return "", 0
        return str(self._readline.get_line_buffer()), int(self._readline.get_begidx())

    def _setup_readline(self) -> None:
        try:
            import termios

            self._saved_tty = termios.tcgetattr(self._stdin.fileno())
        except (ImportError, OSError, ValueError):
            self._saved_tty = None
        try:
            import readline
        except ImportError:  # Windows without pyreadline: plain input() still works
            return
        self._readline = readline
        if self.completer is not None:
            readline.set_completer(self.completer)
            readline.set_completer_delims(" \t\n")
            if "libedit" in (readline.__doc__ or ""):
                readline.parse_and_bind("bind ^I rl_complete")
            else:
                readline.parse_and_bind("tab: complete")
        if self._history is not None:
            with contextlib.suppress(OSError):
                readline.read_history_file(str(self._history))
            readline.set_history_length(500)

    def _run(self) -> None:
        while (request := self._requests.get()) is not None:
            prompt, future = request
            line: str | None
            try:
                if self.interactive:
                    self.prompt, self.waiting = prompt, True
                    try:
                        line = input(prompt)
                    finally:
                        self.waiting = False
                else:
                    raw = self._stdin.readline()
                    line = raw.rstrip("\r\n") if raw else None
            except (EOFError, KeyboardInterrupt, OSError, ValueError):
                line = None
            loop = self._loop
            if loop is None or loop.is_closed():
                return
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(_resolve, future, line)


def _resolve(future: asyncio.Future[str | None], line: str | None) -> None:
    if not future.done():
        future.set_result(line)

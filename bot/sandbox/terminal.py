"""The sandbox's chat: slash commands in, what a Discord client would show out.

It reads one line at a time from standard input (in a thread: the event loop
never waits on the keyboard) and writes to standard output. A slash command
is checked against the commands the bot registered and injected into the
local Discord as the person one acts as; whatever the bot then does (a reply,
a form, a message in a channel, a DM, a file) is shown as it arrives. Lines
starting with ``:`` are the sandbox's own (``:help``). A mistake at the
prompt gets one line starting with ``✗``, never a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, TextIO

from bot.sandbox.clock import DurationError, SandboxClock, format_duration, parse_duration
from bot.sandbox.completion import Completions
from bot.sandbox.display import MessageView, format_timestamp, plain, pressable, selects
from bot.sandbox.fakediscord import ADMINISTRATOR, FakeDiscord, FakeInteraction, FakeMessage
from bot.sandbox.fakediscord.interactions import (
    DEFERRED_CHANNEL_MESSAGE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
)
from bot.sandbox.forms import Cancelled, FormFiller, component_values
from bot.sandbox.reader import LineReader
from bot.sandbox.slash import (
    INTEGER,
    NUMBER,
    Directory,
    InputError,
    Invocation,
    convert,
    fold,
    option_value,
    options_of,
    parse,
    permission_names,
    slash_commands,
    subcommands,
)
from bot.sandbox.world import DemoWorld

log = logging.getLogger(__name__)

SANDBOX_COMMANDS = (
    ":help",
    ":who",
    ":as",
    ":in",
    ":press",
    ":choose",
    ":advance",
    ":time",
    ":quit",
)

HELP = """\
The bot's own commands start with a slash: /help lists them.
  /command option:value ...  run one; Tab completes command, option and value names
                            a value runs to the next option: /config cycle name:IGF 2027
                            name people, channels and roles: member:@Mina channel:#digest role:@MAG
  /as NAME  (or :as NAME)   act as someone else on the server
  :who                      who is on the demo server, with their roles
  :in #channel              type your commands in another channel
  :press 2, :press Confirm  press a button of the latest message that has buttons
  :choose OPTION[, OPTION]  choose in the latest menu, by number or by label
  :advance 2d               move the bot's clock forward (w, d, h, m): reminders and digests fire
  :time                     the sandbox's date and time
  :quit                     leave (the sandbox keeps its state; --reset starts over)
In a form, answer one field a line; Enter leaves an optional field empty; :cancel closes it."""

NOT_A_COMMAND = (
    "Type a slash command such as /help, or :help for the sandbox's own commands "
    "(plain chat is not sent: the bot only reads commands)."
)
ANSWER_TIMEOUT = 15.0
#: Without ``next_due``, the clock moves in at most this many steps.
ADVANCE_STEPS = 24
#: At most this many stops where something falls due, in one ``:advance``.
MAX_STOPS = 200


def first_line(error: BaseException) -> str:
    """Return the first line of an error's text (the fake's explanations come first)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class Terminal:
    """One person at a keyboard, acting as any member of the demo server."""

    def __init__(
        self,
        fake: FakeDiscord,
        world: DemoWorld,
        *,
        clock: SandboxClock,
        run_jobs: Callable[[], Awaitable[None]],
        files_dir: Path,
        stdin: TextIO,
        stdout: TextIO,
        interactive: bool,
        on_clock_moved: Callable[[], None] = lambda: None,
        next_due: Callable[[], Awaitable[datetime | None]] | None = None,
        history: Path | None = None,
        zone: tzinfo | None = None,
        answer_timeout: float = ANSWER_TIMEOUT,
    ) -> None:
        self.fake = fake
        self.world = world
        self.directory = Directory(fake, world)
        self.clock = clock
        self.run_jobs = run_jobs
        self.on_clock_moved = on_clock_moved
        self.next_due = next_due
        self.files_dir = files_dir
        self.zone = zone
        self.answer_timeout = answer_timeout
        self.user = world.users["admin"]
        self.channel = world.channels["general"]
        self._stdout = stdout
        self.reader = LineReader(stdin, interactive=interactive, history=history)
        self.completions = Completions(
            self._schema,
            self.directory,
            SANDBOX_COMMANDS,
            labels=self._button_labels,
            choices=self._choice_labels,
            suggest=self._suggest_threadsafe,
            context=self.reader.completion_context,
        )
        self.reader.completer = self.completions.complete
        self._shown: dict[int, tuple[int, int, bool]] = {}
        self._saved: dict[int, dict[str, str]] = {}
        self._unread: dict[int, list[int]] = defaultdict(list)
        self._problems_seen = 0
        self._unexpected_seen = 0
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- output -------------------------------------------------------------------

    def write(self, text: str) -> None:
        """Show ``text``; on a terminal, keep the prompt and what was typed below it."""
        out = self._stdout
        if self.reader.interactive and self.reader.waiting:
            out.write(f"\r\x1b[K{text}\n{self.reader.prompt}{self.reader.line_buffer()}")
        else:
            out.write(text + "\n")
        out.flush()

    def error(self, text: str) -> None:
        self.write(f"✗ {text}")

    def notice(self, text: str) -> None:
        self.write(f"! {text}")

    def notice_threadsafe(self, text: str) -> None:
        """``notice`` from any thread (the log handler runs in whichever thread logs)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self.notice(text)
        else:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self.notice, text)

    def stop(self) -> None:
        """End the chat after the current line (SIGTERM, Ctrl-C)."""
        self._stop.set()

    @property
    def guild_id(self) -> int:
        return self.world.guild.id

    @property
    def prompt(self) -> str:
        name = self.directory.first_name(self.user)
        return f"{name} #{self.directory.channel_name(self.channel)}> "

    # -- the loop -------------------------------------------------------------------

    async def run(self) -> None:
        """Read and run lines until ``:quit``, end of input or ``stop()``."""
        self._loop = asyncio.get_running_loop()
        self.reader.start()
        await self._scan()
        watcher = asyncio.create_task(self._watch(), name="sandbox-feed")
        try:
            while not self._stop.is_set():
                line = await self._read(self.prompt)
                if line is None or not await self.handle(line):
                    break
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await self._scan()
            if self._stop.is_set() and self.reader.interactive:
                self._stdout.write("\n")  # Ctrl-C at the prompt: leave the typed line
            self.reader.stop()

    async def _read(self, prompt: str) -> str | None:
        reading = asyncio.ensure_future(self.reader.read(prompt))
        stopping = asyncio.ensure_future(self._stop.wait())
        done, _ = await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if reading not in done:
            reading.cancel()
            return None
        line = reading.result()
        if line is not None and not self.reader.interactive:
            self.write(prompt + line)  # a transcript reads like the session it was
        return line

    async def handle(self, line: str) -> bool:
        """Run one line; return False to leave."""
        text = line.strip()
        if not text:
            return True
        try:
            if text.startswith(":"):
                if not await self._sandbox_command(text):
                    return False
            elif re.match(r"/as(\s|$)", text) and not self._bot_has("as"):
                self._act_as(text[3:].strip())
            elif text.startswith("/"):
                await self._slash(text)
            else:
                self.error(NOT_A_COMMAND)
        except InputError as error:
            self.error(str(error))
        except AssertionError as error:  # the local Discord refused the invocation
            self.error(first_line(error))
        except Exception:
            log.warning("sandbox: %r failed", text, exc_info=True)
            self.error("The sandbox could not do that; the details are in its log.")
        await self._settle()
        return True

    # -- what arrives ---------------------------------------------------------------

    async def _watch(self) -> None:
        while True:
            await self.fake.changed()
            await asyncio.sleep(0.05)  # show a burst of changes at once
            await self._scan()

    async def _settle(self, quiet: float = 0.1, limit: float = 3.0) -> None:
        """Wait until the bot has been quiet a moment, then show what it did."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while loop.time() < deadline:
            if not await self.fake.changed(timeout=quiet):
                break
        await self._scan()

    async def _scan(self) -> None:
        async with self._lock:
            for message in self.fake.all_messages():
                if message.loading:
                    continue  # "MAG Bot is thinking…": the answer follows
                state = (len(message.edits), message.flags, message.deleted)
                before = self._shown.get(message.id)
                if before == state:
                    continue
                self._shown[message.id] = state
                if message.deleted:
                    continue
                await self._save_files(message)
                self._show(message, edited=before is not None)
            self._report_problems()

    def _report_problems(self) -> None:
        for problem in self.fake.protocol_errors[self._problems_seen :]:
            self.notice(
                f"Discord would have refused what the bot sent: {problem.message} "
                f"({problem.kind}, {problem.method} {problem.path.split('/api/v10')[-1]})"
            )
        self._problems_seen = len(self.fake.protocol_errors)
        for method, path in self.fake.unexpected[self._unexpected_seen :]:
            self.notice(f"The bot called {method} {path}, which the sandbox's Discord lacks.")
        self._unexpected_seen = len(self.fake.unexpected)

    async def _save_files(self, message: FakeMessage) -> None:
        saved = self._saved.setdefault(message.id, {})
        for filename, blob in message.attachments:
            if filename in saved:
                continue
            safe = re.sub(r"[^\w.-]+", "_", Path(filename).name) or "file"
            stem, dot, suffix = safe.rpartition(".")
            name = (
                f"{stem}-{message.id % 1_000_000:06d}.{suffix}" if dot else f"{safe}-{message.id}"
            )
            path = self.files_dir / name
            await asyncio.to_thread(_write_file, path, blob)
            saved[filename] = _shown_path(path)

    def _show(self, message: FakeMessage, *, edited: bool) -> None:
        recipient = self.fake.dm_recipient(message.channel_id)
        if recipient is not None and recipient.id != self.user:
            self._unread[recipient.id].append(message.id)
            name = self.directory.display_name(recipient.id)
            first = self.directory.first_name(recipient.id)
            self.write(f"\n✉ MAG Bot sent a direct message to {name} (/as {first} to read it).")
            return
        view = MessageView(
            self.directory.names, self.clock.now(), self.zone, self._saved.get(message.id)
        )
        body = "\n".join(f"  {line}" for line in view.lines(message))
        self.write(f"\n{self._header(message, edited=edited, dm=recipient is not None)}\n{body}")

    def _header(self, message: FakeMessage, *, edited: bool, dm: bool) -> str:
        meta = message.interaction_metadata or {}
        parts = [message.author.username]
        if meta.get("name"):
            parts.append(f"/{meta['name']}")
        elif meta.get("type") in (MESSAGE_COMPONENT, MODAL_SUBMIT):
            parts.append("your click" if meta["type"] == MESSAGE_COMPONENT else "your form")
        if dm:
            parts.append("in your direct messages")
        elif message.channel_id != self.channel:
            parts.append(f"in #{self.directory.channel_name(message.channel_id)}")
        if message.ephemeral:
            owner = int((meta.get("user") or {}).get("id") or 0)
            who = "you" if owner in (0, self.user) else self.directory.display_name(owner)
            parts.append(f"only {who}")
        if edited:
            parts.append("edited")
        return " · ".join(parts) + ":"

    def _visible(self, message: FakeMessage) -> bool:
        """Whether the current person sees ``message`` (and so may click on it)."""
        if message.deleted or message.id not in self._shown:
            return False
        recipient = self.fake.dm_recipient(message.channel_id)
        if recipient is not None:
            return recipient.id == self.user
        if message.ephemeral:
            owner = int(((message.interaction_metadata or {}).get("user") or {}).get("id") or 0)
            return owner == self.user
        return True

    def _newest_visible(self) -> list[FakeMessage]:
        return [m for m in reversed(self.fake.all_messages()) if self._visible(m)]

    # -- slash commands -------------------------------------------------------------

    def _schema(self) -> list[dict[str, Any]]:
        return [*self.fake.commands(self.guild_id), *self.fake.commands(None)]

    def _bot_has(self, name: str) -> bool:
        return any(c["name"] == name for c in slash_commands(self._schema()))

    async def _slash(self, text: str) -> None:
        if not self._schema():
            raise InputError("The bot has not registered its commands yet: wait a moment.")
        locale = self.fake.users[self.user].locale
        invocation = parse(text, self._schema(), locale)
        self._check_visible(invocation.top)
        await self._pick_suggestions(invocation)
        options = convert(invocation, self.directory, locale)
        interaction = await self.fake.run_command(
            self.guild_id, self.channel, self.user, invocation.path, **options
        )
        await self._follow(interaction)

    def _check_visible(self, command: dict[str, Any]) -> None:
        """Say plainly what Discord would do: hide a command the person may not use."""
        required = command.get("default_member_permissions")
        guild = self.world.guild
        if required is None or (guild.id, command["name"]) in self.fake.opened_commands:
            return
        needed, have = int(required), guild.permissions_of(self.user)
        if have & ADMINISTRATOR or have & needed == needed:
            return
        missing = ", ".join(permission_names(needed & ~have))
        able = [
            self.directory.first_name(uid)
            for uid in self.directory.people()
            if guild.permissions_of(uid) & needed == needed
        ]
        hint = f" Act as someone who has it: /as {able[0]}." if able else ""
        name = self.directory.display_name(self.user)
        raise InputError(
            f"Discord does not offer /{command['name']} to {name}: it needs {missing}.{hint}"
        )

    async def _follow(self, interaction: FakeInteraction) -> None:
        """Wait for the bot's answer; fill in the form if it answered with one."""

        def answered(ix: FakeInteraction) -> bool:
            if ix.protocol_errors:
                return True
            if ix.callback is None:
                return False
            return ix.callback.type != DEFERRED_CHANNEL_MESSAGE or ix.reply is not None

        try:
            await interaction.wait_for(answered, self.answer_timeout)
        except AssertionError:
            self.error(
                f"MAG Bot did not answer within {self.answer_timeout:.0f} s "
                "(Discord would say: The application did not respond)."
            )
            return
        if interaction.modal is not None:
            await self._settle()
            await self._fill_form(interaction)

    async def _fill_form(self, interaction: FakeInteraction) -> None:
        modal = interaction.modal or {}
        self.write(
            f"\nMAG Bot opens a form: {self._plain(modal.get('title') or '')}\n"
            "  (one answer a line; Enter leaves an optional field empty; :cancel closes the form)"
        )
        filler = FormFiller(
            self.directory, read=self._read, write=self.write, error=self.error, plain=self._plain
        )
        try:
            values = await filler.fill(modal)
        except Cancelled:
            self.write("Form closed: nothing was sent.")
            return
        submitted = await self.fake.submit_modal(interaction, values, self.user)
        await self._follow(submitted)

    # -- the sandbox's own commands -----------------------------------------------

    async def _sandbox_command(self, text: str) -> bool:
        word, _, arg = text.partition(" ")
        word, arg = word.lower(), arg.strip()
        if word in (":quit", ":exit", ":q"):
            return False
        if word in (":help", ":h", ":?"):
            self.write(HELP)
        elif word == ":who":
            self._who()
        elif word == ":as":
            self._act_as(arg)
        elif word == ":in":
            self._move_to(arg)
        elif word == ":press":
            await self._press(arg)
        elif word == ":choose":
            await self._choose(arg)
        elif word == ":advance":
            await self._advance(arg)
        elif word == ":time":
            now = format_timestamp(self.clock.now(), "F", self.clock.now(), self.zone)
            ahead = self.clock.offset
            tail = f" (real time + {format_duration(ahead)})" if ahead.total_seconds() >= 60 else ""
            self.write(f"Sandbox time: {now}{tail}.")
        elif word == ":cancel":
            self.error("There is no form open.")
        else:
            raise InputError(f"There is no sandbox command {word}. Type :help.")
        return True

    def _who(self) -> None:
        lines = [f"People on {self.world.guild.name} (act as one with /as NAME):"]
        for uid in self.directory.people():
            person = self.world.person(uid)
            roles = ", ".join(f"@{r}" for r in self.directory.roles_of(uid)) or "no role"
            about = person.about if person else ""
            marker = "→" if uid == self.user else " "
            name = self.directory.display_name(uid)
            lines.append(f" {marker} {name:<16} {roles:<14} {about}".rstrip())
        self.write("\n".join(lines))

    def _act_as(self, name: str) -> None:
        if not name:
            raise InputError("Say who: /as Mina (:who lists everyone).")
        self.user = self.directory.find_user(name)
        roles = ", ".join(f"@{r}" for r in self.directory.roles_of(self.user)) or "no role"
        self.write(f"You are now {self.directory.display_name(self.user)} ({roles}).")
        for message_id in self._unread.pop(self.user, []):
            self._show(self.fake.message(message_id), edited=False)

    def _move_to(self, name: str) -> None:
        if not name:
            raise InputError("Say which channel: :in #general.")
        channel = self.directory.find_channel(name)
        if channel not in self.directory.text_channels():
            raise InputError("Commands can only be typed in a text channel.")
        self.channel = channel
        self.write(f"You are now in #{self.directory.channel_name(channel)}.")

    async def _press(self, arg: str) -> None:
        if not arg:
            raise InputError("Say which button: :press 1 or :press Confirm.")
        with_buttons = [m for m in self._newest_visible() if pressable(m)]
        if not with_buttons:
            raise InputError("There is no button to press.")
        message, button = None, None
        if arg.isdigit():
            message = with_buttons[0]
            buttons = pressable(message)
            number = int(arg)
            if not 1 <= number <= len(buttons):
                raise InputError(
                    f"The latest message with buttons has buttons 1 to {len(buttons)}."
                )
            button = buttons[number - 1]
        else:
            for exact in (True, False):
                for candidate in with_buttons:
                    for b in pressable(candidate):
                        label = fold(self._plain(b.get("label") or ""))
                        if label == fold(arg) or (not exact and label.startswith(fold(arg))):
                            message, button = candidate, b
                            break
                    if button is not None:
                        break
                if button is not None:
                    break
        if message is None or button is None:
            labels = ", ".join(self._button_labels())
            raise InputError(f"No button {arg!r} here. Buttons: {labels}.")
        if button.get("disabled"):
            raise InputError("That button is disabled.")
        interaction = await self.fake.click(message, str(button["custom_id"]), self.user)
        await self._follow(interaction)

    async def _choose(self, arg: str) -> None:
        items = [p.strip() for p in arg.split(",") if p.strip()]
        if not items:
            raise InputError("Say what to choose: :choose 2, or :choose a label.")
        menus = [
            (m, s) for m in self._newest_visible() for s in selects(m) if not s.get("disabled")
        ]
        if not menus:
            raise InputError("There is no menu to choose from.")
        last_error: InputError | None = None
        for message, menu in menus:
            try:
                values = component_values(self.directory, menu, items)
            except InputError as error:
                last_error = last_error or error
                continue
            interaction = await self.fake.click(
                message, str(menu["custom_id"]), self.user, values=values
            )
            await self._follow(interaction)
            return
        raise last_error or InputError("No menu offers that.")

    async def _advance(self, arg: str) -> None:
        try:
            delta = parse_duration(arg or "")
        except DurationError as error:
            raise InputError(str(error)) from None
        target = self.clock.now() + delta
        self.write(
            f"The clock moves {format_duration(delta)} forward, to "
            f"{format_timestamp(target, 'F', target, self.zone)} (sandbox time)."
        )
        before = len(self.fake.all_messages())
        await self._move_clock(delta)
        self.on_clock_moved()
        await self._settle()
        if len(self.fake.all_messages()) == before:
            self.write("Nothing fell due.")

    async def _move_clock(self, delta: timedelta) -> None:
        """Move the clock ``delta`` forward, stopping wherever something falls due on the way.

        Each stop runs the bot's periodic jobs at that moment, as its ticker
        would have: reminders go out on time and in order, not all at the end
        marked late. Without ``next_due`` the clock moves in equal steps.
        """
        final_offset = self.clock.offset + delta
        target = self.clock.now() + delta
        previous: datetime | None = None
        for _ in range(MAX_STOPS):
            due = await self.next_due() if self.next_due is not None else None
            if due is None or due > target or due == previous:
                break
            previous = due
            if due > self.clock.now():
                self.clock.advance(due - self.clock.now())
            await self.run_jobs()
        if self.next_due is None:
            steps = max(1, min(ADVANCE_STEPS, delta // timedelta(hours=1)))
            for _ in range(steps - 1):
                self.clock.advance(delta / steps)
                await self.run_jobs()
        if final_offset > self.clock.offset:
            self.clock.advance(final_offset - self.clock.offset)
        await self.run_jobs()

    # -- completion helpers (called from the reading thread) -------------------------

    def _button_labels(self) -> list[str]:
        labels: list[str] = []
        for message in self._newest_visible():
            for button in pressable(message):
                label = self._plain(button.get("label") or "")
                if label and label not in labels:
                    labels.append(label)
        return labels

    def _choice_labels(self) -> list[str]:
        for message in self._newest_visible():
            for menu in selects(message):
                return [self._plain(o.get("label", "")) for o in menu.get("options") or []]
        return []

    def _suggest_threadsafe(
        self, path: str, focused: str, typed: str, others: dict[str, str]
    ) -> list[str]:
        loop = self._loop
        if loop is None or loop.is_closed():
            return []
        future = asyncio.run_coroutine_threadsafe(
            self._autocomplete(path, focused, typed, others), loop
        )
        try:
            return future.result(timeout=3)
        except Exception:
            future.cancel()
            return []

    async def _autocomplete(
        self, path: str, focused: str, typed: str, others: dict[str, str]
    ) -> list[str]:
        return [str(c.get("value")) for c in await self._suggestions(path, focused, typed, others)]

    async def _suggestions(
        self, path: str, focused: str, typed: str, others: dict[str, str]
    ) -> list[dict[str, Any]]:
        """Ask the bot what it suggests for ``focused``, as Discord's client does while typing."""
        schema = self._schema()
        node = next(c for c in slash_commands(schema) if c["name"] == path.split()[0])
        for name in path.split()[1:]:
            node = next(s for s in subcommands(node) if s["name"] == name)
        known = {o["name"]: o for o in options_of(node)}
        given: dict[str, Any] = {}
        for name, raw in others.items():
            with contextlib.suppress(InputError):
                given[name] = option_value(path, known[name], raw, self.directory)
        given[focused] = typed
        return await self.fake.autocomplete(
            self.guild_id, self.channel, self.user, path, focused=focused, **given
        )

    async def _pick_suggestions(self, invocation: Invocation) -> None:
        """Replace a name typed for a number chosen from suggestions (``proposal:data``).

        Discord's client only sends a number there once one of the bot's
        suggestions is picked; the sandbox picks the one the text names.
        """
        known = {o["name"]: o for o in options_of(invocation.leaf)}
        for name, raw in list(invocation.raw.items()):
            option = known[name]
            if not option.get("autocomplete") or option.get("type") not in (INTEGER, NUMBER):
                continue
            if re.fullmatch(r"-?\d+(\.\d+)?", raw.strip()):
                continue
            others = {k: v for k, v in invocation.raw.items() if k != name}
            choices = await self._suggestions(invocation.path, name, raw, others)
            wanted = fold(raw)
            exact = [c for c in choices if fold(str(c.get("name"))) == wanted]
            found = exact or choices
            if len(found) != 1:
                offered = "; ".join(str(c.get("name")) for c in choices[:5]) or "nothing"
                raise InputError(
                    f"/{invocation.path}: {name}: give the number; the bot suggests {offered}."
                )
            invocation.raw[name] = str(found[0]["value"])

    def _plain(self, text: str) -> str:
        return plain(str(text), self.directory.names, self.clock.now(), self.zone)


def _write_file(path: Path, blob: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(blob)


def _shown_path(path: Path) -> str:
    """Return ``path`` relative to the working folder when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)

"""Typed slash commands: ``/config channel purpose:digest channel:#digest`` to an invocation.

The line is read against the commands the bot registered (the schema the
local Discord keeps), as Discord's own client does: the words after the
slash name the command and its subcommands, then each ``option:value``
runs until the next option of that command, so values need no quotes
(``/config cycle name:IGF 2027``); quotes are allowed and kept out. Members,
channels and roles are named as a reader knows them: ``@Mina``, ``#digest``,
``@MAG``. Every mistake is an ``InputError`` with one line for the user.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import discord

from bot.sandbox.display import Names
from bot.sandbox.fakediscord import FakeDiscord
from bot.sandbox.world import DemoWorld

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
_NESTING = (SUB_COMMAND, SUB_COMMAND_GROUP)
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = (
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
)
TYPE_WORDS = {
    STRING: "text",
    INTEGER: "a whole number",
    BOOLEAN: "true or false",
    USER: "a member (@Name)",
    CHANNEL: "a channel (#name)",
    ROLE: "a role (@Role)",
    MENTIONABLE: "a member or a role",
    NUMBER: "a number",
    ATTACHMENT: "a file",
}
QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’"}
# Option names as Discord allows them, in any script (localised names are typed too).
_OPTION = re.compile(r"([\w'-]{1,32}):")
_LOOKS_LIKE_OPTION = re.compile(r"(?<=\s)([^\W\d_][\w'-]{0,31}):(?=\S)(?!//)")
_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}


class InputError(Exception):
    """A line the sandbox cannot run; the text says why, in one line."""


def fold(text: str) -> str:
    """Return ``text`` lowercased without accents, for forgiving name matching."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def _pick(what: str, text: str, candidates: Sequence[tuple[int, Sequence[str], str]]) -> int:
    """Find ``text`` among (id, names to match, display) by exact name, then unique prefix."""
    wanted = fold(text)
    if not wanted:
        raise InputError(f"Name {what}.")
    exact = {ident for ident, keys, _ in candidates if wanted in (fold(k) for k in keys)}
    if len(exact) == 1:
        return exact.pop()
    starts = {
        ident for ident, keys, _ in candidates if any(fold(k).startswith(wanted) for k in keys)
    }
    if len(starts) == 1:
        return starts.pop()
    known = ", ".join(display for _, _, display in candidates)
    if starts or exact:
        matches = [display for ident, _, display in candidates if ident in (starts | exact)]
        raise InputError(f"{text!r} could be {' or '.join(matches)}: say which.")
    raise InputError(f"There is no {what} {text!r}. Known: {known}.")


class Directory:
    """The demo server's people, channels and roles by name, read live from the fake."""

    def __init__(self, fake: FakeDiscord, world: DemoWorld) -> None:
        self.fake = fake
        self.world = world
        self.guild = world.guild

    # -- people -----------------------------------------------------------------

    def people(self) -> list[int]:
        """Return the user ids one can act as: the server's members but bots and the owner."""
        return [
            uid
            for uid, member in self.guild.members.items()
            if not member.user.bot and uid != self.guild.owner_id
        ]

    def display_name(self, user_id: int) -> str:
        member = self.guild.members.get(user_id)
        if member is not None:
            return member.nick or member.user.global_name or member.user.username
        user = self.fake.users.get(user_id)
        return user.username if user else str(user_id)

    def first_name(self, user_id: int) -> str:
        return self.display_name(user_id).split()[0]

    def key_of(self, user_id: int) -> str | None:
        return next((k for k, v in self.world.users.items() if v == user_id), None)

    def find_user(self, text: str) -> int:
        """Return the member named ``text`` (``@Mina``, ``Mina Rahman``, ``mag1``, an id)."""
        raw = text.strip()
        raw = raw[2:-1].lstrip("!") if raw.startswith("<@") and raw.endswith(">") else raw
        raw = raw.lstrip("@").strip()
        if raw.isdigit() and int(raw) in self.fake.users:
            return int(raw)
        candidates = []
        for uid in self.people():
            name = self.display_name(uid)
            keys = [name, name.split()[0], *([k] if (k := self.key_of(uid)) else [])]
            candidates.append((uid, keys, name))
        return _pick("member", raw, candidates)

    def roles_of(self, user_id: int) -> list[str]:
        member = self.guild.members.get(user_id)
        if member is None:
            return []
        return [self.guild.roles[r].name for r in member.roles if r in self.guild.roles]

    # -- channels and roles -----------------------------------------------------

    def text_channels(self) -> list[int]:
        return [c.id for c in self.guild.channels.values() if c.type in (0, 5)]

    def channel_name(self, channel_id: int) -> str | None:
        channel = self.guild.channels.get(channel_id)
        return channel.name if channel else None

    def find_channel(self, text: str) -> int:
        raw = text.strip()
        raw = raw[2:-1] if raw.startswith("<#") and raw.endswith(">") else raw
        raw = raw.lstrip("#").strip()
        if raw.isdigit() and int(raw) in self.guild.channels:
            return int(raw)
        candidates = [
            (c.id, [c.name], f"#{c.name}")
            for c in self.guild.channels.values()
            if c.type != 4  # categories cannot be named in an option
        ]
        return _pick("channel", raw, candidates)

    def role_name(self, role_id: int) -> str | None:
        role = self.guild.roles.get(role_id)
        if role is None:
            return None
        return role.name.lstrip("@")

    def find_role(self, text: str) -> int:
        raw = text.strip()
        raw = raw[3:-1] if raw.startswith("<@&") and raw.endswith(">") else raw
        raw = raw.lstrip("@").strip()
        if raw.isdigit() and int(raw) in self.guild.roles:
            return int(raw)
        candidates = [
            (r.id, [r.name.lstrip("@")], f"@{r.name.lstrip('@')}")
            for r in self.guild.roles.values()
            if not r.managed
        ]
        return _pick("role", raw, candidates)

    @property
    def names(self) -> Names:
        def user(user_id: int) -> str | None:
            if user_id in self.guild.members or user_id in self.fake.users:
                return self.display_name(user_id)
            return None

        return Names(channel=self.channel_name, role=self.role_name, user=user)


# -- the command line ----------------------------------------------------------------


@dataclass
class Invocation:
    """A command to run: its path (``config channel``), options as typed, and its schema."""

    path: str
    raw: dict[str, str]
    top: dict[str, Any]
    leaf: dict[str, Any]


def slash_commands(schema: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the slash commands (type 1) of a registered schema, by name."""
    return sorted((c for c in schema if c.get("type", 1) == 1), key=lambda c: c["name"])


def subcommands(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        o for o in node.get("options") or [] if o.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP)
    ]


def options_of(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        o
        for o in node.get("options") or []
        if o.get("type") not in (SUB_COMMAND, SUB_COMMAND_GROUP)
    ]


def _suggest(word: str, names: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, names, n=1)
    return f" Did you mean {close[0]}?" if close else ""


def local_name(node: dict[str, Any], locale: str | None) -> str:
    """Return the name a client in ``locale`` shows for a command, option or choice."""
    localised = (node.get("name_localizations") or {}).get(locale) if locale else None
    return str(localised or node["name"])


def _named(nodes: Sequence[dict[str, Any]], word: str, locale: str | None) -> dict[str, Any] | None:
    """Return the node called ``word``, by its own name or as ``locale`` shows it."""
    wanted = word.lower()
    return next((n for n in nodes if wanted in (n["name"], local_name(n, locale))), None)


def parse(line: str, schema: Sequence[dict[str, Any]], locale: str | None = None) -> Invocation:
    """Read ``/command [sub [sub]] option:value ...`` against the registered ``schema``.

    Names may be typed as a client in ``locale`` shows them (``/proposition
    soumettre`` in French) or by their own names, as Discord's client allows.
    """
    text = line.strip()
    if not text.startswith("/"):
        raise InputError("A slash command starts with /, for example /help.")
    rest = text[1:].lstrip()
    commands = slash_commands(schema)
    names = [local_name(c, locale) for c in commands]
    word, rest = _next_word(rest)
    if not word:
        raise InputError("Type a command after the slash: " + ", ".join(f"/{n}" for n in names))
    top = _named(commands, word, locale)
    if top is None:
        hint = _suggest(word.lower(), names)
        raise InputError(f"There is no command /{word}.{hint} Type /help, or :help.")
    path = [top["name"]]
    node = top
    while subs := subcommands(node):
        word, after = _next_word(rest)
        sub_names = [local_name(s, locale) for s in subs]
        listing = ", ".join(sub_names)
        if not word or ":" in word:
            raise InputError(f"/{' '.join(path)} needs one of: {listing}.")
        sub = _named(subs, word, locale)
        if sub is None:
            hint = _suggest(word.lower(), sub_names)
            raise InputError(f"/{' '.join(path)} has no {word!r}.{hint} It has: {listing}.")
        path.append(sub["name"])
        node, rest = sub, after
    return Invocation(" ".join(path), _options(" ".join(path), rest, node, locale), top, node)


def _next_word(text: str) -> tuple[str, str]:
    text = text.lstrip()
    match = re.match(r"\S+", text)
    if match is None:
        return "", ""
    return match.group(0), text[match.end() :]


def _options(
    path: str, text: str, leaf: dict[str, Any], locale: str | None = None
) -> dict[str, str]:
    known = {o["name"]: o for o in options_of(leaf)}
    # A localised option name stands for the option's own name.
    aliases = {local_name(o, locale).lower(): name for name, o in known.items()}
    known_words = {**aliases, **{name: name for name in known}}
    listing = ", ".join(f"{local_name(o, locale)}:" for o in known.values()) or "no options"
    values: dict[str, str] = {}
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _OPTION.match(text, pos)
        if match is None:
            stray = text[pos:].split()[0]
            raise InputError(
                f"/{path}: {stray!r} is not an option:value. Its options are {listing}"
            )
        name = known_words.get(match.group(1).lower(), match.group(1).lower())
        if name not in known:
            raise InputError(
                f"/{path} has no option {name!r}.{_suggest(name, list(known))} "
                f"Its options are {listing}"
            )
        if name in values:
            raise InputError(f"/{path}: option {name!r} is given twice.")
        pos = match.end()
        if pos < len(text) and text[pos] in QUOTES:
            close = text.find(QUOTES[text[pos]], pos + 1)
            if close < 0:
                raise InputError(f"/{path}: the quote after {name}: is never closed.")
            value, pos = text[pos + 1 : close], close + 1
            if pos < len(text) and not text[pos].isspace():
                raise InputError(f"/{path}: put a space after the closing quote of {name}:.")
        else:
            end = len(text)
            for candidate in _LOOKS_LIKE_OPTION.finditer(text, pos):
                word = candidate.group(1).lower()
                if word not in known_words:
                    raise InputError(
                        f"/{path} has no option {word!r}.{_suggest(word, list(known))} "
                        f"Its options are {listing} (quote a value that contains {word}:)"
                    )
                end = candidate.start()
                break
            value, pos = text[pos:end].strip(), end
            if not value:
                raise InputError(f"/{path}: give a value after {name}:")
        values[name] = value
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return values


def convert(
    invocation: Invocation, directory: Directory, locale: str | None = None
) -> dict[str, Any]:
    """Return the options as the local Discord takes them: typed values, entities as ids."""
    known = {o["name"]: o for o in options_of(invocation.leaf)}
    out: dict[str, Any] = {}
    for name, raw in invocation.raw.items():
        out[name] = option_value(invocation.path, known[name], raw, directory, locale)
    missing = [o["name"] for o in known.values() if o.get("required") and o["name"] not in out]
    if missing:
        need = " ".join(f"{n}:…" for n in missing)
        raise InputError(f"/{invocation.path} needs {need} (missing: {', '.join(missing)}).")
    return out


def option_value(
    path: str, option: dict[str, Any], raw: str, directory: Directory, locale: str | None = None
) -> Any:
    kind, name = option.get("type"), option["name"]
    choices = option.get("choices") or []
    if choices:
        wanted = fold(raw)

        def spellings(choice: dict[str, Any]) -> tuple[str, ...]:
            return (
                fold(str(choice["value"])),
                fold(choice["name"]),
                fold(local_name(choice, locale)),
            )

        for choice in choices:
            if wanted in spellings(choice):
                return choice["value"]
        starting = [c for c in choices if any(s.startswith(wanted) for s in spellings(c))]
        if wanted and len(starting) == 1:
            return starting[0]["value"]
        listing = ", ".join(str(c["value"]) for c in (starting if len(starting) > 1 else choices))
        raise InputError(f"/{path}: {raw!r} is not a choice for {name}: (choose {listing}).")
    try:
        if kind == STRING:
            return raw
        if kind == INTEGER:
            return int(raw.replace("_", ""))
        if kind == NUMBER:
            return float(raw)
        if kind == BOOLEAN:
            if fold(raw) in _TRUE:
                return True
            if fold(raw) in _FALSE:
                return False
            raise ValueError(raw)
        if kind == USER:
            return directory.find_user(raw)
        if kind == CHANNEL:
            return directory.find_channel(raw)
        if kind == ROLE:
            return directory.find_role(raw)
        if kind == MENTIONABLE:
            if raw.strip().lstrip("@").strip() and _is_role(raw, directory):
                return directory.find_role(raw)
            return directory.find_user(raw)
    except ValueError:
        raise InputError(
            f"/{path}: {name}: takes {TYPE_WORDS.get(kind or 0, 'a value')}, not {raw!r}."
        ) from None
    except InputError as error:
        raise InputError(f"/{path}: {name}: {error}") from None
    if kind == ATTACHMENT:
        raise InputError(f"/{path}: {name}: the sandbox cannot attach files to commands.")
    raise InputError(f"/{path}: {name}: option type {kind} is not supported by the sandbox.")


def _is_role(raw: str, directory: Directory) -> bool:
    try:
        directory.find_role(raw)
    except InputError:
        return False
    return True


def permission_names(value: int) -> list[str]:
    """Return Discord's names for the permission bits in ``value`` (``Manage Server``)."""
    special = {"manage_guild": "Manage Server", "administrator": "Administrator"}
    return [
        special.get(flag, flag.replace("_", " ").title())
        for flag, enabled in discord.Permissions(value)
        if enabled
    ]

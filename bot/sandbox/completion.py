"""Tab completion at the sandbox prompt, from the commands the bot registered.

Command, subcommand and option names come from the synced schema; option
values from its choices, from the demo server (``#digest``, ``@MAG``,
``@Mina``) and, for options the bot autocompletes, from the bot itself,
exactly as Discord's client asks it while one types.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from bot.sandbox.slash import (
    BOOLEAN,
    CHANNEL,
    MENTIONABLE,
    ROLE,
    USER,
    Directory,
    InputError,
    options_of,
    parse,
    slash_commands,
    subcommands,
)

#: (command path, focused option, typed value, other options as typed) -> suggested values.
Suggest = Callable[[str, str, str, dict[str, str]], list[str]]


class Completions:
    """Candidates for the word being typed, and the readline ``complete`` hook."""

    def __init__(
        self,
        schema: Callable[[], list[dict[str, Any]]],
        directory: Directory,
        sandbox_commands: Sequence[str],
        *,
        labels: Callable[[], list[str]] = list,
        choices: Callable[[], list[str]] = list,
        suggest: Suggest | None = None,
        context: Callable[[], tuple[str, int]] = lambda: ("", 0),
    ) -> None:
        self._schema = schema
        self._directory = directory
        self._sandbox_commands = list(sandbox_commands)
        self._labels = labels
        self._choices = choices
        self._suggest = suggest
        self._context = context
        self._matches: list[str] = []

    def complete(self, text: str, state: int) -> str | None:
        """readline's completer: the ``state``-th candidate for ``text``."""
        if state == 0:
            buffer, begin = self._context()
            before = buffer[:begin]
            try:
                self._matches = self.candidates(before, text)
            except Exception:  # completion must never break the prompt
                self._matches = []
        return self._matches[state] if state < len(self._matches) else None

    def candidates(self, before: str, word: str) -> list[str]:
        """Return completions of ``word``, typed after ``before`` on the line."""
        tokens = before.split()
        if not tokens:
            slash = ["/" + c["name"] for c in slash_commands(self._schema())]
            if "/as" not in slash:
                slash.append("/as")
            # A space after a whole name, so that the next Tab completes what follows.
            return [f"{c} " for c in _starting(sorted(slash) + self._sandbox_commands, word)]
        head = tokens[0]
        if head in ("/as", ":as") and len(tokens) == 1:
            return _starting(self._people(), word)
        if head == ":in" and len(tokens) == 1:
            return _starting(
                [f"#{self._directory.channel_name(c)}" for c in self._channels()], word
            )
        if head == ":press" and len(tokens) == 1:
            return _starting(self._labels(), word)
        if head == ":choose":
            return _starting(self._choices(), word)
        if head.startswith("/"):
            return self._slash(tokens, before, word)
        return []

    def _people(self) -> list[str]:
        return [self._directory.first_name(uid) for uid in self._directory.people()]

    def _channels(self) -> list[int]:
        return self._directory.text_channels()

    def _slash(self, tokens: list[str], before: str, word: str) -> list[str]:
        commands = {c["name"]: c for c in slash_commands(self._schema())}
        node = commands.get(tokens[0][1:].lower())
        if node is None:
            return []
        path = [node["name"]]
        for token in tokens[1:]:
            subs = {s["name"]: s for s in subcommands(node)}
            if token.lower() not in subs:
                break
            node = subs[token.lower()]
            path.append(node["name"])
        if subcommands(node):
            return [f"{n} " for n in _starting([s["name"] for s in subcommands(node)], word)]
        options = {o["name"]: o for o in options_of(node)}
        if ":" not in word:
            given = {t.split(":", 1)[0].lower() for t in tokens if ":" in t}
            return _starting([f"{n}:" for n in options if n not in given], word)
        name, typed = word.split(":", 1)
        option = options.get(name.lower())
        if option is None:
            return []
        values = self._values(" ".join(path), option, typed, before)
        return [f"{name}:{v}" for v in _starting(values, typed)] or (
            [f"{name}:{v}" for v in values] if option.get("autocomplete") else []
        )

    def _values(self, path: str, option: dict[str, Any], typed: str, before: str) -> list[str]:
        if option.get("choices"):
            return [str(c["value"]) for c in option["choices"]]
        kind = option.get("type")
        directory = self._directory
        if kind == CHANNEL:
            return [f"#{directory.channel_name(c)}" for c in directory.text_channels()]
        if kind in (USER, MENTIONABLE):
            people = [f"@{directory.display_name(uid)}" for uid in directory.people()]
            if kind == MENTIONABLE:
                people += [f"@{r.name}" for r in directory.guild.roles.values() if not r.managed]
            return people
        if kind == ROLE:
            return [
                f"@{r.name.lstrip('@')}" for r in directory.guild.roles.values() if not r.managed
            ]
        if kind == BOOLEAN:
            return ["true", "false"]
        if option.get("autocomplete") and self._suggest is not None:
            others: dict[str, str] = {}
            with contextlib.suppress(InputError):
                others = parse(f"{before}", self._schema()).raw
            others.pop(option["name"], None)
            return self._suggest(path, option["name"], typed, others)
        return []


def _starting(candidates: Sequence[str], word: str) -> list[str]:
    low = word.casefold()
    seen: list[str] = []
    for candidate in candidates:
        if candidate.casefold().startswith(low) and candidate not in seen:
            seen.append(candidate)
    return seen

"""The bot in the reader's language: slash commands, and the language of each interaction.

- ``CatalogueTranslator`` gives Discord the command names, descriptions,
  option names and choices in every Discord locale a catalogue covers
  (``name_localizations``…), from the same ``.po`` files as every other
  text, under three contexts: ``command name``, ``command description`` and
  ``command choice``.
- ``use_reader_language`` sets the language of everything an interaction
  runs (``bot.i18n``), before its handler: the command tree, the buttons and
  the form router call it first.
- ``template`` extracts every text to translate: Babel's extractor over
  the code (``_``, ``N_``, ``ngettext``, ``pgettext``) and a walk of the
  command tree; ``update_catalogues`` merges it into each language's file
  (``magbot messages``; docs/languages.md).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import discord
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po
from discord import app_commands

from bot.i18n import (
    LANGUAGES,
    SOURCE,
    catalogue,
    catalogue_path,
    language_of_locale,
    load_all,
    reload,
    set_language,
)

log = logging.getLogger(__name__)

NAME: Final = "command name"
DESCRIPTION: Final = "command description"
CHOICE: Final = "command choice"

_CONTEXTS: Final = {
    app_commands.TranslationContextLocation.command_name: NAME,
    app_commands.TranslationContextLocation.group_name: NAME,
    app_commands.TranslationContextLocation.parameter_name: NAME,
    app_commands.TranslationContextLocation.command_description: DESCRIPTION,
    app_commands.TranslationContextLocation.group_description: DESCRIPTION,
    app_commands.TranslationContextLocation.parameter_description: DESCRIPTION,
    app_commands.TranslationContextLocation.choice_name: CHOICE,
}

# Discord's rule for every command, group and option name, in every locale.
NAME_PATTERN: Final = re.compile(r"^[-_'\w\u0900-\u097f\u0e00-\u0e7f]{1,32}$")
NAME_MAX: Final = 32
DESCRIPTION_MAX: Final = 100
CHOICE_MAX: Final = 100

# Languages offered by their own names ("Français"): the same in every locale.
AUTONYMS: Final = frozenset(language.name for language in LANGUAGES.values())

# A fixed date in the catalogues' headers: updating them changes only what changed.
STAMP: Final = datetime(2026, 12, 7, tzinfo=UTC)
HEADER: Final = (
    "# {language}: the texts of magbot, the MAG coordination bot.\n"
    "# How to correct or add a translation: docs/languages.md."
)


class CatalogueTranslator(app_commands.Translator):
    """Command names, descriptions and choices from the ``.po`` catalogues."""

    async def load(self) -> None:
        # Read the catalogues once, before the tree is built or synced.
        load_all()

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        return translate_command_text(string.message, locale.value, _CONTEXTS.get(context.location))


def translate_command_text(message: str, locale: str, context: str | None) -> str | None:
    """Return ``message`` of the command tree in Discord locale ``locale``, or None."""
    code = language_of_locale(locale)
    if context is None or code is None or code == SOURCE or message in AUTONYMS:
        return None
    found = catalogue(code).messages.get((context, message))
    return found if isinstance(found, str) else None


async def use_reader_language(
    interaction: discord.Interaction, *, guild_id: int | None = None
) -> str:
    """Write in the language of the person behind ``interaction`` from here on; return it.

    ``guild_id``: the server a DM's button belongs to (a DM has none of its
    own), whose language is the fallback. Never fails: whatever goes wrong,
    the answer is written in English rather than not at all.
    """
    code = SOURCE
    services = getattr(interaction.client, "services", None)
    try:
        if services is not None:
            code = await services.languages.reader(
                interaction.user.id,
                locale=interaction.locale.value if interaction.locale else None,
                guild_id=interaction.guild_id or guild_id,
                guild_locale=interaction.guild_locale.value if interaction.guild_locale else None,
            )
        else:
            code = language_of_locale(interaction.locale.value) or SOURCE
    except Exception:
        log.warning("could not tell the language of an interaction", exc_info=True)
    set_language(code)
    return code


# --- the catalogue's template ----------------------------------------------


@dataclass(frozen=True)
class CommandText:
    """One text of the command tree, where it appears, and its context."""

    context: str
    message: str
    where: str


def _parameters(command: app_commands.Command[Any, ..., Any]) -> Iterator[CommandText]:
    where = f"/{command.qualified_name}"
    for parameter in command.parameters:
        at = f"{where} {parameter.name}"
        yield CommandText(NAME, parameter.name, at)
        yield CommandText(DESCRIPTION, parameter.description, at)
        for choice in parameter.choices:
            if choice.name not in AUTONYMS:
                yield CommandText(CHOICE, choice.name, at)


def command_texts(
    commands: Iterable[app_commands.Command[Any, ..., Any] | app_commands.Group],
) -> Iterator[CommandText]:
    """Yield every name, description and choice of ``commands`` and what they hold."""
    for command in commands:
        where = f"/{command.qualified_name}"
        yield CommandText(NAME, command.name, where)
        yield CommandText(DESCRIPTION, command.description, where)
        if isinstance(command, app_commands.Group):
            yield from command_texts(command.commands)
        else:
            yield from _parameters(command)


def source_roots() -> list[Path]:
    """Return the folders whose code holds the texts (``bot``, ``cogs`` and ``web``)."""
    import bot

    here = Path(bot.__file__).parent
    return [here, here.parent / "cogs", here.parent / "web"]


def template(
    commands: Iterable[app_commands.Command[Any, ..., Any] | app_commands.Group],
) -> Catalog:
    """Return every text to translate: the code's and the command tree's."""
    pot = Catalog(project="magbot", domain="messages", fuzzy=False, creation_date=STAMP)
    for root in source_roots():
        for filename, lineno, message, comments, context in extract_from_dir(
            root,
            comment_tags=("Translators:",),
            strip_comment_tags=True,
            directory_filter=lambda path: "sandbox" not in Path(path).parts,
        ):
            location = f"{root.name}/{filename}"
            pot.add(
                message, locations=[(location, lineno)], auto_comments=comments, context=context
            )
    for text in command_texts(commands):
        pot.add(text.message, locations=[(text.where, 0)], context=text.context)
    return pot


def update_catalogues(pot: Catalog, languages: Iterable[str] | None = None) -> dict[str, int]:
    """Merge ``pot`` into each language's ``.po`` file; return how many texts each lacks."""
    missing: dict[str, int] = {}
    for code in languages or [code for code in LANGUAGES if code != SOURCE]:
        path = catalogue_path(code)
        if path.exists():
            with path.open("rb") as file:
                po = read_po(file, locale=LANGUAGES[code].babel)
        else:
            po = Catalog(
                locale=LANGUAGES[code].babel,
                project="magbot",
                domain="messages",
                fuzzy=False,
                header_comment=HEADER.format(language=LANGUAGES[code].name),
            )
        po.update(pot, no_fuzzy_matching=True, update_header_comment=False)
        po.obsolete.clear()  # a text the code no longer has is not kept
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as file:
            write_po(file, po, width=0, sort_output=True, include_lineno=False, omit_header=False)
        missing[code] = sum(1 for message in po if message.id and not _translated(message))
    reload()
    return missing


def _translated(message: Any) -> bool:
    if message.fuzzy:
        return False
    if isinstance(message.string, list | tuple):
        return all(message.string)
    return bool(message.string)


# --- checks (``magbot messages --check`` and the tests) ---------------------

_PLACEHOLDER: Final = re.compile(r"(?<!\{)\{([a-z_][a-z0-9_]*)(?:![rsa])?(?::[^{}]*)?\}(?!\})")


def placeholders(text: str) -> set[str]:
    """Return the ``{names}`` a text fills (doubled braces are literal)."""
    return set(_PLACEHOLDER.findall(text))


def _message_id(message: Any) -> tuple[str, str | None]:
    source = message.id
    if isinstance(source, list | tuple):
        return source[0], source[1]
    return source, None


def _entry_problems(code: str, message: Any) -> list[str]:
    singular, plural = _message_id(message)
    label = f"{code}: {message.context + ' | ' if message.context else ''}{singular!r}"
    if not _translated(message):
        return [f"{label} is not translated" + (" (fuzzy)" if message.fuzzy else "")]
    problems = []
    expected = placeholders(singular) | (placeholders(plural) if plural else set())
    forms = message.string if isinstance(message.string, list | tuple) else [message.string]
    for form in forms:
        found = placeholders(form)
        # A plural form may leave out the count ("one" in some languages).
        if found != expected and not (plural and found | {"n"} == expected | {"n"}):
            problems.append(f"{label}: placeholders {sorted(found)} instead of {sorted(expected)}")
    for form in forms:
        if message.context == NAME and (
            not NAME_PATTERN.match(form) or form != form.lower() or len(form) > NAME_MAX
        ):
            problems.append(f"{label}: {form!r} breaks Discord's name rule (lowercase, 1-32)")
        elif message.context == DESCRIPTION and not 1 <= len(form) <= DESCRIPTION_MAX:
            problems.append(f"{label}: description longer than {DESCRIPTION_MAX}")
        elif message.context == CHOICE and not 1 <= len(form) <= CHOICE_MAX:
            problems.append(f"{label}: choice longer than {CHOICE_MAX}")
    return problems


def catalogue_problems(
    pot: Catalog, languages: Iterable[str] | None = None, *, complete: bool = True
) -> list[str]:
    """Return what is wrong in the catalogues against the texts of the code (``pot``).

    ``complete=False`` accepts texts not translated yet (they are shown in
    English) but still checks every translation present.
    """
    problems: list[str] = []
    wanted = {(message.context, _message_id(message)[0]) for message in pot if message.id}
    for code in languages or [code for code in LANGUAGES if code != SOURCE]:
        path = catalogue_path(code)
        if not path.exists():
            problems.append(f"{code}: no catalogue at {path}")
            continue
        with path.open("rb") as file:
            po = read_po(file, locale=LANGUAGES[code].babel)
        have = {}
        for message in po:
            if message.id:
                have[(message.context, _message_id(message)[0])] = message
        for key in sorted(wanted - have.keys(), key=str):
            problems.append(f"{code}: missing {key[1]!r}" + (f" ({key[0]})" if key[0] else ""))
        for key in sorted(have.keys() - wanted, key=str):
            problems.append(f"{code}: {key[1]!r} is no longer in the code (run `magbot messages`)")
        for key in sorted(wanted & have.keys(), key=str):
            if complete or _translated(have[key]):
                problems.extend(_entry_problems(code, have[key]))
    return problems


def sibling_problems(
    commands: Iterable[app_commands.Command[Any, ..., Any] | app_commands.Group],
) -> list[str]:
    """Return the places where two sibling names would be the same in some locale."""
    problems: list[str] = []
    locales = [locale for language in LANGUAGES.values() for locale in language.discord]

    def check(where: str, names: list[str]) -> None:
        for locale in locales:
            localised = [translate_command_text(name, locale, NAME) or name for name in names]
            if len(localised) != len(set(localised)):
                problems.append(f"{where}: two names are the same in {locale}: {localised}")

    def walk(where: str, nodes: list[Any]) -> None:
        check(where, [node.name for node in nodes])
        for node in nodes:
            if isinstance(node, app_commands.Group):
                walk(f"/{node.qualified_name}", list(node.commands))
            else:
                check(f"/{node.qualified_name}", [p.name for p in node.parameters])

    walk("(top level)", list(commands))
    return problems

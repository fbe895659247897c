"""The catalogues against the code: every text translated, every command name valid.

``magbot messages`` extracts the texts (Babel's extractor over the code and
a walk of the command tree) and merges them into each language's ``.po``;
these tests fail when the code has a text a catalogue lacks, when a
catalogue keeps a text the code dropped, when a translation's placeholders
differ from the English, when a localised command name or description
breaks Discord's rules, and when user-visible text is written in the code
without going through the catalogue.
"""

from __future__ import annotations

import ast
import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from discord import app_commands

from bot.client import command_list
from bot.i18n import LANGUAGES, SOURCE, catalogue_path
from bot.localisation import (
    NAME,
    catalogue_problems,
    placeholders,
    sibling_problems,
    source_roots,
    template,
    translate_command_text,
)
from bot.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def commands() -> list[Any]:
    settings = load_settings({"DATABASE_URL": "sqlite+aiosqlite:///:memory:"})
    return asyncio.run(command_list(settings))


@pytest.fixture(scope="module")
def pot(commands: list[Any]) -> Catalog:
    return template(commands)


def test_every_language_has_a_catalogue() -> None:
    for code in LANGUAGES:
        if code != SOURCE:
            assert (ROOT / "bot/i18n/locales" / code / "LC_MESSAGES/messages.po").exists(), code


def test_the_catalogues_hold_every_text_of_the_code(pot: Catalog) -> None:
    # Every text is in every catalogue, translated, and every translation is valid.
    problems = catalogue_problems(pot, complete=True)
    assert not problems, "run `magbot messages`, then translate:\n" + "\n".join(problems[:40])


def test_the_template_has_the_command_tree_and_the_code(pot: Catalog) -> None:
    contexts = {message.context for message in pot if message.id}
    assert {"command name", "command description", "command choice", None} <= contexts
    ids = {message.id if isinstance(message.id, str) else message.id[0] for message in pot}
    assert "proposal" in ids  # a command name
    assert "Government" in ids  # a vocabulary term (N_)


def test_no_two_sibling_names_are_the_same_in_any_locale(commands: list[Any]) -> None:
    assert sibling_problems(commands) == []


def test_placeholders_are_read_as_str_format_reads_them() -> None:
    assert placeholders("{n} of {total}: {{literal}}") == {"n", "total"}
    assert placeholders("{share:.0f} and {who!r}") == {"share", "who"}


# --- no user-visible text outside the catalogue ------------------------------

REFUSALS = {"UserError", "InvalidInput", "NotFound", "PermissionDenied", "Conflict"}
REFUSALS |= {"ConfirmationNeeded"}
# Keyword arguments that are shown to people (embeds, buttons, forms, messages).
SHOWN = {"title", "description", "label", "placeholder", "content", "text", "value", "name"}
# Calls whose text the command tree's translator handles, or that are not shown.
NOT_SHOWN = {
    "command",
    "describe",
    "Choice",
    "Group",
    "rename",
    "choices",
    "getLogger",
    "File",
    "Field",
    "Column",
    "Option",
    "add_parser",
    "add_argument",
    "ArgumentParser",
    "create_task",
}
SKIPPED_PARTS = {"sandbox", "i18n"}
SKIPPED_FILES = {"cli.py", "settings.py", "metrics.py", "localisation.py"}


def _python_files() -> Iterator[Path]:
    for root in source_roots():
        for path in sorted(root.rglob("*.py")):
            if SKIPPED_PARTS & set(path.parts) or path.name in SKIPPED_FILES:
                continue
            yield path


def _is_text(node: ast.AST | None) -> bool:
    if isinstance(node, ast.JoinedStr):
        return any(
            isinstance(v, ast.Constant) and any(c.isalpha() for c in str(v.value))
            for v in node.values
        )
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and sum(c.isalpha() for c in node.value) >= 2
        and " " in node.value.strip()
    )


def _name_of(func: ast.AST) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def untranslated_texts(path: Path) -> list[str]:
    """Return the places in ``path`` that show a literal English text to people."""
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.Call):
            continue
        name = _name_of(node.func)
        if name in NOT_SHOWN:
            continue
        if name in REFUSALS and node.args and _is_text(node.args[0]):
            found.append(f"{where}:{node.lineno}: {name}(...) of a literal")
        for keyword in node.keywords:
            if keyword.arg in SHOWN and _is_text(keyword.value):
                found.append(f"{where}:{node.lineno}: {keyword.arg}= a literal")
        sends = name in {"send", "send_message", "edit_message", "reply"}
        if sends and node.args and _is_text(node.args[-1]):
            found.append(f"{where}:{node.lineno}: {name}(...) of a literal")
    return found


def test_no_text_is_shown_without_the_catalogue() -> None:
    found = [place for path in _python_files() for place in untranslated_texts(path)]
    assert not found, "wrap these in _() (docs/languages.md):\n" + "\n".join(found)


def test_the_check_finds_a_literal_shown(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        'raise NotFound("No such proposal here.")\n'
        'embed = Embed(title=f"Proposal {ref} saved")\n'
        'raise NotFound(_("No such proposal here."))\n'
    )
    assert len(untranslated_texts(sample)) == 2


# --- every text marked for translation is extracted ---------------------------

MARKERS = {"_": 1, "N_": 1, "ngettext": 1, "pgettext": 2}


def marked_texts(path: Path) -> Iterator[tuple[int, str | None, str]]:
    """Yield (line, context, text) of each literal given to ``_``, ``ngettext``, ``pgettext``…

    Read from the syntax tree, so a call inside an f-string, which Babel's
    extractor does not see, is found too.
    """
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.Call) or _name_of(node.func) not in MARKERS:
            continue
        if not isinstance(node.func, ast.Name):
            continue
        count = MARKERS[node.func.id]
        values = [a.value for a in node.args[:count] if isinstance(a, ast.Constant)]
        if len(values) == count and all(isinstance(v, str) for v in values):
            yield node.lineno, (values[0] if count == 2 else None), values[-1]


def test_every_marked_text_is_in_the_template(pot: Catalog) -> None:
    have = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in pot if m.id}
    missing = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for root in source_roots()
        for path in sorted(root.rglob("*.py"))
        if "sandbox" not in path.parts
        for line, context, text in marked_texts(path)
        if (context, text) not in have
    ]
    assert not missing, "not extracted (a call inside an f-string?):\n" + "\n".join(missing)


def test_the_extraction_check_sees_calls_inside_f_strings(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("title = f\"{_('evenness {e}', e=1)} and {pgettext('button', 'Go')}\"\n")
    assert [t[1:] for t in marked_texts(sample)] == [(None, "evenness {e}"), ("button", "Go")]


def test_the_catalogue_check_names_each_kind_of_mistake(tmp_path: Path, monkeypatch) -> None:
    import bot.localisation as localisation

    pot = Catalog(locale="en")
    pot.add("No proposal {ref} here.")
    pot.add("Untranslated text.")
    pot.add("Forgotten text.")
    pot.add("submit", context="command name")
    pot.add("Submit a proposal", context="command description")
    po = Catalog(locale="fr")
    po.add("No proposal {ref} here.", "Aucune proposition {numéro} ici.")
    po.add("Untranslated text.", "")
    po.add("submit", "Soumettre une proposition", context="command name")
    po.add("Submit a proposal", "x" * 101, context="command description")
    po.add("Gone from the code.", "Disparu du code.")
    path = tmp_path / "messages.po"
    with path.open("wb") as file:
        write_po(file, po)
    monkeypatch.setattr(localisation, "catalogue_path", lambda code: path)
    problems = "\n".join(catalogue_problems(pot, ["fr"], complete=True))
    assert "placeholders" in problems and "'Untranslated text.' is not translated" in problems
    assert "missing 'Forgotten text.'" in problems and "no longer in the code" in problems
    assert "breaks Discord's name rule" in problems and "longer than 100" in problems
    # Before the translations are written, only what is written is checked.
    lenient = "\n".join(catalogue_problems(pot, ["fr"], complete=False))
    assert "is not translated" not in lenient and "placeholders" in lenient


# --- a command a translation names is the command as that language shows it ---

_COMMAND_REF = re.compile(r"`(/[^`]+)`")


def _localised_tree(commands: list[Any], locale: str | None) -> dict[str, Any]:
    def name(text: str) -> str:
        return (translate_command_text(text, locale, NAME) or text) if locale else text

    def walk(nodes: list[Any]) -> dict[str, Any]:
        tree: dict[str, Any] = {}
        for node in nodes:
            if isinstance(node, app_commands.Group):
                tree[name(node.name)] = walk(list(node.commands))
            else:
                tree[name(node.name)] = {}
        return tree

    return walk(commands)


def named_commands_missing(text: str, tree: dict[str, Any]) -> list[str]:
    """Return the `/command sub` paths in ``text`` that are not commands of ``tree``."""
    missing = []
    for ref in _COMMAND_REF.findall(text):
        node = tree
        for word in ref[1:].split():
            if not node or ":" in word or word[0] in "<[{":
                break
            if word not in node:
                missing.append(ref)
                break
            node = node[word]
    return missing


@pytest.mark.parametrize("code", [code for code in LANGUAGES if code != SOURCE])
def test_commands_named_in_texts_exist_in_that_language(commands: list[Any], code: str) -> None:
    # Discord shows a reader the commands in their app's language (Arabic: English).
    language = LANGUAGES[code]
    tree = _localised_tree(commands, language.discord[0] if language.discord else None)
    with catalogue_path(code).open("rb") as file:
        po = read_po(file, locale=language.babel)
    wrong = []
    for message in po:
        forms = message.string if isinstance(message.string, list | tuple) else [message.string]
        for form in forms:
            wrong += [f"{ref} in {form!r}" for ref in named_commands_missing(form or "", tree)]
    assert not wrong, "\n".join(wrong[:20])


def test_the_command_check_finds_a_wrong_name(commands: list[Any]) -> None:
    tree = _localised_tree(commands, "fr")
    assert named_commands_missing("Tapez `/proposition soumettre format:Panel`.", tree) == []
    assert named_commands_missing("Tapez `/proposal submit`.", tree) == ["/proposal submit"]
    assert named_commands_missing("`/proposition envoyer`", tree) == ["/proposition envoyer"]

"""Discord's validation of what a bot sends: messages, modals, commands.

Discord answers a payload over its limits with 400 "Invalid Form Body"
(code 50035) and an ``errors`` tree; the fake does the same so that a test
fails where production would. Checks return ``(path, message)`` problems;
``form_errors`` nests them the way discord.py's ``HTTPException`` flattens them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .interactions import BUTTON, LINK_STYLE, PREMIUM_STYLE, SELECT_TYPES
from .models import iter_components

COMPONENTS_V2 = 1 << 15


def message_errors(
    data: dict[str, Any],
    files: Mapping[int, Any],
    *,
    creating: bool,
) -> tuple[int, str, dict[str, Any] | None] | None:
    """Discord's checks on a message payload: (code, message, errors) or None."""
    problems: list[tuple[str, str]] = []
    content = data.get("content")
    if content is not None and len(str(content)) > 2000:
        problems.append(("content", "Must be 2000 or fewer in length."))
    embeds = data.get("embeds") or []
    if len(embeds) > 10:
        problems.append(("embeds", "Must be 10 or fewer in length."))
    total = 0
    limits = {"title": 256, "description": 4096}
    for i, embed in enumerate(embeds):
        for key, limit in limits.items():
            text = str(embed.get(key) or "")
            total += len(text)
            if len(text) > limit:
                problems.append((f"embeds.{i}.{key}", f"Must be {limit} or fewer in length."))
        fields = embed.get("fields") or []
        if len(fields) > 25:
            problems.append((f"embeds.{i}.fields", "Must be 25 or fewer in length."))
        for j, f in enumerate(fields):
            name, value = str(f.get("name") or ""), str(f.get("value") or "")
            total += len(name) + len(value)
            if not name or len(name) > 256:
                problems.append((f"embeds.{i}.fields.{j}.name", "Must be 1..256 in length."))
            if not value or len(value) > 1024:
                problems.append((f"embeds.{i}.fields.{j}.value", "Must be 1..1024 in length."))
        footer = str((embed.get("footer") or {}).get("text") or "")
        author = str((embed.get("author") or {}).get("name") or "")
        total += len(footer) + len(author)
        if len(footer) > 2048:
            problems.append((f"embeds.{i}.footer.text", "Must be 2048 or fewer in length."))
        if len(author) > 256:
            problems.append((f"embeds.{i}.author.name", "Must be 256 or fewer in length."))
    if total > 6000:
        problems.append(("embeds", "Embed size exceeds maximum size of 6000"))
    for i, attachment in enumerate(data.get("attachments") or []):
        # An attachment's description is its alt text: at most 1,024 characters.
        if len(str(attachment.get("description") or "")) > 1024:
            problems.append((f"attachments.{i}.description", "Must be 1024 or fewer in length."))
    problems += component_problems(data)
    if problems:
        return 50035, "Invalid Form Body", form_errors(problems)
    has_body = (
        content
        or embeds
        or files
        or data.get("components")
        or data.get("sticker_ids")
        or data.get("poll")
    )
    if creating and not has_body:
        return 50006, "Cannot send an empty message", None
    return None


def component_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    """Action-row layout (classic messages), custom_id length and uniqueness, button rules."""
    components = data.get("components") or []
    problems: list[tuple[str, str]] = []
    v2 = bool(int(data.get("flags") or 0) & COMPONENTS_V2)
    if not v2:
        if len(components) > 5:
            problems.append(("components", "Must be 5 or fewer in length."))
        for i, row in enumerate(components):
            if row.get("type") != 1:
                problems.append((f"components.{i}", "Top-level components must be action rows."))
                continue
            children = row.get("components") or []
            selects = [c for c in children if c.get("type") in SELECT_TYPES]
            if not children or len(children) > 5 or (selects and len(children) > 1):
                problems.append((f"components.{i}.components", "Invalid action row width."))
    seen: set[str] = set()
    for c in iter_components(components):
        custom_id = c.get("custom_id")
        if custom_id is not None:
            if not 1 <= len(custom_id) <= 100:
                problems.append(("components", f"custom_id {custom_id!r} must be 1..100 long."))
            if custom_id in seen:
                problems.append(("components", f"Duplicate custom_id {custom_id!r}."))
            seen.add(custom_id)
        if c.get("type") == BUTTON:
            if len(c.get("label") or "") > 80:
                problems.append(("components", "Button label must be 80 or fewer in length."))
            if c.get("style") == LINK_STYLE and not c.get("url"):
                problems.append(("components", "Link buttons need a url."))
            if c.get("style") not in (LINK_STYLE, PREMIUM_STYLE) and not custom_id:
                problems.append(("components", "Buttons need a custom_id."))
        if c.get("type") in SELECT_TYPES and len(c.get("options") or []) > 25:
            problems.append(("components", "Select menus take 25 options at most."))
    return problems


def modal_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    """Title, custom_id, 1..5 rows, and text input limits of a type 9 callback."""
    problems: list[tuple[str, str]] = []
    if not 1 <= len(data.get("custom_id") or "") <= 100:
        problems.append(("data.custom_id", "Must be between 1 and 100 in length."))
    if not 1 <= len(data.get("title") or "") <= 45:
        problems.append(("data.title", "Must be between 1 and 45 in length."))
    components = data.get("components") or []
    if not 1 <= len(components) <= 5:
        problems.append(("data.components", "Must be between 1 and 5 in length."))
    for c in iter_components(components):
        if c.get("type") == 4:
            if len(c.get("label") or "") > 45:
                problems.append(("data.components", "Text input label exceeds 45 characters."))
            if c.get("style") not in (1, 2):
                problems.append(("data.components", "Text input style must be 1 or 2."))
            if len(c.get("value") or "") > 4000 or (c.get("max_length") or 0) > 4000:
                problems.append(("data.components", "Text inputs hold 4000 characters at most."))
            max_length = c.get("max_length")
            if max_length is not None and len(c.get("value") or "") > max_length:
                problems.append(
                    ("data.components", "Text input value is longer than its max_length.")
                )
        if c.get("type") == 18 and len(c.get("label") or "") > 45:
            problems.append(("data.components", "Label exceeds 45 characters."))
    return problems


def form_errors(problems: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Nest ("embeds.0.title", "msg") pairs into Discord's ``errors`` object."""
    errors: dict[str, Any] = {}
    for path, message in problems:
        node = errors
        for key in path.split("."):
            node = node.setdefault(key, {})
        node.setdefault("_errors", []).append({"code": "BASE_TYPE_INVALID", "message": message})
    return errors


_NAME = re.compile(r"^[-_'\w\u0900-\u097f\u0e00-\u0e7f]{1,32}$")

# Discord's locales (https://discord.com/developers/docs/reference#locales).
LOCALES = frozenset(
    [
        "id",
        "da",
        "de",
        "en-GB",
        "en-US",
        "es-ES",
        "es-419",
        "fr",
        "hr",
        "it",
        "lt",
        "hu",
        "nl",
        "no",
        "pl",
        "pt-BR",
        "ro",
        "fi",
        "sv-SE",
        "vi",
        "tr",
        "cs",
        "el",
        "bg",
        "ru",
        "uk",
        "hi",
        "th",
        "zh-CN",
        "ja",
        "zh-TW",
        "ko",
    ]
)


def localisation_problems(path: str, node: dict[str, Any]) -> list[tuple[str, str]]:
    """Discord's checks on a node's ``name_localizations`` and ``description_localizations``."""
    problems: list[tuple[str, str]] = []
    for key, limit in (("name_localizations", 32), ("description_localizations", 100)):
        for locale, text in (node.get(key) or {}).items():
            where = f"{path}.{key}.{locale}"
            if locale not in LOCALES:
                problems.append((where, f"Invalid locale {locale!r}."))
            elif not isinstance(text, str) or not 1 <= len(text) <= limit:
                problems.append((where, f"Must be between 1 and {limit} in length."))
            elif key == "name_localizations" and (not _NAME.match(text) or text != text.lower()):
                problems.append((where, f"Invalid name {text!r} (lowercase, 1..32, no spaces)."))
    return problems


def sibling_problems(path: str, nodes: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Names must stay unique among siblings in every locale, localised or not."""
    problems: list[tuple[str, str]] = []
    locales = {locale for node in nodes for locale in node.get("name_localizations") or {}}
    for locale in sorted(locales):
        names = [
            (node.get("name_localizations") or {}).get(locale, node.get("name")) for node in nodes
        ]
        if len(names) != len(set(names)):
            problems.append((path, f"Duplicate localised names in {locale!r}."))
    return problems


def command_problems(commands: Any) -> list[tuple[str, str]]:
    """Discord's checks on a bulk-overwrite body: names, descriptions, option rules."""
    if not isinstance(commands, list):
        return [("_", "Expected a list of commands.")]
    problems: list[tuple[str, str]] = []
    seen: set[tuple[str, int]] = set()
    for i, command in enumerate(commands):
        kind = command.get("type", 1)
        name = command.get("name") or ""
        key = (name, kind)
        if key in seen:
            problems.append((f"{i}.name", f"Duplicate command name {name!r}."))
        seen.add(key)
        if kind == 1:
            problems += option_list_problems(f"{i}", command, depth=0)
        elif not 1 <= len(name) <= 32:
            problems.append((f"{i}.name", "Must be between 1 and 32 in length."))
        problems += localisation_problems(f"{i}", command)
    problems += sibling_problems("_", [c for c in commands if c.get("type", 1) == 1])
    if sum(1 for c in commands if c.get("type", 1) == 1) > 100:
        problems.append(("_", "At most 100 slash commands."))
    return problems


def option_list_problems(path: str, node: dict[str, Any], *, depth: int) -> list[tuple[str, str]]:
    """Check a command or subcommand and, recursively, its options (nesting, order, choices)."""
    problems: list[tuple[str, str]] = localisation_problems(path, node) if depth else []
    name, description = node.get("name") or "", node.get("description") or ""
    if not _NAME.match(name) or name != name.lower():
        problems.append((f"{path}.name", f"Invalid name {name!r} (lowercase, 1..32, no spaces)."))
    if not 1 <= len(description) <= 100:
        problems.append((f"{path}.description", f"{name!r}: description must be 1..100 long."))
    options = node.get("options") or []
    if len(options) > 25:
        problems.append((f"{path}.options", f"{name!r} has more than 25 options."))
    names = [o.get("name") for o in options]
    if len(names) != len(set(names)):
        problems.append((f"{path}.options", f"{name!r} has duplicate option names."))
    problems += sibling_problems(f"{path}.options", options)
    subs = [o for o in options if o.get("type") in (1, 2)]
    if subs and len(subs) != len(options):
        problems.append((f"{path}.options", f"{name!r} mixes subcommands and options."))
    optional_seen = False
    for j, option in enumerate(options):
        sub_path = f"{path}.options.{j}"
        kind = option.get("type")
        if kind == 2 and depth > 0:
            problems.append((sub_path, "Subcommand groups cannot be nested."))
        if kind == 1 and depth > 1:
            problems.append((sub_path, "Subcommands nest two levels at most."))
        if kind in (1, 2):
            if kind == 2 and any(o.get("type") != 1 for o in option.get("options") or []):
                problems.append((sub_path, "A subcommand group holds subcommands only."))
            problems += option_list_problems(sub_path, option, depth=depth + 1)
            continue
        opt_name, opt_description = option.get("name") or "", option.get("description") or ""
        problems += localisation_problems(sub_path, option)
        if not _NAME.match(opt_name) or opt_name != opt_name.lower():
            problems.append((f"{sub_path}.name", f"Invalid option name {opt_name!r}."))
        if not 1 <= len(opt_description) <= 100:
            problems.append(
                (f"{sub_path}.description", f"{opt_name!r}: description must be 1..100.")
            )
        if option.get("required"):
            if optional_seen:
                problems.append((sub_path, f"Required option {opt_name!r} after an optional one."))
        else:
            optional_seen = True
        choices = option.get("choices") or []
        if len(choices) > 25:
            problems.append((f"{sub_path}.choices", "25 choices at most."))
        if choices and option.get("autocomplete"):
            problems.append((sub_path, "Autocomplete and choices are exclusive."))
        for choice in choices:
            if not 1 <= len(str(choice.get("name", ""))) <= 100:
                problems.append((f"{sub_path}.choices", "Choice names are 1..100 long."))
            for locale, text in (choice.get("name_localizations") or {}).items():
                if locale not in LOCALES or not 1 <= len(str(text)) <= 100:
                    problems.append((f"{sub_path}.choices", f"Bad choice localisation {locale!r}."))
    return problems

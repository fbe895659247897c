"""Modals in a terminal: the bot's form, asked one field at a time.

A form is what the bot answered with (``interaction.modal``): classic rows
of text inputs, or discord.py 2.7's Labels around text inputs, selects,
radio groups and checkboxes. Each field is asked with its label and limits,
checked as Discord's client would check it (required, length, how many
choices) and asked again when wrong; ``:cancel`` closes the form unsent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from bot.sandbox.fakediscord.interactions import (
    CHANNEL_SELECT,
    CHECKBOX,
    CHECKBOX_GROUP,
    FILE_UPLOAD,
    LABEL,
    MENTIONABLE_SELECT,
    RADIO_GROUP,
    ROLE_SELECT,
    SELECT_TYPES,
    TEXT_DISPLAY,
    TEXT_INPUT,
    USER_SELECT,
)
from bot.sandbox.slash import Directory, InputError, fold

YES = ("y", "yes", "true", "1")
NO = ("n", "no", "false", "0")
CANCEL_WORD = ":cancel"


class Cancelled(Exception):
    """The person closed the form (``:cancel``, or the end of input)."""


@dataclass
class FormField:
    """One question of a form: its label, help text and the component that takes the answer."""

    label: str
    description: str | None
    component: dict[str, Any]


def form_fields(components: list[dict[str, Any]]) -> Iterator[FormField]:
    """Walk a modal's components: action rows of inputs, Labels, and text to show."""
    for component in components:
        kind = component.get("type")
        if kind == 1:
            for child in component.get("components") or []:
                label = child.get("label") or child.get("placeholder") or child.get("custom_id")
                yield FormField(str(label or ""), None, child)
        elif kind == LABEL:
            yield FormField(
                str(component.get("label") or ""),
                component.get("description"),
                component["component"],
            )
        elif kind == TEXT_DISPLAY:
            yield FormField("", None, component)


def option_value(options: list[dict[str, Any]], item: str) -> str:
    """Return the value of the option ``item`` names: by number, label or value, then prefix."""
    if item.isdigit() and 1 <= int(item) <= len(options):
        return str(options[int(item) - 1]["value"])
    wanted = fold(item)
    for option in options:
        if wanted in (fold(str(option.get("label", ""))), fold(str(option.get("value", "")))):
            return str(option["value"])
    starts = [o for o in options if fold(str(o.get("label", ""))).startswith(wanted)]
    if len(starts) == 1:
        return str(starts[0]["value"])
    labels = ", ".join(f"{n}) {o.get('label')}" for n, o in enumerate(options, start=1))
    raise InputError(f"{item!r} is not one of: {labels}.")


def component_values(
    directory: Directory, component: dict[str, Any], items: list[str]
) -> list[Any]:
    """Return the values ``items`` name in a select menu (or radio or checkbox group)."""
    kind = component.get("type")
    if kind == USER_SELECT:
        return [directory.find_user(i) for i in items]
    if kind == ROLE_SELECT:
        return [directory.find_role(i) for i in items]
    if kind == CHANNEL_SELECT:
        return [directory.find_channel(i) for i in items]
    if kind == MENTIONABLE_SELECT:
        found = []
        for item in items:
            try:
                found.append(directory.find_role(item))
            except InputError:
                found.append(directory.find_user(item))
        return found
    options = component.get("options") or []
    return [option_value(options, item) for item in items]


class FormFiller:
    """Ask a form's fields through the chat's own prompt and output."""

    def __init__(
        self,
        directory: Directory,
        *,
        read: Callable[[str], Awaitable[str | None]],
        write: Callable[[str], None],
        error: Callable[[str], None],
        plain: Callable[[str], str],
    ) -> None:
        self._directory = directory
        self._read = read
        self._write = write
        self._error = error
        self._plain = plain

    async def fill(self, modal: dict[str, Any]) -> dict[str, Any]:
        """Return the answers by field custom_id; raise ``Cancelled`` if the form is closed."""
        values: dict[str, Any] = {}
        for field in form_fields(modal.get("components") or []):
            answer = await self.ask(field)
            if answer is not None:
                values[str(field.component.get("custom_id"))] = answer
        return values

    async def _line(self, prompt: str) -> str:
        line = await self._read(prompt)
        if line is None or line.strip() == CANCEL_WORD:
            raise Cancelled
        return line

    async def ask(self, field: FormField) -> Any:
        """Return one field's answer (None: leave it out of the submission)."""
        component = field.component
        kind = component.get("type")
        if kind == TEXT_DISPLAY:
            self._write("  " + self._plain(component.get("content") or ""))
            return None
        if field.description:
            self._write(f"  {self._plain(field.description)}")
        if kind == TEXT_INPUT:
            return await self._text(field.label, component)
        if kind in SELECT_TYPES or kind in (RADIO_GROUP, CHECKBOX_GROUP):
            return await self._choice(field.label, component)
        if kind == CHECKBOX:
            default = bool(component.get("default"))
            hint = "Yes" if default else "No"
            while True:
                answer = fold(await self._line(f"  {field.label} (yes or no, Enter: {hint}): "))
                if not answer:
                    return default
                if answer in YES or answer in NO:
                    return answer in YES
                self._error("Answer yes or no.")
        if kind == FILE_UPLOAD:
            self._write(f"  {field.label}: files cannot be uploaded in the sandbox (left empty).")
            return None
        self._write(f"  {field.label}: the sandbox leaves this kind of field ({kind}) as it is.")
        return None

    async def _text(self, label: str, component: dict[str, Any]) -> str:
        required = component.get("required", True)
        low, high = int(component.get("min_length") or 0), int(component.get("max_length") or 4000)
        paragraph = component.get("style") == 2
        preset = component.get("value") or ""
        notes = ["required" if required else "optional"]
        if low or high < 4000:
            notes.append(f"{low} to {high} characters" if low else f"up to {high} characters")
        if paragraph:
            notes.append("\\n starts a new line")
        if preset:
            notes.append(f"Enter keeps {preset[:30]!r}")
        if component.get("placeholder"):
            self._write(f"  e.g. {self._plain(component['placeholder'])}")
        prompt = f"  {label} ({', '.join(notes)}): "
        while True:
            value = (await self._line(prompt)).strip()
            if paragraph:
                value = value.replace("\\n", "\n")
            if not value and preset:
                value = preset
            if not value and required:
                self._error("This field is required.")
                continue
            if value and not low <= len(value) <= high:
                self._error(f"Give {low} to {high} characters (that was {len(value)}).")
                continue
            return value

    async def _choice(self, label: str, component: dict[str, Any]) -> Any:
        kind = component.get("type")
        required = component.get("required", True)
        low = int(component.get("min_values", 1 if required else 0))
        high = int(component.get("max_values", 1))
        if kind == RADIO_GROUP:
            low, high = (1 if required else 0), 1
        for number, option in enumerate(component.get("options") or [], start=1):
            text = f"    {number}) {self._plain(option.get('label', ''))}"
            if option.get("description"):
                text += f" — {self._plain(option['description'])}"
            self._write(text)
        what = {
            USER_SELECT: "members",
            ROLE_SELECT: "roles",
            CHANNEL_SELECT: "channels",
            MENTIONABLE_SELECT: "members or roles",
        }.get(int(kind or 0), "numbers or labels")
        count = f"{low} to {high}" if high > 1 else ("one" if low else "one, or Enter for none")
        prompt = f"  {label} (choose {count}; {what}, separated by commas): "
        while True:
            items = [p.strip() for p in (await self._line(prompt)).split(",") if p.strip()]
            try:
                values = component_values(self._directory, component, items)
            except InputError as error:
                self._error(str(error))
                continue
            if not low <= len(values) <= high:
                self._error(f"Choose {count}.")
                continue
            if kind == RADIO_GROUP:
                return values[0] if values else None
            return values

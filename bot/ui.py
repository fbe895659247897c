"""Buttons and forms that keep working after a restart, and answer every click.

Every component the bot sends is a ``DynamicItem`` whose ``custom_id``
carries what it needs (ids, a page, a stored request's id and token), so a
click is understood by whichever process receives it, however long after the
message was sent: nothing about a button lives only in memory. Callbacks go
through ``Answering``, which tracks whether a change was committed and sends
every failure through the one error path (discord.py would only log it).

Forms (modals) cannot be dynamic items in discord.py, so every form the bot
opens has a ``custom_id`` of the shape ``mag:form:<kind>:<args>`` and is
answered by the form router (``cogs/forms.py``) from the submitted data
alone: the ``Form`` object sent is only the form's shape. A form the router
does not know (opened by an older version, say) is answered privately with
the text that was typed, so nothing typed is lost.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

import discord

from bot.localisation import use_reader_language
from bot.tree import report_error
from storage.database import track_commits

FORM_PREFIX: Final = "mag:form:"

# Every dynamic item the bot registered: a click whose custom_id matches none
# of them is from a component the bot no longer answers.
_templates: list[re.Pattern[str]] = []


class Answering:
    """Mixin for dynamic items: ``run`` does the work; every error gets an answer."""

    async def run(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError

    async def callback(self, interaction: discord.Interaction) -> None:
        track_commits()
        # A button in a DM carries its server in its custom id: that server's
        # language is the fallback there, as in the server itself.
        await use_reader_language(interaction, guild_id=getattr(self, "guild_id", None))
        try:
            await self.run(interaction)
        except Exception as error:
            await report_error(interaction, error)


def register(client: discord.Client, *items: type[discord.ui.DynamicItem[Any]]) -> None:
    """Register dynamic items with discord.py and with the fallback that answers unknown ones."""
    client.add_dynamic_items(*items)
    for item in items:
        pattern = item.__discord_ui_compiled_template__
        if pattern not in _templates:
            _templates.append(pattern)


def is_known_component(custom_id: str) -> bool:
    """Return whether a registered dynamic item answers this custom_id."""
    return any(pattern.fullmatch(custom_id) for pattern in _templates)


def view_of(*items: discord.ui.Item[Any]) -> discord.ui.View:
    """Return a view holding ``items`` (dynamic items: it needs no timeout, nothing is kept)."""
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    return view


class Form(discord.ui.Modal):
    """The shape of a form: its title and text fields. The form router answers its submit.

    ``on_submit`` does nothing on purpose: the router (an ``on_interaction``
    listener) handles every submit from the custom_id and the values, the same
    way before and after a restart, so one code path answers them all.
    """

    def __init__(self, *, title: str, custom_id: str) -> None:
        if not custom_id.startswith(FORM_PREFIX) or len(custom_id) > 100:
            raise ValueError(f"bad form custom_id {custom_id!r}")
        super().__init__(title=title[:45], custom_id=custom_id, timeout=None)

    def text(
        self,
        name: str,
        label: str,
        *,
        long: bool = False,
        placeholder: str | None = None,
        default: str | None = None,
        max_length: int = 4000,
        required: bool = True,
    ) -> None:
        """Add a text field (``name`` is its custom_id: the key of the submitted values)."""
        self.add_item(
            discord.ui.TextInput(
                label=label[:45],
                custom_id=name,
                style=discord.TextStyle.paragraph if long else discord.TextStyle.short,
                placeholder=(placeholder or "")[:100] or None,
                default=default,
                # Never below the text already there: Discord refuses such a form.
                max_length=min(4000, max(max_length, len(default or ""))),
                required=required,
            )
        )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        return None


def submitted_values(data: Mapping[str, Any] | None) -> dict[str, str]:
    """Return a modal submit's text values by custom_id (rows or labelled components)."""
    values: dict[str, str] = {}

    def walk(components: Iterable[Mapping[str, Any]]) -> None:
        for component in components:
            if "custom_id" in component and "value" in component:
                values[str(component["custom_id"])] = str(component.get("value") or "")
            child = component.get("component")
            if isinstance(child, Mapping):
                walk([child])
            walk(component.get("components") or ())

    walk((data or {}).get("components") or ())
    return values

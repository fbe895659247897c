"""The registry of forms: which function answers a form of each kind, and how to reopen it.

Kept out of ``cogs/forms.py`` on purpose: discord.py loads each extension by
executing its module afresh, so a registry in an extension module would be
a different dict for the cogs loaded before it. A private module is
imported once, and every cog registers its forms in the same place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import ClassVar

import discord

from bot.ui import Form

FormFunction = Callable[[discord.Interaction, list[str], Mapping[str, str]], Awaitable[None]]
Reopener = Callable[[discord.Interaction, str, list[str], Mapping[str, str]], Awaitable[Form]]


class FormHandler:
    """The registry of forms: their functions, their field labels, how to reopen them."""

    handlers: ClassVar[dict[str, tuple[FormFunction, Mapping[str, str]]]] = {}
    reopeners: ClassVar[dict[str, Reopener]] = {}


def form(kind: str, *, labels: Mapping[str, str]) -> Callable[[FormFunction], FormFunction]:
    """Register the function that takes submitted forms of ``kind`` (args split on ``:``)."""

    def add(function: FormFunction) -> FormFunction:
        FormHandler.handlers[kind] = (function, labels)
        return function

    return add

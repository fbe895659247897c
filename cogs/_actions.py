"""Heavy changes that ask first: "this will happen — Confirm / Cancel", surviving restarts.

A command hands its request to ``perform(kind, payload)``. The action runs
once unconfirmed; when the service answers ``ConfirmationNeeded`` (a
rejection, an erasure, a bulk move, a decision that looks premature) the
request is stored (``PendingService``) and the user gets what will happen
and two buttons. Confirm runs the same action again, confirmed, as the
person who clicked with the roles they hold then; Cancel changes nothing.
The buttons carry only the stored request's id and token.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import discord

from bot.answering import defer_later
from bot.errors import ConfirmationNeeded
from bot.i18n import _, pgettext
from bot.render.confirm import cancelled_text, confirm_embed
from bot.services.auth import Actor
from bot.ui import Answering, view_of
from cogs._common import actor_of, bot_of, respond, send

# (interaction, actor, payload, confirmed) -> answers the interaction with ``respond``.
Action = Callable[[discord.Interaction, Actor, Mapping[str, Any], bool], Awaitable[None]]
ACTIONS: dict[str, Action] = {}

CONFIRM = r"mag:act:(?P<id>[0-9]+):(?P<token>[A-Za-z0-9_-]+):(?P<choice>yes|no)"


def action(kind: str) -> Callable[[Action], Action]:
    """Register the function that carries out requests of ``kind``."""

    def register(function: Action) -> Action:
        ACTIONS[kind] = function
        return function

    return register


async def perform(
    interaction: discord.Interaction, actor: Actor, kind: str, payload: Mapping[str, Any]
) -> None:
    """Run a request; if the service asks for confirmation, ask the user with buttons."""
    try:
        await ACTIONS[kind](interaction, actor, payload, False)
    except ConfirmationNeeded as ask:
        pending = await bot_of(interaction).services.pending.ask(actor, kind, payload)
        view = view_of(
            ConfirmButton(pending.id, pending.token, True),
            ConfirmButton(pending.id, pending.token, False),
        )
        await send(interaction, embed=confirm_embed(str(ask), ask.warnings), view=view)


class ConfirmButton(Answering, discord.ui.DynamicItem[discord.ui.Button[Any]], template=CONFIRM):
    """Confirm or Cancel under "this will happen"."""

    def __init__(self, action_id: int, token: str, yes: bool) -> None:
        self.action_id = action_id
        self.token = token
        self.yes = yes
        super().__init__(
            discord.ui.Button(
                label=pgettext("button", "Confirm") if yes else pgettext("button", "Cancel"),
                style=discord.ButtonStyle.danger if yes else discord.ButtonStyle.secondary,
                custom_id=f"mag:act:{action_id}:{token}:{'yes' if yes else 'no'}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ConfirmButton:
        return cls(int(match["id"]), match["token"], match["choice"] == "yes")

    async def run(self, interaction: discord.Interaction) -> None:
        services = bot_of(interaction).services
        pending = await services.pending.take(
            guild_id=interaction.guild_id,
            user_id=interaction.user.id,
            action_id=self.action_id,
            token=self.token,
        )
        if not self.yes:
            await interaction.response.edit_message(content=cancelled_text(), embeds=[], view=None)
            return
        # The message updates when the work is done (acknowledged first if it is slow).
        defer_later(interaction, thinking=False)
        actor = await actor_of(interaction)  # the roles they hold now, not when they asked
        handler = ACTIONS.get(pending.kind)
        if handler is None:  # a request of a kind this version no longer knows
            await respond(
                interaction, _("This request can no longer be carried out. Run the command again.")
            )
            return
        await handler(interaction, actor, pending.payload, True)

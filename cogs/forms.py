"""The form router and the fallback: every form and button the bot ever sent gets an answer.

Forms (``bot.ui.Form``) are answered here from their ``custom_id``
(``mag:form:<kind>:<args>``) and the submitted values, the same way before
and after a restart. When a form cannot be taken (the deadline passed while
it was open, a field too long, the submitter lost a role), the answer says
why and gives back everything typed: attached as a text file, and kept as a
draft that *Open the form again* brings back filled in. A form of a kind this
version does not know, and a click on a button no registered item answers
(a message from an older version), are answered privately too.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Mapping
from typing import Any

import discord
from discord.ext import commands

from bot.errors import UserError
from bot.i18n import N_, _
from bot.localisation import use_reader_language
from bot.render.confirm import echo_embed, echo_text
from bot.services.auth import Actor
from bot.services.pending import DRAFT_FOR
from bot.tree import explain, report_error, send_ephemeral
from bot.ui import (
    FORM_PREFIX,
    Answering,
    is_known_component,
    register,
    submitted_values,
    view_of,
)
from cogs._actions import ConfirmButton
from cogs._common import bot_of, send
from cogs._forms import FormHandler
from cogs._programme import PageButton
from storage.database import committed, track_commits

log = logging.getLogger(__name__)

DRAFT = r"mag:draft:(?P<id>[0-9]+):(?P<token>[A-Za-z0-9_-]+)"
UNKNOWN_BUTTON = N_(
    "This button belongs to a message the bot no longer answers (it was sent by an older "
    "version). Run the command again for a fresh one."
)


class DraftButton(Answering, discord.ui.DynamicItem[discord.ui.Button[Any]], template=DRAFT):
    """*Open the form again*: the form, filled in with what was typed."""

    def __init__(self, action_id: int, token: str) -> None:
        self.action_id, self.token = action_id, token
        super().__init__(
            discord.ui.Button(
                label=_("Open the form again"),
                style=discord.ButtonStyle.primary,
                custom_id=f"mag:draft:{action_id}:{token}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> DraftButton:
        return cls(int(match["id"]), match["token"])

    async def run(self, interaction: discord.Interaction) -> None:
        pending = await bot_of(interaction).services.pending.take(
            guild_id=interaction.guild_id,
            user_id=interaction.user.id,
            action_id=self.action_id,
            token=self.token,
        )
        payload = pending.payload
        reopen = FormHandler.reopeners[str(payload["kind"])]
        modal = await reopen(
            interaction, str(payload["kind"]), list(payload["args"]), dict(payload["values"])
        )
        await interaction.response.send_modal(modal)


async def _echo(
    interaction: discord.Interaction,
    reason: str,
    values: Mapping[str, str],
    labels: Mapping[str, str],
    *,
    kind: str | None,
    args: list[str],
) -> None:
    """Answer a form that could not be taken: why, the typed text attached, a way back."""
    view = None
    if kind in FormHandler.reopeners and interaction.guild_id is not None and not committed():
        draft = await bot_of(interaction).services.pending.ask(
            Actor(guild_id=interaction.guild_id, user_id=interaction.user.id),
            "draft",
            {"kind": kind, "args": args, "values": dict(values)},
            lasts=DRAFT_FOR,
        )
        view = view_of(DraftButton(draft.id, draft.token))
    shown = {name: _(label) for name, label in labels.items()}  # N_-marked where defined
    text = echo_text(values, shown).encode("utf-8")
    files = [discord.File(io.BytesIO(text), filename="what-you-typed.txt")] if values else None
    await send(interaction, embed=echo_embed(reason), files=files, view=view)


class FormsCog(commands.Cog):
    """Answers forms and the clicks nothing else answers."""

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        data: Mapping[str, Any] = interaction.data or {}
        custom_id = str(data.get("custom_id") or "")
        if interaction.type is discord.InteractionType.modal_submit:
            await use_reader_language(interaction)
            await self._form(interaction, custom_id, submitted_values(data))
        elif interaction.type is discord.InteractionType.component and not is_known_component(
            custom_id
        ):
            await use_reader_language(interaction)
            await send_ephemeral(interaction, _(UNKNOWN_BUTTON))

    async def _form(
        self, interaction: discord.Interaction, custom_id: str, values: dict[str, str]
    ) -> None:
        track_commits()
        kind, args = None, []
        if custom_id.startswith(FORM_PREFIX):
            kind, *args = custom_id.removeprefix(FORM_PREFIX).split(":")
        found = FormHandler.handlers.get(kind or "")
        if found is None:
            await _echo(
                interaction,
                _(
                    "This form was opened before the bot restarted or was updated, and can no "
                    "longer be sent. Run the command again."
                ),
                values,
                {},
                kind=None,
                args=[],
            )
            return
        function, labels = found
        try:
            await function(interaction, args, values)
        except UserError as error:
            await _echo(interaction, str(error), values, labels, kind=kind, args=args)
        except Exception as error:
            where = f"form {kind} (guild {interaction.guild_id}, user {interaction.user.id})"
            text = explain(error, where)
            try:
                await _echo(interaction, text, values, labels, kind=kind, args=args)
            except Exception as second:  # the answer itself failed: at least say so
                await report_error(interaction, second)


async def setup(bot: commands.Bot) -> None:
    register(bot, ConfirmButton, PageButton, DraftButton)
    await bot.add_cog(FormsCog())

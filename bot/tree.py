"""One error path for every slash command, modal and button.

A ``UserError`` (raised by the services) is shown as is, ephemeral. Anything
unexpected is logged with its traceback under a short error id, and the user
is told that id so an admin can find the log line. Whatever happens, the
interaction is answered: nobody is left with "The application did not respond".
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time

import discord
from discord import app_commands

from bot.answering import before_answering
from bot.errors import UserError
from bot.i18n import N_, _, ngettext
from bot.localisation import use_reader_language
from bot.metrics import Metrics
from bot.render.embeds import directed
from bot.services.faults import outage
from bot.services.text import quoted
from storage.database import committed, is_unavailable, track_commits

log = logging.getLogger(__name__)

GENERIC = N_(
    "Sorry, something went wrong on our side and nothing was changed. "
    "If it happens again, tell an admin the error id `{error_id}`."
)
# When the failure came after a change was committed: never claim nothing changed.
GENERIC_SAVED = N_(
    "Your change was saved, but something went wrong on our side while answering. "
    "Check the result before trying again. If it happens again, tell an admin the error "
    "id `{error_id}`."
)
UNAVAILABLE = N_(
    "The database is unavailable right now, so nothing was changed. Try again in a moment."
)
UNAVAILABLE_SAVED = N_(
    "Your change was saved, but the database became unavailable while answering. "
    "Check the result in a moment before trying again."
)
# The kinds of option a value can fail to be, by discord.py's name for them.
OPTION_TYPES = {
    "string": N_("string"),
    "integer": N_("integer"),
    "boolean": N_("boolean"),
    "user": N_("user"),
    "channel": N_("channel"),
    "role": N_("role"),
    "mentionable": N_("mentionable"),
    "number": N_("number"),
    "attachment": N_("attachment"),
}

MESSAGE_MAX = 2000


def new_error_id() -> str:
    """Return a short id that a user can quote and an admin can grep for."""
    return secrets.token_hex(4)


def unwrap(error: BaseException) -> BaseException:
    """Return the exception a command raised, without discord.py's wrapper."""
    if isinstance(error, app_commands.CommandInvokeError):
        return error.original
    if isinstance(error, app_commands.TransformerError) and isinstance(error.__cause__, UserError):
        return error.__cause__
    return error


def user_message(error: BaseException) -> str | None:
    """Return the text for an error the user can act on, or None if it is our fault."""
    original = unwrap(error)
    if isinstance(original, UserError):
        return str(original)
    if is_unavailable(original):
        return _(UNAVAILABLE_SAVED) if committed() else _(UNAVAILABLE)
    if isinstance(error, app_commands.TransformerError):
        kind = error.type.name.lower()
        return _(
            "{value} is not a valid {kind} here.",
            value=quoted(error.value, 50),
            kind=_(OPTION_TYPES[kind]) if kind in OPTION_TYPES else kind,
        )
    if isinstance(error, app_commands.NoPrivateMessage):
        return _("This command works only inside a server.")
    if isinstance(error, app_commands.MissingPermissions):
        return _("You need the Manage Server permission for this.")
    if isinstance(error, app_commands.BotMissingPermissions):
        missing = ", ".join(error.missing_permissions)
        return _(
            "I am missing permissions here: {permissions}. Ask an admin to grant them.",
            permissions=missing,
        )
    if isinstance(original, discord.RateLimited):
        return ngettext(
            "Discord is holding the bot back right now: try again in {n} seconds.",
            "Discord is holding the bot back right now: try again in {n} seconds.",
            max(1, round(original.retry_after)),
        )
    if isinstance(error, app_commands.CommandOnCooldown):
        return ngettext(
            "Slow down: try again in {n} seconds.",
            "Slow down: try again in {n} seconds.",
            round(error.retry_after),
        )
    if isinstance(error, app_commands.CheckFailure):
        return _("You can't use this command here.")
    if isinstance(error, app_commands.CommandSignatureMismatch | app_commands.CommandNotFound):
        return _("This command changed since it was registered. Ask an admin to run `magbot sync`.")
    return None


def describe(interaction: discord.Interaction) -> str:
    """Return where an interaction came from, for log lines."""
    command = interaction.command.qualified_name if interaction.command else interaction.type.name
    return f"{command!s} (guild {interaction.guild_id}, user {interaction.user.id})"


async def send_ephemeral(interaction: discord.Interaction, text: str) -> None:
    """Answer with an ephemeral message, however far the interaction has got."""
    text = directed(text)  # right to left, line by line, in Arabic
    if len(text) > MESSAGE_MAX:  # Discord refuses longer content, and the answer with it
        text = text[: MESSAGE_MAX - 1] + "…"
    await before_answering(interaction)
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(text, ephemeral=True)
            return
        if interaction.extras.get("deferred_public"):
            # A public "thinking…" placeholder would show the error to everyone:
            # remove it and answer privately instead.
            interaction.extras["deferred_public"] = False
            with contextlib.suppress(discord.HTTPException):
                await interaction.delete_original_response()
        await interaction.followup.send(text, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not answer %s with an error message", describe(interaction))


def explain(error: BaseException, where: str) -> str:
    """Return what to tell the user about ``error`` in ``where``; log what needs it.

    An outage of the database gets one warning line (no traceback: it is not a
    bug, and a traceback per command would flood the log); anything
    unexpected is logged with its traceback under an error id the user sees.
    """
    text = user_message(error)
    original = unwrap(error)
    if text is not None:
        if is_unavailable(original):
            log.warning("database unavailable in %s: %s", where, outage(original))
        return text
    error_id = new_error_id()
    log.error(
        "unexpected error %s in %s",
        error_id,
        where,
        exc_info=(type(original), original, original.__traceback__),
    )
    return _(GENERIC_SAVED if committed() else GENERIC, error_id=error_id)


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Answer ``interaction`` about ``error``; log the unexpected ones with an id."""
    text = explain(error, describe(interaction))
    if interaction.type is discord.InteractionType.autocomplete:
        # Suggestions can't carry a message; Discord shows "loading options failed".
        return
    await send_ephemeral(interaction, text)


def outcome_of(error: BaseException) -> str:
    """Return how a failed command is counted: unavailable, refused (the user's), or error."""
    original = unwrap(error)
    if is_unavailable(original) or isinstance(original, discord.RateLimited):
        return "unavailable"
    return "refused" if user_message(error) is not None else "error"


class MagTree(app_commands.CommandTree):
    """The command tree whose single ``on_error`` answers every failed command.

    It also times every slash command, from its arrival to the end of its
    handler, into the client's ``metrics`` (``bot.metrics``) when it has them.
    """

    async def _call(self, interaction: discord.Interaction, /) -> None:
        # discord.py runs this in the command's own task, right after the
        # gateway event: everything the command costs happens inside it.
        start = time.perf_counter()
        await use_reader_language(interaction)
        try:
            await super()._call(interaction)
        except Exception as error:
            # Raised past on_error (discord.py reports it after this returns).
            interaction.extras.setdefault("outcome", outcome_of(error))
            raise
        finally:
            metrics: Metrics | None = getattr(self.client, "metrics", None)
            if (
                metrics is not None
                and interaction.type is discord.InteractionType.application_command
            ):
                command = interaction.command
                name = command.qualified_name if command is not None else "unknown"
                outcome = interaction.extras.get("outcome", "ok")
                metrics.observe_command(name, outcome, time.perf_counter() - start)

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        # Runs in the command's own task, before it: count its commits from here.
        track_commits()
        return True

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        interaction.extras["outcome"] = outcome_of(error)
        await report_error(interaction, error)

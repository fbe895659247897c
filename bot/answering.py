"""Answer in one callback when the work is quick; defer only when it would take long.

Discord gives an interaction 3 s for its first answer. Deferring at once
("thinking…") costs a second round trip on every command, although most
answer in a few milliseconds. So ``defer_later`` only arms a timer: if the
handler has not answered after ``DEFER_AFTER`` seconds, the deferral goes
out then; ``before_answering`` (called by every way of answering) cancels a
timer that has not fired, or waits for a deferral already on its way, so
the answer that follows is the right kind (the first response, or a
followup).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

import discord

log = logging.getLogger(__name__)

# Seconds a handler may take before "thinking…" is shown: well inside
# Discord's 3 s, leaving room for a slow network and a busy loop.
DEFER_AFTER: Final = 1.0

_TIMER = "magbot_defer_timer"
_TASK = "magbot_defer_task"


def defer_later(
    interaction: discord.Interaction,
    *,
    ephemeral: bool = True,
    thinking: bool = True,
    after: float = DEFER_AFTER,
) -> None:
    """Defer ``interaction`` in ``after`` seconds unless it has been answered by then."""
    if interaction.response.is_done() or _TIMER in interaction.extras:
        return
    loop = asyncio.get_running_loop()
    interaction.extras[_TIMER] = loop.call_later(after, _start, interaction, ephemeral, thinking)


def _start(interaction: discord.Interaction, ephemeral: bool, thinking: bool) -> None:
    interaction.extras.pop(_TIMER, None)
    interaction.extras[_TASK] = asyncio.create_task(
        _defer(interaction, ephemeral, thinking), name="defer"
    )


async def _defer(interaction: discord.Interaction, ephemeral: bool, thinking: bool) -> None:
    if interaction.response.is_done():
        return
    try:
        await interaction.response.defer(ephemeral=ephemeral, thinking=thinking)
    except discord.HTTPException as error:  # the answer that follows will say what it can
        log.warning("could not defer an interaction: %s", error)
        return
    interaction.extras["deferred_public"] = thinking and not ephemeral


async def before_answering(interaction: discord.Interaction) -> None:
    """Settle a pending deferral before answering (see the module doc)."""
    timer = interaction.extras.pop(_TIMER, None)
    if timer is not None:
        timer.cancel()
    task = interaction.extras.pop(_TASK, None)
    if task is not None:
        with contextlib.suppress(Exception):
            await task

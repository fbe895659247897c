"""Who still holds the MAG role: asked of Discord before assigning, counting or chasing.

The bot has no members intent (it needs none to answer commands), so it does
not hear when an admin takes the MAG role away. Each interaction records the
member's roles as they are (``ProfileService.observe``); before an assignment
or a count of the MAG, and once an hour for the chasing reminders, the bot
looks up each MAG profile not checked recently (``GET /guilds/{id}/members/{user}``,
which needs no intent): a member who left or lost the role is no longer
assigned, counted or chased, and keeps their profile.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Final

import discord

if TYPE_CHECKING:
    from bot.client import MagBot

log = logging.getLogger(__name__)

FRESH: Final = timedelta(minutes=10)


async def refresh_roster(bot: MagBot, guild_id: int, *, fresh: timedelta = FRESH) -> int:
    """Check the MAG role of the guild's profiled members; return how many changed."""
    services = bot.services
    role_id = (await services.config.get(guild_id)).roles["mag"]
    guild = bot.get_guild(guild_id)
    if role_id is None or guild is None:
        return 0
    holders: dict[int, bool] = {}
    for user_id in await services.profiles.to_check(guild_id, older_than=fresh):
        member = guild.get_member(user_id)
        if member is None:
            try:
                member = await guild.fetch_member(user_id)
            except discord.NotFound:
                holders[user_id] = False  # left the server
                continue
            except discord.HTTPException as error:
                log.info("could not check member %s of guild %s: %s", user_id, guild_id, error)
                continue
        holders[user_id] = any(role.id == role_id for role in member.roles)
    return await services.profiles.record_roles(guild_id, holders)

"""`/deadline`: consultation deadlines, meetings and their reminders."""

from __future__ import annotations

import io
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n import _, ngettext
from bot.render.deadlines import calendar_ics, deadline_embed, deadlines_embed
from bot.render.text import one_line, plain
from bot.services.config import suggest_timezones
from cogs._common import Number, actor_of, bot_of, defer, send

Kind = Literal["proposals", "reviews", "consultation", "meeting", "other"]
REPEATS = [
    app_commands.Choice(name="does not repeat", value="none"),
    app_commands.Choice(name="daily", value="daily"),
    app_commands.Choice(name="weekly", value="weekly"),
    app_commands.Choice(name="every two weeks", value="biweekly"),
    app_commands.Choice(name="monthly", value="monthly"),
]
SECRETARIAT = {"audience": "secretariat"}


class DeadlinesCog(commands.Cog):
    """Deadlines and reminders."""

    deadline = app_commands.Group(
        name="deadline",
        description="Consultation deadlines, meetings and their reminders",
        guild_only=True,
    )

    @deadline.command(name="add", description="Add a deadline with reminders", extras=SECRETARIAT)
    @app_commands.describe(
        title="What is due, e.g. Call for workshop proposals",
        due="YYYY-MM-DD HH:MM on a 24-hour clock, e.g. 2027-03-15 23:59",
        timezone="Zone of the due time (IANA, e.g. Europe/Zurich); default the server's",
        kind="What kind of deadline (reviews and proposals ones chase who has not acted)",
        link="A web page about it",
        offsets="When to remind before it, e.g. 7d,1d,1h; default the server's",
        repeat="Repeat on the same wall-clock time",
        channel="Where its reminders go; default the reminders channel",
    )
    @app_commands.choices(repeat=REPEATS)
    async def add(
        self,
        interaction: discord.Interaction,
        title: app_commands.Range[str, 1, 200],
        due: app_commands.Range[str, 1, 40],
        timezone: app_commands.Range[str, 1, 64] | None = None,
        kind: Kind = "other",
        link: app_commands.Range[str, 1, 500] | None = None,
        offsets: app_commands.Range[str, 1, 100] | None = None,
        repeat: str = "none",
        channel: discord.TextChannel | None = None,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        view = await bot_of(interaction).services.deadlines.add(
            actor,
            title=title,
            due=due,
            timezone=timezone,
            kind=kind,
            link=link,
            offsets=offsets,
            repeat=repeat,
            channel_id=channel.id if channel else None,
        )
        heading = _("Deadline #{number} added.", number=view.number)
        await send(interaction, embed=deadline_embed(view, heading=heading))

    @deadline.command(name="list", description="List upcoming deadlines")
    @app_commands.describe(include_past="Also show deadlines that have passed")
    async def list_deadlines(
        self, interaction: discord.Interaction, include_past: bool = False
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        views = await bot_of(interaction).services.deadlines.list(actor, include_past=include_past)
        await send(interaction, embed=deadlines_embed(views, include_past=include_past))

    @deadline.command(name="view", description="Show one deadline and its reminders")
    @app_commands.describe(number="The deadline's number (see /deadline list)")
    async def view(self, interaction: discord.Interaction, number: Number) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        view = await bot_of(interaction).services.deadlines.get(actor, number)
        await send(interaction, embed=deadline_embed(view))

    @deadline.command(
        name="edit", description="Change a deadline; pending reminders follow", extras=SECRETARIAT
    )
    @app_commands.describe(
        number="The deadline's number (see /deadline list)",
        title="New title",
        due="New due time, YYYY-MM-DD HH:MM",
        timezone="New zone of the due time (IANA)",
        kind="New kind",
        link="New link, or - to remove it",
        offsets="New offsets, e.g. 7d,1d,1h",
        repeat="New repeat",
        channel="New channel for its reminders",
    )
    @app_commands.choices(repeat=REPEATS)
    async def edit(
        self,
        interaction: discord.Interaction,
        number: Number,
        title: app_commands.Range[str, 1, 200] | None = None,
        due: app_commands.Range[str, 1, 40] | None = None,
        timezone: app_commands.Range[str, 1, 64] | None = None,
        kind: Kind | None = None,
        link: app_commands.Range[str, 1, 500] | None = None,
        offsets: app_commands.Range[str, 1, 100] | None = None,
        repeat: str | None = None,
        channel: discord.TextChannel | None = None,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        view = await bot_of(interaction).services.deadlines.edit(
            actor,
            number,
            title=title,
            due=due,
            timezone=timezone,
            kind=kind,
            link=link,
            offsets=offsets,
            repeat=repeat,
            channel_id=channel.id if channel else None,
        )
        heading = _(
            "Deadline #{number} changed. Reminders already sent stay sent.", number=view.number
        )
        await send(interaction, embed=deadline_embed(view, heading=heading))

    @deadline.command(
        name="remove", description="Remove a deadline and cancel its reminders", extras=SECRETARIAT
    )
    @app_commands.describe(number="The deadline's number (see /deadline list)")
    async def remove(self, interaction: discord.Interaction, number: Number) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        view = await bot_of(interaction).services.deadlines.remove(actor, number)
        cancelled = sum(1 for r in view.reminders if r.status == "cancelled")
        text = ngettext(
            "Deadline #{number} ({title}) removed; {n} pending reminders cancelled.",
            "Deadline #{number} ({title}) removed; {n} pending reminders cancelled.",
            cancelled,
            number=view.number,
            title=one_line(view.title, 100),
        )
        await send(interaction, text)

    @deadline.command(name="calendar", description="Download upcoming deadlines as a calendar file")
    async def calendar(self, interaction: discord.Interaction) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        bot = bot_of(interaction)
        views = await bot.services.deadlines.upcoming(actor)
        name = interaction.guild.name if interaction.guild else "MAG"
        data = calendar_ics(
            views,
            guild_id=actor.guild_id,
            name=_("{server} deadlines", server=name),
            now=bot.services.clock(),
        )
        file = discord.File(io.BytesIO(data), filename="deadlines.ics")
        text = ngettext(
            "{n} upcoming deadlines, with an alarm for each reminder. "
            "Open the file with your calendar app to import them.",
            "{n} upcoming deadlines, with an alarm for each reminder. "
            "Open the file with your calendar app to import them.",
            len(views),
        )
        await send(interaction, text, files=[file])

    @add.autocomplete("timezone")
    @edit.autocomplete("timezone")
    async def timezone_names(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=n, value=n) for n in suggest_timezones(current)]

    @view.autocomplete("number")
    @edit.autocomplete("number")
    @remove.autocomplete("number")
    async def deadline_numbers(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        if interaction.guild_id is None:
            return []
        actor = await actor_of(interaction)
        views = await bot_of(interaction).services.deadlines.list(actor)
        needle = current.strip().lstrip("#").casefold()
        return [
            app_commands.Choice(name=plain(f"#{v.number} {v.title}", 100), value=v.number)
            for v in views
            if needle in f"{v.number} {v.title}".casefold()
        ][:25]


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(DeadlinesCog())

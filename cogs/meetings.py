"""`/meeting`: MAG meetings with their Discord scheduled events, agendas, attendance, minutes.

``DiscordEvents`` is the services' ``EventGateway``: it makes a guild's
scheduled event match the meeting through discord.py
(``Guild.create_scheduled_event``, ``ScheduledEvent.edit`` / ``start`` /
``end`` / ``cancel``) and maps Discord's refusals to an outcome the service
keeps on the row and retries. The cog's clock job syncs what is behind and
posts the "I'm here" button when a meeting starts; the button
(``mag:here:<guild>:<number>``) is a dynamic item, answered after a restart.
The minutes form (``mag:form:minutes:<number>``) goes through the form
router, so what was typed comes back if it cannot be taken.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any, Final

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n import N_, _, speaking
from bot.render.meetings import list_embed, meeting_embed, minutes_files, plan_embed, sync_text
from bot.services.meetings import (
    MAX_MINUTES,
    EventOutcome,
    EventSpec,
    MeetingView,
)
from bot.ui import Answering, Form, register, view_of
from cogs._common import Number, actor_of, bot_of, defer, send
from cogs._forms import FormHandler, form
from storage.meetings import EVENT_ACTIVE, EVENT_CANCELED, EVENT_COMPLETED, EVENT_SCHEDULED

log = logging.getLogger(__name__)

TICK_SECONDS: Final = 10.0
SECRETARIAT = {"audience": "secretariat"}
HERE = r"mag:here:(?P<guild>[0-9]+):(?P<number>[0-9]+)"
LABELS = {"minutes": N_("Minutes"), "decisions": N_("Decisions")}


class DiscordEvents:
    """Keep a guild's scheduled event in step with a meeting, through discord.py."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def sync(self, guild_id: int, event_id: int | None, spec: EventSpec) -> EventOutcome:
        guild = self._client.get_guild(guild_id)
        if guild is None:
            return EventOutcome(ok=False, error="guild not available yet")
        try:
            found = await self._own_event(guild, spec) if event_id is None else None
            if found is not None:
                event = await self._update(found, spec)  # created before, its answer lost
            elif event_id is None:
                event = await guild.create_scheduled_event(
                    name=spec.name,
                    description=spec.description or discord.utils.MISSING,
                    start_time=spec.starts_at,
                    end_time=spec.ends_at,
                    # discord.py sends neither unless given; Discord requires both.
                    entity_type=discord.EntityType.external,
                    privacy_level=discord.PrivacyLevel.guild_only,
                    location=spec.location,
                )
            else:
                event = await guild.fetch_scheduled_event(event_id)
                event = await self._update(event, spec)
            event = await self._move_status(event, spec.status)
        except discord.Forbidden as error:
            return EventOutcome(
                ok=False,
                error=f"{error.status} {error.code} {error.text}".strip(),
                missing_permission=error.code == 50013,
            )
        except discord.NotFound as error:
            return EventOutcome(ok=False, error=f"{error.code} {error.text}".strip(), gone=True)
        except discord.RateLimited as error:
            return EventOutcome(
                ok=False,
                error=f"rate limited for {error.retry_after:.0f} s",
                retry_after=error.retry_after,
            )
        except discord.HTTPException as error:
            return EventOutcome(ok=False, error=f"{error.status} {error.code} {error.text}".strip())
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as error:
            return EventOutcome(ok=False, error=f"{type(error).__name__}: {error}")
        return EventOutcome(ok=True, event_id=event.id, status=event.status.value)

    async def _own_event(
        self, guild: discord.Guild, spec: EventSpec
    ) -> discord.ScheduledEvent | None:
        """Return the bot's own event of this name and start, when a create may have got through."""
        if not spec.may_exist or self._client.user is None:
            return None
        me = self._client.user.id
        for event in await guild.fetch_scheduled_events():
            if (
                event.creator_id == me
                and event.name == spec.name
                and event.start_time == spec.starts_at
                and event.status in (discord.EventStatus.scheduled, discord.EventStatus.active)
            ):
                return event
        return None

    @staticmethod
    async def _update(event: discord.ScheduledEvent, spec: EventSpec) -> discord.ScheduledEvent:
        if event.status not in (discord.EventStatus.scheduled, discord.EventStatus.active):
            return event  # over or cancelled in Discord: nothing more to change
        if spec.status in (EVENT_CANCELED, EVENT_COMPLETED):
            return event  # ``_move_status`` ends it
        changes: dict[str, Any] = {}
        if event.name != spec.name:
            changes["name"] = spec.name
        if (event.description or None) != spec.description:
            changes["description"] = spec.description or ""
        if event.location != spec.location or event.end_time != spec.ends_at:
            changes["location"] = spec.location
            changes["end_time"] = spec.ends_at
        if event.status is discord.EventStatus.scheduled and event.start_time != spec.starts_at:
            changes["start_time"] = spec.starts_at
            changes["end_time"] = spec.ends_at
            changes["location"] = spec.location
        if not changes:
            return event
        return await event.edit(**changes)

    @staticmethod
    async def _move_status(event: discord.ScheduledEvent, wanted: int) -> discord.ScheduledEvent:
        """Walk Discord's order: scheduled, active, completed (or scheduled, cancelled)."""
        status = event.status.value
        if wanted == status or status in (EVENT_COMPLETED, EVENT_CANCELED):
            return event
        if wanted == EVENT_CANCELED and status == EVENT_SCHEDULED:
            return await event.cancel()
        if wanted in (EVENT_ACTIVE, EVENT_COMPLETED) and status == EVENT_SCHEDULED:
            event = await event.start()
        if wanted in (EVENT_COMPLETED, EVENT_CANCELED) and event.status.value == EVENT_ACTIVE:
            event = await event.end()
        return event


def here_button(guild_id: int, number: int) -> AttendButton:
    return AttendButton(guild_id, number)


class AttendButton(Answering, discord.ui.DynamicItem[discord.ui.Button[Any]], template=HERE):
    """*I'm here*: the member is counted present at the meeting."""

    def __init__(self, guild_id: int, number: int) -> None:
        self.guild_id, self.number = guild_id, number
        super().__init__(
            discord.ui.Button(
                label=_("I'm here"),
                style=discord.ButtonStyle.success,
                custom_id=f"mag:here:{guild_id}:{number}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> AttendButton:
        return cls(int(match["guild"]), int(match["number"]))

    async def run(self, interaction: discord.Interaction) -> None:
        actor = await actor_of(interaction)
        new = await bot_of(interaction).services.meetings.attend(actor, self.number)
        text = (
            _("Thank you: you are counted present at meeting #{number}.", number=self.number)
            if new
            else _("You are counted present at meeting #{number} already.", number=self.number)
        )
        await send(interaction, text)


def attendance_text(view: MeetingView) -> str:
    return _(
        "Meeting #{number} has started. MAG members: press *I'm here* to be counted present.",
        number=view.number,
    )


def minutes_form(view: MeetingView, values: Mapping[str, str] | None = None) -> Form:
    modal = Form(
        title=_("Minutes of meeting #{number}", number=view.number),
        custom_id=f"mag:form:minutes:{view.number}",
    )
    current = values or {"minutes": view.minutes or "", "decisions": view.decisions or ""}
    modal.text(
        "minutes", _("Minutes"), long=True, default=current.get("minutes") or None,
        max_length=MAX_MINUTES, required=False,
    )  # fmt: skip
    modal.text(
        "decisions", _("Decisions"), long=True, default=current.get("decisions") or None,
        max_length=MAX_MINUTES, required=False,
    )  # fmt: skip
    return modal


@form("minutes", labels=LABELS)
async def minutes_submitted(
    interaction: discord.Interaction, args: list[str], values: Mapping[str, str]
) -> None:
    """``<number>``."""
    (number,) = args
    services = bot_of(interaction).services
    actor = await actor_of(interaction)
    await defer(interaction)
    view = await services.meetings.record_minutes(
        actor,
        int(number),
        minutes=values.get("minutes", ""),
        decisions=values.get("decisions", ""),
    )
    await send(
        interaction,
        _("The minutes are recorded; the next digest lists them."),
        embed=meeting_embed(view, services.meetings.now()),
        files=minutes_files(view),
    )


async def reopen(
    interaction: discord.Interaction, kind: str, args: list[str], values: Mapping[str, str]
) -> Form:
    actor = await actor_of(interaction)
    view = await bot_of(interaction).services.meetings.get(actor, int(args[0]))
    return minutes_form(view, values)


FormHandler.reopeners["minutes"] = reopen


class MeetingsCog(commands.Cog):
    """MAG meetings: scheduled, shown in Discord's events, reminded, attended, minuted."""

    meeting = app_commands.Group(
        name="meeting",
        description="MAG meetings: schedule, agenda, attendance, minutes, fair hours",
        guild_only=True,
    )
    agenda = app_commands.Group(
        name="agenda", description="A meeting's agenda: add or propose items", parent=meeting
    )

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self.events = DiscordEvents(bot)

    async def cog_load(self) -> None:
        self.bot.clock.every(TICK_SECONDS, self.tick, name="meetings")  # type: ignore[attr-defined]

    async def tick(self) -> None:
        """Sync the events that are behind; post the attendance button of meetings that began."""
        services = self.bot.services  # type: ignore[attr-defined]
        if not self.bot.is_ready():
            return
        now = self.bot.clock.now()  # type: ignore[attr-defined]
        # Each process syncs the servers its shards serve (the others are theirs).
        await services.meetings.sync_events(
            now, self.events, guild_ids=[guild.id for guild in self.bot.guilds]
        )
        for post in await services.meetings.attendance_due(now):
            channel = self.bot.get_partial_messageable(post.channel_id, guild_id=post.guild_id)
            try:
                with speaking(post.language):
                    content = attendance_text(post.meeting)
                    view = view_of(here_button(post.guild_id, post.meeting.number))
                await channel.send(content, view=view)
            except (discord.HTTPException, aiohttp.ClientError, OSError) as error:
                log.warning(
                    "could not post the attendance of meeting %s in %s: %s",
                    post.meeting.number,
                    post.channel_id,
                    error,
                )

    async def _sync_said(self, interaction: discord.Interaction, number: int) -> str:
        services = bot_of(interaction).services
        assert interaction.guild_id is not None
        result = await services.meetings.sync_one(interaction.guild_id, number, self.events)
        return sync_text(result)

    @meeting.command(name="schedule", description="Schedule a MAG meeting", extras=SECRETARIAT)
    @app_commands.describe(
        starts="When it starts, YYYY-MM-DD HH:MM in the server's time zone",
        title="Its name (default: Virtual Meeting and its number in roman numerals)",
        length="How long it lasts, in minutes (default: 120)",
        timezone="The time zone of the start (default: the server's)",
        location="Where: a platform or a room (default: Online)",
        description="What it is about (at most 1,000 characters)",
        channel="Where its reminders and attendance are posted (default: reminders)",
        offsets="When to remind before it, such as 1d,1h (default: the server's)",
    )
    async def schedule(
        self,
        interaction: discord.Interaction,
        starts: str,
        title: app_commands.Range[str, 1, 100] | None = None,
        length: app_commands.Range[int, 15, 720] | None = None,
        timezone: str | None = None,
        location: app_commands.Range[str, 1, 100] | None = None,
        description: app_commands.Range[str, 1, 1000] | None = None,
        channel: discord.TextChannel | None = None,
        offsets: str | None = None,
    ) -> None:
        await defer(interaction)
        services = bot_of(interaction).services
        actor = await actor_of(interaction)
        view = await services.meetings.schedule(
            actor,
            starts=starts,
            title=title,
            minutes=length,
            timezone=timezone,
            location=location,
            description=description,
            channel_id=channel.id if channel else None,
            offsets=offsets,
        )
        said = await self._sync_said(interaction, view.number)
        view = await services.meetings.get(actor, view.number)
        await send(
            interaction,
            _("Meeting #{number} is scheduled.", number=view.number) + " " + said,
            embed=meeting_embed(view, services.meetings.now()),
        )

    @meeting.command(
        name="edit", description="Change a meeting (its event follows)", extras=SECRETARIAT
    )
    @app_commands.describe(
        number="The meeting's number",
        title="A new name",
        starts="A new start, YYYY-MM-DD HH:MM",
        length="A new length, in minutes",
        timezone="The time zone of the new start (default: the meeting's)",
        location="A new location",
        description="A new description",
    )
    async def edit(
        self,
        interaction: discord.Interaction,
        number: Number,
        title: app_commands.Range[str, 1, 100] | None = None,
        starts: str | None = None,
        length: app_commands.Range[int, 15, 720] | None = None,
        timezone: str | None = None,
        location: app_commands.Range[str, 1, 100] | None = None,
        description: app_commands.Range[str, 1, 1000] | None = None,
    ) -> None:
        await defer(interaction)
        services = bot_of(interaction).services
        actor = await actor_of(interaction)
        await services.meetings.edit(
            actor,
            number,
            title=title,
            starts=starts,
            minutes=length,
            timezone=timezone,
            location=location,
            description=description,
        )
        said = await self._sync_said(interaction, number)
        view = await services.meetings.get(actor, number)
        await send(
            interaction,
            _("Meeting #{number} is changed.", number=number) + " " + said,
            embed=meeting_embed(view, services.meetings.now()),
        )

    @meeting.command(
        name="cancel", description="Cancel a meeting (its event too)", extras=SECRETARIAT
    )
    @app_commands.describe(number="The meeting's number")
    async def cancel(self, interaction: discord.Interaction, number: Number) -> None:
        await defer(interaction)
        services = bot_of(interaction).services
        actor = await actor_of(interaction)
        await services.meetings.cancel(actor, number)
        said = await self._sync_said(interaction, number)
        await send(
            interaction,
            _("Meeting #{number} is cancelled; its reminders are stopped.", number=number)
            + " "
            + said,
        )

    @meeting.command(name="list", description="The meetings ahead")
    async def list_(self, interaction: discord.Interaction) -> None:
        await defer(interaction)
        services = bot_of(interaction).services
        actor = await actor_of(interaction)
        views = await services.meetings.listed(actor)
        await send(interaction, embed=list_embed(views, services.meetings.now()))

    @meeting.command(name="view", description="A meeting: agenda, attendance, minutes")
    @app_commands.describe(number="The meeting's number")
    async def view(self, interaction: discord.Interaction, number: Number) -> None:
        await defer(interaction)
        services = bot_of(interaction).services
        actor = await actor_of(interaction)
        view = await services.meetings.get(actor, number)
        await send(
            interaction,
            embed=meeting_embed(view, services.meetings.now()),
            files=minutes_files(view),
        )

    @agenda.command(
        name="add", description="Add an item (the secretariat) or propose one (MAG members)"
    )
    @app_commands.describe(number="The meeting's number", item="The agenda item")
    async def agenda_add(
        self,
        interaction: discord.Interaction,
        number: Number,
        item: app_commands.Range[str, 1, 200],
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        added = await bot_of(interaction).services.meetings.agenda_add(actor, number, item)
        if added.status == "accepted":
            text = _(
                "Item {item} is on the agenda of meeting #{number}.",
                item=added.number,
                number=number,
            )
        else:
            text = _(
                "Item {item} is proposed for meeting #{number}; the secretariat accepts or "
                "declines it.",
                item=added.number,
                number=number,
            )
        await send(interaction, text)

    @agenda.command(
        name="decide", description="Accept or decline a proposed item", extras=SECRETARIAT
    )
    @app_commands.describe(
        number="The meeting's number", item="The item's number", approve="Accept it (or decline)"
    )
    async def agenda_decide(
        self, interaction: discord.Interaction, number: Number, item: Number, approve: bool
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        decided = await bot_of(interaction).services.meetings.agenda_decide(
            actor, number, item, accept=approve
        )
        text = (
            _("Item {item} is on the agenda.", item=decided.number)
            if approve
            else _("Item {item} is declined.", item=decided.number)
        )
        await send(interaction, text)

    @meeting.command(
        name="attendance", description="Post the I'm here button here now", extras=SECRETARIAT
    )
    @app_commands.describe(number="The meeting's number")
    async def attendance(self, interaction: discord.Interaction, number: Number) -> None:
        await defer(interaction, ephemeral=False)
        actor = await actor_of(interaction)
        view = await bot_of(interaction).services.meetings.open_attendance(actor, number)
        await send(
            interaction,
            attendance_text(view),
            view=view_of(here_button(actor.guild_id, number)),
            ephemeral=False,
        )

    @meeting.command(
        name="minutes", description="Record a meeting's minutes and decisions", extras=SECRETARIAT
    )
    @app_commands.describe(number="The meeting's number")
    async def minutes(self, interaction: discord.Interaction, number: Number) -> None:
        actor = await actor_of(interaction)
        view = await bot_of(interaction).services.meetings.check_minutes(actor, number)
        await interaction.response.send_modal(minutes_form(view))

    @meeting.command(name="plan", description="Propose fair hours for a series of meetings")
    @app_commands.describe(
        first="The first meeting's date, YYYY-MM-DD",
        count="How many meetings in the series",
        hours="Candidate UTC hours, such as 5,13,21 (default: every three hours)",
        every="Days between meetings (default: 7)",
        length="How long each lasts, in minutes (default: 120)",
    )
    async def plan(
        self,
        interaction: discord.Interaction,
        first: str,
        count: app_commands.Range[int, 1, 52],
        hours: str | None = None,
        every: app_commands.Range[int, 1, 90] = 7,
        length: app_commands.Range[int, 15, 720] | None = None,
    ) -> None:
        await defer(interaction)
        actor = await actor_of(interaction)
        planned = await bot_of(interaction).services.meetings.plan(
            actor, first=first, count=count, hours=hours, every_days=every, minutes=length
        )
        await send(interaction, embed=plan_embed(planned))


async def setup(bot: commands.Bot) -> None:
    register(bot, AttendButton)
    await bot.add_cog(MeetingsCog(bot))

"""Guild scheduled events: the REST routes, Discord's checks, the gateway events.

Checked against discord/discord-api-docs (docs/resources/guild-scheduled-
event.mdx), the OpenAPI spec in discord/discord-api-spec (specs/openapi.json:
``*ScheduledEventCreateRequest``, ``*ScheduledEventPatchRequestPartial``) and
the JSON error codes (docs/topics/opcodes-and-status-codes.md):

- ``name`` 1-100 characters, ``description`` at most 1000, ``privacy_level``
  required and 2 (GUILD_ONLY, the only level), ``scheduled_start_time`` an
  ISO 8601 time, in the future when set; ``entity_type`` 1 (stage instance)
  or 2 (voice) need ``channel_id`` of a stage or voice channel and no
  ``entity_metadata``; 3 (external) needs ``channel_id`` null,
  ``entity_metadata.location`` 1-100 and a ``scheduled_end_time`` (after the
  start). PATCH silently drops ``entity_metadata`` of a non-external event.
- Status moves SCHEDULED (1) -> ACTIVE (2) or CANCELED (4), ACTIVE ->
  COMPLETED (3); a completed or canceled event's status can't change.
- At most 100 events SCHEDULED or ACTIVE per guild: the next create is 400,
  code 30038 "Maximum number of uncompleted guild scheduled events reached
  (100)". An unknown event is 404, code 10070.
- Permissions (guild level here: the fake has no channel overwrites). Since
  2026-02-23 a bot needs CREATE_EVENTS (1 << 44) to create an event;
  MANAGE_EVENTS (1 << 33) "alone will no longer be sufficient"
  (docs/change-log/2025-11-20-guild-expressions-and-events-permissions.md).
  Editing or deleting needs MANAGE_EVENTS, or CREATE_EVENTS for an event the
  bot created. Voice events also need VIEW_CHANNEL and CONNECT; stage events
  MANAGE_CHANNELS, MUTE_MEMBERS and MOVE_MEMBERS. Missing any: 403, code
  50013 "Missing Permissions".
- Invalid bodies: 400 "Invalid Form Body" (50035) with an ``errors`` tree.
- Gateway: GUILD_SCHEDULED_EVENT_CREATE / _UPDATE / _DELETE carry the whole
  event and go only to sessions with the GUILD_SCHEDULED_EVENTS intent
  (1 << 16); GUILD_CREATE lists the guild's events. discord.py's
  ``ScheduledEvent._update`` reads ``id``, ``guild_id``, ``name``,
  ``entity_type``, ``scheduled_start_time`` and ``status`` with ``[]`` (a
  missing one kills the gateway reader), the rest with ``get``.

discord.py 2.7's ``Guild.create_scheduled_event`` sends ``privacy_level``
only when given, and no ``entity_type`` when it infers "external" from
``location``; Discord's schema requires both, so the fake refuses such a
request as Discord does: pass ``privacy_level=PrivacyLevel.guild_only`` and
``entity_type=EntityType.external``.

Not modelled: cover images (accepted, dropped), recurrence rules (stored as
sent), subscribers (``user_count`` is 0), exceptions, and Discord's own
status automation (external events starting and ending on time, stale ones
canceled).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import discord
from aiohttp import web

from .models import STAGE_CHANNEL, VOICE_CHANNEL, VOICE_CHANNEL_TYPES, FakeGuild, FakeUser
from .replies import ApiError, json_reply, no_content
from .validation import form_errors

if TYPE_CHECKING:
    from .server import FakeDiscord

STAGE_INSTANCE, VOICE, EXTERNAL = 1, 2, 3
SCHEDULED, ACTIVE, COMPLETED, CANCELED = 1, 2, 3, 4
GUILD_ONLY = 2
MAX_UPCOMING = 100
INTENT_GUILD_SCHEDULED_EVENTS = 1 << 16

#: Status changes Discord accepts.
TRANSITIONS: dict[int, set[int]] = {SCHEDULED: {ACTIVE, CANCELED}, ACTIVE: {COMPLETED}}

MANAGE_EVENTS = discord.Permissions(manage_events=True).value
CREATE_EVENTS = discord.Permissions(create_events=True).value
#: What an event in a channel needs besides the events permission.
CHANNEL_PERMISSIONS = {
    STAGE_INSTANCE: discord.Permissions(
        manage_channels=True, mute_members=True, move_members=True
    ).value,
    VOICE: discord.Permissions(view_channel=True, connect=True).value,
}
#: The channel type each channel-hosted entity type needs.
CHANNEL_TYPE = {STAGE_INSTANCE: STAGE_CHANNEL, VOICE: VOICE_CHANNEL}

Problem = tuple[str, str]


@dataclass
class FakeScheduledEvent:
    """A guild scheduled event as the fake stored it."""

    id: int
    guild_id: int
    creator: FakeUser
    name: str
    scheduled_start_time: datetime
    entity_type: int
    privacy_level: int = GUILD_ONLY
    status: int = SCHEDULED
    channel_id: int | None = None
    description: str | None = None
    scheduled_end_time: datetime | None = None
    location: str | None = None
    recurrence_rule: dict[str, Any] | None = None
    #: Every accepted PATCH body, in order.
    edits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def upcoming(self) -> bool:
        """Scheduled or active: what counts against the 100 per guild."""
        return self.status in (SCHEDULED, ACTIVE)

    def fields(self) -> dict[str, Any]:
        """The event in the request's shape, to merge a PATCH into and check again."""
        return {
            "name": self.name,
            "description": self.description,
            "privacy_level": self.privacy_level,
            "scheduled_start_time": self.scheduled_start_time.isoformat(),
            "scheduled_end_time": (
                self.scheduled_end_time.isoformat() if self.scheduled_end_time else None
            ),
            "entity_type": self.entity_type,
            "channel_id": str(self.channel_id) if self.channel_id else None,
            "entity_metadata": {"location": self.location} if self.location else None,
            "recurrence_rule": self.recurrence_rule,
        }

    def payload(self, *, with_user_count: bool = False) -> dict[str, Any]:
        """The guild scheduled event object (REST answers and gateway events)."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "guild_id": str(self.guild_id),
            "channel_id": str(self.channel_id) if self.channel_id else None,
            "creator_id": str(self.creator.id),
            "creator": self.creator.payload(),
            "name": self.name,
            "description": self.description,
            "scheduled_start_time": self.scheduled_start_time.isoformat(),
            "scheduled_end_time": (
                self.scheduled_end_time.isoformat() if self.scheduled_end_time else None
            ),
            "privacy_level": self.privacy_level,
            "status": self.status,
            "entity_type": self.entity_type,
            "entity_id": None,
            "entity_metadata": {"location": self.location}
            if self.entity_type == EXTERNAL
            else None,
            "image": None,
            "recurrence_rule": self.recurrence_rule,
        }
        if with_user_count:
            data["user_count"] = 0
        return data


# -- Discord's checks -------------------------------------------------------------


def parse_time(value: Any) -> datetime:
    """An ISO 8601 timestamp as Discord reads it (``Z`` allowed, no offset means UTC)."""
    if not isinstance(value, str):
        raise ValueError("not a string")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _time_field(event: Mapping[str, Any], key: str, problems: list[Problem]) -> datetime | None:
    value = event.get(key)
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError:
        problems.append((key, f"Could not parse {value!r}. Should be ISO8601."))
        return None


def _text_problems(event: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    name = event.get("name")
    if name is None:
        problems.append(("name", "This field is required"))
    elif not isinstance(name, str) or not 1 <= len(name) <= 100:
        problems.append(("name", "Must be between 1 and 100 in length."))
    description = event.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 1000):
        problems.append(("description", "Must be 1000 or fewer in length."))
    privacy = event.get("privacy_level")
    if privacy is None:
        problems.append(("privacy_level", "This field is required"))
    elif privacy != GUILD_ONLY:
        problems.append(("privacy_level", "Invalid privacy level for event."))
    return problems


def _entity_problems(
    event: Mapping[str, Any], guild: FakeGuild, *, creating: bool
) -> list[Problem]:
    kind = event.get("entity_type")
    if kind is None:
        return [("entity_type", "This field is required")]
    if kind not in (STAGE_INSTANCE, VOICE, EXTERNAL):
        return [("entity_type", f"Value must be one of {{1, 2, 3}}, not {kind!r}.")]
    problems: list[Problem] = []
    channel_id = event.get("channel_id")
    if kind == EXTERNAL:
        if channel_id is not None:
            problems.append(("channel_id", "Must be null for an external event."))
        location = (event.get("entity_metadata") or {}).get("location")
        if not isinstance(location, str) or not 1 <= len(location) <= 100:
            problems.append(("entity_metadata.location", "Must be between 1 and 100 in length."))
        if event.get("scheduled_end_time") is None:
            problems.append(("scheduled_end_time", "Required for an external event."))
        return problems
    channel = guild.channels.get(int(str(channel_id))) if str(channel_id).isdigit() else None
    if channel_id is None:
        problems.append(("channel_id", "Required for a stage or voice event."))
    elif channel is None or channel.type not in VOICE_CHANNEL_TYPES:
        problems.append(("channel_id", "Unknown stage or voice channel."))
    elif channel.type != CHANNEL_TYPE[kind]:
        needed = "stage" if kind == STAGE_INSTANCE else "voice"
        problems.append(("channel_id", f"Must be a {needed} channel for this entity type."))
    if creating and event.get("entity_metadata") is not None:
        problems.append(("entity_metadata", "Must be null for a stage or voice event."))
    return problems


def event_problems(
    event: Mapping[str, Any],
    guild: FakeGuild,
    now: datetime,
    *,
    creating: bool,
    start_changed: bool,
) -> list[Problem]:
    """Everything Discord refuses in an event (a create body, or an event merged with a PATCH)."""
    problems = _text_problems(event)
    start = _time_field(event, "scheduled_start_time", problems)
    end = _time_field(event, "scheduled_end_time", problems)
    if start is None and "scheduled_start_time" not in {p for p, _ in problems}:
        problems.append(("scheduled_start_time", "This field is required"))
    if start is not None and start_changed and start <= now:
        problems.append(("scheduled_start_time", "Cannot schedule event in the past."))
    if start is not None and end is not None and end <= start:
        problems.append(("scheduled_end_time", "Cannot be before the start time."))
    return problems + _entity_problems(event, guild, creating=creating)


def status_problem(current: int, wanted: Any) -> Problem | None:
    """Refuse a status change Discord does not allow."""
    if wanted == current:
        return None
    if wanted not in TRANSITIONS.get(current, set()):
        return ("status", f"Cannot change the status from {current} to {wanted!r}.")
    return None


def lacks_permissions(
    permissions: int, entity_type: Any, *, creating: bool, created_by_bot: bool
) -> bool:
    """Whether guild-level ``permissions`` fall short of what Discord asks for this event."""
    own = CREATE_EVENTS if created_by_bot else 0
    events = CREATE_EVENTS if creating else MANAGE_EVENTS | own
    if not permissions & events:
        return True
    extra = CHANNEL_PERMISSIONS.get(entity_type, 0) if isinstance(entity_type, int) else 0
    return permissions & extra != extra


def _invalid(problems: list[Problem]) -> ApiError:
    return ApiError(400, 50035, "Invalid Form Body", errors=form_errors(problems))


# -- the REST routes --------------------------------------------------------------


class ScheduledEventRoutes:
    """``/guilds/{guild}/scheduled-events[/{event}]`` on a ``FakeDiscord``'s guilds."""

    def __init__(self, fake: FakeDiscord) -> None:
        self._fake = fake

    def _guild(self, guild_id: str) -> FakeGuild:
        guild = self._fake.guilds.get(int(guild_id))
        if guild is None:
            raise ApiError(404, 10004, "Unknown Guild")
        return guild

    @staticmethod
    def _event(guild: FakeGuild, event_id: str) -> FakeScheduledEvent:
        event = guild.scheduled_events.get(int(event_id))
        if event is None:
            raise ApiError(404, 10070, "Unknown Guild Scheduled Event")
        return event

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            raise ApiError(400, 50109, "The request body contains invalid JSON.") from None
        if not isinstance(body, dict):
            raise _invalid([("_", "Expected an object.")])
        return body

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._fake.wall_clock(), UTC)

    def _check_permissions(
        self, guild: FakeGuild, entity_type: Any, *, creating: bool, created_by_bot: bool = False
    ) -> None:
        if lacks_permissions(
            guild.bot_permissions, entity_type, creating=creating, created_by_bot=created_by_bot
        ):
            raise ApiError(403, 50013, "Missing Permissions")

    def _announce(self, guild: FakeGuild, name: str, event: FakeScheduledEvent) -> None:
        self._fake._guild_event(guild, name, event.payload(), intent=INTENT_GUILD_SCHEDULED_EVENTS)

    async def list_events(self, request: web.Request, guild_id: str) -> web.Response:
        guild = self._guild(guild_id)
        counts = request.query.get("with_user_count") in ("1", "true", "True")
        return json_reply(
            [e.payload(with_user_count=counts) for e in guild.scheduled_events.values()]
        )

    async def get_event(self, request: web.Request, guild_id: str, event_id: str) -> web.Response:
        event = self._event(self._guild(guild_id), event_id)
        counts = request.query.get("with_user_count") in ("1", "true", "True")
        return json_reply(event.payload(with_user_count=counts))

    async def create_event(self, request: web.Request, guild_id: str) -> web.Response:
        guild = self._guild(guild_id)
        body = await self._body(request)
        self._check_permissions(guild, body.get("entity_type"), creating=True)
        problems = event_problems(body, guild, self._now(), creating=True, start_changed=True)
        if problems:
            raise _invalid(problems)
        if sum(e.upcoming for e in guild.scheduled_events.values()) >= MAX_UPCOMING:
            raise ApiError(
                400, 30038, "Maximum number of uncompleted guild scheduled events reached (100)"
            )
        event = FakeScheduledEvent(
            id=self._fake.snowflake(),
            guild_id=guild.id,
            creator=self._fake.bot_user,
            name=body["name"],
            scheduled_start_time=parse_time(body["scheduled_start_time"]),
            entity_type=body["entity_type"],
        )
        _apply(event, body)
        guild.scheduled_events[event.id] = event
        self._announce(guild, "GUILD_SCHEDULED_EVENT_CREATE", event)
        self._fake._changed()
        return json_reply(event.payload())

    async def modify_event(
        self, request: web.Request, guild_id: str, event_id: str
    ) -> web.Response:
        guild = self._guild(guild_id)
        event = self._event(guild, event_id)
        patch = await self._body(request)
        merged = {**event.fields(), **patch}
        if merged.get("entity_type") != EXTERNAL:
            merged["entity_metadata"] = None  # "silently discards entity_metadata"
        self._check_permissions(
            guild,
            merged.get("entity_type"),
            creating=False,
            created_by_bot=event.creator.id == self._fake.bot_user.id,
        )
        problems = event_problems(
            merged,
            guild,
            self._now(),
            creating=False,
            start_changed="scheduled_start_time" in patch,
        )
        if "status" in patch and (problem := status_problem(event.status, patch["status"])):
            problems.append(problem)
        if problems:
            raise _invalid(problems)
        _apply(event, merged)
        if "status" in patch:
            event.status = patch["status"]
        event.edits.append(patch)
        self._announce(guild, "GUILD_SCHEDULED_EVENT_UPDATE", event)
        self._fake._changed()
        return json_reply(event.payload())

    async def delete_event(
        self, request: web.Request, guild_id: str, event_id: str
    ) -> web.Response:
        guild = self._guild(guild_id)
        event = self._event(guild, event_id)
        self._check_permissions(
            guild,
            event.entity_type,
            creating=False,
            created_by_bot=event.creator.id == self._fake.bot_user.id,
        )
        del guild.scheduled_events[event.id]
        self._announce(guild, "GUILD_SCHEDULED_EVENT_DELETE", event)
        self._fake._changed()
        return no_content()


def _apply(event: FakeScheduledEvent, fields: Mapping[str, Any]) -> None:
    """Copy checked request fields onto the event."""
    event.name = fields["name"]
    event.description = fields.get("description")
    event.privacy_level = fields["privacy_level"]
    event.entity_type = fields["entity_type"]
    event.scheduled_start_time = parse_time(fields["scheduled_start_time"])
    end = fields.get("scheduled_end_time")
    event.scheduled_end_time = parse_time(end) if end is not None else None
    channel_id = fields.get("channel_id")
    event.channel_id = int(channel_id) if channel_id is not None else None
    metadata = fields.get("entity_metadata") or {}
    event.location = metadata.get("location") if event.entity_type == EXTERNAL else None
    event.recurrence_rule = fields.get("recurrence_rule")

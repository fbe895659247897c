"""Interactions the fake injects, and what the bot answered to them.

Besides the record types (``FakeInteraction``, ``FakeResponse``,
``ProtocolError``) this module turns a test's high-level request ("run
``/config channel`` with purpose=digest") into the exact ``data`` Discord
would send, validated against the schema the bot registered. An invocation
Discord's client could not produce (unknown option, missing required one,
value outside the choices, a role where a channel goes…) raises
``AssertionError`` at once: such a test would pass against the fake while
the command is unusable on Discord.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .models import FakeChannel, FakeGuild, FakeMessage, iter_components, snowflake_of

if TYPE_CHECKING:
    from .server import FakeDiscord

# Interaction types.
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5

# Interaction callback types.
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9

#: Callback types Discord accepts for each interaction type.
ALLOWED_CALLBACKS: dict[int, set[int]] = {
    APPLICATION_COMMAND: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL},
    AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
    MESSAGE_COMPONENT: {
        CHANNEL_MESSAGE,
        DEFERRED_CHANNEL_MESSAGE,
        DEFERRED_UPDATE_MESSAGE,
        UPDATE_MESSAGE,
        MODAL,
    },
    MODAL_SUBMIT: {
        CHANNEL_MESSAGE,
        DEFERRED_CHANNEL_MESSAGE,
        DEFERRED_UPDATE_MESSAGE,
        UPDATE_MESSAGE,
    },
}

OPTION_TYPES = {
    1: "SUB_COMMAND",
    2: "SUB_COMMAND_GROUP",
    3: "STRING",
    4: "INTEGER",
    5: "BOOLEAN",
    6: "USER",
    7: "CHANNEL",
    8: "ROLE",
    9: "MENTIONABLE",
    10: "NUMBER",
    11: "ATTACHMENT",
}

# Component types the fake can interact with.
BUTTON = 2
STRING_SELECT, USER_SELECT, ROLE_SELECT, MENTIONABLE_SELECT, CHANNEL_SELECT = 3, 5, 6, 7, 8
SELECT_TYPES = {STRING_SELECT, USER_SELECT, ROLE_SELECT, MENTIONABLE_SELECT, CHANNEL_SELECT}
TEXT_INPUT, TEXT_DISPLAY, LABEL, FILE_UPLOAD = 4, 10, 18, 19
RADIO_GROUP, CHECKBOX_GROUP, CHECKBOX = 21, 22, 23
LINK_STYLE, PREMIUM_STYLE = 5, 6


@dataclass
class ProtocolError:
    """Something the bot did that Discord would reject (a bug to fail tests on).

    ``kind`` is one of: late_callback, duplicate_callback, unknown_interaction,
    invalid_callback, invalid_form_body, empty_message, unknown_webhook,
    expired_token, unknown_message, unauthorized, invalid_command_schema.
    """

    kind: str
    method: str
    path: str
    status: int
    code: int
    message: str
    interaction_id: int | None = None


@dataclass
class FakeResponse:
    """One answer the bot gave to an interaction, accepted or not.

    ``kind`` is callback, followup, edit or delete; ``type`` is the callback
    type for callbacks; ``status`` is the HTTP status the fake answered.
    """

    kind: str
    type: int | None
    payload: dict[str, Any]
    status: int
    message: FakeMessage | None = None
    files: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


class FakeInteraction:
    """An interaction the fake dispatched, with everything the bot did about it."""

    def __init__(
        self,
        fake: FakeDiscord,
        *,
        id: int,
        token: str,
        type: int,
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        name: str,
        payload: dict[str, Any],
        message: FakeMessage | None = None,
        parent: FakeInteraction | None = None,
    ) -> None:
        self._fake = fake
        self.id = id
        self.token = token
        self.type = type
        self.guild_id = guild_id
        self.channel_id = channel_id
        self.user_id = user_id
        #: The command path ("config channel"), or the clicked/submitted custom_id.
        self.name = name
        #: The INTERACTION_CREATE ``d`` the bot received.
        self.payload = payload
        #: For components (and modals opened from one): the message clicked on.
        self.message = message
        #: For a modal submit: the interaction that opened the modal.
        self.parent = parent
        #: The fake's clock when INTERACTION_CREATE went out (the 3 s and 15 min start here).
        self.created: float | None = None
        self.responses: list[FakeResponse] = []
        self.protocol_errors: list[ProtocolError] = []
        #: The accepted callback, once there is one.
        self.callback: FakeResponse | None = None
        #: For a type 9 callback: {"custom_id", "title", "components"}.
        self.modal: dict[str, Any] | None = None
        #: For a type 8 callback: the autocomplete choices.
        self.choices: list[dict[str, Any]] | None = None
        #: The @original message, if any (the component's message for components).
        self.original: FakeMessage | None = message
        self.followups: list[FakeMessage] = []
        #: The first visible answer (see ``wait_reply``).
        self.reply: FakeMessage | None = None
        self._event = asyncio.Event()

    def __repr__(self) -> str:
        return f"<FakeInteraction id={self.id} type={self.type} name={self.name!r}>"

    @property
    def acknowledged(self) -> bool:
        return self.callback is not None

    def _changed(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()
        self._fake._changed()

    def describe(self) -> str:
        """A one-paragraph summary for assertion messages."""
        lines = [repr(self)]
        for r in self.responses:
            lines.append(f"  {r.kind} type={r.type} status={r.status} message={r.message!r}")
        for e in self.protocol_errors:
            lines.append(f"  protocol error: {e.kind} ({e.status} {e.code} {e.message})")
        if not self.responses:
            lines.append("  (no response at all)")
        return "\n".join(lines)

    async def wait_for(
        self,
        predicate: Callable[[FakeInteraction], bool],
        timeout: float = 10.0,
    ) -> None:
        """Wait until ``predicate(self)`` holds; AssertionError with a summary on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate(self):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"timed out after {timeout}s waiting on\n{self.describe()}")
            event = self._event
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def wait_callback(self, timeout: float = 10.0) -> FakeResponse:
        """Wait for the first callback attempt (accepted or rejected) and return it."""
        await self.wait_for(lambda ix: any(r.kind == "callback" for r in ix.responses), timeout)
        return next(r for r in self.responses if r.kind == "callback")

    async def wait_reply(self, timeout: float = 10.0) -> FakeMessage:
        """Wait for the answer a user would see and return it.

        Callback 4 or 7: that message. Deferred (5 or 6): the first followup or
        edit of @original. A modal or autocomplete answer is not a reply: that
        raises AssertionError (look at ``modal`` / ``choices`` instead).
        """

        def done(ix: FakeInteraction) -> bool:
            if ix.reply is not None:
                return True
            return ix.callback is not None and ix.callback.type in (MODAL, AUTOCOMPLETE_RESULT)

        await self.wait_for(done, timeout)
        if self.reply is None:
            raise AssertionError(
                f"the interaction was not answered with a message:\n{self.describe()}"
            )
        return self.reply

    def _set_reply(self, message: FakeMessage) -> None:
        if self.reply is None:
            self.reply = message


# -- application commands -----------------------------------------------------


def find_command(
    commands: Sequence[dict[str, Any]], path: str
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """Find ``"group sub"`` in a registered schema: (top command, chain of sub-options, leaf)."""
    names = path.split()
    if not names:
        raise AssertionError("empty command path")
    top = next((c for c in commands if c["name"] == names[0] and c.get("type", 1) == 1), None)
    if top is None:
        known = sorted(c["name"] for c in commands if c.get("type", 1) == 1)
        raise AssertionError(f"no slash command /{names[0]} is registered; registered: {known}")
    leaf: dict[str, Any] = top
    chain: list[dict[str, Any]] = []
    for name in names[1:]:
        subs = [o for o in leaf.get("options") or [] if o["type"] in (1, 2)]
        found = next((o for o in subs if o["name"] == name), None)
        if found is None:
            raise AssertionError(
                f"/{path}: {leaf['name']!r} has no subcommand {name!r}; it has "
                f"{[o['name'] for o in subs]}"
            )
        chain.append(found)
        leaf = found
    if (leaf is not top and leaf["type"] == 2) or any(
        o["type"] in (1, 2) for o in leaf.get("options") or []
    ):
        subs = [o["name"] for o in leaf.get("options") or [] if o["type"] in (1, 2)]
        raise AssertionError(f"/{path} is a group: Discord only runs its subcommands {subs}")
    return top, chain, leaf


class OptionBuilder:
    """Build ``data.options`` and ``data.resolved`` for one invocation."""

    def __init__(self, fake: FakeDiscord, guild: FakeGuild | None, user_id: int, path: str) -> None:
        self._fake = fake
        self._guild = guild
        self._user_id = user_id
        self._path = path
        self.resolved: dict[str, dict[str, Any]] = {}

    def _fail(self, message: str) -> AssertionError:
        return AssertionError(f"/{self._path}: {message}")

    def build(
        self,
        schema: Sequence[dict[str, Any]],
        given: Mapping[str, Any],
        *,
        focused: str | None = None,
    ) -> list[dict[str, Any]]:
        """Validate ``given`` against ``schema`` and return the wire options, in schema order."""
        by_name = {o["name"]: o for o in schema}
        unknown = sorted(set(given) - set(by_name))
        if unknown:
            raise self._fail(f"unknown option(s) {unknown}; the command has {sorted(by_name)}")
        if focused is not None:
            if focused not in by_name:
                raise self._fail(f"focused option {focused!r} does not exist")
            if not by_name[focused].get("autocomplete"):
                raise self._fail(f"option {focused!r} has no autocomplete")
        options: list[dict[str, Any]] = []
        for opt in schema:
            name = opt["name"]
            if name not in given:
                if opt.get("required") and focused is None:
                    raise self._fail(f"required option {name!r} is missing")
                continue
            if name == focused:
                options.append(
                    {"name": name, "type": opt["type"], "value": str(given[name]), "focused": True}
                )
            elif focused is not None:
                # Autocomplete sends the other options as typed, without resolved data.
                value = given[name]
                if opt["type"] in (6, 7, 8, 9):
                    value = str(snowflake_of(value))
                options.append({"name": name, "type": opt["type"], "value": value})
            else:
                options.append(
                    {"name": name, "type": opt["type"], "value": self._convert(opt, given[name])}
                )
        return options

    def _convert(self, opt: dict[str, Any], value: Any) -> Any:
        kind = opt["type"]
        name = opt["name"]
        type_name = OPTION_TYPES.get(kind, str(kind))
        if kind == 3:
            if not isinstance(value, str):
                raise self._fail(f"option {name!r} is a STRING, got {value!r}")
            if len(value) < opt.get("min_length", 0) or len(value) > opt.get("max_length", 6000):
                raise self._fail(
                    f"option {name!r} length {len(value)} is outside "
                    f"[{opt.get('min_length', 0)}, {opt.get('max_length', 6000)}]"
                )
        elif kind == 4:
            if isinstance(value, bool) or not isinstance(value, int):
                raise self._fail(f"option {name!r} is an INTEGER, got {value!r}")
            self._check_range(opt, value)
        elif kind == 10:
            if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
                raise self._fail(f"option {name!r} is a NUMBER, got {value!r}")
            self._check_range(opt, value)
        elif kind == 5:
            if not isinstance(value, bool):
                raise self._fail(f"option {name!r} is a BOOLEAN, got {value!r}")
        elif kind in (6, 7, 8, 9):
            return self._convert_entity(opt, value)
        elif kind == 11:
            return self._convert_attachment(opt, value)
        else:
            raise self._fail(
                f"option {name!r} has type {type_name}, which the fake does not inject"
            )
        choices = opt.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise self._fail(
                f"{value!r} is not a choice of option {name!r}; "
                f"choices: {[c['value'] for c in choices]}"
            )
        return value

    def _convert_attachment(self, opt: dict[str, Any], value: Any) -> str:
        """An uploaded file: ``(filename, bytes)`` or ``(filename, bytes, content_type)``.

        Served by the fake's attachment CDN, as Discord serves what a user uploads.
        """
        if not (isinstance(value, tuple) and len(value) in (2, 3) and isinstance(value[1], bytes)):
            raise self._fail(f"option {opt['name']!r} is an ATTACHMENT: give (filename, bytes)")
        filename, blob = str(value[0]), value[1]
        ctype = str(value[2]) if len(value) == 3 else "application/octet-stream"
        attachment_id = self._fake.snowflake()
        self._fake._blobs[attachment_id] = (filename, blob, ctype)
        url = f"{self._fake.url}/attachments/0/{attachment_id}/{filename}"
        self.resolved.setdefault("attachments", {})[str(attachment_id)] = {
            "id": str(attachment_id),
            "filename": filename,
            "size": len(blob),
            "url": url,
            "proxy_url": url,
            "content_type": ctype,
            "ephemeral": True,
        }
        return str(attachment_id)

    def _check_range(self, opt: dict[str, Any], value: float) -> None:
        low, high = opt.get("min_value"), opt.get("max_value")
        if (low is not None and value < low) or (high is not None and value > high):
            raise self._fail(f"option {opt['name']!r} = {value} is outside [{low}, {high}]")

    def _convert_entity(self, opt: dict[str, Any], value: Any) -> str:
        kind, name = opt["type"], opt["name"]
        try:
            ident = snowflake_of(value)
        except TypeError as exc:
            raise self._fail(f"option {name!r}: {exc}") from None
        guild = self._guild
        if kind == 7:
            channel = guild.channels.get(ident) if guild else None
            if channel is None:
                raise self._fail(f"option {name!r}: channel {ident} is not in this guild")
            allowed = opt.get("channel_types")
            if allowed and channel.type not in allowed:
                raise self._fail(
                    f"option {name!r}: channel {ident} has type {channel.type}, "
                    f"the option accepts {allowed}"
                )
            self.add_channel(channel)
            return str(ident)
        role = guild.roles.get(ident) if guild else None
        user = self._fake.users.get(ident)
        if kind == 8 or (kind == 9 and role is not None):
            if role is None:
                raise self._fail(f"option {name!r}: role {ident} is not in this guild")
            self.resolved.setdefault("roles", {})[str(ident)] = role.payload()
            return str(ident)
        if user is None:
            raise self._fail(f"option {name!r}: user {ident} is unknown to the fake")
        self.add_user(ident)
        return str(ident)

    def add_user(self, user_id: int) -> None:
        """Resolved user (and member, without ``user`` key, when in the guild)."""
        user = self._fake.users[user_id]
        self.resolved.setdefault("users", {})[str(user_id)] = user.payload()
        member = self._guild.members.get(user_id) if self._guild else None
        if member is not None:
            self.resolved.setdefault("members", {})[str(user_id)] = member.payload(
                with_user=False, with_permissions=True
            )

    def add_channel(self, channel: FakeChannel) -> None:
        assert self._guild is not None
        self.resolved.setdefault("channels", {})[str(channel.id)] = self._guild.resolved_channel(
            channel, self._user_id
        )

    def add_role(self, role_id: int) -> None:
        assert self._guild is not None
        self.resolved.setdefault("roles", {})[str(role_id)] = self._guild.roles[role_id].payload()


def nest_options(chain: Sequence[dict[str, Any]], leaf_options: list[dict[str, Any]]) -> list[dict]:
    """Wrap leaf options in their subcommand (and group) options, as Discord nests them."""
    options = leaf_options
    for sub in reversed(chain):
        options = [{"name": sub["name"], "type": sub["type"], "options": options}]
    return options


# -- components ---------------------------------------------------------------


def find_component(message: FakeMessage, target: str) -> dict[str, Any]:
    """Find a button or select on ``message`` by custom_id, then by label or placeholder."""
    interactive = [
        c
        for c in message.iter_components()
        if c.get("type") == BUTTON or c.get("type") in SELECT_TYPES
    ]
    for c in interactive:
        if c.get("custom_id") == target:
            return c
    by_label = [c for c in interactive if target in (c.get("label"), c.get("placeholder"))]
    if len(by_label) == 1:
        return by_label[0]
    described = [(c.get("custom_id"), c.get("label") or c.get("placeholder")) for c in interactive]
    if by_label:
        raise AssertionError(f"{target!r} matches several components on {message!r}: {described}")
    raise AssertionError(f"no component {target!r} on {message!r}; it has {described}")


def select_values(
    component: dict[str, Any], values: Sequence[Any] | None, builder: OptionBuilder
) -> list[str]:
    """Validate chosen ``values`` for a select menu and fill resolved data for entity selects."""
    if values is None:
        raise AssertionError(f"select {component.get('custom_id')!r} needs values=[...]")
    low, high = component.get("min_values", 1), component.get("max_values", 1)
    if not low <= len(values) <= high:
        raise AssertionError(
            f"select {component.get('custom_id')!r} takes {low}..{high} values, got {len(values)}"
        )
    kind = component["type"]
    if kind == STRING_SELECT:
        allowed = [o["value"] for o in component.get("options") or []]
        bad = [v for v in values if v not in allowed]
        if bad:
            raise AssertionError(f"{bad} are not options of select {component.get('custom_id')!r}")
        return [str(v) for v in values]
    out: list[str] = []
    guild = builder._guild
    for value in values:
        ident = snowflake_of(value)
        if kind == CHANNEL_SELECT:
            channel = guild.channels.get(ident) if guild else None
            if channel is None:
                raise AssertionError(f"channel {ident} is not in the guild")
            builder.add_channel(channel)
        elif kind == ROLE_SELECT or (kind == MENTIONABLE_SELECT and guild and ident in guild.roles):
            if guild is None or ident not in guild.roles:
                raise AssertionError(f"role {ident} is not in the guild")
            builder.add_role(ident)
        else:
            if ident not in builder._fake.users:
                raise AssertionError(f"user {ident} is unknown to the fake")
            builder.add_user(ident)
        out.append(str(ident))
    return out


def modal_submission(
    modal: dict[str, Any], values: Mapping[str, Any], builder: OptionBuilder
) -> list[dict[str, Any]]:
    """Build a modal submit's ``data.components`` in the modal's own shape.

    Classic modals (action rows of text inputs) and discord.py 2.7's Labels
    wrapping text inputs, selects, radio groups and checkboxes are supported.
    """
    used: set[str] = set()

    def submit(component: dict[str, Any]) -> dict[str, Any]:
        kind = component.get("type")
        if kind == 1:
            return {"type": 1, "components": [submit(c) for c in component.get("components") or []]}
        if kind == LABEL:
            out = {"type": LABEL, "component": submit(component["component"])}
            if "id" in component:
                out["id"] = component["id"]
            return out
        if kind == TEXT_DISPLAY:
            return {"type": TEXT_DISPLAY, "id": component.get("id", 0)}
        custom_id = component.get("custom_id", "")
        given = custom_id in values
        used.add(custom_id)
        if kind == TEXT_INPUT:
            value = values.get(custom_id, component.get("value") or "")
            if not isinstance(value, str):
                raise AssertionError(f"text input {custom_id!r} takes a str, got {value!r}")
            required = component.get("required", True)
            if required and not value:
                raise AssertionError(f"text input {custom_id!r} is required")
            low, high = component.get("min_length", 0), component.get("max_length", 4000)
            if value and not low <= len(value) <= high:
                raise AssertionError(f"text input {custom_id!r} takes {low}..{high} characters")
            return {"type": TEXT_INPUT, "custom_id": custom_id, "value": value}
        if kind in SELECT_TYPES:
            chosen = values.get(custom_id)
            if chosen is None and component.get("required", True) is False:
                chosen = []
            if chosen is None:
                raise AssertionError(f"select {custom_id!r} in the modal needs a value")
            return {
                "type": kind,
                "custom_id": custom_id,
                "values": select_values(component, list(chosen), builder),
            }
        if kind == RADIO_GROUP:
            return {"type": kind, "custom_id": custom_id, "value": values.get(custom_id)}
        if kind == CHECKBOX_GROUP:
            return {"type": kind, "custom_id": custom_id, "values": list(values.get(custom_id, []))}
        if kind == CHECKBOX:
            return {"type": kind, "custom_id": custom_id, "value": bool(values.get(custom_id))}
        if kind == FILE_UPLOAD:
            if given:
                raise AssertionError("the fake does not upload files in modals")
            return {"type": kind, "custom_id": custom_id, "values": []}
        raise AssertionError(f"the fake cannot submit modal component type {kind}")

    components = [submit(c) for c in modal.get("components") or []]
    unknown = sorted(set(values) - used)
    if unknown:
        known = sorted(
            c["custom_id"]
            for c in iter_components(modal.get("components") or [])
            if "custom_id" in c
        )
        raise AssertionError(
            f"modal {modal.get('custom_id')!r} has no field(s) {unknown}; it has {known}"
        )
    return components


def check_choices(choices: Iterable[dict[str, Any]]) -> str | None:
    """Discord's limits on autocomplete results; the error text, or None if fine."""
    choices = list(choices)
    if len(choices) > 25:
        return f"{len(choices)} choices (max 25)"
    for c in choices:
        if not 1 <= len(str(c.get("name", ""))) <= 100:
            return f"choice name {c.get('name')!r} must be 1..100 characters"
        if isinstance(c.get("value"), str) and len(c["value"]) > 100:
            return f"choice value {c['value']!r} exceeds 100 characters"
    return None

"""What a Discord client would show, as plain text for a terminal.

Mentions become names (``<#id>`` -> ``#digest``, ``<@&id>`` -> ``@MAG``,
``<@id>`` -> ``@Mina Rahman``), Discord timestamps (``<t:1798790400:F>``)
become dates in the reader's zone, and embeds and components are laid out
line by line, buttons numbered so that ``:press 2`` can name them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from bot.sandbox.fakediscord import FakeMessage
from bot.sandbox.fakediscord.interactions import (
    BUTTON,
    CHANNEL_SELECT,
    LINK_STYLE,
    MENTIONABLE_SELECT,
    PREMIUM_STYLE,
    ROLE_SELECT,
    SELECT_TYPES,
    STRING_SELECT,
    USER_SELECT,
)

BAR = "│ "
_MENTION = re.compile(r"<(#|@&|@!?)(\d{15,21})>")
_TIMESTAMP = re.compile(r"<t:(-?\d{1,13})(?::([tTdDfFRsS]))?>")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)

SELECT_WHAT = {
    USER_SELECT: "a member",
    ROLE_SELECT: "a role",
    MENTIONABLE_SELECT: "a member or role",
    CHANNEL_SELECT: "a channel",
}


@dataclass(frozen=True)
class Names:
    """How ids read: looked up live, so channels and people added later are named too."""

    channel: Callable[[int], str | None]
    role: Callable[[int], str | None]
    user: Callable[[int], str | None]


def relative(delta: timedelta) -> str:
    """Return ``delta`` (target minus now) the way Discord's ``:R`` style reads it."""
    seconds = abs(delta.total_seconds())
    minutes, hours, days = seconds / 60, seconds / 3600, seconds / 86400
    if seconds < 45:
        amount = "a few seconds"
    elif seconds < 90:
        amount = "a minute"
    elif minutes < 45:
        amount = f"{round(minutes)} minutes"
    elif minutes < 90:
        amount = "an hour"
    elif hours < 22:
        amount = f"{round(hours)} hours"
    elif hours < 36:
        amount = "a day"
    elif days < 26:
        amount = f"{round(days)} days"
    elif days < 45:
        amount = "a month"
    elif days < 320:
        amount = f"{round(days / 30.4)} months"
    elif days < 548:
        amount = "a year"
    else:
        amount = f"{round(days / 365.25)} years"
    return f"in {amount}" if delta.total_seconds() >= 0 else f"{amount} ago"


def format_timestamp(moment: datetime, style: str, now: datetime, zone: tzinfo | None) -> str:
    """Return ``moment`` in one of Discord's timestamp styles (default ``f``)."""
    if style == "R":
        return relative(moment - now)
    local = moment.astimezone(zone)
    day = f"{local.day} {local:%B %Y}"
    formats = {
        "t": f"{local:%H:%M}",
        "T": f"{local:%H:%M:%S}",
        "d": f"{local:%Y-%m-%d}",
        "D": day,
        "F": f"{local:%A} {day} {local:%H:%M}",
    }
    return formats.get(style, f"{day} {local:%H:%M}")


def plain(text: str, names: Names, now: datetime, zone: tzinfo | None = None) -> str:
    """Return message text as a reader sees it: names for mentions, dates for timestamps."""

    def mention(match: re.Match[str]) -> str:
        kind, ident = match.group(1), int(match.group(2))
        if kind == "#":
            name = names.channel(ident)
            return f"#{name}" if name else "#unknown-channel"
        if kind == "@&":
            name = names.role(ident)
            return f"@{name}" if name else "@unknown-role"
        name = names.user(ident)
        return f"@{name}" if name else "@unknown-user"

    def stamp(match: re.Match[str]) -> str:
        try:
            moment = datetime.fromtimestamp(int(match.group(1)), UTC)
        except (OverflowError, OSError, ValueError):
            return match.group(0)
        return format_timestamp(moment, match.group(2) or "f", now, zone)

    text = _MENTION.sub(mention, text)
    text = _TIMESTAMP.sub(stamp, text)
    text = _LINK.sub(r"\1 (\2)", text)
    return _BOLD.sub(r"\1", text)


def pressable(message: FakeMessage) -> list[dict[str, Any]]:
    """Return the buttons ``:press N`` numbers, in the order they are shown."""
    return [
        c
        for c in message.iter_components()
        if c.get("type") == BUTTON
        and c.get("style") not in (LINK_STYLE, PREMIUM_STYLE)
        and c.get("custom_id")
    ]


def selects(message: FakeMessage) -> list[dict[str, Any]]:
    """Return the select menus of ``message``, in the order they are shown."""
    return [c for c in message.iter_components() if c.get("type") in SELECT_TYPES]


class MessageView:
    """Lay out one message: content, embeds, components, attachments."""

    def __init__(
        self,
        names: Names,
        now: datetime,
        zone: tzinfo | None = None,
        saved: Mapping[str, str] | None = None,
    ) -> None:
        self._names = names
        self._now = now
        self._zone = zone
        self._saved = dict(saved or {})
        self._buttons: dict[int, int] = {}

    def text(self, value: object) -> str:
        return plain(str(value), self._names, self._now, self._zone)

    def lines(self, message: FakeMessage) -> list[str]:
        """Return the message's lines, not indented."""
        self._buttons = {id(c): n for n, c in enumerate(pressable(message), start=1)}
        out: list[str] = []
        if message.content:
            out += self.text(message.content).splitlines()
        for embed in message.embeds:
            out += self.embed(embed)
        out += self.components(message.components)
        for filename, blob in message.attachments:
            where = self._saved.get(filename)
            size = f"{len(blob) / 1024:.1f} KB" if len(blob) >= 1024 else f"{len(blob)} bytes"
            out.append(f"[file] {filename} ({size})" + (f", saved to {where}" if where else ""))
        if message.components and pressable(message):
            out.append("  (press a button with :press NUMBER or :press LABEL)")
        if selects(message):
            out.append("  (choose with :choose OPTION, several separated by commas)")
        return out or ["(an empty message)"]

    def embed(self, embed: Mapping[str, Any]) -> list[str]:
        body: list[str] = []
        author = (embed.get("author") or {}).get("name")
        if author:
            body.append(self.text(author))
        if embed.get("title"):
            body.append(self.text(embed["title"]))
            if embed.get("url"):
                body.append(f"  {embed['url']}")
        if embed.get("description"):
            body += self.text(embed["description"]).splitlines()
        for field in embed.get("fields") or []:
            name = self.text(field.get("name") or "").strip("\u200b ")
            value = self.text(field.get("value") or "").strip("\u200b ")
            value_lines = value.splitlines()
            if name and len(value_lines) == 1 and len(name) + len(value) < 70:
                body.append(f"{name}: {value}")
            else:
                if name:
                    body.append(name)
                body += [f"  {line}" for line in value_lines]
        for key in ("image", "thumbnail"):
            url = (embed.get(key) or {}).get("url")
            if url:
                body.append(f"[{key}] {url.removeprefix('attachment://')}")
        footer = (embed.get("footer") or {}).get("text")
        stamp = embed.get("timestamp")
        tail = [self.text(footer)] if footer else []
        if stamp:
            try:
                moment = datetime.fromisoformat(str(stamp))
                tail.append(format_timestamp(moment, "f", self._now, self._zone))
            except ValueError:
                pass
        if tail:
            body.append("— " + " · ".join(tail))
        return [f"{BAR}{line}".rstrip() for line in body] or [BAR.rstrip()]

    def components(self, components: Iterable[Mapping[str, Any]]) -> list[str]:
        out: list[str] = []
        for component in components:
            out += self.component(component)
        return out

    def component(self, component: Mapping[str, Any]) -> list[str]:
        kind = component.get("type")
        children = list(component.get("components") or [])
        if kind == 1:  # action row
            buttons = [c for c in children if c.get("type") == BUTTON]
            out = [" ".join(self.button(b) for b in buttons)] if buttons else []
            for child in children:
                if child.get("type") in SELECT_TYPES:
                    out += self.select(child)
            return out
        if kind == BUTTON:
            return [self.button(component)]
        if kind in SELECT_TYPES:
            return self.select(component)
        if kind == 10:  # text display
            return self.text(component.get("content") or "").splitlines()
        if kind == 9:  # section: text beside an accessory
            out = self.components(children)
            accessory = component.get("accessory")
            if accessory and accessory.get("type") == BUTTON:
                out.append(self.button(accessory))
            return out
        if kind == 17:  # container
            return [f"{BAR}{line}".rstrip() for line in self.components(children)]
        if kind == 14:  # separator
            return ["─" * 20]
        if kind == 12:  # media gallery
            items = component.get("items") or []
            urls = [(i.get("media") or {}).get("url", "") for i in items]
            return [f"[image] {u.removeprefix('attachment://')}" for u in urls]
        if kind == 13:  # file
            url = (component.get("file") or {}).get("url", "")
            return [f"[file] {url.removeprefix('attachment://')}"]
        return []

    def button(self, button: Mapping[str, Any]) -> str:
        label = self.text(button.get("label") or (button.get("emoji") or {}).get("name") or "?")
        if button.get("style") == LINK_STYLE:
            return f"[{label} -> {button.get('url')}]"
        number = self._buttons.get(id(button))
        state = " (disabled)" if button.get("disabled") else ""
        return f"[{number} {label}{state}]" if number else f"[{label}{state}]"

    def select(self, select: Mapping[str, Any]) -> list[str]:
        placeholder = self.text(select.get("placeholder") or "Choose")
        low, high = select.get("min_values", 1), select.get("max_values", 1)
        count = f" ({low} to {high})" if high > 1 else ""
        state = " (disabled)" if select.get("disabled") else ""
        kind = int(select.get("type") or 0)
        if kind != STRING_SELECT:
            return [f"▾ {placeholder}: {SELECT_WHAT.get(kind, 'an item')}{count}{state}"]
        out = [f"▾ {placeholder}{count}{state}"]
        for number, option in enumerate(select.get("options") or [], start=1):
            line = f"    {number}) {self.text(option.get('label', ''))}"
            if option.get("description"):
                line += f" — {self.text(option['description'])}"
            if option.get("default"):
                line += " (selected)"
            out.append(line)
        return out

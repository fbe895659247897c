"""Which characters of typed text are kept: one policy for every free-text field.

Every free-text field (titles, descriptions, names, reasons, links, rule
values…) is cleaned on the way in with ``clean_line`` or ``clean_block``, and
``bot.render.text`` applies the same policy again on the way out (rows stored
before a rule changed are shown safely too).

Dropped: control characters (NUL, escapes…), lone surrogates, line and
paragraph separators, and invisible format characters (zero-width spaces,
bidirectional overrides and isolates that can make text read differently
from what it is, soft hyphens, tags). Kept: the joiners and direction marks
that Arabic, Persian and emoji sequences need.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from bot.i18n import _

# Format characters (category Cf) that written languages need: zero-width
# non-joiner and joiner, left-to-right and right-to-left marks, Arabic letter mark.
KEPT_FORMAT: Final = frozenset("\u200c\u200d\u200e\u200f\u061c")


def keeps(char: str) -> bool:
    """Return whether ``char`` may stay in stored or shown text (see the module doc)."""
    category = unicodedata.category(char)
    if category in ("Cc", "Cs", "Zl", "Zp"):
        return False
    if category == "Cf":
        return char in KEPT_FORMAT
    return True


def visible(text: str) -> str:
    """Return ``text`` without the characters ``keeps`` refuses (line breaks kept)."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(c for c in text if c == "\n" or keeps(c))


def clean_line(text: str | None) -> str:
    """Return ``text`` on one line: invisible characters dropped, spaces collapsed."""
    if not text:
        return ""
    return " ".join(visible(" ".join(text.split())).split())


def clean_block(text: str | None) -> str:
    """Return multi-line ``text`` cleaned: trailing spaces trimmed, blank-line runs kept to one."""
    if not text:
        return ""
    lines = [
        visible(line.replace("\t", "    ")).rstrip()
        for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    ]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


@dataclass(frozen=True, slots=True)
class Typed:
    """Text someone typed, inside a line a service composes: the renderer shows it safely.

    Services never escape or format; they mark which parts of a line came
    from people, and ``bot.render.text.render_line`` passes those through the
    one safe function (at most ``limit`` characters, on one line).
    """

    text: str
    limit: int = 100


@dataclass(frozen=True, slots=True)
class Link:
    """A web address someone gave, checked when stored (``web_link``), inside a line."""

    url: str


# A line of a digest or a notice: bot-written markdown (a ``str``), or parts
# of which the ``Typed`` and ``Link`` ones came from people.
Line = str | tuple[str | Typed | Link, ...]

_SLOT: Final = re.compile("\x00([^\x00]*)\x00")


def slot(name: str) -> str:
    """Return the stand-in for part ``name`` of a line: a placeholder's value, for ``parted``.

    A sentence around typed text stays one text to translate: translate it
    with ``slot(name)`` as the value of each typed placeholder, then let
    ``parted`` put the parts where the translation has them::

        parted(
            _("{label}: {reasons}", label=label, reasons=slot("reasons")),
            reasons=Typed(reasons, 200),
        )
    """
    return f"\x00{name}\x00"


def parted(text: str, /, **parts: str | Typed | Link) -> tuple[str | Typed | Link, ...]:
    """Return ``text`` as a line, each ``slot(name)`` in it replaced by ``parts[name]``."""
    line: list[str | Typed | Link] = []
    for index, piece in enumerate(_SLOT.split(text)):
        if index % 2:
            if piece in parts:
                line.append(parts[piece])
        elif piece:
            line.append(piece)
    return tuple(line)


MAX_LINK: Final = 500
_LINK_REFUSED: Final = frozenset('<>"`{}|\\^')
_LABEL: Final = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def web_link(text: str | None) -> str | None:
    """Return ``text`` as a well-formed http(s) address with a real host, or None.

    Discord refuses a whole embed whose link is malformed ("Not a well formed
    URL"), so links are checked before they are stored: scheme http or https,
    a host that is an IP address or a domain name with a dot (IDNA allowed),
    a valid port, and no spaces, controls or characters that end a link in
    Discord's markdown (``< > " ` { } | \\ ^``).
    """
    if not text:
        return None
    link = text.strip()
    if not link or len(link) > MAX_LINK or any(not c.isprintable() or c.isspace() for c in link):
        return None
    if any(c in _LINK_REFUSED for c in link):
        return None
    try:
        parts = urlsplit(link)
        port = parts.port  # raises on a port out of range
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    host = parts.hostname
    if not host or (port is not None and port == 0):
        return None
    try:
        ipaddress.ip_address(host)
        return link
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = ascii_host.rstrip(".").split(".")
    if len(labels) < 2 or len(ascii_host) > 253:
        return None
    if not all(_LABEL.fullmatch(label) for label in labels) or labels[-1].isdigit():
        return None
    return link


def quoted(value: object, limit: int = 60) -> str:
    """Return something a person typed, for a message: cleaned, cut, in a code span.

    Inside a code span Discord renders no markdown, link or mention; a
    backtick in the value (which would end the span) becomes ˋ.
    """
    text = clean_line(str(value)).replace("`", "\u02cb")
    if len(text) > limit:
        text = text[: max(1, limit - 1)] + "…"
    return f"`{text}`" if text else _("(nothing)")


def encode_line(line: Line) -> object:
    """Return a line as plain JSON values (to keep it in an outbox row until it is sent)."""
    if isinstance(line, str):
        return line
    return [
        part
        if isinstance(part, str)
        else ({"url": part.url} if isinstance(part, Link) else {"t": part.text, "n": part.limit})
        for part in line
    ]


def decode_line(value: object) -> Line:
    """Return the line ``encode_line`` made (anything else becomes an empty line)."""
    if isinstance(value, str):
        return value
    parts: list[str | Typed | Link] = []
    for part in value if isinstance(value, list) else ():
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict) and "url" in part:
            parts.append(Link(str(part["url"])))
        elif isinstance(part, dict):
            parts.append(Typed(str(part.get("t", "")), int(part.get("n", 100))))
    return tuple(parts)


def plain_line(line: Line) -> str:
    """Return a line as plain text (for audit records and logs, never for Discord markdown)."""
    if isinstance(line, str):
        return line
    return "".join(
        part if isinstance(part, str) else (part.url if isinstance(part, Link) else part.text)
        for part in line
    )

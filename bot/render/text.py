"""The one way text that people typed is shown on Discord: as typed, never as markup.

Everything a user, an admin or an imported file wrote (titles, descriptions,
names, reasons, comments, rule values, deadline titles…) reaches Discord
through ``safe`` (markdown places: message content, embed titles,
descriptions, field names and values) or ``plain`` (places Discord shows
verbatim: footers, author names, button and choice labels, file names).

``safe`` escapes every character Discord's markdown gives a meaning to,
anywhere in the text: emphasis, spoilers and code (``* _ ~ | ```), masked
links (``[ ] ( )``; ``discord.utils.escape_markdown`` escapes only the first
one on a line), mentions, channels, timestamps, emoji and slash-command
mentions (``< > @``), headings, subtext and quotes (``# >``), and bare web
addresses (the colon of ``://``), so nothing typed becomes a link, a ping or
a heading. Escapes are cut whole: a clipped text never ends inside one.
Invisible characters go first (``bot.services.text``).
"""

from __future__ import annotations

from typing import Final

from bot.services.text import Line, Link, clean_block, clean_line, web_link

ELLIPSIS: Final = "…"
# Characters Discord's markdown reads, escaped wherever they are.
MARKUP: Final = frozenset("\\*_~|`[]()<>#@")
# Escaped in this order: the backslash first, so the ones added after stay single.
_ESCAPED_FIRST: Final = ("\\", *sorted(MARKUP - {"\\"}))


def _escaped(text: str, limit: int) -> str:
    """Return ``text`` with markup escaped, cut to ``limit`` characters between escapes."""
    for char in _ESCAPED_FIRST:
        if char in text:
            text = text.replace(char, "\\" + char)
    if "://" in text:
        text = text.replace("://", "\\://")
    if len(text) <= limit:
        return text
    # A run of backslashes starts with an escape's backslash, and they pair up from
    # there: an odd run at the cut ends with one whose character was cut away.
    kept = text[: limit - len(ELLIPSIS)]
    if (len(kept) - len(kept.rstrip("\\"))) % 2:
        kept = kept[:-1]
    return kept + ELLIPSIS


def safe(text: object, limit: int = 1024) -> str:
    """Return user text (lines kept) that Discord shows exactly as typed, at most ``limit`` long."""
    return _escaped(clean_block(str(text)), max(1, limit))


def one_line(text: object, limit: int = 100) -> str:
    """Return user text on one line that Discord shows exactly as typed (titles, names)."""
    return _escaped(clean_line(str(text)), max(1, limit))


def plain(text: object, limit: int = 100) -> str:
    """Return user text on one line for places Discord shows verbatim (footers, labels)."""
    value = clean_line(str(text))
    if len(value) <= limit:
        return value
    return value[: max(0, limit - len(ELLIPSIS))] + ELLIPSIS


def render_line(line: Line) -> str:
    """Return a service's line as markdown: its own parts as written, typed parts made safe."""
    if isinstance(line, str):
        return line
    out = []
    for part in line:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Link):
            out.append(link_text(part.url))
        else:
            out.append(one_line(part.text, part.limit))
    return "".join(out)


def link_text(url: str) -> str:
    """Return a link the secretariat gave (checked when stored) as a clickable address.

    In angle brackets, so Discord shows no preview; anything that is not a
    well-formed web address (a row stored before links were checked) is shown
    as plain, unclickable text.
    """
    if web_link(url) == url:
        return f"<{url}>"
    return one_line(url, 500)

"""A model of how Discord's markdown reads text, to check that typed text stays inert.

Discord (simple-markdown) treats a backslash before any character that is
not an ASCII letter, digit or space as an escape: the character shows
literally and starts no markup. ``live_markup`` reads text that way and
reports every construct typed text must never form: a masked link, a bare
web address, a mention of a user, role or channel, a mass mention, a heading
or subtext line, a quote, a code span, a spoiler, emphasis; and invisible
characters (controls, bidirectional overrides, zero-width spaces).
"""

from __future__ import annotations

import re
from typing import Final

from bot.services.text import keeps

MARKUP: Final = frozenset("*_~|`[]()<>#@")


def _escapable(char: str) -> bool:
    return not (char.isascii() and char.isalnum()) and not char.isspace()


def read(text: str) -> list[tuple[str, bool]]:
    """Return each shown character with whether it is significant (not escaped)."""
    out: list[tuple[str, bool]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and _escapable(text[i + 1]):
            out.append((text[i + 1], False))
            i += 2
        else:
            out.append((char, True))
            i += 1
    return out


def _code_spans(chars: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """Mark what is inside code spans (a run of backticks to the next run as long) as inert."""
    out = list(chars)
    i = 0
    while i < len(out):
        if out[i] != ("`", True):
            i += 1
            continue
        run = i
        while run < len(out) and out[run] == ("`", True):
            run += 1
        length = run - i
        j = run
        while j < len(out):
            if out[j] == ("`", True):
                end = j
                while end < len(out) and out[end] == ("`", True):
                    end += 1
                if end - j == length and j > run:
                    for k in range(run, j):
                        out[k] = (out[k][0], False)
                    break
                j = end
            else:
                j += 1
        i = j + length if j < len(out) else run
    return out


def live_markup(text: str, *, own: bool = False) -> list[str]:
    """Return the markup constructs ``text`` would form on Discord (empty: none).

    ``own``: the text is a whole message the bot wrote around typed text, so
    only constructs the bot itself never writes count (links, mentions of the
    markers tests use, mass mentions, headings, invisible characters).
    """
    chars = _code_spans(read(text)) if own else read(text)
    shown = "".join(c for c, _ in chars)
    problems: list[str] = []
    if own and text == "\u200b":  # the bot's own placeholder for an empty field
        return problems
    for index, (char, significant) in enumerate(chars):
        if char != "\n" and not keeps(char):
            problems.append(f"invisible character U+{ord(char):04X}")
        if not significant:
            continue
        following = shown[index + 1 : index + 12]
        if char == "]" and following.startswith("(") and chars[index + 1][1]:
            problems.append("masked link")
        if char == ":" and following.startswith("//"):
            problems.append("web address")
        if char == "@" and re.match(r"(everyone|here)\b", following):
            problems.append("mass mention")
        if char == "<" and re.match(r"(@[!&]?|#|/|t:|a?:)", following):
            # The bot mentions people itself; the tests' hostile text uses id 666666666666666666.
            sigil = re.match(r"(@[!&]?|#)?", following)
            start = index + 1 + (len(sigil.group(0)) if sigil else 0)
            if not own or shown.startswith("666666666666666666", start):
                problems.append("mention or tag")
        if not own and char in MARKUP:
            problems.append(f"markup character {char!r}")
    for line_start in [0, *(m.end() for m in re.finditer("\n", shown))]:
        rest = chars[line_start:]
        leading = 0
        while leading < len(rest) and rest[leading][0] == " ":
            leading += 1
        # A heading is one to three significant "#" and a space; subtext is "-# ".
        marks = 0
        while leading + marks < len(rest) and rest[leading + marks] == ("#", True):
            marks += 1
        if 1 <= marks <= 3 and leading + marks < len(rest) and rest[leading + marks][0] == " ":
            problems.append("heading")
        if (
            leading + 2 < len(rest)
            and rest[leading] == ("-", True)
            and rest[leading + 1] == ("#", True)
            and rest[leading + 2][0] == " "
        ):
            problems.append("subtext")
        if leading < len(rest) and rest[leading] == (">", True) and not own:
            problems.append("quote")
    return problems

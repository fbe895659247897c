"""The sandbox: the real bot, unchanged, against a local Discord, chatted with in a terminal.

``magbot sandbox`` starts it; so does ``magbot run`` (and ``make run``) when no
``DISCORD_TOKEN`` is configured and standard input is a terminal. Light on
purpose: the command line imports this module to print the first lines at
once, before the bot (and discord.py) are loaded.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.settings import Settings

DEFAULT_DATA_DIR = Path("data/sandbox")

CONNECT_HINT = (
    "To connect to the real Discord instead, put DISCORD_TOKEN=... in .env\n"
    '(README.md, "Connecting to Discord") and run `make run` again.'
)


# Short forms a newcomer may type for ``--locale`` (Discord's own codes work too).
LOCALE_SHORTHANDS = {
    "en": "en-US",
    "es": "es-ES",
    "zh": "zh-CN",
    "zh-hans": "zh-CN",
    "zh-hant": "zh-TW",
}


def sandbox_locale(text: str) -> str:
    """Return the Discord locale ``--locale`` names (``fr``, ``es-419``, ``zh``…).

    Raises ValueError, with what to type instead, for a locale Discord lacks.
    """
    from bot.sandbox.fakediscord.validation import LOCALES

    wanted = text.strip()
    found = LOCALE_SHORTHANDS.get(wanted.lower()) or next(
        (locale for locale in LOCALES if locale.lower() == wanted.lower()), None
    )
    if found is not None:
        return found
    if wanted.lower().startswith("ar"):
        raise ValueError(
            "Discord's app has no Arabic. Start the sandbox in any language and type "
            "/config language language:العربية (the server) or /profile language (yourself)."
        )
    raise ValueError(
        f"{text!r} is not a Discord locale. Try fr, es-ES, es-419, ru, zh-CN, zh-TW or en-US."
    )


def banner(*, no_token: bool, data_dir: Path) -> str:
    """Return the first lines: what this is, and how to reach the real Discord instead."""
    if no_token:
        what = (
            "No DISCORD_TOKEN is set, so this is the SANDBOX: the real bot, talking to a\n"
            "local stand-in for Discord on this computer. Nothing reaches Discord, and no\n"
            "Discord account is needed."
        )
    else:
        what = (
            "This is the SANDBOX: the real bot, talking to a local stand-in for Discord on\n"
            "this computer. Nothing reaches Discord, and no Discord account is needed."
        )
    state = f"Starting... (its state is kept in {data_dir}/, its log in {data_dir}/bot.log)"
    return f"{what}\n{CONNECT_HINT}\n{state}"


def main(
    settings: Settings,
    *,
    data_dir: Path = DEFAULT_DATA_DIR,
    reset: bool = False,
    no_token: bool = False,
    locale: str | None = None,
) -> int:
    """Print the first lines, then run the sandbox; return the exit status."""
    print(banner(no_token=no_token, data_dir=data_dir), flush=True)
    from bot.sandbox.app import run_sandbox

    return asyncio.run(run_sandbox(settings, data_dir=data_dir, reset=reset, locale=locale))

"""The bot's languages: every text a person reads goes through here.

English is the source language: each text is written in English in the code
and wrapped in ``_()`` (or ``ngettext``/``pgettext``), which returns it in the
*current* language, its ``{placeholders}`` filled from the keyword values::

    raise NotFound(_("No proposal {ref} in this server.", ref=ref))

The current language lives in a context variable, so it follows a command
through every ``await`` into the services without being passed around. The
command tree, buttons and forms set it to the reader's language
(``bot.language``) before anything runs; delivery sets the server's language
for public posts and the person's for a DM (``speaking``).

Texts defined at import time (constants, labels) are marked with ``N_()``
and translated where they are shown: ``_(GENERIC, error_id=...)``.

Catalogues are gettext ``.po`` files in ``locales/<language>/LC_MESSAGES/
messages.po``, read with Babel when a language is first used (no compile
step); ``magbot messages`` extracts and updates them (docs/languages.md).
A missing or untranslated text falls back to English; so does a translation
whose placeholders do not match (it is logged once).

Nothing here imports ``discord``: services use it.
"""

from __future__ import annotations

import contextlib
import gettext as _gettext
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from babel.messages.pofile import read_po

log = logging.getLogger(__name__)

LOCALES_DIR: Final = Path(__file__).with_name("locales")
DOMAIN: Final = "messages"

SOURCE: Final = "en"


@dataclass(frozen=True)
class Language:
    """One language the bot speaks."""

    code: str  # the catalogue's folder name
    babel: str  # the CLDR locale for dates and numbers
    name: str  # its own name, as its speakers write it
    discord: tuple[str, ...]  # Discord client locales that read it
    rtl: bool = False


LANGUAGES: Final[Mapping[str, Language]] = {
    language.code: language
    for language in (
        Language("en", "en", "English", ("en-US", "en-GB")),
        Language("fr", "fr", "Français", ("fr",)),
        # One Spanish catalogue for Spain and Latin America: the UN's Spanish.
        Language("es", "es", "Español", ("es-ES", "es-419")),
        Language("ru", "ru", "Русский", ("ru",)),
        Language("zh_Hans", "zh_Hans_CN", "中文（简体）", ("zh-CN",)),
        Language("zh_Hant", "zh_Hant_TW", "中文（繁體）", ("zh-TW",)),
        # Discord's client has no Arabic: a server's or a person's choice only.
        Language("ar", "ar", "العربية", (), rtl=True),
    )
}

_BY_DISCORD: Final = {
    locale: language.code for language in LANGUAGES.values() for locale in language.discord
}

_current: ContextVar[str] = ContextVar("magbot_language", default=SOURCE)


def language_of_locale(locale: str | None) -> str | None:
    """Return the language that reads Discord locale ``locale`` ("es-419"), or None."""
    if not locale:
        return None
    found = _BY_DISCORD.get(locale)
    if found is None and locale.startswith("en"):
        return SOURCE
    return found


def current() -> str:
    """Return the code of the language texts are written in right now."""
    return _current.get()


def current_language() -> Language:
    """Return the language texts are written in right now."""
    return LANGUAGES[_current.get()]


def set_language(code: str) -> None:
    """Write in ``code`` from here on, in this task (an interaction's handler)."""
    _current.set(code if code in LANGUAGES else SOURCE)


@contextlib.contextmanager
def speaking(code: str | None) -> Iterator[None]:
    """Write in ``code`` inside the block (a public post, a DM), then as before."""
    token = _current.set(code if code is not None and code in LANGUAGES else SOURCE)
    try:
        yield
    finally:
        _current.reset(token)


# --- catalogues -------------------------------------------------------------


@dataclass
class Catalogue:
    """One language's translations, as read from its ``.po`` file."""

    messages: dict[tuple[str | None, str], str | tuple[str, ...]]
    plural: Callable[[int], int]


_catalogues: dict[str, Catalogue] = {}
_loading = threading.Lock()
_warned: set[tuple[str, str]] = set()


def catalogue_path(code: str) -> Path:
    """Return where language ``code``'s ``.po`` file lives."""
    return LOCALES_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def _read(code: str) -> Catalogue:
    path = catalogue_path(code)
    if not path.exists():
        return Catalogue({}, lambda n: int(n != 1))
    with path.open("rb") as file:
        po = read_po(file, locale=LANGUAGES[code].babel)
    messages: dict[tuple[str | None, str], str | tuple[str, ...]] = {}
    for message in po:
        if not message.id or message.fuzzy:
            continue
        key_id = message.id[0] if isinstance(message.id, list | tuple) else message.id
        if isinstance(message.string, list | tuple):
            forms = tuple(message.string)
            if all(forms):
                messages[(message.context, key_id)] = forms
        elif message.string:
            messages[(message.context, key_id)] = message.string
    return Catalogue(messages, _gettext.c2py(po.plural_expr))


def catalogue(code: str) -> Catalogue:
    """Return language ``code``'s catalogue, reading it on first use."""
    found = _catalogues.get(code)
    if found is None:
        with _loading:
            found = _catalogues.get(code)
            if found is None:
                found = _catalogues[code] = _read(code)
    return found


def load_all() -> None:
    """Read every catalogue now (at start), so no command pays for it."""
    for code in LANGUAGES:
        if code != SOURCE:
            catalogue(code)


def reload() -> None:
    """Forget the catalogues read (after ``magbot messages update``, in tests)."""
    _catalogues.clear()


def _fill(text: str, source: str, values: Mapping[str, object], code: str) -> str:
    if not values:
        return text
    try:
        return text.format_map(values)
    except (KeyError, IndexError, ValueError):
        if (code, source) not in _warned:
            _warned.add((code, source))
            log.warning("the %s translation of %r does not match its placeholders", code, source)
        return source.format_map(values)


def _lookup(context: str | None, message: str) -> str | tuple[str, ...] | None:
    code = _current.get()
    if code == SOURCE:
        return None
    return catalogue(code).messages.get((context, message))


def _(message: str, /, **values: object) -> str:
    """Return ``message`` in the current language, its ``{placeholders}`` filled."""
    found = _lookup(None, message)
    text = found if isinstance(found, str) else message
    return _fill(text, message, values, _current.get())


def pgettext(context: str, message: str, /, **values: object) -> str:
    """Like ``_`` for a short text whose meaning depends on ``context`` ("status", "button")."""
    found = _lookup(context, message)
    text = found if isinstance(found, str) else message
    return _fill(text, message, values, _current.get())


def ngettext(singular: str, plural: str, n: int, /, **values: object) -> str:
    """Return the form of ``singular``/``plural`` for ``n`` in the current language.

    ``{n}`` is filled with ``n`` unless ``values`` says otherwise.
    """
    values = {"n": n, **values}
    code = _current.get()
    source = singular if n == 1 else plural
    found = _lookup(None, singular)
    if isinstance(found, tuple):
        index = catalogue(code).plural(n)
        text = found[index] if 0 <= index < len(found) else source
    else:
        text = source
    return _fill(text, source, values, code)


def N_(message: str, /) -> str:
    """Mark ``message`` for the catalogue without translating it (see the module doc)."""
    return message


__all__ = [
    "LANGUAGES",
    "N_",
    "SOURCE",
    "Language",
    "_",
    "catalogue",
    "current",
    "current_language",
    "language_of_locale",
    "load_all",
    "ngettext",
    "pgettext",
    "reload",
    "set_language",
    "speaking",
]

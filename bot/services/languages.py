"""Which language to write in: for the person reading, for a server's public posts.

- A person reads their own choice (``/profile language``: any language the
  bot speaks, Arabic included), else their Discord client's language when
  the bot speaks it, else the server's language.
- A server's public posts (reminders, digests, charts in a channel) are in
  its chosen language (``/config language``), else its Discord locale when
  the bot speaks it, else English.
- A DM or a reminder to a person, written with no interaction to say their
  language, uses their choice, else the client locale last seen from them,
  else the server's language.

What each person chose and last used is kept per account (one row each,
``storage.languages``) and cached here, so reading a language costs nothing
once a person has been seen; the row is written only when it changes.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final

from bot.i18n import LANGUAGES, SOURCE, language_of_locale
from bot.services.config import ConfigService, check_language
from storage.database import Database
from storage.languages import get_reader, save_reader

log = logging.getLogger(__name__)

# People whose language is kept in memory (a row each, about 100 bytes).
CACHE_SIZE: Final = 50_000


@dataclass(frozen=True)
class Reader:
    """What is known of one person's language."""

    chosen: str | None = None
    seen: str | None = None  # a Discord locale ("es-419")


class LanguageService:
    """Read and record the languages people and servers read."""

    def __init__(self, db: Database, config: ConfigService) -> None:
        self._db = db
        self._config = config
        self._readers: OrderedDict[int, Reader] = OrderedDict()

    async def _reader(self, user_id: int) -> Reader:
        found = self._readers.get(user_id)
        if found is not None:
            self._readers.move_to_end(user_id)
            return found
        async with self._db.read() as session:
            row = await get_reader(session, user_id)
        reader = Reader(row.chosen, row.seen) if row is not None else Reader()
        self._remember(user_id, reader)
        return reader

    def _remember(self, user_id: int, reader: Reader) -> None:
        self._readers[user_id] = reader
        self._readers.move_to_end(user_id)
        while len(self._readers) > CACHE_SIZE:
            self._readers.popitem(last=False)

    async def server(self, guild_id: int | None, guild_locale: str | None = None) -> str:
        """Return the language of a server's public posts."""
        if guild_id is None:
            return language_of_locale(guild_locale) or SOURCE
        self._config.note_locale(guild_id, guild_locale)
        return self._config.public_language(await self._config.get(guild_id))

    async def reader(
        self,
        user_id: int,
        *,
        locale: str | None,
        guild_id: int | None,
        guild_locale: str | None = None,
    ) -> str:
        """Return the language to answer a person in, recording the client locale seen."""
        reader = await self._reader(user_id)
        if locale and locale != reader.seen:
            reader = Reader(reader.chosen, locale)
            self._remember(user_id, reader)
            try:
                async with self._db.write() as session:
                    await save_reader(session, user_id, seen=locale)
            except Exception:  # a language is not worth failing a command over
                log.warning("could not record the locale of user %s", user_id, exc_info=True)
        if reader.chosen is not None and reader.chosen in LANGUAGES:
            return reader.chosen
        return language_of_locale(locale) or await self.server(guild_id, guild_locale)

    async def person(
        self, user_id: int, *, guild_id: int | None, guild_locale: str | None = None
    ) -> str:
        """Return the language of a DM or reminder to a person, with no interaction to go by."""
        reader = await self._reader(user_id)
        if reader.chosen is not None and reader.chosen in LANGUAGES:
            return reader.chosen
        return language_of_locale(reader.seen) or await self.server(guild_id, guild_locale)

    async def chosen(self, user_id: int) -> str | None:
        """Return the language the person chose, or None (their client's decides)."""
        return (await self._reader(user_id)).chosen

    async def choose(self, user_id: int, code: str | None) -> None:
        """Record the person's choice (None: follow their Discord client again)."""
        if code is not None:
            check_language(code)
        async with self._db.write() as session:
            await save_reader(session, user_id, chosen=code)
        reader = self._readers.get(user_id) or Reader()
        self._remember(user_id, Reader(code, reader.seen))

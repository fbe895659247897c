"""Which language a person and a server read: choice, client locale, server, English."""

from __future__ import annotations

import pytest

from bot.errors import InvalidInput, PermissionDenied
from bot.services.auth import Actor
from bot.services.config import ConfigService
from bot.services.languages import LanguageService
from storage.database import Database
from storage.languages import get_reader

GUILD = 222222222222222222
ADMIN = Actor(guild_id=GUILD, user_id=1, is_admin=True)
MEMBER = Actor(guild_id=GUILD, user_id=2, is_mag=True)
USER = 333


@pytest.fixture
def config(db: Database, clock) -> ConfigService:
    return ConfigService(db, clock)


@pytest.fixture
def languages(db: Database, config: ConfigService) -> LanguageService:
    return LanguageService(db, config)


async def reader(
    languages: LanguageService, locale: str | None, guild_locale: str | None = None
) -> str:
    return await languages.reader(USER, locale=locale, guild_id=GUILD, guild_locale=guild_locale)


async def test_the_client_locale_then_the_server_then_english(
    languages: LanguageService, config: ConfigService
) -> None:
    assert await reader(languages, "fr") == "fr"
    assert await reader(languages, "es-419") == "es"
    assert await reader(languages, "de") == "en"  # not spoken, server has no language
    assert await reader(languages, "de", guild_locale="ru") == "ru"  # the server's locale
    await config.set_language(ADMIN, "zh_Hant")
    assert await reader(languages, "de", guild_locale="ru") == "zh_Hant"  # the admins' choice
    assert await reader(languages, "en-GB") == "en"  # the client's own language wins


async def test_a_choice_wins_and_survives_a_restart(
    db: Database, config: ConfigService, languages: LanguageService
) -> None:
    await languages.choose(USER, "ar")  # Arabic: a choice only, no Discord locale
    assert await reader(languages, "fr") == "ar"
    fresh = LanguageService(db, ConfigService(db, config._clock))
    assert await fresh.reader(USER, locale="fr", guild_id=GUILD) == "ar"
    await fresh.choose(USER, None)
    assert await fresh.reader(USER, locale="fr", guild_id=GUILD) == "fr"


async def test_the_locale_last_seen_writes_dms_and_is_stored_once(
    db: Database, languages: LanguageService
) -> None:
    assert await languages.person(USER, guild_id=GUILD) == "en"  # never seen
    await reader(languages, "ru")
    await reader(languages, "ru")
    async with db.read() as session:
        row = await get_reader(session, USER)
    assert row is not None and row.seen == "ru" and row.chosen is None
    stamp = row.updated_at
    await reader(languages, "ru")  # unchanged: no write
    async with db.read() as session:
        again = await get_reader(session, USER)
    assert again is not None and again.updated_at == stamp
    fresh = LanguageService(db, ConfigService(db, languages._config._clock))
    assert await fresh.person(USER, guild_id=GUILD) == "ru"


async def test_bad_choices_are_refused_and_only_admins_set_the_server_language(
    languages: LanguageService, config: ConfigService
) -> None:
    with pytest.raises(InvalidInput, match="Unknown language"):
        await languages.choose(USER, "klingon")
    with pytest.raises(InvalidInput, match="Unknown language"):
        await config.set_language(ADMIN, "xx")
    with pytest.raises(PermissionDenied):
        await config.set_language(MEMBER, "fr")
    assert (await config.get(GUILD)).language is None

"""The translation functions: the current language, fallbacks, plurals, formats."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import date

import pytest

import bot.i18n as i18n
from bot.i18n import N_, _, formats, language_of_locale, ngettext, pgettext, speaking


@pytest.fixture
def fake_french() -> Iterator[dict[tuple[str | None, str], str | tuple[str, ...]]]:
    """Replace the French catalogue with a few known texts for one test."""
    messages: dict[tuple[str | None, str], str | tuple[str, ...]] = {
        (None, "No proposal {ref} here."): "Aucune proposition {ref} ici.",
        (None, "Broken {name}."): "Cassé {nom}.",
        ("button", "Open"): "Ouvrir",
        (None, "{n} proposal"): ("{n} proposition", "{n} propositions"),
    }
    i18n._catalogues["fr"] = i18n.Catalogue(messages, lambda n: int(n > 1))
    yield messages
    i18n.reload()


def test_english_is_the_source_and_fills_placeholders() -> None:
    assert _("No proposal {ref} here.", ref="`WS-1`") == "No proposal `WS-1` here."
    assert _("Literal {braces} stay without values.") == "Literal {braces} stay without values."


def test_the_current_language_translates_and_falls_back(fake_french: object) -> None:
    with speaking("fr"):
        assert _("No proposal {ref} here.", ref="`WS-1`") == "Aucune proposition `WS-1` ici."
        assert _("Not in the catalogue.") == "Not in the catalogue."
        assert pgettext("button", "Open") == "Ouvrir"
        assert pgettext("status", "Open") == "Open"
    assert _("No proposal {ref} here.", ref="x") == "No proposal x here."


def test_a_translation_with_wrong_placeholders_falls_back_to_english(
    fake_french: object, caplog: pytest.LogCaptureFixture
) -> None:
    with speaking("fr"), caplog.at_level(logging.WARNING):
        assert _("Broken {name}.", name="x") == "Broken x."
    assert "does not match its placeholders" in caplog.text


def test_values_are_never_read_as_placeholders(fake_french: object) -> None:
    with speaking("fr"):
        assert (
            _("No proposal {ref} here.", ref="{__class__}") == "Aucune proposition {__class__} ici."
        )


def test_plurals_follow_the_language(fake_french: object) -> None:
    assert ngettext("{n} proposal", "{n} proposals", 1) == "1 proposal"
    assert ngettext("{n} proposal", "{n} proposals", 0) == "0 proposals"
    with speaking("fr"):
        assert ngettext("{n} proposal", "{n} proposals", 0) == "0 proposition"
        assert ngettext("{n} proposal", "{n} proposals", 2) == "2 propositions"


def test_russian_plural_forms_come_from_its_catalogue_header() -> None:
    plural = i18n.catalogue("ru").plural
    assert [plural(n) for n in (1, 2, 5, 11, 21, 22, 25)] == [0, 1, 2, 2, 0, 1, 2]


def test_the_language_is_per_task() -> None:
    async def main() -> list[str]:
        async def in_task(code: str) -> str:
            i18n.set_language(code)
            await asyncio.sleep(0)
            return i18n.current()

        return list(await asyncio.gather(in_task("fr"), in_task("ru"), in_task("nope")))

    assert asyncio.run(main()) == ["fr", "ru", "en"]
    assert i18n.current() == "en"


def test_discord_locales_map_to_the_languages() -> None:
    assert language_of_locale("fr") == "fr"
    assert language_of_locale("es-419") == language_of_locale("es-ES") == "es"
    assert language_of_locale("zh-CN") == "zh_Hans"
    assert language_of_locale("zh-TW") == "zh_Hant"
    assert language_of_locale("en-GB") == "en"
    assert language_of_locale("de") is None
    assert language_of_locale(None) is None


def test_marking_does_not_translate() -> None:
    with speaking("fr"):
        assert N_("Government") == "Government"


@pytest.mark.parametrize(
    ("code", "number", "share", "day"),
    [
        ("en", "12,345", "25%", "Dec 7, 2026"),
        ("fr", "12\u202f345", "25\u00a0%", "7 déc. 2026"),
        ("ru", "12\u00a0345", "25\u00a0%", "7 дек. 2026\u202fг."),
        ("zh_Hans", "12,345", "25%", "2026年12月7日"),
    ],
)
def test_numbers_and_dates_follow_the_language(
    code: str, number: str, share: str, day: str
) -> None:
    with speaking(code):
        assert formats.number(12345) == number
        assert formats.percent(0.25) == share
        assert formats.day(date(2026, 12, 7)) == day

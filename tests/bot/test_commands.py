"""Meta-tests over every cog: it loads, and every command fits Discord's limits."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from discord import AppCommandOptionType, app_commands

from bot.client import MagBot, cog_modules
from bot.settings import load_settings

NAME = re.compile(r"^[-_\w]{1,32}$")
AUDIENCES = {"everyone", "mag", "secretariat", "admins"}


@pytest.fixture
async def bot(tmp_path) -> Iterator[MagBot]:
    settings = load_settings({"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/meta.db"})
    magbot = MagBot(settings, sync_commands=False)
    for name in cog_modules():
        await magbot.load_extension(name)
    yield magbot
    await magbot.close()


def _walk(items) -> Iterator[app_commands.Command | app_commands.Group]:
    for item in items:
        yield item
        if isinstance(item, app_commands.Group):
            yield from _walk(item.commands)


async def test_every_cog_loads(bot: MagBot) -> None:
    assert set(bot.extensions) == set(cog_modules())
    assert {"cogs.config", "cogs.help"} <= set(bot.extensions)


async def test_command_names_are_unique_and_valid(bot: MagBot) -> None:
    top = [c.name for c in bot.tree.get_commands()]
    assert len(top) == len(set(top))
    assert len(top) <= 100
    for item in _walk(bot.tree.get_commands()):
        assert NAME.match(item.name) and item.name == item.name.lower(), item.qualified_name
        if isinstance(item, app_commands.Group):
            names = [c.name for c in item.commands]
            assert len(names) == len(set(names)), item.qualified_name
            assert len(names) <= 25, item.qualified_name


async def test_descriptions_and_options_fit_discord_limits(bot: MagBot) -> None:
    for item in _walk(bot.tree.get_commands()):
        assert 1 <= len(item.description) <= 100, item.qualified_name
        if isinstance(item, app_commands.Command):
            assert len(item.parameters) <= 25, item.qualified_name
            for parameter in item.parameters:
                assert NAME.match(parameter.name), (item.qualified_name, parameter.name)
                assert 1 <= len(parameter.description) <= 100, (item.qualified_name, parameter.name)
                assert len(parameter.choices) <= 25
    # The whole payload is what Discord checks; building it must not raise.
    for command in bot.tree.get_commands():
        command.to_dict(bot.tree)


async def test_every_top_level_command_names_its_audience(bot: MagBot) -> None:
    for command in bot.tree.get_commands():
        audience = command.extras.get("audience", "everyone")
        assert audience in AUDIENCES, command.name


async def test_every_integer_option_fits_a_database_integer(bot: MagBot) -> None:
    # Numbers and ids are looked up in 32-bit INTEGER columns; PostgreSQL fails
    # on a larger value, so Discord must refuse it first (see cogs._common.Number).
    checked = 0
    for item in _walk(bot.tree.get_commands()):
        if not isinstance(item, app_commands.Command):
            continue
        for parameter in item.parameters:
            if parameter.type is not AppCommandOptionType.integer or parameter.choices:
                continue
            where = (item.qualified_name, parameter.name)
            assert parameter.max_value is not None and parameter.max_value <= 2**31 - 1, where
            assert parameter.min_value is not None and parameter.min_value >= -(2**31), where
            checked += 1
    assert checked >= 17


def test_a_value_discord_could_not_convert_is_shown_as_typed_and_inert() -> None:
    from bot.tree import user_message

    class Member(app_commands.Transformer):
        pass

    typed = "x` **@everyone** [click](https://evil.example) `y"
    error = app_commands.TransformerError(typed, AppCommandOptionType.user, Member())
    text = user_message(error)
    assert text is not None and text.endswith("is not a valid user here.")
    span = text.split(" is not a valid")[0]
    # One code span from start to end: nothing inside renders as markup.
    assert span.startswith("`") and span.endswith("`") and span.count("`") == 2

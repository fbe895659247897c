"""Settings: read once, typed, and every mistake named in one line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.settings import DEFAULT_DATABASE_URL, Secret, SettingsError, load_settings

TOKEN = "x" * 24 + "." + "y" * 6 + "." + "z" * 27


def test_defaults_need_nothing_but_the_environment() -> None:
    settings = load_settings({})
    assert settings.discord_token is None
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.auto_migrate is True
    assert (settings.shard_count, settings.shard_ids, settings.dev_guild_id) == (None, None, None)
    with pytest.raises(SettingsError, match=r"discord\.com/developers"):
        settings.require_token()


def test_every_setting_is_read() -> None:
    settings = load_settings(
        {
            "DISCORD_TOKEN": f" {TOKEN} ",
            "DATABASE_URL": "postgresql+asyncpg://u@localhost/magbot",
            "DEV_GUILD_ID": "123456789012345678",
            "LOG_LEVEL": "debug",
            "SHARD_COUNT": "4",
            "SHARD_IDS": "3, 1",
            "AUTO_MIGRATE": "off",
            "EXTRA_COGS": "json, tests",
            "DATABASE_TIMEOUT": "2.5",
            "DATABASE_WAIT": "0",
        }
    )
    assert (settings.database_timeout, settings.database_wait) == (2.5, 0.0)
    assert settings.require_token().get() == TOKEN
    assert settings.dev_guild_id == 123456789012345678
    assert settings.log_level == "DEBUG"
    assert (settings.shard_count, settings.shard_ids) == (4, (1, 3))
    assert settings.auto_migrate is False
    assert settings.extra_cogs == ("json", "tests")


def test_the_token_never_shows_itself() -> None:
    settings = load_settings({"DISCORD_TOKEN": TOKEN})
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(Secret(TOKEN))


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DISCORD_TOKEN": "short"}, "DISCORD_TOKEN"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL"),
        ({"DEV_GUILD_ID": "my server"}, "DEV_GUILD_ID"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT"),
        ({"SHARD_IDS": "0"}, "SHARD_IDS"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "2"}, "SHARD_IDS"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "a"}, "SHARD_IDS"),
        ({"AUTO_MIGRATE": "maybe"}, "AUTO_MIGRATE"),
        ({"EXTRA_COGS": "no_such_module_here"}, "EXTRA_COGS"),
        ({"DISCORD_API_URL": "ftp://x"}, "DISCORD_API_URL"),
        ({"DATABASE_TIMEOUT": "soon"}, "DATABASE_TIMEOUT"),
        ({"DATABASE_TIMEOUT": "0"}, "DATABASE_TIMEOUT"),
        ({"DATABASE_WAIT": "-1"}, "DATABASE_WAIT"),
    ],
)
def test_a_bad_value_is_named(env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    message = str(caught.value)
    assert message.startswith(variable)
    assert "\n" not in message


def _magbot(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "DATABASE_URL")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,  # no .env there
        env={**clean, **env, "PYTHONPATH": os.getcwd()},
        stdin=subprocess.DEVNULL,  # not a terminal: no sandbox instead of a token
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("args", [("run",), ()])
def test_run_without_a_token_nor_a_terminal_explains_and_exits_2(tmp_path, args) -> None:
    # In a terminal it starts the sandbox instead (tests/sandbox/test_app.py).
    result = _magbot(tmp_path, *args)
    assert result.returncode == 2
    assert "DISCORD_TOKEN is not set" in result.stderr
    assert "magbot sandbox" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_malformed_setting_exits_2_without_traceback(tmp_path) -> None:
    result = _magbot(tmp_path, "run", SHARD_COUNT="many")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "magbot: SHARD_COUNT='many' must be a whole number of 1 or more."
    )


def test_db_upgrade_creates_the_schema(tmp_path) -> None:
    result = _magbot(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "revision" in result.stdout
    assert (tmp_path / "data" / "magbot.db").exists()
    again = _magbot(tmp_path, "db", "current")
    assert again.stdout.strip() in result.stdout

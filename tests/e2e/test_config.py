"""/config and /help end to end: the real bot, the real discord.py, a local fake Discord."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import World

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_the_bot_logs_in_and_syncs_its_commands(world: World) -> None:
    names = {command["name"] for command in world.fake.commands(world.guild_id)}
    assert {"config", "help"} <= names
    assert len(world.fake.identifies) == 1


async def test_show_displays_the_defaults(world: World) -> None:
    reply = await world.run("admin", "config show")
    assert reply.ephemeral
    text = reply.embed_text()
    assert "UTC (default)" in text
    assert "14d, 7d, 1d, 1h" in text
    assert "weekly on Monday at 09:00" in text


async def test_every_config_command_changes_what_show_displays(world: World) -> None:
    w = world
    answers = [
        await w.run("admin", "config channel", purpose="digest", channel=w.channels["digest"]),
        await w.run(
            "admin", "config channel", purpose="reminders", channel=w.channels["reminders"]
        ),
        await w.run("admin", "config channel", purpose="log", channel=w.channels["mag-log"]),
        await w.run("admin", "config role", purpose="mag", role=w.roles["mag"]),
        await w.run("admin", "config role", purpose="secretariat", role=w.roles["secretariat"]),
        await w.run("admin", "config timezone", name="Europe/Zurich"),
        await w.run("admin", "config digest", frequency="daily", time="17:30"),
        await w.run("admin", "config reminders", offsets="7d,1d,2h"),
        await w.run("admin", "config subthemes set", names="Data Governance & Trust; AI"),
        await w.run("admin", "config subthemes add", name="Human Rights & Freedoms"),
        await w.run("admin", "config subthemes remove", name="AI"),
        await w.run("admin", "config cycle", name="IGF 2027"),
    ]
    assert all(answer.ephemeral for answer in answers)
    assert "Europe/Zurich" in answers[5].content
    text = (await w.run("admin", "config show")).embed_text()
    for expected in (
        f"<#{w.channels['digest']}>",
        f"<#{w.channels['reminders']}>",
        f"<#{w.channels['mag-log']}>",
        f"<@&{w.roles['mag']}>",
        f"<@&{w.roles['secretariat']}>",
        "Europe/Zurich",
        "daily at 17:30",
        "7d, 1d, 2h",
        "Data Governance & Trust",
        "Human Rights & Freedoms",
        "IGF 2027",
    ):
        assert expected in text, expected
    assert "• AI" not in text


async def test_timezone_names_are_suggested(world: World) -> None:
    choices = await world.fake.autocomplete(
        world.guild_id,
        world.channels["general"],
        world.users["admin"],
        "config timezone",
        focused="name",
        name="zurich",
    )
    assert [c["value"] for c in choices] == ["Europe/Zurich"]


@pytest.mark.parametrize(
    ("path", "options", "hint"),
    [
        ("config timezone", {"name": "Europe/Geneva"}, "Europe/Zurich"),
        ("config reminders", {"offsets": "7 days"}, "not an offset"),
        ("config reminders", {"offsets": "200d"}, "at most 120 days"),
        ("config digest", {"frequency": "weekly", "time": "9am"}, "HH:MM"),
    ],
)
async def test_bad_input_is_answered_privately_and_stores_nothing(
    world: World, path: str, options: dict[str, str], hint: str
) -> None:
    before = (await world.run("admin", "config show")).embed_text()
    reply = await world.run("admin", path, **options)
    assert reply.ephemeral
    assert hint in reply.content
    assert (await world.run("admin", "config show")).embed_text() == before


async def test_help_lists_commands_by_audience(world: World) -> None:
    ix = await world.invoke("outsider", "help")
    first = await ix.wait_reply()
    assert first.ephemeral and "For everyone" in first.embed_text()
    # One message per audience: all of them together are over one message's limit.
    await ix.wait_for(lambda i: len(i.followups) == 3, timeout=10)
    text = "\n".join(m.embed_text() for m in [first, *ix.followups])
    assert "For server admins" in text and "For the secretariat" in text
    assert "/config timezone" in text and "/help" in text and "/consultation open" in text


async def test_settings_survive_a_restart(world: World) -> None:
    await world.run("admin", "config cycle", name="IGF 2028")
    await world.restart_bot()
    text = (await world.run("admin", "config show")).embed_text()
    assert "IGF 2028" in text
    assert "Europe/Zurich" in text


async def test_a_rule_is_shown_changed_and_reset(world: World) -> None:
    name = "screening.min_speakers_agreed"
    shown = await world.run("admin", "config rule", name=name)
    assert f"`{name}` is 3 (the default)" in shown.content
    changed = await world.run("admin", "config rule", name=name, value="4")
    assert f"`{name}` is 4 (default: 3)" in changed.content
    assert f"{name}: 4" in (await world.run("admin", "config show")).embed_text()
    refused = await world.run("admin", "config rule", name=name, value="four")
    assert refused.ephemeral and "whole number" in refused.content
    await world.run("admin", "config rule", name=name, value="default")
    assert "(the default)" in (await world.run("admin", "config rule", name=name)).content
    choices = await world.fake.autocomplete(
        world.guild_id,
        world.channels["general"],
        world.users["admin"],
        "config rule",
        focused="name",
        name="screening.min_speak",
    )
    assert [c["value"] for c in choices] == [name]


async def test_the_server_language_is_chosen_and_shown(world: World) -> None:
    show = (await world.run("admin", "config show")).embed_text()
    assert "Automatic (the server's own locale, else English)" in show
    reply = await world.run("admin", "config language", language="fr")
    assert reply.ephemeral and "Français" in reply.content
    assert "Français" in (await world.run("admin", "config show")).embed_text()
    await world.run("admin", "config language", language="auto")
    assert "Automatic" in (await world.run("admin", "config show")).embed_text()


async def test_a_person_chooses_a_language_or_follows_their_app(world: World) -> None:
    chosen = await world.run("outsider", "profile language", language="ar")
    assert chosen.ephemeral and "العربية" in chosen.content
    # Their Discord app is in Russian: "Automatic" follows it, as the bot saw it.
    world.fake.users[world.users["outsider"]].locale = "ru"
    try:
        automatic = await world.run("outsider", "profile language", language="auto")
        assert "Русский" in automatic.content
    finally:
        world.fake.users[world.users["outsider"]].locale = "en-US"

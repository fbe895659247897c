"""Reading a typed slash command against the registered schema, and naming things."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.sandbox.fakediscord import FakeDiscord
from bot.sandbox.slash import Directory, InputError, convert, parse, permission_names
from bot.sandbox.world import build_demo_world

SCHEMA: list[dict[str, Any]] = [
    {"name": "help", "type": 1, "options": []},
    {
        "name": "config",
        "type": 1,
        "options": [
            {
                "name": "channel",
                "type": 1,
                "options": [
                    {
                        "name": "purpose",
                        "type": 3,
                        "required": True,
                        "choices": [
                            {"name": "reminders", "value": "reminders"},
                            {"name": "digest", "value": "digest"},
                        ],
                    },
                    {"name": "channel", "type": 7},
                ],
            },
            {
                "name": "cycle",
                "type": 1,
                "options": [{"name": "name", "type": 3, "required": True}],
            },
            {
                "name": "subthemes",
                "type": 2,
                "options": [
                    {
                        "name": "set",
                        "type": 1,
                        "options": [{"name": "names", "type": 3, "required": True}],
                    }
                ],
            },
        ],
    },
    {
        "name": "review",
        "type": 1,
        "options": [
            {
                "name": "score",
                "type": 1,
                "options": [
                    {"name": "proposal", "type": 4, "required": True, "autocomplete": True},
                    {"name": "score", "type": 4, "required": True},
                    {"name": "comment", "type": 3},
                    {"name": "merge", "type": 5},
                    {"name": "member", "type": 6},
                    {"name": "role", "type": 8},
                ],
            }
        ],
    },
]


@pytest.fixture
def directory() -> Directory:
    fake = FakeDiscord()
    return Directory(fake, build_demo_world(fake))


def test_values_run_to_the_next_option_and_quotes_are_optional() -> None:
    invocation = parse("/config cycle name:IGF 2027", SCHEMA)
    assert invocation.path == "config cycle" and invocation.raw == {"name": "IGF 2027"}
    quoted = parse('/config cycle name:"IGF 2027"', SCHEMA)
    assert quoted.raw == {"name": "IGF 2027"}
    nested = parse("/config subthemes set names:Data Governance & Trust; AI", SCHEMA)
    assert nested.path == "config subthemes set"
    assert nested.raw == {"names": "Data Governance & Trust; AI"}
    colons = parse("/review score proposal:1 score:4 comment:Note: see https://igf.org", SCHEMA)
    assert colons.raw["comment"] == "Note: see https://igf.org"


def test_people_channels_and_roles_are_named_as_a_reader_knows_them(
    directory: Directory,
) -> None:
    world = directory.world
    options = convert(parse("/config channel purpose:Digest channel:#digest", SCHEMA), directory)
    assert options == {"purpose": "digest", "channel": world.channels["digest"]}
    typed = "/review score proposal:3 score:4 merge:yes member:@lucia role:@MAG"
    options = convert(parse(typed, SCHEMA), directory)
    assert options == {
        "proposal": 3,
        "score": 4,
        "merge": True,
        "member": world.users["mag3"],
        "role": world.roles["mag"],
    }
    assert directory.find_user("Mina Rahman") == directory.find_user("mag1")
    assert directory.find_user("<@" + str(world.users["mag1"]) + ">") == world.users["mag1"]


@pytest.mark.parametrize(
    ("line", "explanation"),
    [
        ("help", "starts with /"),
        ("/", "Type a command after the slash"),
        ("/hepl", "There is no command /hepl. Did you mean help?"),
        ("/config", "/config needs one of: channel, cycle, subthemes"),
        ("/config chanel purpose:digest", "Did you mean channel?"),
        ("/config cycle", "needs name:"),
        ("/config cycle nam:IGF", "has no option 'nam'"),
        ("/config cycle IGF 2027", "'IGF' is not an option:value"),
        ("/config cycle name:", "give a value after name:"),
        ('/config cycle name:"IGF', "never closed"),
        ("/config cycle name:a name:b", "given twice"),
        ("/config channel purpose:log", "'log' is not a choice for purpose"),
        ("/config channel purpose:digest channel:#nowhere", "There is no channel 'nowhere'"),
        ("/review score proposal:1 score:four", "score: takes a whole number, not 'four'"),
        ("/review score proposal:1 score:4 merge:perhaps", "merge: takes true or false"),
        ("/review score proposal:1 score:4 member:@Nobody", "There is no member 'Nobody'"),
        ("/review score proposal:1 score:4 member:@M", "could be"),
        ("/review score proposal:1 score:4 colour:red", "has no option 'colour'"),
    ],
)
def test_every_mistake_is_one_clear_line(directory: Directory, line: str, explanation: str) -> None:
    with pytest.raises(InputError) as caught:
        convert(parse(line, SCHEMA), directory)
    message = str(caught.value)
    assert explanation in message
    assert "\n" not in message


@given(st.text(max_size=80))
def test_any_typed_line_is_run_or_refused_never_crashes(text: str) -> None:
    fake = FakeDiscord()
    directory = Directory(fake, build_demo_world(fake))
    try:
        convert(parse("/" + text, SCHEMA), directory)
    except InputError as error:
        assert str(error)


def test_permissions_are_named_as_discord_names_them() -> None:
    assert permission_names(0x20) == ["Manage Server"]


def _localised(schema: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    """Return ``schema`` with French names, as the bot registers them (``name_localizations``)."""

    def walk(node: dict[str, Any]) -> dict[str, Any]:
        node = dict(node)
        if node["name"] in names:
            node["name_localizations"] = {"fr": names[node["name"]]}
        if "options" in node:
            node["options"] = [walk(option) for option in node["options"]]
        if "choices" in node:
            node["choices"] = [walk(choice) for choice in node["choices"]]
        return node

    return [walk(command) for command in schema]


FRENCH = _localised(
    SCHEMA,
    {"config": "configuration", "cycle": "édition", "name": "nom", "channel": "salon"}
    | {"purpose": "usage", "digest": "récapitulatif"},
)


def test_names_are_typed_as_the_persons_app_shows_them(directory: Directory) -> None:
    french = parse("/configuration édition nom:FGI 2027", FRENCH, "fr")
    assert (french.path, french.raw) == ("config cycle", {"name": "FGI 2027"})
    # Their own names still work, as in Discord's app.
    assert parse("/config cycle name:IGF", FRENCH, "fr").raw == {"name": "IGF"}
    channel = parse("/configuration salon usage:récapitulatif", FRENCH, "fr")
    assert convert(channel, directory, "fr") == {"purpose": "digest"}
    # Another person's app shows the English names only.
    with pytest.raises(InputError, match="no command /configuration"):
        parse("/configuration édition nom:FGI", FRENCH, "en-US")
    with pytest.raises(InputError, match="Its options are nom:"):
        parse("/configuration édition titre:FGI", FRENCH, "fr")

"""The configuration service: defaults, validation, audit, authorization."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import InvalidInput, NotFound, PermissionDenied
from bot.services.auth import Actor
from bot.services.config import DEFAULTS, ConfigService, check_timezone, suggest_timezones
from bot.services.durations import format_offsets, parse_offsets
from storage.audit import recent_events
from storage.database import Database

GUILD = 111111111111111111
ADMIN = Actor(guild_id=GUILD, user_id=1, is_admin=True)
MEMBER = Actor(guild_id=GUILD, user_id=2, is_mag=True)


@pytest.fixture
def service(db: Database, clock) -> ConfigService:
    return ConfigService(db, clock)


async def test_a_new_guild_gets_every_default(service: ConfigService) -> None:
    settings = await service.get(GUILD)
    assert settings.timezone == DEFAULTS.timezone
    assert settings.reminder_offsets == DEFAULTS.reminder_offsets
    assert settings.subthemes == DEFAULTS.subthemes
    assert settings.channels == {"reminders": None, "digest": None, "log": None}
    assert settings.customised == frozenset()


async def test_changes_are_stored_and_audited(service: ConfigService, db: Database) -> None:
    await service.set_timezone(ADMIN, "europe/zurich")
    await service.set_channel(ADMIN, "digest", 222222222222222222)
    await service.set_reminder_offsets(ADMIN, "7d, 1d,1h")

    fresh = await ConfigService(db, service._clock).get(GUILD)
    assert fresh.timezone == "Europe/Zurich"
    assert fresh.channels["digest"] == 222222222222222222
    assert fresh.reminder_offsets == (7 * 1440, 1440, 60)
    assert {"timezone", "reminder_offsets"} <= fresh.customised

    async with db.read() as session:
        events = await recent_events(session, guild_id=GUILD)
    actions = [e.action for e in events]
    assert actions == ["config.reminder_offsets", "config.digest_channel_id", "config.timezone"]
    tz_event = events[-1]
    assert (tz_event.before, tz_event.after, tz_event.actor_id) == (None, "Europe/Zurich", 1)


async def test_setting_the_same_value_twice_is_audited_once(
    service: ConfigService, db: Database
) -> None:
    await service.set_cycle(ADMIN, "IGF 2027")
    await service.set_cycle(ADMIN, "IGF  2027 ")
    async with db.read() as session:
        assert len(await recent_events(session, guild_id=GUILD)) == 1


@pytest.mark.parametrize(
    "change",
    [
        lambda s, a: s.set_timezone(a, "UTC"),
        lambda s, a: s.set_channel(a, "log", 3),
        lambda s, a: s.set_role(a, "mag", 3),
        lambda s, a: s.set_digest(a, "off", None, None),
        lambda s, a: s.set_reminder_offsets(a, "1d"),
        lambda s, a: s.set_subthemes(a, "A; B"),
        lambda s, a: s.add_subtheme(a, "C"),
        lambda s, a: s.set_cycle(a, "IGF 2027"),
        lambda s, a: s.show(a),
    ],
)
async def test_only_admins_change_or_read_the_configuration(
    service: ConfigService, db: Database, change
) -> None:
    with pytest.raises(PermissionDenied):
        await change(service, MEMBER)
    async with db.read() as session:
        assert await recent_events(session, guild_id=GUILD) == []
    assert (await service.get(GUILD)).customised == frozenset()


async def test_an_unknown_timezone_stores_nothing(service: ConfigService, db: Database) -> None:
    with pytest.raises(InvalidInput, match="Europe/Zurich"):
        await service.set_timezone(ADMIN, "Europe/Geneva")
    assert (await service.get(GUILD)).timezone == "UTC"


async def test_digest_schedules(service: ConfigService) -> None:
    weekly = await service.set_digest(ADMIN, "weekly", "8:30", "fri")
    assert weekly.digest.describe() == "weekly on Friday at 08:30"
    daily = await service.set_digest(ADMIN, "daily", "17:05", None)
    assert daily.digest.describe() == "daily at 17:05"
    off = await service.set_digest(ADMIN, "off", None, None)
    assert off.digest.describe() == "off"


@pytest.mark.parametrize(
    ("frequency", "time", "day", "message"),
    [
        ("weekly", "25:00", "monday", "not a time of day"),
        ("weekly", None, "monday", "time of day"),
        ("daily", "09:00", "monday", "daily digest has no day"),
        ("weekly", "09:00", "someday", "not a day of the week"),
        ("hourly", "09:00", None, "daily, weekly or off"),
    ],
)
async def test_bad_digest_input_is_refused(
    service: ConfigService, frequency, time, day, message
) -> None:
    with pytest.raises(InvalidInput, match=message):
        await service.set_digest(ADMIN, frequency, time, day)
    assert "digest_frequency" not in (await service.get(GUILD)).customised


async def test_subthemes_set_add_remove(service: ConfigService) -> None:
    settings = await service.set_subthemes(ADMIN, " Data Governance ; AI;; ai ;Human Rights")
    assert settings.subthemes == ("Data Governance", "AI", "Human Rights")
    settings = await service.add_subtheme(ADMIN, "Sustainability")
    assert settings.subthemes[-1] == "Sustainability"
    with pytest.raises(InvalidInput, match="already"):
        await service.add_subtheme(ADMIN, "sustainability")
    settings = await service.remove_subtheme(ADMIN, "data governance")
    assert settings.subthemes == ("AI", "Human Rights", "Sustainability")
    with pytest.raises(NotFound):
        await service.remove_subtheme(ADMIN, "Nope")
    with pytest.raises(InvalidInput, match="at most 100"):
        await service.add_subtheme(ADMIN, "x" * 101)


async def test_actor_roles_come_from_the_configuration(service: ConfigService) -> None:
    await service.set_role(ADMIN, "mag", 10)
    await service.set_role(ADMIN, "secretariat", 20)
    mag = await service.actor(guild_id=GUILD, user_id=5, role_ids=[10], manage_guild=False)
    sec = await service.actor(guild_id=GUILD, user_id=6, role_ids=[20, 30], manage_guild=False)
    nobody = await service.actor(guild_id=GUILD, user_id=7, role_ids=[30], manage_guild=False)
    assert (mag.is_mag, mag.is_secretariat) == (True, False)
    assert (sec.is_mag, sec.can_act_as_secretariat) == (False, True)
    assert not (nobody.is_mag or nobody.can_act_as_secretariat or nobody.is_admin)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("14d,7d,1d,1h", (20160, 10080, 1440, 60)),
        ("1h 30m", (60, 30)),
        ("2w;1d", (20160, 1440)),
        ("1D, 1d", (1440,)),
        ("120d", (172800,)),
    ],
)
def test_offsets_are_parsed(text: str, minutes: tuple[int, ...]) -> None:
    assert parse_offsets(text) == minutes


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "at least one"),
        ("7", "not an offset"),
        ("1y", "not an offset"),
        ("0d", "zero"),
        ("121d", "at most 120 days"),
        ("1m,2m,3m,4m,5m,6m,7m,8m,9m,10m,11m", "at most 10"),
        ("-1d", "not an offset"),
    ],
)
def test_bad_offsets_are_explained(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_offsets(text)


@given(st.lists(st.integers(min_value=1, max_value=172800), min_size=1, max_size=10))
def test_offsets_survive_a_round_trip(minutes: list[int]) -> None:
    parsed = parse_offsets(format_offsets(minutes))
    assert parsed == tuple(sorted(set(minutes), reverse=True))


@given(st.text(max_size=40))
def test_offset_parser_never_crashes(text: str) -> None:
    try:
        parsed = parse_offsets(text)
    except InvalidInput:
        return
    assert 1 <= len(parsed) <= 10


def test_timezones() -> None:
    assert check_timezone(" america/new_york ") == "America/New_York"
    assert "Europe/Zurich" in suggest_timezones("zur")
    assert suggest_timezones("Europe/")[0].startswith("Europe/")
    assert len(suggest_timezones("a")) == 25


async def test_rules_are_typed_from_what_admins_type(service: ConfigService) -> None:
    settings = await service.set_rule_text(ADMIN, "screening.min_speakers_agreed", " 4 ")
    assert settings.rule("screening.min_speakers_agreed") == 4
    settings = await service.set_rule_text(ADMIN, "proposals.mag_may_submit", "yes")
    assert settings.rule("proposals.mag_may_submit") is True
    settings = await service.set_rule_text(
        ADMIN, "taxonomy.extra_stakeholder_groups", "Academia; Youth;academia"
    )
    assert settings.rule("taxonomy.extra_stakeholder_groups") == ["Academia", "Youth"]
    assert "rules.screening.min_speakers_agreed" in settings.customised
    settings = await service.set_rule_text(ADMIN, "screening.min_speakers_agreed", "default")
    assert (
        settings.rule("screening.min_speakers_agreed")
        == DEFAULTS.rules["screening.min_speakers_agreed"]
    )
    assert "rules.screening.min_speakers_agreed" not in settings.customised


@pytest.mark.parametrize(
    ("name", "text", "error", "message"),
    [
        ("screening.min_speakers_agreed", "three", InvalidInput, "whole number"),
        ("screening.min_speakers_agreed", "-1", InvalidInput, "whole number"),
        ("proposals.mag_may_submit", "maybe", InvalidInput, "true or false"),
        ("no.such.rule", "1", NotFound, "not a rule"),
    ],
)
async def test_bad_rule_values_are_refused(
    service: ConfigService, name: str, text: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        await service.set_rule_text(ADMIN, name, text)
    assert not {c for c in (await service.get(GUILD)).customised if c.startswith("rules.")}


async def test_only_admins_change_rules(service: ConfigService) -> None:
    with pytest.raises(PermissionDenied):
        await service.set_rule_text(MEMBER, "screening.min_speakers_agreed", "2")


async def test_concurrent_changes_to_one_list_or_the_rules_both_land(
    service: ConfigService, db: Database, clock
) -> None:
    await service.set_subthemes(ADMIN, "A; B")
    other = ConfigService(db, clock)  # a second process, with its own cache
    await asyncio.gather(service.add_subtheme(ADMIN, "X"), other.add_subtheme(ADMIN, "Y"))
    await asyncio.gather(
        service.set_rule_text(ADMIN, "screening.min_speakers_agreed", "4"),
        other.set_rule_text(ADMIN, "proposals.max_per_proposer", "2"),
    )
    fresh = await ConfigService(db, clock).get(GUILD)
    assert sorted(fresh.subthemes) == ["A", "B", "X", "Y"]
    assert fresh.rule("screening.min_speakers_agreed") == 4
    assert fresh.rule("proposals.max_per_proposer") == 2

"""Balance statistics: metrics, every warning, the MAG seat rule, funnels and guardrails."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import InvalidInput, NotFound, PermissionDenied
from bot.services.balance import (
    MAG_SCOPE,
    NOT_STATED,
    BalanceEffect,
    DecisionChange,
    FunnelStage,
    Scope,
    Targets,
    balance_decision_hook,
    balance_digest_section,
    build_dimension,
    effect_of,
    evenness,
    funnel_flags,
    guard_decision,
    make_report,
    panellists_scope,
    pct,
    programme_scope,
    shares,
)
from bot.services.config import DEFAULTS
from bot.services.registry import Services
from bot.services.text import plain_line
from storage.audit import recent_events
from storage.balance import Count, SeatCounts
from storage.database import Database
from storage.proposals import get_proposal
from tests.services.factories import (
    ADMIN,
    GUILD,
    MAG,
    NOBODY,
    SECOND_PROPOSER,
    SECRETARIAT,
    agree,
    eligible_panel,
    nominate,
    profile,
    submit,
)

RULES: Mapping[str, Any] = DEFAULTS.rules
PROGRAMME = programme_scope()
CONFIRMED = panellists_scope("confirmed")

Raw = Mapping[str | None, int | tuple[int, int]]


def counts(**dimensions: Raw) -> SeatCounts:
    """Return counts per dimension (an int n is n seats held by n people)."""
    built = {
        key: {value: Count(*n) if isinstance(n, tuple) else Count(n, n) for value, n in raw.items()}
        for key, raw in dimensions.items()
    }
    first = next(iter(built.values()))
    total = Count(sum(c.seats for c in first.values()), sum(c.people for c in first.values()))
    return SeatCounts(total, built)


# Twenty confirmed seats that meet every default target.
BALANCED: dict[str, Raw] = {
    "stakeholder_group": {
        "Government": 5,
        "Civil Society": 5,
        "Private Sector": 4,
        "Technical Community": 4,
        "Intergovernmental Organization": 2,
    },
    "region": {
        "African Group": 4,
        "Asia-Pacific Group": 4,
        "Eastern European Group": 4,
        "Latin American and Caribbean Group (GRULAC)": 4,
        "Western European and Others Group (WEOG)": 4,
    },
    "gender": {"Female": 10, "Male": 9, "Prefer not to say": 1},
    "developing_country": {None: 20},
    "first_time": {None: 20},
    "youth": {None: 20},
    "attendance": {"onsite": 14, "online": 6},
}


def report_with(scope: Scope = PROGRAMME, rules: Mapping[str, Any] = RULES, **changes: Raw):  # type: ignore[no-untyped-def]
    return make_report(counts(**{**BALANCED, **changes}), scope, rules)


def texts(report: Any) -> list[str]:
    return [w.text for w in report.warnings]


def with_rules(**overrides: Any) -> dict[str, Any]:
    return {**RULES, **{f"balance.{k}": v for k, v in overrides.items()}}


# --- metrics ----------------------------------------------------------------------------


@given(st.dictionaries(st.text(min_size=1), st.integers(0, 10_000), min_size=1))
def test_shares_sum_to_one_over_known_values(values: dict[str, int]) -> None:
    result = shares(values)
    if sum(values.values()) == 0:
        assert set(result.values()) == {0.0}
    else:
        assert math.isclose(sum(result.values()), 1.0)
        assert all(0 <= s <= 1 for s in result.values())


@given(st.integers(2, 12), st.integers(1, 10_000))
def test_evenness_is_one_for_a_uniform_spread(categories: int, each: int) -> None:
    assert math.isclose(evenness([each] * categories) or 0, 1.0)


@given(st.integers(1, 10_000), st.integers(0, 8))
def test_evenness_is_zero_for_a_single_group(count: int, empty: int) -> None:
    assert evenness([count] + [0] * empty) == 0.0


@given(st.lists(st.integers(0, 1000), max_size=10))
def test_evenness_stays_between_zero_and_one(values: list[int]) -> None:
    result = evenness(values)
    assert result is None if not any(values) else 0 <= result <= 1


def test_evenness_of_nobody_is_unknown() -> None:
    assert evenness([]) is None and evenness([0, 0]) is None
    assert evenness([3, 1]) == pytest.approx(0.811, abs=1e-3)


def test_an_empty_category_lowers_evenness_a_little_person_moves_it_a_little() -> None:
    assert evenness([10, 10, 0]) == pytest.approx(math.log(2) / math.log(3))
    assert evenness([50, 50, 0, 0]) == pytest.approx(0.5)
    assert evenness([50, 50, 1, 0]) == pytest.approx(0.535, abs=0.001)


seat_values = st.dictionaries(
    st.sampled_from(["Female", "Male", "Prefer not to say", None, ""]),
    st.integers(1, 50).flatmap(lambda seats: st.tuples(st.just(seats), st.integers(1, seats))),
    min_size=1,
)


@given(seat_values)
def test_people_never_exceed_seats_and_shares_add_up(
    raw: dict[str | None, tuple[int, int]],
) -> None:
    dimension = build_dimension("gender", {k: Count(*v) for k, v in raw.items()}, RULES)
    assert dimension.seats == sum(s for s, _ in raw.values())
    for category in dimension.categories:
        assert category.people is not None and category.people <= category.seats
    assert math.isclose(sum(c.share for c in dimension.categories), 1.0)
    # Missing and empty answers are one category, never spread over the others.
    stated = {"Female", "Male", "Prefer not to say"}
    unstated = sum(s for k, (s, _) in raw.items() if k not in stated)
    assert (
        dimension.get(NOT_STATED) is None
        if not unstated
        else dimension.get(NOT_STATED).seats == unstated
    )  # type: ignore[union-attr]


def test_a_dimension_lists_empty_categories_largest_share_and_people() -> None:
    report = report_with(
        stakeholder_group={"Civil Society": (6, 2), "Government": (2, 2), "Private Sector": 2}
    )
    group = report.dimension("stakeholder_group")
    assert group.empty == ("Intergovernmental Organization", "Technical Community")
    assert group.largest is not None and group.largest.name == "Civil Society"
    assert group.largest.share == 0.6
    assert group.people_differ and group.get("Civil Society").people == 2  # type: ignore[union-attr]
    attendance = report.dimension("attendance")
    assert all(c.people is None for c in attendance.categories)


def test_prefer_not_to_say_is_its_own_category_and_never_judged() -> None:
    report = report_with(gender={"Prefer not to say": 20})
    gender = report.dimension("gender")
    assert gender.get("Prefer not to say").share == 1.0  # type: ignore[union-attr]
    assert gender.evenness is None and gender.largest is None
    assert "Prefer not to say" not in gender.empty
    assert not [w for w in report.warnings if w.dimension == "gender"]


# --- warnings ---------------------------------------------------------------------------


def test_a_balanced_programme_has_no_warning() -> None:
    report = report_with()
    assert report.warnings == ()
    assert report.seats == 20 and report.people == 20


def test_no_one_from_a_stakeholder_group() -> None:
    report = report_with(
        stakeholder_group={"Government": 7, "Civil Society": 7, "Private Sector": 6}
    )
    assert "No confirmed panellist from the Technical Community on accepted proposals" in texts(
        report
    )
    # An IGO is often absent: not a warning.
    assert not any("Intergovernmental" in t for t in texts(report))


def test_no_one_from_a_region() -> None:
    report = report_with(
        region={
            "Asia-Pacific Group": 5,
            "Eastern European Group": 5,
            "Latin American and Caribbean Group (GRULAC)": 5,
            "Western European and Others Group (WEOG)": 5,
        }
    )
    assert texts(report) == ["No confirmed panellist from the African Group on accepted proposals"]


def test_a_group_over_its_ceiling() -> None:
    report = report_with(
        CONFIRMED,
        stakeholder_group={
            "Private Sector": 13,
            "Government": 4,
            "Civil Society": 4,
            "Technical Community": 4,
        },
    )
    assert "Private Sector holds 52% of confirmed seats (target at most 40%)" in texts(report)


def test_a_group_under_its_floor() -> None:
    report = report_with(
        stakeholder_group={
            "Government": 1,
            "Civil Society": 7,
            "Private Sector": 6,
            "Technical Community": 6,
        }
    )
    assert texts(report) == [
        "Government holds only 5% of confirmed seats on accepted proposals (target at least 10%)"
    ]


def test_a_region_over_its_ceiling() -> None:
    report = report_with(
        region={
            "African Group": 3,
            "Asia-Pacific Group": 3,
            "Eastern European Group": 2,
            "Latin American and Caribbean Group (GRULAC)": 3,
            "Western European and Others Group (WEOG)": 9,
        }
    )
    assert texts(report) == [
        "Western European and Others Group (WEOG) holds 45% of confirmed seats on accepted "
        "proposals (target at most 40%)"
    ]


def test_a_gender_over_its_ceiling() -> None:
    report = report_with(gender={"Male": 13, "Female": 6, "Prefer not to say": 1})
    assert texts(report) == [
        "Male holds 65% of confirmed seats on accepted proposals (target at most 60%)"
    ]


@pytest.mark.parametrize(
    ("key", "rule", "name"),
    [
        ("developing_country", "developing_share_min", "Developing country"),
        ("first_time", "first_time_share_min", "First-time"),
        ("youth", "youth_share_min", "Youth"),
    ],
)
def test_floors_for_developing_countries_first_timers_and_youth(
    key: str, rule: str, name: str
) -> None:
    off = report_with(**{key: {"yes": 4, "no": 10, None: 6}})
    assert off.warnings == ()  # these floors are off by default
    on = report_with(rules=with_rules(**{rule: 30}), **{key: {"yes": 4, "no": 10, None: 6}})
    assert texts(on) == [
        f"{name} holds only 20% of confirmed seats on accepted proposals "
        "(target at least 30%; 6 not stated)"
    ]


def test_no_warning_below_the_minimum_number_of_seats() -> None:
    report = make_report(
        counts(
            stakeholder_group={"Private Sector": 9},
            region={"African Group": 9},
            gender={"Male": 9},
            attendance={"onsite": 9},
        ),
        PROGRAMME,
        RULES,
    )
    assert report.warnings == () and not report.judged
    assert report.notes == (
        "Targets apply from 10 seats; this counts 9, so no target is judged yet.",
    )
    nobody = make_report(SeatCounts(), PROGRAMME, RULES)
    assert nobody.notes == ("Nobody is counted yet: no confirmed seats on accepted proposals.",)
    assert not nobody.judged


def test_declined_nominations_are_counted_not_judged() -> None:
    report = report_with(panellists_scope("declined"), gender={"Male": 20})
    assert report.warnings == ()
    assert report.notes == ("Targets do not apply to declined nominations.",)


def test_targets_come_from_the_guild_rules() -> None:
    heavy = {"Private Sector": 11, "Government": 3, "Civil Society": 3, "Technical Community": 3}
    assert texts(report_with(stakeholder_group=heavy))  # 55% > 40%
    assert not texts(report_with(rules=with_rules(group_share_max=60), stakeholder_group=heavy))
    assert not texts(
        report_with(rules=with_rules(group_share_max=0), stakeholder_group=heavy)
    )  # off
    # A value that is not a number falls back to the default.
    assert Targets.from_rules(with_rules(group_share_max="lots")).group_share_max == 40
    assert Targets.from_rules(with_rules(every_region="yes")).every_region is True
    no_regions = report_with(rules=with_rules(every_region=False), region={"African Group": 8})
    assert not [w for w in no_regions.warnings if w.rule == "balance.every_region"]


def test_a_share_just_over_the_target_is_not_rounded_down() -> None:
    assert pct(0.405, against=40) == "40.5%"
    assert pct(0.52, against=40) == "52%"
    assert pct(0.40, against=40) == "40%"
    assert pct(0.004) == "<1%" and pct(0) == "0%"


def test_every_target_is_drawn_on_the_chart() -> None:
    report = report_with(rules=with_rules(youth_share_min=25))
    drawn = {(t.dimension, t.kind, t.category) for t in report.targets}
    assert drawn == {
        ("stakeholder_group", "max", None),
        ("stakeholder_group", "min", None),
        ("region", "max", None),
        ("gender", "max", None),
        ("youth", "min", "Youth"),
    }


# --- the MAG seat rule ------------------------------------------------------------------

MAG_REGIONS: Raw = {
    "African Group": 8,
    "Asia-Pacific Group": 8,
    "Eastern European Group": 8,
    "Latin American and Caribbean Group (GRULAC)": 8,
    "Western European and Others Group (WEOG)": 8,
}


def mag_report(groups: Raw, regions: Raw = MAG_REGIONS) -> Any:
    total = sum(n if isinstance(n, int) else n[0] for n in groups.values())
    return make_report(
        counts(
            stakeholder_group=groups,
            region=regions,
            gender={"Female": total // 2, "Male": total - total // 2},
        ),
        MAG_SCOPE,
        RULES,
        dimensions=("stakeholder_group", "region", "gender"),
    )


def test_the_mag_seat_rule_met() -> None:
    report = mag_report(
        {"Government": 16, "Civil Society": 8, "Private Sector": 8, "Technical Community": 8}
    )
    assert report.warnings == ()
    assert len(report.dimensions) == 3


def test_government_over_forty_percent_of_mag_seats() -> None:
    report = mag_report(
        {"Government": 20, "Civil Society": 7, "Private Sector": 7, "Technical Community": 6}
    )
    assert texts(report) == ["Government holds 50% of voting MAG seats (rule: at most 40%)"]


def test_the_rest_is_shared_equally_within_tolerance() -> None:
    report = mag_report(
        {"Government": 16, "Civil Society": 14, "Private Sector": 4, "Technical Community": 6}
    )
    assert texts(report) == [
        "Civil Society holds 35% of voting MAG seats; an equal share of the non-government "
        "seats would be 20% (within 5 points)",
        "Private Sector holds 10% of voting MAG seats; an equal share of the non-government "
        "seats would be 20% (within 5 points)",
    ]


def test_igo_members_are_observers_outside_the_rule() -> None:
    report = mag_report(
        {
            "Government": 16,
            "Civil Society": 8,
            "Private Sector": 8,
            "Technical Community": 8,
            "Intergovernmental Organization": 4,
        },
        {**MAG_REGIONS, "African Group": 12},
    )
    assert report.warnings == ()
    assert any("observer seats" in note for note in report.notes)


def test_mag_regions_and_gender_are_judged_too() -> None:
    regions = {**MAG_REGIONS, "Eastern European Group": 0, "African Group": 16}
    report = mag_report(
        {"Government": 16, "Civil Society": 8, "Private Sector": 8, "Technical Community": 8},
        regions,
    )
    assert "No MAG member from the Eastern European Group" in texts(report)


# --- the funnel -------------------------------------------------------------------------


def stage(label: str, scope_phrase: str, groups: Raw) -> FunnelStage:
    scope = Scope("funnel", label, scope_phrase, "one")
    report = make_report(
        counts(stakeholder_group=groups), scope, RULES, dimensions=("stakeholder_group",)
    )
    return FunnelStage(label, report)


def test_a_share_falling_through_the_funnel_is_flagged() -> None:
    stages = [
        stage("Nominated", "nominations", {"Civil Society": 40, "Government": 60}),
        stage("Invited", "invited seats", {"Civil Society": 30, "Government": 50}),
        stage("Confirmed", "confirmed seats", {"Civil Society": 11, "Government": 39}),
    ]
    flags = funnel_flags(stages, 10, 10)
    assert [f.text for f in flags] == [
        "Civil Society falls from 40% of nominations to 22% of confirmed seats "
        "(18 points; flagged above 10)"
    ]
    assert funnel_flags(stages, 20, 10) == []  # a drop of 18 is within 20
    assert funnel_flags(stages, 10, 60) == []  # too few confirmed seats to say


# --- the service, on a real database ------------------------------------------------------


@pytest.fixture
def services(db: Database, clock) -> Services:  # type: ignore[no-untyped-def]
    return Services.create(db, clock)


async def accept(services: Services, number: int) -> None:
    await services.proposals.set_status(SECRETARIAT, number, "under_review")
    await services.proposals.set_status(SECRETARIAT, number, "accepted", confirmed=True)


async def test_programme_counts_confirmed_seats_on_accepted_proposals(services: Services) -> None:
    await submit(services)
    await submit(services, SECOND_PROPOSER, title="Second")
    await eligible_panel(services, 1)
    await eligible_panel(services, 2, prefix="Second ")
    await nominate(services, 1, "Iris Invited", stakeholder="Private Sector")  # not confirmed
    await accept(services, 1)

    programme = await services.balance.programme(MAG)
    assert (programme.seats, programme.people) == (4, 4)
    group = programme.dimension("stakeholder_group")
    assert group.share_of("Civil Society") == 0.25
    assert programme.names is None
    everything = await services.balance.programme(MAG, "all")
    assert everything.seats == 8
    assert (await services.balance.programme(MAG, "accepted", "open_forum")).seats == 0
    nominations = await services.balance.panellists(MAG)
    assert nominations.seats == 9
    invited = await services.balance.panellists(MAG, "nominated")
    assert invited.seats == 1


async def test_names_behind_the_numbers_are_for_the_secretariat_only(services: Services) -> None:
    await submit(services)
    await eligible_panel(services, 1)

    for_mag = await services.balance.proposal(MAG, 1)
    for_secretariat = await services.balance.proposal(SECRETARIAT, 1)

    assert for_mag.names is None and for_mag.seats == 4
    assert for_secretariat.names is not None
    assert sorted(n.name for n in for_secretariat.names) == ["Amina", "Bruno", "Chen", "Dana"]
    assert for_secretariat.scope.title == "WS #1: everyone on the session"


async def test_only_mag_and_secretariat_see_balance(services: Services) -> None:
    for call in (
        services.balance.programme(NOBODY),
        services.balance.panellists(NOBODY),
        services.balance.mag(NOBODY),
        services.balance.funnel(NOBODY),
        services.balance.proposal(NOBODY, 1),
    ):
        with pytest.raises(PermissionDenied, match="MAG members and the secretariat"):
            await call
    await services.balance.programme(ADMIN)  # admins act as the secretariat


async def test_bad_choices_are_refused_with_the_options(services: Services) -> None:
    with pytest.raises(InvalidInput, match="Use one of: submitted"):
        await services.balance.programme(MAG, "approved")
    with pytest.raises(InvalidInput, match="not a session kind"):
        await services.balance.programme(MAG, "accepted", "keynote")
    with pytest.raises(InvalidInput, match="nomination status"):
        await services.balance.panellists(MAG, "maybe")
    with pytest.raises(NotFound, match="no proposal #99"):
        await services.balance.proposal(MAG, 99)


async def test_mag_composition_comes_from_profiles(services: Services) -> None:
    from tests.services.factories import mag

    for user_id, group in enumerate(["Government"] * 3 + ["Civil Society"] * 2, start=200):
        await profile(services, mag(user_id), group=group)
    report = await services.balance.mag(MAG)
    assert (report.seats, report.people) == (5, 5)
    assert report.dimension("stakeholder_group").share_of("Government") == 0.6
    assert report.warnings == ()  # five members: below the minimum for warnings


async def test_funnel_stages(services: Services) -> None:
    await submit(services)
    await eligible_panel(services, 1)
    await nominate(services, 1, "Nadia", stakeholder="Private Sector")
    await accept(services, 1)

    funnel = await services.balance.funnel(MAG)

    assert [s.report.seats for s in funnel.nominations] == [5, 4, 4]
    assert [s.report.seats for s in funnel.selection] == [5, 5]
    assert funnel.flags == ()  # too few seats to flag anything


# --- guardrails at decision time ------------------------------------------------------------


# Two more Private Sector panellists, from a region and of a gender the panel can take.
PRIVATE: dict[str, str] = {
    "stakeholder": "Private Sector",
    "region": "Latin American and Caribbean Group (GRULAC)",
    "gender": "Male",
}


async def small_programme(services: Services) -> None:
    """An accepted WS #1 with four confirmed seats, and targets that apply from 4 seats."""
    await services.config.set_rule(ADMIN, "balance.min_seats", 4)
    await services.config.set_rule(ADMIN, "balance.every_region", False)
    await submit(services)
    await eligible_panel(services, 1)
    await accept(services, 1)


async def test_confirming_a_panellist_shows_the_effect_and_the_breach(
    services: Services, db: Database
) -> None:
    await small_programme(services)
    first = await nominate(services, 1, "Pia", **PRIVATE)
    await agree(services, first.entry.nominee.participation_id)
    second = await nominate(services, 1, "Quentin", **PRIVATE)
    pid = second.entry.nominee.participation_id
    settings = await services.config.get(GUILD)
    change = DecisionChange("participation", pid, "nominated", "confirmed")

    async with db.write() as session:
        effect = await effect_of(session, guild_id=GUILD, change=change, rules=settings.rules)

    assert (effect.seats_before, effect.seats_after) == (5, 6)
    assert (effect.people_before, effect.people_after) == (5, 6)
    assert [w.text for w in effect.new_warnings] == [
        "Private Sector holds 50% of confirmed seats on accepted proposals (target at most 40%)"
    ]
    shift = next(s for s in effect.shifts if s.dimension == "Stakeholder group")
    assert (shift.category, shift.before, shift.after) == ("Private Sector", 0.4, 0.5)
    assert effect.breached and effect.changed

    # Counted the same once the status is written (the override covers both orders).
    await agree(services, pid)
    async with db.write() as session:
        again = await effect_of(session, guild_id=GUILD, change=change, rules=settings.rules)
    assert again == effect


async def test_a_breach_is_audited_with_its_words(services: Services, db: Database) -> None:
    await small_programme(services)
    first = await nominate(services, 1, "Pia", **PRIVATE)
    await agree(services, first.entry.nominee.participation_id)
    second = await nominate(services, 1, "Quentin", **PRIVATE)
    settings = await services.config.get(GUILD)
    effects = []
    for before, after in (("nominated", "invited"), ("invited", "confirmed")):
        change = DecisionChange(
            "participation", second.entry.nominee.participation_id, before, after
        )
        async with db.write() as session:
            effects.append(
                await guard_decision(
                    session,
                    guild_id=GUILD,
                    actor_id=SECRETARIAT.user_id,
                    target="proposal:1",
                    change=change,
                    rules=settings.rules,
                )
            )
    assert not effects[0].changed and not effects[0].breached  # not a programme seat yet
    assert effects[1].breached
    async with db.read() as session:
        events = await recent_events(session, guild_id=GUILD, target="proposal:1")
    (warning,) = [e for e in events if e.action == "balance.warning"]
    assert warning.after["warnings"] == [effects[1].new_warnings[0].text]
    assert warning.after["rules"] == ["balance.group_share_max"]
    assert warning.actor_id == SECRETARIAT.user_id


async def test_the_decision_hook_answers_and_audits_confirmations_and_acceptances(
    services: Services, db: Database
) -> None:
    services.panellists.on_decision = balance_decision_hook
    services.proposals.on_decision = balance_decision_hook
    await services.config.set_rule(ADMIN, "balance.min_seats", 4)
    await services.config.set_rule(ADMIN, "balance.every_region", False)
    await submit(services)
    await eligible_panel(services, 1)
    await services.proposals.set_status(SECRETARIAT, 1, "under_review")

    accepted = await services.proposals.set_status(SECRETARIAT, 1, "accepted", confirmed=True)
    assert isinstance(accepted.effect, BalanceEffect)
    assert (accepted.effect.seats_before, accepted.effect.seats_after) == (0, 4)

    await agree(
        services, (await nominate(services, 1, "Pia", **PRIVATE)).entry.nominee.participation_id
    )
    quentin = await nominate(services, 1, "Quentin", **PRIVATE)
    confirmed = await agree(services, quentin.entry.nominee.participation_id)
    effect = confirmed.effect
    assert isinstance(effect, BalanceEffect) and effect.breached
    assert confirmed.after == "confirmed"  # the decision is made all the same
    async with db.read() as session:
        events = await recent_events(session, guild_id=GUILD, target="proposal:1")
    (warning,) = [e for e in events if e.action == "balance.warning"]
    assert warning.after["warnings"] == [
        "Private Sector holds 50% of confirmed seats on accepted proposals (target at most 40%)"
    ]


async def test_accepting_and_declining_move_the_programme(services: Services, db: Database) -> None:
    await submit(services)
    ids = await eligible_panel(services, 1)
    await services.proposals.set_status(SECRETARIAT, 1, "under_review")
    settings = await services.config.get(GUILD)
    async with db.read() as session:
        proposal = await get_proposal(session, guild_id=GUILD, number=1)
    assert proposal is not None and proposal.id is not None

    async with db.write() as session:
        accepting = await effect_of(
            session,
            guild_id=GUILD,
            change=DecisionChange("proposal", proposal.id, "under_review", "accepted"),
            rules=settings.rules,
        )
    assert (accepting.seats_before, accepting.seats_after) == (0, 4)

    await services.proposals.set_status(SECRETARIAT, 1, "accepted", confirmed=True)
    async with db.write() as session:
        declining = await effect_of(
            session,
            guild_id=GUILD,
            change=DecisionChange("participation", ids[0], "confirmed", "declined"),
            rules=settings.rules,
        )
        invited_declines = await effect_of(
            session,
            guild_id=GUILD,
            change=DecisionChange("participation", ids[0], "invited", "declined"),
            rules=settings.rules,
        )
    assert (declining.seats_before, declining.seats_after) == (4, 3)
    assert not invited_declines.changed  # an invited nominee was never a programme seat


async def test_the_digest_section_lists_current_warnings(services: Services, db: Database) -> None:
    assert any(spec.name == "balance" for spec in services.digests.sections)
    settings = await services.config.get(GUILD)
    async with db.read() as session:
        empty = await balance_digest_section(session, GUILD, None, None, settings)  # type: ignore[arg-type]
    assert empty is None

    await small_programme(services)
    for name in ("Pia", "Quentin"):
        nomination = await nominate(services, 1, name, **PRIVATE)
        await agree(services, nomination.entry.nominee.participation_id)
    settings = await services.config.get(GUILD)
    async with db.read() as session:
        section = await balance_digest_section(session, GUILD, None, None, settings)  # type: ignore[arg-type]
    assert section is not None and section.title == "Balance warnings"
    assert (
        "Programme: Private Sector holds 50% of confirmed seats on accepted proposals "
        "(target at most 40%)." in [plain_line(line) for line in section.lines]
    )

"""The rest of the trust work: confirmations, roles, the MAG roster, small counts, links."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from bot.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from bot.render.balance import balance_embed, effect_lines
from bot.render.text import render_line
from bot.services.auth import Actor
from bot.services.balance import compare, make_report, programme_scope
from bot.services.config import DEFAULTS
from bot.services.registry import Services
from storage import migrate
from storage.balance import Count, SeatCounts
from storage.chasing import unfinished_reviews
from storage.database import Database
from tests.services.factories import (
    ADMIN,
    GUILD,
    MAG,
    MAG2,
    NOBODY,
    PROPOSER,
    SECRETARIAT,
    agree,
    eligible_panel,
    nominate,
    profile,
    submit,
)


@pytest.fixture
def services(db: Database, clock) -> Services:
    return Services.create(db, clock)


async def test_a_request_waits_for_its_own_button_and_runs_once(services: Services, clock) -> None:
    asked = await services.pending.ask(SECRETARIAT, "proposal.status", {"number": 1})
    with pytest.raises(NotFound):
        await services.pending.take(
            guild_id=GUILD, user_id=SECRETARIAT.user_id, action_id=asked.id, token="guessed"
        )
    with pytest.raises(PermissionDenied, match="for the person who asked"):
        await services.pending.take(
            guild_id=GUILD, user_id=NOBODY.user_id, action_id=asked.id, token=asked.token
        )
    taken = await services.pending.take(
        guild_id=GUILD, user_id=SECRETARIAT.user_id, action_id=asked.id, token=asked.token
    )
    assert (taken.kind, dict(taken.payload)) == ("proposal.status", {"number": 1})
    with pytest.raises(Conflict, match="already done"):
        await services.pending.take(
            guild_id=GUILD, user_id=SECRETARIAT.user_id, action_id=asked.id, token=asked.token
        )
    late = await services.pending.ask(SECRETARIAT, "person.forget", {"person": 1})
    clock.now += timedelta(hours=1)
    with pytest.raises(Conflict, match="expired"):
        await services.pending.take(
            guild_id=GUILD, user_id=SECRETARIAT.user_id, action_id=late.id, token=late.token
        )


async def test_everyone_and_managed_roles_are_refused(services: Services) -> None:
    with pytest.raises(InvalidInput, match="@everyone cannot be the mag role"):
        await services.config.set_role(ADMIN, "mag", GUILD)
    with pytest.raises(InvalidInput, match="@everyone"):
        await services.config.set_role(ADMIN, "secretariat", 5, everyone=True)
    with pytest.raises(InvalidInput, match="managed by an integration"):
        await services.config.set_role(ADMIN, "mag", 5, managed=True)
    settings = await services.config.set_role(ADMIN, "mag", 6)
    assert settings.roles == {"mag": 6, "secretariat": None}


async def test_a_member_without_the_role_is_not_assigned_counted_or_chased(
    services: Services, db: Database
) -> None:
    await services.config.set_role(ADMIN, "mag", 6)
    await submit(services)
    for member in (MAG, MAG2):
        await profile(services, member)
    assert (await services.balance.mag(SECRETARIAT)).seats == 2
    assert await services.profiles.record_roles(GUILD, {MAG2.user_id: False}) == 1
    assert (await services.balance.mag(SECRETARIAT)).seats == 1
    result = await services.reviews.assign(SECRETARIAT, 2, confirmed=True)
    assert {m for _, m in result.plan.assignments} == {MAG.user_id}
    # Seen acting without the role (any interaction), and back with it.
    await services.profiles.observe(Actor(guild_id=GUILD, user_id=MAG.user_id))  # role gone
    assert (await services.balance.mag(SECRETARIAT)).seats == 0
    await services.profiles.observe(MAG2)
    assert (await services.balance.mag(SECRETARIAT)).seats == 1
    profile_view = await services.profiles.show(SECRETARIAT, MAG.user_id)
    assert not profile_view.has_role  # the profile is kept
    async with db.read() as session:
        chased = await unfinished_reviews(session, guild_id=GUILD, statuses=("submitted",))
    assert chased == []  # MAG (assigned) no longer holds the role


async def test_gender_of_a_few_people_is_for_the_secretariat_only(services: Services) -> None:
    await submit(services)
    pid = (await nominate(services, 1, "Only One", gender="Non-binary")).entry.nominee
    await agree(services, pid.participation_id)
    for_mag = await services.balance.proposal(MAG, 1)
    assert "gender" not in {d.key for d in for_mag.dimensions}
    assert any("shown to the secretariat only" in note for note in for_mag.notes)
    assert "Non-binary" not in balance_embed(for_mag).to_dict().__repr__()
    for_secretariat = await services.balance.proposal(SECRETARIAT, 1)
    assert for_secretariat.dimension("gender").get("Non-binary").seats == 1  # type: ignore[union-attr]


async def test_a_small_group_hides_the_whole_dimension_and_its_numbers(
    services: Services,
) -> None:
    # 30 people, one of them non-binary, 20 women: any share or count of the
    # others (with the total) would give the hidden one back, and so would
    # "Female holds 67% (target at most 60%)".
    await services.config.set_rule(ADMIN, "proposals.max_per_proposer", 0)
    await submit(services)
    for i in range(30):
        gender = "Non-binary" if i == 0 else ("Female" if i <= 20 else "Male")
        n = await nominate(services, 1, f"P{i}", gender=gender)
        await agree(services, n.entry.nominee.participation_id)
    report = await services.balance.proposal(MAG, 1)
    assert "gender" not in {d.key for d in report.dimensions}
    assert all(t.dimension != "gender" for t in report.targets)
    gender_warnings = [w for w in report.warnings if w.dimension == "gender"]
    assert [w.text for w in gender_warnings] == [
        "Gender: a target is not met (the secretariat sees the details)"
    ]
    text = repr(balance_embed(report).to_dict())
    for leak in ("Non-binary", "Female", "67%", "20 ", "Male"):
        assert leak not in text, leak
    full = await services.balance.proposal(SECRETARIAT, 1)
    assert full.dimension("gender").get("Non-binary").seats == 1  # type: ignore[union-attr]
    assert any("Female holds" in w.text for w in full.warnings)


async def test_a_dimension_where_every_group_is_large_enough_is_shown_in_full(
    services: Services,
) -> None:
    await services.config.set_rule(ADMIN, "proposals.max_per_proposer", 0)
    await submit(services)
    for i in range(20):
        n = await nominate(services, 1, f"P{i}", gender="Female" if i % 2 else "Male")
        await agree(services, n.entry.nominee.participation_id)
    gender = (await services.balance.proposal(MAG, 1)).dimension("gender")
    assert [(c.name, c.seats) for c in gender.categories if c.seats] == [
        ("Female", 10),
        ("Male", 10),
    ]


def test_nothing_is_called_met_when_nothing_was_judged() -> None:
    scope = programme_scope()

    def count(seats: int) -> SeatCounts:
        return SeatCounts(
            total=Count(seats, seats),
            by_dimension={"stakeholder_group": {"Private Sector": Count(seats, seats)}},
        )

    few = make_report(count(3), scope, DEFAULTS.rules)
    assert not few.judged and not few.warnings
    assert "Every balance target is met" not in balance_embed(few).description  # type: ignore[operator]
    many = make_report(count(12), scope, DEFAULTS.rules)
    assert many.judged and many.warnings
    effect = compare(many, few)
    assert effect.resolved == ()  # fewer seats than judged: not "now met"
    assert not any("Now met" in line for line in effect_lines(effect))


@pytest.mark.parametrize(
    "link",
    ["https://", "https://[::1", "http://x", "ftp://a.org", "https://a b.org", "https://a.org/<x>"],
)
async def test_a_deadline_link_must_be_a_real_web_address(services: Services, link: str) -> None:
    await services.config.set_channel(ADMIN, "reminders", 9)
    with pytest.raises(InvalidInput, match="full web address"):
        await services.deadlines.add(SECRETARIAT, title="Call", due="2027-04-01 12:00", link=link)
    assert await services.deadlines.list(SECRETARIAT) == []


async def test_invisible_characters_are_dropped_from_every_free_text(services: Services) -> None:
    await services.config.set_channel(ADMIN, "reminders", 9)
    view = await services.deadlines.add(
        SECRETARIAT, title="Call\x00 for\u202e inputs\u200b", due="2027-04-01 12:00"
    )
    assert view.title == "Call for inputs"
    settings = await services.config.set_cycle(ADMIN, "IGF\x07 2027\u2066")
    assert settings.cycle_name == "IGF 2027"
    settings = await services.config.set_subthemes(ADMIN, "Data\u200b Trust; AI\x1b")
    assert settings.subthemes == ("Data Trust", "AI")
    with pytest.raises(InvalidInput, match="whole number"):
        await services.config.set_rule_text(ADMIN, "limits.title_max", "²")


async def test_a_typed_value_in_a_refusal_cannot_break_out(services: Services) -> None:
    with pytest.raises(InvalidInput) as refused:
        await services.config.set_timezone(ADMIN, "`[x](https://evil.example)` <@1>")
    message = str(refused.value)
    assert message.startswith("`ˋ[x](https://evil.example)ˋ <@1>`")  # one code span


async def test_the_migration_turns_typed_links_into_claims(tmp_path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/old.db")
    try:
        await migrate.upgrade(db, "0002_programme")
        async with db.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO proposal (id, guild_id, number, kind, status, title, description,"
                    " policy_questions, expected_outcomes, hybrid_plan, format, duration, subtheme,"
                    " proposer_id, proposer_name, proposer_is_mag, created_at, updated_at) VALUES "
                    "(1, 5, 1, 'workshop', 'submitted', 't', 'd', 'p', 'e', 'h', 'Panel', 60, 'AI',"
                    " 9, 'x', 0, '2027-01-01', '2027-01-01')"
                )
            )
            for pid, user, consent in ((1, 71, "given"), (2, 72, None), (3, 73, "refused")):
                await conn.execute(
                    text(
                        "INSERT INTO person (id, guild_id, key, name, stakeholder_group, region,"
                        " gender, user_id, contact, created_at, updated_at) VALUES "
                        f"({pid}, 5, 'k{pid}', 'N{pid}', 'Government', 'African Group', 'Male',"
                        f" {user}, 'c{pid}@x.org', '2027-01-01', '2027-01-01')"
                    )
                )
                await conn.execute(
                    text(
                        "INSERT INTO participation (id, guild_id, proposal_id, person_id, role,"
                        " attendance, status, agreed_in_principle, consent, created_at, updated_at)"
                        f" VALUES ({pid}, 5, 1, {pid}, 'speaker', 'onsite',"
                        # An organiser had set #3 confirmed over the nominee's decline.
                        f" '{'confirmed' if pid == 3 else 'invited'}', {int(pid == 3)},"
                        f" {repr(consent) if consent else 'NULL'}, '2027-01-01', '2027-01-01')"
                    )
                )
        await migrate.upgrade(db)
        async with db.engine.connect() as conn:
            people = (
                await conn.execute(text("SELECT id, user_id, link_source, contact FROM person"))
            ).all()
            seats = (
                await conn.execute(
                    text("SELECT id, invitee_id, answered_by, contact FROM participation")
                )
            ).all()
            statuses = (
                await conn.execute(
                    text("SELECT id, status, agreed_in_principle FROM participation")
                )
            ).all()
        assert sorted(people) == [
            (1, 71, "invitation", None),
            (2, None, None, None),
            (3, 73, "invitation", None),
        ]
        assert sorted(seats) == [
            (1, 71, 71, "c1@x.org"),
            (2, 72, None, "c2@x.org"),
            (3, 73, 73, "c3@x.org"),
        ]
        # 0005: the nominee's answer decides the status, not an organiser's word.
        assert sorted((i, st, bool(a)) for i, st, a in statuses) == [
            (1, "confirmed", True),
            (2, "invited", False),
            (3, "declined", False),
        ]
    finally:
        await db.dispose()


async def test_the_digest_lists_screened_out_proposals_as_they_stand_now(
    services: Services,
) -> None:
    await services.config.set_channel(ADMIN, "digest", 8)
    await submit(services)
    await submit(services, PROPOSER, title="Second")
    await services.screening.screen(SECRETARIAT, apply=True, confirmed=True)
    await eligible_panel(services, 1)
    digest = await services.digests.preview(SECRETARIAT)
    (section,) = [s for s in digest.sections if s.name == "screening"]
    lines = [render_line(line) for line in section.lines]
    assert any(line.startswith("WS #1: passes now") for line in lines)
    assert any(line.startswith("WS #2: ") and "speakers agreed" in line for line in lines)


async def test_the_digest_shows_balance_as_a_channel_may_see_it(
    services: Services, db: Database
) -> None:
    from bot.services.balance import balance_digest_section
    from bot.services.text import plain_line
    from tests.services.test_balance import small_programme

    await small_programme(services)  # four seats, one of them non-binary
    for name in ("Fatou", "Grace"):
        extra = await nominate(services, 1, name, gender="Female")
        await agree(services, extra.entry.nominee.participation_id)
    settings = await services.config.get(GUILD)
    async with db.read() as session:
        section = await balance_digest_section(session, GUILD, None, None, settings)  # type: ignore[arg-type]
    assert section is not None
    lines = [plain_line(line) for line in section.lines]
    assert "Programme: Gender: a target is not met (the secretariat sees the details)." in lines
    assert not any("Female" in line or "Non-binary" in line for line in lines)
    # The secretariat's own count still says which and how much.
    full = await services.balance.programme(SECRETARIAT)
    assert any(w.text.startswith("Female holds 67%") for w in full.warnings)


async def test_a_decisions_effect_leaves_out_gender_for_all_but_the_secretariat(
    services: Services, db: Database
) -> None:
    from bot.services.balance import DecisionChange, effect_of
    from tests.services.test_balance import small_programme

    await small_programme(services)
    extra = await nominate(services, 1, "Fatou", gender="Female")
    pid = extra.entry.nominee.participation_id
    settings = await services.config.get(GUILD)
    change = DecisionChange("participation", pid, "nominated", "confirmed")
    async with db.read() as session:
        effect = await effect_of(session, guild_id=GUILD, change=change, rules=settings.rules)
    assert any(s.key == "gender" for s in effect.shifts)
    public = effect.without_sensitive()
    assert not any(s.key == "gender" for s in public.shifts)
    assert all(w.dimension != "gender" for w in (*public.new_warnings, *public.still))
    assert "Female" not in " ".join(effect_lines(public))


async def test_an_admin_added_group_name_never_renders_as_markup(services: Services) -> None:
    name = "[click](https://evil.example) @everyone"
    await services.config.set_rule_text(ADMIN, "taxonomy.extra_stakeholder_groups", name)
    await services.config.set_rule(ADMIN, "proposals.max_per_proposer", 0)
    await services.config.set_rule(ADMIN, "balance.min_seats", 3)
    await submit(services)
    for i in range(3):
        n = await nominate(services, 1, f"P{i}", stakeholder=name)
        await agree(services, n.entry.nominee.participation_id)
    report = await services.balance.proposal(SECRETARIAT, 1)
    assert any(w.category == name for w in report.warnings)
    text = repr(balance_embed(report).to_dict())
    assert "[click](https://evil.example)" not in text
    assert "\\\\[click\\\\]" in text  # escaped, as typed

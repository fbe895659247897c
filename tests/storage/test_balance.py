"""The balance counts, on SQLite and PostgreSQL: seats, people, filters, overrides."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.balance import (
    NO,
    YES,
    Count,
    Selection,
    member_counts,
    seat_counts,
    seat_counts_query,
)
from storage.database import Database
from storage.profiles import MagMember
from tests.storage.balance_seed import GUILD, OTHER, P, next_guild, person, proposal, seat


async def count(db: Database, *selections: Selection, guild_id: int = GUILD):  # type: ignore[no-untyped-def]
    async with db.read() as session:
        return await seat_counts(session, guild_id=guild_id, selections=list(selections))


PROGRAMME = Selection(participation_statuses=("confirmed",), proposal_statuses=("accepted",))


async def test_one_person_on_three_sessions_is_one_person_and_three_seats(db: Database) -> None:
    amina = await person(db, P("Amina", developing=True, first_time=False))
    bruno = await person(db, P("Bruno", group="Private Sector", region="Asia-Pacific Group"))
    for _ in range(3):
        await seat(db, await proposal(db), amina)
    await seat(db, await proposal(db), bruno, attendance="online")

    (counts,) = await count(db, PROGRAMME)

    assert counts.total == Count(seats=4, people=2)
    groups = counts.by_dimension["stakeholder_group"]
    assert groups == {"Civil Society": Count(3, 1), "Private Sector": Count(1, 1)}
    assert counts.by_dimension["developing_country"] == {YES: Count(3, 1), None: Count(1, 1)}
    assert counts.by_dimension["first_time"] == {NO: Count(3, 1), None: Count(1, 1)}
    assert counts.by_dimension["attendance"] == {"onsite": Count(3, 1), "online": Count(1, 1)}


async def test_filters_on_statuses_kinds_and_one_proposal(db: Database) -> None:
    amina = await person(db, P("Amina"))
    accepted = await proposal(db)
    forum = await proposal(db, kind="open_forum")
    rejected = await proposal(db, status="rejected")
    await seat(db, accepted, amina)
    await seat(db, accepted, await person(db, P("Chen")), status="invited")
    await seat(db, forum, amina)
    await seat(db, rejected, amina)

    programme, workshops, one, invited, everything = await count(
        db,
        PROGRAMME,
        Selection(participation_statuses=("confirmed",), kinds=("workshop",)),
        Selection(proposal_id=accepted),
        Selection(participation_statuses=("invited",)),
        Selection(),
    )

    assert programme.total == Count(2, 1)
    assert workshops.total == Count(2, 1)  # the accepted and the rejected workshop
    assert one.total == Count(2, 2)
    assert invited.total == Count(1, 1)
    assert everything.total == Count(4, 2)


async def test_other_guilds_are_never_counted(db: Database) -> None:
    mine = await proposal(db)
    theirs = await proposal(db, guild_id=OTHER)
    await seat(db, mine, await person(db, P("Amina")))
    stranger = await person(db, P("Zoe"), guild_id=OTHER)
    await seat(db, theirs, stranger, guild_id=OTHER)

    (counts,) = await count(db, Selection())

    assert counts.total == Count(1, 1)
    (theirs_counts,) = await count(db, Selection(), guild_id=OTHER)
    assert theirs_counts.total == Count(1, 1)


async def test_an_empty_guild_counts_zero(db: Database) -> None:
    (counts,) = await count(db, PROGRAMME)
    assert counts.total == Count(0, 0)
    assert counts.by_dimension == {}


async def test_overrides_count_a_decision_before_and_after_in_one_query(db: Database) -> None:
    accepted = await proposal(db)
    review = await proposal(db, status="under_review")
    amina = await person(db, P("Amina"))
    bruno = await person(db, P("Bruno", group="Private Sector"))
    await seat(db, accepted, amina)
    invited = await seat(db, accepted, bruno, status="invited")
    await seat(db, review, bruno)

    before, confirmed, accepted_too = await count(
        db,
        PROGRAMME,
        Selection(
            participation_statuses=("confirmed",),
            proposal_statuses=("accepted",),
            participation_override=(invited, "confirmed"),
        ),
        Selection(
            participation_statuses=("confirmed",),
            proposal_statuses=("accepted",),
            proposal_override=(review, "accepted"),
        ),
    )

    assert before.total == Count(1, 1)
    assert confirmed.total == Count(2, 2)
    assert confirmed.by_dimension["stakeholder_group"]["Private Sector"] == Count(1, 1)
    assert accepted_too.total == Count(2, 2)
    # The override is only a what-if: nothing was written.
    (again,) = await count(db, PROGRAMME)
    assert again == before


async def test_mag_members_count_one_seat_each(db: Database) -> None:
    async with db.write() as session:
        for user_id, group, region in [
            (1, "Government", "African Group"),
            (2, "Government", "Asia-Pacific Group"),
            (3, "Civil Society", "African Group"),
        ]:
            session.add(
                MagMember(
                    guild_id=GUILD,
                    user_id=user_id,
                    stakeholder_group=group,
                    region=region,
                    gender="Prefer not to say",
                )
            )
        session.add(
            MagMember(
                guild_id=OTHER,
                user_id=1,
                stakeholder_group="Private Sector",
                region="Eastern European Group",
                gender="Male",
            )
        )

    async with db.read() as session:
        counts = await member_counts(session, guild_id=GUILD)

    assert counts.total == Count(3, 3)
    assert counts.by_dimension["stakeholder_group"] == {
        "Government": Count(2, 2),
        "Civil Society": Count(1, 1),
    }
    assert counts.by_dimension["gender"] == {"Prefer not to say": Count(3, 3)}
    assert set(counts.by_dimension) == {"stakeholder_group", "region", "gender"}


def test_one_statement_whatever_the_number_of_selections() -> None:
    sql = str(seat_counts_query(GUILD, [PROGRAMME, Selection(), Selection(proposal_id=3)]))
    assert sql.count("WITH per_person AS") == 1
    # Six person dimensions, the total, then attendance onsite and online.
    assert sql.count("UNION ALL") == 8
    assert sql.count("JOIN person") == 1
    assert "DISTINCT" not in sql.upper()


# --- property: the SQL agrees with counting by hand, and people never exceed seats ---

GROUPS = ("Government", "Civil Society", "Private Sector")
REGIONS = ("African Group", "Asia-Pacific Group")
GENDERS = ("Female", "Male", "Prefer not to say")
people_strategy = st.lists(
    st.tuples(
        st.sampled_from(GROUPS),
        st.sampled_from(REGIONS),
        st.sampled_from(GENDERS),
        st.sampled_from([True, False, None]),
    ),
    min_size=1,
    max_size=6,
)
seats_strategy = st.lists(
    st.tuples(
        st.integers(0, 5),  # person index (modulo the number of people)
        st.integers(0, 3),  # proposal index
        st.sampled_from(["confirmed", "invited", "declined"]),
        st.sampled_from(["onsite", "online"]),
        st.sampled_from(["speaker", "organizer"]),
    ),
    max_size=20,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=people_strategy, seats=seats_strategy)
async def test_counts_match_a_count_by_hand(
    db: Database,
    people: Sequence[tuple[str, str, str, bool | None]],
    seats: Sequence[tuple[int, int, str, str, str]],
) -> None:
    guild = next_guild()  # each example in a guild of its own: no cleaning needed
    proposals = [await proposal(db, guild_id=guild) for _ in range(4)]
    person_ids = [
        await person(db, P(f"p{i}", g, r, s, developing=d), guild_id=guild)
        for i, (g, r, s, d) in enumerate(people)
    ]
    kept: dict[tuple[int, int, str], tuple[int, str, str]] = {}
    for who, where, status, attendance, role in seats:
        index = who % len(people)
        kept.setdefault((index, where, role), (index, status, attendance))
    for (index, where, role), (_, status, attendance) in kept.items():
        await seat(
            db,
            proposals[where],
            person_ids[index],
            guild_id=guild,
            role=role,
            status=status,
            attendance=attendance,
        )

    (counts,) = await count(db, Selection(participation_statuses=("confirmed",)), guild_id=guild)

    confirmed = [(i, a) for (i, _, _), (_, s, a) in kept.items() if s == "confirmed"]
    assert counts.total == Count(len(confirmed), len({i for i, _ in confirmed}))
    expected_seats = Counter(people[i][0] for i, _ in confirmed)
    expected_people = Counter(people[i][0] for i in {i for i, _ in confirmed})
    groups = counts.by_dimension.get("stakeholder_group", {})
    assert {k: c.seats for k, c in groups.items()} == dict(expected_seats)
    assert {k: c.people for k, c in groups.items()} == dict(expected_people)
    for dimension, values in counts.by_dimension.items():
        assert sum(c.seats for c in values.values()) == counts.total.seats, dimension
        for value in values.values():
            assert 0 < value.people <= value.seats
        if dimension != "attendance":
            assert sum(c.people for c in values.values()) == counts.total.people, dimension

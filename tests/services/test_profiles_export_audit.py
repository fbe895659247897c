"""MAG profiles, the proposals export and the audit reader."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import InvalidInput, NotFound, PermissionDenied
from bot.services.export import defuse
from bot.services.registry import Services
from bot.services.taxonomy import fold, match, person_key, proposal_label
from storage.audit import recent_events
from storage.database import Database
from tests.services.factories import (
    GUILD,
    MAG,
    MAG2,
    NOBODY,
    PROPOSER,
    SECRETARIAT,
    nominate,
    profile,
    submit,
)


@pytest.fixture
def services(db: Database, clock) -> Services:
    return Services.create(db, clock)


async def test_a_profile_is_set_changed_and_shown(services: Services, db: Database) -> None:
    with pytest.raises(PermissionDenied, match="Only MAG members"):
        await profile(services, NOBODY)
    with pytest.raises(NotFound, match="You have no profile"):
        await services.profiles.show(MAG)
    view = await services.profiles.set(
        MAG,
        stakeholder_group="technical",
        region="weog",
        gender="male",
        affiliation=" Internet  Society ",
    )
    member = view
    assert (member.stakeholder_group, member.region, member.gender, member.affiliation) == (
        "Technical Community",
        "Western European and Others Group (WEOG)",
        "Male",
        "Internet Society",
    )
    # Leaving out the affiliation keeps it; "-" clears it.
    kept = await services.profiles.set(
        MAG, stakeholder_group="Civil Society", region="weog", gender="Male"
    )
    assert kept.affiliation == "Internet Society"
    cleared = await services.profiles.set(
        MAG, stakeholder_group="Civil Society", region="weog", gender="Female", affiliation="-"
    )
    assert cleared.affiliation is None
    async with db.read() as session:
        events = await recent_events(session, guild_id=GUILD, target=f"profile:{MAG.user_id}")
    assert len(events) == 3
    assert "Female" not in json.dumps([e.after for e in events])  # gender stays out
    assert events[0].after["gender_changed"] is True


async def test_who_sees_a_profile(services: Services) -> None:
    await profile(services, MAG, gender="Female")
    own = await services.profiles.show(MAG)
    assert own.gender == "Female"
    other = await services.profiles.show(MAG2, MAG.user_id)
    assert other.gender is None and other.stakeholder_group == "Civil Society"
    assert (await services.profiles.show(SECRETARIAT, MAG.user_id)).gender == "Female"
    with pytest.raises(PermissionDenied):
        await services.profiles.show(NOBODY, MAG.user_id)
    with pytest.raises(NotFound, match="This member has no profile"):
        await services.profiles.show(SECRETARIAT, 12345)
    with pytest.raises(InvalidInput, match="not a region"):
        await services.profiles.set(
            MAG, stakeholder_group="Government", region="Mars", gender="Male"
        )


async def _world(services: Services) -> None:
    await submit(services, title='=HYPERLINK("http://x")')
    await submit(services, NOBODY, title='Second, with "quotes"')
    await nominate(services, 1, "Zoë Ñandú", contact="zoe@example.org", affiliation="+Org")
    await nominate(services, 1, "Bruno", gender="Male", role="onsite moderator")
    await services.reviews.score(MAG, 1, 4)
    await services.reviews.score(MAG2, 1, 2, "Thin")


async def test_the_csv_export_for_the_secretariat(services: Services, db: Database) -> None:
    await _world(services)
    export = await services.export.export(SECRETARIAT, "csv")
    assert export.filename.endswith(".csv") and export.private and export.proposals == 2
    text = export.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["number"], r["name"]) for r in rows] == [
        ("1", "Zoë Ñandú"),
        ("1", "Bruno"),
        ("2", ""),
    ]
    first = rows[0]
    assert first["title"] == '\'=HYPERLINK("http://x")'  # defused
    assert first["affiliation"] == "'+Org"
    assert (first["contact"], first["gender"]) == ("zoe@example.org", "Female")
    assert (first["mean"], first["median"], first["review_count"]) == ("3.0", "3.0", "2")
    assert rows[2]["title"] == 'Second, with "quotes"'
    async with db.read() as session:
        (event,) = await recent_events(session, guild_id=GUILD, target="export")
    assert event.after == {"format": "csv", "proposals": 2, "private": True}


async def test_mag_members_get_the_export_without_personal_data(services: Services) -> None:
    await _world(services)
    export = await services.export.export(MAG, "csv")
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert "contact" not in rows[0] and "gender" not in rows[0] and "mean" not in rows[0]
    assert "zoe@example.org" not in export.content.decode()
    for actor in (PROPOSER, NOBODY):
        with pytest.raises(PermissionDenied):
            await services.export.export(actor, "csv")
    with pytest.raises(InvalidInput):
        await services.export.export(SECRETARIAT, "xlsx")


async def test_the_json_export_holds_everything(services: Services) -> None:
    await _world(services)
    data = json.loads((await services.export.export(SECRETARIAT, "json")).content)
    first, second = data["proposals"]
    assert first["label"] == "WS #1" and first["description"].startswith("How data")
    assert [p["name"] for p in first["people"]] == ["Zoë Ñandú", "Bruno"]
    assert first["people"][0]["contact"] == "zoe@example.org"
    assert first["scores"]["mean"] == 3.0 and second["people"] == []
    public = json.loads((await services.export.export(MAG, "json")).content)
    assert "scores" not in public["proposals"][0]
    assert "contact" not in public["proposals"][0]["people"][0]


async def test_the_audit_reader(services: Services) -> None:
    await submit(services)
    await submit(services, NOBODY)
    await services.proposals.set_status(SECRETARIAT, 1, "under_review")
    events = await services.audit.recent(SECRETARIAT, proposal_number=1)
    assert [e.action for e in events] == ["proposal.status", "proposal.submit"]
    assert len(await services.audit.recent(SECRETARIAT)) == 3
    with pytest.raises(PermissionDenied):
        await services.audit.recent(MAG)
    with pytest.raises(InvalidInput):
        await services.audit.recent(SECRETARIAT, proposal_number=0)


@given(st.text(max_size=30))
def test_defused_cells_never_start_a_formula(text: str) -> None:
    assert not str(defuse(text)).startswith(("=", "+", "-", "@", "\t", "\r"))


@given(st.text(max_size=40), st.text(max_size=40))
def test_person_keys_ignore_case_accents_and_spaces(name: str, affiliation: str) -> None:
    assert person_key(name, affiliation) == person_key(f"  {name.upper()} ", affiliation.lower())
    assert len(person_key(name, affiliation)) == 64


def test_folding() -> None:
    assert fold("  Université   de GENÈVE ") == "universite de geneve"
    assert fold("Straße") == fold("STRASSE")
    assert match("asia", ["Asia-Pacific Group", "African Group"], "region") == "Asia-Pacific Group"
    with pytest.raises(InvalidInput, match="not a region"):
        match("a", ["Asia-Pacific Group", "African Group"], "region")  # ambiguous
    assert proposal_label("workshop", 12) == "WS #12"
    assert proposal_label("open_forum", 3) == "OF #3"


@given(st.lists(st.integers(1, 5), max_size=60), st.integers(0, 5))
def test_a_summary_from_counts_equals_one_from_scores(scores: list[int], merges: int) -> None:
    from bot.services.scoring import ScoreSummary
    from storage.reviews import Histogram

    counts = {s: scores.count(s) for s in (1, 2, 3, 4, 5)}
    direct = ScoreSummary.of(scores, merges)
    counted = ScoreSummary.from_histogram(Histogram(counts=counts, merges=merges))
    assert counted.count == direct.count and counted.median == direct.median
    assert (counted.low, counted.high, counted.merges) == (direct.low, direct.high, merges)
    if direct.mean is not None:
        assert counted.mean == pytest.approx(direct.mean)
        assert counted.spread == pytest.approx(direct.spread, abs=1e-9)

"""Importing a call: each format, bad rows by row and column, duplicates, re-import, limits."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import select

import bot.services.import_formats as formats
from bot.errors import ConfirmationNeeded, InvalidInput, PermissionDenied
from bot.services.auth import Actor
from bot.services.config import ConfigService
from bot.services.imports import ImportService
from bot.services.pending import PendingService
from storage.audit import AuditEvent
from storage.database import Database
from storage.panellists import Participation, Person
from storage.proposals import Proposal
from tests.conftest import FakeClock

GUILD = 111111111111111111
SECRETARIAT = Actor(guild_id=GUILD, user_id=2, is_secretariat=True)
MEMBER = Actor(guild_id=GUILD, user_id=5)
FIXTURES = Path(__file__).parents[1] / "fixtures" / "import"
TEMPLATE = Path(__file__).parents[2] / "docs" / "import-template.csv"


def fixture(*names: str) -> list[tuple[str, bytes]]:
    return [(name, (FIXTURES / name).read_bytes()) for name in names]


@pytest.fixture
def imports(db: Database, clock: FakeClock) -> ImportService:
    return ImportService(db, clock, ConfigService(db, clock))


async def counts(db: Database) -> tuple[int, int, int]:
    async with db.read() as session:
        proposals = (await session.exec(select(func.count()).select_from(Proposal))).one()
        people = (await session.exec(select(func.count()).select_from(Person))).one()
        links = (await session.exec(select(func.count()).select_from(Participation))).one()
    return int(proposals), int(people), int(links)


async def preview_of(imports: ImportService, parsed: dict) -> ConfirmationNeeded:
    with pytest.raises(ConfirmationNeeded) as asked:
        await imports.run(SECRETARIAT, parsed, confirmed=False)
    return asked.value


async def test_pretalx_json_with_speakers_previews_then_applies(
    imports: ImportService, db: Database
) -> None:
    parsed = await imports.read(
        SECRETARIAT, fixture("pretalx-sessions.json", "pretalx-speakers.json")
    )
    assert (
        formats.unpack(parsed)["source"] == "pretalx"
        and formats.unpack(parsed)["format"] == "pretalx JSON"
    )
    asked = await preview_of(imports, parsed)
    assert "3 new proposals" in str(asked) and "3 new people" in str(asked)
    assert "4 speakers" in str(asked)
    # Warnings name the row and the column.
    assert any("row 3, column `Duration`" in w for w in asked.warnings), asked.warnings
    assert any("not-an-email" in w for w in asked.warnings)
    assert await counts(db) == (0, 0, 0)  # a preview changes nothing

    result = await imports.run(SECRETARIAT, parsed, confirmed=True)
    assert (result.proposals, result.first, result.last, result.people) == (3, 1, 3, 3)
    assert await counts(db) == (3, 3, 4)
    async with db.read() as session:
        proposals = (await session.exec(select(Proposal).order_by(Proposal.number))).all()
        people = {p.name: p for p in (await session.exec(select(Person))).all()}
        links = (await session.exec(select(Participation))).all()
        audit = (await session.exec(select(AuditEvent))).all()
    first = proposals[0]
    assert (first.source, first.source_id, first.proposer_id) == ("pretalx", "QXKLMN", 0)
    assert first.proposer_name == "Amina Diallo" and first.format == "Roundtable"
    assert "Abstract" not in first.description and "roundtable" in first.description
    assert first.policy_questions == "Who decides where data lives?"
    assert proposals[2].kind == "lightning_talk" and proposals[2].format == "Other"
    amina = people["Amina Diallo"]
    # Never linked to a Discord account; details from the speakers export.
    assert amina.user_id is None and amina.link_source is None
    assert (amina.affiliation, amina.stakeholder_group, amina.gender) == (
        "Digital Rights Lab",
        "Civil Society",
        "Female",
    )
    assert (amina.source, amina.source_id) == ("pretalx", "A8BC7D")
    contacts = {link.contact for link in links}
    assert "amina@example.org" in contacts and "not-an-email" not in contacts
    assert all(link.status == "nominated" and link.invitee_id is None for link in links)
    assert [a.action for a in audit] == ["proposal.import"]


async def test_re_import_changes_nothing(imports: ImportService, db: Database) -> None:
    files = fixture("pretalx-sessions.json", "pretalx-speakers.json")
    await imports.run(SECRETARIAT, await imports.read(SECRETARIAT, files), confirmed=True)
    before = await counts(db)
    again = await imports.read(SECRETARIAT, files)
    asked = await preview_of(imports, again)
    assert "0 new proposals" in str(asked) and "3 proposals already imported" in str(asked)
    assert "confirming changes nothing" in str(asked)
    result = await imports.run(SECRETARIAT, again, confirmed=True)
    assert (result.proposals, result.people, result.skipped) == (0, 0, 3)
    assert await counts(db) == before
    # The CSV export of the same call is the same call: nothing new either.
    csv_files = fixture("pretalx-sessions.csv", "pretalx-speakers.csv")
    result = await imports.run(
        SECRETARIAT, await imports.read(SECRETARIAT, csv_files), confirmed=True
    )
    assert result.proposals == 0 and await counts(db) == before


async def test_pretalx_csv_reads_lists_joined_in_one_cell(imports: ImportService) -> None:
    parsed = await imports.read(
        SECRETARIAT, fixture("pretalx-sessions.csv", "pretalx-speakers.csv")
    )
    assert formats.unpack(parsed)["format"] == "pretalx CSV"
    first = formats.unpack(parsed)["proposals"][0]
    assert first["speakers"] == [["A8BC7D", "speaker"], ["F3GH9J", "speaker"]]
    people = {p["sid"]: p for p in formats.unpack(parsed)["people"]}
    assert people["F3GH9J"]["email"] == "kenji@example.org"
    # CSV rows count the header: the third session is row 4.
    assert {(p["row"], p["column"]) for p in formats.unpack(parsed)["problems"]} >= {
        (4, "Duration")
    }


async def test_pretalx_sessions_alone_take_names_from_the_session(
    imports: ImportService, db: Database
) -> None:
    parsed = await imports.read(SECRETARIAT, fixture("pretalx-sessions.json"))
    result = await imports.apply(SECRETARIAT, parsed)
    assert result.people == 3 and await counts(db) == (3, 3, 4)


async def test_pretalx_api_page(imports: ImportService, db: Database) -> None:
    page = {
        "count": 1,
        "next": None,
        "results": [
            {
                "code": "ABCDEF",
                "title": {"en": "Cybersecurity norms"},
                "submission_type": {"en": "Panel"},
                "track": {"en": "Security"},
                "abstract": "Norms.",
                "duration": 60,
                "speakers": [{"code": "SP1", "name": "Noor Haddad", "email": "noor@example.org"}],
            }
        ],
    }
    parsed = await imports.read(SECRETARIAT, [("page.json", json.dumps(page).encode())])
    assert formats.unpack(parsed)["format"] == "pretalx API JSON"
    await imports.apply(SECRETARIAT, parsed)
    async with db.read() as session:
        proposal = (await session.exec(select(Proposal))).one()
    assert (proposal.title, proposal.subtheme, proposal.format) == (
        "Cybersecurity norms",
        "Security",
        "Panel",
    )


async def test_sessionize_all_data(imports: ImportService, db: Database) -> None:
    parsed = await imports.read(SECRETARIAT, fixture("sessionize-all.json"))
    assert formats.unpack(parsed)["source"] == "sessionize"
    asked = await preview_of(imports, parsed)
    assert "2 new proposals" in str(asked)  # the lunch is a service session, left out
    await imports.run(SECRETARIAT, parsed, confirmed=True)
    assert await counts(db) == (2, 2, 3)
    async with db.read() as session:
        proposal = (await session.exec(select(Proposal).where(Proposal.number == 1))).one()
        olu = (await session.exec(select(Person).where(Person.name == "Olu Adeyemi"))).one()
    assert proposal.format == "Panel" and proposal.subtheme == "Digital public infrastructure"
    assert proposal.policy_questions == "How do we keep DPI open?"
    assert olu.affiliation == "OpenNet" and olu.user_id is None


async def test_sessionize_sessions_view(imports: ImportService, db: Database) -> None:
    parsed = await imports.read(SECRETARIAT, fixture("sessionize-sessions.json"))
    assert formats.unpack(parsed)["format"] == "Sessionize JSON (Sessions)"
    await imports.apply(SECRETARIAT, parsed)
    assert await counts(db) == (1, 1, 1)


async def test_our_template_as_shipped(imports: ImportService, db: Database) -> None:
    parsed = await imports.read(SECRETARIAT, [("template.csv", TEMPLATE.read_bytes())])
    assert formats.unpack(parsed)["source"] == "csv" and not formats.unpack(parsed)["problems"]
    result = await imports.apply(SECRETARIAT, parsed)
    assert (result.proposals, result.people, result.participations) == (2, 3, 3)
    async with db.read() as session:
        roles = {
            (link.role, link.contact) for link in (await session.exec(select(Participation))).all()
        }
        second = (await session.exec(select(Proposal).where(Proposal.number == 2))).one()
    assert ("organizer", "grace@example.org") in roles
    assert second.kind == "open_forum" and second.proposer_name == "Ana Lima"


def template(*rows: str) -> list[tuple[str, bytes]]:
    header = ",".join(formats.TEMPLATE_COLUMNS)
    return [("mine.csv", ("\n".join([header, *rows]) + "\n").encode())]


def row(**cells: str) -> str:
    return ",".join(cells.get(c, "") for c in formats.TEMPLATE_COLUMNS)


@pytest.mark.parametrize(
    ("cells", "where"),
    [
        ({"proposal_id": "A", "title": ""}, "row 3, column `title`"),
        ({"title": "No id"}, "row 3, column `proposal_id`"),
        ({"proposal_id": "A", "title": "T", "duration": "long"}, "row 3, column `duration`"),
        ({"proposal_id": "A", "title": "T", "person_name": "X", "role": "chair"}, "column `role`"),
        (
            {"proposal_id": "A", "title": "T", "person_name": "X", "gender": "unknown"},
            "row 3, column `gender`",
        ),
        ({"proposal_id": "A", "title": "T", "kind": "festival"}, "column `kind`"),
        ({"proposal_id": "A", "title": "T", "email": "x@example.org"}, "column `person_name`"),
    ],
)
async def test_a_bad_row_refuses_the_whole_file_naming_row_and_column(
    imports: ImportService, db: Database, cells: dict[str, str], where: str
) -> None:
    good = row(proposal_id="G", title="Good one", person_name="Someone")
    with pytest.raises(InvalidInput) as refused:
        await imports.read(SECRETARIAT, template(good, row(**cells)))
    assert "Nothing was imported" in str(refused.value)
    assert where in str(refused.value), str(refused.value)
    assert await counts(db) == (0, 0, 0)


async def test_an_id_too_long_to_store_is_an_error(imports: ImportService, db: Database) -> None:
    """Stored in 100 characters, a longer id would not find itself on the next import."""
    long = row(proposal_id="P" * 101, title="Long id", person_name="Someone")
    with pytest.raises(InvalidInput, match="row 2, column `proposal_id`"):
        await imports.read(SECRETARIAT, template(long))
    assert await counts(db) == (0, 0, 0)


async def test_a_repeated_id_is_an_error(imports: ImportService) -> None:
    sessions = json.loads((FIXTURES / "pretalx-sessions.json").read_text())
    sessions[2]["ID"] = sessions[0]["ID"]
    with pytest.raises(InvalidInput, match="row 3, column `ID`"):
        await imports.read(SECRETARIAT, [("s.json", json.dumps(sessions).encode())])


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"\xff\xfe\x00bad", "not UTF-8"),
        (b'{"sessions": [', "not valid JSON"),
        (b"name,colour\nA,blue\n", "not a format I know"),
        (b'{"hello": 1}', "not a format I know"),
        (b"[1, 2]", "not a format I know"),
        (b"", "empty"),
        (b"[" * 100_000, "not valid JSON"),  # nested past Python's limit
        (b'{"sessions": [{[1]: 2}]}', "not valid JSON"),
    ],
)
async def test_unknown_or_broken_files_are_named(
    imports: ImportService, data: bytes, says: str
) -> None:
    with pytest.raises(InvalidInput, match=says):
        await imports.read(SECRETARIAT, [("x", data)])


async def test_speakers_export_alone_or_two_unrelated_files(imports: ImportService) -> None:
    with pytest.raises(InvalidInput, match="speakers export"):
        await imports.read(SECRETARIAT, fixture("pretalx-speakers.json"))
    with pytest.raises(InvalidInput, match="Two files are only for pretalx"):
        await imports.read(SECRETARIAT, fixture("sessionize-all.json", "pretalx-speakers.json"))


async def test_limits(imports: ImportService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats, "MAX_PROPOSALS", 2)
    with pytest.raises(InvalidInput, match="3 proposals; at most"):
        await imports.read(SECRETARIAT, fixture("pretalx-sessions.json"))
    monkeypatch.setattr(formats, "MAX_PROPOSALS", 5_000)
    monkeypatch.setattr(formats, "MAX_PEOPLE", 1)
    with pytest.raises(InvalidInput, match="people; at most"):
        await imports.read(SECRETARIAT, fixture("sessionize-all.json"))
    big = b"x" * (formats.MAX_BYTES + 1)
    with pytest.raises(InvalidInput, match="larger than 15 MB"):
        await imports.read(SECRETARIAT, [("big.csv", big)])


def _never(*args: object, **kwargs: object) -> None:
    raise AssertionError("rows were built before the limits were checked")


async def test_json_counts_are_checked_before_rows_are_built(
    imports: ImportService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(formats, "MAX_PROPOSALS", 2)
    monkeypatch.setattr(formats, "_pretalx", _never)
    with pytest.raises(InvalidInput, match="3 proposals; at most 2"):
        await imports.read(SECRETARIAT, fixture("pretalx-sessions.json"))
    monkeypatch.setattr(formats, "MAX_PROPOSALS", 5_000)
    monkeypatch.setattr(formats, "MAX_PEOPLE", 1)
    monkeypatch.setattr(formats, "_sessionize_all", _never)
    with pytest.raises(InvalidInput, match="people; at most 1"):
        await imports.read(SECRETARIAT, fixture("sessionize-all.json"))


async def test_csv_rows_are_counted_while_reading(
    imports: ImportService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(formats, "MAX_ROWS", 10)
    monkeypatch.setattr(formats, "_template", _never)
    rows = [row(proposal_id=f"P{i}", title=f"T{i}", person_name="X") for i in range(50)]
    with pytest.raises(InvalidInput, match="more than 10 rows"):
        await imports.read(SECRETARIAT, template(*rows))
    # Reading stopped at the limit: what follows is never read.
    calls = []
    real = formats.csv.reader

    def counting(*args: object, **kwargs: object) -> object:
        for record in real(*args, **kwargs):  # type: ignore[arg-type]
            calls.append(record)
            yield record

    monkeypatch.setattr(formats.csv, "reader", counting)
    with pytest.raises(InvalidInput, match="more than 10 rows"):
        await imports.read(SECRETARIAT, template(*rows))
    assert len(calls) <= 12


async def test_a_file_full_of_problems_gives_a_short_answer(imports: ImportService) -> None:
    bad = [row(proposal_id=f"P{i}", title="", person_name="X") for i in range(2000)]
    with pytest.raises(InvalidInput) as refused:
        await imports.read(SECRETARIAT, template(*bad))
    text = str(refused.value)
    assert "2000 problems" in text
    assert text.count("\n- ") == formats_listed() + 1 and "…and 1988 more" in text
    parsed = formats.parse(template(*bad))
    assert len(parsed["problems"]) <= formats.MAX_PROBLEMS
    assert parsed["counted"] == {"error": 2000, "warning": 0}
    # Warnings are kept as few, and the preview still counts them all.
    long = "x" * (formats.MAX_TITLE + 5)
    warned = [row(proposal_id=f"W{i}", title=long, person_name="X") for i in range(300)]
    payload = await imports.read(SECRETARIAT, template(*warned))
    assert len(formats.unpack(payload)["problems"]) <= formats.MAX_PROBLEMS
    asked = await preview_of(imports, payload)
    assert asked.warnings[-1] == "…and 288 more"


def formats_listed() -> int:
    from bot.services.imports import LISTED

    return LISTED


async def test_only_the_secretariat_imports(imports: ImportService) -> None:
    with pytest.raises(PermissionDenied):
        await imports.read(MEMBER, fixture("sessionize-all.json"))
    parsed = await imports.read(SECRETARIAT, fixture("sessionize-all.json"))
    with pytest.raises(PermissionDenied):
        await imports.run(MEMBER, parsed, confirmed=True)


async def test_duplicates_of_existing_records_are_named_and_reused(
    imports: ImportService, db: Database
) -> None:
    # A person already known (same name and affiliation) and linked to an account by
    # the secretariat; a proposal with the same title submitted in Discord.
    await imports.apply(
        SECRETARIAT, await imports.read(SECRETARIAT, fixture("sessionize-all.json"))
    )
    async with db.write() as session:
        maria = (await session.exec(select(Person).where(Person.name == "Maria Rossi"))).one()
        maria.user_id, maria.link_source = 777, "secretariat"
    mine = template(
        row(proposal_id="M1", title="Measuring meaningful connectivity", person_name="Maria Rossi"),
        row(proposal_id="M2", title="Something new", person_name="Kofi Mensah"),
    )
    parsed = await imports.read(SECRETARIAT, mine)
    asked = await preview_of(imports, parsed)
    assert "1 person already known here" in str(asked) and "1 new person" in str(asked)
    assert any("row 2" in w and "already in the bot" in w for w in asked.warnings), asked.warnings
    result = await imports.run(SECRETARIAT, parsed, confirmed=True)
    assert (result.proposals, result.people, result.known_people) == (2, 1, 1)
    async with db.read() as session:
        marias = (await session.exec(select(Person).where(Person.name == "Maria Rossi"))).all()
    # One Maria, still with the account the secretariat linked, and no other.
    assert len(marias) == 1 and marias[0].user_id == 777


async def test_the_same_title_in_other_letters_is_warned(
    imports: ImportService, db: Database
) -> None:
    # SQLite's own lower() folds only A-Z: the titles are compared as Python folds them.
    first = template(
        row(proposal_id="A1", title="ÉCONOMIE numérique", person_name="X"),
        row(proposal_id="A2", title="ИНТЕРНЕТ для всех", person_name="Y"),
    )
    await imports.apply(SECRETARIAT, await imports.read(SECRETARIAT, first))
    second = template(
        row(proposal_id="B1", title="économie NUMÉRIQUE", person_name="X"),
        row(proposal_id="B2", title="интернет ДЛЯ ВСЕХ", person_name="Y"),
    )
    asked = await preview_of(imports, await imports.read(SECRETARIAT, second))
    same = [w for w in asked.warnings if "already in the bot" in w]
    assert len(same) == 2, asked.warnings
    assert "#1" in same[0] and "#2" in same[1]


async def test_the_stored_request_survives_as_json(
    imports: ImportService, db: Database, clock: FakeClock
) -> None:
    parsed = await imports.read(SECRETARIAT, fixture("pretalx-sessions.json"))
    pending = PendingService(db, clock)
    asked = await pending.ask(SECRETARIAT, "proposal.import", parsed)
    taken = await pending.take(
        guild_id=GUILD, user_id=SECRETARIAT.user_id, action_id=asked.id, token=asked.token
    )
    result = await imports.run(SECRETARIAT, dict(taken.payload), confirmed=True)
    assert result.proposals == 3


async def test_subthemes_not_of_this_server_are_warned(db: Database, clock: FakeClock) -> None:
    config = ConfigService(db, clock)
    admin = Actor(guild_id=GUILD, user_id=1, is_admin=True)
    await config.set_subthemes(admin, "Data governance")
    imports = ImportService(db, clock, config)
    parsed = await imports.read(SECRETARIAT, fixture("pretalx-sessions.json"))
    asked = await preview_of(imports, parsed)
    assert any("Connectivity" in w and "not a subtheme" in w for w in asked.warnings)
    assert not any("Data governance" in w for w in asked.warnings)


async def test_the_stored_request_is_packed_small(imports: ImportService) -> None:
    parsed = await imports.read(SECRETARIAT, fixture("pretalx-sessions.json"))
    assert set(parsed) == {"packed", "source", "digest"} and parsed["source"] == "pretalx"
    assert formats.unpack(json.loads(json.dumps(parsed)))["proposals"][0]["sid"] == "QXKLMN"


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        "{}",
        ' [ {"a": [1, 2]} , {"b": null} ] ',
        '{"sessions": [{"id": 1}], "speakers": [], "n": 3, "o": {"x": [1]}}',
        '"just a string"',
    ],
)
def test_the_piecewise_json_reader_reads_as_json_does(text: str) -> None:
    assert formats.loads(text) == json.loads(text)


@pytest.mark.parametrize("text", ["[1, 2", '{"a": 1,}', "[1] 2", '{"a" 1}', "[1,,2]"])
def test_the_piecewise_json_reader_refuses_what_json_refuses(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    with pytest.raises(json.JSONDecodeError):
        formats.loads(text)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(value=json_values, indent=st.sampled_from([None, 1]))
def test_the_piecewise_json_reader_agrees_with_json(value: object, indent: int | None) -> None:
    text = json.dumps(value, indent=indent)
    assert formats.loads(text) == json.loads(text)


@settings(max_examples=200)
@given(data=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_hostile_files_are_refused_cleanly(data: bytes) -> None:
    try:
        parsed = formats.parse([("x", data)])
    except formats.ImportError_:
        return
    assert {"proposals", "people", "problems"} <= set(parsed)


cell = st.none() | st.integers() | st.text(max_size=6) | st.lists(st.integers(), max_size=2)


@settings(max_examples=150)
@given(
    sessions=st.lists(
        st.fixed_dictionaries(
            {"ID": cell, "Proposal title": cell},
            optional={"Speaker IDs": cell, "Speaker names": cell, "Duration": cell, "Track": cell},
        ),
        min_size=1,
        max_size=3,
    ),
    sessionize=st.fixed_dictionaries(
        {
            "sessions": st.lists(
                st.dictionaries(
                    st.sampled_from(
                        ["id", "title", "speakers", "categoryItems", "questionAnswers"]
                    ),
                    cell,
                ),
                max_size=3,
            ),
            "speakers": st.lists(
                st.dictionaries(st.sampled_from(["id", "fullName", "questionAnswers"]), cell),
                max_size=3,
            ),
        },
        optional={"categories": cell, "questions": cell},
    ),
)
def test_export_shaped_nonsense_is_refused_cleanly(sessions: list, sessionize: dict) -> None:
    for value in (sessions, sessionize):
        try:
            parsed = formats.parse([("x.json", json.dumps(value).encode())])
        except formats.ImportError_:
            continue
        for proposal in parsed["proposals"]:
            assert proposal["title"] and proposal["sid"]


async def test_two_imports_of_one_file_at_once_import_it_once(
    imports: ImportService, db: Database
) -> None:
    parsed = await imports.read(SECRETARIAT, fixture("sessionize-all.json"))
    results = await asyncio.gather(
        imports.apply(SECRETARIAT, parsed), imports.apply(SECRETARIAT, parsed)
    )
    assert sorted(r.proposals for r in results) == [0, 2]
    assert await counts(db) == (2, 2, 3)

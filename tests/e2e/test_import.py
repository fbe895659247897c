"""Importing a call end to end: pretalx and Sessionize exports attached to `/proposal import`.

Through the real bot and the fake Discord: the secretariat attaches a pretalx
JSON export (sessions and speakers), reads the preview, confirms after a
restart (the parsed file is stored, not held in memory), sees the proposals
with their imported proposers (nobody is messaged); a second import of the
same file changes nothing; a Sessionize export the same; a bad file is
refused privately naming its row and column; a member cannot import.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import World

pytestmark = pytest.mark.asyncio(loop_scope="module")

FIXTURES = Path(__file__).parents[1] / "fixtures" / "import"


def attached(name: str, data: bytes | None = None) -> tuple[str, bytes, str]:
    return (name, data if data is not None else (FIXTURES / name).read_bytes(), "application/json")


async def test_setup(world: World) -> None:
    await world.run("admin", "config role", purpose="secretariat", role=world.roles["secretariat"])
    await world.run("admin", "config role", purpose="mag", role=world.roles["mag"])


async def test_a_member_cannot_import(world: World) -> None:
    refused = await world.run("mag1", "proposal import", file=attached("sessionize-all.json"))
    assert refused.ephemeral and "secretariat" in refused.content.lower()


async def test_a_bad_file_is_refused_naming_row_and_column(world: World) -> None:
    sessions = json.loads((FIXTURES / "pretalx-sessions.json").read_text())
    sessions[1]["Proposal title"] = ""
    bad = json.dumps(sessions).encode()
    refused = await world.run("secretariat", "proposal import", file=attached("sessions.json", bad))
    assert refused.ephemeral and "Nothing was imported" in refused.content
    assert "row 2, column `Proposal title`" in refused.content, refused.content
    unknown = await world.run(
        "secretariat", "proposal import", file=attached("x.csv", b"colour,size\nblue,3\n")
    )
    assert unknown.ephemeral and "not a format I know" in unknown.content
    listed = await world.run("secretariat", "proposal list")
    assert "Data governance" not in listed.embed_text()


async def test_pretalx_preview_survives_a_restart_then_applies(world: World) -> None:
    asked = await world.run(
        "secretariat",
        "proposal import",
        file=attached("pretalx-sessions.json"),
        speakers=attached("pretalx-speakers.json"),
    )
    text = asked.embed_text()
    assert asked.ephemeral and "Import from pretalx" in text, text
    assert "3 new proposals" in text and "3 new people" in text
    assert "row 3, column `Duration`" in text  # a warning, by row and column
    await world.restart_bot()
    done = await world.confirm("secretariat", asked)
    assert "3 proposals imported: #1 to #3" in done.embed_text(), done.embed_text()
    seen = (await world.run("secretariat", "proposal view", number=1)).embed_text()
    assert "Data governance for the Global South" in seen
    assert "Amina Diallo (imported from pretalx, not on Discord)" in seen
    assert "<@0>" not in seen
    # A status change of an imported proposal messages nobody, and says so.
    moved = await world.run_confirmed(
        "secretariat", "proposal status", number=1, status="under_review"
    )
    assert "tell its proposer outside Discord" in moved.text(), moved.text()
    assert not any(r.path.endswith("/users/0") for r in world.fake.requests)  # no DM to 0
    assert not world.fake.unexpected


async def test_pretalx_re_import_is_a_no_op(world: World) -> None:
    asked = await world.run(
        "secretariat",
        "proposal import",
        file=attached("pretalx-sessions.json"),
        speakers=attached("pretalx-speakers.json"),
    )
    assert "confirming changes nothing" in asked.embed_text()
    done = await world.confirm("secretariat", asked)
    assert "Nothing new" in done.embed_text()
    assert "3 proposals imported before were left unchanged" in done.embed_text()
    listed = (await world.run("secretariat", "proposal list")).embed_text()
    assert listed.count("Data governance for the Global South") == 1


async def test_sessionize_import_and_re_import(world: World) -> None:
    asked = await world.run("secretariat", "proposal import", file=attached("sessionize-all.json"))
    assert (
        "Import from Sessionize" in asked.embed_text() and "2 new proposals" in asked.embed_text()
    )
    done = await world.confirm("secretariat", asked)
    assert "2 proposals imported: #4 to #5" in done.embed_text(), done.embed_text()
    seen = (await world.run("secretariat", "proposal view", number=4)).embed_text()
    assert "Open standards for digital public infrastructure" in seen
    assert "Olu Adeyemi (imported from Sessionize, not on Discord)" in seen
    again = await world.run("secretariat", "proposal import", file=attached("sessionize-all.json"))
    assert "0 new proposals" in again.embed_text()
    done = await world.confirm("secretariat", again)
    assert "Nothing new" in done.embed_text()
    cancelled = await world.run(
        "secretariat", "proposal import", file=attached("sessionize-sessions.json")
    )
    gone = await world.confirm("secretariat", cancelled, "Cancel")
    assert "nothing was changed" in gone.text().lower()
    listed = (await world.run("secretariat", "proposal list")).embed_text()
    assert "Platform accountability" not in listed

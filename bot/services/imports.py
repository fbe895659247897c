"""Importing a call run elsewhere (pretalx, Sessionize, our CSV template): preview, then apply.

``read`` checks the file in a worker thread and returns what was read, as a
JSON-ready dict that the Confirm button's stored request carries (so it
survives a restart). ``run`` unconfirmed shows the preview (counts, problems
by row and column, duplicates of existing records) and asks for a Confirm;
confirmed, it writes everything in one transaction. A file with errors is
refused whole: nothing is half imported.

Imported proposals have no Discord proposer (``IMPORTED_PROPOSER``, 0, with
the first speaker's name as ``proposer_name``): nobody is messaged about
them. Imported people are never linked to a Discord account; a person
already known by the same name and affiliation is the same record, left
as it is. A proposal already imported from the same source with the same id
is left as it is, so importing the same file twice changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from bot.errors import ConfirmationNeeded, InvalidInput
from bot.i18n import N_, _, ngettext
from bot.services import import_formats as formats
from bot.services.auth import Actor, require_secretariat
from bot.services.config import ConfigService
from bot.services.import_formats import ERROR, WARNING, ImportError_, pack, parse, unpack
from bot.services.taxonomy import affiliation_key, fold
from bot.services.text import quoted
from storage import imports as store
from storage.audit import record_event
from storage.database import Database
from storage.proposals import IMPORTED_PROPOSER as IMPORTED_PROPOSER

#: Problems listed in a refusal or a preview (the rest are counted).
LISTED: Final = 12

SOURCE_NAMES: Final[Mapping[str, str]] = {
    "pretalx": "pretalx",
    "sessionize": "Sessionize",
    "csv": N_("the CSV template"),
}

_FILE_PROBLEMS: Final[Mapping[str, str]] = {
    "too_large": N_("{value} is larger than {limit} MB: split the export."),
    "not_utf8": N_("{value} is not UTF-8 text: export it again as UTF-8 (CSV or JSON)."),
    "bad_json": N_("The file is not valid JSON (at line:column {value})."),
    "bad_csv": N_("The file is not a readable CSV file ({value})."),
    "empty": N_("The file is empty."),
    "unknown_csv": N_(
        "This CSV file is not a format I know (its columns: {value}). I read pretalx's "
        "session and speaker exports, Sessionize's JSON and our template "
        "(docs/import-template.csv)."
    ),
    "unknown_json": N_(
        "This JSON file is not a format I know (its keys: {value}). I read pretalx's "
        "session and speaker exports, Sessionize's JSON and our template "
        "(docs/import-template.csv)."
    ),
    "two_files": N_(
        "Two files are only for pretalx: its sessions export first, its speakers export second."
    ),
    "speakers_alone": N_(
        "This is a pretalx speakers export: attach the sessions export as the file, and this "
        "one as speakers."
    ),
    "malformed": N_(
        "This looks like a {value} export, but some of its values are not what {value} "
        "writes (a number where a list should be, say): export it again, unedited."
    ),
    "too_many_proposals": N_("The file has {value} proposals; at most {limit} at once."),
    "too_many_people": N_("The file has {value} people; at most {limit} at once."),
    "too_many_rows": N_("The file has more than {limit} rows: split it."),
}

_ROW_PROBLEMS: Final[Mapping[str, str]] = {
    "missing": N_("empty, and it is required"),
    "repeated": N_("{value} appears twice in the file"),
    "long_id": N_("an id longer than {value} characters: shorten it"),
    "clipped": N_("longer than {value} characters: cut"),
    "not_minutes": N_("{value} is not a number of minutes"),
    "odd_duration": N_("{value} minutes is not 30, 60 or 90: kept"),
    "unknown_format": N_("{value} is not a session format: recorded as Other"),
    "unknown_choice": N_("{value} is not one of the accepted values"),
    "unknown_speaker": N_("speaker {value} is not in the file: left out"),
    "bad_email": N_("{value} is not an email address: left out"),
    "unknown_column": N_("not a column of the template: ignored"),
    "unknown_subtheme": N_("{value} is not a subtheme of this server: kept"),
    "same_title": N_("same title as {value}, already in the bot"),
}


_pauses = 0
_resume = False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Hold off the cyclic garbage collector while an import builds its rows.

    Measured (bench/imports.py): reading and writing a 2,000-proposal call
    allocates a few hundred thousand objects, which set off full collections
    of the whole heap, 60-90 ms each, during which the event loop cannot run
    (whichever thread triggers them). With the collector paused for those
    seconds the longest stall is about 15 ms. Reference counting still frees
    everything; the collector resumes when the last import running ends.
    """
    global _pauses, _resume
    if _pauses == 0:
        _resume = gc.isenabled()
        gc.disable()
    _pauses += 1
    try:
        yield
    finally:
        _pauses -= 1
        if _pauses == 0 and _resume:
            gc.enable()


@dataclass(frozen=True, slots=True)
class ImportPreview:
    """What an import would do."""

    source: str
    format: str
    new_proposals: int
    known_proposals: int
    new_people: int
    known_people: int
    participations: int
    warnings: tuple[str, ...]
    unlisted: int = 0  # warnings of the file not kept (too many to show): counted only


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did."""

    source: str
    proposals: int
    first: int | None
    last: int | None
    people: int
    known_people: int
    participations: int
    skipped: int


def source_name(source: str) -> str:
    """Return how a source is named to people ("pretalx", "Sessionize", "the CSV template")."""
    return _(SOURCE_NAMES.get(source, source))


def problem_text(problem: Mapping[str, Any]) -> str:
    """Return one problem as a sentence naming its row and column."""
    template = _ROW_PROBLEMS.get(problem["code"], problem["code"])
    what = _(template, value=quoted(str(problem.get("value", "")), 60))
    if problem.get("column"):
        return _(
            "row {row}, column {column}: {what}",
            row=problem["row"],
            column=quoted(problem["column"], 40),
            what=what,
        )
    return _("row {row}: {what}", row=problem["row"], what=what)


def _listed(lines: Sequence[str], more: int = 0) -> list[str]:
    """Return the first ``LISTED`` lines, and how many more there are (``more`` not given)."""
    shown = list(lines[:LISTED])
    rest = max(0, len(lines) - LISTED) + more
    if rest:
        shown.append(_("…and {count} more", count=rest))
    return shown


def _counted(parsed: Mapping[str, Any], severity: str) -> int:
    """Return how many problems of ``severity`` the file has (kept or only counted)."""
    kept = sum(1 for p in parsed["problems"] if p["severity"] == severity)
    return max(kept, int(parsed.get("counted", {}).get(severity, 0)))


class ImportService:
    """Read a call's export, show what it would change, and apply it on Confirm."""

    def __init__(self, db: Database, clock: Callable[[], datetime], config: ConfigService) -> None:
        self._db = db
        self._clock = clock
        self._config = config

    async def read(self, actor: Actor, files: Sequence[tuple[str, bytes]]) -> dict[str, Any]:
        """Return the export's rows (secretariat), or refuse naming what is wrong.

        Refused: a file too large, not a known format, or with errors (each
        named by row and column). Warnings go through to the preview.
        """
        require_secretariat(actor)
        for name, data in files:
            if len(data) > formats.MAX_BYTES:
                raise InvalidInput(self._file_problem(ImportError_("too_large", name)))
        try:
            with gc_paused():
                parsed = await asyncio.to_thread(parse, files)
        except ImportError_ as problem:
            raise InvalidInput(self._file_problem(problem)) from None
        errors = [p for p in parsed["problems"] if p["severity"] == ERROR]
        if errors:
            total = _counted(parsed, ERROR)
            lines = _listed([problem_text(p) for p in errors], more=total - len(errors))
            raise InvalidInput(
                ngettext(
                    "Nothing was imported: {n} problem to fix in the file first.",
                    "Nothing was imported: {n} problems to fix in the file first.",
                    total,
                )
                + "\n"
                + "\n".join(f"- {line}" for line in lines)
            )
        if not parsed["proposals"]:
            raise InvalidInput(_("Nothing to import: the file has no proposals."))
        with gc_paused():
            return await asyncio.to_thread(pack, parsed)

    def _file_problem(self, problem: ImportError_) -> str:
        limit = {
            "too_large": formats.MAX_BYTES // (1024 * 1024),
            "too_many_proposals": formats.MAX_PROPOSALS,
            "too_many_people": formats.MAX_PEOPLE,
            "too_many_rows": formats.MAX_ROWS,
        }
        template = _FILE_PROBLEMS.get(problem.code, problem.code)
        counted = problem.code in ("too_many_proposals", "too_many_people", "malformed")
        value = problem.value if counted else quoted(problem.value, 200)
        return _(template, value=value, limit=limit.get(problem.code, ""))

    async def preview(self, actor: Actor, payload: Mapping[str, Any]) -> ImportPreview:
        """Return what importing ``payload`` (from ``read``) would do now (secretariat)."""
        require_secretariat(actor)
        settings = await self._config.get(actor.guild_id)
        with gc_paused():
            parsed = await asyncio.to_thread(unpack, payload)
            async with self._db.read() as session:
                plan = await _plan(session, actor.guild_id, parsed)
                titles = await store.proposals_by_title(
                    session,
                    guild_id=actor.guild_id,
                    titles={p["title"].lower() for p in plan.new},
                )
        warnings = [problem_text(p) for p in parsed["problems"]]
        unlisted = _counted(parsed, WARNING) - len(warnings)
        subthemes = {fold(s) for s in settings.subthemes}
        for p in plan.new:
            if p["subtheme"] and subthemes and fold(p["subtheme"]) not in subthemes:
                warnings.append(
                    problem_text(
                        {
                            "row": p["row"],
                            "column": "",
                            "code": "unknown_subtheme",
                            "value": p["subtheme"],
                        }
                    )
                )
            number = titles.get(p["title"].lower())
            if number is not None:
                warnings.append(
                    problem_text(
                        {"row": p["row"], "column": "", "code": "same_title", "value": f"#{number}"}
                    )
                )
        return ImportPreview(
            source=parsed["source"],
            format=parsed["format"],
            new_proposals=len(plan.new),
            known_proposals=len(plan.known),
            new_people=len(plan.new_people),
            known_people=len(plan.known_people),
            participations=plan.participations,
            warnings=tuple(warnings),
            unlisted=unlisted,
        )

    async def run(
        self, actor: Actor, payload: Mapping[str, Any], *, confirmed: bool
    ) -> ImportResult:
        """Show the preview and ask for a Confirm; confirmed, import (secretariat)."""
        if not confirmed:
            preview = await self.preview(actor, payload)
            raise ConfirmationNeeded(
                preview_text(preview), _listed(list(preview.warnings), more=preview.unlisted)
            )
        return await self.apply(actor, payload)

    async def apply(self, actor: Actor, payload: Mapping[str, Any]) -> ImportResult:
        """Import ``payload`` in one transaction; what was imported before is left as it is."""
        require_secretariat(actor)
        with gc_paused():
            return await self._apply(actor, payload)

    async def _apply(self, actor: Actor, payload: Mapping[str, Any]) -> ImportResult:
        parsed = await asyncio.to_thread(unpack, payload)
        now = self._clock()
        guild = actor.guild_id
        source = parsed["source"]
        people = {p["sid"]: p for p in parsed["people"]}
        async with self._db.write() as session:
            await store.lock_numbers(session, guild_id=guild)  # one import at a time
            plan = await _plan(session, guild, parsed)
            # Thousands of rows: shaped in a worker thread, written in chunks.
            rows = await asyncio.to_thread(_people_rows, guild, source, people, plan, now)
            await store.insert_people(session, rows=rows)
            keys = {sid: people[sid]["key"] for sid in plan.new_people}
            by_key = await store.people_by_key(session, guild_id=guild, keys=set(keys.values()))
            person_ids = dict(plan.known_people) | {sid: by_key[keys[sid]] for sid in keys}
            first = last = None
            if plan.new:
                first = await store.allocate_numbers(session, guild_id=guild, count=len(plan.new))
                last = first + len(plan.new) - 1
                proposals = await asyncio.to_thread(_proposal_rows, guild, source, plan, first, now)
                await store.insert_proposals(session, rows=proposals)
                ids = await store.proposal_ids_by_number(
                    session, guild_id=guild, first=first, last=last
                )
                links = await asyncio.to_thread(
                    _participation_rows, guild, plan, first, ids, person_ids, people, now
                )
                await store.insert_participations(session, rows=links)
            result = ImportResult(
                source=source,
                proposals=len(plan.new),
                first=first,
                last=last,
                people=len(rows),
                known_people=len(plan.known_people),
                participations=plan.participations,
                skipped=len(plan.known),
            )
            await record_event(
                session,
                guild_id=guild,
                actor_id=actor.user_id,
                action="proposal.import",
                target=f"import:{source}",
                after={
                    "format": parsed["format"],
                    "digest": parsed["digest"][:16],
                    "proposals": result.proposals,
                    "first": first,
                    "last": last,
                    "people": result.people,
                    "skipped": result.skipped,
                },
                at=now,
            )
        return result


def _people_rows(
    guild: int, source: str, people: Mapping[str, Any], plan: _Plan, now: datetime
) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for sid in plan.new_people:
        person = people[sid]
        # Two speakers with one name and affiliation are one person: the first is kept.
        rows.setdefault(
            person["key"],
            {
                "guild_id": guild,
                "key": person["key"],
                "name": person["name"],
                "affiliation": person["affiliation"],
                "affiliation_key": affiliation_key(person["affiliation"]),
                "stakeholder_group": person["stakeholder_group"],
                "region": person["region"],
                "gender": person["gender"],
                "country": person["country"],
                "details_source": "nominator",
                "source": source,
                "source_id": sid[:100],
                "created_at": now,
                "updated_at": now,
            },
        )
    return list(rows.values())


def _proposal_rows(
    guild: int, source: str, plan: _Plan, first: int, now: datetime
) -> list[dict[str, Any]]:
    return [
        {
            "guild_id": guild,
            "number": first + i,
            "kind": p["kind"],
            "status": "submitted",
            "title": p["title"],
            "description": p["description"],
            "policy_questions": p["policy_questions"],
            "expected_outcomes": p["expected_outcomes"],
            "hybrid_plan": p["hybrid_plan"],
            "format": p["format"],
            "duration": p["duration"],
            "subtheme": p["subtheme"],
            "proposer_id": IMPORTED_PROPOSER,
            "proposer_name": p["proposer_name"][:100],
            "proposer_is_mag": False,
            "source": source,
            "source_id": p["sid"][:100],
            "created_at": now,
            "updated_at": now,
        }
        for i, p in enumerate(plan.new)
    ]


def _participation_rows(
    guild: int,
    plan: _Plan,
    first: int,
    ids: Mapping[int, int],
    person_ids: Mapping[str, int],
    people: Mapping[str, Any],
    now: datetime,
) -> list[dict[str, Any]]:
    return [
        {
            "guild_id": guild,
            "proposal_id": ids[first + i],
            "person_id": person_ids[sid],
            "role": role,
            "status": "nominated",
            "agreed_in_principle": False,
            # What the speaker gave the call's system: a claim, kept on the nomination.
            "contact": people[sid].get("email"),
            "invitations": 0,
            "created_at": now,
            "updated_at": now,
        }
        for i, p in enumerate(plan.new)
        for sid, role in p["speakers"]
    ]


@dataclass
class _Plan:
    new: list[dict[str, Any]]
    known: dict[str, int]
    new_people: list[str]
    known_people: dict[str, int]
    participations: int


async def _plan(session: Any, guild_id: int, parsed: Mapping[str, Any]) -> _Plan:
    """Sort the file's rows into new and already known, against the database now."""
    source = parsed["source"]
    proposals = parsed["proposals"]
    known = await store.proposals_by_source(
        session, guild_id=guild_id, source=source, source_ids={p["sid"] for p in proposals}
    )
    new = [p for p in proposals if p["sid"] not in known]
    wanted = {sid for p in new for sid, _role in p["speakers"]}
    people = [p for p in parsed["people"] if p["sid"] in wanted]
    by_source = await store.people_by_source(
        session, guild_id=guild_id, source=source, source_ids={p["sid"][:100] for p in people}
    )
    keys = {p["sid"]: p["key"] for p in people}
    by_key = await store.people_by_key(session, guild_id=guild_id, keys=set(keys.values()))
    known_people: dict[str, int] = {}
    new_people: list[str] = []
    for person in people:
        sid = person["sid"]
        found = by_source.get(sid[:100]) or by_key.get(keys[sid])
        if found is not None:
            known_people[sid] = found
        else:
            new_people.append(sid)
    links = sum(len(p["speakers"]) for p in new)
    return _Plan(new, known, new_people, known_people, links)


def preview_text(preview: ImportPreview) -> str:
    """Return what an import will do, for its Confirm."""
    lines = [
        _(
            "Import from {source} ({format}):",
            source=source_name(preview.source),
            format=preview.format,
        ),
        ngettext(
            "- {n} new proposal, numbered after the existing ones, without a Discord proposer",
            "- {n} new proposals, numbered after the existing ones, without a Discord proposer",
            preview.new_proposals,
        ),
        ngettext(
            "- {n} new person (never linked to a Discord account by the import)",
            "- {n} new people (never linked to a Discord account by the import)",
            preview.new_people,
        ),
        ngettext(
            "- {n} speaker on a proposal, nominated",
            "- {n} speakers on proposals, nominated",
            preview.participations,
        ),
    ]
    if preview.known_people:
        lines.append(
            ngettext(
                "- {n} person already known here (same source id, or same name and "
                "affiliation): kept as they are",
                "- {n} people already known here (same source id, or same name and "
                "affiliation): kept as they are",
                preview.known_people,
            )
        )
    if preview.known_proposals:
        lines.append(
            ngettext(
                "- {n} proposal already imported from this source: left unchanged",
                "- {n} proposals already imported from this source: left unchanged",
                preview.known_proposals,
            )
        )
    if not preview.new_proposals:
        lines.append(_("Everything in this file was imported before: confirming changes nothing."))
    return "\n".join(lines)

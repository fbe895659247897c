"""Reading a call's export: pretalx, Sessionize, or our own CSV template, into plain rows.

Pure functions, no database and no Discord: ``parse`` takes the files'
bytes and returns a JSON-ready dict (it is stored as the pending import, so
the Confirm button works after a restart) with the proposals, the people,
and every problem found, each naming its row and column. It runs in a worker
thread (``asyncio.to_thread``): a large file never holds up the bot.

Formats, as their tools write them:

- pretalx, the organisers' export (*Sessions* and *Speakers*, JSON or CSV):
  keys are the field labels ("ID", "Proposal title", "Speaker IDs"...); in
  CSV a list is one cell joined by new lines or ", ". The API's submissions
  page (``{"results": [{"code", "title", "speakers": [...]}]}``) too.
- Sessionize, the API's *All data* view (``{"sessions", "speakers",
  "categories", "questions"}``) and its *Sessions* view (groups of sessions
  with their speakers and categories).
- Ours: docs/import-template.csv, one row per person on a proposal (see
  docs/import.md).

Rows are counted as a spreadsheet shows them (the header is row 1, the
first record row 2); in a JSON file, row N is the Nth entry of its list.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from bot.services.taxonomy import (
    DURATIONS,
    FORMATS,
    GENDERS,
    KINDS,
    REGIONS,
    STAKEHOLDER_GROUPS,
    fold,
    person_key,
    tidy,
    tidy_block,
)

#: Limits stated in docs/import.md.
MAX_BYTES: Final = 15 * 1024 * 1024
MAX_PROPOSALS: Final = 5_000
MAX_PEOPLE: Final = 30_000
MAX_ROWS: Final = 50_000  # rows of one CSV file, entries of one JSON list: counted as read
MAX_PROBLEMS: Final = 50  # problems kept of each severity (the rest are counted)
MAX_TITLE: Final = 300
MAX_TEXT: Final = 10_000
DEFAULT_DURATION: Final = 60

PRETALX, SESSIONIZE, CSV_TEMPLATE = "pretalx", "sessionize", "csv"
_TOOLS: Final = {"pretalx": "pretalx", "sessionize": "Sessionize", "template": "CSV template"}
SOURCES: Final = (PRETALX, SESSIONIZE, CSV_TEMPLATE)

#: Our template's columns, in order (docs/import.md says what each holds).
TEMPLATE_COLUMNS: Final = (
    "proposal_id",
    "title",
    "kind",
    "format",
    "duration",
    "subtheme",
    "description",
    "policy_questions",
    "expected_outcomes",
    "hybrid_plan",
    "proposer_name",
    "person_id",
    "person_name",
    "affiliation",
    "email",
    "role",
    "stakeholder_group",
    "region",
    "gender",
    "country",
)
ROLES: Final = ("organizer", "speaker", "onsite_moderator", "online_moderator", "rapporteur")

# Problem codes: the service words them (translated) from the code and value.
ERROR, WARNING = "error", "warning"


# The longest id in the source system that is stored (``source_id`` columns).
MAX_SOURCE_ID: Final = 100


class ImportError_(Exception):
    """The file as a whole cannot be read (not a known format, not text, too large)."""

    def __init__(self, code: str, value: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.value = value


class _Collector:
    """The rows read so far and the problems met."""

    def __init__(self, source: str, fmt: str) -> None:
        self.source = source
        self.format = fmt
        self.proposals: list[dict[str, Any]] = []
        self.people: dict[str, dict[str, Any]] = {}
        self.problems: list[dict[str, Any]] = []
        self.counted = {ERROR: 0, WARNING: 0}
        self._seen_proposals: dict[str, int] = {}

    def problem(self, severity: str, row: int, column: str, code: str, value: Any = "") -> None:
        # A file full of errors must not make an endless answer: the first are kept.
        self.counted[severity] += 1
        if self.counted[severity] > MAX_PROBLEMS:
            return
        self.problems.append(
            {
                "severity": severity,
                "row": row,
                "column": column,
                "code": code,
                "value": str(value)[:80],
            }
        )

    def person(self, sid: str, row: int, **values: Any) -> str:
        """Add (or complete) a person; return their id in the file."""
        if len(sid) > MAX_SOURCE_ID:
            self.problem(ERROR, row, "id", "long_id", MAX_SOURCE_ID)
        known = self.people.get(sid)
        if known is None:
            self.people[sid] = {"sid": sid, "row": row, **values}
        else:
            for name, value in values.items():
                if value and not known.get(name):
                    known[name] = value
        return sid

    def proposal(self, row: int, column: str, values: dict[str, Any]) -> dict[str, Any] | None:
        sid = values["sid"]
        if not sid:
            self.problem(ERROR, row, column, "missing")
            return None
        if len(sid) > MAX_SOURCE_ID:
            # Stored in 100 characters: a longer id would not find itself on a re-import.
            self.problem(ERROR, row, column, "long_id", MAX_SOURCE_ID)
            return None
        if sid in self._seen_proposals:
            self.problem(ERROR, row, column, "repeated", sid)
            return None
        self._seen_proposals[sid] = len(self.proposals)
        values["row"] = row
        values.setdefault("speakers", [])
        self.proposals.append(values)
        return values

    def result(self, digest: str) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format,
            "digest": digest,
            "proposals": self.proposals,
            "people": list(self.people.values()),
            "problems": self.problems,
            "counted": self.counted,
        }


# -- entry point ----------------------------------------------------------------------


def parse(files: Sequence[tuple[str, bytes]]) -> dict[str, Any]:
    """Read one export (pretalx sessions may come with their speakers file); see the module."""
    texts: list[tuple[str, str]] = []
    digest = hashlib.sha256()
    for name, data in files:
        if len(data) > MAX_BYTES:
            raise ImportError_("too_large", name)
        digest.update(data)
        try:
            texts.append((name, data.decode("utf-8-sig")))
        except UnicodeDecodeError:
            raise ImportError_("not_utf8", name) from None
    readings = [_read(name, text) for name, text in texts]
    for kind, reading in readings:
        _check_counts(kind, reading)
    try:
        result = _dispatch(readings)
    except (TypeError, AttributeError, KeyError, ValueError):
        # The shape was recognised but a value is not what the tool writes (a
        # number where a list should be...): hand-edited or another tool's file.
        tool = readings[0][0].split("-")[0]
        raise ImportError_("malformed", _TOOLS.get(tool, tool)) from None
    if len(result.proposals) > MAX_PROPOSALS:
        raise ImportError_("too_many_proposals", str(len(result.proposals)))
    if len(result.people) > MAX_PEOPLE:
        raise ImportError_("too_many_people", str(len(result.people)))
    for person in result.people.values():  # computed here, off the event loop
        person["key"] = person_key(person["name"], person["affiliation"])
    return result.result(digest.hexdigest())


def _check_counts(kind: str, reading: Mapping[str, Any]) -> None:
    """Refuse a file with too many proposals or people, before any row is built."""
    proposals = people = 0
    if kind == "pretalx-sessions":  # our template: one row per person (``MAX_ROWS``)
        proposals = len(reading["rows"])
    elif kind == "pretalx-speakers":
        people = len(reading["rows"])
    elif kind == "pretalx-api":
        proposals = len(reading["items"])
    elif kind == "sessionize-all":
        proposals = len(reading["data"]["sessions"])
        people = len(reading["data"]["speakers"])
    elif kind == "sessionize-sessions":
        proposals = sum(
            len(g["sessions"]) for g in reading["data"] if isinstance(g.get("sessions"), list)
        )
    if proposals > MAX_PROPOSALS:
        raise ImportError_("too_many_proposals", str(proposals))
    if people > MAX_PEOPLE:
        raise ImportError_("too_many_people", str(people))


def _dispatch(readings: Sequence[tuple[str, dict[str, Any]]]) -> _Collector:
    """Read the recognised files with their format's reader."""
    kinds = sorted(kind for kind, _reading in readings)
    if len(readings) == 2:
        if kinds != ["pretalx-sessions", "pretalx-speakers"]:
            raise ImportError_("two_files")
        sessions = next(r for k, r in readings if k == "pretalx-sessions")
        speakers = next(r for k, r in readings if k == "pretalx-speakers")
        return _pretalx(sessions, speakers, fmt=sessions["format"])
    kind, reading = readings[0]
    if kind == "pretalx-speakers":
        raise ImportError_("speakers_alone")
    if kind == "pretalx-sessions":
        return _pretalx(reading, None, fmt=reading["format"])
    if kind == "pretalx-api":
        return _pretalx_api(reading["items"])
    if kind == "sessionize-all":
        return _sessionize_all(reading["data"])
    if kind == "sessionize-sessions":
        return _sessionize_sessions(reading["data"])
    return _template(reading["header"], reading["rows"])


def pack(parsed: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``parsed`` as the stored request carries it: compressed JSON lines.

    Stored as one string, the database layer has almost nothing to encode on
    the event loop (a 2,000-proposal call is 6 MB of JSON, 1 MB packed); one
    line per record keeps each decoding step short, so the worker thread that
    unpacks it never holds the interpreter for long.
    """
    head = {k: v for k, v in parsed.items() if k not in ("proposals", "people")}
    lines = [json.dumps(head, separators=(",", ":"))]
    lines += ["P" + json.dumps(p, separators=(",", ":")) for p in parsed["proposals"]]
    lines += ["S" + json.dumps(p, separators=(",", ":")) for p in parsed["people"]]
    data = zlib.compress("\n".join(lines).encode(), 1)
    return {
        "packed": base64.b64encode(data).decode("ascii"),
        "source": parsed["source"],
        "digest": parsed["digest"],
    }


def unpack(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Return what ``pack`` packed."""
    lines = zlib.decompress(base64.b64decode(payload["packed"])).decode().split("\n")
    parsed: dict[str, Any] = json.loads(lines[0])
    parsed["proposals"] = [json.loads(line[1:]) for line in lines[1:] if line[0] == "P"]
    parsed["people"] = [json.loads(line[1:]) for line in lines[1:] if line[0] == "S"]
    return parsed


_DECODER: Final = json.JSONDecoder()
_SPACE: Final = " \t\n\r"


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in _SPACE:
        at += 1
    return at


def _expect(text: str, at: int, char: str) -> int:
    if at >= len(text) or text[at] != char:
        raise json.JSONDecodeError(f"Expecting {char!r}", text, at)
    return at + 1


def _items(text: str, at: int) -> tuple[list[Any], int]:
    """Decode the array at ``at`` one element at a time; return it and the end."""
    at = _skip(text, _expect(text, at, "["))
    items: list[Any] = []
    if at < len(text) and text[at] == "]":
        return items, at + 1
    while True:
        item, at = _DECODER.raw_decode(text, _skip(text, at))
        items.append(item)
        at = _skip(text, at)
        if at < len(text) and text[at] == "]":
            return items, at + 1
        at = _expect(text, at, ",")


def loads(text: str) -> Any:
    """Return ``json.loads(text)``, decoding the top level's arrays element by element.

    One ``json.loads`` of a 5 MB export holds the interpreter (and so the bot's
    event loop) for tens of milliseconds; element by element, the worker
    thread lets the loop run between them.
    """
    at = _skip(text, 0)
    value: Any
    if text[at : at + 1] == "[":
        value, at = _items(text, at)
    elif text[at : at + 1] == "{":
        value, at = {}, _skip(text, at + 1)
        if text[at : at + 1] != "}":
            while True:
                key, at = _DECODER.raw_decode(text, _skip(text, at))
                at = _skip(text, _expect(text, _skip(text, at), ":"))
                if text[at : at + 1] == "[":
                    value[key], at = _items(text, at)
                else:
                    value[key], at = _DECODER.raw_decode(text, at)
                at = _skip(text, at)
                if text[at : at + 1] == "}":
                    break
                at = _expect(text, at, ",")
        at += 1
    else:
        value, at = _DECODER.raw_decode(text, at)
    if _skip(text, at) != len(text):
        raise json.JSONDecodeError("Extra data", text, _skip(text, at))
    return value


def _read(name: str, text: str) -> tuple[str, dict[str, Any]]:
    """Recognise one file: return its kind and what was read."""
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            data = loads(stripped)
        except json.JSONDecodeError as error:
            raise ImportError_("bad_json", f"{error.lineno}:{error.colno}") from None
        except (RecursionError, TypeError, ValueError):
            # Nested past Python's limit, or keys that are not text: not an export.
            raise ImportError_("bad_json", "?") from None
        return _recognise_json(data)
    rows: list[list[str]] = []
    try:
        for record in csv.reader(io.StringIO(text, newline="")):
            if len(rows) > MAX_ROWS:  # the header and MAX_ROWS rows read: stop here
                raise ImportError_("too_many_rows", str(MAX_ROWS))
            rows.append(record)
    except csv.Error as error:
        raise ImportError_("bad_csv", str(error)[:80]) from None
    if not rows:
        raise ImportError_("empty", name)
    header = [h.strip() for h in rows[0]]
    folded = {fold(h) for h in header}
    numbered = [(i + 2, dict(zip(header, r, strict=False))) for i, r in enumerate(rows[1:])]
    numbered = [(n, r) for n, r in numbered if any((v or "").strip() for v in r.values())]
    if "id" in folded and "proposal title" in folded:
        return "pretalx-sessions", {"rows": numbered, "format": "pretalx CSV"}
    if "id" in folded and "name" in folded and folded & {"proposal ids", "email", "biography"}:
        return "pretalx-speakers", {"rows": numbered}
    if "proposal_id" in folded and "title" in folded:
        return "template", {"header": header, "rows": numbered}
    raise ImportError_("unknown_csv", ", ".join(header[:8]))


def _recognise_json(data: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(data, dict):
        if isinstance(data.get("sessions"), list) and isinstance(data.get("speakers"), list):
            return "sessionize-all", {"data": data}
        results = data.get("results")
        if isinstance(results, list) and all(
            isinstance(r, dict) and "code" in r and "title" in r for r in results
        ):
            return "pretalx-api", {"items": results}
        raise ImportError_("unknown_json", ", ".join(list(data)[:8]))
    if isinstance(data, list):
        if not data:
            raise ImportError_("empty", "")
        if len(data) > MAX_ROWS:
            raise ImportError_("too_many_rows", str(MAX_ROWS))
        items = [d for d in data if isinstance(d, dict)]
        if len(items) != len(data):
            raise ImportError_("unknown_json", "")
        keys = {fold(k) for d in items[:50] for k in d}
        if all("sessions" in d and ("groupId" in d or "groupName" in d) for d in items):
            return "sessionize-sessions", {"data": items}
        numbered = [(i + 1, d) for i, d in enumerate(items)]
        if "id" in keys and "proposal title" in keys:
            return "pretalx-sessions", {"rows": numbered, "format": "pretalx JSON"}
        if "id" in keys and "name" in keys and keys & {"proposal ids", "email", "biography"}:
            return "pretalx-speakers", {"rows": numbered}
        raise ImportError_("unknown_json", ", ".join(sorted(keys)[:8]))
    raise ImportError_("unknown_json", "")


# -- shared field handling ------------------------------------------------------------


def _get(record: Mapping[str, Any], *names: str) -> tuple[str, Any]:
    """Return (the column as written, its value) of the first of ``names`` present."""
    by_fold = {fold(str(k)): k for k in record}
    for name in names:
        key = by_fold.get(fold(name))
        if key is not None:
            return str(key), record[key]
    return names[0], None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):  # pretalx's multilingual strings: {"en": "...", ...}
        value = value.get("en") or next(iter(value.values()), "")
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _list(value: Any) -> list[str]:
    """Return a list cell as items: a JSON list, or text joined by new lines or ", "."""
    if value is None:
        return []
    if isinstance(value, list):
        return [tidy(_text(v)) for v in value if tidy(_text(v))]
    text = str(value)
    parts = text.splitlines() if "\n" in text else text.split(",")
    return [tidy(p) for p in parts if tidy(p)]


def _question(record: Mapping[str, Any], *needles: str) -> str:
    """Return the answer of a question whose text contains one of ``needles`` (folded)."""
    for key, value in record.items():
        folded = fold(str(key))
        if any(n in folded for n in needles) and value not in (None, ""):
            return _text(value)
    return ""


def _title(c: _Collector, row: int, column: str, value: Any) -> str | None:
    title = tidy(_text(value))
    if not title:
        c.problem(ERROR, row, column, "missing")
        return None
    if len(title) > MAX_TITLE:
        c.problem(WARNING, row, column, "clipped", MAX_TITLE)
        title = title[:MAX_TITLE]
    return title


def _block(c: _Collector, row: int, column: str, value: Any) -> str:
    text = tidy_block(_text(value))
    if len(text) > MAX_TEXT:
        c.problem(WARNING, row, column, "clipped", MAX_TEXT)
        text = text[:MAX_TEXT]
    return text


def _duration(c: _Collector, row: int, column: str, value: Any) -> int:
    text = _text(value).strip()
    if not text:
        return DEFAULT_DURATION
    try:
        minutes = int(float(text))
    except ValueError:
        c.problem(ERROR, row, column, "not_minutes", text)
        return DEFAULT_DURATION
    if not 1 <= minutes <= 24 * 60:
        c.problem(ERROR, row, column, "not_minutes", text)
        return DEFAULT_DURATION
    if minutes not in DURATIONS:
        c.problem(WARNING, row, column, "odd_duration", minutes)
    return minutes


def _choice(value: str, choices: Iterable[str]) -> str | None:
    wanted = fold(value)
    if not wanted:
        return None
    options = list(choices)
    for found in (
        [o for o in options if fold(o) == wanted],
        [o for o in options if fold(o).startswith(wanted)],
        [o for o in options if f"({wanted})" in fold(o)],  # GRULAC, WEOG
    ):
        if len(found) == 1:
            return found[0]
    return None


def _format(c: _Collector, row: int, column: str, value: str) -> str:
    if not value.strip():
        return "Other"
    found = _choice(value, FORMATS)
    if found is None:
        c.problem(WARNING, row, column, "unknown_format", value)
        return "Other"
    return found


def _kind(value: str) -> str:
    wanted = fold(value).replace("_", " ")
    for key, label in KINDS.items():
        if wanted and (wanted == fold(key).replace("_", " ") or fold(label) in wanted):
            return key
    return "workshop"


def _person_values(
    c: _Collector,
    row: int,
    *,
    name: str,
    affiliation: str = "",
    email: str = "",
    group: tuple[str, str] = ("", ""),
    region: tuple[str, str] = ("", ""),
    gender: tuple[str, str] = ("", ""),
    country: str = "",
    strict: bool = False,
) -> dict[str, Any]:
    """Return a person's stored values; unknown choices: errors when ``strict`` (our template)."""
    email = tidy(email)
    if email and ("@" not in email or " " in email or len(email) > 254):
        c.problem(WARNING, row, "email", "bad_email", email)
        email = ""
    chosen = {}
    for field, (column, value), options in (
        ("stakeholder_group", group, STAKEHOLDER_GROUPS),
        ("region", region, REGIONS),
        ("gender", gender, GENDERS),
    ):
        value = tidy(value)
        found = _choice(value, options) if value else ""
        if found is None:
            c.problem(ERROR if strict else WARNING, row, column, "unknown_choice", value)
            found = ""
        chosen[field] = found
    return {
        "name": tidy(name)[:200],
        "affiliation": tidy(affiliation)[:300] or None,
        "email": email or None,
        "country": tidy(country)[:100] or None,
        **chosen,
    }


# -- pretalx --------------------------------------------------------------------------


def _pretalx(
    sessions: Mapping[str, Any], speakers: Mapping[str, Any] | None, *, fmt: str
) -> _Collector:
    c = _Collector(PRETALX, fmt)
    known: dict[str, dict[str, Any]] = {}
    if speakers is not None:
        for row, record in speakers["rows"]:
            column, code = _get(record, "ID")
            code = tidy(_text(code))
            name_column, name = _get(record, "Name")
            if not code:
                c.problem(ERROR, row, column, "missing")
                continue
            if not tidy(_text(name)):
                c.problem(ERROR, row, name_column, "missing")
                continue
            known[code] = {
                "row": row,
                "name": _text(name),
                "email": _text(_get(record, "Email")[1]),
                "affiliation": _question(record, "affiliation", "organisation", "organization"),
                "group": ("Stakeholder group", _question(record, "stakeholder")),
                "region": ("Region", _question(record, "region")),
                "gender": ("Gender", _question(record, "gender")),
                "country": _question(record, "country"),
            }
    for row, record in sessions["rows"]:
        id_column, code = _get(record, "ID")
        title_column, title_value = _get(record, "Proposal title", "Title")
        title = _title(c, row, title_column, title_value)
        type_column, session_type = _get(record, "Session type")
        duration_column, duration = _get(record, "Duration")
        abstract = _text(_get(record, "Abstract")[1])
        description = _text(_get(record, "Description")[1])
        text = "\n\n".join(t for t in (abstract, description) if t.strip())
        values = {
            "sid": tidy(_text(code)),
            "title": title or "",
            "kind": _kind(_text(session_type)),
            "format": _format(c, row, type_column, _text(session_type)),
            "duration": _duration(c, row, duration_column, duration),
            "subtheme": tidy(_text(_get(record, "Track")[1]))[:100],
            "description": _block(c, row, "Abstract", text),
            "policy_questions": _block(c, row, "", _question(record, "policy question")),
            "expected_outcomes": _block(c, row, "", _question(record, "expected outcome")),
            "hybrid_plan": _block(c, row, "", _question(record, "hybrid")),
            "proposer_name": "",
        }
        if title is None:
            continue
        proposal = c.proposal(row, id_column, values)
        if proposal is None:
            continue
        ids_column, ids = _get(record, "Speaker IDs")
        names = _get(record, "Speaker names")[1]
        codes, named = _list(ids), _list(names)
        if not codes and named:  # names without ids: the names are the ids
            codes = [f"name:{fold(n)}" for n in named]
        for index, speaker in enumerate(codes):
            info = known.get(speaker)
            if info is None:
                name = named[index] if len(named) == len(codes) else ""
                if not name:
                    c.problem(WARNING, row, ids_column, "unknown_speaker", speaker)
                    continue
                info = {"row": row, "name": name}
            person = _person_values(
                c,
                info["row"],
                name=info["name"],
                affiliation=info.get("affiliation", ""),
                email=info.get("email", ""),
                group=info.get("group", ("", "")),
                region=info.get("region", ("", "")),
                gender=info.get("gender", ("", "")),
                country=info.get("country", ""),
            )
            c.person(speaker, info["row"], **person)
            proposal["speakers"].append([speaker, "speaker"])
        if proposal["speakers"]:
            proposal["proposer_name"] = c.people[proposal["speakers"][0][0]]["name"]
    return c


def _pretalx_api(items: Sequence[Mapping[str, Any]]) -> _Collector:
    c = _Collector(PRETALX, "pretalx API JSON")
    for index, record in enumerate(items, start=1):
        title = _title(c, index, "title", record.get("title"))
        session_type = _text(record.get("submission_type"))
        text = "\n\n".join(
            t for t in (_text(record.get("abstract")), _text(record.get("description"))) if t
        )
        values = {
            "sid": tidy(_text(record.get("code"))),
            "title": title or "",
            "kind": _kind(session_type),
            "format": _format(c, index, "submission_type", session_type),
            "duration": _duration(c, index, "duration", record.get("duration")),
            "subtheme": tidy(_text(record.get("track")))[:100],
            "description": _block(c, index, "abstract", text),
            "policy_questions": "",
            "expected_outcomes": "",
            "hybrid_plan": "",
            "proposer_name": "",
        }
        if title is None:
            continue
        proposal = c.proposal(index, "code", values)
        if proposal is None:
            continue
        for speaker in record.get("speakers") or ():
            if not isinstance(speaker, dict):
                continue
            code, name = tidy(_text(speaker.get("code"))), tidy(_text(speaker.get("name")))
            if not code or not name:
                c.problem(WARNING, index, "speakers", "unknown_speaker", code or name)
                continue
            person = _person_values(c, index, name=name, email=_text(speaker.get("email")))
            c.person(code, index, **person)
            proposal["speakers"].append([code, "speaker"])
        if proposal["speakers"]:
            proposal["proposer_name"] = c.people[proposal["speakers"][0][0]]["name"]
    return c


# -- Sessionize -----------------------------------------------------------------------


def _categories(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Return format, subtheme and kind from (category title, item name) pairs."""
    found: dict[str, str] = {}
    for title, name in items:
        folded = fold(title)
        if "format" in folded:
            found.setdefault("format", name)
        elif any(w in folded for w in ("track", "topic", "theme")):
            found.setdefault("subtheme", name)
        elif "type" in folded:
            found.setdefault("kind", name)
    return found


def _sessionize_session(
    c: _Collector, row: int, record: Mapping[str, Any], categories: Mapping[str, str]
) -> dict[str, Any] | None:
    title = _title(c, row, "title", record.get("title"))
    answers = {
        _text(a.get("question")): a.get("answer") or a.get("answerValue")
        for a in record.get("questionAnswers") or ()
        if isinstance(a, dict)
    }
    values = {
        "sid": tidy(_text(record.get("id"))),
        "title": title or "",
        "kind": _kind(categories.get("kind", "")),
        "format": _format(c, row, "categories", categories.get("format", "")),
        "duration": DEFAULT_DURATION,
        "subtheme": tidy(categories.get("subtheme", ""))[:100],
        "description": _block(c, row, "description", record.get("description")),
        "policy_questions": _block(c, row, "", _question(answers, "policy question")),
        "expected_outcomes": _block(c, row, "", _question(answers, "expected outcome")),
        "hybrid_plan": _block(c, row, "", _question(answers, "hybrid")),
        "proposer_name": "",
    }
    if title is None:
        return None
    return c.proposal(row, "id", values)


def _sessionize_all(data: Mapping[str, Any]) -> _Collector:
    c = _Collector(SESSIONIZE, "Sessionize JSON (All data)")
    items: dict[str, tuple[str, str]] = {}
    for category in data.get("categories") or ():
        if isinstance(category, dict):
            for item in category.get("items") or ():
                if isinstance(item, dict):
                    items[str(item.get("id"))] = (
                        _text(category.get("title")),
                        _text(item.get("name")),
                    )
    questions = {
        str(q.get("id")): _text(q.get("question"))
        for q in data.get("questions") or ()
        if isinstance(q, dict)
    }
    speakers: dict[str, dict[str, Any]] = {}
    for index, speaker in enumerate(data.get("speakers") or (), start=1):
        if not isinstance(speaker, dict):
            continue
        sid = tidy(_text(speaker.get("id")))
        name = tidy(_text(speaker.get("fullName"))) or tidy(
            f"{_text(speaker.get('firstName'))} {_text(speaker.get('lastName'))}"
        )
        if not sid or not name:
            c.problem(ERROR, index, "speakers.fullName" if sid else "speakers.id", "missing")
            continue
        answers = {
            questions.get(str(a.get("questionId")), ""): a.get("answerValue")
            for a in speaker.get("questionAnswers") or ()
            if isinstance(a, dict)
        }
        speakers[sid] = {"row": index, "name": name, "answers": answers}
    for index, session in enumerate(data["sessions"], start=1):
        if not isinstance(session, dict) or session.get("isServiceSession"):
            continue  # breaks and lunches are not proposals
        pairs = [items[str(i)] for i in session.get("categoryItems") or () if str(i) in items]
        answers_s = {
            "questionAnswers": [
                {
                    "question": questions.get(str(a.get("questionId")), ""),
                    "answer": a.get("answerValue"),
                }
                for a in session.get("questionAnswers") or ()
                if isinstance(a, dict)
            ]
        }
        proposal = _sessionize_session(c, index, {**session, **answers_s}, _categories(pairs))
        if proposal is None:
            continue
        for ident in session.get("speakers") or ():
            sid = tidy(_text(ident))
            info = speakers.get(sid)
            if info is None:
                c.problem(WARNING, index, "speakers", "unknown_speaker", sid)
                continue
            answers = info["answers"]
            person = _person_values(
                c,
                info["row"],
                name=info["name"],
                affiliation=_question(
                    answers, "affiliation", "organisation", "organization", "company"
                ),
                email=_question(answers, "email", "e-mail"),
                group=("stakeholder", _question(answers, "stakeholder")),
                region=("region", _question(answers, "region")),
                gender=("gender", _question(answers, "gender")),
                country=_question(answers, "country"),
            )
            c.person(sid, info["row"], **person)
            proposal["speakers"].append([sid, "speaker"])
        if proposal["speakers"]:
            proposal["proposer_name"] = c.people[proposal["speakers"][0][0]]["name"]
    return c


def _sessionize_sessions(groups: Sequence[Mapping[str, Any]]) -> _Collector:
    c = _Collector(SESSIONIZE, "Sessionize JSON (Sessions)")
    index = 0
    for group in groups:
        for session in group.get("sessions") or ():
            index += 1
            if not isinstance(session, dict) or session.get("isServiceSession"):
                continue
            pairs = [
                (_text(cat.get("name")), _text(item.get("name")))
                for cat in session.get("categories") or ()
                if isinstance(cat, dict)
                for item in cat.get("categoryItems") or ()
                if isinstance(item, dict)
            ]
            proposal = _sessionize_session(c, index, session, _categories(pairs))
            if proposal is None:
                continue
            for speaker in session.get("speakers") or ():
                if not isinstance(speaker, dict):
                    continue
                sid, name = tidy(_text(speaker.get("id"))), tidy(_text(speaker.get("name")))
                if not sid or not name:
                    c.problem(WARNING, index, "speakers", "unknown_speaker", sid or name)
                    continue
                c.person(sid, index, **_person_values(c, index, name=name))
                proposal["speakers"].append([sid, "speaker"])
            if proposal["speakers"]:
                proposal["proposer_name"] = c.people[proposal["speakers"][0][0]]["name"]
    return c


# -- our template ---------------------------------------------------------------------


def _template(header: Sequence[str], rows: Sequence[tuple[int, dict[str, str]]]) -> _Collector:
    c = _Collector(CSV_TEMPLATE, "CSV template")
    unknown = [h for h in header if h and h not in TEMPLATE_COLUMNS]
    for column in unknown:
        c.problem(WARNING, 1, column, "unknown_column")
    by_id: dict[str, dict[str, Any]] = {}
    for row, record in rows:
        cell = {k: (v or "") for k, v in record.items()}
        sid = tidy(cell.get("proposal_id"))
        if not sid:
            c.problem(ERROR, row, "proposal_id", "missing")
            continue
        proposal = by_id.get(sid)
        if proposal is None:
            title = _title(c, row, "title", cell.get("title"))
            if title is None:
                continue
            kind_text = tidy(cell.get("kind"))
            kind = _kind(kind_text) if kind_text else "workshop"
            if kind_text and kind == "workshop" and fold(kind_text) not in ("workshop",):
                c.problem(ERROR, row, "kind", "unknown_choice", kind_text)
            values = {
                "sid": sid,
                "title": title,
                "kind": kind,
                "format": _format(c, row, "format", cell.get("format", "")),
                "duration": _duration(c, row, "duration", cell.get("duration")),
                "subtheme": tidy(cell.get("subtheme"))[:100],
                "description": _block(c, row, "description", cell.get("description")),
                "policy_questions": _block(
                    c, row, "policy_questions", cell.get("policy_questions")
                ),
                "expected_outcomes": _block(
                    c, row, "expected_outcomes", cell.get("expected_outcomes")
                ),
                "hybrid_plan": _block(c, row, "hybrid_plan", cell.get("hybrid_plan")),
                "proposer_name": tidy(cell.get("proposer_name"))[:100],
            }
            proposal = c.proposal(row, "proposal_id", values)
            if proposal is None:
                continue
            by_id[sid] = proposal
        name = tidy(cell.get("person_name"))
        if not name:
            if any(tidy(cell.get(k)) for k in ("person_id", "affiliation", "email", "role")):
                c.problem(ERROR, row, "person_name", "missing")
            continue
        role = fold(cell.get("role") or "speaker").replace(" ", "_").replace("-", "_")
        if role not in ROLES:
            c.problem(ERROR, row, "role", "unknown_choice", cell.get("role"))
            continue
        person = _person_values(
            c,
            row,
            name=name,
            affiliation=cell.get("affiliation", ""),
            email=cell.get("email", ""),
            group=("stakeholder_group", cell.get("stakeholder_group", "")),
            region=("region", cell.get("region", "")),
            gender=("gender", cell.get("gender", "")),
            country=cell.get("country", ""),
            strict=True,
        )
        person_id = tidy(cell.get("person_id"))
        sid_person = person_id or f"key:{person_key(person['name'], person['affiliation'])}"
        c.person(sid_person, row, **person)
        if [sid_person, role] not in proposal["speakers"]:
            proposal["speakers"].append([sid_person, role])
        if not proposal["proposer_name"]:
            proposal["proposer_name"] = person["name"][:100]
    return c

"""``/proposal export``: every proposal with its people and review summary, as CSV or JSON.

The CSV has one row per person on a proposal (a proposal with nobody on it
still gets one row), so that a spreadsheet can filter and count; the long
form fields are in the JSON only. Contact details, gender and scores are for
the secretariat: MAG members get the same file without them. Cells that a
spreadsheet would run as a formula are defused with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import InvalidInput, PermissionDenied
from bot.i18n import _
from bot.services.auth import Actor
from bot.services.config import settings_from_row
from bot.services.proposals import NAME_REVIEWERS, reviewer_letter
from bot.services.scoring import ScoreSummary, summaries
from bot.services.taxonomy import proposal_label
from bot.services.visibility import BLIND, Nominee, nominee
from storage.audit import record_event
from storage.config import get_guild_config
from storage.database import Database
from storage.decisions import latest_published
from storage.panellists import people_on
from storage.proposals import Proposal, list_proposals
from storage.reviews import lettered_reviews, review_counts

ExportFormat = Literal["csv", "json"]
FORMATS: Final = ("csv", "json")
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")

PROPOSAL_COLUMNS: Final = (
    "number",
    "label",
    "kind",
    "status",
    "title",
    "subtheme",
    "format",
    "duration",
    "proposer_id",
    "proposer_name",
    "submitted_at",
    "screening",
    "review_count",
)
SCORE_COLUMNS: Final = ("mean", "median", "spread", "merge_flags", "excluded_conflicted")
PERSON_COLUMNS: Final = (
    "participation_id",
    "person_id",
    "name",
    "affiliation",
    "stakeholder_group",
    "region",
    "country",
    "role",
    "attendance",
    "participation_status",
    "agreed_in_principle",
)
PRIVATE_COLUMNS: Final = ("gender", "contact", "contact_given_by")
LONG_FIELDS: Final = ("description", "policy_questions", "expected_outcomes", "hybrid_plan")


@dataclass(frozen=True)
class ExportFile:
    """An export ready to attach."""

    filename: str
    content: bytes
    proposals: int
    private: bool


def defuse(value: Any) -> Any:
    """Return a cell that a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _screening(proposal: Proposal) -> str:
    if proposal.screening is None:
        return ""
    return "pass" if proposal.screening.get("passed") else "fail"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


class ExportService:
    """Build the proposals export."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._clock = clock

    async def export(self, actor: Actor, fmt: str) -> ExportFile:
        """Return every proposal of the guild as a CSV or JSON file."""
        if fmt not in FORMATS:
            raise InvalidInput(_("Export as csv or json."))
        if not (actor.can_act_as_secretariat or actor.is_mag):
            raise PermissionDenied(_("Only the secretariat and MAG members can export proposals."))
        private = actor.can_act_as_secretariat
        now = self._clock()
        async with self._db.write() as session:
            rules = settings_from_row(
                actor.guild_id, await get_guild_config(session, actor.guild_id)
            ).rules
            # Blind review: MAG members' files say what proposals say, not who is behind them.
            blind = not private and bool(rules.get(BLIND))
            proposals = await list_proposals(session, guild_id=actor.guild_id)
            people: dict[int, list[Nominee]] = defaultdict(list)
            if not blind:
                for pa, pe in await people_on(session, guild_id=actor.guild_id, proposal_ids=None):
                    people[pa.proposal_id].append(nominee(actor, pa, pe))
            ids = [p.id for p in proposals if p.id is not None]
            counts = await review_counts(session, guild_id=actor.guild_id, proposal_ids=ids)
            scores = await summaries(session, guild_id=actor.guild_id) if private else {}
            comments: dict[int, list[dict[str, Any]]] = {}
            decisions: dict[int, dict[str, Any]] = {}
            if private and fmt == "json":
                comments = await _comments(session, actor.guild_id)
                for pid, row in (
                    await latest_published(session, guild_id=actor.guild_id, proposal_ids=ids)
                ).items():
                    decisions[pid] = {
                        "outcome": row.outcome,
                        "reason": row.reason,
                        "conditions": row.conditions,
                        "published_at": row.published_at.isoformat() if row.published_at else None,
                        "confirm_by": row.confirm_by.isoformat() if row.confirm_by else None,
                        "confirmed_at": row.confirmed_at.isoformat() if row.confirmed_at else None,
                        "proposer_told": row.notice,
                    }
            # Who took personal data out, and when, is worth knowing later.
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="proposal.export",
                target="export",
                after={"format": fmt, "proposals": len(proposals), "private": private},
                at=now,
            )
        if fmt == "csv":
            content = _csv(proposals, people, counts, scores, private, blind)
        else:
            content = _json(proposals, people, counts, scores, private, comments, decisions, blind)
        stamp = now.strftime("%Y%m%d-%H%M")
        return ExportFile(f"proposals-{stamp}.{fmt}", content, len(proposals), private)


async def _comments(session: AsyncSession, guild_id: int) -> dict[int, list[dict[str, Any]]]:
    """Return each proposal's reviews for the secretariat, reviewers named per the guild rule."""
    rules = settings_from_row(guild_id, await get_guild_config(session, guild_id)).rules
    named = bool(rules.get(NAME_REVIEWERS, True))
    return {
        pid: [
            {
                "reviewer": str(r.member_id) if named else f"Reviewer {reviewer_letter(index)}",
                "score": r.score,
                "comment": r.comment,
                "merge": r.merge,
            }
            for index, r in enumerate(rows)
        ]
        for pid, rows in (await lettered_reviews(session, guild_id=guild_id)).items()
    }


def _proposal_fields(proposal: Proposal, review_count: int, blind: bool) -> dict[str, Any]:
    return {
        "number": proposal.number,
        "label": proposal_label(proposal.kind, proposal.number),
        "kind": proposal.kind,
        "status": proposal.status,
        "title": proposal.title,
        "subtheme": proposal.subtheme,
        "format": proposal.format,
        "duration": proposal.duration,
        "proposer_id": "" if blind else str(proposal.proposer_id),
        "proposer_name": "" if blind else proposal.proposer_name,
        "submitted_at": proposal.created_at.isoformat(),
        "screening": _screening(proposal),
        "review_count": review_count,
    }


def _score_fields(summary: ScoreSummary | None) -> dict[str, Any]:
    s = summary or ScoreSummary.of([])
    return {
        "mean": _round(s.mean),
        "median": s.median,
        "spread": _round(s.spread),
        "merge_flags": s.merges,
        "excluded_conflicted": s.excluded,
    }


def _person_fields(n: Nominee) -> dict[str, Any]:
    """Return one person's columns, as the policy lets the reader see them."""
    fields: dict[str, Any] = {
        "participation_id": n.participation_id,
        "person_id": n.person_id,
        "name": n.name,
        "affiliation": n.affiliation or "",
        "stakeholder_group": n.stakeholder_group,
        "region": n.region,
        "country": n.country or "",
        "role": n.role,
        "attendance": n.attendance or "",
        "participation_status": n.status,
        "agreed_in_principle": n.agreed,
    }
    if n.gender is not None:  # the secretariat's view (``bot.services.visibility``)
        fields["gender"] = n.gender
        fields["contact"] = n.contact or n.contact_claim or ""
        fields["contact_given_by"] = (
            "person" if n.contact else ("nominator" if n.contact_claim else "")
        )
    return fields


def _csv(
    proposals: Sequence[Proposal],
    people: dict[int, list[Nominee]],
    counts: dict[int, int],
    scores: dict[int, ScoreSummary],
    private: bool,
    blind: bool,
) -> bytes:
    columns = [
        *PROPOSAL_COLUMNS,
        *(SCORE_COLUMNS if private else ()),
        *PERSON_COLUMNS,
        *(PRIVATE_COLUMNS if private else ()),
    ]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for proposal in proposals:
        pid = proposal.id or 0
        base = _proposal_fields(proposal, counts.get(pid, 0), blind)
        if private:
            base |= _score_fields(scores.get(pid))
        rows: list[Nominee | None] = [*people.get(pid, [])] or [None]
        for row in rows:
            line = dict(base)
            if row is not None:
                line |= _person_fields(row)
            writer.writerow({k: defuse(v) for k, v in line.items()})
    # A byte-order mark lets spreadsheet programs read accents correctly.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _json(
    proposals: Sequence[Proposal],
    people: dict[int, list[Nominee]],
    counts: dict[int, int],
    scores: dict[int, ScoreSummary],
    private: bool,
    comments: dict[int, list[dict[str, Any]]],
    decisions: dict[int, dict[str, Any]],
    blind: bool,
) -> bytes:
    items = []
    for proposal in proposals:
        pid = proposal.id or 0
        item = _proposal_fields(proposal, counts.get(pid, 0), blind)
        item |= {name: getattr(proposal, name) for name in LONG_FIELDS}
        item["screening_failures"] = (proposal.screening or {}).get("failures", [])
        if private:
            item["scores"] = _score_fields(scores.get(pid))
            item["reviews"] = comments.get(pid, [])
            item["decision"] = decisions.get(pid)
        item["people"] = [_person_fields(n) for n in people.get(pid, [])]
        items.append(item)
    return json.dumps({"proposals": items}, ensure_ascii=False, indent=1).encode("utf-8")

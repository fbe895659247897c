"""A second review round, for the proposals near the cut only.

After the reviews deadline the secretariat may open another round for the
borderline band (``ReviewService.borderline``): its window is a deadline of
kind *reviews* (its reminders chase the reviewers who have not scored those
proposals again), scoring reopens for those proposals only, each of their
assigned reviewers is told once by direct message (the outbox), and
``/review queue`` lists what is left to score again. A score given or
changed after the round opened counts for it; it replaces the earlier one,
so the results and the ranking read the latest scores as always.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from bot.errors import ConfirmationNeeded, Conflict, InvalidInput
from bot.i18n import SOURCE, _, ngettext
from bot.services.auth import Actor, require_secretariat
from bot.services.config import ConfigService
from bot.services.deadlines import DeadlineService, parse_due
from bot.services.outbox import Post, RoundNotice
from bot.services.recurrence import to_utc
from bot.services.reminders import PersonLanguage
from bot.services.reviews import ReviewService
from bot.services.sending import OutboxService, nonce_of
from bot.services.sending import ref_of as outbox_ref
from bot.services.taxonomy import CLOSED_TO_REVIEW
from storage.audit import record_event
from storage.database import Database
from storage.deadlines import latest_due
from storage.outbox import NewItem, OutboxItem, enqueue, user_lane
from storage.reviews import (
    ReviewRound,
    last_round_number,
    open_round,
    round_pairs,
)

ROUND: Final = "review-round"  # the outbox kind of a reviewer's round DM


@dataclass(frozen=True)
class RoundView:
    """A review round as opened."""

    number: int
    proposals: tuple[str, ...]  # labels
    closes_at: datetime
    reviewers: int
    deadline_number: int | None


class RoundService:
    """Open later review rounds for the borderline proposals (secretariat)."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        config: ConfigService,
        reviews: ReviewService,
        deadlines: DeadlineService,
        outbox: OutboxService,
        *,
        person_language: PersonLanguage | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._config = config
        self._reviews = reviews
        self._deadlines = deadlines
        self.outbox = outbox
        self._person_language = person_language
        outbox.register(ROUND, self._prepare)

    async def open(
        self,
        actor: Actor,
        accept: int,
        closes: str,
        *,
        subtheme: str | None = None,
        confirmed: bool = False,
    ) -> RoundView:
        """Open a round for the proposals near the cut for ``accept`` workshops until ``closes``."""
        require_secretariat(actor)
        settings = await self._config.get(actor.guild_id)
        now = self._clock()
        closes_at = to_utc(parse_due(closes), ZoneInfo(settings.timezone))
        if closes_at <= now:
            raise InvalidInput(_("The closing time has passed already: give a later one."))
        async with self._db.read() as session:
            if await open_round(session, guild_id=actor.guild_id, now=now) is not None:
                raise Conflict(
                    _("A review round is open already: wait until it closes, or edit its deadline.")
                )
            first_closes = await latest_due(session, guild_id=actor.guild_id, kind="reviews")
        # The first round must be over: a second one reads its scores, and leaves
        # proposals outside the band unscored.
        if first_closes is not None and first_closes > now:
            raise Conflict(
                _(
                    "The reviews are open until {when}: a second round opens after they close.",
                    when=f"<t:{int(first_closes.timestamp())}:F>",
                )
            )
        band = await self._reviews.borderline(actor, accept, subtheme=subtheme)
        if not band.rows:
            raise Conflict(
                _(
                    "No proposal is near the cut for {accept} workshops: there is nothing to "
                    "review again.",
                    accept=accept,
                )
            )
        ids = [row.proposal.id for row in band.rows]
        labels = tuple(row.label for row in band.rows)
        new = await self._deadlines.prepare(
            actor,
            title=ngettext(
                "Second look at {n} borderline workshop",
                "Second look at {n} borderline workshops",
                len(ids),
            ),
            due=closes,
            kind="reviews",
        )
        async with self._db.write() as session:
            number = await last_round_number(session, guild_id=actor.guild_id) + 1
            row = ReviewRound(
                guild_id=actor.guild_id,
                number=number,
                proposal_ids=ids,
                opened_at=now,
                closes_at=closes_at,
                created_by=actor.user_id,
            )
            # Inside the write, again: two Confirms at once open one round.
            if await open_round(session, guild_id=actor.guild_id, now=now) is not None:
                raise Conflict(
                    _("A review round is open already: wait until it closes, or edit its deadline.")
                )
            pairs = await round_pairs(
                session,
                guild_id=actor.guild_id,
                proposal_ids=ids,
                since=now,
                closed=CLOSED_TO_REVIEW,
            )
            reviewers = Counter(member for member, _proposal, _done in pairs)
            if not confirmed:
                raise ConfirmationNeeded(
                    ngettext(
                        "Round {number} will reopen scoring of {labels} until {when}, for those "
                        "proposals only; their {n} assigned reviewer will be told.",
                        "Round {number} will reopen scoring of {labels} until {when}, for those "
                        "proposals only; their {n} assigned reviewers will be told.",
                        len(reviewers),
                        number=number,
                        labels=", ".join(labels),
                        when=f"<t:{int(closes_at.timestamp())}:F>",
                    )
                )
            deadline = await self._deadlines.create_in(session, actor, new)
            row.deadline_number = deadline.number
            session.add(row)
            await session.flush()
            assert row.id is not None
            await enqueue(
                session,
                items=[
                    NewItem(
                        guild_id=actor.guild_id,
                        key=f"{ROUND}:{row.id}:{member}",
                        kind=ROUND,
                        lane=user_lane(member),
                        due_at=now,
                        payload={"round": number, "count": count},
                    )
                    for member, count in sorted(reviewers.items())
                ],
                now=now,
            )
            await record_event(
                session,
                guild_id=actor.guild_id,
                actor_id=actor.user_id,
                action="review.round",
                target="reviews",
                after={
                    "round": number,
                    "proposals": list(labels),
                    "closes_at": closes_at.isoformat(),
                    "reviewers": len(reviewers),
                },
                at=now,
            )
        self._deadlines.planned(deadline)
        if reviewers:
            self.outbox.queued(now)
        return RoundView(number, labels, closes_at, len(reviewers), deadline.number)

    async def _prepare(self, items: Sequence[OutboxItem]) -> Post:
        item = items[0]
        user_id = int(item.lane[2:])
        language = SOURCE
        if self._person_language is not None:
            language = await self._person_language(user_id, item.guild_id)
        async with self._db.read() as session:
            current = await open_round(session, guild_id=item.guild_id, now=self._clock())
            left = 0
            if current is not None:
                pairs = await round_pairs(
                    session,
                    guild_id=item.guild_id,
                    proposal_ids=current.proposal_ids,
                    since=current.opened_at,
                    closed=CLOSED_TO_REVIEW,
                    member_id=user_id,
                )
                left = sum(not done for _m, _p, done in pairs)
        return RoundNotice(
            guild_id=item.guild_id,
            user_id=user_id,
            nonce=nonce_of(item),
            ref=outbox_ref(item),
            number=int(item.payload.get("round", 2)),
            count=int(item.payload.get("count", 0)),
            left=left,
            closes_at=current.closes_at if current is not None else None,
            language=language,
        )

"""The secretariat's digest: what changed since the last one, posted on schedule, once.

A digest is made of *sections*, each from a provider
``async (session, guild_id, since, until, settings) -> DigestSection | None``
registered on the service (``add_section``), so other features add their own
(the statistics feature adds balance warnings). The built-in sections read
the audit trail, so they need nothing from the other features' tables (the
screening feature adds its own section, as proposals stand now):

=====================  ====================================================
section                audit actions read
=====================  ====================================================
What changed           ``proposal.submit``, ``proposal.status``,
                       ``panellist.nominate``, ``panellist.status`` and
                       ``panellist.respond`` (after.status confirmed /
                       declined), ``review.score`` (before empty: a new one)
Deadlines ahead        the deadlines table: occurrences in the next 14 days
=====================  ====================================================

Scheduling: ``GuildConfig.next_digest_at`` is computed on the guild's wall
clock (``bot.services.recurrence``) whenever the digest schedule, the zone or
the digest channel changes (a hook on ``ConfigService``). A tick claims the
guilds whose time has come, moves ``next_digest_at`` to the next time after
*now* (missed periods are not posted one by one: one digest covers them),
inserts the ``DigestRun`` and queues its outbox row, all in one
transaction; the outbox posts it on the channel's lane. A digest with
nothing to say is not posted; its period is over all the same.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import Conflict, InvalidInput
from bot.i18n import N_, SOURCE, _, formats, ngettext, speaking
from bot.services.auth import Actor, require_secretariat
from bot.services.config import ConfigService, GuildSettings, settings_from_row
from bot.services.faults import log_failure
from bot.services.outbox import Digest, DigestPost, DigestSection, Post, PostResult
from bot.services.recurrence import digest_period, next_digest_time
from bot.services.reminders import Schedule
from bot.services.sending import OutboxService, channel_of_lane, nonce_of, ref_of
from bot.services.text import Line, Link, Typed, decode_line, encode_line
from storage import digests as store
from storage.audit import AuditEvent
from storage.config import GuildConfig, get_or_create_guild_config
from storage.database import Database
from storage.deadlines import list_deadlines
from storage.delivery import Shards, unblock_guild
from storage.outbox import SENT as OUTBOX_SENT
from storage.outbox import NewItem, OutboxItem, channel_lane, enqueue

log = logging.getLogger(__name__)

SectionProvider = Callable[
    [AsyncSession, int, datetime, datetime, GuildSettings], Awaitable[DigestSection | None]
]

AHEAD: Final = timedelta(days=14)
SAMPLE: Final = 5  # items named per line; the rest are counted
SCHEDULE_COLUMNS: Final = frozenset(
    {"timezone", "digest_frequency", "digest_time", "digest_weekday", "digest_channel_id"}
)
CHANNEL_COLUMNS: Final = frozenset({"reminders_channel_id", "digest_channel_id", "log_channel_id"})


@dataclass(frozen=True)
class SectionSpec:
    """A registered section: its name, its provider and where it goes."""

    name: str
    provider: SectionProvider
    order: int = 100


@dataclass(frozen=True)
class SendResult:
    """What ``/digest send`` did: queued (its outbox row's key) or empty."""

    status: str  # queued | empty
    digest: Digest
    key: str | None = None


@dataclass
class DigestReport:
    """What one digest tick did."""

    claimed: int = 0
    queued: int = 0
    empty: int = 0
    errors: int = 0


# --- the built-in sections ---------------------------------------------------


def _number(event: AuditEvent) -> str:
    target = event.target or ""
    return f"#{target.split(':', 1)[1]}" if target.startswith("proposal:") else target


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def _sample(items: list[str], total: int) -> str:
    more = total - min(len(items), SAMPLE)
    if more > 0:
        return formats.items([*items[:SAMPLE], _("{count} more", count=more)])
    return ", ".join(items[:SAMPLE])


def _status(value: object) -> str:
    """Return a stored status (``under_review``) in words, in the current language."""
    return _(str(value).replace("_", " ")) if value else "?"


def _distinct(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


CHANGE_ACTIONS: Final = (
    "proposal.submit",
    "proposal.status",
    "panellist.nominate",
    "panellist.status",
    "panellist.respond",
    "review.score",
)


async def changes_section(
    session: AsyncSession, guild_id: int, since: datetime, until: datetime, _settings: GuildSettings
) -> DigestSection | None:
    """Return what changed: proposals, statuses, nominations, answers, reviews."""
    events = await store.events_between(
        session, guild_id=guild_id, since=since, until=until, actions=CHANGE_ACTIONS
    )
    if not events:
        return None
    by_action: dict[str, list[AuditEvent]] = {}
    for event in events:
        by_action.setdefault(event.action, []).append(event)
    lines: list[Line] = []

    submitted = by_action.get("proposal.submit", [])
    if submitted:
        parts: list[str | Typed] = [_("**New proposals** ({count}):", count=len(submitted)), " "]
        for i, event in enumerate(submitted[:SAMPLE]):
            parts += [
                ", " if i else "",
                f"{_number(event)} ",
                Typed(str(_get(event.after, "title") or ""), 60),
            ]
        if len(submitted) > SAMPLE:
            parts.append(_(", and {count} more", count=len(submitted) - SAMPLE))
        lines.append(tuple(parts))
    moves = [e for e in by_action.get("proposal.status", []) if _get(e.after, "status")]
    if moves:
        names = [
            _(
                "{proposal} {before} → {after}",
                proposal=_number(e).replace("_", " "),
                before=_status(_get(e.before, "status")),
                after=_status(_get(e.after, "status")),
            )
            for e in moves
        ]
        lines.append(
            _(
                "**Status changes** ({count}): {changes}",
                count=len(moves),
                changes=_sample(names, len(moves)),
            )
        )
    nominated = by_action.get("panellist.nominate", [])
    if nominated:
        where = _distinct(_number(e) for e in nominated)
        lines.append(
            _(
                "**Nominations** ({count}): on {proposals}",
                count=len(nominated),
                proposals=_sample(where, len(where)),
            )
        )
    answers = by_action.get("panellist.status", []) + by_action.get("panellist.respond", [])
    for status, text in (
        ("confirmed", N_("**Confirmations** ({count}): on {proposals}")),
        ("declined", N_("**Declines** ({count}): on {proposals}")),
    ):
        matching = [e for e in answers if _get(e.after, "status") == status]
        if matching:
            where = _distinct(_number(e) for e in matching)
            lines.append(_(text, count=len(matching), proposals=_sample(where, len(where))))
    reviews = by_action.get("review.score", [])
    new_reviews = [e for e in reviews if not e.before]
    if reviews:
        rescored = len(reviews) - len(new_reviews)
        if rescored:
            # English says "scores" for any number (as it always has).
            lines.append(
                ngettext(
                    "**Reviews completed**: {count} ({n} scores changed)",
                    "**Reviews completed**: {count} ({n} scores changed)",
                    rescored,
                    count=len(new_reviews),
                )
            )
        else:
            lines.append(_("**Reviews completed**: {count}", count=len(new_reviews)))
    if not lines:
        return None
    return DigestSection(name="changes", title=_("What changed"), lines=tuple(lines), order=10)


async def deadlines_section(
    session: AsyncSession, guild_id: int, since: datetime, until: datetime, _settings: GuildSettings
) -> DigestSection | None:
    """Return the deadlines of the next 14 days (every occurrence of recurring ones)."""
    end = until + AHEAD
    rows = await list_deadlines(session, guild_id=guild_id, due_after=until, limit=200)
    found: list[tuple[datetime, Line]] = []
    for deadline in rows:
        schedule = Schedule.of(deadline)
        for moment in schedule.between(until, end):
            stamp = f"<t:{int(moment.timestamp())}:F> (<t:{int(moment.timestamp())}:R>)"
            line: tuple[str | Typed | Link, ...] = (
                f"{stamp} · #{deadline.number} ",
                Typed(deadline.title, 120),
            )
            if deadline.link:
                line += (" · ", Link(deadline.link))
            found.append((moment, line))
    if not found:
        return None
    found.sort(key=lambda item: item[0])
    lines: list[Line] = [text for _moment, text in found[:20]]
    if len(found) > 20:
        lines.append(_("…and {count} more (`/deadline list`)", count=len(found) - 20))
    return DigestSection(
        name="deadlines", title=_("Deadlines in the next 14 days"), lines=tuple(lines), order=30
    )


DEFAULT_SECTIONS: Final = (
    SectionSpec("changes", changes_section, 10),
    SectionSpec("deadlines", deadlines_section, 30),
)


def next_digest_for(settings: GuildSettings, after: datetime) -> datetime | None:
    """Return when the guild's next digest is due after ``after`` (None: none)."""
    if settings.channels["digest"] is None:
        return None
    digest = settings.digest
    return next_digest_time(
        digest.frequency, digest.time, digest.weekday, ZoneInfo(settings.timezone), after
    )


DIGEST: Final = "digest"


def encode_digest(digest: Digest) -> dict[str, Any]:
    """Return a digest as plain JSON values (kept in its outbox row until it is posted)."""
    return {
        "since": digest.since.isoformat(),
        "until": digest.until.isoformat(),
        "zone": digest.zone,
        "cycle_name": digest.cycle_name,
        "sections": [
            {
                "name": section.name,
                "title": section.title,
                "order": section.order,
                "lines": [encode_line(line) for line in section.lines],
            }
            for section in digest.sections
        ],
    }


def decode_digest(guild_id: int, value: dict[str, Any]) -> Digest:
    """Return the digest ``encode_digest`` made."""
    return Digest(
        guild_id=guild_id,
        since=datetime.fromisoformat(value["since"]),
        until=datetime.fromisoformat(value["until"]),
        zone=str(value["zone"]),
        cycle_name=str(value.get("cycle_name") or ""),
        sections=tuple(
            DigestSection(
                name=str(section["name"]),
                title=str(section["title"]),
                lines=tuple(decode_line(line) for line in section.get("lines") or ()),
                order=int(section.get("order", 100)),
            )
            for section in value.get("sections") or ()
        ),
    )


class DigestService:
    """Builds digests, queues them on schedule (once per period), previews and sends on demand.

    Posting is the outbox's (``bot.services.sending``): claiming a guild's
    period writes its run and, when there is something to say, its outbox
    row (``digest:<run>``) with the digest as built then, in one transaction;
    the outbox tells this service how the post ended.
    """

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        config: ConfigService,
        outbox: OutboxService,
        *,
        shards: Shards | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._config = config
        self.outbox = outbox
        self.shards = shards
        self.sections: list[SectionSpec] = list(DEFAULT_SECTIONS)
        self._scheduled_unscheduled = False
        outbox.register(DIGEST, self._prepare, self._settled)

    def use(self, *, shards: Shards | None = None) -> None:
        """Queue the digests of the guilds of ``shards`` (None: every guild)."""
        self.shards = shards

    def add_section(self, name: str, provider: SectionProvider, *, order: int = 100) -> None:
        """Register a section (replacing one of the same name)."""
        self.sections = [s for s in self.sections if s.name != name]
        self.sections.append(SectionSpec(name, provider, order))

    async def on_config_change(
        self, session: AsyncSession, row: GuildConfig, changed: frozenset[str], now: datetime
    ) -> None:
        """Recompute the next digest time when its schedule, zone or channel changed.

        Registered in ``ConfigService.change_hooks``; runs in the config
        change's own transaction. Choosing channels again also lifts the
        blocks on channels Discord refused.
        """
        if changed & SCHEDULE_COLUMNS:
            row.next_digest_at = next_digest_for(settings_from_row(row.guild_id, row), now)
        if changed & CHANNEL_COLUMNS:
            await unblock_guild(session, guild_id=row.guild_id)

    # -- building ------------------------------------------------------------

    async def build(
        self,
        guild_id: int,
        since: datetime,
        until: datetime,
        settings: GuildSettings | None = None,
        *,
        session: AsyncSession | None = None,
    ) -> Digest:
        """Return the digest of (since, until]; a section that fails is left out, and logged."""
        settings = settings or await self._config.get(guild_id)
        if session is None:
            async with self._db.read() as own:
                return await self._build(own, guild_id, since, until, settings)
        return await self._build(session, guild_id, since, until, settings)

    async def _build(
        self,
        session: AsyncSession,
        guild_id: int,
        since: datetime,
        until: datetime,
        settings: GuildSettings,
    ) -> Digest:
        sections: list[DigestSection] = []
        for spec in sorted(self.sections, key=lambda s: (s.order, s.name)):
            try:
                async with session.begin_nested():
                    section = await spec.provider(session, guild_id, since, until, settings)
            except Exception:
                log.exception("digest section %s failed for guild %s", spec.name, guild_id)
                continue
            if section is not None and section.lines:
                sections.append(section)
        return Digest(
            guild_id=guild_id,
            since=since,
            until=until,
            zone=settings.timezone,
            cycle_name=settings.cycle_name,
            sections=tuple(sections),
        )

    async def _since(
        self, session: AsyncSession, guild_id: int, until: datetime, fallback: datetime
    ) -> datetime:
        """Return where the next period starts: where the last one ended, else ``fallback``."""
        last = await store.last_run(session, guild_id=guild_id)
        since = last.period_end if last is not None else fallback
        return min(since, until)

    async def preview(self, actor: Actor) -> Digest:
        """Return what a digest sent now would say (nothing is recorded)."""
        require_secretariat(actor)
        settings = await self._config.get(actor.guild_id)
        now = self._clock()
        async with self._db.read() as session:
            fallback = now - digest_period(settings.digest.frequency)
            since = await self._since(session, actor.guild_id, now, fallback)
        return await self.build(actor.guild_id, since, now, settings)

    async def send_now(self, actor: Actor) -> SendResult:
        """Queue a digest of everything since the last one, now, for the digest channel."""
        require_secretariat(actor)
        settings = await self._config.get(actor.guild_id)
        channel_id = settings.channels["digest"]
        if channel_id is None:
            raise InvalidInput(
                _("There is no digest channel yet: ask an admin to run `/config channel digest`.")
            )
        now = self._clock()
        async with self._db.write() as session:
            # Lock the guild's row: a scheduled digest and this one take turns.
            await get_or_create_guild_config(session, actor.guild_id)
            fallback = now - digest_period(settings.digest.frequency)
            since = await self._since(session, actor.guild_id, now, fallback)
            run = await store.start_run(
                session,
                guild_id=actor.guild_id,
                kind="manual",
                period_start=since,
                period_end=now,
                scheduled_for=None,
                channel_id=channel_id,
                now=now,
                requested_by=actor.user_id,
            )
            if run is None:
                raise Conflict(_("A digest was sent a moment ago. Try again in a minute."))
            digest, key = await self._queue(session, run, settings, now)
        if key is not None:
            self.outbox.queued(now)
        return SendResult("queued" if key else store.EMPTY, digest, key=key)

    async def _queue(
        self, session: AsyncSession, run: store.DigestRun, settings: GuildSettings, now: datetime
    ) -> tuple[Digest, str | None]:
        """Build a run's digest and queue its post (None: empty, the run says so)."""
        assert run.id is not None
        # The digest's sections are kept in the row: written in the channel's language.
        language = self._config.public_language(settings)
        with speaking(language):
            digest = await self.build(
                run.guild_id, run.period_start, run.period_end, settings, session=session
            )
        if digest.empty:
            run.status, run.detail = store.EMPTY, "nothing to report"
            return digest, None
        channel_id = run.channel_id or settings.channels["digest"]
        if channel_id is None:
            run.status, run.detail = store.FAILED, "no digest channel is set"
            return digest, None
        key = f"{DIGEST}:{run.id}"
        await enqueue(
            session,
            items=[
                NewItem(
                    guild_id=run.guild_id,
                    key=key,
                    kind=DIGEST,
                    lane=channel_lane(channel_id),
                    due_at=now,
                    payload={
                        "run_id": run.id,
                        "digest": encode_digest(digest),
                        "language": language,
                    },
                )
            ],
            now=now,
        )
        run.status = store.QUEUED
        return digest, key

    # -- the tick --------------------------------------------------------------

    async def tick(self, now: datetime) -> DigestReport:
        """Queue the digests due at ``now``; never raises."""
        report = DigestReport()
        try:
            if not self._scheduled_unscheduled:
                await self.schedule_unscheduled(now)
                self._scheduled_unscheduled = True
            report = await self._claim(now)
        except Exception as error:
            log_failure(log, "digest tick: claiming", error)
            report.errors += 1
        if report.queued:
            self.outbox.queued(now)
        return report

    async def schedule_unscheduled(self, now: datetime) -> int:
        """Give a next digest time to guilds that have a digest channel but none yet.

        Guilds configured before this feature existed (or whose time was lost)
        would otherwise never get a digest; the first tick of a process fixes them.
        """
        async with self._db.write() as session:
            rows = await store.guilds_without_digest_time(session, shards=self.shards)
            for row in rows:
                row.next_digest_at = next_digest_for(settings_from_row(row.guild_id, row), now)
        return sum(1 for row in rows if row.next_digest_at is not None)

    async def next_due(self) -> datetime | None:
        """Return when the next digest of our shards is due."""
        async with self._db.read() as session:
            return await store.next_digest_due(session, shards=self.shards)

    async def _claim(self, now: datetime) -> DigestReport:
        report = DigestReport()
        async with self._db.write() as session:
            for row in await store.guilds_due_for_digest(session, now=now, shards=self.shards):
                settings = settings_from_row(row.guild_id, row)
                scheduled = row.next_digest_at
                assert scheduled is not None
                # After downtime, one digest covers the missed periods.
                row.next_digest_at = next_digest_for(settings, now)
                channel_id = settings.channels["digest"]
                if channel_id is None or settings.digest.frequency == "off":
                    continue
                fallback = scheduled - digest_period(settings.digest.frequency)
                since = await self._since(session, row.guild_id, now, fallback)
                run = await store.start_run(
                    session,
                    guild_id=row.guild_id,
                    kind="scheduled",
                    period_start=since,
                    period_end=now,
                    scheduled_for=scheduled,
                    channel_id=channel_id,
                    now=now,
                )
                if run is None:
                    continue
                report.claimed += 1
                _digest, key = await self._queue(session, run, settings, now)
                if key is None:
                    report.empty += 1
                else:
                    report.queued += 1
            # Runs left sending or retrying by a version before the outbox.
            for run in await store.stale_runs(session, now=now, shards=self.shards):
                settings = await self._config.get_in(session, run.guild_id)
                report.claimed += 1
                _digest, key = await self._queue(session, run, settings, now)
                report.queued += key is not None
        return report

    # -- the outbox's side --------------------------------------------------------

    async def _prepare(self, items: Sequence[OutboxItem]) -> Post:
        item = items[0]
        channel = channel_of_lane(item.lane)
        assert channel is not None
        return DigestPost(
            guild_id=item.guild_id,
            channel_id=channel,
            nonce=nonce_of(item),
            ref=ref_of(item),
            digest=decode_digest(item.guild_id, item.payload["digest"]),
            language=str(item.payload.get("language") or SOURCE),
        )

    async def _settled(
        self, session: AsyncSession, items: Sequence[OutboxItem], result: PostResult | None
    ) -> None:
        for item in items:
            status = store.SENT if item.status == OUTBOX_SENT else store.FAILED
            await store.finish_run(
                session,
                run_id=int(item.payload["run_id"]),
                status=status,
                at=item.sent_at or self._clock(),
                message_id=item.message_id,
                detail=None if status == store.SENT else item.detail,
            )

"""Nominees who are not on Discord: invited by email, answering on a signed consent page.

A nomination with an email address and no Discord account gets the same
invitation as a direct message, by email, through the outbox (kind
``email``, one row per invitation, lane ``e:<hash of the address>``). The
mail carries a signed link (``itsdangerous``: the key from ``WEB_SECRET``,
salted with the guild, so a link of one server is worthless on another's
address; it expires after ``LINK_DAYS``) to the consent page (``web/``):

- Confirm or Decline, once: a link whose nomination was answered is refused
  for answering (it still opens "my data");
- "my data": what is stored about the person; a correction goes to the
  secretariat as a flag (as *Details are wrong* does on Discord); erasing
  follows ``/panellist forget`` (``bot.services.panellists.erase_person``).

An invitation that SMTP refuses for good (a 5xx to its address or its
content) is given up and the secretariat is told once, in the log channel. A
temporary refusal (4xx) is retried by the outbox like a Discord 5xx. A
server that refuses everything (a bad password, a server down) holds every
invitation, never gives one up, and the log channel hears of it once a day.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import UserError
from bot.i18n import N_, SOURCE, _, speaking
from bot.services.config import ConfigService
from bot.services.outbox import EmailPost, PostResult, PostStatus, UserNotice
from bot.services.panellists import ANSWERABLE, PanellistService, erase_person, settle
from bot.services.proposals import label_of, proposer_to_tell, target_of
from bot.services.sending import NOTHING_TO_SEND, NOTICE, OutboxService, nonce_of, ref_of
from bot.services.taxonomy import ROLES
from storage import outbox as store
from storage.audit import record_event
from storage.database import Database
from storage.outbox import NewItem, OutboxItem
from storage.panellists import (
    IdentityFlag,
    Participation,
    Person,
    add_flag,
    count_participations,
    delete_participation,
    get_participation,
)

EMAIL: Final = "email"
TOLD: Final = "told"  # a direct message to the proposer: their nominee answered by email
LINK_DAYS: Final = 14
MAX_CORRECTION: Final = 300
_ADDRESS: Final = re.compile(r"^[^@\s<>,;\"']{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")


def email_of(*contacts: str | None) -> str | None:
    """Return the first contact that is one plain email address (None: none is)."""
    for contact in contacts:
        text = (contact or "").strip()
        # ASCII only: an address with other letters needs SMTPUTF8, which is not sent.
        if text.isascii() and _ADDRESS.match(text):
            return text
    return None


def address_key(address: str) -> str:
    """Return the short digest a consent link carries of the address it was sent to."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()[:16]


def email_lane(address: str) -> str:
    """Return the outbox lane of one address (a hash: the lane shows in logs)."""
    return "e:" + hashlib.sha256(address.lower().encode()).hexdigest()[:32]


class LinkRefused(UserError):
    """A consent link that cannot be used: ``reason`` says which page to show."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # invalid, expired, used, gone


@dataclass(frozen=True)
class Link:
    """What a valid consent link names."""

    guild_id: int
    participation_id: int
    invitation: int
    address: str  # ``address_key`` of the address the link was sent to


class Signer:
    """Signs and reads consent links; a guild's links are valid for that guild only."""

    def __init__(
        self,
        secret: str,
        clock: Callable[[], datetime],
        *,
        max_age: timedelta = timedelta(days=LINK_DAYS),
    ) -> None:
        self._secret = secret
        self.max_age = max_age

        class Stamp(TimestampSigner):
            """Timestamps from the injected clock (tests drive expiry)."""

            def get_timestamp(self) -> int:
                return int(clock().timestamp())

        self._stamp = Stamp

    def _serializer(self, guild_id: int) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(
            self._secret, salt=f"magbot-consent:{guild_id}", signer=self._stamp
        )

    def sign(self, guild_id: int, participation_id: int, invitation: int, address: str) -> str:
        """Return the token of a nomination's invitation sent to ``address``."""
        data = {"p": participation_id, "i": invitation, "a": address_key(address)}
        return str(self._serializer(guild_id).dumps(data))

    def read(self, guild_id: int, token: str, now: datetime) -> Link:
        """Return what ``token`` names in ``guild_id``; raise ``LinkRefused`` if it is not valid."""
        serializer = self._serializer(guild_id)
        try:
            data, signed_at = serializer.loads(
                token, max_age=int(self.max_age.total_seconds()), return_timestamp=True
            )
        except SignatureExpired:
            raise LinkRefused("expired", _("This link has expired.")) from None
        except BadSignature:
            raise LinkRefused("invalid", _("This link is not valid.")) from None
        if now - signed_at > self.max_age:
            raise LinkRefused("expired", _("This link has expired."))
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("p"), int)
            or not isinstance(data.get("i"), int)
            or not isinstance(data.get("a"), str)
        ):
            raise LinkRefused("invalid", _("This link is not valid."))
        return Link(guild_id, data["p"], data["i"], data["a"])


@dataclass(frozen=True)
class ConsentPage:
    """What the consent page shows to the holder of a valid link."""

    guild_id: int
    participation_id: int
    proposal: str  # "WS #12"
    title: str  # typed by the proposer
    role: str
    attendance: str | None
    answer: str | None  # given, refused (None: not yet)
    can_answer: bool
    name: str
    affiliation: str | None
    stakeholder_group: str | None  # None: not shown (a link to an address a nominator gave)
    region: str | None  # None: not shown (a link to an address a nominator gave)
    gender: str | None  # None: not shown (a link to an address a nominator gave)
    country: str | None
    email: str | None
    rationale: str | None
    language: str


@dataclass(frozen=True)
class Answered:
    """A nominee's answer on the consent page."""

    participation_id: int
    status: str  # confirmed, declined


class EmailService:
    """Queues email invitations, renders them, and carries out the consent page's actions."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime],
        config: ConfigService,
        outbox: OutboxService,
        panellists: PanellistService,
    ) -> None:
        self._db = db
        self._clock = clock
        self._config = config
        self._outbox = outbox
        self._panellists = panellists
        self.signer: Signer | None = None
        self.base_url: str | None = None
        self.sender: str | None = None
        outbox.register(EMAIL, self._prepare, self._settled, unavailable=self._held)
        outbox.register(TOLD, self._prepare_told)

    @property
    def enabled(self) -> bool:
        """Return whether invitations may go by email (SMTP and the pages are configured)."""
        return self.signer is not None and self.base_url is not None and self.sender is not None

    def use(self, *, secret: str, base_url: str, sender: str) -> None:
        """Turn email invitations on (the process has SMTP and serves the consent pages)."""
        self.signer = Signer(secret, self._clock)
        self.base_url = base_url.rstrip("/")
        self.sender = sender
        self._panellists.email_invite = self.queue_invitation

    def use_pages(self, *, secret: str, base_url: str) -> None:
        """Serve the pages of links already sent, but send no more mail (SMTP is off)."""
        self.signer = Signer(secret, self._clock)
        self.base_url = base_url.rstrip("/")

    def queued(self) -> None:
        """Wake the sender: an invitation was queued (call after the nomination's commit)."""
        self._outbox.queued(self._clock())

    def link(self, guild_id: int, participation_id: int, invitation: int, address: str) -> str:
        """Return the consent page's address for one invitation sent to ``address``."""
        assert self.signer is not None and self.base_url is not None
        token = self.signer.sign(guild_id, participation_id, invitation, address)
        return f"{self.base_url}/consent/{guild_id}/{token}"

    # -- queuing and sending -----------------------------------------------------

    async def queue_invitation(
        self, session: AsyncSession, pa: Participation, person: Person, now: datetime
    ) -> str | None:
        """Queue the email invitation of a nomination in the caller's transaction.

        Returns the address, or None when the nomination has none (or email is off).
        """
        address = email_of(person.contact, pa.contact)
        if address is None or not self.enabled:
            return None
        assert pa.id is not None
        await store.enqueue(
            session,
            items=[
                NewItem(
                    guild_id=pa.guild_id,
                    key=f"email:{pa.id}:{pa.invitations + 1}",
                    kind=EMAIL,
                    lane=email_lane(address),
                    due_at=now,
                    payload={"participation": pa.id, "invitation": pa.invitations + 1},
                )
            ],
            now=now,
        )
        return address

    async def _prepare(self, items: Sequence[OutboxItem]) -> EmailPost | None:
        item = items[0]
        participation_id = int(item.payload["participation"])
        async with self._db.read() as session:
            row = await get_participation(
                session, guild_id=item.guild_id, participation_id=participation_id
            )
        if row is None or not self.enabled:
            return None  # erased, or email turned off since: nothing to send
        pa, person, proposal = row
        address = email_of(person.contact, pa.contact)
        if address is None or pa.consent is not None:
            return None
        if pa.removed_at is not None or proposal.status not in ANSWERABLE:
            return None  # withdrawn, or its proposal closed, since it was queued
        settings = await self._config.get(item.guild_id)
        language = self._config.public_language(settings)
        link = self.link(item.guild_id, participation_id, int(item.payload["invitation"]), address)
        with speaking(language):
            subject = _("You are invited to {proposal}", proposal=label_of(proposal))
            lines = [
                _(
                    "You were nominated as {role} on {proposal}: {title}.",
                    role=_(ROLES.get(pa.role, pa.role)).lower(),
                    proposal=label_of(proposal),
                    title=proposal.title,
                ),
                _(
                    "Do you agree to take part? Confirming also agrees that the organisers keep "
                    "your name, affiliation and the details on the page for this session."
                ),
                "",
                _("As stated by the nominator"),
                "  "
                + ", ".join(p for p in (person.name, person.affiliation) if p)
                + f"\n  {_(person.stakeholder_group)} · {_(person.region)}",
                *((_("Why you"), "  " + " ".join(pa.rationale.split())) if pa.rationale else ()),
                "",
                _(
                    "Answer, see, correct or erase your data here (the link works for {n} days):",
                    n=LINK_DAYS,
                ),
                link,
                "",
                _(
                    "Nomination #{id}. If you did not expect this email, you can ignore it.",
                    id=participation_id,
                ),
            ]
        assert self.sender is not None
        return EmailPost(
            guild_id=item.guild_id,
            to=address,
            sender=self.sender,
            subject=subject,
            text="\n".join(lines),
            nonce=nonce_of(item),
            ref=ref_of(item),
            language=language,
        )

    async def _settled(
        self, session: AsyncSession, rows: Sequence[OutboxItem], result: PostResult | None
    ) -> None:
        """Tell the secretariat, once, of an email invitation given up."""
        if result is not None and (
            result.status is PostStatus.SENT or result.detail == NOTHING_TO_SEND
        ):
            return  # sent; or answered, erased or email turned off before it went: fine
        failed = [r for r in rows if r.status in (store.FAILED, store.EXPIRED)]
        if not failed:
            return
        now = self._clock()
        settings = await self._config.get_in(session, failed[0].guild_id)
        log_channel = settings.channels["log"]
        if log_channel is None:
            return
        language = self._config.public_language(settings)
        items = []
        for row in failed:
            with speaking(language):
                text = _(
                    "I could not email the invitation of nomination #{id}: {detail}. Check "
                    "the address with the nominator, or record the nominee's answer with "
                    "`/panellist answer`.",
                    id=row.payload.get("participation"),
                    detail=(result.detail if result is not None else row.detail) or "?",
                )
            items.append(
                NewItem(
                    guild_id=row.guild_id,
                    key=f"notice:email:{row.id}",
                    kind=NOTICE,
                    lane=store.channel_lane(log_channel),
                    due_at=now,
                    payload={"text": text, "language": language},
                )
            )
        await store.enqueue(session, items=items, now=now)

    async def _held(
        self, session: AsyncSession, rows: Sequence[OutboxItem], result: PostResult | None
    ) -> None:
        """Tell the secretariat once a day that the SMTP server holds every invitation.

        The fault is the operator's (a password, the server), not the nominees':
        the invitations wait and go when it works again (``bot.mail``).
        """
        now = self._clock()
        for guild_id in sorted({r.guild_id for r in rows}):
            settings = await self._config.get_in(session, guild_id)
            log_channel = settings.channels["log"]
            if log_channel is None:
                continue
            language = self._config.public_language(settings)
            with speaking(language):
                text = _(
                    "Email invitations are on hold: the mail server refuses to send "
                    "({detail}). Nothing is lost: they go out when it works again. The "
                    "bot's operator should check the SMTP settings (docs/email.md).",
                    detail=(result.detail if result is not None else "") or "?",
                )
            await store.enqueue(
                session,
                items=[
                    NewItem(
                        guild_id=guild_id,
                        key=f"notice:smtp:{guild_id}:{now.date().isoformat()}",
                        kind=NOTICE,
                        lane=store.channel_lane(log_channel),
                        due_at=now,
                        payload={"text": text, "language": language, "plain": True},
                    )
                ],
                now=now,
            )

    async def _prepare_told(self, items: Sequence[OutboxItem]) -> UserNotice:
        item = items[0]
        return UserNotice(
            guild_id=item.guild_id,
            user_id=int(item.lane[2:]),
            nonce=nonce_of(item),
            ref=ref_of(item),
            text=str(item.payload.get("text", "")),
            language=str(item.payload.get("language") or SOURCE),
        )

    # -- the consent page ----------------------------------------------------------

    async def _load(
        self, session: AsyncSession, guild_id: int, token: str, *, for_update: bool = False
    ) -> tuple[Link, Participation, Person, Any, bool]:
        """Return the link's nomination, and whether it went to the person's own address.

        A nomination's contact is what its nominator typed: a link sent there
        proves only that its holder reads that mailbox, not that they are the
        person on record (a nominator may type someone else's name and their own
        address). Such a holder answers and sees this nomination only; the
        person's record (gender, other nominations, erasure) takes their own
        contact. A link whose address is neither any more is refused.
        """
        if self.signer is None:
            raise LinkRefused("invalid", _("This link is not valid."))
        link = self.signer.read(guild_id, token, self._clock())
        row = await get_participation(
            session,
            guild_id=guild_id,
            participation_id=link.participation_id,
            for_update=for_update,
        )
        if row is None:
            raise LinkRefused("gone", _("There is nothing stored here any more for this link."))
        pa, person, proposal = row
        if link.invitation > pa.invitations:
            raise LinkRefused("invalid", _("This link is not valid."))
        own = email_of(person.contact)
        if own is not None and address_key(own) == link.address:
            return link, pa, person, proposal, True
        given = email_of(pa.contact)
        if given is not None and address_key(given) == link.address:
            return link, pa, person, proposal, False
        raise LinkRefused("invalid", _("This link is not valid."))

    async def page(self, guild_id: int, token: str, language: str) -> ConsentPage:
        """Return what the holder of ``token`` may see; raise ``LinkRefused`` otherwise."""
        async with self._db.read() as session:
            _link, pa, pe, pr, own = await self._load(session, guild_id, token)
        assert pa.id is not None
        return ConsentPage(
            guild_id=guild_id,
            participation_id=pa.id,
            proposal=label_of(pr),
            title=pr.title,
            role=pa.role,
            attendance=pa.attendance,
            answer=pa.consent,
            can_answer=(pa.consent is None and pa.removed_at is None and pr.status in ANSWERABLE),
            name=pe.name,
            affiliation=pe.affiliation,
            # The person's record only to the person's own address (see ``_load``).
            stakeholder_group=pe.stakeholder_group if own else None,
            region=pe.region if own else None,
            gender=pe.gender if own else None,
            country=pe.country if own else None,
            email=email_of(pe.contact) if own else email_of(pa.contact),
            rationale=pa.rationale,
            language=language,
        )

    async def answer(self, guild_id: int, token: str, *, accept: bool) -> Answered:
        """Record the nominee's Confirm or Decline from the page, once per nomination.

        The signed link is the person's own action: a Confirm confirms the
        address as their contact. The proposer gets a direct message and the
        secretariat a line in the log channel, through the outbox.
        """
        now = self._clock()
        async with self._db.write() as session:
            _link, pa, pe, pr, _own = await self._load(session, guild_id, token, for_update=True)
            if pa.consent is not None:
                raise LinkRefused("used", _("This invitation was already answered."))
            if pa.removed_at is not None or pr.status not in ANSWERABLE:
                raise LinkRefused("used", _("There is nothing to answer any more."))
            before = pa.status
            pa.consent = "given" if accept else "refused"
            pa.answer_source = "email"
            pa.answered_by = None
            pa.answer_note = None
            pa.responded_at = now
            # The address stays the nominator's claim: it never becomes the person's
            # contact from here (``_load``).
            settle(pa, now)
            await record_event(
                session,
                guild_id=guild_id,
                actor_id=None,
                action="panellist.respond",
                target=target_of(pr),
                before={"status": before},
                after={"participation": pa.id, "status": pa.status, "source": "email"},
                at=now,
            )
            await self._panellists._decided(session, pa, pr, before, None, now)
            await self._tell(session, pa, pe, pr, now)
        assert pa.id is not None
        return Answered(pa.id, pa.status)

    async def _tell(
        self, session: AsyncSession, pa: Participation, pe: Person, pr: Any, now: datetime
    ) -> None:
        settings = await self._config.get_in(session, pa.guild_id)
        language = self._config.public_language(settings)
        message = (
            N_("The nominee confirmed nomination #{id} on {proposal} (by email).")
            if pa.consent == "given"
            else N_("The nominee declined nomination #{id} on {proposal} (by email).")
        )
        # Never whom: a message outlives a forget (as the Discord answer's notice).
        with speaking(language):
            text = _(message, id=pa.id, proposal=label_of(pr))
        items = []
        log_channel = settings.channels["log"]
        if log_channel is not None:
            items.append(
                NewItem(
                    guild_id=pa.guild_id,
                    key=f"notice:consent:{pa.id}:{pa.invitations}",
                    kind=NOTICE,
                    lane=store.channel_lane(log_channel),
                    due_at=now,
                    payload={"text": text, "language": language, "plain": True},
                )
            )
        proposer = proposer_to_tell(pr, None)
        if proposer is not None:
            items.append(
                NewItem(
                    guild_id=pa.guild_id,
                    key=f"told:consent:{pa.id}:{pa.invitations}",
                    kind=TOLD,
                    lane=store.user_lane(proposer),
                    due_at=now,
                    payload={"text": text, "language": language},
                )
            )
        await store.enqueue(session, items=items, now=now)
        if items:
            self._outbox.queued(now)

    async def correct(self, guild_id: int, token: str, values: Mapping[str, str]) -> int:
        """Send the person's corrections to the secretariat (a flag); return how many fields."""
        claimed = {
            key: " ".join(str(value).split())[:MAX_CORRECTION]
            for key, value in values.items()
            if key in ("name", "affiliation", "country", "note") and str(value).strip()
        }
        now = self._clock()
        async with self._db.write() as session:
            _link, pa, pe, pr, _own = await self._load(session, guild_id, token, for_update=True)
            if claimed:
                assert pe.id is not None
                await add_flag(
                    session,
                    flag=IdentityFlag(
                        guild_id=guild_id,
                        person_id=pe.id,
                        participation_id=pa.id,
                        kind="disputed",
                        claimed={**claimed, "source": "email"},
                        raised_by=None,
                        created_at=now,
                    ),
                )
                await record_event(
                    session,
                    guild_id=guild_id,
                    actor_id=None,
                    action="panellist.dispute",
                    target=target_of(pr),
                    after={"participation": pa.id, "person": pe.id, "source": "email"},
                    at=now,
                )
        return len(claimed)

    async def erase(self, guild_id: int, token: str) -> int:
        """Erase as ``/panellist forget`` does; return the participations erased.

        From the person's own address: the person and all their nominations.
        From an address a nominator gave: this nomination only, and the person
        with it when it was all there was of them.
        """
        now = self._clock()
        async with self._db.write() as session:
            _link, pa, pe, pr, own = await self._load(session, guild_id, token, for_update=True)
            assert pe.id is not None and pa.id is not None
            alone = (
                pe.contact is None
                and pe.user_id is None
                and (await count_participations(session, guild_id=guild_id, person_id=pe.id)) == 1
            )
            if own or alone:
                forgotten = await erase_person(
                    session, guild_id=guild_id, person_id=pe.id, actor_id=None, now=now
                )
                erased = forgotten.participations
            else:
                await store.forget_emails(session, guild_id=guild_id, participation_ids=[pa.id])
                await delete_participation(session, guild_id=guild_id, participation_id=pa.id)
                await record_event(
                    session,
                    guild_id=guild_id,
                    actor_id=None,
                    action="panellist.forget",
                    target=target_of(pr),
                    after={"participation": pa.id, "source": "email"},
                    at=now,
                )
                erased = 1
        await self._db.scrub(tables=("person", "participation", "identity_flag", "outbox"))
        return erased

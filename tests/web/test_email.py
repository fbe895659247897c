"""Email invitations through a real local SMTP server, and the consent pages they link to."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot.errors import Conflict
from bot.mail import Mailer, SmtpServer
from bot.services.email import EMAIL, Signer, email_of
from bot.services.outbox import AdminNotice, EmailPost, Post, PostResult, UserNotice
from bot.services.registry import Services
from bot.services.sending import Sender
from bot.settings import SettingsError, load_settings
from storage.audit import AuditEvent
from storage.database import Database
from storage.outbox import OutboxItem
from storage.panellists import IdentityFlag, Participation, Person
from tests.conftest import FakeClock
from tests.services.factories import (
    ADMIN,
    GUILD,
    OTHER_GUILD,
    PROPOSER,
    SECRETARIAT,
    nominate,
    submit,
)
from tests.web.smtp import Inbox, smtp_server
from web.app import ConsentPages, RateLimit

SECRET = "s" * 40
BASE = "https://consent.example.org"
LOG = 900000000000000001
NOMINEE = "amina@example.org"


@dataclass
class Routed:
    """The outbox of a test process: mail by real SMTP, Discord posts kept."""

    mailer: Mailer
    posts: list[Post] = field(default_factory=list)

    async def post(self, post: Post) -> PostResult:
        if isinstance(post, EmailPost):
            return await self.mailer.send(post)
        self.posts.append(post)
        return PostResult.sent(len(self.posts))

    async def find(self, post: Post, since: object) -> dict[str, int] | None:
        return {}


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture
async def services(db: Database, clock: FakeClock) -> Services:
    services = Services.create(db, clock)
    services.email.use(secret=SECRET, base_url=BASE, sender="mag@example.org")
    await services.config.set_channel(ADMIN, "log", LOG)
    return services


@pytest.fixture
def outbox(smtp: tuple[Inbox, int], clock: FakeClock) -> Routed:
    return Routed(
        Mailer(SmtpServer("127.0.0.1", smtp[1], None, None, "none"), timeout=5, clock=clock)
    )


@pytest.fixture
async def client(services: Services) -> AsyncIterator[TestClient]:
    pages = ConsentPages(services.email, limit=RateLimit(rate=1000))
    async with TestClient(TestServer(pages.app())) as client:
        yield client


async def _invite(services: Services, outbox: Routed, inbox: Inbox, **extra: object) -> str:
    """Nominate Amina by email only, send the outbox, return the link she received."""
    await submit(services)
    nomination = await nominate(services, 1, "Amina Diallo", contact=NOMINEE, **extra)
    assert nomination.invitation.emailed and not nomination.invitation.sent
    await Sender(services.outbox, outbox).run_once()
    links = inbox.links()
    assert len(links) == 1
    return links[0]


def _path(link: str) -> str:
    return urlsplit(link).path


async def test_an_email_only_nominee_gets_the_invitation_by_mail(
    services: Services, outbox: Routed, smtp: tuple[Inbox, int]
) -> None:
    inbox = smtp[0]
    link = await _invite(services, outbox, inbox)
    [message] = inbox.messages
    assert message["To"] == NOMINEE and message["From"] == "mag@example.org"
    assert "WS #1" in message["Subject"]
    assert link.startswith(f"{BASE}/consent/{GUILD}/")
    # Sent once: another run sends nothing again.
    await Sender(services.outbox, outbox).run_once()
    assert len(inbox.messages) == 1


async def test_the_secretariat_resends_an_email_invitation(
    services: Services, outbox: Routed, smtp: tuple[Inbox, int], clock: FakeClock
) -> None:
    inbox = smtp[0]
    await _invite(services, outbox, inbox)
    # Not answered yet: "invited" sends it again, once the spacing rule (24 h) allows.
    with pytest.raises(Conflict, match="sent less than 24 hours ago"):
        await services.panellists.set_status(SECRETARIAT, 1, "invited")
    clock.now += timedelta(hours=25)
    change = await services.panellists.set_status(SECRETARIAT, 1, "invited")
    assert change.invitation is not None and change.invitation.emailed
    await Sender(services.outbox, outbox).run_once()
    assert len(inbox.messages) == 2 and inbox.messages[1]["To"] == NOMINEE


async def test_email_off_keeps_invitations_discord_only(db: Database, clock: FakeClock) -> None:
    services = Services.create(db, clock)
    await submit(services)
    nomination = await nominate(services, 1, "Amina Diallo", contact=NOMINEE)
    assert not nomination.invitation.emailed
    assert "no Discord account" in (nomination.invitation.reason or "")
    async with db.read() as session:
        assert (await session.exec(select(OutboxItem))).all() == []


async def test_the_page_confirms_once_and_tells_the_proposer_and_secretariat(
    services: Services, outbox: Routed, smtp: tuple[Inbox, int], client: TestClient, db: Database
) -> None:
    link = await _invite(services, outbox, smtp[0])
    page = await client.get(_path(link))
    assert page.status == 200
    html = await page.text()
    assert "Amina Diallo" in html and NOMINEE in html and 'lang="en"' in html
    done = await client.post(_path(link), data={"action": "confirm"})
    assert done.status == 200 and "You confirmed" in await done.text()
    async with db.read() as session:
        pa = (await session.exec(select(Participation))).one()
        person = (await session.exec(select(Person))).one()
    assert (pa.status, pa.consent, pa.answer_source) == ("confirmed", "given", "email")
    assert person.contact is None  # a nominator's address stays their claim
    # Reused for answering: a clear page, nothing changed.
    again = await client.post(_path(link), data={"action": "decline"})
    assert again.status == 409 and "Already answered" in await again.text()
    async with db.read() as session:
        assert (await session.exec(select(Participation))).one().status == "confirmed"
    # The page still shows the data, and the answer.
    assert "You confirmed" in await (await client.get(_path(link))).text()
    # The proposer (a DM) and the secretariat (the log channel) are told, once.
    await Sender(services.outbox, outbox).run_once()
    told = [p for p in outbox.posts if isinstance(p, UserNotice)]
    logged = [p for p in outbox.posts if isinstance(p, AdminNotice)]
    assert [p.user_id for p in told] == [PROPOSER.user_id]
    assert [p.channel_id for p in logged] == [LOG]
    assert "confirmed nomination #1 on WS #1 (by email)" in told[0].text
    assert "Amina" not in told[0].text + logged[0].text  # a message outlives a forget
    entry = await services.panellists.view(PROPOSER, 1)
    assert entry.nominee.status == "confirmed"
    from bot.render.proposals import answer_text

    assert answer_text(entry.nominee) == "agreed by the nominee, by email"
    # The nominee's own answer stands: the secretariat cannot record another over it.
    from bot.errors import Conflict
    from tests.services.factories import SECRETARIAT

    with pytest.raises(Conflict, match="consent page"):
        await services.panellists.record_answer(SECRETARIAT, 1, accept=False, note="phone")


async def test_decline_and_erase_like_panellist_forget(
    services: Services, outbox: Routed, smtp: tuple[Inbox, int], client: TestClient, db: Database
) -> None:
    link = await _invite(services, outbox, smtp[0])
    declined = await client.post(_path(link), data={"action": "decline"})
    assert "You declined" in await declined.text()
    # Erasing needs the box ticked.
    unticked = await client.post(_path(link), data={"action": "erase"})
    assert unticked.status == 400
    erased = await client.post(_path(link), data={"action": "erase", "sure": "yes"})
    assert erased.status == 200 and "erased" in await erased.text()
    async with db.read() as session:
        assert (await session.exec(select(Person))).all() == []
        assert (await session.exec(select(Participation))).all() == []
        events = (await session.exec(select(AuditEvent))).all()
    assert "person.forget" in [e.action for e in events]
    gone = await client.get(_path(link))
    assert gone.status == 410 and "Amina" not in await gone.text()


async def test_a_correction_goes_to_the_secretariat(
    services: Services, outbox: Routed, smtp: tuple[Inbox, int], client: TestClient, db: Database
) -> None:
    link = await _invite(services, outbox, smtp[0])
    sent = await client.post(
        _path(link), data={"action": "correct", "affiliation": "  University of Dakar ", "x": "y"}
    )
    assert "sent to the secretariat" in await sent.text()
    async with db.read() as session:
        flag = (await session.exec(select(IdentityFlag))).one()
        person = (await session.exec(select(Person))).one()
    assert flag.kind == "disputed"
    assert flag.claimed == {"affiliation": "University of Dakar", "source": "email"}
    assert person.affiliation is None  # the record changes only when the secretariat says so
    # The secretariat reads what the nominee typed (not "raised by <@None>").
    from bot.render.people import flag_line
    from tests.services.factories import SECRETARIAT

    (shown,) = await services.people.flags(SECRETARIAT)
    line = flag_line(shown)
    assert "University of Dakar" in line and "consent page" in line and "None" not in line


@pytest.mark.parametrize("how", ["tampered", "other guild", "unsigned", "bad guild", "missing"])
async def test_bad_links_show_a_clear_page_and_change_nothing(
    services: Services,
    outbox: Routed,
    smtp: tuple[Inbox, int],
    client: TestClient,
    db: Database,
    how: str,
) -> None:
    link = await _invite(services, outbox, smtp[0])
    path = _path(link)
    token = path.rsplit("/", 1)[1]
    bad = {
        "tampered": path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB"),
        "other guild": f"/consent/{OTHER_GUILD}/{token}",
        "unsigned": f"/consent/{GUILD}/eyJwIjoxLCJpIjoxfQ",
        "bad guild": f"/consent/12ab/{token}",
        "missing": "/consent/",
    }[how]
    shown = await client.get(bad)
    assert shown.status in (403, 404)
    text = await shown.text()
    assert "Amina" not in text and NOMINEE not in text
    answered = await client.post(bad, data={"action": "confirm"})
    assert answered.status in (403, 404, 405)
    async with db.read() as session:
        assert (await session.exec(select(Participation))).one().status == "invited"


async def test_a_form_from_another_site_is_refused(
    services: Services, outbox: Routed, smtp: tuple[Inbox, int], client: TestClient, db: Database
) -> None:
    link = await _invite(services, outbox, smtp[0])
    forged = await client.post(
        _path(link),
        data={"action": "erase", "sure": "yes"},
        headers={"Origin": "https://evil.example"},
    )
    assert forged.status == 403
    fetched = await client.post(
        _path(link), data={"action": "confirm"}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert fetched.status == 403
    ours = await client.post(_path(link), data={"action": "confirm"}, headers={"Origin": BASE})
    assert ours.status == 200
    async with db.read() as session:
        assert (await session.exec(select(Participation))).one().status == "confirmed"


async def test_an_expired_link_is_refused(
    services: Services,
    outbox: Routed,
    smtp: tuple[Inbox, int],
    client: TestClient,
    db: Database,
    clock: FakeClock,
) -> None:
    link = await _invite(services, outbox, smtp[0])
    clock.now += timedelta(days=15)
    shown = await client.get(_path(link))
    assert shown.status == 410 and "expired" in await shown.text()
    answered = await client.post(_path(link), data={"action": "confirm"})
    assert answered.status == 410
    async with db.read() as session:
        assert (await session.exec(select(Participation))).one().status == "invited"


def test_a_token_names_one_guild_and_one_invitation() -> None:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    signer = Signer(SECRET, lambda: now)
    token = signer.sign(GUILD, 7, 1, "jane@example.org")
    link = signer.read(GUILD, token, now)
    assert (link.guild_id, link.participation_id, link.invitation) == (GUILD, 7, 1)
    with pytest.raises(Exception, match="not valid"):
        signer.read(OTHER_GUILD, token, now)
    with pytest.raises(Exception, match="not valid"):
        Signer("t" * 40, lambda: now).read(GUILD, token, now)


async def test_secure_headers_and_no_caching(
    services: Services, outbox: Routed, smtp: tuple[Inbox, int], client: TestClient
) -> None:
    link = await _invite(services, outbox, smtp[0])
    for path in (_path(link), "/consent/1/x", "/nothing"):
        response = await client.get(path)
        _assert_secure(response)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def _assert_secure(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-store"
    assert headers["Strict-Transport-Security"].startswith("max-age=")


async def test_every_error_answer_carries_the_headers(
    services: Services,
    client: TestClient,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # aiohttp's own 413 for a body over client_max_size
    large = await client.post(f"/consent/{GUILD}/x", data={"action": "x" * 40_000})
    assert large.status == 413
    _assert_secure(large)
    assert "too long" in (await large.text()).lower()
    # an unknown path, a method the path does not take
    for response in (
        await client.get("/nothing/here"),
        await client.put(f"/consent/{GUILD}/x"),
    ):
        assert response.status in (404, 405)
        _assert_secure(response)

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services.email, "page", broken)
    with caplog.at_level(logging.ERROR, logger="web.app"):
        failed = await client.get(f"/consent/{GUILD}/x")
    assert failed.status == 500
    _assert_secure(failed)
    text = await failed.text()
    assert "database went away" not in text and "Traceback" not in text
    assert "the database went away" in caplog.text


async def test_pages_are_rate_limited_by_address(services: Services) -> None:
    now = [0.0]
    pages = ConsentPages(services.email, limit=RateLimit(rate=3, window=60, clock=lambda: now[0]))
    async with TestClient(TestServer(pages.app())) as client:
        statuses = [(await client.get(f"/consent/{GUILD}/x")).status for _ in range(4)]
        assert statuses == [403, 403, 403, 429]
        busy = await client.get(f"/consent/{GUILD}/x")
        assert busy.headers["Retry-After"] == "60"
        now[0] += 61
        assert (await client.get(f"/consent/{GUILD}/x")).status == 403


async def test_behind_a_trusted_proxy_each_client_has_its_own_limit(services: Services) -> None:
    # The test client connects from 127.0.0.1: here, the reverse proxy.
    limit = RateLimit(rate=2, window=60, clock=lambda: 0.0)
    pages = ConsentPages(services.email, limit=limit, trusted_proxies=("127.0.0.1", "10.0.0.0/8"))

    async def statuses(forwarded: str, n: int = 3) -> list[int]:
        return [
            (await client.get(f"/consent/{GUILD}/x", headers={"X-Forwarded-For": forwarded})).status
            for _ in range(n)
        ]

    async with TestClient(TestServer(pages.app())) as client:
        assert await statuses("203.0.113.5") == [403, 403, 429]
        # Another client behind the same proxy is not blocked by the first.
        assert await statuses("203.0.113.6", 2) == [403, 403]
        # What a client writes to the left of the address our proxy saw does not count;
        # other trusted proxies on the way (10.x) are skipped.
        assert await statuses("198.51.100.1, 203.0.113.5", 1) == [429]
        assert await statuses("203.0.113.7, 10.0.0.2", 2) == [403, 403]
        assert await statuses("203.0.113.7", 1) == [429]
        # IPv6: one bucket per /64.
        assert await statuses("2001:db8:1:2::1", 2) == [403, 403]
        assert await statuses("2001:db8:1:2:ffff::9", 1) == [429]
        assert await statuses("2001:db8:1:3::1", 1) == [403]


async def test_forwarded_addresses_are_ignored_from_an_untrusted_peer(services: Services) -> None:
    limit = RateLimit(rate=2, window=60, clock=lambda: 0.0)
    pages = ConsentPages(services.email, limit=limit)  # no trusted proxy: the default
    async with TestClient(TestServer(pages.app())) as client:
        statuses = [
            (
                await client.get(f"/consent/{GUILD}/x", headers={"X-Forwarded-For": f"192.0.2.{i}"})
            ).status
            for i in range(3)
        ]
    assert statuses == [403, 403, 429]


def test_the_rate_limit_keeps_a_bounded_number_of_addresses() -> None:
    limit = RateLimit(rate=5, window=60, clock=lambda: 0.0, max_addresses=100)
    for i in range(5000):
        assert limit.allow(f"198.51.{i // 256}.{i % 256}")
    assert len(limit) <= 100
    # The most recent address is still counted.
    for _ in range(4):
        limit.allow("198.51.19.135")
    assert not limit.allow("198.51.19.135")


def test_trusted_proxies_setting() -> None:
    settings = load_settings({"WEB_TRUSTED_PROXIES": " 127.0.0.1, 10.0.0.0/8 ,::1"})
    assert [str(n) for n in settings.web_trusted_proxies] == [
        "127.0.0.1/32",
        "10.0.0.0/8",
        "::1/128",
    ]
    assert load_settings({}).web_trusted_proxies == ()
    with pytest.raises(SettingsError, match="WEB_TRUSTED_PROXIES"):
        load_settings({"WEB_TRUSTED_PROXIES": "proxy.example.org"})


async def test_the_page_speaks_the_readers_language(
    services: Services, outbox: Routed, smtp: tuple[Inbox, int], client: TestClient
) -> None:
    link = await _invite(services, outbox, smtp[0])
    french = await client.get(_path(link), headers={"Accept-Language": "fr-CH,fr;q=0.9"})
    assert 'lang="fr"' in await french.text()
    arabic = await (await client.get(_path(link) + "?lang=ar")).text()
    assert 'lang="ar"' in arabic and 'dir="rtl"' in arabic


async def _refused(services: Services, outbox: Routed, inbox: Inbox, answer: str) -> None:
    """Nominate Amina by email only, with her mail server answering ``answer``; send once."""
    inbox.refuse[NOMINEE] = answer
    await submit(services)
    await nominate(services, 1, "Amina Diallo", contact=NOMINEE)
    await Sender(services.outbox, outbox).run_once()


async def test_a_permanent_refusal_is_given_up_and_the_secretariat_told_once(
    services: Services, outbox: Routed, smtp: tuple[Inbox, int], db: Database
) -> None:
    inbox = smtp[0]
    await _refused(services, outbox, inbox, "550 5.1.1 No such user")
    await Sender(services.outbox, outbox).run_once()
    assert inbox.messages == []
    async with db.read() as session:
        row = (await session.exec(select(OutboxItem).where(OutboxItem.kind == EMAIL))).one()
    assert row.status == "failed" and "550" in (row.detail or "")
    notices = [p for p in outbox.posts if isinstance(p, AdminNotice)]
    assert len(notices) == 1 and notices[0].channel_id == LOG
    assert "could not email the invitation of nomination #1" in notices[0].text


async def _outbox_text(db: Database) -> str:
    """Return everything the outbox stores as text (details and payloads)."""
    async with db.read() as session:
        rows = (await session.exec(select(OutboxItem))).all()
    return "\n".join(f"{r.key} {r.detail} {r.payload}" for r in rows)


async def test_the_address_in_a_refusal_is_not_stored(
    services: Services, outbox: Routed, smtp: tuple[Inbox, int], db: Database
) -> None:
    await _refused(
        services, outbox, smtp[0], f"550 5.1.1 <{NOMINEE.upper()}>: Recipient address rejected"
    )
    stored = await _outbox_text(db)
    assert "550 5.1.1" in stored and "Recipient address rejected" in stored
    assert NOMINEE not in stored.lower() and "amina" not in stored.lower()
    notices = [p for p in outbox.posts if isinstance(p, AdminNotice)]
    assert notices and all(NOMINEE not in n.text.lower() for n in notices)


@pytest.mark.parametrize("by", ["page", "secretariat"])
async def test_an_erasure_scrubs_the_refusals_of_its_mail(
    services: Services,
    outbox: Routed,
    smtp: tuple[Inbox, int],
    db: Database,
    client: TestClient,
    clock: FakeClock,
    by: str,
) -> None:
    await _refused(services, outbox, smtp[0], "550 5.7.1 Mailbox of Amina Diallo disabled")
    assert "Amina Diallo disabled" in await _outbox_text(db)
    if by == "page":
        link = services.email.link(GUILD, 1, 1, NOMINEE)  # as the refused mail carried it
        erased = await client.post(_path(link), data={"action": "erase", "sure": "yes"})
        assert erased.status == 200
    else:
        async with db.read() as session:
            person = (await session.exec(select(Person))).one()
        assert person.id is not None
        await services.panellists.forget(SECRETARIAT, person.id, confirmed=True)
    stored = await _outbox_text(db)
    assert "disabled" not in stored and "Amina" not in stored and NOMINEE not in stored


async def test_a_temporary_refusal_is_retried(
    services: Services, outbox: Routed, smtp: tuple[Inbox, int], db: Database, clock: FakeClock
) -> None:
    inbox = smtp[0]
    await _refused(services, outbox, inbox, "451 4.3.0 Try again later")
    async with db.read() as session:
        row = (await session.exec(select(OutboxItem).where(OutboxItem.kind == EMAIL))).one()
    assert (row.status, row.attempts) == ("queued", 1)
    del inbox.refuse[NOMINEE]
    clock.now += timedelta(minutes=5)
    await Sender(services.outbox, outbox).run_once()
    assert len(inbox.links()) == 1
    assert not [p for p in outbox.posts if isinstance(p, AdminNotice)]


async def test_a_refused_login_holds_every_invitation_and_is_told_once(
    services: Services,
    smtp: tuple[Inbox, int],
    db: Database,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A wrong SMTP password (535) is the operator's to fix, not the nominees' fault:
    # every invitation waits, however long it takes, and the operators hear of it once.
    inbox, port = smtp
    inbox.password = "right"
    mailer = Mailer(SmtpServer("127.0.0.1", port, "mag", "wrong", "none"), timeout=5, clock=clock)
    outbox = Routed(mailer)
    await submit(services)
    addresses = [NOMINEE, "bo@example.org", "chen@example.org"]
    for number, address in enumerate(addresses):
        await nominate(services, 1, f"Nominee {number}", contact=address)
    with caplog.at_level(logging.INFO, logger="bot.mail"):
        for _ in range(10):  # well past the outbox's MAX_ATTEMPTS
            await Sender(services.outbox, outbox).run_once()
            clock.now += timedelta(minutes=20)
    async with db.read() as session:
        rows = (await session.exec(select(OutboxItem).where(OutboxItem.kind == EMAIL))).all()
    assert [(r.status, r.attempts) for r in rows] == [("queued", 0)] * 3
    assert all("535" in (r.detail or "") for r in rows)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "535" in errors[0].getMessage()
    notices = [p for p in outbox.posts if isinstance(p, AdminNotice)]
    assert len(notices) == 1 and notices[0].channel_id == LOG
    assert "535" in notices[0].text and "nothing is lost" in notices[0].text.lower()
    # The operator fixes the password: everything goes, and no more notices.
    inbox.password = "wrong"
    clock.now += timedelta(minutes=20)
    with caplog.at_level(logging.INFO, logger="bot.mail"):
        await Sender(services.outbox, outbox).run_once()
    assert sorted(str(m["To"]) for m in inbox.messages) == sorted(addresses)
    assert len([p for p in outbox.posts if isinstance(p, AdminNotice)]) == 1
    assert "works again" in caplog.text


async def test_a_refused_sender_is_a_retry_a_refused_message_is_not(
    services: Services, outbox: Routed, smtp: tuple[Inbox, int], db: Database, clock: FakeClock
) -> None:
    inbox = smtp[0]
    inbox.mail_from = "553 5.7.1 Sender address rejected: not owned by user"
    await submit(services)
    await nominate(services, 1, "Amina Diallo", contact=NOMINEE)
    await Sender(services.outbox, outbox).run_once()
    async with db.read() as session:
        row = (await session.exec(select(OutboxItem).where(OutboxItem.kind == EMAIL))).one()
    assert row.status == "queued" and "553" in (row.detail or "")
    # The server's answer to this one message's content is for good.
    inbox.mail_from = None
    inbox.data = "554 5.6.0 Message content rejected"
    clock.now += timedelta(hours=1)
    await Sender(services.outbox, outbox).run_once()
    async with db.read() as session:
        row = (await session.exec(select(OutboxItem).where(OutboxItem.kind == EMAIL))).one()
    assert row.status == "failed" and "554" in (row.detail or "")


async def test_no_smtp_server_is_a_retry_not_a_loss(services: Services, db: Database) -> None:
    from tests.web.smtp import free_port

    down = Routed(Mailer(SmtpServer("127.0.0.1", free_port(), None, None, "none"), timeout=2))
    await submit(services)
    await nominate(services, 1, "Amina Diallo", contact=NOMINEE)
    await Sender(services.outbox, down).run_once()
    async with db.read() as session:
        row = (await session.exec(select(OutboxItem).where(OutboxItem.kind == EMAIL))).one()
    assert row.status == "queued" and "SMTP" in (row.detail or "")


async def test_config_show_says_whether_email_is_on(services: Services) -> None:
    from bot.render.config import config_embed

    settings = await services.config.get(GUILD)
    fields = {}
    for on in (True, False):
        embed = config_embed(settings, email=on)
        fields[on] = {f.name: f.value for f in embed.fields}["Email invitations"]
    assert fields[True].startswith("On:") and fields[False].startswith("Off: invitations go by")


def test_what_counts_as_an_email_address() -> None:
    assert email_of(None, " amina@example.org ") == "amina@example.org"
    assert email_of("@amina on Signal", "Amina <amina@example.org>") is None
    assert email_of("a@b") is None
    assert email_of("josé@example.org") is None  # sent only with SMTPUTF8, which is not used


def test_settings_for_email_and_the_pages() -> None:
    settings = load_settings(
        {
            "SMTP_URL": "smtp://user:p%40ss@mail.example.org:587",
            "SMTP_SENDER": "mag@example.org",
            "WEB_BASE_URL": "https://consent.example.org/",
            "WEB_PORT": "8081",
            "WEB_SECRET": SECRET,
        }
    )
    assert settings.email_enabled and settings.web_base_url == "https://consent.example.org"
    assert "p%40ss" not in repr(settings)
    server = SmtpServer.from_url(settings.smtp_url.get(), settings.smtp_tls)  # type: ignore[union-attr]
    assert (server.host, server.port, server.username, server.password) == (
        "mail.example.org",
        587,
        "user",
        "p@ss",
    )
    assert not load_settings({}).email_enabled
    assert not load_settings({"SMTP_URL": "smtp://h", "SMTP_SENDER": "a@b.c"}).email_enabled
    with pytest.raises(SettingsError, match="WEB_SECRET"):
        load_settings({"WEB_BASE_URL": BASE, "WEB_PORT": "8081", "WEB_SECRET": "short"})
    with pytest.raises(SettingsError, match="SMTP_SENDER"):
        load_settings({"SMTP_URL": "smtp://h"})
    with pytest.raises(SettingsError, match="SMTP_TLS"):
        load_settings({"SMTP_TLS": "maybe"})


async def test_an_answer_before_the_mail_went_cancels_it_quietly(
    services: Services, outbox: Routed, smtp: tuple[Inbox, int], db: Database
) -> None:
    from tests.services.factories import SECRETARIAT

    await submit(services)
    await nominate(services, 1, "Amina Diallo", contact=NOMINEE)
    await services.panellists.record_answer(SECRETARIAT, 1, accept=True, note="by phone")
    await Sender(services.outbox, outbox).run_once()
    assert smtp[0].messages == []
    assert not [p for p in outbox.posts if isinstance(p, AdminNotice)]


async def test_the_mail_says_what_was_stated_about_them(
    services: Services, outbox: Routed, smtp: tuple[Inbox, int]
) -> None:
    await _invite(services, outbox, smtp[0], affiliation="Dakar Lab", rationale="Leads  the work")
    body = smtp[0].messages[0].get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "Amina Diallo, Dakar Lab" in text and "Civil Society · African Group" in text
    assert "Why you" in text and "Leads the work" in text
    assert "You were nominated as speaker on WS #1" in text


@settings(max_examples=200, deadline=None)
@given(token=st.text(max_size=300), guild=st.integers(min_value=0, max_value=2**64))
def test_any_token_is_either_valid_or_refused(token: str, guild: int) -> None:
    from datetime import UTC, datetime

    from bot.services.email import LinkRefused

    now = datetime(2027, 3, 1, tzinfo=UTC)
    signer = Signer(SECRET, lambda: now)
    try:
        link = signer.read(guild, token, now)
    except LinkRefused as refused:
        assert refused.reason in ("invalid", "expired")
    else:  # only a token this key signed for this guild gets through
        assert signer.sign(guild, link.participation_id, link.invitation, "a@example.org")


async def test_a_link_to_a_nominators_address_reaches_that_nomination_only(
    services: Services, outbox: Routed, smtp: tuple[Inbox, int], client: TestClient, db: Database
) -> None:
    """Someone nominates a known person with their own address: no hijack of the person."""
    from tests.services.factories import SECOND_PROPOSER

    await services.config.set_rule(ADMIN, "proposals.max_per_proposer", 0)
    await submit(services)
    await nominate(services, 1, "Jane Doe", affiliation="ACME", gender="Female")
    await submit(services, SECOND_PROPOSER, title="Another session")
    nomination = await nominate(
        services,
        2,
        "Jane Doe",
        affiliation="ACME",
        contact="mallory@example.org",
        actor=SECOND_PROPOSER,
    )
    assert nomination.invitation.emailed
    await Sender(services.outbox, outbox).run_once()
    (link,) = smtp[0].links()
    html = await (await client.get(_path(link))).text()
    assert "Jane Doe" in html and "Female" not in html  # the record is not theirs to see
    await client.post(_path(link), data={"action": "confirm"})
    erased = await client.post(_path(link), data={"action": "erase", "sure": "yes"})
    assert erased.status == 200
    async with db.read() as session:
        people = (await session.exec(select(Person))).all()
        kept = (await session.exec(select(Participation))).all()
    # Jane and her first nomination stay; the address never became her contact.
    assert [(p.name, p.contact) for p in people] == [("Jane Doe", None)]
    assert [pa.proposal_id for pa in kept] == [1]


async def test_an_answer_on_an_imported_proposal_messages_no_account(
    services: Services, outbox: Routed, smtp: tuple[Inbox, int], client: TestClient, db: Database
) -> None:
    from sqlalchemy import update

    from storage.proposals import IMPORTED_PROPOSER, Proposal

    await submit(services)
    async with db.write() as session:  # as `/proposal import` stores it: no Discord proposer
        await session.exec(update(Proposal).values(proposer_id=IMPORTED_PROPOSER))
    await nominate(services, 1, "Amina Diallo", contact=NOMINEE)
    await Sender(services.outbox, outbox).run_once()
    (link,) = smtp[0].links()
    await client.post(_path(link), data={"action": "confirm"})
    await Sender(services.outbox, outbox).run_once()
    assert not [p for p in outbox.posts if isinstance(p, UserNotice)]
    async with db.read() as session:
        lanes = [r.lane for r in (await session.exec(select(OutboxItem))).all()]
    assert "u:0" not in lanes


async def test_a_withdrawn_nomination_is_not_emailed(
    services: Services, outbox: Routed, smtp: tuple[Inbox, int], db: Database
) -> None:
    from sqlalchemy import update

    await submit(services)
    await nominate(services, 1, "Amina Diallo", contact=NOMINEE)
    async with db.write() as session:  # withdrawn before the mail went
        await session.exec(update(Participation).values(removed_at=services.clock()))
    await Sender(services.outbox, outbox).run_once()
    assert smtp[0].links() == []

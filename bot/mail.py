"""Email through SMTP (``aiosmtplib``): the outbox's ``EmailPost`` rows, sent once each.

SMTP's answers map onto the outbox's. About one message (its RCPT, the end
of its DATA): 2xx sent; 4xx retry later (the outbox counts and backs off);
5xx (no such mailbox, content refused) failed for good, and the secretariat
is told once (``bot.services.email``). About the server or our settings (a
connection refused or dropped, a timeout, EHLO, STARTTLS, AUTH such as a 535
bad password, MAIL FROM): every mail is held, never failed (``Mailer``).

A mail cannot be looked up after it left, as a Discord message can: a row
taken over after its sender died mid-send is sent again. Its ``Message-ID``
is derived from the row, so the receiving side can tell the two apart.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

import aiosmtplib

from bot.services.outbox import EmailPost, PostResult
from bot.services.sending import backoff
from storage.types import utcnow

log = logging.getLogger(__name__)

TIMEOUT = 30.0
# Anything shaped like an address in a server's answer (it usually repeats the recipient's).
_ANY_ADDRESS = re.compile(r"[^\s<>()\[\]\"',;:]+@[^\s<>()\[\]\"',;:]+")


def redact(text: str, address: str) -> str:
    """Return an SMTP answer without the recipient's address (nor any other one) in it.

    The answer is stored in the outbox and told to the secretariat; the
    address is personal data that must not outlive an erasure there.
    """
    text = re.sub(re.escape(address), "<address>", text, flags=re.IGNORECASE)
    return _ANY_ADDRESS.sub("<address>", text)


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to send: read from ``SMTP_URL`` and ``SMTP_TLS``."""

    host: str
    port: int
    username: str | None
    password: str | None
    tls: str  # starttls, tls, none

    @classmethod
    def from_url(cls, url: str, tls: str) -> SmtpServer:
        """Return the server an ``smtp://user:password@host:port`` URL names."""
        parts = urlsplit(url)
        default = 465 if tls == "tls" else 587 if tls == "starttls" else 25
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or default,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
        )


def message_of(post: EmailPost) -> EmailMessage:
    """Return the mail of ``post`` (plain text, UTF-8)."""
    message = EmailMessage()
    message["From"] = post.sender
    message["To"] = post.to
    message["Subject"] = post.subject
    message["Date"] = formatdate(localtime=False)
    domain = post.sender.rsplit("@", 1)[-1]
    message["Message-ID"] = make_msgid(idstring=f"magbot.{post.ref}", domain=domain)
    message["Content-Language"] = post.language.replace("_", "-")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(post.text)
    return message


class Mailer:
    """Sends ``EmailPost`` rows to one SMTP server, holding them all while it refuses.

    An answer about one message (RCPT for its address, the end of DATA) is that
    message's: 5xx fails it, 4xx retries it. Anything before (connecting,
    EHLO, STARTTLS, AUTH, MAIL FROM) is about the server or our settings: every
    mail is held (``PostResult.held``, which does not count towards giving
    up) and only one probe goes to the server per wait, a wait that grows
    as the outbox's backoff does while the fault lasts. The first fault of an
    outage is logged as an ERROR, once; its end as INFO.
    """

    def __init__(
        self,
        server: SmtpServer,
        *,
        timeout: float = TIMEOUT,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.server = server
        self.timeout = timeout
        self._clock = clock
        self._down_until: datetime | None = None
        self._faults = 0  # failed probes in the current outage
        self._fault = ""

    async def send(self, post: EmailPost) -> PostResult:
        """Send one mail; map the server's answer to sent, retry, held or failed."""
        now = self._clock()
        if self._down_until is not None and now < self._down_until:
            return self._held(now)
        server = self.server
        try:
            await aiosmtplib.send(
                message_of(post),
                hostname=server.host,
                port=server.port,
                username=server.username,
                password=server.password,
                use_tls=server.tls == "tls",
                start_tls=server.tls == "starttls",
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            self._up()
            codes = [e.code for e in error.recipients]
            detail = "; ".join(f"{e.code} {e.message}" for e in error.recipients)
            detail = redact(detail, post.to)[:180]
            if codes and all(code >= 500 for code in codes):
                return PostResult.failed(f"SMTP refused the address: {detail}", min(codes))
            return PostResult.retry(f"SMTP: {detail}")
        except aiosmtplib.SMTPDataError as error:
            self._up()
            detail = redact(f"SMTP {error.code} {error.message}", post.to)[:200]
            if error.code >= 500:
                return PostResult.failed(detail, error.code)
            return PostResult.retry(detail, error.code)
        except aiosmtplib.SMTPResponseException as error:
            return self._down(now, redact(f"{error.code} {error.message}", post.to))
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            return self._down(now, redact(f"{type(error).__name__}: {error}", post.to))
        self._up()
        return PostResult.sent(None)

    def _held(self, now: datetime) -> PostResult:
        assert self._down_until is not None
        wait = (self._down_until - now).total_seconds()
        return PostResult.held(f"SMTP server unavailable: {self._fault}"[:200], wait)

    def _down(self, now: datetime, fault: str) -> PostResult:
        """Hold every mail: the server (or its settings) refused before any recipient."""
        if self._down_until is not None and now < self._down_until:
            return self._held(now)  # another lane's probe already failed: one fault
        self._faults += 1
        self._fault = " ".join(fault.split())[:160]
        wait = backoff(self._faults)
        self._down_until = now + wait
        server = self.server
        level = logging.ERROR if self._faults == 1 else logging.WARNING
        log.log(
            level,
            "SMTP server %s:%s refuses to send (%s): every email is held, next try in %s. "
            "Check SMTP_URL, SMTP_TLS and SMTP_SENDER (docs/email.md).",
            server.host,
            server.port,
            self._fault,
            wait,
        )
        return self._held(now)

    def _up(self) -> None:
        if self._faults:
            log.info(
                "SMTP server %s:%s works again after %d failed tries",
                self.server.host,
                self.server.port,
                self._faults,
            )
        self._down_until = None
        self._faults = 0
        self._fault = ""

"""Email through SMTP (``aiosmtplib``): the outbox's ``EmailPost`` rows, sent once each.

SMTP's answers map onto the outbox's: 2xx sent; 4xx, a refused or dropped
connection, a timeout: retry later (the outbox counts and backs off); 5xx
(no such mailbox, refused for policy): failed for good, and the secretariat
is told once (``bot.services.email``).

A mail cannot be looked up after it left, as a Discord message can: a row
taken over after its sender died mid-send is sent again. Its ``Message-ID``
is derived from the row, so the receiving side can tell the two apart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

import aiosmtplib

from bot.services.outbox import EmailPost, PostResult

log = logging.getLogger(__name__)

TIMEOUT = 30.0


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
    """Sends ``EmailPost`` rows to one SMTP server."""

    def __init__(self, server: SmtpServer, *, timeout: float = TIMEOUT) -> None:
        self.server = server
        self.timeout = timeout

    async def send(self, post: EmailPost) -> PostResult:
        """Send one mail; map the server's answer to sent, retry or failed."""
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
            codes = [e.code for e in error.recipients]
            detail = "; ".join(f"{e.code} {e.message}" for e in error.recipients)[:180]
            if codes and all(code >= 500 for code in codes):
                return PostResult.failed(f"SMTP refused the address: {detail}", min(codes))
            return PostResult.retry(f"SMTP: {detail}")
        except aiosmtplib.SMTPResponseException as error:
            detail = f"SMTP {error.code} {error.message}"[:200]
            if error.code >= 500:
                return PostResult.failed(detail, error.code)
            return PostResult.retry(detail, error.code)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            return PostResult.retry(f"SMTP: {type(error).__name__}: {error}"[:200])
        return PostResult.sent(None)

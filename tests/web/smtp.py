"""A real SMTP server for the tests (aiosmtpd), keeping what it received."""

from __future__ import annotations

import email
import email.policy
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

LINK = re.compile(r"https?://\S+/consent/\S+")


@dataclass
class Inbox:
    """What the server received, and the answers it gives to some addresses."""

    messages: list[EmailMessage] = field(default_factory=list)
    # address -> SMTP answer to RCPT TO ("550 ...": for good, "451 ...": try later)
    refuse: dict[str, str] = field(default_factory=dict)
    # The password a login must give (None: any login is accepted).
    password: str | None = None
    # The answer to MAIL FROM and to the end of DATA (None: accepted).
    mail_from: str | None = None
    data: str | None = None

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.mail_from is not None:
            return self.mail_from
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (
            self.password is None or data.password.decode() == self.password
        )
        return AuthResult(success=ok, handled=False)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data is not None:
            return self.data
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def links(self) -> list[str]:
        """Return the consent links of every message received, in order."""
        found = []
        for message in self.messages:
            body = message.get_body(preferencelist=("plain",))
            assert body is not None
            found += LINK.findall(body.get_content())
        return found


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    """Run an SMTP server on a free local port; yield its inbox and port."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=inbox.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()

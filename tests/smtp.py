"""A real SMTP server for tests (aiosmtpd on a free localhost port) and Django pointed at it."""

import email
import email.header
import email.policy
import socket
from dataclasses import dataclass, field

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    def header(self, name: str) -> str:
        """A header decoded as RFC 2047 says (encoded words joined; the folding after the colon
        is not part of the value, which the modern parser keeps when the value starts folded)."""
        raw = email.message_from_bytes(self.raw)[name]
        return str(email.header.make_header(email.header.decode_header(raw)))

    @property
    def message(self) -> email.message.EmailMessage:
        # Lines end in CRLF on the wire; as text they end in a newline.
        return email.message_from_bytes(self.raw.replace(b"\r\n", b"\n"), policy=email.policy.default)  # type: ignore[return-value]


@dataclass
class MailServer:
    """What the server received; `refuse` holds addresses it answers 550 for."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    """Django's SMTP backend sending to a live aiosmtpd server (as TEND_EMAIL_URL=smtp://127.0.0.1:port would)."""
    from aiosmtpd.controller import Controller

    handler = MailServer(port=free_port())
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    from tend.settings import _email_settings

    for name, value in _email_settings(f"smtp://127.0.0.1:{handler.port}?timeout=5").items():
        setattr(settings, name, value)
    yield handler
    controller.stop()

"""A real SMTP server on 127.0.0.1 (aiosmtpd, in its own thread) that keeps what it receives.

`script` says how to answer each message's DATA in turn ("451 …" to fail it for now, "550 …" for
good); afterwards every message is accepted. Optional STARTTLS (a `trustme` certificate) and AUTH.
"""

from __future__ import annotations

import email
import email.policy
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, Session

from tests.conftest import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes


@dataclass
class Mailbox:
    port: int
    script: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        with self.lock:
            how = self.script.pop(0) if self.script else "250 OK"
            self.answered.append(how)
            if not how.startswith("250"):
                return how
            content = envelope.original_content or envelope.content or b""
            raw = content.encode("utf-8") if isinstance(content, str) else bytes(content)
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            self.received.append(
                Received(str(envelope.mail_from), [str(r) for r in envelope.rcpt_tos], parsed, raw)
            )
        return how


@contextmanager
def smtp_server(
    script: list[str] | None = None,
    *,
    tls: ssl.SSLContext | None = None,
    credentials: tuple[str, str] | None = None,
) -> Iterator[Mailbox]:
    """An SMTP server on a free loopback port; stopped on exit."""
    mailbox = Mailbox(free_port(), list(script or []))
    options: dict[str, Any] = {}
    if tls is not None:
        options |= {"tls_context": tls, "require_starttls": True}
    if credentials is not None:

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            login = data.login.decode() if isinstance(data.login, bytes) else str(data.login)
            password = data.password.decode() if isinstance(data.password, bytes) else str(data.password)
            ok = (login, password) == credentials
            if ok:
                mailbox.logins.append(login)
            return AuthResult(success=ok)

        options |= {"authenticator": authenticate, "auth_require_tls": tls is not None}
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port, **options)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()

"""Notifier e-mail: the message in Japanese, English or both, its headers, and delivery to a real SMTP
server on 127.0.0.1 (plain, STARTTLS, AUTH; transient and permanent refusals; nobody listening)."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime

import pytest
import trustme

from api.copy import CATALOG
from registry.notices.mail import (
    STATE_NAMES,
    STEP_NAMES,
    Change,
    Language,
    SmtpConfig,
    compose,
    language_of,
    send,
)
from tests.conftest import free_port
from tests.smtp_server import smtp_server

NOTICE = "a" * 64
CHANGE = Change(
    NOTICE, "b" * 64, "action", "acknowledged", "actioned", 42, datetime(2026, 5, 1, 9, tzinfo=UTC)
)
LINK = f"https://registry.example.org/notices/{NOTICE}"


def _message(language: Language) -> tuple[str, str]:
    message = compose(
        CHANGE, to="aoi@example.jp", sender="registry@example.org", link=LINK, language=language
    )
    return str(message["Subject"]), message.get_content()


def test_state_and_step_names_are_the_portals() -> None:
    for state, pair in STATE_NAMES.items():
        assert CATALOG[f"state.{state}"] == pair
    for step, pair in STEP_NAMES.items():
        assert CATALOG[f"event.{step}"] == pair


@pytest.mark.parametrize(
    ("tag", "language"),
    [("ja", "ja"), ("ja-JP", "ja"), ("en", "en"), ("en-GB", "en"), ("fr", "both"), (None, "both")],
)
def test_the_notices_language_picks_the_mails(tag: str | None, language: str) -> None:
    assert language_of(tag) == language


def test_a_japanese_message_says_what_changed_and_where_to_follow_it() -> None:
    subject, body = _message("ja")
    assert subject == "【Kotowari】削除要請の状態が「措置済み」になりました"
    assert f"削除要請 ID：{NOTICE}" in body and "新しい状態：措置済み（actioned）" in body
    assert "事業者が措置を講じました" in body and "ログの記録番号：42" in body and LINK in body
    assert "Your takedown notice" not in body


def test_an_english_message_says_the_same() -> None:
    subject, body = _message("en")
    assert subject == "[Kotowari] Your takedown notice is now: actioned"
    assert f"Notice: {NOTICE}" in body and "New state: actioned" in body and "Log index: 42" in body
    assert "the operator took action" in body and LINK in body and "削除要請" not in body


def test_without_a_known_language_both_are_sent_japanese_first() -> None:
    subject, body = _message("both")
    assert (
        subject
        == "【Kotowari】削除要請の状態が「措置済み」になりました / Your takedown notice is now: actioned"
    )
    assert body.index("削除要請 ID") < body.index("Notice: ")


def test_headers_mark_an_automatic_plain_text_message() -> None:
    message = compose(CHANGE, to="aoi@example.jp", sender="registry@example.org", link=LINK, language="ja")
    assert message["From"] == "registry@example.org" and message["To"] == "aoi@example.jp"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "ja"
    assert message["X-Kotowari-Notice"] == NOTICE and message["X-Kotowari-State"] == "actioned"
    assert message["Message-ID"].endswith("@example.org>")
    assert message["Date"] == "Fri, 01 May 2026 09:00:00 +0000"
    assert message.get_content_type() == "text/plain" and message.get_content_charset() == "utf-8"


def test_a_header_cannot_be_injected_through_the_address() -> None:
    with pytest.raises(ValueError):
        compose(CHANGE, to="aoi@example.jp\r\nBcc: x@y.z", sender="r@example.org", link=LINK, language="en")


# ------------------------------------------------------------------ delivery


async def test_a_message_is_delivered_to_the_relay() -> None:
    with smtp_server() as mailbox:
        config = SmtpConfig("127.0.0.1", "registry@example.org", port=mailbox.port, timeout=5)
        message = compose(CHANGE, to="aoi@example.jp", sender=config.sender, link=LINK, language="ja")
        assert await send(config, message) == ("delivered", 250)
    (received,) = mailbox.received
    assert received.sender == "registry@example.org" and received.recipients == ["aoi@example.jp"]
    assert received.message["Subject"] == "【Kotowari】削除要請の状態が「措置済み」になりました"
    assert "新しい状態：措置済み" in received.message.get_content()


async def test_transient_and_permanent_refusals_are_told_apart() -> None:
    with smtp_server(["451 4.3.0 try again later", "550 5.1.1 no such mailbox"]) as mailbox:
        config = SmtpConfig("127.0.0.1", "registry@example.org", port=mailbox.port, timeout=5)
        message = compose(CHANGE, to="aoi@example.jp", sender=config.sender, link=LINK, language="en")
        assert await send(config, message) == ("failed", 451)
        assert await send(config, message) == ("rejected", 550)
        assert await send(config, message) == ("delivered", 250)
    assert len(mailbox.received) == 1


async def test_a_relay_that_is_not_there_is_an_error_not_an_exception() -> None:
    config = SmtpConfig("127.0.0.1", "registry@example.org", port=free_port(), timeout=2)
    message = compose(CHANGE, to="aoi@example.jp", sender=config.sender, link=LINK, language="en")
    assert await send(config, message) == ("error", None)


async def test_starttls_and_auth() -> None:
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    with smtp_server(tls=server_context, credentials=("kotowari", "s3cret")) as mailbox:
        config = SmtpConfig(
            "127.0.0.1",
            "registry@example.org",
            port=mailbox.port,
            starttls=True,
            username="kotowari",
            password="s3cret",
            timeout=5,
            tls_context=client_context,
        )
        message = compose(CHANGE, to="aoi@example.jp", sender=config.sender, link=LINK, language="en")
        assert await send(config, message) == ("delivered", 250)
        untrusted = SmtpConfig(**{**config.__dict__, "tls_context": ssl.create_default_context()})
        assert await send(untrusted, message) == ("error", None)  # the relay's certificate is checked
    assert mailbox.logins == ["kotowari"] and len(mailbox.received) == 1

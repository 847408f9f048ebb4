"""E-mail to notifiers: the message (plain text, Japanese and English) and its delivery over SMTP.

Why the stdlib: `smtplib` does everything a registry needs to hand a message to its own relay
(STARTTLS, AUTH, 8-bit-clean MIME), and one message per state change needs no pool. It blocks, so
`send` runs it in a worker thread with a per-connection timeout: a slow relay delays one
notification, never a request.

The message says which notice changed, to which state, by which step, at which log index, and
where to follow it — nothing else: no contact details of anyone, no statement text. It is written
in the notice's language when that is Japanese or English, and in both (Japanese first) otherwise.
State and step names are the portal's (`api.copy`, checked by tests/registry/notices/test_mail.py).

>>> message = compose(Change("a" * 64, "b" * 64, "action", "acknowledged", "actioned", 7,
...     datetime(2026, 1, 1, tzinfo=UTC)), to="aoi@example.jp", sender="registry@example.org",
...     link="https://registry.example.org/notices/" + "a" * 64, language="en")
>>> message["Subject"]
'[Kotowari] Your takedown notice is now: actioned'
>>> message["Auto-Submitted"]
'auto-generated'
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Final, Literal

Language = Literal["ja", "en", "both"]

STATE_NAMES: Final[dict[str, tuple[str, str]]] = {
    "filed": ("提出済み", "filed"),
    "delivered": ("配達済み", "delivered"),
    "acknowledged": ("受領確認済み", "acknowledged"),
    "actioned": ("措置済み", "actioned"),
    "rejected": ("措置しない判断", "rejected"),
    "counter-noticed": ("異議申立てあり", "counter-noticed"),
    "restored": ("復元", "restored"),
    "upheld": ("削除を維持", "upheld"),
    "closed": ("終了", "closed"),
}
"""Each state in Japanese and English, as the portal names it (`api.copy` `state.*`)."""

STEP_NAMES: Final[dict[str, tuple[str, str]]] = {
    "deliver": ("事業者に届けました", "delivered to the operator"),
    "acknowledge": ("事業者が受領確認をしました", "the operator acknowledged it"),
    "action": ("事業者が措置を講じました", "the operator took action"),
    "reject": ("事業者が措置しないと判断しました", "the operator decided not to act"),
    "counter-notice": ("事業者が異議申立てを伝えました", "the operator relayed a counter-notice"),
    "restore": ("事業者が復元しました", "the operator restored the material"),
    "uphold": ("削除の維持が伝えられました", "the takedown was upheld"),
    "close": ("この削除要請は終了しました", "the notice was closed"),
    "remind": ("レジストリが期限を知らせました", "the registry sent a deadline reminder"),
}
"""Each step in Japanese and English, as the portal's notice page says it (`api.copy` `event.*`)."""


@dataclass(frozen=True)
class Change:
    """One logged step that moved a notice from `previous` to `state` (what a notifier is told)."""

    notice_id: str
    event_id: str
    action: str
    previous: str
    state: str
    log_index: int
    at: datetime


@dataclass(frozen=True)
class SmtpConfig:
    """The relay the registry hands notifier e-mail to. `tls_context` None: the system's CAs."""

    host: str
    sender: str
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0
    tls_context: ssl.SSLContext | None = None


def language_of(tag: str | None) -> Language:
    """The notice's `language` tag as the mail's language: Japanese, English, or both."""
    primary = (tag or "").split("-", 1)[0].lower()
    return "ja" if primary == "ja" else "en" if primary == "en" else "both"


def _japanese(change: Change, link: str) -> tuple[str, str]:
    state = STATE_NAMES.get(change.state, (change.state, change.state))[0]
    step = STEP_NAMES.get(change.action, (change.action, change.action))[0]
    subject = f"【Kotowari】削除要請の状態が「{state}」になりました"
    body = (
        "申出者の方へ\n\n"
        "あなたが提出した削除要請の状態が変わりました。\n\n"
        f"削除要請 ID：{change.notice_id}\n"
        f"新しい状態：{state}（{change.state}）\n"
        f"手続き：{step}\n"
        f"ログの記録番号：{change.log_index}\n"
        f"経過：{link}\n\n"
        "このメールはレジストリが自動で送っています。お知らせを止めるには、削除要請の個人データを"
        "消去してください（kotowari notice erase）。\n"
    )
    return subject, body


def _english(change: Change, link: str) -> tuple[str, str]:
    state = STATE_NAMES.get(change.state, (change.state, change.state))[1]
    step = STEP_NAMES.get(change.action, (change.action, change.action))[1]
    subject = f"[Kotowari] Your takedown notice is now: {state}"
    body = (
        "Your takedown notice changed state.\n\n"
        f"Notice: {change.notice_id}\n"
        f"New state: {state}\n"
        f"Step: {step}\n"
        f"Log index: {change.log_index}\n"
        f"Follow it: {link}\n\n"
        "The registry sent this message automatically. To stop these messages, erase your personal "
        "data in the notice (kotowari notice erase).\n"
    )
    return subject, body


def compose(change: Change, *, to: str, sender: str, link: str, language: Language) -> EmailMessage:
    """The plain-text message telling `to` of `change` (RFC 5322 headers, RFC 3834 Auto-Submitted)."""
    ja_subject, ja_body = _japanese(change, link)
    en_subject, en_body = _english(change, link)
    if language == "ja":
        subject, body = ja_subject, ja_body
    elif language == "en":
        subject, body = en_subject, en_body
    else:
        subject = f"{ja_subject} / {en_subject.removeprefix('[Kotowari] ')}"
        body = f"{ja_body}\n----------------------------------------\n\n{en_body}"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(change.at.astimezone(UTC))
    domain = sender.rpartition("@")[2] or "kotowari.local"
    message["Message-ID"] = make_msgid("kotowari", domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Kotowari-Notice"] = change.notice_id
    message["X-Kotowari-State"] = change.state
    message.set_content(body, charset="utf-8", cte="base64")
    message["Content-Language"] = "ja, en" if language == "both" else language  # after set_content
    return message


def send_now(config: SmtpConfig, message: EmailMessage) -> None:
    """Hand `message` to the relay (blocking); smtplib's exceptions pass through."""
    with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
        smtp.ehlo()
        if config.starttls:
            smtp.starttls(context=config.tls_context or ssl.create_default_context())
            smtp.ehlo()
        if config.username:
            smtp.login(config.username, config.password or "")
        smtp.send_message(message)


async def send(config: SmtpConfig, message: EmailMessage) -> tuple[str, int | None]:
    """(outcome, SMTP reply code) of one attempt: `delivered`; `rejected` (a permanent 5xx: not
    retried); `failed` (a transient 4xx); `timeout`; `error` (no connection, TLS, anything else).
    Never raises, and never returns the server's text (it may echo the address)."""
    try:
        await asyncio.to_thread(send_now, config, message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        code = codes[0] if codes else None
        return ("rejected" if code is not None and code >= 500 else "failed"), code
    except smtplib.SMTPResponseException as exc:
        return ("rejected" if exc.smtp_code >= 500 else "failed"), exc.smtp_code
    except TimeoutError:
        return "timeout", None
    except (OSError, smtplib.SMTPException, ssl.SSLError, ValueError):
        return "error", None
    return "delivered", 250

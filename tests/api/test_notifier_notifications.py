"""Notifiers told of every change of their notice's state (issue 17), on SQLite and PostgreSQL: signed
webhooks to a receiver on 127.0.0.1, e-mail to a real SMTP server on 127.0.0.1, retries recorded,
erasure stopping them, no address in the log, exports, statistics or server logs, and every refusal
of a bad address as problem+json. One test runs `kotowari serve` configured by environment."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

import keys
from api import Settings, create_app
from keys.http_signatures import access_headers, verify_request
from registry.models import LogEntry
from registry.notices.documents import new_notice
from tests.api.test_notices_api import Receiver, _problem
from tests.api.test_notices_api import Registry as NoticesRegistry
from tests.conftest import Clock, free_port, start_server, stop_server
from tests.factories import body
from tests.notice_factories import complete_notice, registration, response
from tests.smtp_server import Mailbox, smtp_server

PROBLEM = "https://kotowari.dev/problems/"
PUBLIC = "https://registry.example.org"
EMAIL = "aoi.updates@example.jp"
TOKEN = "aoi-secret-token-7f3a"  # in the notifier's webhook URL: must never leave the vault


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def hooks(receiver: Receiver) -> Receiver:
    return receiver


class Registry(NoticesRegistry):
    """test_notices_api's registry, whose drain also waits for the notifications to the notifier."""

    async def drain(self) -> None:
        assert self.state.webhooks is not None and self.state.notifications is not None
        await self.state.webhooks.drain()
        await self.state.notifications.drain()


async def _registry(settings: Settings, clock: Clock) -> AsyncIterator[Registry]:
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    EXECUTOR_CACHE.clear()
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as client:
            yield Registry(client, app.state.registry, clock)


def _settings(tmp_path: Path, db_url: str, **changes: Any) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        db_url=db_url,
        webhook_allow_private=True,
        webhook_timeout=2,
        webhook_attempts=3,
        webhook_backoff=0.01,
        reminder_interval=0,
        public_url=PUBLIC,
        **changes,
    )


@pytest.fixture
async def registry(db_url: str, tmp_path: Path, clock: Clock, mailbox: Mailbox) -> AsyncIterator[Registry]:
    settings = _settings(
        tmp_path, db_url, smtp_host="127.0.0.1", smtp_port=mailbox.port, smtp_from="registry@kotowari.test"
    )
    async for running in _registry(settings, clock):
        yield running


def _hook(hooks: Receiver) -> str:
    return f"{hooks.url}?who={TOKEN}"


async def _file(registry: Registry, notifier: keys.SigningKey, operator: str, notify: Any) -> str:
    notice = complete_notice(notifier, operator, registry.clock(), notify=notify)
    answer = await registry.post("/v1/notices", notice)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def _step(registry: Registry, key: keys.SigningKey, notice_id: str, action: str) -> None:
    registry.clock.advance(hours=1)
    answer = await registry.post(
        f"/v1/notices/{notice_id}/responses", response(key, notice_id, action, registry.clock())
    )
    assert answer.status_code == 201, answer.text


async def _personal(registry: Registry, notice_id: str, key: keys.SigningKey) -> dict[str, Any]:
    path = f"/v1/notices/{notice_id}/personal"
    url = str(registry.http.base_url).rstrip("/") + path
    headers = access_headers(
        "GET",
        url,
        key,
        keys.verification_method_for(key.did),
        created=int(registry.clock().timestamp()),
        nonce=secrets.token_urlsafe(18),
    )
    answer = await registry.http.get(path, headers=headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _notifier_posts(hooks: Receiver) -> list[dict[str, Any]]:
    return [json.loads(got.body) for got in hooks.received if TOKEN in got.path]


# ------------------------------------------------------------------ every change of state, both channels


async def test_every_change_of_state_is_told_by_signed_webhook_and_by_email(
    registry: Registry,
    notifier: keys.SigningKey,
    operator: keys.SigningKey,
    hooks: Receiver,
    mailbox: Mailbox,
) -> None:
    operator_hooks = Receiver()
    try:
        answer = await registry.post(
            "/v1/operators", registration(operator, registry.clock(), webhook=operator_hooks.url)
        )
        assert answer.status_code == 201, answer.text
        notice_id = await _file(registry, notifier, operator.did, {"webhook": _hook(hooks), "email": EMAIL})
        await registry.drain()  # the operator's webhook answers 2xx: the registry's `deliver` step
        for action in ("acknowledge", "action", "close"):
            await _step(registry, operator, notice_id, action)
        await registry.drain()
    finally:
        operator_hooks.close()
    notice = (await registry.http.get(f"/v1/notices/{notice_id}")).json()
    logged = {event["to"]: event for event in notice["events"]}
    assert list(logged) == ["delivered", "acknowledged", "actioned", "closed"]

    posts = _notifier_posts(hooks)
    assert [post["state"] for post in posts] == ["delivered", "acknowledged", "actioned", "closed"]
    registry_key = keys.resolve_did_key(registry.state.key.did)
    for got, post in zip([g for g in hooks.received if TOKEN in g.path], posts, strict=True):
        verified = verify_request("POST", _hook(hooks), got.headers, got.body, registry_key)
        event = logged[post["state"]]
        changed = datetime.fromisoformat(event["received_at"].replace("Z", "+00:00"))
        assert verified.params["tag"] == "kotowari-notifier"
        assert int(verified.params["created"]) >= int(changed.timestamp())  # signed when sent
        assert post == {
            "type": "NoticeStateChange",
            "registry": registry.state.key.did,
            "notice": notice_id,
            "event": event["id"],
            "action": event["action"],
            "previous": event["from"],
            "state": event["to"],
            "log_index": event["log_index"],
            "changed_at": event["received_at"],
            "link": f"{PUBLIC}/notices/{notice_id}",
        }

    assert [got.recipients for got in mailbox.received] == [[EMAIL]] * 4
    first, *_, last = mailbox.received
    assert first.sender == "registry@kotowari.test"
    assert (
        first.message["Subject"] == "【Kotowari】削除要請の状態が「配達済み」になりました"
    )  # the notice is in ja
    assert last.message["X-Kotowari-State"] == "closed" and last.message["Auto-Submitted"] == "auto-generated"
    assert last.message["Content-Language"] == "ja" and last.message.get_content_type() == "text/plain"
    text = last.message.get_content()
    assert f"削除要請 ID：{notice_id}" in text and "新しい状態：終了（closed）" in text
    assert (
        f"ログの記録番号：{logged['closed']['log_index']}" in text and f"{PUBLIC}/notices/{notice_id}" in text
    )


async def test_a_slow_first_telling_does_not_let_a_later_change_overtake_it(
    registry: Registry,
    notifier: keys.SigningKey,
    operator: keys.SigningKey,
    hooks: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The notifier is told a notice's changes in the order they happened, even when telling one
    takes longer than the next change takes to come (a slow receiver, made slow here)."""
    notifications = registry.state.notifications
    assert notifications is not None
    original = notifications._webhook

    async def slow_for_acknowledged(url: str, change: Any) -> Any:
        if change.state == "acknowledged":
            await asyncio.sleep(0.5)  # meanwhile "actioned" and "closed" are logged and scheduled
        return await original(url, change)

    monkeypatch.setattr(notifications, "_webhook", slow_for_acknowledged)
    notice_id = await _file(registry, notifier, operator.did, {"webhook": _hook(hooks)})
    await registry.drain()
    for action in ("acknowledge", "action", "close"):
        await _step(registry, operator, notice_id, action)
    await registry.drain()
    assert [post["state"] for post in _notifier_posts(hooks)] == ["acknowledged", "actioned", "closed"]


async def test_an_english_notice_gets_english_mail_and_no_language_gets_both(
    registry: Registry, notifier: keys.SigningKey, operator: keys.SigningKey, mailbox: Mailbox
) -> None:
    for language in ("en", None):
        notice = complete_notice(
            notifier, operator.did, registry.clock(), notify={"email": EMAIL}, language=language
        )
        answer = await registry.post("/v1/notices", notice)
        assert answer.status_code == 201, answer.text
        await _step(registry, operator, answer.json()["id"], "acknowledge")
    await registry.drain()
    by_language = {str(got.message["Content-Language"]): got.message for got in mailbox.received}
    english, both = by_language["en"], by_language["ja, en"]
    assert english["Subject"] == "[Kotowari] Your takedown notice is now: acknowledged"
    assert "削除要請" not in english.get_content()
    assert "受領確認済み" in both.get_content() and "New state: acknowledged" in both.get_content()


async def test_a_reminder_changes_no_state_and_is_not_told(
    registry: Registry,
    notifier: keys.SigningKey,
    operator: keys.SigningKey,
    hooks: Receiver,
    mailbox: Mailbox,
) -> None:
    notice_id = await _file(registry, notifier, operator.did, {"webhook": _hook(hooks), "email": EMAIL})
    assert registry.state.notices is not None
    registry.clock.advance(days=30)
    assert await registry.state.notices.remind_overdue() == [notice_id]
    await registry.drain()
    assert _notifier_posts(hooks) == [] and mailbox.received == []


# ------------------------------------------------------------------ personal data


async def test_the_addresses_stay_out_of_the_log_exports_statistics_and_server_logs(
    registry: Registry,
    notifier: keys.SigningKey,
    operator: keys.SigningKey,
    hooks: Receiver,
    mailbox: Mailbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    hooks.script = [500]  # one failure, so the retry path logs too
    notice_id = await _file(registry, notifier, operator.did, {"webhook": _hook(hooks), "email": EMAIL})
    for action in ("acknowledge", "action"):
        await _step(registry, operator, notice_id, action)
    await registry.drain()
    assert len(mailbox.received) == 2 and len(_notifier_posts(hooks)) == 3

    entries = b"".join(bytes(row) for row in await LogEntry.all().values_list("entry", flat=True))
    public = [
        entries.decode("utf-8", "replace"),
        (await registry.http.get(f"/v1/notices/{notice_id}")).text,
        (await registry.http.get(f"/v1/notices/{notice_id}/export/lumen")).text,
        (await registry.http.get(f"/v1/notices/{notice_id}/export/dsa-sor")).text,
        (await registry.http.get("/v1/stats/operators")).text,
        (await registry.http.get(f"/v1/operators/{operator.did}/notices")).text,
        (await registry.http.get("/log/tile/entries/000")).content.decode("utf-8", "replace"),
        "\n".join(record.getMessage() for record in caplog.records if not record.name.startswith("mail.log")),
    ]
    for text in public:
        assert EMAIL not in text and TOKEN not in text and "/hooks/kotowari" not in text
    assert "notify" not in json.loads((await registry.http.get(f"/v1/notices/{notice_id}")).text)["document"]


async def test_the_notifier_reads_its_addresses_and_the_record_of_notifications(
    registry: Registry, notifier: keys.SigningKey, operator: keys.SigningKey, hooks: Receiver
) -> None:
    hooks.script = [503]
    notice_id = await _file(registry, notifier, operator.did, {"webhook": _hook(hooks), "email": EMAIL})
    await _step(registry, operator, notice_id, "acknowledge")
    await registry.drain()
    shown = await _personal(registry, notice_id, notifier)
    (part,) = shown["parts"]
    assert part["data"]["notify"] == {"webhook": _hook(hooks), "email": EMAIL}
    told = sorted((n["channel"], n["attempt"], n["outcome"], n["code"]) for n in shown["notifications"])
    assert told == [
        ("email", 1, "delivered", 250),
        ("webhook", 1, "failed", 503),
        ("webhook", 2, "delivered", 204),
    ]
    assert {n["state"] for n in shown["notifications"]} == {"acknowledged"}
    assert EMAIL not in json.dumps(shown["notifications"]) and TOKEN not in json.dumps(shown["notifications"])


async def test_erasure_stops_notifications_pending_retries_included(
    registry: Registry,
    notifier: keys.SigningKey,
    operator: keys.SigningKey,
    hooks: Receiver,
    mailbox: Mailbox,
) -> None:
    from registry.privacy.documents import new_erasure

    notice_id = await _file(registry, notifier, operator.did, {"webhook": _hook(hooks), "email": EMAIL})
    await _step(registry, operator, notice_id, "acknowledge")
    await registry.drain()
    assert len(_notifier_posts(hooks)) == 1 and len(mailbox.received) == 1

    # A retry waiting when the notifier erases: the erasure lands during the backoff.
    notifications = registry.state.notifications
    assert notifications is not None
    hooks.script = [500]
    mailbox.script = ["451 4.3.0 try again later"]
    erased: list[int] = []
    erasing = asyncio.Lock()  # both channels back off at once: one erases, the other waits for it

    async def erase_while_waiting(seconds: float) -> None:
        async with erasing:
            if erased:
                return
            erasure = keys.sign_document(
                new_erasure(notifier.did, notice_id, [notice_id], "request", created=registry.clock()),
                notifier,
                created=registry.clock(),
            )
            answer = await registry.post(f"/v1/notices/{notice_id}/erasure", erasure)
            assert answer.status_code == 201, answer.text
            erased.append(answer.json()["log"]["index"])

    notifications.sleep = erase_while_waiting
    await _step(registry, operator, notice_id, "action")
    await registry.drain()
    assert erased, "a retry waited"
    assert len(_notifier_posts(hooks)) == 2 and len(mailbox.received) == 1  # the failed tries, nothing after

    await _step(registry, operator, notice_id, "close")
    await registry.drain()
    assert len(_notifier_posts(hooks)) == 2 and len(mailbox.received) == 1


# ------------------------------------------------------------------ failures


async def test_failures_are_retried_and_recorded_and_never_fail_the_step(
    registry: Registry,
    notifier: keys.SigningKey,
    operator: keys.SigningKey,
    hooks: Receiver,
    mailbox: Mailbox,
) -> None:
    hooks.script = [500, "redirect"]
    mailbox.script = ["451 4.3.0 try again later"]
    notice_id = await _file(registry, notifier, operator.did, {"webhook": _hook(hooks), "email": EMAIL})
    await _step(registry, operator, notice_id, "acknowledge")
    await registry.drain()
    shown = await _personal(registry, notice_id, notifier)
    webhook = [(n["outcome"], n["code"]) for n in shown["notifications"] if n["channel"] == "webhook"]
    email = [(n["outcome"], n["code"]) for n in shown["notifications"] if n["channel"] == "email"]
    assert webhook == [("failed", 500), ("redirect", 302), ("delivered", 204)]
    assert email == [("failed", 451), ("delivered", 250)]
    assert len(mailbox.received) == 1

    mailbox.script = ["550 5.1.1 no such mailbox"]  # permanent: not tried again
    await _step(registry, operator, notice_id, "action")
    await registry.drain()
    shown = await _personal(registry, notice_id, notifier)
    actioned = [(n["outcome"], n["code"]) for n in shown["notifications"] if n["channel"] == "email"][2:]
    assert actioned == [("rejected", 550)]


async def test_one_channel_breaking_leaves_the_other_to_finish(
    registry: Registry,
    notifier: keys.SigningKey,
    operator: keys.SigningKey,
    hooks: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    notifications = registry.state.notifications
    assert notifications is not None

    async def broken(address: str, change: object) -> tuple[str, int | None]:
        raise RuntimeError("the mail code broke")

    notifications._email = broken  # type: ignore[method-assign]  # a fault no real relay causes
    hooks.script = [500]  # the webhook needs a retry after the e-mail has already broken
    notice_id = await _file(registry, notifier, operator.did, {"webhook": _hook(hooks), "email": EMAIL})
    with caplog.at_level(logging.WARNING, logger="kotowari.notifications"):
        await _step(registry, operator, notice_id, "acknowledge")
        await registry.drain()
    shown = await _personal(registry, notice_id, notifier)
    assert [(n["channel"], n["outcome"]) for n in shown["notifications"]] == [
        ("webhook", "failed"),
        ("webhook", "delivered"),
    ]
    assert "RuntimeError" in caplog.text and EMAIL not in caplog.text


async def test_a_dead_relay_and_a_dead_webhook_are_recorded_and_the_registry_carries_on(
    db_url: str, tmp_path: Path, clock: Clock, notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    nobody = free_port()
    settings = _settings(tmp_path, db_url, smtp_host="127.0.0.1", smtp_port=nobody)
    async for registry in _registry(settings, clock):
        notify = {"webhook": f"http://127.0.0.1:{nobody}/hook", "email": EMAIL}
        notice_id = await _file(registry, notifier, operator.did, notify)
        await _step(registry, operator, notice_id, "acknowledge")
        await registry.drain()
        shown = await _personal(registry, notice_id, notifier)
        assert sorted((n["channel"], n["outcome"]) for n in shown["notifications"]) == [
            ("email", "error"), ("email", "error"), ("email", "error"),
            ("webhook", "error"), ("webhook", "error"), ("webhook", "error"),
        ]  # fmt: skip
        assert (await registry.http.get("/healthz")).status_code == 200
        await _step(registry, operator, notice_id, "action")


async def test_notifications_cut_short_by_a_restart_resume_from_the_next_attempt(
    registry: Registry,
    notifier: keys.SigningKey,
    operator: keys.SigningKey,
    hooks: Receiver,
    mailbox: Mailbox,
) -> None:
    notices, notifications = registry.state.notices, registry.state.notifications
    assert notices is not None and notifications is not None
    notices.on_step = None  # as if the process stopped right after the step committed
    notice_id = await _file(registry, notifier, operator.did, {"webhook": _hook(hooks), "email": EMAIL})
    await _step(registry, operator, notice_id, "acknowledge")
    notices.on_step = notifications.schedule

    async def stopped(seconds: float) -> None:
        raise asyncio.CancelledError  # the process stops while a retry waits

    hooks.script = [500]
    notifications.sleep = stopped
    assert await notifications.resume() == 2  # both channels of the one state change
    await registry.drain()
    assert len(mailbox.received) == 1 and len(_notifier_posts(hooks)) == 1  # the webhook failed once

    notifications.sleep = asyncio.sleep
    assert await notifications.resume() == 1  # the webhook, from its second attempt
    await registry.drain()
    shown = await _personal(registry, notice_id, notifier)
    webhook = [(n["attempt"], n["outcome"]) for n in shown["notifications"] if n["channel"] == "webhook"]
    assert webhook == [(1, "failed"), (2, "delivered")]
    assert await notifications.resume() == 0


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("notify", "pointer"),
    [
        ({"webhook": "ftp://hooks.example/x"}, "/personal/data/notify/webhook"),
        ({"webhook": "hooks.example/x"}, "/personal/data/notify/webhook"),
        ({"email": "not-an-address"}, "/personal/data/notify/email"),
        ({"email": "aoi@example.jp\r\nBcc: all@example.jp"}, "/personal/data/notify/email"),
        ({"sms": "+81 90 0000 0000"}, "/notify/sms"),  # not split off: the signed notice's schema refuses it
    ],
)
async def test_bad_addresses_are_refused_with_problem_json(
    registry: Registry, notifier: keys.SigningKey, operator: keys.SigningKey, notify: Any, pointer: str
) -> None:
    answer = await registry.post(
        "/v1/notices", complete_notice(notifier, operator.did, registry.clock(), notify=notify)
    )
    slug = "invalid-personal-part" if pointer.startswith("/personal/") else "invalid-document"
    problem = _problem(answer, 422, slug)
    assert pointer in [error["pointer"] for error in problem["errors"]], problem


async def test_addresses_inside_the_signed_notice_are_refused(
    registry: Registry, notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    document = new_notice(
        notifier.did, operator.did, kind="work", identifiers=[("url", "https://aoi.example.jp/")],
        locations=[("model", "acme/painter-v2")], actions=["remove"], regimes=["dsa"],
        created=registry.clock(), notify={"email": EMAIL},
    )  # fmt: skip
    answer = await registry.post(
        "/v1/notices", keys.sign_document(document, notifier, created=registry.clock())
    )
    problem = _problem(answer, 422, "invalid-document")
    assert problem["errors"] == [
        {"pointer": "/notify/email", "detail": "personal: move it to the personal part"}
    ]
    assert EMAIL not in answer.text


async def test_private_webhooks_and_email_without_a_relay_are_refused_by_default(
    db_url: str, tmp_path: Path, clock: Clock, notifier: keys.SigningKey, operator: keys.SigningKey
) -> None:
    settings = Settings(data_dir=tmp_path / "data", db_url=db_url, reminder_interval=0)
    async for registry in _registry(settings, clock):
        for webhook in ("http://127.0.0.1:9/hook", "https://127.0.0.1/hook", "https://10.0.0.7/hook",
                        "https://[::1]/hook", "https://169.254.169.254/latest"):  # fmt: skip
            notice = complete_notice(notifier, operator.did, clock(), notify={"webhook": webhook})
            problem = _problem(await registry.post("/v1/notices", notice), 422, "invalid-personal-part")
            assert problem["errors"][0]["pointer"] == "/personal/data/notify/webhook", webhook
        notice = complete_notice(notifier, operator.did, clock(), notify={"email": EMAIL})
        problem = _problem(await registry.post("/v1/notices", notice), 422, "invalid-personal-part")
        assert problem["errors"][0]["pointer"] == "/personal/data/notify/email"
        assert EMAIL not in json.dumps(problem)
        page = await registry.http.get("/takedown")
        assert 'id="notify-webhook"' in page.text and 'id="notify-email"' not in page.text


# ------------------------------------------------------------------ a real `kotowari serve`


def test_kotowari_serve_sends_notifier_mail_configured_by_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mailbox: Mailbox
) -> None:
    for name, value in {
        "KOTOWARI_SMTP_HOST": "127.0.0.1",
        "KOTOWARI_SMTP_PORT": str(mailbox.port),
        "KOTOWARI_SMTP_FROM": "notices@registry.example.org",
        "KOTOWARI_PUBLIC_URL": PUBLIC,
    }.items():
        monkeypatch.setenv(name, value)
    server = start_server(tmp_path / "served")
    try:
        notifier, operator = keys.SigningKey.generate(), keys.SigningKey.generate()
        now = datetime.now(UTC).replace(microsecond=0)
        notice = complete_notice(notifier, operator.did, now, notify={"email": EMAIL}, language="en")
        filed = httpx.post(f"{server.url}/v1/notices", content=body(notice), timeout=10)
        assert filed.status_code == 201, filed.text
        notice_id = filed.json()["id"]
        step = response(operator, notice_id, "acknowledge", now)
        answer = httpx.post(f"{server.url}/v1/notices/{notice_id}/responses", content=body(step), timeout=10)
        assert answer.status_code == 201, answer.text
        for _ in range(100):
            if mailbox.received:
                break
            time.sleep(0.1)
    finally:
        stop_server(server)
    (got,) = mailbox.received
    assert got.sender == "notices@registry.example.org" and got.recipients == [EMAIL]
    assert got.message["Subject"] == "[Kotowari] Your takedown notice is now: acknowledged"
    assert f"{PUBLIC}/notices/{notice_id}" in got.message.get_content()
    assert EMAIL not in server.banner

"""The takedown form's optional "tell me" fields (issue 17), in a real browser against a `kotowari
serve` configured with an SMTP relay (aiosmtpd on 127.0.0.1) and private webhooks allowed: a bad
address is said beside its field before anything is signed; the addresses are split into the personal
part; the operator's step reaches the notifier's mailbox in the page's language and its webhook."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest

import keys
from tests.api.test_notices_api import Receiver
from tests.conftest import ServerProcess, start_server, stop_server
from tests.portal.harness import Portal
from tests.portal.helpers import load_key, register_operator, respond
from tests.smtp_server import Mailbox, smtp_server


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as running:
        yield running


@pytest.fixture(scope="module")
def hooks() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


@pytest.fixture(scope="module")
def portal_server(tmp_path_factory: pytest.TempPathFactory, mailbox: Mailbox) -> Iterator[ServerProcess]:
    """This module's `kotowari serve`: with an SMTP relay, and webhooks to 127.0.0.1 allowed."""
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("KOTOWARI_SMTP_HOST", "127.0.0.1")
        environment.setenv("KOTOWARI_SMTP_PORT", str(mailbox.port))
        environment.setenv("KOTOWARI_WEBHOOK_ALLOW_PRIVATE", "1")
        running = start_server(tmp_path_factory.mktemp("notify-portal") / "data")
    try:
        yield running
    finally:
        stop_server(running)


def _wait(found: Any) -> Any:
    for _ in range(150):
        value = found()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("nothing arrived")


def test_the_notifier_is_told_by_email_and_webhook_of_the_operators_step(
    portal: Portal, mailbox: Mailbox, hooks: Receiver
) -> None:
    operator = register_operator(portal.base_url, f"Acme {secrets.token_hex(2)}")
    email = f"hanako.{secrets.token_hex(3)}@example.jp"
    token = secrets.token_hex(6)
    portal.goto("/takedown")
    load_key(portal, keys.SigningKey.generate())
    portal.page.reload()
    page = portal.page
    assert page.text_content("#notify-fieldset legend") == portal.t("takedown.notify")
    assert page.text_content("label[for=notify-email]") == portal.t("notify.email")
    assert page.text_content("label[for=notify-webhook]") == portal.t("notify.webhook")
    page.fill("#operator", operator.did)
    page.fill("#subject-urls", "https://me.example/works/")
    page.fill("#loc-urls", "https://models.example.com/acme/painter")
    page.fill("#contact-name", "山田 花子")
    page.fill("#contact-email", "hanako@example.jp")
    page.fill("#jp-right", "著作権（複製権）")
    page.fill("#jp-reason", "無断で学習に使われたため")

    page.fill("#notify-email", "hanako-at-example")  # not an address: said beside the field
    page.fill("#notify-webhook", "hooks.example/x")  # not an http(s) URL
    page.click("#sign-notice")
    page.wait_for_selector("#notify-email[aria-invalid=true]")
    assert page.get_attribute("#notify-webhook", "aria-invalid") == "true"
    errors = page.text_content("#form-errors") or ""
    assert portal.t("err.email") in errors and portal.t("err.url_scheme") in errors
    portal.check("takedown-notify-errors")

    page.fill("#notify-email", email)
    page.fill("#notify-webhook", f"{hooks.url}?t={token}")
    with page.expect_request(lambda request: request.url.endswith("/v1/notices")) as filing:
        page.click("#sign-notice")
    page.wait_for_selector("#filed:not([hidden])")
    notice = page.text_content("#filed-id") or ""
    sent = json.loads(filing.value.post_data or "{}")
    assert sent["personal"]["data"]["notify"] == {"email": email, "webhook": f"{hooks.url}?t={token}"}
    assert "notify" not in sent["document"]
    portal.check("takedown-notify-filed")

    respond(portal.base_url, operator, notice, "acknowledge")
    got = _wait(lambda: [m for m in mailbox.received if m.recipients == [email]])[0]
    expected = "受領確認済み" if portal.lang == "ja" else "Your takedown notice is now: acknowledged"
    assert expected in str(got.message["Subject"]) and got.message["Content-Language"] == portal.lang
    post = _wait(lambda: [json.loads(r.body) for r in hooks.received if token in r.path])[0]
    assert (post["notice"], post["state"]) == (notice, "acknowledged")

    portal.goto(f"/notices/{notice}")
    main = page.text_content("main") or ""
    assert email not in main and token not in main, "the addresses are not on the public page"

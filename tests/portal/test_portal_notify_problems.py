"""The registry's refusal of where to notify (a webhook on a private address, a bad e-mail address:
`invalid-personal-part`, pointers under /personal/data) is shown beside the form's own field, in
the page's language — not as one general message above the form."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

import keys
from api.copy import CATALOG
from tests.conftest import ServerProcess
from tests.notice_factories import complete_notice, registration


def _refusal(server: ServerProcess, notify: dict[str, str]) -> dict[str, Any]:
    """The real server's problem for a notice asking to be told at `notify`."""
    operator, notifier = keys.SigningKey.generate(), keys.SigningKey.generate()
    now = datetime.now(UTC).replace(microsecond=0)
    assert httpx.post(f"{server.url}/v1/operators", json=registration(operator, now)).status_code == 201
    answer = httpx.post(
        f"{server.url}/v1/notices", json=complete_notice(notifier, operator.did, now, notify=notify)
    )
    assert answer.status_code == 422, answer.text
    problem: dict[str, Any] = answer.json()
    assert problem["type"].endswith("/invalid-personal-part")
    return problem


def test_a_refused_webhook_is_marked_on_its_field_in_japanese(
    page: Any, portal_server: ServerProcess
) -> None:
    problem = _refusal(portal_server, {"webhook": "https://127.0.0.1/hook"})
    assert problem["errors"][0]["pointer"] == "/personal/data/notify/webhook"
    page.goto("/takedown")
    shown = page.evaluate(
        "async (problem) => { const p = await import('/static/js/problems.js');"
        " return p.problemItems(problem)"
        ".map((item) => [item.pointer, item.field && item.field.id, item.text]); }",
        problem,
    )
    assert shown == [["/notify/webhook", "notify-webhook", CATALOG["err.notify_webhook"][0]]]

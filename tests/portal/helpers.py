"""Small things the portal's browser tests share: a key put into the tab, documents filed from Python
(as another party would), the registry's view of what the browser filed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx

import keys
from registry.documents import new_claim
from registry.notices.documents import new_registration, new_response
from tests.portal.harness import Portal


def load_key(portal: Portal, key: keys.SigningKey, *, saved: bool = True) -> None:
    """Put `key` into this tab's sessionStorage as the key page would (saved: as if loaded from a file)."""
    portal.page.evaluate(
        "([jwk, saved]) => { sessionStorage.setItem('kotowari.key', JSON.stringify(jwk));"
        " sessionStorage.setItem('kotowari.key.saved', saved ? '1' : '0'); }",
        [key.to_jwk(), saved],
    )


def post_signed(base_url: str, path: str, document: dict[str, Any], key: keys.SigningKey) -> Any:
    response = httpx.post(f"{base_url}{path}", content=json.dumps(keys.sign_document(document, key)))
    assert response.status_code in (200, 201), response.text
    return response.json()


def file_claim(base_url: str, key: keys.SigningKey, kind: str, identifiers: list[Any], uses: dict[str, str],
               **fields: Any) -> str:  # fmt: skip
    claim = new_claim(key.did, kind, identifiers, uses, created=datetime.now(UTC), **fields)
    return str(post_signed(base_url, "/v1/claims", claim, key)["id"])


def register_operator(base_url: str, name: str) -> keys.SigningKey:
    operator = keys.SigningKey.generate()
    registration = new_registration(operator.did, name, "ops@operator.example", created=datetime.now(UTC))
    post_signed(base_url, "/v1/operators", registration, operator)
    return operator


def respond(base_url: str, operator: keys.SigningKey, notice_id: str, action: str, **fields: Any) -> Any:
    step = new_response(operator.did, notice_id, action, created=datetime.now(UTC), **fields)
    return post_signed(base_url, f"/v1/notices/{notice_id}/responses", step, operator)


def check(base_url: str, purpose: str, item: dict[str, str]) -> dict[str, Any]:
    answer = httpx.post(f"{base_url}/v1/check", json={"purpose": purpose, "items": [item]}).json()
    result: dict[str, Any] = answer["items"][0]
    return result


def in_view(portal: Portal, selector: str) -> bool:
    """Whether the element is visible and at least partly inside the viewport (not scrolled away)."""
    return bool(
        portal.page.evaluate(
            "(s) => { const e = document.querySelector(s); if (!e || e.hidden) return false;"
            " const r = e.getBoundingClientRect();"
            " return r.height > 0 && r.bottom > 0 && r.top < innerHeight; }",
            selector,
        )
    )


def described_text(portal: Portal, selector: str) -> str:
    """The text of the elements the field's aria-describedby names."""
    return str(
        portal.page.evaluate(
            "(s) => (document.querySelector(s).getAttribute('aria-describedby') || '').split(/\\s+/)"
            ".filter(Boolean).map((id) => document.getElementById(id)?.textContent || '').join(' ')",
            selector,
        )
    )

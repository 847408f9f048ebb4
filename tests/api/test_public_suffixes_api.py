"""Claims and notices over a public suffix are refused with 422 over HTTP, on SQLite and PostgreSQL;
registrable domains, their subdomains and IP addresses are still accepted, and checks ask about any URL."""

from __future__ import annotations

from typing import Any

import httpx

import keys
from registry.models import ClaimRecord, LogEntry, UsedNonce
from tests.conftest import Clock
from tests.factories import body, signed_claim
from tests.notice_factories import complete_notice

REFUSED = [
    "https://co.jp/",
    "https://co.jp./",
    "https://Co.JP:8443/gallery/",
    "https://jp/",
    "http://com/",
    "https://github.io/",
    "https://s3.amazonaws.com/",
    "https://ck/",
    "https://test.ck/",
    "https://xn--p1ai/",
    "https://рф/",
    "https://localhost/",
]
ACCEPTED = [
    "https://example.co.jp/",
    "https://www.example.co.jp/gallery/",
    "https://alice.github.io/",
    "https://www.ck/",
    "https://xn--e1afmkfd.xn--p1ai/",
    "http://192.0.2.1/",
]


async def post(api: httpx.AsyncClient, path: str, document: Any) -> httpx.Response:
    return await api.post(path, content=body(document), headers={"Content-Type": "application/json"})


async def check(api: httpx.AsyncClient, *urls: str) -> list[str]:
    items = [{"scheme": "url", "value": url} for url in urls]
    response = await api.post("/v1/check", json={"purpose": "train-ai", "items": items})
    assert response.status_code == 200, response.text
    return [item["decision"] for item in response.json()["items"]]


async def refused(api: httpx.AsyncClient, path: str, document: Any) -> dict[str, Any]:
    """The 422 problem for `document`, which must have written nothing."""
    before = [await model.all().count() for model in (ClaimRecord, LogEntry, UsedNonce)]
    response = await post(api, path, document)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["type"].endswith("/invalid-document"), problem
    assert [await model.all().count() for model in (ClaimRecord, LogEntry, UsedNonce)] == before
    return problem


async def test_claims_over_public_suffixes_are_refused_with_a_pointer(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    for url in REFUSED:
        problem = await refused(api, "/v1/claims", signed_claim(alice, clock.now, urls=(url,)))
        assert problem["errors"][0]["pointer"] == "/subject/identifiers/0/value", (url, problem)
        assert "Public Suffix List" in problem["errors"][0]["detail"], problem
        assert "registrable domain" in problem["detail"], problem

    mixed = signed_claim(alice, clock.now, urls=("https://example.co.jp/", "https://github.io/"))
    problem = await refused(api, "/v1/claims", mixed)
    assert [error["pointer"] for error in problem["errors"]] == ["/subject/identifiers/1/value"]
    assert problem["errors"][0]["detail"].startswith("github.io is a public suffix")


async def test_registrable_domains_subdomains_and_ip_addresses_are_accepted(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    for url in ACCEPTED:
        response = await post(api, "/v1/claims", signed_claim(alice, clock.now, urls=(url,)))
        assert response.status_code == 201, (url, response.text)

    github = await check(api, "https://bob.github.io/x", "https://alice.github.io/x", "https://github.io/")
    assert github == ["unknown", "n", "unknown"]
    co_jp = await check(api, "https://co.jp/", "https://other.co.jp/", "https://www.example.co.jp/gallery/a")
    assert co_jp == ["unknown", "unknown", "n"]


async def test_notices_naming_a_public_suffix_are_refused(
    api: httpx.AsyncClient, alice: keys.SigningKey, mallory: keys.SigningKey, clock: Clock
):
    for url in ("https://github.io/", "https://co.jp./", "https://рф/"):
        document = complete_notice(alice, mallory.did, clock.now, identifiers=[("url", url)])
        problem = await refused(api, "/v1/notices", document)
        assert problem["errors"][0]["pointer"] == "/subject/identifiers/0/value", (url, problem)
        assert "Public Suffix List" in problem["errors"][0]["detail"]

    document = complete_notice(
        alice,
        mallory.did,
        clock.now,
        identifiers=[("url", "https://alice.github.io/works/")],
        locations=[("url", "https://github.io/acme/painter-v2"), ("model", "acme/painter-v2")],
    )
    response = await post(api, "/v1/notices", document)
    assert response.status_code == 201, response.text

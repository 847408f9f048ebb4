"""Authority end to end over real HTTPS on 127.0.0.1: domain verification, did:web authors,
attestations, re-checks and lapses, through the registry application on SQLite and PostgreSQL.

The HTTPS server (conftest.py) presents a certificate from a test CA the registry is told to trust
(`fetch_ca_file`); names resolve to it through `fetch_resolve`, as curl's --resolve does.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import keys
from registry.authority.documents import new_attestation
from tests.conftest import Clock
from tests.factories import body, signed_claim
from tests.registry.authority.conftest import HttpsServer, Route

WELL_KNOWN = "/.well-known/kotowari-did"


@dataclass
class Registry:
    client: httpx.AsyncClient
    state: Any
    settings: Any


@pytest.fixture
async def registry(
    db_url: str, tmp_path: Path, clock: Clock, https_server: HttpsServer
) -> AsyncIterator[Registry]:
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    from api import Settings, create_app

    EXECUTOR_CACHE.clear()
    ca_file = tmp_path / "ca.pem"
    https_server.ca.cert_pem.write_to_path(str(ca_file))
    names = ("publisher.example", "alice.example", "www.publisher.example", "nowhere.example")
    settings = Settings(
        data_dir=tmp_path / "data",
        db_url=db_url,
        fetch_allow_private=True,
        fetch_ca_file=str(ca_file),
        fetch_https_port=https_server.port,
        fetch_resolve={name: "127.0.0.1" for name in names},
        fetch_timeout=2.0,
    )
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as client:
            yield Registry(client, app.state.registry, settings)


async def restarted(registry: Registry, clock: Clock) -> httpx.Response:
    """/healthz of the same data after a restart (the start-up verification of everything logged)."""
    from api import create_app

    app = create_app(registry.settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as client:
            return await client.get("/healthz")


async def check(client: httpx.AsyncClient, url: str, **extra: Any) -> dict[str, Any]:
    response = await client.post(
        "/v1/check", json={"items": [{"scheme": "url", "value": url}], "purpose": "train-ai", **extra}
    )
    assert response.status_code == 200, response.text
    item: dict[str, Any] = response.json()["items"][0]
    return item


async def log_size(client: httpx.AsyncClient) -> int:
    checkpoint = (await client.get("/log/checkpoint")).text
    return int(checkpoint.splitlines()[1])


async def test_a_publisher_verifies_its_domain_and_its_claims_say_so(
    registry: Registry, https_server: HttpsServer, alice: keys.SigningKey, clock: Clock
) -> None:
    api = registry.client
    claim = signed_claim(alice, clock.now, urls=("https://www.publisher.example/books/",))
    assert (await api.post("/v1/claims", content=body(claim))).status_code == 201
    before = await check(api, "https://www.publisher.example/books/1.epub")
    assert before["matches"][0]["authority"] == ["self-asserted"]

    https_server.route("publisher.example", WELL_KNOWN, Route(f"# our keys\n{alice.did}\n".encode()))
    response = await api.post(
        "/v1/verifications", json={"did": alice.did, "host": "publisher.example", "method": "well-known"}
    )
    assert response.status_code == 201, response.text
    verification = response.json()["verification"]
    assert verification["scope"] == "domain" and verification["method"] == "well-known"
    assert verification["url"] == f"https://publisher.example{WELL_KNOWN}"
    keys.verify_document(verification)  # registry-signed, checkable by anyone

    after = await check(api, "https://www.publisher.example/books/1.epub")
    [match] = after["matches"]
    assert match["authority"] == ["self-asserted", "domain-verified"]
    assert match["chain"][0]["document"] == response.json()["id"]
    assert match["chain"][0]["by"] == registry.state.key.did
    strict = await check(api, "https://www.publisher.example/books/1.epub", min_authority="domain-verified")
    assert strict["decision"] == "n"

    stored = (await api.get(f"/v1/claims/{keys.document_id(claim)}")).json()
    assert stored["authority"]["grants"][0]["authority"] == "domain-verified"
    described = (await api.get(f"/v1/authority/{alice.did}")).json()
    assert described["verified_hosts"] == [".publisher.example"]

    # the file goes away: the next re-check logs a lapse, and the claim is self-asserted again
    https_server.routes.clear()
    lapses = await registry.state.authority.recheck()
    assert len(lapses) == 1
    again = await check(api, "https://www.publisher.example/books/1.epub")
    assert again["matches"][0]["authority"] == ["self-asserted"]
    strict = await check(api, "https://www.publisher.example/books/1.epub", min_authority="domain-verified")
    assert strict["decision"] == "unknown" and strict["matches"][0]["counted"] is False


@pytest.mark.parametrize(
    ("request_body", "route", "detail"),
    [
        ({"host": "publisher.example"}, Route(b"did:key:z6MkOther\n"), "lists"),
        ({"host": "publisher.example"}, Route(b"gone", 404), "404"),
        ({"host": "nowhere.example"}, None, "nowhere.example"),  # not in the certificate
        ({"host": "co.jp"}, None, "no registrable domain"),
        ({"host": "127.0.0.1"}, None, "no registrable domain"),
        ({"host": "publisher.example", "method": "carrier-pigeon"}, None, "method must be"),
        ({"host": "publisher.example", "did": "did:example:123"}, None, "DID"),
        ({"host": "publisher.example", "extra": 1}, None, "unknown field"),
    ],
)
async def test_a_failed_verification_is_explained_and_changes_nothing(
    registry: Registry,
    https_server: HttpsServer,
    alice: keys.SigningKey,
    request_body: dict[str, Any],
    route: Route | None,
    detail: str,
) -> None:
    if route is not None:
        https_server.route("publisher.example", WELL_KNOWN, route)
    size = await log_size(registry.client)
    response = await registry.client.post("/v1/verifications", json={"did": alice.did} | request_body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert detail in response.json()["detail"]
    assert await log_size(registry.client) == size


def did_document(did: str, key: keys.SigningKey, method_type: str = "Multikey") -> bytes:
    method: dict[str, Any] = {"id": f"{did}#key-1", "type": method_type, "controller": did}
    if method_type == "JsonWebKey":
        jwk = key.to_jwk()
        method["publicKeyJwk"] = {name: jwk[name] for name in ("kty", "crv", "x")}
    else:
        method["publicKeyMultibase"] = key.public.multibase
    document = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [method],
        "assertionMethod": [f"{did}#key-1"],
    }
    return json.dumps(document).encode()


def did_web_claim(did: str, key: keys.SigningKey, clock: Clock, url: str) -> dict[str, Any]:
    from registry.documents import new_claim

    document = new_claim(did, "work", [("url", url)], {"train-ai": "n"}, created=clock.now)
    return keys.sign_document(document, key, created=clock.now, verification_method=f"{did}#key-1")


@pytest.mark.parametrize("method_type", ["Multikey", "JsonWebKey"])
async def test_a_did_web_author_files_and_is_domain_verified_by_its_did(
    registry: Registry, https_server: HttpsServer, clock: Clock, method_type: str
) -> None:
    key, did = keys.SigningKey.generate(), "did:web:alice.example"
    https_server.route("alice.example", "/.well-known/did.json", Route(did_document(did, key, method_type)))
    claim = did_web_claim(did, key, clock, "https://alice.example/portfolio/")
    size = await log_size(registry.client)
    response = await registry.client.post("/v1/claims", content=body(claim))
    assert response.status_code == 201, response.text
    # the DID document and the did-web verification are logged before the claim
    assert await log_size(registry.client) == size + 3
    entries = [
        json.loads(entry.entry)
        for entry in await __import__("registry.models", fromlist=["LogEntry"])
        .LogEntry.filter(index__gte=size)
        .order_by("index")
    ]
    assert [e["type"] for e in entries] == ["DidDocumentRecord", "DomainVerification", "Claim"]
    assert entries[0]["document"].encode() == did_document(did, key, method_type)
    assert entries[1]["method"] == "did-web" and entries[1]["scope"] == "domain"
    [match] = (await check(registry.client, "https://alice.example/portfolio/a.png"))["matches"]
    assert match["authority"] == ["self-asserted", "domain-verified"]

    # a second document under the same DID document logs nothing beside it
    second = did_web_claim(did, key, clock, "https://alice.example/sketches/")
    assert (await registry.client.post("/v1/claims", content=body(second))).status_code == 201
    assert await log_size(registry.client) == size + 4
    # everything logged, the registry's own records included, verifies at the next start
    restart = await restarted(registry, clock)
    assert restart.status_code == 200, restart.text


@pytest.mark.parametrize(
    ("serve", "status", "slug"),
    [
        ("other-id", 422, "invalid-document"),
        ("not-json", 422, "invalid-document"),
        ("missing", 422, "invalid-document"),
        ("other-key", 422, "invalid-proof"),
        ("huge", 422, "invalid-document"),
    ],
)
async def test_a_did_web_author_whose_document_does_not_serve_is_refused(
    registry: Registry, https_server: HttpsServer, clock: Clock, serve: str, status: int, slug: str
) -> None:
    key, did = keys.SigningKey.generate(), "did:web:alice.example"
    served = {
        "other-id": did_document("did:web:publisher.example", key),
        "not-json": b"<html>",
        "other-key": did_document(did, keys.SigningKey.generate()),
        "huge": b" " * (64 * 1024) + did_document(did, key),
    }.get(serve)
    if served is not None:
        https_server.route("alice.example", "/.well-known/did.json", Route(served))
    size = await log_size(registry.client)
    claim = did_web_claim(did, key, clock, "https://alice.example/portfolio/")
    response = await registry.client.post("/v1/claims", content=body(claim))
    assert response.status_code == status, response.text
    assert response.json()["type"].endswith(slug)
    assert await log_size(registry.client) == size


async def test_a_proof_naming_another_dids_method_is_refused(
    registry: Registry, https_server: HttpsServer, clock: Clock
) -> None:
    key, did = keys.SigningKey.generate(), "did:web:alice.example"
    https_server.route("alice.example", "/.well-known/did.json", Route(did_document(did, key)))
    from registry.documents import new_claim

    document = new_claim(
        did, "work", [("url", "https://alice.example/")], {"train-ai": "n"}, created=clock.now
    )
    claim = keys.sign_document(
        document, key, created=clock.now, verification_method="did:web:publisher.example#key-1"
    )
    response = await registry.client.post("/v1/claims", content=body(claim))
    assert response.status_code == 422 and response.json()["type"].endswith("wrong-signer")


async def test_an_attestation_by_a_verified_union_counts(
    registry: Registry, https_server: HttpsServer, alice: keys.SigningKey, clock: Clock
) -> None:
    union = keys.SigningKey.generate()
    isni = {"scheme": "isni", "value": "0000 0001 2103 2683"}
    claim = signed_claim(alice, clock.now, urls=(), kind="voice", identifiers=[isni])
    assert (await registry.client.post("/v1/claims", content=body(claim))).status_code == 201
    attestation = keys.sign_document(
        new_attestation(
            union.did, alice.did, "identity", created=clock.now, name="山寺宏一", identifiers=[isni]
        ),
        union,
        created=clock.now,
    )
    response = await registry.client.post("/v1/authority", content=body(attestation))
    assert response.status_code == 201, response.text

    async def levels() -> list[str]:
        answer = await registry.client.post(
            "/v1/check", json={"items": [{"scheme": "isni", "value": "0000000121032683"}]}
        )
        result: list[str] = answer.json()["items"][0]["matches"][0]["authority"]
        return result

    assert await levels() == ["self-asserted"]
    https_server.route("alice.example", WELL_KNOWN, Route(union.did.encode()))
    verified = await registry.client.post(
        "/v1/verifications", json={"did": union.did, "host": "alice.example"}
    )
    assert verified.status_code == 201, verified.text
    assert await levels() == ["self-asserted", "attested"]
    restart = await restarted(registry, clock)
    assert restart.status_code == 200, restart.text

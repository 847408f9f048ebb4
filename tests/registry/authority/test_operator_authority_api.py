"""Operators as did:web over real HTTPS on 127.0.0.1 (the test CA of conftest.py), on SQLite and
PostgreSQL: a did:web operator is domain-verified by its first registration, its name is its own,
and a refused registration logs nothing, not even the DID document it was checked against."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import keys
from registry.models import LogEntry
from registry.notices.documents import new_registration
from tests.authority_helpers import verify_domain
from tests.conftest import Clock
from tests.factories import body
from tests.registry.authority.conftest import HttpsServer, Route


@dataclass
class Registry:
    client: httpx.AsyncClient
    state: Any


@pytest.fixture
async def registry(
    db_url: str, tmp_path: Path, clock: Clock, https_server: HttpsServer
) -> AsyncIterator[Registry]:
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    from api import Settings, create_app

    EXECUTOR_CACHE.clear()
    ca_file = tmp_path / "ca.pem"
    https_server.ca.cert_pem.write_to_path(str(ca_file))
    settings = Settings(
        data_dir=tmp_path / "data",
        db_url=db_url,
        fetch_allow_private=True,
        fetch_ca_file=str(ca_file),
        fetch_https_port=https_server.port,
        fetch_resolve={"alice.example": "127.0.0.1", "publisher.example": "127.0.0.1"},
        fetch_timeout=2.0,
    )
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as client:
            yield Registry(client, app.state.registry)


def serve_did(https_server: HttpsServer, did: str, key: keys.SigningKey) -> None:
    host = did.removeprefix("did:web:")
    document = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [
            {
                "id": f"{did}#key-1",
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": key.public.multibase,
            }
        ],
        "assertionMethod": [f"{did}#key-1"],
    }
    https_server.route(host, "/.well-known/did.json", Route(json.dumps(document).encode()))


def did_web_registration(did: str, key: keys.SigningKey, clock: Clock, name: str) -> dict[str, Any]:
    document = new_registration(did, name, "legal@example.com", created=clock.now)
    return keys.sign_document(document, key, created=clock.now, verification_method=f"{did}#key-1")


def did_key_registration(key: keys.SigningKey, clock: Clock, name: str) -> dict[str, Any]:
    document = new_registration(key.did, name, "legal@example.com", created=clock.now)
    return keys.sign_document(document, key, created=clock.now)


async def log_size(client: httpx.AsyncClient) -> int:
    return int((await client.get("/log/checkpoint")).text.splitlines()[1])


async def test_a_did_web_operator_is_verified_by_its_registration_and_holds_its_name(
    registry: Registry, https_server: HttpsServer, clock: Clock
) -> None:
    key, did = keys.SigningKey.generate(), "did:web:alice.example"
    serve_did(https_server, did, key)
    size = await log_size(registry.client)
    answer = await registry.client.post(
        "/v1/operators", content=body(did_web_registration(did, key, clock, "Alice Models"))
    )
    assert answer.status_code == 201, answer.text
    kinds = [entry.kind for entry in await LogEntry.filter(index__gte=size).order_by("index")]
    assert kinds == ["DidDocumentRecord", "DomainVerification", "OperatorRegistration"]
    profile = answer.json()["operator_profile"]
    assert (profile["did"], profile["authority"], profile["domain"]) == (
        did,
        "domain-verified",
        "alice.example",
    )

    impostor = keys.SigningKey.generate()
    refused = await registry.client.post(
        "/v1/operators", content=body(did_key_registration(impostor, clock, "ALICE models"))
    )
    assert refused.status_code == 409 and refused.json()["type"].endswith("/operator-name-taken")
    assert did in refused.json()["detail"]

    inbox = (await registry.client.get(f"/v1/operators/{did}/notices")).json()
    assert inbox["registered"] is True and inbox["operator_profile"]["domain"] == "alice.example"
    [row] = (await registry.client.get("/v1/stats/operators")).json()["operators"]
    assert (row["operator"], row["authority"], row["verified_hosts"]) == (
        did,
        "domain-verified",
        [".alice.example"],
    )


async def test_a_refused_did_web_registration_logs_nothing(
    registry: Registry, https_server: HttpsServer, clock: Clock
) -> None:
    holder = keys.SigningKey.generate()
    await verify_domain(registry.state, holder.did, "holder.example")
    registered = await registry.client.post(
        "/v1/operators", content=body(did_key_registration(holder, clock, "Publisher AI"))
    )
    assert registered.status_code == 201, registered.text
    key, did = keys.SigningKey.generate(), "did:web:publisher.example"
    serve_did(https_server, did, key)
    size = await log_size(registry.client)
    refused = await registry.client.post(
        "/v1/operators", content=body(did_web_registration(did, key, clock, "Publisher AI"))
    )
    assert refused.status_code == 409 and refused.json()["type"].endswith("/operator-name-taken")
    assert await log_size(registry.client) == size  # neither the DID document nor its verification
    async with registry.state.claims.replayed():
        assert registry.state.claims.index.authority.domain_verified(did) is False
    # Under another name it registers, and is verified by that registration.
    again = await registry.client.post(
        "/v1/operators", content=body(did_web_registration(did, key, clock, "Publisher Press"))
    )
    assert again.status_code == 201, again.text
    assert again.json()["operator_profile"]["authority"] == "domain-verified"

"""Passkey-wrapped key backups (PUT/GET/DELETE /v1/key-backups/{credential id}): opaque ciphertext
bound to the DID that signed the first upload; only that DID replaces (with something newer) or
deletes it; limited in size and rate; every refusal RFC 9457 problem+json, never a 500."""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

import httpx
import pytest

import keys
from registry.documents import unsigned_document
from tests.conftest import Clock


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def wrapped(size: int = 200) -> dict[str, Any]:
    return {
        "v": 1,
        "alg": "A256GCM",
        "kdf": "HKDF-SHA256",
        "salt": b64(secrets.token_bytes(32)),
        "iv": b64(secrets.token_bytes(12)),
        "prf_salt": b64(secrets.token_bytes(32)),
        "ciphertext": b64(secrets.token_bytes(size)),
    }


def backup(key: keys.SigningKey, credential: str, clock: Clock, **fields: Any) -> bytes:
    document = unsigned_document(
        {
            "type": "KeyBackup",
            "did": key.did,
            "credential_id": credential,
            "wrapped": fields.pop("w", wrapped()),
        },
        created=clock(),
    )
    document.update(fields)
    return json.dumps(keys.sign_document(document, key, created=clock())).encode()


def deletion(key: keys.SigningKey, credential: str, clock: Clock) -> bytes:
    document = unsigned_document(
        {"type": "KeyBackupDeletion", "did": key.did, "credential_id": credential}, created=clock()
    )
    return json.dumps(keys.sign_document(document, key, created=clock())).encode()


def assert_problem(response: httpx.Response, status: int, slug: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/" + slug)


async def test_a_backup_is_kept_returned_replaced_by_its_owner_and_deleted(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
) -> None:
    credential = b64(secrets.token_bytes(32))
    first = wrapped()
    put = await api.put(f"/v1/key-backups/{credential}", content=backup(alice, credential, clock, w=first))
    assert put.status_code == 201, put.text
    got = await api.get(f"/v1/key-backups/{credential}")
    assert got.json() == {
        "credential_id": credential,
        "did": alice.did,
        "wrapped": first,
        "created": put.json()["created"],
    }
    assert got.headers["cache-control"] == "no-store"
    # A replay of the same upload, or an older one, cannot overwrite what is kept.
    replay = await api.put(f"/v1/key-backups/{credential}", content=backup(alice, credential, clock))
    assert_problem(replay, 409, "authority-conflict")
    clock.advance(seconds=5)
    second = wrapped()
    assert (
        await api.put(f"/v1/key-backups/{credential}", content=backup(alice, credential, clock, w=second))
    ).status_code == 201
    assert (await api.get(f"/v1/key-backups/{credential}")).json()["wrapped"] == second
    assert (
        await api.request(
            "DELETE", f"/v1/key-backups/{credential}", content=deletion(alice, credential, clock)
        )
    ).status_code == 204
    assert_problem(await api.get(f"/v1/key-backups/{credential}"), 404, "not-found")


async def test_only_the_owner_may_replace_or_delete_a_backup(
    api: httpx.AsyncClient, alice: keys.SigningKey, mallory: keys.SigningKey, clock: Clock
) -> None:
    credential = b64(secrets.token_bytes(32))
    assert (
        await api.put(f"/v1/key-backups/{credential}", content=backup(alice, credential, clock))
    ).status_code == 201
    clock.advance(seconds=5)
    assert_problem(
        await api.put(f"/v1/key-backups/{credential}", content=backup(mallory, credential, clock)),
        422,
        "wrong-signer",
    )
    assert_problem(
        await api.request(
            "DELETE", f"/v1/key-backups/{credential}", content=deletion(mallory, credential, clock)
        ),
        422,
        "wrong-signer",
    )
    assert (await api.get(f"/v1/key-backups/{credential}")).json()["did"] == alice.did


@pytest.mark.parametrize(
    "case",
    ["unsigned", "other credential in body", "clear key field", "too large", "bad credential id", "not json"],
)
async def test_bad_uploads_are_refused_with_a_problem(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock, case: str
) -> None:
    credential = b64(secrets.token_bytes(32))
    path = f"/v1/key-backups/{credential}"
    if case == "unsigned":
        body = json.dumps(
            {"type": "KeyBackup", "did": alice.did, "credential_id": credential, "wrapped": wrapped()}
        )
        assert_problem(await api.put(path, content=body), 422, "invalid-document")
    elif case == "other credential in body":
        assert_problem(await api.put(path, content=backup(alice, "x" * 40, clock)), 422, "invalid-document")
    elif case == "clear key field":
        # Anything but the wrapped form is refused: there is no field for a key in clear.
        body = backup(alice, credential, clock, jwk=alice.to_jwk())
        assert_problem(await api.put(path, content=body), 422, "invalid-document")
    elif case == "too large":
        assert_problem(
            await api.put(path, content=backup(alice, credential, clock, w=wrapped(4000))),
            413,
            "body-too-large",
        )
    elif case == "bad credential id":
        assert_problem(
            await api.put("/v1/key-backups/short", content=backup(alice, "short", clock)),
            400,
            "invalid-parameter",
        )
        assert_problem(
            await api.get("/v1/key-backups/has%20space%20and%20more%20chars"), 400, "invalid-parameter"
        )
    else:
        assert_problem(await api.put(path, content=b"{not json"), 400, "malformed-json")


async def test_writes_are_rate_limited_per_client(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
) -> None:
    statuses = []
    for _ in range(12):
        credential = b64(secrets.token_bytes(32))
        statuses.append(
            (
                await api.put(f"/v1/key-backups/{credential}", content=backup(alice, credential, clock))
            ).status_code
        )
    assert statuses[:10] == [201] * 10 and statuses[10:] == [429, 429]
    limited = await api.put("/v1/key-backups/" + "y" * 40, content=backup(alice, "y" * 40, clock))
    assert_problem(limited, 429, "rate-limited")
    assert int(limited.headers["retry-after"]) >= 1


async def test_the_key_backups_are_in_the_openapi(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    path = spec["paths"]["/v1/key-backups/{credential_id}"]
    assert set(path) >= {"put", "get", "delete"} and "429" in path["put"]["responses"]
    assert "KeyBackup" in spec["components"]["schemas"]

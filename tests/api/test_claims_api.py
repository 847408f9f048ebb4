"""Filing, fetching, withdrawing and checking claims over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest

import keys
from api import schemas
from registry.models import ClaimRecord, LogEntry, UsedNonce, WithdrawalRecord
from tests.conftest import Clock
from tests.factories import body, signed_claim, signed_withdrawal

QUERY = "https://WWW.Example.com:443/gallery/2024/a.png#x"


async def file(api: httpx.AsyncClient, document: Any) -> httpx.Response:
    return await api.post("/v1/claims", content=body(document), headers={"Content-Type": "application/json"})


async def check(api: httpx.AsyncClient, *urls: str, purpose: str | None = "train-ai") -> dict[str, Any]:
    request: dict[str, Any] = {"items": [{"scheme": "url", "value": url} for url in urls]}
    if purpose:
        request["purpose"] = purpose
    response = await api.post("/v1/check", json=request)
    assert response.status_code == 200, response.text
    return schemas.CheckAnswer.model_validate(response.json()).model_dump(exclude_none=True)


async def row_counts() -> tuple[int, int, int, int]:
    return (
        await ClaimRecord.all().count(),
        await LogEntry.all().count(),
        await UsedNonce.all().count(),
        await WithdrawalRecord.all().count(),
    )


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/" + slug), problem
    assert problem["status"] == status
    assert problem["detail"]
    return problem


async def test_filed_claim_is_stored_exactly_as_signed(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    claim = signed_claim(alice, clock.now)
    response = await file(api, claim)
    assert response.status_code == 201, response.text
    receipt = schemas.Receipt.model_validate(response.json())
    assert receipt.id == keys.document_id(claim)
    assert receipt.keys == ["url:example.com/gallery/"]
    assert response.headers["location"] == f"/v1/claims/{receipt.id}"

    stored = schemas.ClaimEnvelope.model_validate((await api.get(f"/v1/claims/{receipt.id}")).json())
    assert stored.status == "active"
    assert stored.document == claim
    keys.verify_document(stored.document)


async def test_check_finds_the_claim_through_canonicalisation(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    claim_id = (await file(api, signed_claim(alice, clock.now))).json()["id"]

    answer = await check(api, QUERY, "https://unrelated.example.org/gallery/a.png")
    reserved, unrelated = answer["items"]
    assert reserved["decision"] == "n"
    assert reserved["decisions"]["train-genai"] == "n", "train-ai covers train-genai"
    assert reserved["decisions"]["generate"] == "n"
    assert reserved["decisions"]["search"] == "unknown"
    assert [(m["claim"], m["key"], m["claimant"]) for m in reserved["matches"]] == [
        (claim_id, "example.com/gallery/", alice.did)
    ]
    assert reserved["reasons"]
    assert unrelated["decision"] == "unknown" and unrelated["matches"] == []

    assert (await check(api, QUERY, purpose="search"))["items"][0]["decision"] == "unknown"


async def test_sha256_items_match_exactly(api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock):
    digest = "ab" * 32
    await file(api, signed_claim(alice, clock.now, urls=(), sha256=(digest.upper(),), deny=("train-ai",)))
    request = {
        "purpose": "train-ai",
        "items": [{"scheme": "sha256", "value": digest}, {"scheme": "sha256", "value": "cd" * 32}],
    }
    answer = (await api.post("/v1/check", json=request)).json()
    assert [item["decision"] for item in answer["items"]] == ["n", "unknown"]


async def test_allowed_and_reserved_combine_to_reserved(
    api: httpx.AsyncClient, alice: keys.SigningKey, mallory: keys.SigningKey, clock: Clock
):
    await file(api, signed_claim(alice, clock.now, deny=(), allow={"train-ai": "y", "search": "y"}))
    assert (await check(api, QUERY))["items"][0]["decision"] == "y"
    await file(api, signed_claim(mallory, clock.now, urls=("http://www.example.com/",), deny=("train-ai",)))
    answer = (await check(api, QUERY))["items"][0]
    assert answer["decision"] == "n"
    assert answer["decisions"]["search"] == "y"
    assert len(answer["matches"]) == 2


async def test_validity_window_and_territories_limit_a_claim(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    from datetime import timedelta

    later = clock.now + timedelta(days=30)
    await file(api, signed_claim(alice, clock.now, valid_from=later, territories=["JP"]))
    assert (await check(api, QUERY))["items"][0]["decision"] == "unknown"
    clock.advance(days=31)
    assert (await check(api, QUERY))["items"][0]["decision"] == "n"
    request = {"purpose": "train-ai", "territory": "FR", "items": [{"scheme": "url", "value": QUERY}]}
    assert (await api.post("/v1/check", json=request)).json()["items"][0]["decision"] == "unknown"
    request["territory"] = "JP"
    assert (await api.post("/v1/check", json=request)).json()["items"][0]["decision"] == "n"


async def test_withdrawn_claim_no_longer_decides(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    claim_id = (await file(api, signed_claim(alice, clock.now))).json()["id"]
    withdrawal = signed_withdrawal(alice, claim_id, clock.now)
    response = await api.post(f"/v1/claims/{claim_id}/withdraw", content=body(withdrawal))
    assert response.status_code == 200, response.text
    assert response.json()["id"] == keys.document_id(withdrawal)
    assert (await check(api, QUERY))["items"][0]["decision"] == "unknown"
    stored = schemas.ClaimEnvelope.model_validate((await api.get(f"/v1/claims/{claim_id}")).json())
    assert stored.status == "withdrawn"
    assert stored.withdrawal is not None and stored.withdrawal.document == withdrawal

    again = signed_withdrawal(alice, claim_id, clock.now)
    assert_problem(
        await api.post(f"/v1/claims/{claim_id}/withdraw", content=body(again)), 409, "already-withdrawn"
    )


# ---------------------------------------------------------------- bad input changes nothing


async def refused(api: httpx.AsyncClient, response_coro: Any, status: int, slug: str) -> dict[str, Any]:
    before = await row_counts()
    problem = assert_problem(await response_coro, status, slug)
    assert await row_counts() == before, "a refused request must write nothing"
    return problem


def _string_leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _string_leaves(item, (*path, key))]
    if isinstance(value, list):
        return [leaf for index, item in enumerate(value) for leaf in _string_leaves(item, (*path, index))]
    return [path] if isinstance(value, str) else []


def _tamper(document: dict[str, Any], path: tuple[Any, ...], position: int) -> dict[str, Any]:
    tampered = copy.deepcopy(document)
    parent = tampered
    for part in path[:-1]:
        parent = parent[part]
    text: str = parent[path[-1]]
    index = position % len(text)
    replacement = "b" if text[index] != "b" else "c"
    parent[path[-1]] = text[:index] + replacement + text[index + 1 :]
    return tampered


async def test_tampering_with_any_value_of_payload_or_proof_is_refused(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    claim = signed_claim(alice, clock.now, title="Gallery", licence={"contact": "mailto:a@example.com"})
    leaves = _string_leaves(claim)
    assert ("proof", "proofValue") in leaves and ("subject", "identifiers", 0, "value") in leaves
    for path in leaves:
        for position in (0, -1, 7):
            tampered = _tamper(claim, path, position)
            if tampered == claim:
                continue
            response = await file(api, tampered)
            assert response.status_code in (400, 422), (path, position, response.text)
            assert response.headers["content-type"].startswith("application/problem+json")
    assert await row_counts() == (0, 0, 0, 0)


async def test_proof_by_another_key_is_refused(
    api: httpx.AsyncClient, alice: keys.SigningKey, mallory: keys.SigningKey, clock: Clock
):
    forged = signed_claim(mallory, clock.now, claimant=alice.did)
    problem = await refused(api, file(api, forged), 422, "wrong-signer")
    assert problem["errors"][0]["pointer"] == "/proof/verificationMethod"


@pytest.mark.parametrize(
    ("raw", "pointer"),
    [
        (b'{"type": "Claim", "type": "Claim"}', "/type"),
        (b'{"type": "Claim", "x": NaN}', "/x"),
        (b'{"type": "Claim", "x": Infinity}', "/x"),
        (b'{"type": "Claim", "x": "\\ud800"}', "/x"),
        ('{"type": "Claim", "x": "Cafe\u0301"}'.encode(), "/x"),
        (b'{"type": "Claim", "x": "\xff"}', None),
        (b"not json", None),
        (b"", None),
    ],
    ids=["duplicate-key", "nan", "infinity", "lone-surrogate", "not-nfc", "bad-utf8", "not-json", "empty"],
)
async def test_malformed_json_is_refused(api: httpx.AsyncClient, raw: bytes, pointer: str | None):
    problem = await refused(api, api.post("/v1/claims", content=raw), 400, "malformed-json")
    if pointer is not None:
        assert problem["errors"][0]["pointer"] == pointer


def _resigned(key: keys.SigningKey, document: dict[str, Any]) -> dict[str, Any]:
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    return keys.sign_document(unsigned, key)


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        (lambda d: d.update(uses={"train-everything": "n"}), "/uses/train-everything"),
        (lambda d: d.update(uses={"train-ai": "maybe"}), "/uses/train-ai"),
        (lambda d: d["subject"].update(kind="song"), "/subject/kind"),
        (
            lambda d: d["subject"]["identifiers"][0].update(value="ftp://example.com/x"),
            "/subject/identifiers/0/value",
        ),
        (lambda d: d["subject"]["identifiers"][0].update(value="https://"), "/subject/identifiers/0/value"),
        (
            lambda d: d["subject"]["identifiers"].append({"scheme": "sha256", "value": "00"}),
            "/subject/identifiers/1/value",
        ),
        (
            lambda d: d["subject"]["identifiers"].append({"scheme": "md5", "value": "00"}),
            "/subject/identifiers/1/scheme",
        ),
        (lambda d: d.update(type="Manifesto"), "/type"),
        (lambda d: d.update(extra="field"), "/extra"),
        (lambda d: d.update(nonce=1.5), "/nonce"),
        (lambda d: d.update(territories=["jp"]), "/territories/0"),
        (lambda d: d.update(created="yesterday"), "/created"),
        (lambda d: d.update(valid_from="2027-01-02T00:00:00Z", valid_until="2027-01-01T00:00:00Z"), ""),
        (lambda d: d["subject"].update(identifiers=[]), "/subject/identifiers"),
    ],
    ids=[
        "unknown-use",
        "unknown-value",
        "unknown-kind",
        "non-http-url",
        "url-without-host",
        "short-hash",
        "unknown-scheme",
        "unknown-type",
        "unknown-field",
        "float-for-string",
        "lowercase-territory",
        "bad-timestamp",
        "reversed-window",
        "no-identifiers",
    ],
)
async def test_documents_outside_the_schema_are_refused(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock, change: Any, pointer: str
):
    claim = signed_claim(alice, clock.now)
    change(claim)
    problem = await refused(api, file(api, _resigned(alice, claim)), 422, "invalid-document")
    assert problem["errors"][0]["pointer"] == pointer, problem


async def test_replayed_nonce_is_refused(api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock):
    claim = signed_claim(alice, clock.now)
    assert (await file(api, claim)).status_code == 201
    problem = await refused(api, file(api, claim), 409, "nonce-reused")
    assert "already filed" in problem["detail"]
    other = signed_claim(alice, clock.now, urls=("https://example.net/",), nonce=claim["nonce"])
    await refused(api, file(api, other), 409, "nonce-reused")


@pytest.mark.parametrize("offset", [{"hours": -25}, {"minutes": 6}], ids=["too-old", "in-the-future"])
async def test_created_outside_the_clock_window_is_refused(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock, offset: dict[str, float]
):
    from datetime import timedelta

    claim = signed_claim(alice, clock.now + timedelta(**offset))
    problem = await refused(api, file(api, claim), 422, "clock-window")
    assert problem["errors"][0]["pointer"] == "/created"


async def test_body_over_the_limit_is_refused(api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock):
    claim = signed_claim(alice, clock.now, title="x" * 400)
    huge = body(claim) + b" " * (256 * 1024)
    await refused(api, api.post("/v1/claims", content=huge), 413, "body-too-large")

    async def chunks():
        for _ in range(300):
            yield b" " * 1024

    await refused(api, api.post("/v1/claims", content=chunks()), 413, "body-too-large")


async def test_withdrawal_by_someone_else_is_refused(
    api: httpx.AsyncClient, alice: keys.SigningKey, mallory: keys.SigningKey, clock: Clock
):
    claim_id = (await file(api, signed_claim(alice, clock.now))).json()["id"]
    own = signed_withdrawal(mallory, claim_id, clock.now)
    await refused(api, api.post(f"/v1/claims/{claim_id}/withdraw", content=body(own)), 403, "not-claimant")
    forged = signed_withdrawal(mallory, claim_id, clock.now, claimant=alice.did)
    await refused(api, api.post(f"/v1/claims/{claim_id}/withdraw", content=body(forged)), 422, "wrong-signer")
    assert (await check(api, QUERY))["items"][0]["decision"] == "n"


async def test_withdrawal_sent_for_another_claim_is_refused(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    first = (await file(api, signed_claim(alice, clock.now))).json()["id"]
    second = (await file(api, signed_claim(alice, clock.now, urls=("https://example.net/",)))).json()["id"]
    withdrawal = signed_withdrawal(alice, first, clock.now)
    problem = await refused(
        api, api.post(f"/v1/claims/{second}/withdraw", content=body(withdrawal)), 422, "invalid-document"
    )
    assert problem["errors"][0]["pointer"] == "/claim"


async def test_unknown_claim_ids_are_not_found(api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock):
    missing = "0" * 64
    await refused(api, api.get(f"/v1/claims/{missing}"), 404, "not-found")
    await refused(api, api.get("/v1/claims/not-an-id"), 404, "not-found")
    withdrawal = signed_withdrawal(alice, missing, clock.now)
    await refused(api, api.post(f"/v1/claims/{missing}/withdraw", content=body(withdrawal)), 404, "not-found")


async def test_check_batches_over_the_limit_are_refused(api: httpx.AsyncClient):
    items = [{"scheme": "url", "value": f"https://example.com/{n}"} for n in range(51)]
    await refused(api, api.post("/v1/check", json={"items": items}), 422, "too-many-items")
    assert (await api.post("/v1/check", json={"items": items[:50]})).status_code == 200


@pytest.mark.parametrize(
    ("request_body", "pointer"),
    [
        ({"items": []}, "/items"),
        ({"items": [{"scheme": "url", "value": "javascript:alert(1)"}]}, "/items/0/value"),
        ({"items": [{"scheme": "sha256", "value": "xyz"}]}, "/items/0/value"),
        ({"items": [{"scheme": "url", "value": "https://a.example/"}], "purpose": "sell"}, "/purpose"),
        ({"items": [{"scheme": "url", "value": "https://a.example/"}], "limit": 3}, "/limit"),
        ([1, 2], ""),
    ],
    ids=["empty", "bad-url", "bad-hash", "unknown-purpose", "unknown-field", "not-an-object"],
)
async def test_bad_check_requests_are_refused(api: httpx.AsyncClient, request_body: Any, pointer: str):
    response = await api.post("/v1/check", content=json.dumps(request_body))
    problem = assert_problem(response, 422, "invalid-document")
    assert problem["errors"][0]["pointer"] == pointer


async def test_unknown_routes_and_methods_answer_problem_json(api: httpx.AsyncClient):
    assert_problem(await api.get("/v1/nothing"), 404, "not-found")
    assert_problem(await api.delete("/v1/claims"), 405, "method-not-allowed")


async def test_registry_identity_health_and_openapi(api: httpx.AsyncClient):
    info = schemas.RegistryInfo.model_validate((await api.get("/v1/registry")).json())
    keys.resolve_did_key(info.did)
    assert info.limits["max_check_items"] == 50
    assert (await api.get("/healthz")).json() == {"status": "ok"}
    spec = (await api.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    claim_schema = spec["components"]["schemas"]["Claim"]
    assert set(claim_schema["required"]) >= {
        "type",
        "claimant",
        "subject",
        "uses",
        "created",
        "nonce",
        "proof",
    }
    assert claim_schema["additionalProperties"] is False
    assert "/v1/check" in spec["paths"] and "/v1/claims/{claim_id}/withdraw" in spec["paths"]


async def test_a_document_larger_than_one_log_entry_is_refused(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    urls = tuple(f"https://example.com/{n}/{'x' * 60}/" for n in range(1000))
    claim = signed_claim(alice, clock.now, urls=urls)
    assert 0xFFFF < len(body(claim)) < 256 * 1024
    problem = await refused(api, file(api, claim), 413, "document-too-large")
    assert "split it" in problem["detail"]

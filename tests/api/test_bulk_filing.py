"""Many claims in one request (`POST /v1/claims` with a JSON array) and pooled filings (group
commit): one result per document, refusals that sink nothing else, one checkpoint per batch."""

from __future__ import annotations

import base64
import copy
from typing import Any

import httpx
import pytest

import keys
from keys import merkle
from keys.note import Checkpoint, open_note, parse_verifier_key
from registry.models import ClaimRecord, LogEntry
from tests.conftest import Clock
from tests.factories import body, signed_claim


def bulk(*documents: bytes) -> bytes:
    return b"[" + b",\n ".join(documents) + b"]"


async def post(api: httpx.AsyncClient, content: bytes) -> httpx.Response:
    return await api.post("/v1/claims", content=content, headers={"Content-Type": "application/json"})


async def note_verifier(api: httpx.AsyncClient) -> Any:
    return parse_verifier_key((await api.get("/v1/registry")).json()["log"]["note_verifier_key"])


def verify_in_checkpoint(result: dict[str, Any], document: dict[str, Any], verifier: Any) -> Checkpoint:
    log = result["log"]
    leaf = merkle.leaf_hash(keys.canonicalize(document))
    assert base64.b64decode(log["leaf_hash"]) == leaf
    checkpoint = Checkpoint.parse(open_note(log["checkpoint"], [verifier]).text)
    assert checkpoint.size == log["tree_size"] > log["index"]
    proof = [base64.b64decode(node) for node in log["inclusion_proof"]]
    merkle.verify_inclusion(leaf, log["index"], log["tree_size"], proof, checkpoint.root_hash)
    return checkpoint


def claims(key: keys.SigningKey, clock: Clock, count: int) -> list[dict[str, Any]]:
    return [signed_claim(key, clock.now, urls=(f"https://site{n}.example/art/",)) for n in range(count)]


async def test_a_bulk_files_every_good_document_and_refuses_each_bad_one_alone(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    good = claims(alice, clock, 5)
    earlier = signed_claim(alice, clock.now, urls=("https://earlier.example/",))
    assert (await post(api, body(earlier))).status_code == 201
    tampered = copy.deepcopy(good[1])
    tampered["uses"]["search"] = "n"
    duplicate_key = b'{"type":"Claim","type":"Claim"}'
    response = await post(
        api,
        bulk(
            body(good[0]),
            body(tampered),  # signature no longer verifies
            body(good[1]),
            duplicate_key,  # not strict JSON, refused with its own pointer
            body(earlier),  # filed before: a replay
            body(good[2]),
            body(good[2]),  # twice in one array: the second is a replay
            b"[1, 2]",  # not a document
            body(good[3]),
            body(good[4]),
        ),
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    statuses = [result["status"] for result in answer["results"]]
    assert statuses == [201, 422, 201, 400, 409, 201, 409, 422, 201, 201]
    assert (answer["filed"], answer["refused"]) == (6 - 1, 5)
    slugs = [r["type"].rsplit("/", 1)[1] for r in answer["results"] if r["status"] != 201]
    assert slugs == ["invalid-proof", "malformed-json", "nonce-reused", "nonce-reused", "invalid-document"]
    assert answer["results"][3]["errors"][0]["pointer"] == "/type"
    assert "already filed" in answer["results"][4]["detail"]

    verifier = await note_verifier(api)
    filed = [good[0], good[1], good[2], good[3], good[4]]
    receipts = [result for result in answer["results"] if result["status"] == 201]
    checkpoints = {verify_in_checkpoint(r, d, verifier).size for r, d in zip(receipts, filed, strict=True)}
    assert checkpoints == {6}, "one batch, one checkpoint for all its receipts"
    assert [r["id"] for r in receipts] == [keys.document_id(d) for d in filed]
    assert await LogEntry.all().count() == 6 and await ClaimRecord.all().count() == 6
    for document in filed:  # each is served as filed
        stored = await api.get(f"/v1/claims/{keys.document_id(document)}")
        assert stored.status_code == 200 and stored.json()["document"] == document


async def test_a_bulk_of_only_refusals_changes_nothing(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    stale = signed_claim(alice, clock.now)
    clock.advance(days=3)  # outside the clock window now
    response = await post(api, bulk(body(stale), b'{"type": "Claim"}'))
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == [422, 422]
    assert await LogEntry.all().count() == 0 and await ClaimRecord.all().count() == 0


@pytest.mark.parametrize(
    ("content", "status", "slug"),
    [
        (b"[", 400, "malformed-json"),
        (b'[{"a": 1} {"b": 2}]', 400, "malformed-json"),
        (b'[{"a": 1},]', 400, "malformed-json"),
        (b'[{"a": 1}] x', 400, "malformed-json"),
        (b"[\xff]", 400, "malformed-json"),
        (b"[]", 422, "too-many-items"),
        (b"  [ ]  ", 422, "too-many-items"),
        (b"[" + b",".join([b"{}"] * 1001) + b"]", 422, "too-many-items"),
    ],
    ids=[
        "unclosed",
        "no-comma",
        "trailing-comma",
        "trailing-text",
        "bad-utf8",
        "empty",
        "empty-spaced",
        "over",
    ],
)
async def test_a_body_that_is_not_an_array_of_documents_is_refused_whole(
    api: httpx.AsyncClient, content: bytes, status: int, slug: str
):
    response = await post(api, content)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/" + slug)
    assert await LogEntry.all().count() == 0


async def test_the_registry_states_its_bulk_limit(api: httpx.AsyncClient):
    assert (await api.get("/v1/registry")).json()["limits"]["max_bulk_documents"] == 1000


def _store(api: httpx.AsyncClient) -> Any:
    return api._transport.app.state.registry.claims  # type: ignore[attr-defined]


async def test_pooled_filings_share_one_transaction_and_one_checkpoint(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    store = _store(api)
    documents = claims(alice, clock, 40)
    before = store.ledger.group.batches
    outcomes = await store.file_claims([body(document) for document in documents])
    assert store.ledger.group.batches == before + 1
    assert {outcome["log"]["tree_size"] for outcome in outcomes} == {40}
    assert {outcome["log"]["checkpoint"] for outcome in outcomes} == {outcomes[0]["log"]["checkpoint"]}
    verifier = await note_verifier(api)
    for outcome, document in zip(outcomes, documents, strict=True):
        verify_in_checkpoint(outcome, document, verifier)
    # the index saw them all (replayed from the log, as every worker does)
    check = await api.post(
        "/v1/check", json={"items": [{"scheme": "url", "value": "https://site39.example/art/x"}]}
    )
    assert check.json()["items"][0]["matches"][0]["claim"] == keys.document_id(documents[39])


async def test_a_batch_that_meets_a_race_retries_its_filings_one_by_one(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock, monkeypatch: pytest.MonkeyPatch
):
    """Another worker using a nonce between the pre-check and the write is a race this process
    cannot cause; forgetting the pre-check's answer stands in for it."""
    store = _store(api)
    first, second, third = claims(alice, clock, 3)
    assert (await post(api, body(second))).status_code == 201

    async def nothing_used(batch: Any) -> dict[tuple[str, str], str]:
        return {}

    monkeypatch.setattr(store.ledger.group, "_used_nonces", nothing_used)
    outcomes = await store.file_claims([body(first), body(second), body(third)])
    assert isinstance(outcomes[0], dict) and isinstance(outcomes[2], dict)
    assert type(outcomes[1]).__name__ == "NonceReused"
    assert await LogEntry.all().count() == 3 and await ClaimRecord.all().count() == 3
    verifier = await note_verifier(api)
    verify_in_checkpoint(outcomes[0], first, verifier)
    verify_in_checkpoint(outcomes[2], third, verifier)


async def test_a_retired_key_files_nothing_in_a_bulk_while_the_rest_goes_in(
    api: httpx.AsyncClient, alice: keys.SigningKey, mallory: keys.SigningKey, clock: Clock
):
    from registry.authority.documents import new_rotation

    successor = keys.SigningKey.generate()
    rotation = keys.sign_document(
        new_rotation(alice.did, successor.did, created=clock.now), alice, created=clock.now
    )
    assert (await api.post("/v1/authority", content=body(rotation))).status_code == 201
    by_alice = signed_claim(alice, clock.now, urls=("https://alice.example/",))
    by_mallory = signed_claim(mallory, clock.now, urls=("https://mallory.example/",))
    answer = (await post(api, bulk(body(by_alice), body(by_mallory)))).json()
    assert [r["status"] for r in answer["results"]] == [409, 201]
    assert answer["results"][0]["type"].endswith("/key-retired")
    assert await ClaimRecord.all().count() == 1
    single = await post(api, body(signed_claim(alice, clock.now)))
    assert single.status_code == 409 and single.json()["type"].endswith("/key-retired")

"""The transparency log over HTTP: entries, tiles, checkpoints, proofs and receipts, recomputed
independently from what the API serves."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from tortoise.transactions import in_transaction

import keys
from api import schemas
from keys import merkle
from keys.note import Checkpoint, open_note, parse_verifier_key
from tests.api.test_claims_api import assert_problem, file
from tests.conftest import Clock
from tests.factories import body, signed_claim, signed_withdrawal


def b64d(text: str) -> bytes:
    return base64.b64decode(text)


async def verifier(api: httpx.AsyncClient) -> Any:
    info = schemas.RegistryInfo.model_validate((await api.get("/v1/registry")).json())
    return parse_verifier_key(info.log.note_verifier_key)


async def latest(api: httpx.AsyncClient) -> Checkpoint:
    response = await api.get("/log/checkpoint")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    note = open_note(response.text, [await verifier(api)])
    return Checkpoint.parse(note.text)


def parse_bundle(data: bytes) -> list[bytes]:
    entries, offset = [], 0
    while offset < len(data):
        length = int.from_bytes(data[offset : offset + 2], "big")
        entries.append(data[offset + 2 : offset + 2 + length])
        offset += 2 + length
    assert offset == len(data)
    return entries


def tile_path(index: int) -> str:
    digits = f"{index:03d}"
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])


def verify_receipt(receipt: dict[str, Any], document: dict[str, Any], note_verifier: Any) -> Checkpoint:
    log = receipt["log"]
    leaf = merkle.leaf_hash(keys.canonicalize(document))
    assert b64d(log["leaf_hash"]) == leaf
    checkpoint = Checkpoint.parse(open_note(log["checkpoint"], [note_verifier]).text)
    assert checkpoint.size == log["tree_size"] == log["index"] + 1
    merkle.verify_inclusion(
        leaf, log["index"], log["tree_size"], [b64d(p) for p in log["inclusion_proof"]], checkpoint.root_hash
    )
    return checkpoint


async def test_every_accepted_document_is_logged_and_the_root_recomputes(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    assert (await latest(api)).size == 0
    note_verifier = await verifier(api)
    documents, checkpoints = [], []
    for n in range(5):
        claim = signed_claim(alice, clock.now, urls=(f"https://example.com/{n}/",))
        receipt = (await file(api, claim)).json()
        checkpoints.append(verify_receipt(receipt, claim, note_verifier))
        documents.append(claim)
    withdrawal = signed_withdrawal(alice, keys.document_id(documents[0]), clock.now)
    receipt = (
        await api.post(f"/v1/claims/{keys.document_id(documents[0])}/withdraw", content=body(withdrawal))
    ).json()
    checkpoints.append(verify_receipt(receipt, withdrawal, note_verifier))
    documents.append(withdrawal)

    head = await latest(api)
    assert head.size == 6
    bundle = await api.get("/log/tile/entries/000.p/6")
    assert bundle.status_code == 200 and bundle.headers["cache-control"] == "public, max-age=60"
    entries = parse_bundle(bundle.content)
    assert entries == [keys.canonicalize(document) for document in documents]
    assert merkle.root_from_leaf_hashes([merkle.leaf_hash(entry) for entry in entries]) == head.root_hash

    tile = (await api.get("/log/tile/0/000.p/6")).content
    assert [tile[i : i + 32] for i in range(0, len(tile), 32)] == [merkle.leaf_hash(e) for e in entries]

    for earlier in checkpoints:
        answer = (await api.get(f"/v1/log/proof/consistency?first={earlier.size}&second={head.size}")).json()
        proof = [b64d(node) for node in schemas.ConsistencyProof.model_validate(answer).consistency_proof]
        merkle.verify_consistency(earlier.size, head.size, earlier.root_hash, head.root_hash, proof)
    for index, entry in enumerate(entries):
        leaf = base64.b64encode(merkle.leaf_hash(entry)).decode()
        answer = (
            await api.get("/v1/log/proof/inclusion", params={"hash": leaf, "tree_size": head.size})
        ).json()
        assert answer["leaf_index"] == index
        proof = [b64d(node) for node in answer["inclusion_proof"]]
        merkle.verify_inclusion(merkle.leaf_hash(entry), index, head.size, proof, head.root_hash)


async def test_refused_documents_are_not_logged(api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock):
    claim = signed_claim(alice, clock.now)
    await file(api, claim)
    await file(api, claim)  # a replay: refused
    other = signed_claim(alice, clock.now)
    other["uses"]["search"] = "y"  # tampered: refused
    await file(api, other)
    assert (await latest(api)).size == 1


async def append_raw(api: httpx.AsyncClient, count: int) -> list[bytes]:
    """Entries straight into the log (as every kind of document will be), to reach full tiles fast."""
    log = api._transport.app.state.registry.log  # type: ignore[attr-defined]
    entries = [f'{{"n":{n}}}'.encode() for n in range(count)]
    now = datetime.now(UTC)
    async with in_transaction():
        for n, entry in enumerate(entries):
            await log.append("Test", f"{n:064x}", entry, now)
    return entries


async def test_full_tiles_and_higher_levels(api: httpx.AsyncClient):
    entries = await append_raw(api, 300)
    leaves = [merkle.leaf_hash(entry) for entry in entries]
    head = await latest(api)
    assert head.size == 300 and head.root_hash == merkle.root_from_leaf_hashes(leaves)

    full = await api.get("/log/tile/0/000")
    assert full.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert full.content == b"".join(leaves[:256])
    assert (await api.get("/log/tile/0/001.p/44")).content == b"".join(leaves[256:300])
    level_one = (await api.get("/log/tile/1/000.p/1")).content
    assert level_one == merkle.root_from_leaf_hashes(leaves[:256])
    assert parse_bundle((await api.get("/log/tile/entries/000")).content) == entries[:256]
    assert parse_bundle((await api.get("/log/tile/entries/001.p/44")).content) == entries[256:]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/log/tile/0/000", 404),
        ("/log/tile/0/000.p/4", 404),
        ("/log/tile/1/000.p/1", 404),
        ("/log/tile/entries/001.p/1", 404),
        ("/log/tile/0/x001/000", 404),
        ("/log/tile/0/0", 400),
        ("/log/tile/0/000.p/0", 400),
        ("/log/tile/0/000.p/256", 400),
        ("/log/tile/0/000.p/03", 400),  # one name per tile: no leading zeros in the width
        ("/log/tile/entries/000.p/087", 400),
        ("/log/tile/01/000", 400),
        ("/log/tile/entries/abc", 400),
        ("/log/tile/0/000/extra", 400),
    ],
)
async def test_tiles_beyond_the_tree_or_malformed_are_refused(api: httpx.AsyncClient, path: str, status: int):
    await append_raw(api, 3)
    slug = "not-found" if status == 404 else "invalid-parameter"
    assert_problem(await api.get(path), status, slug)


@pytest.mark.parametrize(
    "query",
    [
        "first=1",
        "first=a&second=2",
        "first=-1&second=2",
        "first=+1&second=2",
        "first=01&second=2",
        "first=3&second=2",
        "first=1&second=9",
        "first=1&second=99999999999999999999999",
    ],
)
async def test_bad_consistency_requests_are_refused(api: httpx.AsyncClient, query: str):
    await append_raw(api, 3)
    assert_problem(await api.get(f"/v1/log/proof/consistency?{query}"), 400, "invalid-parameter")


async def test_bad_inclusion_requests_are_refused(api: httpx.AsyncClient):
    entries = await append_raw(api, 3)
    leaf = base64.b64encode(merkle.leaf_hash(entries[2])).decode()
    url = "/v1/log/proof/inclusion"
    assert_problem(await api.get(url, params={"hash": leaf}), 400, "invalid-parameter")
    assert_problem(await api.get(url, params={"hash": leaf, "tree_size": "x"}), 400, "invalid-parameter")
    assert_problem(await api.get(url, params={"hash": leaf, "tree_size": "2"}), 400, "invalid-parameter")
    assert_problem(await api.get(url, params={"hash": leaf, "tree_size": "4"}), 400, "invalid-parameter")
    assert_problem(await api.get(url, params={"hash": "AAAA", "tree_size": "3"}), 400, "invalid-parameter")
    assert_problem(await api.get(url, params={"hash": "%%%", "tree_size": "3"}), 400, "invalid-parameter")
    unknown = base64.b64encode(bytes(32)).decode()
    assert_problem(await api.get(url, params={"hash": unknown, "tree_size": "3"}), 404, "not-found")
    hex_form = merkle.leaf_hash(entries[2]).hex()
    assert (await api.get(url, params={"hash": hex_form, "tree_size": "3"})).json()["leaf_index"] == 2


async def test_check_answers_are_signed_at_a_checkpoint(
    api: httpx.AsyncClient, alice: keys.SigningKey, clock: Clock
):
    registry_did = (await api.get("/v1/registry")).json()["did"]
    claim = signed_claim(alice, clock.now)
    await file(api, claim)
    request = {
        "purpose": "train-ai",
        "items": [{"scheme": "url", "value": "https://example.com/gallery/x.png"}],
    }
    answer = (await api.post("/v1/check", json=request)).json()
    verified = keys.verify_document(answer)
    assert verified.key == keys.resolve_did_key(registry_did)
    head = await latest(api)
    assert answer["checkpoint"] == {
        "origin": head.origin,
        "tree_size": head.size,
        "root_hash": base64.b64encode(head.root_hash).decode(),
    }
    answer["items"][0]["decision"] = "unknown"
    with pytest.raises(keys.InvalidProof):
        keys.verify_document(answer)

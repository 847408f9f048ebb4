"""Group commit with two real `kotowari serve` workers on one PostgreSQL database (issue 14).

Both workers pool their own concurrent filings, and their batches interleave in one log that the
database serialises: no index is taken twice or skipped, every batch is proven by one checkpoint
at its own end, every receipt's inclusion proof verifies, the checkpoints of both workers are of
one append-only tree, and a document sent to both at once is logged once.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

import keys
from keys import merkle
from keys.note import Checkpoint, open_note, parse_verifier_key
from registry.documents import new_claim
from tests.api.test_log_crash import read_log
from tests.conftest import start_server, stop_server

SINGLES_PER_WORKER = 90
BULKS_PER_WORKER = 2
BULK_SIZE = 60
CLIENTS_PER_WORKER = 12


def signed(key: keys.SigningKey, label: str, now: datetime) -> dict[str, Any]:
    claim = new_claim(
        key.did, "work", [("url", f"https://{label}.example/gallery/")], {"train-ai": "n"}, created=now
    )
    return keys.sign_document(claim, key, created=now)


def b64(text: str) -> bytes:
    return base64.b64decode(text)


async def file_through(
    url: str, singles: list[dict[str, Any]], bulks: list[list[dict[str, Any]]]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """File `singles` one per request from several clients at once and `bulks` as arrays, all
    concurrently; returns (document, receipt) for each."""
    filed: list[tuple[dict[str, Any], dict[str, Any]]] = []
    queue = list(singles)
    # Idle connections expire well before the server's 5 s keep-alive, so a loaded machine cannot make
    # a request meet a connection the server is closing (httpx.ReadError, seen once under load).
    limits = httpx.Limits(keepalive_expiry=1.0)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

        async def one_by_one() -> None:
            while queue:
                document = queue.pop()
                response = await client.post("/v1/claims", content=keys.canonicalize(document))
                assert response.status_code == 201, response.text
                filed.append((document, response.json()))

        async def in_bulk(documents: list[dict[str, Any]]) -> None:
            body = b"[" + b",".join(keys.canonicalize(document) for document in documents) + b"]"
            response = await client.post("/v1/claims", content=body)
            assert response.status_code == 200, response.text
            results = response.json()["results"]
            assert [result["status"] for result in results] == [201] * len(documents)
            filed.extend(zip(documents, results, strict=True))

        await asyncio.gather(
            *(one_by_one() for _ in range(CLIENTS_PER_WORKER)), *(in_bulk(chunk) for chunk in bulks)
        )
    return filed


async def test_two_workers_pool_concurrent_filings_into_one_log_without_gaps_or_duplicates(
    postgres_db_url: str, tmp_path: Path
):
    workers = [start_server(tmp_path / "worker", postgres_db_url) for _ in range(2)]
    try:
        now = datetime.now(UTC)
        signers = [keys.SigningKey.generate() for _ in range(7)]
        count = 2 * (SINGLES_PER_WORKER + BULKS_PER_WORKER * BULK_SIZE)
        documents = [signed(signers[n % 7], f"site{n}", now) for n in range(count)]
        shares = []
        for number in range(2):
            mine = documents[number::2]
            singles, rest = mine[:SINGLES_PER_WORKER], mine[SINGLES_PER_WORKER:]
            shares.append((singles, [rest[at : at + BULK_SIZE] for at in range(0, len(rest), BULK_SIZE)]))
        twice = signed(signers[0], "twice", now)

        async def replay_to_both() -> list[httpx.Response]:
            async with httpx.AsyncClient(timeout=60) as client:
                return list(
                    await asyncio.gather(
                        *(
                            client.post(f"{worker.url}/v1/claims", content=keys.canonicalize(twice))
                            for worker in workers
                        )
                    )
                )

        filed_a, filed_b, replies = await asyncio.gather(
            file_through(workers[0].url, *shares[0]),
            file_through(workers[1].url, *shares[1]),
            replay_to_both(),
        )
        filed = filed_a + filed_b

        # The same document through both workers at once: logged once, refused as a replay once.
        assert sorted(reply.status_code for reply in replies) == [201, 409]
        refused = next(reply for reply in replies if reply.status_code == 409).json()
        assert refused["type"].endswith("nonce-reused")
        filed.append((twice, next(reply for reply in replies if reply.status_code == 201).json()))

        # Every index once, none skipped, across both workers.
        total = count + 1
        assert sorted(receipt["log"]["index"] for _, receipt in filed) == list(range(total))

        # Every receipt proves its entry in its checkpoint, signed with the registry's note key.
        info = httpx.get(f"{workers[0].url}/v1/registry").json()
        assert info == httpx.get(f"{workers[1].url}/v1/registry").json()
        verifier = parse_verifier_key(info["log"]["note_verifier_key"])
        batches: dict[int, list[int]] = defaultdict(list)
        notes: dict[int, set[str]] = defaultdict(set)
        roots: dict[int, bytes] = {}
        for document, receipt in filed:
            log = receipt["log"]
            assert receipt["id"] == keys.document_id(document)
            leaf = merkle.leaf_hash(keys.canonicalize(document))
            assert b64(log["leaf_hash"]) == leaf
            checkpoint = Checkpoint.parse(open_note(log["checkpoint"], [verifier]).text)
            assert checkpoint.origin == info["log"]["origin"]
            assert checkpoint.size == log["tree_size"] > log["index"]
            proof = [b64(node) for node in log["inclusion_proof"]]
            merkle.verify_inclusion(leaf, log["index"], log["tree_size"], proof, checkpoint.root_hash)
            batches[checkpoint.size].append(log["index"])
            notes[checkpoint.size].add(log["checkpoint"])
            roots[checkpoint.size] = checkpoint.root_hash

        # One checkpoint per batch, at the batch's end: the entries a checkpoint proves are exactly
        # the run of indexes from the previous batch's end to its own size.
        sizes = sorted(batches)
        assert all(len(notes[size]) == 1 for size in sizes)
        previous = 0
        for size in sizes:
            assert sorted(batches[size]) == list(range(previous, size))
            previous = size
        assert previous == total
        # A bulk is one batch, so there are fewer batches than filings; pooled singles share them too.
        assert len(sizes) <= total - 2 * BULKS_PER_WORKER * (BULK_SIZE - 1)

        # All the checkpoints, whichever worker signed them, are of one append-only tree.
        async with httpx.AsyncClient(timeout=60) as client:
            for first, second in itertools.pairwise(sizes):
                url = workers[second % 2].url
                answer = await client.get(
                    f"{url}/v1/log/proof/consistency", params={"first": first, "second": second}
                )
                assert answer.status_code == 200, answer.text
                proof = [b64(node) for node in answer.json()["consistency_proof"]]
                merkle.verify_consistency(first, second, roots[first], roots[second], proof)

        # The log itself, read through either worker, holds exactly the filed documents.
        head, entries = read_log(workers[0].url)
        assert read_log(workers[1].url)[0] == head
        assert head.size == total and head.root_hash == roots[total]
        assert sorted(entries) == sorted(keys.canonicalize(document) for document, _ in filed)
        assert merkle.root_from_leaf_hashes([merkle.leaf_hash(entry) for entry in entries]) == head.root_hash
    finally:
        for worker in workers:
            stop_server(worker)

"""A registry killed (SIGKILL) in the middle of concurrent filings comes back with the same tree:
every acknowledged filing is in the log, no entry appears twice, and the new checkpoint is
consistent with every checkpoint handed out before."""

from __future__ import annotations

import base64
import os
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

import keys
from keys import merkle
from keys.note import Checkpoint, open_note, parse_verifier_key
from registry.documents import new_claim, new_withdrawal
from tests.api.test_log_api import parse_bundle, tile_path
from tests.conftest import ServerProcess, start_server, stop_server


def read_log(url: str) -> tuple[Checkpoint, list[bytes]]:
    info = httpx.get(f"{url}/v1/registry").json()
    verifier = parse_verifier_key(info["log"]["note_verifier_key"])
    head = Checkpoint.parse(open_note(httpx.get(f"{url}/log/checkpoint").text, [verifier]).text)
    entries: list[bytes] = []
    for tile in range((head.size + 255) // 256):
        width = min(256, head.size - tile * 256)
        suffix = "" if width == 256 else f".p/{width}"
        entries += parse_bundle(httpx.get(f"{url}/log/tile/entries/{tile_path(tile)}{suffix}").content)
    return head, entries


def test_sigkill_during_concurrent_filings_loses_nothing_acknowledged(server: ServerProcess, db_url: str):
    key = keys.SigningKey.generate()
    now = datetime.now(UTC)
    documents = [
        keys.sign_document(
            new_claim(
                key.did, "work", [("url", f"https://example.com/{n}/")], {"train-ai": "n"}, created=now
            ),
            key,
            created=now,
        )
        for n in range(400)
    ]
    acknowledged: list[tuple[dict, dict]] = []
    lock = threading.Lock()
    queue = list(documents)

    def writer() -> None:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            while True:
                with lock:
                    if not queue:
                        return
                    document = queue.pop()
                try:
                    response = client.post("/v1/claims", content=keys.canonicalize(document))
                except httpx.TransportError:
                    return
                if response.status_code == 201:
                    with lock:
                        acknowledged.append((document, response.json()))

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while len(acknowledged) < 60 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=10)
    for thread in threads:
        thread.join(timeout=30)
    assert len(acknowledged) >= 60, "the server must have acknowledged filings before it was killed"

    db = None if db_url.startswith("sqlite://") else db_url
    restarted = start_server(server.data_dir, db)
    try:
        head, entries = read_log(restarted.url)
        assert len(entries) == head.size == len(set(entries)), "no entry twice"
        leaves = [merkle.leaf_hash(entry) for entry in entries]
        assert merkle.root_from_leaf_hashes(leaves) == head.root_hash
        logged = set(entries)
        for document, receipt in acknowledged:
            assert keys.canonicalize(document) in logged
            assert entries[receipt["log"]["index"]] == keys.canonicalize(document)
            handed_out = Checkpoint.parse(receipt["log"]["checkpoint"].split("\n\n")[0] + "\n")
            proof = httpx.get(
                f"{restarted.url}/v1/log/proof/consistency",
                params={"first": handed_out.size, "second": head.size},
            ).json()["consistency_proof"]
            merkle.verify_consistency(
                handed_out.size,
                head.size,
                handed_out.root_hash,
                head.root_hash,
                [base64.b64decode(p) for p in proof],
            )
        # and it goes on: the next filing lands right after the recovered tree
        rest = [d for d in documents if keys.canonicalize(d) not in logged]
        response = httpx.post(f"{restarted.url}/v1/claims", content=keys.canonicalize(rest[0]))
        assert response.status_code == 201 and response.json()["log"]["index"] == head.size
    finally:
        stop_server(restarted)


def test_restart_keeps_the_registry_identity(server: ServerProcess, db_url: str, tmp_path: Path):
    before = httpx.get(f"{server.url}/v1/registry").json()
    stop_server(server)
    db = None if db_url.startswith("sqlite://") else db_url
    again = start_server(server.data_dir, db)
    try:
        assert httpx.get(f"{again.url}/v1/registry").json() == before
        assert "created its signing key" not in again.banner
    finally:
        stop_server(again)


def test_two_workers_on_one_postgresql_database_share_one_log(postgres_db_url: str, tmp_path: Path):
    """Appends are serialised in the database, not in a process: two servers, one consistent log."""
    db_url = postgres_db_url
    first = start_server(tmp_path / "worker", db_url)
    second = start_server(tmp_path / "worker", db_url)
    try:
        key = keys.SigningKey.generate()
        now = datetime.now(UTC)
        documents = [
            keys.sign_document(
                new_claim(
                    key.did, "work", [("url", f"https://example.com/{n}/")], {"train-ai": "n"}, created=now
                ),
                key,
                created=now,
            )
            for n in range(120)
        ]
        indexes: list[int] = []

        def writer(url: str, share: list[dict]) -> None:
            with httpx.Client(base_url=url, timeout=30) as client:
                for document in share:
                    response = client.post("/v1/claims", content=keys.canonicalize(document))
                    assert response.status_code == 201, response.text
                    indexes.append(response.json()["log"]["index"])

        threads = [
            threading.Thread(target=writer, args=(url, documents[n::4]))
            for n, url in enumerate([first.url, second.url, first.url, second.url])
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert sorted(indexes) == list(range(120))
        head, entries = read_log(second.url)
        assert head == read_log(first.url)[0]
        assert sorted(entries) == sorted(keys.canonicalize(d) for d in documents)
        assert merkle.root_from_leaf_hashes([merkle.leaf_hash(e) for e in entries]) == head.root_hash

        # Each worker's matching index replays the shared log, so a claim filed through one worker
        # decides checks on the other at once; withdrawn through the second, it is gone on the first.
        late = keys.sign_document(
            new_claim(key.did, "voice", [("name", "Koichi Yamadera")], {"generate": "n"}, created=now),
            key,
            created=now,
        )
        claim_id = httpx.post(f"{first.url}/v1/claims", content=keys.canonicalize(late)).json()["id"]
        request = {
            "purpose": "generate",
            "items": [{"scheme": "text", "value": "in the voice of Koichi Yamadera"}],
        }
        answer = httpx.post(f"{second.url}/v1/check", json=request).json()
        assert answer["items"][0]["decision"] == "n" and answer["checkpoint"]["tree_size"] == 121
        withdrawal = keys.sign_document(new_withdrawal(key.did, claim_id, created=now), key, created=now)
        response = httpx.post(
            f"{second.url}/v1/claims/{claim_id}/withdraw", content=keys.canonicalize(withdrawal)
        )
        assert response.status_code == 200, response.text
        assert httpx.post(f"{first.url}/v1/check", json=request).json()["items"][0]["decision"] == "unknown"
    finally:
        stop_server(first)
        stop_server(second)

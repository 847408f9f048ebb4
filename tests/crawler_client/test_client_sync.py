"""The blocking Client against a real `kotowari serve` process on 127.0.0.1 (SQLite): every
operation, batches from a thread pool, the pin file, and the same errors as the AsyncClient."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import keys
from crawler_client import AlreadyFiled, Client, RegistryKeyMismatch, RegistryProblem
from crawler_client.verification import verify_answer, verify_receipt
from tests.conftest import ServerProcess, start_server, stop_server
from tests.factories import signed_claim, signed_withdrawal

GALLERY = "https://example.com/gallery/"


@pytest.fixture
def small_batches_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerProcess]:
    """A registry process that takes at most 10 items per check, so batching shows at small sizes."""
    monkeypatch.setenv("KOTOWARI_MAX_CHECK_ITEMS", "10")
    running = start_server(tmp_path / "server-data")
    try:
        yield running
    finally:
        stop_server(running)


def test_sync_client_against_a_real_server(small_batches_server: ServerProcess, tmp_path: Path):
    alice = keys.SigningKey.generate()
    now = datetime.now(UTC).replace(microsecond=0)
    pins = tmp_path / "pins.json"
    items = [
        {"scheme": "url", "value": f"https://example.com/{'gallery' if n % 7 == 0 else 'other'}/{n}"}
        for n in range(25)
    ]
    with Client(small_batches_server.url, pins=pins, max_concurrency=2) as registry:
        claim = signed_claim(alice, now, urls=(GALLERY,))
        receipt = registry.file_claim(claim)
        verify_receipt({"document": claim, "log": receipt["log"]})
        with pytest.raises(AlreadyFiled):
            registry.file_claim(claim)

        result = registry.check(items, purpose="train-ai")
        assert [len(b) for b in result.batches] == [10, 10, 5]
        assert result.decisions == ["n" if n % 7 == 0 else "unknown" for n in range(25)]
        for answer in result.answers:
            verify_answer(answer)

        assert registry.get_claim(receipt["id"])["status"] == "active"
        size = int(registry.checkpoint().splitlines()[1])
        index, _ = registry.inclusion_proof(keys.merkle.leaf_hash(keys.canonicalize(claim)), size)
        assert index == receipt["log"]["index"]
        registry.withdraw_claim(receipt["id"], signed_withdrawal(alice, receipt["id"], now))
        assert registry.consistency_proof(size, size + 1)
        assert registry.check(items[:1], purpose="train-ai").decisions == ["unknown"]
        try:  # the snapshot route is another part of the work; the request is what is tested here
            assert isinstance(registry.snapshot(), bytes)
        except RegistryProblem as missing:
            assert missing.status == 404

    assert (
        json.loads(pins.read_text())["registries"][small_batches_server.url]["did"]
        == receipt["log"]["registry"]
    )
    with Client(small_batches_server.url, max_concurrency=3) as registry:
        bad = [*items[:12], {"scheme": "embedding", "space": "speaker/unknown", "vector": [1.0]}, *items]
        with pytest.raises(RegistryProblem) as refused:  # the second of four batches is refused
            registry.check(bad)
        assert refused.value.status == 422

    stranger = Client(small_batches_server.url, registry_did=keys.SigningKey.generate().did)
    with stranger, pytest.raises(RegistryKeyMismatch):
        stranger.check(items[:1])

"""`Client.file_claims` against a real `kotowari serve` process: requests cut to the registry's
limits, one verified result per document in order, and a retried request whose answer was lost."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

import keys
from crawler_client import AsyncClient, Client
from crawler_client.verification import verify_receipt
from tests.conftest import ServerProcess, start_server, stop_server
from tests.factories import signed_claim


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ServerProcess]:
    """A registry that takes at most 4 documents per bulk request, so splitting shows at small sizes."""
    monkeypatch.setenv("KOTOWARI_MAX_BULK_DOCUMENTS", "4")
    running = start_server(tmp_path / "server-data")
    try:
        yield running
    finally:
        stop_server(running)


class Counting(httpx.HTTPTransport):
    """Forwards to the server; counts bulk requests; can lose the answer to the first one."""

    def __init__(self, lose_first_answer: bool = False) -> None:
        super().__init__()
        self.bulk_requests = 0
        self.lose = lose_first_answer

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == "POST" and request.url.path == "/v1/claims":
            self.bulk_requests += 1
            if self.lose:
                self.lose = False
                response.read()
                raise httpx.ReadError("connection reset after the registry answered", request=request)
        return response


def claims(count: int) -> list[dict[str, Any]]:
    alice = keys.SigningKey.generate()
    now = datetime.now(UTC)
    return [signed_claim(alice, now, urls=(f"https://site{n}.example/art/",)) for n in range(count)]


def test_results_in_order_one_per_document(server: ServerProcess):
    documents = claims(9)
    tampered = {**documents[2], "subject": documents[1]["subject"]}  # the signature no longer holds
    batch = [*documents[:2], tampered, *documents[3:6], documents[5], *documents[6:]]
    transport = Counting()
    with Client(server.url, transport=transport) as registry:
        results = registry.file_claims(batch)
        assert transport.bulk_requests == 3, "10 documents at 4 per request"
        statuses = [result["status"] for result in results]
        assert statuses == [201, 201, 422, 201, 201, 201, 409, 201, 201, 201]
        assert results[2]["type"].endswith("/invalid-proof")
        assert results[6]["type"].endswith("/nonce-reused")
        for document, result in zip(batch, results, strict=True):
            if result["status"] == 201:
                assert result["id"] == keys.document_id(document)
                verify_receipt({"document": document, "log": result["log"]})
                assert registry.get_claim(result["id"])["document"] == document

        again = registry.file_claims(documents[:3])  # sent twice by the caller: refused, not hidden
        assert [result["status"] for result in again] == [409, 409, 201]


def test_a_lost_answer_is_retried_and_the_receipts_rebuilt(server: ServerProcess):
    documents = claims(3)
    transport = Counting(lose_first_answer=True)
    with Client(server.url, transport=transport) as registry:
        results = registry.file_claims(documents)
        assert transport.bulk_requests == 2
        assert [result["status"] for result in results] == [201, 201, 201]
        assert all(result.get("already_filed") for result in results)
        for document, result in zip(documents, results, strict=True):
            verify_receipt({"document": document, "log": result["log"]})


def test_async_client_files_many(server: ServerProcess):
    documents = claims(5)

    async def run() -> list[dict[str, Any]]:
        async with AsyncClient(server.url) as registry:
            return await registry.file_claims(documents)

    results = asyncio.run(run())
    assert [result["id"] for result in results] == [keys.document_id(d) for d in documents]
    assert {result["status"] for result in results} == {201}


def test_nothing_to_file_sends_nothing(server: ServerProcess):
    transport = Counting()
    with Client(server.url, transport=transport) as registry:
        assert registry.file_claims([]) == []
    assert transport.bulk_requests == 0

"""The asynchronous registry client: `crawler_client.core` over `httpx.AsyncClient`.

The same operations, results and errors as `Client`; only sending and sleeping differ. Large
checks go out as batches, at most `max_concurrency` (default 4) in flight at once, bounded by a
semaphore so a billion-item input never opens a billion requests; results keep input order.

>>> async with AsyncClient("http://127.0.0.1:8000", registry_did=did) as registry:  # doctest: +SKIP
...     result = await registry.check(items, purpose="train-ai")
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx

import keys
from crawler_client.claim_pages import listing_params, read_page
from crawler_client.core import (
    DEFAULT_WITNESS_WAIT,
    USER_AGENT,
    BaseClient,
    CheckBatch,
    CheckResult,
    Flow,
    Request,
    Response,
    RetryPolicy,
    Sleep,
    Unreachable,
    WitnessedCheckpoint,
    minimum_authority,
)
from crawler_client.i18n import answer_headers
from keys.cosignature import CosignatureVerifier
from keys.note import Checkpoint

__all__ = ["AsyncClient"]

T = TypeVar("T")


class AsyncClient(BaseClient):
    """One registry, one connection pool, for asyncio. Use `async with` or `await aclose()`.

    Parameters as for `Client` (`witnesses`, `min_cosignatures` and `witness_wait` included);
    `max_concurrency` bounds the check batches in flight at once.
    The pin file, when given, is read and written with blocking calls: it is a few hundred bytes,
    touched once per client on first use.
    """

    def __init__(
        self,
        registry: str,
        *,
        timeout: float | httpx.Timeout = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        registry_did: str | None = None,
        pins: Path | str | None = None,
        retry: RetryPolicy | None = None,
        max_concurrency: int = 4,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        witnesses: Sequence[str | CosignatureVerifier] | None = None,
        min_cosignatures: int | None = None,
        witness_wait: float = DEFAULT_WITNESS_WAIT,
    ) -> None:
        super().__init__(
            registry,
            registry_did=registry_did,
            pins=pins,
            retry=retry,
            max_concurrency=max_concurrency,
            clock=clock,
            witnesses=witnesses,
            min_cosignatures=min_cosignatures,
            witness_wait=witness_wait,
        )
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            base_url=self.registry,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": USER_AGENT, **answer_headers()},
        )

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -------------------------------------------------------------- the API

    async def info(self) -> dict[str, Any]:
        """The registry's identity (`did`) and limits, checked against the pinned identity."""
        return (await self._run(self._core.info_flow()))[0]

    async def file_claim(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """File a signed claim; returns the verified receipt (`id`, `received_at`, `keys`, `log`)."""
        return await self._run(self._core.file_flow(document))

    async def file_claims(self, documents: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """File many signed claims in as few requests as the registry's limits allow.

        One result per document, in order: the verified receipt (`"status": 201`) or the problem
        the registry found with that document alone (`status`, `type`, `detail`, `errors`); one
        bad document does not stop the rest.
        """
        return await self._run(self._core.file_many_flow(documents))

    async def withdraw_claim(self, claim_id: str, withdrawal: Mapping[str, Any]) -> dict[str, Any]:
        """Send the claimant's signed withdrawal of `claim_id`; returns the verified receipt."""
        return await self._run(self._core.withdraw_flow(claim_id, withdrawal))

    async def get_claim(self, claim_id: str) -> dict[str, Any]:
        """The signed claim as stored, with its status and, if withdrawn, the withdrawal."""
        return await self.request("GET", f"/v1/claims/{claim_id}")

    async def list_claims(
        self,
        *,
        claimant: str | None = None,
        name: str | None = None,
        url: str | None = None,
        kind: str | None = None,
        status: str | None = None,
        page_size: int | None = None,
        verify: bool = True,
    ) -> AsyncIterator[dict[str, Any]]:
        """`Client.list_claims`, as an async iterator: `async for claim in registry.list_claims(…)`."""
        params = listing_params(
            claimant=claimant, name=name, url=url, kind=kind, status=status, page_size=page_size
        )
        while True:
            page = await self.request("GET", "/v1/claims", params=params)
            claims, cursor = read_page(page, self.registry, verify=verify)
            for claim in claims:
                yield claim
            if cursor is None:
                return
            params = {**params, "cursor": cursor}

    async def check(
        self,
        items: Sequence[Mapping[str, Any]],
        *,
        purpose: str | None = None,
        territory: str | None = None,
        at: str | None = None,
        min_authority: str | None = None,
    ) -> CheckResult:
        """Decide items against the claims in force; batched, concurrent, verified, in input order.

        If one batch fails, the others still in flight are cancelled and that error is raised.
        `min_authority` as for `Client.check`.
        """
        min_authority = minimum_authority(min_authority)  # refused before anything is sent
        await self._run(self._core.identity_flow())
        batches = self._core.check_plan(
            items, purpose=purpose, territory=territory, at=at, min_authority=min_authority
        )
        gate = asyncio.Semaphore(self._core.max_concurrency)

        async def one(batch: CheckBatch) -> dict[str, Any]:
            async with gate:
                return await self._run(self._core.check_batch_flow(batch))

        tasks = [asyncio.ensure_future(one(batch)) for batch in batches]
        try:
            answers = await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return self._core.merge(batches, answers)

    # -------------------------------------------------------------- authority

    async def file_authority(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """File a signed attestation, mandate, revocation, key rotation or recovery step
        (`POST /v1/authority`); returns the verified receipt (`id`, `type`, `received_at`, `log`)."""
        return await self._run(self._core.file_authority_flow(document))

    async def verify_domain(self, did: str, host: str, method: str = "well-known") -> dict[str, Any]:
        """Ask the registry to check that `did` controls `host` (`well-known`, `did-web` or
        `dns-txt`); returns its signed `verification` (what it fetched, and its SHA-256) and the
        verified receipt. A failed check raises `RegistryProblem` (422 `verification-failed`)."""
        return await self._run(self._core.verify_domain_flow(did, host, method))

    async def authority(self, did: str) -> dict[str, Any]:
        """What the log says about `did`: who acts for it, whether it was retired, its domain
        verifications, attestations, mandates and recovery state (`GET /v1/authority/{did}`)."""
        return await self._run(self._core.authority_flow(did))

    async def witnessed(self, checkpoint: Checkpoint) -> WitnessedCheckpoint:
        """A checkpoint cosigned as this client requires, of a tree the registry proves extends
        `checkpoint`; as `Client.witnessed`."""
        return await self._run(self._core.witnessed_flow(checkpoint))

    async def witnessed_checkpoint(self) -> WitnessedCheckpoint:
        """The registry's current checkpoint, with the cosignatures this client requires."""
        return await self._run(self._core.current_witnessed_flow())

    async def checkpoint(self) -> str:
        """The latest checkpoint, as the signed note text the registry serves (verified)."""
        return await self._run(self._core.checkpoint_flow())

    async def inclusion_proof(self, leaf_hash: bytes, tree_size: int) -> tuple[int, list[bytes]]:
        """(leaf index, RFC 9162 inclusion proof) of a leaf in the tree of `tree_size`."""
        return await self._run(self._core.inclusion_flow(leaf_hash, tree_size))

    async def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """RFC 9162 consistency proof between two tree sizes."""
        return await self._run(self._core.consistency_flow(first, second))

    async def snapshot(self, since: int | None = None) -> bytes:
        """`GET /v1/snapshot[?since=N]`: the signed snapshot or delta, raw (verify it before use)."""
        return await self._run(self._core.snapshot_flow(since))

    async def request(
        self,
        method: str,
        path: str,
        *,
        document: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> dict[str, Any]:
        """Send `document` (as canonical JSON) or `params`; the JSON object answered, or an error."""
        return await self._run(self._core.request_flow(method, path, document=document, params=params))

    async def personal(self, notice_id: str, key: keys.SigningKey) -> dict[str, Any]:
        """The notice's personal data (notifier or registered operator only; the read is recorded)."""
        flow = self._core.signed_flow("GET", f"/v1/notices/{notice_id}/personal", key, now=time.time())
        return await self._run(flow)

    # -------------------------------------------------------------- I/O

    async def _run(self, flow: Flow[T]) -> T:
        """Drive `flow` with its retries (`crawler_client.core.run_steps`, awaiting each step)."""
        steps = self._steps(flow)
        try:
            step = next(steps)
            while True:
                if isinstance(step, Sleep):
                    await self._sleep(step.seconds)
                    step = steps.send(None)
                else:
                    step = steps.send(await self._attempt(step))
        except StopIteration as done:
            result: T = done.value
            return result

    async def _attempt(self, request: Request) -> Response | Unreachable:
        """Send `request` once: the answer, or what kept it from coming."""
        try:
            answer = await self._http.request(
                request.method,
                request.path,
                content=request.content,
                headers=dict(request.headers),
                params=request.params,
            )
        except httpx.TransportError as exc:
            return Unreachable(exc, timeout=isinstance(exc, httpx.TimeoutException))
        return Response(answer.status_code, answer.headers, answer.content, str(answer.url))

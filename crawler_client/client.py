"""The synchronous registry client: `crawler_client.core` over a blocking `httpx.Client`.

Documents are sent as their RFC 8785 canonical bytes, so what arrives is byte for byte what was
signed. Every signed answer (check answers, filing receipts, checkpoints) is verified against the
registry key pinned on first use, or given as `registry_did`; see `crawler_client.errors` for what
each failure raises.

>>> with Client("http://127.0.0.1:8000", pins=Path("pins.json")) as registry:  # doctest: +SKIP
...     result = registry.check([{"scheme": "url", "value": "https://example.com/a.png"}], purpose="train-ai")
...     result.decisions, result.answers[0]["proof"]
(['n'], {...})

Large checks are split into requests of at most the registry's `max_check_items`. They are sent
one after another by default: a blocking caller usually has its own loop (or processes) to scale
with, and one request at a time is gentlest on the registry. `max_concurrency=N` sends up to N
batches at once from a small thread pool (httpx's client is thread-safe); results keep input order
either way. For many concurrent checks inside an event loop, use `AsyncClient`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
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
    Unreachable,
    WitnessedCheckpoint,
    minimum_authority,
    run_steps,
)
from crawler_client.i18n import answer_headers
from keys.cosignature import CosignatureVerifier
from keys.note import Checkpoint

__all__ = ["Client"]

T = TypeVar("T")


class Client(BaseClient):
    """One registry, one connection pool. Use as a context manager or call `close()`.

    `timeout` is seconds (or an `httpx.Timeout`) per attempt; `retry` bounds attempts and total
    time (see `RetryPolicy`). `pins` is a pin file shared by every client that names it;
    `registry_did` trusts exactly that DID. `sleep` and `clock` exist so tests never wait.

    `witnesses` (C2SP cosignature verifier keys, "name+hex+base64") and `min_cosignatures` k
    (default: all of them; more than there are is a `ValueError`) make every receipt, check
    answer and snapshot count only once a checkpoint cosigned by k of those witnesses covers the
    checkpoint it names, consistently (see `crawler_client.core` on witnesses). `witness_wait` is
    how long, in seconds, to wait for the witnesses to catch up before raising `NotWitnessed`.
    """

    def __init__(
        self,
        registry: str,
        *,
        timeout: float | httpx.Timeout = 30.0,
        transport: httpx.BaseTransport | None = None,
        registry_did: str | None = None,
        pins: Path | str | None = None,
        retry: RetryPolicy | None = None,
        max_concurrency: int = 1,
        sleep: Callable[[float], None] = time.sleep,
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
        self._http = httpx.Client(
            base_url=self.registry,
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": USER_AGENT, **answer_headers()},
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -------------------------------------------------------------- the API

    def info(self) -> dict[str, Any]:
        """The registry's identity (`did`) and limits, checked against the pinned identity."""
        return self._run(self._core.info_flow())[0]

    def file_claim(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """File a signed claim; returns the verified receipt (`id`, `received_at`, `keys`, `log`)."""
        return self._run(self._core.file_flow(document))

    def file_claims(self, documents: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """File many signed claims in as few requests as the registry's limits allow.

        One result per document, in order: the verified receipt (`"status": 201`) or the problem
        the registry found with that document alone (`status`, `type`, `detail`, `errors`); one
        bad document does not stop the rest.
        """
        return self._run(self._core.file_many_flow(documents))

    def withdraw_claim(self, claim_id: str, withdrawal: Mapping[str, Any]) -> dict[str, Any]:
        """Send the claimant's signed withdrawal of `claim_id`; returns the verified receipt."""
        return self._run(self._core.withdraw_flow(claim_id, withdrawal))

    def get_claim(self, claim_id: str) -> dict[str, Any]:
        """The signed claim as stored, with its status and, if withdrawn, the withdrawal."""
        return self.request("GET", f"/v1/claims/{claim_id}")

    def list_claims(
        self,
        *,
        claimant: str | None = None,
        name: str | None = None,
        url: str | None = None,
        kind: str | None = None,
        status: str | None = None,
        page_size: int | None = None,
        verify: bool = True,
    ) -> Iterator[dict[str, Any]]:
        """Every claim matching all the filters given, in log order, a page at a time (`GET /v1/claims`).

        `url` and `name` match as a check does; `status` is `active` or `withdrawn` (default both).
        Each claim says its `status`, `authority` and, for `url`/`name`, how it `matches`; its signed
        `document` is verified unless `verify=False` (see `crawler_client.claim_pages`).

        >>> [c["id"] for c in registry.list_claims(claimant=key.did, status="active")]  # doctest: +SKIP
        """
        params = listing_params(
            claimant=claimant, name=name, url=url, kind=kind, status=status, page_size=page_size
        )
        while True:
            claims, cursor = read_page(
                self.request("GET", "/v1/claims", params=params), self.registry, verify=verify
            )
            yield from claims
            if cursor is None:
                return
            params = {**params, "cursor": cursor}

    def check(
        self,
        items: Sequence[Mapping[str, Any]],
        *,
        purpose: str | None = None,
        territory: str | None = None,
        at: str | None = None,
        min_authority: str | None = None,
    ) -> CheckResult:
        """Decide items (`{"scheme": "url", "value": …}`, any scheme) against the claims in force.

        Any number of items: batched within the registry's limits, results in input order, every
        signed answer verified and kept in `CheckResult.answers`.

        `min_authority` (one of `registry.authority.levels.LEVELS`, weakest first:
        self-asserted, agent-asserted, mandated, attested, domain-verified) counts only matches
        whose strongest authority is at least that; weaker ones are still listed, marked
        `"counted": false`. Every match carries its `authority` either way. Another value raises
        `ValueError`; an answer that does not echo the minimum asked raises `InvalidSignedAnswer`.
        """
        min_authority = minimum_authority(min_authority)  # refused before anything is sent
        self._run(self._core.identity_flow())
        batches = self._core.check_plan(
            items, purpose=purpose, territory=territory, at=at, min_authority=min_authority
        )
        workers = min(self._core.max_concurrency, len(batches))
        if workers == 1:
            return self._core.merge(batches, [self._check_batch(batch) for batch in batches])
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kotowari-check")
        try:
            futures = [pool.submit(self._check_batch, batch) for batch in batches]
            answers = [future.result() for future in futures]
        finally:  # on the first failure, batches not yet started are not sent at all
            pool.shutdown(wait=True, cancel_futures=True)
        return self._core.merge(batches, answers)

    # -------------------------------------------------------------- authority

    def file_authority(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """File a signed attestation, mandate, revocation, key rotation or recovery step
        (`POST /v1/authority`); returns the verified receipt (`id`, `type`, `received_at`, `log`)."""
        return self._run(self._core.file_authority_flow(document))

    def verify_domain(self, did: str, host: str, method: str = "well-known") -> dict[str, Any]:
        """Ask the registry to check that `did` controls `host` (`well-known`, `did-web` or
        `dns-txt`); returns its signed `verification` (what it fetched, and its SHA-256) and the
        verified receipt. A failed check raises `RegistryProblem` (422 `verification-failed`)."""
        return self._run(self._core.verify_domain_flow(did, host, method))

    def authority(self, did: str) -> dict[str, Any]:
        """What the log says about `did`: who acts for it, whether it was retired, its domain
        verifications, attestations, mandates and recovery state (`GET /v1/authority/{did}`)."""
        return self._run(self._core.authority_flow(did))

    def witnessed(self, checkpoint: Checkpoint) -> WitnessedCheckpoint:
        """A checkpoint of the registry's log of size >= `checkpoint`'s, cosigned by the witnesses
        this client requires, whose tree the registry proves (RFC 9162 consistency) extends
        `checkpoint`. Without witnesses: the registry's signed checkpoint, proven the same way.

        Waits up to `witness_wait` seconds for the witnesses to catch up with a fresh checkpoint,
        then raises `NotWitnessed`; a tree that does not extend it raises `InvalidSignedAnswer`.
        """
        return self._run(self._core.witnessed_flow(checkpoint))

    def witnessed_checkpoint(self) -> WitnessedCheckpoint:
        """The registry's current checkpoint (`/log/checkpoint`), with the cosignatures this client
        requires (`NotWitnessed` otherwise), consistent with any witnessed before."""
        return self._run(self._core.current_witnessed_flow())

    def checkpoint(self) -> str:
        """The latest checkpoint, as the signed note text the registry serves (verified)."""
        return self._run(self._core.checkpoint_flow())

    def inclusion_proof(self, leaf_hash: bytes, tree_size: int) -> tuple[int, list[bytes]]:
        """(leaf index, RFC 9162 inclusion proof) of a leaf in the tree of `tree_size`."""
        return self._run(self._core.inclusion_flow(leaf_hash, tree_size))

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """RFC 9162 consistency proof between two tree sizes."""
        return self._run(self._core.consistency_flow(first, second))

    def snapshot(self, since: int | None = None) -> bytes:
        """`GET /v1/snapshot[?since=N]`: the signed snapshot or delta, raw (verify it before use)."""
        return self._run(self._core.snapshot_flow(since))

    def request(
        self,
        method: str,
        path: str,
        *,
        document: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> dict[str, Any]:
        """Send `document` (as canonical JSON) or `params`; the JSON object answered, or an error.

        For endpoints without a dedicated method. Retried only when it is a GET; nothing in the
        answer is verified here.
        """
        return self._run(self._core.request_flow(method, path, document=document, params=params))

    def personal(self, notice_id: str, key: keys.SigningKey) -> dict[str, Any]:
        """The notice's personal data (notifier or registered operator only; the read is recorded)."""
        flow = self._core.signed_flow("GET", f"/v1/notices/{notice_id}/personal", key, now=time.time())
        return self._run(flow)

    # -------------------------------------------------------------- I/O

    def _check_batch(self, batch: CheckBatch) -> dict[str, Any]:
        return self._run(self._core.check_batch_flow(batch))

    def _run(self, flow: Flow[T]) -> T:
        return run_steps(self._steps(flow), self._attempt, self._sleep)

    def _attempt(self, request: Request) -> Response | Unreachable:
        return send_once(self._http, request)


def send_once(http: httpx.Client, request: Request) -> Response | Unreachable:
    """Send `request` once: the answer, or what kept it from coming."""
    try:
        answer = http.request(
            request.method,
            request.path,
            content=request.content,
            headers=dict(request.headers),
            params=request.params,
        )
    except httpx.TransportError as exc:
        return Unreachable(exc, timeout=isinstance(exc, httpx.TimeoutException))
    return Response(answer.status_code, answer.headers, answer.content, str(answer.url))

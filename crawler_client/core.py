"""The I/O-free core that `Client` and `AsyncClient` share.

Everything that is the same whichever way the bytes travel lives here: building requests
(canonical JSON bodies), turning answers into results or errors, pinning the registry's identity
and verifying every signed answer against it, planning check batches, and deciding whether and
when to retry. The two clients only send requests and sleep (the httpx design: one `BaseClient`,
two thin I/O shells).

Each operation is a *flow*: a generator that yields `Request`s and receives `Response`s, and
finally returns its result (the shape of httpx's `Auth.auth_flow`). A driver runs it:

>>> def run(flow, send):  # doctest: +SKIP
...     try:
...         request = next(flow)
...         while True:
...             request = flow.send(send(request))
...     except StopIteration as done:
...         return done.value

so filing's recovery after a lost answer, say, is written once and runs over both I/O styles.
Retrying is a flow too: `ClientCore.steps(flow, clock)` wraps an operation so that it yields the
single attempts to send and the `Sleep`s between them, and receives each attempt's `Response`
(or `Unreachable` when nothing came back). A client's whole I/O is then one loop over those steps
(`run_steps`, and its `async` twin in `AsyncClient`).

Retries. A request is retried only when sending it again cannot change what happens:
GET requests, `POST /v1/check` (read-only), and filing or withdrawing a *signed* document —
the registry accepts a given (author, nonce) once, atomically, so a second copy of the same
document can never be stored twice. Retried are connection errors, timeouts and 429, 502, 503
and 504, with exponential backoff and full jitter, at least as long as `Retry-After` asks,
within `RetryPolicy.max_attempts` and `max_elapsed`.

Filing twice. When a filing's answer is lost (a timeout, a reset connection, a 502 from a
proxy) the registry may have stored the document. The retry then meets
`409 nonce-reused`. The core asks for the claim by the document's own id (the SHA-256 of its
canonical form); if the registry holds exactly this document, the first attempt succeeded, and the
flow rebuilds the receipt — the entry's index, an inclusion proof and the current signed checkpoint,
verified like any receipt — marked `"already_filed": true`. If the *caller* files the same document
again (a first attempt meeting 409), that is reported as `AlreadyFiled`, carrying the id, because
the caller may not know. A different document that reuses a nonce stays a plain `RegistryProblem`.
Withdrawals follow the same rule (`409 already-withdrawn` by this very withdrawal).

Witnesses. A client given `witnesses` (C2SP tlog-cosignature verifier keys) and `min_cosignatures`
k relies on no checkpoint the registry alone vouches for: every checkpoint a receipt, a check
answer or a snapshot names (size S, root R) must be covered by a checkpoint of size W >= S that
carries valid cosignatures from at least k of those witnesses, and the registry must prove, with
an RFC 9162 consistency proof S -> W, that the witnessed tree extends (S, R) (for S == W the roots
must be equal). A registry showing this client a tree the witnesses never saw (a split view) can
therefore not pass. The core holds the newest witnessed checkpoint it has seen, proves every later
one consistent with it, and remembers which (S, R) it has already proven, so a thousand answers at
one tree size cost one proof. Witnessing happens after each append, in the background, so the
cosigned checkpoint may briefly lag a fresh receipt: the flow then fetches `/log/checkpoint`
again after short sleeps (`Sleep` steps, doubling from 50 ms, within `witness_wait` seconds in
all) before it gives up with `NotWitnessed`, which names the witnesses that did cosign.
"""

from __future__ import annotations

import base64
import random as random_module
import secrets
import threading
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import keys
from crawler_client import static_reads, tile_proofs
from crawler_client.errors import (
    AlreadyFiled,
    InvalidSignedAnswer,
    NotWitnessed,
    RegistryBusy,
    RegistryKeyMismatch,
    RegistryProblem,
    RegistryUnavailable,
    UnexpectedAnswer,
)
from crawler_client.exchange import (
    NO_RETRIES,
    RETRY_STATUSES,
    USER_AGENT,
    Request,
    Response,
    RetryPolicy,
    Sleep,
    Unreachable,
    parse_retry_after,
    problem_slug,
)
from crawler_client.pins import Pin, PinFile
from crawler_client.verification import (
    VerificationFailed,
    note_verifier,
    open_checkpoint,
    verify_answer,
    verify_receipt,
)
from crawler_client.witnessed import DEFAULT_WITNESS_WAIT, WitnessedCheckpoint, WitnessPolicy
from keys import merkle
from keys.cosignature import CosignatureVerifier, verify_cosigned
from keys.http_signatures import access_headers
from keys.note import Checkpoint, InvalidNote, NoteVerifier, verifier_key
from registry.authority.levels import LEVELS, VERIFICATION_METHODS, UnknownLevel, parse_level

__all__ = [
    "DEFAULT_MAX_CHECK_ITEMS",
    "DEFAULT_WITNESS_WAIT",
    "NO_RETRIES",
    "RETRY_STATUSES",
    "USER_AGENT",
    "VERIFICATION_METHODS",
    "BaseClient",
    "CheckBatch",
    "CheckResult",
    "ClientCore",
    "Flow",
    "RegistryIdentity",
    "Request",
    "Response",
    "RetryPolicy",
    "Sleep",
    "Steps",
    "Unreachable",
    "WitnessPolicy",
    "WitnessedCheckpoint",
    "minimum_authority",
    "parse_retry_after",
    "problem_slug",
    "run_flow",
    "run_steps",
]

T = TypeVar("T")
Flow = Generator["Request | Sleep", "Response", T]
"""An operation: yields requests (and receives their responses) or sleeps, returns its result."""
Steps = Generator["Request | Sleep", "Response | Unreachable | None", T]
"""An operation with its retries: yields single attempts and sleeps, returns the operation's result."""

DEFAULT_MAX_CHECK_ITEMS = 10_000
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_BULK_DOCUMENTS = 1_000
#: Room left in a check body for everything but the items (purpose, territory, `at`, brackets).
_BODY_OVERHEAD = 512
_JSON = {"Content-Type": "application/json"}


# ------------------------------------------------------------------ identity


@dataclass(frozen=True)
class RegistryIdentity:
    """Who the registry is (its DID, whose key signs answers and checkpoints) and its limits."""

    did: str
    origin: str
    max_check_items: int = DEFAULT_MAX_CHECK_ITEMS
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_bulk_documents: int = DEFAULT_MAX_BULK_DOCUMENTS

    @property
    def verifier(self) -> NoteVerifier:
        return note_verifier(self.did, self.origin)


# ------------------------------------------------------------------ checks


@dataclass(frozen=True)
class CheckBatch:
    """One `POST /v1/check`: the inputs `[start, stop)` and the canonical body that asks about them."""

    start: int
    stop: int
    body: bytes
    purpose: str | None
    territory: str | None = None
    min_authority: str | None = None

    def __len__(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class CheckResult:
    """The answer to a check of any size: one result per input item, in input order, and every
    signed answer the registry gave, verified, as evidence of what it said.

    `answers[k]` covers inputs `batches[k]`; `answer_for(i)` finds the signed answer behind item i.
    """

    items: list[dict[str, Any]]
    answers: list[dict[str, Any]]
    batches: list[range]
    purpose: str | None = None
    min_authority: str | None = None

    @property
    def decisions(self) -> list[str]:
        """Each item's decision for the purpose asked (`n`, `y` or `unknown`).

        A check without a purpose decides every use: read `decisions_for(use)` then.
        """
        if self.purpose is None:
            raise ValueError("this check named no purpose: use decisions_for(use)")
        return [str(item["decision"]) for item in self.items]

    def decisions_for(self, use: str) -> list[str]:
        """Each item's decision for `use`, whatever purpose the check named."""
        return [str(item["decisions"][use]) for item in self.items]

    @property
    def reserved(self) -> bool:
        """True when any item is reserved (`n`) for the purpose asked (for any use, if none was)."""
        if self.purpose is not None:
            return any(item.get("decision") == "n" for item in self.items)
        return any("n" in item.get("decisions", {}).values() for item in self.items)

    def answer_for(self, index: int) -> dict[str, Any]:
        """The signed answer that decided input item `index`."""
        for batch, answer in zip(self.batches, self.answers, strict=True):
            if index in batch:
                return answer
        raise IndexError(f"no item {index} in a check of {len(self.items)} items")

    def __getitem__(self, key: str) -> Any:
        """`result["items"]` (merged) and, for a one-request check, the signed answer's other fields:
        code written when `check` returned the signed answer itself keeps working."""
        if key == "items":
            return self.items
        if len(self.answers) == 1:
            return self.answers[0][key]
        raise KeyError(f"{key!r}: a check of {len(self.answers)} requests has one signed answer per request")

    def to_json(self) -> dict[str, Any]:
        """The signed answer itself when there is one (`kotowari verify` checks it), else all of them."""
        if len(self.answers) == 1:
            return self.answers[0]
        return {"type": "CheckAnswers", "answers": self.answers}


# ------------------------------------------------------------------ the core


class ClientCore:
    """Settings and protocol logic of one registry client; no sockets, no sleeping.

    The pinned identity is the only state besides the witnessed checkpoint held (see the module
    docstring), set once (under a lock, since the sync client may
    check batches from several threads) and compared on every later `GET /v1/registry`.
    `random` (the jitter) and `now` (to read a `Retry-After` date) are parameters so tests are exact.
    """

    def __init__(
        self,
        registry: str,
        *,
        registry_did: str | None = None,
        pins: Path | str | None = None,
        retry: RetryPolicy | None = None,
        max_concurrency: int = 4,
        random: Callable[[], float] | None = None,
        now: Callable[[], datetime] | None = None,
        witnesses: Sequence[str | CosignatureVerifier] | None = None,
        min_cosignatures: int | None = None,
        witness_wait: float = DEFAULT_WITNESS_WAIT,
    ) -> None:
        if not registry.startswith(("http://", "https://")):
            raise ValueError(f"registry must be an http(s) URL, not {registry!r}")
        if max_concurrency < 1:
            raise ValueError("max_concurrency is at least 1")
        if registry_did is not None and not registry_did.startswith("did:key:"):
            raise ValueError(f"registry_did must be a did:key, not {registry_did!r}")
        self.registry = registry.rstrip("/")
        self.registry_did = registry_did
        self.pins = PinFile(pins) if pins is not None else None
        self.retry = retry if retry is not None else RetryPolicy()
        self.max_concurrency = max_concurrency
        self.random = random or random_module.random
        self.now = now or (lambda: datetime.now(UTC))  # only to read Retry-After given as a date
        self.identity: RegistryIdentity | None = None
        self.static: bool = False  # a static copy (`crawler_client.static_reads`), once it shows
        self._lock = threading.Lock()
        self.witness_policy = WitnessPolicy.of(witnesses, min_cosignatures, witness_wait)
        #: The newest checkpoint seen with the cosignatures the policy requires, and every (size,
        #: root) proven consistent with it (or with an older one it was proven to extend).
        self.witnessed: WitnessedCheckpoint | None = None
        self._proven: set[tuple[int, bytes]] = set()
        self._witness_lock = threading.Lock()

    # -------------------------------------------------------------- building requests

    def build(
        self,
        method: str,
        path: str,
        *,
        document: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
        repeatable: bool | None = None,
    ) -> Request:
        """A request whose body is `document` in RFC 8785 form, so it arrives byte for byte as signed.

        Repeatable by default only when it reads: GET and `POST /v1/check`.
        """
        method = method.upper()
        if repeatable is None:
            repeatable = method == "GET" or (method == "POST" and path == "/v1/check")
        content = keys.canonicalize(document) if document is not None else None
        return Request(
            method,
            path,
            params=dict(params) if params else None,
            content=content,
            headers=_JSON if content is not None else {},
            repeatable=repeatable,
        )

    # -------------------------------------------------------------- retries and transport faults

    def retry_delay(self, request: Request, response: Response, elapsed: float) -> float | None:
        """Wait this long and send `request` again, or None to hand `response` to the flow."""
        retry_after = parse_retry_after(response.headers.get("retry-after"), self.now())
        return self.retry.delay(
            request,
            response.attempts,
            elapsed,
            status=response.status,
            retry_after=retry_after,
            random=self.random,
        )

    def failure_delay(self, request: Request, attempt: int, elapsed: float) -> float | None:
        """After a connection error or timeout: wait this long and send again, or None to give up."""
        return self.retry.delay(request, attempt, elapsed, random=self.random)

    def attempts(self, request: Request, clock: Callable[[], float]) -> Steps[Response]:
        """Send `request`, again while the retry policy says so; the last answer, or an error.

        Yields each attempt (the driver sends back the `Response` with any `attempts`, or
        `Unreachable`) and the `Sleep` before the next; `clock` measures the time spent.
        """
        started = clock()
        attempt = 0
        while True:
            attempt += 1
            outcome = yield request
            if isinstance(outcome, Unreachable):
                delay = self.failure_delay(request, attempt, clock() - started)
                if delay is None:
                    error = outcome.error
                    raise self.unavailable(request, error, attempt, timeout=outcome.timeout) from error
            else:
                if outcome is None:  # pragma: no cover - a driver bug
                    raise TypeError(f"no outcome sent back for {request}")
                response = replace(outcome, attempts=attempt)
                delay = self.retry_delay(request, response, clock() - started)
                if delay is None:
                    return response
            yield Sleep(delay)

    def steps(self, flow: Flow[T], clock: Callable[[], float]) -> Steps[T]:
        """`flow` with every request sent through `attempts` (retried as the policy says), and its
        own sleeps passed on to the driver."""
        try:
            step = next(flow)
            while True:
                if isinstance(step, Sleep):
                    yield step
                    step = next(flow)
                else:
                    step = flow.send((yield from self.attempts(step, clock)))
        except StopIteration as done:
            result: T = done.value
            return result

    def unavailable(
        self, request: Request, error: Exception, attempts: int, *, timeout: bool
    ) -> RegistryUnavailable:
        """The error for a registry that never answered `request`."""
        tries = f" ({attempts} attempts)" if attempts > 1 else ""
        if timeout:
            return RegistryUnavailable(
                f"{self.registry} did not answer {request} in time ({type(error).__name__}){tries}"
            )
        # The library's reason last, whatever it holds (OpenSSL's ends in its own brackets).
        reason = str(error) or type(error).__name__
        return RegistryUnavailable(f"cannot reach {self.registry}{tries}: {reason}")

    # -------------------------------------------------------------- parsing answers

    def raise_for_status(self, response: Response) -> None:
        """Turn a refusal into the matching error; return quietly for 2xx."""
        if response.ok:
            return
        problem = response.problem()
        if response.status in RETRY_STATUSES:
            retry_after = parse_retry_after(response.headers.get("retry-after"), self.now())
            said = f": {problem.get('detail')}" if problem and problem.get("detail") else ""
            tries = f" after {response.attempts} attempts" if response.attempts > 1 else ""
            raise RegistryBusy(
                f"{self.registry} answered {response.status}{tries}{said}",
                status=response.status,
                retry_after=retry_after,
            )
        if problem is not None:
            raise RegistryProblem(response.status, problem)
        if self.static:
            raise static_reads.StaticCopy(
                f"{response.url} answered HTTP {response.status}: a static copy serves the log's and "
                "snapshots' files only, ask the live registry"
            )
        first = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
        raise UnexpectedAnswer(f"HTTP {response.status} from {response.url}: {first}")

    def json_object(self, response: Response) -> dict[str, Any]:
        """The JSON object of a successful answer, or the error the answer amounts to."""
        self.raise_for_status(response)
        try:
            body = keys.parse_strict_json(response.content)
        except keys.InvalidJSON:
            body = None
        if not isinstance(body, dict):
            raise UnexpectedAnswer(f"{response.url} answered with something other than a JSON object")
        return body

    def raw(self, response: Response) -> bytes:
        self.raise_for_status(response)
        return response.content

    # -------------------------------------------------------------- identity and pinning

    def adopt_identity(self, info: Mapping[str, Any]) -> RegistryIdentity:
        """Check `GET /v1/registry`'s answer against the pin (or the given DID) and pin it.

        The published note verifier key must be the DID's own key, so the identity a client pins is
        the one that signs checkpoints too.
        """
        try:
            did, log = str(info["did"]), info["log"]
            origin, published = str(log["origin"]), str(log["note_verifier_key"])
            limits = info.get("limits") or {}
            max_items = int(limits.get("max_check_items", DEFAULT_MAX_CHECK_ITEMS))
            max_body = int(limits.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES))
            max_bulk = int(limits.get("max_bulk_documents", DEFAULT_MAX_BULK_DOCUMENTS))
        except (KeyError, TypeError, ValueError) as exc:
            raise UnexpectedAnswer(f"{self.registry}/v1/registry is malformed: {exc!r}") from None
        if max_items < 1 or max_body < 1 or max_bulk < 1:
            raise UnexpectedAnswer(f"{self.registry}/v1/registry announces impossible limits")
        try:
            verifier = note_verifier(did, origin)
        except VerificationFailed as exc:
            raise UnexpectedAnswer(f"{self.registry}: {exc}") from None
        if published != verifier_key(origin, verifier.public_key):
            raise InvalidSignedAnswer(
                f"{self.registry} publishes a note verifier key that is not its DID's key"
            )
        identity = RegistryIdentity(did, origin, max_items, max_body, max_bulk)
        with self._lock:
            expected = [("given", Pin(self.registry_did, origin))] if self.registry_did else []
            if self.identity is not None:
                expected.append(("seen", Pin(self.identity.did, self.identity.origin)))
            pinned = self.pins.get(self.registry) if self.pins else None
            if pinned is not None:
                expected.append((f"pinned in {self.pins.path}", pinned))  # type: ignore[union-attr]
            for source, pin in expected:
                if pin.did != did or (source != "given" and pin.origin != origin):
                    raise RegistryKeyMismatch(
                        f"{self.registry} identifies as {did} ({origin}), but the {source} identity is "
                        f"{pin.did} ({pin.origin}): refusing to trust it",
                        expected=pin.did,
                        found=did,
                    )
            if self.pins is not None and pinned is None:
                self.pins.put(self.registry, Pin(did, origin))
            self.identity = identity
        return identity

    def identity_flow(self) -> Flow[RegistryIdentity]:
        """The pinned identity, fetching `GET /v1/registry` the first time."""
        if self.identity is not None:
            return self.identity
        return (yield from self.info_flow())[1]

    def info_flow(self) -> Flow[tuple[dict[str, Any], RegistryIdentity]]:
        info = self.json_object((yield self.build("GET", "/v1/registry")))
        self.static = self.static or static_reads.is_static(info)
        return info, self.adopt_identity(info)

    def _pinned(self) -> RegistryIdentity:
        if self.identity is None:  # pragma: no cover - every flow fetches it first
            raise RuntimeError("the registry's identity is not known yet")
        return self.identity

    # -------------------------------------------------------------- verifying signed answers

    def verify_check_answer(self, answer: Mapping[str, Any], batch: CheckBatch) -> None:
        """A check answer is signed by the pinned registry, at its log, and answers every item asked."""
        identity = self._pinned()
        named = answer.get("registry")
        if named != identity.did:
            raise RegistryKeyMismatch(
                f"a check answer from {self.registry} names registry {named}, not the pinned {identity.did}",
                expected=identity.did,
                found=str(named),
            )
        try:
            verify_answer(dict(answer))
        except VerificationFailed as exc:
            raise InvalidSignedAnswer(f"a check answer from {self.registry} does not verify: {exc}") from None
        point = answer.get("checkpoint")
        if not isinstance(point, dict) or point.get("origin") != identity.origin:
            raise InvalidSignedAnswer(
                f"a check answer from {self.registry} is not tied to log {identity.origin}"
            )
        asked = (batch.purpose, batch.territory, batch.min_authority)
        answered = (answer.get("purpose"), answer.get("territory"), answer.get("min_authority"))
        if answer.get("type") != "CheckAnswer" or answered != asked:
            raise InvalidSignedAnswer(f"{self.registry} answered a different question than it was asked")
        items = answer.get("items")
        if not isinstance(items, list) or len(items) != len(batch):
            count = len(items) if isinstance(items, list) else "no"
            raise InvalidSignedAnswer(f"{self.registry} answered {count} items for the {len(batch)} asked")

    def verify_receipt(self, document: Mapping[str, Any], receipt: Mapping[str, Any]) -> None:
        """A filing receipt is for this document, in the pinned registry's log, under its checkpoint."""
        identity = self._pinned()
        log = receipt.get("log")
        if not isinstance(log, dict):
            raise UnexpectedAnswer(f"{self.registry} answered a filing without a log receipt")
        if log.get("registry") != identity.did:
            raise RegistryKeyMismatch(
                f"the receipt from {self.registry} is signed for {log.get('registry')}, not the pinned "
                f"{identity.did}",
                expected=identity.did,
                found=str(log.get("registry")),
            )
        if log.get("origin") != identity.origin:
            raise InvalidSignedAnswer(
                f"the receipt is for log {log.get('origin')!r}, not {identity.origin!r}"
            )
        try:
            verify_receipt({"document": dict(document), "log": log})
        except VerificationFailed as exc:
            raise InvalidSignedAnswer(f"the receipt from {self.registry} does not verify: {exc}") from None
        if receipt.get("id") != keys.document_id(dict(document)):
            raise InvalidSignedAnswer(f"the receipt from {self.registry} is for another document")

    def receipt_flow(self, document: Mapping[str, Any], receipt: Mapping[str, Any]) -> Flow[None]:
        """`verify_receipt`, and with witnesses, the receipt's checkpoint witnessed."""
        self.verify_receipt(document, receipt)
        if self.witness_policy.witnesses:
            note = str(receipt["log"]["checkpoint"])
            yield from self.witnessed_flow(open_checkpoint(note, self._pinned().verifier))

    # -------------------------------------------------------------- witnessed checkpoints

    def witnessed_flow(self, checkpoint: Checkpoint) -> Flow[WitnessedCheckpoint]:
        """A checkpoint of size >= `checkpoint`'s, cosigned as the policy requires, whose tree the
        registry proves extends `checkpoint` (see the module docstring on witnesses).

        Raises `NotWitnessed` when none comes within the policy's wait, `InvalidSignedAnswer` for a
        bad signature or cosignature, or a witnessed tree that does not extend `checkpoint`.
        """
        identity = yield from self.identity_flow()
        self._check_witness_keys(identity)
        if checkpoint.origin != identity.origin:
            raise InvalidSignedAnswer(
                f"a checkpoint of log {checkpoint.origin!r} is not of {self.registry} ({identity.origin!r})"
            )
        held = self.witnessed
        if held is None or held.size < checkpoint.size:
            held = yield from self._cosigned_flow(checkpoint.size)
        if (checkpoint.size, checkpoint.root_hash) not in self._proven:
            yield from self._extends_flow(checkpoint, held)
            with self._witness_lock:
                self._proven.add((checkpoint.size, checkpoint.root_hash))
        return held

    def current_witnessed_flow(self) -> Flow[WitnessedCheckpoint]:
        """The registry's checkpoint as served now, cosigned as the policy requires (and proven
        consistent with the one held before, if any)."""
        identity = yield from self.identity_flow()
        self._check_witness_keys(identity)
        return (yield from self._cosigned_flow(None))

    def _cosigned_flow(self, size: int | None) -> Flow[WitnessedCheckpoint]:
        """Fetch `/log/checkpoint` until it carries the cosignatures required at a size >= `size`
        (any size for None), within the policy's wait; hold it and return it."""
        policy = self.witness_policy
        delays = iter(policy.delays())
        while True:
            fetched = self._open_cosigned((yield self.build("GET", "/log/checkpoint")))
            if len(fetched.cosigned_by) >= policy.min_cosignatures:
                held = yield from self._hold_flow(fetched)
                if size is None or held.size >= size:
                    return held
            delay = next(delays, None)
            if delay is None:
                raise self._not_witnessed(size, fetched)
            yield Sleep(delay)

    def _open_cosigned(self, response: Response) -> WitnessedCheckpoint:
        """The checkpoint answered, its registry signature and every trusted cosignature verified."""
        identity = self._pinned()
        self.raise_for_status(response)
        note = response.text
        try:
            checkpoint = open_checkpoint(note, identity.verifier)
            names = verify_cosigned(note, identity.verifier, self.witness_policy.witnesses, 0)
        except VerificationFailed as exc:
            raise InvalidSignedAnswer(f"the checkpoint from {self.registry} does not verify: {exc}") from None
        except InvalidNote as exc:  # a cosignature line of a trusted witness that does not verify
            raise InvalidSignedAnswer(
                f"the checkpoint from {self.registry} carries a bad cosignature: {exc}"
            ) from None
        return WitnessedCheckpoint(note, checkpoint, tuple(names))

    def _hold_flow(self, fetched: WitnessedCheckpoint) -> Flow[WitnessedCheckpoint]:
        """Keep `fetched` if it is the newest witnessed checkpoint, once it and the one held are
        proven to be of one tree; the newest held."""
        held = self.witnessed
        if held is not None and (fetched.size, fetched.checkpoint.root_hash) not in self._proven:
            older, newer = sorted((held, fetched), key=lambda w: w.size)
            yield from self._extends_flow(older.checkpoint, newer, older=older)
        with self._witness_lock:
            if self.witnessed is None or fetched.size > self.witnessed.size:
                self.witnessed = fetched
            self._proven.add((fetched.size, fetched.checkpoint.root_hash))
            return self.witnessed

    def _extends_flow(
        self,
        checkpoint: Checkpoint,
        witnessed: WitnessedCheckpoint,
        *,
        older: WitnessedCheckpoint | None = None,
    ) -> Flow[None]:
        """The registry's proof that `witnessed`'s tree extends `checkpoint` (equal roots at one size)."""
        first, second = checkpoint.size, witnessed.size
        what = (
            f"the checkpoint of size {first}"
            if older is None
            else f"the one of size {first} {older.describe()}"
        )
        split = f"{self.registry}'s log {witnessed.describe()} at size {second} does not extend {what}"
        if first == second:
            if checkpoint.root_hash != witnessed.checkpoint.root_hash:
                raise InvalidSignedAnswer(f"{split}: another root at the same size, a split view")
            return
        proof = yield from self.consistency_flow(first, second)
        try:
            merkle.verify_consistency(
                first, second, checkpoint.root_hash, witnessed.checkpoint.root_hash, proof
            )
        except merkle.InvalidMerkleProof as exc:
            raise InvalidSignedAnswer(f"{split} ({exc}): a split view") from None

    def _not_witnessed(self, size: int | None, last: WitnessedCheckpoint) -> NotWitnessed:
        """The error for `size` (None: the checkpoint served) after `last` was the newest served."""
        k = self.witness_policy.min_cosignatures
        counted = list(last.cosigned_by) if size is None or last.size >= size else []
        names = f" ({', '.join(counted)})" if counted else ""
        message = f"checkpoint of size {last.size if size is None else size} has {len(counted)} of {k} "
        message += f"required cosignatures{names}"
        if size is not None:
            if not last.cosigned_by:
                message += f"; the newest checkpoint served, of size {last.size}, has none"
            else:
                message += f"; the newest cosigned is size {last.size}"
                if not counted:
                    message += f" ({', '.join(last.cosigned_by)})"
        wait = self.witness_policy.wait
        waited = f" after waiting {wait:g} s" if wait else ""
        return NotWitnessed(
            f"{message} (from {self.registry}{waited})",
            tree_size=last.size if size is None else size,
            required=k,
            cosigned_size=last.size,
            cosigned_by=counted,
        )

    def _check_witness_keys(self, identity: RegistryIdentity) -> None:
        """A witness with the registry's own key is the registry cosigning itself: refused."""
        own = identity.verifier.public_key.public_bytes_raw()
        for witness in self.witness_policy.witnesses:
            if witness.public_key.public_bytes_raw() == own:
                raise InvalidSignedAnswer(
                    f"witness {witness.name} has the key of {identity.did}: a registry cannot witness itself"
                )

    def _answer_checkpoint(self, answer: Mapping[str, Any]) -> Checkpoint:
        point = answer.get("checkpoint")
        try:
            if not isinstance(point, dict):
                raise TypeError("not an object")
            return Checkpoint(
                str(point["origin"]),
                int(point["tree_size"]),
                base64.b64decode(str(point["root_hash"]), validate=True),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidSignedAnswer(
                f"a check answer from {self.registry} names a malformed checkpoint: {exc!r}"
            ) from None

    def _snapshot_checkpoint(self, raw: bytes) -> Checkpoint:
        """The checkpoint a snapshot or delta names (its `SnapshotState`'s note, verified against the
        pinned key); the whole file is verified by whoever reads it (`crawler_client.snapshot`)."""
        identity = self._pinned()
        try:
            header = _snapshot_header(raw)
            state = header.get("state") if raw.startswith(_DELTA_MAGIC) else header
            if not isinstance(state, dict):
                raise TypeError("no SnapshotState")
            checkpoint = open_checkpoint(str(state["checkpoint"]), identity.verifier)
            named = (int(state["tree_size"]), base64.b64decode(str(state["root_hash"]), validate=True))
        except VerificationFailed as exc:
            raise InvalidSignedAnswer(f"the snapshot from {self.registry}: {exc}") from None
        except (KeyError, TypeError, ValueError, keys.InvalidJSON) as exc:
            raise InvalidSignedAnswer(f"the snapshot from {self.registry} is malformed: {exc!r}") from None
        if named != (checkpoint.size, checkpoint.root_hash):
            raise InvalidSignedAnswer(
                f"the snapshot from {self.registry} is not at the checkpoint it carries"
            )
        return checkpoint

    # -------------------------------------------------------------- operations

    def check_plan(
        self,
        items: Sequence[Mapping[str, Any]],
        *,
        purpose: str | None = None,
        territory: str | None = None,
        at: str | None = None,
        min_authority: str | None = None,
    ) -> list[CheckBatch]:
        """Split `items` into requests within the registry's item and body limits, keeping order.

        Each item is canonicalised once; the body is assembled from those bytes (RFC 8785 sorts
        the top-level keys `at` < `items` < `min_authority` < `purpose` < `territory`), so batching
        costs no second encoding and every batch's size is known exactly before it is sent. An item
        too large for any body goes alone, and the registry's 413 says so. A `min_authority` that is
        not one of `registry.authority.levels.LEVELS` raises `ValueError` (`UnknownLevel`).
        """
        if isinstance(items, (str, bytes)) or not items:
            raise ValueError("check needs at least one item, e.g. {'scheme': 'url', 'value': 'https://…'}")
        min_authority = minimum_authority(min_authority)
        identity = self._pinned()
        head = b'{"at":' + keys.canonicalize(at) + b"," if at is not None else b"{"
        tail = b""
        if min_authority is not None:
            tail += b',"min_authority":' + keys.canonicalize(min_authority)
        if purpose is not None:
            tail += b',"purpose":' + keys.canonicalize(purpose)
        if territory is not None:
            tail += b',"territory":' + keys.canonicalize(territory)
        tail += b"}"
        budget = identity.max_body_bytes - len(head) - len(tail) - len(b'"items":[]') - _BODY_OVERHEAD
        asked = (purpose, territory, min_authority)
        encoded = []
        for number, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise TypeError(f"item {number} is a {type(item).__name__}, not an identifier object")
            encoded.append(keys.canonicalize(dict(item)))
        batches: list[CheckBatch] = []
        start, size = 0, 0
        for number, raw in enumerate(encoded):
            count = number - start
            if count and (count >= identity.max_check_items or size + 1 + len(raw) > budget):
                batches.append(self._batch(encoded, start, number, head, tail, asked))
                start, size = number, 0
            size += len(raw) + (1 if number > start else 0)
        batches.append(self._batch(encoded, start, len(encoded), head, tail, asked))
        return batches

    @staticmethod
    def _batch(
        encoded: list[bytes],
        start: int,
        stop: int,
        head: bytes,
        tail: bytes,
        asked: tuple[str | None, str | None, str | None],
    ) -> CheckBatch:
        body = head + b'"items":[' + b",".join(encoded[start:stop]) + b"]" + tail
        purpose, territory, min_authority = asked
        return CheckBatch(start, stop, body, purpose, territory, min_authority)

    def check_batch_flow(self, batch: CheckBatch) -> Flow[dict[str, Any]]:
        """Ask about one batch; the signed answer, verified."""
        request = Request("POST", "/v1/check", content=batch.body, headers=_JSON, repeatable=True)
        response = yield request
        if self.static or static_reads.refuses_queries(response):
            raise static_reads.StaticCopy(
                f"{self.registry} is a static copy, which gives no signed check answers: ask the live "
                "registry, or pull a snapshot from this copy and check against it"
            )
        answer = self.json_object(response)
        self.verify_check_answer(answer, batch)
        if self.witness_policy.witnesses:
            yield from self.witnessed_flow(self._answer_checkpoint(answer))
        return answer

    @staticmethod
    def merge(batches: Sequence[CheckBatch], answers: Sequence[dict[str, Any]]) -> CheckResult:
        items = [item for answer in answers for item in answer["items"]]
        purpose = batches[0].purpose if batches else None
        minimum = batches[0].min_authority if batches else None
        return CheckResult(items, list(answers), [range(b.start, b.stop) for b in batches], purpose, minimum)

    def file_flow(self, document: Mapping[str, Any]) -> Flow[dict[str, Any]]:
        """File a signed claim; its receipt, verified (see the module docstring on filing twice)."""
        yield from self.identity_flow()
        response = yield self.build("POST", "/v1/claims", document=document, repeatable=True)
        if response.status == 409 and problem_slug(response.problem()) == "nonce-reused":
            receipt = yield from self._refiled_flow(document, response.attempts, response.problem() or {})
            if receipt is not None:
                return receipt
        receipt = self.json_object(response)
        yield from self.receipt_flow(document, receipt)
        return receipt

    def _refiled_flow(
        self, document: Mapping[str, Any], attempts: int, problem: dict[str, Any]
    ) -> Flow[dict[str, Any] | None]:
        """After `409 nonce-reused`: the rebuilt receipt when the log holds this very document and
        only a retry of ours sent it twice; `AlreadyFiled` when the caller sent it twice; else None."""
        document_id = _document_id(document)
        if not document_id:
            return None
        stored = yield self.build("GET", f"/v1/claims/{document_id}")
        if stored.status != 200:
            return None
        record = self.json_object(stored)
        if attempts == 1:
            raise AlreadyFiled(409, problem, document_id)
        receipt: dict[str, Any] = {
            "id": document_id,
            "received_at": record.get("received_at"),
            "keys": _lookup_keys(document),
            "log": (yield from self._log_receipt_flow(document, record.get("log_index"))),
            "already_filed": True,
        }
        yield from self.receipt_flow(document, receipt)
        return receipt

    def bulk_batches(self, documents: Sequence[Mapping[str, Any]]) -> list[tuple[int, int, bytes]]:
        """`POST /v1/claims` array bodies `(start, stop, body)` within the registry's limits on
        documents per request and body bytes; a document too large for any body goes alone (the
        registry answers it with its own 413)."""
        identity = self._pinned()
        encoded = [keys.canonicalize(dict(document)) for document in documents]
        batches: list[tuple[int, int, bytes]] = []
        most, budget = identity.max_bulk_documents, identity.max_body_bytes
        start, size = 0, 2
        for number, raw in enumerate(encoded):
            count = number - start
            if count and (count >= most or size + 1 + len(raw) > budget):
                batches.append((start, number, b"[" + b",".join(encoded[start:number]) + b"]"))
                start, size = number, 2
            size += len(raw) + 1
        if encoded:
            batches.append((start, len(encoded), b"[" + b",".join(encoded[start:]) + b"]"))
        return batches

    def file_many_flow(self, documents: Sequence[Mapping[str, Any]]) -> Flow[list[dict[str, Any]]]:
        """File signed claims over the bulk endpoint; one result per document, in order: its
        verified receipt (`"status": 201`) or the registry's problem for it (`status`, `type`,
        `detail`, `errors`). A retried request meets its own filings as `nonce-reused`: those are
        looked up and their receipts rebuilt, as for one claim."""
        yield from self.identity_flow()
        results: list[dict[str, Any]] = []
        for start, stop, body in self.bulk_batches(documents):
            request = Request("POST", "/v1/claims", content=body, headers=_JSON, repeatable=True)
            response = yield request
            if response.status != 200:
                results += [self._whole_refusal(response)] * (stop - start)
                continue
            answer = self.json_object(response)
            outcomes = answer.get("results")
            if not isinstance(outcomes, list) or len(outcomes) != stop - start:
                raise UnexpectedAnswer(f"{self.registry} answered {stop - start} documents otherwise")
            for document, outcome in zip(documents[start:stop], outcomes, strict=True):
                results.append((yield from self._bulk_outcome_flow(document, outcome, response.attempts)))
        return results

    def _bulk_outcome_flow(
        self, document: Mapping[str, Any], outcome: object, attempts: int
    ) -> Flow[dict[str, Any]]:
        if not isinstance(outcome, dict):
            raise UnexpectedAnswer(f"{self.registry} answered a bulk filing with a non-object result")
        if outcome.get("status") == 201:
            yield from self.receipt_flow(document, outcome)
            return outcome
        if outcome.get("status") == 409 and problem_slug(outcome) == "nonce-reused" and attempts > 1:
            receipt = yield from self._refiled_flow(document, attempts, outcome)
            if receipt is not None:
                return {"status": 201, **receipt}
        return outcome

    def _whole_refusal(self, response: Response) -> dict[str, Any]:
        """The problem a whole bulk request met (413, 429 after retries, …), for each of its documents."""
        problem = response.problem()
        if problem is None:
            raise UnexpectedAnswer(f"{self.registry} answered a bulk filing with HTTP {response.status}")
        return {"status": response.status, **problem}

    def withdraw_flow(self, claim_id: str, withdrawal: Mapping[str, Any]) -> Flow[dict[str, Any]]:
        """Send a signed withdrawal; its receipt, verified (the same rule for a repeat as filing)."""
        yield from self.identity_flow()
        path = f"/v1/claims/{claim_id}/withdraw"
        response = yield self.build("POST", path, document=withdrawal, repeatable=True)
        document_id = _document_id(withdrawal)
        slug = problem_slug(response.problem())
        if response.status == 409 and slug in {"already-withdrawn", "nonce-reused"} and document_id:
            stored = yield self.build("GET", f"/v1/claims/{claim_id}")
            recorded = self.json_object(stored).get("withdrawal") if stored.ok else None
            if isinstance(recorded, dict) and recorded.get("id") == document_id:
                if response.attempts == 1:
                    raise AlreadyFiled(409, response.problem() or {}, document_id)
                receipt: dict[str, Any] = {
                    "id": document_id,
                    "claim": claim_id,
                    "received_at": recorded.get("received_at"),
                    "log": (yield from self._log_receipt_flow(withdrawal, recorded.get("log_index"))),
                    "already_filed": True,
                }
                yield from self.receipt_flow(withdrawal, receipt)
                return receipt
        receipt = self.json_object(response)
        yield from self.receipt_flow(withdrawal, receipt)
        return receipt

    def _log_receipt_flow(self, document: Mapping[str, Any], log_index: object) -> Flow[dict[str, Any]]:
        """A receipt's `log` part for a document already in the log, at today's signed checkpoint."""
        log = yield from self._logged_flow(document)
        if log is None or log["index"] != log_index:
            found = "nowhere" if log is None else f"at log index {log['index']}"
            raise InvalidSignedAnswer(f"{self.registry} places the document {found} and also at {log_index}")
        return log

    def _logged_flow(self, document: Mapping[str, Any]) -> Flow[dict[str, Any] | None]:
        """The `log` part of a receipt for `document` if the log holds it (at today's signed
        checkpoint, with its inclusion proof), else None.

        A witnessed registry serves the newest *cosigned* checkpoint, which lags a fresh entry by a
        moment: while the entry lies beyond it (`400 invalid-parameter` for its inclusion proof), the
        flow sleeps and asks again, within the witness policy's wait.
        """
        identity = self._pinned()
        leaf = merkle.leaf_hash(keys.canonicalize(dict(document)))
        delays = iter(self.witness_policy.delays())
        while True:
            note = yield from self.checkpoint_flow()
            size = open_checkpoint(note, identity.verifier).size
            params: dict[str, str | int] = {"hash": _b64(leaf), "tree_size": size}
            response = yield self.build("GET", "/v1/log/proof/inclusion", params=params)
            if response.status == 404:
                return None
            if response.status == 400 and problem_slug(response.problem()) == "invalid-parameter":
                delay = next(delays, None)
                if delay is not None:
                    yield Sleep(delay)
                    continue
            index, proof = self._inclusion(self.json_object(response))
            return {
                "registry": identity.did,
                "origin": identity.origin,
                "index": index,
                "tree_size": size,
                "leaf_hash": _b64(leaf),
                "inclusion_proof": [_b64(node) for node in proof],
                "checkpoint": note,
            }

    # -------------------------------------------------------------- authority

    def file_authority_flow(self, document: Mapping[str, Any]) -> Flow[dict[str, Any]]:
        """File a signed authority document (attestation, mandate, revocation, key rotation,
        recovery step) at `POST /v1/authority`; its receipt, verified.

        Filing twice follows the claims' rule: a retry meeting `409 nonce-reused` looks the
        document up in the log by its leaf hash, and if it is there returns the rebuilt receipt
        (`"already_filed": true`), or raises `AlreadyFiled` when the caller sent it twice.
        """
        yield from self.identity_flow()
        response = yield self.build("POST", "/v1/authority", document=document, repeatable=True)
        document_id = _document_id(document)
        if response.status == 409 and problem_slug(response.problem()) == "nonce-reused" and document_id:
            log = yield from self._logged_flow(document)
            if log is not None:
                if response.attempts == 1:
                    raise AlreadyFiled(409, response.problem() or {}, document_id)
                receipt: dict[str, Any] = {
                    "id": document_id,
                    "type": document.get("type"),
                    "log": log,
                    "already_filed": True,
                }
                yield from self.receipt_flow(document, receipt)
                return receipt
        receipt = self.json_object(response)
        yield from self.receipt_flow(document, receipt)
        if receipt.get("type", document.get("type")) != document.get("type"):
            raise UnexpectedAnswer(
                f"{self.registry} filed a {receipt.get('type')}, not a {document.get('type')}"
            )
        return receipt

    def verify_domain_flow(self, did: str, host: str, method: str = "well-known") -> Flow[dict[str, Any]]:
        """Ask the registry to check that `did` controls `host` by `method`; its registry-signed
        `DomainVerification` and receipt, both verified against the pinned registry."""
        if method not in VERIFICATION_METHODS:
            raise ValueError(f"method must be one of {', '.join(VERIFICATION_METHODS)}, not {method!r}")
        if not isinstance(did, str) or not did.startswith("did:"):
            raise ValueError(f"did must be a DID (did:key:… or did:web:…), not {did!r}")
        identity = yield from self.identity_flow()
        body = {"did": did, "host": host, "method": method}
        answer = self.json_object((yield self.build("POST", "/v1/verifications", document=body)))
        verification = answer.get("verification")
        if not isinstance(verification, dict):
            raise UnexpectedAnswer(f"{self.registry} answered a verification without the signed record")
        try:
            signed = keys.verify_document(verification)
        except keys.KeysError as exc:
            raise InvalidSignedAnswer(
                f"the verification from {self.registry} does not verify: {exc}"
            ) from None
        wanted = host.strip().lower().rstrip(".")
        expected = {"type": "DomainVerification", "registry": identity.did, "subject": did, "method": method}
        if signed.key.did != identity.did or any(verification.get(k) != v for k, v in expected.items()):
            raise InvalidSignedAnswer(
                f"{self.registry} answered with a verification other than the one asked for, "
                f"or one not signed by {identity.did}"
            )
        if verification.get("host") != wanted:
            raise InvalidSignedAnswer(f"{self.registry} verified {verification.get('host')}, not {wanted}")
        yield from self.receipt_flow(verification, answer)
        return answer

    def authority_flow(self, did: str) -> Flow[dict[str, Any]]:
        """`GET /v1/authority/{did}`: what the log says about a DID (unsigned; read it as a summary,
        the signed documents it names are in the log)."""
        if not isinstance(did, str) or not did.startswith("did:"):
            raise ValueError(f"not a DID: {did!r}")
        yield from self.identity_flow()
        answer = self.json_object((yield self.build("GET", f"/v1/authority/{quote(did, safe=':')}")))
        if answer.get("did") != did:
            raise UnexpectedAnswer(f"{self.registry} answered about {answer.get('did')}, not {did}")
        return answer

    def checkpoint_flow(self) -> Flow[str]:
        """The latest checkpoint note, verified against the pinned key."""
        identity = yield from self.identity_flow()
        response = yield self.build("GET", "/log/checkpoint")
        self.raise_for_status(response)
        note = response.text
        try:
            open_checkpoint(note, identity.verifier)
        except VerificationFailed as exc:
            raise InvalidSignedAnswer(f"the checkpoint from {self.registry} does not verify: {exc}") from None
        return note

    def inclusion_flow(self, leaf_hash: bytes, tree_size: int) -> Flow[tuple[int, list[bytes]]]:
        params: dict[str, str | int] = {"hash": _b64(leaf_hash), "tree_size": tree_size}
        response = yield self.build("GET", "/v1/log/proof/inclusion", params=params)
        if self.static or static_reads.looks_static(response):
            raise static_reads.StaticCopy(
                f"{self.registry} is a static copy: finding a log entry by its hash needs the live registry"
            )
        return self._inclusion(self.json_object(response))

    def _inclusion(self, answer: Mapping[str, Any]) -> tuple[int, list[bytes]]:
        try:
            return int(answer["leaf_index"]), [base64.b64decode(node) for node in answer["inclusion_proof"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise UnexpectedAnswer(f"malformed inclusion proof from {self.registry}: {exc!r}") from None

    def consistency_flow(self, first: int, second: int) -> Flow[list[bytes]]:
        """The registry's consistency proof; from a static copy, the one its hash tiles give."""
        response = None
        if not self.static:
            params = {"first": first, "second": second}
            response = yield self.build("GET", "/v1/log/proof/consistency", params=params)
            self.static = static_reads.looks_static(response)
        if self.static or response is None:
            proof = tile_proofs.consistency_proof(first, second)
            return (yield from static_reads.tile_proof_flow(self, proof))
        answer = self.json_object(response)
        try:
            return [base64.b64decode(node) for node in answer["consistency_proof"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise UnexpectedAnswer(f"malformed consistency proof from {self.registry}: {exc!r}") from None

    def snapshot_flow(self, since: int | None) -> Flow[bytes]:
        """The snapshot (or the delta since tree size `since`) as the registry serves it, unverified."""
        if since is not None and (isinstance(since, bool) or not isinstance(since, int) or since < 0):
            raise ValueError(f"since is a tree size (an integer >= 0), not {since!r}")
        params = {"since": since} if since is not None else None
        response = None if self.static else (yield self.build("GET", "/v1/snapshot", params=params))
        if response is None or static_reads.looks_static(response):
            self.static = True
            raw = yield from static_reads.snapshot_flow(self, since)
        else:
            raw = self.raw(response)
        if self.witness_policy.witnesses:
            yield from self.identity_flow()
            yield from self.witnessed_flow(self._snapshot_checkpoint(raw))
        return raw

    def request_flow(
        self,
        method: str,
        path: str,
        *,
        document: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> Flow[dict[str, Any]]:
        return self.json_object((yield self.build(method, path, document=document, params=params)))

    def signed_flow(
        self,
        method: str,
        path: str,
        key: keys.SigningKey,
        *,
        now: float,
        document: Mapping[str, Any] | None = None,
    ) -> Flow[dict[str, Any]]:
        """A request authenticated by `key` (RFC 9421, the registry's access profile): for personal
        data. Never retried, since the registry refuses a signature's nonce the second time."""
        request = self.build(method, path, document=document, repeatable=False)
        headers = access_headers(
            method,
            self.registry + path,
            key,
            keys.verification_method_for(key.did),
            created=int(now),
            nonce=secrets.token_urlsafe(18),
        )
        return self.json_object((yield replace(request, headers={**request.headers, **headers})))


class BaseClient:
    """What `Client` and `AsyncClient` share besides the flows (httpx's `BaseClient`): the core,
    the registry's URL and identity, and the clock retries are timed on."""

    def __init__(
        self,
        registry: str,
        *,
        registry_did: str | None,
        pins: Path | str | None,
        retry: RetryPolicy | None,
        max_concurrency: int,
        clock: Callable[[], float],
        witnesses: Sequence[str | CosignatureVerifier] | None = None,
        min_cosignatures: int | None = None,
        witness_wait: float = DEFAULT_WITNESS_WAIT,
    ) -> None:
        self._core = ClientCore(
            registry,
            registry_did=registry_did,
            pins=pins,
            retry=retry,
            max_concurrency=max_concurrency,
            witnesses=witnesses,
            min_cosignatures=min_cosignatures,
            witness_wait=witness_wait,
        )
        self.registry = self._core.registry
        self._clock = clock

    @property
    def witness_policy(self) -> WitnessPolicy:
        """The witnesses this client requires, and how many (none: the registry's signature only)."""
        return self._core.witness_policy

    @property
    def registry_did(self) -> str | None:
        """The DID this client trusts: given, pinned, or learnt on first use (None before that)."""
        identity = self._core.identity
        return identity.did if identity else self._core.registry_did

    def _steps(self, flow: Flow[T]) -> Steps[T]:
        """`flow` with its retries, as the steps a driver runs (`run_steps`)."""
        return self._core.steps(flow, self._clock)


def run_flow(
    flow: Flow[T], send: Callable[[Request], Response], sleep: Callable[[float], None] = lambda _: None
) -> T:
    """Drive `flow` with a blocking `send` that answers every request (no retries of its own);
    its sleeps go to `sleep` (by default none: no time passes)."""
    try:
        step = next(flow)
        while True:
            if isinstance(step, Sleep):
                sleep(step.seconds)
                step = next(flow)
            else:
                step = flow.send(send(step))
    except StopIteration as done:
        result: T = done.value
        return result


def run_steps(
    steps: Steps[T], attempt: Callable[[Request], Response | Unreachable], sleep: Callable[[float], None]
) -> T:
    """Drive `steps` with a blocking `attempt` and `sleep` (the sync client's driver; `AsyncClient`
    mirrors it with `await`)."""
    try:
        step = next(steps)
        while True:
            if isinstance(step, Sleep):
                sleep(step.seconds)
                step = steps.send(None)
            else:
                step = steps.send(attempt(step))
    except StopIteration as done:
        result: T = done.value
        return result


def minimum_authority(value: str | None) -> str | None:
    """A caller's `min_authority`, checked: None, or one of `registry.authority.levels.LEVELS`
    (`ValueError`, an `UnknownLevel` listing them, for anything else)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise UnknownLevel(f"min_authority is a level name, not {value!r}: one of {', '.join(LEVELS)}")
    return parse_level(value)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


_FULL_MAGIC, _DELTA_MAGIC = b"KTWSNAP1", b"KTWDLTA1"  # registry.snapshot's, without numpy


def _snapshot_header(raw: bytes) -> dict[str, Any]:
    """The JSON header of a snapshot or delta file (registry.snapshot's framing), unverified."""
    if len(raw) < 12 or raw[:8] not in (_FULL_MAGIC, _DELTA_MAGIC):
        raise ValueError("not a Kotowari snapshot (bad magic)")
    length = int.from_bytes(raw[8:12], "big")
    if 12 + length > len(raw):
        raise ValueError("truncated header")
    header = keys.parse_strict_json(raw[12 : 12 + length])
    if not isinstance(header, dict):
        raise ValueError("the header is not a JSON object")
    return header


def _document_id(document: Mapping[str, Any]) -> str | None:
    try:
        return keys.document_id(dict(document))
    except (keys.KeysError, TypeError, ValueError):
        return None


def _lookup_keys(claim: Mapping[str, Any]) -> list[str]:
    """The lookup keys the registry lists in a claim's receipt, computed as it computes them."""
    from registry.schemes import exact_keys, identifier

    subject = claim.get("subject")
    identifiers = subject.get("identifiers", []) if isinstance(subject, dict) else []
    try:
        return sorted({key for obj in identifiers for key in exact_keys(identifier(obj), query=False)})
    except ValueError:
        return []

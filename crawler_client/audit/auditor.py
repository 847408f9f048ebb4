"""The audit itself: mirror, verify, replay, compare (see `crawler_client.audit`).

One `Auditor` audits one registry into one state directory. Its only I/O is the HTTP it sends
(through `crawler_client.core`'s retry logic, over an `httpx` transport the caller may supply)
and the state directory; the clock, the sampling randomness and the progress display are
parameters.
"""

from __future__ import annotations

import base64
import binascii
import random as random_module
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

import keys
from crawler_client.audit.compare import (
    check_items,
    compare_claim,
    compare_item,
    expected_items,
    label,
    served_tree_size,
)
from crawler_client.audit.replay import Replay
from crawler_client.audit.report import AuditError, AuditReport, Discrepancy
from crawler_client.audit.state import AuditState, Pin, StateDir
from crawler_client.audit.tiles import (
    WIDTH,
    MalformedTile,
    Tree,
    bundle_path,
    changed_tiles,
    parse_bundle,
    tile_path,
)
from crawler_client.core import (
    USER_AGENT,
    ClientCore,
    Flow,
    Request,
    Response,
    RetryPolicy,
    Unreachable,
    problem_slug,
    run_steps,
)
from crawler_client.errors import KotowariError, RegistryProblem
from crawler_client.verification import VerificationFailed, note_verifier, verify_answer
from keys import merkle
from keys.note import (
    Checkpoint,
    InvalidCheckpoint,
    InvalidNote,
    InvalidNoteKey,
    open_note,
    parse_verifier_key,
    verifier_key,
)
from registry.checking import validate_check_request
from registry.documents import InvalidDocument, format_timestamp, parse_timestamp

__all__ = ["DEFAULT_SAMPLE", "Auditor", "Progress"]

DEFAULT_SAMPLE = 10_000
"""Claims compared with what the registry serves: all of them up to this many, else a random sample."""

MAX_CATCH_UPS = 3
"""How often an audit follows a log that grows under it before it stops comparing at newer sizes."""

MAX_PER_TILE = 3
"""Differing hashes named per hash tile (the rest are counted)."""

Progress = Callable[[str, int, int], None]
"""`progress(stage, done, total)`: called as the audit advances (stages: mirror, tiles, claims, checks)."""

_JSON = {"Content-Type": "application/json"}


class _Stop(Exception):
    """Found something that leaves nothing further to audit (a fork, a rollback, a forged head)."""

    def __init__(self, *found: Discrepancy) -> None:
        super().__init__(found[0].message if found else "stopped")
        self.found = list(found)


def _single(request: Request) -> Flow[Response]:
    response = yield request
    return response


def _document_id(document: dict[str, Any]) -> str | None:
    try:
        return keys.document_id(document)
    except (keys.KeysError, TypeError, ValueError):
        return None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


class Auditor:
    """Audits the registry at `registry` into the state directory `state_dir`; `run()` reports.

    `sample`: compare this many claims (all when there are fewer; default 10,000). `full`:
    re-verify every signature, not only those of entries new since the last audit. `transport`:
    an `httpx.BaseTransport` to send through (tests put a lying registry there). `now` fixes the
    moment check answers are asked for (`at`); `rng` draws the sample.
    """

    def __init__(
        self,
        registry: str,
        state_dir: Path | str,
        *,
        sample: int = DEFAULT_SAMPLE,
        full: bool = False,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] | None = None,
        rng: random_module.Random | None = None,
        progress: Progress | None = None,
    ) -> None:
        if sample < 0:
            raise ValueError("sample is a number of claims, at least 0")
        self.core = ClientCore(registry, retry=retry)
        self.registry = self.core.registry
        self.files = StateDir(state_dir)
        self.sample = sample
        self.full = full
        self._http = httpx.Client(
            base_url=self.registry, transport=transport, timeout=timeout, headers={"User-Agent": USER_AGENT}
        )
        self._sleep = sleep
        self._now = now or (lambda: datetime.now(UTC))
        self._rng = rng or random_module.SystemRandom()
        self._progress = progress or (lambda stage, done, total: None)
        self.requests = 0
        self.report = AuditReport(registry=self.registry)
        self.tree = Tree()
        self.replay: Replay | None = None
        self.state = AuditState()
        self.pin: Pin | None = None
        self._catch_ups = 0
        self._spaces: dict[str, int] | None = None
        self._max_items = 100
        self._max_body = 1 << 20

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Auditor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ the run

    def run(self) -> AuditReport:
        """Audit once; the report says what was found. `AuditError` when the audit cannot be done."""
        report = self.report
        try:
            with self.files:
                try:
                    self._audit()
                except _Stop as stop:
                    report.discrepancies.extend(stop.found)
                    report.complete = False
                finally:
                    if self.replay is not None:
                        report.discrepancies[:0] = self.replay.discrepancies
                        report.signatures_checked = self.replay.signatures_checked
                        report.seconds["replay"] = self.replay.seconds
        except KotowariError as exc:
            raise AuditError(str(exc)) from None
        report.requests = self.requests
        return report

    def _audit(self) -> None:
        report = self.report
        started = time.perf_counter()
        state = self.state = self.files.load()
        self.pin = self._identity(state.pin)
        report.previous_size = state.size
        note, checkpoint = self._checkpoint()
        if checkpoint.size < state.size:
            raise _Stop(
                Discrepancy(
                    "rollback",
                    f"the registry's checkpoint has {checkpoint.size} entries, fewer than the "
                    f"{state.size} of the checkpoint audited before: the log was rolled back",
                )
            )
        if checkpoint.size == state.size and checkpoint.root_hash != state.root_hash:
            raise _Stop(self._fork(checkpoint, state))
        replay = self.replay = Replay(
            registry_did=self.pin.did,
            spaces=self._spaces,
            verified_below=0 if self.full else state.signatures_verified,
        )
        for index, entry in enumerate(self.files.entries(state)):
            self.tree.append(merkle.leaf_hash(entry))
            replay.feed(index, entry)
        if self.tree.size != state.size or self.tree.root(state.size) != state.root_hash:
            raise AuditError(
                f"the mirror in {self.files.path} no longer hashes to the checkpoint audited at size "
                f"{state.size}: its files were changed"
            )
        self.state = self._extend(note, checkpoint)
        report.entries = self.tree.size
        report.seconds["log"] = time.perf_counter() - started
        started = time.perf_counter()
        self._compare()
        report.seconds["compare"] = time.perf_counter() - started

    # ------------------------------------------------------------------ HTTP

    def _send(
        self, method: str, path: str, *, content: bytes | None = None, params: dict[str, Any] | None = None
    ) -> Response:
        request = Request(
            method, path, params=params, content=content, headers=_JSON if content else {}, repeatable=True
        )
        response = run_steps(self.core.steps(_single(request), time.monotonic), self._attempt, self._sleep)
        if response.status == 503 and problem_slug(response.problem()) == "integrity-failure":
            detail = (response.problem() or {}).get("detail", "")
            raise _Stop(
                Discrepancy("integrity", f"the registry reports that its own log does not verify: {detail}")
            )
        return response

    def _attempt(self, request: Request) -> Response | Unreachable:
        self.requests += 1
        try:
            answer = self._http.request(
                request.method,
                request.path,
                content=request.content,
                headers=dict(request.headers),
                params=request.params,
            )
        except httpx.TransportError as exc:
            return Unreachable(exc, timeout=isinstance(exc, httpx.TimeoutException))
        return Response(answer.status_code, answer.headers, answer.content, str(answer.url))

    def _json(
        self, method: str, path: str, *, content: bytes | None = None, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return self.core.json_object(self._send(method, path, content=content, params=params))

    def _raw(self, path: str) -> bytes:
        return self.core.raw(self._send("GET", path))

    # ------------------------------------------------------------------ identity and checkpoints

    def _identity(self, pinned: Pin | None) -> Pin:
        info = self._json("GET", "/v1/registry")
        try:
            did, origin, published = (
                str(info["did"]),
                str(info["log"]["origin"]),
                str(info["log"]["note_verifier_key"]),
            )
            spaces = info.get("embedding_spaces")
            self._spaces = {str(k): int(v) for k, v in spaces.items()} if isinstance(spaces, dict) else None
            limits = info.get("limits") or {}
            self._max_items = max(1, int(limits.get("max_check_items", 100)))
            self._max_body = max(1024, int(limits.get("max_body_bytes", 1 << 20)))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise AuditError(f"{self.registry}/v1/registry is malformed: {exc!r}") from None
        report = self.report
        report.did, report.origin = did, origin
        try:
            verifier = note_verifier(did, origin)
        except VerificationFailed as exc:
            raise _Stop(Discrepancy("identity", str(exc))) from None
        if published != verifier_key(origin, verifier.public_key):
            raise _Stop(
                Discrepancy(
                    "identity", f"the registry publishes note key {published}, which is not its DID's key"
                )
            )
        pin = Pin(did, origin, published)
        if pinned is not None and pinned != pin:
            raise _Stop(
                Discrepancy(
                    "identity",
                    f"the registry's identity changed: pinned in {self.files.path} as {pinned.did} "
                    f"({pinned.origin}, note key {pinned.note_verifier_key}), "
                    f"now {did} ({origin}, note key {published})",
                )
            )
        return pin

    def _checkpoint(self) -> tuple[str, Checkpoint]:
        assert self.pin is not None
        response = self._send("GET", "/log/checkpoint")
        self.core.raise_for_status(response)
        try:
            verifier = parse_verifier_key(self.pin.note_verifier_key)
            note = open_note(response.content, [verifier])
            checkpoint = Checkpoint.parse(note.text)
        except InvalidNote as exc:
            if str(exc).startswith("malformed"):
                raise AuditError(f"{self.registry}/log/checkpoint is not a signed note: {exc}") from None
            raise _Stop(
                Discrepancy(
                    "checkpoint",
                    f"the checkpoint is not signed by the registry's note key pinned in "
                    f"{self.files.path}: {exc}",
                )
            ) from None
        except (InvalidCheckpoint, InvalidNoteKey) as exc:
            raise AuditError(f"{self.registry}/log/checkpoint is not a checkpoint: {exc}") from None
        if checkpoint.origin != self.pin.origin:
            raise _Stop(
                Discrepancy(
                    "checkpoint", f"the checkpoint is for log {checkpoint.origin!r}, not {self.pin.origin!r}"
                )
            )
        self.report.tree_size, self.report.root_hash = checkpoint.size, _b64(checkpoint.root_hash)
        return response.text, checkpoint

    def _fork(self, checkpoint: Checkpoint, state: AuditState) -> Discrepancy:
        return Discrepancy(
            "fork",
            f"the registry signed two different trees of size {checkpoint.size}: root "
            f"{_b64(checkpoint.root_hash)} now, {_b64(state.root_hash)} when audited before",
        )

    # ------------------------------------------------------------------ mirroring

    def _extend(self, note: str, checkpoint: Checkpoint) -> AuditState:
        """Mirror, hash, verify and replay the entries from the mirrored size up to `checkpoint`;
        check the root, the hash tiles and the registry's consistency proof; commit the mirror."""
        assert self.replay is not None
        state, report = self.state, self.report
        old, new = state.size, checkpoint.size
        if new == old:
            return state
        tail = self.files.tail_entries(state) if old % WIDTH else []
        new_tail, appended = b"", 0
        bundles = range(old // WIDTH, -(-new // WIDTH))
        for number, bundle in enumerate(bundles):
            width = min(WIDTH, new - bundle * WIDTH)
            path = bundle_path(bundle, width)
            data = self._raw(path)
            report.bundles_fetched += 1
            try:
                entries = parse_bundle(data, width, path)
            except MalformedTile as exc:
                raise AuditError(f"{self.registry}{path}: {exc}") from None
            start = bundle * WIDTH
            known = tail if bundle == old // WIDTH else []
            for offset, before in enumerate(known):
                if entries[offset] != before:
                    raise _Stop(
                        Discrepancy(
                            "fork",
                            f"log entry {start + offset} is not the entry audited before at size {old}: "
                            "the registry rewrote its log",
                            start + offset,
                        )
                    )
            for offset in range(len(known), width):
                self.tree.append(merkle.leaf_hash(entries[offset]))
                self.replay.feed(start + offset, entries[offset])
            if width == WIDTH:
                self.files.append_bundle(state, data)
                appended += len(data)
            else:
                new_tail = data
            self._progress("mirror", number + 1, len(bundles))
        found = self._check_root(checkpoint, old)
        found += self._check_tiles(old, new)
        found += self._check_consistency(state, checkpoint)
        if found:
            self.files.discard()
            raise _Stop(*found)
        first_bad = self.replay.first_bad
        verified = new if first_bad is None else min(first_bad, new)
        state = replace(
            state,
            pin=self.pin,
            size=new,
            root_hash=checkpoint.root_hash,
            checkpoint=note,
            bundles=new // WIDTH,
            entries_bytes=state.entries_bytes + appended,
            signatures_verified=verified,
            audited_at=format_timestamp(self._now()),
        )
        self.files.commit(state, new_tail)
        report.entries = self.tree.size
        return state

    def _check_root(self, checkpoint: Checkpoint, old: int) -> list[Discrepancy]:
        if self.tree.root(checkpoint.size) == checkpoint.root_hash:
            return []
        # Which entries? The level-0 tiles hold the leaf hashes the registry committed to.
        served = Tree()
        for index, width in changed_tiles(0, 0, checkpoint.size):
            try:
                data = self._tile(0, index, width)
            except AuditError:
                break
            for offset in range(width):
                served.append(data[offset * 32 : offset * 32 + 32])
        found = [
            Discrepancy("entries", "the entries served do not hash to the root of the signed checkpoint")
        ]
        if served.size != checkpoint.size:
            return found
        differing = [n for n in range(checkpoint.size) if served.leaf(n) != self.tree.leaf(n)]
        if differing and served.root(checkpoint.size) == checkpoint.root_hash:
            for n in differing[: MAX_PER_TILE * 10]:
                if n < old:
                    found.append(
                        Discrepancy("fork", f"log entry {n} changed since it was audited at size {old}", n)
                    )
                else:
                    found.append(
                        Discrepancy(
                            "entries",
                            f"log entry {n}: the bytes served do not hash to the leaf its hash tile and "
                            "signed checkpoint commit to",
                            n,
                        )
                    )
        elif differing:
            found.append(
                Discrepancy("tile", "the hash tiles do not hash to the signed checkpoint's root either")
            )
        return found

    def _tile(self, level: int, index: int, width: int) -> bytes:
        path = tile_path(level, index, width)
        data = self._raw(path)
        self.report.tiles_fetched += 1
        if len(data) != width * merkle.HASH_SIZE:
            raise AuditError(
                f"{self.registry}{path} is {len(data)} bytes, "
                f"not the {width * merkle.HASH_SIZE} of {width} hashes"
            )
        return data

    def _check_tiles(self, old: int, new: int) -> list[Discrepancy]:
        """Every hash tile new (or grown) since `old` must be what the entries imply."""
        found: list[Discrepancy] = []
        wanted = [
            (level, index, width)
            for level in range(8)
            if new >> (8 * level)
            for index, width in changed_tiles(level, old, new)
        ]
        for number, (level, index, width) in enumerate(wanted):
            data = self._tile(level, index, width)
            implied = self.tree.tile(level, index, width)
            if data != implied:
                wrong = [
                    k for k in range(width) if data[k * 32 : k * 32 + 32] != implied[k * 32 : k * 32 + 32]
                ]
                more = f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else ""
                found.append(
                    Discrepancy(
                        "tile",
                        f"hash tile {tile_path(level, index, width).removeprefix('/log/tile/')}: "
                        f"hash {wrong[0]}{more} is not what the log entries imply",
                        (index * WIDTH + wrong[0]) << (8 * level),
                    )
                )
            self._progress("tiles", number + 1, len(wanted))
        return found

    def _check_consistency(self, state: AuditState, checkpoint: Checkpoint) -> list[Discrepancy]:
        if not 0 < state.size < checkpoint.size:
            return []
        answer = self._json(
            "GET", "/v1/log/proof/consistency", params={"first": state.size, "second": checkpoint.size}
        )
        try:
            proof = [base64.b64decode(str(node), validate=True) for node in answer["consistency_proof"]]
            merkle.verify_consistency(
                state.size, checkpoint.size, state.root_hash, checkpoint.root_hash, proof
            )
        except (KeyError, TypeError, binascii.Error, merkle.InvalidMerkleProof) as exc:
            return [
                Discrepancy(
                    "proof",
                    f"the registry's consistency proof from size {state.size} to {checkpoint.size} "
                    f"does not verify: {exc}",
                )
            ]
        return []

    def _catch_up(self) -> bool | None:
        """The log grew under the audit? Mirror and replay up to the newest checkpoint: True if it
        grew, False if it did not, None when the audit has followed it often enough already."""
        if self._catch_ups >= MAX_CATCH_UPS:
            return None
        note, checkpoint = self._checkpoint()
        if checkpoint.size < self.state.size:
            raise _Stop(
                Discrepancy(
                    "rollback",
                    f"during the audit the registry's checkpoint went back from {self.state.size} "
                    f"to {checkpoint.size} entries",
                )
            )
        if checkpoint.size == self.state.size:
            if checkpoint.root_hash != self.state.root_hash:
                raise _Stop(self._fork(checkpoint, self.state))
            return False
        self._catch_ups += 1
        grown_from = self.state.size
        started = time.perf_counter()
        self.state = self._extend(note, checkpoint)
        self.report.seconds["log"] = self.report.seconds.get("log", 0.0) + time.perf_counter() - started
        self.report.notes.append(
            f"the log grew from {grown_from} to {checkpoint.size} entries during the audit"
        )
        return True

    # ------------------------------------------------------------------ comparing

    def _compare(self) -> None:
        assert self.replay is not None
        report, claims = self.report, self.replay.claims
        report.claims = len(claims)
        chosen = list(claims)
        if len(chosen) > self.sample:
            chosen = sorted(self._rng.sample(chosen, self.sample), key=lambda c: claims[c][0])
            report.notes.append(f"compared a random sample of {self.sample} of the {len(claims)} claims")
        items: list[tuple[str, dict[str, Any]]] = []
        for number, claim_id in enumerate(chosen):
            document = self._compare_claim(claim_id)
            if document is not None:
                items += [(claim_id, item) for item in check_items(document, self.replay.index)]
            report.claims_compared += 1
            self._progress("claims", number + 1, len(chosen))
        batches = self._batches(items)
        at = format_timestamp(self._now())
        for number, batch in enumerate(batches):
            self._check(batch, at)
            self._progress("checks", number + 1, len(batches))

    def _claim(self, claim_id: str) -> dict[str, Any] | None:
        try:
            return self._json("GET", f"/v1/claims/{claim_id}")
        except RegistryProblem as exc:
            if exc.status == 404:
                return None
            raise

    def _compare_claim(self, claim_id: str) -> dict[str, Any] | None:
        """Compare one claim lookup; returns the logged document (as served, once it is proven the
        logged one), for its identifiers to be checked."""
        assert self.replay is not None
        filed_at = self.replay.claims[claim_id][0]
        while True:
            served = self._claim(claim_id)
            index = self.replay.index
            if served is None:
                problems = [
                    f"claim {claim_id[:16]}… is log entry {filed_at}, but the registry answers 404 for it"
                ]
                size = None
            else:
                problems = compare_claim(claim_id, filed_at, served, index)
                size = served_tree_size(served)
            grew = self._catch_up() if problems or (size is not None and size > index.position) else False
            if not grew:
                break
        if size is not None and size != index.position:
            if size > index.position and grew is None:
                self.report.notes.append(
                    f"claim {claim_id[:16]}… was served at size {size}, beyond the audit"
                )
                problems = []
            else:
                problems.append(
                    f"claim {claim_id[:16]}…: the registry answers at tree size {size}, but its "
                    f"checkpoint has {index.position} entries"
                )
        for problem in problems:
            self.report.add("claim", problem, filed_at)
        document = served.get("document") if served is not None else None
        if not isinstance(document, dict) or _document_id(document) != claim_id:
            return None
        return document

    def _batches(self, items: list[tuple[str, dict[str, Any]]]) -> list[list[tuple[str, dict[str, Any]]]]:
        """Items in requests within the registry's `max_check_items` and body limit."""
        batches: list[list[tuple[str, dict[str, Any]]]] = []
        current: list[tuple[str, dict[str, Any]]] = []
        size = 0
        budget = self._max_body - 512
        for pair in items:
            cost = len(keys.canonicalize(pair[1])) + 1
            if current and (len(current) >= self._max_items or size + cost > budget):
                batches.append(current)
                current, size = [], 0
            current.append(pair)
            size += cost
        if current:
            batches.append(current)
        return batches

    def _check(self, batch: list[tuple[str, dict[str, Any]]], at: str) -> None:
        """One `POST /v1/check`: signed by the registry, at the audited tree, as the replay decides."""
        assert self.replay is not None and self.pin is not None
        report = self.report
        body = {"items": [item for _, item in batch], "at": at}
        try:
            models = validate_check_request(body).items
        except InvalidDocument as exc:
            report.notes.append(f"{len(batch)} logged identifiers could not be asked about: {exc}")
            return
        first = f"the identifiers of claim {batch[0][0][:16]}…" + (
            f" and {len({c for c, _ in batch}) - 1} more claims" if len({c for c, _ in batch}) > 1 else ""
        )
        while True:
            try:
                answer = self._json("POST", "/v1/check", content=keys.canonicalize(body))
            except RegistryProblem as exc:
                report.add("answer", f"the registry refuses to check {first}: {exc}")
                return
            problem = self._answer_problem(answer, at, len(batch))
            if problem is not None:
                report.add("answer", f"a check answer about {first} {problem}")
                return
            point = answer["checkpoint"]
            size = point["tree_size"]
            grew = self._catch_up() if size > self.replay.index.position else False
            if not grew:
                break
        report.check_answers += 1
        index = self.replay.index
        if size > index.position and grew is None:
            report.notes.append(f"a check answer at size {size}, beyond the audit, was not compared")
            return
        if size != index.position:
            report.add(
                "answer",
                f"a check answer about {first} was computed at tree size {size}, but the registry's "
                f"checkpoint has {index.position} entries",
            )
            return
        if point["root_hash"] != _b64(self.tree.root(size)):
            report.add(
                "answer",
                f"a check answer about {first} names root {point['root_hash']}, not the log's at size {size}",
            )
        expected = expected_items(index, models, parse_timestamp(at))
        for (claim_id, item), served, wanted in zip(batch, answer["items"], expected, strict=True):
            difference = compare_item(served, wanted, f"{label(item)} (claim {claim_id[:16]}…)")
            if difference is not None:
                report.add("answer", difference, self.replay.claims[claim_id][0])
        report.items_checked += len(batch)

    def _answer_problem(self, answer: dict[str, Any], at: str, count: int) -> str | None:
        """Why a check answer cannot be taken as the registry's signed word on this question."""
        assert self.pin is not None
        if answer.get("registry") != self.pin.did:
            return f"names registry {answer.get('registry')}, not {self.pin.did}"
        try:
            verify_answer(answer)
        except VerificationFailed as exc:
            return f"does not verify: {exc}"
        point = answer.get("checkpoint")
        if (
            not isinstance(point, dict)
            or point.get("origin") != self.pin.origin
            or not isinstance(point.get("tree_size"), int)
            or isinstance(point.get("tree_size"), bool)
            or not isinstance(point.get("root_hash"), str)
        ):
            return f"is not tied to a checkpoint of log {self.pin.origin}"
        if answer.get("type") != "CheckAnswer" or answer.get("at") != at:
            asked = f"type {answer.get('type')!r}, at {answer.get('at')!r}"
            return f"answers another question ({asked}; asked at {at})"
        items = answer.get("items")
        if not isinstance(items, list) or len(items) != count:
            return f"answers {len(items) if isinstance(items, list) else 'no'} items for the {count} asked"
        return None

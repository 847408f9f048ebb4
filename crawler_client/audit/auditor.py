"""The audit itself: mirror, verify, replay, compare (see `crawler_client.audit`).

One `Auditor` audits one registry into one state directory, once. `crawler_client.audit.mirror`
does the log side (identity, checkpoints, entries, tiles, the replay); this module compares what
the registry serves with the replay. Its only I/O is HTTP (`crawler_client.audit.http`) and the
state directory; the clock, the sampling randomness and the progress display are parameters.
"""

from __future__ import annotations

import random as random_module
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
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
from crawler_client.audit.http import RegistryHttp
from crawler_client.audit.mirror import Mirror, Progress, b64
from crawler_client.audit.records import compare_records
from crawler_client.audit.replay import Replay
from crawler_client.audit.report import DEFAULT_SAMPLE, AuditError, AuditReport, Stopped
from crawler_client.audit.state import StateDir
from crawler_client.audit.tiles import Tree
from crawler_client.core import RetryPolicy
from crawler_client.errors import KotowariError, RegistryProblem
from crawler_client.verification import VerificationFailed, verify_answer
from keys.cosignature import CosignatureVerifier, parse_cosignature_verifier_key
from registry.checking import validate_check_request
from registry.documents import InvalidDocument, format_timestamp, parse_timestamp

__all__ = ["DEFAULT_SAMPLE", "Auditor", "Progress"]

LIVE_ONLY = ("claim lookups", "signed check answers", "operator records")
"""The stages of an audit that only a live registry answers (a static copy skips them, saying so)."""

PREFETCH = 64
"""Claim lookups fetched ahead (by `concurrency` threads) before they are compared in log order."""


def _document_id(document: dict[str, Any]) -> str | None:
    try:
        return keys.document_id(document)
    except (keys.KeysError, TypeError, ValueError):
        return None


class Auditor:
    """Audits the registry at `registry` into the state directory `state_dir`; `run()` reports.

    `sample`: compare this many claims (all when there are fewer; default 10,000). `full`:
    re-verify every signature, not only those of entries new since the last audit. `transport`:
    an `httpx.BaseTransport` to send through (tests put a lying registry there). `now` fixes the
    moment check answers are asked for (`at`); `rng` draws the sample. `witnesses` (C2SP
    cosignature verifier keys, as text or parsed): every checkpoint audited must carry
    cosignatures from `min_cosignatures` of them (default: all). `concurrency`: claim lookups in
    flight at once.
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
        witnesses: Sequence[str | CosignatureVerifier] = (),
        min_cosignatures: int | None = None,
        concurrency: int = 4,
    ) -> None:
        if sample < 0:
            raise ValueError("sample is a number of claims, at least 0")
        if concurrency < 1:
            raise ValueError("concurrency is at least 1")
        verifiers = [
            key if isinstance(key, CosignatureVerifier) else parse_cosignature_verifier_key(key)
            for key in witnesses
        ]
        names = len({witness.name for witness in verifiers})
        required = names if min_cosignatures is None else min_cosignatures
        if not 0 <= required <= names:
            raise ValueError(
                f"min_cosignatures is 0 to {names} (the witnesses given), not {min_cosignatures}"
            )
        self.http = RegistryHttp(registry, transport=transport, timeout=timeout, retry=retry, sleep=sleep)
        self.registry = self.http.registry
        self.files = StateDir(state_dir)
        self.report = AuditReport(registry=self.registry)
        self.sample = sample
        self.concurrency = concurrency
        self._now = now or (lambda: datetime.now(UTC))
        self._rng = rng or random_module.SystemRandom()
        self._progress = progress or (lambda stage, done, total: None)
        self.mirror = Mirror(
            self.http,
            self.files,
            self.report,
            full=full,
            witnesses=verifiers,
            min_cosignatures=required,
            now=self._now,
            progress=self._progress,
        )
        self._beyond = {"claim lookups": 0, "check answers": 0}

    @property
    def replay(self) -> Replay:
        """The registry's state as replayed from its log (after `run`)."""
        return self.mirror.replay

    @property
    def tree(self) -> Tree:
        return self.mirror.tree

    def close(self) -> None:
        self.http.close()

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
                except Stopped as stop:
                    report.discrepancies.extend(stop.found)
                    report.complete = False
                finally:
                    if self.mirror.opened:
                        report.discrepancies[:0] = self.replay.discrepancies
                        report.signatures_checked = self.replay.signatures_checked
                        report.seconds["replay"] = self.replay.seconds
        except KotowariError as exc:
            raise AuditError(str(exc)) from None
        report.requests = self.http.requests
        return report

    def _audit(self) -> None:
        report = self.report
        started = time.perf_counter()
        note, checkpoint = self.mirror.open()
        self.mirror.state = self.mirror.extend(note, checkpoint)
        report.entries = self.tree.size
        report.seconds["log"] = time.perf_counter() - started
        if self.mirror.static:  # a copy holds no claim lookups, check answers or operator records
            report.claims = len(self.mirror.replay.claims)
            report.live_only = list(LIVE_ONLY)
            stages = ", ".join(LIVE_ONLY)
            report.notes.append(f"a static copy: {stages} need the live registry and were not compared")
            return
        started = time.perf_counter()
        self._compare()
        report.seconds["compare"] = time.perf_counter() - started
        started = time.perf_counter()
        report.records_compared = compare_records(
            self.http, self.files.entries(self.mirror.state), self.tree.size, self.mirror.pin.did, report
        )
        report.seconds["records"] = time.perf_counter() - started

    # ------------------------------------------------------------------ comparing

    def _compare(self) -> None:
        report, claims = self.report, self.mirror.replay.claims
        report.claims = len(claims)
        chosen = list(claims)
        if len(chosen) > self.sample:
            chosen = sorted(self._rng.sample(chosen, self.sample), key=lambda c: claims[c][0])
            report.notes.append(f"compared a random sample of {self.sample} of the {len(claims)} claims")
        items: list[tuple[str, dict[str, Any]]] = []
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="kotowari-audit") as pool:
            for start in range(0, len(chosen), PREFETCH):
                chunk = chosen[start : start + PREFETCH]
                fetched_at = self.mirror.replay.index.position
                for offset, (claim_id, served) in enumerate(
                    zip(chunk, pool.map(self._claim, chunk), strict=True)
                ):
                    document = self._compare_claim(claim_id, served, fetched_at)
                    if document is not None:
                        items += [
                            (claim_id, item) for item in check_items(document, self.mirror.replay.index)
                        ]
                    report.claims_compared += 1
                    self._progress("claims", start + offset + 1, len(chosen))
        batches = self._batches(items)
        at = format_timestamp(self._now())
        for number, batch in enumerate(batches):
            self._check(batch, at)
            self._progress("checks", number + 1, len(batches))
        for what, count in self._beyond.items():
            if count:
                report.notes.append(
                    f"{count} {what} computed at a tree size beyond the checkpoint served "
                    f"({self.mirror.replay.index.position}) were not compared"
                )

    def _claim(self, claim_id: str) -> dict[str, Any] | None:
        try:
            return self.http.json("GET", f"/v1/claims/{claim_id}")
        except RegistryProblem as exc:
            if exc.status == 404:
                return None
            raise

    def _compare_claim(
        self, claim_id: str, served: dict[str, Any] | None, fetched_at: int
    ) -> dict[str, Any] | None:
        """Compare one claim lookup (`served`, fetched when the replay was at `fetched_at`, and
        fetched again if the log grew since); returns the logged document (as served, once it is
        proven the logged one), for its identifiers to be checked."""
        filed_at = self.mirror.replay.claims[claim_id][0]
        while True:
            index = self.mirror.replay.index
            if served is None:
                problems = [
                    f"claim {claim_id[:16]}… is log entry {filed_at}, but the registry answers 404 for it"
                ]
                size = None
            else:
                problems = compare_claim(claim_id, filed_at, served, index)
                size = served_tree_size(served)
            if (problems or (size is not None and size < index.position)) and fetched_at < index.position:
                pass  # fetched before the replay followed the log further: ask again
            elif not ((problems or (size is not None and size > index.position)) and self.mirror.catch_up()):
                break
            served, fetched_at = self._claim(claim_id), index.position
        if size is not None and size != index.position:
            if size > index.position:  # see `_check`
                self._beyond["claim lookups"] += 1
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
        budget = self.mirror.max_body - 512
        for pair in items:
            cost = len(keys.canonicalize(pair[1])) + 1
            if current and (len(current) >= self.mirror.max_items or size + cost > budget):
                batches.append(current)
                current, size = [], 0
            current.append(pair)
            size += cost
        if current:
            batches.append(current)
        return batches

    def _check(self, batch: list[tuple[str, dict[str, Any]]], at: str) -> None:
        """One `POST /v1/check`: signed by the registry, at the audited tree, as the replay decides."""
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
                answer = self.http.json("POST", "/v1/check", content=keys.canonicalize(body))
            except RegistryProblem as exc:
                report.add("answer", f"the registry refuses to check {first}: {exc}")
                return
            problem = self._answer_problem(answer, at, len(batch))
            if problem is not None:
                report.add("answer", f"a check answer about {first} {problem}")
                return
            point = answer["checkpoint"]
            size = point["tree_size"]
            grew = self.mirror.catch_up() if size > self.mirror.replay.index.position else False
            if not grew:
                break
        report.check_answers += 1
        index = self.mirror.replay.index
        if size > index.position:  # a log growing faster than we follow, or a witnessed checkpoint lagging
            self._beyond["check answers"] += 1
            return
        if size != index.position:
            report.add(
                "answer",
                f"a check answer about {first} was computed at tree size {size}, but the registry's "
                f"checkpoint has {index.position} entries",
            )
            return
        if point["root_hash"] != b64(self.mirror.tree.root(size)):
            report.add(
                "answer",
                f"a check answer about {first} names root {point['root_hash']}, not the log's at size {size}",
            )
        expected = expected_items(index, models, parse_timestamp(at))
        for (claim_id, item), served, wanted in zip(batch, answer["items"], expected, strict=True):
            difference = compare_item(served, wanted, f"{label(item)} (claim {claim_id[:16]}…)")
            if difference is not None:
                report.add("answer", difference, self.mirror.replay.claims[claim_id][0])
        report.items_checked += len(batch)

    def _answer_problem(self, answer: dict[str, Any], at: str, count: int) -> str | None:
        """Why a check answer cannot be taken as the registry's signed word on this question."""
        if answer.get("registry") != self.mirror.pin.did:
            return f"names registry {answer.get('registry')}, not {self.mirror.pin.did}"
        try:
            verify_answer(answer)
        except VerificationFailed as exc:
            return f"does not verify: {exc}"
        point = answer.get("checkpoint")
        if (
            not isinstance(point, dict)
            or point.get("origin") != self.mirror.pin.origin
            or not isinstance(point.get("tree_size"), int)
            or isinstance(point.get("tree_size"), bool)
            or not isinstance(point.get("root_hash"), str)
        ):
            return f"is not tied to a checkpoint of log {self.mirror.pin.origin}"
        if answer.get("type") != "CheckAnswer" or answer.get("at") != at:
            asked = f"type {answer.get('type')!r}, at {answer.get('at')!r}"
            return f"answers another question ({asked}; asked at {at})"
        items = answer.get("items")
        if not isinstance(items, list) or len(items) != count:
            return f"answers {len(items) if isinstance(items, list) else 'no'} items for the {count} asked"
        return None

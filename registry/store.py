"""Claims in the database: file, withdraw, fetch and check.

Every state change runs in one transaction with its transparency-log append; unique constraints
(document id, author+nonce, leaf index, one withdrawal per claim) refuse replays and races
atomically, on SQLite and PostgreSQL alike; no row locks are relied upon.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import keys
from registry.answers import AnswerItems, signed_answer
from registry.check_fast import PlannedCheck, TemplateCache, answer_all, answer_plain, plan_check
from registry.check_urls import plan_plain_body
from registry.checking import DEFAULT_MAX_ITEMS
from registry.documents import Claim, ClaimWithdrawal, InvalidDocument, format_timestamp, parse_timestamp
from registry.errors import (
    AlreadyWithdrawn,
    InvalidDocumentError,
    NotClaimant,
    NotFound,
    RegistryError,
    TooManyItems,
)
from registry.group_commit import Pending, Row
from registry.index import ClaimIndex, UnknownEmbeddingSpace
from registry.intake import Accepted, ClockWindow, parse_json
from registry.ledger import Ledger, b64, is_document_id
from registry.log import Appended, TransparencyLog
from registry.models import ClaimRecord, LogEntry, WithdrawalRecord
from registry.rows import select_rows
from registry.schemes import exact_keys

#: Log entries read per query while the index catches up with the log.
REPLAY_CHUNK = 2_000


def utcnow() -> datetime:
    return datetime.now(UTC)


class ClaimStore:
    """The registry's claim service. The clock is a parameter so tests never sleep or patch time."""

    def __init__(
        self,
        log: TransparencyLog,
        signer: keys.SigningKey,
        *,
        clock: Callable[[], datetime] = utcnow,
        window: ClockWindow | None = None,
        max_items: int = DEFAULT_MAX_ITEMS,
        index: ClaimIndex | None = None,
    ) -> None:
        self.log = log
        self.ledger = Ledger(log, signer)
        self.index = index if index is not None else ClaimIndex()  # an empty index is falsy (len 0)
        self._replay = asyncio.Lock()
        #: Claims this process just appended, by log index: the replay need not validate them again.
        self._appended: dict[int, tuple[str, Claim]] = {}
        self.signer = signer
        self.clock = clock
        self.window = window or ClockWindow()
        self.max_items = max_items
        #: Answer items of URL hit lists, kept across checks while what they depend on holds.
        self._templates = TemplateCache()

    async def file_claim(self, raw: bytes) -> dict[str, Any]:
        """Accept a signed claim; returns its id, lookup keys and log receipt.

        Concurrent filings are pooled (`registry.group_commit`): one transaction and one
        checkpoint per batch, each receipt proving its entry in that checkpoint."""
        (outcome,) = await self.file_claims([raw])
        if isinstance(outcome, RegistryError):
            raise outcome
        return outcome

    async def file_claims(self, raws: Sequence[bytes]) -> list[dict[str, Any] | RegistryError]:
        """Accept many signed claims at once: for each, its receipt (as `file_claim`) or refusal."""
        now = self.clock()
        outcomes: list[dict[str, Any] | RegistryError] = []
        pending: list[tuple[int, Pending]] = []
        for number, admitted in enumerate(
            await self.ledger.admit_many(raws, Claim, now=now, window=self.window, gate=False)
        ):
            if isinstance(admitted, RegistryError):
                outcomes.append(admitted)
                continue
            try:
                self._check_identifiers(admitted.model)
                companions = await self.ledger.companions_of(admitted, now)
            except RegistryError as exc:
                outcomes.append(exc)
                continue
            outcomes.append({})
            pending.append(
                (number, Pending(admitted, "Claim", self._claim_row(admitted, now), now, companions))
            )
        results = await self.ledger.group.submit([item for _, item in pending])
        received_at = format_timestamp(now)
        for (number, item), result in zip(pending, results, strict=True):
            if isinstance(result, RegistryError):
                outcomes[number] = result
                continue
            model = item.accepted.model
            lookup = sorted(
                {
                    key
                    for identifier in model.subject.identifiers
                    for key in exact_keys(identifier, query=False)
                }
            )
            outcomes[number] = {
                "id": item.accepted.id,
                "received_at": received_at,
                "keys": lookup,
                "log": self.ledger.receipt(result),
            }
        return outcomes

    def _claim_row(self, accepted: Accepted[Claim], now: datetime) -> Callable[[Appended], list[Row]]:
        def rows(appended: Appended) -> list[Row]:
            # Inside the transaction, before the index can be replayed: that replay pops it.
            self._appended[appended.index] = (accepted.id, accepted.model)
            # Every field, as `ClaimRecord(...)` would have them, without the instance (`registry.rows`).
            return [
                (
                    ClaimRecord,
                    {
                        "id": accepted.id,
                        "claimant": accepted.author,
                        "kind": accepted.model.subject.kind,
                        "document": accepted.canonical.decode("utf-8"),
                        "received_at": now,
                        "log_index": appended.index,
                        "withdrawn_at": None,
                        "withdrawal_id": None,
                        "withdrawal_log_index": None,
                    },
                )
            ]

        return rows

    def _check_identifiers(self, claim: Claim) -> None:
        for number, identifier in enumerate(claim.subject.identifiers):
            try:
                self.index.check_query(identifier)
            except UnknownEmbeddingSpace as exc:
                raise InvalidDocumentError(str(exc), [(f"/subject/identifiers/{number}", str(exc))]) from None

    async def withdraw_claim(self, claim_id: str, raw: bytes) -> dict[str, Any]:
        """Accept the claimant's signed withdrawal of `claim_id`."""
        now = self.clock()
        accepted = await self.ledger.admit(raw, ClaimWithdrawal, now=now, window=self.window)
        if accepted.model.claim != claim_id:
            raise InvalidDocumentError(
                f"the withdrawal names claim {accepted.model.claim}, but was sent for {claim_id}",
                [("/claim", "does not match the claim in the request path")],
            )
        record = await self._record(claim_id)
        async with self.replayed():
            acting = self.index.authority.controller(record.claimant)
        if accepted.author not in (record.claimant, acting):
            note = f" (now acting: {acting})" if acting != record.claimant else ""
            raise NotClaimant(
                f"claim {claim_id} belongs to {record.claimant}{note}; {accepted.author} may not withdraw it"
            )
        if record.withdrawn_at is not None:
            raise AlreadyWithdrawn(
                f"claim {claim_id} was withdrawn at {format_timestamp(record.withdrawn_at)}"
            )
        meanwhile = AlreadyWithdrawn(f"claim {claim_id} was withdrawn meanwhile")
        async with self.ledger.record(accepted, "ClaimWithdrawal", now, otherwise=meanwhile) as appended:
            changed = await ClaimRecord.filter(id=claim_id, withdrawn_at__isnull=True).update(
                withdrawn_at=now, withdrawal_id=accepted.id, withdrawal_log_index=appended.index
            )
            if changed != 1:
                raise meanwhile
            await WithdrawalRecord.create(
                id=accepted.id,
                claim_id=claim_id,
                document=accepted.canonical.decode("utf-8"),
                received_at=now,
                log_index=appended.index,
            )
        receipt = self.ledger.receipt(appended)
        return {"id": accepted.id, "claim": claim_id, "received_at": format_timestamp(now), "log": receipt}

    async def get_claim(self, claim_id: str) -> dict[str, Any]:
        """The signed claim exactly as logged, its status as the log replays it, and its withdrawal.

        Read from the log and the replayed index, not from the claims table (a cache)."""
        async with self.replayed() as tree_size:
            filing = self.index.filing(claim_id) if is_document_id(claim_id) else None
            authority = self.index.authority_of_claim(claim_id)
        if filing is None:
            raise NotFound(f"no claim with id {claim_id}")
        position, withdrawal = filing
        entry = await self._entry(position, claim_id)
        document = json.loads(entry.entry)
        claimant = str(document["claimant"])
        answer: dict[str, Any] = {
            "id": claim_id,
            "status": "withdrawn" if withdrawal else "active",
            "received_at": format_timestamp(entry.appended_at),
            "log_index": position,
            "document": document,
        }
        async with self.replayed():
            acting = self.index.authority.controller(claimant)
        if authority is not None:
            answer["authority"] = {"tree_size": tree_size, **authority.to_json()}
        if acting != claimant:
            answer["acting_claimant"] = acting
        if withdrawal is not None:
            withdrawn = await self._entry(*withdrawal)
            answer["withdrawal"] = {
                "id": withdrawal[1],
                "received_at": format_timestamp(withdrawn.appended_at),
                "log_index": withdrawal[0],
                "document": json.loads(withdrawn.entry),
            }
        return answer

    async def _entry(self, index: int, document_id: str) -> LogEntry:
        """Log entry `index`, which must hold `document_id` (else the stored log changed under us)."""
        entry = await LogEntry.get_or_none(index=index)
        if entry is None or entry.document_id != document_id:
            from registry.integrity import IntegrityFailure

            raise IntegrityFailure(f"log entry {index} no longer holds document {document_id}", index)
        return entry

    async def check(self, body: object) -> dict[str, Any]:
        """Decide every item against the claims in force at the log's current checkpoint; signed."""
        answer: dict[str, Any] = json.loads(await self.check_bytes(body))
        return answer

    async def check_bytes(self, body: object) -> bytes:
        """`check`'s signed answer as JSON bytes, built from one decision per distinct set of hits
        (`registry.answers`). `body` is the parsed body, or the raw one (bytes), which a body of
        plain URL items is answered from without parsing it as a whole (`registry.check_urls`)."""
        plain = plan_plain_body(body, self.max_items) if isinstance(body, bytes) else None
        if plain is None:
            planned = self._plan(parse_json(body) if isinstance(body, bytes) else body)
            request = planned.request
        else:
            request = plain.request
        now = self.clock()
        at = parse_timestamp(request.at) if request.at else now
        async with self.replayed() as tree_size:
            items = AnswerItems(
                at=at,
                purpose=request.purpose,
                territory=request.territory,
                min_authority=request.min_authority,
                disputed=set(self.index.disputed),
            )
            if plain is None:
                answer_all(self.index, planned.items, items, self._templates)
            else:
                answer_plain(self.index, plain, items, self._templates)
        root = await self.log.root(tree_size)
        envelope: dict[str, Any] = {
            "type": "CheckAnswer",
            "registry": self.signer.did,
            "checked_at": format_timestamp(now),
            "at": format_timestamp(at),
            "checkpoint": {"origin": self.log.origin, "tree_size": tree_size, "root_hash": b64(root)},
        }
        if request.purpose:
            envelope["purpose"] = request.purpose
        if request.territory:
            envelope["territory"] = request.territory
        if request.min_authority:
            envelope["min_authority"] = request.min_authority
        return signed_answer(envelope, items, self.signer, now)

    def _plan(self, body: object) -> PlannedCheck:
        """The parsed body validated (`registry.check_fast.plan_check`), every embedding in a known space."""
        if (
            isinstance(body, dict)
            and isinstance(body.get("items"), list)
            and len(body["items"]) > self.max_items
        ):
            raise TooManyItems(
                f"{len(body['items'])} items in one request; the limit is {self.max_items}",
                [("/items", f"at most {self.max_items} items")],
            )
        try:
            planned = plan_check(body)  # plain URL items in one pass (`registry.check_fast`)
        except InvalidDocument as exc:
            raise InvalidDocumentError(str(exc), exc.errors) from None
        for number, item in enumerate(planned.items):
            if type(item) is str:
                continue  # a plain URL item's value
            try:
                self.index.check_query(item)
            except UnknownEmbeddingSpace as exc:
                raise InvalidDocumentError(str(exc), [(f"/items/{number}", str(exc))]) from None
        return planned

    async def _record(self, claim_id: str) -> ClaimRecord:
        record = await ClaimRecord.get_or_none(id=claim_id) if is_document_id(claim_id) else None
        if record is None:
            raise NotFound(f"no claim with id {claim_id}")
        return record

    @asynccontextmanager
    async def replayed(self) -> AsyncIterator[int]:
        """Hold the index at the log's current size (caught up); yields that tree size."""
        async with self._replay:
            yield await self.catch_up()

    async def catch_up(self) -> int:
        """Replay log entries the index has not seen yet (filed by any worker); returns its position."""
        while True:
            rows = await select_rows(
                LogEntry,
                'SELECT "index", "entry" FROM "log_entries" WHERE "index" >= ?'
                f' ORDER BY "index" LIMIT {REPLAY_CHUNK}',
                [self.index.position],
            )
            for index, entry in rows:
                position = int(str(index))
                self.index.apply(position, bytes(entry), self._appended.pop(position, None))
            if len(rows) < REPLAY_CHUNK:
                return self.index.position

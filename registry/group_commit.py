"""Group commit: concurrent filings pooled and sequenced in batches, as Sunlight and Tessera do.

Filers do their own intake (parsing, schema, signature) concurrently, then hand the accepted
document to the pool; the ledger's gate (a retired key signs nothing) is consulted once per
batch. While one batch commits, the next one gathers; each batch is one
transaction that uses up every nonce, appends every entry to the log (`append_batch`) and writes
every row, and one checkpoint then proves all of its entries (the receipts carry inclusion
proofs in it). The first filing after a quiet spell commits alone, so latency stays low.

A batch either commits whole or not at all. Replays are found before the transaction (within
the batch and against the used nonces); should the transaction still fail on a unique constraint
(another worker used the nonce meanwhile), its members are retried one per transaction, so one
bad filing never sinks the others.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tortoise.exceptions import IntegrityError
from tortoise.models import Model
from tortoise.transactions import in_transaction

from registry.errors import NonceReused, RegistryError
from registry.intake import Accepted
from registry.log import Appended
from registry.models import UsedNonce
from registry.rows import insert_rows, select_rows

if TYPE_CHECKING:
    from registry.ledger import Companion, Ledger

#: Filings per transaction at most; more wait for the next batch.
MAX_BATCH = 1024
#: Values per `IN (…)` query (SQLite allows 999 parameters by default on old builds).
_QUERY_CHUNK = 500


#: A store row without a model instance: its model and every field's value (`registry.rows`).
Row = tuple[type[Model], Mapping[str, Any]]


@dataclass(frozen=True)
class Pending:
    """An accepted document waiting to be sequenced, and the store rows that go with its entry
    (model instances, or `Row`s: a batch's thousands of rows are cheaper without instances)."""

    accepted: Accepted[Any]
    entry_type: str
    rows: Callable[[Appended], Sequence[Model | Row]]
    now: datetime
    companions: Sequence[Companion] = ()


Outcome = Appended | RegistryError


def replayed(accepted: Accepted[Any], previous_document: str) -> NonceReused:
    same = previous_document == accepted.id
    detail = f"this document was already filed as {accepted.id}" if same else "nonce already used"
    return NonceReused(f"{detail}: sign a new document with a fresh nonce", [("/nonce", detail)])


class GroupCommit:
    """The pool in front of one ledger; `submit` returns each filing's `Appended` or refusal."""

    def __init__(self, ledger: Ledger, *, max_batch: int = MAX_BATCH) -> None:
        self.ledger = ledger
        self.max_batch = max_batch
        self._queue: list[tuple[Pending, asyncio.Future[Outcome]]] = []
        self._drainer: asyncio.Task[None] | None = None
        #: Batches committed and their sizes, for `bench/` and the operator's metrics.
        self.batches = 0
        self.sequenced = 0

    async def submit(self, items: Sequence[Pending]) -> list[Outcome]:
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in items]
        self._queue.extend(zip(items, futures, strict=True))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        return list(await asyncio.gather(*futures))

    async def _drain(self) -> None:
        while self._queue:
            batch = self._queue[: self.max_batch]
            del self._queue[: self.max_batch]
            try:
                outcomes = await self._commit([pending for pending, _ in batch])
            except Exception as exc:  # a database failure: every filing in the batch sees it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if not future.done():
                    future.set_result(outcome)

    async def _commit(self, batch: list[Pending]) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(batch)
        gate = self.ledger.gate
        refusals = await gate([p.accepted for p in batch]) if gate is not None else [None] * len(batch)
        used = await self._used_nonces(batch)
        admitted: list[int] = []
        for number, (pending, refusal) in enumerate(zip(batch, refusals, strict=True)):
            accepted = pending.accepted
            previous = used.get((accepted.author, str(accepted.model.nonce)))
            if refusal is not None or previous is not None:
                outcomes[number] = refusal if refusal is not None else replayed(accepted, str(previous))
                continue
            used[(accepted.author, str(accepted.model.nonce))] = accepted.id
            admitted.append(number)
        try:
            appended = await self._write([batch[number] for number in admitted])
        except IntegrityError:
            for number in admitted:
                outcomes[number] = await self._alone(batch[number])
        else:
            for number, where in zip(admitted, appended, strict=True):
                outcomes[number] = where
        if any(isinstance(outcome, Appended) for outcome in outcomes):
            self.batches += 1
            self.sequenced += sum(isinstance(outcome, Appended) for outcome in outcomes)
            if self.ledger.on_append is not None:
                self.ledger.on_append()
        assert all(outcome is not None for outcome in outcomes)
        return [outcome for outcome in outcomes if outcome is not None]

    async def _used_nonces(self, batch: list[Pending]) -> dict[tuple[str, str], str]:
        """(author, nonce) → document id, for the batch's nonces that are already used."""
        nonces = sorted({str(pending.accepted.model.nonce) for pending in batch})
        wanted = {(pending.accepted.author, str(pending.accepted.model.nonce)) for pending in batch}
        found: dict[tuple[str, str], str] = {}
        for begin in range(0, len(nonces), _QUERY_CHUNK):
            chunk = nonces[begin : begin + _QUERY_CHUNK]
            rows = await select_rows(
                UsedNonce,
                'SELECT "author", "nonce", "document_id" FROM "used_nonces"'
                f' WHERE "nonce" IN ({",".join("?" * len(chunk))})',
                chunk,
            )
            for author, nonce, document_id in rows:
                if (str(author), str(nonce)) in wanted:
                    found[(str(author), str(nonce))] = str(document_id)
        return found

    async def _alone(self, pending: Pending) -> Outcome:
        """One filing in its own transaction, its refusal explained (after a failed batch)."""
        try:
            (where,) = await self._write([pending])
        except IntegrityError:
            replay = await self.ledger.replay_problem(pending.accepted)
            if replay is None:
                raise
            return replay
        return where

    async def _write(self, batch: list[Pending]) -> list[Appended]:
        if not batch:
            return []
        signer = self.ledger.signer.did
        nonces: list[dict[str, str]] = []
        entries: list[tuple[str, str, bytes, datetime]] = []
        for pending in batch:
            accepted = pending.accepted
            nonces.append(
                {"author": accepted.author, "nonce": accepted.model.nonce, "document_id": accepted.id}
            )
            for kind, document_id, canonical in pending.companions:
                registry_nonce = str(json.loads(canonical)["nonce"])
                nonces.append({"author": signer, "nonce": registry_nonce, "document_id": document_id})
                entries.append((kind, document_id, canonical, pending.now))
            entries.append((pending.entry_type, accepted.id, accepted.canonical, pending.now))
        async with in_transaction():
            await insert_rows(UsedNonce, nonces)
            appended = await self.ledger.log.append_batch(entries)
            own = iter(appended)
            mine: list[Appended] = []
            for pending in batch:
                for _ in pending.companions:
                    next(own)
                mine.append(next(own))
            instances: dict[type[Model], list[Model]] = defaultdict(list)
            plain: dict[type[Model], list[Mapping[str, Any]]] = defaultdict(list)
            for pending, where in zip(batch, mine, strict=True):
                for row in pending.rows(where):
                    if isinstance(row, tuple):
                        plain[row[0]].append(row[1])
                    else:
                        instances[type(row)].append(row)
            for model, values in plain.items():
                await insert_rows(model, values)
            for model, objects in instances.items():
                await model.bulk_create(objects)
        return mine

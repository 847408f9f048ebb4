"""Recording accepted signed documents: what `ClaimStore` and `NoticeStore` share.

Every accepted document (a claim, a withdrawal, a notice, a lifecycle step, …) is recorded the same
way: its (author, nonce) is used up, it is appended to the transparency log, and the store's own
rows are written, all in one transaction; the filer gets a receipt that proves where the entry is.
A unique-constraint failure rolls everything back and is explained as a replayed nonce when that is
what it was.

>>> async with ledger.record(accepted, "Claim", now) as appended:  # doctest: +SKIP
...     await ClaimRecord.create(id=accepted.id, ..., log_index=appended.index)
>>> receipt = ledger.receipt(appended)  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

import keys
from registry.documents import SignedDocument, validate_document
from registry.errors import NonceReused, RegistryError
from registry.group_commit import GroupCommit, replayed
from registry.intake import Accepted, AuthorResolver, ClockWindow, admit_all
from registry.log import Appended, TransparencyLog
from registry.models import UsedNonce

__all__ = ["Companion", "Ledger", "b64", "is_document_id"]

T = TypeVar("T", bound=SignedDocument)
#: A registry-signed document appended just before an accepted one: (entry type, id, canonical bytes).
Companion = tuple[str, str, bytes]
#: Refusals (or None) for documents that passed intake, judged against the log in one pass.
Gate = Callable[[Sequence[Accepted[Any]]], Awaitable[list[RegistryError | None]]]
Companions = Callable[[Accepted[Any], datetime], Awaitable[Sequence[Companion]]]


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def is_document_id(value: str) -> bool:
    """Whether `value` has the form of a document id (64 lowercase hex digits), before any query."""
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)


class Ledger:
    """The transparency log as the stores write to it, and the registry key that signs receipts."""

    def __init__(self, log: TransparencyLog, signer: keys.SigningKey) -> None:
        self.log = log
        self.signer = signer
        #: Set by the application: resolves did:web authors; refuses authors whose key was replaced;
        #: gives the registry-signed records that must precede a document (the did:web document).
        self.resolver: AuthorResolver | None = None
        self.gate: Gate | None = None
        self.companions: Companions | None = None
        #: Called after each committed append (the app submits the new checkpoint to witnesses).
        self.on_append: Callable[[], None] | None = None
        #: Pools concurrent filings into one transaction and one checkpoint per batch.
        self.group = GroupCommit(self)

    async def admit(
        self,
        raw: bytes,
        model: type[T],
        *,
        now: datetime,
        window: ClockWindow,
        validate: Callable[[type[T], object], T] = validate_document,
    ) -> Accepted[T]:
        """Every intake rule (`registry.intake.admit`), then the gate (a retired key signs nothing)."""
        (outcome,) = await self.admit_many([raw], model, now=now, window=window, validate=validate)
        if isinstance(outcome, RegistryError):
            raise outcome
        return outcome

    async def admit_many(
        self,
        raws: Sequence[bytes],
        model: type[T],
        *,
        now: datetime,
        window: ClockWindow,
        validate: Callable[[type[T], object], T] = validate_document,
        gate: bool = True,
    ) -> list[Accepted[T] | RegistryError]:
        """`admit` for each of `raws`, the gate consulted once for all: each accepted or its refusal.

        `gate=False` leaves the gate to the caller (the group commit consults it once per batch)."""
        outcomes = await admit_all(
            raws, model, now=now, window=window, validate=validate, resolver=self.resolver
        )
        accepted = [outcome for outcome in outcomes if not isinstance(outcome, RegistryError)]
        if self.gate is None or not accepted or not gate:
            return outcomes
        refusals = iter(await self.gate(accepted))
        return [
            outcome if isinstance(outcome, RegistryError) else (next(refusals) or outcome)
            for outcome in outcomes
        ]

    @asynccontextmanager
    async def record(
        self, accepted: Accepted[Any], entry_type: str, now: datetime, *, otherwise: Exception | None = None
    ) -> AsyncIterator[Appended]:
        """A transaction that uses up the document's nonce and appends it to the log as `entry_type`;
        the body writes the store's rows with the `Appended` entry.

        On an `IntegrityError` (the transaction rolled back), raises `NonceReused` when the
        (author, nonce) was already used, else `otherwise` (or the `IntegrityError` itself).
        Anything else the body raises rolls back and passes through.
        """
        companions = await self.companions_of(accepted, now)
        try:
            async with in_transaction():
                await UsedNonce.create(
                    author=accepted.author, nonce=accepted.model.nonce, document_id=accepted.id
                )
                for kind, document_id, canonical in companions:
                    nonce = str(json.loads(canonical)["nonce"])
                    await UsedNonce.create(author=self.signer.did, nonce=nonce, document_id=document_id)
                    await self.log.append(kind, document_id, canonical, now)
                yield await self.log.append(entry_type, accepted.id, accepted.canonical, now)
            if self.on_append is not None:
                self.on_append()
        except IntegrityError:
            replay = await self.replay_problem(accepted)
            if replay is not None:
                raise replay from None
            if otherwise is None:
                raise
            raise otherwise from None

    async def companions_of(self, accepted: Accepted[Any], now: datetime) -> Sequence[Companion]:
        """The registry-signed records that must precede `accepted` in the log (none for did:key)."""
        return await self.companions(accepted, now) if self.companions is not None else ()

    async def replay_problem(self, accepted: Accepted[Any]) -> NonceReused | None:
        """After an IntegrityError (its transaction rolled back): was it this (author, nonce)?"""
        previous = await UsedNonce.get_or_none(author=accepted.author, nonce=accepted.model.nonce)
        return None if previous is None else replayed(accepted, previous.document_id)

    def receipt(self, appended: Appended) -> dict[str, Any]:
        """Where the entry is, proven: index, inclusion proof and a signed checkpoint that includes it."""
        return {
            "registry": self.signer.did,
            "origin": self.log.origin,
            "index": appended.index,
            "tree_size": appended.tree_size,
            "leaf_hash": b64(appended.leaf_hash),
            "inclusion_proof": [b64(node) for node in appended.inclusion_proof],
            "checkpoint": self.log.checkpoint_note(appended.tree_size, appended.root),
        }

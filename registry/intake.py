"""Intake rules every signed document passes before the registry stores it.

Pure: no database, the clock is a parameter. Order matters for the answer a filer sees: first
"is this strict JSON", then "does it fit the schema", then "is the proof by the author and
valid", and only then "is it fresh" (so a tampered document is reported as tampered).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

import keys
from registry.documents import InvalidDocument, SignedDocument, parse_timestamp, validate_document
from registry.errors import (
    DocumentTooLarge,
    InvalidDocumentError,
    InvalidProofError,
    MalformedJSON,
    OutsideClockWindow,
    RegistryError,
    WrongSigner,
)

T = TypeVar("T", bound=SignedDocument)

#: A document is one log entry, and C2SP entry bundles length-prefix entries with a uint16.
MAX_DOCUMENT_BYTES = 0xFFFF


@dataclass(frozen=True)
class ClockWindow:
    """How far a document's `created` may lie from the registry's clock."""

    max_age: timedelta = timedelta(hours=24)
    max_skew: timedelta = timedelta(minutes=5)

    def check(self, created: datetime, now: datetime) -> None:
        if created > now + self.max_skew:
            raise OutsideClockWindow(
                f"created {created.isoformat()} is more than {self.max_skew} ahead of the registry clock",
                [("/created", "in the future")],
            )
        if created < now - self.max_age:
            raise OutsideClockWindow(
                f"created {created.isoformat()} is older than {self.max_age}: sign the document again",
                [("/created", "too old")],
            )


class ResolvedAuthor(Protocol):
    """A resolved did:web document: where it came from, its bytes' hash, and its assertion keys."""

    @property
    def did(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def raw(self) -> bytes: ...
    @property
    def sha256(self) -> str: ...
    @property
    def resolved_at(self) -> datetime: ...

    def key_for(self, verification_method: str) -> keys.VerifyingKey: ...


class AuthorResolver(Protocol):
    """Resolves DIDs that cannot be resolved offline (did:web), raising ValueError saying why not."""

    async def resolve(self, did: str) -> ResolvedAuthor: ...


@dataclass(frozen=True)
class Accepted(Generic[T]):
    """A document that passed intake: the model, the parsed JSON, its canonical bytes and id, and for a
    did:web author the DID document its proof was verified against."""

    model: T
    document: dict[str, Any]
    canonical: bytes
    id: str
    author: str
    resolved: ResolvedAuthor | None = None


def parse_json(raw: bytes) -> Any:
    """Strict JSON, or `MalformedJSON` naming where it failed."""
    try:
        return keys.parse_strict_json(raw)
    except keys.InvalidJSON as exc:
        raise MalformedJSON(str(exc), [(exc.path, str(exc))]) from None


def accept(
    raw: bytes,
    model: type[T],
    *,
    now: datetime,
    window: ClockWindow,
    validate: Callable[[type[T], object], T] = validate_document,
) -> Accepted[T]:
    """Run every intake rule over `raw`; raise the matching `RegistryError` or return it accepted.

    `validate` checks the schema; document families with their own type registry (notices) pass theirs.
    did:key authors only: `admit` also resolves did:web authors.
    """
    obj, doc = _parse(raw, model, validate)
    return _verified(obj, doc, _did_key_signer(doc), None, now=now, window=window)


async def admit(
    raw: bytes,
    model: type[T],
    *,
    now: datetime,
    window: ClockWindow,
    validate: Callable[[type[T], object], T] = validate_document,
    resolver: AuthorResolver | None = None,
) -> Accepted[T]:
    """`accept`, with did:web authors resolved through `resolver` (refused without one)."""
    obj, doc = _parse(raw, model, validate)
    author = doc.author
    if not author.startswith("did:web:"):
        return _verified(obj, doc, _did_key_signer(doc), None, now=now, window=window)
    pointer = f"/{doc.AUTHOR_FIELD}"
    if resolver is None:
        raise InvalidDocumentError("this registry does not resolve did:web authors", [(pointer, "did:web")])
    method = doc.proof.verificationMethod
    if method.split("#", 1)[0] != author:
        raise WrongSigner(
            f"the proof names {method}, which is not a verification method of the author {author}",
            [("/proof/verificationMethod", "not the author's key")],
        )
    try:
        resolved = await resolver.resolve(author)
    except ValueError as exc:
        raise InvalidDocumentError(f"cannot resolve {author}: {exc}", [(pointer, str(exc))]) from None
    try:
        key = resolved.key_for(method)
    except ValueError as exc:
        raise WrongSigner(str(exc), [("/proof/verificationMethod", str(exc))]) from None
    return _verified(obj, doc, key, resolved, now=now, window=window)


#: Documents below which a bulk is checked on the caller's thread (a thread hop costs more).
THREADED_FROM = 16


async def admit_all(
    raws: Sequence[bytes],
    model: type[T],
    *,
    now: datetime,
    window: ClockWindow,
    validate: Callable[[type[T], object], T] = validate_document,
    resolver: AuthorResolver | None = None,
    threads: int = 2,
) -> list[Accepted[T] | RegistryError]:
    """`admit` for each of `raws`: each accepted, or its refusal.

    A bulk is checked in `threads` worker threads, each a share of the documents: Ed25519
    verification releases the GIL, so one thread's signature checks overlap the other's parsing
    and the event loop goes on serving. did:web authors are resolved afterwards, on the loop.
    """
    if len(raws) < THREADED_FROM or threads < 2:
        shares = [_accept_share(raws, model, now, window, validate)]
    else:
        size = -(-len(raws) // threads)
        shares = await asyncio.gather(
            *(
                asyncio.to_thread(_accept_share, raws[start : start + size], model, now, window, validate)
                for start in range(0, len(raws), size)
            )
        )
    outcomes = [outcome for share in shares for outcome in share]
    for number, outcome in enumerate(outcomes):
        if outcome is None:  # a did:web author: resolved here, on the loop
            try:
                outcomes[number] = await admit(
                    raws[number], model, now=now, window=window, validate=validate, resolver=resolver
                )
            except RegistryError as exc:
                outcomes[number] = exc
    return [outcome for outcome in outcomes if outcome is not None]


def _accept_share(
    raws: Sequence[bytes],
    model: type[T],
    now: datetime,
    window: ClockWindow,
    validate: Callable[[type[T], object], T],
) -> list[Accepted[T] | RegistryError | None]:
    """`accept` for each of `raws` that a did:key author signed; None for a did:web author."""
    outcomes: list[Accepted[T] | RegistryError | None] = []
    for raw in raws:
        try:
            obj, doc = _parse(raw, model, validate)
            if doc.author.startswith("did:web:"):
                outcomes.append(None)
                continue
            outcomes.append(_verified(obj, doc, _did_key_signer(doc), None, now=now, window=window))
        except RegistryError as exc:
            outcomes.append(exc)
    return outcomes


def _parse(raw: bytes, model: type[T], validate: Callable[[type[T], object], T]) -> tuple[Any, T]:
    obj = parse_json(raw)
    try:
        return obj, validate(model, obj)
    except InvalidDocument as exc:
        raise InvalidDocumentError(str(exc), exc.errors) from None


#: did:key resolution (base58 and multicodec), cached: authors file many documents, agencies
#: thousands in one bulk, and each document names its key twice (author, verificationMethod).
#: Only keys are cached; a DID or method that does not resolve raises anew each time.
_resolve_did_key = functools.lru_cache(maxsize=4096)(keys.resolve_did_key)
_key_for_method = functools.lru_cache(maxsize=4096)(keys.key_for_verification_method)


def _did_key_signer(doc: SignedDocument) -> keys.VerifyingKey:
    """The author's did:key, which must be the key the proof names."""
    author = doc.author
    try:
        author_key = _resolve_did_key(author)
    except keys.KeysError as exc:
        raise InvalidDocumentError(
            f"unusable author DID: {exc}", [(f"/{doc.AUTHOR_FIELD}", str(exc))]
        ) from None
    try:
        signer = _key_for_method(doc.proof.verificationMethod)
    except keys.KeysError as exc:
        raise InvalidProofError(
            f"unusable verificationMethod: {exc}", [("/proof/verificationMethod", str(exc))]
        ) from None
    if signer != author_key:
        raise WrongSigner(
            f"the proof is by {signer.did}, not by the author {author}",
            [("/proof/verificationMethod", "not the author's key")],
        )
    return author_key


def _verified(
    obj: Any,
    doc: T,
    author_key: keys.VerifyingKey,
    resolved: ResolvedAuthor | None,
    *,
    now: datetime,
    window: ClockWindow,
) -> Accepted[T]:
    author = doc.author
    try:
        # The canonical bytes come with the check: the document is canonicalized once, not twice.
        _, canonical = keys.verify_canonical_document(obj, key=author_key)
    except keys.KeysError as exc:
        raise InvalidProofError(f"the proof does not verify: {exc}", [("/proof", str(exc))]) from None
    window.check(parse_timestamp(doc.created), now)
    if len(canonical) > MAX_DOCUMENT_BYTES:
        raise DocumentTooLarge(
            f"the document is {len(canonical)} bytes in canonical form; one log entry holds at most "
            f"{MAX_DOCUMENT_BYTES}: split it into several documents"
        )
    return Accepted(
        model=doc,
        document=obj,
        canonical=canonical,
        id=hashlib.sha256(canonical).hexdigest(),  # keys.document_id, from the bytes at hand
        author=author,
        resolved=resolved,
    )

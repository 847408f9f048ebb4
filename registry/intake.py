"""Intake rules every signed document passes before the registry stores it.

Pure: no database, the clock is a parameter. Order matters for the answer a filer sees: first
"is this strict JSON", then "does it fit the schema", then "is the proof by the author and
valid", and only then "is it fresh" (so a tampered document is reported as tampered).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

import keys
from registry.documents import InvalidDocument, SignedDocument, parse_timestamp, validate_document
from registry.errors import (
    DocumentTooLarge,
    InvalidDocumentError,
    InvalidProofError,
    MalformedJSON,
    OutsideClockWindow,
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


@dataclass(frozen=True)
class Accepted(Generic[T]):
    """A document that passed intake: the model, the parsed JSON, its canonical bytes and id."""

    model: T
    document: dict[str, Any]
    canonical: bytes
    id: str
    author: str


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
    """
    obj = parse_json(raw)
    try:
        doc = validate(model, obj)
    except InvalidDocument as exc:
        raise InvalidDocumentError(str(exc), exc.errors) from None
    author = doc.author
    pointer = f"/{doc.AUTHOR_FIELD}"
    try:
        author_key = keys.resolve_did_key(author)
    except keys.KeysError as exc:
        raise InvalidDocumentError(f"unusable author DID: {exc}", [(pointer, str(exc))]) from None
    try:
        signer = keys.key_for_verification_method(doc.proof.verificationMethod)
    except keys.KeysError as exc:
        raise InvalidProofError(
            f"unusable verificationMethod: {exc}", [("/proof/verificationMethod", str(exc))]
        ) from None
    if signer != author_key:
        raise WrongSigner(
            f"the proof is by {signer.did}, not by the author {author}",
            [("/proof/verificationMethod", "not the author's key")],
        )
    try:
        keys.verify_document(obj, key=author_key)
    except keys.KeysError as exc:
        raise InvalidProofError(f"the proof does not verify: {exc}", [("/proof", str(exc))]) from None
    window.check(parse_timestamp(doc.created), now)
    canonical = keys.canonicalize(obj)
    if len(canonical) > MAX_DOCUMENT_BYTES:
        raise DocumentTooLarge(
            f"the document is {len(canonical)} bytes in canonical form; one log entry holds at most "
            f"{MAX_DOCUMENT_BYTES}: split it into several documents"
        )
    return Accepted(model=doc, document=obj, canonical=canonical, id=keys.document_id(obj), author=author)

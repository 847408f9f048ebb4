"""Is a log entry a document its author signed? The check both the registry (at start) and an
independent auditor (`kotowari log audit`) run over every entry, so the two cannot disagree.

Pure: strict JSON, canonical form, the document types the log holds, and the author's key —
`did:key` resolved offline, `did:web` from the `DidDocumentRecord` entries earlier in the same
log, registry-signed records (domain verifications, their lapses, DID document records) by the
registry's own DID. Nothing here touches a database or the network.

>>> registry = keys.SigningKey.generate()
>>> record = keys.sign_document(
...     {"type": "DidDocumentRecord", "registry": registry.did, "did": "did:web:a.example",
...      "url": "https://a.example/.well-known/did.json", "sha256": hashlib.sha256(b"{}").hexdigest(),
...      "document": "{}", "resolved_at": "2026-01-01T00:00:00Z", "created": "2026-01-01T00:00:00Z",
...      "nonce": "n" * 22},
...     registry,
...     created=datetime(2026, 1, 1, tzinfo=UTC),
... )
>>> did_documents: dict[str, bytes] = {}
>>> check_entry_signature(0, keys.canonicalize(record), did_documents, registry.did).kind
'DidDocumentRecord'
>>> did_documents
{'did:web:a.example': b'{}'}
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime  # noqa: F401 - used by the doctest
from typing import Any, Final

import keys
from registry.accountability.documents import ACCOUNTABILITY_DOCUMENT_TYPES, REGISTRY_SIGNED_TYPES
from registry.authority.didweb import DidResolutionError, parse_did_document
from registry.authority.documents import AUTHORITY_DOCUMENT_TYPES
from registry.documents import DOCUMENT_TYPES, SignedDocument
from registry.notices.documents import NOTICE_DOCUMENT_TYPES

__all__ = [
    "ENTRY_TYPES",
    "REGISTRY_SIGNED",
    "CheckedEntry",
    "EntryRefused",
    "author_key",
    "check_entry_signature",
]

ENTRY_TYPES: Final[Mapping[str, type[SignedDocument]]] = {
    **DOCUMENT_TYPES,
    **NOTICE_DOCUMENT_TYPES,
    **AUTHORITY_DOCUMENT_TYPES,
    **ACCOUNTABILITY_DOCUMENT_TYPES,
}
"""Every document type a log entry may hold, by its `type`."""

REGISTRY_SIGNED: Final = frozenset(
    {"DomainVerification", "DomainVerificationLapse", "DidDocumentRecord", *REGISTRY_SIGNED_TYPES}
)
"""What the registry signs itself: it must be the registry's DID that signed them, or anyone could
log a DID document (and so a key) for a did:web author."""


class EntryRefused(ValueError):
    """A log entry is not a well-formed document signed by its author; `detail` says why, `index`
    which entry."""

    def __init__(self, detail: str, index: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.index = index


@dataclass(frozen=True)
class CheckedEntry:
    """An entry that passed: its index, document id (SHA-256 of the entry), type, author and the
    parsed document."""

    index: int
    id: str
    kind: str
    author: str
    document: dict[str, Any]


def check_entry_signature(
    index: int,
    entry: bytes,
    did_documents: MutableMapping[str, bytes],
    registry_did: str,
    *,
    kind: str | None = None,
    verify: bool = True,
) -> CheckedEntry:
    """Check log entry `index`; raises `EntryRefused` naming what is wrong.

    The entry must be strict JSON, in RFC 8785 canonical form (so its id, the SHA-256 of the entry,
    is the SHA-256 of the document's canonical form), of a known type (`kind`, when the caller
    stored one beside the entry, must be that type) and signed by its author's key.
    `did_documents` maps a did:web DID to the bytes of its latest logged DID document; a
    `DidDocumentRecord` entry updates it, so feed every entry in log order. Registry-signed types
    must be authored by `registry_did`, and a DID document record's `sha256` must be that of the
    document it holds.

    `verify=False` is for entries verified before whose bytes are proven unchanged since (they hash
    to a signed root checked since): they are read fast (no strict parse, no canonical form, no
    signature), but still recorded, typed and held to the two cheap rules above.
    """
    try:
        document = keys.parse_strict_json(entry) if verify else json.loads(entry)
    except (keys.InvalidJSON, ValueError) as exc:
        raise EntryRefused(f"log entry {index} is not strict JSON: {exc}", index) from None
    found = document.get("type") if isinstance(document, dict) else None
    expected = found if kind is None else kind
    if not isinstance(document, dict) or found != expected or expected not in ENTRY_TYPES:
        what = f"a {kind} document" if kind is not None else "a document of a known type"
        raise EntryRefused(f"log entry {index} is not {what}", index)
    kind = str(found)
    if verify and keys.canonicalize(document) != entry:
        raise EntryRefused(f"log entry {index} is not in canonical form", index)
    author = str(document.get(ENTRY_TYPES[kind].AUTHOR_FIELD, ""))
    if kind in REGISTRY_SIGNED and author != registry_did:
        raise EntryRefused(
            f"log entry {index}: a {kind} is signed by the registry, but this one names {author!r}", index
        )
    if verify:
        key = author_key(index, author, document, did_documents)
        try:
            keys.verify_document(document, key=key)
        except keys.KeysError as exc:
            raise EntryRefused(
                f"log entry {index}: the {kind}'s signature does not verify: {exc}", index
            ) from None
    if kind == "DidDocumentRecord":
        raw = str(document.get("document", "")).encode()
        if hashlib.sha256(raw).hexdigest() != document.get("sha256"):
            raise EntryRefused(
                f"log entry {index}: the DID document record's sha256 is not that of its document", index
            )
        did_documents[str(document.get("did", ""))] = raw
    return CheckedEntry(index, hashlib.sha256(entry).hexdigest(), kind, author, document)


@functools.lru_cache(maxsize=4096)
def _did_key(did: str) -> keys.VerifyingKey:
    """did:key resolution (base58), cached: authors file many documents, and a log replays them all."""
    return keys.resolve_did_key(did)


def author_key(
    index: int, author: str, document: Mapping[str, Any], did_documents: Mapping[str, bytes]
) -> keys.VerifyingKey:
    """The key `document`'s proof must verify under: the did:key `author`'s own, or for a did:web
    author the method its proof names in the DID document logged for it (`did_documents`)."""
    proof = document.get("proof")
    method = str(proof.get("verificationMethod", "")) if isinstance(proof, Mapping) else ""
    if author.startswith("did:web:"):
        raw = did_documents.get(author)
        if raw is None:
            raise EntryRefused(f"log entry {index}: no DID document of {author} precedes it", index)
        try:
            found = parse_did_document(author, raw).get(method)
        except DidResolutionError as exc:
            raise EntryRefused(
                f"log entry {index}: the logged DID document of {author}: {exc}", index
            ) from None
        if found is None:
            raise EntryRefused(f"log entry {index}: {method} is not in the logged DID document", index)
        return found
    try:
        return _did_key(author)
    except keys.KeysError as exc:
        raise EntryRefused(f"log entry {index}: unusable author {author!r}: {exc}", index) from None

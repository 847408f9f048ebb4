"""The signed documents behind authority and key lifecycles, as pydantic models.

People and organisations sign attestations, mandates, revocations, rotations and recoveries; the
registry signs what it checked itself (domain verifications and their lapses) and the did:web
documents it resolved, so an audit can re-verify every proof from the log alone. Each is one log
entry; revocations and lapses count from their log index on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Final, Literal, TypeVar

from pydantic import Field, model_validator

from registry.documents import (
    SUBJECT_KINDS,
    Did,
    DocId,
    SignedDocument,
    SubjectKind,
    Text,
    Timestamp,
    _Strict,
    check_window,
    format_timestamp,
    unsigned_document,
    validate_document,
)
from registry.schemes import Identifier
from registry.vocabulary import Use

Method = Literal["did-web", "well-known", "dns-txt"]
Host = Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[a-z0-9.-]+$")]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
Short = Annotated[str, Field(min_length=1, max_length=500)]

T = TypeVar("T", bound=SignedDocument)


class _Windowed(SignedDocument):
    valid_from: Timestamp | None = None
    valid_until: Timestamp | None = None

    @model_validator(mode="after")
    def _window_is_ordered(self) -> _Windowed:
        check_window(self.valid_from, self.valid_until)
        return self


class Attestation(_Windowed):
    """An organisation vouches for a DID: "this is the voice actor 山寺宏一, ISNI …" (`identity`,
    naming the identifiers it vouches for) or "this DID is our member" (`member`). It counts only
    while the issuer holds a domain verification."""

    AUTHOR_FIELD = "issuer"

    type: Literal["Attestation"]
    issuer: Did
    subject: Did
    statement: Literal["identity", "member"]
    name: Short | None = None
    identifiers: Annotated[list[Identifier], Field(min_length=1, max_length=100)] | None = None

    @model_validator(mode="after")
    def _no_urls(self) -> Attestation:
        if self.subject == self.issuer:
            raise ValueError("an organisation cannot attest itself: verify its domain instead")
        if any(identifier.scheme == "url" for identifier in self.identifiers or ()):
            raise ValueError("URLs are not attested: their owner verifies the domain")
        return self


class AttestationRevocation(SignedDocument):
    """The issuer withdraws an attestation; it stops counting from this entry's log index on."""

    AUTHOR_FIELD = "issuer"

    type: Literal["AttestationRevocation"]
    issuer: Did
    attestation: DocId
    reason: Text | None = None


class MandateScope(_Strict):
    """What an agent may claim for the principal: kinds, uses and subjects (None: any)."""

    kinds: Annotated[list[SubjectKind], Field(min_length=1, max_length=3)] | None = None
    uses: Annotated[list[Use], Field(min_length=1)] | None = None
    identifiers: Annotated[list[Identifier], Field(min_length=1, max_length=1000)] | None = None


class Mandate(_Windowed):
    """The principal authorises an agent (an agency) to file claims for it, within a scope."""

    AUTHOR_FIELD = "principal"

    type: Literal["Mandate"]
    principal: Did
    agent: Did
    scope: MandateScope
    principal_name: Short | None = None

    @model_validator(mode="after")
    def _two_parties(self) -> Mandate:
        if self.agent == self.principal:
            raise ValueError("a mandate names another DID as agent")
        return self


class MandateRevocation(SignedDocument):
    """The principal revokes a mandate; claims under it are agent-asserted from this entry on."""

    AUTHOR_FIELD = "principal"

    type: Literal["MandateRevocation"]
    principal: Did
    mandate: DocId
    reason: Text | None = None


class DomainVerification(SignedDocument):
    """Registry-signed: the registry itself checked that `subject` controls `host` (or, with scope
    `domain`, the registrable domain `host` and every host below it), by `method`, fetching `url`."""

    AUTHOR_FIELD = "registry"

    type: Literal["DomainVerification"]
    registry: Did
    subject: Did
    host: Host
    scope: Literal["host", "domain"]
    method: Method
    url: Annotated[str, Field(min_length=1, max_length=2048)]
    sha256: Sha256Hex
    checked_at: Timestamp


class DomainVerificationLapse(SignedDocument):
    """Registry-signed: a re-check of a verification failed; it stops counting from here on."""

    AUTHOR_FIELD = "registry"

    type: Literal["DomainVerificationLapse"]
    registry: Did
    verification: DocId
    subject: Did
    host: Host
    reason: Text
    checked_at: Timestamp


class DidDocumentRecord(SignedDocument):
    """Registry-signed: the did:web document the registry resolved and verified proofs against,
    byte for byte (`document` is its UTF-8 text, `sha256` that of its bytes)."""

    AUTHOR_FIELD = "registry"

    type: Literal["DidDocumentRecord"]
    registry: Did
    did: Did
    url: Annotated[str, Field(min_length=1, max_length=2048)]
    sha256: Sha256Hex
    document: Annotated[str, Field(min_length=2, max_length=32 * 1024)]
    resolved_at: Timestamp


class KeyRotation(SignedDocument):
    """The old key names its successor: the successor acts for everything the old key filed, and the
    old key may file nothing more."""

    AUTHOR_FIELD = "did"

    type: Literal["KeyRotation"]
    did: Did
    successor: Did
    reason: Text | None = None

    @model_validator(mode="after")
    def _another_key(self) -> KeyRotation:
        if self.successor == self.did:
            raise ValueError("the successor must be another DID")
        return self


class RecoveryKeys(SignedDocument):
    """Named in advance: keys that may recover this DID (an agency, a second device), and how long the
    public waiting period lasts, during which this DID can veto a recovery."""

    AUTHOR_FIELD = "did"

    type: Literal["RecoveryKeys"]
    did: Did
    recovery_keys: Annotated[list[Did], Field(min_length=1, max_length=5)]
    waiting_period_days: Annotated[int, Field(ge=1, le=90)] = 7

    @model_validator(mode="after")
    def _others(self) -> RecoveryKeys:
        if self.did in self.recovery_keys:
            raise ValueError("a DID cannot be its own recovery key")
        if len(set(self.recovery_keys)) != len(self.recovery_keys):
            raise ValueError("recovery keys are listed once each")
        return self


class RecoveryRequest(SignedDocument):
    """A recovery key asks to move `did` to `successor`; opens the waiting period."""

    AUTHOR_FIELD = "by"

    type: Literal["RecoveryRequest"]
    by: Did
    did: Did
    successor: Did

    @model_validator(mode="after")
    def _three_parties(self) -> RecoveryRequest:
        if self.successor == self.did:
            raise ValueError("the successor must be another DID")
        return self


class RecoveryVeto(SignedDocument):
    """The DID under recovery refuses it (its key was not lost after all)."""

    AUTHOR_FIELD = "did"

    type: Literal["RecoveryVeto"]
    did: Did
    request: DocId


class RecoveryCompletion(SignedDocument):
    """After the waiting period, the successor (or the requesting recovery key) completes it."""

    AUTHOR_FIELD = "by"

    type: Literal["RecoveryCompletion"]
    by: Did
    request: DocId


AUTHORITY_DOCUMENT_TYPES: Final[Mapping[str, type[SignedDocument]]] = {
    model.__name__: model
    for model in (
        Attestation,
        AttestationRevocation,
        Mandate,
        MandateRevocation,
        DomainVerification,
        DomainVerificationLapse,
        DidDocumentRecord,
        KeyRotation,
        RecoveryKeys,
        RecoveryRequest,
        RecoveryVeto,
        RecoveryCompletion,
    )
}
#: Documents people file over `POST /v1/authority` (the registry signs the others itself).
FILED_TYPES: Final = frozenset(AUTHORITY_DOCUMENT_TYPES) - {
    "DomainVerification",
    "DomainVerificationLapse",
    "DidDocumentRecord",
}


def validate_authority_document(model: type[T], obj: object) -> T:
    """`registry.documents.validate_document` for the authority document types."""
    return validate_document(model, obj, types=AUTHORITY_DOCUMENT_TYPES)


def model_of(obj: object) -> type[SignedDocument] | None:
    """The model for a parsed document's `type`, if it is an authority document."""
    kind = obj.get("type") if isinstance(obj, dict) else None
    return AUTHORITY_DOCUMENT_TYPES.get(kind) if isinstance(kind, str) else None


def new_attestation(
    issuer: str,
    subject: str,
    statement: str,
    *,
    created: datetime,
    name: str | None = None,
    identifiers: Sequence[Mapping[str, Any]] | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> dict[str, Any]:
    """An unsigned attestation; sign it with `keys.sign_document`."""
    return unsigned_document(
        {"type": "Attestation", "issuer": issuer, "subject": subject, "statement": statement},
        created=created,
        optional={
            "name": name,
            "identifiers": [dict(i) for i in identifiers] if identifiers else None,
            **_window(valid_from, valid_until),
        },
    )


def new_mandate(
    principal: str,
    agent: str,
    *,
    created: datetime,
    kinds: list[str] | None = None,
    uses: list[str] | None = None,
    identifiers: Sequence[Mapping[str, Any]] | None = None,
    principal_name: str | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> dict[str, Any]:
    """An unsigned mandate from `principal` to `agent`; sign it with the principal's key."""
    scope: dict[str, Any] = {}
    if kinds:
        scope["kinds"] = [kind for kind in SUBJECT_KINDS if kind in kinds]
    if uses:
        scope["uses"] = list(uses)
    if identifiers:
        scope["identifiers"] = [dict(i) for i in identifiers]
    return unsigned_document(
        {"type": "Mandate", "principal": principal, "agent": agent, "scope": scope},
        created=created,
        optional={"principal_name": principal_name, **_window(valid_from, valid_until)},
    )


def new_revocation(
    kind: str, author: str, target: str, *, created: datetime, reason: str | None = None
) -> dict[str, Any]:
    """An unsigned `MandateRevocation` or `AttestationRevocation` of the document `target`."""
    if kind == "MandateRevocation":
        fields = {"type": kind, "principal": author, "mandate": target}
    elif kind == "AttestationRevocation":
        fields = {"type": kind, "issuer": author, "attestation": target}
    else:
        raise ValueError(f"not a revocation type: {kind}")
    return unsigned_document(fields, created=created, optional={"reason": reason})


def new_rotation(did: str, successor: str, *, created: datetime, reason: str | None = None) -> dict[str, Any]:
    """An unsigned key rotation; sign it with the old key."""
    return unsigned_document(
        {"type": "KeyRotation", "did": did, "successor": successor},
        created=created,
        optional={"reason": reason},
    )


def new_recovery_keys(
    did: str, recovery_keys: list[str], *, created: datetime, waiting_period_days: int = 7
) -> dict[str, Any]:
    """An unsigned designation of recovery keys; sign it with the key it protects."""
    return unsigned_document(
        {
            "type": "RecoveryKeys",
            "did": did,
            "recovery_keys": list(recovery_keys),
            "waiting_period_days": waiting_period_days,
        },
        created=created,
    )


def new_recovery_step(kind: str, author: str, *, created: datetime, **fields: str) -> dict[str, Any]:
    """An unsigned `RecoveryRequest` (did, successor), `RecoveryVeto` or `RecoveryCompletion` (request)."""
    field = {"RecoveryRequest": "by", "RecoveryVeto": "did", "RecoveryCompletion": "by"}.get(kind)
    if field is None:
        raise ValueError(f"not a recovery step: {kind}")
    return unsigned_document({"type": kind, field: author, **fields}, created=created)


def _window(valid_from: datetime | None, valid_until: datetime | None) -> dict[str, str | None]:
    return {
        "valid_from": format_timestamp(valid_from) if valid_from else None,
        "valid_until": format_timestamp(valid_until) if valid_until else None,
    }

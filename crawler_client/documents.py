"""Build and sign every kind of Kotowari document: the public SDK API for writing to the registry.

One builder per document type returns the unsigned document; `sign(document, key)` checks it as the
registry would and signs it (W3C Data Integrity, eddsa-jcs-2022); then file it with the `Client`
method for its endpoint. `created` defaults to now (UTC) and `nonce` to a fresh random one.

>>> import keys
>>> from crawler_client import documents
>>> agency = keys.SigningKey.generate()
>>> claim = documents.new_claim(agency.did, "voice", [("url", "https://voices.example.com/ayaka/"),
...                             ("name", "佐藤彩花")], {"train-ai": "n", "generate": "n"},
...                             on_behalf_of={"principal": "佐藤彩花", "authority": "Management agreement"})
>>> signed = documents.sign(claim, agency)
>>> documents.verify(signed).verification_method.startswith(agency.did)
True
>>> withdrawal = documents.sign(documents.new_withdrawal(agency.did, documents.document_id(signed)), agency)

Builders, and what to file each document with:
- `new_claim`, `new_withdrawal`: `Client.file_claim` (or `file_claims`, many at once), `withdraw_claim`.
- `new_notice`, `new_response`, `new_dispute`, `new_registration`: the notice endpoints (README).
- `new_attestation`, `new_mandate`, `new_revocation`, `new_rotation`, `new_recovery_keys`,
  `new_recovery_step`: `Client.file_authority`.
- `new_erasure`: `POST /v1/notices/{id}/erasure` (README, personal data).

Notices, responses and operator registrations may carry personal data (names, addresses, phone
numbers, signatures). The log is public and permanent, so `sign` splits those fields out before it
signs: it then returns ``{"document": <the signed public document>, "personal": <the part beside
it>}``, which is the body to send; for every other document it returns the signed document itself.

Names are imported on first use: importing this module costs nothing until a builder is called.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import keys
    from registry.documents import InvalidDocument as InvalidDocument

    # The builders of registry.documents, registry.notices.documents, registry.authority.documents
    # and registry.privacy.documents, with `created` optional (default: now).
    new_claim: Callable[..., dict[str, Any]]
    new_withdrawal: Callable[..., dict[str, Any]]
    new_notice: Callable[..., dict[str, Any]]
    new_response: Callable[..., dict[str, Any]]
    new_dispute: Callable[..., dict[str, Any]]
    new_registration: Callable[..., dict[str, Any]]
    new_attestation: Callable[..., dict[str, Any]]
    new_mandate: Callable[..., dict[str, Any]]
    new_revocation: Callable[..., dict[str, Any]]
    new_rotation: Callable[..., dict[str, Any]]
    new_recovery_keys: Callable[..., dict[str, Any]]
    new_recovery_step: Callable[..., dict[str, Any]]
    new_erasure: Callable[..., dict[str, Any]]

__all__ = [
    "DOCUMENT_TYPES",
    "InvalidDocument",
    "document_id",
    "new_attestation",
    "new_claim",
    "new_dispute",
    "new_erasure",
    "new_mandate",
    "new_notice",
    "new_recovery_keys",
    "new_recovery_step",
    "new_registration",
    "new_response",
    "new_revocation",
    "new_rotation",
    "new_withdrawal",
    "sign",
    "validate",
    "verify",
]

_BUILDERS: Mapping[str, str] = {
    "new_claim": "registry.documents",
    "new_withdrawal": "registry.documents",
    "new_notice": "registry.notices.documents",
    "new_response": "registry.notices.documents",
    "new_dispute": "registry.notices.documents",
    "new_registration": "registry.notices.documents",
    "new_attestation": "registry.authority.documents",
    "new_mandate": "registry.authority.documents",
    "new_revocation": "registry.authority.documents",
    "new_rotation": "registry.authority.documents",
    "new_recovery_keys": "registry.authority.documents",
    "new_recovery_step": "registry.authority.documents",
    "new_erasure": "registry.privacy.documents",
}

DOCUMENT_TYPES: tuple[str, ...] = (
    "Claim",
    "ClaimWithdrawal",
    "Notice",
    "NoticeResponse",
    "Dispute",
    "OperatorRegistration",
    "PersonalDataErasure",
    "Attestation",
    "AttestationRevocation",
    "Mandate",
    "MandateRevocation",
    "KeyRotation",
    "RecoveryKeys",
    "RecoveryRequest",
    "RecoveryVeto",
    "RecoveryCompletion",
)
"""The types a person signs (the registry signs domain verifications and check answers itself)."""


def _now() -> datetime:
    return datetime.now(UTC)


def _builder(name: str) -> Callable[..., dict[str, Any]]:
    """The registry's builder `name`, with `created` defaulting to now."""
    built: Callable[..., dict[str, Any]] = getattr(importlib.import_module(_BUILDERS[name]), name)

    @functools.wraps(built)
    def with_now(*args: Any, created: datetime | None = None, **options: Any) -> dict[str, Any]:
        return built(*args, created=created or _now(), **options)

    return with_now


def _models() -> dict[str, Any]:
    from registry.authority.documents import AUTHORITY_DOCUMENT_TYPES
    from registry.documents import DOCUMENT_TYPES as CLAIM_TYPES
    from registry.notices.documents import NOTICE_DOCUMENT_TYPES

    return {**CLAIM_TYPES, **NOTICE_DOCUMENT_TYPES, **AUTHORITY_DOCUMENT_TYPES}


def validate(document: Mapping[str, Any]) -> None:
    """Raise `InvalidDocument` (naming each bad field by JSON pointer) where the registry would refuse
    `document`'s schema; a signed document is checked as it is, an unsigned one as if it were signed."""
    from crawler_client.cli_support import as_if_signed
    from registry.documents import InvalidDocument, validate_document

    models = _models()
    kind = document.get("type")
    if not isinstance(kind, str) or kind not in models:
        raise InvalidDocument([("/type", f"unknown document type {kind!r}")])
    body = dict(document) if "proof" in document else as_if_signed(dict(document))
    validate_document(models[kind], body, types=models)


def sign(
    document: Mapping[str, Any], key: keys.SigningKey, *, created: datetime | None = None, check: bool = True
) -> dict[str, Any]:
    """`document` signed by `key`, ready to send (see the module docstring for personal data).

    With `check` (the default) the document is first validated as the registry would validate it
    (`InvalidDocument`), so nothing invalid is ever signed. The proof's `created` defaults to now.
    """
    import keys
    from registry.privacy.personal import PERSONAL_FIELDS, split

    if check:
        validate(document)
    moment = created or _now()
    kind = str(document.get("type"))
    if kind in PERSONAL_FIELDS:
        public, part = split(kind, document)
        signed = keys.sign_document(public, key, created=moment)
        return signed if part is None else {"document": signed, "personal": part}
    return keys.sign_document(document, key, created=moment)


def verify(document: Mapping[str, Any], key: keys.VerifyingKey | None = None) -> keys.VerifiedProof:
    """Verify a signed document's proof (by its author's did:key, or `key`); raises if it fails."""
    import keys

    return keys.verify_document(document, key=key)


def document_id(document: Mapping[str, Any]) -> str:
    """A signed document's id: the SHA-256 of its canonical form, proof included."""
    import keys

    return keys.document_id(document)


def __getattr__(name: str) -> Any:
    if name in _BUILDERS:
        value: Any = _builder(name)
    elif name == "InvalidDocument":
        from registry.documents import InvalidDocument as value
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

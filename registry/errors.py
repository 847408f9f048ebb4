"""Why the registry refuses something. The API renders each as RFC 9457 problem+json.

RegistryError                 base: HTTP status, stable slug, one-line detail, field errors
├── MalformedJSON        400  not strict JSON (duplicate keys, NaN, lone surrogates, non-NFC, …)
├── InvalidDocumentError 422  does not fit the schema (unknown type, use, kind; bad URL or hash)
├── InvalidProofError    422  the Data Integrity proof is missing, malformed or does not verify
├── WrongSigner          422  the proof is by a key other than the document's author
├── OutsideClockWindow   422  `created` too far in the past or the future
├── TooManyItems         422  a check batch over the item limit
├── NotClaimant          403  only the claimant may withdraw a claim
├── NotFound             404  no such claim
├── NonceReused          409  (author, nonce) already used: a replay
├── AlreadyWithdrawn     409  the claim was withdrawn before
├── AuthorityConflict    409  a rotation, recovery or revocation that breaks the rules
├── KeyRetired           409  the author's key was rotated away or recovered from
├── NameTaken            409  an operator name (folded) held by another, domain-verified operator
├── VerificationFailed   422  a domain check or did:web resolution failed (says what was fetched)
└── BodyTooLarge         413  request body over the limit

`title` and `detail` (and each field reason) are English sentences, written where the refusal is
raised, and they stay English for programs. They are also the msgids of the registry's Japanese
catalog: `registry.problem_catalog` extracts every one from the code (f-strings as brace templates)
and `registry.problem_text` says them in Japanese when a request's Accept-Language asks. So a new
refusal needs no extra call, only its Japanese in registry/locale/ja/LC_MESSAGES/kotowari-registry.po
(`python -m registry.problem_catalog --update`; tests/registry/test_problem_text.py fails until then).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar


class RegistryError(Exception):
    """Base of every refusal; `errors` holds (JSON pointer, reason) pairs where fields are at fault."""

    status: ClassVar[int] = 400
    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, errors: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)


class MalformedJSON(RegistryError):
    status, slug, title = 400, "malformed-json", "Body is not strict JSON"


class InvalidParameter(RegistryError):
    status, slug, title = 400, "invalid-parameter", "Invalid parameter"


class InvalidDocumentError(RegistryError):
    status, slug, title = 422, "invalid-document", "Document does not fit its schema"


class InvalidProofError(RegistryError):
    status, slug, title = 422, "invalid-proof", "Proof does not verify"


class WrongSigner(RegistryError):
    status, slug, title = 422, "wrong-signer", "Signed by a key other than the author's"


class OutsideClockWindow(RegistryError):
    status, slug, title = 422, "clock-window", "Created outside the accepted clock window"


class TooManyItems(RegistryError):
    status, slug, title = 422, "too-many-items", "Too many items in one request"


class NotClaimant(RegistryError):
    status, slug, title = 403, "not-claimant", "Only the claimant may do this"


class NotFound(RegistryError):
    status, slug, title = 404, "not-found", "Not found"


class NonceReused(RegistryError):
    status, slug, title = 409, "nonce-reused", "Nonce already used"


class AlreadyWithdrawn(RegistryError):
    status, slug, title = 409, "already-withdrawn", "Claim already withdrawn"


class DocumentTooLarge(RegistryError):
    status, slug, title = 413, "document-too-large", "Document too large for one log entry"


class BodyTooLarge(RegistryError):
    status, slug, title = 413, "body-too-large", "Request body too large"


class AuthorityConflict(RegistryError):
    status, slug, title = 409, "authority-conflict", "Not allowed by the key and authority rules"


class KeyRetired(RegistryError):
    status, slug, title = 409, "key-retired", "This key was replaced and may sign nothing more"


class VerificationFailed(RegistryError):
    status, slug, title = 422, "verification-failed", "The registry could not verify this"


class NameTaken(RegistryError):
    status, slug, title = 409, "operator-name-taken", "A domain-verified operator already uses this name"

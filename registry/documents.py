"""The signed documents of the wire format, as pydantic models.

The same models validate what the registry receives, build what the CLI signs, and generate the
OpenAPI schema, so the published schema is the one that is enforced. Models describe documents
after strict JSON parsing (`keys.parse_strict_json`), which has already refused duplicate keys,
NaN, lone surrogates and non-NFC strings; here we refuse unknown fields, wrong types (no float
where an integer is meant, no coercion at all) and values outside the vocabulary.

What needs no pydantic (times, DIDs, nonces, the builders) is in `registry.document_fields`,
re-exported here, so the command line can build and check a claim without building the models.

>>> doc = new_claim("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "work",
...                 [("url", "https://example.com/gallery/")], {"train-ai": "n"},
...                 created=datetime(2026, 1, 1, tzinfo=UTC), nonce="0123456789abcdef")
>>> doc["subject"]["identifiers"][0]
{'scheme': 'url', 'value': 'https://example.com/gallery/'}
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime  # noqa: F401 - the doctest above uses them
from typing import Annotated, Any, ClassVar, Final, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

# The pydantic-free parts (re-exported: importers name them from here).
from registry.document_fields import (
    IDENTIFIERS_PER_SUBJECT,
    NONCE_LENGTHS,
    NONCE_PATTERN,
    TERRITORIES_PER_CLAIM,
    TITLE_LENGTHS,
    _did,
    _territory,
    _timestamp,
)
from registry.document_fields import check_window as check_window
from registry.document_fields import format_timestamp as format_timestamp
from registry.document_fields import new_claim as new_claim
from registry.document_fields import new_nonce as new_nonce
from registry.document_fields import new_withdrawal as new_withdrawal
from registry.document_fields import parse_timestamp as parse_timestamp
from registry.document_fields import unsigned_document as unsigned_document
from registry.schemes import FILING, ITEM_SCHEMES, Identifier
from registry.vocabulary import SUBJECT_KINDS as SUBJECT_KINDS  # re-exported; defined beside the uses
from registry.vocabulary import SubjectKind as SubjectKind
from registry.vocabulary import Use, Value

_DOC_ID = r"^[0-9a-f]{64}$"


class InvalidDocument(ValueError):
    """A document that does not fit its schema; `errors` lists (JSON pointer, reason) pairs."""

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        self.errors = list(errors)
        pointer, reason = self.errors[0] if self.errors else ("", "invalid document")
        more = len(self.errors) - 1
        message = reason
        if pointer and more > 0:
            message = f"{reason} at {pointer} (and {more} more)"
        elif pointer:
            message = f"{reason} at {pointer}"
        elif more > 0:
            message = f"{reason} (and {more} more)"
        super().__init__(message)


def _http_url(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s/?#]+[^\s]*", value):
        raise ValueError("must be an http(s) URL")
    return value


def _https_url(value: str) -> str:
    """An https URL naming a host, without credentials: a licence document fetched by crawlers."""
    if not re.fullmatch(r"https://[^\s/?#@]+(?:[/?#][^\s]*)?", value):
        raise ValueError("must be an https URL (https://host/path), without spaces or credentials")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError as exc:
        raise ValueError(f"must be an https URL: {exc}") from None
    if not parts.hostname:
        raise ValueError("must be an https URL naming a host")
    return value


Timestamp = Annotated[str, AfterValidator(_timestamp)]
Did = Annotated[str, AfterValidator(_did)]
Territory = Annotated[str, AfterValidator(_territory)]
HttpUrl = Annotated[str, Field(max_length=2048), AfterValidator(_http_url)]
HttpsUrl = Annotated[str, Field(max_length=2048), AfterValidator(_https_url)]
Nonce = Annotated[str, Field(min_length=NONCE_LENGTHS[0], max_length=NONCE_LENGTHS[1], pattern=NONCE_PATTERN)]
Text = Annotated[str, Field(min_length=1, max_length=4000)]
DocId = Annotated[str, Field(pattern=_DOC_ID)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Subject(_Strict):
    """What a claim is about: a work, a voice or a likeness, named by identifiers."""

    kind: SubjectKind
    identifiers: Annotated[
        list[Identifier],
        Field(min_length=IDENTIFIERS_PER_SUBJECT[0], max_length=IDENTIFIERS_PER_SUBJECT[1]),
    ]
    title: Annotated[str, Field(min_length=TITLE_LENGTHS[0], max_length=TITLE_LENGTHS[1])] | None = None


class OnBehalfOf(_Strict):
    """An agency filing for someone else names the principal and states its authority.

    With the principal's DID (and optionally the id of the principal's signed `Mandate`), the claim
    counts as `mandated` while such a mandate covers it; without one it is only `agent-asserted`.
    """

    principal: Annotated[str, Field(min_length=1, max_length=500)]
    authority: Text
    did: Did | None = None
    mandate: DocId | None = None

    @model_validator(mode="after")
    def _mandate_names_principal(self) -> OnBehalfOf:
        if self.mandate is not None and self.did is None:
            raise ValueError("a mandate needs the principal's DID (on_behalf_of.did)")
        return self


class Licence(_Strict):
    """Where to ask for a licence instead.

    `rsl` (added with RSL 1.0 support; optional, so older claims stay valid) is the https URL of an
    RSL licence document (`application/rsl+xml`) offering the reserved uses on its terms: check
    answers name it beside the claim, and a crawler's policy cites it as the way to a licence.
    """

    contact: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    terms: HttpUrl | None = None
    rsl: HttpsUrl | None = None


class Proof(_Strict):
    """A W3C Data Integrity proof, cryptosuite eddsa-jcs-2022 (verified by `keys.verify_document`)."""

    type: Literal["DataIntegrityProof"]
    cryptosuite: Literal["eddsa-jcs-2022"]
    created: Timestamp | None = None
    verificationMethod: Annotated[str, Field(min_length=1, max_length=500)]
    proofPurpose: Literal["assertionMethod"]
    proofValue: Annotated[str, Field(min_length=1, max_length=200)]


class SignedDocument(_Strict):
    """Fields every signed document carries. `AUTHOR_FIELD` names the field holding the author's DID."""

    AUTHOR_FIELD: ClassVar[str] = "claimant"

    created: Timestamp
    nonce: Nonce
    proof: Proof

    @property
    def author(self) -> str:
        """The DID whose key must have made the proof."""
        return str(getattr(self, self.AUTHOR_FIELD))


class Claim(SignedDocument):
    """An opt-out claim: the claimant reserves (`n`) or allows (`y`) uses of a subject."""

    type: Literal["Claim"]
    claimant: Did
    subject: Subject
    uses: Annotated[dict[Use, Value], Field(min_length=1)]
    on_behalf_of: OnBehalfOf | None = None
    licence: Licence | None = None
    valid_from: Timestamp | None = None
    valid_until: Timestamp | None = None
    territories: (
        Annotated[
            list[Territory],
            Field(min_length=TERRITORIES_PER_CLAIM[0], max_length=TERRITORIES_PER_CLAIM[1]),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _window_is_ordered(self) -> Claim:
        check_window(self.valid_from, self.valid_until)
        return self


class ClaimWithdrawal(SignedDocument):
    """The claimant withdraws one of its claims; the claim stays in the log, marked withdrawn."""

    type: Literal["ClaimWithdrawal"]
    claimant: Did
    claim: DocId
    reason: Text | None = None


T = TypeVar("T", bound=SignedDocument)

DOCUMENT_TYPES: Final[Mapping[str, type[SignedDocument]]] = {
    "Claim": Claim,
    "ClaimWithdrawal": ClaimWithdrawal,
}


def json_pointer(location: Iterable[int | str]) -> str:
    """RFC 6901 pointer for a pydantic error location, without pydantic's own markers
    (validator names, `[key]`, and the scheme tag it adds after a list index of a tagged union)."""
    fields: list[str] = []
    previous: int | str | None = None
    for part in location:
        text = str(part)
        marker = text.startswith("function-") or text == "[key]"
        union_tag = isinstance(previous, int) and text in ITEM_SCHEMES
        if not (marker or union_tag):
            fields.append(text)
        previous = part
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in fields)


def error_message(error: Mapping[str, Any]) -> str:
    """Pydantic's message without its "Value error, " prefix: the reason is the message."""
    return str(error["msg"]).removeprefix("Value error, ")


def error_pointer(error: Mapping[str, Any]) -> str:
    """The pointer of one pydantic error; an unknown or missing union tag points at `scheme`."""
    location = list(error["loc"])
    if error.get("type") in ("union_tag_invalid", "union_tag_not_found"):
        location.append("scheme")
    return json_pointer(location)


def validate_document(
    model: type[T], obj: object, *, types: Mapping[str, type[SignedDocument]] = DOCUMENT_TYPES
) -> T:
    """Validate a parsed JSON value against `model`; `InvalidDocument` names every bad field.

    `types` are the document types accepted here by their `type` (the notice types have their own).
    """
    if not isinstance(obj, dict):
        raise InvalidDocument([("", "a document must be a JSON object")])
    kind = obj.get("type")
    if not isinstance(kind, str) or kind not in types:
        raise InvalidDocument([("/type", f"unknown document type {kind!r}")])
    if types[kind] is not model:
        raise InvalidDocument([("/type", f"expected a {model.__name__} document here, got {kind!r}")])
    try:
        return model.model_validate(obj, context=FILING)  # the filing rules apply (public suffixes)
    except ValidationError as exc:
        errors = []
        for error in exc.errors(include_url=False):
            errors.append((error_pointer(error), error_message(error)))
        raise InvalidDocument(errors) from None

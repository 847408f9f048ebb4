"""The signed documents of the wire format, as pydantic models.

The same models validate what the registry receives, build what the CLI signs, and generate the
OpenAPI schema, so the published schema is the one that is enforced. Models describe documents
after strict JSON parsing (`keys.parse_strict_json`), which has already refused duplicate keys,
NaN, lone surrogates and non-NFC strings; here we refuse unknown fields, wrong types (no float
where an integer is meant, no coercion at all) and values outside the vocabulary.

>>> doc = new_claim("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "work",
...                 [("url", "https://example.com/gallery/")], {"train-ai": "n"},
...                 created=datetime(2026, 1, 1, tzinfo=UTC), nonce="0123456789abcdef")
>>> doc["subject"]["identifiers"][0]
{'scheme': 'url', 'value': 'https://example.com/gallery/'}
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Final, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from registry.schemes import FILING, ITEM_SCHEMES, Identifier
from registry.vocabulary import SUBJECT_KINDS as SUBJECT_KINDS  # re-exported; defined beside the uses
from registry.vocabulary import SubjectKind as SubjectKind
from registry.vocabulary import Use, Value

_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")
_DID_KEY = re.compile(r"did:key:z[1-9A-HJ-NP-Za-km-z]{40,60}")
#: W3C did:web: a lowercase domain name (a port as %3A), then optional path segments.
_DID_WEB = re.compile(
    r"did:web:(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}(?:%3A[0-9]{1,5})?(?::[A-Za-z0-9._~-]+)*"
)
_DOC_ID = r"^[0-9a-f]{64}$"
_TERRITORY = re.compile(r"[A-Z]{2}")


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


def parse_timestamp(value: str) -> datetime:
    """An RFC 3339 UTC timestamp as the documents write it (`2026-11-22T04:38:47Z`)."""
    if not _TIMESTAMP.fullmatch(value):
        raise ValueError("timestamp must be RFC 3339 in UTC, like 2026-11-22T04:38:47Z")
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"invalid timestamp: {exc}") from exc


def check_window(valid_from: str | None, valid_until: str | None) -> None:
    """A validity window, when both ends are given, must end after it starts."""
    if valid_from and valid_until and parse_timestamp(valid_until) <= parse_timestamp(valid_from):
        raise ValueError("valid_until must be later than valid_from")


def format_timestamp(moment: datetime) -> str:
    """Write `moment` the way documents carry times: UTC, whole seconds, `Z`."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _timestamp(value: str) -> str:
    parse_timestamp(value)
    return value


def _did(value: str) -> str:
    if value.startswith("did:web:"):
        if not _DID_WEB.fullmatch(value) or len(value) > 128:
            raise ValueError("must be a did:web DID naming a domain (did:web:example.com[:path…])")
        return value
    if not _DID_KEY.fullmatch(value):
        raise ValueError("must be a did:key (did:key:z6Mk…) or did:web (did:web:example.com) DID")
    return value


def _territory(value: str) -> str:
    if not _TERRITORY.fullmatch(value):
        raise ValueError("territory must be an ISO 3166-1 alpha-2 code in capitals, like JP")
    return value


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
Nonce = Annotated[str, Field(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
Text = Annotated[str, Field(min_length=1, max_length=4000)]
DocId = Annotated[str, Field(pattern=_DOC_ID)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Subject(_Strict):
    """What a claim is about: a work, a voice or a likeness, named by identifiers."""

    kind: SubjectKind
    identifiers: Annotated[list[Identifier], Field(min_length=1, max_length=1000)]
    title: Annotated[str, Field(min_length=1, max_length=500)] | None = None


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
    territories: Annotated[list[Territory], Field(min_length=1, max_length=300)] | None = None

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


def new_nonce() -> str:
    """A fresh 128-bit nonce, base64url."""
    return secrets.token_urlsafe(16)


def unsigned_document(
    fields: Mapping[str, Any],
    *,
    created: datetime,
    nonce: str | None = None,
    optional: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An unsigned document (sign it with `keys.sign_document`): `fields`, its `created` time and
    `nonce` (a fresh one unless given), then those `optional` fields that are not None."""
    doc = {**fields, "created": format_timestamp(created), "nonce": nonce or new_nonce()}
    doc.update({key: value for key, value in (optional or {}).items() if value is not None})
    return doc


def new_claim(
    claimant: str,
    kind: str,
    identifiers: Iterable[tuple[str, str] | Mapping[str, Any]],
    uses: Mapping[str, str],
    *,
    created: datetime,
    nonce: str | None = None,
    title: str | None = None,
    on_behalf_of: Mapping[str, str] | None = None,
    licence: Mapping[str, str] | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    territories: Sequence[str] | None = None,
) -> dict[str, Any]:
    """An unsigned claim document; sign it with `keys.sign_document`.

    `identifiers` are wire-format objects (`{"scheme": "pdq", "value": …, "quality": …}`), or
    `(scheme, value)` pairs for the schemes that need nothing else.
    """
    subject: dict[str, Any] = {
        "kind": kind,
        "identifiers": [
            dict(item) if isinstance(item, Mapping) else {"scheme": item[0], "value": item[1]}
            for item in identifiers
        ],
    }
    if title is not None:
        subject["title"] = title
    return unsigned_document(
        {"type": "Claim", "claimant": claimant, "subject": subject, "uses": dict(uses)},
        created=created,
        nonce=nonce,
        optional={
            "on_behalf_of": dict(on_behalf_of) if on_behalf_of else None,
            "licence": dict(licence) if licence else None,
            "valid_from": format_timestamp(valid_from) if valid_from else None,
            "valid_until": format_timestamp(valid_until) if valid_until else None,
            "territories": list(territories) if territories else None,
        },
    )


def new_withdrawal(
    claimant: str, claim_id: str, *, created: datetime, nonce: str | None = None, reason: str | None = None
) -> dict[str, Any]:
    """An unsigned withdrawal of `claim_id`; sign it with `keys.sign_document`."""
    return unsigned_document(
        {"type": "ClaimWithdrawal", "claimant": claimant, "claim": claim_id},
        created=created,
        nonce=nonce,
        optional={"reason": reason},
    )

"""The signed documents of operator accountability, as pydantic models (validated like every other).

* `Disclosure` — an operator's statement about one model or service: its training data (datasets,
  the compliance manifests it relied on by the SHA-256 of their canonical form and the checkpoints
  they were filtered at, the opt-out signals its crawlers honour), its safeguards (prompt and
  output checks, against which registry state), its contact window, and each AI Principle Code
  item answered `comply` or `explain`. A later disclosure for the same (operator, kind, id)
  supersedes the earlier one; both stay in the log.
* `ManifestRecord` — registry-signed: the registry verified a compliance manifest (its signatures,
  and that its snapshot names a checkpoint of this log) and records what it says, by hash.
* `AuthorityDesignation` — registry-signed: the administrator marks a domain-verified organisation
  as an authority (or revokes the mark).
* `InformationRequest` — an authority asks an operator to explain, by a deadline.
* `InformationAnswer` — the operator answers a request.

None carries a person's name, e-mail or phone: the contact window is a web page, authorities and
operators are organisations named by their DIDs (personal data rules: `registry.privacy.personal`).

>>> doc = new_disclosure("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "model", "acme/p",
...     training_data={"signals_honoured": ["robots.txt"]}, contact={"url": "https://acme.example/ai"},
...     principle_code={item: {"answer": "comply"} for item in PRINCIPLE_ITEMS},
...     created=datetime(2026, 1, 1, tzinfo=UTC), nonce="0123456789abcdef")
>>> doc["subject"]
{'kind': 'model', 'id': 'acme/p'}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime  # noqa: F401 - UTC is used by the doctest
from typing import Annotated, Any, Final, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from registry.accountability.vocabulary import (
    PRINCIPLE_ITEMS,
    Answer,
    CheckedScheme,
    DatasetKind,
    PrincipleItem,
    Signal,
    Stage,
    SubjectKind,
    Topic,
)
from registry.authority.documents import Host
from registry.authority.levels import Level
from registry.documents import (
    Did,
    DocId,
    HttpsUrl,
    SignedDocument,
    Text,
    Timestamp,
    parse_timestamp,
    unsigned_document,
    validate_document,
)
from registry.vocabulary import Use

Short = Annotated[str, Field(min_length=1, max_length=500)]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
RootHash = Annotated[str, Field(pattern=r"^[A-Za-z0-9+/]{43}=$")]
"""A 32-byte Merkle root in standard base64, as checkpoints and snapshot states write it."""
TreeSize = Annotated[int, Field(ge=1, le=2**63 - 1)]
Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]

T = TypeVar("T", bound=SignedDocument)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _unique(values: Sequence[Any] | None, what: str) -> None:
    if values is not None and len(set(values)) != len(values):
        raise ValueError(f"{what} must not repeat")


class DisclosedSubject(_Strict):
    """What a disclosure (or an information request) is about: a model or a service, by its id."""

    kind: SubjectKind
    id: Annotated[str, Field(min_length=1, max_length=200)]
    name: Short | None = None
    version: Annotated[str, Field(min_length=1, max_length=100)] | None = None


class Checkpoint(_Strict):
    """A tree size and root hash of a registry's log: what a manifest was filtered at, or what a
    safeguard checks against. The record says whether it is a checkpoint of this registry's log."""

    tree_size: TreeSize
    root_hash: RootHash


class Dataset(_Strict):
    kind: DatasetKind
    name: Short
    description: Text | None = None
    url: HttpsUrl | None = None
    file_sha256: Sha256Hex | None = None


class ManifestRef(_Strict):
    """A compliance manifest relied on: its id — the SHA-256 of its canonical form (RFC 8785, proof
    included), as every document's id — and the snapshot checkpoint it was filtered at."""

    id: Sha256Hex
    snapshot: Checkpoint


class TrainingData(_Strict):
    datasets: Annotated[list[Dataset], Field(max_length=200)] = []
    manifests: Annotated[list[ManifestRef], Field(max_length=200)] = []
    signals_honoured: Annotated[list[Signal], Field(max_length=20)] = []
    crawlers: Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]], Field(max_length=20)] = []
    statement: Text | None = None

    @model_validator(mode="after")
    def _no_repeats(self) -> TrainingData:
        _unique(self.signals_honoured, "signals_honoured")
        _unique([m.id for m in self.manifests], "manifests")
        return self


class CheckedAgainst(_Strict):
    """The registry state a safeguard checks against: a live registry (`check`, at whatever its log
    holds) or a local snapshot, and where known the checkpoint it held when disclosed."""

    registry: Did
    mode: Literal["live", "snapshot"]
    checkpoint: Checkpoint | None = None
    refreshed: Short | None = None


class Safeguard(_Strict):
    stage: Stage
    schemes: Annotated[list[CheckedScheme], Field(min_length=1, max_length=9)]
    description: Text | None = None
    against: CheckedAgainst | None = None

    @model_validator(mode="after")
    def _no_repeats(self) -> Safeguard:
        _unique(self.schemes, "schemes")
        return self


class ContactWindow(_Strict):
    """Where rights holders reach the operator: a web page or form (an organisation's, never a
    person's address), the languages it answers in and how soon."""

    url: HttpsUrl
    languages: Annotated[list[Language], Field(min_length=1, max_length=20)] | None = None
    response_days: Annotated[int, Field(ge=1, le=90)] | None = None
    hours: Short | None = None


class PrincipleAnswer(_Strict):
    answer: Answer
    explanation: Text | None = None

    @model_validator(mode="after")
    def _explained(self) -> PrincipleAnswer:
        if self.answer == "explain" and self.explanation is None:
            raise ValueError("an item answered explain needs its explanation")
        return self


class Disclosure(SignedDocument):
    """An operator's signed disclosure about one model or service (see the module docstring)."""

    AUTHOR_FIELD = "operator"

    type: Literal["Disclosure"]
    operator: Did
    subject: DisclosedSubject
    training_data: TrainingData
    safeguards: Annotated[list[Safeguard], Field(max_length=50)] = Field(default_factory=list)
    contact: ContactWindow
    principle_code: dict[PrincipleItem, PrincipleAnswer]

    @model_validator(mode="after")
    def _every_item_answered(self) -> Disclosure:
        missing = [item for item in PRINCIPLE_ITEMS if item not in self.principle_code]
        if missing:
            raise ValueError(
                f"answer every AI Principle Code item (comply or explain); missing: {', '.join(missing)}"
            )
        return self


class SnapshotFacts(_Strict):
    origin: Annotated[str, Field(min_length=1, max_length=500)]
    tree_size: TreeSize
    root_hash: RootHash


class RowCounts(_Strict):
    total: Annotated[int, Field(ge=0)]
    kept: Annotated[int, Field(ge=0)]
    removed: Annotated[int, Field(ge=0)]


class DatasetDigests(_Strict):
    input: Sha256Hex
    output: Sha256Hex


class ManifestRecord(SignedDocument):
    """Registry-signed: a compliance manifest the registry verified, recorded by its hash; the
    manifest itself is served beside the log (`GET /v1/manifests/{sha256}`)."""

    AUTHOR_FIELD = "registry"

    type: Literal["ManifestRecord"]
    registry: Did
    manifest: Sha256Hex
    signer: Did
    signed_at: Timestamp | None = None
    purpose: Use
    min_authority: Level | None = None
    decided_at: Timestamp
    dataset: DatasetDigests
    rows: RowCounts
    snapshot: SnapshotFacts
    removed_rows_checked: bool


class AuthorityDesignation(SignedDocument):
    """Registry-signed: the administrator marks `subject`, domain-verified for `host`, as an authority
    that may send information requests (`status: designated`), or ends the mark (`revoked`)."""

    AUTHOR_FIELD = "registry"

    type: Literal["AuthorityDesignation"]
    registry: Did
    subject: Did
    name: Short
    host: Host
    status: Literal["designated", "revoked"]
    reference: Short | None = None


class InformationRequest(SignedDocument):
    """A designated authority asks an operator to explain, by `deadline`."""

    AUTHOR_FIELD = "authority"

    type: Literal["InformationRequest"]
    authority: Did
    operator: Did
    topics: Annotated[list[Topic], Field(min_length=1, max_length=6)]
    questions: Annotated[list[Text], Field(min_length=1, max_length=50)]
    deadline: Timestamp
    subjects: Annotated[list[DisclosedSubject], Field(max_length=50)] | None = None
    legal_basis: Text | None = None
    reference: Short | None = None

    @model_validator(mode="after")
    def _sensible(self) -> InformationRequest:
        _unique(self.topics, "topics")
        if self.operator == self.authority:
            raise ValueError("an authority cannot send a request to itself")
        if parse_timestamp(self.deadline) <= parse_timestamp(self.created):
            raise ValueError("the deadline must be later than the request's created time")
        return self


class InformationAnswer(SignedDocument):
    """The operator's answer to an information request (several may follow one request; the first
    decides whether it was answered on time)."""

    AUTHOR_FIELD = "operator"

    type: Literal["InformationAnswer"]
    operator: Did
    request: DocId
    statement: Text
    answers: Annotated[list[Text], Field(min_length=1, max_length=50)] | None = None
    disclosures: Annotated[list[DocId], Field(min_length=1, max_length=50)] | None = None


ACCOUNTABILITY_DOCUMENT_TYPES: Final[Mapping[str, type[SignedDocument]]] = {
    "Disclosure": Disclosure,
    "ManifestRecord": ManifestRecord,
    "AuthorityDesignation": AuthorityDesignation,
    "InformationRequest": InformationRequest,
    "InformationAnswer": InformationAnswer,
}

REGISTRY_SIGNED_TYPES: Final = frozenset({"ManifestRecord", "AuthorityDesignation"})


def validate_accountability_document(model: type[T], obj: object) -> T:
    """`registry.documents.validate_document` for the accountability document types."""
    return validate_document(model, obj, types=ACCOUNTABILITY_DOCUMENT_TYPES)


# ------------------------------------------------------------------ builders (CLI and tests)


def new_disclosure(
    operator: str,
    kind: str,
    subject_id: str,
    *,
    training_data: Mapping[str, Any],
    contact: Mapping[str, Any],
    principle_code: Mapping[str, Mapping[str, str]],
    created: datetime,
    safeguards: Sequence[Mapping[str, Any]] = (),
    name: str | None = None,
    version: str | None = None,
    nonce: str | None = None,
) -> dict[str, Any]:
    """An unsigned disclosure; sign it with `keys.sign_document`."""
    subject: dict[str, Any] = {"kind": kind, "id": subject_id}
    subject.update({key: value for key, value in (("name", name), ("version", version)) if value})
    fields = {
        "type": "Disclosure",
        "operator": operator,
        "subject": subject,
        "training_data": dict(training_data),
        "contact": dict(contact),
        "principle_code": {item: dict(answer) for item, answer in principle_code.items()},
    }
    return unsigned_document(
        fields, created=created, nonce=nonce, optional={"safeguards": [dict(s) for s in safeguards] or None}
    )


def new_information_request(
    authority: str,
    operator: str,
    *,
    topics: Sequence[str],
    questions: Sequence[str],
    deadline: datetime,
    created: datetime,
    subjects: Sequence[Mapping[str, str]] = (),
    legal_basis: str | None = None,
    reference: str | None = None,
    nonce: str | None = None,
) -> dict[str, Any]:
    """An unsigned information request; sign it with `keys.sign_document`."""
    from registry.documents import format_timestamp

    fields = {
        "type": "InformationRequest",
        "authority": authority,
        "operator": operator,
        "topics": list(topics),
        "questions": list(questions),
        "deadline": format_timestamp(deadline),
    }
    optional = {
        "subjects": [dict(s) for s in subjects] or None,
        "legal_basis": legal_basis,
        "reference": reference,
    }
    return unsigned_document(fields, created=created, nonce=nonce, optional=optional)


def new_information_answer(
    operator: str,
    request_id: str,
    statement: str,
    *,
    created: datetime,
    answers: Sequence[str] = (),
    disclosures: Sequence[str] = (),
    nonce: str | None = None,
) -> dict[str, Any]:
    """An unsigned answer to `request_id`; sign it with `keys.sign_document`."""
    fields = {
        "type": "InformationAnswer",
        "operator": operator,
        "request": request_id,
        "statement": statement,
    }
    optional = {"answers": list(answers) or None, "disclosures": list(disclosures) or None}
    return unsigned_document(fields, created=created, nonce=nonce, optional=optional)


__all__ = [
    "ACCOUNTABILITY_DOCUMENT_TYPES",
    "REGISTRY_SIGNED_TYPES",
    "AuthorityDesignation",
    "Checkpoint",
    "Disclosure",
    "InformationAnswer",
    "InformationRequest",
    "ManifestRecord",
    "new_disclosure",
    "new_information_answer",
    "new_information_request",
    "validate_accountability_document",
]

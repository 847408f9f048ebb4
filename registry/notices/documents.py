"""Takedown notices, operator registrations and responses: the signed documents and the regimes.

A notice is one signed document (eddsa-jcs-2022, by the notifier's did:key) that can satisfy several
legal regimes at once. The schema checks shape; `missing_elements` then checks, for every regime the
notifier selected, the elements that regime's statute requires, and names *all* missing ones (JSON
pointer and the provision) so a notifier fixes a notice in one round trip instead of one per field.

Regimes and the elements required here (the statute is the authority; the mapping is ours):

* `dmca`: 17 U.S.C. 512(c)(3)(A)(i)-(vi): signature; the copyrighted work; the material and its
  location; contact; good-faith statement; accuracy and authority under penalty of perjury.
* `dsa`: Regulation (EU) 2022/2065 Art. 16(2)(a)-(d): substantiated explanation (`grounds`); exact
  electronic location; name and email; bona fide statement.
* `jp-platform`: 情報流通プラットフォーム対処法 (Information Distribution Platform Act, the 2024
  amendment of Act No. 137 of 2001): the requester's name and a contact; the information and where
  it is; the right infringed; why it is infringed.
* `no-fakes`: NO FAKES Act (S.1367 / H.R.2794, 119th Congress, not enacted) notice elements: the
  individual; the material and its location; signature; contact; good-faith statement; authority
  to act for the individual.

Japanese-language text is accepted everywhere (strings are only required to be NFC), and the
`jp_platform` block also accepts its field names in Japanese (権利, 理由, …).

>>> doc = new_notice("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
...     "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", kind="work",
...     identifiers=[("url", "https://example.com/art/")], locations=[("model", "acme/painter-v2")],
...     actions=["stop-generation"], regimes=["dsa"], created=datetime(2026, 1, 1, tzinfo=UTC),
...     nonce="0123456789abcdef")
>>> [pointer for pointer, _ in missing_elements(Notice.model_validate({**doc, "proof": _EXAMPLE_PROOF}))]
['/grounds', '/contact/name', '/contact/email', '/statements/good-faith']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime  # noqa: F401 - UTC is used by the doctest
from typing import Annotated, Any, Final, Literal, TypeVar, get_args

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

from registry.documents import (
    Did,
    DocId,
    HttpUrl,
    OnBehalfOf,
    SignedDocument,
    SubjectKind,
    Text,
    unsigned_document,
    validate_document,
)
from registry.names import fold
from registry.notices.vocabulary import REGIMES, REQUESTED_ACTIONS, Regime, RequestedAction
from registry.privacy.documents import PRIVACY_DOCUMENT_TYPES
from registry.privacy.personal import PersonalCommitment
from registry.schemes import Identifier

StatementKey = Literal["good-faith", "accuracy", "authority-under-penalty-of-perjury", "authority"]
STATEMENT_KEYS: Final[tuple[StatementKey, ...]] = get_args(StatementKey)

LocationKind = Literal["url", "model", "dataset", "output-sha256"]

ResponseAction = Literal[
    "deliver", "acknowledge", "action", "reject", "counter-notice", "restore", "uphold", "close", "remind"
]
RESPONSE_ACTIONS: Final[tuple[ResponseAction, ...]] = get_args(ResponseAction)

_SHA256 = re.compile(r"[0-9a-f]{64}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
Short = Annotated[str, Field(min_length=1, max_length=500)]

# A syntactically valid proof for the module doctest only (never verified there).
_EXAMPLE_PROOF: Final = {
    "type": "DataIntegrityProof",
    "cryptosuite": "eddsa-jcs-2022",
    "verificationMethod": "did:key:z6Mk#z6Mk",
    "proofPurpose": "assertionMethod",
    "proofValue": "z1",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class NoticeSubject(_Strict):
    """What was taken: a work, voice or likeness, by identifiers or by the claims filed for it."""

    kind: SubjectKind
    identifiers: Annotated[list[Identifier], Field(max_length=1000)] = []
    claims: Annotated[list[DocId], Field(max_length=100)] = []
    title: Short | None = None
    description: Text | None = None

    @model_validator(mode="after")
    def _named(self) -> NoticeSubject:
        if not self.identifiers and not self.claims:
            raise ValueError("name the subject by identifiers, or by the ids of the claims filed for it")
        return self


class Location(_Strict):
    """Where the material is: a URL, a model or dataset id, or a generated output by its SHA-256."""

    kind: LocationKind
    value: Annotated[str, Field(min_length=1, max_length=2048)]
    description: Short | None = None

    @model_validator(mode="after")
    def _value_fits_kind(self) -> Location:
        if self.kind == "url" and not re.fullmatch(r"https?://[^\s/?#]+[^\s]*", self.value):
            raise ValueError("a url location must be an http(s) URL")
        if self.kind == "output-sha256" and not _SHA256.fullmatch(self.value):
            raise ValueError("an output-sha256 location is 64 lower-case hex digits")
        if self.kind in ("model", "dataset") and len(self.value) > 500:
            raise ValueError("model and dataset ids are at most 500 characters")
        return self


class Material(_Strict):
    """The allegedly infringing material and every place it is."""

    description: Text | None = None
    locations: Annotated[list[Location], Field(max_length=1000)] = []


class Contact(_Strict):
    """How the operator reaches the notifier (or the agent acting for them)."""

    name: Short | None = None
    email: Short | None = None
    address: Text | None = None
    phone: Annotated[str, Field(min_length=1, max_length=50)] | None = None

    @model_validator(mode="after")
    def _email_shape(self) -> Contact:
        if self.email is not None and not _EMAIL.fullmatch(self.email):
            raise ValueError("email must look like name@example.com")
        return self


class Notify(_Strict):
    """How the notifier asks to be told of every change of its notice's state: a webhook and/or an
    e-mail address. Personal data: it travels in the personal part, never in the logged notice
    (`registry.notices.notify`)."""

    webhook: HttpUrl | None = None
    email: Short | None = None

    @field_validator("email")
    @classmethod
    def _email_shape(cls, email: str | None) -> str | None:
        if email is not None and not _EMAIL.fullmatch(email):
            raise ValueError("email must look like name@example.com")
        return email

    @model_validator(mode="after")
    def _something(self) -> Notify:
        if self.webhook is None and self.email is None:
            raise ValueError("notify needs a webhook or an email")
        return self


class JpPlatform(_Strict):
    """The request under Japan's Information Distribution Platform Act (送信防止措置の申出).

    Field names are accepted in English or Japanese; the values may be in any language.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)

    infringed_right: Text | None = Field(
        default=None, validation_alias=AliasChoices("infringed_right", "侵害された権利", "権利")
    )
    reason: Text | None = Field(
        default=None, validation_alias=AliasChoices("reason", "権利が侵害されたとする理由", "理由")
    )
    requester_address: Text | None = Field(
        default=None, validation_alias=AliasChoices("requester_address", "住所")
    )


class Notice(SignedDocument):
    """A takedown notice from a notifier (or an agency for its principal) to one AI operator."""

    AUTHOR_FIELD = "notifier"

    type: Literal["Notice"]
    notifier: Did
    operator: Did
    on_behalf_of: OnBehalfOf | None = None
    subject: NoticeSubject
    material: Material
    actions: Annotated[list[RequestedAction], Field(min_length=1, max_length=6)]
    grounds: Text | None = None
    regimes: Annotated[list[Regime], Field(min_length=1, max_length=4)]
    contact: Contact | None = None
    signature: Short | None = None
    statements: dict[StatementKey, Text] | None = None
    jp_platform: JpPlatform | None = None
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")] | None = None
    notify: Notify | None = None
    personal: PersonalCommitment | None = None

    @model_validator(mode="after")
    def _no_repeats(self) -> Notice:
        if len(set(self.regimes)) != len(self.regimes):
            raise ValueError("regimes must not repeat")
        if len(set(self.actions)) != len(self.actions):
            raise ValueError("actions must not repeat")
        return self


class OperatorRegistration(SignedDocument):
    """An AI operator (developer, platform, crawler operator) registers to receive notices.

    The operator is a `did:key` or a `did:web`. Registering again with the same DID replaces name,
    contact and webhook; every registration stays in the log. A domain-verified operator's name is
    its own: a registration by anyone else whose name has the same `operator_name_key` is refused
    (see `registry.notices.store.NoticeStore.register_operator`).
    """

    AUTHOR_FIELD = "operator"

    type: Literal["OperatorRegistration"]
    operator: Did
    name: Short
    contact: Short
    webhook: HttpUrl | None = None
    contact_person: Contact | None = None
    personal: PersonalCommitment | None = None


def operator_name_key(name: str) -> str:
    """The form operator names are compared in: `registry.names.fold` (NFKC, case folding, katakana as
    hiragana, no whitespace or punctuation), or for a name of punctuation only, NFKC + casefold with
    whitespace collapsed. "ACME  AI", "Acme AI" and "ａｃｍｅ ai" are one name.

    >>> operator_name_key("ＡＣＭＥ  Ai") == operator_name_key("acme-ai") == "acmeai"
    True
    >>> operator_name_key("・・・")
    '・・・'
    """
    return fold(name) or " ".join(unicodedata.normalize("NFKC", name).casefold().split())


class NoticeResponse(SignedDocument):
    """One step of a notice's lifecycle, signed by the party allowed to take it (see
    `registry.notices.lifecycle`): the operator, the notifier, or the registry itself."""

    AUTHOR_FIELD = "by"

    type: Literal["NoticeResponse"]
    by: Did
    notice: DocId
    action: ResponseAction
    statement: Text | None = None
    actions_taken: Annotated[list[RequestedAction], Field(max_length=6)] | None = None
    legal_action: bool | None = None
    automated: bool | None = None
    contact: Contact | None = None
    signature: Short | None = None
    personal: PersonalCommitment | None = None

    @model_validator(mode="after")
    def _needs_statement(self) -> NoticeResponse:
        if self.action in ("reject", "counter-notice", "uphold") and self.statement is None:
            raise ValueError(f"a {self.action} needs a statement (of reasons)")
        if self.action == "action" and not self.actions_taken:
            raise ValueError("an action response lists actions_taken")
        return self


class Dispute(SignedDocument):
    """A claimant disputes another claimant's claim on the same subject."""

    AUTHOR_FIELD = "claimant"

    type: Literal["Dispute"]
    claimant: Did
    claim: DocId
    disputed: DocId
    statement: Text


NOTICE_DOCUMENT_TYPES: Final[Mapping[str, type[SignedDocument]]] = {
    "Notice": Notice,
    "OperatorRegistration": OperatorRegistration,
    "NoticeResponse": NoticeResponse,
    "Dispute": Dispute,
    **PRIVACY_DOCUMENT_TYPES,
}

T = TypeVar("T", bound=SignedDocument)


def validate_notice_document(model: type[T], obj: object) -> T:
    """`registry.documents.validate_document` for the notice document types."""
    return validate_document(model, obj, types=NOTICE_DOCUMENT_TYPES)


# ------------------------------------------------------------------ regimes


def _has_statement(notice: Notice, key: StatementKey) -> bool:
    return bool(notice.statements and notice.statements.get(key))


def _contact(notice: Notice, field: str) -> bool:
    return notice.contact is not None and getattr(notice.contact, field) is not None


def _any_contact(notice: Notice) -> bool:
    return any(_contact(notice, field) for field in ("email", "address", "phone"))


def _located(notice: Notice) -> bool:
    return bool(notice.material.locations)


def _exactly_located(notice: Notice) -> bool:
    """DSA Art. 16(2)(b) asks for 'the exact electronic location ... such as the exact URL or URLs';
    a model or dataset id on the operator's own service, or an output hash, is as exact."""
    return bool(notice.material.locations)


def _jp(notice: Notice, field: str) -> bool:
    return notice.jp_platform is not None and getattr(notice.jp_platform, field) is not None


def _named_by(notice: Notice, schemes: frozenset[str]) -> bool:
    return any(identifier.scheme in schemes for identifier in notice.subject.identifiers)


_NAMES_A_WORK: Final = frozenset({"wikidata"})
_NAMES_A_PERSON: Final = frozenset({"name", "isni", "wikidata"})


def _work_identified(notice: Notice) -> bool:
    """A title, a description, the claims filed for it, or a Wikidata item identifies the work."""
    subject = notice.subject
    return (
        subject.title is not None
        or subject.description is not None
        or bool(subject.claims)
        or _named_by(notice, _NAMES_A_WORK)
    )


def _individual_named(notice: Notice) -> bool:
    """A title, a `name` (or ISNI, Wikidata) identifier, or the agency's principal names the individual:
    `--name "Koichi Yamadera"` says who it is as well as `--title` would."""
    return (
        notice.subject.title is not None
        or notice.on_behalf_of is not None
        or _named_by(notice, _NAMES_A_PERSON)
    )


Requirement = tuple[str, str, Any]
"""(JSON pointer, what is missing and which provision asks for it, predicate over the notice)."""

REQUIREMENTS: Final[Mapping[Regime, Sequence[Requirement]]] = {
    "dmca": (
        (
            "/signature",
            "a physical or electronic signature (17 U.S.C. 512(c)(3)(A)(i))",
            lambda n: n.signature,
        ),
        (
            "/subject/title",
            "identification of the copyrighted work (512(c)(3)(A)(ii)): a title, description, claim ids "
            "or Wikidata item",
            _work_identified,
        ),
        ("/material/locations", "the infringing material and where it is (512(c)(3)(A)(iii))", _located),
        ("/contact/name", "the complaining party's name (512(c)(3)(A)(iv))", lambda n: _contact(n, "name")),
        (
            "/contact/address",
            "an address, telephone number or email to reach the complaining party (512(c)(3)(A)(iv))",
            _any_contact,
        ),
        (
            "/statements/good-faith",
            "a statement of good-faith belief that the use is not authorised (512(c)(3)(A)(v))",
            lambda n: _has_statement(n, "good-faith"),
        ),
        (
            "/statements/accuracy",
            "a statement that the information in the notice is accurate (512(c)(3)(A)(vi))",
            lambda n: _has_statement(n, "accuracy"),
        ),
        (
            "/statements/authority-under-penalty-of-perjury",
            "a statement, under penalty of perjury, of authority to act for the owner (512(c)(3)(A)(vi))",
            lambda n: _has_statement(n, "authority-under-penalty-of-perjury"),
        ),
    ),
    "dsa": (
        (
            "/grounds",
            "a sufficiently substantiated explanation why the information is illegal (DSA Art. 16(2)(a))",
            lambda n: n.grounds,
        ),
        (
            "/material/locations",
            "the exact electronic location of the information (DSA Art. 16(2)(b))",
            _exactly_located,
        ),
        ("/contact/name", "the notifier's name (DSA Art. 16(2)(c))", lambda n: _contact(n, "name")),
        (
            "/contact/email",
            "the notifier's email address (DSA Art. 16(2)(c))",
            lambda n: _contact(n, "email"),
        ),
        (
            "/statements/good-faith",
            "a statement of bona fide belief that the notice is accurate and complete (DSA Art. 16(2)(d))",
            lambda n: _has_statement(n, "good-faith"),
        ),
    ),
    "jp-platform": (
        ("/contact/name", "申出者の氏名 (the requester's name)", lambda n: _contact(n, "name")),
        (
            "/contact/email",
            "申出者の連絡先 (a contact for the operator's notice of its decision: email, address or phone)",
            _any_contact,
        ),
        ("/material/locations", "侵害情報の所在 (where the information is)", _located),
        (
            "/jp_platform/infringed_right",
            "侵害されたとする権利 (the right infringed)",
            lambda n: _jp(n, "infringed_right"),
        ),
        (
            "/jp_platform/reason",
            "権利が侵害されたとする理由 (why the right is infringed)",
            lambda n: _jp(n, "reason"),
        ),
    ),
    "no-fakes": (
        (
            "/subject/title",
            "the individual whose voice or likeness is replicated (NO FAKES Act notice): a title or a name",
            _individual_named,
        ),
        ("/material/locations", "the digital replica and where it is (NO FAKES Act notice)", _located),
        ("/signature", "a physical or electronic signature (NO FAKES Act notice)", lambda n: n.signature),
        ("/contact/name", "the notifier's name (NO FAKES Act notice)", lambda n: _contact(n, "name")),
        (
            "/contact/email",
            "how to reach the notifier: email, address or phone (NO FAKES Act notice)",
            _any_contact,
        ),
        (
            "/statements/good-faith",
            "a good-faith statement that the use is not authorised (NO FAKES Act notice)",
            lambda n: _has_statement(n, "good-faith"),
        ),
        (
            "/statements/authority",
            "a statement of authority to act for the individual (NO FAKES Act notice)",
            lambda n: _has_statement(n, "authority") or n.on_behalf_of is not None,
        ),
    ),
}


def missing_elements(notice: Notice) -> list[tuple[str, str]]:
    """Every element a selected regime requires and the notice lacks, as (pointer, reason) pairs.

    A regime whose subject kinds do not fit (DMCA protects copyrighted works, NO FAKES voices and
    likenesses) is reported on `/regimes/N`.
    """
    errors: list[tuple[str, str]] = []
    seen: set[str] = set()
    for number, regime in enumerate(notice.regimes):
        if regime == "dmca" and notice.subject.kind != "work":
            errors.append(
                (f"/regimes/{number}", "dmca covers copyrighted works; for a voice or likeness use no-fakes")
            )
        if regime == "no-fakes" and notice.subject.kind == "work":
            errors.append(
                (f"/regimes/{number}", "no-fakes covers voices and likenesses; for a work use dmca")
            )
        for pointer, reason, satisfied in REQUIREMENTS[regime]:
            if not satisfied(notice):
                errors.append((pointer, f"{regime}: missing {reason}"))
                seen.add(pointer)
    return errors


# ------------------------------------------------------------------ builders (CLI and tests)


def _pairs(items: Iterable[tuple[str, str] | Mapping[str, Any]], first: str) -> list[dict[str, Any]]:
    return [dict(item) if isinstance(item, Mapping) else {first: item[0], "value": item[1]} for item in items]


def new_notice(
    notifier: str,
    operator: str,
    *,
    kind: str,
    locations: Iterable[tuple[str, str] | Mapping[str, Any]],
    actions: Sequence[str],
    regimes: Sequence[str],
    created: datetime,
    identifiers: Iterable[tuple[str, str] | Mapping[str, Any]] = (),
    claims: Sequence[str] = (),
    title: str | None = None,
    description: str | None = None,
    material_description: str | None = None,
    grounds: str | None = None,
    contact: Mapping[str, str] | None = None,
    signature: str | None = None,
    statements: Mapping[str, str] | None = None,
    jp_platform: Mapping[str, str] | None = None,
    on_behalf_of: Mapping[str, str] | None = None,
    language: str | None = None,
    notify: Mapping[str, str] | None = None,
    nonce: str | None = None,
) -> dict[str, Any]:
    """An unsigned notice with everything in it, personal fields included: check it with
    `missing_elements`, then `registry.privacy.personal.split` it and sign the public document.
    Optional parts left out stay out. `notify` (`{"webhook": URL, "email": ADDRESS}`, either or
    both) asks the registry to tell the notifier of every change of state."""
    subject: dict[str, Any] = {"kind": kind}
    if identifiers:
        subject["identifiers"] = _pairs(identifiers, "scheme")
    if claims:
        subject["claims"] = list(claims)
    if title is not None:
        subject["title"] = title
    if description is not None:
        subject["description"] = description
    material: dict[str, Any] = {"locations": _pairs(locations, "kind")}
    if material_description is not None:
        material["description"] = material_description
    fields = {
        "type": "Notice",
        "notifier": notifier,
        "operator": operator,
        "subject": subject,
        "material": material,
        "actions": list(actions),
        "regimes": list(regimes),
    }
    optional = {
        "grounds": grounds,
        "contact": dict(contact) if contact else None,
        "signature": signature,
        "statements": dict(statements) if statements else None,
        "jp_platform": dict(jp_platform) if jp_platform else None,
        "on_behalf_of": dict(on_behalf_of) if on_behalf_of else None,
        "language": language,
        "notify": dict(notify) if notify else None,
    }
    return unsigned_document(fields, created=created, nonce=nonce, optional=optional)


def new_registration(
    operator: str,
    name: str,
    contact: str,
    *,
    created: datetime,
    webhook: str | None = None,
    contact_person: Mapping[str, str] | None = None,
    nonce: str | None = None,
) -> dict[str, Any]:
    """An unsigned operator registration; `registry.privacy.personal.split` it, then sign it."""
    return unsigned_document(
        {"type": "OperatorRegistration", "operator": operator, "name": name, "contact": contact},
        created=created,
        nonce=nonce,
        optional={"webhook": webhook, "contact_person": dict(contact_person) if contact_person else None},
    )


def new_response(
    by: str,
    notice_id: str,
    action: str,
    *,
    created: datetime,
    statement: str | None = None,
    actions_taken: Sequence[str] | None = None,
    legal_action: bool | None = None,
    automated: bool | None = None,
    contact: Mapping[str, str] | None = None,
    signature: str | None = None,
    nonce: str | None = None,
) -> dict[str, Any]:
    """An unsigned response to `notice_id`; `registry.privacy.personal.split` it, then sign it."""
    return unsigned_document(
        {"type": "NoticeResponse", "by": by, "notice": notice_id, "action": action},
        created=created,
        nonce=nonce,
        optional={
            "statement": statement,
            "actions_taken": list(actions_taken) if actions_taken else None,
            "legal_action": legal_action,
            "automated": automated,
            "contact": dict(contact) if contact else None,
            "signature": signature,
        },
    )


def new_dispute(
    claimant: str,
    claim_id: str,
    disputed_id: str,
    statement: str,
    *,
    created: datetime,
    nonce: str | None = None,
) -> dict[str, Any]:
    """An unsigned dispute of `disputed_id` by the claimant of `claim_id`."""
    return unsigned_document(
        {
            "type": "Dispute",
            "claimant": claimant,
            "claim": claim_id,
            "disputed": disputed_id,
            "statement": statement,
        },
        created=created,
        nonce=nonce,
    )


__all__ = [
    "REGIMES",
    "REQUESTED_ACTIONS",
    "RESPONSE_ACTIONS",
    "Contact",
    "Dispute",
    "Location",
    "Material",
    "Notice",
    "NoticeResponse",
    "NoticeSubject",
    "OperatorRegistration",
    "missing_elements",
    "new_dispute",
    "new_notice",
    "new_registration",
    "new_response",
    "operator_name_key",
    "validate_notice_document",
]

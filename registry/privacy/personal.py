"""Personal data beside a signed document: which fields are personal, the part that carries them, and
the salted commitment by which the logged document stays bound to it.

The transparency log is public and permanent, so the names, e-mail and postal addresses, phone
numbers and signatures of the people who file must never enter it. A document that would carry them
is split before it is signed: the *public document* goes to the log and carries `personal.commitment`;
the *personal part* travels beside it and is stored by the registry outside the log (encrypted, see
`registry.privacy.vault`), readable only by those entitled and erasable. The author signs the public
document, so the signature covers the commitment, and anyone given the part can check it was not
altered (`verify_part`) — and after erasure the commitment stays, revealing nothing.

The commitment is HMAC-SHA256 keyed with a fresh 32-byte salt over the RFC 8785 canonical JSON of the
personal fields (in the document's own shape: ``{"contact": {"name": …}, "signature": …}``), in
lower-case hex. The salt makes it hiding: without it nobody can test a guessed e-mail address
against the log.

Which fields are personal is decided here and nowhere else (`PERSONAL_FIELDS`). Each field says
which regimes ask for it; a field personal under one regime is personal under all (it is the same
person), so every listed field is split out whatever regimes a notice names, and no regime's export
carries any of them.

>>> public, part = split("Notice", {"type": "Notice", "contact": {"name": "Aoi", "email": "a@b.jp"},
...                                  "grounds": "copied"}, salt=bytes(32))
>>> public["grounds"], public["personal"]["commitment"][:16]
('copied', '91a3833add43baeb')
>>> "contact" in public
False
>>> part["data"]
{'contact': {'name': 'Aoi', 'email': 'a@b.jp'}}
>>> verify_part(public["personal"]["commitment"], part)
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field

import keys

__all__ = [
    "MAX_PART_BYTES",
    "PERSONAL_FIELDS",
    "PersonalCommitment",
    "PersonalField",
    "PersonalPartError",
    "commitment_of",
    "inline_pointers",
    "merge",
    "sign_split",
    "split",
    "verify_part",
]

MAX_PART_BYTES: Final = 16_384
"""The largest personal part accepted, in canonical bytes (contact details, not documents)."""

SALT_BYTES: Final = 32


@dataclass(frozen=True)
class PersonalField:
    """One field that names or reaches a person: where it sits, what it is, which regimes ask for it."""

    pointer: str
    what: str
    asked_by: tuple[str, ...]
    aliases: tuple[str, ...] = ()


PERSONAL_FIELDS: Final[Mapping[str, tuple[PersonalField, ...]]] = {
    "Notice": (
        PersonalField("/contact/name", "the notifier's name", ("dmca", "dsa", "jp-platform", "no-fakes")),
        PersonalField(
            "/contact/email", "the notifier's e-mail address", ("dmca", "dsa", "jp-platform", "no-fakes")
        ),
        PersonalField(
            "/contact/address", "the notifier's postal address", ("dmca", "jp-platform", "no-fakes")
        ),
        PersonalField(
            "/contact/phone", "the notifier's telephone number", ("dmca", "jp-platform", "no-fakes")
        ),
        PersonalField("/signature", "the notifier's signature (a name)", ("dmca", "no-fakes")),
        PersonalField(
            "/jp_platform/requester_address",
            "申出者の住所 (the requester's address)",
            ("jp-platform",),
            ("/jp_platform/住所",),
        ),
        # Where the notifier asked to be told of state changes (registry.notices.notify).
        PersonalField("/notify/webhook", "the webhook the notifier is told at", ()),
        PersonalField("/notify/email", "the e-mail address the notifier is told at", ()),
    ),
    "NoticeResponse": (
        # A counter-notice names whoever supplied the material (17 U.S.C. 512(g)(3)(A), (D)).
        PersonalField("/contact/name", "the counter-notifier's name", ("dmca", "dsa", "jp-platform")),
        PersonalField(
            "/contact/email", "the counter-notifier's e-mail address", ("dmca", "dsa", "jp-platform")
        ),
        PersonalField("/contact/address", "the counter-notifier's postal address", ("dmca",)),
        PersonalField("/contact/phone", "the counter-notifier's telephone number", ("dmca",)),
        PersonalField("/signature", "the counter-notifier's signature (a name)", ("dmca",)),
    ),
    "OperatorRegistration": (
        PersonalField("/contact_person/name", "the name of the operator's contact person", ()),
        PersonalField("/contact_person/email", "the contact person's own e-mail address", ()),
        PersonalField("/contact_person/address", "the contact person's postal address", ()),
        PersonalField("/contact_person/phone", "the contact person's telephone number", ()),
    ),
}
"""Per document type, the fields that never enter the log. A document type not listed has none."""


class PersonalPartError(ValueError):
    """A personal part that is malformed, too large or not the one committed to; `errors` lists
    (JSON pointer, reason) pairs and never repeats a value."""

    def __init__(self, message: str, errors: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.errors = list(errors) or [("/personal", message)]


class PersonalCommitment(BaseModel):
    """What a public document says of its personal part: the salted commitment, nothing else."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    commitment: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


def _pointers(document_type: str) -> list[tuple[str, ...]]:
    """Every pointer (aliases included) of the type's personal fields, as key paths."""
    paths = []
    for field in PERSONAL_FIELDS.get(document_type, ()):
        for pointer in (field.pointer, *field.aliases):
            paths.append(tuple(pointer.strip("/").split("/")))
    return paths


def _pointer(path: Sequence[str]) -> str:
    return "/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in path)


def inline_pointers(document_type: str, document: Mapping[str, Any]) -> list[str]:
    """The personal fields present in `document` itself (which must then not be logged)."""
    found = []
    for path in _pointers(document_type):
        node: Any = document
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if node is not None:
            found.append(_pointer(path))
    return found


def commitment_of(salt: bytes, data: Mapping[str, Any]) -> str:
    """HMAC-SHA256(salt, JCS(data)) in lower-case hex."""
    return hmac.new(salt, keys.canonicalize(dict(data)), hashlib.sha256).hexdigest()


def encode_salt(salt: bytes) -> str:
    return base64.urlsafe_b64encode(salt).rstrip(b"=").decode("ascii")


def decode_salt(text: object) -> bytes:
    """The 32-byte salt from its base64url form (no padding), or `PersonalPartError`."""
    if not isinstance(text, str) or len(text) != 43:
        raise PersonalPartError(
            "the salt is 32 bytes in base64url without padding", [("/personal/salt", "malformed")]
        )
    try:
        salt = base64.urlsafe_b64decode(text + "=")
    except (binascii.Error, ValueError):
        raise PersonalPartError("the salt is not base64url", [("/personal/salt", "malformed")]) from None
    if len(salt) != SALT_BYTES or encode_salt(salt) != text:
        raise PersonalPartError(
            "the salt is 32 bytes in base64url without padding", [("/personal/salt", "malformed")]
        )
    return salt


def split(
    document_type: str, document: Mapping[str, Any], *, salt: bytes | None = None
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(public document, personal part) from an unsigned document that still holds its personal fields.

    The public document gets `personal.commitment` when there was anything personal; containers left
    empty by the split (`contact`, `jp_platform`) are dropped. Without personal fields the part is
    None and the document is returned unchanged (a copy). Sign the public document, send both.
    """
    public = copy.deepcopy(dict(document))
    data: dict[str, Any] = {}
    for path in _pointers(document_type):
        parents: list[dict[str, Any]] = [public]
        node: Any = public
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
            if not isinstance(node, dict):
                break
            parents.append(node)
        else:
            if path[-1] not in node:
                continue
            target = data
            for key in path[:-1]:
                target = target.setdefault(key, {})
            target[path[-1]] = node.pop(path[-1])
            for depth in range(len(path) - 1, 0, -1):  # drop containers the split emptied
                if not parents[depth]:
                    del parents[depth - 1][path[depth - 1]]
    if not data:
        return public, None
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    public["personal"] = {"commitment": commitment_of(salt, data)}
    return public, {"salt": encode_salt(salt), "data": data}


def sign_split(
    document_type: str, document: Mapping[str, Any], key: keys.SigningKey, created: datetime
) -> dict[str, Any]:
    """The body a filer sends: the signed public document, with its personal part beside it
    (``{"document": …, "personal": …}``) when it has one, else the signed document alone."""
    public, part = split(document_type, document)
    signed = keys.sign_document(public, key, created=created)
    return signed if part is None else {"document": signed, "personal": part}


def merge(public: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """The document as its author wrote it: `public` with the personal `data` put back (for checking
    what a regime requires); `personal` is dropped, since it describes the split."""
    merged = copy.deepcopy({key: value for key, value in public.items() if key != "personal"})

    def put(target: dict[str, Any], source: Mapping[str, Any]) -> None:
        for key, value in source.items():
            if isinstance(value, Mapping) and isinstance(target.get(key), dict):
                put(target[key], value)
            else:
                target[key] = copy.deepcopy(value)

    put(merged, data)
    return merged


def parse_part(document_type: str, part: object) -> tuple[bytes, dict[str, Any]]:
    """(salt, data) of a personal part sent for a `document_type`, shape-checked, or `PersonalPartError`.

    Only the type's personal fields may appear in `data`; anything else belongs in the public document.
    """
    if not isinstance(part, dict) or set(part) != {"salt", "data"}:
        raise PersonalPartError(
            "a personal part is an object with exactly salt and data", [("/personal", "malformed")]
        )
    salt = decode_salt(part["salt"])
    data = part["data"]
    if not isinstance(data, dict) or not data:
        raise PersonalPartError(
            "the personal part's data is a non-empty object", [("/personal/data", "malformed")]
        )
    size = len(keys.canonicalize(part))
    if size > MAX_PART_BYTES:
        raise PersonalPartError(
            f"the personal part is {size} bytes; at most {MAX_PART_BYTES} are kept",
            [("/personal", "too large")],
        )
    allowed = set(_pointers(document_type))
    prefixes = {path[:depth] for path in allowed for depth in range(1, len(path))}
    errors: list[tuple[str, str]] = []

    def walk(node: Mapping[str, Any], path: tuple[str, ...]) -> None:
        for key, value in node.items():
            here = (*path, key)
            if here in allowed:
                continue
            if here in prefixes and isinstance(value, dict):
                walk(value, here)
            else:
                errors.append(
                    ("/personal/data" + _pointer(here), "not a personal field of a " + document_type)
                )

    walk(data, ())
    if errors:
        raise PersonalPartError(
            f"the personal part holds {len(errors)} field(s) that are not personal", errors
        )
    return salt, data


def verify_part(commitment: str, part: Mapping[str, Any]) -> None:
    """Raise `PersonalPartError` unless `part` is the one `commitment` was made to (constant time)."""
    salt = decode_salt(part.get("salt"))
    data = part.get("data")
    if not isinstance(data, Mapping):
        raise PersonalPartError("the personal part's data is an object", [("/personal/data", "malformed")])
    if not hmac.compare_digest(commitment_of(salt, data), commitment):
        raise PersonalPartError(
            "the personal part is not the one the signed document commits to",
            [("/personal", "does not match personal.commitment")],
        )

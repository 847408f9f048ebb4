"""W3C Data Integrity proofs, cryptosuite eddsa-jcs-2022: how every Kotowari document is signed.

The signature covers SHA-256(JCS(proof options)) || SHA-256(JCS(document without proof))
(vc-di-eddsa §3.3), so any change to the document or to the proof's own fields breaks it.
Only a single proof object is supported; proof sets and chains are refused.

Note the spec's @context rule (§3.3.2 step 4): when the proof carries "@context", the document's
"@context" must *start with* it, and only that prefix is signed. A verifier that cares about
extra trailing contexts must check them itself; `document_id` always covers the whole document.

>>> from datetime import UTC, datetime
>>> from keys.ed25519 import SigningKey
>>> key = SigningKey.generate()
>>> signed = sign_document({"claim": "no-train"}, key, created=datetime(2025, 1, 1, tzinfo=UTC))
>>> signed["proof"]["created"]
'2025-01-01T00:00:00Z'
>>> verify_document(signed).key == key.public
True
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from keys.base58 import b58decode, b58encode
from keys.canonical import (
    _JCS_STRING,
    _JCS_TEXT,
    MAX_SAFE_INTEGER,
    _canonical_without_floats,
    _encodes_as_jcs,
    canonicalize,
)
from keys.didkey import PREFIX as DID_KEY_PREFIX
from keys.didkey import key_for_verification_method, verification_method_for
from keys.ed25519 import SIGNATURE_SIZE, SigningKey, VerifyingKey
from keys.errors import InvalidJSON, InvalidKey, InvalidProof, InvalidSignature

__all__ = [
    "CRYPTOSUITE",
    "PROOF_TYPE",
    "VerifiedProof",
    "document_id",
    "sign_canonical",
    "sign_document",
    "verify_canonical_document",
    "verify_document",
]

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
_PROOF_VALUE_MAX = 100  # "z" + base58 of 64 bytes is at most 89 characters
_XSD_DATETIME = re.compile(
    r"(?P<year>-?\d{4,})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"T(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})(?P<fraction>\.\d+)?"
    r"(?:Z|[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00))?"
)


@dataclass(frozen=True)
class VerifiedProof:
    """What a valid proof established: who signed (method and key), when they said, and why."""

    verification_method: str
    key: VerifyingKey
    created: str | None
    proof_purpose: str


def sign_document(
    document: Mapping[str, Any],
    key: SigningKey,
    *,
    created: datetime | None = None,
    proof_purpose: str = "assertionMethod",
    verification_method: str | None = None,
    detached: bool = True,
) -> dict[str, Any]:
    """A new dict: a deep copy of `document` plus an eddsa-jcs-2022 "proof".

    `detached=False` is for hot paths that built `document` themselves and never change it (the
    guard signs a record per prompt): the result then shares its members instead of a parsed copy,
    a third of the cost, whenever the canonical form is certain without one (no floats).

    `created` (timezone-aware; defaults to now) is written as RFC 3339 UTC seconds. The
    verification method defaults to the key's did:key method; a did:key method naming another
    key is refused, as it could never verify. If the document has "@context", the proof
    repeats it, as the spec advises. A document that already has "proof" is refused.
    """
    if not isinstance(document, Mapping):
        raise TypeError(f"a document is a mapping, not {type(document).__name__}")
    if "proof" in document:
        raise InvalidProof("document already has a proof; proof sets and chains are not supported")
    if created is None:
        created = datetime.now(UTC)
    if created.tzinfo is None or created.utcoffset() is None:
        raise ValueError("created must be timezone-aware, so the signed time is unambiguous")
    if not isinstance(proof_purpose, str) or not proof_purpose:
        raise ValueError("proof_purpose must be a non-empty string")
    if verification_method is None:  # the key's own method: nothing to decode and compare
        multibase = key.public.multibase
        method = f"{DID_KEY_PREFIX}{multibase}#{multibase}"
    else:
        method = verification_method
        if method.startswith(DID_KEY_PREFIX) and key_for_verification_method(method) != key.public:
            raise ValueError("verification_method is a did:key for a different key than the signing key")
    members = dict(document)
    shared = None if detached else _canonical_without_floats(members)
    if shared is not None:
        canonical_document, unsecured = shared, members
    else:  # canonical bytes once: both what is hashed and, parsed back, the detached copy returned
        canonical_document = canonicalize(members)
        unsecured = json.loads(canonical_document, parse_int=_safe_int)
    context = unsecured.get("@context", _NO_CONTEXT)
    proof = _proof(canonical_document, context, key, created, proof_purpose, method)
    return {**unsecured, "proof": proof}


def sign_canonical(
    canonical_document: bytes,
    key: SigningKey,
    *,
    created: datetime,
    context: Any = None,
    proof_purpose: str = "assertionMethod",
) -> bytes:
    """`sign_document` for a document already in RFC 8785 form: the signed document's JSON bytes.

    For answers too large to build as dicts twice (a 10,000-item check): the caller assembles the
    canonical bytes (and must pass the document's "@context", if any); the proof is appended as
    the last member, so the result is valid JSON whose parse is exactly `sign_document`'s result
    (key order aside), though not itself canonical.
    """
    if created.tzinfo is None or created.utcoffset() is None:
        raise ValueError("created must be timezone-aware, so the signed time is unambiguous")
    if not canonical_document.startswith(b"{") or not canonical_document.endswith(b"}"):
        raise ValueError("a signed document is a JSON object")
    method = verification_method_for(key.did)
    proof = _proof(
        canonical_document, _NO_CONTEXT if context is None else context, key, created, proof_purpose, method
    )
    separator = b"," if canonical_document != b"{}" else b""
    # One copy of a document that may run to megabytes, not one per `+`.
    return b"".join((memoryview(canonical_document)[:-1], separator, b'"proof":', canonicalize(proof), b"}"))


_NO_CONTEXT: Any = object()


def _safe_int(literal: str) -> int:
    """An integer of the canonical form, refused beyond ±(2**53 - 1) as verifiers refuse it: RFC 8785
    writes a float between 2**53 and 1e21 (`2.0**53`) as such an integer, and a document signed with
    one could never be verified."""
    value = int(literal)
    if abs(value) > MAX_SAFE_INTEGER:
        raise InvalidJSON(f"number {literal} is beyond ±(2**53 - 1) once canonical (RFC 8785 writes it so)")
    return value


def _proof(
    canonical_document: bytes, context: Any, key: SigningKey, created: datetime, purpose: str, method: str
) -> dict[str, Any]:
    proof: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "verificationMethod": method,
        "proofPurpose": purpose,
    }
    if context is not _NO_CONTEXT:
        proof["@context"] = copy.deepcopy(context)
    hash_data = hashlib.sha256(canonicalize(proof)).digest() + hashlib.sha256(canonical_document).digest()
    proof["proofValue"] = "z" + b58encode(key.sign(hash_data))
    return proof


def verify_document(
    document: Mapping[str, Any],
    *,
    key: VerifyingKey | None = None,
    expected_purpose: str | None = "assertionMethod",
) -> VerifiedProof:
    """Check the document's single eddsa-jcs-2022 proof; raise `InvalidProof` saying why not.

    See `verify_canonical_document` for the rules; this is it without the canonical bytes.
    """
    return verify_canonical_document(document, key=key, expected_purpose=expected_purpose)[0]


def verify_canonical_document(
    document: Mapping[str, Any],
    *,
    key: VerifyingKey | None = None,
    expected_purpose: str | None = "assertionMethod",
) -> tuple[VerifiedProof, bytes]:
    """`verify_document`, also returning the document's RFC 8785 form, proof included (what a
    registry stores and hashes into the document id): the members are canonicalized once for both.

    Without `key`, the verificationMethod must be a did:key URL and is resolved offline. With
    `key`, the proof must verify under that key, which is how methods that cannot be resolved
    offline (e.g. "https://issuer.example/keys#z6Mk…") are checked; a did:key method must
    still name that same key. `expected_purpose=None` accepts any proofPurpose.
    """
    if type(document) is not dict and not isinstance(document, Mapping):  # a dict skips the ABC check
        raise InvalidProof("a signed document is a JSON object")
    if "proof" not in document:
        raise InvalidProof("document has no proof")
    proof = document["proof"]
    if isinstance(proof, list):
        raise InvalidProof("proof sets (a list of proofs) are not supported; expected one proof object")
    if type(proof) is not dict and not isinstance(proof, Mapping):
        raise InvalidProof("proof is not a JSON object")
    if proof.get("type") != PROOF_TYPE:
        raise InvalidProof(f"proof type {_show(proof.get('type'))} is not {PROOF_TYPE}")
    if proof.get("cryptosuite") != CRYPTOSUITE:
        raise InvalidProof(f"cryptosuite {_show(proof.get('cryptosuite'))} is not {CRYPTOSUITE}")
    signature = _decode_proof_value(proof.get("proofValue"))
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or not method:
        raise InvalidProof("proof has no verificationMethod")
    purpose = proof.get("proofPurpose")
    if not isinstance(purpose, str) or not purpose:
        raise InvalidProof("proof has no proofPurpose")
    if expected_purpose is not None and purpose != expected_purpose:
        raise InvalidProof(f"proofPurpose {purpose!r} is not the expected {expected_purpose!r}")
    created = proof.get("created")
    if created is not None and not _is_xsd_datetime(created):
        raise InvalidProof(f"proof created {_show(created)} is not an XML Schema dateTime")

    options = {name: value for name, value in proof.items() if name != "proofValue"}
    unsecured = {name: value for name, value in document.items() if name != "proof"}
    if "@context" in options:
        if not _starts_with(unsecured.get("@context"), options["@context"]):
            raise InvalidProof("the document's @context does not start with the proof's @context")
        unsecured["@context"] = options["@context"]

    if key is None or method.startswith(DID_KEY_PREFIX):
        try:
            named = key_for_verification_method(method)
        except InvalidKey as exc:
            raise InvalidProof(f"cannot resolve verificationMethod: {exc}") from exc
        if key is not None and named != key:
            raise InvalidProof("verificationMethod is a did:key for a different key than the one given")
        key = named
    parts = _parts_by_json(document, proof, options)
    try:
        canonical_options, signed_document, canonical = parts or _parts(document, proof, options, unsecured)
    except InvalidJSON as exc:
        raise InvalidProof(f"document has no canonical form: {exc}") from exc
    hash_data = hashlib.sha256(canonical_options).digest() + hashlib.sha256(signed_document).digest()
    try:
        key.verify(signature, hash_data)
    except InvalidSignature as exc:
        raise InvalidProof(f"proof signature does not verify with {key.multibase}") from exc
    verified = VerifiedProof(verification_method=method, key=key, created=created, proof_purpose=purpose)
    return verified, canonical


_Parts = tuple[bytes, bytes, bytes]
"""What a proof check canonicalizes: the proof options, the signed document, and the whole
document, proof included (what the registry stores)."""


def _parts(
    document: Mapping[str, Any], proof: Mapping[str, Any], options: dict[str, Any], unsecured: dict[str, Any]
) -> _Parts:
    """`_Parts` by the reference canonicalization (`canonicalize`), each part on its own."""
    before, after = _canonical_around(document, "proof")
    proof_member = b'"proof":' + canonicalize(dict(proof))
    # With "@context" in the proof, only the proof's prefix of the contexts is signed.
    signed_document = canonicalize(dict(unsecured)) if "@context" in options else _joined(before, None, after)
    return canonicalize(dict(options)), signed_document, _joined(before, proof_member, after)


def _parts_by_json(
    document: Mapping[str, Any], proof: Mapping[str, Any], options: dict[str, Any]
) -> _Parts | None:
    """`_parts` from one walk of the document, when the C JSON encoder writes its RFC 8785 form
    (`keys.canonical._encodes_as_jcs`; options and the signed document hold only what the
    document holds, so the walk covers them), else None, which leaves every refusal to `_parts`.

    `_parts` walked and encoded each part apart; here each member is written once, string values
    by the encoder's own string function, and the parts are joined from the members, as JCS is
    compositional. With every key in the BMP, sorting keys as `str` sorts them by UTF-16 code
    units, as RFC 8785 does. About a tenth of a verify less per document."""
    if "@context" in options or not _encodes_as_jcs(document):
        return None  # a proof with "@context" signs another @context: rare, so `_parts` does it
    string, encode = _JCS_STRING, _JCS_TEXT
    try:
        # `"name":value` of each member, in key order (keys are unique: items sort by key alone).
        proof_members = [
            f"{string(name)}:{string(value) if type(value) is str else encode(value)}"
            for name, value in sorted(proof.items())
        ]
        members = [
            f"{string(name)}:{string(value) if type(value) is str else encode(value)}"
            for name, value in sorted(document.items())
            if name != "proof"
        ]
        whole = [*members]
        whole.insert(sorted(document).index("proof"), '"proof":{' + ",".join(proof_members) + "}")
        del proof_members[sorted(proof).index("proofValue")]
        return (
            ("{" + ",".join(proof_members) + "}").encode("utf-8"),
            ("{" + ",".join(members) + "}").encode("utf-8"),
            ("{" + ",".join(whole) + "}").encode("utf-8"),
        )
    except (UnicodeEncodeError, RecursionError):  # a lone surrogate, or nesting too deep
        return None


def document_id(document: Mapping[str, Any]) -> str:
    """Lowercase hex SHA-256 of the document's canonical form, proof included: its registry id."""
    return hashlib.sha256(canonicalize(dict(document))).hexdigest()


def _canonical_around(document: Mapping[str, Any], name: str) -> tuple[bytes, bytes]:
    """RFC 8785 forms of the members sorting before and after `name` (by UTF-16 code units, as
    RFC 8785 sorts), leaving `name` out: JCS is compositional, so the document with or without
    that member is these two joined (`_joined`), and its bulk is canonicalized only once."""
    split = name.encode("utf-16-be")
    before: dict[Any, Any] = {}
    after: dict[Any, Any] = {}
    for member, value in document.items():
        if member == name:
            continue
        # A key that is not a string stays in `before`, where canonicalize refuses it by path.
        if isinstance(member, str) and member.encode("utf-16-be", "surrogatepass") > split:
            after[member] = value
        else:
            before[member] = value
    return canonicalize(before), canonicalize(after)


def _joined(before: bytes, member: bytes | None, after: bytes) -> bytes:
    """The canonical object of `before`'s members, then `member` (`"name":value`), then `after`'s."""
    parts = [part for part in (before[1:-1], member, after[1:-1]) if part]
    return b"{" + b",".join(parts) + b"}"


def _decode_proof_value(value: object) -> bytes:
    if not isinstance(value, str) or not value:
        raise InvalidProof("proof has no proofValue")
    if not value.startswith("z"):
        raise InvalidProof("proofValue is not multibase base58btc (it must start with 'z')")
    if len(value) > _PROOF_VALUE_MAX:
        raise InvalidProof("proofValue is too long for an Ed25519 signature")
    try:
        signature = b58decode(value[1:])
    except InvalidKey as exc:
        raise InvalidProof(f"proofValue is not base58btc: {exc}") from exc
    if len(signature) != SIGNATURE_SIZE:
        raise InvalidProof(f"proofValue holds {len(signature)} bytes, a signature is {SIGNATURE_SIZE}")
    return signature


def _starts_with(document_context: object, proof_context: object) -> bool:
    """Whether the document's @context begins with the proof's, value by value (§3.3.2 step 4).

    A list in the proof needs a list in the document, so a document cannot swap ["X"] for "X"
    and still verify; a single value in the proof may head a list in the document.
    """
    if isinstance(proof_context, list):
        if not isinstance(document_context, list) or len(document_context) < len(proof_context):
            return False
        pairs = list(zip(document_context, proof_context, strict=False))
    elif isinstance(document_context, list):
        pairs = [(document_context[0], proof_context)] if document_context else []
        if not pairs:
            return False
    else:
        pairs = [(document_context, proof_context)]
    try:
        return all(canonicalize(ours) == canonicalize(theirs) for ours, theirs in pairs)
    except InvalidJSON:
        return False


def _is_xsd_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return False
    return _is_xsd_datetime_cached(value) if len(value) <= 40 else _is_xsd_datetime_text(value)


def _is_xsd_datetime_text(value: str) -> bool:
    match = _XSD_DATETIME.fullmatch(value)
    if match is None:
        return False
    fraction = match.group("fraction") or ""
    parts = {name: int(match.group(name)) for name in ("year", "month", "day", "hour", "minute", "second")}
    if parts["hour"] == 24:  # XSD allows 24:00:00 as the end of a day, and nothing later
        return parts["minute"] == parts["second"] == 0 and fraction.strip(".0") == ""
    try:
        datetime(2000, parts["month"], parts["day"])  # leap-year-agnostic month/day check
    except ValueError:
        return False
    if parts["month"] == 2 and parts["day"] == 29 and not _is_leap(parts["year"]):
        return False
    return parts["hour"] < 24 and parts["minute"] < 60 and parts["second"] < 60


_is_xsd_datetime_cached = functools.lru_cache(maxsize=1024)(_is_xsd_datetime_text)
"""The documents of a bulk, or of one second's pooled filings, mostly share their `created`: each
time is checked once (2 us, 2% of a verify). Only short texts, so the cache stays small."""


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

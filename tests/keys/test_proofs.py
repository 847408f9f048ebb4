"""eddsa-jcs-2022 Data Integrity proofs: the W3C vectors, every one-character tamper, and properties."""

from __future__ import annotations

import copy
import hashlib
import json
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from keys import (
    InvalidJSON,
    InvalidKey,
    InvalidProof,
    InvalidSignature,
    SigningKey,
    VerifiedProof,
    VerifyingKey,
    b58decode,
    b58encode,
    canonicalize,
    document_id,
    parse_strict_json,
    sign_document,
    verification_method_for,
    verify_document,
)
from keys.canonical import MAX_SAFE_INTEGER

VECTORS = Path(__file__).parent / "vectors" / "vc-di-eddsa"
HTTPS_SET = VECTORS / "eddsa-jcs-2022"
DIDKEY_SET = VECTORS / "eddsa-jcs-2022-didkey"
KEY_PAIR = json.loads((VECTORS / "keyPair.json").read_text())
PUBLIC = VerifyingKey.from_multibase("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2")
SECRET = SigningKey.from_bytes(b58decode(KEY_PAIR["privateKeyMultibase"][1:])[2:])
CREATED = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)
HTTPS_METHOD = "https://vc.example/issuers/5678#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"


def text_of(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def load(path: Path) -> Any:
    return parse_strict_json(path.read_bytes())


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def reference_proof_value(document: dict[str, Any], proof_options: dict[str, Any], key: SigningKey) -> str:
    """The spec's Create Proof steps written out independently, with rfc8785 directly."""
    hash_data = sha256(rfc8785.dumps(proof_options)) + sha256(rfc8785.dumps(document))
    return "z" + b58encode(key.sign(hash_data))


# ---------------------------------------------------------------- W3C vc-di-eddsa vectors


def test_secret_key_of_the_vectors_matches_their_public_key() -> None:
    assert SECRET.public == PUBLIC
    assert KEY_PAIR["publicKeyMultibase"] == PUBLIC.multibase


def test_https_method_vector_verifies_with_an_explicit_key() -> None:
    result = verify_document(load(HTTPS_SET / "signedJCS.json"), key=PUBLIC)
    assert result == VerifiedProof(
        verification_method=HTTPS_METHOD,
        key=PUBLIC,
        created="2023-02-24T23:36:38Z",
        proof_purpose="assertionMethod",
    )


def test_https_method_vector_is_refused_without_a_key() -> None:
    # Only did:key methods resolve offline; an https method needs the caller's key.
    with pytest.raises(InvalidProof, match="not a did:key") as caught:
        verify_document(load(HTTPS_SET / "signedJCS.json"))
    assert isinstance(caught.value.__cause__, InvalidKey)


def test_didkey_method_vector_verifies_by_resolving_its_did() -> None:
    result = verify_document(load(DIDKEY_SET / "signedJCS.json"))
    assert result.key == PUBLIC
    assert result.verification_method == verification_method_for(PUBLIC.did)


def test_https_method_vector_intermediate_values() -> None:
    signed = load(HTTPS_SET / "signedJCS.json")
    unsigned = {name: value for name, value in signed.items() if name != "proof"}
    options = {name: value for name, value in signed["proof"].items() if name != "proofValue"}
    assert canonicalize(unsigned) == (HTTPS_SET / "canonDocJCS.txt").read_bytes()
    assert sha256(canonicalize(unsigned)).hex() == text_of(HTTPS_SET / "docHashJCS.txt")
    assert options == load(HTTPS_SET / "proofConfigJCS.json")
    assert sha256(canonicalize(options)).hex() == text_of(HTTPS_SET / "proofHashJCS.txt")
    assert b58decode(signed["proof"]["proofValue"][1:]).hex() == text_of(HTTPS_SET / "sigHexJCS.txt")
    combined = sha256(canonicalize(options)) + sha256(canonicalize(unsigned))
    PUBLIC.verify(bytes.fromhex(text_of(HTTPS_SET / "sigHexJCS.txt")), combined)


def test_didkey_method_vector_intermediate_values() -> None:
    signed = load(DIDKEY_SET / "signedJCS.json")
    unsigned = {name: value for name, value in signed.items() if name != "proof"}
    options = {name: value for name, value in signed["proof"].items() if name != "proofValue"}
    assert canonicalize(options) == (DIDKEY_SET / "proofCanonJCS.txt").read_bytes()
    assert sha256(canonicalize(options)).hex() == text_of(DIDKEY_SET / "proofHashJCS.txt")
    combined = sha256(canonicalize(options)) + sha256(canonicalize(unsigned))
    assert combined.hex() == text_of(DIDKEY_SET / "combinedHashJCS.txt")
    assert SECRET.sign(combined).hex() == text_of(DIDKEY_SET / "sigHexJCS.txt")
    assert signed["proof"]["proofValue"] == text_of(DIDKEY_SET / "sigBTC58JCS.txt")
    assert unsigned == load(VECTORS / "unsigned.json")


def test_signing_unsigned_vector_reproduces_the_https_method_proof_exactly() -> None:
    signed = sign_document(
        load(VECTORS / "unsigned.json"), SECRET, created=CREATED, verification_method=HTTPS_METHOD
    )
    expected = load(HTTPS_SET / "signedJCS.json")
    assert signed["proof"]["proofValue"] == expected["proof"]["proofValue"]
    assert signed == expected


def test_signing_unsigned_vector_reproduces_the_didkey_method_proof_exactly() -> None:
    signed = sign_document(load(VECTORS / "unsigned.json"), SECRET, created=CREATED)
    assert signed == load(DIDKEY_SET / "signedJCS.json")
    assert canonicalize(signed) == canonicalize(json.loads(text_of(DIDKEY_SET / "signedJCS.json")))


def one_character_changes(text: str, replacements: str) -> Any:
    """Every text that differs from `text` in exactly one character drawn from `replacements`."""
    for position, original in enumerate(text):
        for replacement in replacements:
            if replacement != original:
                yield position, text[:position] + replacement + text[position + 1 :]


PRINTABLE_ASCII = "".join(chr(code) for code in range(0x20, 0x7F))


def test_every_one_character_change_of_the_signed_vector_is_refused() -> None:
    """Required: each position of the file, each printable ASCII character and a few others."""
    text = text_of(HTTPS_SET / "signedJCS.json")
    original = json.loads(text)
    checked = 0
    for position, changed in one_character_changes(text, PRINTABLE_ASCII + "é\u0301\u00a0😀"):
        try:
            value = json.loads(changed)
        except ValueError:
            continue  # no longer JSON at all
        if value == original:
            continue  # e.g. one whitespace character for another
        checked += 1
        try:
            verify_document(parse_strict_json(changed.encode("utf-8")), key=PUBLIC)
        except (InvalidProof, InvalidJSON):
            continue
        pytest.fail(
            f"change at position {position} verified: {changed[max(0, position - 20) : position + 20]!r}"
        )
    assert checked > 60_000  # the loop really exercised the file


def test_every_one_character_change_of_the_didkey_vector_is_refused() -> None:
    # Without an explicit key, so a changed verificationMethod is resolved (or refused) too.
    text = text_of(DIDKEY_SET / "signedJCS.json")
    original = json.loads(text)
    for position, changed in one_character_changes(text, "01zA\"' :#,\\é"):
        try:
            value = json.loads(changed)
        except ValueError:
            continue
        if value == original:
            continue
        try:
            verify_document(parse_strict_json(changed.encode("utf-8")))
        except (InvalidProof, InvalidJSON):
            continue
        pytest.fail(f"change at position {position} verified")


# ---------------------------------------------------------------- refusals, one rule at a time


@pytest.fixture
def signed() -> dict[str, Any]:
    document = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "Claim", "deny": ["train-ai"]}
    return sign_document(document, SECRET, created=CREATED)


def with_proof(document: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    for name, value in changes.items():
        if value is None:
            changed["proof"].pop(name, None)
        else:
            changed["proof"][name] = value
    return changed


def test_signed_fixture_verifies(signed: dict[str, Any]) -> None:
    assert verify_document(signed).key == PUBLIC
    assert verify_document(signed, key=PUBLIC).key == PUBLIC


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ({"type": "Claim"}, "no proof"),
        ({"type": "Claim", "proof": "zSig"}, "not a JSON object"),
        ({"type": "Claim", "proof": None}, "not a JSON object"),
    ],
)
def test_documents_without_a_proof_object_are_refused(document: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidProof, match=reason):
        verify_document(document)


def test_non_mapping_document_is_refused() -> None:
    with pytest.raises(InvalidProof):
        verify_document(["proof"])  # type: ignore[arg-type]


def test_proof_sets_are_refused_saying_so(signed: dict[str, Any]) -> None:
    as_set = {**signed, "proof": [signed["proof"]]}
    with pytest.raises(InvalidProof, match=r"proof sets \(a list of proofs\) are not supported"):
        verify_document(as_set)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"type": "Ed25519Signature2020"}, "proof type"),
        ({"type": None}, "proof type"),
        ({"cryptosuite": "eddsa-rdfc-2022"}, "cryptosuite"),
        ({"cryptosuite": None}, "cryptosuite"),
        ({"proofValue": None}, "no proofValue"),
        ({"proofValue": ""}, "no proofValue"),
        ({"proofValue": 7}, "no proofValue"),
        ({"proofValue": "u" + "A" * 86}, "must start with 'z'"),
        ({"proofValue": "z" + "0" * 80}, "not base58btc"),
        ({"proofValue": "z" + b58encode(bytes(range(1, 64)))}, "63 bytes"),
        ({"proofValue": "z" + b58encode(bytes(range(1, 66)))}, "65 bytes"),
        ({"proofValue": "z" + "2" * 5000}, "too long"),
        ({"verificationMethod": None}, "no verificationMethod"),
        ({"verificationMethod": ""}, "no verificationMethod"),
        ({"proofPurpose": None}, "no proofPurpose"),
        ({"proofPurpose": "authentication"}, "not the expected"),
        ({"created": "yesterday"}, "dateTime"),
        ({"created": "2023-02-30T00:00:00Z"}, "dateTime"),
        ({"created": "2023-02-24T23:36:60Z"}, "dateTime"),
        ({"created": 1677281798}, "dateTime"),
    ],
)
def test_malformed_or_unsupported_proofs_are_refused(
    signed: dict[str, Any], changes: dict[str, Any], reason: str
) -> None:
    with pytest.raises(InvalidProof, match=reason):
        verify_document(with_proof(signed, **changes), key=PUBLIC)


def test_proof_value_from_another_signature_is_refused(signed: dict[str, Any]) -> None:
    other = sign_document({"type": "Other"}, SECRET, created=CREATED)
    with pytest.raises(InvalidProof, match="does not verify") as caught:
        verify_document(with_proof(signed, proofValue=other["proof"]["proofValue"]))
    assert isinstance(caught.value.__cause__, InvalidSignature)


def test_signature_by_another_key_is_refused() -> None:
    with pytest.raises(InvalidProof, match="does not verify") as caught:
        verify_document(load(HTTPS_SET / "signedJCS.json"), key=SigningKey.generate().public)
    assert isinstance(caught.value.__cause__, InvalidSignature)


def test_verification_method_naming_another_did_key_is_refused(signed: dict[str, Any]) -> None:
    other = SigningKey.generate()
    with pytest.raises(InvalidProof):
        verify_document(with_proof(signed, verificationMethod=verification_method_for(other.did)))


@pytest.mark.parametrize(
    "method",
    [
        "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
        "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#key-1",
        "did:web:vc.example#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
    ],
)
def test_unresolvable_verification_method_is_refused_without_a_key(
    signed: dict[str, Any], method: str
) -> None:
    with pytest.raises(InvalidProof, match="cannot resolve verificationMethod") as caught:
        verify_document(with_proof(signed, verificationMethod=method))
    assert isinstance(caught.value.__cause__, InvalidKey)


def test_explicit_key_must_match_a_did_key_verification_method() -> None:
    other = SigningKey.generate()
    signed = sign_document({"x": 1}, other, created=CREATED)
    assert verify_document(signed, key=other.public).key == other.public
    with pytest.raises(InvalidProof, match="different key"):
        verify_document(signed, key=PUBLIC)


def test_explicit_key_does_not_excuse_a_malformed_did_key_method(signed: dict[str, Any]) -> None:
    with pytest.raises(InvalidProof, match="cannot resolve"):
        verify_document(with_proof(signed, verificationMethod=f"{PUBLIC.did}#key-1"), key=PUBLIC)


def test_signing_for_another_keys_did_key_method_is_refused() -> None:
    with pytest.raises(ValueError, match="different key"):
        sign_document(
            {"x": 1}, SECRET, verification_method=verification_method_for(SigningKey.generate().did)
        )


def test_purpose_can_be_chosen_or_left_open(signed: dict[str, Any]) -> None:
    authentication = sign_document({"type": "Login"}, SECRET, created=CREATED, proof_purpose="authentication")
    assert (
        verify_document(authentication, expected_purpose="authentication").proof_purpose == "authentication"
    )
    assert verify_document(authentication, expected_purpose=None).proof_purpose == "authentication"
    with pytest.raises(InvalidProof, match="proofPurpose"):
        verify_document(authentication)
    with pytest.raises(InvalidProof, match="proofPurpose"):
        verify_document(signed, expected_purpose="authentication")


@pytest.mark.parametrize(
    "context",
    [
        ["https://www.w3.org/ns/credentials/examples/v2"],
        "https://www.w3.org/ns/credentials/v2",
        [],
        None,
    ],
)
def test_document_context_that_does_not_start_with_the_proof_context_is_refused(
    signed: dict[str, Any], context: Any
) -> None:
    changed = copy.deepcopy(signed)
    if context is None:
        del changed["@context"]
    else:
        changed["@context"] = context
    with pytest.raises(InvalidProof, match="@context"):
        verify_document(changed)


def test_appended_document_context_still_verifies_as_the_spec_says(signed: dict[str, Any]) -> None:
    # vc-di-eddsa §3.3.2 step 4: only the proof's @context prefix is signed. The document id
    # still changes, so the registry can tell the two documents apart.
    extended = copy.deepcopy(signed)
    extended["@context"].append("https://example.org/extra/v1")
    assert verify_document(extended).key == PUBLIC
    assert document_id(extended) != document_id(signed)


def test_proof_context_as_a_string_matches_a_document_context_list() -> None:
    signed = sign_document(
        {"@context": "https://www.w3.org/ns/credentials/v2", "x": 1}, SECRET, created=CREATED
    )
    assert signed["proof"]["@context"] == "https://www.w3.org/ns/credentials/v2"
    verify_document(signed)
    listed = {**signed, "@context": ["https://www.w3.org/ns/credentials/v2", "https://example.org/v1"]}
    verify_document(listed)


def test_document_that_cannot_be_canonicalized_is_refused(signed: dict[str, Any]) -> None:
    with pytest.raises(InvalidProof, match="canonical"):
        verify_document({**signed, "size": 2**60})


def test_proof_without_created_verifies_when_signed_that_way() -> None:
    document = {"type": "Claim"}
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "verificationMethod": verification_method_for(SECRET.did),
        "proofPurpose": "assertionMethod",
    }
    signed = {
        **document,
        "proof": {**options, "proofValue": reference_proof_value(document, options, SECRET)},
    }
    assert verify_document(signed).created is None


@pytest.mark.parametrize(
    "created",
    [
        "2023-02-24T23:36:38Z",
        "2023-02-24T23:36:38.123456Z",
        "2023-02-24T23:36:38+09:00",
        "2024-02-29T24:00:00",
    ],
)
def test_xml_schema_datetimes_are_accepted_as_created(created: str) -> None:
    document = {"type": "Claim"}
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": created,
        "verificationMethod": verification_method_for(SECRET.did),
        "proofPurpose": "assertionMethod",
    }
    signed = {
        **document,
        "proof": {**options, "proofValue": reference_proof_value(document, options, SECRET)},
    }
    assert verify_document(signed).created == created


# ---------------------------------------------------------------- signing


def test_document_that_already_has_a_proof_is_refused(signed: dict[str, Any]) -> None:
    with pytest.raises(InvalidProof, match="already has a proof"):
        sign_document(signed, SECRET, created=CREATED)


def test_naive_created_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_document({"type": "Claim"}, SECRET, created=datetime(2025, 1, 1))


def test_created_is_written_as_utc_seconds() -> None:
    tokyo = timezone(timedelta(hours=9))
    signed = sign_document({"x": 1}, SECRET, created=datetime(2025, 4, 1, 9, 0, 0, 999_999, tzinfo=tokyo))
    assert signed["proof"]["created"] == "2025-04-01T00:00:00Z"


def test_created_defaults_to_now() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    signed = sign_document({"x": 1}, SECRET)
    after = datetime.now(UTC)
    created = datetime.strptime(signed["proof"]["created"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert before <= created <= after


def test_proof_has_exactly_the_promised_members() -> None:
    signed = sign_document({"x": 1}, SECRET, created=CREATED)
    assert signed["proof"] == {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-jcs-2022",
        "created": "2023-02-24T23:36:38Z",
        "verificationMethod": f"{PUBLIC.did}#{PUBLIC.multibase}",
        "proofPurpose": "assertionMethod",
        "proofValue": signed["proof"]["proofValue"],
    }
    assert "@context" not in signed["proof"]


def test_signing_returns_a_new_document_that_later_edits_cannot_reach() -> None:
    document = {"subject": {"names": ["ことわり"]}}
    signed = sign_document(document, SECRET, created=CREATED)
    assert "proof" not in document
    document["subject"]["names"].append("changed")
    verify_document(signed)


def test_signing_refuses_a_document_without_a_canonical_form() -> None:
    with pytest.raises(InvalidJSON, match="not a JSON number"):
        sign_document({"x": float("nan")}, SECRET, created=CREATED)


def test_signing_a_non_mapping_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        sign_document([1, 2], SECRET)  # type: ignore[arg-type]


# ---------------------------------------------------------------- document ids


def test_document_id_is_sha256_of_the_canonical_form_with_the_proof(signed: dict[str, Any]) -> None:
    assert document_id(signed) == hashlib.sha256(rfc8785.dumps(signed)).hexdigest()
    stripped = {name: value for name, value in signed.items() if name != "proof"}
    assert document_id(signed) != document_id(stripped)


def test_document_id_of_the_vector_ignores_formatting() -> None:
    text = text_of(HTTPS_SET / "signedJCS.json")
    compact = json.dumps(json.loads(text), separators=(",", ":"), sort_keys=True)
    identifier = document_id(parse_strict_json(text))
    assert identifier == document_id(parse_strict_json(compact))
    assert len(identifier) == 64 and identifier == identifier.lower()
    assert identifier == hashlib.sha256(canonicalize(json.loads(text))).hexdigest()


# ---------------------------------------------------------------- properties

nfc_text = st.text(max_size=10).map(lambda text: unicodedata.normalize("NFC", text))
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | st.floats(allow_nan=False, allow_infinity=False).filter(
        lambda number: not MAX_SAFE_INTEGER < abs(number) < 1e21
    )
    | nfc_text
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(nfc_text, children, max_size=4),
    max_leaves=16,
)
contexts = (
    st.none() | nfc_text | st.lists(nfc_text | st.dictionaries(nfc_text, nfc_text, max_size=2), max_size=3)
)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    document = draw(
        st.dictionaries(nfc_text.filter(lambda key: key not in ("proof", "@context")), json_values)
    )
    context = draw(contexts)
    if context is not None:
        document["@context"] = context
    return document


def string_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every string value (not key) inside a JSON value."""
    if isinstance(value, str):
        return [path]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in string_paths(item, (*path, key))]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in string_paths(item, (*path, index))]
    return []


seeds = st.binary(min_size=32, max_size=32)


@settings(deadline=None)
@given(documents(), seeds)
def test_any_document_round_trips_through_sign_and_verify(document: dict[str, Any], seed: bytes) -> None:
    key = SigningKey.from_bytes(seed)
    signed = sign_document(document, key, created=CREATED)
    assert {name: value for name, value in signed.items() if name != "proof"} == document
    assert verify_document(signed) == VerifiedProof(
        verification_method=verification_method_for(key.did),
        key=key.public,
        created="2023-02-24T23:36:38Z",
        proof_purpose="assertionMethod",
    )
    assert verify_document(signed, key=key.public).key == key.public


@settings(deadline=None)
@given(documents(), seeds)
def test_signed_documents_survive_serialization_and_strict_parsing(
    document: dict[str, Any], seed: bytes
) -> None:
    signed = sign_document(document, SigningKey.from_bytes(seed), created=CREATED)
    for text in (json.dumps(signed), json.dumps(signed, ensure_ascii=False, indent=1), canonicalize(signed)):
        reparsed = parse_strict_json(text)
        verify_document(reparsed)
        assert document_id(reparsed) == document_id(signed)


@settings(deadline=None)
@given(documents(), seeds)
def test_proof_value_matches_an_independent_implementation(document: dict[str, Any], seed: bytes) -> None:
    key = SigningKey.from_bytes(seed)
    signed = sign_document(document, key, created=CREATED)
    options = {name: value for name, value in signed["proof"].items() if name != "proofValue"}
    assert signed["proof"]["proofValue"] == reference_proof_value(document, options, key)


@settings(deadline=None)
@given(documents(), seeds, st.data())
def test_tampering_any_string_value_makes_verification_fail(
    document: dict[str, Any], seed: bytes, data: st.DataObject
) -> None:
    key = SigningKey.from_bytes(seed)
    signed = sign_document(document, key, created=CREATED)
    path = data.draw(st.sampled_from(string_paths(signed)))  # the proof always has strings
    tampered = copy.deepcopy(signed)
    holder = tampered
    for step in path[:-1]:
        holder = holder[step]
    original: str = holder[path[-1]]
    replacement = data.draw(nfc_text.filter(lambda text: text != original))
    holder[path[-1]] = replacement
    with pytest.raises(InvalidProof):
        verify_document(tampered)
    with pytest.raises(InvalidProof):
        verify_document(tampered, key=key.public)

"""`verify_canonical_document`: the same verdicts as `verify_document`, and the document's RFC 8785
bytes exactly as `canonicalize` writes them (intake stores and hashes them), from one pass."""

from __future__ import annotations

import copy
import unicodedata
from datetime import UTC, datetime
from typing import Any

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from keys import (
    InvalidJSON,
    InvalidProof,
    SigningKey,
    b58decode,
    canonicalize,
    sign_document,
    verify_canonical_document,
    verify_document,
)
from keys.canonical import MAX_SAFE_INTEGER, _canonical_without_floats
from keys.errors import InvalidKey

KEY = SigningKey.generate()
WHEN = datetime(2026, 1, 1, tzinfo=UTC)

# Member names around "proof" in UTF-16 order, astral ones (which sort below U+E000-U+FFFF in
# UTF-16 but above them by code point) and the BMP's top included.
text = st.text(st.characters(exclude_categories=["Cs"]), max_size=6).map(
    lambda value: unicodedata.normalize("NFC", value)
)
names = st.one_of(
    st.sampled_from(["proof0", "proo", "proofs", "pro", "q", "a", "", "\uffff", "\U0001f600", "Proof"]), text
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER),
    # (an integral float beyond 2**53 signs, but reads back as an unsafe integer: not a document)
    st.floats(allow_nan=False, allow_infinity=False).filter(
        lambda x: not x.is_integer() or abs(x) <= MAX_SAFE_INTEGER
    ),
    text,
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=3),
    max_leaves=8,
)
documents = st.dictionaries(names.filter(lambda name: name != "proof"), values, max_size=8)


def _canonical_at_all(document: dict[str, Any]) -> bool:
    try:
        canonicalize(document)
    except InvalidJSON:  # floats beyond 2**53 that are integers, and the like
        return False
    return True


@given(documents)
def test_the_canonical_bytes_are_canonicalize_of_the_signed_document(document: dict[str, Any]):
    if not _canonical_at_all(document):
        return
    signed = sign_document(document, KEY, created=WHEN)
    expected = verify_document(signed)
    verified, canonical = verify_canonical_document(signed)
    assert canonical == canonicalize(signed) == rfc8785.dumps(signed)
    assert verified == expected


@given(documents, st.sampled_from(["a", "proofs", "zz", "\U0001f600"]))
def test_a_member_added_after_signing_breaks_the_proof_on_either_side_of_it(
    document: dict[str, Any], name: str
):
    if not _canonical_at_all(document) or name in document:
        return
    signed = sign_document(document, KEY, created=WHEN)
    signed[name] = "added"
    with pytest.raises(InvalidProof, match="does not verify"):
        verify_canonical_document(signed)


def test_a_proof_with_a_context_signs_only_that_prefix_and_the_bytes_are_still_the_whole_document():
    signed = sign_document({"@context": ["https://a.example/v1"], "x": 1}, KEY, created=WHEN)
    assert signed["proof"]["@context"] == ["https://a.example/v1"]
    extended = copy.deepcopy(signed)
    extended["@context"].append("https://b.example/v1")
    verified, canonical = verify_canonical_document(extended)
    assert verified.key == KEY.public and canonical == canonicalize(extended)


def test_a_document_without_a_canonical_form_is_refused_as_a_proof_error():
    signed = sign_document({"x": 1}, KEY, created=WHEN)
    unsafe = {**signed, "big": MAX_SAFE_INTEGER + 1}
    with pytest.raises(InvalidProof, match="no canonical form"):
        verify_canonical_document(unsafe)
    with pytest.raises(InvalidProof, match="no canonical form"):
        verify_canonical_document({**signed, 7: "not a string key"})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("text", "where"),
    [("0abc", "'0' at position 0"), ("abcI", "'I' at position 3"), ("ab\u00e9z", "'é' at position 2")],
)
def test_base58_names_the_first_character_outside_the_alphabet(text: str, where: str):
    with pytest.raises(InvalidKey, match=where):
        b58decode(text)


@given(documents)
def test_signing_without_a_detached_copy_signs_the_same_bytes(document: dict[str, Any]):
    """`detached=False` (the guard's per-prompt records) must give the same signed document as the
    copying path, and share the caller's members only when the canonical form is certain without a copy."""
    if not _canonical_at_all(document):
        return
    copied = sign_document(document, KEY, created=WHEN)
    shared = sign_document(document, KEY, created=WHEN, detached=False)
    assert canonicalize(shared) == canonicalize(copied)  # Ed25519 is deterministic: the same proof too
    assert verify_document(shared).key == KEY.public
    certain = _canonical_without_floats(document) is not None  # no floats, no astral member names
    for name in (name for name, value in document.items() if isinstance(value, dict | list) and value):
        assert (shared[name] is document[name]) == certain, name

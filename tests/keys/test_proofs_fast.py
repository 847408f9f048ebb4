"""The proof check's fast paths, each against the reference it replaces (`keys.proofs`, `keys.canonical`).

- `_parts_by_json` (one walk, each member written once) gives exactly the bytes `_parts` (each part
  canonicalized on its own) gives, or None, and None whenever `_parts` refuses.
- `verify_canonical_document` with the fast parts gives every document, signed, tampered or
  malformed, the verdict and bytes it gives with the reference parts alone: same result, same refusal.
- The cached `created` check answers as the uncached one; the prebuilt plain decoder parses as
  `json.loads` with the same hooks; `_JCS_STRING` writes strings as `json.dumps` does.
"""

from __future__ import annotations

import copy
import json
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from keys import InvalidJSON, InvalidProof, SigningKey, canonicalize, proofs, sign_document
from keys import canonical as jcs
from keys.canonical import MAX_SAFE_INTEGER

KEY = SigningKey.generate()
OTHER = SigningKey.generate()
WHEN = datetime(2026, 1, 1, tzinfo=UTC)

text = st.text(st.characters(exclude_categories=["Cs"]), max_size=6).map(
    lambda value: unicodedata.normalize("NFC", value)
)
# Lone surrogates (no UTF-8 form) and astral names (UTF-16 order differs from code point order).
awkward = st.one_of(text, st.sampled_from(["\ud800", "a\udfff", "\U0001f600", "\uffff", "proof\x00"]))
names = st.one_of(
    st.sampled_from(["proof0", "proo", "proofs", "proofValue", "proofValud", "type", "@context", "", "q"]),
    awkward,
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-MAX_SAFE_INTEGER - 2, MAX_SAFE_INTEGER + 2),  # just beyond the safe range too
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(),
    awkward,
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner) | st.dictionaries(names, inner, max_size=3),
    max_leaves=8,
)
documents = st.dictionaries(names.filter(lambda name: name != "proof"), values, max_size=6)


def _outcome(check: Callable[[], Any]) -> Any:
    try:
        return ("ok", check())
    except (InvalidProof, InvalidJSON) as exc:
        return (type(exc).__name__, str(exc))


def _reference_verify(document: Any, **kwargs: Any) -> Any:
    with mock.patch.object(proofs, "_parts_by_json", lambda *args: None):
        return _outcome(lambda: proofs.verify_canonical_document(document, **kwargs))


@st.composite
def proved(draw: st.DrawFn) -> dict[str, Any]:
    """A signed document, then perhaps tampered with: members changed, added or removed, the proof's
    own members changed or extended (a "@context" included), in the document or the proof."""
    document = draw(documents)
    if draw(st.booleans()):
        document["@context"] = draw(st.sampled_from(["https://a.example/v1", ["https://a.example/v1", "x"]]))
    key = draw(st.sampled_from([KEY, OTHER]))
    try:
        signed = sign_document(document, key, created=WHEN)
    except InvalidJSON:  # no canonical form, or one that reads back as an unsafe integer
        signed = sign_document({"x": 1}, key, created=WHEN)
    for _ in range(draw(st.integers(0, 2))):
        target = signed["proof"] if draw(st.booleans()) else signed
        name = draw(names)
        if draw(st.booleans()) and name in target and name != "proof":
            del target[name]
        elif name != "proof":
            target[name] = draw(values)
    return signed


def _parts_of(document: dict[str, Any]) -> tuple[Any, ...]:
    proof = document["proof"]
    options = {name: value for name, value in proof.items() if name != "proofValue"}
    unsecured = {name: value for name, value in document.items() if name != "proof"}
    if "@context" in options:
        unsecured["@context"] = options["@context"]
    return proof, options, unsecured


@given(proved())
def test_the_fast_parts_are_the_reference_parts_or_none(document: dict[str, Any]):
    proof, options, unsecured = _parts_of(document)
    if not isinstance(proof.get("proofValue"), str) or not proof["proofValue"]:
        return  # verification refuses such a proof before it canonicalizes anything
    fast = proofs._parts_by_json(document, proof, options)
    reference = _outcome(lambda: proofs._parts(document, proof, options, unsecured))
    if fast is not None:
        assert reference == ("ok", fast)


@settings(max_examples=300)
@given(proved(), st.sampled_from([None, KEY, OTHER]), st.sampled_from(["assertionMethod", None]))
def test_verification_with_the_fast_parts_gives_the_reference_verdict(
    document: dict[str, Any], key: SigningKey | None, purpose: str | None
):
    kwargs = {"key": None if key is None else key.public, "expected_purpose": purpose}
    expected = _reference_verify(copy.deepcopy(document), **kwargs)
    assert _outcome(lambda: proofs.verify_canonical_document(document, **kwargs)) == expected


def test_the_fast_parts_leave_every_refusal_to_the_reference():
    signed = sign_document({"x": "y"}, KEY, created=WHEN)
    deep: list[Any] = []
    for _ in range(5000):  # the walk takes it; encoding it meets the recursion limit
        deep = [deep]
    refused = [{**signed, "s": "\ud800"}, {**signed, "n": MAX_SAFE_INTEGER + 1}, {**signed, 7: "k"}]
    for bad in [*refused, {**signed, "deep": deep}]:
        proof, options, _ = _parts_of(bad)  # type: ignore[arg-type]
        assert proofs._parts_by_json(bad, proof, options) is None  # type: ignore[arg-type]
        assert _outcome(lambda bad=bad: proofs.verify_canonical_document(bad))[0] == "InvalidProof"  # type: ignore[misc]
    verified, canonical = proofs.verify_canonical_document(signed)
    assert verified.key == KEY.public and canonical == canonicalize(signed)


datetimes = st.one_of(
    st.datetimes().map(lambda when: when.isoformat()),
    st.from_regex(r"-?\d{4,6}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?(Z|[+-]\d\d:\d\d)?", fullmatch=True),
    st.text(max_size=50),
)


@given(datetimes)
def test_the_cached_created_check_answers_as_the_uncached_one(value: str):
    expected = proofs._is_xsd_datetime_text(value)
    assert proofs._is_xsd_datetime(value) == expected
    assert proofs._is_xsd_datetime(value) == expected  # from the cache, for short texts


json_texts = st.one_of(
    values.map(lambda value: json.dumps(value, ensure_ascii=False)),
    values.map(lambda value: json.dumps(value)),
    st.text(st.sampled_from('{}[]",:0123456789.eE-+ aNIfinity\\u'), max_size=30),
)


@given(json_texts)
def test_the_prebuilt_plain_decoder_parses_as_json_loads_with_its_hooks(document: str):
    def loads() -> Any:
        return json.loads(
            document,
            object_pairs_hook=jcs._plain_object,
            parse_constant=jcs._not_plain,
            parse_int=jcs._plain_int,
            parse_float=jcs._plain_float,
        )

    def prebuilt() -> Any:
        return jcs._PLAIN_DECODER.decode(document)

    def outcome(parse: Callable[[], Any]) -> Any:
        try:
            return ("ok", repr(parse()))
        except (jcs._NotPlain, ValueError, RecursionError) as exc:
            return (type(exc).__name__, str(exc))

    assert outcome(prebuilt) == outcome(loads)


@given(st.text())
def test_strings_are_written_as_json_dumps_writes_them(value: str):
    assert jcs._JCS_STRING(value) == json.dumps(value, ensure_ascii=False)

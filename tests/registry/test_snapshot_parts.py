"""The registry assembles its full snapshot from the parts its index keeps: byte for byte what
`snapshot.build` makes from the claims themselves (the reference path), whatever the log holds."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import iscc_core
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import keys
from registry import snapshot
from registry.documents import Claim
from registry.index import ClaimIndex
from tests.factories import signed_claim, signed_withdrawal

SPACES = {"speaker/ecapa-tdnn-voxceleb": 4}
NOW = datetime(2026, 12, 1, tzinfo=UTC)
KEYS = [keys.SigningKey.generate() for _ in range(3)]
WORDS = ["sora", "umi", "山田花子", "Kōichi", "yama"]


def identifier(draw: st.DrawFn) -> dict[str, Any] | tuple[str, str]:
    word = draw(st.sampled_from(WORDS))
    n = draw(st.integers(0, 30))
    choice = draw(st.sampled_from(["url", "path", "name", "sha256", "pdq", "iscc", "vector", "alien"]))
    if choice == "url":
        return ("url", f"https://{draw(st.sampled_from(['www.', '', 'a.b.']))}site{n % 7}.example/")
    if choice == "path":
        return ("url", f"https://site{n % 7}.example/{word}/{n}/")
    if choice == "name":
        return ("name", f"{word} {n}")
    if choice == "sha256":
        return ("sha256", hashlib.sha256(f"{word}{n}".encode()).hexdigest())
    if choice == "pdq":
        return {"scheme": "pdq", "value": f"{draw(st.integers(0, 2**256 - 1)):064x}", "quality": 90}
    if choice == "iscc":
        return ("iscc", iscc_core.gen_meta_code_v0(f"{word} {n}")["iscc"])
    vector = [draw(st.floats(-1, 1).filter(lambda f: abs(f) > 0.01)) for _ in range(4)]
    space = "speaker/ecapa-tdnn-voxceleb" if choice == "vector" else "face/unknown-space"
    return {"scheme": "embedding", "space": space, "vector": vector}


@st.composite
def logs(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Claims (several identifiers, some bounded in time or place), then withdrawals and disputes."""
    entries: list[dict[str, Any]] = []
    claims: list[tuple[keys.SigningKey, dict[str, Any]]] = []
    for number in range(draw(st.integers(0, 12))):
        key = KEYS[number % len(KEYS)]
        options: dict[str, Any] = {"kind": draw(st.sampled_from(["work", "voice", "likeness"]))}
        if draw(st.booleans()):
            options["valid_until"] = NOW + timedelta(days=draw(st.integers(1, 400)))
        if draw(st.booleans()):
            options["territories"] = draw(
                st.lists(st.sampled_from(["JP", "US", "FR"]), min_size=1, unique=True)
            )
        found = [identifier(draw) for _ in range(draw(st.integers(1, 4)))]
        claim = signed_claim(key, NOW + timedelta(seconds=number), urls=(), identifiers=found, **options)
        claims.append((key, claim))
        entries.append(claim)
    ids = [keys.document_id(claim) for _, claim in claims]
    for position in draw(st.lists(st.integers(0, max(0, len(claims) - 1)), max_size=4, unique=True)):
        if claims:
            key, _ = claims[position]
            entries.append(signed_withdrawal(key, ids[position], NOW + timedelta(minutes=position)))
    if len(ids) >= 2 and draw(st.booleans()):
        entries.append({"type": "Dispute", "claim": ids[0], "disputed": ids[1]})
    return entries


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs())
def test_assembled_from_the_index_is_what_build_makes(entries: list[dict[str, Any]]) -> None:
    index = ClaimIndex(SPACES, keep_parts=True)
    for number, entry in enumerate(entries):
        index.apply(number, keys.canonicalize(entry))
    in_force = {view.id for view in index.views()}
    claims = sorted(
        (claim_id, Claim.model_validate(entry))
        for entry in entries
        if entry["type"] == "Claim" and (claim_id := keys.document_id(entry)) in in_force
    )
    reference = snapshot.build(claims, SPACES, index.disputed, index.authority_of_claim)
    fast = snapshot.assemble(index.snapshot_rows())
    assert_same_sections(fast, reference)
    assert fast.ids == reference.ids


def assert_same_sections(a: snapshot.SnapshotData, b: snapshot.SnapshotData) -> None:
    """Every section equal: JSON bytes as bytes, arrays by dtype and bytes."""
    left, right = a.sections(), b.sections()
    assert [name for name, _ in left] == [name for name, _ in right]
    for (name, x), (_, y) in zip(left, right, strict=True):
        if isinstance(x, bytes):
            assert x == y, name
        else:
            assert not isinstance(y, bytes) and x.dtype == y.dtype and x.tobytes() == y.tobytes(), name


def test_an_index_without_parts_says_so() -> None:
    index = ClaimIndex(SPACES)
    try:
        next(index.snapshot_rows())
    except ValueError as error:
        assert "keeps no snapshot parts" in str(error)
    else:
        raise AssertionError("an index without parts gave rows")


def test_the_store_keeps_the_index_it_is_given_even_empty() -> None:
    """An empty index has length 0: `index or ClaimIndex()` once swapped it for a default one,
    dropping the configured embedding spaces and the snapshot parts."""
    from registry.identity import note_signer
    from registry.log import TransparencyLog
    from registry.store import ClaimStore

    key = keys.SigningKey.generate()
    given = ClaimIndex({"face/custom": 8}, keep_parts=True)
    store = ClaimStore(TransparencyLog("test/log", note_signer(key, "test/log")), key, index=given)
    assert store.index is given and store.index.spaces == {"face/custom": 8}

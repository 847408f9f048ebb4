"""did:key: the did-method-key test vectors, one spelling per key, and refusal of everything else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keys import (
    InvalidKey,
    SigningKey,
    VerifyingKey,
    b58decode,
    b58encode,
    did_key,
    key_for_verification_method,
    resolve_did_key,
    verification_method_for,
)
from keys.base58 import ALPHABET

VECTORS = Path(__file__).parent / "vectors"
DID_KEY_VECTORS: list[dict[str, str]] = json.loads((VECTORS / "did-key-ed25519.json").read_text())
# Printed as examples in the did:key specification and its README.
SPEC_EXAMPLES = [
    "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    "did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH",
]
VC_DI_EDDSA_DID = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
seeds = st.binary(min_size=32, max_size=32)


@pytest.mark.parametrize("vector", DID_KEY_VECTORS, ids=lambda vector: vector["seed"][-2:])
def test_seed_gives_the_published_did(vector: dict[str, str]) -> None:
    key = SigningKey.from_bytes(bytes.fromhex(vector["seed"]))
    assert key.did == vector["did"]
    assert did_key(key.public) == vector["did"]


@pytest.mark.parametrize("vector", DID_KEY_VECTORS, ids=lambda vector: vector["seed"][-2:])
def test_did_resolves_to_the_published_public_key(vector: dict[str, str]) -> None:
    public = resolve_did_key(vector["did"])
    assert public.raw == b58decode(vector["publicKeyBase58"])
    assert b58encode(public.raw) == vector["publicKeyBase58"]


@pytest.mark.parametrize("vector", DID_KEY_VECTORS, ids=lambda vector: vector["seed"][-2:])
def test_published_verification_method_id_resolves(vector: dict[str, str]) -> None:
    # The DID documents in the vectors name the method "<did>#<method-specific id>".
    method = f"{vector['did']}#{vector['did'].removeprefix('did:key:')}"
    assert verification_method_for(vector["did"]) == method
    assert key_for_verification_method(method) == resolve_did_key(vector["did"])


@pytest.mark.parametrize("did", [*SPEC_EXAMPLES, VC_DI_EDDSA_DID])
def test_example_dids_resolve_and_round_trip(did: str) -> None:
    public = resolve_did_key(did)
    assert public.did == did
    assert len(public.raw) == 32


def test_did_with_its_own_fragment_resolves_to_the_same_key() -> None:
    method = verification_method_for(VC_DI_EDDSA_DID)
    assert resolve_did_key(method) == resolve_did_key(VC_DI_EDDSA_DID)


@pytest.mark.parametrize("fragment", ["key-1", "", "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"])
def test_did_with_a_foreign_fragment_is_refused(fragment: str) -> None:
    with pytest.raises(InvalidKey, match="fragment"):
        resolve_did_key(f"{VC_DI_EDDSA_DID}#{fragment}")


@pytest.mark.parametrize(
    ("did", "reason"),
    [
        ("did:web:example.com", "not a did:key"),
        ("DID:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", "not a did:key"),
        ("did:KEY:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", "not a did:key"),
        (" did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", "not a did:key"),
        ("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", "not a did:key"),
        ("https://vc.example/issuers/5678#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", "not a did:key"),
        ("did:key:", "empty"),
        ("did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2/path", "path"),
        ("did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2?service=x", "query"),
        ("did:key:1.0:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", "extra segments"),
        ("did:key:6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", "starts with 'z'"),
        ("did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQI", "invalid base58btc"),
        ("did:key:z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW", "not ed25519-pub"),
        ("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme", "not ed25519-pub"),
        ("did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169", "not ed25519-pub"),
        ("did:key:z" + b58encode(b"\xed\x01" + bytes(range(1, 31))), "32 bytes"),
        ("did:key:z" + b58encode(b"\xed\x01" + bytes(range(1, 35))), "32 bytes"),
        ("did:key:z" + b58encode(b"\xed\x01\x01" + bytes(31)), "small-order"),
        ("did:key:z" + "6" * 300, "too long"),
    ],
)
def test_anything_but_an_ed25519_did_key_is_refused(did: str, reason: str) -> None:
    with pytest.raises(InvalidKey, match=reason):
        resolve_did_key(did)


def test_did_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(InvalidKey):
        resolve_did_key(None)  # type: ignore[arg-type]


def test_verification_method_needs_a_fragment() -> None:
    with pytest.raises(InvalidKey, match="fragment"):
        key_for_verification_method(VC_DI_EDDSA_DID)


@pytest.mark.parametrize(
    "method",
    [
        f"{VC_DI_EDDSA_DID}#key-1",
        f"{VC_DI_EDDSA_DID}#",
        f"{VC_DI_EDDSA_DID}#{SPEC_EXAMPLES[0].removeprefix('did:key:')}",
        "https://vc.example/issuers/5678#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
        "did:web:vc.example#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
    ],
)
def test_verification_method_that_is_not_this_did_keys_own_is_refused(method: str) -> None:
    with pytest.raises(InvalidKey):
        key_for_verification_method(method)


@pytest.mark.parametrize("did", ["did:web:example.com", "did:key:z6MkBAD", f"{VC_DI_EDDSA_DID}/x"])
def test_verification_method_for_an_invalid_did_is_refused(did: str) -> None:
    with pytest.raises(InvalidKey):
        verification_method_for(did)


@given(seeds)
def test_did_and_verification_method_round_trip(seed: bytes) -> None:
    public = SigningKey.from_bytes(seed).public
    did = did_key(public)
    assert did.startswith("did:key:z6Mk")
    assert resolve_did_key(did) == public
    method = verification_method_for(did)
    assert method == f"{did}#{public.multibase}"
    assert key_for_verification_method(method) == public
    assert verification_method_for(method) == method


@given(seeds, st.data())
def test_changing_one_character_never_names_the_same_key(seed: bytes, data: st.DataObject) -> None:
    public = SigningKey.from_bytes(seed).public
    did = public.did
    position = data.draw(st.integers(min_value=0, max_value=len(did) - 1))
    replacement = data.draw(st.sampled_from(ALPHABET + ":#/?.-_ é"))
    changed = did[:position] + replacement + did[position + 1 :]
    if changed == did:
        return
    try:
        other = resolve_did_key(changed)
    except InvalidKey:
        return
    assert other != public


def test_verifying_key_from_did_and_from_multibase_agree() -> None:
    multibase = VC_DI_EDDSA_DID.removeprefix("did:key:")
    assert resolve_did_key(VC_DI_EDDSA_DID) == VerifyingKey.from_multibase(multibase)

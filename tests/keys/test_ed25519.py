"""Ed25519 keys: RFC 8032 vectors, refusals of bad key material, JWKs and private key files."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keys import (
    InvalidKey,
    InvalidSignature,
    KeyFileError,
    SigningKey,
    VerifyingKey,
    b58decode,
    b58encode,
    read_key_file,
    write_key_file,
)

VECTORS = Path(__file__).parent / "vectors"
RFC8032: list[dict[str, str]] = json.loads((VECTORS / "rfc8032-ed25519.json").read_text())
posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def rfc8032_ids() -> list[str]:
    return [vector["name"] for vector in RFC8032]


@pytest.mark.parametrize("vector", RFC8032, ids=rfc8032_ids())
def test_rfc8032_secret_key_gives_the_published_public_key(vector: dict[str, str]) -> None:
    key = SigningKey.from_bytes(bytes.fromhex(vector["secret_key"]))
    assert key.public.raw.hex() == vector["public_key"]


@pytest.mark.parametrize("vector", RFC8032, ids=rfc8032_ids())
def test_rfc8032_signature_is_reproduced_exactly(vector: dict[str, str]) -> None:
    key = SigningKey.from_bytes(bytes.fromhex(vector["secret_key"]))
    assert key.sign(bytes.fromhex(vector["message"])).hex() == vector["signature"]


@pytest.mark.parametrize("vector", RFC8032, ids=rfc8032_ids())
def test_rfc8032_signature_verifies(vector: dict[str, str]) -> None:
    public = VerifyingKey.from_bytes(bytes.fromhex(vector["public_key"]))
    assert public.verify(bytes.fromhex(vector["signature"]), bytes.fromhex(vector["message"])) is None


@pytest.mark.parametrize("vector", RFC8032, ids=rfc8032_ids())
def test_rfc8032_tampered_message_is_refused(vector: dict[str, str]) -> None:
    public = VerifyingKey.from_bytes(bytes.fromhex(vector["public_key"]))
    signature = bytes.fromhex(vector["signature"])
    message = bytes.fromhex(vector["message"])
    with pytest.raises(InvalidSignature):
        public.verify(signature, message + b"\x00")
    if message:
        flipped = bytes([message[0] ^ 0x01]) + message[1:]
        with pytest.raises(InvalidSignature):
            public.verify(signature, flipped)


@pytest.mark.parametrize("vector", RFC8032, ids=rfc8032_ids())
@pytest.mark.parametrize("index", [0, 31, 32, 63])
def test_rfc8032_tampered_signature_is_refused(vector: dict[str, str], index: int) -> None:
    public = VerifyingKey.from_bytes(bytes.fromhex(vector["public_key"]))
    signature = bytearray(bytes.fromhex(vector["signature"]))
    signature[index] ^= 0x01
    with pytest.raises(InvalidSignature):
        public.verify(bytes(signature), bytes.fromhex(vector["message"]))


def test_rfc8032_signature_under_another_key_is_refused() -> None:
    first, second = RFC8032[0], RFC8032[1]
    other = VerifyingKey.from_bytes(bytes.fromhex(second["public_key"]))
    with pytest.raises(InvalidSignature):
        other.verify(bytes.fromhex(first["signature"]), bytes.fromhex(first["message"]))


def test_rfc8032_sha_abc_message_is_sha512_of_abc() -> None:
    assert RFC8032[4]["message"] == hashlib.sha512(b"abc").hexdigest()
    assert len(bytes.fromhex(RFC8032[3]["message"])) == 1023


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_public_key_of_wrong_length_is_refused(length: int) -> None:
    with pytest.raises(InvalidKey, match="32 bytes"):
        VerifyingKey.from_bytes(b"\x01" * length)


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_secret_key_of_wrong_length_is_refused(length: int) -> None:
    with pytest.raises(InvalidKey, match="32 bytes"):
        SigningKey.from_bytes(b"\x01" * length)


@pytest.mark.parametrize("length", [0, 63, 65])
def test_signature_of_wrong_length_is_refused(length: int) -> None:
    vector = RFC8032[0]
    public = VerifyingKey.from_bytes(bytes.fromhex(vector["public_key"]))
    with pytest.raises(InvalidSignature, match="64 bytes"):
        public.verify(bytes.fromhex(vector["signature"]).ljust(length, b"\x00")[:length], b"")


def test_signature_that_is_not_bytes_is_refused() -> None:
    vector = RFC8032[0]
    public = VerifyingKey.from_bytes(bytes.fromhex(vector["public_key"]))
    with pytest.raises(InvalidSignature):
        public.verify(vector["signature"], b"")  # type: ignore[arg-type]


def test_public_key_that_is_not_bytes_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        VerifyingKey("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "encoding",
    [
        "0100000000000000000000000000000000000000000000000000000000000000",  # identity, order 1
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # (0, -1), order 2
        "0000000000000000000000000000000000000000000000000000000000000000",  # order 4
        "0000000000000000000000000000000000000000000000000000000000000080",  # order 4
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  # order 8
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",  # order 8
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  # order 8
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",  # order 8
    ],
)
def test_small_order_public_keys_are_refused(encoding: str) -> None:
    # A signature under a small-order key can verify for many messages (no non-repudiation).
    with pytest.raises(InvalidKey, match="small-order"):
        VerifyingKey.from_bytes(bytes.fromhex(encoding))


P = 2**255 - 19
D = -121665 * pow(121666, P - 2, P) % P


def decode_point(raw: bytes) -> tuple[int, int]:
    """RFC 8032 §5.1.3, written out for the test only."""
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * pow(2, (P - 1) // 4, P) % P
    assert (x * x - x2) % P == 0, "not on the curve"
    return (P - x if x & 1 != raw[31] >> 7 else x), y


def add(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    (x1, y1), (x2, y2) = a, b
    t = D * x1 * x2 * y1 * y2 % P
    return (x1 * y2 + y1 * x2) * pow(1 + t, P - 2, P) % P, (y1 * y2 + x1 * x2) * pow(1 - t, P - 2, P) % P


def times_eight(point: tuple[int, int]) -> tuple[int, int]:
    for _ in range(3):
        point = add(point, point)
    return point


def test_the_refused_list_is_exactly_the_points_of_order_dividing_eight() -> None:
    from keys.ed25519 import _SMALL_ORDER

    assert len(_SMALL_ORDER) == 8
    for encoding in _SMALL_ORDER:
        assert times_eight(decode_point(encoding)) == (0, 1)
    for vector in RFC8032:
        assert times_eight(decode_point(bytes.fromhex(vector["public_key"]))) != (0, 1)


def test_identity_key_would_otherwise_accept_one_signature_for_every_message() -> None:
    # Why the refusal matters: with A = identity, R = 0·B (the identity) and S = 0 verify anything.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    identity = bytes.fromhex("01" + "00" * 31)
    universal = identity + bytes(32)
    raw = Ed25519PublicKey.from_public_bytes(identity)
    raw.verify(universal, b"one message")
    raw.verify(universal, b"any other message")
    with pytest.raises(InvalidKey):
        VerifyingKey.from_bytes(identity)


def test_bytes_that_are_not_a_curve_point_are_refused() -> None:
    with pytest.raises(InvalidKey, match="not a point"):
        VerifyingKey.from_bytes(bytes.fromhex("02" + "00" * 31))


@pytest.mark.parametrize(
    "encoding",
    [
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # y = p
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # y = p + 1
        "0100000000000000000000000000000000000000000000000000000000000080",  # x = 0 with sign bit
    ],
)
def test_non_canonical_point_encodings_are_refused(encoding: str) -> None:
    with pytest.raises(InvalidKey, match="canonical"):
        VerifyingKey.from_bytes(bytes.fromhex(encoding))


def test_keys_compare_and_hash_by_raw_bytes() -> None:
    raw = bytes.fromhex(RFC8032[0]["public_key"])
    first, second = VerifyingKey.from_bytes(raw), VerifyingKey.from_bytes(bytearray(raw))  # type: ignore[arg-type]
    other = VerifyingKey.from_bytes(bytes.fromhex(RFC8032[1]["public_key"]))
    assert first == second and hash(first) == hash(second)
    assert first != other
    assert first != raw
    assert len({first, second, other}) == 2


def test_public_key_multibase_and_did_forms() -> None:
    public = VerifyingKey.from_bytes(bytes.fromhex(RFC8032[0]["public_key"]))
    assert public.multibase.startswith("z6Mk")
    assert b58decode(public.multibase[1:]) == b"\xed\x01" + public.raw
    assert public.did == "did:key:" + public.multibase
    assert VerifyingKey.from_multibase(public.multibase) == public
    assert eval(repr(public), {"VerifyingKey": VerifyingKey}) == public


def test_vc_di_eddsa_key_pair_secret_derives_its_published_public_key() -> None:
    pair = json.loads((VECTORS / "vc-di-eddsa" / "keyPair.json").read_text())
    secret = b58decode(pair["privateKeyMultibase"][1:])
    assert secret[:2] == b"\x80\x26"  # multicodec ed25519-priv
    key = SigningKey.from_bytes(secret[2:])
    assert key.public.multibase == pair["publicKeyMultibase"]
    assert VerifyingKey.from_multibase(pair["publicKeyMultibase"]) == key.public


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", "starts with 'z'"),
        ("uMkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", "starts with 'z'"),
        ("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ0", "invalid base58btc character"),
        ("z" + b58encode(b"\xed\x01" + b"\x07" * 31), "32 bytes"),
        ("z" + b58encode(b"\xed\x01" + b"\x07" * 33), "32 bytes"),
        ("z" + b58encode(b"\xed\x01"), "32 bytes"),
        ("z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW", "not ed25519-pub"),  # X25519
        ("zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme", "not ed25519-pub"),  # secp256k1
        ("zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169", "not ed25519-pub"),  # P-256
        ("z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq", "not ed25519-pub"),  # a secret key
        ("z" + "2" * 500, "too long"),
        ("", "starts with 'z'"),
    ],
)
def test_malformed_multibase_keys_are_refused(text: str, reason: str) -> None:
    with pytest.raises(InvalidKey, match=reason):
        VerifyingKey.from_multibase(text)


def test_signing_key_repr_shows_the_did_and_not_the_secret() -> None:
    vector = RFC8032[0]
    key = SigningKey.from_bytes(bytes.fromhex(vector["secret_key"]))
    text = repr(key)
    assert key.did in text
    assert vector["secret_key"] not in text
    assert key.to_jwk()["d"] not in text


def test_jwk_matches_rfc8037_appendix_a() -> None:
    # RFC 8037 A.1/A.2 use the RFC 8032 TEST 1 key.
    key = SigningKey.from_bytes(bytes.fromhex(RFC8032[0]["secret_key"]))
    assert key.to_jwk() == {
        "kty": "OKP",
        "crv": "Ed25519",
        "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
        "kid": key.did,
    }


@given(st.binary(min_size=32, max_size=32))
def test_jwk_round_trips(seed: bytes) -> None:
    key = SigningKey.from_bytes(seed)
    again = SigningKey.from_jwk(key.to_jwk())
    assert again.public == key.public
    assert again.sign(b"m") == key.sign(b"m")


def rfc8037_jwk(**changes: Any) -> dict[str, Any]:
    jwk: dict[str, Any] = {
        "kty": "OKP",
        "crv": "Ed25519",
        "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    }
    jwk.update(changes)
    return {name: value for name, value in jwk.items() if value is not None}


def test_jwk_without_kid_or_with_a_free_form_kid_loads() -> None:
    assert SigningKey.from_jwk(rfc8037_jwk()).public.raw.hex() == RFC8032[0]["public_key"]
    assert SigningKey.from_jwk(rfc8037_jwk(kid="my key 1")).public.raw.hex() == RFC8032[0]["public_key"]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"x": "PUAXw-hDiVqStwqnTRt-vJyYLM8uxJaMwM1V8Sr0Zgw"}, "not the public key"),  # TEST 2's x
        ({"kty": "EC"}, "OKP"),
        ({"crv": "X25519"}, "Ed25519"),
        ({"d": None}, '"d"'),
        ({"x": None}, '"x"'),
        ({"d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="}, "base64url"),
        ({"d": "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}, "base64url"),
        ({"d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2B"}, "canonical"),
        ({"d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyu"}, '"d"'),
        ({"d": 12}, "base64url"),
        ({"kid": "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"}, "different key"),
        ({"kid": 7}, "kid"),
    ],
)
def test_malformed_jwks_are_refused(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidKey, match=reason):
        SigningKey.from_jwk(rfc8037_jwk(**changes))


def test_jwk_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(InvalidKey):
        SigningKey.from_jwk(["OKP"])  # type: ignore[arg-type]


def test_generated_keys_differ_and_sign_verifiably() -> None:
    first, second = SigningKey.generate(), SigningKey.generate()
    assert first.public != second.public
    first.public.verify(first.sign(b"claim"), b"claim")
    with pytest.raises(InvalidSignature):
        second.public.verify(first.sign(b"claim"), b"claim")


@pytest.fixture
def umask_zero() -> Iterator[None]:
    """A permissive umask, so a 0600 result proves the code set the mode itself."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


@posix_only
def test_key_file_is_created_with_mode_0600(tmp_path: Path, umask_zero: None) -> None:
    path = tmp_path / "author.jwk"
    write_key_file(path, SigningKey.generate())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_key_file_round_trips(tmp_path: Path) -> None:
    key = SigningKey.generate()
    write_key_file(tmp_path / "author.jwk", key)
    again = read_key_file(str(tmp_path / "author.jwk"))
    assert again.public == key.public
    assert again.to_jwk() == key.to_jwk()
    assert json.loads((tmp_path / "author.jwk").read_text())["kid"] == key.did


def test_key_file_is_never_overwritten_by_default(tmp_path: Path) -> None:
    path = tmp_path / "author.jwk"
    original = SigningKey.generate()
    write_key_file(path, original)
    before = path.read_bytes()
    with pytest.raises(KeyFileError, match="already exists"):
        write_key_file(path, SigningKey.generate())
    assert path.read_bytes() == before
    assert read_key_file(path).public == original.public


@posix_only
def test_key_file_overwrite_replaces_it_and_keeps_mode_0600(tmp_path: Path, umask_zero: None) -> None:
    path = tmp_path / "author.jwk"
    write_key_file(path, SigningKey.generate())
    path.chmod(0o644)
    replacement = SigningKey.generate()
    write_key_file(path, replacement, overwrite=True)
    assert read_key_file(path).public == replacement.public
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["author.jwk"]


def test_key_file_overwrite_also_creates_a_missing_file(tmp_path: Path) -> None:
    key = SigningKey.generate()
    write_key_file(tmp_path / "new.jwk", key, overwrite=True)
    assert read_key_file(tmp_path / "new.jwk").public == key.public


@posix_only
def test_key_file_is_not_written_through_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.jwk"
    (tmp_path / "author.jwk").symlink_to(target)
    with pytest.raises(KeyFileError):
        write_key_file(tmp_path / "author.jwk", SigningKey.generate())
    assert not target.exists()


def test_key_file_in_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="cannot create"):
        write_key_file(tmp_path / "no" / "such" / "author.jwk", SigningKey.generate())


def test_missing_key_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="cannot read"):
        read_key_file(tmp_path / "absent.jwk")


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b'{"kty": "OKP", "kty": "OKP"}',
        b"[]",
        json.dumps(rfc8037_jwk(x="PUAXw-hDiVqStwqnTRt-vJyYLM8uxJaMwM1V8Sr0Zgw")).encode(),
        b" " * (64 * 1024 + 1),
    ],
)
def test_key_file_without_a_valid_jwk_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "author.jwk"
    path.write_bytes(content)
    with pytest.raises(KeyFileError):
        read_key_file(path)


def test_key_file_error_keeps_the_reason_as_its_cause(tmp_path: Path) -> None:
    path = tmp_path / "author.jwk"
    path.write_text(json.dumps(rfc8037_jwk(x="PUAXw-hDiVqStwqnTRt-vJyYLM8uxJaMwM1V8Sr0Zgw")))
    with pytest.raises(KeyFileError, match="not the public key") as caught:
        read_key_file(path)
    assert isinstance(caught.value.__cause__, InvalidKey)


def test_x_in_rfc8037_jwk_is_base64url_of_the_public_key() -> None:
    x = rfc8037_jwk()["x"]
    assert base64.urlsafe_b64decode(x + "=").hex() == RFC8032[0]["public_key"]
    assert b58encode(b"\xed\x01" + bytes.fromhex(RFC8032[0]["public_key"])).startswith("6Mk")

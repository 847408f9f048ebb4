"""Ed25519 keys: the only signature algorithm Kotowari uses, in the encodings it travels in.

A public key travels as a multikey ("z6Mk…": multibase base58btc of the ed25519-pub
multicodec 0xed01 and the 32 raw bytes) or as the did:key built from it; a secret key lives
in a JWK file (RFC 8037) that is never readable by anyone but its owner.

Verification returns nothing and raises `InvalidSignature`: there is no boolean to forget.

>>> key = SigningKey.generate()
>>> signature = key.sign(b"notice")
>>> key.public.verify(signature, b"notice")
>>> VerifyingKey.from_multibase(key.public.multibase) == key.public
True
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import json
import os
import re
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from keys.base58 import b58decode, b58encode
from keys.canonical import parse_strict_json
from keys.errors import InvalidJSON, InvalidKey, InvalidSignature, KeyFileError

__all__ = ["SIGNATURE_SIZE", "SigningKey", "VerifyingKey", "read_key_file", "write_key_file"]

KEY_SIZE = 32
SIGNATURE_SIZE = 64
ED25519_PUB_MULTICODEC = b"\xed\x01"  # unsigned varint of 0xed, "ed25519-pub"
_MULTIBASE_MAX = 60  # "z" + base58 of 34 bytes is 48 characters; refuse long input before decoding
_KEY_FILE_MAX = 64 * 1024
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


class VerifyingKey:
    """An Ed25519 public key, compared and hashed by its 32 raw bytes.

    Construction refuses bytes that are not a canonical encoding of a curve point, and the
    eight small-order points: a signature under such a key can verify for many messages, so
    its owner could later deny what it signed (vc-di-eddsa §4.1.2, "Taming the many EdDSAs").
    """

    __slots__ = ("_key", "_multibase", "_raw")

    def __init__(self, raw: bytes) -> None:
        if not isinstance(raw, bytes):
            raise TypeError(f"an Ed25519 public key is bytes, not {type(raw).__name__}")
        if len(raw) != KEY_SIZE:
            raise InvalidKey(f"an Ed25519 public key is {KEY_SIZE} bytes, got {len(raw)}")
        _check_point(raw)
        self._raw = raw
        self._key = Ed25519PublicKey.from_public_bytes(raw)
        self._multibase: str | None = None

    @classmethod
    def from_bytes(cls, raw: bytes) -> VerifyingKey:
        """The key whose raw 32-byte encoding (RFC 8032) is `raw`."""
        return cls(bytes(raw))

    @classmethod
    def from_multibase(cls, text: str) -> VerifyingKey:
        """Parse a multikey "z6Mk…" string; anything but a canonical ed25519-pub multikey is refused.

        Keys are immutable, so the last few thousand parsed are kept: a registry sees the same
        authors again and again, and base58 costs more than the signature check it precedes."""
        if not isinstance(text, str):
            raise InvalidKey("a multibase Ed25519 key starts with 'z' (base58btc)")
        return _parse_multibase(text)

    @classmethod
    def _from_multibase(cls, text: str) -> VerifyingKey:
        if not text.startswith("z"):
            raise InvalidKey("a multibase Ed25519 key starts with 'z' (base58btc)")
        if len(text) > _MULTIBASE_MAX:
            raise InvalidKey(f"multibase key is {len(text)} characters, too long for an Ed25519 key")
        decoded = b58decode(text[1:])
        if decoded[:2] != ED25519_PUB_MULTICODEC:
            raise InvalidKey(f"multicodec prefix 0x{decoded[:2].hex()} is not ed25519-pub (0xed01)")
        key = cls.from_bytes(decoded[2:])
        if key.multibase != text:
            raise InvalidKey("multibase key is not in canonical base58btc form")
        return key

    @property
    def raw(self) -> bytes:
        """The 32-byte RFC 8032 encoding."""
        return self._raw

    @property
    def multibase(self) -> str:
        """The multikey form, "z6Mk…", used in did:key and in verification method fragments."""
        if self._multibase is None:
            self._multibase = "z" + b58encode(ED25519_PUB_MULTICODEC + self._raw)
        return self._multibase

    @property
    def did(self) -> str:
        """The did:key DID of this key, "did:key:z6Mk…"."""
        return "did:key:" + self.multibase

    def verify(self, signature: bytes, data: bytes) -> None:
        """Return if `signature` is this key's signature over `data`; otherwise raise `InvalidSignature`."""
        if not isinstance(signature, bytes) or len(signature) != SIGNATURE_SIZE:
            raise InvalidSignature(f"an Ed25519 signature is {SIGNATURE_SIZE} bytes")
        try:
            self._key.verify(signature, data)
        except _CryptoInvalidSignature:
            raise InvalidSignature(f"signature does not verify with {self.multibase}") from None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, VerifyingKey):
            return NotImplemented
        return self._raw == other._raw

    def __hash__(self) -> int:
        return hash(self._raw)

    def __repr__(self) -> str:
        return f"VerifyingKey.from_multibase({self.multibase!r})"


@functools.lru_cache(maxsize=4096)
def _parse_multibase(text: str) -> VerifyingKey:
    return VerifyingKey._from_multibase(text)


class SigningKey:
    """An Ed25519 secret key. Its repr shows only the DID, so it never lands in a log."""

    __slots__ = ("_key", "_public")

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self._public = VerifyingKey.from_bytes(raw)

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh key from the operating system's randomness."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_bytes(cls, seed: bytes) -> SigningKey:
        """The key whose 32-byte RFC 8032 secret (seed) is `seed`."""
        if not isinstance(seed, bytes) or len(seed) != KEY_SIZE:
            raise InvalidKey(f"an Ed25519 secret key is {KEY_SIZE} bytes")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def public(self) -> VerifyingKey:
        """The matching public key."""
        return self._public

    @property
    def did(self) -> str:
        """The did:key DID of the public key."""
        return self._public.did

    def sign(self, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature over `data` (deterministic, RFC 8032)."""
        return self._key.sign(data)

    def to_jwk(self) -> dict[str, str]:
        """The RFC 8037 OKP JWK, with the did:key as `kid`. It holds the secret: store it privately."""
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": _b64url_encode(self._public.raw),
            "d": _b64url_encode(self._seed()),
            "kid": self.did,
        }

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> SigningKey:
        """Load an RFC 8037 Ed25519 JWK, checking that `x` is the public key of `d`.

        A `kid` is optional; when it is a did:key it must be this key's, so a file whose parts
        were mixed up is refused instead of signing under an unexpected identity.
        """
        if not isinstance(jwk, Mapping):
            raise InvalidKey("a JWK is a JSON object")
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            raise InvalidKey('an Ed25519 JWK has "kty": "OKP" and "crv": "Ed25519"')
        key = cls.from_bytes(_b64url_decode(jwk.get("d"), "d"))
        if _b64url_decode(jwk.get("x"), "x") != key.public.raw:
            raise InvalidKey('JWK "x" is not the public key of "d"')
        kid = jwk.get("kid")
        if kid is not None and (not isinstance(kid, str) or (kid.startswith("did:key:") and kid != key.did)):
            raise InvalidKey('JWK "kid" names a different key')
        return key

    def _seed(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )

    def __repr__(self) -> str:
        return f"<SigningKey {self.did}>"


def write_key_file(path: str | os.PathLike[str], key: SigningKey, *, overwrite: bool = False) -> None:
    """Save `key` as a JWK file that only its owner can read (mode 0600 from the first byte).

    Refuses to replace an existing file unless `overwrite=True`, because losing a key loses the
    identity behind every claim it signed. An overwrite goes through a new 0600 file renamed
    into place, so the old key is never half-replaced.
    """
    content = (json.dumps(key.to_jwk(), indent=2, sort_keys=True) + "\n").encode("utf-8")
    target = os.fspath(path)
    if not overwrite:
        _write_new(target, content)
        return
    temporary = f"{target}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    _write_new(temporary, content)
    try:
        os.replace(temporary, target)
    except OSError as exc:
        _remove_quietly(temporary)
        raise KeyFileError(f"cannot replace key file {target}: {exc.strerror or exc}") from exc


def read_key_file(path: str | os.PathLike[str]) -> SigningKey:
    """Load a key written by `write_key_file` (or any RFC 8037 Ed25519 JWK file)."""
    target = os.fspath(path)
    try:
        with open(target, "rb") as file:
            content = file.read(_KEY_FILE_MAX + 1)
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {target}: {exc.strerror or exc}") from exc
    if len(content) > _KEY_FILE_MAX:
        raise KeyFileError(f"key file {target} is larger than {_KEY_FILE_MAX} bytes")
    try:
        return SigningKey.from_jwk(parse_strict_json(content))
    except (InvalidJSON, InvalidKey) as exc:
        raise KeyFileError(f"key file {target} does not hold an Ed25519 JWK: {exc}") from exc


def _write_new(target: str, content: bytes) -> None:
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(target, flags, 0o600)
    except FileExistsError:
        raise KeyFileError(f"key file {target} already exists; refusing to overwrite it") from None
    except OSError as exc:
        raise KeyFileError(f"cannot create key file {target}: {exc.strerror or exc}") from exc
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(descriptor, 0o600)  # exactly 0600 whatever the umask
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
    except OSError as exc:
        _remove_quietly(target)
        raise KeyFileError(f"cannot write key file {target}: {exc.strerror or exc}") from exc


def _remove_quietly(target: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(target)


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(value: object, name: str) -> bytes:
    """Strict unpadded base64url (RFC 7515 §2): other alphabets, padding and stray bits are refused."""
    if not isinstance(value, str) or _B64URL.fullmatch(value) is None:
        raise InvalidKey(f'JWK "{name}" is not unpadded base64url')
    try:
        decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise InvalidKey(f'JWK "{name}" is not unpadded base64url') from None
    if _b64url_encode(decoded) != value:
        raise InvalidKey(f'JWK "{name}" is not canonical base64url')
    if len(decoded) != KEY_SIZE:
        raise InvalidKey(f'JWK "{name}" is {len(decoded)} bytes, expected {KEY_SIZE}')
    return decoded


# Edwards25519 (RFC 8032 §5.1): just enough arithmetic to decode a point.
_P = 2**255 - 19
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
# The eight points whose order divides 8, each in its one canonical encoding (non-canonical
# encodings are refused before this list is consulted).
_SMALL_ORDER = frozenset(
    bytes.fromhex(encoding)
    for encoding in (
        "0100000000000000000000000000000000000000000000000000000000000000",  # identity, order 1
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # (0, -1), order 2
        "0000000000000000000000000000000000000000000000000000000000000000",  # (+-sqrt(-1), 0), order 4
        "0000000000000000000000000000000000000000000000000000000000000080",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  # order 8
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    )
)


@functools.lru_cache(maxsize=1 << 16)
def _check_point(raw: bytes) -> None:
    """Refuse non-canonical encodings, small-order points and non-points (RFC 8032 §5.1.3).

    Pure-Python field arithmetic costs ~0.4 ms; authors recur, so keys that passed are remembered
    (a refusal raises and is never cached).
    """
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    if y >= _P:
        raise InvalidKey("public key is not a canonical point encoding")
    if raw in _SMALL_ORDER:
        raise InvalidKey("public key is a small-order point; signatures under it prove nothing")
    u, v = (y * y - 1) % _P, (_D * y * y + 1) % _P
    x = (u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P)) % _P
    if (v * x * x - u) % _P != 0:
        x = x * _SQRT_M1 % _P
        if (v * x * x - u) % _P != 0:
            raise InvalidKey("public key is not a point on Ed25519")
    if x == 0 and raw[31] >> 7:
        raise InvalidKey("public key is not a canonical point encoding")

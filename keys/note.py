"""C2SP signed notes (c2sp.org/signed-note) and checkpoints (c2sp.org/tlog-checkpoint), Ed25519 only.

The registry publishes its log head as a checkpoint inside a signed note, the format every
transparency-log tool (Go's golang.org/x/mod/sumdb/note, witnesses, tlog-tiles clients) reads.
Notes we sign open in Go's `note.Open`, and notes Go signs open here.

A signed note is text ending in a newline, a blank line, then signature lines
"— <key name> base64(key ID || signature)". A key is named, and identified by the 32-bit key ID
SHA-256(name || "\\n" || 0x01 || public key)[:4]. Opening a note ignores signatures from unknown
keys, verifies every signature from a known key, and raises `InvalidNote` unless at least one
verifies and none fails.

>>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
>>> signer = NoteSigner("example.com/log", Ed25519PrivateKey.generate())
>>> checkpoint = Checkpoint("example.com/log", 0, bytes(32))
>>> message = sign_note(checkpoint.to_text(), [signer])
>>> Checkpoint.parse(open_note(message, [signer.verifier]).text) == checkpoint
True
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "ALG_ED25519",
    "MAX_SIGNATURES",
    "Checkpoint",
    "InvalidCheckpoint",
    "InvalidNote",
    "InvalidNoteKey",
    "Note",
    "NoteSignature",
    "NoteSigner",
    "NoteVerifier",
    "key_id",
    "open_note",
    "parse_signer_key",
    "parse_verifier_key",
    "sign_note",
    "signer_key",
    "verifier_key",
]

ALG_ED25519 = 0x01
"""The signed-note signature type byte for Ed25519, hashed into the key ID and key encodings."""

MAX_SIGNATURES = 100
"""More signature lines than this make a note malformed (Go's limit; C2SP requires at least 16)."""

_SIGNATURE_PREFIX = "— "  # em dash U+2014, then a space
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_KEY_ID = re.compile(r"[0-9a-fA-F]{8}")
_TREE_SIZE = re.compile(r"0|[1-9][0-9]*")
_MAX_TREE_SIZE = 2**64 - 1


class InvalidNote(Exception):
    """A signed note is malformed, carries a bad signature from a known key, or none from one."""


class InvalidNoteKey(ValueError):
    """A verifier or signer key string, or a key name, does not follow the signed-note rules."""


class InvalidCheckpoint(ValueError):
    """A checkpoint's text or fields do not follow c2sp.org/tlog-checkpoint."""


def _is_valid_name(name: str) -> bool:
    """Non-empty, valid UTF-8, no Unicode space and no "+" (signed-note; Go's isValidName).

    Control characters are refused as well: a note carrying one can never be opened.
    """
    if not isinstance(name, str) or not name or "+" in name or not _is_utf8(name):
        return False
    return not any(ch.isspace() or ch < " " for ch in name)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True


def _has_control(text: str) -> bool:
    """True when text holds an ASCII control character other than newline."""
    return any(ch < " " and ch != "\n" for ch in text)


def _b64decode(text: str) -> bytes:
    """Standard padded base64, canonical only: one encoding per byte string, so no malleability."""
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        raise ValueError("not base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("not canonical base64")
    return raw


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _public_raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes_raw()


def key_id(name: str, public: Ed25519PublicKey) -> int:
    """The 32-bit key ID: SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4], big-endian."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + _public_raw(public))
    return int.from_bytes(digest.digest()[:4], "big")


@dataclass(frozen=True)
class NoteVerifier:
    """A named Ed25519 public key that notes may be signed by; the key ID is derived, not trusted."""

    name: str
    public_key: Ed25519PublicKey = field(compare=False)
    key_id: int = field(init=False)
    _public_bytes: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not _is_valid_name(self.name):
            raise InvalidNoteKey(f"invalid key name {self.name!r}")
        if not isinstance(self.public_key, Ed25519PublicKey):
            raise TypeError("public_key must be an Ed25519PublicKey")
        object.__setattr__(self, "key_id", key_id(self.name, self.public_key))
        object.__setattr__(self, "_public_bytes", _public_raw(self.public_key))

    def _verify(self, message: bytes, signature: bytes) -> None:
        """Raise InvalidNote unless signature is this key's Ed25519 signature of message."""
        try:
            self.public_key.verify(signature, message)
        except InvalidSignature:
            raise InvalidNote(f"invalid signature for key {self.name}+{self.key_id:08x}") from None


@dataclass(frozen=True, eq=False)
class NoteSigner:
    """A named Ed25519 private key that signs notes; compares by identity and hides the key in repr."""

    name: str
    private_key: Ed25519PrivateKey = field(repr=False)
    key_id: int = field(init=False)

    def __post_init__(self) -> None:
        if not _is_valid_name(self.name):
            raise InvalidNoteKey(f"invalid key name {self.name!r}")
        if not isinstance(self.private_key, Ed25519PrivateKey):
            raise TypeError("private_key must be an Ed25519PrivateKey")
        object.__setattr__(self, "key_id", key_id(self.name, self.private_key.public_key()))

    @property
    def verifier(self) -> NoteVerifier:
        """The verifier for this signer's public key, to hand to whoever opens its notes."""
        return NoteVerifier(self.name, self.private_key.public_key())


def verifier_key(name: str, public: Ed25519PublicKey) -> str:
    """Encode "<name>+<hex key ID>+<base64(0x01 || public key)>", Go's verifier key format."""
    verifier = NoteVerifier(name, public)
    return f"{name}+{verifier.key_id:08x}+{_b64encode(bytes([ALG_ED25519]) + _public_raw(public))}"


def signer_key(name: str, private: Ed25519PrivateKey) -> str:
    """Encode "PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>"; keep it secret."""
    signer = NoteSigner(name, private)
    seed = private.private_bytes_raw()
    return f"{_PRIVATE_PREFIX}{name}+{signer.key_id:08x}+{_b64encode(bytes([ALG_ED25519]) + seed)}"


def _parse_key_fields(text: str, kind: str) -> tuple[str, int, bytes]:
    """Split "<name>+<hash>+<keydata>" as Go's chop does; returns name, key ID and the raw key."""
    name, _, rest = text.partition("+")
    hash16, _, key64 = rest.partition("+")
    if not _is_valid_name(name) or not _KEY_ID.fullmatch(hash16):
        raise InvalidNoteKey(f"malformed {kind} key")
    try:
        key = _b64decode(key64)
    except ValueError:
        raise InvalidNoteKey(f"malformed {kind} key") from None
    if not key:
        raise InvalidNoteKey(f"malformed {kind} key")
    if key[0] != ALG_ED25519:
        raise InvalidNoteKey(f"unknown {kind} key algorithm {key[0]}")
    if len(key) != 33:
        raise InvalidNoteKey(f"malformed {kind} key")
    return name, int(hash16, 16), key[1:]


def parse_verifier_key(text: str) -> NoteVerifier:
    """Parse a verifier key ("PeterNeumann+c74f20a3+ARpc…"); the key ID must match the key."""
    if not isinstance(text, str):
        raise TypeError("verifier key must be a str")
    name, claimed_id, raw = _parse_key_fields(text, "verifier")
    verifier = NoteVerifier(name, Ed25519PublicKey.from_public_bytes(raw))
    if verifier.key_id != claimed_id:
        raise InvalidNoteKey("verifier key ID does not match the key")
    return verifier


def parse_signer_key(text: str) -> NoteSigner:
    """Parse a signer key ("PRIVATE+KEY+PeterNeumann+c74f20a3+AYEK…"); the ID must match the key."""
    if not isinstance(text, str):
        raise TypeError("signer key must be a str")
    if not text.startswith(_PRIVATE_PREFIX):
        raise InvalidNoteKey("malformed signer key")
    name, claimed_id, seed = _parse_key_fields(text[len(_PRIVATE_PREFIX) :], "signer")
    signer = NoteSigner(name, Ed25519PrivateKey.from_private_bytes(seed))
    if signer.key_id != claimed_id:
        raise InvalidNoteKey("signer key ID does not match the key")
    return signer


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a note: key name, key ID and the raw signature bytes."""

    name: str
    key_id: int
    signature: bytes

    def to_line(self) -> str:
        """The signature line, newline included, as it appears in the note."""
        payload = self.key_id.to_bytes(4, "big") + self.signature
        return f"{_SIGNATURE_PREFIX}{self.name} {_b64encode(payload)}\n"


@dataclass(frozen=True)
class Note:
    """An opened note: its text and the signatures that verified (plus those from unknown keys)."""

    text: str
    signatures: tuple[NoteSignature, ...]
    unverified_signatures: tuple[NoteSignature, ...] = ()


def _check_text(text: str) -> None:
    """Raise ValueError unless text can be the text of a signed note."""
    if not isinstance(text, str):
        raise TypeError("note text must be a str")
    if not text.endswith("\n"):
        raise ValueError("note text must end with a newline")
    if _has_control(text) or not _is_utf8(text):
        raise ValueError("note text must be UTF-8 without control characters other than newline")


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    """Sign text with each signer and return the signed note (text, blank line, signature lines).

    The text must end in a newline and hold no ASCII control character but newline; it may
    contain blank lines. Raises ValueError for bad text, no signers or a signer given twice.
    """
    _check_text(text)
    if not signers:
        raise ValueError("a note needs at least one signer")
    if len(signers) > MAX_SIGNATURES:
        raise ValueError(f"a note carries at most {MAX_SIGNATURES} signatures")
    message = text.encode("utf-8")
    seen: set[tuple[str, int]] = set()
    lines: list[str] = []
    for signer in signers:
        if not isinstance(signer, NoteSigner):
            raise TypeError("signers must be NoteSigner instances")
        if (signer.name, signer.key_id) in seen:
            raise ValueError(f"signer {signer.name}+{signer.key_id:08x} given twice")
        seen.add((signer.name, signer.key_id))
        signature = NoteSignature(signer.name, signer.key_id, signer.private_key.sign(message))
        lines.append(signature.to_line())
    return text + "\n" + "".join(lines)


def _verifier_map(verifiers: Sequence[NoteVerifier]) -> dict[tuple[str, int], NoteVerifier]:
    known: dict[tuple[str, int], NoteVerifier] = {}
    for verifier in verifiers:
        if not isinstance(verifier, NoteVerifier):
            raise TypeError("verifiers must be NoteVerifier instances")
        slot = (verifier.name, verifier.key_id)
        if slot in known and known[slot] != verifier:
            raise ValueError(f"ambiguous verifiers for key {verifier.name}+{verifier.key_id:08x}")
        known[slot] = verifier
    return known


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(_SIGNATURE_PREFIX):
        raise InvalidNote("malformed note: line after the blank line is not a signature")
    name, _, b64 = line[len(_SIGNATURE_PREFIX) :].partition(" ")
    try:
        payload = _b64decode(b64)
    except ValueError:
        raise InvalidNote("malformed note: signature is not canonical base64") from None
    if not _is_valid_name(name) or len(payload) < 5:
        raise InvalidNote("malformed note: bad signature line")
    return NoteSignature(name, int.from_bytes(payload[:4], "big"), payload[4:])


def open_note(message: str | bytes, verifiers: Sequence[NoteVerifier]) -> Note:
    """Parse a signed note and verify its signatures against the known verifiers.

    Signatures from unknown keys (name and key ID not both matching a verifier) are kept, unchecked,
    in `unverified_signatures`. Every signature from a known key is verified. Raises InvalidNote
    when the note is malformed, when any known signature fails, or when none is from a known key.
    Raises ValueError when two different verifiers share a name and key ID.
    """
    known = _verifier_map(verifiers)
    if isinstance(message, bytes):
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidNote("malformed note: not UTF-8") from None
    elif not isinstance(message, str):
        raise TypeError("message must be str or bytes")
    elif not _is_utf8(message):
        raise InvalidNote("malformed note: not UTF-8")
    if _has_control(message):
        raise InvalidNote("malformed note: control character")
    # The text is separated from the signatures by the last blank line.
    split = message.rfind("\n\n")
    if split < 0:
        raise InvalidNote("malformed note: no blank line before the signatures")
    text, block = message[: split + 1], message[split + 2 :]
    if not block.endswith("\n"):
        raise InvalidNote("malformed note: signatures do not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise InvalidNote(f"malformed note: more than {MAX_SIGNATURES} signatures")
    body = text.encode("utf-8")
    verified: dict[tuple[str, int], NoteSignature] = {}
    unverified: dict[str, NoteSignature] = {}
    for line in lines:
        signature = _parse_signature_line(line)
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            unverified.setdefault(line, signature)
            continue
        # Unlike Go, which checks only the first line per key, every known-key line must verify.
        verifier._verify(body, signature.signature)
        verified.setdefault((signature.name, signature.key_id), signature)
    if not verified:
        raise InvalidNote("note has no signature from a known key")
    return Note(text, tuple(verified.values()), tuple(unverified.values()))


def _check_line(what: str, line: str) -> None:
    if not isinstance(line, str) or not line:
        raise InvalidCheckpoint(f"checkpoint {what} must be a non-empty str")
    if "\n" in line or _has_control(line) or not _is_utf8(line):
        raise InvalidCheckpoint(f"checkpoint {what} holds a newline or control character")


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head as c2sp.org/tlog-checkpoint note text: origin, size, root, extensions.

    Extension lines are opaque; the spec discourages them because monitors cannot audit them.
    """

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line("origin", self.origin)
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise InvalidCheckpoint("checkpoint size must be an int")
        if not 0 <= self.size <= _MAX_TREE_SIZE:
            raise InvalidCheckpoint("checkpoint size must be a uint64")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != 32:
            raise InvalidCheckpoint("checkpoint root hash must be 32 bytes")
        if isinstance(self.extensions, str):
            raise InvalidCheckpoint("checkpoint extensions must be a sequence of lines")
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for line in self.extensions:
            _check_line("extension line", line)

    def to_text(self) -> str:
        """The note text: "origin\\nsize\\nbase64(root)\\n" and one line per extension."""
        lines = [self.origin, str(self.size), _b64encode(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse checkpoint note text strictly; raises InvalidCheckpoint."""
        if not isinstance(text, str) or not text.endswith("\n"):
            raise InvalidCheckpoint("checkpoint text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise InvalidCheckpoint("checkpoint needs origin, size and root hash lines")
        origin, size, root, *extensions = lines
        if len(size) > 20 or not _TREE_SIZE.fullmatch(size):
            raise InvalidCheckpoint("checkpoint size is not a decimal without leading zeros")
        try:
            root_hash = _b64decode(root)
        except ValueError:
            raise InvalidCheckpoint("checkpoint root hash is not canonical base64") from None
        return cls(origin, int(size), root_hash, tuple(extensions))

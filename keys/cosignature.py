"""C2SP tlog-cosignature v1 (Ed25519): a witness's timestamped statement about a log's checkpoint.

A cosignature is one more signature line on the log's checkpoint note. Its key ID is derived with
signature type 0x04 instead of the 0x01 of plain Ed25519 note signatures, so the same key name
and key can never be mistaken for one another:

    key ID    = SHA-256(name || "\\n" || 0x04 || 32-byte public key)[:4]
    signed    = "cosignature/v1\\n" || "time " || decimal(timestamp) || "\\n" || checkpoint note text
    line      = "— " || name || " " || base64(key ID || uint64be(timestamp) || Ed25519 signature)
    vkey      = name || "+" || hex(key ID) || "+" || base64(0x04 || public key)

The signed text is the whole note body, extension lines included, as the spec and
transparency-dev/formats do (an older torchwood signed only the first three lines: the two agree
whenever a checkpoint has no extension lines, which ours never have). The signed message does not
commit to the witness's name, so one key must never serve two witness names.

A v1 cosignature says: as of `timestamp`, this is the largest consistent tree the witness has
seen for the log named by the origin line. A client that wants a split view to be impossible
requires cosignatures from k of the n witnesses it trusts (`verify_cosigned`).

Verification raises (`InvalidCosignature`, `NotEnoughCosignatures`, or `keys.note.InvalidNote`
for the log's own signature); nothing returns a boolean to forget to check.

>>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
>>> from keys.note import Checkpoint, NoteSigner, sign_note
>>> log = NoteSigner("example.com/log", Ed25519PrivateKey.generate())
>>> witness = CosignatureSigner("witness.example/w1", Ed25519PrivateKey.generate())
>>> text = Checkpoint("example.com/log", 0, bytes.fromhex(
...     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")).to_text()
>>> note = sign_note(text, [log]) + cosign(text, witness, 1679315147)
>>> verify_cosignature(note, witness.verifier)
1679315147
>>> verify_cosigned(note, log.verifier, [witness.verifier], 1)
['witness.example/w1']
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from keys.note import (
    Checkpoint,
    InvalidCheckpoint,
    InvalidNote,
    InvalidNoteKey,
    Note,
    NoteSignature,
    NoteVerifier,
    open_note,
)

__all__ = [
    "ALG_COSIGNATURE_V1",
    "COSIGNATURE_HEADER",
    "MAX_TIMESTAMP",
    "CosignatureSigner",
    "CosignatureVerifier",
    "InvalidCosignature",
    "NotEnoughCosignatures",
    "cosign",
    "cosignature_key_id",
    "cosignature_message",
    "cosignature_timestamp",
    "cosignature_verifier_key",
    "parse_cosignature_verifier_key",
    "verify_cosignature",
    "verify_cosigned",
]

ALG_COSIGNATURE_V1 = 0x04
"""The signed-note signature type byte of timestamped Ed25519 checkpoint cosignatures."""

COSIGNATURE_HEADER = "cosignature/v1"
"""The first line of every cosigned message: domain separation from every other signature."""

MAX_TIMESTAMP = 2**63 - 1
"""A cosignature's timestamp MUST NOT exceed 2^63 - 1 (tlog-cosignature)."""

_TIMESTAMP_SIZE = 8
_SIGNATURE_SIZE = 64
_SIGNATURE_PREFIX = "— "  # em dash U+2014, then a space


class InvalidCosignature(InvalidNote):
    """A cosignature is missing, malformed, or does not verify under the witness's key.

    A subclass of `InvalidNote`, so whoever checks "is this checkpoint acceptable" catches one class.
    """


class NotEnoughCosignatures(InvalidCosignature):
    """Fewer trusted witnesses cosigned the checkpoint than the client requires.

    `cosigned` names those that did, `required` is how many were needed.
    """

    def __init__(self, cosigned: Sequence[str], required: int) -> None:
        self.cosigned = list(cosigned)
        self.required = required
        names = ", ".join(self.cosigned) or "none"
        super().__init__(f"{len(self.cosigned)} of the required {required} witnesses cosigned ({names})")


def _public_raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes_raw()


def cosignature_key_id(name: str, public: Ed25519PublicKey) -> int:
    """The 32-bit key ID SHA-256(name || 0x0A || 0x04 || 32-byte public key)[:4], big-endian."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ALG_COSIGNATURE_V1]) + _public_raw(public))
    return int.from_bytes(digest.digest()[:4], "big")


def _check_timestamp(timestamp: int) -> None:
    if isinstance(timestamp, bool) or not isinstance(timestamp, int):
        raise TypeError("a cosignature timestamp is an int (POSIX seconds)")
    # tlog-witness: "The cosignature MUST NOT omit the timestamp, i.e. the timestamp MUST NOT be zero."
    if not 0 < timestamp <= MAX_TIMESTAMP:
        raise ValueError(f"a cosignature timestamp is 1 to 2^63-1 seconds, not {timestamp}")


def _checkpoint_text(text: str) -> Checkpoint:
    """The checkpoint in `text`, which must be a note body (not a signed note); ValueError otherwise."""
    if not isinstance(text, str):
        raise TypeError("checkpoint text must be a str")
    return Checkpoint.parse(text)


def cosignature_message(checkpoint_text: str, timestamp: int) -> bytes:
    """The bytes a witness signs: "cosignature/v1\\ntime <timestamp>\\n" then the checkpoint text.

    Raises ValueError (`InvalidCheckpoint`) unless `checkpoint_text` is a checkpoint note body, and
    ValueError for a timestamp outside 1 … 2^63-1.

    >>> cosignature_message("example.com/behind-the-sofa\\n20852163\\n"
    ...     "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\\n", 1679315147).decode().splitlines()[:3]
    ['cosignature/v1', 'time 1679315147', 'example.com/behind-the-sofa']
    """
    _check_timestamp(timestamp)
    _checkpoint_text(checkpoint_text)
    return f"{COSIGNATURE_HEADER}\ntime {timestamp}\n{checkpoint_text}".encode()


@dataclass(frozen=True)
class CosignatureVerifier(NoteVerifier):
    """A witness's named Ed25519 public key, checking cosignature/v1 lines (key ID type 0x04).

    It is a `NoteVerifier`, so `keys.note.open_note` checks cosignature lines and log signatures in
    one pass, as Go's note.Open does with transparency-dev's cosignature verifier in its list.
    """

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "key_id", cosignature_key_id(self.name, self.public_key))

    @property
    def verifier_key(self) -> str:
        """The vkey "<name>+<hex key ID>+<base64(0x04 || public key)>" clients pin."""
        return cosignature_verifier_key(self.name, self.public_key)

    def _verify(self, message: bytes, signature: bytes) -> None:
        """Raise InvalidCosignature unless `signature` is timestamp || Ed25519 over the v1 message."""
        where = f"{self.name}+{self.key_id:08x}"
        if len(signature) != _TIMESTAMP_SIZE + _SIGNATURE_SIZE:
            raise InvalidCosignature(f"cosignature from {where} is not 8 + 64 bytes")
        timestamp = int.from_bytes(signature[:_TIMESTAMP_SIZE], "big")
        if timestamp > MAX_TIMESTAMP:
            raise InvalidCosignature(f"cosignature from {where} has a timestamp beyond 2^63-1")
        try:
            text = message.decode("utf-8")
            _checkpoint_text(text)
        except (UnicodeDecodeError, InvalidCheckpoint):
            raise InvalidCosignature(f"the note {where} cosigned is not a checkpoint") from None
        signed = f"{COSIGNATURE_HEADER}\ntime {timestamp}\n".encode() + message
        try:
            self.public_key.verify(signature[_TIMESTAMP_SIZE:], signed)
        except InvalidSignature:
            raise InvalidCosignature(f"invalid cosignature from {where}") from None


@dataclass(frozen=True, eq=False)
class CosignatureSigner:
    """A witness's named Ed25519 private key; compares by identity and hides the key in repr."""

    name: str
    private_key: Ed25519PrivateKey = field(repr=False)
    key_id: int = field(init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.private_key, Ed25519PrivateKey):
            raise TypeError("private_key must be an Ed25519PrivateKey")
        # The verifier checks the name exactly as note keys are checked.
        object.__setattr__(self, "key_id", self.verifier.key_id)

    @property
    def verifier(self) -> CosignatureVerifier:
        """The verifier clients configure for this witness."""
        return CosignatureVerifier(self.name, self.private_key.public_key())

    @property
    def verifier_key(self) -> str:
        """This witness's vkey, "<name>+<hex key ID>+<base64(0x04 || public key)>"."""
        return self.verifier.verifier_key

    def sign(self, checkpoint_text: str, timestamp: int) -> NoteSignature:
        """The cosignature of `checkpoint_text` at `timestamp`, as a note signature."""
        message = cosignature_message(checkpoint_text, timestamp)
        payload = timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + self.private_key.sign(message)
        return NoteSignature(self.name, self.key_id, payload)


def cosign(checkpoint_text: str, signer: CosignatureSigner, timestamp: int) -> str:
    """The signature line, newline included, cosigning `checkpoint_text` at `timestamp`.

    `checkpoint_text` is the note body (origin, size, root hash, extension lines), not the signed
    note; append the line to the log's signed note to get the cosigned checkpoint.
    """
    if not isinstance(signer, CosignatureSigner):
        raise TypeError("signer must be a CosignatureSigner")
    return signer.sign(checkpoint_text, timestamp).to_line()


def cosignature_verifier_key(name: str, public: Ed25519PublicKey) -> str:
    """Encode a witness vkey: "<name>+<hex key ID>+<base64(0x04 || public key)>"."""
    verifier = CosignatureVerifier(name, public)
    raw = bytes([ALG_COSIGNATURE_V1]) + _public_raw(public)
    return f"{name}+{verifier.key_id:08x}+{base64.b64encode(raw).decode('ascii')}"


def parse_cosignature_verifier_key(text: str) -> CosignatureVerifier:
    """Parse a witness vkey ("remora.n621.de+da77ade7+BOvN…"); the key ID must match the key.

    Only type 0x04 is accepted: a plain Ed25519 note key (type 0x01) names a different key ID, and
    taking one as the other is how a log key would end up counted as a witness.
    """
    if not isinstance(text, str):
        raise TypeError("verifier key must be a str")
    name, _, rest = text.partition("+")
    hash16, _, key64 = rest.partition("+")
    if len(hash16) != 8 or any(ch not in "0123456789abcdefABCDEF" for ch in hash16):
        raise InvalidNoteKey("malformed cosignature verifier key")
    try:
        raw = base64.b64decode(key64, validate=True)
    except (ValueError, binascii.Error):
        raise InvalidNoteKey("malformed cosignature verifier key") from None
    if not raw or base64.b64encode(raw).decode("ascii") != key64:
        raise InvalidNoteKey("malformed cosignature verifier key")
    if raw[0] != ALG_COSIGNATURE_V1:
        raise InvalidNoteKey(f"not a cosignature/v1 key: signature type {raw[0]:#04x}, expected 0x04")
    if len(raw) != 33:
        raise InvalidNoteKey("malformed cosignature verifier key")
    try:
        public = Ed25519PublicKey.from_public_bytes(raw[1:])
    except ValueError:
        raise InvalidNoteKey("malformed cosignature verifier key") from None
    verifier = CosignatureVerifier(name, public)  # checks the name
    if verifier.key_id != int(hash16, 16):
        raise InvalidNoteKey("cosignature verifier key ID does not match the key")
    return verifier


def cosignature_timestamp(line: str) -> int:
    """The timestamp a cosignature line carries, unverified (for display and freshness checks).

    >>> cosignature_timestamp("— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI"
    ...     "5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\\n")
    1679315147
    """
    if not isinstance(line, str) or not line.startswith(_SIGNATURE_PREFIX):
        raise InvalidCosignature("not a signature line")
    _, _, b64 = line[len(_SIGNATURE_PREFIX) :].rstrip("\n").partition(" ")
    try:
        payload = base64.b64decode(b64, validate=True)
    except (ValueError, binascii.Error):
        raise InvalidCosignature("cosignature is not base64") from None
    if len(payload) != 4 + _TIMESTAMP_SIZE + _SIGNATURE_SIZE:
        raise InvalidCosignature("not an Ed25519 cosignature: wrong length")
    timestamp = int.from_bytes(payload[4 : 4 + _TIMESTAMP_SIZE], "big")
    if timestamp > MAX_TIMESTAMP:
        raise InvalidCosignature("cosignature timestamp beyond 2^63-1")
    return timestamp


def _timestamp_of(note: Note, verifier: CosignatureVerifier) -> int:
    for signature in note.signatures:
        if (signature.name, signature.key_id) == (verifier.name, verifier.key_id):
            return int.from_bytes(signature.signature[:_TIMESTAMP_SIZE], "big")
    raise InvalidCosignature(f"no cosignature from {verifier.name}+{verifier.key_id:08x}")


def _check_fresh(name: str, timestamp: int, not_after: int | None) -> None:
    if not_after is not None and timestamp > not_after:
        raise InvalidCosignature(
            f"cosignature from {name} is dated in the future ({timestamp} > {not_after})"
        )


def verify_cosignature(
    note_text: str | bytes, verifier: CosignatureVerifier, *, not_after: int | None = None
) -> int:
    """Verify `verifier`'s cosignature on a signed checkpoint note and return its timestamp.

    Lines from other keys (the log's, other witnesses') are ignored; every line from this witness's
    name and key ID must verify, and there must be one. `not_after` (POSIX seconds) refuses a
    cosignature dated later, as the spec allows. Raises InvalidCosignature; does not check the log's
    signature (`verify_cosigned` does).
    """
    if not isinstance(verifier, CosignatureVerifier):
        raise TypeError("verifier must be a CosignatureVerifier")
    try:
        note = open_note(note_text, [verifier])
    except InvalidCosignature:
        raise
    except InvalidNote as exc:
        raise InvalidCosignature(f"no valid cosignature from {verifier.name}: {exc}") from None
    timestamp = _timestamp_of(note, verifier)
    _check_fresh(verifier.name, timestamp, not_after)
    return timestamp


def verify_cosigned(
    note_text: str | bytes,
    log_verifier: NoteVerifier,
    witnesses: Sequence[CosignatureVerifier],
    min_cosignatures: int,
    *,
    not_after: int | None = None,
) -> list[str]:
    """Check a checkpoint's log signature and at least `min_cosignatures` witness cosignatures.

    Returns the names of the trusted witnesses that cosigned, in the order given. A witness is
    counted once however many of its keys (same name) signed. Any line from a trusted key that does
    not verify rejects the whole note (signed-note: "clients SHOULD reject the whole note").

    Raises `InvalidNote` when the log's signature is missing or bad, `InvalidCosignature` for a bad
    cosignature, `NotEnoughCosignatures` when fewer than `min_cosignatures` witnesses cosigned, and
    ValueError when `min_cosignatures` is negative or more than the distinct witnesses given (a
    policy that can never be met is a configuration error, not a verdict on the note).
    """
    if type(log_verifier) is not NoteVerifier:
        # A CosignatureVerifier here would let a witness's cosignature pass for the log's signature.
        raise TypeError("log_verifier must be the log's NoteVerifier (an Ed25519 note key)")
    for witness in witnesses:
        if not isinstance(witness, CosignatureVerifier):
            raise TypeError("witnesses must be CosignatureVerifier instances")
    names = list(dict.fromkeys(witness.name for witness in witnesses))
    if isinstance(min_cosignatures, bool) or not isinstance(min_cosignatures, int):
        raise TypeError("min_cosignatures must be an int")
    if not 0 <= min_cosignatures <= len(names):
        raise ValueError(
            f"min_cosignatures must be 0 to {len(names)} (the witnesses given), not {min_cosignatures}"
        )
    note = open_note(note_text, [log_verifier, *witnesses])
    verified = {(signature.name, signature.key_id): signature for signature in note.signatures}
    if (log_verifier.name, log_verifier.key_id) not in verified:
        raise InvalidNote(
            f"checkpoint is not signed by the log key {log_verifier.name}+{log_verifier.key_id:08x}"
        )
    try:
        Checkpoint.parse(note.text)
    except InvalidCheckpoint as exc:
        raise InvalidNote(f"the signed note is not a checkpoint: {exc}") from None
    cosigned: list[str] = []
    for witness in witnesses:
        signature = verified.get((witness.name, witness.key_id))
        if signature is None:
            continue
        _check_fresh(witness.name, int.from_bytes(signature.signature[:_TIMESTAMP_SIZE], "big"), not_after)
        if witness.name not in cosigned:
            cosigned.append(witness.name)
    if len(cosigned) < min_cosignatures:
        raise NotEnoughCosignatures(cosigned, min_cosignatures)
    return cosigned

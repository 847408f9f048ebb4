"""The registry's data key: personal parts are sealed with it before they touch the database.

A separate key from the signing key, because they protect different things and are rotated and
backed up differently: losing the signing key forks the log, losing the data key only makes the
sealed personal parts unreadable. Like the signing key it is created in the data directory on
first start, mode 0600, and never leaves it; every worker of one registry reads the same file.

Sealing is AES-256-GCM with a fresh 96-bit nonce, and the id of the document the part belongs to as
associated data, so a sealed part copied onto another row does not open. A sealed value is
``version (1 byte) || key id (8 bytes) || nonce (12) || ciphertext+tag``.

>>> key = DataKey(bytes(32))
>>> key.open(key.seal(b"secret", "doc-1"), "doc-1")
b'secret'
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from registry.errors import RegistryError

DATA_KEY_FILE: Final = "data.key"
_VERSION: Final = b"\x01"
_HEADER: Final = "kotowari-data-key-v1"


class SealedDataUnreadable(RegistryError):
    """A sealed personal part does not open: the data key in the data directory is not the one it
    was sealed with, or the row was tampered with."""

    status, slug, title = 503, "personal-data-unavailable", "Personal data cannot be read with this data key"


class DataKey:
    """An AES-256-GCM key and its short id (the first 8 bytes of its SHA-256)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) != 32:
            raise ValueError("a data key is 32 bytes")
        self._aead = AESGCM(secret)
        self.id = hashlib.sha256(b"kotowari data key\x00" + secret).digest()[:8]

    def seal(self, plaintext: bytes, document_id: str) -> bytes:
        nonce = secrets.token_bytes(12)
        return _VERSION + self.id + nonce + self._aead.encrypt(nonce, plaintext, document_id.encode())

    def open(self, sealed: bytes, document_id: str) -> bytes:
        if len(sealed) < 1 + 8 + 12 + 16 or sealed[:1] != _VERSION:
            raise SealedDataUnreadable("a sealed personal part has an unknown format")
        if sealed[1:9] != self.id:
            raise SealedDataUnreadable(
                "a personal part was sealed with another data key than the one in the data directory"
            )
        try:
            return self._aead.decrypt(sealed[9:21], sealed[21:], document_id.encode())
        except InvalidTag:
            raise SealedDataUnreadable("a sealed personal part does not open (altered, or moved)") from None


def load_or_create_data_key(data_dir: Path, file_name: str = DATA_KEY_FILE) -> tuple[DataKey, bool]:
    """The data key from `data_dir`, created 0600 (directory 0700) if absent; and whether it was new."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = data_dir / file_name
    if path.exists():
        lines = path.read_text("ascii").split()
        if len(lines) != 2 or lines[0] != _HEADER:
            raise ValueError(f"{path} is not a Kotowari data key file")
        return DataKey(base64.b64decode(lines[1], validate=True)), False
    secret = secrets.token_bytes(32)
    # Written whole under a private name, then linked into place: a worker starting at the same
    # moment either wins the link or reads the finished file of the one that did.
    temporary = data_dir / f".{file_name}.{secrets.token_hex(8)}"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(f"{_HEADER}\n{base64.b64encode(secret).decode('ascii')}\n")
    try:
        os.link(temporary, path)
    except FileExistsError:
        return load_or_create_data_key(data_dir, file_name)[0], False
    finally:
        temporary.unlink()
    return DataKey(secret), True

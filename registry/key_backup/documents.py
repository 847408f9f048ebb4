"""The signed requests that put and delete a key backup.

>>> sorted(KEY_BACKUP_TYPES)
['KeyBackup', 'KeyBackupDeletion']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Final, Literal

from pydantic import Field

from registry.documents import Did, SignedDocument, _Strict

#: A WebAuthn credential id, base64url without padding (credential ids are 16 to 1023 bytes; the
#: registry keeps ids of at most 512 characters, 384 bytes, which covers every authenticator seen).
CredentialId = Annotated[str, Field(min_length=16, max_length=512, pattern=r"^[A-Za-z0-9_-]+$")]
B64 = Annotated[str, Field(min_length=1, max_length=1024, pattern=r"^[A-Za-z0-9_-]+$")]


class Wrapped(_Strict):
    """The encrypted key as the browser made it; the registry checks its shape only.

    `ciphertext` is AES-256-GCM over the key file's JSON (tag appended); `salt` the HKDF salt; `iv`
    the 96-bit GCM nonce; `prf_salt` the PRF input the passkey was asked to evaluate."""

    v: Literal[1]
    alg: Literal["A256GCM"]
    kdf: Literal["HKDF-SHA256"]
    salt: Annotated[str, Field(min_length=22, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
    iv: Annotated[str, Field(min_length=16, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")]
    prf_salt: Annotated[str, Field(min_length=22, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
    ciphertext: B64


class KeyBackup(SignedDocument):
    """Keep `wrapped` for `credential_id`; signed by the DID whose key it holds."""

    AUTHOR_FIELD = "did"

    type: Literal["KeyBackup"]
    did: Did
    credential_id: CredentialId
    wrapped: Wrapped


class KeyBackupDeletion(SignedDocument):
    """Delete the backup kept for `credential_id`; signed by the DID it belongs to."""

    AUTHOR_FIELD = "did"

    type: Literal["KeyBackupDeletion"]
    did: Did
    credential_id: CredentialId


KEY_BACKUP_TYPES: Final[Mapping[str, type[SignedDocument]]] = {
    "KeyBackup": KeyBackup,
    "KeyBackupDeletion": KeyBackupDeletion,
}

"""Passkey-wrapped key backups: opaque ciphertext the registry keeps per WebAuthn credential id.

A creator's Ed25519 key can be encrypted in the browser (AES-GCM under a key derived with HKDF from
the passkey's WebAuthn PRF output) and, if the creator wants, kept here, so that on another device
where the passkey syncs the same passkey unlocks it. The registry never sees the key in clear, nor
anything that decrypts it: it stores what it is given, bound to the DID that signed the first upload,
and hands it to whoever names the credential id (which is useless without the passkey).

Not part of the transparency log: a backup is storage, not a public statement, and can be deleted.

    documents  KeyBackup and KeyBackupDeletion, signed by the DID whose key is wrapped
    store      KeyBackupStore: put (first writer binds the credential id), get, delete
    models     the table
"""

from registry.key_backup.documents import KEY_BACKUP_TYPES, KeyBackup, KeyBackupDeletion, Wrapped
from registry.key_backup.store import KeyBackupStore

__all__ = ["KEY_BACKUP_TYPES", "KeyBackup", "KeyBackupDeletion", "KeyBackupStore", "Wrapped"]

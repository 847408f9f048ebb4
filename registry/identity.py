"""The registry's own signing key, created in the data directory on first start, and the names it
signs under: a `did:key` for documents, a C2SP note key for log checkpoints.

The key file is written 0600 by `keys.write_key_file` and never leaves the data directory.
"""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import keys
from keys.note import NoteSigner

KEY_FILE = "registry.key"


def load_or_create_registry_key(data_dir: Path, file_name: str = KEY_FILE) -> tuple[keys.SigningKey, bool]:
    """The registry key (or a witness's, by `file_name`) from `data_dir`, creating it 0600 (and the
    directory, 0700) if absent.

    Returns the key and whether it was created now.
    """
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = data_dir / file_name
    if path.exists():
        return keys.read_key_file(path), False
    key = keys.SigningKey.generate()
    keys.write_key_file(path, key)
    return key, True


def default_origin(key: keys.SigningKey) -> str:
    """A log origin unique to this registry key, for registries not given one."""
    return f"kotowari.local/{key.public.multibase[4:20]}"


def note_signer(key: keys.SigningKey, origin: str) -> NoteSigner:
    """The same Ed25519 key, named by the log origin, for signing checkpoints as C2SP notes."""
    seed = base64.urlsafe_b64decode(str(key.to_jwk()["d"]) + "==")
    return NoteSigner(origin, Ed25519PrivateKey.from_private_bytes(seed))

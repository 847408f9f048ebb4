"""The registry's own signing key, created in the data directory on first start.

The key file is written 0600 by `keys.write_key_file` and never leaves the data directory; what
the registry publishes is its DID.
"""

from __future__ import annotations

from pathlib import Path

import keys

KEY_FILE = "registry.key"


def load_or_create_registry_key(data_dir: Path) -> tuple[keys.SigningKey, bool]:
    """The registry key from `data_dir`, creating it (and the directory, 0700) if absent.

    Returns the key and whether it was created now.
    """
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = data_dir / KEY_FILE
    if path.exists():
        return keys.read_key_file(path), False
    key = keys.SigningKey.generate()
    keys.write_key_file(path, key)
    return key, True

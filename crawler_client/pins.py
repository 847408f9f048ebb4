"""Pinned registry identities: trust on first use, remembered in a small JSON file.

The first time a client talks to a registry it learns the registry's DID (whose Ed25519 key signs
check answers and log checkpoints) and its log origin from `GET /v1/registry`. With a pin file,
that identity is written down, keyed by the registry's base URL, and every later client refuses a
registry at that URL that shows another key — the SSH `known_hosts` model. Without a pin file,
the pin lasts as long as the client object.

The file is tiny and read and written whole; writes go to a temporary file and are renamed into
place, so a crash never leaves half a file, and concurrent writers at worst re-pin the same value.

    {"registries": {"https://registry.example": {"did": "did:key:z6Mk…", "origin": "…"}}}
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Pin", "PinFile"]


@dataclass(frozen=True)
class Pin:
    """What a registry URL is trusted to be: its DID and its log's origin line."""

    did: str
    origin: str


class PinFile:
    """A pin file at `path` (created on the first pin; its directory must exist)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def get(self, registry: str) -> Pin | None:
        """The pin for `registry` (its normalised base URL), or None if there is none yet."""
        entry = self._read().get(registry)
        if entry is None:
            return None
        if not isinstance(entry, dict) or not isinstance(entry.get("did"), str):
            raise ValueError(f"pin file {self.path}: the entry for {registry} is malformed")
        return Pin(did=entry["did"], origin=str(entry.get("origin", "")))

    def put(self, registry: str, pin: Pin) -> None:
        """Pin `registry` to `pin`, keeping every other registry's pin."""
        registries = self._read()
        registries[registry] = {"did": pin.did, "origin": pin.origin}
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        temporary.write_text(
            json.dumps({"registries": registries}, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        os.replace(temporary, self.path)

    def _read(self) -> dict[str, object]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError:
            raise ValueError(f"pin file {self.path} is not JSON") from None
        registries = data.get("registries") if isinstance(data, dict) else None
        if not isinstance(registries, dict):
            raise ValueError(f"pin file {self.path} is not a kotowari pin file")
        return registries

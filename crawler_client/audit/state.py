"""The auditor's state directory: the mirrored log and what was audited last.

    DIR/state.json         the pinned identity, the last audited checkpoint, how much is mirrored
    DIR/entries.bin        every full entry bundle, as served, one after another (append-only)
    DIR/tail.<size>.bin    the last partial bundle of the audited size, if the size is not a multiple of 256
    DIR/lock               held while an audit runs

`state.json` is replaced atomically and written last, so a crash leaves the previous audit intact:
bytes appended to `entries.bin` beyond the length it records are cut off at the next start, and a
tail file of another size is ignored. Full bundles never change (tlog-tiles), so they are fetched
once; the partial one is fetched again and must start with the entries already mirrored.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import mmap
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from crawler_client.audit.report import AuditError
from crawler_client.audit.tiles import WIDTH, MalformedTile, parse_bundle
from keys import merkle

__all__ = ["FORMAT", "AuditState", "Pin", "StateDir"]

FORMAT = "kotowari-log-audit/1"
STATE_FILE = "state.json"
ENTRIES_FILE = "entries.bin"


@dataclass(frozen=True)
class Pin:
    """The registry identity pinned on first use: its DID, log origin and note verifier key."""

    did: str
    origin: str
    note_verifier_key: str


@dataclass(frozen=True)
class AuditState:
    """What the last audit left: `size` entries mirrored and verified against the signed checkpoint
    (`checkpoint`, root `root_hash`); `signatures_verified` entries whose signatures all held."""

    pin: Pin | None = None
    size: int = 0
    root_hash: bytes = merkle.EMPTY_ROOT
    checkpoint: str = ""
    bundles: int = 0
    entries_bytes: int = 0
    signatures_verified: int = 0
    audited_at: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "registry": None if self.pin is None else self.pin.did,
            "origin": None if self.pin is None else self.pin.origin,
            "note_verifier_key": None if self.pin is None else self.pin.note_verifier_key,
            "size": self.size,
            "root_hash": base64.b64encode(self.root_hash).decode(),
            "checkpoint": self.checkpoint,
            "bundles": self.bundles,
            "entries_bytes": self.entries_bytes,
            "signatures_verified": self.signatures_verified,
            "audited_at": self.audited_at,
        }

    @classmethod
    def from_json(cls, obj: Any, where: Path) -> AuditState:
        try:
            if obj.get("format") != FORMAT:
                raise ValueError(f"format {obj.get('format')!r}")
            state = cls(
                pin=Pin(str(obj["registry"]), str(obj["origin"]), str(obj["note_verifier_key"])),
                size=int(obj["size"]),
                root_hash=base64.b64decode(str(obj["root_hash"]), validate=True),
                checkpoint=str(obj["checkpoint"]),
                bundles=int(obj["bundles"]),
                entries_bytes=int(obj["entries_bytes"]),
                signatures_verified=int(obj["signatures_verified"]),
                audited_at=str(obj.get("audited_at", "")),
            )
        except (AttributeError, KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise AuditError(f"{where} is not a kotowari audit state: {exc}") from None
        if not (
            0 <= state.bundles * WIDTH <= state.size < (state.bundles + 1) * WIDTH
            and 0 <= state.signatures_verified <= state.size
            and len(state.root_hash) == merkle.HASH_SIZE
        ):
            raise AuditError(f"{where} is not a kotowari audit state: its sizes do not add up")
        return state


class StateDir:
    """The files of one state directory (see the module docstring); use as a context manager."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock: IO[bytes] | None = None
        self._appending: IO[bytes] | None = None

    def __enter__(self) -> StateDir:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._lock = open(self.path / "lock", "wb")
        except OSError as exc:
            raise AuditError(f"--state {self.path}: {exc.strerror or exc}") from None
        try:
            import fcntl

            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # pragma: no cover - not on POSIX: no lock
            pass
        except OSError:
            self._lock.close()
            raise AuditError(f"--state {self.path}: another audit is using it") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._appending is not None:
            self._appending.close()
            self._appending = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _tail(self, size: int) -> Path:
        return self.path / f"tail.{size}.bin"

    def load(self) -> AuditState:
        """The state of the last audit (an empty one the first time); `AuditError` if damaged."""
        file = self.path / STATE_FILE
        if not file.exists():
            return AuditState()
        try:
            obj = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise AuditError(f"{file} cannot be read: {exc}") from None
        state = AuditState.from_json(obj, file)
        entries = self.path / ENTRIES_FILE
        have = entries.stat().st_size if entries.exists() else 0
        if have < state.entries_bytes:
            raise AuditError(f"{entries} is shorter than the {state.entries_bytes} bytes audited before")
        if state.size % WIDTH and not self._tail(state.size).exists():
            raise AuditError(f"{self._tail(state.size)} is missing")
        return state

    def entries(self, state: AuditState) -> Iterator[bytes]:
        """The `state.size` mirrored entries, in log order; `AuditError` if the files do not parse."""
        path = self.path / ENTRIES_FILE
        count = 0
        if state.entries_bytes:
            with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
                position, end = 0, state.entries_bytes
                while position < end:
                    length = int.from_bytes(data[position : position + 2], "big")
                    if position + 2 + length > end:
                        raise AuditError(f"{path} is damaged: entry {count} is cut short")
                    yield data[position + 2 : position + 2 + length]
                    position += 2 + length
                    count += 1
        if count != state.bundles * WIDTH:
            raise AuditError(f"{path} holds {count} entries, not the {state.bundles * WIDTH} audited before")
        if state.size > count:
            yield from self.tail_entries(state)

    def tail_bundle(self, state: AuditState) -> bytes:
        """The raw partial bundle mirrored last (empty when the size is a multiple of 256)."""
        if state.size % WIDTH == 0:
            return b""
        try:
            return self._tail(state.size).read_bytes()
        except OSError as exc:
            raise AuditError(f"{self._tail(state.size)}: {exc.strerror or exc}") from None

    def tail_entries(self, state: AuditState) -> list[bytes]:
        try:
            return parse_bundle(self.tail_bundle(state), state.size % WIDTH, str(self._tail(state.size)))
        except MalformedTile as exc:
            raise AuditError(f"the mirror is damaged: {exc}") from None

    def append_bundle(self, state: AuditState, data: bytes) -> None:
        """Append a full bundle to `entries.bin` (after cutting off anything not audited)."""
        if self._appending is None:
            path = self.path / ENTRIES_FILE
            self._appending = open(path, "ab")  # noqa: SIM115 - closed in commit or __exit__
            self._appending.truncate(state.entries_bytes)
            self._appending.seek(state.entries_bytes)
        self._appending.write(data)

    def commit(self, state: AuditState, tail: bytes) -> None:
        """Make `state` the audited one: flush the appended bundles, write the tail, then the state."""
        if self._appending is not None:
            self._appending.flush()
            os.fsync(self._appending.fileno())
            self._appending.close()
            self._appending = None
        if state.size % WIDTH:
            _write_atomically(self._tail(state.size), tail)
        _write_atomically(
            self.path / STATE_FILE, (json.dumps(state.to_json(), indent=2) + "\n").encode("utf-8")
        )
        for stale in self.path.glob("tail.*.bin"):
            if stale != self._tail(state.size) or state.size % WIDTH == 0:
                with contextlib.suppress(OSError):
                    stale.unlink()

    def discard(self) -> None:
        """Forget what was appended in this run (the previous audit stays as it was)."""
        if self._appending is not None:
            self._appending.close()
            self._appending = None


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def advanced(state: AuditState, **changes: Any) -> AuditState:
    """`state` with `changes` (a small helper so callers need not import dataclasses)."""
    return replace(state, **changes)

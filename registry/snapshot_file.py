"""Signed snapshot files: the registry-signed `SnapshotState`, and full snapshots and deltas
framed, encoded, read and merged as `registry.snapshot` describes the format.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import numpy as np

import keys
from keys import merkle
from keys.note import Checkpoint, InvalidCheckpoint, InvalidNote, NoteVerifier, open_note
from registry.snapshot_data import InvalidSnapshot, SnapshotData, _json_list

__all__ = [
    "DELTA_MAGIC",
    "FORMAT_VERSION",
    "FULL_MAGIC",
    "Delta",
    "SnapshotState",
    "apply_delta",
    "encode_delta",
    "encode_full",
    "read_delta",
    "read_full",
    "tree_size_of",
]

FULL_MAGIC: Final = b"KTWSNAP1"
DELTA_MAGIC: Final = b"KTWDLTA1"
FORMAT_VERSION: Final = 1
_ALIGN: Final = 8
_MAX_HEADER: Final = 16 * 1024 * 1024

# ---------------------------------------------------------------- the signed state


@dataclass(frozen=True)
class SnapshotState:
    """A verified `SnapshotState` header: which registry, which checkpoint, which sections."""

    document: dict[str, Any]
    registry: str
    origin: str
    tree_size: int
    root_hash: bytes
    checkpoint: str
    spaces: dict[str, int]
    sections: list[dict[str, Any]]

    @classmethod
    def sign(
        cls,
        data: SnapshotData,
        *,
        key: keys.SigningKey,
        origin: str,
        tree_size: int,
        root_hash: bytes,
        checkpoint: str,
        spaces: Mapping[str, int],
        now: datetime,
    ) -> SnapshotState:
        table, _ = _layout(data.sections())
        document = keys.sign_document(
            {
                "type": "SnapshotState",
                "version": FORMAT_VERSION,
                "registry": key.did,
                "origin": origin,
                "tree_size": tree_size,
                "root_hash": base64.b64encode(root_hash).decode(),
                "checkpoint": checkpoint,
                "embedding_spaces": dict(spaces),
                "sections": table,
            },
            key,
            created=now,
        )
        return cls.verify(document, registry=key.did)

    @classmethod
    def verify(cls, document: object, *, registry: str | None = None) -> SnapshotState:
        """Check the signature (by the registry the state names, or must name) and the checkpoint."""
        if not isinstance(document, dict) or document.get("type") != "SnapshotState":
            raise InvalidSnapshot("the header is not a SnapshotState")
        if document.get("version") != FORMAT_VERSION:
            raise InvalidSnapshot(
                f"snapshot format version {document.get('version')!r} is not {FORMAT_VERSION}"
            )
        named = _signed_by(document, registry)
        try:
            origin, tree_size = str(document["origin"]), int(document["tree_size"])
            root_hash = _b64(document["root_hash"])
            note = str(document["checkpoint"])
            spaces = {str(k): int(v) for k, v in dict(document["embedding_spaces"]).items()}
            sections = [dict(entry) for entry in document["sections"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidSnapshot(f"malformed SnapshotState: {exc}") from None
        checkpoint = _open_checkpoint(note, named, origin)
        if (checkpoint.size, checkpoint.root_hash) != (tree_size, root_hash):
            raise InvalidSnapshot("the state's tree size or root hash is not its checkpoint's")
        return cls(document, named, origin, tree_size, root_hash, note, spaces, sections)


def _signed_by(document: dict[str, Any], registry: str | None) -> str:
    named = document.get("registry")
    if not isinstance(named, str):
        raise InvalidSnapshot("the header names no registry")
    if registry is not None and named != registry:
        raise InvalidSnapshot(f"signed for registry {named}, not {registry}")
    try:
        verified = keys.verify_document(document)
        expected = keys.resolve_did_key(named)
    except keys.KeysError as exc:
        raise InvalidSnapshot(f"signature: {exc}") from None
    if verified.key != expected:
        raise InvalidSnapshot(f"signed by {verified.key.did}, not by the registry {named}")
    return named


def _open_checkpoint(note: str, registry: str, origin: str) -> Checkpoint:
    try:
        public = keys.resolve_did_key(registry)
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        verifier = NoteVerifier(origin, Ed25519PublicKey.from_public_bytes(public.raw))
        checkpoint = Checkpoint.parse(open_note(note, [verifier]).text)
    except (keys.KeysError, ValueError, InvalidNote, InvalidCheckpoint) as exc:
        raise InvalidSnapshot(f"checkpoint: {exc}") from None
    if checkpoint.origin != origin:
        raise InvalidSnapshot(f"checkpoint of log {checkpoint.origin!r}, not {origin!r}")
    return checkpoint


def _b64(value: object) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidSnapshot(f"{value!r:.40} is not base64") from None


# ---------------------------------------------------------------- encoding


def _layout(
    sections: Sequence[tuple[str, np.ndarray[Any, Any] | bytes]],
) -> tuple[list[dict[str, Any]], list[bytes]]:
    """The section table (offsets inside the data area) and the padded section bytes."""
    table, chunks, offset = [], [], 0
    for name, value in sections:
        if isinstance(value, bytes):
            raw, dtype, shape = value, "json", [len(value)]
        else:
            array = np.ascontiguousarray(value)
            raw, dtype, shape = array.tobytes(), array.dtype.str, list(array.shape)
        table.append(
            {
                "name": name,
                "dtype": dtype,
                "shape": shape,
                "offset": offset,
                "length": len(raw),
                "sha256": hashlib.sha256(raw).hexdigest(),
            }
        )
        padding = -len(raw) % _ALIGN
        chunks.append(raw + bytes(padding))
        offset += len(raw) + padding
    return table, chunks


def _frame(magic: bytes, header: Mapping[str, Any], chunks: Sequence[bytes]) -> bytes:
    raw = keys.canonicalize(dict(header))
    head = magic + struct.pack(">I", len(raw)) + raw
    return b"".join([head, bytes(-len(head) % _ALIGN), *chunks])


def encode_full(state: SnapshotState, data: SnapshotData) -> bytes:
    """The snapshot file of `data`, whose sections must be those `state` signs."""
    table, chunks = _layout(data.sections())
    if table != state.sections:
        raise ValueError("the data is not what the state signs")
    return _frame(FULL_MAGIC, state.document, chunks)


@dataclass(frozen=True)
class Delta:
    """A verified delta: what changed from `since` to the state it carries."""

    since: int
    since_root_hash: bytes
    consistency_proof: list[bytes]
    state: SnapshotState
    removed: list[str]
    added: SnapshotData


def encode_delta(
    *,
    key: keys.SigningKey,
    since: int,
    since_root_hash: bytes,
    consistency_proof: Sequence[bytes],
    state: SnapshotState,
    removed: Sequence[str],
    added: SnapshotData,
    now: datetime,
) -> bytes:
    sections: list[tuple[str, np.ndarray[Any, Any] | bytes]] = [
        ("removed", keys.canonicalize(sorted(removed)))
    ]
    table, chunks = _layout(sections + added.sections())
    header = keys.sign_document(
        {
            "type": "SnapshotDelta",
            "version": FORMAT_VERSION,
            "registry": key.did,
            "since": since,
            "since_root_hash": base64.b64encode(since_root_hash).decode(),
            "consistency_proof": [base64.b64encode(node).decode() for node in consistency_proof],
            "state": state.document,
            "sections": table,
        },
        key,
        created=now,
    )
    return _frame(DELTA_MAGIC, header, chunks)


# ---------------------------------------------------------------- decoding


def tree_size_of(raw: bytes | memoryview) -> int:
    """The tree size a full snapshot or a delta names in its header, read without verifying or
    unpacking anything else (what the registry's snapshot paths compare with the one asked for)."""
    magic = bytes(memoryview(raw)[:8])
    header, _ = _unframe(raw, magic)
    try:
        return int((header["state"] if magic == DELTA_MAGIC else header)["tree_size"])
    except (KeyError, TypeError, ValueError):
        raise InvalidSnapshot("header: no tree size") from None


def _unframe(raw: bytes | memoryview, magic: bytes) -> tuple[dict[str, Any], memoryview]:
    view = memoryview(raw)
    if len(view) < 12 or bytes(view[:8]) not in (FULL_MAGIC, DELTA_MAGIC):
        raise InvalidSnapshot("not a Kotowari snapshot (bad magic)")
    if bytes(view[:8]) != magic:
        kind = "delta" if magic == DELTA_MAGIC else "full snapshot"
        raise InvalidSnapshot(f"expected a {kind}")
    (length,) = struct.unpack(">I", view[8:12])
    if length > _MAX_HEADER or 12 + length > len(view):
        raise InvalidSnapshot("truncated header")
    try:
        header = keys.parse_strict_json(bytes(view[12 : 12 + length]))
    except keys.KeysError as exc:
        raise InvalidSnapshot(f"header: {exc}") from None
    if not isinstance(header, dict):
        raise InvalidSnapshot("header: not a JSON object")
    start = 12 + length
    padding = -start % _ALIGN
    if any(view[start : start + padding]):
        raise InvalidSnapshot("non-zero padding after the header")
    return header, view[start + padding :]


def _read_sections(
    area: memoryview, table: object, *, verify: bool
) -> dict[str, np.ndarray[Any, Any] | bytes]:
    """Map each section of the table onto `area` (zero-copy), checking bounds and hashes."""
    if not isinstance(table, list):
        raise InvalidSnapshot("malformed section table")
    sections: dict[str, np.ndarray[Any, Any] | bytes] = {}
    end = 0
    for entry in table:
        try:
            name, dtype = str(entry["name"]), str(entry["dtype"])
            offset, length = int(entry["offset"]), int(entry["length"])
            shape, digest = [int(n) for n in entry["shape"]], str(entry["sha256"])
        except (KeyError, TypeError, ValueError):
            raise InvalidSnapshot("malformed section table") from None
        if offset < end or offset % _ALIGN or length < 0 or offset + length > len(area):
            raise InvalidSnapshot(f"section {name} is truncated or out of place")
        if any(area[end:offset]):
            raise InvalidSnapshot(f"non-zero padding before section {name}")
        end = offset + length
        chunk = area[offset : offset + length]
        if verify and hashlib.sha256(chunk).hexdigest() != digest:
            raise InvalidSnapshot(f"section {name} is corrupt (SHA-256 mismatch)")
        if dtype == "json":
            sections[name] = bytes(chunk)
            continue
        try:
            array = np.frombuffer(chunk, dtype=np.dtype(dtype))
            sections[name] = array.reshape(shape)
        except (TypeError, ValueError):
            raise InvalidSnapshot(f"section {name} is not {dtype} {shape}") from None
    padded = end + -end % _ALIGN
    if len(area) < padded:
        raise InvalidSnapshot("truncated after the last section")
    if len(area) > padded or any(area[end:padded]):
        raise InvalidSnapshot("bytes after the last section")
    return sections


def read_full(
    raw: bytes | memoryview, *, registry: str | None = None, verify: bool = True
) -> tuple[SnapshotState, SnapshotData]:
    """Verify and decode a full snapshot (sections stay views onto `raw`)."""
    header, area = _unframe(raw, FULL_MAGIC)
    state = SnapshotState.verify(header, registry=registry)
    return state, SnapshotData.from_sections(_read_sections(area, state.sections, verify=verify))


def read_delta(raw: bytes | memoryview, *, registry: str | None = None) -> Delta:
    """Verify and decode a delta: its signature, its state's, and its consistency proof."""
    header, area = _unframe(raw, DELTA_MAGIC)
    if header.get("type") != "SnapshotDelta" or header.get("version") != FORMAT_VERSION:
        raise InvalidSnapshot("the header is not a version 1 SnapshotDelta")
    named = _signed_by(header, registry)
    state = SnapshotState.verify(header.get("state"), registry=named)
    try:
        since = int(header["since"])
        since_root = _b64(header["since_root_hash"])
        proof = [_b64(node) for node in header["consistency_proof"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidSnapshot(f"malformed SnapshotDelta: {exc}") from None
    try:
        merkle.verify_consistency(since, state.tree_size, since_root, state.root_hash, proof)
    except merkle.InvalidMerkleProof as exc:
        raise InvalidSnapshot(f"the new checkpoint does not extend tree size {since}: {exc}") from None
    sections = _read_sections(area, header.get("sections"), verify=True)
    removed = _json_list(sections.pop("removed", b"[]"), "removed")
    added = SnapshotData.from_sections(sections)
    return Delta(since, since_root, proof, state, [str(r) for r in removed], added)


def apply_delta(data: SnapshotData, delta: Delta) -> SnapshotData:
    """The data after `delta`, checked section by section against the state the delta signs."""
    merged = data.without(delta.removed).plus(delta.added)
    table, _ = _layout(merged.sections())
    if table != delta.state.sections:
        raise InvalidSnapshot("the delta does not continue this snapshot (merged sections differ)")
    return merged

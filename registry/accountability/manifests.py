"""Verifying a compliance manifest: the checks the registry (`POST /v1/manifests`) and the SDK
(`kotowari verify manifest.json`, `crawler_client.manifest.verify_manifest`) share, so neither can
accept a manifest the other refuses.

A manifest (written by `kotowari filter --manifest`; its format in `crawler_client.manifest`) is
the filtering operator's signed statement: which dataset, which registry-signed snapshot state,
which use, how many rows were kept and removed, and the removed rows with their claims (inline, or
in a JSON-lines sidecar whose SHA-256 it signs). `verify_manifest` checks the operator's signature,
the snapshot state's signature and checkpoint, the version and minimum authority, the row counts
and, when it is given them, every removed row. The sidecar is a file only the holder has: the
registry, which receives the manifest alone, verifies everything else and records that the
removed rows were not checked.

`check_in_log` is the registry's own question on top: is the snapshot's checkpoint one of *this*
log — its registry, its origin, and the log's root at that tree size? A snapshot signed by another
key, for another log, for a size the log never reached, or for a root the log never had (what a
registry that forked would sign) is refused.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import keys
from registry.authority.levels import LEVELS, counts
from registry.errors import RegistryError
from registry.snapshot import InvalidSnapshot, SnapshotState

__all__ = [
    "MANIFEST_TYPE",
    "MANIFEST_VERSION",
    "ManifestRefused",
    "SnapshotNotInLog",
    "VerifiedManifest",
    "check_in_log",
    "verify_manifest",
]

MANIFEST_TYPE: Final = "ComplianceManifest"
MANIFEST_VERSION: Final = 2


class ManifestRefused(RegistryError):
    """The manifest does not verify; the detail says which part."""

    status, slug, title = 422, "invalid-manifest", "The compliance manifest does not verify"


class SnapshotNotInLog(RegistryError):
    """The manifest's snapshot names a checkpoint this registry's log never had."""

    status, slug, title = (
        422,
        "snapshot-not-in-log",
        "The manifest's snapshot is not a checkpoint of this log",
    )


@dataclass(frozen=True)
class VerifiedManifest:
    """A manifest that verified: its document, signer, when it was signed, its snapshot state, and
    whether its removed rows were checked (inline, or a sidecar that was given)."""

    document: dict[str, Any]
    signer: str
    signed_at: str | None
    state: SnapshotState
    version: int
    min_authority: str | None
    removed_rows_checked: bool

    @property
    def sha256(self) -> str:
        """The SHA-256 of its RFC 8785 canonical form, proof included: how a disclosure names it."""
        return keys.document_id(self.document)

    def lines(self) -> list[str]:
        """What `kotowari verify` prints about it."""
        document, rows = self.document, self.document["rows"]
        decisions = rows.get("decisions") or {}
        minimum = self.min_authority
        counting = f"claims of at least {minimum} authority" if minimum else "claims of any authority"
        return [
            f"operator {self.signer} signed at {self.signed_at}",
            f"registry {self.state.registry} snapshot at tree size {self.state.tree_size} "
            f"({self.state.origin})",
            f"purpose {document.get('purpose')}: {rows.get('total')} rows, {rows.get('kept')} kept, "
            f"{rows.get('removed')} removed ({decisions.get('invalid', 0)} unparsable: "
            f"{document.get('invalid_rows')})",
            f"counting {counting}"
            if self.version == MANIFEST_VERSION
            else "counting claims of any authority (v1)",
        ]


def verify_manifest(document: object, *, sidecar: Iterable[bytes] | None = None) -> VerifiedManifest:
    """Check a manifest; `ManifestRefused` names the first part that does not verify.

    `sidecar` is the lines of the removed-rows file when the manifest names one and the caller has
    it (already checked against the manifest's SHA-256); without it those rows are not counted.
    """
    if not isinstance(document, dict) or document.get("type") != MANIFEST_TYPE:
        raise ManifestRefused("not a ComplianceManifest")
    try:
        verified = keys.verify_document(document)
    except keys.KeysError as exc:
        raise ManifestRefused(f"operator signature: {exc}") from None
    if verified.key.did != document.get("operator"):
        raise ManifestRefused(f"signed by {verified.key.did}, not by the operator {document.get('operator')}")
    try:
        state = SnapshotState.verify(document.get("snapshot"))
    except InvalidSnapshot as exc:
        raise ManifestRefused(f"snapshot state: {exc}") from None
    version = document.get("version")
    if version not in (1, MANIFEST_VERSION):
        raise ManifestRefused(f"unknown manifest version {version!r}")
    minimum = document.get("min_authority")
    if minimum is not None and minimum not in LEVELS:
        raise ManifestRefused(f"min_authority {minimum!r} is not one of {', '.join(LEVELS)}")
    removed = document.get("removed")
    rows = document.get("rows")
    if not isinstance(removed, dict) or not isinstance(rows, dict):
        raise ManifestRefused("malformed manifest: 'rows' and 'removed' are objects")
    checked = True
    if "file" in removed:
        if sidecar is None:
            checked, count = False, removed.get("count")
        else:
            count = 0
            for count, line in enumerate(sidecar, start=1):  # noqa: B007 - count is read below
                if version == MANIFEST_VERSION:
                    _check_row(json.loads(line), minimum)
    else:
        listed_rows = removed.get("rows") or []
        count = len(listed_rows)
        if version == MANIFEST_VERSION:
            for entry in listed_rows:
                _check_row(entry, minimum)
    if count != removed.get("count"):
        raise ManifestRefused(f"{count} removed rows listed, the manifest says {removed.get('count')}")
    decisions = rows.get("decisions") or {}
    if rows.get("removed", 0) + rows.get("kept", 0) != rows.get("total"):
        raise ManifestRefused("kept and removed rows do not add up to the total")
    listed = decisions.get("n", 0) + (
        decisions.get("invalid", 0) if document.get("invalid_rows") == "drop" else 0
    )
    if listed != rows.get("removed") or count != decisions.get("n", 0) + decisions.get("invalid", 0):
        raise ManifestRefused("the removed rows do not match the decision counts")
    return VerifiedManifest(
        document, verified.key.did, verified.created, state, int(version), minimum, checked
    )


def _check_row(entry: object, minimum: str | None) -> None:
    """A version 2 row: its claims name their authority, and a reserved row has a claim that counted."""
    if not isinstance(entry, dict):
        raise ManifestRefused("malformed removed row")
    claims = entry.get("claims", [])
    for claim in claims:
        levels = claim.get("authority") if isinstance(claim, dict) else None
        if not isinstance(levels, list) or not levels or any(level not in LEVELS for level in levels):
            raise ManifestRefused(f"row {entry.get('row')}: a claim without its authority levels")
    if entry.get("decision") == "n":
        counted = [c for c in claims if c.get("counted", True)]
        if not counted or (minimum and not any(counts(c["authority"], minimum) for c in counted)):
            raise ManifestRefused(f"row {entry.get('row')} is listed as reserved by no claim that counts")


def check_in_log(state: SnapshotState, *, registry: str, origin: str, size: int, root: bytes | None) -> None:
    """`SnapshotNotInLog` unless `state` names a checkpoint of this log: signed for `registry` and
    `origin`, at a tree size the log (now `size` entries) reached, with the log's `root` at that size
    (the caller looks it up; None when the size is beyond the log)."""
    where = [("/snapshot", "not a checkpoint of this log")]
    if state.registry != registry:
        raise SnapshotNotInLog(
            f"the snapshot was signed by {state.registry}, not by this registry {registry}", where
        )
    if state.origin != origin:
        raise SnapshotNotInLog(f"the snapshot is of the log {state.origin!r}, not of {origin!r}", where)
    if state.tree_size > size or root is None:
        raise SnapshotNotInLog(
            f"the snapshot names tree size {state.tree_size}; this log has {size} entries", where
        )
    if root != state.root_hash:
        raise SnapshotNotInLog(
            f"the snapshot names root {_b64(state.root_hash)} at tree size {state.tree_size}; this log's "
            f"root at that size is {_b64(root)}: the log never signed that snapshot",
            where,
        )


def record_fields(manifest: VerifiedManifest, registry: str) -> dict[str, Any]:
    """The fields of the registry-signed `ManifestRecord` for a verified manifest."""
    document: Mapping[str, Any] = manifest.document
    dataset, rows = document.get("dataset") or {}, document["rows"]
    return {
        "type": "ManifestRecord",
        "registry": registry,
        "manifest": manifest.sha256,
        "signer": manifest.signer,
        "signed_at": manifest.signed_at,
        "purpose": document.get("purpose"),
        "min_authority": manifest.min_authority,
        "decided_at": document.get("decided_at"),
        "dataset": {
            "input": str((dataset.get("input") or {}).get("sha256")),
            "output": str((dataset.get("output") or {}).get("sha256")),
        },
        "rows": {"total": rows.get("total"), "kept": rows.get("kept"), "removed": rows.get("removed")},
        "snapshot": {
            "origin": manifest.state.origin,
            "tree_size": manifest.state.tree_size,
            "root_hash": _b64(manifest.state.root_hash),
        },
        "removed_rows_checked": manifest.removed_rows_checked,
    }


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")

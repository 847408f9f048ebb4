"""The compliance manifest: signed evidence of how a dataset was filtered against the registry.

What an operator hands a regulator who asks how it respected opt-outs: which dataset (SHA-256 of
the input and of the output), which registry state (the registry-signed `SnapshotState`, naming a
log checkpoint anyone can audit), for which use and at which moment, how many rows were kept,
removed and unparsable, and every removed row with the claims that removed it — inline up to
`INLINE_LIMIT` rows, beyond that in a JSON-lines sidecar whose SHA-256 the manifest signs. The
operator signs it (Data Integrity, eddsa-jcs-2022) with its own key; `verify_manifest` checks both
signatures, the snapshot's checkpoint and the sidecar.

Version 2 records the `min_authority` the filter counted claims from (null: every claim counted),
and each removed row's claims as objects: `{"claim": id, "authority": [levels for the key
matched]}`, with `"counted": false` for a claim below the minimum (listed, but not why the row
was removed). Version 1 (claims as bare ids, no minimum) still verifies.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Final

import keys
from crawler_client.errors import KotowariError
from registry.authority.levels import LEVELS, counts
from registry.documents import format_timestamp
from registry.snapshot import InvalidSnapshot, SnapshotState

__all__ = [
    "INLINE_LIMIT",
    "MANIFEST_VERSION",
    "ManifestInvalid",
    "RemovedRows",
    "sign_manifest",
    "verify_manifest",
]

INLINE_LIMIT: Final = 1000
MANIFEST_TYPE: Final = "ComplianceManifest"
MANIFEST_VERSION: Final = 2


class ManifestInvalid(KotowariError):
    """A manifest that does not verify; the message says which part."""


@dataclass
class RemovedRows:
    """Removed and invalid rows, kept in memory up to INLINE_LIMIT, then streamed to a sidecar."""

    sidecar: Path
    rows: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0
    _handle: IO[bytes] | None = None
    _digest: Any = field(default_factory=hashlib.sha256)

    def add(self, row: int, value: object, decision: str, claims: list[dict[str, Any]]) -> None:
        """One removed or invalid row; `claims` as `BatchDecisions.matches` gives them."""
        entry: dict[str, Any] = {"row": row, "value": value, "decision": decision}
        if claims:
            entry["claims"] = claims
        self.count += 1
        if self._handle is None and len(self.rows) < INLINE_LIMIT:
            self.rows.append(entry)
            return
        if self._handle is None:
            self._handle = open(self.sidecar, "wb")  # noqa: SIM115 - closed in close()
            for earlier in self.rows:
                self._line(earlier)
            self.rows = []
        self._line(entry)

    def _line(self, entry: dict[str, Any]) -> None:
        assert self._handle is not None
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":"), default=str).encode() + b"\n"
        self._handle.write(line)
        self._digest.update(line)

    def close(self) -> dict[str, Any]:
        """The manifest's description of the rows: inline, or the sidecar's name, count and digest."""
        if self._handle is None:
            return {"count": self.count, "rows": self.rows}
        self._handle.close()
        return {"count": self.count, "file": self.sidecar.name, "sha256": self._digest.hexdigest()}


def sign_manifest(
    *,
    key: keys.SigningKey,
    state: SnapshotState,
    purpose: str,
    at: datetime,
    territory: str | None,
    column: str,
    scheme: str,
    invalid: str,
    source: dict[str, Any],
    output: dict[str, Any],
    rows: dict[str, Any],
    removed: dict[str, Any],
    now: datetime,
    min_authority: str | None = None,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "type": MANIFEST_TYPE,
        "version": MANIFEST_VERSION,
        "operator": key.did,
        "purpose": purpose,
        "min_authority": min_authority,
        "decided_at": format_timestamp(at),
        "dataset": {"input": source, "output": output, "column": column, "scheme": scheme},
        "invalid_rows": invalid,
        "rows": rows,
        "removed": removed,
        "snapshot": state.document,
    }
    if territory:
        document["territory"] = territory
    return keys.sign_document(document, key, created=now)


def verify_manifest(document: dict[str, Any], directory: Path) -> list[str]:
    """Verify the operator's signature, the registry's snapshot state and the sidecar; lines to print."""
    if document.get("type") != MANIFEST_TYPE:
        raise ManifestInvalid("not a ComplianceManifest")
    try:
        verified = keys.verify_document(document)
    except keys.KeysError as exc:
        raise ManifestInvalid(f"operator signature: {exc}") from None
    if verified.key.did != document.get("operator"):
        raise ManifestInvalid(f"signed by {verified.key.did}, not by the operator {document.get('operator')}")
    try:
        state = SnapshotState.verify(document.get("snapshot"))
    except InvalidSnapshot as exc:
        raise ManifestInvalid(f"snapshot state: {exc}") from None
    version = document.get("version")
    if version not in (1, MANIFEST_VERSION):
        raise ManifestInvalid(f"unknown manifest version {version!r}")
    minimum = document.get("min_authority")
    if minimum is not None and minimum not in LEVELS:
        raise ManifestInvalid(f"min_authority {minimum!r} is not one of {', '.join(LEVELS)}")
    removed = document.get("removed")
    rows = document.get("rows")
    if not isinstance(removed, dict) or not isinstance(rows, dict):
        raise ManifestInvalid("malformed manifest: 'rows' and 'removed' are objects")
    if "file" in removed:
        sidecar = directory / str(removed["file"])
        try:
            with open(sidecar, "rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError as exc:
            raise ManifestInvalid(f"sidecar {sidecar}: {exc.strerror or exc}") from None
        if digest != removed.get("sha256"):
            raise ManifestInvalid(f"sidecar {sidecar} does not have the SHA-256 the manifest signs")
        count = 0
        with open(sidecar, "rb") as handle:
            for line in handle:
                count += 1
                if version == MANIFEST_VERSION:
                    _check_row(json.loads(line), minimum)
    else:
        listed_rows = removed.get("rows") or []
        count = len(listed_rows)
        if version == MANIFEST_VERSION:
            for entry in listed_rows:
                _check_row(entry, minimum)
    if count != removed.get("count"):
        raise ManifestInvalid(f"{count} removed rows listed, the manifest says {removed.get('count')}")
    decisions = rows.get("decisions") or {}
    if rows.get("removed", 0) + rows.get("kept", 0) != rows.get("total"):
        raise ManifestInvalid("kept and removed rows do not add up to the total")
    listed = decisions.get("n", 0) + (
        decisions.get("invalid", 0) if document.get("invalid_rows") == "drop" else 0
    )
    if listed != rows.get("removed") or count != decisions.get("n", 0) + decisions.get("invalid", 0):
        raise ManifestInvalid("the removed rows do not match the decision counts")
    counting = f"claims of at least {minimum} authority" if minimum else "claims of any authority"
    return [
        f"operator {document['operator']} signed at {verified.created}",
        f"registry {state.registry} snapshot at tree size {state.tree_size} ({state.origin})",
        f"purpose {document.get('purpose')}: {rows.get('total')} rows, {rows.get('kept')} kept, "
        f"{rows.get('removed')} removed ({decisions.get('invalid', 0)} unparsable: "
        f"{document.get('invalid_rows')})",
        f"counting {counting}" if version == MANIFEST_VERSION else "counting claims of any authority (v1)",
    ]


def _check_row(entry: object, minimum: str | None) -> None:
    """A version 2 row: its claims name their authority, and a reserved row has a claim that counted."""
    if not isinstance(entry, dict):
        raise ManifestInvalid("malformed removed row")
    claims = entry.get("claims", [])
    for claim in claims:
        levels = claim.get("authority") if isinstance(claim, dict) else None
        if not isinstance(levels, list) or not levels or any(level not in LEVELS for level in levels):
            raise ManifestInvalid(f"row {entry.get('row')}: a claim without its authority levels")
    if entry.get("decision") == "n":
        counted = [c for c in claims if c.get("counted", True)]
        if not counted or (minimum and not any(counts(c["authority"], minimum) for c in counted)):
            raise ManifestInvalid(f"row {entry.get('row')} is listed as reserved by no claim that counts")

"""The compliance manifest: signed evidence of how a dataset was filtered against the registry.

What an operator hands a regulator who asks how it respected opt-outs: which dataset (SHA-256 of
the input and of the output), which registry state (the registry-signed `SnapshotState`, naming a
log checkpoint anyone can audit), for which use and at which moment, how many rows were kept,
removed and unparsable, and every removed row with the claims that removed it — inline up to
`INLINE_LIMIT` rows, beyond that in a JSON-lines sidecar whose SHA-256 the manifest signs. The
operator signs it (Data Integrity, eddsa-jcs-2022) with its own key; `verify_manifest` checks both
signatures, the snapshot's checkpoint and the sidecar.

Version 2 records the `min_authority` the filter counted claims from (null: every claim counted),
and each removed row's claims as objects: `{"claim": id, "claimant": did, "kind": …, "uses":
{use: "y"|"n"}, "authority": [levels for the key matched]}`, with `"counted": false` for a claim
below the minimum (listed, but not why the row was removed). Version 1 (claims as bare ids, no
minimum) still verifies.
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
from registry.accountability.manifests import MANIFEST_TYPE, MANIFEST_VERSION
from registry.documents import format_timestamp
from registry.snapshot import SnapshotState

__all__ = [
    "INLINE_LIMIT",
    "MANIFEST_VERSION",
    "ManifestInvalid",
    "RemovedRows",
    "removed_lines",
    "sign_manifest",
    "verify_data",
    "verify_manifest",
]

INLINE_LIMIT: Final = 1000


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

    def add_batch(self, first_row: int, rows: Any, values: Any, decisions: Any, lines: Any = None) -> None:
        """The removed or invalid `rows` of a batch (`values`, an Arrow string array, holds theirs).

        `rows` are a NumPy array of positions in the batch, `decisions` the batch's
        (`BatchDecisions`), `lines` what `removed_lines` makes of them, if it was made already (on
        another thread). Up to `INLINE_LIMIT` rows go in one by one; the sidecar lines are written
        as `removed_lines` makes them: the bytes `add` would write, row by row.
        """
        codes = decisions.codes[rows]
        done = 0
        while done < len(rows) and self._handle is None:  # inline (as dictionaries) until the limit
            row = int(rows[done])
            group = int(decisions.groups[row])
            matches = decisions.sets[group].matches if group >= 0 else []
            self.add(first_row + row, values[done].as_py(), _DECISIONS[int(codes[done])], matches)
            done += 1
        if done < len(rows):
            if lines is None:
                lines = removed_lines(first_row, rows, values, decisions)
            data = _joined(lines.slice(done))
            assert self._handle is not None
            self._handle.write(data)
            self._digest.update(data)
            self.count += len(rows) - done

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


_DECISIONS: Final = ("unknown", "y", "n", "invalid")  # by DECISION_CODES


def removed_lines(first_row: int, rows: Any, values: Any, decisions: Any) -> Any:
    """The sidecar lines of these rows (an Arrow string array, one line each), as `add` writes them:
    `json.dumps(entry, ensure_ascii=False, separators=(",", ":"))`, built with Arrow kernels, the
    claims of each set of matches serialised once. Arguments as `RemovedRows.add_batch` takes them.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from crawler_client.arrow_arrays import arrow_of, strings_of, valid_rows

    values = values.cast(pa.string())  # a fresh array from `take`: its own, contiguous buffers
    escaped = _escaped_rows(values)
    if len(escaped):  # rare: json writes what needs escaping (without the quotes added below)
        texts = pc.take(values, arrow_of(escaped)).to_pylist()
        mask = np.zeros(len(values), dtype=bool)
        mask[escaped] = True
        dumped = strings_of([json.dumps(text, ensure_ascii=False)[1:-1] for text in texts])
        values = pc.replace_with_mask(values, arrow_of(mask), dumped)
    groups, codes = decisions.groups[rows], decisions.codes[rows]
    claims = strings_of([s.claims_json() for s in decisions.sets] + [""])
    named = strings_of([f',"decision":"{name}"' for name in _DECISIONS])
    text = strings_of(['{"row":', ',"value":"', '"', "}\n", ""])  # Arrow scalars, as pa.scalar without pandas
    lines = pc.binary_join_element_wise(
        text[0],
        pc.cast(arrow_of(first_row + rows.astype(np.int64)), pa.string()),
        text[1],
        values,  # a null value makes a null line, written below
        text[2],
        pc.take(named, arrow_of(codes.astype(np.int32))),
        pc.take(claims, arrow_of(np.where(groups >= 0, groups, len(decisions.sets)))),
        text[3],
        text[4],
    )
    if lines.null_count:
        nulls = np.flatnonzero(~valid_rows(lines))
        entries = []
        for n in nulls.tolist():
            entry: dict[str, Any] = {"row": first_row + int(rows[n]), "value": None}
            entry["decision"] = _DECISIONS[int(codes[n])]
            if decisions.sets and groups[n] >= 0 and decisions.sets[groups[n]].matches:
                entry["claims"] = decisions.sets[groups[n]].matches
            entries.append(json.dumps(entry, ensure_ascii=False, separators=(",", ":"), default=str) + "\n")
        lines = pc.replace_with_mask(lines, lines.is_null(), strings_of(entries))
    return lines


def _escaped_rows(values: Any) -> Any:
    """Rows holding a character JSON escapes (with ensure_ascii=False): '"', '\\', U+0000-U+001F."""
    import numpy as np

    buffers = values.buffers()
    if buffers[2] is None or not len(values):
        return np.empty(0, dtype=np.int64)
    offsets = np.frombuffer(buffers[1], dtype=np.int32, count=len(values) + 1, offset=values.offset * 4)
    data = np.frombuffer(buffers[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    at = np.flatnonzero((data < 0x20) | (data == 0x22) | (data == 0x5C)) + offsets[0]
    return np.unique(np.searchsorted(offsets, at, side="right") - 1)


def _joined(lines: Any) -> bytes | memoryview:
    """The bytes of these lines, one after the other: a view of the array's data, not a copy (a
    batch's lines are megabytes, written and hashed as they are)."""
    import numpy as np

    if not len(lines):
        return b""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4)
    return memoryview(lines.buffers()[2])[int(offsets[0]) : int(offsets[-1])]


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
    """Verify the operator's signature, the registry's snapshot state and the sidecar; lines to print.

    The checks are the registry's own (`registry.accountability.manifests.verify_manifest`, which
    `POST /v1/manifests` runs too); here the sidecar, a file beside the manifest, is hashed and read."""
    from registry.accountability.manifests import ManifestRefused
    from registry.accountability.manifests import verify_manifest as verify_document

    removed = document.get("removed") if isinstance(document, dict) else None
    try:
        if isinstance(removed, dict) and "file" in removed and document.get("type") == MANIFEST_TYPE:
            verify_document(document)  # signatures and counts first, as without a sidecar
            sidecar = directory / str(removed["file"])
            try:
                with open(sidecar, "rb") as handle:
                    digest = hashlib.file_digest(handle, "sha256").hexdigest()
            except OSError as exc:
                raise ManifestInvalid(f"sidecar {sidecar}: {exc.strerror or exc}") from None
            if digest != removed.get("sha256"):
                raise ManifestInvalid(f"sidecar {sidecar} does not have the SHA-256 the manifest signs")
            with open(sidecar, "rb") as handle:
                return verify_document(document, sidecar=handle).lines()
        return verify_document(document).lines()
    except ManifestRefused as exc:
        raise ManifestInvalid(exc.detail) from None


def verify_data(document: dict[str, Any], source: Path, output: Path) -> list[str]:
    """The files at hand are the dataset the manifest signs: each one's SHA-256 (and size) against
    `dataset.input` and `dataset.output`, so a row put back into the output is caught."""
    dataset = document.get("dataset")
    if not isinstance(dataset, dict):
        raise ManifestInvalid("malformed manifest: no 'dataset' object")
    lines = []
    for role, path in (("input", source), ("output", output)):
        signed = dataset.get(role)
        if not isinstance(signed, dict) or not isinstance(signed.get("sha256"), str):
            raise ManifestInvalid(f"malformed manifest: dataset.{role} names no sha256")
        try:
            with open(path, "rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError as exc:
            raise ManifestInvalid(f"{path}: {exc.strerror or exc}") from None
        if digest != signed["sha256"]:
            raise ManifestInvalid(
                f"{path} is not the {role} this manifest signs: its SHA-256 is {digest}, "
                f"the manifest's {signed['sha256']} ({signed.get('name')}, {signed.get('bytes')} bytes)"
            )
        lines.append(f"{role} {path}: SHA-256 {digest} as signed ({signed.get('rows')} rows)")
    return lines

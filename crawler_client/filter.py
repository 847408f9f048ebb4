"""Dataset filtering against a snapshot, one Arrow record batch at a time.

`decide_batch` is the whole algorithm and is public, so the same function runs wherever Arrow
batches flow: `kotowari filter` over Parquet, CSV or JSON-lines files, DuckDB, Spark's
`mapInArrow`, Ray Data's `map_batches` (see `batch_filter`). Memory is bounded by the batch size,
whatever the file size.

For URLs most rows are settled without Python per row: the domain (last two host labels) of every
"simple" http(s) URL is extracted with one vectorised regular expression and looked up in the
snapshot's set of registered domains; only rows on a registered domain (or URLs that need real
canonicalisation: escapes, IP addresses, userinfo, …) go through the full Safe Browsing lookup —
exactly what `Snapshot.check` would do for them.

Rows whose value cannot be checked (null, not a URL, not a SHA-256) are `invalid`: they are counted
and reported, and kept or dropped only as the caller says.

`min_authority` (`decide_batch`, `batch_filter`, `kotowari filter --min-authority`) counts only
claims of at least that authority, as `Snapshot.check(..., min_authority=…)` does; rows on domains
nobody registered are unknown whatever the minimum, so the fast path is unchanged. Each matched
row's claims come with their authority (`BatchDecisions.matches`), which the manifest records.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from crawler_client.core import minimum_authority
from crawler_client.errors import KotowariError
from crawler_client.snapshot import (
    DECISION_CODES,
    INVALID,
    RESERVED,
    SIMPLE_URL,
    SIMPLE_URL_MAX_BYTES,
    Snapshot,
    UrlDecisions,
)
from registry.vocabulary import Use

__all__ = ["SCHEMES", "BatchDecisions", "FilterError", "Tally", "batch_filter", "decide_batch", "kept_mask"]

Scheme = Literal["url", "sha256"]
SCHEMES: Final[tuple[Scheme, ...]] = ("url", "sha256")
InvalidRows = Literal["drop", "keep"]


class FilterError(KotowariError):
    """The dataset cannot be filtered as asked (missing column, wrong type, unreadable file)."""


@dataclass(frozen=True)
class BatchDecisions:
    """Per row of a batch: a code from `DECISION_CODES`, and the claims of the rows that matched.

    `matches` names, for the same rows, each claim with its `authority` for the key matched (and
    `"counted": false` below the `min_authority` asked), as `Snapshot.check` gives them.
    """

    codes: npt.NDArray[np.int8]
    claims: dict[int, list[str]]
    matches: dict[int, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass
class Tally:
    """Counts over a whole dataset, per decision."""

    rows: int = 0
    kept: int = 0
    removed: int = 0
    decisions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DECISION_CODES, 0))

    def add(self, codes: npt.NDArray[np.int8], kept: int) -> None:
        self.rows += len(codes)
        self.kept += kept
        self.removed += len(codes) - kept
        counts = np.bincount(codes, minlength=len(DECISION_CODES))
        for name, code in DECISION_CODES.items():
            self.decisions[name] += int(counts[code])


def string_column(batch: pa.RecordBatch, column: str) -> pa.Array:
    if column not in batch.schema.names:
        raise FilterError(f"no column {column!r} (columns: {', '.join(batch.schema.names)})")
    values = batch.column(column)
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if pa.types.is_large_string(values.type) or pa.types.is_string_view(values.type):
        values = values.cast(pa.string())
    if not pa.types.is_string(values.type):
        raise FilterError(f"column {column!r} holds {values.type}, not strings")
    return values


def decide_batch(
    batch: pa.RecordBatch,
    snapshot: Snapshot,
    *,
    column: str,
    purpose: Use,
    scheme: Scheme = "url",
    at: datetime | None = None,
    territory: str | None = None,
    min_authority: str | None = None,
) -> BatchDecisions:
    """The decision for `purpose` of every row's `column` value, as `Snapshot.check` gives it.

    With `min_authority` (one of `registry.authority.levels.LEVELS`; `ValueError` otherwise) only
    claims of at least that authority decide, as in `Snapshot.check(..., min_authority=…)`.
    """
    min_authority = minimum_authority(min_authority)
    moment = at or datetime.now(UTC)
    values = string_column(batch, column)
    options: dict[str, Any] = {"at": moment, "territory": territory, "min_authority": min_authority}
    if scheme == "sha256":
        found = snapshot.decide_sha256(values.to_pylist(), purpose, **options)
        return BatchDecisions(found.codes, found.claims, found.matches)
    codes = np.zeros(len(values), dtype=np.int8)
    extracted = pc.extract_regex(values, pattern=SIMPLE_URL)
    short = pc.less_equal(pc.binary_length(values), SIMPLE_URL_MAX_BYTES)
    simple = np.asarray(pc.fill_null(pc.and_(pc.is_valid(extracted), short), False))
    domains = pc.utf8_lower(pc.struct_field(extracted, "domain"))
    registered = pa.array(sorted(snapshot.domains), pa.string())
    candidate = np.asarray(pc.fill_null(pc.is_in(domains, value_set=registered), False))
    slow = np.nonzero(~simple | candidate)[0]
    claims: dict[int, list[str]] = {}
    matches: dict[int, list[dict[str, Any]]] = {}
    if len(slow):
        subset: UrlDecisions = snapshot.decide_urls(
            pc.take(values, pa.array(slow)).to_pylist(), purpose, **options
        )
        codes[slow] = subset.codes
        claims = {int(slow[row]): ids for row, ids in subset.claims.items()}
        matches = {int(slow[row]): found for row, found in subset.matches.items()}
    return BatchDecisions(codes, claims, matches)


def kept_mask(codes: npt.NDArray[np.int8], invalid: InvalidRows = "drop") -> npt.NDArray[np.bool_]:
    """Rows to keep: everything not reserved (`n`), and invalid rows only when asked to."""
    keep = codes != RESERVED
    if invalid == "drop":
        keep &= codes != INVALID
    result: npt.NDArray[np.bool_] = keep
    return result


def batch_filter(
    snapshot_path: str,
    *,
    column: str,
    purpose: Use,
    scheme: Scheme = "url",
    invalid: InvalidRows = "drop",
    min_authority: str | None = None,
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """A function from batches to kept batches, for Spark `mapInArrow` or Ray `map_batches`.

    The snapshot is opened (memory-mapped) once per worker, on the first batch it sees. With
    `min_authority`, only claims of at least that authority remove rows (checked here, on the
    driver: an unknown level raises `ValueError` before any worker starts).
    """
    minimum = minimum_authority(min_authority)
    opened: list[Snapshot] = []

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        if not opened:
            opened.append(Snapshot.open(snapshot_path))
        at = datetime.now(UTC)
        for batch in batches:
            decisions = decide_batch(
                batch,
                opened[0],
                column=column,
                purpose=purpose,
                scheme=scheme,
                at=at,
                min_authority=minimum,
            )
            yield batch.filter(pa.array(kept_mask(decisions.codes, invalid)))

    return run


def describe(tally: Tally) -> dict[str, Any]:
    return {
        "total": tally.rows,
        "kept": tally.kept,
        "removed": tally.removed,
        "decisions": dict(tally.decisions),
    }


def file_sha256(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()

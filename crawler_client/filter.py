"""Dataset filtering against a snapshot, one Arrow record batch at a time.

`decide_batch` is the whole algorithm and is public, so the same function runs wherever Arrow
batches flow: `kotowari filter` over Parquet, CSV or JSON-lines files, DuckDB, Spark's
`mapInArrow`, Ray Data's `map_batches` (see `batch_filter`). Memory is bounded by the batch size,
whatever the file size.

URLs are matched without Python per row (`crawler_client.url_batch`): rows on domains nobody
registered are settled first; the rest, when already canonical, have their Safe Browsing lookup
expressions matched against the snapshot's URL keys with array operations. Only URLs that need
real canonicalisation (escapes, IP addresses, userinfo, dot segments, …) and sit on a registered
domain go through `Snapshot.decide_urls`, row by row. Either way a row's answer is computed once
per distinct set of claims and keys it matched (`crawler_client.match_sets`), by the registry's
own `decide`: exactly what `Snapshot.check` would say for it.

Rows whose value cannot be checked (null, not a URL, not a SHA-256) are `invalid`: they are counted
and reported, and kept or dropped only as the caller says.

`min_authority` (`decide_batch`, `batch_filter`, `kotowari filter --min-authority`) counts only
claims of at least that authority, as `Snapshot.check(..., min_authority=…)` does; rows on domains
nobody registered are unknown whatever the minimum. Each matched row's claims come with their
authority (`BatchDecisions.matches`), which the manifest records.
"""

from __future__ import annotations

import hashlib
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from crawler_client.arrow_arrays import arrow_of
from crawler_client.core import minimum_authority
from crawler_client.errors import KotowariError
from crawler_client.match_sets import Decisions, MatchSet, MatchSets, first_hits
from crawler_client.snapshot import DECISION_CODES, INVALID, RESERVED, SIMPLE_URL_MAX_BYTES, Snapshot
from crawler_client.url_batch import CANDIDATE, NULL, OTHER, Hits, UrlMatcher
from registry.snapshot import SnapshotData
from registry.vocabulary import Use

__all__ = [
    "SCHEMES",
    "BatchDecisions",
    "FilterError",
    "Tally",
    "batch_filter",
    "decide_batch",
    "kept_mask",
    "opened_snapshot",
]

Scheme = Literal["url", "sha256"]
SCHEMES: Final[tuple[Scheme, ...]] = ("url", "sha256")
InvalidRows = Literal["drop", "keep"]


class FilterError(KotowariError):
    """The dataset cannot be filtered as asked (missing column, wrong type, unreadable file)."""


BatchDecisions = Decisions  # per row: a code from DECISION_CODES, and the set of matches it has


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
        return snapshot.decide_sha256(values.to_pylist(), purpose, **options)
    matcher = _matcher(snapshot)
    stage = matcher.stage(values, SIMPLE_URL_MAX_BYTES)
    result = Decisions.empty(len(values))
    result.codes[stage.outcome == NULL] = INVALID
    candidates = np.flatnonzero(stage.outcome == CANDIDATE)
    slow = np.flatnonzero(stage.outcome == OTHER)
    if len(candidates) and matcher.has_keys:
        canonical, hits = matcher.expressions(values, stage, candidates)
        slow = np.union1d(slow, candidates[~canonical])
        _place_hits(result, hits, matcher, snapshot.match_sets(purpose, **options))
    elif len(candidates):
        slow = np.union1d(slow, candidates)
    if len(slow):
        rows = arrow_of(slow)
        result.place(slow, snapshot.decide_urls(pc.take(values, rows).to_pylist(), purpose, **options))
    return result


_MATCHERS: weakref.WeakKeyDictionary[Snapshot, tuple[weakref.ref[SnapshotData], UrlMatcher]] = (
    weakref.WeakKeyDictionary()
)
_MATCHERS_LOCK = threading.Lock()


def _matcher(snapshot: Snapshot) -> UrlMatcher:
    """The snapshot's URL lookup tables, built on its first batch (once, whatever the threads)."""
    with _MATCHERS_LOCK:
        data, found = _MATCHERS.get(snapshot, (None, None))
        if found is None or data is None or data() is not snapshot.data:  # new, or closed since
            domains = (domain for _, domain in snapshot.data.url_domains)
            found = UrlMatcher(domains, snapshot.data.url_keys)
            _MATCHERS[snapshot] = (weakref.ref(snapshot.data), found)
        return found


def _place_hits(result: Decisions, hits: Hits, matcher: UrlMatcher, sets: MatchSets) -> None:
    """Write into `result` the answer of each row hit, one `MatchSet` per distinct (claim, key) set."""
    if not len(hits.rows):
        return
    counts = matcher.claim_start[hits.keys + 1] - matcher.claim_start[hits.keys]
    each = np.repeat(np.arange(len(hits.keys)), counts)
    within = np.arange(len(each)) - np.repeat(np.cumsum(counts) - counts, counts)
    ordinals = matcher.claim_ordinals[matcher.claim_start[hits.keys][each] + within]
    rows, ranks, keys = hits.rows[each], hits.ranks[each], hits.keys[each]
    first = first_hits(rows, ordinals, ranks)  # by row, then ordinal
    rows, ordinals, keys = rows[first], ordinals[first], keys[first]
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    sizes = np.diff(np.r_[starts, len(rows)])
    single = starts[sizes == 1]
    codes = ordinals[single] * len(matcher.keys) + keys[single]
    distinct, position = np.unique(codes, return_inverse=True)
    known = sets.by_code
    found: list[MatchSet] = [known.get(code) or _single(sets, matcher, code) for code in distinct.tolist()]
    groups = np.empty(len(starts), dtype=np.int32)
    groups[sizes == 1] = position
    several = np.flatnonzero(sizes > 1)
    for number in several.tolist():  # rows matching several claims: fewer, each its own tuple
        begin, end = int(starts[number]), int(starts[number] + sizes[number])
        pairs = tuple(
            zip(ordinals[begin:end].tolist(), (matcher.keys[k] for k in keys[begin:end]), strict=True)
        )
        groups[number] = len(found)
        found.append(sets.get("url", pairs))
    hit_rows = rows[starts]
    result.groups[hit_rows] = groups + len(result.sets)
    result.codes[hit_rows] = np.array([s.code for s in found], dtype=np.int8)[groups]
    result.sets = [*result.sets, *found]


def _single(sets: MatchSets, matcher: UrlMatcher, code: int) -> MatchSet:
    """The set of one claim (ordinal) and one key, `code` = ordinal * keys + key."""
    ordinal, key = divmod(code, len(matcher.keys))
    found = sets.by_code[code] = sets.single("url", ordinal, matcher.keys[key])
    return found


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

    The snapshot is opened (memory-mapped, verified) once per worker process, on the first batch
    it sees, and kept open for later tasks (`opened_snapshot`). With `min_authority`, only claims
    of at least that authority remove rows (checked here, on the driver: an unknown level raises
    `ValueError` before any worker starts).
    """
    minimum = minimum_authority(min_authority)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        snapshot = opened_snapshot(snapshot_path)
        at = datetime.now(UTC)
        for batch in batches:
            decisions = decide_batch(
                batch,
                snapshot,
                column=column,
                purpose=purpose,
                scheme=scheme,
                at=at,
                min_authority=minimum,
            )
            yield batch.filter(arrow_of(kept_mask(decisions.codes, invalid)))

    return run


_OPENED: dict[str, tuple[tuple[int, ...], Snapshot]] = {}
_OPENED_LOCK = threading.Lock()


def opened_snapshot(path: str) -> Snapshot:
    """The snapshot at `path`, opened once per process while the file stays the same one.

    Spark unpickles a task's function afresh for every task (and Ray per task or actor), so a
    snapshot held in `batch_filter`'s closure would be re-read, re-verified and re-indexed per
    partition: about a second at 10k claims, ten at 100k. A file replaced since (`snapshot pull`
    writes a new one) is opened anew; the old one is closed by the collector once unused.
    """
    try:
        status = os.stat(path)
    except OSError:
        return Snapshot.open(path)  # refused, saying why
    identity = (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)
    where = os.path.realpath(path)
    with _OPENED_LOCK:
        known = _OPENED.get(where)
        if known is None or known[0] != identity:
            known = _OPENED[where] = (identity, Snapshot.open(path))
        return known[1]


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

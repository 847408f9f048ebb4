"""Exact Hamming-radius search over binary hashes (PDQ images, ISCC units) by multi-index hashing.

A `pdq` claim matches an image whose hash is within 31 of 256 bits of one of the claim's hashes; an
`iscc` unit matches within a few bits of 64. Checks must find *every* such claim (a missed opt-out is
the one error the registry cannot make), so the index returns exactly what a brute-force scan returns,
and it must do so at a million registered hashes while claims keep arriving.

Multi-index hashing (Norouzi, Punjani and Fleet, "Fast Exact Search in Hamming Space with Multi-Index
Hashing", TPAMI 2014). Each code is cut into m disjoint substrings. Write the search radius as
r = s·m + a with 0 <= a < m. If d(x, q) <= r then at least one of any chosen a + 1 substrings differs
from the query's in at most s bits, or one of the other m - a - 1 differs in at most s - 1 bits:
otherwise d(x, q) >= (a + 1)(s + 1) + (m - a - 1)s = r + 1. So probing every substring value within
those small radii of the query's substrings yields a candidate set that contains every true match;
candidates are then verified with an exact popcount. Recall is 1.0 by construction, not by tuning.

m is chosen from (bits, radius) by a cost model of one million codes: lookups plus expected
candidates. 256 bits, r = 31 gives 16 substrings of 16 bits probed at radius 1 (17 probes each, 272 per
query, about 4,400 random candidates at 1M); 64 bits, r = 10 gives 4 substrings of 16 bits at radii
2, 2, 2, 1 (428 probes). When no split beats a linear scan (a large radius for the width) the index
scans instead, still exactly.

Pure: stdlib and numpy only, so the client can run the same code over a snapshot.
"""

from __future__ import annotations

import itertools
import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["HammingIndex", "brute_force"]

Words = npt.NDArray[np.uint64]
Ints = npt.NDArray[np.int64]
Rows = npt.NDArray[np.int32]
Mask = npt.NDArray[np.bool_]
Keys = npt.NDArray[np.unsignedinteger[Any]]

_WORD_BITS = 64
_MAX_REF = (1 << 63) - 1
_DESIGN_SIZE = 1 << 20  # the collection size the split is tuned for
_TABLE_LIMIT = 1 << 22  # key spaces up to this get a direct offsets table (<= 32 MB) instead of bisection
_BISECT_COST = 8.0  # one bisection probe, in units of one verified candidate
_SCAN_COST = 0.25  # one row of a sequential scan, in units of one (random-access) verified candidate
_BLOCK = 1 << 21  # elements per temporary array while scanning or verifying (16 MB of uint64)
_MAX_ROWS = (1 << 31) - 1  # row ids are int32


def _pieces(per_word: int) -> list[int]:
    """Widths of `per_word` near-equal pieces of one 64-bit word, wider first."""
    width, extra = divmod(_WORD_BITS, per_word)
    return [width + 1] * extra + [width] * (per_word - extra)


def _ball(width: int, radius: int) -> int:
    """Number of `width`-bit values within `radius` of a given one."""
    return sum(math.comb(width, i) for i in range(min(radius, width) + 1)) if radius >= 0 else 0


@dataclass(frozen=True)
class _Plan:
    """How codes are cut into substrings: widths, where each lives, and its slot in the key space."""

    widths: tuple[int, ...]  # widest first, so the a + 1 substrings searched at radius s are the widest
    word: tuple[int, ...]
    shift: tuple[int, ...]
    base: tuple[int, ...] = field(init=False)  # substring k's keys are base[k] + value

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "base", tuple(itertools.accumulate((1 << w for w in self.widths), initial=0))
        )

    @classmethod
    def split(cls, words: int, per_word: int) -> _Plan:
        """Every word cut into the same `per_word` pieces; substrings never straddle words."""
        parts = []
        for word in range(words):
            offset = 0
            for width in _pieces(per_word):
                parts.append((width, word, offset))
                offset += width
        parts.sort(key=lambda part: -part[0])  # stable: word order kept among equal widths
        return cls(
            widths=tuple(part[0] for part in parts),
            word=tuple(part[1] for part in parts),
            shift=tuple(part[2] for part in parts),
        )

    @property
    def key_space(self) -> int:
        return self.base[-1]

    @property
    def table(self) -> bool:
        """Whether lookups go through a direct offsets table rather than bisection."""
        return self.key_space <= _TABLE_LIMIT

    def radii(self, radius: int) -> tuple[int, ...]:
        """Per-substring probe radii that the pigeonhole argument guarantees for `radius`."""
        s, a = divmod(radius, len(self.widths))
        return tuple(s if k <= a else s - 1 for k in range(len(self.widths)))

    def cost(self, radius: int, size: int = _DESIGN_SIZE) -> float:
        """Expected work per query at `size` codes: probes plus random candidates."""
        probe = 1.0 if self.table else _BISECT_COST
        return sum(
            _ball(w, r) * (probe + size * 2.0**-w)
            for w, r in zip(self.widths, self.radii(radius), strict=True)
        )


def _choose_plan(bits: int, radius: int, substrings: int | None) -> _Plan | None:
    """The cheapest split for (bits, radius), or None when a linear scan is cheaper."""
    words = bits // _WORD_BITS
    if substrings is not None:
        if substrings % words or not words <= substrings <= bits:
            raise ValueError(f"substrings must be a multiple of {words} between {words} and {bits}")
        if substrings == words:  # one 64-bit piece per word: key space too large to index
            raise ValueError("substrings must cut each 64-bit word in at least two")
        return _Plan.split(words, substrings // words)
    plans = [_Plan.split(words, per_word) for per_word in range(2, 17)]
    best = min(plans, key=lambda plan: plan.cost(radius))
    return best if best.cost(radius) < _SCAN_COST * _DESIGN_SIZE else None


def _masks(width: int, radius: int) -> list[int]:
    """Every `width`-bit XOR mask of at most `radius` set bits, lightest first."""
    return [
        sum(1 << bit for bit in bits)
        for weight in range(min(radius, width) + 1)
        for bits in itertools.combinations(range(width), weight)
    ]


@dataclass(frozen=True)
class _Probes:
    """For one search radius: every (substring, XOR mask) pair a query must look up."""

    substring: Ints  # which substring each probe reads
    mask: Words
    base: Words  # the substring's offset in the key space
    word: npt.NDArray[np.intp]  # per substring: its word, shift and width mask
    shift: Words
    width_mask: Words


def _distances(codes: Words, queries: Words) -> npt.NDArray[np.uint16]:
    """Row-wise Hamming distance between equally shaped (..., words) arrays."""
    counts: npt.NDArray[np.uint8] = np.bitwise_count(codes ^ queries)
    # adding columns is several times faster than a reduction along a short last axis
    distances: npt.NDArray[np.uint16] = counts[..., 0].astype(np.uint16)
    for word in range(1, counts.shape[-1]):
        distances += counts[..., word]
    return distances


def _scan(codes: Words, queries: Words, radius: int) -> tuple[Ints, Ints, Ints]:
    """(query index, row, distance) of every row within `radius` of each query, in bounded blocks."""
    found: list[tuple[Ints, Ints, Ints]] = []
    rows, words = codes.shape
    if rows == 0 or len(queries) == 0:
        return _empty3()
    q_step = max(1, min(len(queries), _BLOCK // (rows * words)))
    n_step = max(1, _BLOCK // (q_step * words))
    for q0 in range(0, len(queries), q_step):
        block = queries[q0 : q0 + q_step, None, :]
        for n0 in range(0, rows, n_step):
            d = _distances(codes[None, n0 : n0 + n_step, :], block)
            qi, ni = np.nonzero(d <= radius)
            found.append((qi.astype(np.int64) + q0, ni.astype(np.int64) + n0, d[qi, ni].astype(np.int64)))
    return _concat3(found)


def _empty3() -> tuple[Ints, Ints, Ints]:
    empty = np.empty(0, np.int64)
    return empty, empty, empty


def _concat3(parts: Sequence[tuple[Ints, Ints, Ints]]) -> tuple[Ints, Ints, Ints]:
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return _empty3()
    a, b, c = zip(*parts, strict=True)
    return np.concatenate(a), np.concatenate(b), np.concatenate(c)


def _collect(queries: int, qidx: Ints, refs: Ints, dists: Ints) -> list[list[tuple[int, int]]]:
    """Per query: one (ref, minimum distance) per ref, sorted by (distance, ref)."""
    if len(qidx) == 0:
        return [[] for _ in range(queries)]
    order = np.lexsort((dists, refs, qidx))
    qidx, refs, dists = qidx[order], refs[order], dists[order]
    first = np.ones(len(qidx), dtype=bool)
    first[1:] = (qidx[1:] != qidx[:-1]) | (refs[1:] != refs[:-1])
    qidx, refs, dists = qidx[first], refs[first], dists[first]
    order = np.lexsort((refs, dists, qidx))
    qidx, refs, dists = qidx[order], refs[order], dists[order]
    bounds = np.searchsorted(qidx, np.arange(queries + 1)).tolist()
    ref_list, dist_list = refs.tolist(), dists.tolist()
    return [
        list(zip(ref_list[lo:hi], dist_list[lo:hi], strict=True)) for lo, hi in itertools.pairwise(bounds)
    ]


def _as_words(codes: Sequence[bytes], size: int) -> Words:
    """(len(codes), size // 8) uint64 array; refuses any code not exactly `size` bytes."""
    for code in codes:
        if len(code) != size:
            raise ValueError(f"code must be {size} bytes, got {len(code)}")
    joined = b"".join(codes)
    return np.frombuffer(joined, dtype=np.uint64).reshape(len(codes), size // 8)


def _as_ref(ref: int) -> int:
    value = operator.index(ref)
    if not 0 <= value <= _MAX_REF:
        raise ValueError(f"ref must be an integer in [0, 2**63), got {ref!r}")
    return value


class HammingIndex:
    """Every registered code within Hamming distance `radius` of a query, exactly, fast at 1M codes.

    Registered codes live in a sorted, immutable *base* (multi-index postings, see the module
    docstring) plus a small *buffer* of recent adds that every search scans in full, so a search sees
    every earlier add. The buffer is merged into the base once it holds more than `buffer_size` codes
    or 2% of the base. `remove` tombstones rows; searches skip them and the next merge drops them.
    Not thread-safe: callers serialise updates and searches (one event loop, or a lock).

    >>> index = HammingIndex(bits=64, radius=10)
    >>> near = (0b1111).to_bytes(8, "big")  # 4 bits away from zero
    >>> index.add(bytes(8), ref=1)
    >>> index.add(near, ref=2)
    >>> index.add(near, ref=1)  # a ref may hold several codes; it is reported once, at its best
    >>> index.search(bytes(8))
    [(1, 0), (2, 4)]
    >>> index.search(bytes(8), radius=3)
    [(1, 0)]
    >>> index.remove(1)
    >>> index.search(bytes(8)), len(index)
    ([(2, 4)], 1)
    """

    def __init__(
        self, bits: int, radius: int, *, substrings: int | None = None, buffer_size: int = 4096
    ) -> None:
        """`substrings` overrides the chosen split (tests, tuning); `buffer_size` is the least merge size."""
        if bits <= 0 or bits % _WORD_BITS:
            raise ValueError(f"bits must be a positive multiple of 64, got {bits}")
        if not 0 <= radius <= bits:
            raise ValueError(f"radius must be between 0 and {bits}, got {radius}")
        if buffer_size < 1:
            raise ValueError("buffer_size must be positive")
        self.bits = bits
        self.radius = radius
        self._bytes = bits // 8
        self._words = bits // _WORD_BITS
        self._plan = _choose_plan(bits, radius, substrings)
        self._probes: dict[int, _Probes] = {}
        self._buffer_size = buffer_size
        # base
        self._codes: Words = np.empty((0, self._words), np.uint64)
        self._refs: Ints = np.empty(0, np.int64)
        self._alive: Mask = np.empty(0, np.bool_)
        self._dead = 0
        self._postings: Rows = np.empty(0, np.int32)  # base rows grouped by (substring, key)
        self._offsets: Ints | None = None  # table mode: postings of key k are [offsets[k], offsets[k+1])
        self._keys: Keys | None = None  # bisection mode: the key of each posting, sorted
        self._by_ref: tuple[Ints, Rows] | None = None  # (sorted refs, their rows), built on first remove
        # buffer
        self._buf_codes: Words = np.empty((0, self._words), np.uint64)
        self._buf_refs: Ints = np.empty(0, np.int64)
        self._buf_alive: Mask = np.empty(0, np.bool_)
        self._buf_len = 0
        self._buf_dead = 0
        self._rebuild(self._codes, self._refs)

    # ------------------------------------------------------------------ introspection

    @property
    def plan(self) -> tuple[tuple[int, int], ...]:
        """(width, probe radius at the index radius) per substring; empty when the index scans."""
        if self._plan is None:
            return ()
        return tuple(zip(self._plan.widths, self._plan.radii(self.radius), strict=True))

    def __len__(self) -> int:
        """Number of live (code, ref) pairs; adding the same pair twice counts twice."""
        return len(self._refs) - self._dead + self._buf_len - self._buf_dead

    # ------------------------------------------------------------------ updates

    def add(self, code: bytes, ref: int) -> None:
        """Register `code` for `ref`; visible to every later search."""
        if len(code) != self._bytes:
            raise ValueError(f"code must be {self._bytes} bytes, got {len(code)}")
        value = _as_ref(ref)
        if self._buf_len == len(self._buf_refs):
            self._grow_buffer()
        n = self._buf_len
        self._buf_codes[n] = np.frombuffer(code, dtype=np.uint64)
        self._buf_refs[n] = value
        self._buf_alive[n] = True
        self._buf_len = n + 1
        if self._buf_len > self._merge_at():
            self.merge()

    def add_many(self, codes: Sequence[bytes], refs: Sequence[int]) -> None:
        """`add` for each pair, merged in one go: the way to load a snapshot or a table."""
        if len(codes) != len(refs):
            raise ValueError("codes and refs differ in length")
        words = _as_words(codes, self._bytes)
        values = np.array([_as_ref(ref) for ref in refs], dtype=np.int64)
        if self._buf_len + len(values) <= self._merge_at():
            for row, value in zip(words, values.tolist(), strict=True):
                self.add(row.tobytes(), value)
            return
        self._merge(words, values)

    def remove(self, ref: int) -> None:
        """Withdraw every code of `ref`; unknown refs are ignored."""
        value = _as_ref(ref)
        if len(self._refs):
            if self._by_ref is None:
                order = np.argsort(self._refs, kind="stable")
                self._by_ref = (self._refs[order], order.astype(np.int32))
            sorted_refs, rows = self._by_ref
            lo = int(np.searchsorted(sorted_refs, value, side="left"))
            hi = int(np.searchsorted(sorted_refs, value, side="right"))
            if hi > lo:
                hit = rows[lo:hi]
                self._dead += int(np.count_nonzero(self._alive[hit]))
                self._alive[hit] = False
        if self._buf_len:
            hit_buf = self._buf_alive[: self._buf_len] & (self._buf_refs[: self._buf_len] == value)
            self._buf_dead += int(np.count_nonzero(hit_buf))
            self._buf_alive[: self._buf_len][hit_buf] = False
        if self._dead > max(self._buffer_size, len(self._refs) // 4):
            self.merge()

    def merge(self) -> None:
        """Fold the buffer into the base and drop tombstones now (otherwise done when they pile up)."""
        self._merge(np.empty((0, self._words), np.uint64), np.empty(0, np.int64))

    # ------------------------------------------------------------------ search

    def search(self, code: bytes, radius: int | None = None) -> list[tuple[int, int]]:
        """[(ref, distance)] within `radius` (default: the index radius), sorted by (distance, ref)."""
        return self.search_many([code], radius)[0]

    def search_many(self, codes: Sequence[bytes], radius: int | None = None) -> list[list[tuple[int, int]]]:
        """`search` for each code, with lookups and verification batched across queries."""
        r = self.radius if radius is None else operator.index(radius)
        if not 0 <= r <= self.radius:
            raise ValueError(f"radius must be between 0 and the index radius {self.radius}, got {radius}")
        queries = _as_words(codes, self._bytes)
        parts = [self._search_base(queries, r)]
        if self._buf_len - self._buf_dead:
            qi, row, d = _scan(self._buf_codes[: self._buf_len], queries, r)
            live = self._buf_alive[row]
            parts.append((qi[live], self._buf_refs[row[live]], d[live]))
        return _collect(len(queries), *_concat3(parts))

    def _search_base(self, queries: Words, radius: int) -> tuple[Ints, Ints, Ints]:
        if len(self._refs) == self._dead:
            return _empty3()
        if self._plan is None:
            qi, row, d = _scan(self._codes, queries, radius)
        else:
            probes = self._probes_for(radius)
            per_query = len(probes.mask) * (1 + len(self._postings) / self._plan.key_space)
            step = max(1, min(1024, int(_BLOCK // (per_query * self._words))))
            qi, row, d = _concat3(
                [
                    self._lookup(queries[q0 : q0 + step], probes, radius, q0)
                    for q0 in range(0, len(queries), step)
                ]
            )
        if self._dead:
            live = self._alive[row]
            qi, row, d = qi[live], row[live], d[live]
        return qi, self._refs[row], d

    def _lookup(self, queries: Words, probes: _Probes, radius: int, q0: int) -> tuple[Ints, Ints, Ints]:
        """Candidates from the postings of every probe, verified by popcount."""
        substrings = (queries[:, probes.word] >> probes.shift) & probes.width_mask  # (Q, m)
        keys = probes.base + (substrings[:, probes.substring] ^ probes.mask)  # (Q, probes)
        if self._offsets is not None:
            index = keys.astype(np.intp).ravel()
            starts, ends = self._offsets[index], self._offsets[index + 1]
        else:
            assert self._keys is not None
            flat = keys.ravel().astype(self._keys.dtype)
            starts = np.searchsorted(self._keys, flat, side="left").astype(np.int64)
            ends = np.searchsorted(self._keys, flat, side="right").astype(np.int64)
        counts = ends - starts
        hit = np.flatnonzero(counts)
        if len(hit) == 0:
            return _empty3()
        starts, counts = starts[hit], counts[hit]
        total = int(counts.sum())
        # positions of every candidate posting: each run [start, start + count) laid end to end
        run_start = np.cumsum(counts) - counts
        positions = np.arange(total, dtype=np.int64) + np.repeat(starts - run_start, counts)
        # np.take, not fancy indexing: several times faster for these random row gathers
        rows = np.take(self._postings, positions).astype(np.int64)
        qi = np.repeat(hit // len(probes.mask), counts)
        d = _distances(np.take(self._codes, rows, axis=0), np.take(queries, qi, axis=0))
        near = np.flatnonzero(d <= radius)
        return qi[near] + q0, rows[near], d[near].astype(np.int64)

    def _probes_for(self, radius: int) -> _Probes:
        probes = self._probes.get(radius)
        if probes is None:
            assert self._plan is not None
            substring: list[int] = []
            masks: list[int] = []
            for k, (width, r) in enumerate(zip(self._plan.widths, self._plan.radii(radius), strict=True)):
                flips = _masks(width, r)
                substring += [k] * len(flips)
                masks += flips
            sub = np.array(substring, dtype=np.int64)
            probes = _Probes(
                substring=sub,
                mask=np.array(masks, dtype=np.uint64),
                base=np.array(self._plan.base[:-1], dtype=np.uint64)[sub],
                word=np.array(self._plan.word, dtype=np.intp),
                shift=np.array(self._plan.shift, dtype=np.uint64),
                width_mask=np.array([(1 << w) - 1 for w in self._plan.widths], dtype=np.uint64),
            )
            self._probes[radius] = probes
        return probes

    # ------------------------------------------------------------------ maintenance

    def _merge_at(self) -> int:
        return max(self._buffer_size, len(self._refs) // 50)

    def _grow_buffer(self) -> None:
        capacity = max(16, min(2 * len(self._buf_refs), self._merge_at() + 1))
        for name in ("_buf_codes", "_buf_refs", "_buf_alive"):
            old = getattr(self, name)
            new = np.zeros((capacity, *old.shape[1:]), dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    def _merge(self, extra_codes: Words, extra_refs: Ints) -> None:
        n = self._buf_len
        buffered = self._buf_alive[:n]
        codes = np.concatenate([self._codes[self._alive], self._buf_codes[:n][buffered], extra_codes])
        refs = np.concatenate([self._refs[self._alive], self._buf_refs[:n][buffered], extra_refs])
        self._buf_len = self._buf_dead = 0
        self._rebuild(codes, refs)
        if len(self._buf_refs) > 2 * self._merge_at():
            self._buf_codes = self._buf_codes[:0].copy()
            self._buf_refs = self._buf_refs[:0].copy()
            self._buf_alive = self._buf_alive[:0].copy()

    def _rebuild(self, codes: Words, refs: Ints) -> None:
        """Replace the base by these rows: postings per substring, sorted stably by substring value."""
        if len(refs) > _MAX_ROWS:
            raise ValueError("a HammingIndex holds at most 2**31 - 1 codes")
        self._codes = np.ascontiguousarray(codes)
        self._refs = refs
        self._alive = np.ones(len(refs), dtype=np.bool_)
        self._dead = 0
        self._by_ref = None
        plan = self._plan
        if plan is None:
            return
        orders: list[Rows] = []
        counts: list[Ints] = []
        keys: list[Keys] = []
        for k, width in enumerate(plan.widths):
            values = (self._codes[:, plan.word[k]] >> np.uint64(plan.shift[k])) & np.uint64((1 << width) - 1)
            values = values.astype(np.min_scalar_type((1 << width) - 1))  # narrow: radix sort up to 16 bits
            order = np.argsort(values, kind="stable").astype(np.int32)
            orders.append(order)
            if plan.table:
                counts.append(np.bincount(values, minlength=1 << width).astype(np.int64))
            else:
                keys.append(values[order].astype(np.uint64) + np.uint64(plan.base[k]))
        self._postings = np.concatenate(orders)
        if plan.table:
            self._offsets = np.concatenate([np.zeros(1, np.int64), np.cumsum(np.concatenate(counts))])
        else:
            key_type = np.uint32 if plan.key_space <= 1 << 32 else np.uint64
            self._keys = np.concatenate(keys).astype(key_type)


def brute_force(
    codes: Sequence[bytes], refs: Sequence[int], query: bytes, radius: int
) -> list[tuple[int, int]]:
    """The reference: a full numpy scan, [(ref, minimum distance)] sorted by (distance, ref)."""
    if len(codes) != len(refs):
        raise ValueError("codes and refs differ in length")
    if radius < 0:
        raise ValueError("radius must be non-negative")
    size = len(query)
    dtype = np.uint64 if size % 8 == 0 else np.uint8
    for code in codes:
        if len(code) != size:
            raise ValueError(f"code must be {size} bytes, got {len(code)}")
    if not codes:
        return []
    width = size // np.dtype(dtype).itemsize
    table = np.frombuffer(b"".join(codes), dtype=dtype).reshape(len(codes), width)
    distances = np.bitwise_count(table ^ np.frombuffer(query, dtype=dtype)).sum(axis=1, dtype=np.int64)
    near = np.flatnonzero(distances <= radius)
    ref_array = np.array(refs, dtype=np.int64)
    return _collect(1, np.zeros(len(near), np.int64), ref_array[near], distances[near])[0]

"""A batch of URLs matched against a snapshot's URL keys with array operations, no Python per row.

Two stages, both over the batch's bytes as NumPy sees them (fixed-width windows gathered at each
row's host or path, compared as 64-bit words):

1. every http(s) URL whose host is plain (letters, digits, hyphens, dots, at most 31 bytes; no
   userinfo, escape or IP address) has its domain — the last two labels, in which every host
   expression it has ends — looked up among the domains URL keys name. Not there: unknown, settled.
2. a URL on a registered domain that is already canonical (nothing for Safe Browsing
   canonicalisation to do but lower-case the host and drop port and fragment: what
   `registry.urls.canonicalize` takes its shortcut for) has its host suffixes looked up among the
   keys' hosts, and for each host found, its path with query, path and path prefixes among that
   host's key paths: its lookup expressions, as `registry.urls.lookup_expressions` lists them.

Lookups go through open-addressing tables of 64-bit fingerprints; a fingerprint only finds
candidates, each then compared with the key word for word (and, past 32 bytes, as bytes), so a
match is an equal string. What neither stage settles (other URLs, long hosts, escapes, dot
segments: rare) is left for the per-row reference path, `Snapshot.decide_urls`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from crawler_client.arrow_arrays import arrow_of, strings_of, valid_rows
from registry.snapshot import url_domain

__all__ = ["CANDIDATE", "NULL", "OTHER", "SETTLED", "Hits", "Stage", "UrlMatcher"]

W: Final = 32  # bytes of a host or path window: four 64-bit words
_WORDS: Final = W // 8
_PAD: Final = 2 * W
_U64 = npt.NDArray[np.uint64]
_I64 = npt.NDArray[np.int64]
_Bool = npt.NDArray[np.bool_]
_Rows = npt.NDArray[np.intp]

_LOW: Final = np.uint64(0x2020202020202020)
_HTTPS: Final = np.uint64(int.from_bytes(b"https://", "little"))
_HTTPS_CASE: Final = np.uint64(0x0000_0020_2020_2020)  # lower-case bytes 0-4, the letters only
_HTTP: Final = np.uint64(int.from_bytes(b"http://\0", "little"))
_HTTP_CASE: Final = np.uint64(0x0000_0000_2020_2020)
_SEVEN: Final = np.uint64(0x00FF_FFFF_FFFF_FFFF)
_BYTE_MASK: Final = np.tril(np.ones((W + 1, W), dtype=bool), -1)  # row n: the first n bytes
_WORD_MASK: Final = np.where(_BYTE_MASK, 0xFF, 0).astype(np.uint8).view(np.uint64)
_PACK: Final = np.uint64(0x0102040810204080)
_MIX: Final = tuple(
    np.uint64(c) for c in (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0xD6E8FEB86659FD93)
)
#: Stage one's outcome per row: settled (unknown), for stage two, for the per-row path, null.
SETTLED, CANDIDATE, OTHER, NULL = 0, 1, 2, 3


def _fingerprint(words: _U64, lengths: npt.NDArray[Any], salt: _U64 | np.uint64 = _MIX[3]) -> _U64:
    """A 64-bit mix of (words, length, salt): equal strings, equal fingerprints (the converse is checked)."""
    h = (lengths.astype(np.uint64) * _MIX[0]) ^ salt
    for column in range(_WORDS):
        h = (h ^ words[:, column]) * _MIX[1]
        h ^= h >> np.uint64(31)
    h *= _MIX[2]
    h ^= h >> np.uint64(29)
    result: _U64 = h
    return result


def _equal_words(a: _U64, b: _U64) -> _Bool:
    """Rows of four words that are equal (without a reduction along the short axis)."""
    result: _Bool = (a[:, 0] == b[:, 0]) & (a[:, 1] == b[:, 1]) & (a[:, 2] == b[:, 2]) & (a[:, 3] == b[:, 3])
    return result


def _words_of(texts: Sequence[bytes]) -> _U64:
    """The first W bytes of each text, zero-padded, as four words per text."""
    blob = b"".join(text[:W].ljust(W, b"\0") for text in texts)
    return np.frombuffer(blob, dtype=np.uint64).reshape(len(texts), _WORDS)


class _Table:
    """Open addressing (linear probing) from fingerprints to item numbers.

    One slot per distinct fingerprint (0 marks an empty slot, so a fingerprint of 0 is stored
    as 1); items sharing one are chained (`chained`), and `find` returns them all.
    """

    def __init__(self, prints: _U64) -> None:
        prints = np.where(prints == 0, np.uint64(1), prints)
        distinct, first, inverse = np.unique(prints, return_index=True, return_inverse=True)
        self.chained = np.full(len(prints), -1, dtype=np.int64)  # next item with the same print
        order = np.argsort(inverse, kind="stable")
        same = inverse[order][1:] == inverse[order][:-1]
        self.chained[order[:-1][same]] = order[1:][same]
        size = 1 << max(3, (4 * len(distinct)).bit_length())  # at most a quarter full
        self.mask = np.uint64(size - 1)
        self.prints = np.zeros(size, dtype=np.uint64)
        self.items = np.full(size, -1, dtype=np.int64)
        at = (distinct & self.mask).astype(np.int64)
        pending = np.arange(len(distinct))
        while len(pending):
            free = np.flatnonzero(self.prints[at[pending]] == 0)
            slots, won = np.unique(at[pending[free]], return_index=True)
            placed = pending[free[won]]
            self.prints[slots] = distinct[placed]
            self.items[slots] = first[placed]
            keep = np.ones(len(pending), dtype=bool)
            keep[free[won]] = False
            pending = pending[keep]
            at[pending] = (at[pending] + 1) & int(self.mask)

    def find(self, prints: _U64) -> tuple[_I64, _I64]:
        """(query number, item number) for every item whose fingerprint equals a query's."""
        prints = np.where(prints == 0, np.uint64(1), prints)
        at = (prints & self.mask).astype(np.int64)
        queries = np.arange(len(prints))
        found_queries, found_items = [], []
        while len(queries) > 32:  # array rounds while many queries go on probing
            stored = self.prints[at]
            hit = stored == prints[queries]
            found_queries.append(queries[hit])
            found_items.append(self.items[at[hit]])
            going = (stored != 0) & ~hit
            queries, at = queries[going], (at[going] + 1) & int(self.mask)
        tail_queries, tail_items, mask = [], [], int(self.mask)
        for number, slot in zip(queries.tolist(), at.tolist(), strict=True):  # the few long probes
            wanted = prints[number]
            while (held := self.prints[slot]) != 0 and held != wanted:
                slot = (slot + 1) & mask
            if held == wanted:
                tail_queries.append(number)
                tail_items.append(int(self.items[slot]))
        found_queries.append(np.array(tail_queries, dtype=np.int64))
        found_items.append(np.array(tail_items, dtype=np.int64))
        query, item = np.concatenate(found_queries), np.concatenate(found_items)
        more = self.chained[item]
        while (more >= 0).any():  # rare: several items under one fingerprint
            with_more = more >= 0
            query, item = np.concatenate([query, query[with_more]]), np.concatenate([item, more[with_more]])
            more = np.concatenate([np.full(len(more), -1), self.chained[more[with_more]]])
        return query, item


class _Bitmap:
    """A one-hash Bloom filter of fingerprints: "maybe" for every one added, and for about one
    in a hundred others (which only cost the exact lookups that follow)."""

    def __init__(self, prints: _U64) -> None:
        self.shift = np.uint64(64 - max(16, min(32, (128 * max(len(prints), 1)).bit_length())))
        self.bits = np.zeros(1 << max(10, 64 - int(self.shift) - 6), dtype=np.uint64)
        at = prints >> self.shift
        np.bitwise_or.at(
            self.bits, (at >> np.uint64(6)).astype(np.int64), np.uint64(1) << (at & np.uint64(63))
        )

    def may_hold(self, prints: _U64) -> _Bool:
        at = prints >> self.shift
        word = self.bits[(at >> np.uint64(6)).astype(np.int64)]
        result: _Bool = ((word >> (at & np.uint64(63))) & np.uint64(1)) != 0
        return result


class _Bytes:
    """A string array's bytes, padded so that a window may start at any row's end."""

    def __init__(self, values: pa.Array) -> None:
        buffers = values.buffers()
        offsets = np.frombuffer(buffers[1], dtype=np.int32, count=len(values) + 1, offset=values.offset * 4)
        first, last = int(offsets[0]), int(offsets[-1])
        self.data = np.zeros(last - first + _PAD, dtype=np.uint8)
        if buffers[2] is not None and last > first:
            self.data[: last - first] = np.frombuffer(buffers[2], dtype=np.uint8)[first:last]
        self.start = offsets[:-1].astype(np.int64) - first
        self.end = offsets[1:].astype(np.int64) - first

    def windows(self, at: _I64, width: int = W) -> npt.NDArray[np.uint8]:
        """`width` bytes from each position, one row each (a gather of fixed-size items)."""
        items = np.ndarray(
            (len(self.data) - width + 1,), dtype=np.dtype((np.void, width)), buffer=self.data, strides=(1,)
        )
        return items[at].view(np.uint8).reshape(len(at), width)


def _host_bytes(window: npt.NDArray[np.uint8]) -> _Bool:
    """Which bytes may stand in a plain host: ASCII letters, digits, '-' and '.'."""
    letters = ((window | 0x20) - 97) < 26
    result: _Bool = letters | (((window - 45) < 13) & (window != 47))  # "-", ".", "0"-"9"
    return result


def _bits(mask: _Bool) -> _U64:
    """Each row of a (rows, W) mask as a W-bit integer, bit c for column c."""
    words = np.ascontiguousarray(mask).view(np.uint64)  # eight 0/1 bytes per word
    packed = (words * _PACK) >> np.uint64(56)  # those bytes as the eight bits of the top byte
    result: _U64 = packed[:, 0] | (packed[:, 1] << np.uint64(8))
    result |= (packed[:, 2] << np.uint64(16)) | (packed[:, 3] << np.uint64(24))
    return result


def _top(bits: _U64) -> tuple[_I64, _Bool]:
    """The highest set bit of each value (exact: values below 2**53), and whether there is one."""
    highest = np.frexp(bits.astype(np.float64))[1].astype(np.int64) - 1
    return highest, bits != 0


def _low_zeros(bits: _U64) -> _I64:
    """Trailing zero bits of each value (64 for zero)."""
    result: _I64 = np.bitwise_count((bits & (~bits + np.uint64(1))) - np.uint64(1)).astype(np.int64)
    return result


def _bit(positions: _I64) -> _U64:
    result: _U64 = np.uint64(1) << positions.astype(np.uint64)
    return result


@dataclass
class Stage:
    """Stage one of a batch: each row's outcome, and where its host and path are."""

    outcome: npt.NDArray[np.int8]
    host: _I64  # host start, in `bytes`
    host_length: _I64
    path: _I64  # path start (after any port)
    bytes: _Bytes


class UrlMatcher:
    """The URL keys of a snapshot as lookup tables; built once, shared by every batch.

    `keys` are the snapshot's (ordinal, key) pairs, or None for a snapshot that does not carry them
    (then only stage one runs, on `domains`).
    """

    def __init__(self, domains: Iterable[str], keys: Sequence[tuple[int, str]] | None) -> None:
        self.has_keys = keys is not None
        listed = keys or ()
        # distinct keys numbered in the snapshot's order (first appearance), as Arrow encodes them
        encoded = pc.dictionary_encode(strings_of([key for _, key in listed]))
        indices = encoded.indices  # int32, no nulls: its data buffer as it is
        owners = np.frombuffer(indices.buffers()[1], np.int32, len(indices), indices.offset * 4).astype(
            np.int64
        )
        distinct = encoded.dictionary.cast(pa.string())
        self.keys: list[str] = distinct.to_pylist()
        by_key = np.argsort(owners, kind="stable")
        self.claim_ordinals = np.fromiter((o for o, _ in listed), dtype=np.int64, count=len(listed))[by_key]
        self.claim_start = np.searchsorted(owners[by_key], np.arange(len(self.keys) + 1))
        text = _Bytes(distinct)
        slash, _ = _first(np.flatnonzero(text.data == 47), text.start, text.end)
        cut = slash - text.start  # a key's host is what comes before its first "/"
        short = np.flatnonzero(cut < W)  # a host of W bytes or more is no plain host's suffix
        words = text.windows(text.start[short]).view(np.uint64) & _WORD_MASK[cut[short]]
        prints = _fingerprint(words, cut[short])
        _, first, host_ids = np.unique(prints, return_index=True, return_inverse=True)
        if not _equal_words(words[first][host_ids], words).all():  # two hosts, one fingerprint
            host_of = np.column_stack([words, cut[short].astype(np.uint64)])
            _, first, host_ids = np.unique(host_of, axis=0, return_index=True, return_inverse=True)
        self.host_words = words[first]
        self.host_lengths = cut[short][first].astype(np.int64)
        self.hosts = _Table(_fingerprint(self.host_words, self.host_lengths))
        hosts = [self.keys[int(short[n])][: int(cut[short[n]])] for n in first.tolist()]
        names = sorted({url_domain(host) for host in hosts} | set(domains))
        encoded = [name.encode() for name in names if len(name) < W]
        self.domains = _Bitmap(_fingerprint(_words_of(encoded), np.array([len(e) for e in encoded])))
        self.path_keys = short
        self.path_hosts = host_ids.reshape(-1).astype(np.int64)
        begin = text.start[short] + cut[short]
        self.path_words = text.windows(begin).view(np.uint64).copy()
        self.path_lengths = text.end[short] - begin
        self.path_words &= _WORD_MASK[np.minimum(self.path_lengths, W)]
        self.path_tails = {
            int(n): self.keys[int(short[n])][int(cut[short[n]]) + W :].encode()
            for n in np.flatnonzero(self.path_lengths > W)
        }
        salts = self.path_hosts.astype(np.uint64) * _MIX[2] + _MIX[3]
        self.path_sizes = np.zeros(len(hosts), dtype=np.uint64)  # per host: bit n, a path of n bytes
        np.bitwise_or.at(self.path_sizes, self.path_hosts, _bit(np.minimum(self.path_lengths, 63)))
        self.paths = _Table(_fingerprint(self.path_words, self.path_lengths, salts))

    # ------------------------------------------------------------ stage one

    def stage(self, values: pa.Array, max_bytes: int) -> Stage:
        """Settle every row with a plain host on an unregistered domain; say which rows are left."""
        data = _Bytes(values)
        start, length = data.start, data.end - data.start
        rows = np.arange(len(values))
        head = data.windows(start, 8).view(np.uint64)[:, 0]
        https = ((head | _HTTPS_CASE) == _HTTPS) & (length >= 8)
        plain = (https | ((((head | _HTTP_CASE) & _SEVEN) == _HTTP) & (length >= 7))) & (length <= max_bytes)
        host = start + np.where(https, 8, 7)
        window = data.windows(host)
        stop = np.minimum(_low_zeros(~_bits(_host_bytes(window))), W)  # first byte not in a host
        remaining = data.end - host
        host_length = np.minimum(stop, np.maximum(remaining, 0))
        ends = host_length == remaining
        after = window[rows, np.minimum(host_length, W - 1)]
        port = ~ends & (after == 58)
        plain &= (host_length >= 1) & (host_length < W)
        plain &= ends | port | (after == 47) | (after == 63) | (after == 35)
        dots = _bits(window == 46) & (_bit(host_length) - np.uint64(1))
        edges = np.uint64(1) | _bit(np.maximum(host_length - 1, 0))  # no dot first or last, none doubled
        plain &= ((dots & edges) == 0) & ((dots & (dots >> np.uint64(1))) == 0)
        last, has_last = _top(dots)
        label = np.where(has_last, last + 1, 0)
        plain &= ((window[rows, np.minimum(label, W - 1)] | 0x20) - 97) < 26  # not an IP address
        second, has_second = _top(np.where(has_last, dots & ~_bit(np.maximum(last, 0)), np.uint64(0)))
        path = host + host_length
        if port.any():
            short_port, after_port = _port(data, path)
            plain &= ~port | short_port
            path = np.where(port, after_port, path)
        domain = np.where(has_second, second + 1, 0)
        registered = self._registered(data, host + domain, host_length - domain)
        outcome = np.where(plain, np.where(registered, CANDIDATE, SETTLED), OTHER).astype(np.int8)
        if values.null_count:
            outcome[~valid_rows(values)] = NULL
        return Stage(outcome, host, host_length, path, data)

    def _registered(self, data: _Bytes, at: _I64, length: _I64) -> _Bool:
        """Whether each domain (lower-cased) may be one a URL key names (false positives allowed)."""
        words = (data.windows(at).view(np.uint64) | _LOW) & _WORD_MASK[np.minimum(length, W)]
        return self.domains.may_hold(_fingerprint(words, length))  # a plain host's domain is short too

    # ------------------------------------------------------------ stage two

    def expressions(self, values: pa.Array, stage: Stage, rows: npt.NDArray[np.intp]) -> tuple[_Bool, Hits]:
        """For candidate `rows`: which are canonical already, and their hits (row, rank, key).

        A hit's rank orders it as `lookup_expressions` orders expressions: host first, then longer
        host suffixes first; within a host, path with query, path, then prefixes "/", "/a/", ….
        """
        data = _Bytes(pc.take(values, arrow_of(rows)))  # the candidates' bytes only
        moved = data.start - stage.bytes.start[rows]
        url = _Url(data, stage.host[rows] + moved, stage.host_length[rows], stage.path[rows] + moved)
        canonical = url.canonical()
        fast = np.flatnonzero(canonical)
        if not len(fast):
            return canonical, Hits.none()
        hosts = self._hosts(url, fast)
        return canonical, self._paths(url, fast, hosts, rows)

    def _hosts(self, url: _Url, fast: npt.NDArray[np.intp]) -> tuple[_I64, _I64, _I64]:
        """(row, host rank, host id) of every host expression of these rows that a key has.

        Ranks: 0 the host, then its suffixes of 5, 4, 3 and 2 labels (where it has more labels).
        """
        host, size = url.host[fast], url.host_length[fast]
        dots = _bits(url.data.windows(host) == 46) & (_bit(size) - np.uint64(1))
        numbers, ranks, starts = [np.arange(len(fast))], [np.zeros(len(fast), dtype=np.int64)], [host]
        for labels in range(1, 6):  # the n-th dot from the right starts the suffix of n labels
            last, has = _top(dots)
            dots = np.where(has, dots & ~_bit(np.maximum(last, 0)), np.uint64(0))
            if labels > 1:
                numbers.append(np.flatnonzero(has))
                ranks.append(np.full(int(has.sum()), 6 - labels, dtype=np.int64))
                starts.append(host[has] + last[has] + 1)
        row, rank, start = np.concatenate(numbers), np.concatenate(ranks), np.concatenate(starts)
        length = url.host[fast][row] + size[row] - start
        words = (url.data.windows(start).view(np.uint64) | _LOW) & _WORD_MASK[length]
        queries, items = self.hosts.find(_fingerprint(words, length))
        same = self.host_lengths[items] == length[queries]
        same &= _equal_words(self.host_words[items], words[queries])
        queries, items = queries[same], items[same]
        return row[queries], rank[queries], items

    def _paths(
        self,
        url: _Url,
        fast: npt.NDArray[np.intp],
        hosts: tuple[_I64, _I64, _I64],
        rows: npt.NDArray[np.intp],
    ) -> Hits:
        """The keys among each host found's paths: the row's path with query, path, then prefixes."""
        host_row, host_rank, host_id = hosts
        if not len(host_row):
            return Hits.none()
        begin, words, lengths, present = url.path_parts(fast)
        sizes = lengths[host_row]  # the part lengths of each host found's row
        bits = self.path_sizes[host_id][:, None] >> np.minimum(sizes, 63).astype(np.uint64)
        hit, part = np.nonzero(present[host_row] & ((bits & np.uint64(1)) != 0))  # a key path that long
        row, size = host_row[hit], sizes[hit, part]
        part_words = words[row] & _WORD_MASK[np.minimum(size, W)]
        salt = host_id[hit].astype(np.uint64) * _MIX[2] + _MIX[3]
        queries, items = self.paths.find(_fingerprint(part_words, size, salt))
        same = self.path_hosts[items] == host_id[hit][queries]
        same &= self.path_lengths[items] == size[queries]
        same &= _equal_words(self.path_words[items], part_words[queries])
        queries, items = queries[same], items[same]
        long = np.flatnonzero(size[queries] > W)
        if len(long):  # rare: compare, as bytes, what the words did not cover
            keep = np.ones(len(queries), dtype=bool)
            for n in long.tolist():
                at, tail = int(begin[row[queries[n]]]) + W, self.path_tails[int(items[n])]
                keep[n] = url.data.data[at : at + len(tail)].tobytes() == tail
            queries, items = queries[keep], items[keep]
        return Hits(
            rows[fast[row[queries]]].astype(np.int64),
            host_rank[hit[queries]] * 6 + part[queries],
            self.path_keys[items],
        )


def _port(data: _Bytes, colon: _I64) -> tuple[_Bool, _I64]:
    """After each ":", whether at most four digits follow, then "/", "?", "#" or the end; and where
    the path starts. (No digit at all is an absent port, as `canonicalize` has it.)"""
    digit = (data.windows(colon + 1, 8) - 48) < 10
    count = np.where(digit.all(axis=1), 8, np.argmin(digit, axis=1))
    count = np.minimum(count, np.maximum(data.end - colon - 1, 0))
    at = colon + 1 + count
    after = data.windows(at, 1)[:, 0]
    ok = (count <= 4) & ((at >= data.end) | (after == 47) | (after == 63) | (after == 35))
    return ok, at


def _special(data: npt.NDArray[np.uint8]) -> _Bool:
    """Bytes a canonical path or query cannot hold, and the delimiters "/", "?" and "#"."""
    b = data
    result: _Bool = (b <= 0x20) | (b >= 0x7F) | ((b - 0x22) < 2) | (b == 0x25) | (b == 0x2F)
    result |= (((b - 0x3C) < 4) & (b != 0x3D)) | ((b - 0x5B) < 4) | (b == 0x60) | ((b - 0x7B) < 3)
    return result


def _first(positions: _I64, low: _I64, high: _I64) -> tuple[_I64, _Bool]:
    """Per row, the first of the sorted `positions` in [low, high) (or `high`), and whether there is one."""
    if not len(positions):
        return high.copy(), np.zeros(len(low), dtype=bool)
    at = np.searchsorted(positions, low)
    found = positions[np.minimum(at, len(positions) - 1)]
    inside = (at < len(positions)) & (found < high)
    return np.where(inside, found, high), inside


class _Url:
    """The parts of candidate URLs (positions in their compact bytes) that stage two needs."""

    def __init__(self, data: _Bytes, host: _I64, host_length: _I64, path: _I64) -> None:
        self.data, self.host, self.host_length, self.path = data, host, host_length, path
        special = np.flatnonzero(_special(data.data))
        kind = data.data[special]
        self.slashes = special[kind == 47]
        other = special[(kind != 47) & (kind != 63)]
        self.fragment, _ = _first(other[data.data[other] == 35], path, data.end)
        question, self.has_query = _first(special[kind == 63], path, self.fragment)
        self.path_end = np.where(self.has_query, question, self.fragment)
        self._stray = other[data.data[other] != 35]

    def canonical(self) -> _Bool:
        """Rows whose path and query need nothing of canonicalisation: only the characters
        `canonicalize`'s shortcut allows before the fragment, no empty, "." or ".." segment.

        A newline anywhere sends a row to the full path too (the shortcut's `.` stops at one).
        """
        _, stray = _first(self._stray, self.path, self.fragment)
        newlines = self._stray[self.data.data[self._stray] == 10]
        _, newline = _first(newlines, self.path, self.data.end)
        canonical = ~stray & ~newline
        slashes = self.slashes
        following = self.data.data[slashes + 1]
        slashes = slashes[(following == 46) | (following == 47)]  # "/." or "//", which are rare in paths
        scheme = self.host - 2  # the "//" of "https://" (rows are in order, so are these)
        at = np.minimum(np.searchsorted(scheme, slashes), len(scheme) - 1)
        slashes = slashes[scheme[at] != slashes] if len(scheme) else slashes
        if len(slashes):
            owner = np.searchsorted(self.data.start, slashes, side="right") - 1
            end = self.path_end[owner]
            inside = (slashes >= self.path[owner]) & (slashes + 1 < end)
            after = self.data.windows(slashes + 1, 4)[:, :3]
            dot = after[:, 0] == 46
            closed = (slashes + 2 >= end) | (after[:, 1] == 47)
            closed_two = (
                (after[:, 1] == 46) & (slashes + 2 < end) & ((slashes + 3 >= end) | (after[:, 2] == 47))
            )
            segment = inside & ((after[:, 0] == 47) | (dot & closed) | (dot & closed_two))
            canonical[owner[segment]] = False
        return canonical

    def path_parts(self, rows: npt.NDArray[np.intp]) -> tuple[_I64, _U64, _I64, _Bool]:
        """For these rows: where every path part starts, its first W bytes as words, and per part rank
        (path with query, path, prefixes of 0 to 3 directories) its length and whether it exists.

        Every part starts where the path does — one byte earlier, overwritten with "/", when the URL
        leaves the path out (its canonical path is "/").
        """
        path, path_end, fragment = self.path[rows], self.path_end[rows], self.fragment[rows]
        empty = path_end == path
        begin = path - empty
        window = self.data.windows(begin).copy()
        window[empty, 0] = 47
        lengths = np.ones((len(rows), 6), dtype=np.int64)
        present = np.zeros((len(rows), 6), dtype=bool)
        lengths[:, 0], present[:, 0] = fragment - begin, self.has_query[rows]
        lengths[:, 1], present[:, 1] = path_end - begin, True
        first = np.searchsorted(self.slashes, path)
        for depth in range(4):
            at = np.minimum(first + depth, max(len(self.slashes) - 1, 0))
            slash = self.slashes[at] if len(self.slashes) else np.zeros(len(rows), dtype=np.int64)
            exists = (first + depth < len(self.slashes)) & (slash < path_end)
            lengths[:, 2 + depth] = np.where(exists, slash - begin + 1, 1)
            present[:, 2 + depth] = exists | (empty if depth == 0 else False)
        return begin, window.view(np.uint64), lengths, present


@dataclass
class Hits:
    """Every key a row's lookup expressions hit: parallel arrays (row, rank, key number)."""

    rows: _I64
    ranks: _I64
    keys: _I64

    @classmethod
    def none(cls) -> Hits:
        empty = np.empty(0, dtype=np.int64)
        return cls(empty, empty, empty)

"""The data of a snapshot: the claims in force and their searchable identifiers as arrays, in the
one order the format fixes, with the merges (`without`, `plus`) a delta needs and the sections a
file holds. The file format itself is described in `registry.snapshot`; reading and writing it is
`registry.snapshot_file`.
"""

from __future__ import annotations

import functools
import gc
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

import numpy as np
import numpy.typing as npt

import keys
from registry import snapshot_urls
from registry.authority.levels import ClaimAuthority
from registry.checking import ClaimView
from registry.documents import parse_timestamp

__all__ = ["InvalidSnapshot", "SnapshotData", "collector_paused"]

_P = ParamSpec("_P")
_R = TypeVar("_R")


def collector_paused(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run `function` with Python's cyclic garbage collector paused.

    Building or reading a snapshot makes a few dicts, lists and tuples per claim, none in a cycle:
    the collector, triggered every few hundred of them, would only walk them again and again
    (half the time of `snapshot.assemble` at 100k claims). Reference counting still frees them;
    the collector runs again when the outermost paused call returns.
    """

    @functools.wraps(function)
    def paused(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if not gc.isenabled():  # an outer call paused it already, or the program did
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()

    return paused


U64 = npt.NDArray[np.uint64]
Bytes2D = npt.NDArray[np.uint8]
Ordinals = npt.NDArray[np.integer[Any]]  # uint8/16/32 on disk, int64 while merging
Floats = npt.NDArray[np.float32]
IsccRows = dict[str, tuple[Bytes2D, Ordinals]]
EmbeddingRows = dict[str, tuple[Floats, Ordinals, Floats]]


class InvalidSnapshot(ValueError):
    """A snapshot or delta that is truncated, corrupt, wrongly signed or does not fit; says why."""


def _ordinal_dtype(count: int) -> np.dtype[Any]:
    for dtype in (np.uint8, np.uint16, np.uint32):
        if count <= np.iinfo(dtype).max + 1:
            return np.dtype(dtype).newbyteorder("<")
    raise InvalidSnapshot(f"{count} claims do not fit a snapshot")


# ---------------------------------------------------------------- the data


@dataclass
class SnapshotData:
    """The claims in force and their searchable identifiers, as arrays ordered deterministically."""

    claims: list[dict[str, Any]] = field(default_factory=list)
    exact_hashes: U64 = field(default_factory=lambda: np.empty(0, np.uint64))
    exact_claims: Ordinals = field(default_factory=lambda: np.empty(0, np.uint32))
    url_domains: list[tuple[int, str]] = field(default_factory=list)
    url_keys: snapshot_urls.UrlKeys = field(default_factory=list)  # None: a file from before `url/keys`
    pdq_codes: Bytes2D = field(default_factory=lambda: np.empty((0, 32), np.uint8))
    pdq_claims: Ordinals = field(default_factory=lambda: np.empty(0, np.uint32))
    iscc: IsccRows = field(default_factory=dict)
    names: list[tuple[int, str]] = field(default_factory=list)
    embeddings: EmbeddingRows = field(default_factory=dict)
    views: list[ClaimView] = field(default_factory=list, repr=False, compare=False)  # of a file's claims
    #: Built by this registry (`snapshot.assemble`), not read from a file: its JSON sections hold only
    #: strings, booleans, integers and ASCII field names, which `_plain_json` writes as RFC 8785 does.
    plain_json: bool = field(default=False, repr=False, compare=False)
    _sections: list[tuple[str, np.ndarray[Any, Any] | bytes]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def ids(self) -> list[str]:
        return [str(claim["id"]) for claim in self.claims]

    # ------------------------------------------------------------ canonical order

    @collector_paused
    def canonical(self) -> SnapshotData:
        """The same content in the one order the format fixes (what makes merges byte-identical).

        Claims by id; exact keys by (hash, ordinal) without duplicates; every other row by ordinal,
        keeping the claim's own order within a claim (a stable sort).
        """
        ids = [str(claim["id"]) for claim in self.claims]
        order = sorted(range(len(ids)), key=ids.__getitem__)
        remap = np.empty(len(order), dtype=np.int64)
        remap[np.asarray(order, dtype=np.int64)] = np.arange(len(order))
        new_of = remap.tolist()  # plain ints: a million numpy scalar lookups cost seconds
        dtype = _ordinal_dtype(len(order))

        def moved(ordinals: Ordinals) -> npt.NDArray[np.int64]:
            return remap[ordinals.astype(np.int64)] if len(ordinals) else np.empty(0, np.int64)

        def keyed(hashes: U64, ordinals: Ordinals) -> tuple[U64, Ordinals]:
            """Sorted by (hash, claim), without repeats: what bisection needs."""
            new = moved(ordinals)
            by_key = np.lexsort((new, hashes))
            hashes, new = hashes[by_key], new[by_key]
            keep = np.ones(len(hashes), dtype=bool)
            keep[1:] = (hashes[1:] != hashes[:-1]) | (new[1:] != new[:-1])
            return hashes[keep], new[keep].astype(dtype)

        exact_hashes, exact_claims = keyed(self.exact_hashes, self.exact_claims)

        def rows(ordinals: Ordinals) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int64]]:
            new = moved(ordinals)
            stable = np.argsort(new, kind="stable")
            return stable, new[stable]

        pdq_order, pdq_claims = rows(self.pdq_claims)
        iscc: IsccRows = {}
        for kind in sorted(self.iscc):
            codes, ordinals = self.iscc[kind]
            if len(ordinals):
                unit_order, unit_claims = rows(ordinals)
                iscc[kind] = (codes[unit_order], unit_claims.astype(dtype))
        embeddings: EmbeddingRows = {}
        for space in sorted(self.embeddings):
            vectors, ordinals, thresholds = self.embeddings[space]
            if len(ordinals):
                vector_order, vector_claims = rows(ordinals)
                embeddings[space] = (
                    vectors[vector_order],
                    vector_claims.astype(dtype),
                    thresholds[vector_order],
                )
        unique_names = dict.fromkeys((new_of[ordinal], name) for ordinal, name in self.names)
        names = sorted(unique_names, key=lambda pair: pair[0])  # stable: a claim's own order stays
        return SnapshotData(
            claims=[self.claims[n] for n in order],
            exact_hashes=exact_hashes,
            exact_claims=exact_claims,
            url_domains=sorted({(new_of[o], domain) for o, domain in self.url_domains}),
            url_keys=snapshot_urls.moved_keys(self.url_keys, new_of),
            pdq_codes=self.pdq_codes[pdq_order],
            pdq_claims=pdq_claims.astype(dtype),
            iscc=iscc,
            names=names,
            embeddings=embeddings,
            plain_json=self.plain_json,
        )

    # ------------------------------------------------------------ merging

    @collector_paused
    def without(self, removed: Iterable[str]) -> SnapshotData:
        """These claims minus `removed` (unknown ids are ignored)."""
        gone = set(removed)
        keep = np.array([str(claim["id"]) not in gone for claim in self.claims], dtype=bool)
        if keep.all():
            return self
        remap = np.cumsum(keep) - 1

        def kept(ordinals: Ordinals) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
            mask = keep[ordinals.astype(np.int64)] if len(ordinals) else np.zeros(0, dtype=bool)
            return mask, remap[ordinals.astype(np.int64)[mask]]

        exact_mask, exact_claims = kept(self.exact_claims)
        pdq_mask, pdq_claims = kept(self.pdq_claims)
        iscc: IsccRows = {}
        for kind, (codes, ordinals) in self.iscc.items():
            mask, moved = kept(ordinals)
            iscc[kind] = (codes[mask], moved)
        embeddings: EmbeddingRows = {}
        for space, (vectors, ordinals, thresholds) in self.embeddings.items():
            mask, moved = kept(ordinals)
            embeddings[space] = (vectors[mask], moved, thresholds[mask])
        return SnapshotData(
            claims=[claim for claim, k in zip(self.claims, keep.tolist(), strict=True) if k],
            exact_hashes=self.exact_hashes[exact_mask],
            exact_claims=exact_claims,
            url_domains=[(int(remap[o]), domain) for o, domain in self.url_domains if keep[o]],
            url_keys=snapshot_urls.kept_keys(self.url_keys, keep, remap),
            pdq_codes=self.pdq_codes[pdq_mask],
            pdq_claims=pdq_claims,
            iscc=iscc,
            names=[(int(remap[o]), name) for o, name in self.names if keep[o]],
            embeddings=embeddings,
            plain_json=self.plain_json,
        )

    @collector_paused
    def plus(self, added: SnapshotData) -> SnapshotData:
        """Both sets of claims (ordinals of `added` shifted past ours), in canonical order."""
        shift = len(self.claims)

        def joined(a: Ordinals, b: Ordinals) -> npt.NDArray[np.int64]:
            return np.concatenate([a.astype(np.int64), b.astype(np.int64) + shift])

        iscc: IsccRows = {}
        for kind in set(self.iscc) | set(added.iscc):
            mine = self.iscc.get(kind, (np.empty((0, 8), np.uint8), np.empty(0, np.uint32)))
            theirs = added.iscc.get(kind, (np.empty((0, 8), np.uint8), np.empty(0, np.uint32)))
            iscc[kind] = (np.concatenate([mine[0], theirs[0]]), joined(mine[1], theirs[1]))
        embeddings: EmbeddingRows = {}
        for space in set(self.embeddings) | set(added.embeddings):
            parts = [self.embeddings.get(space), added.embeddings.get(space)]
            dims = next(p[0].shape[1] for p in parts if p is not None)
            empty = (np.empty((0, dims), np.float32), np.empty(0, np.uint32), np.empty(0, np.float32))
            a, b = (p if p is not None else empty for p in parts)
            embeddings[space] = (
                np.concatenate([a[0], b[0]]),
                joined(a[1], b[1]),
                np.concatenate([a[2], b[2]]),
            )
        return SnapshotData(
            claims=[*self.claims, *added.claims],
            exact_hashes=np.concatenate([self.exact_hashes, added.exact_hashes]),
            exact_claims=joined(self.exact_claims, added.exact_claims),
            url_domains=[*self.url_domains, *((o + shift, domain) for o, domain in added.url_domains)],
            url_keys=snapshot_urls.joined_keys(self.url_keys, added.url_keys, shift),
            pdq_codes=np.concatenate([self.pdq_codes, added.pdq_codes]),
            pdq_claims=joined(self.pdq_claims, added.pdq_claims),
            iscc=iscc,
            names=[*self.names, *((o + shift, name) for o, name in added.names)],
            embeddings=embeddings,
            plain_json=self.plain_json and added.plain_json,
        ).canonical()

    # ------------------------------------------------------------ sections

    def sections(self) -> list[tuple[str, np.ndarray[Any, Any] | bytes]]:
        """(name, array or JSON bytes) in the format's order; empty parts are left out.

        Made once per data (signing the state and encoding the file both need them); the data is
        not changed after it is made — `canonical`, `without` and `plus` make new data.
        """
        if self._sections is None:
            self._sections = self._make_sections()
        return self._sections

    def _make_sections(self) -> list[tuple[str, np.ndarray[Any, Any] | bytes]]:
        out: list[tuple[str, np.ndarray[Any, Any] | bytes]] = []
        canonical = _plain_json if self.plain_json else keys.canonicalize
        if self.claims:
            out.append(("claims", canonical(self.claims)))
        if len(self.exact_hashes):
            out += [("exact/hashes", self.exact_hashes.astype("<u8")), ("exact/claims", self.exact_claims)]
        if self.url_domains:
            out.append(("url/domains", canonical(self.url_domains)))  # (ordinal, domain) pairs: arrays
        if self.url_keys:
            out += snapshot_urls.url_key_sections(self.url_keys, _ordinal_dtype(len(self.claims)))
        if len(self.pdq_claims):
            out += [("pdq/codes", self.pdq_codes), ("pdq/claims", self.pdq_claims)]
        for kind in sorted(self.iscc):
            codes, ordinals = self.iscc[kind]
            if len(ordinals):
                out += [(f"iscc/{kind}/codes", codes), (f"iscc/{kind}/claims", ordinals)]
        if self.names:
            out.append(("names", canonical(self.names)))
        for space in sorted(self.embeddings):
            vectors, ordinals, thresholds = self.embeddings[space]
            if len(ordinals):
                out += [
                    (f"embedding/{space}/vectors", vectors.astype("<f4")),
                    (f"embedding/{space}/claims", ordinals),
                    (f"embedding/{space}/thresholds", thresholds.astype("<f4")),
                ]
        return out

    @classmethod
    @collector_paused
    def from_sections(cls, sections: Mapping[str, np.ndarray[Any, Any] | bytes]) -> SnapshotData:
        """Inverse of `sections`; raises InvalidSnapshot for anything inconsistent."""
        try:
            data = cls()
            if "claims" in sections:
                data.claims = _json_list(sections["claims"], "claims")
            count = len(data.claims)
            if "exact/hashes" in sections:
                data.exact_hashes = _array(sections["exact/hashes"])
                data.exact_claims = _ordinals(sections, "exact/claims", count, len(data.exact_hashes))
            if "url/domains" in sections:
                pairs = _json_list(sections["url/domains"], "url/domains")
                data.url_domains = [(int(o), str(domain)) for o, domain in pairs]
                if any(not 0 <= o < count for o, _ in data.url_domains):
                    raise InvalidSnapshot("url/domains: a domain of a claim that is not in the snapshot")
            data.url_keys = snapshot_urls.read_url_keys(sections, count, has_urls=bool(data.url_domains))
            if "pdq/codes" in sections:
                data.pdq_codes = _array(sections["pdq/codes"])
                data.pdq_claims = _ordinals(sections, "pdq/claims", count, len(data.pdq_codes))
            for name in sections:
                parts = name.split("/")
                if parts[0] == "iscc" and parts[-1] == "codes":
                    kind = "/".join(parts[1:-1])
                    codes = _array(sections[name])
                    data.iscc[kind] = (codes, _ordinals(sections, f"iscc/{kind}/claims", count, len(codes)))
                elif parts[0] == "embedding" and parts[-1] == "vectors":
                    space = "/".join(parts[1:-1])
                    vectors = _array(sections[name])
                    ordinals = _ordinals(sections, f"embedding/{space}/claims", count, len(vectors))
                    thresholds = _array(sections[f"embedding/{space}/thresholds"])
                    if len(thresholds) != len(vectors):
                        raise InvalidSnapshot(
                            f"{space}: {len(thresholds)} thresholds for {len(vectors)} vectors"
                        )
                    data.embeddings[space] = (vectors, ordinals, thresholds)
            if "names" in sections:
                pairs = _json_list(sections["names"], "names")
                data.names = [(int(o), str(name)) for o, name in pairs]
                if any(not 0 <= o < count for o, _ in data.names):
                    raise InvalidSnapshot("names: a name of a claim that is not in the snapshot")
            data.views = [_view(claim) for claim in data.claims]  # each claim checked, kept for the index
            return data
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, InvalidSnapshot):
                raise
            raise InvalidSnapshot(f"inconsistent sections: {exc}") from None


def _plain_json(value: object) -> bytes:
    """RFC 8785 bytes of JSON without floats whose object keys are ASCII: what `keys.canonicalize`
    writes for it after checking every value (the check is most of its cost on a million claims)."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8")  # a lone surrogate raises, as it does there


def _array(value: np.ndarray[Any, Any] | bytes) -> Any:
    if not isinstance(value, np.ndarray):
        raise InvalidSnapshot("a binary section holds JSON")
    return value


def _json_list(value: np.ndarray[Any, Any] | bytes, name: str) -> list[Any]:
    if not isinstance(value, bytes):
        raise InvalidSnapshot(f"{name}: not a JSON section")
    try:
        parsed = keys.parse_strict_json(value)
    except keys.KeysError as exc:
        raise InvalidSnapshot(f"{name}: {exc}") from None
    if not isinstance(parsed, list):
        raise InvalidSnapshot(f"{name}: not a JSON array")
    return parsed


def _ordinals(sections: Mapping[str, Any], name: str, count: int, rows: int) -> Ordinals:
    ordinals = _array(sections[name])
    if ordinals.ndim != 1 or len(ordinals) != rows or ordinals.dtype.kind != "u":
        raise InvalidSnapshot(f"{name}: {len(ordinals)} ordinals for {rows} rows")
    if rows and int(ordinals.max()) >= count:
        raise InvalidSnapshot(f"{name}: ordinal {int(ordinals.max())} of {count} claims")
    result: Ordinals = ordinals
    return result


def _view(claim: Mapping[str, Any]) -> ClaimView:
    """The ClaimView a snapshot's claim object stands for."""
    try:
        return ClaimView(
            id=str(claim["id"]),
            claimant=str(claim["claimant"]),
            kind=str(claim["kind"]),
            uses=dict(claim["uses"]),
            valid_from=parse_timestamp(claim["valid_from"]) if "valid_from" in claim else None,
            valid_until=parse_timestamp(claim["valid_until"]) if "valid_until" in claim else None,
            territories=frozenset(claim["territories"]) if "territories" in claim else None,
            authority=ClaimAuthority.from_json(claim["authority"]),
            licence={str(k): str(v) for k, v in claim["licence"].items()} if "licence" in claim else None,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidSnapshot(f"claims: malformed claim {claim!r:.80}: {exc}") from None

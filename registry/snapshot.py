"""Signed snapshots: everything a client needs to check offline, tied to one log checkpoint.

Safe Browsing and Firefox's CRLite keep a local, signed, incrementally updated database so that a
client checks millions of items without a round trip each (and without telling anyone what it
looks at). A Kotowari snapshot is that database for the claims in force at a tree size.

File format, version 1 (all integers little-endian unless said)::

    magic        8 bytes   b"KTWSNAP1" (a full snapshot) or b"KTWDLTA1" (a delta)
    header_len   4 bytes   big-endian
    header       header_len bytes of RFC 8785 JSON, signed by the registry (eddsa-jcs-2022)
    padding      zeros up to a multiple of 8 bytes from the start of the file
    data         the sections, each at an 8-byte aligned offset inside `data`

A full snapshot's header is the signed `SnapshotState`: registry DID, log origin, tree size, root
hash, the signed checkpoint note of that size, the embedding spaces, and a table of sections
(name, dtype, shape, offset, length, SHA-256). Sections (absent when empty):

    claims                    JSON: one object per claim in force, sorted by claim id (its claimant,
                              kind, uses, validity, territories, `licence` when it names one (contact,
                              terms, RSL licence URL), its `authority` with the chain behind
                              it; `disputed` when a side of a dispute)
    exact/hashes, exact/claims  sorted first 8 bytes of SHA-256 of every exact key ("url:host/path",
                              "sha256:…", "iscc-instance:…", "isni:…", "wikidata:…") and the
                              ordinal of its claim (uint8/16/32, the narrowest that fits):
                              9-12 bytes per key, searched by bisection straight from the map
    url/domains               JSON: [ordinal, domain] pairs, the last two labels of every host a
                              URL key names, so that a batch of URLs can skip the full lookup
                              for every URL on a domain nobody registered
    url/keys, url/key_claims  every URL key in clear and its claim's ordinal, so that a batch of
                              URLs is matched with array operations (optional: `snapshot_urls`)
    pdq/codes, pdq/claims     PDQ hashes (256 bits, each claim's dihedral variants included)
    iscc/KIND/codes, …/claims ISCC similarity units (64 bits) per unit kind
    names                     JSON: [ordinal, name] pairs
    embedding/SPACE/vectors, …/claims, …/thresholds   unit vectors (float32) per embedding space

Every section is a deterministic function of the set of claims in force, so a client that applies a
delta to its snapshot produces byte for byte the sections of the full snapshot at the new size and
can check them against the `SnapshotState` the delta carries. A delta (`SnapshotDelta`, signed)
names `since` (the client's tree size and root), a consistency proof from there to the new size,
the new signed state, a `removed` section (claim ids withdrawn since) and the sections above for
the claims added since; a claim disputed since, or whose authority changed since (a verification,
attestation or mandate given, revoked or lapsed), is both removed and added again.

This module is pure (numpy and keys only): the registry builds snapshots with it and clients read,
verify, merge and search them with it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import numpy as np
import numpy.typing as npt

import keys
from keys import merkle
from keys.note import Checkpoint, InvalidCheckpoint, InvalidNote, NoteVerifier, open_note, sign_note
from registry import snapshot_urls
from registry.authority.levels import ClaimAuthority
from registry.authority.state import AuthorityState, ClaimFacts
from registry.checking import ClaimView, Hit
from registry.documents import Claim, format_timestamp, parse_timestamp
from registry.identity import note_signer
from registry.index import ClaimIndex, EmbeddingSpace
from registry.schemes import (
    EmbeddingId,
    IsccId,
    NameId,
    PdqId,
    TextItem,
)
from registry.snapshot_parts import ClaimParts, claim_parts, key_hash, url_domain

__all__ = [
    "DELTA_MAGIC",
    "FORMAT_VERSION",
    "FULL_MAGIC",
    "Delta",
    "InvalidSnapshot",
    "SnapshotData",
    "SnapshotIndex",
    "SnapshotState",
    "assemble",
    "build",
    "encode_delta",
    "encode_full",
    "key_hash",
    "of_log",
    "read_delta",
    "read_full",
    "url_domain",
]

FULL_MAGIC: Final = b"KTWSNAP1"
DELTA_MAGIC: Final = b"KTWDLTA1"
FORMAT_VERSION: Final = 1
_ALIGN: Final = 8
_MAX_HEADER: Final = 16 * 1024 * 1024

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
    _sections: list[tuple[str, np.ndarray[Any, Any] | bytes]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def ids(self) -> list[str]:
        return [str(claim["id"]) for claim in self.claims]

    # ------------------------------------------------------------ canonical order

    def canonical(self) -> SnapshotData:
        """The same content in the one order the format fixes (what makes merges byte-identical).

        Claims by id; exact keys by (hash, ordinal) without duplicates; every other row by ordinal,
        keeping the claim's own order within a claim (a stable sort).
        """
        order = sorted(range(len(self.claims)), key=lambda n: str(self.claims[n]["id"]))
        remap = np.empty(len(order), dtype=np.int64)
        remap[np.asarray(order, dtype=np.int64)] = np.arange(len(order))
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
        unique_names = dict.fromkeys((int(remap[ordinal]), name) for ordinal, name in self.names)
        names = sorted(unique_names, key=lambda pair: pair[0])  # stable: a claim's own order stays
        return SnapshotData(
            claims=[self.claims[n] for n in order],
            exact_hashes=exact_hashes,
            exact_claims=exact_claims,
            url_domains=sorted({(int(remap[o]), domain) for o, domain in self.url_domains}),
            url_keys=snapshot_urls.moved_keys(self.url_keys, remap),
            pdq_codes=self.pdq_codes[pdq_order],
            pdq_claims=pdq_claims.astype(dtype),
            iscc=iscc,
            names=names,
            embeddings=embeddings,
        )

    # ------------------------------------------------------------ merging

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
        )

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
        if self.claims:
            out.append(("claims", keys.canonicalize(self.claims)))
        if len(self.exact_hashes):
            out += [("exact/hashes", self.exact_hashes.astype("<u8")), ("exact/claims", self.exact_claims)]
        if self.url_domains:
            out.append(("url/domains", keys.canonicalize([[o, domain] for o, domain in self.url_domains])))
        if self.url_keys:
            out += snapshot_urls.url_key_sections(self.url_keys, _ordinal_dtype(len(self.claims)))
        if len(self.pdq_claims):
            out += [("pdq/codes", self.pdq_codes), ("pdq/claims", self.pdq_claims)]
        for kind in sorted(self.iscc):
            codes, ordinals = self.iscc[kind]
            if len(ordinals):
                out += [(f"iscc/{kind}/codes", codes), (f"iscc/{kind}/claims", ordinals)]
        if self.names:
            out.append(("names", keys.canonicalize([[o, name] for o, name in self.names])))
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


# ---------------------------------------------------------------- building


def build(
    claims: Iterable[tuple[str, Claim]],
    spaces: Mapping[str, int],
    disputed: Collection[str] = frozenset(),
    authority: Callable[[str], ClaimAuthority | None] | None = None,
) -> SnapshotData:
    """The snapshot data of these claims (id, claim), for a registry with these embedding spaces.

    Mirrors `ClaimIndex.add`, so an index built from the data answers as the registry's does.
    Embeddings in spaces the registry does not know are left out, as the registry's index does.
    Claims in `disputed` (a side of a claimant's dispute) are marked, as check answers mark them.
    `authority` gives each claim's authority at the snapshot's tree size; a claim it does not list
    has the authority it would have in an empty log (self- or agent-asserted).
    """
    empty = AuthorityState()

    def row(claim_id: str, claim: Claim) -> tuple[ClaimView, ClaimParts, bool]:
        given = authority(claim_id) if authority is not None else None
        held = given or empty.authority_of(ClaimFacts.of(claim_id, claim))
        return ClaimView.of(claim_id, claim, held), claim_parts(claim, spaces), claim_id in disputed

    return assemble(row(claim_id, claim) for claim_id, claim in claims)


def assemble(rows: Iterable[tuple[ClaimView, ClaimParts, bool]]) -> SnapshotData:
    """The snapshot data of claims given as (view with its authority, parts, disputed?): what
    `build` makes from claims, and the registry from the parts its index keeps."""
    listed: list[dict[str, Any]] = []
    exact: list[int] = []
    exact_ordinals: list[int] = []
    domains: list[tuple[int, str]] = []
    url_keys: list[tuple[int, str]] = []
    pdq: list[bytes] = []
    pdq_ordinals: list[int] = []
    iscc: dict[str, list[tuple[bytes, int]]] = {}
    names: list[tuple[int, str]] = []
    vectors: dict[str, list[tuple[npt.NDArray[np.float32], int, float]]] = {}
    for ordinal, (view, parts, is_disputed) in enumerate(rows):
        entry: dict[str, Any] = {"id": view.id, "claimant": view.claimant, "kind": view.kind}
        entry["uses"] = dict(view.uses)
        if view.valid_from is not None:
            entry["valid_from"] = format_timestamp(view.valid_from)
        if view.valid_until is not None:
            entry["valid_until"] = format_timestamp(view.valid_until)
        if view.territories is not None:
            entry["territories"] = sorted(view.territories)
        if view.licence:
            entry["licence"] = dict(view.licence)
        entry["authority"] = view.authority.to_json()
        if is_disputed:
            entry["disputed"] = True
        listed.append(entry)
        exact += parts.exact
        exact_ordinals += [ordinal] * len(parts.exact)
        if parts.url_keys:
            domains += [(ordinal, domain) for domain in parts.domains]
            url_keys += [(ordinal, key) for key in parts.url_keys]
        if parts.pdq:
            pdq += parts.pdq
            pdq_ordinals += [ordinal] * len(parts.pdq)
        for kind, body in parts.iscc:
            iscc.setdefault(kind, []).append((body, ordinal))
        names += [(ordinal, name) for name in parts.names]
        for space, unit_vector, threshold in parts.vectors:
            vectors.setdefault(space, []).append((unit_vector, ordinal, threshold))
    dtype = _ordinal_dtype(len(listed))
    data = SnapshotData(
        claims=listed,
        exact_hashes=np.array(exact, dtype=np.uint64),
        exact_claims=np.array(exact_ordinals, dtype=dtype),
        url_domains=domains,
        url_keys=url_keys,
        pdq_codes=_codes(pdq, 32),
        pdq_claims=np.array(pdq_ordinals, dtype=dtype),
        iscc={
            kind: (_codes([c for c, _ in rows], 8), np.array([o for _, o in rows], dtype=dtype))
            for kind, rows in iscc.items()
        },
        names=names,
        embeddings={
            space: (
                np.vstack([v for v, _, _ in rows]).astype(np.float32),
                np.array([o for _, o, _ in rows], dtype=dtype),
                np.array([t for _, _, t in rows], dtype=np.float32),
            )
            for space, rows in vectors.items()
        },
    )
    return data.canonical()


def of_log(
    entries: Sequence[Mapping[str, Any]],
    *,
    key: keys.SigningKey,
    origin: str,
    spaces: Mapping[str, int],
    now: datetime,
) -> bytes:
    """The full snapshot, signed with `key`, of a log holding exactly these documents (claims,
    withdrawals, authority documents), replayed as the registry replays its log.

    For a registry state built without a server: tests, benchmarks, a mirror that replayed a log.
    """
    index = ClaimIndex(spaces)
    for number, entry in enumerate(entries):
        index.apply(number, keys.canonicalize(entry))
    in_force = {view.id: view.authority for view in index.views()}
    claims = sorted(
        (claim_id, Claim.model_validate(entry))
        for entry in entries
        if entry.get("type") == "Claim" and (claim_id := keys.document_id(entry)) in in_force
    )
    data = build(claims, spaces, authority=in_force.get)
    root = merkle.root_from_leaf_hashes([merkle.leaf_hash(keys.canonicalize(entry)) for entry in entries])
    note = sign_note(Checkpoint(origin, len(entries), root).to_text(), [note_signer(key, origin)])
    state = SnapshotState.sign(
        data,
        key=key,
        origin=origin,
        tree_size=len(entries),
        root_hash=root,
        checkpoint=note,
        spaces=spaces,
        now=now,
    )
    return encode_full(state, data)


def _codes(codes: Sequence[bytes], width: int) -> Bytes2D:
    return np.frombuffer(b"".join(codes), dtype=np.uint8).reshape(len(codes), width)


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


# ---------------------------------------------------------------- searching


class SnapshotIndex(ClaimIndex):
    """A `ClaimIndex` over snapshot data: the registry's own matching code, fed from the arrays.

    Exact keys are bisected in the sorted hash array (a 64-bit hash collision is a false match
    with odds of about n/2^64 per key looked up); similarity structures are built on first use,
    so a client that checks only URLs never pays for them.
    """

    #: Only hashes of the keys are at hand, so every URL's expressions are looked up.
    KNOWS_URL_HOSTS = False

    def __init__(self, data: SnapshotData, spaces: Mapping[str, int]) -> None:
        super().__init__(spaces)
        self.data = data
        self.position = -1  # not replayed from a log
        views = data.views if len(data.views) == len(data.claims) else [_view(c) for c in data.claims]
        for ordinal, view in enumerate(views):
            self._refs[view.id] = ordinal
            self._views[ordinal] = view
        self._similarity_loaded = False

    def exact_refs(self, key: str) -> Iterable[int]:
        return self.refs_of_hash(key_hash(key))

    def refs_of_hash(self, value: int) -> list[int]:
        hashes = self.data.exact_hashes
        lo = int(np.searchsorted(hashes, np.uint64(value), side="left"))
        hi = int(np.searchsorted(hashes, np.uint64(value), side="right"))
        return [int(o) for o in self.data.exact_claims[lo:hi]]

    def match(self, item: Any) -> list[Hit]:
        if isinstance(item, PdqId | IsccId | NameId | TextItem | EmbeddingId):
            self._load_similarity()
        return super().match(item)

    def _load_similarity(self) -> None:
        if self._similarity_loaded:
            return
        data = self.data
        if len(data.pdq_claims):
            self._pdq.add_many([row.tobytes() for row in data.pdq_codes], data.pdq_claims.tolist())
        for kind, (codes, ordinals) in data.iscc.items():
            self._iscc_index(kind).add_many([row.tobytes() for row in codes], ordinals.tolist())
        for ordinal, name in data.names:
            self._names.add(name, ordinal)
        for space_name, (vectors, ordinals, thresholds) in data.embeddings.items():
            space = EmbeddingSpace(int(vectors.shape[1]))
            space.refs = ordinals.tolist()
            space.vectors = list(vectors)
            space.thresholds = thresholds.tolist()
            self._embeddings[space_name] = space
        self._similarity_loaded = True

    def apply(self, index: int, entry: bytes, known: tuple[str, Claim] | None = None) -> None:
        raise TypeError("a snapshot index is not replayed from the log")

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

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt

import keys
from keys import merkle
from keys.note import Checkpoint, sign_note
from registry.authority.levels import ClaimAuthority
from registry.authority.state import AuthorityState, ClaimFacts
from registry.checking import ClaimView, Hit
from registry.documents import Claim, format_timestamp
from registry.identity import note_signer
from registry.index import ClaimIndex, EmbeddingSpace
from registry.schemes import (
    EmbeddingId,
    IsccId,
    NameId,
    PdqId,
    TextItem,
)
from registry.snapshot_data import (
    Bytes2D,
    InvalidSnapshot,
    SnapshotData,
    _ordinal_dtype,
    _view,
    collector_paused,
)
from registry.snapshot_file import (
    DELTA_MAGIC,
    FORMAT_VERSION,
    FULL_MAGIC,
    Delta,
    SnapshotState,
    apply_delta,
    encode_delta,
    encode_full,
    read_delta,
    read_full,
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
    "apply_delta",
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


@collector_paused
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
        plain_json=True,  # every value made above: strings, booleans, integers, fixed ASCII fields
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

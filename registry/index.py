"""The matching index: every claim in force, searchable by every identifier scheme at once.

Exact keys (URL expressions, SHA-256, ISCC Instance, ISNI, Wikidata) sit in hash tables; PDQ
hashes and ISCC similarity units in multi-index Hamming indexes that return exactly what a brute
force scan would (`registry.hamming`); names and readings in an Aho–Corasick automaton
(`registry.names`); embeddings per named space, compared by normalised dot product.

The index is a pure function of the transparency log: `apply()` replays entries in order, and
`position` is the tree size it reflects. Every registry worker replays the same shared log, so
all workers converge, and a check answer computed from the index is exactly the answer at the
checkpoint of size `position`. An offline client can rebuild the same index from the same log.

>>> index = ClaimIndex()
>>> index.position
0
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from registry import content_ids, urls
from registry.authority.documents import AUTHORITY_DOCUMENT_TYPES
from registry.authority.levels import ClaimAuthority
from registry.authority.state import AuthorityState, ClaimFacts, parse_model
from registry.checking import ClaimView, Hit
from registry.documents import Claim
from registry.hamming import HammingIndex
from registry.identifiers import query_keys
from registry.names import NameIndex
from registry.schemes import (
    DEFAULT_EMBEDDING_THRESHOLD,
    EmbeddingId,
    IsccId,
    NameId,
    PdqId,
    TextItem,
    UrlId,
    exact_keys,
)
from registry.snapshot_parts import ClaimParts, claim_parts

PDQ_RADIUS: Final = 31
#: Embedding spaces the registry accepts by default, with their dimensions (configurable).
DEFAULT_EMBEDDING_SPACES: Final[Mapping[str, int]] = {
    "speaker/ecapa-tdnn-voxceleb": 192,
    "speaker/wavlm-base-plus-sv": 512,
    "face/arcface-r100": 512,
}


def _url_parts(key: str) -> tuple[str, str]:
    """The host part and the path part (with any query) of a stored URL key, `url:host/path`."""
    host, slash, path = key[4:].partition("/")
    return host, slash + path


class UnknownEmbeddingSpace(ValueError):
    """An embedding in a space the registry does not know, or with the wrong dimension for it."""


@dataclass
class EmbeddingSpace:
    """The embeddings of one space: unit vectors, their claims and thresholds."""

    dimensions: int
    refs: list[int] = field(default_factory=list)
    vectors: list[npt.NDArray[np.float32]] = field(default_factory=list)
    thresholds: list[float] = field(default_factory=list)
    _matrix: npt.NDArray[np.float32] | None = None

    def add(self, ref: int, vector: list[float], threshold: float) -> None:
        array = np.asarray(vector, dtype=np.float64)
        self.vectors.append((array / np.linalg.norm(array)).astype(np.float32))
        self.refs.append(ref)
        self.thresholds.append(threshold)
        self._matrix = None

    def remove(self, ref: int) -> None:
        keep = [n for n, r in enumerate(self.refs) if r != ref]
        self.refs = [self.refs[n] for n in keep]
        self.vectors = [self.vectors[n] for n in keep]
        self.thresholds = [self.thresholds[n] for n in keep]
        self._matrix = None

    def search(self, vector: list[float]) -> list[tuple[int, float]]:
        if not self.refs:
            return []
        if self._matrix is None:
            self._matrix = np.vstack(self.vectors)
        query = np.asarray(vector, dtype=np.float64)
        similarities = self._matrix @ (query / np.linalg.norm(query)).astype(np.float32)
        found = np.nonzero(similarities >= np.asarray(self.thresholds, dtype=np.float32) - 1e-6)[0]
        return [(self.refs[n], float(similarities[n])) for n in found]


class ClaimIndex:
    """Claims in force, by every scheme; rebuilt by replaying the log (see the module docstring)."""

    def __init__(self, spaces: Mapping[str, int] | None = None, *, keep_parts: bool = False) -> None:
        self.position = 0
        #: Each claim's snapshot parts, kept by the registry's own index so that a full snapshot
        #: is assembled from memory instead of re-reading every claim (`snapshot_rows`).
        self.keep_parts = keep_parts
        self._parts: dict[int, ClaimParts] = {}
        self.spaces = dict(DEFAULT_EMBEDDING_SPACES if spaces is None else spaces)
        self._refs: dict[str, int] = {}
        self._views: dict[int, ClaimView] = {}
        self._exact: dict[str, set[int]] = {}
        #: The path parts of the URL keys by host part, each with how many keys it is in: a queried
        #: URL none of whose lookup hosts is here matches no URL claim, which settles most of a
        #: crawl without building its expressions; on a host that is, only the paths listed can.
        self._url_paths: dict[str, dict[str, int]] = {}
        self._exact_of: dict[int, list[str]] = {}
        self._names: NameIndex[int] = NameIndex()
        self._pdq = HammingIndex(256, PDQ_RADIUS)
        self._iscc: dict[str, HammingIndex] = {}
        self._embeddings: dict[str, EmbeddingSpace] = {}
        #: Authority facts replayed from the same log, and what each claim's authority depends on.
        self.authority = AuthorityState()
        self._facts: dict[int, ClaimFacts] = {}
        self._by_party: dict[str, set[int]] = {}
        #: Where each replayed claim, and each withdrawal, is in the log (what claim lookups serve).
        self._filed_at: dict[str, int] = {}
        self.withdrawals: dict[str, tuple[int, str]] = {}
        #: Claims on either side of a logged dispute.
        self.disputed: set[str] = set()
        #: (log index, claim id) of every change of a claim's authority after it was filed.
        self.authority_changes: list[tuple[int, str]] = []

    def __len__(self) -> int:
        return len(self._views)

    # ---------------------------------------------------------------- replay

    def apply(self, index: int, entry: bytes, known: tuple[str, Claim] | None = None) -> None:
        """Replay log entry `index` (which must be the next one).

        `known` is (id, model) of a claim this process just validated and appended, which saves
        validating it again; it is used only if the entry's hash is that id."""
        if index != self.position:
            raise ValueError(f"log entry {index} applied at position {self.position}")
        if known is not None and hashlib.sha256(entry).hexdigest() == known[0]:
            # The entry is the canonical form of the claim this process accepted: nothing to parse.
            if known[0] not in self._refs:
                self._filed_at[known[0]] = index
            self.add(known[0], known[1])
            self.position += 1
            return
        document = json.loads(entry)
        kind = document.get("type") if isinstance(document, dict) else None
        if kind == "Claim":
            claim_id = hashlib.sha256(entry).hexdigest()
            if claim_id not in self._refs:
                self._filed_at[claim_id] = index
            self.add(claim_id, Claim.model_validate(document))
        elif kind == "ClaimWithdrawal":
            claim_id = str(document["claim"])
            if claim_id in self._filed_at and claim_id not in self.withdrawals:
                self.withdrawals[claim_id] = (index, hashlib.sha256(entry).hexdigest())
            self.remove(claim_id)
        elif kind == "Dispute":
            self.disputed.update((str(document["claim"]), str(document["disputed"])))
        elif kind in AUTHORITY_DOCUMENT_TYPES:
            model = parse_model(document, AUTHORITY_DOCUMENT_TYPES)
            if model is not None:
                touched = self.authority.apply(model, hashlib.sha256(entry).hexdigest(), index)
                self._reassess(touched, index)
        self.position += 1

    def _reassess(self, dids: Iterable[str], index: int) -> None:
        """Recompute the authority of the claims in force that these DIDs filed or are principals of."""
        refs = sorted({ref for did in dids for ref in self._by_party.get(did, ())})
        for ref in refs:
            view = self._views.get(ref)
            if view is None:
                continue
            authority = self.authority.authority_of(self._facts[ref])
            if authority != view.authority:
                self._views[ref] = replace(view, authority=authority)
                self.authority_changes.append((index, view.id))

    def _space_of(self, identifier: EmbeddingId) -> EmbeddingSpace:
        dimensions = self.spaces.get(identifier.space)
        if dimensions is None:
            known = ", ".join(sorted(self.spaces)) or "none"
            raise UnknownEmbeddingSpace(f"unknown embedding space {identifier.space!r} (known: {known})")
        if len(identifier.vector) != dimensions:
            raise UnknownEmbeddingSpace(
                f"{identifier.space} embeddings have {dimensions} dimensions, not {len(identifier.vector)}"
            )
        return self._embeddings.setdefault(identifier.space, EmbeddingSpace(dimensions))

    def add(self, claim_id: str, claim: Claim) -> None:
        if claim_id in self._refs:
            return
        ref = len(self._refs)
        self._refs[claim_id] = ref
        facts = ClaimFacts.of(claim_id, claim)
        self._facts[ref] = facts
        for party in facts.parties:
            self._by_party.setdefault(party, set()).add(ref)
        self._views[ref] = ClaimView.of(claim_id, claim, self.authority.authority_of(facts))
        keys: list[str] = []
        stored = [exact_keys(identifier, query=False) for identifier in claim.subject.identifiers]
        for identifier, identifier_keys in zip(claim.subject.identifiers, stored, strict=True):
            for key in identifier_keys:
                self._exact.setdefault(key, set()).add(ref)
                keys.append(key)
                if key.startswith("url:"):
                    host, path = _url_parts(key)
                    paths = self._url_paths.setdefault(host, {})
                    paths[path] = paths.get(path, 0) + 1
            if isinstance(identifier, PdqId):
                for code in identifier.hashes():
                    self._pdq.add(code, ref)
            elif isinstance(identifier, IsccId):
                for unit in content_ids.iscc_units(identifier.value):
                    if unit.kind != "instance":
                        self._iscc_index(unit.kind).add(unit.body, ref)
            elif isinstance(identifier, NameId):
                self._names.add(identifier.value, ref)
            elif isinstance(identifier, EmbeddingId):
                try:
                    space = self._space_of(identifier)
                except UnknownEmbeddingSpace:
                    continue  # accepted under another configuration; cannot be compared here
                space.add(ref, identifier.vector, identifier.threshold or DEFAULT_EMBEDDING_THRESHOLD)
        self._exact_of[ref] = keys
        if self.keep_parts:
            self._parts[ref] = claim_parts(claim, self.spaces, stored)

    def remove(self, claim_id: str) -> None:
        ref = self._refs.get(claim_id)
        if ref is None or ref not in self._views:
            return
        del self._views[ref]
        self._parts.pop(ref, None)
        for party in self._facts.pop(ref).parties:
            self._by_party[party].discard(ref)
        for key in self._exact_of.pop(ref, []):
            refs = self._exact.get(key)
            if refs is not None:
                refs.discard(ref)
                if not refs:
                    del self._exact[key]
            if key.startswith("url:"):
                host, path = _url_parts(key)
                paths = self._url_paths[host]
                paths[path] -= 1
                if not paths[path]:
                    del paths[path]
                    if not paths:
                        del self._url_paths[host]
        self._pdq.remove(ref)
        for unit_index in self._iscc.values():
            unit_index.remove(ref)
        self._names.remove(ref)
        for space in self._embeddings.values():
            space.remove(ref)

    def _iscc_index(self, kind: str) -> HammingIndex:
        if kind not in self._iscc:
            family = kind.split("-", 1)[0]
            self._iscc[kind] = HammingIndex(64, content_ids.ISCC_THRESHOLDS[family])
        return self._iscc[kind]

    # ---------------------------------------------------------------- matching

    def match(self, item: Any) -> list[Hit]:
        """Every claim in force that `item` matches, with how it matched."""
        if isinstance(item, UrlId):
            return [Hit(self._views[ref], "url", expression) for ref, expression in self.url_hits(item.value)]
        hits: list[Hit] = []
        for key in exact_keys(item, query=True):
            scheme, _, value = key.partition(":")
            hits += [Hit(self._views[ref], scheme, value) for ref in self.exact_refs(key)]
        if isinstance(item, PdqId):
            best: dict[int, int] = {}
            for found in self._pdq.search_many(item.hashes()):
                for ref, distance in found:
                    best[ref] = min(distance, best.get(ref, distance))
            hits += [Hit(self._views[ref], "pdq", item.value, distance=d) for ref, d in best.items()]
        elif isinstance(item, IsccId):
            for unit in content_ids.iscc_units(item.value):
                unit_index = self._iscc.get(unit.kind)
                if unit.kind == "instance" or unit_index is None:
                    continue
                hits += [
                    Hit(self._views[ref], f"iscc-{unit.kind}", item.value, distance=distance)
                    for ref, distance in unit_index.search(unit.body)
                ]
        elif isinstance(item, NameId | TextItem):
            hits += [Hit(self._views[hit.ref], "name", hit.name) for hit in self._names.find(item.value)]
        elif isinstance(item, EmbeddingId):
            space = self._embeddings.get(item.space)
            if space is not None and len(item.vector) == space.dimensions:
                hits += [
                    Hit(self._views[ref], "embedding", item.space, similarity=similarity)
                    for ref, similarity in space.search(item.vector)
                ]
        return hits

    #: Whether `_url_paths` lists every host and path part of the URL keys (not so for indexes over hashes).
    KNOWS_URL_HOSTS = True

    def url_hits(self, value: str) -> list[tuple[int, str]]:
        """(claim reference, expression) of every URL claim that the URL item `value` matches, in
        the order of `match`: what `match` finds for a URL item, without building its `Hit`s."""
        return list(self.url_hits_many([value])[0])

    def url_hits_many(self, values: Iterable[str]) -> list[tuple[tuple[int, str], ...]]:
        """`url_hits` of each URL item, as tuples. The lookup expressions of hosts that hold no URL
        key are skipped (they can match nothing: the same hits, in the same order), and which of a
        host's lookup hosts hold one is found once per call, not once per URL; a URL that needs no
        canonicalising step (`urls.plain_parts`) is matched without building a `CanonicalURL`."""
        if not self.KNOWS_URL_HOSTS:
            return [
                tuple((ref, key[4:]) for key in query_keys("url", value) for ref in self.exact_refs(key))
                for value in values
            ]
        exact, known = self._exact, self._url_paths
        claimed: dict[str, list[tuple[str, dict[str, int]]]] = {}  # host -> its lookup hosts with keys
        found: list[tuple[tuple[int, str], ...]] = []
        for value in values:
            parts = urls.plain_parts(value)
            if parts is None:
                try:
                    canonical = urls.canonicalize(value)
                except urls.InvalidURL:
                    query_keys("url", value)  # raises as the reference does
                    raise
                names = dict.fromkeys(urls.lookup_hosts(canonical))
                hosts = [(name, known[name]) for name in names if name in known]
                path, query = canonical.path, canonical.query
            else:
                host, path, query = parts
                on_host = claimed.get(host)
                if on_host is None:
                    names = dict.fromkeys(urls.host_suffixes(host))
                    on_host = claimed[host] = [(name, known[name]) for name in names if name in known]
                hosts = on_host
            if not hosts:
                found.append(())
                continue
            # Host-major, each once (no host holds a "/" and every path starts with one), as
            # `urls.lookup_expressions` orders them; only the paths a host lists are looked up.
            paths = dict.fromkeys(urls.path_prefixes(path, query))
            found.append(
                tuple(
                    [
                        (ref, name + prefix)
                        for name, listed in hosts
                        for prefix in paths
                        if prefix in listed
                        for ref in exact.get(f"url:{name}{prefix}", ())
                    ]
                )
            )
        return found

    def url_hosts(self, host: str) -> list[tuple[str, Mapping[str, int]]]:
        """The lookup hosts of a canonical host name (not an IP address: `urls.host_suffixes`) that
        hold URL keys, in order, each with the path parts listed under it: what `url_hits_many`
        finds once per host (only with `KNOWS_URL_HOSTS`)."""
        known = self._url_paths
        return [(name, known[name]) for name in dict.fromkeys(urls.host_suffixes(host)) if name in known]

    def view(self, ref: int) -> ClaimView:
        """The claim behind an index reference."""
        return self._views[ref]

    def exact_refs(self, key: str) -> Iterable[int]:
        """The claims stored under an exact key."""
        return self._exact.get(key, ())

    def check_query(self, item: Any) -> None:
        """An embedding (claimed or queried) must be in a known space, with its dimension."""
        if isinstance(item, EmbeddingId):
            self._space_of(item)

    def filing(self, claim_id: str) -> tuple[int, tuple[int, str] | None] | None:
        """(log index of the claim, (log index, id) of its withdrawal or None), or None if never filed."""
        index = self._filed_at.get(claim_id)
        return None if index is None else (index, self.withdrawals.get(claim_id))

    def authority_of_claim(self, claim_id: str) -> ClaimAuthority | None:
        """The authority of a claim in force, at the index's position (None if not in force)."""
        ref = self._refs.get(claim_id)
        view = self._views.get(ref) if ref is not None else None
        return view.authority if view is not None else None

    def views(self) -> Iterable[ClaimView]:
        return self._views.values()

    def snapshot_rows(self) -> Iterator[tuple[ClaimView, ClaimParts, bool]]:
        """Every claim in force with its current authority, its parts and whether it is disputed,
        for `snapshot.assemble` (only with `keep_parts`)."""
        if not self.keep_parts:
            raise ValueError("this index keeps no snapshot parts")
        for ref, view in self._views.items():
            yield view, self._parts[ref], view.id in self.disputed

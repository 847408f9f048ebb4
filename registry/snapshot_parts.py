"""What one claim contributes to a snapshot's searchable sections, computed once per claim.

A full snapshot of a million claims cannot afford to re-read and re-validate every claim from the
database: the registry's index keeps each claim's parts from the moment it replays or files it
(`ClaimIndex(keep_parts=True)`), and `snapshot.assemble` joins them. The parts depend on the claim
alone (not on its authority, disputes or place in the snapshot), so they never go stale;
`snapshot.build` makes them from claims for everyone else, and the tests hold both to the same
bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from registry import content_ids
from registry.documents import Claim
from registry.schemes import DEFAULT_EMBEDDING_THRESHOLD, EmbeddingId, IsccId, NameId, PdqId, exact_keys

__all__ = ["ClaimParts", "claim_parts", "key_hash", "url_domain"]


def key_hash(key: str) -> int:
    """The 64-bit hash an exact key is stored under: the first 8 bytes of its SHA-256, big-endian."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")


def url_domain(host: str) -> str:
    """The last two labels of a canonical host: every host a URL key of this host can match ends in them."""
    return ".".join(host.rsplit(".", 2)[-2:])


@dataclass(frozen=True, slots=True)
class ClaimParts:
    """One claim's rows of every section but `claims`, in the claim's own order."""

    exact: tuple[int, ...]  # key hashes
    url_keys: tuple[str, ...]  # "host/path" of each URL key
    domains: tuple[str, ...]  # url_domain of each URL key's host, in the same order
    pdq: tuple[bytes, ...]  # 32-byte codes, dihedral variants included
    iscc: tuple[tuple[str, bytes], ...]  # (unit kind, 8-byte body), instance units left out
    names: tuple[str, ...]
    vectors: tuple[tuple[str, npt.NDArray[np.float32], float], ...]  # (space, unit vector, threshold)


def claim_parts(
    claim: Claim, spaces: Mapping[str, int], stored: Sequence[list[str]] | None = None
) -> ClaimParts:
    """The parts of `claim` for a registry with these embedding spaces (others are left out, as
    the registry's index leaves them out). `stored` is each identifier's `exact_keys(…, query=False)`
    when the caller has them already (URL canonicalisation is most of the cost of a claim)."""
    exact: list[int] = []
    url_keys: list[str] = []
    domains: list[str] = []
    pdq: list[bytes] = []
    iscc: list[tuple[str, bytes]] = []
    names: list[str] = []
    vectors: list[tuple[str, npt.NDArray[np.float32], float]] = []
    for number, identifier in enumerate(claim.subject.identifiers):
        for key in stored[number] if stored is not None else exact_keys(identifier, query=False):
            exact.append(key_hash(key))
            if key.startswith("url:"):
                url_keys.append(key[4:])
                domains.append(url_domain(key[4:].split("/", 1)[0]))
        if isinstance(identifier, PdqId):
            pdq += identifier.hashes()
        elif isinstance(identifier, IsccId):
            iscc += [
                (unit.kind, unit.body)
                for unit in content_ids.iscc_units(identifier.value)
                if unit.kind != "instance"
            ]
        elif isinstance(identifier, NameId):
            names.append(identifier.value)
        elif isinstance(identifier, EmbeddingId) and spaces.get(identifier.space) == len(identifier.vector):
            array = np.asarray(identifier.vector, dtype=np.float64)
            unit_vector = (array / np.linalg.norm(array)).astype(np.float32)
            threshold = identifier.threshold or DEFAULT_EMBEDDING_THRESHOLD
            vectors.append((identifier.space, unit_vector, threshold))
    return ClaimParts(
        tuple(exact), tuple(url_keys), tuple(domains), tuple(pdq), tuple(iscc), tuple(names), tuple(vectors)
    )

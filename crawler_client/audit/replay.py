"""Every mirrored entry re-verified and replayed by the registry's own rules.

Each entry goes through `registry.entry_check.check_entry_signature` (the check the registry runs
on itself at start: strict canonical JSON, a known type, the author's signature — did:key offline,
did:web from the DID documents logged before it, registry-signed records by the registry's DID)
and then into a `registry.index.ClaimIndex`, which replays claims, withdrawals, disputes and
authority exactly as the registry's index does. The few filing rules a replay would not notice
(a withdrawal by someone other than the claimant or its successor, a withdrawal of a claim not
filed before it, a claim logged twice) are checked here.

`offline_throughput` runs all of it (and the Merkle tree) over entries in memory, for benchmarks.

>>> replay = Replay(registry_did="did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")
>>> replay.index.position
0
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from crawler_client.audit.report import Discrepancy
from crawler_client.audit.tiles import Tree
from keys import merkle
from registry.entry_check import ENTRY_TYPES, EntryRefused, check_entry_signature
from registry.index import ClaimIndex

__all__ = ["Replay", "Throughput", "offline_throughput"]


@dataclass
class Replay:
    """The registry's state rebuilt from its log, fed one entry at a time in log order."""

    registry_did: str
    spaces: Mapping[str, int] | None = None
    #: Entries below this were verified by an earlier audit; their signatures are not checked again.
    verified_below: int = 0
    index: ClaimIndex = field(init=False)
    #: claim id -> (log index, claimant), for every claim ever filed (withdrawn ones too).
    claims: dict[str, tuple[int, str]] = field(default_factory=dict)
    did_documents: dict[str, bytes] = field(default_factory=dict)
    discrepancies: list[Discrepancy] = field(default_factory=list)
    signatures_checked: int = 0
    #: The first entry whose signature check failed (None while every one passed): the next audit
    #: verifies signatures again from there.
    first_bad: int | None = None
    seconds: float = 0.0

    def __post_init__(self) -> None:
        self.index = ClaimIndex(self.spaces)

    def _refuse(self, kind: str, message: str, index: int) -> None:
        self.discrepancies.append(Discrepancy(kind, message, index))
        if kind == "signature" and (self.first_bad is None or index < self.first_bad):
            self.first_bad = index

    def feed(self, index: int, entry: bytes) -> None:
        """Verify and replay log entry `index` (the next one)."""
        started = time.perf_counter()
        verify = index >= self.verified_below
        summary: tuple[str, str, str, dict[str, Any]] | None = None
        try:
            checked = check_entry_signature(
                index, entry, self.did_documents, self.registry_did, verify=verify
            )
            summary = (checked.kind, checked.id, checked.author, checked.document)
        except EntryRefused as exc:
            self._refuse("signature", exc.detail, index)
            summary = _summary(entry)  # reported; still replayed, as the registry would
        if verify:
            self.signatures_checked += 1
        if summary is not None and summary[0] == "Claim":
            seen = self.claims.get(summary[1])
            if seen is not None:
                self._refuse("rule", f"log entry {index} repeats the claim logged at {seen[0]}", index)
            else:
                self.claims[summary[1]] = (index, sys.intern(summary[2]))
        elif summary is not None and summary[0] == "ClaimWithdrawal":
            self._check_withdrawal(index, str(summary[3].get("claim", "")), summary[2])
        try:
            self.index.apply(index, bytes(entry))
        except Exception as exc:
            self._refuse("replay", f"log entry {index} cannot be replayed: {_one_line(exc)}", index)
            self.index.position = index + 1
        self.seconds += time.perf_counter() - started

    def _check_withdrawal(self, index: int, claim_id: str, author: str) -> None:
        filed = self.claims.get(claim_id)
        if filed is None:
            self._refuse(
                "rule", f"log entry {index} withdraws claim {claim_id[:16]}…, not filed before it", index
            )
            return
        earlier = self.index.withdrawals.get(claim_id)
        if earlier is not None:
            self._refuse(
                "rule",
                f"log entry {index} withdraws claim {claim_id[:16]}… again (first at {earlier[0]})",
                index,
            )
        claimant = filed[1]
        if author not in self._chain(claimant):
            self._refuse(
                "rule",
                f"log entry {index}: claim {claim_id[:16]}… is withdrawn by {author}, "
                f"neither its claimant {claimant} nor a successor of its key",
                index,
            )

    def _chain(self, did: str) -> set[str]:
        """`did` and every DID that succeeded it (who may act for it)."""
        chain = {did}
        successors = self.index.authority.successors
        while did in successors and successors[did] not in chain:
            did = successors[did]
            chain.add(did)
        return chain


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:299] + "…"


@dataclass(frozen=True)
class Throughput:
    """How fast entries were verified, replayed and hashed."""

    entries: int
    seconds: float
    signatures: int

    @property
    def per_second(self) -> float:
        return self.entries / self.seconds if self.seconds > 0 else 0.0


def offline_throughput(
    entries: Iterable[bytes], registry_did: str, *, spaces: Mapping[str, int] | None = None
) -> tuple[Throughput, Replay, bytes]:
    """Verify, replay and hash `entries` in memory, as an audit does after fetching them; returns
    the rate, the replay (its discrepancies say whether every entry passed) and the Merkle root.

    For `bench/`: the network is left out, so the figure is the auditor's own cost per entry.
    """
    replay = Replay(registry_did=registry_did, spaces=spaces)
    tree = Tree()
    started = time.perf_counter()
    for index, entry in enumerate(entries):
        tree.append(merkle.leaf_hash(entry))
        replay.feed(index, entry)
    root = tree.root(tree.size)
    elapsed = time.perf_counter() - started
    return Throughput(tree.size, elapsed, replay.signatures_checked), replay, root


def _summary(entry: bytes) -> tuple[str, str, str, dict[str, Any]] | None:
    """(type, id, author, document) of an entry that failed its check, read as the replay reads it."""
    try:
        document = json.loads(entry)
    except ValueError:
        return None
    model = ENTRY_TYPES.get(str(document.get("type"))) if isinstance(document, dict) else None
    if model is None:
        return None
    author = str(document.get(model.AUTHOR_FIELD, ""))
    return str(document["type"]), hashlib.sha256(entry).hexdigest(), author, document

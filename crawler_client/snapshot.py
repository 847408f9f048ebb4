"""A local, verified copy of the registry's snapshot: pulled, updated by deltas, checked offline.

`pull` downloads the registry's signed snapshot, or only the delta since the local one, and
verifies the signature, that the new checkpoint extends the local one (RFC 9162 consistency), and
that the merged sections are the ones the registry signed. Whatever fails is refused and the
local file is left as it was; a delta that does not continue the local snapshot is replaced by a
full download. Files are written to a temporary name, synced, then renamed.

`Snapshot.check` gives the decisions the online `POST /v1/check` gives at the same tree size: the
matching and deciding code is the registry's own (`registry.snapshot.SnapshotIndex`,
`registry.checking.decide`), and so is each claim's authority, which the snapshot carries with
the chain behind it: a `min_authority` gives the answers the registry gives for it.
`Snapshot.decide_urls` is its batch form for URLs.

>>> pull("http://127.0.0.1:8000", "claims.snapshot")  # doctest: +SKIP
>>> Snapshot.open("claims.snapshot").check([{"scheme": "url", "value": "https://example.com/a"}])
"""

from __future__ import annotations

import base64
import contextlib
import mmap
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt

from crawler_client.core import WitnessPolicy, minimum_authority
from crawler_client.errors import KotowariError, RegistryProblem
from crawler_client.match_sets import DECISION_CODES, Decisions, MatchSets, grouped, match_summary
from crawler_client.static_reads import DeltaUnavailable
from keys import merkle
from keys.cosignature import CosignatureVerifier
from registry import urls
from registry.checking import decide, validate_check_request
from registry.documents import InvalidDocument, format_timestamp
from registry.identifiers import InvalidIdentifier, normalize_sha256
from registry.index import UnknownEmbeddingSpace
from registry.snapshot import (
    FULL_MAGIC,
    InvalidSnapshot,
    SnapshotData,
    SnapshotIndex,
    SnapshotState,
    apply_delta,
    encode_full,
    key_hash,
    read_delta,
    read_full,
)
from registry.vocabulary import Use

if TYPE_CHECKING:  # httpx and the client only for `pull`: opening a snapshot to filter needs neither
    from crawler_client.client import Client

__all__ = [
    "DECISION_CODES",
    "SIMPLE_URL",
    "SIMPLE_URL_MAX_BYTES",
    "Pulled",
    "Snapshot",
    "SnapshotRefused",
    "UrlDecisions",
    "match_summary",
    "pull",
]

UNKNOWN, ALLOWED, RESERVED, INVALID = 0, 1, 2, 3

#: An http(s) URL whose host Safe Browsing canonicalisation can only lowercase: letters, digits and
#: hyphens in dot-separated labels, the last one starting with a letter (so never an IP address), no
#: userinfo, escapes or stray characters before the path, a port of at most 4 digits. Such a URL,
#: if no longer than SIMPLE_URL_MAX_BYTES (escaping at most triples it), is valid, and every host
#: expression it has ends in its last two labels, `domain`: on a domain no URL key names, it is
#: settled as unknown without canonicalising. The pattern means the same to Python's `re` and to
#: RE2 (Arrow's compute functions).
SIMPLE_URL: Final = (
    r"(?i)^https?://(?:[a-z0-9-]+\.)*?(?P<domain>(?:[a-z0-9-]+\.)?[a-z][a-z0-9-]*)(?::[0-9]{0,4})?(?:[/?#]|$)"
)
SIMPLE_URL_MAX_BYTES: Final = urls.MAX_URL_LENGTH // 3
_SIMPLE_URL: Final = re.compile(SIMPLE_URL)


class SnapshotRefused(KotowariError):
    """A snapshot or delta that failed verification, or a local file that is not a snapshot."""


UrlDecisions = Decisions  # per URL of a batch: codes, and claims and matches per set


class Snapshot:
    """A verified snapshot, memory-mapped when opened from a file."""

    def __init__(self, state: SnapshotState, data: SnapshotData, mapping: mmap.mmap | None = None) -> None:
        self.state = state
        self.data = data
        self.index = SnapshotIndex(data, state.spaces)
        self._mapping = mapping
        self.domains = frozenset(domain for _, domain in data.url_domains)
        self._match_sets: dict[tuple[Any, ...], MatchSets] = {}
        self.disputed = frozenset(str(claim["id"]) for claim in data.claims if claim.get("disputed"))

    @classmethod
    def open(cls, path: str | Path, *, registry: str | None = None, verify: bool = True) -> Snapshot:
        """Map the file and verify its signature, checkpoint and (with `verify`) section hashes."""
        try:
            with open(path, "rb") as handle:
                mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as exc:
            raise SnapshotRefused(
                f"cannot read snapshot {path}: {getattr(exc, 'strerror', None) or exc}"
            ) from None
        try:
            state, data = read_full(memoryview(mapping), registry=registry, verify=verify)
        except InvalidSnapshot as exc:
            raise SnapshotRefused(f"{path}: {exc}") from None
        return cls(state, data, mapping)

    @classmethod
    def from_bytes(cls, raw: bytes, *, registry: str | None = None) -> Snapshot:
        try:
            state, data = read_full(raw, registry=registry)
        except InvalidSnapshot as exc:
            raise SnapshotRefused(str(exc)) from None
        return cls(state, data)

    @property
    def registry(self) -> str:
        return self.state.registry

    @property
    def tree_size(self) -> int:
        return self.state.tree_size

    def __len__(self) -> int:
        return len(self.data.claims)

    # ------------------------------------------------------------ checks

    def check(
        self,
        items: Sequence[Mapping[str, Any]],
        *,
        purpose: Use | None = None,
        territory: str | None = None,
        at: datetime | None = None,
        min_authority: str | None = None,
    ) -> dict[str, Any]:
        """Decide items as `POST /v1/check` does; the answer names the snapshot's checkpoint.

        Every match carries its authority (and the chain behind it) as the registry's does; with
        `min_authority` (one of `registry.authority.levels.LEVELS`), weaker matches are listed
        with `"counted": false` and decide nothing, and the answer echoes the minimum.
        Raises `InvalidItems` for items the registry would refuse (with the same JSON pointers),
        `ValueError` for an unknown `min_authority`.
        """
        min_authority = minimum_authority(min_authority)
        body: dict[str, Any] = {"items": [dict(item) for item in items]}
        if purpose is not None:
            body["purpose"] = purpose
        if territory is not None:
            body["territory"] = territory
        try:
            request = validate_check_request(body)
            for number, item in enumerate(request.items):
                try:
                    self.index.check_query(item)
                except UnknownEmbeddingSpace as exc:
                    raise InvalidDocument([(f"/items/{number}", str(exc))]) from None
        except InvalidDocument as exc:
            raise InvalidItems(str(exc)) from None
        moment = at or datetime.now(UTC)
        answer: dict[str, Any] = {
            "type": "OfflineCheckAnswer",
            "registry": self.registry,
            "at": format_timestamp(moment),
            "checkpoint": self.checkpoint_summary(),
        }
        if purpose is not None:
            answer["purpose"] = purpose
        if territory is not None:
            answer["territory"] = territory
        if min_authority is not None:
            answer["min_authority"] = min_authority
        answer["items"] = [
            decide(
                item,
                self.index.match(item),
                at=moment,
                purpose=purpose,
                territory=territory,
                min_authority=min_authority,
            )
            for item in request.items
        ]
        for match in (match for item in answer["items"] for match in item["matches"]):
            if match["claim"] in self.disputed:  # as the registry marks them
                match["disputed"] = True
        return answer

    def checkpoint_summary(self) -> dict[str, Any]:
        return {
            "origin": self.state.origin,
            "tree_size": self.state.tree_size,
            "root_hash": base64.b64encode(self.state.root_hash).decode(),
        }

    def decide_urls(
        self,
        values: Iterable[str | None],
        purpose: Use,
        *,
        at: datetime | None = None,
        territory: str | None = None,
        min_authority: str | None = None,
    ) -> UrlDecisions:
        """The decision for `purpose` of each URL (None or unparsable: INVALID), without items.

        URLs on hosts nobody registered are settled by one dictionary lookup per host; the rest are
        canonicalised, expanded and decided exactly as `check` does (`min_authority` included),
        once per distinct set of matches (`match_sets`).
        """
        sets = self.match_sets(purpose, at=at, territory=territory, min_authority=min_authority)
        listed = list(values)
        codes = np.zeros(len(listed), dtype=np.int8)
        lookups: list[str] = []  # every expression of every URL left to look up, and its row
        owners: list[int] = []
        for row, value in enumerate(listed):
            if not isinstance(value, str):
                codes[row] = INVALID
                continue
            simple = _SIMPLE_URL.match(value)
            if (
                simple is not None
                and len(value.encode()) <= SIMPLE_URL_MAX_BYTES
                and simple.group("domain").lower() not in self.domains
            ):
                continue
            try:  # what the registry accepts as a URL item (`UrlId`), then its lookups
                if not 0 < len(value) <= urls.MAX_URL_LENGTH:
                    raise urls.InvalidURL("empty or too long")
                expressions = urls.lookup_expressions(urls.filable(value))
            except urls.InvalidURL:
                codes[row] = INVALID
                continue
            lookups += expressions
            owners += [row] * len(expressions)
        return self._decide_keys("url", lookups, owners, codes, sets)

    def decide_sha256(
        self,
        values: Iterable[str | None],
        purpose: Use,
        *,
        at: datetime | None = None,
        territory: str | None = None,
        min_authority: str | None = None,
    ) -> UrlDecisions:
        """`decide_urls` for SHA-256 hex digests (what the registry refuses is INVALID)."""
        sets = self.match_sets(purpose, at=at, territory=territory, min_authority=min_authority)
        listed = list(values)
        codes = np.zeros(len(listed), dtype=np.int8)
        lookups: list[str] = []
        owners: list[int] = []
        for row, value in enumerate(listed):
            try:
                digest = normalize_sha256(value) if isinstance(value, str) else None
            except InvalidIdentifier:
                digest = None
            if digest is None:
                codes[row] = INVALID
                continue
            lookups.append(digest)
            owners.append(row)
        return self._decide_keys("sha256", lookups, owners, codes, sets)

    def match_sets(
        self,
        purpose: Use,
        *,
        at: datetime | None = None,
        territory: str | None = None,
        min_authority: str | None = None,
    ) -> MatchSets:
        """The answers per set of matches for one question, shared by every batch that asks it."""
        minimum = minimum_authority(min_authority)
        moment = at or datetime.now(UTC)
        question = (purpose, moment, territory, minimum)
        found = self._match_sets.get(question)
        if found is None:
            if len(self._match_sets) >= 8:
                self._match_sets.clear()
            found = self._match_sets[question] = MatchSets(
                self.index.view, purpose=purpose, at=moment, territory=territory, min_authority=minimum
            )
        return found

    def _decide_keys(
        self, scheme: str, lookups: list[str], owners: list[int], codes: npt.NDArray[np.int8], sets: MatchSets
    ) -> UrlDecisions:
        """Look up every `scheme:lookup` key at once (`owners` gives its row), then decide the rows hit.

        A row's answer depends only on the first key that hit each claim (what `decide` keeps).
        """
        hashes = np.fromiter((key_hash(f"{scheme}:{key}") for key in lookups), np.uint64, len(lookups))
        first = np.searchsorted(self.data.exact_hashes, hashes, side="left")
        last = np.searchsorted(self.data.exact_hashes, hashes, side="right")
        found: dict[int, dict[int, str]] = {}
        for position in np.nonzero(last > first)[0].tolist():
            seen = found.setdefault(owners[position], {})
            for ordinal in self.data.exact_claims[first[position] : last[position]].tolist():
                seen.setdefault(int(ordinal), lookups[position])
        rows = np.fromiter(found, dtype=np.intp, count=len(found))
        return grouped(codes, rows, [sets.get(scheme, tuple(sorted(found[row].items()))) for row in found])

    def close(self) -> None:
        if self._mapping is not None:
            self.data = SnapshotData()
            self.index = SnapshotIndex(self.data, self.state.spaces)
            self.domains = frozenset()
            self._match_sets = {}
            with contextlib.suppress(BufferError):  # arrays still viewing the map keep it open
                self._mapping.close()
            self._mapping = None

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InvalidItems(KotowariError):
    """Items the registry would refuse (bad identifiers, unknown embedding space)."""


# ---------------------------------------------------------------- pulling


@dataclass(frozen=True)
class Pulled:
    """What `pull` did: the new tree size, the previous one, and how (full, delta or unchanged)."""

    tree_size: int
    previous: int | None
    how: str
    claims: int
    bytes_downloaded: int


def pull(
    registry: str | Client,
    path: str | Path,
    *,
    registry_did: str | None = None,
    witnesses: Sequence[str | CosignatureVerifier] | None = None,
    min_cosignatures: int | None = None,
) -> Pulled:
    """Create or update the snapshot at `path` from the registry; refuse anything unverifiable.

    The registry must be the one the local snapshot (or `registry_did`) names. The previous file
    stays untouched unless the new one verifies completely. With `witnesses` (cosignature verifier
    keys; `min_cosignatures` of them, default all), or a `Client` made with them, the snapshot's
    checkpoint must be covered by one they cosigned (`NotWitnessed`, `InvalidSignedAnswer`).
    """
    from crawler_client.client import Client

    if isinstance(registry, Client) and (witnesses is not None or min_cosignatures is not None):
        raise ValueError("give the witnesses to the Client, or a registry URL with them, not both")
    WitnessPolicy.of(witnesses, min_cosignatures)  # a bad key or k is refused before anything is opened
    target = Path(path)
    local: Snapshot | None = None
    if target.exists():
        local = Snapshot.open(target, registry=registry_did)
        registry_did = local.registry
    client = (
        registry
        if isinstance(registry, Client)
        else Client(registry, witnesses=witnesses, min_cosignatures=min_cosignatures)
    )
    try:
        if local is not None:
            try:
                raw = client.snapshot(since=local.tree_size)
            except DeltaUnavailable:  # a static copy without a delta from our size: the full one below
                raw = None
            except RegistryProblem as exc:
                raise SnapshotRefused(f"the registry refused a delta from {local.tree_size}: {exc}") from None
            try:
                delta = None if raw is None else read_delta(raw, registry=registry_did)
            except InvalidSnapshot as exc:
                raise SnapshotRefused(f"delta refused, {target} left as it was: {exc}") from None
            if (
                raw is not None
                and delta is not None
                and delta.since == local.tree_size
                and delta.since_root_hash == local.state.root_hash
            ):
                try:
                    merged = apply_delta(local.data, delta)
                except InvalidSnapshot:
                    merged = None  # does not continue ours: fall back to a full download
                if merged is not None:
                    how = "unchanged" if delta.state.tree_size == local.tree_size else "delta"
                    _write(target, encode_full(delta.state, merged))
                    return Pulled(delta.state.tree_size, local.tree_size, how, len(merged.claims), len(raw))
        raw = client.snapshot()
        try:
            state, data = read_full(raw, registry=registry_did)
        except InvalidSnapshot as exc:
            raise SnapshotRefused(f"snapshot refused{_kept(target)}: {exc}") from None
        if local is not None:
            _check_extends(client, local.state, state)
        _write(target, raw)
        return Pulled(state.tree_size, local.tree_size if local else None, "full", len(data.claims), len(raw))
    finally:
        if local is not None:
            local.close()
        if not isinstance(registry, Client):
            client.close()


def _kept(target: Path) -> str:
    return f", {target} left as it was" if target.exists() else ""


def _check_extends(client: Client, old: SnapshotState, new: SnapshotState) -> None:
    """A full snapshot replacing a local one must extend its checkpoint (no rollback, no fork)."""
    if new.tree_size < old.tree_size:
        raise SnapshotRefused(
            f"the registry's tree ({new.tree_size}) is smaller than the local one ({old.tree_size})"
        )
    proof = client.consistency_proof(old.tree_size, new.tree_size) if old.tree_size < new.tree_size else []
    try:
        merkle.verify_consistency(old.tree_size, new.tree_size, old.root_hash, new.root_hash, proof)
    except merkle.InvalidMerkleProof as exc:
        raise SnapshotRefused(f"the new snapshot's log does not extend the local one: {exc}") from None


def _write(target: Path, raw: bytes) -> None:
    """Write atomically: a temporary file in the same folder, synced, then renamed over `target`."""
    if not raw.startswith(FULL_MAGIC):
        raise SnapshotRefused("refusing to write something that is not a full snapshot")
    directory = target.parent if str(target.parent) else Path(".")
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=directory)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

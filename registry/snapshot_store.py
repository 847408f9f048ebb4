"""Serving snapshots: the claims in force at a tree size, from the database, signed and cached.

The set of claims in force at tree size T is read by log index alone — filed before T and not
withdrawn before T — so it is the same on every worker and on SQLite and PostgreSQL, whatever was
appended since. The latest state is cached; a newer one is computed by applying the delta since the
cached size (the same merge clients run), so the registry does not re-read every claim per filing.
The first full snapshot is assembled from the parts the claim index keeps (`keep_parts`), held at
the same tree size, rather than re-read and re-validated from the database.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q

import keys
from registry import snapshot
from registry.documents import Claim
from registry.errors import RegistryError
from registry.log import TransparencyLog
from registry.models import ClaimRecord
from registry.notices.models import DisputeRecord
from registry.snapshot import SnapshotData, SnapshotState
from registry.store import ClaimStore


class SnapshotAhead(RegistryError):
    status, slug, title = 409, "snapshot-ahead", "Snapshot is ahead of this registry's log"


@dataclass(frozen=True)
class _Cached:
    state: SnapshotState
    data: SnapshotData
    encoded: bytes


class SnapshotStore:
    """Full snapshots and deltas of one registry's claims, signed with its key.

    Claims' authority comes from the claim store's index, replayed from the same log; snapshots are
    built while that index stands at the snapshot's tree size, so both say the same.
    """

    def __init__(
        self,
        log: TransparencyLog,
        key: keys.SigningKey,
        spaces: Mapping[str, int],
        clock: Callable[[], datetime],
        claims: ClaimStore,
    ) -> None:
        self.log = log
        self.key = key
        self.spaces = dict(spaces)
        self.clock = clock
        self.claims = claims
        self._latest: _Cached | None = None
        self._lock = asyncio.Lock()

    async def full(self) -> bytes:
        """The snapshot at the log's current size."""
        async with self._lock, self.claims.replayed() as tree_size:
            return (await self._current(tree_size)).encoded

    async def delta(self, since: int) -> bytes:
        """What changed from tree size `since` to the current one, with the proof that it extends it."""
        async with self._lock, self.claims.replayed() as tree_size:
            current = await self._current(tree_size)
            if since > tree_size:
                raise SnapshotAhead(
                    f"since={since} is beyond this registry's tree size {tree_size}: "
                    "a snapshot of another log?"
                )
            removed, added = await self._changes(since, tree_size)
        return snapshot.encode_delta(
            key=self.key,
            since=since,
            since_root_hash=await self.log.root(since),
            consistency_proof=await self.log.consistency_proof(since, tree_size),
            state=current.state,
            removed=removed,
            added=added,
            now=self.clock(),
        )

    async def _changes(self, since: int, tree_size: int) -> tuple[list[str], SnapshotData]:
        """(claims to drop, data of claims to add) from `since` to `tree_size` (the index's position).

        Dropped: claims filed before `since` and withdrawn since, or first disputed since, or whose
        authority changed since (those come back among the added); added: claims filed since and
        still in force.
        """
        withdrawn = await ClaimRecord.filter(
            log_index__lt=since, withdrawal_log_index__gte=since, withdrawal_log_index__lt=tree_size
        ).values_list("id", flat=True)
        flagged = await _disputed(since, tree_size) - await _disputed(0, since)
        flagged |= {claim_id for index, claim_id in self.claims.index.authority_changes if index >= since}
        changed = await _claims(0, since, in_force_at=tree_size, ids=flagged) if flagged else []
        claims = sorted([*await _claims(since, tree_size), *changed])
        added = snapshot.build(
            claims, self.spaces, await _disputed(0, tree_size), self.claims.index.authority_of_claim
        )
        return sorted(
            {str(claim_id) for claim_id in withdrawn} | {claim_id for claim_id, _ in changed}
        ), added

    async def _current(self, tree_size: int) -> _Cached:
        latest = self._latest
        if latest is not None and latest.state.tree_size == tree_size:
            return latest
        if latest is not None and latest.state.tree_size < tree_size:
            removed, added = await self._changes(latest.state.tree_size, tree_size)
            data = latest.data.without(removed).plus(added)
        elif self.claims.index.keep_parts and self.claims.index.spaces == self.spaces:
            data = snapshot.assemble(self.claims.index.snapshot_rows())  # the index is at tree_size
        else:
            claims = await _claims(0, tree_size)
            data = snapshot.build(
                claims, self.spaces, await _disputed(0, tree_size), self.claims.index.authority_of_claim
            )
        root = await self.log.root(tree_size)
        state = SnapshotState.sign(
            data,
            key=self.key,
            origin=self.log.origin,
            tree_size=tree_size,
            root_hash=root,
            checkpoint=self.log.checkpoint_note(tree_size, root),
            spaces=self.spaces,
            now=self.clock(),
        )
        self._latest = _Cached(state, data, snapshot.encode_full(state, data))
        return self._latest


async def _claims(
    first: int, last: int, *, in_force_at: int | None = None, ids: set[str] | None = None
) -> list[tuple[str, Claim]]:
    """Claims filed at log index [first, last) and in force at `in_force_at` (default `last`), by id."""
    at = last if in_force_at is None else in_force_at
    query = ClaimRecord.filter(log_index__gte=first, log_index__lt=last).filter(
        Q(withdrawal_log_index__isnull=True) | Q(withdrawal_log_index__gte=at)
    )
    if ids is not None:
        query = query.filter(id__in=sorted(ids))
    rows = await query.order_by("id").values_list("id", "document")
    return [(str(claim_id), Claim.model_validate(json.loads(str(document)))) for claim_id, document in rows]


async def _disputed(first: int, tree_size: int) -> set[str]:
    """Claims on either side of a dispute logged at [first, tree_size)."""
    rows = await DisputeRecord.filter(log_index__gte=first, log_index__lt=tree_size).values_list(
        "claim_id", "disputed_id"
    )
    return {str(claim_id) for pair in rows for claim_id in pair}

"""Is the database still the log it signed? Verification at start, before any answer is served.

The log is the source of truth and the database rows are caches of it, so an operator's database
can be distrusted like anyone else's. At start the registry re-reads every entry: its leaf hash
(against the stored one), its document id, the Merkle root (against the stored subtree hashes
that checkpoints are signed from, and against the registry-signed mark it left after the last
verification), every document's signature (from the mark on; `full=True` re-verifies all), and
every cached row against the entry it caches. The first failure names the entry (or row) at
fault; the application then answers every request with 503 `integrity-failure`.

The mark is a C2SP checkpoint signed with the registry's note key, kept in the data directory
(not the database), so a database rolled back behind it is caught too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tortoise.transactions import in_transaction

import keys
from keys import merkle
from keys.note import Checkpoint, InvalidCheckpoint, InvalidNote, open_note
from registry.accountability.models import ManifestRow
from registry.entry_check import EntryRefused, check_entry_signature
from registry.errors import RegistryError
from registry.log import TransparencyLog
from registry.models import ClaimRecord, LogEntry, UsedNonce, WithdrawalRecord
from registry.notices.lifecycle import transition
from registry.notices.models import DisputeRecord, NoticeEventRecord, NoticeRecord, OperatorRecord

MARK_FILE = "verified-checkpoint"
CHUNK = 2_000


class IntegrityFailure(RegistryError):
    """The stored log or its caches do not verify; nothing is served until an operator acts."""

    status, slug, title = 503, "integrity-failure", "The registry's log does not verify"

    def __init__(self, detail: str, index: int | None = None) -> None:
        super().__init__(detail, [(f"/log/{index}", detail)] if index is not None else [])
        self.index = index


@dataclass
class Report:
    """What a verification covered."""

    tree_size: int = 0
    signatures_from: int = 0
    signatures_checked: int = 0
    rows_checked: int = 0


class _Root:
    """The RFC 9162 root of leaves seen so far, one stack of perfect subtrees (no list of leaves)."""

    def __init__(self) -> None:
        self.count = 0
        self.stack: list[tuple[int, bytes]] = []  # (size, hash), sizes strictly decreasing

    def add(self, leaf: bytes) -> None:
        size, digest = 1, leaf
        while self.stack and self.stack[-1][0] == size:
            left_size, left = self.stack.pop()
            size, digest = left_size + size, merkle.node_hash(left, digest)
        self.stack.append((size, digest))
        self.count += 1

    def root(self) -> bytes:
        if not self.stack:
            return merkle.EMPTY_ROOT
        digest = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            digest = merkle.node_hash(left, digest)
        return digest


@dataclass
class _Seen:
    """What the entries say, for comparing the rows against."""

    by_id: dict[str, tuple[int, str]] = field(default_factory=dict)  # document id -> (index, type)
    withdrawals: dict[str, tuple[int, str]] = field(default_factory=dict)  # claim -> (index, id)
    registrations: dict[str, str] = field(default_factory=dict)  # operator -> latest registration id
    nonces: set[tuple[str, str]] = field(default_factory=set)
    authors: dict[str, str] = field(default_factory=dict)  # claim id -> claimant
    manifests: dict[str, str] = field(default_factory=dict)  # ManifestRecord id -> manifest SHA-256


async def verify(
    log: TransparencyLog,
    registry: keys.VerifyingKey,
    data_dir: Path,
    *,
    full: bool = False,
) -> Report:
    """Verify the stored log and its caches; raises `IntegrityFailure` naming the first fault.

    Signatures are checked from the mark on (everything when `full` or without a mark); hashes,
    the root and the rows always. Everything is read in one transaction, on PostgreSQL at
    REPEATABLE READ (one snapshot): other workers keep appending while this one starts, and rows
    they add or change after the size was read are not faults of the log at that size.
    """
    async with in_transaction() as connection:
        if connection.capabilities.dialect == "postgres":
            await connection.execute_script("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return await _verify(log, registry, data_dir, full=full)


async def _verify(log: TransparencyLog, registry: keys.VerifyingKey, data_dir: Path, *, full: bool) -> Report:
    mark = read_mark(data_dir, log)
    size = await log.size()
    if mark is not None and mark.size > size:
        raise IntegrityFailure(
            f"the log holds {size} entries, fewer than the {mark.size} verified before: it was rolled back"
        )
    report = Report(tree_size=size, signatures_from=0 if full or mark is None else mark.size)
    root = _Root()
    seen = _Seen()
    did_documents: dict[str, bytes] = {}
    position = 0
    while position < size:
        rows = await (
            LogEntry.filter(index__gte=position, index__lt=size)
            .order_by("index")
            .limit(CHUNK)
            .values_list("index", "document_id", "kind", "entry", "leaf_hash")
        )
        if not rows:
            raise IntegrityFailure(f"log entry {position} is missing", position)
        for index, document_id, kind, entry, stored_leaf in rows:
            index = int(str(index))
            if index != position:
                raise IntegrityFailure(f"log entry {position} is missing", position)
            entry = bytes(entry)
            leaf = merkle.leaf_hash(entry)
            if bytes(stored_leaf) != leaf:
                raise IntegrityFailure(
                    f"log entry {index}: its bytes do not hash to its stored leaf hash", index
                )
            root.add(leaf)
            if mark is not None and root.count == mark.size and root.root() != mark.root_hash:
                raise IntegrityFailure(
                    f"the first {mark.size} entries no longer hash to the root verified before", index
                )
            identifier = hashlib.sha256(entry).hexdigest()
            if identifier != document_id:
                raise IntegrityFailure(
                    f"log entry {index}: its document id is not the SHA-256 of its bytes", index
                )
            _check_entry(
                index, entry, str(kind), seen, did_documents, registry, check=index >= report.signatures_from
            )
            if index >= report.signatures_from:
                report.signatures_checked += 1
            position += 1
    stored_root = await log.root(size)
    if root.root() != stored_root:
        raise IntegrityFailure(
            "the stored subtree hashes (what checkpoints are signed from) do not match the entries"
        )
    report.rows_checked = await _check_rows(seen)
    return report


def _check_entry(
    index: int,
    entry: bytes,
    kind: str,
    seen: _Seen,
    did_documents: dict[str, bytes],
    registry: keys.VerifyingKey,
    *,
    check: bool,
) -> None:
    """One entry by the rules an independent auditor applies too (`registry.entry_check`); before the
    mark (`check` false) its bytes are proven by the signed root, so it is read fast."""
    try:
        checked = check_entry_signature(index, entry, did_documents, registry.did, kind=kind, verify=check)
    except EntryRefused as exc:
        raise IntegrityFailure(exc.detail, exc.index) from None
    document, author, identifier = checked.document, checked.author, checked.id
    seen.by_id[identifier] = (index, kind)
    nonce = document.get("nonce")
    if isinstance(nonce, str):
        seen.nonces.add((author, nonce))
    if kind == "Claim":
        seen.authors[identifier] = author
    elif kind == "ClaimWithdrawal":
        seen.withdrawals[str(document["claim"])] = (index, identifier)
    elif kind == "OperatorRegistration":
        seen.registrations[author] = identifier
    elif kind == "ManifestRecord":
        seen.manifests[identifier] = str(document.get("manifest"))


async def _check_rows(seen: _Seen) -> int:
    """Every cached row equals the entry it caches, and every entry that needs a row has one."""
    checked = 0
    tables: list[tuple[Any, str, str]] = [
        (ClaimRecord, "id", "Claim"),
        (WithdrawalRecord, "id", "ClaimWithdrawal"),
        (NoticeRecord, "id", "Notice"),
        (NoticeEventRecord, "id", "NoticeResponse"),
        (DisputeRecord, "id", "Dispute"),
        (OperatorRecord, "registration_id", "OperatorRegistration"),
    ]
    for model, id_field, kind in tables:
        ids: set[str] = set()
        for row in await model.all().values(id_field, "document", "log_index"):
            identifier = str(row[id_field])
            logged = seen.by_id.get(identifier)
            if logged is None or logged[1] != kind or logged[0] != int(row["log_index"]):
                raise IntegrityFailure(
                    f"a {model.Meta.table} row ({identifier[:16]}…) caches no {kind} log entry"
                )
            if hashlib.sha256(str(row["document"]).encode()).hexdigest() != identifier:
                raise IntegrityFailure(
                    f"the {model.Meta.table} row of log entry {logged[0]} differs from the entry", logged[0]
                )
            ids.add(identifier)
            checked += 1
        expected = {i for i, (_, k) in seen.by_id.items() if k == kind}
        if kind == "OperatorRegistration":
            expected = set(seen.registrations.values())
        missing = sorted(expected - ids, key=lambda i: seen.by_id[i][0])
        if missing:
            first = seen.by_id[missing[0]][0]
            raise IntegrityFailure(f"log entry {first} ({kind}) has no {model.Meta.table} row", first)
    # what rows add beside the documents, as a replay of the log implies it
    for row in await ClaimRecord.all().values("id", "claimant", "withdrawal_id", "withdrawal_log_index"):
        claimant = seen.authors.get(str(row["id"]))
        index = seen.by_id[str(row["id"])][0]
        if row["claimant"] != claimant:
            raise IntegrityFailure(f"the claims row of log entry {index} names another claimant", index)
        logged = seen.withdrawals.get(str(row["id"]))
        stored = (row["withdrawal_log_index"], row["withdrawal_id"])
        if (logged is None and stored != (None, None)) or (
            logged is not None and (int(stored[0] or -1), stored[1]) != logged
        ):
            raise IntegrityFailure(
                f"the claims row of log entry {index} says {'withdrawn' if stored[1] else 'active'}, "
                f"the log says {'withdrawn' if logged else 'active'}",
                index,
            )
    for row in await WithdrawalRecord.all().values("id", "claim_id"):
        index = seen.by_id[str(row["id"])][0]
        if seen.withdrawals.get(str(row["claim_id"]), (None, None))[1] != row["id"]:
            raise IntegrityFailure(f"the withdrawals row of log entry {index} names another claim", index)
    for row in await NoticeRecord.all().values("id", "state", "notifier", "operator"):
        _replay_notice(row, await NoticeEventRecord.filter(notice_id=row["id"]).order_by("sequence"), seen)
    checked += await _check_manifests(seen)
    used = {(str(a), str(n)) for a, n in await UsedNonce.all().values_list("author", "nonce")}
    lost = seen.nonces - used
    if lost:
        raise IntegrityFailure(f"{len(lost)} used nonces were deleted: their documents could be replayed")
    return checked


async def _check_manifests(seen: _Seen) -> int:
    """Every kept manifest is the one its logged `ManifestRecord` names, and every record has it."""
    rows = await ManifestRow.all().values("sha256", "record_id", "document", "log_index")
    for row in rows:
        logged = seen.by_id.get(str(row["record_id"]))
        if logged != (int(row["log_index"]), "ManifestRecord") or seen.manifests.get(
            str(row["record_id"])
        ) != str(row["sha256"]):
            raise IntegrityFailure(
                f"a manifests row ({str(row['sha256'])[:16]}…) caches no ManifestRecord entry"
            )
        if hashlib.sha256(str(row["document"]).encode()).hexdigest() != row["sha256"]:
            raise IntegrityFailure(
                f"the manifest kept for log entry {logged[0]} is not the one it records", logged[0]
            )
    missing = set(seen.manifests) - {str(row["record_id"]) for row in rows}
    if missing:
        first = min(seen.by_id[identifier][0] for identifier in missing)
        raise IntegrityFailure(f"log entry {first} (ManifestRecord) has no manifests row", first)
    return len(rows)


def _replay_notice(notice: Mapping[str, Any], events: list[NoticeEventRecord], seen: _Seen) -> None:
    """A notice's state is what its logged steps lead to by the lifecycle's rules, from `filed`."""
    index = seen.by_id[str(notice["id"])][0]
    state = "filed"
    for event in events:
        step = json.loads(event.document)
        at = int(event.log_index)
        if (event.action, event.by) != (step.get("action"), step.get("by")) or step.get("notice") != notice[
            "id"
        ]:
            raise IntegrityFailure(f"the notice_events row of log entry {at} is not the step it caches", at)
        party = {notice["notifier"]: "notifier", notice["operator"]: "operator"}.get(event.by, event.party)
        try:
            target = transition(state, event.action, party)  # type: ignore[arg-type]
        except RegistryError:
            target = None
        if event.from_state != state or event.to_state != target:
            raise IntegrityFailure(
                f"the notice_events row of log entry {at} says {event.from_state} → {event.to_state}; "
                f"replaying the notice's logged steps gives {state} → {target}",
                at,
            )
        state = target
    if notice["state"] != state:
        raise IntegrityFailure(
            f"the notices row of log entry {index} says {notice['state']}; its logged steps lead to {state}",
            index,
        )


# ------------------------------------------------------------------ the mark


def read_mark(data_dir: Path, log: TransparencyLog) -> Checkpoint | None:
    """The checkpoint verified last time, if its signature by this registry holds (else a failure)."""
    path = data_dir / MARK_FILE
    if not path.exists():
        return None
    try:
        note = open_note(path.read_text(encoding="utf-8"), [log.signer.verifier])
        checkpoint = Checkpoint.parse(note.text)
    except (InvalidNote, InvalidCheckpoint, OSError, UnicodeDecodeError) as exc:
        raise IntegrityFailure(f"the verification mark {path} does not verify: {exc}") from None
    if checkpoint.origin != log.origin:
        raise IntegrityFailure(f"the verification mark {path} is for the log {checkpoint.origin}")
    return checkpoint


async def write_mark(data_dir: Path, log: TransparencyLog, tree_size: int) -> None:
    """Sign and keep the checkpoint just verified (atomically: a crash leaves the old mark)."""
    note = log.checkpoint_note(tree_size, await log.root(tree_size))
    path = data_dir / MARK_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(note, encoding="utf-8")
    temporary.replace(path)

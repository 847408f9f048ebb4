"""The transparency log: every accepted document, append-only, RFC 9162 hashing, in the database.

Appends run inside the caller's transaction, so a state change and its log entry commit or vanish
together. They are serialised by the database: on PostgreSQL a transaction-scoped advisory lock,
on SQLite the single connection's transaction lock; the leaf index is also the primary key, so two
appends can never take the same index even if that serialisation were lost.

Complete aligned subtrees are stored as they complete (`TreeNode`), so a root, a proof or a tile
is one query for a few dozen hashes, whatever the size of the log.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise import connections

from keys import merkle
from keys.note import Checkpoint, NoteSigner, sign_note
from registry.models import LogEntry, TreeNode
from registry.rows import insert_rows, select_rows

ADVISORY_LOCK = 0x6B6F746F77617269  # "kotowari"
TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_ENTRY_BYTES = 0xFFFF  # entry bundles prefix each entry with a big-endian uint16 length
_LEVEL_SHIFT = 56


def node_id(level: int, index: int) -> int:
    return (level << _LEVEL_SHIFT) | index


def _perfect_cover(start: int, end: int) -> Iterable[tuple[int, int]]:
    """The complete aligned subtrees whose hashes make up the RFC 9162 hash of leaves [start, end)."""
    size = end - start
    if size & (size - 1) == 0 and start % size == 0:
        level = size.bit_length() - 1
        yield level, start >> level
        return
    split = 1 << ((size - 1).bit_length() - 1)
    yield from _perfect_cover(start, start + split)
    yield from _perfect_cover(start + split, end)


def inclusion_proofs(
    subtree_hash: merkle.SubtreeHash, first: int, end: int, tree_size: int
) -> list[list[bytes]]:
    """`merkle.inclusion_proof_from` for every leaf in [first, end) of a tree of `tree_size`, in order.

    One walk down the tree for the whole range: the proofs of a batch's consecutive leaves share
    all but their lowest siblings, so each sibling is asked for once, not once per leaf (a pooled
    batch's per-leaf walks cost more than its SQL). Every proof is the same list the per-leaf call
    returns (tests/registry/test_filing_fast.py)."""
    if not 0 <= first <= end <= tree_size:
        raise ValueError(f"leaves [{first}, {end}) are not in a tree of size {tree_size}")
    proofs: list[list[bytes]] = []

    def walk(start: int, stop: int, path: list[bytes]) -> None:
        # [start, stop) meets [first, end); `path` holds its siblings, root first.
        if stop - start == 1:
            proofs.append(path[::-1])
            return
        middle = start + (1 << ((stop - start - 1).bit_length() - 1))
        if first < middle:
            walk(start, middle, [*path, subtree_hash(middle, stop)])
        if middle < end:
            walk(middle, stop, [*path, subtree_hash(start, middle)])

    if first < end:
        walk(0, tree_size, [])
    return proofs


class _Nodes:
    """Subtree hashes from stored complete subtrees; `needed` collects what a computation asks for.

    The proofs of a batch's entries all end in the same few ragged subtrees at the tree's right
    edge, so both `record` and `subtree_hash` remember the ranges they have done (per batch: the
    hashes they stand on do not change while one `_Nodes` lives)."""

    def __init__(self) -> None:
        self.hashes: dict[int, bytes] = {}
        self.needed: set[int] = set()
        self._recorded: set[tuple[int, int]] = set()
        self._ragged: dict[tuple[int, int], bytes] = {}

    def record(self, start: int, end: int) -> bytes:
        if (start, end) not in self._recorded:
            self._recorded.add((start, end))
            self.needed.update(node_id(level, index) for level, index in _perfect_cover(start, end))
        return bytes(merkle.HASH_SIZE)

    def subtree_hash(self, start: int, end: int) -> bytes:
        size = end - start
        if size & (size - 1) == 0 and start % size == 0:
            level = size.bit_length() - 1
            return self.hashes[node_id(level, start >> level)]
        found = self._ragged.get((start, end))
        if found is None:
            split = 1 << ((size - 1).bit_length() - 1)
            found = self._ragged[(start, end)] = merkle.node_hash(
                self.subtree_hash(start, start + split), self.subtree_hash(start + split, end)
            )
        return found

    async def load(self) -> None:
        missing = sorted(self.needed - self.hashes.keys())
        for begin in range(0, len(missing), 900):
            ids = missing[begin : begin + 900]
            marks = ",".join("?" * len(ids))
            sql = f'SELECT "id", "hash" FROM "tree_nodes" WHERE "id" IN ({marks})'
            rows = await select_rows(TreeNode, sql, ids)
            self.hashes.update({int(node): bytes(digest) for node, digest in rows})
        if not self.needed <= self.hashes.keys():
            raise LookupError("the log is missing subtree hashes it should have")


@dataclass(frozen=True)
class Appended:
    """Where an entry went: its index, the tree just after its batch (size, root) and its inclusion
    proof in that tree."""

    index: int
    tree_size: int
    root: bytes
    leaf_hash: bytes
    inclusion_proof: list[bytes]


class LogOutOfRange(ValueError):
    """A tree size, index or tile beyond the log as it is."""


class TransparencyLog:
    """The registry's log, named by its `origin` and signed with the registry's note key."""

    def __init__(self, origin: str, signer: NoteSigner) -> None:
        self.origin = origin
        self.signer = signer
        self._last_note: tuple[int, bytes, str] | None = None
        #: (first index, leaf hashes joined) of every batch this process appended: documents whose
        #: signatures it checked at intake, so the verification mark may advance over them.
        self._appended: list[tuple[int, bytes]] = []

    @property
    def verifier_key(self) -> str:
        """The note verifier key in the `name+keyid+base64` form clients pin."""
        from keys.note import verifier_key

        return verifier_key(self.signer.name, self.signer.private_key.public_key())

    async def size(self) -> int:
        ((last,),) = await select_rows(LogEntry, 'SELECT MAX("index") FROM "log_entries"')
        return 0 if last is None else int(last) + 1

    async def append(self, kind: str, document_id: str, entry: bytes, now: datetime) -> Appended:
        """Append one entry; call inside the transaction that makes the matching state change."""
        (appended,) = await self.append_batch([(kind, document_id, entry, now)])
        return appended

    async def append_batch(self, entries: Sequence[tuple[str, str, bytes, datetime]]) -> list[Appended]:
        """Append (kind, document id, entry, appended at) in order, in the caller's transaction.

        The whole batch costs one read (every stored hash the new subtrees, the new root and the
        entries' inclusion proofs need) and one write each for the entries and the subtrees they
        complete, so pooled filings share it (group commit). Every entry's proof is against the
        tree just after the batch, so one checkpoint serves the whole batch.
        """
        if not entries:
            return []
        if any(len(entry) > MAX_ENTRY_BYTES for _, _, entry, _ in entries):
            raise ValueError(f"log entries are at most {MAX_ENTRY_BYTES} bytes")
        connection = connections.get("default")
        if connection.capabilities.dialect == "postgres":
            await connection.execute_query("SELECT pg_advisory_xact_lock($1)", [ADVISORY_LOCK])
        start = await self.size()
        tree_size = start + len(entries)
        chains = [
            [(level, index >> level) for level in range((index ^ (index + 1)).bit_length())]
            for index in range(start, tree_size)
        ]
        created = {node_id(level, position) for chain in chains for level, position in chain}
        nodes = _Nodes()
        nodes.record(0, tree_size)
        inclusion_proofs(nodes.record, start, tree_size, tree_size)
        nodes.needed.update(
            node_id(level, position - 1) for chain in chains for level, position in chain[:-1]
        )
        nodes.needed -= created
        await nodes.load()

        leaves = [merkle.leaf_hash(entry) for _, _, entry, _ in entries]
        for index, chain, leaf in zip(range(start, tree_size), chains, leaves, strict=True):
            digest = nodes.hashes[node_id(0, index)] = leaf
            for level, position in chain[:-1]:
                digest = merkle.node_hash(nodes.hashes[node_id(level, position - 1)], digest)
                nodes.hashes[node_id(level + 1, position >> 1)] = digest
        await insert_rows(
            LogEntry,
            [
                {
                    "index": index,
                    "document_id": document_id,
                    "kind": kind,
                    "entry": entry,
                    "leaf_hash": leaf,
                    "leaf_hash_hex": leaf.hex(),
                    "appended_at": appended_at,
                }
                for index, (kind, document_id, entry, appended_at), leaf in zip(
                    range(start, tree_size), entries, leaves, strict=True
                )
            ],
        )
        await insert_rows(TreeNode, [{"id": node, "hash": nodes.hashes[node]} for node in sorted(created)])
        self._appended.append((start, b"".join(leaves)))  # rolled back: checked against the rows later
        root = nodes.subtree_hash(0, tree_size)
        proofs = inclusion_proofs(nodes.subtree_hash, start, tree_size, tree_size)
        return [
            Appended(index=index, tree_size=tree_size, root=root, leaf_hash=leaf, inclusion_proof=proof)
            for index, leaf, proof in zip(range(start, tree_size), leaves, proofs, strict=True)
        ]

    async def verified_through(self, start: int) -> int:
        """How far the log's first `start` entries (verified) extend with entries this process
        appended itself, each still holding the leaf it appended (a rolled-back batch, or an entry
        another worker wrote, ends the run): the tree size a verification mark may now name."""
        leaves = {
            first + n: joined[n * merkle.HASH_SIZE : (n + 1) * merkle.HASH_SIZE]
            for first, joined in self._appended
            for n in range(len(joined) // merkle.HASH_SIZE)
            if first + n >= start
        }
        position = start
        while position in leaves:
            rows = await (
                LogEntry.filter(index__gte=position, index__lt=position + 2_000)
                .order_by("index")
                .values_list("index", "leaf_hash")
            )
            for index, leaf in rows:
                if int(str(index)) != position or leaves.get(position) != bytes(leaf):
                    return position
                position += 1
            if len(rows) < 2_000:
                break
        return position

    async def root(self, tree_size: int) -> bytes:
        if tree_size == 0:
            return merkle.EMPTY_ROOT
        nodes = _Nodes()
        nodes.record(0, tree_size)
        await nodes.load()
        return nodes.subtree_hash(0, tree_size)

    async def _check_size(self, tree_size: int) -> int:
        current = await self.size()
        if not 0 <= tree_size <= current:
            raise LogOutOfRange(f"tree_size {tree_size} is beyond the log's size {current}")
        return current

    async def inclusion_proof(self, index: int, tree_size: int) -> list[bytes]:
        await self._check_size(tree_size)
        if not 0 <= index < tree_size:
            raise LogOutOfRange(f"leaf index {index} is not in a tree of size {tree_size}")
        nodes = _Nodes()
        merkle.inclusion_proof_from(nodes.record, index, tree_size)
        await nodes.load()
        return merkle.inclusion_proof_from(nodes.subtree_hash, index, tree_size)

    async def consistency_proof(self, first: int, second: int) -> list[bytes]:
        await self._check_size(second)
        if not 0 <= first <= second:
            raise LogOutOfRange(f"first {first} must lie between 0 and second {second}")
        if first in (0, second):
            return []
        nodes = _Nodes()
        merkle.consistency_proof_from(nodes.record, first, second)
        await nodes.load()
        return merkle.consistency_proof_from(nodes.subtree_hash, first, second)

    async def index_of(self, leaf_hash: bytes) -> int | None:
        found = await LogEntry.filter(leaf_hash_hex=leaf_hash.hex()).first().values_list("index", flat=True)
        return None if found is None else int(str(found))

    def checkpoint_note(self, tree_size: int, root: bytes) -> str:
        """The C2SP checkpoint for (size, root), signed as a C2SP signed note.

        Ed25519 signatures are deterministic, so the last note is kept: every receipt of a batch
        carries the same checkpoint, signed once."""
        last = self._last_note
        if last is not None and last[0] == tree_size and last[1] == root:
            return last[2]
        note = sign_note(Checkpoint(self.origin, tree_size, root).to_text(), [self.signer])
        self._last_note = (tree_size, root, note)
        return note

    async def latest_checkpoint(self) -> str:
        size = await self.size()
        return self.checkpoint_note(size, await self.root(size))

    async def hash_tile(self, level: int, index: int, width: int) -> bytes:
        """C2SP tlog-tiles hash tile: `width` hashes at tree level 8·level from 256·index."""
        first = index * TILE_WIDTH
        if ((first + width) << (TILE_HEIGHT * level)) > await self.size():
            raise LogOutOfRange("that tile lies beyond the log")
        ids = [node_id(TILE_HEIGHT * level, first + offset) for offset in range(width)]
        rows = dict(await TreeNode.filter(id__in=ids).values_list("id", "hash"))
        return b"".join(bytes(rows[node]) for node in ids)

    async def entry_bundle(self, index: int, width: int) -> bytes:
        """C2SP tlog-tiles entry bundle: each entry prefixed by its big-endian uint16 length."""
        first = index * TILE_WIDTH
        if first + width > await self.size():
            raise LogOutOfRange("that entry bundle lies beyond the log")
        rows = await (
            LogEntry.filter(index__gte=first, index__lt=first + width)
            .order_by("index")
            .values_list("entry", flat=True)
        )
        return b"".join(len(entry).to_bytes(2, "big") + bytes(entry) for entry in rows)

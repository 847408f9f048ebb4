"""Batched appends (group commit) build exactly the tree that one-by-one appends build.

Checked against the reference RFC 9162 computation in `keys.merkle`: after every batch the root,
each entry's inclusion proof (against the tree just after its batch) and the stored tiles agree.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from tortoise import Tortoise
from tortoise.transactions import in_transaction

import keys
from keys import merkle
from registry.identity import note_signer
from registry.log import TILE_WIDTH, TransparencyLog

MODELS = ["registry.models"]


async def _run(batches: list[int]) -> None:
    await Tortoise.init(db_url="sqlite://:memory:", modules={"models": MODELS})
    await Tortoise.generate_schemas()
    try:
        key = keys.SigningKey.generate()
        log = TransparencyLog("test.example/log", note_signer(key, "test.example/log"))
        leaves: list[bytes] = []
        now = datetime.now(UTC)
        for size in batches:
            entries = [f'{{"n":{len(leaves) + n}}}'.encode() for n in range(size)]
            async with in_transaction():
                appended = await log.append_batch(
                    [("Test", f"{len(leaves) + n:064x}", entry, now) for n, entry in enumerate(entries)]
                )
            leaves += [merkle.leaf_hash(entry) for entry in entries]
            root = merkle.root_from_leaf_hashes(leaves)
            assert await log.size() == len(leaves)
            assert await log.root(len(leaves)) == root
            for entry, where in zip(entries, appended, strict=True):
                assert where.tree_size == len(leaves) and where.root == root
                assert where.leaf_hash == merkle.leaf_hash(entry)
                merkle.verify_inclusion(
                    where.leaf_hash, where.index, len(leaves), where.inclusion_proof, root
                )
            for index in range(len(leaves) // TILE_WIDTH):
                tile = await log.hash_tile(0, index, TILE_WIDTH)
                assert tile == b"".join(leaves[index * TILE_WIDTH : (index + 1) * TILE_WIDTH])
        if leaves:
            for index in (0, len(leaves) // 2, len(leaves) - 1):
                proof = await log.inclusion_proof(index, len(leaves))
                merkle.verify_inclusion(leaves[index], index, len(leaves), proof, root)
    finally:
        await Tortoise.close_connections()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=70), min_size=1, max_size=8))
def test_batches_of_any_size_make_the_reference_tree(batches: list[int]) -> None:
    asyncio.run(_run(batches))


def test_a_batch_that_crosses_full_tiles() -> None:
    asyncio.run(_run([3, 300, 1, 212]))

"""RFC 9162 inclusion and consistency proofs computed from C2SP tlog-tiles hash tiles.

A static copy of the log (`kotowari publish`) answers no `/v1/log/proof/...` query, but its hash
tiles hold every complete subtree hash a proof is made of: a subtree of height h is a hash of the
level-⌊h/8⌋ tile, hashed up h mod 8 times from 2^(h mod 8) neighbours in one tile. So a client
computes the proof the registry would have given, from the tiles of the larger tree size, and then
verifies it against the signed roots as always: nothing here is trusted more than the registry's
own proof would be.

The computation is a generator that yields tile paths and receives their bytes (the `Flow` shape of
`crawler_client.core`), so the sync and async clients and the auditor drive the same code:

>>> from keys import merkle
>>> leaves = [merkle.leaf_hash(bytes([n])) for n in range(5)]
>>> tiles = {"/log/tile/0/000.p/5": b"".join(leaves)}
>>> run_with(consistency_proof(2, 5), tiles.__getitem__) == merkle.consistency_proof(leaves, 2, 5)
True
"""

from __future__ import annotations

from collections.abc import Callable, Generator

from crawler_client.audit.tiles import HEIGHT, WIDTH, MalformedTile, tile_path
from keys import merkle

__all__ = ["TileFlow", "consistency_proof", "inclusion_proof", "run_with"]

TileFlow = Generator[str, bytes, list[bytes]]
"""Yields the path of each hash tile it needs, receives the tile's bytes; returns the proof."""

_HASH = merkle.HASH_SIZE


def _nodes(start: int, end: int, into: set[tuple[int, int]]) -> None:
    """The complete subtrees (height, index) whose hashes make MTH(D[start:end])."""
    size = end - start
    if size & (size - 1) == 0 and start % size == 0:
        into.add((size.bit_length() - 1, start // size))
        return
    k = 1 << ((size - 1).bit_length() - 1)
    _nodes(start, start + k, into)
    _nodes(start + k, end, into)


def _tile_of(height: int, index: int, tree_size: int) -> tuple[int, int, int]:
    """(level, tile index, width) of the tile, in the tree of `tree_size`, holding node (height, index)."""
    level, above = divmod(height, HEIGHT)
    first = index << above  # its first hash at the tile's level
    number = first // WIDTH
    width = min(WIDTH, (tree_size >> (HEIGHT * level)) - number * WIDTH)
    return level, number, width


def _proof(plan: Callable[[Callable[[int, int], bytes]], list[bytes]], tree_size: int) -> TileFlow:
    """Run `plan` (a proof over a subtree-hash function) twice: once to learn which nodes it needs,
    then with their hashes from the tiles fetched."""
    wanted: set[tuple[int, int]] = set()

    def record(start: int, end: int) -> bytes:
        _nodes(start, end, wanted)
        return bytes(_HASH)

    plan(record)
    tiles: dict[tuple[int, int, int], bytes] = {}
    for height, index in sorted(wanted):
        where = _tile_of(height, index, tree_size)
        if where not in tiles:
            path = tile_path(*where)
            data = yield path
            if len(data) != where[2] * _HASH:
                raise MalformedTile(
                    f"{path} is {len(data)} bytes, not the {where[2] * _HASH} of {where[2]} hashes"
                )
            tiles[where] = data

    def node(height: int, index: int) -> bytes:
        level, number, _width = where = _tile_of(height, index, tree_size)
        above = height - HEIGHT * level
        offset = (index << above) - number * WIDTH
        data = tiles[where]
        hashes = [data[(offset + n) * _HASH : (offset + n + 1) * _HASH] for n in range(1 << above)]
        while len(hashes) > 1:
            hashes = [merkle.node_hash(hashes[n], hashes[n + 1]) for n in range(0, len(hashes), 2)]
        return hashes[0]

    def subtree(start: int, end: int) -> bytes:
        size = end - start
        if size & (size - 1) == 0 and start % size == 0:
            return node(size.bit_length() - 1, start // size)
        k = 1 << ((size - 1).bit_length() - 1)
        return merkle.node_hash(subtree(start, start + k), subtree(start + k, end))

    return plan(subtree)


def consistency_proof(first: int, second: int) -> TileFlow:
    """PROOF(first, D[second]) from the hash tiles of the tree of size `second`."""
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from size {first} to {second}")
    return (yield from _proof(lambda hashes: merkle.consistency_proof_from(hashes, first, second), second))


def inclusion_proof(index: int, tree_size: int) -> TileFlow:
    """PATH(index, D[tree_size]) from the hash tiles of the tree of size `tree_size`."""
    if not 0 <= index < tree_size:
        raise ValueError(f"leaf {index} is not in a tree of size {tree_size}")
    return (
        yield from _proof(lambda hashes: merkle.inclusion_proof_from(hashes, index, tree_size), tree_size)
    )


def run_with(flow: TileFlow, fetch: Callable[[str], bytes]) -> list[bytes]:
    """Drive `flow` with a blocking `fetch(path) -> bytes` (the auditor's; tests pass a dict's)."""
    try:
        path = next(flow)
        while True:
            path = flow.send(fetch(path))
    except StopIteration as done:
        proof: list[bytes] = done.value
        return proof

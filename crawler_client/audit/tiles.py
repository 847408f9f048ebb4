"""C2SP tlog-tiles arithmetic for the auditor: tile paths, entry bundles, and the Merkle tree the
mirrored entries imply (every complete node, so any tile, or the root at any size, is a lookup).

Pure: no I/O. A hash tile at level L holds the hashes of the complete subtrees of height 8·L
(level 0: the leaf hashes), 256 to a tile; an entry bundle holds 256 entries, each prefixed by its
big-endian uint16 length. A tile or bundle that is not full is "partial", named `.p/W`.

>>> tile_path(0, 1234067, 5)
'/log/tile/0/x001/x234/067.p/5'
>>> tree = Tree()
>>> for n in range(3):
...     tree.append(merkle.leaf_hash(bytes([n])))
>>> tree.root(3) == merkle.root_from_leaf_hashes([merkle.leaf_hash(bytes([n])) for n in range(3)])
True
"""

from __future__ import annotations

from collections.abc import Iterator

from keys import merkle

__all__ = [
    "HEIGHT",
    "WIDTH",
    "MalformedTile",
    "Tree",
    "bundle_path",
    "changed_tiles",
    "parse_bundle",
    "tile_path",
]

HEIGHT = 8
WIDTH = 1 << HEIGHT
_HASH = merkle.HASH_SIZE


class MalformedTile(ValueError):
    """A tile or entry bundle whose bytes are not what tlog-tiles allows (wrong length, truncated,
    trailing bytes)."""


def _index_path(index: int) -> str:
    digits = str(index)
    digits = digits.zfill(-(-len(digits) // 3) * 3)
    groups = [digits[n : n + 3] for n in range(0, len(digits), 3)]
    return "/".join([*(f"x{group}" for group in groups[:-1]), groups[-1]])


def _suffix(width: int) -> str:
    return "" if width == WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int) -> str:
    """The path of hash tile `level`/`index` with `width` hashes (1 to 256)."""
    return f"/log/tile/{level}/{_index_path(index)}{_suffix(width)}"


def bundle_path(index: int, width: int) -> str:
    """The path of entry bundle `index` with `width` entries (1 to 256)."""
    return f"/log/tile/entries/{_index_path(index)}{_suffix(width)}"


def parse_bundle(data: bytes, width: int, name: str = "entry bundle") -> list[bytes]:
    """The `width` entries of an entry bundle; `MalformedTile` unless exactly that many are there."""
    entries: list[bytes] = []
    position, size = 0, len(data)
    while position < size:
        if position + 2 > size:
            raise MalformedTile(f"{name} is truncated inside entry {len(entries)}'s length")
        length = int.from_bytes(data[position : position + 2], "big")
        end = position + 2 + length
        if end > size:
            raise MalformedTile(f"{name} is truncated inside entry {len(entries)}")
        entries.append(data[position + 2 : end])
        position = end
    if len(entries) != width:
        raise MalformedTile(f"{name} holds {len(entries)} entries, not {width}")
    return entries


def changed_tiles(level: int, old_size: int, new_size: int) -> Iterator[tuple[int, int]]:
    """(index, width) of the level-`level` hash tiles that a tree of `new_size` has and one of
    `old_size` had not, or had only partially: the tiles to fetch after `old_size` was audited."""
    shift = HEIGHT * level
    before, after = old_size >> shift, new_size >> shift
    if after <= before:
        return
    for index in range(before // WIDTH, (after - 1) // WIDTH + 1):
        yield index, min(WIDTH, after - index * WIDTH)


class Tree:
    """Every complete node of the RFC 9162 tree over the leaves appended so far, by height.

    Memory is about twice the leaf hashes (64 bytes per entry), and appending is amortised O(1).
    """

    def __init__(self) -> None:
        self._levels: list[bytearray] = [bytearray()]

    @property
    def size(self) -> int:
        return len(self._levels[0]) // _HASH

    def append(self, leaf: bytes) -> None:
        """Add the next leaf hash, and every node it completes."""
        index = self.size
        self._levels[0] += leaf
        height = 0
        while index & 1:
            level = self._levels[height]
            start = (index - 1) * _HASH
            combined = merkle.node_hash(bytes(level[start : start + _HASH]), bytes(level[start + _HASH :]))
            height += 1
            if height == len(self._levels):
                self._levels.append(bytearray())
            self._levels[height] += combined
            index >>= 1

    def truncate(self, size: int) -> None:
        """Forget the leaves from `size` on (and the nodes they completed)."""
        for height, level in enumerate(self._levels):
            del level[(size >> height) * _HASH :]

    def node(self, height: int, index: int) -> bytes:
        """The hash of complete subtree `index` of height `height` (leaves index·2^h onwards)."""
        start = index * _HASH
        return bytes(self._levels[height][start : start + _HASH])

    def leaf(self, index: int) -> bytes:
        return self.node(0, index)

    def root(self, size: int) -> bytes:
        """MTH of the first `size` leaves (`size` at most `self.size`)."""
        if not 0 <= size <= self.size:
            raise ValueError(f"the tree holds {self.size} leaves, not {size}")
        if size == 0:
            return merkle.EMPTY_ROOT
        nodes: list[bytes] = []
        start = 0
        for height in range(size.bit_length() - 1, -1, -1):
            if size >> height & 1:
                nodes.append(self.node(height, start >> height))
                start += 1 << height
        digest = nodes[-1]
        for left in reversed(nodes[:-1]):
            digest = merkle.node_hash(left, digest)
        return digest

    def tile(self, level: int, index: int, width: int) -> bytes:
        """Hash tile `level`/`index` of `width` hashes, as the leaves imply it."""
        height = HEIGHT * level
        start = index * WIDTH * _HASH
        return (
            bytes(self._levels[height][start : start + width * _HASH]) if height < len(self._levels) else b""
        )

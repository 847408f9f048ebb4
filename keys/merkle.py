"""RFC 9162 (Certificate Transparency v2) Merkle tree hashing, section 2.1: the log's arithmetic.

Every accepted document becomes a leaf of an append-only Merkle log. These functions compute the
tree head, produce inclusion and consistency proofs, and verify them exactly as RFC 9162
§2.1.3.2 and §2.1.4.2 describe, so that any CT / C2SP tooling agrees with us bit for bit.

Proof generation comes in two shapes. The list-based `inclusion_proof` and `consistency_proof`
take every leaf hash; the `*_from` variants take a callable `subtree_hash(start, end)` that
returns the hash of leaves [start, end), so a server can answer from stored subtree hashes
(tiles) without loading the whole log. Every range asked for is a node of the tree: either a
perfect subtree (a power-of-two number of leaves starting at a multiple of that power) or the
rightmost, incomplete subtree, which always ends at the tree size the proof is for.

Verification raises `InvalidMerkleProof` and never returns a boolean to forget to check.

>>> leaves = [leaf_hash(bytes([i])) for i in range(5)]
>>> root = root_from_leaf_hashes(leaves)
>>> verify_inclusion(leaves[3], 3, 5, inclusion_proof(leaves, 3, 5), root)
>>> old_root = root_from_leaf_hashes(leaves[:2])
>>> verify_consistency(2, 5, old_root, root, consistency_proof(leaves, 2, 5))
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "InvalidMerkleProof",
    "SubtreeHash",
    "consistency_proof",
    "consistency_proof_from",
    "inclusion_proof",
    "inclusion_proof_from",
    "leaf_hash",
    "node_hash",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""SHA-256 output size: every leaf hash, node hash, root and proof element is this long."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) = SHA-256(""), the root of the empty tree (RFC 9162 §2.1.1)."""

SubtreeHash = Callable[[int, int], bytes]
"""`subtree_hash(start, end)` returns MTH of leaves [start, end); see the module docstring."""


class InvalidMerkleProof(Exception):
    """A Merkle inclusion or consistency proof does not check out; the message says which part."""


def leaf_hash(entry: bytes) -> bytes:
    """SHA-256(0x00 || entry): the 0x00 prefix keeps a leaf from passing for an interior node."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right), the hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2): where MTH splits D[n]."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) from the n leaf hashes (RFC 9162 §2.1.1); EMPTY_ROOT when there are none."""
    n = len(hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return hashes[0]
    k = _split(n)
    return node_hash(root_from_leaf_hashes(hashes[:k]), root_from_leaf_hashes(hashes[k:]))


def _check_size(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")


def inclusion_proof_from(subtree_hash: SubtreeHash, index: int, tree_size: int) -> list[bytes]:
    """PATH(index, D[tree_size]) (RFC 9162 §2.1.3.1), leaf-level sibling first, from subtree hashes.

    Raises ValueError unless 0 <= index < tree_size: there is no proof to give.
    """
    _check_size("index", index)
    _check_size("tree_size", tree_size)
    if index >= tree_size:
        raise ValueError(f"index {index} is not in a tree of size {tree_size}")
    path: list[bytes] = []
    start, end, m = 0, tree_size, index
    # Walk from the root down to the leaf; the siblings are found root-first, the proof wants them
    # leaf-first, so collect and reverse.
    while end - start > 1:
        k = _split(end - start)
        if m < k:
            path.append(subtree_hash(start + k, end))
            end = start + k
        else:
            path.append(subtree_hash(start, start + k))
            start, m = start + k, m - k
    path.reverse()
    return path


def consistency_proof_from(subtree_hash: SubtreeHash, first: int, second: int) -> list[bytes]:
    """PROOF(first, D[second]) (RFC 9162 §2.1.4.1) from subtree hashes.

    RFC 9162 defines the proof for 0 < first < second only. For first == 0 (every tree extends
    the empty one) and first == second (a tree extends itself) there is nothing to prove and the
    proof is empty, as transparency-dev/merkle and C2SP merkle-tree also do. Raises ValueError
    when first > second.
    """
    _check_size("first", first)
    _check_size("second", second)
    if first > second:
        raise ValueError(f"first size {first} is larger than second size {second}")
    if first == 0 or first == second:
        return []
    path: list[bytes] = []
    # SUBPROOF(m, D[start:end], b), unrolled: each step appends one hash, so collect root-first
    # and reverse at the end, exactly as the recursive definition orders them.
    start, end, m, whole_old_tree = 0, second, first, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            path.append(subtree_hash(start + k, end))
            end = start + k
        else:
            path.append(subtree_hash(start, start + k))
            start, m, whole_old_tree = start + k, m - k, False
    if not whole_old_tree:
        # SUBPROOF(m, D[m], false) = {MTH(D[m])}; with b true the verifier already has it.
        path.append(subtree_hash(start, end))
    path.reverse()
    return path


def _list_subtree_hash(leaf_hashes: Sequence[bytes]) -> SubtreeHash:
    def subtree_hash(start: int, end: int) -> bytes:
        return root_from_leaf_hashes(leaf_hashes[start:end])

    return subtree_hash


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, tree_size: int) -> list[bytes]:
    """Inclusion proof for leaf `index` in the tree of the first `tree_size` of `leaf_hashes`.

    Rehashes O(tree_size) nodes; a server with stored subtree hashes uses `inclusion_proof_from`.
    """
    _check_size("tree_size", tree_size)
    if tree_size > len(leaf_hashes):
        raise ValueError(f"tree_size {tree_size} exceeds the {len(leaf_hashes)} leaf hashes given")
    return inclusion_proof_from(_list_subtree_hash(leaf_hashes), index, tree_size)


def consistency_proof(leaf_hashes: Sequence[bytes], first: int, second: int) -> list[bytes]:
    """Consistency proof from tree size `first` to `second` over the given leaf hashes.

    Rehashes O(second) nodes; a server with stored subtree hashes uses `consistency_proof_from`.
    """
    _check_size("second", second)
    if second > len(leaf_hashes):
        raise ValueError(f"second size {second} exceeds the {len(leaf_hashes)} leaf hashes given")
    return consistency_proof_from(_list_subtree_hash(leaf_hashes), first, second)


def _check_claim(name: str, value: int) -> None:
    """Sizes and indexes in a proof come from the other side: a bad one fails the proof."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidMerkleProof(f"{name} is not a non-negative integer")


def _check_hash(what: str, value: bytes) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise InvalidMerkleProof(f"{what} is not a {HASH_SIZE}-byte hash")


def _check_proof(proof: Sequence[bytes]) -> None:
    for i, element in enumerate(proof):
        _check_hash(f"proof element {i}", element)


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that `leaf_hash` is leaf `index` of the tree of `tree_size` with head `root`.

    The algorithm of RFC 9162 §2.1.3.2, step for step. Raises InvalidMerkleProof.
    """
    _check_claim("leaf index", index)
    _check_claim("tree size", tree_size)
    _check_hash("leaf hash", leaf_hash)
    _check_hash("root", root)
    _check_proof(proof)
    # 1. leaf_index >= tree_size fails.
    if index >= tree_size:
        raise InvalidMerkleProof(f"leaf index {index} is not below tree size {tree_size}")
    # 2.-3.
    fn, sn, r = index, tree_size - 1, leaf_hash
    # 4.
    for p in proof:
        if sn == 0:
            raise InvalidMerkleProof("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # "If LSB(fn) is not set, right-shift both until LSB(fn) is set or fn is 0."
            while fn != 0 and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    # 5.
    if sn != 0:
        raise InvalidMerkleProof("inclusion proof is shorter than the tree is deep")
    if r != root:
        raise InvalidMerkleProof("inclusion proof does not lead to the root")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of size `second` with head `second_root` extends the `first` one.

    For 0 < first < second this is RFC 9162 §2.1.4.2 step for step. That section (like §2.1.4.1)
    only covers 0 < first < second; the edge cases are settled as transparency-dev/merkle and
    C2SP merkle-tree do, made strict:
      - first > second is refused (a log does not shrink);
      - first == second needs an empty proof and equal roots;
      - first == 0 needs an empty proof, and first_root must be EMPTY_ROOT, the only head a tree
        of size 0 can have (transparency-dev accepts any first_root here).
    Raises InvalidMerkleProof.
    """
    _check_claim("first size", first)
    _check_claim("second size", second)
    _check_hash("first root", first_root)
    _check_hash("second root", second_root)
    _check_proof(proof)
    if first > second:
        raise InvalidMerkleProof(f"first size {first} is larger than second size {second}")
    if first == second:
        if proof:
            raise InvalidMerkleProof("consistency proof between equal sizes must be empty")
        if first_root != second_root:
            raise InvalidMerkleProof("roots differ for the same tree size")
        if first == 0 and first_root != EMPTY_ROOT:
            raise InvalidMerkleProof("root of the empty tree is not the empty hash")
        return
    if first == 0:
        if proof:
            raise InvalidMerkleProof("consistency proof from the empty tree must be empty")
        if first_root != EMPTY_ROOT:
            raise InvalidMerkleProof("root of the empty tree is not the empty hash")
        return
    # 1. An empty consistency_path fails.
    if not proof:
        raise InvalidMerkleProof("consistency proof is empty")
    path = list(proof)
    # 2. If first is an exact power of 2, prepend first_hash.
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    # 3.
    fn, sn = first - 1, second - 1
    # 4.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5.
    fr = sr = path[0]
    # 6.
    for c in path[1:]:
        if sn == 0:
            raise InvalidMerkleProof("consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn != 0 and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    # 7.
    if sn != 0:
        raise InvalidMerkleProof("consistency proof is shorter than the tree is deep")
    if fr != first_root:
        raise InvalidMerkleProof("consistency proof does not lead to the first root")
    if sr != second_root:
        raise InvalidMerkleProof("consistency proof does not lead to the second root")

"""RFC 9162 Merkle hashing and proofs, pinned to the published Certificate Transparency vectors."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keys.merkle import (
    EMPTY_ROOT,
    InvalidMerkleProof,
    consistency_proof,
    consistency_proof_from,
    inclusion_proof,
    inclusion_proof_from,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

# ----------------------------------------------------------------------------- published vectors
# Copied from transparency-dev/merkle proof/verify_test.go (commit 02194e9a), which carries them over
# from Certificate Transparency's cpp/merkletree/merkle_tree_test.cc. Go's inclusion vectors number
# leaves from 1; the indexes below are the 0-based leaf indexes the RFC and this module use.

LEAF_INPUTS = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
LEAF_HASHES = [leaf_hash(entry) for entry in LEAF_INPUTS]

EMPTY_TREE_HASH = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")

# ROOTS[n - 1] is the root of the tree of the first n leaves.
ROOTS = [
    bytes.fromhex(h)
    for h in [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
]


def _hashes(*hexes: str) -> list[bytes]:
    return [bytes.fromhex(h) for h in hexes]


# (0-based leaf index, tree size, proof)
INCLUSION_PROOFS = [
    (0, 1, []),
    (
        0,
        8,
        _hashes(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        5,
        8,
        _hashes(
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (2, 3, _hashes("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")),
    (
        1,
        5,
        _hashes(
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
]

# (first size, second size, proof)
CONSISTENCY_PROOFS = [
    (1, 1, []),
    (
        1,
        8,
        _hashes(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        6,
        8,
        _hashes(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (
        2,
        5,
        _hashes(
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
    (
        6,
        7,
        _hashes(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
]

# C2SP merkle-tree.md "Example" (7-entry tree): the proofs named by the leaf ranges of their nodes,
# a = [0,1) ... g = [6,7), h = [0,2), i = [2,4), j = [4,6), k = [0,4), l = [4,7).
C2SP_INCLUSION_RANGES = {
    0: [(1, 2), (2, 4), (4, 7)],  # b, i, l
    3: [(2, 3), (0, 2), (4, 7)],  # c, h, l
    4: [(5, 6), (6, 7), (0, 4)],  # f, g, k
    6: [(4, 6), (0, 4)],  # j, k
}
C2SP_CONSISTENCY_RANGES = {
    3: [(2, 3), (3, 4), (0, 2), (4, 7)],  # c, d, h, l
    4: [(4, 7)],  # l
    6: [(4, 6), (6, 7), (0, 4)],  # j, g, k
}


def _flip(proof: Sequence[bytes], i: int, mask: int) -> list[bytes]:
    wrong = list(proof)
    wrong[i] = bytes([wrong[i][0] ^ mask]) + wrong[i][1:]
    return wrong


def _recording(leaves: Sequence[bytes], calls: list[tuple[int, int]]) -> Callable[[int, int], bytes]:
    def subtree_hash(start: int, end: int) -> bytes:
        calls.append((start, end))
        return root_from_leaf_hashes(leaves[start:end])

    return subtree_hash


def _level_by_level_root(hashes: Sequence[bytes]) -> bytes:
    """An independent MTH: pair up each level, promoting a lone last node unchanged."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    level = list(hashes)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


# ----------------------------------------------------------------------------- hashing


def test_empty_root_is_the_hash_of_nothing() -> None:
    assert EMPTY_ROOT == EMPTY_TREE_HASH
    assert root_from_leaf_hashes([]) == EMPTY_TREE_HASH


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert LEAF_HASHES[0].hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()


@pytest.mark.parametrize("size", range(1, 9))
def test_root_of_published_tree_matches_vector(size: int) -> None:
    assert root_from_leaf_hashes(LEAF_HASHES[:size]) == ROOTS[size - 1]


@given(st.integers(min_value=0, max_value=300))
def test_root_agrees_with_level_by_level_hashing(size: int) -> None:
    leaves = [leaf_hash(i.to_bytes(2, "big")) for i in range(size)]
    assert root_from_leaf_hashes(leaves) == _level_by_level_root(leaves)


# ----------------------------------------------------------------------------- inclusion


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_PROOFS)
def test_published_inclusion_proof_is_generated(index: int, size: int, proof: list[bytes]) -> None:
    assert inclusion_proof(LEAF_HASHES, index, size) == proof


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_PROOFS)
def test_published_inclusion_proof_verifies(index: int, size: int, proof: list[bytes]) -> None:
    verify_inclusion(LEAF_HASHES[index], index, size, proof, ROOTS[size - 1])


def _inclusion_tampers(
    index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes
) -> list[tuple[str, int, int, list[bytes], bytes, bytes]]:
    """transparency-dev's corruptInclusionProof probes, every one of which must fail."""
    probes = [
        ("index - 1", index - 1, size, proof, root, leaf),
        ("index + 1", index + 1, size, proof, root, leaf),
        ("index ^ 2", index ^ 2, size, proof, root, leaf),
        ("size * 2", index, size * 2, proof, root, leaf),
        ("size // 2", index, size // 2, proof, root, leaf),
        ("wrong leaf", index, size, proof, root, leaf_hash(b"WrongLeaf")),
        ("short leaf", index, size, proof, root, b"WrongLeaf"),
        ("empty root", index, size, proof, EMPTY_TREE_HASH, leaf),
        ("random root", index, size, proof, SOME_HASH, leaf),
        ("trailing garbage", index, size, [*proof, b""], root, leaf),
        ("trailing root", index, size, [*proof, root], root, leaf),
        ("preceding garbage", index, size, [b"", *proof], root, leaf),
        ("preceding root", index, size, [root, *proof], root, leaf),
    ]
    for i in range(len(proof)):
        probes.append((f"proof[{i}] bit 3 flipped", index, size, _flip(proof, i, 8), root, leaf))
    if proof:
        probes.append(("truncated", index, size, proof[:-1], root, leaf))
    if len(proof) > 1:
        probes.append(("inserted", index, size, [proof[0], SOME_HASH, *proof[1:]], root, leaf))
    return probes


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_PROOFS)
def test_tampered_published_inclusion_proof_is_refused(index: int, size: int, proof: list[bytes]) -> None:
    probes = _inclusion_tampers(index, size, proof, ROOTS[size - 1], LEAF_HASHES[index])
    accepted = []
    for desc, i, n, p, root, leaf in probes:
        try:
            verify_inclusion(leaf, i, n, p, root)
        except InvalidMerkleProof:
            continue
        accepted.append(desc)
    assert accepted == []


def test_single_leaf_tree_needs_the_leaf_as_root_and_no_proof() -> None:
    h = leaf_hash(b"data")
    verify_inclusion(h, 0, 1, [], h)
    for leaf, root in [(h, b""), (b"", h), (b"", b""), (h, leaf_hash(b"other"))]:
        with pytest.raises(InvalidMerkleProof):
            verify_inclusion(leaf, 0, 1, [], root)
    with pytest.raises(InvalidMerkleProof):
        verify_inclusion(h, 0, 1, [h], h)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1), (1, 1)])
def test_inclusion_with_impossible_index_or_empty_tree_is_refused(index: int, size: int) -> None:
    for leaf, root in [(SOME_HASH, b""), (b"", EMPTY_TREE_HASH), (SOME_HASH, EMPTY_TREE_HASH)]:
        with pytest.raises(InvalidMerkleProof):
            verify_inclusion(leaf, index, size, [], root)


@pytest.mark.parametrize("bad", [-1, True, 1.0, "0", None])
def test_inclusion_with_non_integer_index_or_size_is_refused(bad: object) -> None:
    with pytest.raises(InvalidMerkleProof):
        verify_inclusion(LEAF_HASHES[0], bad, 1, [], ROOTS[0])  # type: ignore[arg-type]
    with pytest.raises(InvalidMerkleProof):
        verify_inclusion(LEAF_HASHES[0], 0, bad, [], ROOTS[0])  # type: ignore[arg-type]


def test_inclusion_proof_element_of_wrong_length_is_refused() -> None:
    proof = inclusion_proof(LEAF_HASHES, 2, 8)
    for bad in (proof[0][:31], proof[0] + b"\x00", b""):
        with pytest.raises(InvalidMerkleProof, match="32-byte"):
            verify_inclusion(LEAF_HASHES[2], 2, 8, [bad, *proof[1:]], ROOTS[7])


@pytest.mark.parametrize(("index", "ranges"), sorted(C2SP_INCLUSION_RANGES.items()))
def test_inclusion_proof_asks_for_the_c2sp_example_nodes(index: int, ranges: list[tuple[int, int]]) -> None:
    calls: list[tuple[int, int]] = []
    proof = inclusion_proof_from(_recording(LEAF_HASHES, calls), index, 7)
    assert sorted(calls) == sorted(ranges)
    assert proof == [root_from_leaf_hashes(LEAF_HASHES[a:b]) for a, b in ranges]


def test_inclusion_proof_generation_refuses_impossible_requests() -> None:
    for index, size in [(0, 0), (1, 1), (8, 8), (-1, 3)]:
        with pytest.raises(ValueError):
            inclusion_proof(LEAF_HASHES, index, size)
    with pytest.raises(ValueError):
        inclusion_proof(LEAF_HASHES, 0, 9)  # more leaves than given


# ----------------------------------------------------------------------------- consistency


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY_PROOFS)
def test_published_consistency_proof_is_generated(first: int, second: int, proof: list[bytes]) -> None:
    assert consistency_proof(LEAF_HASHES, first, second) == proof


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY_PROOFS)
def test_published_consistency_proof_verifies(first: int, second: int, proof: list[bytes]) -> None:
    verify_consistency(first, second, ROOTS[first - 1], ROOTS[second - 1], proof)


def _consistency_tampers(
    first: int, second: int, root1: bytes, root2: bytes, proof: list[bytes]
) -> list[tuple[str, int, int, bytes, bytes, list[bytes]]]:
    """transparency-dev's corruptConsistencyProof probes, every one of which must fail."""
    probes = [
        ("first - 1", first - 1, second, root1, root2, proof),
        ("first + 1", first + 1, second, root1, root2, proof),
        ("first ^ 2", first ^ 2, second, root1, root2, proof),
        ("second * 2", first, second * 2, root1, root2, proof),
        ("second // 2", first, second // 2, root1, root2, proof),
        ("wrong root1", first, second, SOME_HASH, root2, proof),
        ("wrong root2", first, second, root1, SOME_HASH, proof),
        ("short root1", first, second, b"WrongRoot", root2, proof),
        ("swapped roots", first, second, root2, root1, proof),
        ("empty proof", first, second, root1, root2, []),
        ("trailing garbage", first, second, root1, root2, [*proof, b""]),
        ("trailing root1", first, second, root1, root2, [*proof, root1]),
        ("trailing root2", first, second, root1, root2, [*proof, root2]),
        ("preceding garbage", first, second, root1, root2, [b"", *proof]),
        ("preceding root1", first, second, root1, root2, [root1, *proof]),
        ("preceding root2", first, second, root1, root2, [root2, *proof]),
        ("preceding proof[0]", first, second, root1, root2, [proof[0], *proof]),
        ("truncated", first, second, root1, root2, proof[:-1]),
    ]
    for i in range(len(proof)):
        probes.append((f"proof[{i}] bit 4 flipped", first, second, root1, root2, _flip(proof, i, 16)))
    return probes


@pytest.mark.parametrize(("first", "second", "proof"), [v for v in CONSISTENCY_PROOFS if v[2]])
def test_tampered_published_consistency_proof_is_refused(first: int, second: int, proof: list[bytes]) -> None:
    probes = _consistency_tampers(first, second, ROOTS[first - 1], ROOTS[second - 1], proof)
    accepted = []
    for desc, m, n, root1, root2, p in probes:
        try:
            verify_consistency(m, n, root1, root2, p)
        except InvalidMerkleProof:
            continue
        accepted.append(desc)
    assert accepted == []


ROOT1 = leaf_hash(b"don't care 1")
ROOT2 = leaf_hash(b"don't care 2")


@pytest.mark.parametrize(
    ("first", "second", "root1", "root2", "proof"),
    [
        # transparency-dev TestVerifyConsistency, the cases it also refuses.
        (0, 0, ROOT1, ROOT2, []),
        (1, 1, ROOT1, ROOT2, []),
        (1, 0, ROOT1, ROOT2, []),  # time travel to the past
        (2, 1, ROOT1, ROOT2, []),
        (1, 2, ROOT1, ROOT2, []),  # empty proof for a real extension
        (0, 0, EMPTY_TREE_HASH, ROOT2, []),
        (1, 1, EMPTY_TREE_HASH, ROOT2, []),
        (0, 0, EMPTY_TREE_HASH, EMPTY_TREE_HASH, [EMPTY_TREE_HASH]),
        (0, 1, EMPTY_TREE_HASH, EMPTY_TREE_HASH, [EMPTY_TREE_HASH]),
        (1, 1, EMPTY_TREE_HASH, EMPTY_TREE_HASH, [EMPTY_TREE_HASH]),
        # Stricter than transparency-dev: a tree of size 0 has exactly one possible root.
        (0, 0, ROOT1, ROOT1, []),
        (0, 1, ROOT1, ROOT2, []),
        (0, 8, ROOTS[0], ROOTS[7], []),
    ],
)
def test_consistency_edge_case_is_refused(
    first: int, second: int, root1: bytes, root2: bytes, proof: list[bytes]
) -> None:
    with pytest.raises(InvalidMerkleProof):
        verify_consistency(first, second, root1, root2, proof)


@pytest.mark.parametrize(
    ("first", "second", "root1", "root2"),
    [
        (0, 0, EMPTY_ROOT, EMPTY_ROOT),
        (0, 1, EMPTY_ROOT, ROOTS[0]),
        (0, 8, EMPTY_ROOT, ROOTS[7]),
        (1, 1, ROOT2, ROOT2),
        (5, 5, ROOTS[4], ROOTS[4]),
    ],
)
def test_consistency_edge_case_with_nothing_to_prove_is_accepted(
    first: int, second: int, root1: bytes, root2: bytes
) -> None:
    verify_consistency(first, second, root1, root2, [])


@pytest.mark.parametrize(("first", "second"), [(0, 0), (0, 5), (3, 3)])
def test_consistency_proof_with_nothing_to_prove_is_empty(first: int, second: int) -> None:
    assert consistency_proof(LEAF_HASHES, first, second) == []


@pytest.mark.parametrize("bad", [-1, False, 2.0, "1", None])
def test_consistency_with_non_integer_size_is_refused(bad: object) -> None:
    with pytest.raises(InvalidMerkleProof):
        verify_consistency(bad, 8, ROOTS[0], ROOTS[7], CONSISTENCY_PROOFS[1][2])  # type: ignore[arg-type]
    with pytest.raises(InvalidMerkleProof):
        verify_consistency(1, bad, ROOTS[0], ROOTS[7], CONSISTENCY_PROOFS[1][2])  # type: ignore[arg-type]


@pytest.mark.parametrize(("first", "ranges"), sorted(C2SP_CONSISTENCY_RANGES.items()))
def test_consistency_proof_asks_for_the_c2sp_example_nodes(first: int, ranges: list[tuple[int, int]]) -> None:
    calls: list[tuple[int, int]] = []
    proof = consistency_proof_from(_recording(LEAF_HASHES, calls), first, 7)
    assert sorted(calls) == sorted(ranges)
    assert proof == [root_from_leaf_hashes(LEAF_HASHES[a:b]) for a, b in ranges]


def test_consistency_proof_generation_refuses_impossible_requests() -> None:
    with pytest.raises(ValueError):
        consistency_proof(LEAF_HASHES, 5, 4)
    with pytest.raises(ValueError):
        consistency_proof(LEAF_HASHES, 1, 9)
    with pytest.raises(ValueError):
        consistency_proof(LEAF_HASHES, -1, 3)


# ----------------------------------------------------------------------------- properties


def _leaves(size: int) -> list[bytes]:
    return [leaf_hash(b"entry %d" % i) for i in range(size)]


def _is_tree_node(start: int, end: int, tree_size: int) -> bool:
    """A perfect, aligned subtree, or the rightmost incomplete one ending at the tree size."""
    width = end - start
    if width <= 0 or end > tree_size:
        return False
    span = 1 << (width - 1).bit_length()  # smallest power of two >= width
    return start % span == 0 and (width == span or end == tree_size)


@st.composite
def _tree_and_index(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(min_value=1, max_value=200))
    return size, draw(st.integers(min_value=0, max_value=size - 1))


@st.composite
def _two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    second = draw(st.integers(min_value=0, max_value=200))
    return draw(st.integers(min_value=0, max_value=second)), second


@settings(max_examples=300)
@given(_tree_and_index())
def test_every_generated_inclusion_proof_verifies(case: tuple[int, int]) -> None:
    size, index = case
    leaves = _leaves(size)
    calls: list[tuple[int, int]] = []
    proof = inclusion_proof_from(_recording(leaves, calls), index, size)
    assert proof == inclusion_proof(leaves, index, size)
    assert all(_is_tree_node(a, b, size) for a, b in calls)
    verify_inclusion(leaves[index], index, size, proof, _level_by_level_root(leaves))


@settings(max_examples=300)
@given(_two_sizes())
def test_every_generated_consistency_proof_verifies(case: tuple[int, int]) -> None:
    first, second = case
    leaves = _leaves(second)
    calls: list[tuple[int, int]] = []
    proof = consistency_proof_from(_recording(leaves, calls), first, second)
    assert proof == consistency_proof(leaves, first, second)
    assert all(_is_tree_node(a, b, second) for a, b in calls)
    verify_consistency(
        first, second, _level_by_level_root(leaves[:first]), _level_by_level_root(leaves), proof
    )


@settings(max_examples=200)
@given(_tree_and_index(), st.data())
def test_tampered_generated_inclusion_proof_is_refused(case: tuple[int, int], data: st.DataObject) -> None:
    size, index = case
    leaves = _leaves(size)
    root = root_from_leaf_hashes(leaves)
    proof = inclusion_proof(leaves, index, size)
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1), label="element")
        bit = data.draw(st.integers(0, 255), label="bit")
        flipped = list(proof)
        flipped[i] = bytes(b ^ (1 << (bit % 8)) if j == bit // 8 else b for j, b in enumerate(proof[i]))
        with pytest.raises(InvalidMerkleProof):
            verify_inclusion(leaves[index], index, size, flipped, root)
        with pytest.raises(InvalidMerkleProof):
            verify_inclusion(leaves[index], index, size, proof[:-1], root)
    with pytest.raises(InvalidMerkleProof):
        verify_inclusion(leaves[index], index, size, [*proof, SOME_HASH], root)
    other = (
        data.draw(st.integers(0, size - 1).filter(lambda j: j != index), label="other") if size > 1 else None
    )
    if other is not None:
        with pytest.raises(InvalidMerkleProof):
            verify_inclusion(leaves[index], other, size, proof, root)
        with pytest.raises(InvalidMerkleProof):
            verify_inclusion(leaves[other], index, size, proof, root)


@settings(max_examples=200)
@given(_two_sizes(), st.data())
def test_tampered_generated_consistency_proof_is_refused(case: tuple[int, int], data: st.DataObject) -> None:
    first, second = case
    leaves = _leaves(second)
    root1, root2 = root_from_leaf_hashes(leaves[:first]), root_from_leaf_hashes(leaves)
    proof = consistency_proof(leaves, first, second)
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1), label="element")
        with pytest.raises(InvalidMerkleProof):
            verify_consistency(first, second, root1, root2, _flip(proof, i, 1))
        with pytest.raises(InvalidMerkleProof):
            verify_consistency(first, second, root1, root2, proof[:-1])
        with pytest.raises(InvalidMerkleProof):
            verify_consistency(first, second, root2, root1, proof)
    with pytest.raises(InvalidMerkleProof):
        verify_consistency(first, second, root1, root2, [*proof, SOME_HASH])
    if first < second:
        # The first root of another size does not fit the proof.
        with pytest.raises(InvalidMerkleProof):
            verify_consistency(first, second, root_from_leaf_hashes(leaves[: first + 1]), root2, proof)


def test_all_small_trees_prove_inclusion_and_consistency_exhaustively() -> None:
    leaves = _leaves(33)
    roots = [root_from_leaf_hashes(leaves[:n]) for n in range(34)]
    for second in range(34):
        for index in range(second):
            verify_inclusion(
                leaves[index], index, second, inclusion_proof(leaves, index, second), roots[second]
            )
        for first in range(second + 1):
            proof = consistency_proof(leaves, first, second)
            verify_consistency(first, second, roots[first], roots[second], proof)

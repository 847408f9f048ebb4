"""The multi-index Hamming search returns exactly what a brute-force scan returns.

Random codes almost never fall within 31 of 256 bits of each other, so the strategies plant codes
around a few anchors at distances r - 1, r and r + 1 (and anywhere), with duplicates and several codes
per ref, and interleave adds, removes, merges and searches.
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)

from registry import hamming
from registry.hamming import HammingIndex, brute_force

# (bits, radius, substrings): the two production shapes, then forced splits that exercise the other
# code paths: bisection instead of an offsets table (32-bit substrings), substrings probed at radius
# -1 (more substrings than radius + 1), unequal widths, and the linear-scan fallback.
CONFIGS = [
    (256, 31, None),
    (64, 10, None),
    (256, 31, 8),
    (64, 10, 2),
    (64, 3, 16),
    (64, 10, 12),
    (64, 40, None),
]


def flip(code: bytes, positions: list[int] | set[int]) -> bytes:
    """`code` with the given bit positions inverted."""
    value = int.from_bytes(code, "big")
    for position in positions:
        value ^= 1 << position
    return value.to_bytes(len(code), "big")


def codes_of(bits: int) -> st.SearchStrategy[bytes]:
    return st.binary(min_size=bits // 8, max_size=bits // 8)


@st.composite
def near(draw: st.DrawFn, anchor: bytes, radius: int) -> bytes:
    """A code at a distance from `anchor` that matters: r - 1, r, r + 1, 0, or anything."""
    bits = len(anchor) * 8
    distance = draw(
        st.sampled_from([d for d in (radius - 1, radius, radius + 1, 0) if 0 <= d <= bits])
        | st.integers(0, min(bits, 2 * radius + 2))
    )
    positions = draw(st.lists(st.integers(0, bits - 1), min_size=distance, max_size=distance, unique=True))
    return flip(anchor, positions)


def expected(pairs: list[tuple[bytes, int]], query: bytes, radius: int) -> list[tuple[int, int]]:
    return brute_force([code for code, _ in pairs], [ref for _, ref in pairs], query, radius)


# ---------------------------------------------------------------- interleaved updates and searches


class Interleaving(RuleBasedStateMachine):
    """Adds, removes, merges and searches in any order against a list of (code, ref) pairs."""

    bits = 256
    radius = 31
    substrings: int | None = None

    added = Bundle("added")

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[bytes, int]] = []
        self.anchors: list[bytes] = []
        self.index = HammingIndex(self.bits, self.radius, substrings=self.substrings)

    @initialize(data=st.data(), buffer_size=st.integers(1, 6))
    def setup(self, data: st.DataObject, buffer_size: int) -> None:
        self.anchors = data.draw(st.lists(codes_of(self.bits), min_size=1, max_size=3))
        self.index = HammingIndex(self.bits, self.radius, substrings=self.substrings, buffer_size=buffer_size)

    def draw_code(self, data: st.DataObject) -> bytes:
        anchor = data.draw(st.sampled_from(self.anchors))
        return data.draw(near(anchor, self.radius) | codes_of(self.bits))

    @rule(target=added, data=st.data(), ref=st.integers(0, 7))
    def add(self, data: st.DataObject, ref: int) -> tuple[bytes, int]:
        code = self.draw_code(data)
        self.index.add(code, ref)
        self.pairs.append((code, ref))
        return code, ref

    @rule(target=added, data=st.data(), count=st.integers(1, 12))
    def add_many(self, data: st.DataObject, count: int) -> object:
        batch = [(self.draw_code(data), data.draw(st.integers(0, 7))) for _ in range(count)]
        self.index.add_many([code for code, _ in batch], [ref for _, ref in batch])
        self.pairs += batch
        return multiple(*batch)

    @rule(pair=added)
    def add_duplicate(self, pair: tuple[bytes, int]) -> None:
        self.index.add(*pair)
        self.pairs.append(pair)

    @rule(pair=consumes(added))
    def remove_added(self, pair: tuple[bytes, int]) -> None:
        self.remove(pair[1])

    @rule(ref=st.integers(0, 9))
    def remove(self, ref: int) -> None:
        self.index.remove(ref)
        self.pairs = [pair for pair in self.pairs if pair[1] != ref]

    @rule()
    def merge(self) -> None:
        self.index.merge()

    @rule(data=st.data(), radius=st.none() | st.integers(0, 64))
    def search(self, data: st.DataObject, radius: int | None) -> None:
        radius = None if radius is None else min(radius, self.radius)
        query = self.draw_code(data)
        wanted = expected(self.pairs, query, self.radius if radius is None else radius)
        assert self.index.search(query, radius) == wanted

    @rule(data=st.data())
    def search_many(self, data: st.DataObject) -> None:
        queries = [self.draw_code(data) for _ in range(data.draw(st.integers(0, 4)))]
        assert self.index.search_many(queries) == [expected(self.pairs, q, self.radius) for q in queries]

    @rule(pair=added)
    def search_registered(self, pair: tuple[bytes, int]) -> None:
        assert self.index.search(pair[0]) == expected(self.pairs, pair[0], self.radius)

    @invariant()
    def length(self) -> None:
        assert len(self.index) == len(self.pairs)


def machine(bits: int, radius: int, substrings: int | None) -> type[Interleaving]:
    return type(
        f"Interleaving{bits}r{radius}m{substrings}",
        (Interleaving,),
        {
            "bits": bits,
            "radius": radius,
            "substrings": substrings,
        },
    )


STATEFUL = settings(
    max_examples=60, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

TestInterleaving256 = machine(256, 31, None).TestCase
TestInterleaving256.settings = STATEFUL
TestInterleaving64 = machine(64, 10, None).TestCase
TestInterleaving64.settings = STATEFUL
TestInterleavingBisection = machine(256, 31, 8).TestCase
TestInterleavingBisection.settings = STATEFUL
TestInterleavingUnequalWidths = machine(64, 10, 12).TestCase
TestInterleavingUnequalWidths.settings = STATEFUL
TestInterleavingScan = machine(64, 40, None).TestCase
TestInterleavingScan.settings = STATEFUL


# ---------------------------------------------------------------- one-shot random sets


@pytest.mark.parametrize(("bits", "radius", "substrings"), CONFIGS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_matches_brute_force(data: st.DataObject, bits: int, radius: int, substrings: int | None) -> None:
    anchors = data.draw(st.lists(codes_of(bits), min_size=1, max_size=2))
    code = st.sampled_from(anchors).flatmap(lambda anchor: near(anchor, radius)) | codes_of(bits)
    pairs = data.draw(st.lists(st.tuples(code, st.integers(0, 20)), max_size=40))
    bulk = data.draw(st.booleans())
    index = HammingIndex(bits, radius, substrings=substrings, buffer_size=data.draw(st.integers(1, 50)))
    if bulk:
        index.add_many([c for c, _ in pairs], [r for _, r in pairs])
    else:
        for c, r in pairs:
            index.add(c, r)
    queries = data.draw(st.lists(code, min_size=1, max_size=5))
    search_radius = data.draw(st.integers(0, radius))
    for query in queries:
        assert index.search(query) == expected(pairs, query, radius)
        assert index.search(query, search_radius) == expected(pairs, query, search_radius)
    assert index.search_many(queries, search_radius) == [expected(pairs, q, search_radius) for q in queries]


# ---------------------------------------------------------------- the pigeonhole guarantee at its edge


def spread(index: HammingIndex, light: int, extra: int = 0) -> bytes:
    """An error pattern that puts probe radius + 1 bits in every substring except `light`, which gets
    its probe radius (+ `extra`): the heaviest spread the guarantee still has to catch when extra = 0."""
    plan = index._plan
    assert plan is not None
    words = np.zeros(index.bits // 64, dtype=np.uint64)
    for k, (width, probe) in enumerate(index.plan):
        ones = probe + (0 if k == light else 1) + (extra if k == light else 0)
        ones = max(0, min(ones, width))
        words[plan.word[k]] |= np.uint64(((1 << ones) - 1) << plan.shift[k])
    return words.tobytes()


@pytest.mark.parametrize(("bits", "radius", "substrings"), [c for c in CONFIGS if c[1] < 40])
def test_worst_case_spread_is_found(bits: int, radius: int, substrings: int | None) -> None:
    index = HammingIndex(bits, radius, substrings=substrings)
    for k in range(len(index.plan)):
        code = spread(index, k)
        distance = int(np.bitwise_count(np.frombuffer(code, dtype=np.uint64)).sum())
        index.add(code, k)
        index.merge()  # into the multi-index base, not the scanned buffer
        if distance <= radius:
            assert (k, distance) in index.search(bytes(bits // 8))
        index.remove(k)


def test_radius_exactly_at_the_edge_of_every_substring() -> None:
    """256/31: 15 substrings at 2 bits and one at 1 bit is distance 31 (found through the light one);
    2 bits everywhere is 32 (excluded)."""
    index = HammingIndex(256, 31)
    assert index.plan == ((16, 1),) * 16
    codes = [spread(index, k) for k in range(16)]
    index.add_many(codes, list(range(16)))
    index.add(spread(index, 0, extra=1), 99)
    assert index.search(bytes(32)) == [(k, 31) for k in range(16)]


# ---------------------------------------------------------------- plans


def test_default_plans() -> None:
    assert HammingIndex(256, 31).plan == ((16, 1),) * 16
    assert HammingIndex(64, 10).plan == ((16, 2), (16, 2), (16, 2), (16, 1))
    assert HammingIndex(64, 8).plan == ((16, 2), (16, 1), (16, 1), (16, 1))
    assert HammingIndex(64, 40).plan == ()  # no split beats a scan: scans, still exact
    assert HammingIndex(64, 10, substrings=12).plan[0] == (6, 0)


@pytest.mark.parametrize(("bits", "radius"), [(256, 31), (64, 8), (64, 10), (64, 12), (256, 0), (64, 0)])
def test_probe_radii_add_up_to_the_radius(bits: int, radius: int) -> None:
    """Pigeonhole: the probe radii plus one, summed over substrings, exceed the radius."""
    plan = HammingIndex(bits, radius).plan
    assert sum(probe + 1 for _, probe in plan) == radius + 1
    assert sum(width for width, _ in plan) == bits


# ---------------------------------------------------------------- edge cases


@pytest.mark.parametrize(("bits", "radius"), [(256, 31), (64, 10)])
def test_empty_index(bits: int, radius: int) -> None:
    index = HammingIndex(bits, radius)
    assert len(index) == 0
    assert index.search(bytes(bits // 8)) == []
    assert index.search_many([]) == []
    assert index.search_many([bytes(bits // 8)] * 2) == [[], []]
    index.merge()
    assert index.search(bytes(bits // 8)) == []


@pytest.mark.parametrize(("bits", "radius"), [(256, 31), (64, 10)])
@pytest.mark.parametrize("merged", [False, True])
def test_distance_r_included_r_plus_one_excluded(bits: int, radius: int, merged: bool) -> None:
    query = bytes(range(bits // 8))
    index = HammingIndex(bits, radius)
    index.add(flip(query, set(range(radius))), 1)
    index.add(flip(query, set(range(3, radius + 4))), 2)
    index.add(flip(query, set(range(radius - 1))), 3)
    if merged:
        index.merge()
    assert index.search(query) == [(3, radius - 1), (1, radius)]
    assert index.search(query, radius - 1) == [(3, radius - 1)]


def test_wrong_code_length() -> None:
    index = HammingIndex(256, 31)
    for bad in (b"", bytes(31), bytes(33), bytes(8)):
        with pytest.raises(ValueError):
            index.add(bad, 1)
        with pytest.raises(ValueError):
            index.search(bad)
        with pytest.raises(ValueError):
            index.search_many([bytes(32), bad])
        with pytest.raises(ValueError):
            index.add_many([bytes(32), bad], [1, 2])
    assert len(index) == 0


def test_radius_out_of_range() -> None:
    index = HammingIndex(64, 10)
    index.add(bytes(8), 1)
    for bad in (11, 64, -1):
        with pytest.raises(ValueError):
            index.search(bytes(8), bad)
        with pytest.raises(ValueError):
            index.search_many([bytes(8)], bad)
    assert index.search(bytes(8), 10) == index.search(bytes(8), 0) == [(1, 0)]


def test_invalid_construction_and_refs() -> None:
    for bits, radius in ((0, 0), (100, 5), (128, -1), (64, 65)):
        with pytest.raises(ValueError):
            HammingIndex(bits, radius)
    with pytest.raises(ValueError):
        HammingIndex(256, 31, substrings=6)
    index = HammingIndex(64, 10)
    for bad in (-1, 1 << 63):
        with pytest.raises(ValueError):
            index.add(bytes(8), bad)
    with pytest.raises(ValueError):
        index.add_many([bytes(8)], [1, 2])
    index.add(bytes(8), (1 << 63) - 1)
    index.merge()
    index.remove((1 << 63) - 1)
    assert len(index) == 0


def test_remove_unknown_ref_is_quiet() -> None:
    index = HammingIndex(64, 10)
    index.remove(5)
    index.add(bytes(8), 1)
    index.remove(5)
    index.merge()
    index.remove(5)
    assert index.search(bytes(8)) == [(1, 0)]
    assert len(index) == 1


@pytest.mark.parametrize("merge_between", [False, True])
def test_readd_after_remove(merge_between: bool) -> None:
    index = HammingIndex(256, 31)
    code = bytes(range(32))
    index.add(code, 7)
    index.merge()
    index.add(flip(code, {1}), 7)  # one in the base, one in the buffer
    index.remove(7)
    assert index.search(code) == []
    assert len(index) == 0
    if merge_between:
        index.merge()
    index.add(flip(code, {2, 3}), 7)
    assert index.search(code) == [(7, 2)]
    index.merge()
    assert index.search(code) == [(7, 2)]
    assert len(index) == 1


def test_one_entry_per_ref_at_its_minimum_distance() -> None:
    """The 8 dihedral variants of one image: one result, at the closest variant."""
    query = bytes(32)
    index = HammingIndex(256, 31, buffer_size=3)
    variants = [flip(query, set(range(d))) for d in (30, 5, 40, 12, 31, 29, 100, 7)]
    for variant in variants:
        index.add(variant, 4)
    index.add(flip(query, set(range(200, 205))), 2)
    assert index.search(query) == [(2, 5), (4, 5)]
    assert index.search(query, 4) == []
    assert len(index) == 9


def test_merges_happen_and_tombstones_are_purged() -> None:
    rng = np.random.default_rng(0)
    codes = [rng.bytes(32) for _ in range(300)]
    index = HammingIndex(256, 31, buffer_size=16)
    for n, code in enumerate(codes):
        index.add(code, n % 50)
    assert index._buf_len <= 16  # merged on the way
    for ref in range(0, 50, 2):
        index.remove(ref)
    index.merge()
    assert index._dead == 0 and len(index._refs) == len(index) == 150
    survivors = [(c, n % 50) for n, c in enumerate(codes) if (n % 50) % 2]
    for code in codes[:40]:
        assert index.search(code) == expected(survivors, code, 31)


def test_brute_force_reference() -> None:
    assert brute_force([], [], bytes(32), 31) == []
    codes = [bytes(4), flip(bytes(4), {0, 9}), flip(bytes(4), {3})]  # lengths that are not words work too
    assert brute_force(codes, [5, 5, 1], bytes(4), 2) == [(5, 0), (1, 1)]
    assert brute_force(codes, [5, 6, 1], bytes(4), 1) == [(5, 0), (1, 1)]
    with pytest.raises(ValueError):
        brute_force(codes, [1], bytes(4), 1)
    with pytest.raises(ValueError):
        brute_force([bytes(3)], [1], bytes(4), 1)
    with pytest.raises(ValueError):
        brute_force(codes, [1, 2, 3], bytes(4), -1)


def test_doctest() -> None:
    assert doctest.testmod(hamming, raise_on_error=False).failed == 0

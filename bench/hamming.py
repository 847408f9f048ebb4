"""Exact PDQ-radius search (256 bits, r = 31) at a million hashes: `HammingIndex` beside a brute-force
numpy scan measured in the same run (machines here are noisy: compare ratios, not seconds).

    python bench/hamming.py [--n 1000000] [--queries 1000] [--scan-queries 1000] [--adds 25000]

Random codes are essentially never within 31 bits of each other, so half of the queries get planted
near-duplicates (two codes of one ref at distances up to 31, and one decoy at 32). Recall is measured
against the scan and asserted to be 1.0. Bounded: about a minute and under 1 GB at the defaults.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from registry.hamming import HammingIndex, brute_force

BITS, RADIUS = 256, 31
WORDS = BITS // 64


def flip(rng: np.random.Generator, code: np.ndarray, distance: int) -> np.ndarray:
    """`code` with `distance` distinct random bits inverted."""
    bits = np.unpackbits(code.view(np.uint8))
    bits[rng.choice(BITS, size=distance, replace=False)] ^= 1
    return np.packbits(bits).view(np.uint64)


def as_bytes(words: np.ndarray) -> list[bytes]:
    raw = words.tobytes()
    size = BITS // 8
    return [raw[i : i + size] for i in range(0, len(raw), size)]


def scan(table: np.ndarray, refs: np.ndarray, query: np.ndarray) -> list[tuple[int, int]]:
    """The brute-force numpy scan: XOR every row, popcount, add the word columns, keep d <= r."""
    counts = np.bitwise_count(table ^ query)
    distances = counts[:, 0].astype(np.uint16)
    for word in range(1, WORDS):
        distances += counts[:, word]
    near = np.flatnonzero(distances <= RADIUS)
    best: dict[int, int] = {}
    for ref, distance in zip(refs[near].tolist(), distances[near].tolist(), strict=True):
        best[ref] = min(distance, best.get(ref, distance))
    return sorted(best.items(), key=lambda item: (item[1], item[0]))


def index_bytes(index: HammingIndex) -> int:
    return sum(value.nbytes for value in vars(index).values() if isinstance(value, np.ndarray))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1_000_000, help="random registered codes")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--scan-queries", type=int, default=1000, help="queries also answered by the scan")
    parser.add_argument("--adds", type=int, default=25_000, help="single adds after the bulk load")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    queries = rng.integers(0, 1 << 64, size=(args.queries, WORDS), dtype=np.uint64)
    planted: list[np.ndarray] = []
    planted_refs: list[int] = []
    expected_hits: dict[int, int] = {}  # query -> its planted ref
    for q in range(0, args.queries, 2):
        ref = args.n + q
        for distance in (int(rng.integers(0, RADIUS + 1)), RADIUS if q % 4 == 0 else RADIUS - 1):
            planted.append(flip(rng, queries[q], distance))
            planted_refs.append(ref)
        planted.append(flip(rng, queries[q], RADIUS + 1))  # a decoy just outside the radius
        planted_refs.append(args.n + args.queries + q)
        expected_hits[q] = ref
    table = np.concatenate(
        [
            rng.integers(0, 1 << 64, size=(args.n, WORDS), dtype=np.uint64),
            np.array(planted).reshape(-1, WORDS),
        ]
    )
    refs = np.concatenate([np.arange(args.n, dtype=np.int64), np.array(planted_refs, dtype=np.int64)])
    codes = as_bytes(table)
    ref_list = refs.tolist()
    query_codes = as_bytes(queries)
    print(f"{len(codes):,} registered 256-bit codes ({len(planted):,} planted), radius {RADIUS}")

    index = HammingIndex(BITS, RADIUS)
    print(
        f"plan: {len(index.plan)} substrings of {index.plan[0][0]} bits, probed at radius {index.plan[0][1]}"
    )
    start = time.perf_counter()
    index.add_many(codes, ref_list)
    build = time.perf_counter() - start
    print(f"build (add_many):          {build:7.2f} s   index arrays {index_bytes(index) / 2**20:6.1f} MB")

    extra = rng.integers(0, 1 << 64, size=(args.adds, WORDS), dtype=np.uint64)
    extra_refs = np.arange(2 * args.n, 2 * args.n + args.adds, dtype=np.int64)
    start = time.perf_counter()
    for code, ref in zip(as_bytes(extra), extra_refs.tolist(), strict=True):
        index.add(code, ref)
    adds = time.perf_counter() - start
    table = np.concatenate([table, extra])
    refs = np.concatenate([refs, extra_refs])
    print(f"single adds:               {args.adds / adds:9,.0f} /s (merges included)")

    start = time.perf_counter()
    single = [index.search(code) for code in query_codes]
    single_rate = len(query_codes) / (time.perf_counter() - start)
    start = time.perf_counter()
    batched = index.search_many(query_codes)
    batch_rate = len(query_codes) / (time.perf_counter() - start)
    assert single == batched

    scanned = min(args.scan_queries, args.queries)
    start = time.perf_counter()
    truth = [scan(table, refs, queries[q]) for q in range(scanned)]
    scan_rate = scanned / (time.perf_counter() - start)
    found = sum(len(set(t) & set(got)) for t, got in zip(truth, batched, strict=False))
    total = sum(len(t) for t in truth)
    recall = found / total if total else 1.0
    exact = all(t == got for t, got in zip(truth, batched, strict=False))
    planted_found = all(any(ref == expected_hits[q] for ref, _ in batched[q]) for q in expected_hits)

    reference = all(
        brute_force(codes + as_bytes(extra), refs.tolist(), query_codes[q], RADIUS) == truth[q]
        for q in range(min(2, scanned))
    )

    print(f"HammingIndex.search:       {single_rate:9,.0f} queries/s")
    print(f"HammingIndex.search_many:  {batch_rate:9,.0f} queries/s")
    print(f"numpy brute-force scan:    {scan_rate:9,.1f} queries/s  ({scanned} queries)")
    speedup = f"{single_rate / scan_rate:9,.0f}x (search), {batch_rate / scan_rate:,.0f}x (search_many)"
    print(f"speed-up over the scan:    {speedup}")
    print(f"recall against the scan:   {recall} ({found}/{total} matches, identical answers: {exact})")
    print(f"planted matches found:     {planted_found}; brute_force() agrees with the scan: {reference}")
    start = time.perf_counter()
    index.merge()
    print(f"merge (rebuild) at {len(index):,}: {time.perf_counter() - start:.2f} s")
    print(f"peak RSS:                  {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:7.0f} MB")
    assert recall == 1.0 and exact and planted_found and reference


if __name__ == "__main__":
    main()

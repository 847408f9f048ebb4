"""Transparency-log append throughput and proof latency at 1M entries, beside the same figures on a
small log measured in the same run (so the ratio shows how they scale; machines here are noisy).

    python bench/log.py [--entries 1000000] [--db postgres://…]

The large log is seeded in bulk (leaf hashes and complete subtrees computed here, exactly as
appends store them), then measured through the registry's own `TransparencyLog`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tortoise import Tortoise
from tortoise.transactions import in_transaction

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keys
from keys import merkle
from registry.identity import note_signer
from registry.log import TransparencyLog, node_id
from registry.models import LogEntry, TreeNode
from tests.conftest import ThrowawayPostgres, postgres_bindir

ENTRY = b'{"type":"Claim","n":%d,"pad":"' + b"x" * 180 + b'"}'


def completed_subtrees(index: int, leaf: bytes, frontier: list[tuple[int, bytes]]) -> list[TreeNode]:
    """The leaf's node and every complete subtree it closes, as an append stores them; `frontier`
    holds the right edge of the tree so far (a compact range) and is updated."""
    nodes = [TreeNode(id=node_id(0, index), hash=leaf)]
    level, position, digest = 0, index, leaf
    while position & 1:
        _, left = frontier.pop()
        digest = merkle.node_hash(left, digest)
        level, position = level + 1, position >> 1
        nodes.append(TreeNode(id=node_id(level, position), hash=digest))
    frontier.append((level, digest))
    return nodes


async def seed(count: int, batch: int = 20_000) -> None:
    """Write `count` entries and every complete subtree above them, as appends would have."""
    now = datetime.now(UTC)
    frontier: list[tuple[int, bytes]] = []  # (level, hash) of the right edge, as in a compact range
    for start in range(0, count, batch):
        entries, nodes = [], []
        for index in range(start, min(count, start + batch)):
            entry = ENTRY % index
            leaf = merkle.leaf_hash(entry)
            entries.append(
                LogEntry(
                    index=index,
                    document_id=f"{index:064x}",
                    kind="Bench",
                    entry=entry,
                    leaf_hash=leaf,
                    leaf_hash_hex=leaf.hex(),
                    appended_at=now,
                )
            )
            nodes += completed_subtrees(index, leaf, frontier)
        async with in_transaction():
            await LogEntry.bulk_create(entries, batch_size=2000)
            await TreeNode.bulk_create(nodes, batch_size=4000)


async def measure(log: TransparencyLog, appends: int, proofs: int) -> dict[str, float]:
    size = await log.size()
    now = datetime.now(UTC)
    start = time.perf_counter()
    for n in range(appends):
        async with in_transaction():
            await log.append("Bench", f"{size + n:064x}", ENTRY % (size + n), now)
    append_rate = appends / (time.perf_counter() - start)
    size = await log.size()
    rng = random.Random(7)
    inclusion, consistency, checkpoint = [], [], []
    for _ in range(proofs):
        index = rng.randrange(size)
        t = time.perf_counter()
        proof = await log.inclusion_proof(index, size)
        inclusion.append(time.perf_counter() - t)
        first = rng.randrange(1, size)
        t = time.perf_counter()
        await log.consistency_proof(first, size)
        consistency.append(time.perf_counter() - t)
        t = time.perf_counter()
        await log.latest_checkpoint()
        checkpoint.append(time.perf_counter() - t)
    root = await log.root(size)
    merkle.verify_inclusion(
        merkle.leaf_hash(ENTRY % index), index, size, proof, root
    )  # the figures are of real proofs
    return {
        "size": size,
        "append_per_s": append_rate,
        "inclusion_ms": statistics.median(inclusion) * 1000,
        "consistency_ms": statistics.median(consistency) * 1000,
        "checkpoint_ms": statistics.median(checkpoint) * 1000,
    }


async def run(db_url: str, entries: int, appends: int, proofs: int) -> dict[str, float]:
    await Tortoise.init(db_url=db_url, modules={"models": ["registry.models"]})
    await Tortoise.generate_schemas()
    try:
        key = keys.SigningKey.generate()
        log = TransparencyLog("bench.local/log", note_signer(key, "bench.local/log"))
        started = time.perf_counter()
        await seed(entries)
        seeded = time.perf_counter() - started
        figures = await measure(log, appends, proofs)
        figures["seed_s"] = seeded
        return figures
    finally:
        await Tortoise.close_connections()


def fresh_postgres(admin_url: str, name: str) -> str:
    import asyncpg

    async def create() -> None:
        connection = await asyncpg.connect(admin_url.replace("postgres://", "postgresql://", 1))
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await connection.execute(f'CREATE DATABASE "{name}"')
        await connection.close()

    asyncio.run(create())
    return admin_url.rsplit("/", 1)[0] + "/" + name


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=1_000, help="entries in the small log")
    parser.add_argument("--appends", type=int, default=500)
    parser.add_argument("--proofs", type=int, default=200)
    parser.add_argument("--db", help="a PostgreSQL admin URL (bench databases are created there)")
    parser.add_argument(
        "--postgres", action="store_true", help="start a throwaway PostgreSQL cluster and use it"
    )
    args = parser.parse_args()
    cluster = None
    if args.postgres:
        bindir = postgres_bindir()
        if bindir is None:
            parser.error("--postgres needs the PostgreSQL server binaries (apt-get install postgresql)")
        cluster = ThrowawayPostgres(bindir)
        args.db = cluster.start()
    workdir = Path(tempfile.mkdtemp(prefix="kotowari-logbench-"))
    try:
        results = []
        for name, entries in (("small", args.baseline), ("large", args.entries)):
            if args.db:
                url = fresh_postgres(args.db, f"kotowari_bench_{name}")
            else:
                url = f"sqlite://{workdir / name}.sqlite3"
            results.append(asyncio.run(run(url, entries, args.appends, args.proofs)))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if cluster is not None:
            cluster.stop()
    small, large = results
    print(f"database: {'postgresql' if args.db else 'sqlite'}")
    print(f"{'':28}{'small log':>14}{'large log':>14}{'large/small':>13}")
    print(f"{'entries':28}{small['size']:>14,.0f}{large['size']:>14,.0f}")
    for label, key in (
        ("appends /s (1 per txn)", "append_per_s"),
        ("inclusion proof, median ms", "inclusion_ms"),
        ("consistency proof, median ms", "consistency_ms"),
        ("signed checkpoint, median ms", "checkpoint_ms"),
    ):
        print(f"{label:28}{small[key]:>14,.2f}{large[key]:>14,.2f}{large[key] / small[key]:>13.2f}")
    print(f"seeding {large['size']:,} entries took {large['seed_s']:.0f} s")


if __name__ == "__main__":
    main()

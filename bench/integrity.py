"""Start-up verification (issue 12) at 1M entries: incremental (signatures from the mark on) and full
(every signature), and an independent audit's own cost per entry (verify, replay, hash: the network
left out), beside the raw Ed25519 verify rate and a plain SHA-256 pass measured in the same run
(machines here are noisy: read the ratios).

    python bench/integrity.py [--entries 1000000] [--audit-entries 200000] [--postgres]

The log is seeded in bulk with real signed claims (and their claims and nonce rows, exactly as
filing stores them), then verified through `registry.integrity.verify`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tortoise import Tortoise
from tortoise.transactions import in_transaction

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keys
from bench.log import completed_subtrees, fresh_postgres
from crawler_client.audit.replay import offline_throughput
from keys import merkle
from registry import integrity
from registry.documents import new_claim
from registry.identity import note_signer
from registry.log import TransparencyLog
from registry.models import ClaimRecord, LogEntry, TreeNode, UsedNonce
from tests.conftest import ThrowawayPostgres, postgres_bindir

MODELS = [
    "registry.models",
    "registry.notices.models",
    "registry.privacy.models",
    "registry.accountability.models",
]


def signed_entries(count: int, key: keys.SigningKey) -> list[tuple[str, bytes, str]]:
    """(id, canonical bytes, nonce) of `count` distinct signed claims by `key`."""
    now = datetime.now(UTC)
    out = []
    for n in range(count):
        doc = new_claim(
            key.did,
            "work",
            [("url", f"https://site{n % 5000}.example/works/{n}/")],
            {"train-ai": "n"},
            created=now,
        )
        signed = keys.sign_document(doc, key, created=now)
        canonical = keys.canonicalize(signed)
        out.append((hashlib.sha256(canonical).hexdigest(), canonical, str(signed["nonce"])))
    return out


async def seed(entries: list[tuple[str, bytes, str]], author: str, batch: int = 10_000) -> None:
    now = datetime.now(UTC)
    frontier: list[tuple[int, bytes]] = []
    for start in range(0, len(entries), batch):
        logs, nodes, claims, nonces = [], [], [], []
        for index in range(start, min(len(entries), start + batch)):
            document_id, entry, nonce = entries[index]
            leaf = merkle.leaf_hash(entry)
            logs.append(
                LogEntry(
                    index=index,
                    document_id=document_id,
                    kind="Claim",
                    entry=entry,
                    leaf_hash=leaf,
                    leaf_hash_hex=leaf.hex(),
                    appended_at=now,
                )
            )
            claims.append(
                ClaimRecord(
                    id=document_id,
                    claimant=author,
                    kind="work",
                    document=entry.decode(),
                    received_at=now,
                    log_index=index,
                )
            )
            nonces.append(UsedNonce(author=author, nonce=nonce, document_id=document_id))
            nodes += completed_subtrees(index, leaf, frontier)
        async with in_transaction():
            await LogEntry.bulk_create(logs, batch_size=2000)
            await TreeNode.bulk_create(nodes, batch_size=4000)
            await ClaimRecord.bulk_create(claims, batch_size=2000)
            await UsedNonce.bulk_create(nonces, batch_size=4000)


def raw_rates(
    entries: list[tuple[str, bytes, str]], key: keys.SigningKey, sample: int = 20_000
) -> dict[str, float]:
    """Ed25519 verifications per second (cryptography, no JSON), and SHA-256 passes over the entries."""
    message = entries[0][1]
    signature = key.sign(message)
    public = key.public
    start = time.perf_counter()
    for _ in range(sample):
        public.verify(signature, message)
    verify_rate = sample / (time.perf_counter() - start)
    start = time.perf_counter()
    for _, entry, _ in entries:
        hashlib.sha256(entry).digest()
    hash_rate = len(entries) / (time.perf_counter() - start)
    return {"ed25519_per_s": verify_rate, "sha256_per_s": hash_rate}


async def run(db_url: str, count: int, data_dir: Path, audit_count: int) -> dict[str, float]:
    key = keys.SigningKey.generate()
    started = time.perf_counter()
    entries = signed_entries(count, key)
    signing = time.perf_counter() - started
    figures = raw_rates(entries, key)
    rate, replay, _ = offline_throughput((entry for _, entry, _ in entries[:audit_count]), key.did)
    assert rate.signatures == min(count, audit_count) and not replay.discrepancies
    figures["audit_per_s"] = rate.per_second
    await Tortoise.init(db_url=db_url, modules={"models": MODELS})
    await Tortoise.generate_schemas()
    try:
        started = time.perf_counter()
        await seed(entries, key.did)
        figures["seed_s"] = time.perf_counter() - started + signing
        del entries
        log = TransparencyLog("bench.local/log", note_signer(key, "bench.local/log"))
        started = time.perf_counter()
        report = await integrity.verify(log, key.public, data_dir, full=True)
        figures["full_s"] = time.perf_counter() - started
        assert report.signatures_checked == count
        await integrity.write_mark(data_dir, log, report.tree_size)
        started = time.perf_counter()
        report = await integrity.verify(log, key.public, data_dir)
        figures["incremental_s"] = time.perf_counter() - started
        assert report.signatures_checked == 0 and report.tree_size == count
        figures["entries"] = count
        return figures
    finally:
        await Tortoise.close_connections()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--audit-entries", type=int, default=200_000, help="entries the audit figure uses")
    parser.add_argument(
        "--postgres", action="store_true", help="start a throwaway PostgreSQL cluster and use it"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="kotowari-integritybench-"))
    cluster = None
    try:
        if args.postgres:
            bindir = postgres_bindir()
            if bindir is None:
                parser.error("--postgres needs the PostgreSQL server binaries (apt-get install postgresql)")
            cluster = ThrowawayPostgres(bindir)
            url = fresh_postgres(cluster.start(), "kotowari_bench_integrity")
        else:
            url = f"sqlite://{workdir / 'bench.sqlite3'}"
        f = asyncio.run(run(url, args.entries, workdir, args.audit_entries))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if cluster is not None:
            cluster.stop()
    n = f["entries"]
    engine = "postgresql" if args.postgres else "sqlite"
    print(f"database: {engine}; {n:,.0f} signed claims (seeded in {f['seed_s']:.0f} s)")
    print(f"raw Ed25519 verify (baseline)      {f['ed25519_per_s']:>12,.0f} /s")
    print(f"plain SHA-256 of every entry       {f['sha256_per_s']:>12,.0f} /s")
    for label, key in (
        ("full start-up verification", "full_s"),
        ("incremental (from the mark)", "incremental_s"),
    ):
        rate = n / f[key]
        ratio = rate / f["ed25519_per_s"]
        print(f"{label:34} {f[key]:>9.1f} s = {rate:>9,.0f} entries/s = {ratio:.2f}x raw Ed25519")
    audit = f["audit_per_s"]
    ratio = audit / f["ed25519_per_s"]
    print(f"{'audit: verify, replay, hash':34} {'':11} {audit:>9,.0f} entries/s = {ratio:.2f}x raw Ed25519")


if __name__ == "__main__":
    main()

"""Filing and batch-check throughput of real `kotowari serve` workers, beside this machine's raw
Ed25519 verify rate measured in the same run (machines here are noisy: compare ratios, not seconds).

    python bench/throughput.py [--claims 4000] [--checks 5] [--postgres --workers 2]

Three ways of filing, each with fresh claims: one claim per request from `--concurrency` clients
at once (pooled by the registry's group commit; p50/p99 latency per request), and arrays of
`--bulk` claims per request (`POST /v1/claims` with a JSON array). The raw verify rate is one
core verifying one signature over and over: the floor of any filing's cost. Traffic goes only to
servers this script starts on 127.0.0.1; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keys
from registry.documents import new_claim
from tests.conftest import ServerProcess, ThrowawayPostgres, postgres_bindir, start_server, stop_server


def raw_verify_rate(seconds: float = 1.0) -> float:
    """Ed25519 verifications per second through `keys` (cryptography underneath), one core."""
    key = keys.SigningKey.generate()
    message = b"x" * 200
    signature = key.sign(message)
    public = key.public
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(200):
            public.verify(signature, message)
        count += 200
    return count / (time.perf_counter() - start)


def make_claims(count: int, authors: int = 50) -> list[bytes]:
    """Signed claims over URLs on 97 sites, by `authors` different keys (as agencies file)."""
    signers = [keys.SigningKey.generate() for _ in range(authors)]
    now = datetime.now(UTC)
    bodies = []
    for n in range(count):
        key = signers[n % authors]
        document = new_claim(
            key.did,
            "work",
            [("url", f"https://site{n % 97}.example/gallery/{n}/")],
            {"train-ai": "n"},
            created=now,
        )
        bodies.append(keys.canonicalize(keys.sign_document(document, key, created=now)))
    return bodies


async def file_singly(urls: list[str], bodies: list[bytes], concurrency: int) -> tuple[float, list[float]]:
    """(claims/s, per-request latencies in seconds) with `concurrency` clients per worker."""
    queue = list(reversed(bodies))
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    clients = [httpx.AsyncClient(base_url=url, timeout=60, limits=limits) for url in urls]

    async def worker(client: httpx.AsyncClient) -> None:
        while queue:
            body = queue.pop()
            sent = time.perf_counter()
            response = await client.post("/v1/claims", content=body)
            latencies.append(time.perf_counter() - sent)
            response.raise_for_status()

    try:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for client in clients for _ in range(concurrency)))
        return len(bodies) / (time.perf_counter() - start), latencies
    finally:
        for client in clients:
            await client.aclose()


async def file_in_bulk(urls: list[str], bodies: list[bytes], size: int) -> float:
    """Claims/s sending arrays of `size` claims, one request in flight per worker."""
    chunks = [bodies[start : start + size] for start in range(0, len(bodies), size)]
    clients = [httpx.AsyncClient(base_url=url, timeout=120) for url in urls]

    async def worker(client: httpx.AsyncClient) -> None:
        while chunks:
            chunk = chunks.pop()
            response = await client.post("/v1/claims", content=b"[" + b",".join(chunk) + b"]")
            response.raise_for_status()
            if response.json()["filed"] != len(chunk):
                raise SystemExit(f"a bulk filing refused documents: {response.json()['results'][:1]}")

    try:
        start = time.perf_counter()
        await asyncio.gather(*(worker(client) for client in clients))
        return len(bodies) / (time.perf_counter() - start)
    finally:
        for client in clients:
            await client.aclose()


def check_rate(url: str, rounds: int, batch: int) -> tuple[float, int, float, int, list[float]]:
    """(items/s, reserved items in the last answer, share of the time this client spent decoding
    the answers' JSON, bytes of the last answer, seconds per round): the decoding is a floor no
    server can go below; the first round is the one where the registry decides every distinct set
    of matching claims for the first time (later rounds reuse those decisions)."""
    items = [
        {"scheme": "url", "value": f"https://www.site{n % 97}.example/gallery/{n}/img/{n}.png"}
        for n in range(batch)
    ]
    reserved = size = 0
    decoding = 0.0
    times: list[float] = []
    with httpx.Client(base_url=url, timeout=120) as client:
        start = time.perf_counter()
        for _ in range(rounds):
            sent = time.perf_counter()
            answer = client.post("/v1/check", json={"purpose": "train-ai", "items": items})
            answer.raise_for_status()
            decoded = time.perf_counter()
            reserved = sum(item["decision"] == "n" for item in answer.json()["items"])
            decoding += time.perf_counter() - decoded
            size = len(answer.content)
            times.append(time.perf_counter() - sent)
        elapsed = time.perf_counter() - start
        return rounds * batch / elapsed, reserved, decoding / elapsed, size, times


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claims", type=int, default=4000, help="claims per way of filing")
    parser.add_argument("--checks", type=int, default=5, help="rounds of one full check batch")
    parser.add_argument("--batch", type=int, default=10_000, help="URL items per check request")
    parser.add_argument("--bulk", type=int, default=500, help="claims per bulk request")
    parser.add_argument("--concurrency", type=int, default=32, help="single-claim clients per worker")
    parser.add_argument("--workers", type=int, default=1, help="server processes (several need PostgreSQL)")
    parser.add_argument("--db", help="a PostgreSQL URL; default: SQLite in a temporary data directory")
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
    if args.workers > 1 and not args.db:
        parser.error("several workers share one PostgreSQL database: add --postgres or --db")

    verify = raw_verify_rate()
    singles, bulk = make_claims(args.claims), make_claims(args.claims)
    data_dir = Path(tempfile.mkdtemp(prefix="kotowari-bench-"))
    servers: list[ServerProcess] = []
    try:
        servers = [start_server(data_dir, args.db) for _ in range(args.workers)]
        urls = [server.url for server in servers]
        single_rate, latencies = asyncio.run(file_singly(urls, singles, args.concurrency))
        bulk_rate = asyncio.run(file_in_bulk(urls, bulk, args.bulk))
        checking, reserved, decoding, answer_bytes, rounds = check_rate(urls[0], args.checks, args.batch)
        verify_after = raw_verify_rate()
    finally:
        for server in servers:
            stop_server(server)
        shutil.rmtree(data_dir, ignore_errors=True)
        if cluster is not None:
            cluster.stop()
    baseline = (verify + verify_after) / 2
    backend = "postgresql" if args.db else "sqlite"
    print(f"database {backend}, {args.workers} worker(s), {args.claims:,} claims per way of filing")
    print(
        f"raw Ed25519 verify (baseline)      {baseline:10,.0f} /s"
        f"   (before {verify:,.0f}, after {verify_after:,.0f})"
    )
    print(
        f"filed one per request ({args.concurrency} clients)"
        f"{single_rate:8,.0f} /s   = {single_rate / baseline:.3f} x raw verify"
        f"   latency p50 {statistics.median(latencies) * 1000:.0f} ms,"
        f" p99 {percentile(latencies, 0.99) * 1000:.0f} ms"
    )
    print(
        f"filed in arrays of {args.bulk}          {bulk_rate:10,.0f} /s"
        f"   = {bulk_rate / baseline:.3f} x raw verify"
    )
    print(
        f"URL checks ({args.batch:,}/request)     {checking:10,.0f} /s"
        f"   = {checking / baseline:.3f} x raw verify"
    )
    print(f"  (reserved in the last batch: {reserved:,} of {args.batch:,})")
    print(
        f"  (this client decoding the {answer_bytes / 1e6:.1f} MB answers took {decoding:.0%} of that time;"
        f" without it: {checking / (1 - decoding):,.0f} /s)"
    )
    print(
        f"  (first round {rounds[0] * 1000:.0f} ms, later rounds median"
        f" {statistics.median(rounds[1:] or rounds) * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    main()

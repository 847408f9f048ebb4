"""Filing and batch-check throughput of a real `kotowari serve`, beside this machine's raw Ed25519
verify rate measured in the same run (machines here are noisy: compare ratios, not seconds).

    python bench/throughput.py [--claims 2000] [--checks 5] [--db postgres://…]

Traffic goes only to a server this script starts on 127.0.0.1; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keys
from registry.documents import new_claim
from tests.conftest import ThrowawayPostgres, postgres_bindir, start_server, stop_server


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


def make_claims(count: int) -> list[bytes]:
    key = keys.SigningKey.generate()
    now = datetime.now(UTC)
    bodies = []
    for n in range(count):
        document = new_claim(
            key.did,
            "work",
            [("url", f"https://site{n % 97}.example/gallery/{n}/")],
            {"train-ai": "n"},
            created=now,
        )
        bodies.append(keys.canonicalize(keys.sign_document(document, key, created=now)))
    return bodies


async def file_all(url: str, bodies: list[bytes], concurrency: int) -> float:
    queue = list(reversed(bodies))
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:

        async def worker() -> None:
            while queue:
                response = await client.post("/v1/claims", content=queue.pop())
                response.raise_for_status()

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return len(bodies) / (time.perf_counter() - start)


def check_rate(url: str, rounds: int, batch: int) -> tuple[float, int]:
    items = [
        {"scheme": "url", "value": f"https://www.site{n % 97}.example/gallery/{n}/img/{n}.png"}
        for n in range(batch)
    ]
    reserved = 0
    with httpx.Client(base_url=url, timeout=120) as client:
        start = time.perf_counter()
        for _ in range(rounds):
            answer = client.post("/v1/check", json={"purpose": "train-ai", "items": items})
            answer.raise_for_status()
            reserved = sum(item["decision"] == "n" for item in answer.json()["items"])
        return rounds * batch / (time.perf_counter() - start), reserved


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claims", type=int, default=2000)
    parser.add_argument("--checks", type=int, default=5, help="rounds of one full batch")
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8)
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

    verify = raw_verify_rate()
    bodies = make_claims(args.claims)
    data_dir = Path(tempfile.mkdtemp(prefix="kotowari-bench-"))
    server = start_server(data_dir, args.db)
    try:
        filing = asyncio.run(file_all(server.url, bodies, args.concurrency))
        checking, reserved = check_rate(server.url, args.checks, args.batch)
    finally:
        stop_server(server)
        shutil.rmtree(data_dir, ignore_errors=True)
        if cluster is not None:
            cluster.stop()
    backend = "postgresql" if args.db else "sqlite"
    print(f"database                       {backend}")
    print(f"raw Ed25519 verify (baseline)  {verify:12,.0f} /s")
    print(f"claims filed                   {filing:12,.0f} /s   = {filing / verify:.4f} x raw verify")
    print(
        f"URL checks ({args.batch:,}/request)   {checking:12,.0f} /s   = {checking / verify:.4f} x raw verify"
    )
    print(f"  (reserved in the last batch: {reserved:,} of {args.batch:,})")


if __name__ == "__main__":
    main()

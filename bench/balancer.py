"""Checks and filings through haproxy over two `kotowari serve` workers, beside the same load sent
straight to one worker, in one run on one PostgreSQL log (issue 19).

    python bench/balancer.py [--claims 2000] [--concurrency 16] [--checks 4] [--batch 5000]

The balancer runs the README's haproxy configuration (tests/balancer.py writes it, as the test
does). Each comparison sends the same load both ways: `--concurrency` single-claim connections in
all, `--bulk-in-flight` arrays of `--bulk` claims at a time, `--check-clients` clients each sending
`--checks` requests of `--batch` URLs (after one warm-up request per worker, so both have decided
the claims' hit sets once). The ratio is balancer / one worker: on a machine with more cores than
the workers need it approaches the worker count; on a small shared one, clients, haproxy,
PostgreSQL and the workers compete for the same cores, so compare ratios within one run. The raw
Ed25519 verify rate of one core is printed as the baseline, as in bench/throughput.py.
Traffic goes only to processes this script starts on 127.0.0.1; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.throughput import (
    check_rate,
    file_in_bulk,
    file_singly,
    fresh_database,
    make_claims,
    percentile,
    raw_verify_rate,
)
from tests.balancer import Balancer, Worker, haproxy_binary
from tests.conftest import ThrowawayPostgres, postgres_bindir


@dataclass
class Target:
    """Where a load goes: `url`, and the process whose CPU bench/throughput.py would read."""

    url: str
    process: object


def checks(url: str, clients: int, rounds: int, batch: int) -> float:
    """URL items per second answered to `clients` clients at once, each sending `rounds` checks."""
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda _: check_rate(url, rounds, batch), range(clients)))
    return clients * rounds * batch / (time.perf_counter() - start)


def measure(args: argparse.Namespace, admin: str, haproxy: str) -> None:
    db = asyncio.run(fresh_database(admin, "bench_balancer"))
    directory = Path(tempfile.mkdtemp(prefix="kotowari-bench-balancer-"))
    workers = [Worker(f"w{n}", directory / "data", db, directory / f"w{n}.log") for n in (1, 2)]
    balancer = Balancer(haproxy, workers, directory / "haproxy")
    rows: list[tuple[str, float, float, str]] = []
    verify = raw_verify_rate()
    try:
        for worker in workers:
            worker.start()
        balancer.start()
        one = Target(workers[0].url, workers[0].process)
        through = Target(balancer.url, balancer.process)
        for label, way in (
            (f"filed one per request ({args.concurrency} clients)", "single"),
            (f"filed in arrays of {args.bulk} ({args.bulk_in_flight} in flight)", "bulk"),
        ):
            figures = []
            for target in (one, through):
                bodies = make_claims(args.claims)
                if way == "single":
                    filing = asyncio.run(file_singly([target], bodies, args.concurrency, "raw"))  # type: ignore[list-item]
                else:
                    filing = asyncio.run(
                        file_in_bulk([target], bodies, args.bulk, "raw", args.bulk_in_flight)  # type: ignore[list-item]
                    )
                figures.append(filing)
            latency = " / ".join(
                f"p50 {statistics.median(f.latencies) * 1000:.0f} ms,"
                f" p99 {percentile(f.latencies, 0.99) * 1000:.0f} ms"
                for f in figures
            )
            rows.append((label, figures[0].rate, figures[1].rate, f"claims/s; latency {latency}"))
        if args.checks:
            for worker in workers:  # each worker decides the claims' hit sets once
                check_rate(worker.url, 1, args.batch)
            direct = checks(one.url, args.check_clients, args.checks, args.batch)
            balanced = checks(through.url, args.check_clients, args.checks, args.batch)
            label = f"URL checks ({args.batch:,}/request, {args.check_clients} clients)"
            rows.append((label, direct, balanced, "URL items/s"))
        served = {name: row["hrsp_2xx"] for name, row in balancer.servers().items()}
    finally:
        balancer.stop()
        for worker in workers:
            worker.stop()
        shutil.rmtree(directory, ignore_errors=True)
    print(
        f"PostgreSQL, 2 workers behind haproxy vs 1 worker directly;"
        f" {args.claims:,} claims per way and target"
    )
    print(f"raw Ed25519 verify (baseline): {verify:,.0f} /s on one core")
    print(f"{'':52} {'1 worker':>12} {'haproxy, 2':>12} {'ratio':>7}")
    for label, direct, balanced, unit in rows:
        print(f"{label:52} {direct:12,.0f} {balanced:12,.0f} {balanced / direct:7.2f}   {unit}")
    print(f"2xx answers per worker through haproxy: {served}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claims", type=int, default=2000, help="claims per way of filing and target")
    parser.add_argument("--concurrency", type=int, default=16, help="single-claim connections in all")
    parser.add_argument("--bulk", type=int, default=200, help="claims per bulk request")
    parser.add_argument("--bulk-in-flight", type=int, default=2, help="bulk requests at a time")
    parser.add_argument("--checks", type=int, default=4, help="check requests per client (0: none)")
    parser.add_argument("--batch", type=int, default=5000, help="URL items per check request")
    parser.add_argument("--check-clients", type=int, default=2, help="checking clients at once")
    args = parser.parse_args()
    if min(args.claims, args.concurrency, args.bulk, args.bulk_in_flight, args.batch, args.check_clients) < 1:
        parser.error(
            "--claims, --concurrency, --bulk, --bulk-in-flight, --batch and --check-clients are >= 1"
        )
    haproxy = haproxy_binary()
    bindir = postgres_bindir()
    if haproxy is None or bindir is None:
        parser.error("needs haproxy and the PostgreSQL server binaries (apt-get install haproxy postgresql)")
    cluster = ThrowawayPostgres(bindir)
    try:
        measure(args, cluster.start(), haproxy)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()

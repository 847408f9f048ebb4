"""Filing and batch-check throughput of real `kotowari serve` workers, beside this machine's raw
Ed25519 verify rate measured in the same run (machines here are noisy: compare ratios, not seconds).

    python bench/throughput.py [--claims 4000] [--checks 5]
    python bench/throughput.py --postgres --workers 1,2      # one run per worker count

Two ways of filing, each with fresh claims: one claim per request from `--concurrency` clients
per worker at once (pooled by the registry's group commit; p50/p99 latency per request, and how
many batches the receipts' checkpoints show), and arrays of `--bulk` claims per request
(`POST /v1/claims` with a JSON array; `--bulk-in-flight` requests at a time per worker). The raw
verify rate is one core verifying one signature over and over through `keys`, the same call intake
makes: the floor of any filing's cost. Beside each rate: the servers' own CPU time per claim (from /proc).

Then `--checks` batch checks of `--batch` URL items each (bodies encoded beforehand, URLs never
checked before), one at a time and then `--checks-in-flight` at a time, each answer decoded by the
client: items/s, the share of the time spent decoding, and the server's CPU time per item.

The clients speak HTTP/1.1 over plain asyncio streams (`Connection`): client and servers share
this machine's cores, and httpx's client-side cost per request (about 10 ms with 32 clients here)
would otherwise be what the single-filing figure measures. `--client httpx` measures with httpx.
Traffic goes only to servers this script starts on 127.0.0.1; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

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


class Connection:
    """One keep-alive HTTP/1.1 connection that posts a body and reads one answer: as little
    client work per request as HTTP allows, so the figures are the server's."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = str(parts.hostname), int(parts.port or 80)
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self._streams is None:
            self._streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._streams
        head = (
            f"POST {path} HTTP/1.1\r\nhost: {self.host}:{self.port}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
        )
        writer.write(head.encode("ascii") + body)
        lines = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return int(lines[0].split()[1]), await reader.readexactly(length)

    async def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            await self._streams[1].wait_closed()


class HttpxConnection:
    """The same interface over httpx, to see what a typical client adds."""

    def __init__(self, url: str) -> None:
        self._client = httpx.AsyncClient(base_url=url, timeout=120)

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        response = await self._client.post(path, content=body)
        return response.status_code, response.content

    async def close(self) -> None:
        await self._client.aclose()


CLIENTS: dict[str, type[Connection] | type[HttpxConnection]] = {"raw": Connection, "httpx": HttpxConnection}


@dataclass
class Filing:
    """What one way of filing measured: claims/s, request latencies (s), batches seen in receipts,
    and the servers' CPU seconds over the run."""

    rate: float
    latencies: list[float]
    batches: int
    server_cpu: float


def server_cpu(servers: Sequence[ServerProcess]) -> float:
    """CPU seconds (user + system) the server processes have used so far; 0 where /proc is missing."""
    total = 0.0
    for server in servers:
        try:
            fields = Path(f"/proc/{server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


async def file_singly(
    servers: Sequence[ServerProcess], bodies: list[bytes], concurrency: int, client: str
) -> Filing:
    """One claim per request, `concurrency` connections per worker at once."""
    queue = list(reversed(bodies))
    latencies: list[float] = []
    sizes: set[int] = set()

    async def worker(url: str) -> None:
        connection = CLIENTS[client](url)
        try:
            while queue:
                body = queue.pop()
                sent = time.perf_counter()
                status, answer = await connection.post("/v1/claims", body)
                latencies.append(time.perf_counter() - sent)
                if status != 201:
                    raise SystemExit(f"a filing was refused ({status}): {answer[:300]!r}")
                sizes.add(json.loads(answer)["log"]["tree_size"])
        finally:
            await connection.close()

    cpu, start = server_cpu(servers), time.perf_counter()
    await asyncio.gather(*(worker(server.url) for server in servers for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    return Filing(len(bodies) / elapsed, latencies, len(sizes), server_cpu(servers) - cpu)


async def file_in_bulk(
    servers: Sequence[ServerProcess], bodies: list[bytes], size: int, client: str, in_flight: int = 1
) -> Filing:
    """Arrays of `size` claims per request, `in_flight` requests at a time per worker."""
    chunks = [bodies[start : start + size] for start in range(0, len(bodies), size)]
    latencies: list[float] = []
    sizes: set[int] = set()

    async def worker(url: str) -> None:
        connection = CLIENTS[client](url)
        try:
            while chunks:
                chunk = chunks.pop()
                sent = time.perf_counter()
                status, answer = await connection.post("/v1/claims", b"[" + b",".join(chunk) + b"]")
                latencies.append(time.perf_counter() - sent)
                result = json.loads(answer)
                if status != 200 or result["filed"] != len(chunk):
                    raise SystemExit(
                        f"a bulk filing refused documents: {result.get('results', result)}"[:500]
                    )
                sizes.update(item["log"]["tree_size"] for item in result["results"])
        finally:
            await connection.close()

    cpu, start = server_cpu(servers), time.perf_counter()
    await asyncio.gather(*(worker(server.url) for server in servers for _ in range(in_flight)))
    elapsed = time.perf_counter() - start
    return Filing(len(bodies) / elapsed, latencies, len(sizes), server_cpu(servers) - cpu)


@dataclass
class Checking:
    """What the batch checks measured: items/s one request at a time and with `in_flight` at once,
    the share of the one-at-a-time run this client spent decoding answers' JSON, the last answer's
    reserved items and bytes, seconds per round, and the server's CPU seconds per item."""

    rate: float
    rate_in_flight: float
    in_flight: int
    decoding: float
    reserved: int
    answer_bytes: int
    rounds: list[float]
    server_cpu: float


def check_bodies(rounds: int, batch: int) -> list[bytes]:
    """One request body per round, with URLs never checked before (a crawl does not ask twice), on
    the claimed sites: a fifth of them inside a claimed directory. Encoded before any timing: the
    client's encoding is not the registry's cost (as the filing figures sign claims beforehand)."""
    return [
        json.dumps(
            {
                "purpose": "train-ai",
                "items": [
                    {
                        "scheme": "url",
                        "value": f"https://www.site{n % 97}.example/gallery/{n}/img/{r}/{n}.png",
                    }
                    for n in range(batch)
                ],
            },
            separators=(",", ":"),
        ).encode()
        for r in range(rounds)
    ]


async def check_rate(server: ServerProcess, rounds: int, batch: int, client: str, in_flight: int) -> Checking:
    """`rounds` checks one at a time on one keep-alive connection (each answer decoded, as a client
    must, before the next is sent), then `rounds` more over `in_flight` connections at once; the
    first check (every distinct set of matching claims decided for the first time) is timed alone."""
    bodies = check_bodies(2 * rounds + 1, batch)
    reserved = size = 0
    decoding = 0.0
    times: list[float] = []

    async def one(connection: Connection | HttpxConnection, body: bytes) -> float:
        nonlocal reserved, size
        status, answer = await connection.post("/v1/check", body)
        if status != 200:
            raise SystemExit(f"a check was refused ({status}): {answer[:300]!r}")
        decoded = time.perf_counter()
        reserved = sum(item["decision"] == "n" for item in json.loads(answer)["items"])
        size = len(answer)
        return time.perf_counter() - decoded

    connections = [CLIENTS[client](server.url) for _ in range(max(in_flight, 1))]
    try:
        sent = time.perf_counter()
        await one(connections[0], bodies.pop())
        times.append(time.perf_counter() - sent)
        cpu, start = server_cpu([server]), time.perf_counter()
        for body in bodies[:rounds]:
            sent = time.perf_counter()
            decoding += await one(connections[0], body)
            times.append(time.perf_counter() - sent)
        elapsed = time.perf_counter() - start
        cpu = server_cpu([server]) - cpu
        queue = bodies[rounds:]

        async def worker(connection: Connection | HttpxConnection) -> None:
            while queue:
                await one(connection, queue.pop())

        start = time.perf_counter()
        await asyncio.gather(*(worker(connection) for connection in connections))
        flying = time.perf_counter() - start
    finally:
        for connection in connections:
            await connection.close()
    return Checking(
        rounds * batch / elapsed,
        rounds * batch / flying,
        in_flight,
        decoding / elapsed,
        reserved,
        size,
        times,
        cpu / (rounds * batch),
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def fresh_database(admin_url: str, name: str) -> str:
    """A new, empty database on the throwaway cluster, so each worker count starts from nothing."""
    import asyncpg

    connection = await asyncpg.connect(admin_url.replace("postgres://", "postgresql://", 1))
    try:
        await connection.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    finally:
        await connection.close()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def run(args: argparse.Namespace, workers: int, db: str | None) -> None:
    """One full measurement with `workers` server processes, printed with its own baseline."""
    verify = raw_verify_rate()
    singles, bulk = make_claims(args.claims), make_claims(args.claims)
    data_dir = Path(tempfile.mkdtemp(prefix="kotowari-bench-"))
    servers: list[ServerProcess] = []
    try:
        servers = [start_server(data_dir, db) for _ in range(workers)]
        single = asyncio.run(file_singly(servers, singles, args.concurrency, args.client))
        verify_middle = raw_verify_rate()
        bulked = asyncio.run(file_in_bulk(servers, bulk, args.bulk, args.client, args.bulk_in_flight))
        checks = (
            asyncio.run(check_rate(servers[0], args.checks, args.batch, args.client, args.checks_in_flight))
            if args.checks
            else None
        )
        verify_after = raw_verify_rate()
    finally:
        for server in servers:
            stop_server(server)
        shutil.rmtree(data_dir, ignore_errors=True)
    baseline = (verify + verify_middle + verify_after) / 3
    verify_ms = 1000 / baseline
    backend = "postgresql" if db else "sqlite"
    print(
        f"database {backend}, {workers} worker(s), {args.claims:,} claims per way of filing,"
        f" {args.client} client"
    )
    print(
        f"raw Ed25519 verify (baseline)      {baseline:10,.0f} /s   ({verify_ms:.3f} ms each;"
        f" before {verify:,.0f}, middle {verify_middle:,.0f}, after {verify_after:,.0f})"
    )
    for label, filing in (
        (f"filed one per request ({args.concurrency}/worker)", single),
        (f"filed in arrays of {args.bulk} ({args.bulk_in_flight}/worker)", bulked),
    ):
        cpu_ms = filing.server_cpu * 1000 / args.claims
        print(
            f"{label:34} {filing.rate:10,.0f} /s   = {filing.rate / baseline:.3f} x raw verify"
            f"   latency p50 {statistics.median(filing.latencies) * 1000:.0f} ms,"
            f" p99 {percentile(filing.latencies, 0.99) * 1000:.0f} ms"
        )
        print(
            f"  ({filing.batches:,} checkpoints, {args.claims / max(filing.batches, 1):.1f} claims per batch;"
            f" server CPU {cpu_ms:.2f} ms per claim = {cpu_ms / verify_ms:.1f} verifies)"
        )
    if checks is not None:
        label = f"URL checks ({args.batch:,}/request)"
        print(f"{label:34} {checks.rate:10,.0f} /s   = {checks.rate / baseline:.3f} x raw verify")
        print(
            f"  (server CPU {checks.server_cpu * 1e6:.2f} us per item"
            f" = {checks.server_cpu * 1000 / verify_ms:.3f} verifies;"
            f" answers {checks.answer_bytes / args.batch:.0f} bytes per item, signed;"
            f" reserved in the last: {checks.reserved:,} of {args.batch:,})"
        )
        print(
            f"  (this client decoding the {checks.answer_bytes / 1e6:.1f} MB answers took"
            f" {checks.decoding:.0%} of that time; without it: {checks.rate / (1 - checks.decoding):,.0f} /s)"
        )
        print(
            f"  ({checks.in_flight} requests in flight: {checks.rate_in_flight:,.0f} /s"
            f" = {checks.rate_in_flight / baseline:.3f} x raw verify)"
        )
        print(
            f"  (first round {checks.rounds[0] * 1000:.0f} ms, later rounds median"
            f" {statistics.median(checks.rounds[1:] or checks.rounds) * 1000:.0f} ms)"
        )
    print(flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claims", type=int, default=4000, help="claims per way of filing")
    parser.add_argument("--checks", type=int, default=5, help="rounds of one full check batch (0: none)")
    parser.add_argument("--batch", type=int, default=10_000, help="URL items per check request")
    parser.add_argument(
        "--checks-in-flight", type=int, default=2, help="check requests at a time in the second run"
    )
    parser.add_argument("--bulk", type=int, default=500, help="claims per bulk request")
    parser.add_argument("--bulk-in-flight", type=int, default=1, help="bulk requests at a time per worker")
    parser.add_argument("--concurrency", type=int, default=32, help="single-claim clients per worker")
    parser.add_argument(
        "--workers", default="1", help="server processes, or a comma-separated list of counts to run in turn"
    )
    parser.add_argument("--client", choices=sorted(CLIENTS), default="raw", help="HTTP client of the bench")
    parser.add_argument("--db", help="a PostgreSQL URL; default: SQLite in a temporary data directory")
    parser.add_argument(
        "--postgres", action="store_true", help="start a throwaway PostgreSQL cluster and use it"
    )
    args = parser.parse_args()
    try:
        counts = [int(count) for count in args.workers.split(",")]
    except ValueError:
        parser.error("--workers takes a number or a comma-separated list of numbers, like 1,2")
    if min(*counts, args.claims, args.bulk, args.concurrency, args.bulk_in_flight) < 1:
        parser.error("--workers, --claims, --bulk, --bulk-in-flight and --concurrency must be at least 1")
    if max(counts) > 1 and not (args.db or args.postgres):
        parser.error("several workers share one PostgreSQL database: add --postgres or --db")
    if len(counts) > 1 and args.db:
        parser.error("a list of worker counts needs a fresh database each: use --postgres")
    cluster = None
    if args.postgres:
        bindir = postgres_bindir()
        if bindir is None:
            parser.error("--postgres needs the PostgreSQL server binaries (apt-get install postgresql)")
        cluster = ThrowawayPostgres(bindir)
    try:
        admin = cluster.start() if cluster is not None else None
        for number, count in enumerate(counts):
            db = asyncio.run(fresh_database(admin, f"bench_{number}")) if admin else args.db
            run(args, count, db)
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()

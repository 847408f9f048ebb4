"""How a real `kotowari serve` grows: registries of 10k, 100k (and 1M) claims, each figure beside
the smallest size's, per claim, so the curve shows whether costs grow at most linearly.

    python bench/scale.py [--sizes 10000,100000,1000000] [--db postgres://…]

Each size is a fresh registry (SQLite in a temporary data directory unless `--db`) filled over
the bulk endpoint with a realistic mix: 70% URL claims (sites and path prefixes), 15% names
(Latin and Japanese), 10% PDQ hashes, 5% voice embeddings (192 dimensions). Reported per size:
filing rate, snapshot build (the first `GET /v1/snapshot`; the goal is under 10 s at 1M),
snapshot bytes per claim (one identifier each), the delta after a 1% change (withdrawals and new
claims), check latency p50/p99 for single-URL requests, inclusion-proof latency, server start-up
time (a restart over the full database: integrity check and replay included) and resident
memory. Traffic goes only to the server this script starts on 127.0.0.1; every loop is bounded.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keys
from keys import SigningKey
from registry.documents import new_claim, new_withdrawal
from tests.conftest import start_server, stop_server

WORDS = ["sora", "umi", "yama", "kawa", "hana", "tori", "kaze", "hoshi", "tsuki", "yuki", "mori", "kumo"]
KANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわ"
SPACE = "speaker/ecapa-tdnn-voxceleb"


def identifier(n: int, rng: random.Random) -> dict[str, Any]:
    roll = n % 20
    if roll < 14:
        site = f"{WORDS[n % len(WORDS)]}{n}.example"
        path = "" if roll < 4 else f"{WORDS[(n // 7) % len(WORDS)]}/{n % 100}/"
        return {"scheme": "url", "value": f"https://{site}/{path}"}
    if roll < 17:
        if roll == 16:
            kana = "".join(rng.choice(KANA) for _ in range(4))
            return {"scheme": "name", "value": f"{kana} {n}"}
        return {"scheme": "name", "value": f"{WORDS[n % 12].title()} {WORDS[(n // 12) % 12].title()} {n}"}
    if roll < 19:
        return {"scheme": "pdq", "value": f"{rng.getrandbits(256):064x}", "quality": 90}
    vector = [round(rng.uniform(-1, 1), 4) for _ in range(192)]
    return {"scheme": "embedding", "space": SPACE, "vector": vector}


@dataclass(frozen=True)
class Filed:
    claim_id: str
    leaf_hash: str
    signer: int


def bench_signers(count: int = 100) -> list[keys.SigningKey]:
    """The claimants' keys, the same in every run (so that a kept registry can be changed later)."""
    return [SigningKey.from_bytes(hashlib.sha256(b"kotowari-scale-%d" % n).digest()) for n in range(count)]


def _signed_range(start: int, count: int, seed: int, signers: int) -> list[bytes]:
    keys_ = bench_signers(signers)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    uses = {"train-ai": "n", "generate": "n"}
    bodies = []
    for n in range(start, start + count):
        key = keys_[n % len(keys_)]
        document = new_claim(key.did, "work", [identifier(n, rng)], uses, created=now)
        bodies.append(keys.canonicalize(keys.sign_document(document, key, created=now)))
    return bodies


def signed_claims(start: int, count: int, signers: list[keys.SigningKey], seed: int) -> list[bytes]:
    """Claims `start` … `start + count - 1`, claim n signed by `bench_signers()[n % len(signers)]`,
    made in chunks of 50,000 by two processes (a 1M registry takes minutes to sign)."""
    chunk = 50_000
    jobs = [
        (first, min(chunk, start + count - first), seed + first, len(signers))
        for first in range(start, start + count, chunk)
    ]
    if len(jobs) == 1:
        return _signed_range(*jobs[0])
    with ProcessPoolExecutor(2) as pool:
        return [body for part in pool.map(_signed_range, *zip(*jobs, strict=True)) for body in part]


def file_all(url: str, bodies: list[bytes], start: int, signers: int, size: int = 1000) -> list[Filed]:
    """File `bodies` (claims `start`, `start + 1`, …) in arrays of `size`, two requests in flight."""
    chunks = [(offset, bodies[offset : offset + size]) for offset in range(0, len(bodies), size)]
    with httpx.Client(base_url=url, timeout=600) as client:

        def one(chunk: tuple[int, list[bytes]]) -> list[Filed]:
            offset, documents = chunk
            answer = client.post("/v1/claims", content=b"[" + b",".join(documents) + b"]").json()
            if answer["refused"]:
                raise SystemExit(f"refused: {answer['results'][:1]}")
            return [
                Filed(result["id"], result["log"]["leaf_hash"], (start + offset + n) % signers)
                for n, result in enumerate(answer["results"])
            ]

        with ThreadPoolExecutor(2) as pool:
            return [filed for batch in pool.map(one, chunks) for filed in batch]


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) process `pid` has used: on a shared machine a steadier figure
    than wall time, which other sessions' load stretches."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def latencies(client: httpx.Client, requests: list[Request]) -> list[float]:
    """Seconds per request, one after another (`None`: GET, else POST that JSON)."""
    out = []
    for path, payload in requests:
        started = time.perf_counter()
        response = client.get(path) if payload is None else client.post(path, json=payload)
        out.append(time.perf_counter() - started)
        response.raise_for_status()
    return out


def pct(values: list[float], share: float) -> float:
    """The `share` quantile of `values` (seconds) in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


Request = tuple[str, dict[str, Any] | None]
"""A path and the JSON to POST to it (`None`: GET)."""


def check_requests(size: int, rng: random.Random, count: int = 200) -> list[Request]:
    """Single-URL checks, half on a registered site (a hit or a path beside it), half on no claim's."""
    out: list[Request] = []
    while len(out) < count:
        n = rng.randrange(size)
        site = f"{WORDS[n % len(WORDS)]}{n}.example" if n % 20 < 14 and len(out) % 2 == 0 else f"x{n}.invalid"
        item = {"scheme": "url", "value": f"https://{site}/{WORDS[(n // 7) % len(WORDS)]}/{n % 100}/a.jpg"}
        out.append(("/v1/check", {"items": [item]}))
    return out


@dataclass
class Figures:
    size: int
    filing_s: float
    snapshot_s: float
    snapshot_bytes: int
    delta_bytes: int
    check_p50: float
    check_p99: float
    proof_p50: float
    proof_p99: float
    startup_s: float
    rss: float
    first_start_s: float = 0.0
    cpu: tuple[float, float, float] = (0.0, 0.0, 0.0)  # server CPU s: first start, snapshot, restart


def filed_registry(size: int, db: str | None, signers: list[keys.SigningKey], keep: Path | None) -> Path:
    """A data directory holding a registry of `size` filed claims and `filed.json` (the filing time
    and each claim's id, leaf hash and signer): filed now, or copied from `keep` where an earlier
    run left one (SQLite only; filing 1M claims takes the better part of an hour)."""
    kept = keep / str(size) if keep is not None and db is None else None
    data_dir = Path(tempfile.mkdtemp(prefix="kotowari-scale-"))
    if kept is not None and (kept / "filed.json").exists():
        shutil.copytree(kept, data_dir, dirs_exist_ok=True)
        return data_dir
    bodies = signed_claims(0, size, signers, seed=size)
    server = start_server(data_dir, db, timeout=600)
    try:
        started = time.perf_counter()
        filed = file_all(server.url, bodies, 0, len(signers))
        filing_s = time.perf_counter() - started
    finally:
        stop_server(server)
    record = {"filing_s": filing_s, "filed": [[f.claim_id, f.leaf_hash, f.signer] for f in filed]}
    (data_dir / "filed.json").write_text(json.dumps(record))
    if kept is not None:
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(data_dir, kept)
    return data_dir


def measure(size: int, db: str | None, signers: list[keys.SigningKey], keep: Path | None = None) -> Figures:
    data_dir = filed_registry(size, db, signers, keep)
    record = json.loads((data_dir / "filed.json").read_text())
    filing_s = float(record["filing_s"])
    filed = [Filed(claim_id, leaf_hash, int(signer)) for claim_id, leaf_hash, signer in record["filed"]]
    del record
    rng = random.Random(size)
    started = time.perf_counter()
    server = start_server(data_dir, db, timeout=1800)
    first_start_s = time.perf_counter() - started
    first_start_cpu = cpu_s(server.process.pid)
    try:
        with httpx.Client(base_url=server.url, timeout=600) as client:
            started, before = time.perf_counter(), cpu_s(server.process.pid)
            snapshot = client.get("/v1/snapshot")
            snapshot_s = time.perf_counter() - started
            snapshot_cpu = cpu_s(server.process.pid) - before
            snapshot.raise_for_status()
            tree = int(client.get("/log/checkpoint").text.splitlines()[1])
            change = max(2, size // 100)  # a 1% change: half withdrawals, half new claims
            now = datetime.now(UTC)
            for claim in rng.sample(filed, change // 2):
                key = signers[claim.signer]
                withdrawal = keys.sign_document(new_withdrawal(key.did, claim.claim_id, created=now), key)
                path = f"/v1/claims/{claim.claim_id}/withdraw"
                client.post(path, content=keys.canonicalize(withdrawal)).raise_for_status()
            added = change - change // 2
            file_all(server.url, signed_claims(size, added, signers, seed=size + 1), size, len(signers))
            delta = client.get("/v1/snapshot", params={"since": tree})
            delta.raise_for_status()
            check = latencies(client, check_requests(size, rng))
            final = int(client.get("/log/checkpoint").text.splitlines()[1])
            proofs: list[Request] = [
                ("/v1/log/proof/inclusion?" + urlencode({"hash": claim.leaf_hash, "tree_size": final}), None)
                for claim in rng.sample(filed, min(200, len(filed)))
            ]
            proof = latencies(client, proofs)
    finally:
        stop_server(server)
    started = time.perf_counter()
    server = start_server(data_dir, db, timeout=1800)
    startup_s = time.perf_counter() - started
    startup_cpu = cpu_s(server.process.pid)
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            client.post("/v1/check", json={"items": [{"scheme": "url", "value": "https://sora0.example/"}]})
        rss = rss_mib(server.process.pid)
    finally:
        stop_server(server)
        shutil.rmtree(data_dir, ignore_errors=True)
    return Figures(
        size,
        filing_s,
        snapshot_s,
        len(snapshot.content),
        len(delta.content),
        statistics.median(check) * 1000,
        pct(check, 0.99),
        statistics.median(proof) * 1000,
        pct(proof, 0.99),
        startup_s,
        rss,
        first_start_s,
        (first_start_cpu, snapshot_cpu, startup_cpu),
    )


LINEAR_TOLERANCE = 1.25
"""A per-claim ratio up to this still reads as linear (a shared 2-core machine varies this much)."""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated claim counts")
    parser.add_argument("--db", help="a PostgreSQL URL (an empty database; used for the first size only)")
    parser.add_argument("--keep", type=Path, help="keep each filed registry in DIR/SIZE and reuse it later")
    parser.add_argument("--file-only", action="store_true", help="only file (and --keep) the registries")
    args = parser.parse_args()
    sizes = [int(part) for part in args.sizes.split(",")]
    signers = bench_signers()
    if args.file_only:
        for size in sizes:
            data_dir = filed_registry(size, None, signers, args.keep)
            record = json.loads((data_dir / "filed.json").read_text())
            print(f"{size:,} claims filed in {record['filing_s']:.0f} s ({size / record['filing_s']:,.0f}/s)")
            shutil.rmtree(data_dir, ignore_errors=True)
        return
    rows = []
    for number, size in enumerate(sizes):
        rows.append(measure(size, args.db if number == 0 else None, signers, args.keep))
        print(f"measured {size:,} claims", file=sys.stderr, flush=True)
    report(rows)


def report(rows: list[Figures]) -> None:
    """The table, then each cost per claim against the smallest size's, and the verdict on growth."""
    print(
        f"{'claims':>9} {'filed/s':>8} {'snapshot s':>10} {'B/claim':>7} {'1% delta':>9} "
        f"{'check p50/p99 ms':>17} {'proof p50/p99 ms':>17} {'start s':>8} {'restart s':>9} {'RSS MiB':>8}"
    )
    for row in rows:
        print(
            f"{row.size:>9,} {row.size / row.filing_s:>8,.0f} {row.snapshot_s:>10.2f} "
            f"{row.snapshot_bytes / row.size:>7.1f} {row.delta_bytes / 1024:>7,.0f}Ki "
            f"{row.check_p50:>8.1f}/{row.check_p99:<8.1f} {row.proof_p50:>8.1f}/{row.proof_p99:<8.1f} "
            f"{row.first_start_s:>8.2f} {row.startup_s:>9.2f} {row.rss:>8.0f}"
        )
    print("server CPU seconds (steadier than wall time on a shared machine):")
    for row in rows:
        first, snap, restart = row.cpu
        print(
            f"{row.size:>9,}  start-up {first:.2f}  snapshot {snap:.2f}  restart {restart:.2f}  "
            f"({snap / row.size * 1e6:.1f} us/claim snapshot, "
            f"{restart / row.size * 1e6:.0f} us/claim restart)"
        )
    base = rows[0]
    print(f"per claim, relative to {base.size:,} claims (1.00 = linear growth, below 1 = sublinear):")
    worst: dict[str, float] = {}
    for row in rows:
        scale = row.size / base.size
        ratios = {
            "filing": row.filing_s / base.filing_s / scale,
            "snapshot": row.snapshot_s / base.snapshot_s / scale,
            "bytes": row.snapshot_bytes / base.snapshot_bytes / scale,
            "delta": row.delta_bytes / base.delta_bytes / scale,
            "start-up": row.first_start_s / base.first_start_s / scale,
            "restart": row.startup_s / base.startup_s / scale,
            "RSS": row.rss / base.rss / scale,
        }
        for name, ratio in ratios.items():
            worst[name] = max(worst.get(name, 0.0), ratio)
        if base.cpu[1] > 0 and base.cpu[2] > 0:
            ratios["snapshot CPU"] = row.cpu[1] / base.cpu[1] / scale
            ratios["restart CPU"] = row.cpu[2] / base.cpu[2] / scale
        print(
            f"{row.size:>9,}  "
            + "  ".join(f"{name} {ratio:.2f}" for name, ratio in ratios.items())
            + f"; per request: check p99 x{row.check_p99 / base.check_p99:.2f}  "
            f"proof p99 x{row.proof_p99 / base.proof_p99:.2f}"
        )
    if len(rows) > 1:
        steps = list(itertools.pairwise(rows))
        print("each step up (cost ratio for the claim-count ratio):")
        for small, large in steps:
            print(
                f"  {small.size:,} -> {large.size:,} (x{large.size / small.size:.0f}): "
                f"snapshot x{large.snapshot_s / small.snapshot_s:.1f}  "
                f"start-up x{large.first_start_s / small.first_start_s:.1f}  "
                f"restart x{large.startup_s / small.startup_s:.1f}  RSS x{large.rss / small.rss:.1f}"
            )
        over = sorted(name for name, ratio in worst.items() if ratio > LINEAR_TOLERANCE)
        verdict = "linear or better" if not over else "SUPERLINEAR in " + ", ".join(over)
        print(f"growth: {verdict} (per-claim ratio at most {LINEAR_TOLERANCE} counts as linear)")
    largest = rows[-1]
    if largest.size >= 1_000_000:
        goal = "met" if largest.snapshot_s < 10 else "NOT met"
        print(
            f"snapshot build at {largest.size:,} claims: {largest.snapshot_s:.2f} s (goal under 10 s: {goal})"
        )


if __name__ == "__main__":
    main()

"""Offline URL checks against a snapshot, on one core, beside a plain Python set lookup of
pre-expanded keys measured in the same run (machines here are noisy: read the ratios).

    python bench/offline.py [--claims 10000] [--urls-per-claim 10] [--queries 1000000]

Rows measured, each over the same queries (raw URLs as a crawler or a dataset has them):

* set lookup      the baseline: every query's Safe Browsing expressions computed beforehand (not
                  timed), then `any(expression in keys)` per URL: the least any exact lookup can do;
* full lookup     `Snapshot.decide_urls` with the host pre-filter disabled: canonicalise, expand,
                  hash and bisect every URL;
* decide_urls     the Python batch path (one regex and a host lookup per URL, full lookup only on
                  registered hosts);
* decide_batch    the array path `kotowari filter` uses (`crawler_client.url_batch`: domain,
                  host and path lookups over the batch's bytes, no Python per row).

Also: snapshot size per exact key, and open (mmap + verify) time.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pyarrow as pa

import keys
from crawler_client import snapshot as snapshot_module
from crawler_client.filter import decide_batch
from crawler_client.snapshot import Snapshot
from registry import urls
from registry.documents import new_claim
from registry.snapshot import of_log

NOW = datetime(2026, 11, 30, tzinfo=UTC)
WORDS = [
    "sora",
    "umi",
    "yama",
    "kawa",
    "hana",
    "tori",
    "kaze",
    "hoshi",
    "tsuki",
    "yuki",
    "mori",
    "ishi",
    "kumo",
    "ame",
    "niji",
]


def host(rng: random.Random) -> str:
    return f"{rng.choice(WORDS)}{rng.randrange(10**6)}.{rng.choice(['com', 'jp', 'net', 'org', 'example'])}"


def make_snapshot(
    path: Path, claims: int, per_claim: int, rng: random.Random
) -> tuple[Snapshot, list[str], set[str]]:
    key = keys.SigningKey.generate()
    registered: list[str] = []
    claimed: set[str] = set()
    documents = []
    for _ in range(claims):
        site = host(rng)
        registered.append(site)
        identifiers = [("url", f"https://{site}/")] if rng.random() < 0.3 else []
        identifiers += [
            ("url", f"https://{site}/{rng.choice(WORDS)}/{n}/") for n in range(per_claim - len(identifiers))
        ]
        claimed.update(urls.claim_expression(url) for _, url in identifiers)
        document = new_claim(key.did, "work", identifiers, {"train-ai": "n"}, created=NOW)
        documents.append(keys.sign_document(document, key, created=NOW))
    path.write_bytes(of_log(documents, key=key, origin="bench.kotowari/offline", spaces={}, now=NOW))
    return Snapshot.open(path), registered, claimed


def queries(count: int, registered: list[str], rng: random.Random) -> list[str]:
    out = []
    for n in range(count):
        roll = rng.random()
        if roll < 0.05:  # on a registered host, often under a claimed path
            out.append(
                f"https://WWW.{rng.choice(registered)}/{rng.choice(WORDS)}/{rng.randrange(12)}/img{n}.jpg"
            )
        elif roll < 0.06:  # needs real canonicalisation
            out.append(f"http://{rng.choice(registered)}/a/../%7e{n}/?q=1#x")
        else:
            out.append(f"https://{host(rng)}/{rng.choice(WORDS)}/{n}.html?ref={n % 97}")
    return out


def rate(label: str, count: int, seconds: float, baseline: float | None) -> float:
    per_second = count / seconds
    ratio = f"{per_second / baseline:6.2f}x the set lookup" if baseline else "baseline"
    print(f"  {label:<14} {per_second:>13,.0f} URLs/s   {ratio}")
    return per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--urls-per-claim", type=int, default=10)
    parser.add_argument("--queries", type=int, default=1_000_000)
    args = parser.parse_args()
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    rng = random.Random(2026)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "claims.snapshot"
        started = time.perf_counter()
        snapshot, registered, keyset = make_snapshot(path, args.claims, args.urls_per_claim, rng)
        built = time.perf_counter() - started
        snapshot.close()
        started = time.perf_counter()
        snapshot = Snapshot.open(path)
        opened = time.perf_counter() - started
        exact = len(snapshot.data.exact_hashes)
        size = path.stat().st_size
        print(f"snapshot: {len(snapshot):,} claims, {exact:,} exact keys, {size:,} bytes")
        exact_bytes = snapshot.data.exact_hashes.nbytes + snapshot.data.exact_claims.nbytes
        print(
            f"  exact-key tables {exact_bytes / exact:.1f} bytes per key; "
            f"whole file {size / exact:.1f} per key"
        )
        print(
            f"  built and signed in {built:.1f} s; opened (mmap, signature and SHA-256 of every section) in "
            f"{opened * 1000:.0f} ms"
        )

        values = queries(args.queries, registered, rng)
        expanded = [urls.lookup_expressions(v) for v in values]
        print(f"\n{args.queries:,} raw URL queries, one core:")
        started = time.perf_counter()
        found = sum(1 for expressions in expanded if any(e in keyset for e in expressions))
        baseline = rate("set lookup", len(values), time.perf_counter() - started, None)

        sample = values[: max(len(values) // 10, 1000)]
        original = snapshot_module.SIMPLE_URL_MAX_BYTES
        snapshot_module.SIMPLE_URL_MAX_BYTES = -1  # no URL takes the host shortcut
        started = time.perf_counter()
        snapshot.decide_urls(sample, "train-ai", at=NOW)
        rate("full lookup", len(sample), time.perf_counter() - started, baseline)
        snapshot_module.SIMPLE_URL_MAX_BYTES = original

        started = time.perf_counter()
        python_path = snapshot.decide_urls(values, "train-ai", at=NOW)
        rate("decide_urls", len(values), time.perf_counter() - started, baseline)

        batch_size = 65_536
        batches = [
            pa.RecordBatch.from_pydict({"url": values[i : i + batch_size]})
            for i in range(0, len(values), batch_size)
        ]
        started = time.perf_counter()
        codes = [decide_batch(b, snapshot, column="url", purpose="train-ai", at=NOW).codes for b in batches]
        rate("decide_batch", len(values), time.perf_counter() - started, baseline)

        arrow_codes = [int(c) for part in codes for c in part]
        assert arrow_codes == python_path.codes.tolist(), "the Arrow and Python paths disagree"
        reserved = sum(1 for c in arrow_codes if c == 2)
        assert reserved == found, f"{reserved} reserved offline, {found} matched in the baseline"
        print(f"\n  {reserved:,} URLs reserved for train-ai, as many as the baseline matched")


if __name__ == "__main__":
    main()

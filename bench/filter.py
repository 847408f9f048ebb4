"""`kotowari filter --manifest` over a large Parquet file, beside two baselines measured in the same
run (machines here are noisy: read the ratios): a plain Parquet copy (read every batch, write every
batch, the same writer settings), and DuckDB running the simplest host-suffix filter over the same
file. Rows per second and peak memory of each, for several shares of rows on hosts with claims.

    python bench/filter.py [--rows 10000000] [--shares 0.01,0.1,0.5] [--claims 10000] [--keep DIR]

The dataset is synthetic: URLs on a million hosts, a share of them on hosts that have claims
(whole sites or directories), a few needing real canonicalisation. The DuckDB query treats every
host a URL key names as claimed whole, suffixes included (`regexp_extract` of the host, an anti
join on its last two labels, then `=` or `ends_with`), so it removes at least what the filter
does; it signs nothing and checks no path, use, validity or authority. Each command runs in its
own process, so its peak resident memory is its own (from wait4).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pyarrow as pa
import pyarrow.parquet as pq
from offline import WORDS, host, make_snapshot  # type: ignore[import-not-found]

COPY = """
import sys, pyarrow.parquet as pq
source = pq.ParquetFile(sys.argv[1])
writer = pq.ParquetWriter(sys.argv[2], source.schema_arrow)
for batch in source.iter_batches(batch_size=65536):
    writer.write_batch(batch)
writer.close()
"""

DUCKDB = r"""
import sys, duckdb
source, target, sites = sys.argv[1:4]
db = duckdb.connect()
db.execute("SET enable_progress_bar = false")
db.execute(
    "CREATE TABLE sites AS SELECT column0 AS site, regexp_extract(column0, '([^.]+\.[^.]+)$', 1) AS domain "
    "FROM read_csv(?, header=false, columns={'column0': 'VARCHAR'})",
    [sites],
)
db.execute(f'''
COPY (
    WITH rows AS (
        SELECT *, lower(regexp_extract(url, '^[Hh][Tt][Tt][Pp][Ss]?://([^/?#:@]+)', 1)) AS host__
        FROM read_parquet('{source}')
    )
    SELECT * EXCLUDE (host__) FROM rows
    WHERE NOT EXISTS (
        SELECT 1 FROM sites
        WHERE sites.domain = regexp_extract(rows.host__, '([^.]+\.[^.]+)$', 1)
          AND (rows.host__ = sites.site OR ends_with(rows.host__, '.' || sites.site))
    )
) TO '{target}' (FORMAT parquet)
''')
print(db.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()[0])
"""


def write_dataset(path: Path, rows: int, registered: list[str], share: float, rng: random.Random) -> None:
    writer: pq.ParquetWriter | None = None
    chunk = 500_000
    for start in range(0, rows, chunk):
        values = []
        for n in range(start, min(start + chunk, rows)):
            roll = rng.random()
            if roll < share:
                values.append(f"https://www.{rng.choice(registered)}/{rng.choice(WORDS)}/{n % 12}/i{n}.jpg")
            elif roll < share + 0.001:
                values.append(f"http://{host(rng)}/a/../%7e{n}/")
            else:
                values.append(f"https://{host(rng)}/{rng.choice(WORDS)}/{n}.jpg")
        table = pa.table({"id": pa.array(range(start, start + len(values)), pa.int64()), "url": values})
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=100_000)
    assert writer is not None
    writer.close()


_LAUNCHER_CODE = """
import json, os, subprocess, sys, time
for line in sys.stdin:
    argv = json.loads(line)
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = process.stdout.read()
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    print(json.dumps([seconds, code, usage.ru_maxrss * 1024, out.decode(), err.decode()]), flush=True)
"""


class Launcher:
    """Runs commands from a small process started before the dataset is built.

    Linux carries a parent's peak RSS into a forked child's `ru_maxrss`; forking from this small
    process keeps each command's peak its own. Peak RSS is read from the child's rusage.
    """

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER_CODE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def run(self, argv: list[str]) -> tuple[float, int, str]:
        """(seconds, peak RSS in bytes, stdout) of a command in its own process."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(argv) + "\n")
        self.process.stdin.flush()
        seconds, status, peak, out, err = json.loads(self.process.stdout.readline())
        if status != 0:
            raise SystemExit(f"{argv[:4]} failed ({status}): {err.strip()}")
        return seconds, peak, out

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()


def line(label: str, rows: int, seconds: float, peak: int, baseline: float | None, note: str = "") -> None:
    ratio = f"{baseline / seconds:5.2f}x the copy's rate" if baseline else "baseline"
    print(f"  {label:<16}{rows / seconds:>12,.0f} rows/s   peak {peak / 2**20:>5,.0f} MiB   {ratio}{note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--shares", default="0.01,0.1,0.5", help="shares of rows on registered hosts")
    parser.add_argument("--registered-share", type=float, help="one share only (as --shares X)")
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--no-duckdb", action="store_true", help="skip the DuckDB baseline")
    parser.add_argument("--keep", metavar="DIR", help="build the files in DIR and keep them (to profile)")
    args = parser.parse_args()
    shares = [args.registered_share] if args.registered_share else [float(s) for s in args.shares.split(",")]
    launcher = Launcher()  # before anything big is in memory (see Launcher)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(args.keep or folder)
        work.mkdir(parents=True, exist_ok=True)
        rng = random.Random(2026)
        snapshot, registered, _ = make_snapshot(work / "claims.snapshot", args.claims, 10, rng)
        sites = sorted({key.split("/", 1)[0] for _, key in snapshot.data.url_keys or ()})
        (work / "sites.csv").write_text("\n".join(sites) + "\n")
        snapshot.close()
        subprocess.run(
            [sys.executable, "-m", "crawler_client.cli", "keys", "new", "--out", str(work / "operator.key")],
            check=True,
            capture_output=True,
        )
        print(f"{args.rows:,} rows per dataset; snapshot of {args.claims:,} claims on {len(sites):,} hosts")
        for share in shares:
            started = time.perf_counter()
            source = work / (f"in-{share:g}.parquet" if args.keep else "in.parquet")
            write_dataset(source, args.rows, registered, share, random.Random(int(share * 1e6)))
            size = source.stat().st_size
            print(
                f"\n{share:.0%} of rows on hosts with claims: {size / 2**20:,.0f} MiB Parquet "
                f"(written in {time.perf_counter() - started:.0f} s)"
            )
            copy_argv = [sys.executable, "-c", COPY, str(source), str(work / "copy.parquet")]
            copy_s, copy_rss, _ = launcher.run(copy_argv)
            line("parquet copy", args.rows, copy_s, copy_rss, None)
            filter_argv = [sys.executable, "-m", "crawler_client.cli", "filter"]
            filter_argv += ["--snapshot", str(work / "claims.snapshot"), "--purpose", "train-ai"]
            filter_argv += ["--column", "url", "--json", "--manifest", str(work / "manifest.json")]
            filter_argv += ["--key", str(work / "operator.key"), str(source), str(work / "out.parquet")]
            filter_s, filter_rss, out = launcher.run(filter_argv)
            removed = json.loads(out)["rows"]["removed"]
            line("kotowari filter", args.rows, filter_s, filter_rss, copy_s, f"   (removed {removed:,})")
            if not args.no_duckdb:
                duck_argv = [sys.executable, "-c", DUCKDB, str(source), str(work / "duck.parquet")]
                duck_s, duck_rss, out = launcher.run([*duck_argv, str(work / "sites.csv")])
                removed = args.rows - int(out.strip())
                line("duckdb hosts", args.rows, duck_s, duck_rss, copy_s, f"   (removed {removed:,})")
                print(f"  kotowari filter at {duck_s / filter_s:.2f}x DuckDB's rate")
            print("  (whole processes: start-up, snapshot verification and the signed manifest included)")
        launcher.close()


if __name__ == "__main__":
    main()

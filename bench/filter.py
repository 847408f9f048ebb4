"""`kotowari filter` over a large Parquet file: rows per second and peak memory, beside a plain
Parquet copy (read every batch, write every batch) of the same file measured in the same run.

    python bench/filter.py [--rows 10000000] [--registered-share 0.01] [--claims 10000]

The dataset is synthetic: URLs on a million hosts, `--registered-share` of them on hosts that
have claims (where the full Safe Browsing lookup runs), a few needing real canonicalisation. Each
command runs in its own process, so its peak resident memory is its own (from wait4).
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--registered-share", type=float, default=0.01)
    parser.add_argument("--claims", type=int, default=10_000)
    args = parser.parse_args()
    rng = random.Random(2026)
    launcher = Launcher()  # before anything big is in memory (see Launcher)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        snapshot, registered, _ = make_snapshot(work / "claims.snapshot", args.claims, 10, rng)
        snapshot.close()
        started = time.perf_counter()
        write_dataset(work / "in.parquet", args.rows, registered, args.registered_share, rng)
        size = (work / "in.parquet").stat().st_size
        print(
            f"dataset: {args.rows:,} rows, {size / 2**20:,.0f} MiB Parquet "
            f"(written in {time.perf_counter() - started:.0f} s); {args.registered_share:.1%} of rows on "
            f"registered hosts; snapshot of {args.claims:,} claims"
        )
        copy_s, copy_rss, _ = launcher.run(
            [sys.executable, "-c", COPY, str(work / "in.parquet"), str(work / "copy.parquet")]
        )
        filter_argv = [
            sys.executable,
            "-m",
            "crawler_client.cli",
            "filter",
            "--snapshot",
            str(work / "claims.snapshot"),
        ]
        filter_argv += ["--purpose", "train-ai", "--column", "url", "--json"]
        filter_argv += ["--manifest", str(work / "manifest.json"), "--key", str(work / "operator.key")]
        subprocess.run(
            [sys.executable, "-m", "crawler_client.cli", "keys", "new", "--out", str(work / "operator.key")],
            check=True,
            capture_output=True,
        )
        filter_s, filter_rss, out = launcher.run(
            [*filter_argv, str(work / "in.parquet"), str(work / "out.parquet")]
        )
        summary = json.loads(out)
        print(
            f"  parquet copy   {args.rows / copy_s:>12,.0f} rows/s   "
            f"peak {copy_rss / 2**20:,.0f} MiB   baseline"
        )
        print(
            f"  kotowari filter{args.rows / filter_s:>12,.0f} rows/s   peak {filter_rss / 2**20:,.0f} MiB   "
            f"{copy_s / filter_s:.2f}x the copy's rate (whole process, startup and signed manifest included)"
        )
        rows = summary["rows"]
        launcher.close()
        print(f"  kept {rows['kept']:,}, removed {rows['removed']:,} ({rows['decisions']})")


if __name__ == "__main__":
    main()

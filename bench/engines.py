"""The dataset filter inside other engines, beside `kotowari filter` on the same file in the same run
(machines here are noisy: read the ratios): Spark (`mapInArrow` over `batch_filter`, `local[2]`),
DuckDB (the README's `batch_filter` over DuckDB's record batches, and `decide_batch` as a DuckDB
Arrow function in SQL), for several shares of rows on hosts with claims. Beside Spark's, its own
ceilings: a plain Parquet copy and `mapInArrow` of a function that returns its batches unchanged.

    python bench/engines.py [--rows 2000000] [--shares 0.01,0.1,0.5] [--claims 10000] [--no-spark]

Each engine reads the same Parquet file and writes the rows it keeps as Parquet; every engine must
keep exactly as many rows as `kotowari filter` (checked). Rates are rows per second of the filter
job alone, the snapshot already open: `kotowari filter` runs in its own process and reports its own
rate; its whole process time (start-up and snapshot verification included) is printed beside it.
Spark's JVM start and its first job (Python workers starting, importing Arrow and the client,
opening the snapshot) are measured once and printed apart: a cluster pays them once per
application, not per file.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from filter import write_dataset
from offline import make_snapshot

from crawler_client.filter import batch_filter, decide_batch, opened_snapshot
from crawler_client.snapshot import DECISION_CODES, Snapshot

ROOT = Path(__file__).resolve().parent.parent
NAMES = pa.array(sorted(DECISION_CODES, key=DECISION_CODES.__getitem__))


def kotowari_filter(snapshot: Path, source: Path, target: Path) -> tuple[float, int, int]:
    """(seconds of the whole process, its own rows/s, rows kept)."""
    argv = [sys.executable, "-m", "crawler_client.cli", "filter", "--snapshot", str(snapshot)]
    argv += ["--purpose", "train-ai", "--column", "url", "--json", str(source), str(target)]
    started = time.perf_counter()
    done = subprocess.run(argv, check=True, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    summary = json.loads(done.stdout)
    return seconds, summary["rows_per_second"], summary["rows"]["kept"]


def duckdb_udf(snapshot: Snapshot, source: Path, target: Path) -> int:
    """`decide_batch` as a DuckDB Arrow function, in SQL (DuckDB calls it per vector of 2,048 rows)."""

    at = datetime.now(UTC)  # one moment for every vector (else each call builds its answers anew)

    def decision(urls: Any) -> Any:
        batch = pa.record_batch([urls.combine_chunks()], names=["url"])
        codes = decide_batch(batch, snapshot, column="url", purpose="train-ai", at=at).codes
        return NAMES.take(pa.array(codes))

    db = duckdb.connect()
    db.execute("SET enable_progress_bar = false")
    udf = {"type": "arrow", "null_handling": "special"}  # as the README writes them
    db.create_function("decision", decision, ["VARCHAR"], "VARCHAR", **udf)  # type: ignore[call-overload]
    kept = f"SELECT * FROM '{source}' WHERE decision(url) IN ('y', 'unknown')"
    db.sql(f"COPY ({kept}) TO '{target}' (FORMAT parquet)")
    return int(pq.ParquetFile(target).metadata.num_rows)


def duckdb_batches(snapshot_path: Path, source: Path, target: Path) -> int:
    """The README's block: `batch_filter` over DuckDB's Arrow record batches, written back by DuckDB."""
    keep = batch_filter(str(snapshot_path), column="url", purpose="train-ai")
    reader, writer = duckdb.connect(), duckdb.connect()
    crawl = reader.sql(f"SELECT * FROM '{source}'").to_arrow_reader(65_536)
    writer.register("allowed", pa.RecordBatchReader.from_batches(crawl.schema, keep(crawl)))
    writer.sql(f"COPY (SELECT * FROM allowed) TO '{target}' (FORMAT parquet)")
    return int(pq.ParquetFile(target).metadata.num_rows)


class Spark:
    """One local[2] session for the whole run, bound to 127.0.0.1, the snapshot shipped by addFile."""

    def __init__(self, snapshot: Path, work: Path) -> None:
        os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        started = time.perf_counter()
        from pyspark.sql import SparkSession

        self.session = (
            SparkSession.builder.master("local[2]")
            .appName("kotowari-bench")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.memory", "2g")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.pyspark.python", sys.executable)
            .config("spark.local.dir", str(work / "spark-local"))
            .getOrCreate()
        )
        self.session.sparkContext.setLogLevel("ERROR")
        self.started = time.perf_counter() - started
        self.session.sparkContext.addFile(str(snapshot))
        self.name = snapshot.name

    def run(self, source: Path, target: Path, batch_rows: int = 10_000) -> int:
        """The README's block; `batch_rows` is `spark.sql.execution.arrow.maxRecordsPerBatch`."""
        from pyspark import SparkFiles

        name = self.name

        def keep_allowed(batches: Any) -> Any:
            return batch_filter(SparkFiles.get(name), column="url", purpose="train-ai")(batches)

        self.session.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(batch_rows))
        crawl = self.session.read.parquet(str(source))
        crawl.mapInArrow(keep_allowed, schema=crawl.schema).write.mode("overwrite").parquet(str(target))
        return _rows(target)

    def copy(self, source: Path, target: Path) -> int:
        """Spark's own Parquet copy: no Python at all."""
        self.session.read.parquet(str(source)).write.mode("overwrite").parquet(str(target))
        return _rows(target)

    def identity(self, source: Path, target: Path) -> int:
        """`mapInArrow` of a function that returns its batches: what any Python step costs in Spark."""
        crawl = self.session.read.parquet(str(source))
        crawl.mapInArrow(_same, schema=crawl.schema).write.mode("overwrite").parquet(str(target))
        return _rows(target)

    def stop(self) -> None:
        self.session.stop()


def _same(batches: Any) -> Any:
    return batches


def _rows(folder: Path) -> int:
    return sum(pq.read_metadata(part).num_rows for part in folder.glob("*.parquet"))


def timed(function: Callable[..., int], *args: Any) -> tuple[float, int]:
    started = time.perf_counter()
    kept = function(*args)
    return time.perf_counter() - started, kept


def line(label: str, rows: int, seconds: float, baseline: float | None, kept: int, note: str = "") -> None:
    ratio = f"{baseline / seconds:5.2f}x kotowari filter" if baseline else "baseline"
    print(f"  {label:<26}{rows / seconds:>12,.0f} rows/s   {ratio}   kept {kept:,}{note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--shares", default="0.01,0.1,0.5", help="shares of rows on registered hosts")
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--no-spark", action="store_true", help="skip Spark (no JRE here)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        rng = random.Random(2026)
        snapshot_path = work / "claims.snapshot"
        snapshot, registered, _ = make_snapshot(snapshot_path, args.claims, 10, rng)
        snapshot.close()
        opened = opened_snapshot(str(snapshot_path))  # opened once, outside every timing, as the CLI does
        print(f"{args.rows:,} rows per dataset; snapshot of {args.claims:,} claims")
        spark = None
        if not args.no_spark:
            spark = Spark(snapshot_path, work)
            warm = work / "warm.parquet"
            write_dataset(warm, 20_000, registered, 0.1, random.Random(1))
            first, _ = timed(spark.run, warm, work / "warm-out")
            print(
                f"Spark: session (JVM) started in {spark.started:.1f} s; first job over 20,000 rows "
                f"{first:.1f} s (Python workers start, import, open the snapshot once each)"
            )
        for share in [float(s) for s in args.shares.split(",")]:
            source = work / "in.parquet"
            write_dataset(source, args.rows, registered, share, random.Random(int(share * 1e6)))
            size = source.stat().st_size / 2**20
            print(f"\n{share:.0%} of rows on hosts with claims ({size:,.0f} MiB Parquet):")
            whole, own_rate, expected = kotowari_filter(snapshot_path, source, work / "cli.parquet")
            baseline = args.rows / own_rate
            line("kotowari filter", args.rows, baseline, None, expected, f"   (whole process {whole:.1f} s)")
            runs: list[tuple[str, Callable[..., int], tuple[Any, ...]]] = [
                ("duckdb batch_filter", duckdb_batches, (snapshot_path, source, work / "duck.parquet")),
                ("duckdb decide_batch UDF", duckdb_udf, (opened, source, work / "udf.parquet")),
            ]
            if spark is not None:
                runs.append(("spark mapInArrow local[2]", spark.run, (source, work / "spark-out")))
                runs.append(("  same, 65,536-row batches", spark.run, (source, work / "spark-out", 65_536)))
            for label, run, run_args in runs:
                seconds, kept = timed(run, *run_args)
                assert kept == expected, f"{label} kept {kept:,} rows, kotowari filter {expected:,}"
                line(label, args.rows, seconds, baseline, kept)
            if spark is not None:  # Spark's own ceilings, keeping every row
                for label, run in (
                    ("spark parquet copy", spark.copy),
                    ("spark identity mapInArrow", spark.identity),
                ):
                    seconds, kept = timed(run, source, work / "spark-base")
                    line(label, args.rows, seconds, baseline, kept, "   (keeps every row)")
        if spark is not None:
            spark.stop()


if __name__ == "__main__":
    main()

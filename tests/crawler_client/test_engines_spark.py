"""`batch_filter` and `decide_batch` inside Spark's `mapInArrow`, on a local PySpark session (Debian's
headless JRE): the README's own block, as written, keeps exactly the rows `kotowari filter` keeps,
for more than one purpose and either `--invalid`, with the snapshot shipped to the executors by
`SparkContext.addFile`.

One session for the module (the JVM takes seconds to start), `local[2]`, bound to 127.0.0.1, no UI.
Without `java` the module is skipped, unless KOTOWARI_REQUIRE_SPARK is set (CI sets it): then a
missing JRE fails.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.crawler_client.engines import (
    README_SNAPSHOT,
    Dataset,
    assert_same_rows,
    make_dataset,
    readme_block,
    run_block,
)

REQUIRE_ENV = "KOTOWARI_REQUIRE_SPARK"
ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return make_dataset(tmp_path_factory.mktemp("spark-data"))


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if shutil.which("java") is None:
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(f"java is required here ({REQUIRE_ENV}) but is not installed")
        pytest.skip("no java: Spark needs a JRE (apt-get install openjdk-17-jre-headless)")
    from pyspark.sql import SparkSession

    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SPARK_LOCAL_IP", "127.0.0.1")
        env.setenv("PYTHONPATH", path)  # the Python workers import crawler_client from this checkout
        session = (
            SparkSession.builder.master("local[2]")
            .appName("kotowari-tests")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.driver.memory", "512m")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.sql.files.maxPartitionBytes", "16k")  # several tasks over the one small file
            .config("spark.pyspark.python", sys.executable)
            .config("spark.local.dir", str(tmp_path_factory.mktemp("spark-local")))
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        try:
            yield session
        finally:
            session.stop()


def test_the_readme_block_keeps_what_kotowari_filter_keeps(spark: Any, dataset: Dataset, tmp_path: Path):
    block = readme_block("mapInArrow")
    out = tmp_path / "filtered"
    paths = {README_SNAPSHOT: str(dataset.snapshot), "s3a://crawl/": str(dataset.parquet)}
    run_block(block, {"spark": spark}, {**paths, "s3a://crawl-filtered/": str(out)})
    expected, counts = dataset.expected("train-ai")
    assert spark.read.parquet(str(dataset.parquet)).rdd.getNumPartitions() > 1
    assert_same_rows(pq.read_table(out), expected, counts)
    assert all(counts["decisions"][decision] > 0 for decision in ("n", "y", "invalid"))


def _decisions(snapshot: str, purpose: str) -> Any:
    """A `mapInArrow` function: each row's decision name, by `decide_batch`, on the executor."""

    def decide(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import SparkFiles

        from crawler_client.filter import decide_batch, opened_snapshot
        from crawler_client.snapshot import DECISION_CODES

        names = pa.array(sorted(DECISION_CODES, key=DECISION_CODES.__getitem__))
        opened = opened_snapshot(SparkFiles.get(snapshot))
        for batch in batches:
            codes = decide_batch(batch, opened, column="url", purpose=purpose).codes
            yield pa.record_batch({"decision": names.take(pa.array(codes))})

    return decide


@pytest.mark.parametrize("purpose", ["search", "train-ai"])
def test_another_purpose_with_invalid_rows_kept_and_the_counts_by_decision(
    spark: Any, dataset: Dataset, purpose: str
):
    from pyspark import SparkFiles

    from crawler_client.filter import batch_filter

    spark.sparkContext.addFile(str(dataset.snapshot))  # as the README block does (a second add is a no-op)
    name = dataset.snapshot.name

    def keep(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return batch_filter(SparkFiles.get(name), column="url", purpose=purpose, invalid="keep")(batches)

    crawl = spark.read.parquet(str(dataset.parquet))
    expected, counts = dataset.expected(purpose, "keep")
    assert_same_rows(crawl.mapInArrow(keep, schema=crawl.schema).toArrow(), expected, counts)
    tally = crawl.mapInArrow(_decisions(name, purpose), schema="decision string").groupBy("decision").count()
    decided = {row["decision"]: row["count"] for row in tally.collect()}
    assert decided == {decision: n for decision, n in counts["decisions"].items() if n}


def test_each_python_worker_opens_the_snapshot_once_for_all_its_tasks(spark: Any, dataset: Dataset):
    """Spark unpickles the function afresh per task; `batch_filter` keeps the snapshot per process."""
    from pyspark import SparkFiles

    spark.sparkContext.addFile(str(dataset.snapshot))
    name = dataset.snapshot.name

    def opened(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from crawler_client.filter import opened_snapshot

        snapshot = id(opened_snapshot(SparkFiles.get(name)))
        for _ in batches:
            pass
        yield pa.record_batch({"pid": [os.getpid()], "snapshot": [snapshot]})

    crawl = spark.read.parquet(str(dataset.parquet))
    tasks = crawl.mapInArrow(opened, schema="pid long, snapshot long").collect()
    by_worker: dict[int, set[int]] = {}
    for task in tasks:
        by_worker.setdefault(task["pid"], set()).add(task["snapshot"])
    assert len(tasks) > len(by_worker) and all(len(ids) == 1 for ids in by_worker.values())

"""The filter as DuckDB runs it: the README's block (`batch_filter` over DuckDB's Arrow record batches,
read back by DuckDB), as written, keeps exactly the rows `kotowari filter` keeps; and `decide_batch`
as a DuckDB Arrow function in SQL keeps the same rows for another purpose with invalid rows kept, and
counts the same decisions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crawler_client.filter import decide_batch
from crawler_client.snapshot import DECISION_CODES, Snapshot
from tests.crawler_client.engines import (
    README_CRAWL,
    README_FILTERED,
    README_SNAPSHOT,
    Dataset,
    assert_same_rows,
    make_dataset,
    readme_block,
    run_block,
)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return make_dataset(tmp_path_factory.mktemp("duckdb-data"))


def test_the_readme_block_keeps_what_kotowari_filter_keeps(dataset: Dataset, tmp_path: Path):
    out = tmp_path / "filtered.parquet"
    paths = {README_SNAPSHOT: str(dataset.snapshot), README_CRAWL: str(dataset.parquet)}
    run_block(readme_block("to_arrow_reader("), {}, {**paths, README_FILTERED: str(out)})
    expected, counts = dataset.expected("train-ai")
    assert_same_rows(pq.read_table(out), expected, counts)


def test_decide_batch_as_a_duckdb_arrow_function_in_sql(dataset: Dataset, tmp_path: Path):
    snapshot = Snapshot.open(dataset.snapshot)
    names = pa.array(sorted(DECISION_CODES, key=DECISION_CODES.__getitem__))
    at = datetime.now(UTC)

    def decision(urls: Any) -> Any:
        batch = pa.record_batch([urls.combine_chunks()], names=["url"])
        return names.take(
            pa.array(decide_batch(batch, snapshot, column="url", purpose="search", at=at).codes)
        )

    db = duckdb.connect()
    db.create_function("decision", decision, ["VARCHAR"], "VARCHAR", type="arrow", null_handling="special")
    out = tmp_path / "filtered.parquet"
    kept = f"SELECT * FROM '{dataset.parquet}' WHERE decision(url) IN ('y', 'unknown', 'invalid')"
    db.sql(f"COPY ({kept}) TO '{out}' (FORMAT parquet)")
    expected, counts = dataset.expected("search", "keep")
    assert_same_rows(pq.read_table(out), expected, counts)
    tally = db.sql(f"SELECT decision(url), count(*) FROM '{dataset.parquet}' GROUP BY ALL").fetchall()
    assert dict(tally) == {name: n for name, n in counts["decisions"].items() if n}
    snapshot.close()

"""`batch_filter` inside Ray Data's `map_batches(..., batch_format="pyarrow")`, on a local Ray instance
(one CPU, no dashboard, bound to 127.0.0.1): the README's block, as written, keeps exactly the rows
`kotowari filter` keeps."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.crawler_client.engines import (
    README_CRAWL,
    README_SNAPSHOT,
    Dataset,
    assert_same_rows,
    make_dataset,
    readme_block,
    run_block,
)

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")  # Ray's own


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return make_dataset(tmp_path_factory.mktemp("ray-data"))


@pytest.fixture(scope="module")
def ray(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RAY_USAGE_STATS_ENABLED", "0")  # no usage report over the network
        # Ray turns 127.0.0.1 into the machine's address and listens on every interface, except in its
        # single-machine mode (read when ray is imported, by every Ray process): then all on 127.0.0.1.
        env.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        env.setenv("PYTHONPATH", path)  # the workers import crawler_client from this checkout
        import ray

        ray.init(
            num_cpus=1,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
            _temp_dir=str(tmp_path_factory.mktemp("ray")),
        )
        assert ray.util.get_node_ip_address() == "127.0.0.1"
        ray.data.DataContext.get_current().enable_progress_bars = False
        try:
            yield ray
        finally:
            ray.shutdown()


def test_the_readme_block_keeps_what_kotowari_filter_keeps(ray: Any, dataset: Dataset, tmp_path: Path):
    out = tmp_path / "filtered"
    paths = {README_SNAPSHOT: str(dataset.snapshot), README_CRAWL: str(dataset.parquet)}
    run_block(readme_block("map_batches("), {}, {**paths, "/data/crawl-filtered/": str(out)})
    expected, counts = dataset.expected("train-ai")
    assert_same_rows(pq.read_table(out), expected, counts)

"""What the engine tests (Spark, DuckDB, Ray Data) share: one signed snapshot, one Parquet file with a
realistic mix of rows, `kotowari filter`'s own output to compare with, and the README block that
runs `batch_filter` inside each engine.

The snapshot is built without a server (`registry.snapshot.of_log`, as the registry replays its
log); the rows are on hosts with claims reserving the purpose, allowing it, or reserving only
another use; under a directory claim or beside it; hosts that need canonicalisation (case, a
trailing dot, userinfo, a port, escapes, dot segments, a decimal IP address); null, empty and
unparsable values; and hosts nobody registered.
"""

from __future__ import annotations

import contextlib
import io
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

import keys
from crawler_client.cli import main as kotowari
from registry.snapshot import of_log
from tests.crawler_client.readme import README
from tests.factories import signed_claim
from tests.test_readme_python import python_blocks

ROWS = 3000
README_SNAPSHOT = "/data/claims.snapshot"
README_CRAWL = "/data/crawl.parquet"
README_FILTERED = "/data/crawl.filtered.parquet"


@dataclass(frozen=True)
class Dataset:
    snapshot: Path
    parquet: Path
    folder: Path

    def expected(self, purpose: str, invalid: str = "drop") -> tuple[pa.Table, dict[str, Any]]:
        """`kotowari filter`'s output table and its JSON counts, for `purpose` and `--invalid`."""
        out = self.folder / f"cli-{purpose}-{invalid}.parquet"
        argv = ["filter", "--snapshot", str(self.snapshot), "--purpose", purpose, "--column", "url"]
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            status = kotowari([*argv, "--invalid", invalid, "--json", str(self.parquet), str(out)])
        assert status == 0
        return pq.read_table(out), json.loads(printed.getvalue())["rows"]


def make_dataset(folder: Path) -> Dataset:
    created = datetime.now(UTC) - timedelta(minutes=5)
    creator, registry = keys.SigningKey.generate(), keys.SigningKey.generate()
    claims = [
        signed_claim(creator, created, urls=("https://reserved.example/",), deny=("train-ai",)),
        signed_claim(creator, created, urls=("http://mixed.example/private/",), deny=("train-ai",)),
        signed_claim(creator, created, urls=("https://yes.example/",), deny=(), allow={"train-ai": "y"}),
        signed_claim(creator, created, urls=("https://search-only.example/",), deny=("search",)),
        signed_claim(creator, created, urls=("http://192.168.1.1/admin/",), deny=("train-ai", "search")),
        signed_claim(creator, created, urls=("https://a.b.example.net/deep/",), deny=("train-ai",)),
    ]
    snapshot = folder / "claims.snapshot"
    snapshot.write_bytes(of_log(claims, key=registry, origin="kotowari.test/engines", spaces={}, now=created))
    rng = random.Random(19)
    odd = [
        "http://reserved.example/a/../%7Eimg/{n}",
        "https://user:pw@Reserved.Example:443/x/{n}",
        "https://reserved.example./x/{n}",
        "http://3232235777/admin/{n}",
        "http://192.168.1.1/admin/{n}",
        "HTTP://MIXED.example/a/./../private/{n}",
        "https://search-only.example/%2e%2e/{n}",
    ]
    values: list[str | None] = []
    for n in range(ROWS):
        roll = rng.random()
        if roll < 0.10:
            values.append(f"https://WWW.reserved.example/img/{n}.jpg")
        elif roll < 0.16:
            values.append(rng.choice(odd).format(n=n))
        elif roll < 0.26:
            values.append(f"http://mixed.example/{rng.choice(['private', 'public'])}/{n}.png")
        elif roll < 0.31:
            values.append(f"https://yes.example/{n}")
        elif roll < 0.39:
            values.append(f"https://cdn.search-only.example/{n}.webp")
        elif roll < 0.42:
            values.append(f"https://x.a.b.example.net/{rng.choice(['deep', 'shallow'])}/{n}")
        elif roll < 0.44:
            values.append(rng.choice(["not a url", "http://[::1", "", "javascript:alert(1)"]))
        elif roll < 0.45:
            values.append(None)
        else:
            values.append(f"https://site{rng.randrange(300)}.example.org/p/{n}")
    parquet = folder / "crawl.parquet"
    pq.write_table(
        pa.table({"id": pa.array(range(ROWS), pa.int64()), "url": values}), parquet, row_group_size=400
    )
    return Dataset(snapshot, parquet, folder)


def rows(table: pa.Table) -> list[dict[str, Any]]:
    """A table's rows sorted by id (ids are unique, so equal lists are equal multisets)."""
    return sorted(table.select(["id", "url"]).to_pylist(), key=lambda row: row["id"])


def assert_same_rows(got: pa.Table, expected: pa.Table, counts: dict[str, Any]) -> None:
    assert got.num_rows == expected.num_rows == counts["kept"]
    assert rows(got) == rows(expected)


def readme_block(phrase: str) -> str:
    """The one ```python block of the README that contains `phrase`."""
    found = [block for block in python_blocks() if phrase in block]
    assert len(found) == 1, f"one block of {README.name} contains {phrase!r}"
    return found[0]


def run_block(block: str, given: dict[str, Any], paths: dict[str, str]) -> dict[str, Any]:
    """Run a README block as written, with the reader's paths made this test's files."""
    code = block
    for written, local in paths.items():
        assert written in code, f"the README block no longer names {written}"
        code = code.replace(written, local)
    namespace: dict[str, Any] = {"__name__": "readme_example", **given}
    exec(compile(code, str(README), "exec"), namespace)
    return namespace

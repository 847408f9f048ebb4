"""The batch URL path (host pre-filter, vectorised over Arrow) decides exactly as `Snapshot.check`."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import keys
from crawler_client.filter import decide_batch
from crawler_client.snapshot import DECISION_CODES, Snapshot
from registry.snapshot import of_log
from tests.factories import signed_claim

NOW = datetime(2026, 11, 30, tzinfo=UTC)
KEY = keys.SigningKey.generate()


def offline_snapshot(documents: list[dict[str, Any]]) -> Snapshot:
    """A snapshot signed by a throwaway registry over these claims (tree size = their number)."""
    return Snapshot.from_bytes(of_log(documents, key=KEY, origin="kotowari.test/offline", spaces={}, now=NOW))


CLAIMS = [
    signed_claim(KEY, NOW, urls=("https://example.com/",), deny=("train-ai",)),
    signed_claim(
        KEY, NOW, urls=("http://art.example.org/gallery/",), deny=("train-ai",), allow={"search": "y"}
    ),
    signed_claim(KEY, NOW, urls=("https://a.b.c.d.e.example.net/deep/path/file.png",), deny=("train-ai",)),
    signed_claim(KEY, NOW, urls=("http://192.168.1.1/admin/",), deny=("train-ai",)),
    signed_claim(KEY, NOW, urls=("https://xn--r8jz45g.jp/",), deny=("train-ai",)),
    signed_claim(KEY, NOW, urls=("https://allowed.example/",), deny=(), allow={"train-ai": "y"}),
]
SNAPSHOT = offline_snapshot(CLAIMS)

hosts = st.sampled_from(
    [
        "example.com",
        "EXAMPLE.com",
        "www.example.com",
        "example.com.",
        "..example.com",
        "art.example.org",
        "x.art.example.org",
        "a.b.c.d.e.example.net",
        "b.c.d.e.example.net",
        "192.168.1.1",
        "0xc0.0xa8.1.1",
        "3232235777",
        "user:pw@example.com",
        "ex%61mple.com",
        "xn--r8jz45g.jp",
        "例え.jp",
        "allowed.example",
        "unrelated.test",
        "sub.unrelated.test",
        "example.com:8080",
        "example.com:99999",
        "example.com:0443",
        "ex ample.com",
        "not a url",
        "xn--zz.example.com",
        "a-.example.com",
    ]
)
paths = st.sampled_from(
    [
        "",
        "/",
        "/gallery/",
        "/gallery/a.png",
        "/Gallery/",
        "/deep/path/file.png",
        "/admin/x",
        "/a/../gallery/x",
        "/%67allery/y",
        "/?q=1",
        "#frag",
        "/a b",
        "/deep/path/file.png?x=1",
    ]
)
schemes = st.sampled_from(["http://", "https://", "HTTPS://", "ftp://", "", " http://"])
long_paths = st.builds(lambda n, c: "/" + c * n, st.integers(2700, 2760), st.sampled_from(["a", "é", "%"]))
urls = (
    st.builds(lambda s, h, p: s + h + p, schemes, hosts, paths | long_paths)
    | st.text(max_size=30)
    | st.text(alphabet="htps:/.exampl ,%@?#[]1", max_size=30)
)


@settings(max_examples=300, deadline=None)
@given(st.lists(urls, min_size=1, max_size=20))
def test_batch_decisions_equal_check_decisions(values: list[str]):
    batch = pa.RecordBatch.from_pydict({"url": values})
    decided = decide_batch(batch, SNAPSHOT, column="url", purpose="train-ai", at=NOW)
    for row, value in enumerate(values):
        try:
            answer = SNAPSHOT.check([{"scheme": "url", "value": value}], purpose="train-ai", at=NOW)
        except Exception:  # the registry refuses the item: the batch calls it invalid
            assert decided.codes[row] == DECISION_CODES["invalid"], value
            continue
        item = answer["items"][0]
        assert decided.codes[row] == DECISION_CODES[item["decision"]], (value, item)
        assert decided.claims.get(row, []) == [m["claim"] for m in item["matches"]]


def test_the_examples_cover_every_outcome():
    values = ["https://www.example.com/x", "https://allowed.example/", "https://unrelated.test/", "nope://"]
    batch = pa.RecordBatch.from_pydict({"url": [*values, None]})
    codes = decide_batch(batch, SNAPSHOT, column="url", purpose="train-ai", at=NOW).codes.tolist()
    assert codes == [2, 1, 0, 3, 3]
    root = base64.b64encode(SNAPSHOT.state.root_hash).decode()
    assert SNAPSHOT.checkpoint_summary()["root_hash"] == root


FILE_DIGEST = "ab" * 32
HASHED = offline_snapshot([signed_claim(KEY, NOW, urls=(), sha256=(FILE_DIGEST,), deny=("train-ai",))])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from([FILE_DIGEST, FILE_DIGEST.upper(), " " + FILE_DIGEST, "cd" * 32, "ab", ""])
        | st.text(max_size=5),
        min_size=1,
        max_size=8,
    )
)
def test_batch_sha256_decisions_equal_check_decisions(values: list[str]):
    decided = decide_batch(
        pa.RecordBatch.from_pydict({"h": values}),
        HASHED,
        column="h",
        purpose="train-ai",
        scheme="sha256",
        at=NOW,
    )
    for row, value in enumerate(values):
        try:
            item = HASHED.check([{"scheme": "sha256", "value": value}], purpose="train-ai", at=NOW)["items"][
                0
            ]
        except Exception:
            assert decided.codes[row] == DECISION_CODES["invalid"], value
            continue
        assert decided.codes[row] == DECISION_CODES[item["decision"]], value
        assert decided.claims.get(row, []) == [m["claim"] for m in item["matches"]]


def test_batch_filter_keeps_what_is_not_reserved_batch_by_batch(tmp_path):
    from crawler_client.filter import batch_filter

    path = tmp_path / "claims.snapshot"
    path.write_bytes(of_log(CLAIMS, key=KEY, origin="kotowari.test/offline", spaces={}, now=NOW))
    keep = batch_filter(str(path), column="url", purpose="train-ai")
    batches = [
        pa.RecordBatch.from_pydict({"url": ["https://example.com/a", "https://unrelated.test/"]}),
        pa.RecordBatch.from_pydict({"url": ["https://allowed.example/x", None, "https://www.example.com/"]}),
    ]
    kept = [batch.column("url").to_pylist() for batch in keep(iter(batches))]
    assert kept == [["https://unrelated.test/"], ["https://allowed.example/x"]]
    keep_invalid = batch_filter(str(path), column="url", purpose="train-ai", invalid="keep")
    assert [b.num_rows for b in keep_invalid(iter(batches))] == [1, 2]


def test_batch_filter_opens_a_snapshot_once_per_process_until_the_file_is_replaced(tmp_path):
    """Spark and Ray rebuild the batch function for every task: the open snapshot must outlive it."""
    from crawler_client.filter import batch_filter, opened_snapshot
    from crawler_client.snapshot import SnapshotRefused

    path = tmp_path / "claims.snapshot"
    path.write_bytes(of_log(CLAIMS, key=KEY, origin="kotowari.test/offline", spaces={}, now=NOW))
    first = opened_snapshot(str(path))
    batch = pa.RecordBatch.from_pydict({"url": ["https://example.com/a", "https://unrelated.test/"]})
    for _ in range(2):  # a fresh closure per task, as an engine unpickles it
        keep = batch_filter(str(path), column="url", purpose="train-ai")
        assert [b.num_rows for b in keep(iter([batch]))] == [1]
        assert opened_snapshot(str(path)) is first
    fresh = tmp_path / "fresh.snapshot"
    fresh.write_bytes(of_log(CLAIMS[:1], key=KEY, origin="kotowari.test/offline", spaces={}, now=NOW))
    os.replace(fresh, path)  # what `snapshot pull` does
    replaced = opened_snapshot(str(path))
    assert replaced is not first and replaced.tree_size == 1
    with pytest.raises(SnapshotRefused, match="cannot read snapshot"):
        opened_snapshot(str(tmp_path / "missing.snapshot"))

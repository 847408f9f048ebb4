"""The manifest's removed rows written a batch at a time (`RemovedRows.add_batch`, Arrow kernels)
are the bytes, and the inline rows the objects, that `RemovedRows.add` gives row by row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler_client import manifest
from crawler_client.manifest import RemovedRows
from crawler_client.match_sets import Decisions, MatchSet

texts = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12)
values = st.one_of(
    texts, st.none(), st.sampled_from(['https://e.example/"q"', "a\\b", "tab\there", "é/ü", "\x7f"])
)
summaries = st.lists(
    st.fixed_dictionaries(
        {"claim": texts, "authority": st.lists(st.sampled_from(["self-asserted", "mandated"]), min_size=1)},
        optional={"counted": st.booleans()},
    ),
    max_size=3,
)
rows = st.lists(st.tuples(values, st.sampled_from([2, 3]), st.integers(-1, 2)), max_size=30)


def written(removed: RemovedRows) -> tuple[dict[str, Any], bytes]:
    described = removed.close()
    return described, removed.sidecar.read_bytes() if removed.sidecar.exists() else b""


@settings(max_examples=200, deadline=None)
@given(rows, st.lists(summaries, min_size=3, max_size=3), st.integers(1, 7), st.integers(0, 4))
def test_batches_write_what_rows_write(
    tmp_path_factory: Any, listed: list[tuple[str | None, int, int]], found: list[Any], size: int, limit: int
):
    folder: Path = tmp_path_factory.mktemp("lines")
    sets = [MatchSet(2, matches, []) for matches in found]
    (folder / "one").mkdir(), (folder / "batched").mkdir()
    one, batched = RemovedRows(folder / "one" / "rows.jsonl"), RemovedRows(folder / "batched" / "rows.jsonl")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(manifest, "INLINE_LIMIT", limit)
        for number, (value, code, group) in enumerate(listed):
            matches = sets[group].matches if group >= 0 else []
            one.add(10 + 2 * number, value, {2: "n", 3: "invalid"}[code], matches)
        for start in range(0, len(listed), size):
            part = listed[start : start + size]
            # a batch twice as long, every other row kept: the removed rows are the odd ones
            codes = np.zeros(2 * len(part), dtype=np.int8)
            groups = np.full(2 * len(part), -1, dtype=np.int32)
            codes[1::2] = [code for _, code, _ in part]
            groups[1::2] = [group for _, _, group in part]
            decisions = Decisions(codes, groups, sets)
            removed_rows = np.arange(1, 2 * len(part), 2)
            batched.add_batch(
                10 + 2 * start - 1, removed_rows, pa.array([v for v, _, _ in part], pa.string()), decisions
            )
    assert written(batched) == written(one)

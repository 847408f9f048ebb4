"""`registry.rows.insert_rows` stores exactly what `Model.bulk_create` stores, on SQLite and PostgreSQL.

Random rows of the three tables a filing writes by the batch (log entries, subtree hashes, used nonces,
whose primary key the database generates) go in once through `bulk_create` and once through
`insert_rows`; the rows read back with raw SQL, every column as the driver returns it, are the same.
A duplicate nonce is refused with the same `IntegrityError`, inside a transaction that then stores
nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tortoise import Tortoise, connections
from tortoise.exceptions import IntegrityError
from tortoise.models import Model
from tortoise.transactions import in_transaction

from registry.models import LogEntry, TreeNode, UsedNonce
from registry.rows import insert_rows

TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40
)
WHEN = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
).map(lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000))
DIGEST = st.binary(min_size=32, max_size=32)


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[str]:
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    EXECUTOR_CACHE.clear()
    await Tortoise.init(db_url=db_url, modules={"models": ["registry.models"]})
    await Tortoise.generate_schemas()
    try:
        yield db_url
    finally:
        await Tortoise.close_connections()


def log_entries(draw: Any) -> list[dict[str, Any]]:
    count = draw(st.integers(1, 12))
    first = draw(st.integers(0, 2**40))
    return [
        {
            "index": first + n,
            "document_id": f"{n:02d}" + draw(st.text("0123456789abcdef", min_size=62, max_size=62)),
            "kind": draw(st.sampled_from(["claim", "withdrawal", "notice"])),
            "entry": draw(st.binary(max_size=200)),
            "leaf_hash": (leaf := draw(DIGEST)),
            "leaf_hash_hex": leaf.hex(),
            "appended_at": draw(WHEN),
        }
        for n in range(count)
    ]


ROWS = {
    LogEntry: st.composite(log_entries)(),
    TreeNode: st.lists(st.integers(0, 2**62), min_size=1, max_size=12, unique=True).flatmap(
        lambda ids: st.tuples(*(DIGEST for _ in ids)).map(
            lambda hashes: [{"id": i, "hash": h} for i, h in zip(ids, hashes, strict=True)]
        )
    ),
    UsedNonce: st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=12, unique=True).map(
        lambda pairs: [{"author": a, "nonce": n, "document_id": "d" * 64} for a, n in pairs]
    ),
}


async def stored(model: type[Model]) -> list[dict[str, Any]]:
    table = model._meta.db_table
    column = model._meta.db_pk_column
    rows = await connections.get("default").execute_query_dict(f'SELECT * FROM "{table}" ORDER BY "{column}"')
    await connections.get("default").execute_script(f'DELETE FROM "{table}"')
    return [dict(row) for row in rows]


def without_generated_key(model: type[Model], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if model is UsedNonce:  # the database numbers these rows; compare what was given, in order
        return [{key: value for key, value in row.items() if key != "id"} for row in rows]
    return rows


@pytest.mark.parametrize("model", list(ROWS), ids=lambda model: model.__name__)
async def test_the_same_values_are_stored_as_by_bulk_create(database: str, model: type[Model]) -> None:
    for rows in _examples(ROWS[model]):  # drawn first: hypothesis cannot run inside this event loop
        await model.bulk_create([model(**row) for row in rows])
        expected = await stored(model)
        await insert_rows(model, rows)
        got = await stored(model)
        assert len(got) == len(rows)
        assert without_generated_key(model, got) == without_generated_key(model, expected)


def _examples(strategy: st.SearchStrategy[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    found: list[list[dict[str, Any]]] = []

    @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(rows: list[dict[str, Any]]) -> None:
        found.append(rows)

    collect()
    return found


async def test_a_duplicate_nonce_is_an_integrity_error_and_the_transaction_keeps_nothing(
    database: str,
) -> None:
    rows = [{"author": "did:key:a", "nonce": "n1", "document_id": "1" * 64}]
    await insert_rows(UsedNonce, rows)
    with pytest.raises(IntegrityError):
        async with in_transaction():
            await insert_rows(UsedNonce, [{"author": "did:key:a", "nonce": "n2", "document_id": "2" * 64}])
            await insert_rows(UsedNonce, rows)
    assert await UsedNonce.all().values_list("nonce", flat=True) == ["n1"]


async def test_nothing_to_insert_sends_nothing(database: str) -> None:
    await insert_rows(LogEntry, [])
    assert await LogEntry.all().count() == 0


async def test_the_time_reads_back_as_given(database: str) -> None:
    moment = datetime(2026, 12, 3, 18, 0, 1, 123000, tzinfo=UTC)
    await insert_rows(
        LogEntry,
        [
            {
                "index": 7,
                "document_id": "a" * 64,
                "kind": "claim",
                "entry": b"{}",
                "leaf_hash": bytes(32),
                "leaf_hash_hex": "00" * 32,
                "appended_at": moment,
            }
        ],
    )
    (entry,) = await LogEntry.all()
    assert entry.appended_at == moment and entry.appended_at - moment == timedelta(0)
    assert entry.entry == b"{}" and entry.index == 7

"""Many rows inserted without a Tortoise model instance for each.

Every filing writes several rows (its nonce, its log entry, the subtree hashes it completes), and a
pooled batch writes them by the thousand: building a model instance per row cost more than the SQL
(a sixth of a bulk filing's time on the registry's thread). `insert_rows` sends the same statement
and the same per-field `to_db_value` conversions as `Model.bulk_create`, so the stored values are the
same (tests/registry/test_rows.py compares both on SQLite and PostgreSQL); it runs on the connection
the model would use, the current transaction's included.

`select_rows` is the same idea for the few reads every pooled batch makes (the log's size, stored
subtree hashes, used nonces, the entries the index has not replayed): plain SQL, about a quarter
of the CPU of building the query through the ORM each time, which a batch of a few single filings
otherwise pays per read. Values come back as the driver returns them (the fields read there take
no conversion: integers, text, bytes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tortoise.models import Model

__all__ = ["insert_rows", "select_rows"]


async def insert_rows(model: type[Model], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (field name → Python value) into `model`'s table, in order.

    Every row gives the same fields: all of them, or all but a database-generated primary key."""
    if not rows:
        return
    db = model._choose_db(True)
    executor = db.executor_class(model=model, db=db)
    with_key = model._meta.pk_attr in rows[0]
    columns = executor.regular_columns_all if with_key else executor.regular_columns
    sql = executor.insert_query_all if with_key else executor.insert_query
    fields = model._meta.fields_map
    converters = [(name, fields[name].to_db_value) for name in columns]
    await db.execute_many(sql, [[convert(row[name], model) for name, convert in converters] for row in rows])


async def select_rows(model: type[Model], sql: str, values: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of a SELECT on `model`'s connection (the current transaction's, inside one).

    `sql` names tables and columns in double quotes and writes each parameter as `?`; PostgreSQL
    gets them numbered (`$1`, `$2`, …). No `?` may appear anywhere else in `sql`."""
    db = model._choose_db()
    if db.capabilities.dialect == "postgres":
        parts = sql.split("?")
        sql = parts[0] + "".join(f"${number}{part}" for number, part in enumerate(parts[1:], start=1))
    _, rows = await db.execute_query(sql, list(values))
    return [tuple(row) for row in rows]

"""Many rows inserted without a Tortoise model instance for each.

Every filing writes several rows (its nonce, its log entry, the subtree hashes it completes), and a
pooled batch writes them by the thousand: building a model instance per row cost more than the SQL
(a sixth of a bulk filing's time on the registry's thread). `insert_rows` sends the same statement
and the same per-field `to_db_value` conversions as `Model.bulk_create`, so the stored values are the
same (tests/registry/test_rows.py compares both on SQLite and PostgreSQL); it runs on the connection
the model would use, the current transaction's included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tortoise.models import Model

__all__ = ["insert_rows"]


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
